"""Inputs found by bench/fuzz_inspect.py (atheris) that once made ``inspect_pdf`` raise something
other than ``PdfError``. The contract: any bytes end in a ``PdfInspection`` or a
``PdfError`` with a reason a person understands; these cases keep it honest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_ingest.errors import PdfError
from archive_ingest.models import PdfInspection
from archive_ingest.pdf.inspection import inspect_pdf

FINDINGS = Path(__file__).parent / "corpus" / "fuzz-inspect"
CASES = sorted(FINDINGS.glob("*.pdf"))


def test_findings_are_present() -> None:
    assert len(CASES) == 5


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fuzz_finding_ends_in_inspection_or_pdf_error(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    try:
        result = inspect_pdf(copy, time_budget=10.0)
    except PdfError as exc:
        assert str(exc)
        return
    assert isinstance(result, PdfInspection)

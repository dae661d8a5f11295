"""Coverage-guided fuzzing of ``inspect_pdf`` with atheris, for a bounded time.

Any input must end in a ``PdfInspection`` or a ``PdfError``. Another exception is a finding:
the first input per (exception type, innermost frame) is saved to FUZZ_FINDINGS_DIR (default:
a temporary folder) and fuzzing goes on; a hang past libFuzzer's -timeout stops the run.

    .venv/bin/python bench/fuzz_inspect.py --seconds 180 [--corpus DIR] [atheris/libFuzzer args]

Seeds: the sample PDFs (born-digital, scanned, damaged, encrypted, JS, embedded file) written
to a temporary corpus folder, so mutations start from real structure. The figures are
libFuzzer's last line ("Done N runs in S second(s)") and one "FINDING ..." line per distinct
finding on stderr. Findings kept as regression inputs: tests/corpus/fuzz-inspect/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["archive_ingest", "pypdf", "pikepdf"]):
    from archive_ingest.errors import PdfError
    from archive_ingest.pdf.inspection import inspect_pdf

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the sample generator lives in tests/support, not installed

_COUNTS = {"runs": 0, "ok": 0, "pdf_error": 0, "findings": 0}
_FINDINGS: dict[str, str] = {}  # exception signature -> saved input
_WORK = Path(tempfile.mkdtemp(prefix="fuzz-inspect-"))
_TARGET = _WORK / "input.pdf"
_OUT = Path(os.environ.get("FUZZ_FINDINGS_DIR", _WORK / "findings"))


def one_input(data: bytes) -> None:
    _COUNTS["runs"] += 1
    _TARGET.write_bytes(data)
    try:
        inspect_pdf(_TARGET, time_budget=5.0)
    except PdfError:
        _COUNTS["pdf_error"] += 1
        return
    except Exception as exc:  # a finding: keep the first input per signature, go on fuzzing
        _COUNTS["findings"] += 1
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
        signature = f"{type(exc).__name__} at {where}"
        if signature not in _FINDINGS:
            digest = hashlib.sha1(data).hexdigest()[:16]
            saved = _OUT / f"finding-{digest}.pdf"
            saved.write_bytes(data)
            _FINDINGS[signature] = str(saved)
            print(f"FINDING {signature}: {exc!r} -> {saved}", file=sys.stderr, flush=True)
        return
    _COUNTS["ok"] += 1


def write_seeds(folder: Path) -> int:
    from tests.support import samples

    folder.mkdir(parents=True, exist_ok=True)
    makers = [
        ("chapter.pdf", lambda p: samples.make_sample_chapter(p, scanned_pages=1, damage="light")),
    ]
    for name in (
        "make_born_digital_pdf",
        "make_encrypted_pdf",
        "make_pdf_with_javascript",
        "make_pdf_with_embedded_file",
        "make_image_only_pdf",
    ):
        maker = getattr(samples, name, None)
        if maker is not None:
            makers.append((f"{name}.pdf", maker))
    count = 0
    for name, maker in makers:
        try:
            maker(folder / name)
            count += 1
        except Exception as exc:  # a seed that cannot be made is not fatal for fuzzing
            print(f"seed {name} skipped: {exc}", file=sys.stderr)
    (folder / "tiny.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return count + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--corpus", type=Path, default=None)
    args, rest = parser.parse_known_args()
    corpus = args.corpus or (_WORK / "corpus")
    _OUT.mkdir(parents=True, exist_ok=True)
    seeds = write_seeds(corpus)
    started = time.monotonic()
    fuzz_args = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        "-rss_limit_mb=2048",
        "-timeout=30",
        "-max_len=262144",
        *rest,
        str(corpus),
    ]

    import atexit

    def figures() -> None:
        out = {
            "target": "archive_ingest.pdf.inspection.inspect_pdf",
            "seconds": round(time.monotonic() - started, 1),
            "seeds": seeds,
            **_COUNTS,
            "distinct_findings": _FINDINGS,
        }
        print(json.dumps(out), flush=True)

    atexit.register(figures)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    atheris.Setup(fuzz_args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

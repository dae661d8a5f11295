"""A killed OCR run leaves no work folder behind for good: OCR works in the item's one
temporary place (``HOME/work/<record-id>/tmp``), and what a killed run left there is swept by
the item's next run and by ``reconcile --fix``. Real parts: `archive-ingest ingest` SIGKILLed
(the whole process tree) while OCRmyPDF/Tesseract run, the local SciELO server, Prefect,
SeaweedFS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive_ingest.reliability.reconcile import reconcile
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, json_lines, power_cut_when, run_cli
from tests.support.territory_book import add_book, add_chapter, make_chapter

pytestmark = pytest.mark.slow

SBID = "ocrtmp"
RECORD = f"scielo-books-{SBID}-01"
REF = f"scielo-books:{SBID}/01"


@pytest.fixture
def scanned_chapter(scielo_catalogue: SampleCatalogue, tmp_path: Path) -> str:
    pdf = tmp_path / "chapter.pdf"
    make_chapter(pdf, "Capítulo digitalizado", scanned_pages=2, damage="light", seed=4)
    add_book(scielo_catalogue, SBID)
    return add_chapter(scielo_catalogue, SBID, pdf, "Capítulo digitalizado")


def ocr_folders(home: Path) -> list[Path]:
    """Every OCR work folder anywhere under HOME."""
    return sorted(p for p in home.rglob("ocr-*") if p.is_dir())


def kill_during_ocr(env: dict[str, str], home: Path) -> Path:
    """Run the ingest and power-cut it once OCRmyPDF is working; returns its work folder."""
    log = home.parent / "killed.log"

    def busy() -> Path | None:
        return next((f for f in ocr_folders(home) if (f / "ocrmypdf.log").exists()), None)

    left = power_cut_when(env, log, busy, "ingest", REF, poll=0.05)
    if left is None:
        pytest.fail(f"OCR never started: {log.read_text()[-2000:]}")
    return left


def test_killed_ocr_leaves_no_folder_behind(
    scanned_chapter: str,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    home: Path,
) -> None:
    env = cli_env(scielo_server, prefect_api_url)

    left = kill_during_ocr(env, home)
    assert left.is_dir()
    # one place per item
    assert left.parent == home / "work" / RECORD / "tmp", left
    report = reconcile(seaweed_settings)
    stale = [f for f in report.findings if f.kind == "stale-work-folder"]
    assert [(f.record_id, f.keys) for f in stale] == [(RECORD, [str(left)])], report.findings

    fixed = run_cli(env, "reconcile", "--fix")
    out = json.loads(fixed.stdout)
    assert {"action": "removed-work-folder", "key": str(left)}.items() <= next(
        a for a in out["actions"] if a["key"] == str(left)
    ).items(), out
    assert ocr_folders(home) == []

    left = kill_during_ocr(env, home)  # killed again: this time the next run sweeps it
    assert left.is_dir()
    results = json_lines(run_cli(env, "ingest", REF))
    assert [(r["id"], r["state"]) for r in results] == [(RECORD, "deposited")], results
    assert ocr_folders(home) == [], "a killed run's OCR folder survived the next run"
    assert not [f for f in reconcile(seaweed_settings).findings if f.kind == "stale-work-folder"]

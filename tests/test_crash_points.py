"""Kill tests: `archive-ingest ingest REF` is killed with SIGKILL at a named crash
point (ARCHIVE_INGEST_CRASH_AT, see archive_ingest.reliability.crashpoints), then the same
command is run again without it. After the re-run the item must be deposited with exactly one
complete AIP version in the bucket (one S3 version per key, receipt present, no delete
markers), nothing stored before the crash overwritten, no other prefix a reader could take for
an AIP, and the catalogue must agree with the receipt (state, bag URI, VersionIds).

Real parts throughout: CLI subprocess, Prefect server, local SciELO server, Tesseract, SeaweedFS.
One small chapter (one scanned page, light damage) is reused by every kill point.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.reliability.crashpoints import CRASH_ENV, POINTS
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, run_cli
from tests.support.s3 import assert_one_complete_aip, object_versions
from tests.support.territory_book import add_book, add_chapter, make_chapter

pytestmark = pytest.mark.slow

SBID = "kill1"
RECORD = f"scielo-books-{SBID}-01"
REF = f"scielo-books:{SBID}/01"
BOOK = "Territórios e desenvolvimento: diálogos interdisciplinares"

#: (crash target, what must already be in the bucket when the process dies)
KILLS: list[tuple[str, str]] = [
    ("mid-download", "nothing"),
    ("after-fetch", "nothing"),
    ("mid-ocr", "nothing"),
    ("after-ocr", "nothing"),
    ("mid-records", "nothing"),
    ("mid-bag:2", "nothing"),
    ("mid-upload:2", "partial"),
    ("before-receipt", "partial"),
    ("after-receipt", "complete"),
]


@pytest.fixture(scope="module")
def chapter_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kill-chapter") / "chapter.pdf"
    make_chapter(
        path,
        "Capítulo 1 sobre o território",
        book_title=BOOK,
        pages=(40, 52),
        isbn="978-85-232-1234-6",
        scanned_pages=1,
        damage="light",
        seed=7,
    )
    return path


@pytest.fixture
def book(scielo_catalogue: SampleCatalogue, chapter_pdf: Path) -> SampleCatalogue:
    add_book(scielo_catalogue, SBID, title=BOOK)
    add_chapter(scielo_catalogue, SBID, chapter_pdf, "Capítulo 1 sobre o território")
    return scielo_catalogue


def test_every_crash_point_is_covered() -> None:
    assert {target.partition(":")[0] for target, _ in KILLS} == set(POINTS)
    assert len(KILLS) >= 8


@pytest.mark.parametrize(("target", "left"), KILLS, ids=[k for k, _ in KILLS])
def test_kill_and_rerun_completes_once(
    target: str,
    left: str,
    book: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    prefect_api_url: str,
) -> None:
    settings = seaweed_settings
    admin = seaweed.client("admin")
    root = f"{settings.s3_prefix}/{RECORD}/"

    killed = run_cli(cli_env(scielo_server, prefect_api_url, **{CRASH_ENV: target}), "ingest", REF)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    assert killed.stdout == "", "the killed run must not have reported a result"

    before = {v["Key"]: v["VersionId"] for v in object_versions(admin, settings.s3_bucket, root)}
    has_receipt = any(k.endswith("/deposit-receipt.json") for k in before)
    if left == "nothing":
        assert before == {}
    elif left == "partial":
        assert before and not has_receipt
    else:
        assert has_receipt
    # what an interrupted run left is visible to `reconcile` (and is not an AIP)
    env = cli_env(scielo_server, prefect_api_url)
    check = run_cli(env, "reconcile", timeout=120)
    report = json.loads(check.stdout)
    kinds = {f["kind"] for f in report["findings"]}
    if left == "partial":
        assert check.returncode == 1 and "incomplete-upload" in kinds, report
    elif left == "complete":
        assert check.returncode == 1 and "aip-not-in-catalogue" in kinds, report
    elif target == "mid-ocr":  # the killed OCR's work folder, swept by the re-run
        assert check.returncode == 1 and kinds == {"stale-work-folder"}, report
    else:
        assert check.returncode == 0 and report["findings"] == [], report

    rerun = run_cli(env, "ingest", REF)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    result = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert result["state"] == "deposited", result
    assert result["version"] == 1
    assert result["bag"] == f"s3://{settings.s3_bucket}/{root}v1/"

    after = assert_one_complete_aip(admin, settings, RECORD)
    # nothing stored before the crash was replaced: same keys keep the same VersionIds
    assert {k: after.get(k) for k in before} == before
    # and the bucket and the catalogue now agree
    clean = run_cli(env, "reconcile", timeout=120)
    assert clean.returncode == 0 and json.loads(clean.stdout)["findings"] == [], clean.stdout

"""`archive-ingest harvest` exit codes, for real: the CLI in a subprocess against the sample
SciELO server, the session's Prefect server and SeaweedFS.

0 everything done (notes such as "deleted at the source" or "a held item was looked at again"
do not change that), 1 an item failed or the listing had a problem, 3 nothing failed but an
item is held for review, 2 a usage error. Scheduled runs alert on these.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.cli import run_cli
from tests.support.samples import add_generated_book
from tests.support.territory_book import make_chapter

pytestmark = pytest.mark.slow

#: the documented codes (README, "Exit codes")
EXIT_DONE, EXIT_FAILED, EXIT_USAGE, EXIT_HELD = 0, 1, 2, 3


def _harvest(*args: str) -> tuple[int, dict[str, Any], str]:
    """Run the harvest command with the environment harvest_env set (sample server, storage,
    Prefect); its exit code, its JSON report and its stderr."""
    proc = run_cli(dict(os.environ), "harvest", *args, timeout=900)
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, out, proc.stderr


def _held_book(cat: Any, sbid: str, tmp: Path) -> None:
    """A book whose one chapter's PDF states CC BY-NC while the book's metadata says CC BY:
    the licence check holds it for review."""
    add_generated_book(cat, sbid, 1, tmp, seed=20)
    book = cat.books[sbid]
    make_chapter(
        tmp / f"{sbid}-01.pdf",
        f"Capítulo 1 do livro {sbid}",
        book_title=book.title,
        licence="by-nc/4.0",
        pages=(10, 18),
        isbn="978-85-232-1234-6",
        scanned_pages=1,
        damage="light",
        seed=21,
    )


def test_harvest_exit_codes_separate_failed_held_and_done(
    harvest_env: Settings, scielo_server: SampleScieloServer, tmp_path: Path
) -> None:
    cat = scielo_server.catalogue
    add_generated_book(cat, "g1", 1, tmp_path)
    _held_book(cat, "h1", tmp_path)

    # 1: one chapter deposited, one held for review, nothing failed -> "held"
    code, out, errs = _harvest("scielo-books")
    states = {row["id"]: row["state"] for row in out["items"]}
    assert states == {"scielo-books-g1-01": "deposited", "scielo-books-h1-01": "needs_review"}
    assert code == EXIT_HELD, (code, errs[-2000:])

    # 2: a new book whose chapter fails -> "failed"
    add_generated_book(cat, "f1", 1, tmp_path, seed=30)
    scielo_server.inject(cat.books["f1"].chapter_pdf_path("01"), status=404)
    code, out, errs = _harvest("scielo-books")
    # (a new chapter in the feed makes every book's contents be read again: g1 and h1 come
    # along, unchanged and still held)
    states = {row["id"]: row["state"] for row in out["items"]}
    assert states["scielo-books-f1-01"] == "failed", states
    assert "deposited" in states.values() and "needs_review" in states.values(), states
    assert code == EXIT_FAILED, (code, errs[-2000:])

    # 3: the failed chapter now served and the held book changed: its chapter is looked at
    # again (a note, not a problem) and is still held -> "held", not "failed"
    scielo_server.clear_faults()
    cat.update_book("h1", synopsis="revised")
    code, out, errs = _harvest("scielo-books")
    states = {row["id"]: row["state"] for row in out["items"]}
    assert states["scielo-books-f1-01"] == "deposited", states
    assert states["scielo-books-h1-01"] == "needs_review", states
    assert "failed" not in states.values(), states
    assert any("waiting for review" in n for n in out["notes"]), out
    assert out["problems"] == [], out
    assert code == EXIT_HELD, (code, errs[-2000:])

    # 4: the held book is withdrawn at the source: a note, nothing to ingest -> "done"
    cat.remove_book("h1")
    code, out, errs = _harvest("scielo-books")
    assert out["counts"] == {"total": 0} and any("deleted at the source" in n for n in out["notes"])
    assert code == EXIT_DONE, (code, errs[-2000:])

    # a dry run with nothing to do and a usage error
    code, out, _ = _harvest("scielo-books", "--dry-run")
    assert code == EXIT_DONE and out["would_ingest"] == []
    code, _, errs = _harvest("scielo-nothing")
    assert code == EXIT_USAGE, errs

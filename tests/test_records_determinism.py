"""Same description in, same bytes out: no clock, no randomness, no hash-order leaks."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from archive_ingest.records import build_dc, build_mets
from tests.support.records import chapter_description

_SCRIPT = """
import hashlib
from archive_ingest.records import build_dc, build_mets
from tests.support.records import chapter_description
desc = chapter_description()
print(hashlib.sha256(build_dc(desc)).hexdigest(), hashlib.sha256(build_mets(desc)).hexdigest())
"""


def test_rebuilding_gives_byte_identical_records() -> None:
    assert build_dc(chapter_description()) == build_dc(chapter_description())
    assert build_mets(chapter_description()) == build_mets(chapter_description())


def test_other_processes_with_other_hash_seeds_give_the_same_bytes() -> None:
    desc = chapter_description()
    expected = (
        f"{hashlib.sha256(build_dc(desc)).hexdigest()} "
        f"{hashlib.sha256(build_mets(desc)).hexdigest()}"
    )
    root = Path(__file__).resolve().parents[1]
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": "America/Sao_Paulo"}
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert out.stdout.strip() == expected


def test_dates_come_from_the_description_not_the_clock() -> None:
    first = build_mets(chapter_description())
    later = build_mets(chapter_description(created=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
    assert b"2026-03-04T12:30:00Z" in first and b"2030" not in first
    assert b'CREATEDATE="2030-01-01T00:00:00Z"' in later


def test_naive_created_is_taken_as_utc() -> None:
    naive = chapter_description(created=dt.datetime(2026, 3, 4, 12, 30))
    assert build_mets(naive) == build_mets(chapter_description())


def test_file_order_in_the_input_does_not_change_the_output() -> None:
    desc = chapter_description()
    reordered = desc.model_copy(update={"files": list(reversed(desc.files))})
    assert build_mets(reordered) == build_mets(desc)

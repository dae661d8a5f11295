"""Named crash points: ``crashpoint("after-ocr")`` kills this process with SIGKILL when the
environment variable ``ARCHIVE_INGEST_CRASH_AT`` names it, and does nothing otherwise.

``ARCHIVE_INGEST_CRASH_AT=NAME`` dies at the first hit, ``NAME:N`` at the N-th hit (so a test
can die in the middle of a loop, e.g. after two objects of an AIP are stored). The kill tests
(tests/test_crash_points.py) run ``archive-ingest ingest`` with it and then re-run without it.

In production the variable is unset: the cost is one dictionary lookup per call.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "ARCHIVE_INGEST_CRASH_AT"

#: every crash point the code base calls; the kill tests cover each of them
POINTS: tuple[str, ...] = (
    "mid-download",
    "after-fetch",
    "mid-ocr",
    "after-ocr",
    "mid-records",
    "mid-bag",
    "mid-upload",
    "before-receipt",
    "after-receipt",
)

_hits: dict[str, int] = {}


def parse_target(value: str) -> tuple[str, int]:
    """``"mid-upload:3"`` -> ``("mid-upload", 3)``; a bare name means the first hit."""
    name, _, count = value.strip().partition(":")
    try:
        nth = max(1, int(count)) if count else 1
    except ValueError:
        nth = 1
    return name, nth


def crashpoint(name: str) -> None:
    """Die here (SIGKILL, no cleanup, no flush) if the environment asks for it."""
    target = os.environ.get(CRASH_ENV)
    if not target:
        return
    wanted, nth = parse_target(target)
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= nth:
        os.kill(os.getpid(), signal.SIGKILL)

"""Named crash points: ``crashpoint("after-ocr")`` kills this process with SIGKILL when the
environment variable ``ARCHIVE_INGEST_CRASH_AT`` names it, and does nothing otherwise.

Pause points are for kills from *outside*: ``pausepoint("commit")`` (called by the catalogue
after every transaction that wrote something) appends ``commit N stage.method#K`` to the file
named by ``ARCHIVE_INGEST_PAUSE_FILE`` at its N-th hit, and when ``ARCHIVE_INGEST_PAUSE_AT``
names that hit (``commit:N`` or ``commit@stage.method#K``) it then blocks until the process
is killed. The power-cut test
(tests/test_power_cut.py) SIGKILLs the whole process tree when the line appears: a real kill
at a real commit boundary, decided by the test rather than by the code.

``ARCHIVE_INGEST_CRASH_AT=NAME`` dies at the first hit, ``NAME:N`` at the N-th hit (so a test
can die in the middle of a loop, e.g. after two objects of an AIP are stored). The kill tests
(tests/test_crash_points.py) run ``archive-ingest ingest`` with it and then re-run without it.

In production the variable is unset: the cost is one dictionary lookup per call.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

CRASH_ENV = "ARCHIVE_INGEST_CRASH_AT"
PAUSE_ENV = "ARCHIVE_INGEST_PAUSE_AT"
PAUSE_FILE_ENV = "ARCHIVE_INGEST_PAUSE_FILE"

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
_pause_hits: dict[str, int] = {}
_pause_lock = threading.Lock()


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


def pausepoint(name: str) -> None:
    """Record the hit in the pause file and, at the hit ``ARCHIVE_INGEST_PAUSE_AT`` names,
    block until killed. Does nothing unless ``ARCHIVE_INGEST_PAUSE_FILE`` is set.

    A hit is named by its number (``commit:7``) or by where it happened
    (``commit@fetch.new_version#1``: the first hit in this process with ``new_version`` called
    by ``fetch``), a name that stays the same when a resumed run skips finished stages."""
    report = os.environ.get(PAUSE_FILE_ENV)
    if not report:
        return
    target = os.environ.get(PAUSE_ENV) or "-:0"
    label = _where()
    with _pause_lock:
        _pause_hits[name] = count = _pause_hits.get(name, 0) + 1
        _pause_hits[label] = occurrence = _pause_hits.get(label, 0) + 1
        with open(report, "a", encoding="utf-8") as handle:
            handle.write(f"{name} {count} {label}#{occurrence}\n")
            handle.flush()
            os.fsync(handle.fileno())
    wanted, nth = parse_target(target)
    if (wanted == name and count == nth) or target == f"{name}@{label}#{occurrence}":
        threading.Event().wait()  # until the SIGKILL from outside


#: the caller's name for the pause points hit inside :func:`pause_label`
_label_caller: ContextVar[str | None] = ContextVar("pause_label_caller", default=None)


@contextmanager
def pause_label(caller: str) -> Iterator[None]:
    """Name the pause points hit inside ``caller.callee``: the ingest runner records every
    stage's output in one function, and names its commits by the stage (``ocr.add_files``)."""
    token = _label_caller.set(caller)
    try:
        yield
    finally:
        _label_caller.reset(token)


def _where() -> str:
    """``caller.callee``: the two innermost archive_ingest functions that led here (past the
    pause point's own caller, e.g. ``Catalogue.session``); the caller is the one
    :func:`pause_label` names, if any."""
    names: list[str] = []
    frame: FrameType | None = sys._getframe(3)
    while frame is not None and len(names) < 2:
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(("archive_ingest.", "flows.")) and module != __name__:
            names.append(frame.f_code.co_name)
        frame = frame.f_back
    names += ["?"] * (2 - len(names))
    return f"{_label_caller.get() or names[1]}.{names[0]}"

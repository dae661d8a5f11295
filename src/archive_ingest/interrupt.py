"""Ctrl-C for the long commands (``ingest``, ``harvest``): stopped within seconds, resumable.

Without this, a terminal's Ctrl-C (SIGINT to the whole foreground process group) stops
Prefect's temporary server - a child of the command, in that group - at once, and the flow
engine then spends over a minute trying to tell the stopped server that the run crashed,
printing tracebacks as it goes.

:func:`interruptible` keeps Python's own reaction to the first SIGINT (``KeyboardInterrupt`` in
the main thread, so a flow run in that thread unwinds and Prefect records it when its API still
answers; runs in worker threads, as ``ingest`` with several items makes, do not unwind and stay
"Running" on the Prefect API, while the catalogue and the checkpoints say where each item is)
and starts a watchdog: if the command has not ended ``grace`` seconds later, or at a second
Ctrl-C, it prints one line, terminates the command's own child processes (the temporary
server, an OCR run) and leaves with exit code 130 without waiting for anything else. A child
started to outlive the command (the embedded storage: :func:`outlives_command`) is left
running, as after a normal exit, so that the re-run finds it answering.

Leaving mid-stage is safe by construction: every stage is checkpointed and every write is
crash-safe (a download goes to a ``.part`` file, a deposit writes its receipt last), so an
interrupted item is exactly what a crash leaves, and the same command run again resumes it
(docs/RELIABILITY.md, "Interrupted runs and unreachable storage").
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

EXIT_INTERRUPTED = 130
#: how long the first Ctrl-C lets a run unwind before the command leaves regardless
GRACE_SECONDS = 2.0

#: children started to run on after the command (the embedded storage): never signalled
_OUTLIVING: set[int] = set()


def outlives_command(pid: int, *, outlives: bool = True) -> None:
    """Mark the child ``pid`` as started to outlive the command (the embedded storage's
    ``weed``, in a session of its own): an interrupted command leaves it running. ``outlives=
    False`` when it has been stopped, so that a later child with the same pid is not spared."""
    if outlives:
        _OUTLIVING.add(pid)
    else:
        _OUTLIVING.discard(pid)


def child_pids(pid: int | None = None) -> list[int]:
    """The direct children of ``pid`` (default: this process), from /proc; [] elsewhere."""
    parent = str(pid or os.getpid())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")"
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == parent:
                found.append(int(stat.parent.name))
    return found


def _terminate_children() -> None:
    for pid in child_pids():
        if pid in _OUTLIVING:
            continue
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def interruptible(message: Callable[[], str], *, grace: float = GRACE_SECONDS) -> Iterator[None]:
    """Run the block so that Ctrl-C ends the command with one line (``message()``) and exit
    code 130 within ``grace`` seconds (plus a moment), whatever the block was waiting for."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to arrange
        return
    said = threading.Event()
    interrupts = [0]

    def say() -> None:
        if not said.is_set():
            said.set()
            with contextlib.suppress(Exception):
                sys.stderr.write(message() + "\n")
                sys.stderr.flush()

    def leave() -> None:
        say()
        with contextlib.suppress(Exception):
            if sys.stderr.isatty():  # a progress spinner may have hidden the cursor
                sys.stderr.write("\x1b[?25h")
                sys.stderr.flush()
        _terminate_children()
        os._exit(EXIT_INTERRUPTED)

    watchdog = threading.Timer(grace, leave)
    watchdog.daemon = True  # runs on through interpreter exit: bounds atexit work too

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        interrupts[0] += 1
        if interrupts[0] > 1:
            leave()  # a second Ctrl-C: no more waiting
        logging.disable(logging.CRITICAL)  # no tracebacks from the unwinding: one line says it
        watchdog.start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    except KeyboardInterrupt:
        say()  # the watchdog stays armed: exit-time work (atexit) gets the rest of the grace
        raise SystemExit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGINT, previous)

"""A progress bar for the long commands (``ingest`` of several items, ``audit``,
``reconcile``; ``replicate`` has its own, ``replication/progress.py``): items done of all,
the bytes where a command knows them, the time left. Drawn on stderr only when a person
watches: stderr is a terminal, ``CI`` is not set and the logs are not JSON lines
(:func:`wanted`); otherwise nothing at all is drawn, and stdout (the JSON results) is never
touched.

The code deep inside a command reports through :func:`current` (a bar that draws nothing when
none is shown), so no function between the command and the loop needs a parameter for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.filesize import decimal
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.spinner import Spinner

from archive_ingest.logs.setup import json_enabled, real_stderr


def wanted() -> bool:
    """Whether a bar may be drawn: stderr is a terminal, not CI, logs not JSON."""
    if json_enabled() or os.environ.get("CI"):
        return False
    try:
        return real_stderr().isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class ItemProgress:
    """One bar: ``done/total`` items, the bytes (when counted), ETA. Thread-safe. Entered, it
    becomes :func:`current` until it is left."""

    def __init__(
        self,
        description: str,
        total: int | None = None,
        *,
        console: Console | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.enabled = wanted() if enabled is None else enabled
        self._lock = threading.Lock()
        self._bytes = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._previous: ItemProgress | None = None
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[bytes]}"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console or Console(stderr=True),
                transient=False,
                # stdout stays the process's own: results printed while the bar runs are
                # machine output (``ingest A B > out.jsonl``), never drawn on stderr
                redirect_stdout=False,
            )
            self._task = self._progress.add_task(description, total=total, bytes="")

    def __enter__(self) -> ItemProgress:
        global _current
        with _current_lock:
            self._previous, _current = _current, self
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _current
        if self._progress is not None:
            self._progress.stop()
        with _current_lock:
            _current = self._previous

    def add_total(self, items: int) -> None:
        """More items to do (a command that finds its work as it goes)."""
        if self._progress is None or self._task is None:
            return
        with self._lock:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, total=(task.total or 0) + items)

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        """``items`` more done, ``nbytes`` more bytes read or written."""
        if self._progress is None or self._task is None:
            return
        with self._lock:
            self._bytes += nbytes
            shown = decimal(self._bytes) if self._bytes else ""
            self._progress.update(self._task, advance=items, bytes=shown)


_NONE = ItemProgress("", enabled=False)
_current: ItemProgress | None = None
_current_lock = threading.Lock()


def current() -> ItemProgress:
    """The bar a command shows now; one that draws nothing when none is shown."""
    return _current or _NONE


@contextmanager
def status_line(console: Console, text: str) -> Iterator[Spinner]:
    """A spinner and one line on ``console`` (drawn on a terminal only), like
    ``Console.status`` but leaving ``sys.stdout`` alone: rich's status puts its own proxy
    there, which would print the results written meanwhile on stderr. ``update(text=...)`` on
    the yielded spinner changes the line."""
    spinner = Spinner("dots", text=text, style="status.spinner")
    with Live(
        spinner,
        console=console,
        transient=True,
        refresh_per_second=12.5,
        redirect_stdout=False,
    ):
        yield spinner

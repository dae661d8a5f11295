"""The progress bar of a long replication (items, bytes, ETA), when a person watches only
(:func:`archive_ingest.progress.wanted`): when stderr is not a TTY (a log, a pipe, a
scheduler), under CI, or with JSON logs, nothing is drawn at all."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from archive_ingest.progress import wanted


class TransferProgress:
    """Thread-safe counters behind one rich progress bar (or none off a terminal)."""

    def __init__(self, items: int, total_bytes: int, *, enabled: bool | None = None) -> None:
        self.enabled = wanted() if enabled is None else enabled
        self._lock = threading.Lock()
        self._items_done = 0
        self._items = items
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[items]}"),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
                redirect_stdout=False,  # stdout is the JSON report's, never the bar's
            )
            self._task = self._progress.add_task(
                "replicate", total=max(total_bytes, 1), items=f"0/{items} AIPs"
            )

    def __enter__(self) -> TransferProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def add_bytes(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            with self._lock:
                self._progress.advance(self._task, count)

    def item_done(self) -> None:
        with self._lock:
            self._items_done += 1
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, items=f"{self._items_done}/{self._items} AIPs")

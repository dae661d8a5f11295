"""What a log line is about: the run, and the item being worked on (record id, REF, version,
stage). The ingest's runner binds them around each stage (``ingest/runner.py``), a flow binds
its Prefect flow run id (``flows/run_logs.py``); the JSON format adds them to every line
emitted meanwhile. Context variables, so two items worked on at once in two threads each see
their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: the fields a line may carry, in the order a JSON line lists them
FIELDS = ("run_id", "record_id", "ref", "version", "stage")

_bound: ContextVar[dict[str, Any] | None] = ContextVar("archive_ingest_log_context", default=None)

#: this command's own run id (one per process): the run id of lines outside any flow run
_COMMAND_RUN_ID = uuid.uuid4().hex


def command_run_id() -> str:
    return _COMMAND_RUN_ID


def current() -> dict[str, Any]:
    """The fields bound now (none set: empty); ``run_id`` falls back to the command's."""
    fields = dict(_bound.get() or {})
    fields.setdefault("run_id", _COMMAND_RUN_ID)
    return fields


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (those not None; unknown names are refused) to every line of the block."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {', '.join(sorted(unknown))}")
    merged = dict(_bound.get() or {})
    merged.update({name: value for name, value in fields.items() if value is not None})
    token = _bound.set(merged)
    try:
        yield
    finally:
        _bound.reset(token)

"""One log record as one JSON line: ``time`` (ISO 8601, UTC, milliseconds), ``level``,
``logger``, ``message``, then what the line is about (``run_id`` always; ``record_id``,
``ref``, ``version``, ``stage`` while an item is worked on) and ``exception`` (the traceback as
one string) when the record has one. Nothing else of the record is written: no ``extra`` a
library attached, no arguments besides those formatted into the message."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from archive_ingest.logs import context

#: attribute a record gets from :class:`ContextFilter` (set where the line was emitted)
CONTEXT_ATTRIBUTE = "archive_ingest_context"


class ContextFilter(logging.Filter):
    """Stamps each record with the log context of the thread that emitted it (a handler may
    format it later, elsewhere). Prefect's run loggers give their flow run's id; it wins over
    the command's own run id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, CONTEXT_ATTRIBUTE):
            fields = context.current()
            flow_run_id = getattr(record, "flow_run_id", None)
            if flow_run_id and fields.get("run_id") == context.command_run_id():
                fields["run_id"] = str(flow_run_id)
            setattr(record, CONTEXT_ATTRIBUTE, fields)
        return True


def utc_time(created: float) -> str:
    moment = dt.datetime.fromtimestamp(created, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """See the module docstring; one line, never more (newlines are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, CONTEXT_ATTRIBUTE, None)
        if fields is None:
            fields = context.current()
        for name in context.FIELDS:
            if fields.get(name) is not None:
                line[name] = fields[name]
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)

"""Which log format a command uses: ``--log-format``, else the ``log_format`` setting (the
environment's ``ARCHIVE_INGEST_LOG_FORMAT`` or the config file), else text."""

from __future__ import annotations

import os
from enum import StrEnum

from archive_ingest.logs.setup import FORMATS, LogFormat
from archive_ingest.settings import ENV_PREFIX, get_settings


class LogFormatChoice(StrEnum):
    """The values of ``--log-format``."""

    text = "text"
    json = "json"


def chosen_log_format(option: LogFormatChoice | None) -> LogFormat:
    """``--log-format`` when given, else :func:`configured_log_format`."""
    if option is None:
        return configured_log_format()
    return "json" if option is LogFormatChoice.json else "text"


def configured_log_format() -> LogFormat:
    """The ``log_format`` setting. Settings that do not validate are reported by the command
    a moment later, in this format: then the environment's value alone counts (if valid)."""
    try:
        return get_settings().log_format
    except Exception:
        raw = os.environ.get(f"{ENV_PREFIX}LOG_FORMAT", "").strip().lower()
        return next((f for f in FORMATS if f == raw), "text")

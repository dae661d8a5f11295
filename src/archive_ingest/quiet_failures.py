"""An expected failure is one line on a terminal, not a framework traceback.

Prefect logs every task run that fails for good with ``exc_info``, so a plain network error
while fetching (the item ends ``failed`` with a reason a person can read) came out as a
thirty-line traceback through Prefect's task engine, which reads as a crash. This filter drops
the traceback of errors of our own (:class:`~archive_ingest.errors.ArchiveIngestError`: each
carries a readable message) from Prefect's run loggers; anything else, a real bug, keeps its
traceback, and so does every record when the command runs with ``--verbose``.
"""

from __future__ import annotations

import logging

from archive_ingest.errors import ArchiveIngestError

RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")


class ExpectedFailureFilter(logging.Filter):
    """Keeps every record; removes the traceback of an :class:`ArchiveIngestError`."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ArchiveIngestError):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_expected_failures() -> None:
    """Install the filter on Prefect's run loggers, once; not when the root logger shows INFO
    (the command's ``--verbose``)."""
    if logging.getLogger().isEnabledFor(logging.INFO):
        return
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, ExpectedFailureFilter) for existing in logger.filters):
            logger.addFilter(ExpectedFailureFilter())

"""Reliability helpers: crash points for kill tests and the ``reconcile`` check."""

from archive_ingest.reliability.crashpoints import CRASH_ENV, crashpoint

__all__ = ["CRASH_ENV", "crashpoint"]

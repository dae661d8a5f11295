"""archive-ingest: archival ingest and preservation pipeline for open-access scholarship."""

__version__ = "0.1.0"

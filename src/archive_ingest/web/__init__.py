"""The web application of `archive-ingest serve`: archivist review at /review/, OAI-PMH at /oai."""

from archive_ingest.web.app import create_app

__all__ = ["create_app"]

"""A faithful local SciELO (Books, ArticleMeta, journal sites) for tests and the demo.

It serves the same shapes as the real services (see docs/SOURCES.md and
/work/shared/reference/scielo.md) from an in-memory :class:`SampleCatalogue`, on 127.0.0.1 only,
with per-path fault injection and a request log.
"""

from __future__ import annotations

from archive_ingest.scielo_sample.articlemeta import articlemeta_document
from archive_ingest.scielo_sample.catalogue import (
    SampleArticle,
    SampleBook,
    SampleCatalogue,
    SampleChapter,
)
from archive_ingest.scielo_sample.demo import DEMO_SBID, build_demo_catalogue
from archive_ingest.scielo_sample.generated import add_generated_book
from archive_ingest.scielo_sample.server import Fault, RecordedRequest, SampleScieloServer

__all__ = [
    "DEMO_SBID",
    "Fault",
    "RecordedRequest",
    "SampleArticle",
    "SampleBook",
    "SampleCatalogue",
    "SampleChapter",
    "SampleScieloServer",
    "add_generated_book",
    "articlemeta_document",
    "build_demo_catalogue",
]

"""A faithful local SciELO (Books, ArticleMeta, journal sites) for the demo and the tests.

It serves the same shapes as the real services (see docs/SOURCES.md) from an in-memory
:class:`SampleCatalogue`, on 127.0.0.1 only, with per-path fault injection and a request log.
"""

from __future__ import annotations

from archive_ingest_demo.scielo_sample.articlemeta import articlemeta_document
from archive_ingest_demo.scielo_sample.catalogue import (
    SampleArticle,
    SampleBook,
    SampleCatalogue,
    SampleChapter,
)
from archive_ingest_demo.scielo_sample.faults import Fault, RecordedRequest, gzip_bomb
from archive_ingest_demo.scielo_sample.real_records import RealRecord, load_real_records
from archive_ingest_demo.scielo_sample.server import SampleScieloServer

__all__ = [
    "Fault",
    "RealRecord",
    "RecordedRequest",
    "SampleArticle",
    "SampleBook",
    "SampleCatalogue",
    "SampleChapter",
    "SampleScieloServer",
    "articlemeta_document",
    "gzip_bomb",
    "load_real_records",
]

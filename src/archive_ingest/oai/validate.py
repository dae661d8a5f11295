"""Offline XSD validation of whole OAI-PMH responses (envelope + payloads), for tests and bench.

Compiled from schemas/xsd/oai-pmh-driver.xsd through the same catalog-only resolver as the
records (``archive_ingest.records.schemas.compile_schema``): no schema is ever fetched.
"""

from __future__ import annotations

import threading
from functools import cache

from lxml import etree

from archive_ingest.records.schemas import compile_schema, hardened_parser

DRIVER = "oai-pmh-driver.xsd"
_LOCK = threading.Lock()


@cache
def _schema() -> etree.XMLSchema:
    schema, _ = compile_schema(DRIVER)
    return schema


def response_errors(xml: bytes) -> list[str]:
    """Every XSD error of one OAI-PMH response (empty = valid)."""
    root = etree.fromstring(xml, hardened_parser())
    schema = _schema()
    with _LOCK:
        if schema.validate(root):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]

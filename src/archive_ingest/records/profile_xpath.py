"""XPath access and value formats shared by the METS and DC profile checks."""

from __future__ import annotations

import re

from lxml import etree

from archive_ingest.records.xmlutil import XPATH_NS

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def elements(node: etree._Element, path: str) -> list[etree._Element]:
    """The elements ``path`` selects from ``node`` (profile namespaces)."""
    found = node.xpath(path, namespaces=XPATH_NS)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def text_at(node: etree._Element, path: str) -> str:
    """The string value of ``path`` from ``node``, stripped ("" when nothing matches)."""
    found = node.xpath(f"string({path})", namespaces=XPATH_NS)
    return str(found).strip()

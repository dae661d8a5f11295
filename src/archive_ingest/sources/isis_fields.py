"""Reading ISIS fields of an ArticleMeta record: each ``vNNN`` is a list of subfield dicts
(``{"_": value, "l": language, ...}``), sometimes a bare dict or string in older records."""

from __future__ import annotations

from typing import Any

from archive_ingest.sources.normalise import clean_text


def values(record: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    """The occurrences of an ISIS field (always a list of subfield dicts, tolerant of junk)."""
    value = record.get(tag)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, str):
        return [{"_": value}]
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"_": v} for v in value]
    return []


def first(record: dict[str, Any], tag: str, sub: str = "_") -> str | None:
    for occurrence in values(record, tag):
        text = clean_text(occurrence.get(sub))
        if text:
            return text
    return None

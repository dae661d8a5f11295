"""SciELO Books' listings for harvesting: the CouchDB changes feed and the books list."""

from __future__ import annotations

from dataclasses import dataclass

from archive_ingest.errors import SourceError
from archive_ingest.sources.base import load_json
from archive_ingest.sources.normalise import clean_text


@dataclass(frozen=True)
class Change:
    """One entry of the CouchDB changes feed behind ``/api/v1/changes/``."""

    seq: str
    id: str
    deleted: bool = False


def parse_changes_feed(raw: bytes) -> tuple[list[Change], str | None]:
    """``{"results": [{"seq", "id", "changes", "deleted"?}], "last_seq"}`` -> changes, last_seq.

    ``seq`` is kept as text: CouchDB 1.x answers integers, 2.x+ opaque strings.
    """
    data = load_json(raw, "changes feed")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise SourceError("changes feed has no 'results' list")
    changes: list[Change] = []
    for entry in data["results"]:
        if not isinstance(entry, dict) or "id" not in entry or "seq" not in entry:
            raise SourceError(f"changes feed entry without id/seq: {str(entry)[:80]}")
        changes.append(Change(str(entry["seq"]), str(entry["id"]), bool(entry.get("deleted"))))
    last = data.get("last_seq")
    return changes, None if last is None else str(last)


def parse_books_list(raw: bytes) -> list[str]:
    """The sbids of ``/api/v1/books/`` (a JSON list of book objects)."""
    data = load_json(raw, "books list")
    if not isinstance(data, list):
        raise SourceError("books list is not a JSON list")
    return [str(b["_id"]) for b in data if isinstance(b, dict) and clean_text(b.get("_id"))]

"""Our simple JSON metadata shape (docs/SOURCES.md) -> SourceRecord fields."""

from __future__ import annotations

import re
from typing import Any

from archive_ingest.errors import SourceError
from archive_ingest.models import Creator, Identifier, PageRange, Relation
from archive_ingest.sources.base import load_json
from archive_ingest.sources.file_fields import (
    ROLES,
    classify_identifier,
    date_of,
    languages_of,
    scheme_identifier,
)
from archive_ingest.sources.normalise import clean_text, language_code

_JSON_KEYS = frozenset(
    {
        "title", "translated_titles", "creators", "publisher", "date", "languages", "language",
        "identifiers", "pages", "is_part_of", "description", "subjects", "licence", "license",
        "licence_statement", "licence_url", "license_url", "landing_url",
    }
)  # fmt: skip


def _json_identifiers(value: Any, notes: list[str]) -> list[Identifier]:
    pairs: list[tuple[str | None, str]] = []
    if isinstance(value, dict):
        pairs = [(str(k), str(v)) for k, v in value.items() if isinstance(v, str | int)]
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                pairs.append((str(item.get("scheme") or ""), item["value"]))
            elif isinstance(item, str):
                pairs.append((None, item))
    elif value is not None:
        notes.append("identifiers in an unknown shape; ignored")
    out: list[Identifier] = []
    for scheme, text in pairs:
        ident, note = scheme_identifier(scheme, text) if scheme else classify_identifier(text)
        if note:
            notes.append(note)
        if ident:
            out.append(ident)
    return out


def _json_creators(value: Any, notes: list[str]) -> list[Creator]:
    creators: list[Creator] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str) and clean_text(item):
            creators.append(Creator(name=clean_text(item) or ""))
        elif isinstance(item, dict) and clean_text(item.get("name")):
            role = (clean_text(item.get("role")) or "author").lower()
            if role not in ROLES:
                notes.append(f"creator role {role!r} unknown; kept as other")
                role = "other"
            creators.append(
                Creator(
                    name=clean_text(item["name"]) or "",
                    role=role,
                    corporate=bool(item.get("corporate", False)),
                    affiliation=clean_text(item.get("affiliation")),
                    orcid=clean_text(item.get("orcid")),
                )
            )
        else:
            notes.append(f"creator entry {str(item)[:60]!r} not understood; ignored")
    if value is not None and not isinstance(value, list):
        notes.append("creators is not a list; ignored")
    return creators


def _json_pages(value: Any, notes: list[str]) -> PageRange | None:
    if isinstance(value, dict):
        first, last = (
            clean_text(str(value.get("first") or "")),
            clean_text(str(value.get("last") or "")),
        )
        count = value.get("count")
        return PageRange(first=first, last=last, count=count if isinstance(count, int) else None)
    if isinstance(value, str) and value.strip():
        bounds = re.split(r"\s*[-–]\s*", value.strip(), maxsplit=1)
        return PageRange(first=bounds[0], last=bounds[1] if len(bounds) > 1 else None)
    if isinstance(value, int):
        return PageRange(count=value)
    if value is not None:
        notes.append("pages in an unknown shape; ignored")
    return None


def map_local_json(raw: bytes) -> dict[str, Any]:
    """Our simple JSON shape -> SourceRecord fields (without id/source)."""
    data = load_json(raw, "metadata JSON")
    if not isinstance(data, dict):
        raise SourceError("metadata JSON must be an object with at least a 'title'")
    notes: list[str] = []
    unknown = sorted(set(data) - _JSON_KEYS)
    if unknown:
        notes.append(f"metadata JSON fields not understood and ignored: {', '.join(unknown)}")
    title = clean_text(data.get("title"))
    if not title:
        raise SourceError("metadata JSON has no 'title'")
    langs = data.get("languages", data.get("language"))
    languages = languages_of(langs if isinstance(langs, list) else [langs] if langs else [], notes)
    relation = None
    part = data.get("is_part_of")
    if isinstance(part, dict):
        kind = part.get("kind", "book")
        if kind not in ("book", "journal-issue", "journal", "series"):
            notes.append(f"is_part_of kind {kind!r} unknown; 'book' assumed")
            kind = "book"
        relation = Relation(
            title=clean_text(part.get("title")),
            identifiers=tuple(_json_identifiers(part.get("identifiers"), notes)),
            url=clean_text(part.get("url")),
            creators=tuple(_json_creators(part.get("creators"), notes)),
            kind=kind,
            volume=clean_text(str(part["volume"])) if part.get("volume") else None,
            issue=clean_text(str(part["issue"])) if part.get("issue") else None,
        )
    translated = data.get("translated_titles")
    translated_titles: dict[str, str] = {}
    if isinstance(translated, dict):
        for lang, text in translated.items():
            code = language_code(lang)
            if code and clean_text(text):
                translated_titles[code] = clean_text(text) or ""
    subjects = data.get("subjects")
    licence = clean_text(
        data.get("licence") or data.get("license") or data.get("licence_statement")
    )
    licence_url = clean_text(data.get("licence_url") or data.get("license_url"))
    if licence_url is None and licence and licence.lower().startswith(("http://", "https://")):
        licence_url = licence
    return {
        "title": title,
        "translated_titles": translated_titles,
        "creators": _json_creators(data.get("creators"), notes),
        "publisher": clean_text(data.get("publisher")),
        "date": date_of(data.get("date"), notes),
        "languages": languages,
        "identifiers": _json_identifiers(data.get("identifiers"), notes),
        "pages": _json_pages(data.get("pages"), notes),
        "is_part_of": relation,
        "description": clean_text(data.get("description")),
        "subjects": [s for s in (clean_text(x) for x in subjects or []) if s]
        if isinstance(subjects, list)
        else [],
        "licence_statement": licence,
        "licence_url": licence_url,
        "landing_url": clean_text(data.get("landing_url")),
        "notes": notes,
    }

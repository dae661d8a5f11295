"""The page range of an ArticleMeta article (v14), as xylose's ``start_page``/``end_page``
read it, with the placeholders ``nd`` and ``0`` taken as no page."""

from __future__ import annotations

from typing import Any

from archive_ingest.models import PageRange
from archive_ingest.sources.isis_fields import values
from archive_ingest.sources.normalise import clean_text


def _page(value: object) -> str | None:
    """A page number, or ``None`` for the placeholders ``nd`` and ``0``/``00`` (xylose)."""
    text = clean_text(value)
    if not text or text.lower() == "nd" or not text.replace("0", ""):
        return None
    return text


def _page_bounds(text: str | None) -> tuple[str | None, str | None]:
    """(first, last) of a v14 ``_`` range such as ``9-12``: in numeric order when both are
    numbers (xylose sorts them as text, which reads ``9-12`` as 12 to 9), else as written."""
    parts = [p for p in (text or "").split("-") if clean_text(p)]
    if not parts:
        return None, None
    if all(p.strip().isdigit() for p in parts):
        parts.sort(key=int)
    return _page(parts[0]), _page(parts[-1])


def _reversed(first: str | None, last: str | None) -> bool:
    return bool(first and last and first.isdigit() and last.isdigit() and int(first) > int(last))


def article_pages(article: dict[str, Any]) -> PageRange | None:
    """v14 as xylose's ``start_page``/``end_page``: ``f``/``l`` of any occurrence, a missing
    one from the first ``_`` range (``9-12``)."""
    occurrences = values(article, "v14")
    first = next((p for o in occurrences if (p := _page(o.get("f")))), None)
    last = next((p for o in occurrences if (p := _page(o.get("l")))), None)
    if first is None or last is None:
        text = next((t for o in occurrences if (t := clean_text(o.get("_")))), None)
        low, high = _page_bounds(text)
        filled = (first or low, last or high)
        if not _reversed(*filled):  # a bound taken from `_` never reverses the range
            first, last = filled
    return PageRange(first=first, last=last) if first or last else None

"""The Markdown of a run's Prefect artifact (pure): a table of items and their outcomes.

The flows create the artifact (``prefect.artifacts.create_markdown_artifact``) from this text
when they run as a flow run; nothing here talks to Prefect. Every cell is escaped, so a title
or a reason holding ``|``, ``*``, ``<`` or a line break cannot break the table or turn into
markup; long reasons are shortened.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from archive_ingest.models import State
from archive_ingest.monitoring.alerts import review_item_url, review_queue_url, shorten
from archive_ingest.settings import Settings

#: a reason in a table cell is cut to this many characters
REASON_CHARS = 160
#: at most this many rows in one table (a note says how many more there were)
MAX_ROWS = 500
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")


def md_escape(value: Any) -> str:
    """``value`` as the text of one Markdown table cell: on one line, every character that
    Markdown (tables included) would read as markup escaped with a backslash."""
    text = " ".join(str("" if value is None else value).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key from ``parts`` (a flow's name first): Prefect accepts lowercase
    letters, digits and dashes only."""
    text = "-".join(parts).lower()
    key = "".join(c if c.isascii() and c.isalnum() else "-" for c in text)
    return re.sub("-{2,}", "-", key).strip("-") or "archive-ingest"


def _link(text: str, url: str | None) -> str:
    return f"[{md_escape(text)}](<{url}>)" if url else ""


def items_markdown(settings: Settings, title: str, results: Sequence[Mapping[str, Any]]) -> str:
    """A heading, the counts by state, and one row per item: item, state, version, reasons
    (shortened), and a link to its review page when it is held and ``web_base_url`` is set."""
    counts = Counter(str(r.get("state")) for r in results)
    lines = [f"# {md_escape(title)}", ""]
    lines.append(
        ", ".join(f"{md_escape(state)}: {n}" for state, n in sorted(counts.items())) or "no items"
    )
    held = counts.get(State.NEEDS_REVIEW.value, 0)
    queue = review_queue_url(settings)
    if held and queue:
        lines += ["", f"{held} item(s) wait for review: {_link('review queue', queue)}"]
    lines += ["", "| item | state | version | reasons | review |", "|---|---|---|---|---|"]
    for row in results[:MAX_ROWS]:
        item = str(row.get("id") or row.get("source") or "")
        reasons = "; ".join(str(r) for r in row.get("reasons") or [])
        review = ""
        if row.get("state") == State.NEEDS_REVIEW.value and row.get("id"):
            review = _link("review", review_item_url(settings, str(row["id"])))
        version = row.get("version")
        cells = [
            md_escape(item),
            md_escape(row.get("state")),
            md_escape("" if version is None else f"v{version}"),
            md_escape(shorten(reasons, REASON_CHARS)),
            review,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(results) > MAX_ROWS:
        lines += ["", f"… and {len(results) - MAX_ROWS} more item(s)"]
    return "\n".join(lines) + "\n"


def findings_markdown(
    title: str, summary: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> str:
    """A heading, a summary line and one row per finding, ``columns`` from each row."""
    lines = [f"# {md_escape(title)}", "", md_escape(summary), ""]
    if rows:
        lines += [
            "| " + " | ".join(md_escape(c) for c in columns) + " |",
            "|" + "---|" * len(columns),
        ]
        for row in rows[:MAX_ROWS]:
            cells = [md_escape(shorten(str(row.get(c) or ""), REASON_CHARS)) for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
        if len(rows) > MAX_ROWS:
            lines += ["", f"… and {len(rows) - MAX_ROWS} more"]
    return "\n".join(lines) + "\n"

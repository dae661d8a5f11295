"""Which volumes the SeaweedFS master knows, read from its status page.

The master's JSON API (``/vol/status``, ``/dir/status``) is switched off in the embedded
server (``-disableHttp``: it also served ``/col/delete`` to anyone); the read-only status page
``/`` remains and lists, per volume server, its volume ids (``" 1-7 9 12-13"``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_RANGE = re.compile(r"(\d+)(?:-(\d+))?")
_HEADER = "Volume Ids"


class _Cells(HTMLParser):
    """The text of every table row, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def registered_volume_ids(page: str) -> set[int]:
    """The volume ids in the master status page's topology table (empty if there is none)."""
    parser = _Cells()
    parser.feed(page)
    parser.close()
    found: set[int] = set()
    column: int | None = None
    for row in parser.rows:
        if _HEADER in row:
            column = row.index(_HEADER)
            continue
        if column is None or len(row) <= column:
            continue
        for match in _RANGE.finditer(row[column]):
            first = int(match.group(1))
            last = int(match.group(2) or first)
            found.update(range(first, last + 1))
    return found

"""The limits that keep reading a hostile PDF bounded, and the capped warning list.

Per-page details stop after ``MAX_PAGES`` pages or ``TIME_BUDGET_S`` seconds; a page's content
(its content streams and the forms it draws, compressed and decoded) may hold at most
``MAX_CONTENT_BYTES``; a content walk stops after ``MAX_OPERATORS`` operators and
``MAX_FORM_DEPTH`` nested forms, the object scan after ``MAX_OBJECTS`` objects.
"""

from __future__ import annotations

MAX_PAGES = 2000
TIME_BUDGET_S = 120.0
MAX_OPERATORS = 2_000_000  # per page, forms included
MAX_FORM_DEPTH = 8
MAX_OBJECTS = 500_000
MAX_CONTENT_BYTES = 64 * 1024 * 1024  # per page, forms included; compressed and decoded
MAX_XMP_BYTES = 4 * 1024 * 1024
MAX_INFO_VALUE = 4096
MAX_WARNINGS = 50
TAIL_BYTES = 4096  # where %%EOF must appear
HEAD_BYTES = 1024  # where %PDF- must appear


class Warnings:
    """An ordered, de-duplicated list of warnings, capped at ``MAX_WARNINGS``."""

    def __init__(self) -> None:
        self._items: list[str] = []
        self._dropped = 0

    def add(self, message: str) -> None:
        if message in self._items:
            return
        if len(self._items) >= MAX_WARNINGS:
            self._dropped += 1
            return
        self._items.append(message)

    @property
    def items(self) -> list[str]:
        if self._dropped:
            return [*self._items, f"... and {self._dropped} more warnings"]
        return list(self._items)

"""SciELO's responses saved under tests/fixtures/scielo (book JSON, book pages, ArticleMeta)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scielo"


def fixture(name: str) -> bytes:
    """The bytes of the saved response ``name``."""
    return (FIXTURES / name).read_bytes()

"""Where the data files shipped with archive-ingest live (schemas, profiles, tables)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def schemas_dir() -> Path:
    """The project's ``schemas/`` folder: inside the wheel, or the source tree when editable."""
    packaged = Path(__file__).parent / "schemas"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[2] / "schemas"
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError("archive-ingest schemas folder not found (broken installation?)")

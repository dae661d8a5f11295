"""The catalogue of items, versions, files and PREMIS-style events (SQLAlchemy + Alembic)."""

from archive_ingest.catalogue.engine import make_engine, migrate
from archive_ingest.catalogue.store import Catalogue

__all__ = ["Catalogue", "make_engine", "migrate"]

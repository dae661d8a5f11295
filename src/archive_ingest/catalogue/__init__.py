"""The catalogue of items, versions, files and PREMIS-style events (SQLAlchemy + Alembic)."""

from archive_ingest.catalogue.store import Catalogue, make_engine, migrate

__all__ = ["Catalogue", "make_engine", "migrate"]

"""Opening the catalogue's database: the engine (SQLite with WAL and a private file, or
PostgreSQL) and the schema brought to the newest Alembic revision."""

from __future__ import annotations

import functools
import os
import stat
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from archive_ingest.secret_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from archive_ingest.settings import normalise_database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def private_sqlite_file(path: Path) -> None:
    """Create the catalogue file 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the main file's mode) and take group/other access away from existing ones: the
    catalogue holds password hashes and receipts. A new parent folder is created 0700."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(part.stat().st_mode)
            if mode & 0o077:
                os.chmod(part, mode & ~0o077)
        except (FileNotFoundError, PermissionError):  # gone, or another owner's: leave it
            continue


def make_engine(url: str) -> Engine:
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
        if path and path != ":memory:":
            private_sqlite_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest migration this code knows (read from the scripts once per process)."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def known_revision(revision: str | None) -> bool:
    """Whether ``revision`` is one of this code's migrations (None, an empty database, is:
    the first migration starts from it); False: a newer code's migration ran."""
    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except Exception:  # alembic's CommandError/ResolutionError: not among this code's scripts
        return False


#: alembic keeps process-wide state while it migrates: one migration at a time per process
#: (the item threads of one command open the catalogue at once); between processes the
#: database's own locks (PostgreSQL: an advisory lock in env.py) keep them apart
_MIGRATING = threading.Lock()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration. A schema already there costs one query:
    running alembic's upgrade to find that out took ~0.09 s, paid by every ingest run."""
    with _MIGRATING:  # the check too: no thread reads the schema while another changes it
        if schema_at_head(engine):
            return
        config = _config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def schema_at_head(engine: Engine) -> bool:
    """Whether the schema is at this code's newest revision (one query)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head_revision()

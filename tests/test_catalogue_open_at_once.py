"""Several threads of one process opening a new catalogue at once (the item threads of one
`archive-ingest ingest` on a fresh HOME): one migrates, the others wait and find the schema
at the newest migration; none fails."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from alembic.runtime.migration import MigrationContext

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.engine import head_revision


def test_threads_opening_a_new_catalogue_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    start = threading.Barrier(6)
    failures: list[str] = []

    def open_it() -> None:
        start.wait()
        try:
            Catalogue.open(url).close()
        except BaseException:
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == [], "\n".join(failures)
    catalogue = Catalogue.open(url)
    try:
        with catalogue.engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        assert revision == head_revision()
    finally:
        catalogue.close()

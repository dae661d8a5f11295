"""`archive-ingest status` on a catalogue whose schema is not this code's: its figures are not
read (no false zeros: items and last runs empty, queues null / "not read"), and a schema older
than the code (the next ingest migrates it) is told apart from a newer one (upgrade)."""

from __future__ import annotations

import io

import pytest
from alembic import command
from alembic.config import Config
from rich.console import Console
from sqlalchemy import text

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.engine import MIGRATIONS
from archive_ingest.models import State
from archive_ingest.monitoring.status import gather_status
from archive_ingest.monitoring.status_model import StatusReport
from archive_ingest.monitoring.status_view import status_screen
from archive_ingest.settings import Settings


def _at(database_url: str, revision: str) -> None:
    catalogue = Catalogue.open(database_url)
    catalogue.ensure_item("scielo-books-chapter:x", source="x", source_kind="scielo-books-chapter")
    catalogue.set_state("scielo-books-chapter:x", State.FAILED)  # not a 0 to be shown
    with catalogue.engine.begin() as connection:
        if revision == "older":
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.downgrade(config, "0010")
        else:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    catalogue.close()


def _screen(report: StatusReport) -> str:
    console = Console(width=160, file=io.StringIO(), record=True)
    console.print(status_screen(report))
    return console.export_text()


@pytest.mark.parametrize(
    ("revision", "said"),
    [
        ("older", "older than this code's"),
        ("newer", "newer than this code's"),
    ],
)
def test_a_schema_not_at_head_is_not_read_and_says_which_way(
    settings: Settings, database_url: str, revision: str, said: str
) -> None:
    _at(database_url, revision)
    view = settings.model_copy(update={"database_url": database_url, "local_prefect_api": False})
    report = gather_status(view, deadline_seconds=20)
    catalogue = report.services.catalogue
    assert catalogue.up and not catalogue.schema_current
    assert said in catalogue.detail
    assert ("upgrade archive-ingest" in catalogue.detail) is (revision == "newer")
    assert ("next ingest" in catalogue.detail) is (revision == "older")
    assert not report.figures_read
    assert report.items == {} and report.last_runs == [] and report.queues is None
    dumped = report.model_dump(mode="json")
    assert dumped["queues"] is None and dumped["items"] == {}
    assert any("schema is not this code's" in p.what for p in report.problems)
    screen = _screen(report)
    assert "not read" in screen
    assert "never" not in screen  # no job shown as never run
    assert "failed" not in report.problems.__repr__()  # the failed item is not counted either

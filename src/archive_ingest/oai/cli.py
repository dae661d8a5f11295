"""``archive-ingest oai ...``: backfill the OAI table from the catalogue, withdraw a record.

A typer app for the lead to mount in cli.py (``app.add_typer(oai_app, name="oai")``).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from archive_ingest.catalogue.store import Catalogue
from archive_ingest.oai.store import backfill, withdraw_record
from archive_ingest.settings import get_settings

oai_app = typer.Typer(help="OAI-PMH data provider maintenance.", no_args_is_help=True)


@oai_app.command("backfill")
def backfill_command() -> None:
    """Expose every deposited item not exposed yet (reads dc.xml/mets.xml from workspaces)."""
    catalogue = Catalogue.open(get_settings().effective_database_url)
    try:
        typer.echo(json.dumps({"published": backfill(catalogue)}))
    finally:
        catalogue.close()


@oai_app.command("withdraw")
def withdraw_command(
    record_id: str,
    reason: Annotated[str, typer.Option(help="Why (kept in the catalogue, not exposed).")],
) -> None:
    """Withdraw a record: it stays in OAI-PMH as a deleted header."""
    catalogue = Catalogue.open(get_settings().effective_database_url)
    try:
        found = withdraw_record(catalogue, record_id, reason)
    finally:
        catalogue.close()
    typer.echo(json.dumps({"record_id": record_id, "withdrawn": found}))
    raise typer.Exit(0 if found else 1)

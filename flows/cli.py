"""The ``archive-ingest`` console script: the composition root of the command line.

It runs the typer app of :mod:`archive_ingest.cli` with the Prefect flows of this package as
its runners (:class:`archive_ingest.cli_support.Runners`); ``src/`` never imports ``flows/``.
Each loader imports its flow module when a command asks for it: Prefect is heavy, and it
reads the ``PREFECT_*`` settings the command sets just before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive_ingest.cli import app
from archive_ingest.cli_support import Harvest, IngestItem, Runners
from archive_ingest.errors import RefError

if TYPE_CHECKING:  # a type only; the review actions load the ingest's stages (seconds)
    from archive_ingest.review.actions import OcrRerunLauncher


def _ingest() -> IngestItem:
    from flows.ingest import ingest_item_here  # Prefect: heavy, set up by the command first

    return ingest_item_here


def _harvest() -> Harvest:
    from flows.harvest import (  # Prefect: heavy, and set up by the command first
        harvest_scielo_articles,
        harvest_scielo_books,
    )

    def harvest(
        kind: str,
        collection: str | None,
        *,
        since: str | None,
        limit: int | None,
        dry_run: bool,
        concurrency: int | None,
    ) -> dict[str, Any]:
        if kind == "scielo-books":
            return harvest_scielo_books(
                since=since, limit=limit, dry_run=dry_run, concurrency=concurrency
            )
        if collection is None:
            raise RefError(f"{kind} needs a collection (e.g. {kind}:scl)")
        return harvest_scielo_articles(
            collection=collection,
            since=since,
            limit=limit,
            dry_run=dry_run,
            concurrency=concurrency,
        )

    return harvest


def _ocr_rerun() -> OcrRerunLauncher:
    from flows.review import launch  # Prefect: heavy, loaded by `serve` only

    return launch


RUNNERS = Runners(ingest=_ingest, harvest=_harvest, ocr_rerun=_ocr_rerun)


def main() -> None:
    """The ``archive-ingest`` entry point (pyproject.toml ``[project.scripts]``)."""
    app(obj=RUNNERS)


if __name__ == "__main__":  # pragma: no cover
    main()

"""``archive-ingest harvest SOURCE [--since DATE] [--limit N] [--dry-run]``.

Exported as :func:`harvest_command`; the main CLI mounts it with
``app.command("harvest")(harvest_command)``. stdout: one JSON object (the dry-run plan or the
run report); with ``--markdown`` the markdown summary instead (the same text as the Prefect
artifact). Exit codes (:func:`exit_code`, README "Exit codes"; scheduled runs alert on them):

- 0 done: every item deposited, rejected, unchanged or skipped; notes (documents deleted at the
  source, a held item looked at again) do not change that;
- 1 failed: an item failed, or the listing had a problem (a book page that would not load, a
  listing stopped early): a re-run or a person is needed;
- 2 usage error (bad SOURCE or --since);
- 3 held: nothing failed, but at least one item of this run waits for an archivist's review;
- 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from archive_ingest.cli_support import (
    ensure_embedded_storage,
    ensure_tools,
    error,
    quiet_prefect,
    runners,
)
from archive_ingest.errors import RefError
from archive_ingest.harvest.model import parse_since, parse_source
from archive_ingest.interrupt import interruptible
from archive_ingest.quiet_failures import quiet_expected_failures

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_HELD = 3


def exit_code(out: dict[str, Any]) -> int:
    """The exit code of a harvest (or dry run) from its JSON report; failures win over holds."""
    counts = out.get("counts") or {}
    if out.get("problems") or counts.get("failed"):
        return EXIT_FAILED
    if counts.get("needs_review"):
        return EXIT_HELD
    return EXIT_DONE


def harvest_command(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="scielo-books or scielo-articles:COLLECTION (e.g. :scl).")
    ],
    since: Annotated[
        str | None,
        typer.Option("--since", help="YYYY-MM-DD: ignore the watermark, list from this date."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Ingest at most N items.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be ingested and every problem.")
    ] = False,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, help="Items at once (default setting).")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the markdown summary, not JSON.")
    ] = False,
) -> None:
    """Harvest new and changed items of a source (a Prefect flow run)."""
    try:
        parsed = parse_source(source)
        parse_since(since)
    except (RefError, ValueError) as exc:
        error(exc)
        raise typer.Exit(EXIT_USAGE) from None
    if not dry_run:
        ensure_tools("ocr")  # refuse, one line per missing program or word list
        ensure_embedded_storage()
    quiet_prefect()
    harvest = runners(ctx).harvest()  # imports Prefect, after quiet_prefect
    quiet_expected_failures()  # after Prefect set its logging up

    with interruptible(lambda: _interrupted_line(source)):
        out = harvest(
            parsed.kind,
            parsed.collection,
            since=since,
            limit=limit,
            dry_run=dry_run,
            concurrency=concurrency,
        )
    if markdown:
        sys.stdout.write(_markdown(out))
    else:
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    raise typer.Exit(exit_code(out))


def _interrupted_line(source: str) -> str:
    return (
        f"interrupted (Ctrl-C) during the harvest of {source}: nothing is lost; run the same "
        "command again to resume"
    )


def _markdown(out: dict[str, Any]) -> str:
    if out.get("dry_run"):
        lines = [f"# Dry run of `{out['source']}`", ""]
        lines += [f"- `{c['ref']}` ({c['reason']})" for c in out["would_ingest"]]
    else:
        lines = [f"# Harvest of `{out['source']}`", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(out["counts"].items())]
    lines += [f"- problem: {p}" for p in out.get("problems", [])]
    lines += [f"- note: {n}" for n in out.get("notes", [])]
    return "\n".join(lines) + "\n"

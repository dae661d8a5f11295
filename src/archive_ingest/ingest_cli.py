"""``archive-ingest ingest REF... [--metadata FILE] [--concurrency N]``.

Exported as :func:`ingest_command`; the main CLI mounts it with
``app.command("ingest")(ingest_command)``. Several REFs are worked on ``ingest_concurrency``
at a time, each an ``ingest-item`` flow run in a thread of this process, so that one item is
fetched, inspected, packaged or deposited while another is in OCR (OCR itself stays within
``ocr_max_concurrent``: the OCR pool and its machine-wide slots). stdout: one JSON object per
item, in the order the REFs were given; stderr: one line per item in that order (and, for
several items on a terminal, a progress bar: archive_ingest/progress.py). Exit code 1 when
an item failed or is stored on fewer targets than required (``under_replicated``), 2 on a
usage error, 130 when interrupted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from archive_ingest.cli_support import (
    IngestItem,
    begin_prefect_api,
    emit,
    ensure_embedded_storage,
    ensure_tools,
    err,
    error,
    runners,
)
from archive_ingest.errors import RefError
from archive_ingest.ingest.resolve import parse
from archive_ingest.interrupt import interruptible
from archive_ingest.models import State
from archive_ingest.monitoring.alerts import RunInfo
from archive_ingest.monitoring.item_alerts import send_item_alerts
from archive_ingest.ocr.pool import get_pool
from archive_ingest.progress import ItemProgress, status_line
from archive_ingest.progress import wanted as progress_wanted
from archive_ingest.quiet_failures import quiet_expected_failures
from archive_ingest.refs import ItemRef
from archive_ingest.settings import get_settings


def ingest_command(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="Item references (REF), see README.")],
    metadata: Annotated[
        Path | None, typer.Option("--metadata", help="Metadata file for a file: REF.")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, max=64, help="Items at once (ingest_concurrency)."),
    ] = None,
) -> None:
    """Ingest items, several at once: prints one JSON object per item on stdout (in the
    order given); exit 1 when an item failed or is stored on fewer targets than required
    (under_replicated)."""
    settings = get_settings()
    parsed = _checked(refs, metadata, settings)
    ensure_tools("ocr")
    meta = str(metadata.resolve()) if metadata is not None else None
    work = _unique(refs, parsed)
    at_once = min(len(work), concurrency or settings.ingest_concurrency)
    any_failed = False
    results: list[dict[str, Any]] = []
    running = ["the start-up"]
    with interruptible(lambda: _interrupted_line(running[0])):
        # one OCR worker imports OCRmyPDF while the rest starts; a second starts when two
        # items are in OCR at once (a one-item command pays for one)
        get_pool(settings).prestart(1)
        ingest_item = _start_up(runners(ctx).ingest)
        quiet_expected_failures()  # after Prefect set its logging up
        pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="ingest-item")
        with _shown(work, at_once) as one_done:
            try:
                futures = [
                    pool.submit(_one, ingest_item, ref, meta if item.kind == "file" else None)
                    for ref, item in work
                ]
                for future in futures:
                    future.add_done_callback(lambda _: one_done())
                for (_, item), future in zip(work, futures, strict=True):
                    running[0] = item.canonical if at_once == 1 else "the run"
                    result = future.result()
                    results.append(result)
                    emit(result)
                    state = result.get("state")
                    any_failed |= state in (State.FAILED.value, State.UNDER_REPLICATED.value)
                    err.print(f"{escape(item.canonical)}: [bold]{state}[/bold]")
                    if state == State.UNDER_REPLICATED.value:
                        err.print(escape(copies_line(result.get("reasons") or [])))
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    # failed_items / under_replicated alerts (alert_webhook_url); never fails the command
    send_item_alerts(settings, results, run=RunInfo.command("ingest"), batch="ingest")
    raise typer.Exit(1 if any_failed else 0)


def _start_up(load_runner: Callable[[], IngestItem]) -> IngestItem:
    """The storage and the orchestration, at once: the local Prefect API starts (or answers)
    and the embedded storage servers start (or answer) on threads, mostly waiting for their
    own processes, while this thread imports Prefect; one after the other they cost their sum
    (docs/PERFORMANCE.md). Either may end the command (exit 1, one error line)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="start-up") as pool:
        api = begin_prefect_api(pool)  # PREFECT_API_URL set now, the server started on pool
        storage = pool.submit(ensure_embedded_storage)
        ingest_item = load_runner()  # imports Prefect
        storage.result()
        if api is not None:
            api.result()
    return ingest_item


def _checked(refs: list[str], metadata: Path | None, settings: Any) -> list[ItemRef]:
    """The parsed REFs; exit 2 on a bad REF or a --metadata that does not fit them."""
    try:
        parsed = [parse(ref, settings) for ref in refs]
    except RefError as exc:
        error(exc)
        raise typer.Exit(2) from None
    if metadata is not None and not any(p.kind == "file" for p in parsed):
        error("--metadata is only for file: references")
        raise typer.Exit(2)
    if metadata is not None and not metadata.is_file():
        error(f"metadata file not found: {metadata}")
        raise typer.Exit(2)
    for item in parsed:
        if item.kind == "file" and metadata is None:
            error(f"{item.canonical} needs --metadata FILE.json|FILE.xml (title, creators, ...)")
            raise typer.Exit(2)
        if item.kind == "file" and item.path is not None and not item.path.is_file():
            error(f"file not found: {item.path}")
            raise typer.Exit(2)
    return parsed


def _unique(refs: list[str], parsed: list[ItemRef]) -> list[tuple[str, ItemRef]]:
    """Each item once (two REFs naming one item would race each other), in the given order."""
    seen: set[str] = set()
    out: list[tuple[str, ItemRef]] = []
    for ref, item in zip(refs, parsed, strict=True):
        if item.canonical in seen:
            err.print(f"{escape(item.canonical)}: given twice, ingested once")
            continue
        seen.add(item.canonical)
        out.append((ref, item))
    return out


def _one(ingest_item: IngestItem, ref: str, metadata_path: str | None) -> dict[str, Any]:
    """One item's result; never raises, so that every item gets its line. The flow records
    its failures itself; this is the last guard (the orchestration failing around it)."""
    try:
        return ingest_item(ref=ref, metadata_path=metadata_path)
    except Exception as exc:
        reason = f"the run could not be completed: {type(exc).__name__}: {exc}"
        return {"id": None, "source": ref, "state": State.FAILED.value, "reasons": [reason]}


@contextmanager
def _shown(work: list[tuple[str, ItemRef]], at_once: int) -> Iterator[Callable[[], None]]:
    """What stderr shows while the items run: a progress bar (items done of all, ETA) for
    several items when a person watches (archive_ingest.progress.wanted), else the status
    line (drawn on a terminal only). Yields the function each item calls when it ends."""
    if len(work) > 1 and progress_wanted():
        with ItemProgress(f"ingest, {at_once} at a time", total=len(work), console=err) as bar:
            yield lambda: bar.advance(items=1)
        return
    lock, done = threading.Lock(), [0]
    with status_line(err, _status_line(work, 0, at_once)) as status:

        def one_done() -> None:
            with lock:
                done[0] += 1
                status.update(text=_status_line(work, done[0], at_once))

        yield one_done


def _status_line(work: list[tuple[str, ItemRef]], done: int, at_once: int) -> str:
    if len(work) == 1:
        return f"ingesting {escape(work[0][1].canonical)} …"
    return f"ingesting {len(work)} items, {at_once} at a time: {done} done …"


def copies_line(reasons: list[str]) -> str:
    """What an under-replicated item's result says about its copies (its first copies
    reason: "stored on 1 of 2 targets; run `archive-ingest replicate` or re-run")."""
    for reason in reasons:
        if reason.startswith("copies: "):
            return reason.removeprefix("copies: ")
    return "stored on fewer targets than required; run `archive-ingest replicate` or re-run"


def _interrupted_line(what: str) -> str:
    """The one line a Ctrl-C prints (see archive_ingest.interrupt)."""
    again = "run the same command again to resume"
    return f"interrupted (Ctrl-C) during {what}: nothing is lost; {again}"

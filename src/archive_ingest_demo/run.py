"""``archive-ingest demo``: the main job on the embedded default, with nothing to configure.

Starts the embedded storage (two SeaweedFS servers on 127.0.0.1, under HOME: every AIP is
kept twice) and a local sample SciELO Books server with the demo book
(:mod:`archive_ingest_demo.catalogue`), ingests its chapters through the real ``ingest_item``
flow (``load_ingest``, the command line's runner), and says where the results are (with the
verified copies the catalogue records for each) and how to look at them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from archive_ingest.catalogue.copies import copies_of
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.cli_support import IngestItem
from archive_ingest.review.users import ensure_demo_user
from archive_ingest.settings import Settings, get_settings, mask_url, reset_settings_cache
from archive_ingest.storage.embedded_set import embedded_storages, start_all, stop_all
from archive_ingest.workspace import ensure_home
from archive_ingest_demo.catalogue import DEMO_SBID, build_demo_catalogue
from archive_ingest_demo.scielo_sample import SampleScieloServer


def run_demo(
    settings: Settings,
    *,
    keep_running: bool,
    out: Console,
    emit: Callable[[object], None],
    load_ingest: Callable[[], IngestItem],
) -> int:
    home = settings.home
    ensure_home(home)
    out.print(f"[bold]archive-ingest demo[/bold] — HOME is {escape(str(home))}")
    storages = embedded_storages(settings)
    if storages:
        out.print(
            f"starting the embedded storage ({len(storages)} SeaweedFS server"
            f"{'s' if len(storages) > 1 else ''} on 127.0.0.1, one copy each) …"
        )
        for storage, status in zip(storages, start_all(storages), strict=True):
            name = storage.settings.storage_target_name
            out.print(f"  {name}: S3 endpoint {status.endpoint}, bucket {status.bucket}")
    out.print("preparing the sample SciELO book and starting a local SciELO server …")
    catalogue = build_demo_catalogue(home / "demo-source")
    results: list[dict[str, Any]] = []
    with SampleScieloServer(catalogue) as server:
        overrides = server.settings_overrides()
        saved = {k: os.environ.get(_env(k)) for k in overrides}
        for key, value in overrides.items():
            os.environ[_env(key)] = str(value)
        reset_settings_cache()
        try:
            ingest_item = load_ingest()  # imports Prefect (the command set PREFECT_* first)

            book = catalogue.books[DEMO_SBID]
            for chapter in book.chapters.values():
                ref = f"scielo-books:{DEMO_SBID}/{chapter.nn}"
                out.print(f"ingesting {ref} ({escape(chapter.title)}) …")
                result = ingest_item(ref=ref)
                results.append(result)
                emit(result)
                out.print(
                    f"  → [bold]{result['state']}[/bold]"
                    + (f": {escape('; '.join(result['reasons']))}" if result["reasons"] else "")
                )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(_env(key), None)
                else:
                    os.environ[_env(key)] = value
            reset_settings_cache()

    _explain(get_settings(), results, out)
    if storages and not keep_running:
        stop_all(storages)
    return 1 if any(r["state"] == "failed" for r in results) else 0


def copies_line(settings: Settings, record_id: str, version: object) -> str:
    """``stored: 2 verified copies (local-1, local-2)``, as the catalogue records the copies
    of this version (and any copy that is not verified, with its status); "" when none."""
    if not isinstance(version, int):
        return ""
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        copies = copies_of(catalogue, record_id, version)
    finally:
        catalogue.close()
    verified = [copy.target for copy in copies if copy.status == "verified"]
    others = [f"{copy.target} {copy.status}" for copy in copies if copy.status != "verified"]
    if not copies:
        return ""
    line = f"stored: {len(verified)} verified cop{'y' if len(verified) == 1 else 'ies'}"
    if verified:
        line += f" ({', '.join(verified)})"
    if others:
        line += f"; {', '.join(others)}"
    return line


def _env(key: str) -> str:
    return f"ARCHIVE_INGEST_{key.upper()}"


def _explain(settings: Settings, results: list[dict[str, Any]], out: Console) -> None:
    ai = ".venv/bin/archive-ingest"
    out.print()
    out.print("[bold]Where the results are[/bold]")
    out.print(f"  catalogue:  {escape(mask_url(settings.effective_database_url))}")
    for result in results:
        work = settings.work_dir / str(result["id"]) / f"v{result['version']}" / "bag"
        line = f"  {result['id']}: {result['state']}"
        if result.get("bag"):
            line += f", AIP {result['bag']}"
        line += f"\n      package: {work}"
        copies = copies_line(settings, str(result["id"]), result.get("version"))
        if copies:
            line += f"\n      {copies}"
        out.print(escape(line))
    out.print()
    out.print("[bold]How to look at them[/bold]")
    out.print(f"  {ai} status                      # the archive at a glance (--json)")
    out.print(f"  {ai} storage status              # every storage target (copy)")
    out.print(f"  {ai} audit --all                 # re-read every stored AIP")
    out.print("  less <package>/data/mets.xml      # METS/PREMIS: files, events, rights")
    out.print("  less <package>/data/dc.xml        # Dublin Core")
    out.print("  cat <package>/bag-info.txt        # BagIt tags")
    out.print("  less <package>/data/ocr/ocr-report.json   # the per-page OCR decisions")
    out.print(f"  {ai} storage down                # stop the local servers when done")
    name, password = ensure_demo_user(settings)
    out.print()
    out.print("[bold]Review what needs a person[/bold]")
    out.print(f"  {ai} serve      # then open http://127.0.0.1:8000/review/")
    out.print(f"  demo login: {escape(name)} / {escape(password)}")
    out.print("  health page (charts): http://127.0.0.1:8000/review/health")
    out.print("  OAI-PMH for harvesters: http://127.0.0.1:8000/oai?verb=Identify")

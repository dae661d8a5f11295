"""Benchmark of the metrics scrape (not a test; prints the figures, optionally JSON).

Fills a catalogue with N items (default 100,000) by bulk inserts, shaped like what a real
ingest writes (the demo book's chapter: one version with its record and summary, 11 files,
14 events, a copy on each of two targets with 18 stored objects each; a v2 for 5 % of the
items; states, collections and licence outcomes mixed; 0.1 % of the stored objects with an
audit finding; a year of audit, replicate and harvest runs; stage duration and OCR counters),
then, in a fresh child process (so that its peak memory is the scrape's, not the build's):

- ``archive_figures`` alone: median and max of ``--repeat`` reads (after one warm-up);
- a whole scrape through the real web application over loopback HTTP (``GET /metrics``,
  read + text format + transfer): median and max;
- the child's peak RSS and the Python heap's peak during one scrape (tracemalloc).

On SQLite (a file in a temporary folder) and PostgreSQL (a schema of its own in
ARCHIVE_INGEST_TEST_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/test), both removed
afterwards unless ``--keep``.

    .venv/bin/python bench/metrics_scrape.py [--items 100000] [--repeat 7] \\
        [--backend sqlite|postgresql|both] [--keep] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from harness import REPO, machine, tree  # also puts the repository root on sys.path
from sqlalchemy import Engine, create_engine, insert, text
from tests.support.web import serving

from archive_ingest.catalogue.runs import STAGE_BUCKETS, Counter, JobRun, StageDuration
from archive_ingest.catalogue.schema import Copy, EventRow, File, Item, StoredObjectRow, Version
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.harvest.store import HarvestRun
from archive_ingest.monitoring import figures as figures_module
from archive_ingest.monitoring.figures import ArchiveFigures, archive_figures
from archive_ingest.settings import Settings, normalise_database_url
from archive_ingest.web import create_app

SCHEMA = "bench_metrics"
BATCH = 2000
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
COLLECTIONS = ("scl", "arg", "mex", "col", "chl", "prt", "cub", "esp", "ven", "bol")
#: (state, share of items)
STATES = (
    ("deposited", 0.90),
    ("needs_review", 0.03),
    ("failed", 0.03),
    ("under_replicated", 0.01),
    ("rejected", 0.01),
    ("ocr_done", 0.01),
    ("fetched", 0.01),
)
#: the demo chapter's files per version: role, count, size
FILES = (
    ("original", 1, 1_080_000),
    ("access", 1, 1_115_000),
    ("text", 1, 2_200),
    ("ocr-page", 2, 12_500),
    ("ocr-report", 1, 2_300),
    ("record", 3, 28_700),
    ("source-metadata", 2, 2_400),
)
EVENTS = (
    "capture",
    "message digest calculation",
    "format identification",
    "format identification",
    "format identification",
    "validation",
    "transcription",
    "normalization",
    "validation",
    "metadata creation",
    "packing",
    "replication",
    "fixity check",
    "replication",
)
OBJECTS_PER_COPY = 18
FINDINGS = ("missing", "content-mismatch", "size-mismatch", "delete-marker")
STAGES = ("resolve", "fetch", "inspect", "ocr", "licence", "describe", "package", "deposit")


def _record(rid: str, n: int) -> dict[str, Any]:
    """A source record of the demo chapter's size (~1.5 kB of JSON)."""
    person = {"name": f"SOBRENOME{n % 977}, A.B.", "role": "author", "corporate": False}
    return {
        "record_id": rid,
        "title": f"Capítulo {n} sobre o território e o desenvolvimento regional",
        "creators": [person, {**person, "name": f"OUTRO{n % 541}, C."}],
        "publisher": "EDUFBA",
        "date": str(1990 + n % 35),
        "languages": ["pt"],
        "identifiers": [{"scheme": "url", "value": f"https://books.scielo.org/id/b{n}/01"}],
        "pages": {"first": "9", "last": "30", "count": 22},
        "is_part_of": {
            "title": "Territórios e desenvolvimento: diálogos interdisciplinares",
            "identifiers": [{"scheme": "isbn", "value": "9788523212346"}],
            "creators": [{"name": "Almeida, Joana Prado", "role": "organizer"}] * 2,
            "kind": "book",
        },
        "licence_statement": "CC BY-NC-SA 3.0",
        "pdf_urls": {"": f"https://books.scielo.org/id/b{n}/pdf/almeida-{n}-01.pdf"},
        "notes": ["licence statement is the book's use_licence (SciELO states it per book)"],
        "description": "Resumo. " * 60,
    }


def _summary(n: int) -> dict[str, Any]:
    fresh = n % 3
    return {
        "fingerprint": f"{n:064x}",
        "url": f"https://books.scielo.org/id/b{n}/pdf/almeida-{n}-01.pdf",
        "ocr": {
            "decisions": {"born-digital": 1, "fresh-ocr": fresh, "kept-layer": 2 - fresh},
            "access_format": "PDF/A-2b",
            "languages": ["por"],
            "pages": 3,
        },
        "receipt": {"key": f"aip/{n}/v1/deposit-receipt.json", "version_id": "6711afed13f8"},
        "copies": {"verified": ["t1", "t2"], "missing": [], "required": 2},
    }


def _state(n: int, rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for state, share in STATES:
        total += share
        if roll < total:
            return state
    return "deposited"


def build(engine: Engine, items: int, seed: int = 7) -> dict[str, int]:
    """Fill the (migrated, empty) catalogue; returns the row counts."""
    rng = random.Random(seed)
    counts = dict.fromkeys(("items", "versions", "files", "events", "copies", "objects"), 0)
    detail = "x" * 115
    outcome_detail = {"size": 1_080_000, "sha256": "a" * 64, "note": "y" * 200}
    with engine.begin() as conn:
        for lo in range(0, items, BATCH):
            rows: dict[str, list[dict[str, Any]]] = {
                "items": [],
                "versions": [],
                "files": [],
                "events": [],
                "copies": [],
                "objects": [],
            }
            for n in range(lo, min(items, lo + BATCH)):
                article = n % 5 < 3
                if article:
                    coll = COLLECTIONS[n % len(COLLECTIONS)]
                    rid, source, kind = (
                        f"scielo-{coll}-s{n:017d}",
                        f"scielo-article:{coll}/S{n:017d}",
                        "scielo-article",
                    )
                else:
                    rid, source, kind = (
                        f"scielo-books-b{n}-01",
                        f"scielo-books:b{n}/01",
                        "scielo-books-chapter",
                    )
                state = _state(n, rng)
                at = T0 + dt.timedelta(seconds=n * 30)
                versions = 2 if n % 20 == 0 else 1
                stored = state in ("deposited", "under_replicated")
                rows["items"].append(
                    {
                        "id": rid,
                        "source": source,
                        "source_kind": kind,
                        "state": state,
                        "reasons": ["licence: sources disagree"] if state == "needs_review" else [],
                        "title": f"Capítulo {n}",
                        "licence_uri": "https://creativecommons.org/licenses/by/4.0/",
                        "licence_outcome": "needs_review" if state == "needs_review" else "valid",
                        "current_version": versions,
                        "deposited_version": versions if stored else None,
                        "created_at": at,
                        "updated_at": at + dt.timedelta(seconds=20),
                    }
                )
                for v in range(1, versions + 1):
                    vstate = state if v == versions else "deposited"
                    rows["versions"].append(
                        {
                            "item_id": rid,
                            "version": v,
                            "state": vstate,
                            "reasons": [],
                            "original_sha256": f"{n:064x}",
                            "record": _record(rid, n),
                            "summary": _summary(n),
                            "work_dir": f"/srv/archive/work/{rid}/v{v}",
                            "created_at": at,
                            "updated_at": at + dt.timedelta(seconds=20),
                        }
                    )
                    for role, many, size in FILES:
                        for k in range(many):
                            rows["files"].append(
                                {
                                    "item_id": rid,
                                    "version": v,
                                    "role": role,
                                    "path": f"{role}/{k}",
                                    "size": size + n % 1000,
                                    "sha256": "c" * 64,
                                    "sha512": "d" * 128,
                                    "media_type": "application/pdf",
                                }
                            )
                    for event_type in EVENTS:
                        rows["events"].append(
                            {
                                "item_id": rid,
                                "version": v,
                                "event_type": event_type,
                                "datetime": at,
                                "agent": "archive-ingest 0.1.0",
                                "agent_type": "software",
                                "outcome": "success",
                                "detail": detail,
                                "outcome_detail": outcome_detail,
                                "object_roles": ["original"],
                            }
                        )
                    if not (stored or vstate == "deposited"):
                        continue
                    for target in ("t1", "t2"):
                        if state == "under_replicated" and target == "t2" and v == versions:
                            continue
                        total = 0
                        for k in range(OBJECTS_PER_COPY):
                            size = 2_353_849 // OBJECTS_PER_COPY + k
                            total += size
                            finding = rng.random() < 0.001
                            rows["objects"].append(
                                {
                                    "item_id": rid,
                                    "version": v,
                                    "target": target,
                                    "path": f"data/{k}",
                                    "key": f"aip/{rid}/v{v}/data/{k}",
                                    "version_id": "6711afed13f8ed0fec9bd5bfc878aada",
                                    "size": size,
                                    "sha256": "a" * 64,
                                    "sha512": "b" * 128,
                                    "last_checked_at": at,
                                    "last_hashed_at": at,
                                    "last_status": rng.choice(FINDINGS) if finding else "ok",
                                }
                            )
                        rows["copies"].append(
                            {
                                "item_id": rid,
                                "version": v,
                                "target": target,
                                "status": "verified",
                                "bag_uri": f"s3://archive/aip/{rid}/v{v}/",
                                "receipt_key": f"aip/{rid}/v{v}/deposit-receipt.json",
                                "detail": "",
                                "deposited_at": at,
                                "updated_at": at,
                                "objects": OBJECTS_PER_COPY,
                                "bytes": total,
                            }
                        )
            for table, key in (
                (Item, "items"),
                (Version, "versions"),
                (File, "files"),
                (EventRow, "events"),
                (Copy, "copies"),
                (StoredObjectRow, "objects"),
            ):
                if rows[key]:
                    conn.execute(insert(table), rows[key])
                counts[key] += len(rows[key])
            print(f"  {min(items, lo + BATCH)}/{items} items", file=sys.stderr, flush=True)
        year = [T0 + dt.timedelta(days=d) for d in range(365)]
        runs = [
            {"job": job, "started_at": at, "finished_at": at, "outcome": "success", "summary": {}}
            for at in year
            for job in ("audit", "replicate")
        ]
        conn.execute(insert(JobRun), runs)
        conn.execute(
            insert(HarvestRun),
            [
                {
                    "source": "scielo-books",
                    "started_at": at,
                    "finished_at": at,
                    "status": "completed",
                    "counts": {},
                    "problems": [],
                }
                for at in year
            ],
        )
        versions = counts["versions"]
        conn.execute(
            insert(Counter),
            [
                {"name": "ocr_runs", "label": "", "value": versions},
                {"name": "ocr_pages", "label": "born-digital", "value": versions},
                {"name": "ocr_pages", "label": "fresh-ocr", "value": versions},
                {"name": "ocr_pages", "label": "kept-layer", "value": versions},
            ],
        )
        conn.execute(
            insert(StageDuration),
            [
                {"stage": stage, "le": repr(le), "runs": items // 16, "seconds": items * le / 32}
                for stage in STAGES
                for le in STAGE_BUCKETS
            ],
        )
    # PostgreSQL: VACUUM as autovacuum does after inserts, so that index-only scans need no
    # heap visit (right after the bulk load, before any vacuum, a read took ~0.5 s)
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(statement))
    return counts


# --- the measuring child ---------------------------------------------------------------------
def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM): ru_maxrss would include the parent's size at fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def profile(url: str, repeat: int) -> dict[str, float]:
    """Median seconds of each query group of ``archive_figures`` (figures.py's helpers)."""
    catalogue = Catalogue.open(url)
    figures = ArchiveFigures(generated_at=dt.datetime.now(dt.UTC))
    groups = {
        name: getattr(figures_module, f"_{name}")
        for name in ("items", "copies", "fetched_and_ocr", "findings", "jobs", "stages")
    }
    times: dict[str, list[float]] = {name: [] for name in groups}
    for _ in range(repeat + 1):  # the first is the warm-up
        for name, helper in groups.items():
            with catalogue.session() as session:
                t0 = time.perf_counter()
                helper(session, figures)
                times[name].append(time.perf_counter() - t0)
    catalogue.close()
    return {name: round(statistics.median(t[1:]), 4) for name, t in times.items()}


def measure(url: str, repeat: int) -> dict[str, Any]:
    """In this (fresh) process: the figures alone, whole scrapes over HTTP, peak memory."""
    home = tempfile.mkdtemp(prefix="bench-metrics-home-")
    app = create_app(Settings(home=Path(home), database_url=url))  # every import done
    rss_before = _peak_rss_kib()
    catalogue = Catalogue.open(url)
    archive_figures(catalogue)  # warm-up: connection, statement caches, page cache
    reads = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        figures = archive_figures(catalogue)
        reads.append(time.perf_counter() - t0)
    catalogue.close()
    scrapes = []
    with serving(app) as base, httpx.Client(timeout=60) as client:
        client.get(f"{base}/metrics").raise_for_status()  # opens the catalogue
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(f"{base}/metrics")
            scrapes.append(time.perf_counter() - t0)
            response.raise_for_status()
        tracemalloc.start()
        client.get(f"{base}/metrics").raise_for_status()
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    shutil.rmtree(home, ignore_errors=True)
    return {
        "figures_median_s": round(statistics.median(reads), 4),
        "figures_max_s": round(max(reads), 4),
        "scrape_median_s": round(statistics.median(scrapes), 4),
        "scrape_max_s": round(max(scrapes), 4),
        "scrape_bytes": len(response.content),
        "heap_peak_mib": round(heap_peak / 1024**2, 2),
        "rss_before_mib": round(rss_before / 1024, 1),  # the process, imports and app built
        "peak_rss_mib": round(_peak_rss_kib() / 1024, 1),
        "items_by_state": figures.items_by_state,
        "query_groups_median_s": profile(url, repeat),
    }


def _child(url: str, repeat: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", url, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run_backend(backend: str, items: int, repeat: int, keep: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    admin: Engine | None = None
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'catalogue.sqlite3'}"
    else:
        base = os.environ.get(
            "ARCHIVE_INGEST_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        )
        admin = create_engine(normalise_database_url(base))
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options={quote(f'-csearch_path={SCHEMA}')}"
    try:
        Catalogue.open(url).close()  # the schema at the newest migration
        engine = create_engine(normalise_database_url(url))
        t0 = time.perf_counter()
        counts = build(engine, items)
        built = time.perf_counter() - t0
        engine.dispose()
        print(f"{backend}: built {counts} in {built:.0f} s", file=sys.stderr)
        if keep:
            print(f"{backend}: kept at {url}", file=sys.stderr)
        result = _child(url, repeat)
        return {"backend": backend, "rows": counts, "build_s": round(built), **result}
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        if admin is not None:
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--url", help="measure this catalogue as it is (no build)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child's catalogue URL
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return 0
    if args.url:
        print(json.dumps(_child(args.url, args.repeat), indent=2))
        return 0
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = [run_backend(b, args.items, args.repeat, args.keep) for b in backends]
    report = {"machine": machine(), "tree": tree(), "items": args.items, "results": results}
    for r in results:
        print(
            f"{r['backend']:>10}: figures median {r['figures_median_s'] * 1000:.0f} ms "
            f"(max {r['figures_max_s'] * 1000:.0f}), scrape over HTTP median "
            f"{r['scrape_median_s'] * 1000:.0f} ms (max {r['scrape_max_s'] * 1000:.0f}), "
            f"peak RSS {r['peak_rss_mib']} MiB ({r['rss_before_mib']} before the first "
            f"read), heap peak of one scrape {r['heap_peak_mib']} MiB"
        )
    print(machine())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

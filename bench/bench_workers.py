"""Benchmark: two Prefect process workers vs one on one work pool (goal >= 1.7x).

Not a test; prints a table and the ratios, optionally writes JSON. Everything is real and on
127.0.0.1: one ``prefect server`` (SQLite under the temp dir, or ``--prefect-db``), the local
SciELO Books server with one generated book per phase (``--chapters`` chapters of
``--scanned-pages`` scanned pages each, same seed, so every phase gets the same kind of work
on NEW items), and per phase a fresh ARCHIVE_INGEST_HOME with its own embedded SeaweedFS and a
fresh schema of the PostgreSQL catalogue (``--database-url``; SQLite with two workers is not
the scale-out configuration). Schemas are dropped and the temp dir removed unless ``--keep``.

A phase = (config, number of workers). For each phase: ``prefect work-pool create P --type
process``; ``python -m flows.deployments deploy --pool P --only ingest-item``; N x ``prefect
worker start --pool P --type process --limit 1`` (started first and waited on until
``/work_pools/P/workers/filter`` lists them all; start-up is NOT timed); ``--warmup`` untimed
runs (one warm-up item, so cold caches do not land on the one-worker phase); then one
``create_flow_run`` per chapter through the REST API. Timed: from just before the first
create_flow_run to the latest ``end_time`` the server records for the batch's runs. Checked:
every run COMPLETED, every item ``deposited`` in the catalogue with exactly one version, one
capture event and one successful, non-reused replication (deposit) event, and one deposit
receipt per item in the bucket. Throughput = items / minute; ratio = 2 workers / 1 worker.

Two configurations (``--config default|parallel|both``, default both):

* ``default``: the shipped settings, ``ocr_max_concurrent`` = 1 (one OCR slot per machine,
  lock files under HOME/locks) and ``ocr_jobs`` = 2. Two workers on one machine share the one
  OCR slot, so their OCR stages run one after the other; only the other stages overlap.
* ``parallel``: ``ARCHIVE_INGEST_OCR_MAX_CONCURRENT=2``, ``ARCHIVE_INGEST_OCR_JOBS=1``: each
  worker's run may OCR at the same time, each with one Tesseract job.

OCR is CPU-bound. On a machine with C cores the ceiling of the ratio is about C / (cores one
worker already keeps busy), not the number of workers: on the 2-core machine two workers can
at best use both cores, and a single worker that already keeps both busy (``ocr_jobs`` = 2 on
a multi-page scan) leaves little to gain. The script records the core count and load
(``harness.machine()``) and the machine-wide CPU busy share during each timed batch.

Workers poll every ``--query-seconds`` (PREFECT_WORKER_QUERY_SECONDS, default 2 s as in
tests/test_prefect_scale.py; Prefect's default of 10 s adds up to 10 s idle per run).

    .venv/bin/python bench/bench_workers.py [--chapters 8] [--scanned-pages 1]
        [--config both] [--database-url postgresql://...] [--prefect-db postgresql+asyncpg://...]
        [--json out.json] [--keep]

Helpers beyond bench/harness.py, written here: one SciELO sample server with several books
(``harness.sample_source`` serves one book), the per-phase PostgreSQL schema, and the worker
/ flow-run REST calls.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from harness import REPO, bench_env, embedded_storage, machine, prefect_server, stop_process
from sqlalchemy import create_engine, text
from tests.support.prefect_server import start_process_worker
from tests.support.samples import add_generated_book

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import normalise_database_url
from archive_ingest.storage.s3 import make_client
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer

GOAL = 1.7
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
CONFIGS: dict[str, dict[str, str]] = {
    "default": {},
    "parallel": {"ARCHIVE_INGEST_OCR_MAX_CONCURRENT": "2", "ARCHIVE_INGEST_OCR_JOBS": "1"},
}
DEFAULT_DB = os.environ.get(
    "ARCHIVE_INGEST_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SUBMITTING = re.compile(r"submitting flow run '([0-9a-f-]{36})'")
ABORTED = re.compile(r"Aborted submission of flow run '([0-9a-f-]{36})'")


class BenchError(RuntimeError):
    pass


@dataclass
class Phase:
    config: str
    workers: int
    items: int
    seconds: float = 0.0  # first create_flow_run -> last end_time (server timestamps)
    observed_seconds: float = 0.0  # same, until this script saw the last final state
    items_per_minute: float = 0.0
    mean_run_seconds: float = 0.0  # Prefect's total_run_time per flow run
    mean_wait_seconds: float = 0.0  # created -> started, per flow run
    cpu_busy_percent: float = 0.0  # whole machine, all cores, during the timed batch
    load_before: float = 0.0
    runs_per_worker: dict[str, int] = field(default_factory=dict)


# --- small helpers ------------------------------------------------------------------------------


def api_call(api: str, method: str, path: str, attempts: int = 6, **kw: Any) -> Any:
    """A REST call; 503 (Prefect on SQLite answers it while its database is busy) is retried."""
    for attempt in range(attempts):
        response = httpx.request(method, f"{api}{path}", timeout=30, **kw)
        if response.status_code != 503 or attempt == attempts - 1:
            break
        time.sleep(0.5 * 2**attempt)
    response.raise_for_status()
    return response.json() if response.content else None


def run_cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@contextlib.contextmanager
def sample_books(
    workdir: Path, books: dict[str, int], *, scanned_pages: int, seed: int
) -> Iterator[tuple[SampleScieloServer, dict[str, list[str]]]]:
    """One local SciELO Books server with a generated book per sbid; yields (server, refs)."""
    workdir.mkdir(parents=True, exist_ok=True)
    catalogue = SampleCatalogue()
    refs = {
        sbid: add_generated_book(
            catalogue, sbid, chapters, workdir, seed=seed, scanned_pages=scanned_pages
        )
        for sbid, chapters in books.items()
    }
    with SampleScieloServer(catalogue) as server:
        yield server, refs


class Schemas:
    """Fresh PostgreSQL schemas for the catalogue, dropped on close unless kept."""

    def __init__(self, url: str, keep: bool) -> None:
        self.url = url
        self.keep = keep
        self.engine = create_engine(normalise_database_url(url))
        self.made: list[str] = []

    def new(self, tag: str) -> str:
        """Create a schema; returns the catalogue URL whose search_path is that schema."""
        schema = f"bench_workers_{tag}_{uuid.uuid4().hex[:8]}"
        with self.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.made.append(schema)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}options={quote(f'-csearch_path={schema}')}"

    def close(self) -> None:
        try:
            if not self.keep:
                with self.engine.begin() as conn:
                    for schema in self.made:
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            self.engine.dispose()


# --- one phase ----------------------------------------------------------------------------------


def start_worker(env: dict[str, str], pool: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    return start_process_worker(pool, name, env=env, log_path=log, cwd=REPO)


def check_workers(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    for proc, log in zip(procs, logs, strict=True):
        if proc.poll() is not None:
            raise BenchError(f"worker exited ({proc.returncode}): {log.read_text()[-3000:]}")


def wait_online(
    api: str, pool: str, names: list[str], procs: list[subprocess.Popen[bytes]], logs: list[Path]
) -> None:
    """Until the server lists every worker of the pool (each has polled at least once)."""
    deadline = time.monotonic() + 180
    while True:
        check_workers(procs, logs)
        listed = api_call(api, "POST", f"/work_pools/{pool}/workers/filter", json={})
        online = {w["name"] for w in listed if w.get("status", "ONLINE") == "ONLINE"}
        if set(names) <= online:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"workers not online within 180 s: {sorted(online)} of {names}")
        time.sleep(0.5)


def run_batch(
    api: str,
    deployment: str,
    refs: list[str],
    procs: list[subprocess.Popen[bytes]],
    logs: list[Path],
    timeout: float,
) -> tuple[dt.datetime, float, list[dict[str, Any]]]:
    """Create one flow run per REF, wait for all to end; (t0, observed seconds, runs)."""
    t0 = dt.datetime.now(dt.UTC)
    start = time.monotonic()
    run_ids = [
        api_call(
            api,
            "POST",
            f"/deployments/{deployment}/create_flow_run",
            json={"parameters": {"ref": ref}},
        )["id"]
        for ref in refs
    ]
    while True:
        runs = api_call(
            api,
            "POST",
            "/flow_runs/filter",
            json={"flow_runs": {"id": {"any_": run_ids}}, "limit": len(run_ids)},
        )
        if len(runs) == len(run_ids) and all(r["state"]["type"] in FINAL for r in runs):
            observed = time.monotonic() - start
            break
        check_workers(procs, logs)
        if time.monotonic() - start > timeout:
            states = {r["id"]: r["state"]["type"] for r in runs}
            raise BenchError(f"runs not finished within {timeout:.0f} s: {states}")
        time.sleep(1)
    bad = {r["id"]: (r["state"]["type"], r["state"].get("message")) for r in runs}
    bad = {k: v for k, v in bad.items() if v[0] != "COMPLETED"}
    if bad:
        raise BenchError(f"flow runs not COMPLETED: {bad}")
    return t0, observed, runs


def record_id(ref: str) -> str:
    return "scielo-books-" + ref.split(":", 1)[1].replace("/", "-")


def verify(catalogue_url: str, storage_settings: Any, refs: list[str], expected: int) -> None:
    """Every REF deposited exactly once (catalogue), one receipt per item (bucket)."""
    catalogue = Catalogue.open(normalise_database_url(catalogue_url))
    try:
        counts = catalogue.count_by_state()
        if counts != {"deposited": expected}:
            raise BenchError(f"catalogue states {counts}, expected {{'deposited': {expected}}}")
        for ref in refs:
            rid = record_id(ref)
            item = catalogue.get_item(rid)
            if item is None or item.state != "deposited" or not item.bag_uri:
                raise BenchError(f"{rid} not deposited: {item and item.state}")
            versions = [v.version for v in catalogue.versions(rid)]
            events = catalogue.events(rid)
            captures = sum(e.event_type == "capture" for e in events)
            deposits = [
                e
                for e in events
                if e.event_type == "replication"
                and e.outcome == "success"
                and not e.outcome_detail.get("reused")
            ]
            if versions != [1] or captures != 1 or len(deposits) != 1:
                raise BenchError(
                    f"{rid}: versions {versions}, {captures} capture and {len(deposits)}"
                    " deposit events (expected [1], 1, 1)"
                )
    finally:
        catalogue.close()
    client = make_client(storage_settings, role="admin")
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=storage_settings.s3_bucket, Prefix=storage_settings.s3_prefix
    ):
        keys += [o["Key"] for o in page.get("Contents", []) if "receipt" in o["Key"]]
    for ref in refs:
        mine = [k for k in keys if f"/{record_id(ref)}/" in k]
        if len(mine) != 1:
            raise BenchError(f"{record_id(ref)}: {len(mine)} deposit receipts in the bucket")


def run_phase(
    args: argparse.Namespace,
    *,
    base: Path,
    api: str,
    server: SampleScieloServer,
    schemas: Schemas,
    config: str,
    workers: int,
    refs: list[str],
    warmup_refs: list[str],
) -> Phase:
    tag = f"{config}{workers}"
    phase_dir = base / tag
    phase = Phase(config=config, workers=workers, items=len(refs))
    catalogue_url = schemas.new(tag)
    Catalogue.open(normalise_database_url(catalogue_url)).close()  # create tables, untimed
    print(f"[{tag}] starting storage, pool, {workers} worker(s)...", flush=True)
    with embedded_storage(phase_dir / "home") as storage:
        env = bench_env(
            storage=storage,
            server=server,
            api_url=api,
            prefect_home=phase_dir / "prefect-client",
            database_url=catalogue_url,
        )
        env.update(CONFIGS[config])
        env["PREFECT_WORKER_QUERY_SECONDS"] = str(args.query_seconds)
        env["PREFECT_LOGGING_LEVEL"] = "INFO"  # the workers' "submitting flow run" lines
        pool = f"bench-workers-{tag}-{uuid.uuid4().hex[:6]}"
        py = sys.executable
        run_cli(env, py, "-m", "prefect", "work-pool", "create", pool, "--type", "process")
        out = run_cli(
            env, py, "-m", "flows.deployments", "deploy", "--pool", pool, "--only", "ingest-item"
        )
        deployment = out.split()[-1]
        names = [f"w{i}" for i in range(1, workers + 1)]
        logs = [phase_dir / f"worker-{name}.log" for name in names]
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for name, log in zip(names, logs, strict=True):
                procs.append(start_worker(env, pool, name, log))
            wait_online(api, pool, names, procs, logs)
            if warmup_refs:
                print(f"[{tag}] warm-up: {len(warmup_refs)} item(s), untimed", flush=True)
                run_batch(api, deployment, warmup_refs, procs, logs, args.timeout)
            print(f"[{tag}] timed batch: {len(refs)} item(s)", flush=True)
            phase.load_before = os.getloadavg()[0]
            busy0, total0 = cpu_times()
            t0, observed, runs = run_batch(api, deployment, refs, procs, logs, args.timeout)
            busy1, total1 = cpu_times()
        finally:
            for proc in procs:
                stop_process(proc)
        last_end = max(parse_time(r["end_time"]) for r in runs)
        phase.seconds = (last_end - t0).total_seconds()
        phase.observed_seconds = observed
        phase.items_per_minute = 60 * len(refs) / phase.seconds
        phase.mean_run_seconds = statistics.fmean(float(r["total_run_time"]) for r in runs)
        phase.mean_wait_seconds = statistics.fmean(
            (parse_time(r["start_time"]) - parse_time(r["created"])).total_seconds() for r in runs
        )
        phase.cpu_busy_percent = 100 * (busy1 - busy0) / max(1, total1 - total0)
        ids = {r["id"] for r in runs}
        for name, log in zip(names, logs, strict=True):
            logged = log.read_text()
            taken = set(SUBMITTING.findall(logged)) - set(ABORTED.findall(logged))
            phase.runs_per_worker[name] = len(taken & ids)
        verify(catalogue_url, storage.local.settings, refs, len(refs) + len(warmup_refs))
    print(
        f"[{tag}] {phase.seconds:.1f} s, {phase.items_per_minute:.2f} items/min, "
        f"runs per worker {phase.runs_per_worker}",
        flush=True,
    )
    return phase


# --- main ---------------------------------------------------------------------------------------


def report(phases: list[Phase], ratios: dict[str, float | None]) -> str:
    head = (
        f"{'config':<9} {'workers':>7} {'items':>5} {'seconds':>8} {'items/min':>9} "
        f"{'run s':>6} {'wait s':>6} {'cpu %':>6} {'load':>5}  runs per worker"
    )
    lines = [head, "-" * len(head)]
    for p in phases:
        lines.append(
            f"{p.config:<9} {p.workers:>7} {p.items:>5} {p.seconds:>8.1f} "
            f"{p.items_per_minute:>9.2f} {p.mean_run_seconds:>6.1f} {p.mean_wait_seconds:>6.1f} "
            f"{p.cpu_busy_percent:>6.0f} {p.load_before:>5.2f}  "
            + ", ".join(f"{k}: {v}" for k, v in p.runs_per_worker.items())
        )
    lines.append("")
    cores = os.cpu_count() or 1
    for config, ratio in ratios.items():
        if ratio is None:
            continue
        verdict = "met" if ratio >= GOAL else "missed"
        lines.append(
            f"ratio 2 workers / 1 worker, {config}: {ratio:.2f} (goal >= {GOAL}: {verdict})"
        )
        if ratio > cores:
            lines.append(
                f"  (above the {cores} cores: the machine's load changed between the phases;"
                " measure on an otherwise idle machine)"
            )
    lines.append(
        f"OCR is CPU-bound: on this {cores}-core machine the ceiling is the core count, not the"
        " worker count; 'default' shares one OCR slot per machine (ocr_max_concurrent=1),"
        " 'parallel' lets both runs OCR at once with one Tesseract job each (ocr_jobs=1)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--chapters", type=int, default=8, help="items per phase (default 8)")
    parser.add_argument("--scanned-pages", type=int, default=1, help="scanned pages per chapter")
    parser.add_argument("--config", choices=["default", "parallel", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_DB, help="PostgreSQL catalogue")
    parser.add_argument("--prefect-db", default=None, help="postgresql+asyncpg://... for Prefect")
    parser.add_argument("--warmup", type=int, default=1, help="untimed items per phase first")
    parser.add_argument("--query-seconds", type=float, default=2.0, help="worker poll interval")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep temp dir and schemas")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgresql", "postgres:")):
        parser.error("--database-url must be PostgreSQL (the scale-out configuration)")

    configs = ["default", "parallel"] if args.config == "both" else [args.config]
    plan = [(config, workers) for config in configs for workers in (1, 2)]
    books: dict[str, int] = {}
    for config, workers in plan:
        books[f"bw{config[0]}{workers}"] = args.chapters
        if args.warmup:
            books[f"bw{config[0]}{workers}w"] = args.warmup
    where = machine()
    print(f"machine: {where}", flush=True)
    base = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    schemas = Schemas(args.database_url, args.keep)
    phases: list[Phase] = []
    try:
        source = sample_books(base / "src", books, scanned_pages=args.scanned_pages, seed=args.seed)
        prefect = prefect_server(base / "prefect", database_url=args.prefect_db)
        with source as (server, refs), prefect as api:
            for config, workers in plan:
                sbid = f"bw{config[0]}{workers}"
                phases.append(
                    run_phase(
                        args,
                        base=base,
                        api=api,
                        server=server,
                        schemas=schemas,
                        config=config,
                        workers=workers,
                        refs=refs[sbid],
                        warmup_refs=refs.get(f"{sbid}w", []),
                    )
                )
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        schemas.close()
        if args.keep:
            print(f"kept {base} and schemas {schemas.made}")
        else:
            shutil.rmtree(base, ignore_errors=True)

    by = {(p.config, p.workers): p for p in phases}
    ratios: dict[str, float | None] = {
        config: by[(config, 2)].items_per_minute / by[(config, 1)].items_per_minute
        for config in configs
    }
    print()
    print(f"Two workers vs one, {args.chapters} chapters x {args.scanned_pages} scanned page(s)")
    print(f"machine: {where}")
    print(report(phases, ratios))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "bench_workers",
                    "machine": where,
                    "date": dt.date.today().isoformat(),
                    "cores": os.cpu_count(),
                    "chapters": args.chapters,
                    "scanned_pages": args.scanned_pages,
                    "warmup": args.warmup,
                    "query_seconds": args.query_seconds,
                    "prefect_db": "postgresql" if args.prefect_db else "sqlite",
                    "goal": GOAL,
                    "phases": [asdict(p) for p in phases],
                    "ratios": ratios,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

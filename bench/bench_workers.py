"""Benchmark: two Prefect process workers vs one on one work pool (goal >= 1.8x).

Not a test; prints a table and the ratios, optionally writes JSON. Everything is real and on
127.0.0.1: one ``prefect server`` on PostgreSQL (by default a database of its own,
``bench_prefect_<hex>``, created on the catalogue's PostgreSQL server and dropped afterwards;
``--prefect-db sqlite`` for Prefect's SQLite, or a ``postgresql+asyncpg://`` URL), the local
SciELO Books server with one generated book per phase (``--chapters`` chapters of
``--scanned-pages`` scanned pages each, same seed, so every phase gets the same kind of work
on NEW items), and per phase a fresh ARCHIVE_INGEST_HOME with the embedded storage as the
product keeps it by default (``embedded_copies`` = 2 SeaweedFS servers, ``harness.
embedded_targets``) and a fresh schema of the PostgreSQL catalogue (``--database-url``; SQLite
with two workers is not the scale-out configuration). Schemas and the Prefect database are
dropped and the temp dir removed unless ``--keep``.

Cost per item, for the scale-out projection (docs/PERFORMANCE.md), per timed batch:

* Prefect API round trips: the server runs with ``PREFECT_SERVER_LOGGING_LEVEL=INFO``, which
  logs one uvicorn access line per HTTP request; the lines written during the batch are
  counted, by path, and those naming a flow run's id are counted per flow run (the rest:
  worker polls and heartbeats, task runs, logs, deployments). Events go over one websocket per
  process and are not counted as round trips.
* Server-side cost: CPU seconds of the Prefect server process; transactions and rows of its
  PostgreSQL database (``pg_stat_database``); rows written to the catalogue schema
  (``pg_stat_user_tables``); CPU of every ``postgres`` process on the machine (all databases).
* CPU seconds of each worker process and its reaped children (flow-run processes, OCR
  children) from ``/proc``; CPU of the storage servers.
* Storage bytes per item: the objects under each item's prefix on every target.

A phase = (config, number of workers). For each phase: ``prefect work-pool create P --type
process``; ``python -m flows.deployments deploy --pool P --only ingest-item``; N x ``prefect
worker start --pool P --type process --limit 1`` (started first and waited on until
``/work_pools/P/workers/filter`` lists them all; start-up is NOT timed); ``--warmup`` untimed
runs (one warm-up item, so cold caches do not land on the one-worker phase); then one
``create_flow_run`` per chapter through the REST API. Timed: from just before the first
create_flow_run to the latest ``end_time`` the server records for the batch's runs. Checked:
every run COMPLETED, every item ``deposited`` in the catalogue with exactly one version, one
capture event and one successful, non-reused replication (deposit) event per target, and one
deposit receipt per item on each target. Throughput = items / minute; ratio = 2 workers / 1
worker.

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
from harness import (
    REPO,
    Targets,
    bench_env,
    embedded_targets,
    find_pid,
    machine,
    prefect_server,
    proc_cpu,
    stop_process,
    tree,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.support.prefect_server import start_process_worker
from tests.support.samples import add_generated_book

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import normalise_database_url
from archive_ingest.storage.s3 import make_client
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer

GOAL = 1.8
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
ACCESS = re.compile(r'"([A-Z]+) (/api/[^ ?"]*)[^"]*" (\d{3})')
RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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
    cost: dict[str, Any] = field(default_factory=dict)  # per item, see the module doc


# --- small helpers ------------------------------------------------------------------------------


#: this script's own requests to the Prefect API, "METHOD /api/path" -> count (so that the
#: server's access log can be counted without them)
OWN_CALLS: dict[str, int] = {}


def api_call(api: str, method: str, path: str, attempts: int = 6, **kw: Any) -> Any:
    """A REST call; 503 (Prefect on SQLite answers it while its database is busy) is retried."""
    for attempt in range(attempts):
        key = f"{method} /api{RUN_ID.sub('{id}', path)}"
        OWN_CALLS[key] = OWN_CALLS.get(key, 0) + 1
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


class PrefectDatabase:
    """A PostgreSQL database of its own for the Prefect server, on the catalogue's server."""

    def __init__(self, catalogue_url: str, keep: bool) -> None:
        url = make_url(normalise_database_url(catalogue_url))
        self.name = f"bench_prefect_{uuid.uuid4().hex[:8]}"
        self.keep = keep
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.url = url.set(drivername="postgresql+asyncpg", database=self.name).render_as_string(
            hide_password=False
        )
        self.sync_url = url.set(database=self.name)
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))

    def stats(self) -> dict[str, int]:
        """pg_stat_database counters of this database (cumulative)."""
        with self.admin.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted,"
                    " tup_fetched, blks_hit + blks_read FROM pg_stat_database WHERE datname = :d"
                ),
                {"d": self.name},
            ).one()
        keys = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted")
        return dict(zip((*keys, "tup_fetched", "blocks"), (int(v) for v in row), strict=True))

    def close(self) -> None:
        try:
            if not self.keep:
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            self.admin.dispose()


def schema_writes(engine: Any, schema: str) -> int:
    """Rows inserted, updated and deleted in a catalogue schema so far (pg_stat_user_tables)."""
    with engine.connect() as conn:
        value = conn.execute(
            text(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
                " FROM pg_stat_user_tables WHERE schemaname = :s"
            ),
            {"s": schema},
        ).scalar_one()
    return int(value)


def postgres_cpu() -> float:
    """CPU seconds of every ``postgres`` process on the machine (all databases, all users)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += proc_cpu(int(entry.name))
    return total


def wait_reaped(pids: list[int], timeout: float = 15) -> None:
    """Until none of ``pids`` has a child left (its flow-run processes reaped, so their CPU
    is in the worker's cutime)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for pid in pids:
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    if (task / "children").read_text().strip():
                        busy = True
        if not busy:
            return
        time.sleep(0.2)


def api_requests(log: Path, start: int, end: int, run_ids: set[str]) -> dict[str, Any]:
    """The access lines the Prefect server logged between two offsets of its log."""
    with log.open("rb") as fh:
        fh.seek(start)
        lines = fh.read(end - start).decode(errors="replace").splitlines()
    by_path: dict[str, int] = {}
    per_run = dict.fromkeys(run_ids, 0)
    total = 0
    for line in lines:
        match = ACCESS.search(line)
        if not match:
            continue
        total += 1
        method, path = match.group(1), match.group(2)
        ids = RUN_ID.findall(path)
        key = f"{method} {RUN_ID.sub('{id}', path)}"
        by_path[key] = by_path.get(key, 0) + 1
        for found in ids:
            if found in per_run:
                per_run[found] += 1
    return {"total": total, "per_run": per_run, "by_path": by_path}


def storage_bytes(targets: Targets, refs: list[str]) -> dict[str, int]:
    """Bytes stored under the items' prefixes, per target."""
    out: dict[str, int] = {}
    wanted = {record_id(ref) for ref in refs}
    for view in targets.views:
        client = make_client(view, role="admin")
        size = 0
        for page in client.get_paginator("list_object_versions").paginate(
            Bucket=view.s3_bucket, Prefix=view.s3_prefix
        ):
            for version in page.get("Versions", []):
                parts = version["Key"].split("/")
                if len(parts) > 1 and parts[1] in wanted:
                    size += int(version["Size"])
        out[view.storage_target_name] = size
    return out


def meter_sample(
    workers: list[int], server_pid: int | None, storages: list[int]
) -> dict[str, float]:
    return {
        "workers_cpu_s": sum(proc_cpu(pid) for pid in workers),
        "prefect_server_cpu_s": proc_cpu(server_pid, children=False) if server_pid else 0.0,
        "prefect_server_children_cpu_s": proc_cpu(server_pid) - proc_cpu(server_pid, children=False)
        if server_pid
        else 0.0,
        "storage_cpu_s": sum(proc_cpu(pid) for pid in storages),
        "postgres_cpu_s": postgres_cpu(),
    }


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


def verify(catalogue_url: str, targets: Targets, refs: list[str], expected: int) -> None:
    """Every REF deposited exactly once (catalogue), one receipt per item on every target."""
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
            copies = len(targets.views)  # one replication (deposit) event per target
            if versions != [1] or captures != 1 or len(deposits) != copies:
                raise BenchError(
                    f"{rid}: versions {versions}, {captures} capture and {len(deposits)}"
                    f" deposit events (expected [1], 1, {copies})"
                )
    finally:
        catalogue.close()
    for view in targets.views:
        client = make_client(view, role="admin")
        keys: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=view.s3_bucket, Prefix=view.s3_prefix
        ):
            keys += [o["Key"] for o in page.get("Contents", []) if "receipt" in o["Key"]]
        for ref in refs:
            mine = [k for k in keys if f"/{record_id(ref)}/" in k]
            if len(mine) != 1:
                raise BenchError(
                    f"{record_id(ref)}: {len(mine)} deposit receipts on {view.storage_target_name}"
                )


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
    prefect_db: PrefectDatabase | None,
    server_log: Path,
    server_pid: int | None,
) -> Phase:
    tag = f"{config}{workers}"
    phase_dir = base / tag
    phase = Phase(config=config, workers=workers, items=len(refs))
    catalogue_url = schemas.new(tag)
    Catalogue.open(normalise_database_url(catalogue_url)).close()  # create tables, untimed
    print(f"[{tag}] starting storage, pool, {workers} worker(s)...", flush=True)
    with embedded_targets(phase_dir / "home") as storage:
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
            worker_pids = [proc.pid for proc in procs]
            storage_pids = [json.loads(s.pid_file.read_text())["pid"] for s in storage.storages]
            wait_reaped(worker_pids)
            phase.load_before = os.getloadavg()[0]
            meter0, m0 = meter_sample(worker_pids, server_pid, storage_pids), time.monotonic()
            db0 = prefect_db.stats() if prefect_db else {}
            rows0 = schema_writes(schemas.engine, schemas.made[-1])
            log0 = server_log.stat().st_size
            own0 = dict(OWN_CALLS)
            busy0, total0 = cpu_times()
            t0, observed, runs = run_batch(api, deployment, refs, procs, logs, args.timeout)
            busy1, total1 = cpu_times()
            wait_reaped(worker_pids)
            meter1, m1 = meter_sample(worker_pids, server_pid, storage_pids), time.monotonic()
            db1 = prefect_db.stats() if prefect_db else {}
            rows1 = schema_writes(schemas.engine, schemas.made[-1])
            time.sleep(1)  # the access lines of the last requests
            log1 = server_log.stat().st_size
            own = {k: v - own0.get(k, 0) for k, v in OWN_CALLS.items() if v - own0.get(k, 0)}
            # the servers' cost per second afterwards, the workers only polling: what the
            # batch would have cost them anyway (measured after it: right after start-up the
            # Prefect server is still busy with the deployment and the workers' registration)
            time.sleep(3)
            idle0, i0 = meter_sample(worker_pids, server_pid, storage_pids), time.monotonic()
            time.sleep(args.idle_seconds)
            idle1, i1 = meter_sample(worker_pids, server_pid, storage_pids), time.monotonic()
            idle_rate = {k: (idle1[k] - idle0[k]) / (i1 - i0) for k in idle0}
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
        verify(catalogue_url, storage, refs, len(refs) + len(warmup_refs))
        phase.cost = item_cost(
            refs,
            runs,
            meter={k: meter1[k] - meter0[k] for k in meter0},
            idle={k: v * (m1 - m0) for k, v in idle_rate.items()},
            db={k: db1[k] - db0[k] for k in db0},
            catalogue_rows=rows1 - rows0,
            requests=api_requests(server_log, log0, log1, ids),
            own=own,
            stored=storage_bytes(storage, refs),
        )
        phase.cost["ocr_report_seconds_per_item"] = ocr_timings(storage.home, refs)
    print(
        f"[{tag}] {phase.seconds:.1f} s, {phase.items_per_minute:.2f} items/min, "
        f"runs per worker {phase.runs_per_worker}",
        flush=True,
    )
    return phase


def ocr_timings(home: Path, refs: list[str]) -> dict[str, float]:
    """Mean seconds per item of each timing in the items' ocr-report.json (the OCR stage's
    own account; absent for items whose work folder is gone)."""
    totals: dict[str, float] = {}
    found = 0
    for ref in refs:
        report = home / "work" / record_id(ref) / "v1" / "bag/data/ocr/ocr-report.json"
        with contextlib.suppress(OSError, ValueError):
            timings = json.loads(report.read_text()).get("timings", {})
            found += 1
            for key, value in timings.items():
                if isinstance(value, (int, float)):
                    totals[key] = totals.get(key, 0.0) + value
    return {k: round(v / found, 3) for k, v in totals.items()} if found else {}


def item_cost(
    refs: list[str],
    runs: list[dict[str, Any]],
    *,
    meter: dict[str, float],
    idle: dict[str, float],
    db: dict[str, int],
    catalogue_rows: int,
    requests: dict[str, Any],
    own: dict[str, int],
    stored: dict[str, int],
) -> dict[str, Any]:
    """The batch's measured costs per item (see the module doc)."""
    n = len(refs)
    by_path = dict(requests["by_path"])
    own_total = 0
    for key, count in own.items():
        if key.endswith("/create_flow_run"):
            continue  # a submitter's call, one per item: counted as the item's
        removed = min(count, by_path.get(key, 0))
        by_path[key] = by_path.get(key, 0) - removed
        own_total += removed
    product = requests["total"] - own_total
    per_run = sorted(requests["per_run"].values())
    return {
        "api_requests_per_item": round(product / n, 1),
        "api_requests_naming_the_run": {
            "min": per_run[0] if per_run else 0,
            "mean": round(statistics.fmean(per_run), 1) if per_run else 0,
            "max": per_run[-1] if per_run else 0,
        },
        "api_requests_by_path": dict(
            sorted(((k, v) for k, v in by_path.items() if v), key=lambda kv: -kv[1])
        ),
        "bench_own_requests_excluded": own_total,
        "worker_cpu_s_per_item": round(meter["workers_cpu_s"] / n, 2),
        "prefect_server_cpu_s_per_item": round(meter["prefect_server_cpu_s"] / n, 3),
        "postgres_cpu_s_per_item_all_databases": round(meter["postgres_cpu_s"] / n, 3),
        # minus what the same process burnt per second while the workers only polled
        "prefect_server_cpu_s_per_item_net_of_idle": round(
            (meter["prefect_server_cpu_s"] - idle["prefect_server_cpu_s"]) / n, 3
        ),
        "postgres_cpu_s_per_item_net_of_idle": round(
            (meter["postgres_cpu_s"] - idle["postgres_cpu_s"]) / n, 3
        ),
        "idle_cpu_s_in_batch": {k: round(v, 3) for k, v in idle.items()},
        "storage_cpu_s_per_item": round(meter["storage_cpu_s"] / n, 3),
        "prefect_db_per_item": {k: round(v / n, 1) for k, v in db.items()},
        "catalogue_rows_written_per_item": round(catalogue_rows / n, 1),
        "stored_bytes_per_item": round(sum(stored.values()) / n),
        "stored_bytes_per_target": stored,
        "run_seconds_mean": round(statistics.fmean(float(r["total_run_time"]) for r in runs), 2),
    }


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
    parser.add_argument(
        "--prefect-db",
        default="postgres",
        help="Prefect's database: postgres (a new database on the catalogue's server, the"
        " default), sqlite, or a postgresql+asyncpg:// URL",
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed items per phase first")
    parser.add_argument("--query-seconds", type=float, default=2.0, help="worker poll interval")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per batch")
    parser.add_argument(
        "--idle-seconds", type=float, default=10, help="servers' idle CPU measured this long"
    )
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
    prefect_db = (
        PrefectDatabase(args.database_url, args.keep) if args.prefect_db == "postgres" else None
    )
    prefect_url = (
        prefect_db.url if prefect_db else None if args.prefect_db == "sqlite" else args.prefect_db
    )
    phases: list[Phase] = []
    try:
        source = sample_books(base / "src", books, scanned_pages=args.scanned_pages, seed=args.seed)
        prefect = prefect_server(
            base / "prefect",
            database_url=prefect_url,
            extra_env={"PREFECT_SERVER_LOGGING_LEVEL": "INFO"},  # one access line per request
        )
        with source as (server, refs), prefect as api:
            port = api.rsplit(":", 1)[1].split("/", 1)[0]
            server_pid = find_pid("prefect", "server", "start", "--port", port)
            print(f"Prefect server: pid {server_pid}, {prefect_url or 'SQLite'}", flush=True)
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
                        prefect_db=prefect_db,
                        server_log=base / "prefect" / "server.log",
                        server_pid=server_pid,
                    )
                )
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        schemas.close()
        if prefect_db:
            prefect_db.close()
        if args.keep:
            kept_db = f" and database {prefect_db.name}" if prefect_db else ""
            print(f"kept {base} and schemas {schemas.made}{kept_db}")
        else:
            shutil.rmtree(base, ignore_errors=True)

    by = {(p.config, p.workers): p for p in phases}
    ratios: dict[str, float | None] = {
        config: by[(config, 2)].items_per_minute / by[(config, 1)].items_per_minute
        for config in configs
    }
    print()
    print(f"Two workers vs one, {args.chapters} chapters x {args.scanned_pages} scanned page(s)")
    print(f"machine: {where}; tree {tree()}")
    print(report(phases, ratios))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "bench_workers",
                    "machine": where,
                    "tree": tree(),
                    "date": dt.date.today().isoformat(),
                    "cores": os.cpu_count(),
                    "chapters": args.chapters,
                    "scanned_pages": args.scanned_pages,
                    "warmup": args.warmup,
                    "query_seconds": args.query_seconds,
                    "prefect_db": "sqlite" if args.prefect_db == "sqlite" else "postgresql",
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

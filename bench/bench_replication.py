"""Copies on several targets: what a second copy costs at deposit, and what auditing costs.

Three figures, each a side-by-side ratio or rate from ONE run, on real SeaweedFS servers that the
bench starts itself (``tests.support.plugins.storage.start_server``: a ``LocalStorage`` on free
127.0.0.1 ports, its own HOME, process and credentials), configured as storage targets ``t1``,
``t2`` exactly as an operator would (``storage_targets`` with one 0600 key file per target):

(a) **deposit to two targets vs one**: one AIP of ``--payload-mib`` (default 100) random bytes
    plus the tag files (a bag written by ``tests.support.plugins.storage.write_bag``, the tests'
    helper), deposited to ``t1`` alone, then to ``t1`` and ``t2`` through the pipeline's
    two-target path (``deposit_copies`` below), alternately, ``--repeat`` times (default 3), a
    fresh record id each time; the medians and their ratio two/one. Goal: <= 1.3.
(b) **fast audit pass**: ``--objects`` (default 10,000) stored objects per target, made by real
    deposits of small bags (payload files + tag files + the signed receipt per AIP) and recorded
    in the catalogue as the pipeline records copies; then the audit's fast tier over each target
    (``audit.target.audit_target`` without re-hash: one listing, each receipt's latest version
    signature-checked, one HEAD per object, 16 in flight), and separately its recording in the
    catalogue (``audit.record.record_target``): objects and S3 requests per second.
(c) **full re-hash vs plain read**: the stored objects of the AIPs from (a) on ``t1``, re-hashed
    as the audit's full tier does per object (``storage.rehash.rehash_object``: GET of the
    recorded version, a reader thread ahead of the hashing, with the digests of the default of
    ``audit_rehash_digests``) against a plain GET of the same versions streamed into nothing;
    ratio of throughputs re-hash/plain, median of ``--repeat`` runs in rotating order after one
    untimed warm-up read. Goal: >= 0.8. Measured beside it for reference: the re-hash with
    the other digest choice, both digests read ahead but hashed in one thread, and the re-hash
    as it was before the read-ahead (``verify.read_back_checks``). ``--only-rehash`` runs (c)
    alone, on one server, with 2 x ``--repeat`` AIPs deposited for it (the AIPs (a) leaves).

Every figure comes with the CPU seconds of this process and of the servers (from /proc), so
a missed goal can be told apart from a busy machine.

Run (on demand, never in the test suite; several minutes, ~1.5 GB of disk under --workdir):

    .venv/bin/python bench/bench_replication.py [--payload-mib 100] [--repeat 3]
        [--objects 10000] [--json out.json] [--workdir DIR] [--keep] [--only-rehash]

Smoke: ``--payload-mib 8 --objects 500 --repeat 1``. Each pass of (c) also reports the 1-minute
load average at its end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import machine
from tests.support.plugins.storage import SeaweedServer, start_server, write_bag
from tests.support.plugins.targets import target_entries

from archive_ingest.catalogue.copies import CopyObject, objects_of_copy, record_copy
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.models import Digests
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy
from archive_ingest.storage.s3 import S3Client, make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import target_views
from archive_ingest.storage.verify import READ_CHUNK

MIB = 1024**2
GOAL_DEPOSIT = 1.3
GOAL_REHASH = 0.8


# --- the servers and the settings ------------------------------------------------------------


def clean_environment(workdir: Path) -> None:
    """This process's settings come from the bench alone, not from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("ARCHIVE_INGEST_") or name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ):
            del os.environ[name]
    os.environ["ARCHIVE_INGEST_CONFIG"] = str(workdir / "absent-config.toml")
    os.environ["AWS_CONFIG_FILE"] = str(workdir / "absent-aws-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(workdir / "absent-aws-credentials")


def start_servers(workdir: Path, count: int) -> list[SeaweedServer]:
    # from the main thread, one after the other: a server dies with the thread that started it
    servers: list[SeaweedServer] = []
    for number in range(1, count + 1):
        home = workdir / f"server-{number}"
        home.mkdir(parents=True)
        settings, local, status = start_server(home)
        servers.append(SeaweedServer(settings=settings, local=local, status=status))
    return servers


def archive_settings(home: Path, servers: Sequence[SeaweedServer], prefix: str) -> Settings:
    """The archive's settings with ``servers`` as targets t1, t2, ... (copies_required = all)."""
    entries = target_entries(servers, home / "target-keys", prefix)
    reset_settings_cache()
    return Settings(
        home=home,
        s3_endpoint_url=None,
        storage_targets=entries,  # type: ignore[arg-type]  # validated into StorageTarget
    )


def server_pids(servers: Sequence[SeaweedServer]) -> list[int]:
    pids = []
    for server in servers:
        with contextlib.suppress(OSError, ValueError, KeyError):
            pids.append(int(json.loads(server.local.pid_file.read_text())["pid"]))
    return pids


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system) of every live process in the process groups or sessions of
    ``pids`` (each SeaweedFS server runs in its own session), from /proc."""
    wanted = set(pids)
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pgrp, session = int(fields[2]), int(fields[3])
            if pgrp in wanted or session in wanted or int(entry.name) in wanted:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class CpuMeter:
    """Wall time, this process's CPU time and the servers' CPU time over a block."""

    server_pids: Sequence[int]
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def __enter__(self) -> CpuMeter:
        self._t = time.perf_counter()
        times = os.times()
        self._c = times.user + times.system
        self._s = cpu_seconds(self.server_pids)
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self._t
        times = os.times()
        self.client_cpu = times.user + times.system - self._c
        self.server_cpu = cpu_seconds(self.server_pids) - self._s

    def as_dict(self) -> dict[str, float]:
        return {
            "wall_s": self.wall,
            "client_cpu_s": self.client_cpu,
            "servers_cpu_s": self.server_cpu,
            "cores_busy": (self.client_cpu + self.server_cpu) / self.wall,
        }


@dataclass
class Target:
    name: str
    view: Settings
    client: S3Client

    @property
    def bucket(self) -> str:
        return self.view.s3_bucket


def targets_of(settings: Settings) -> list[Target]:
    return [
        Target(name=v.storage_target_name or "?", view=v, client=make_client(v))
        for v in target_views(settings)
    ]


# --- deposits --------------------------------------------------------------------------------


def deposit_one(
    target: Target,
    signer: ReceiptSigner,
    record_id: str,
    bag_dir: Path,
    manifest: dict[str, Digests],
) -> DepositReceipt:
    """``deposit_bag`` as the deposit stage calls it for one target view."""
    view = target.view
    return deposit_bag(
        target.client,
        bucket=view.s3_bucket,
        prefix=view.s3_prefix,
        record_id=record_id,
        version=1,
        bag_dir=bag_dir,
        manifest=manifest,
        lock=LockPolicy.from_settings(view),
        read_back=view.s3_verify_read_back,
        multipart_threshold=view.s3_multipart_threshold,
        target=target.name,
        signer=signer,
    )


def deposit_copies(
    settings: Settings,
    targets: Sequence[Target],
    signer: ReceiptSigner,
    record_id: str,
    bag_dir: Path,
    manifest: dict[str, Digests],
) -> tuple[str, list[DepositReceipt]]:
    """The deposit stage's path to ``targets`` (the first N of ``settings``' targets): the
    ingest package's ``deposit_to_targets`` when it is there (one worker per target, probe,
    signed receipts), else ``deposit_bag`` per target view in a thread pool, as it does.
    Returns which implementation ran, and the receipts."""
    try:
        from archive_ingest.ingest.copies import deposit_to_targets
    except ImportError:
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            futures = [
                pool.submit(deposit_one, t, signer, record_id, bag_dir, manifest) for t in targets
            ]
            return "bench thread pool over deposit_bag", [f.result() for f in futures]
    chosen = settings.model_copy(
        update={"storage_targets": settings.storage_targets[: len(targets)]}
    )
    outcomes = deposit_to_targets(
        chosen, record_id=record_id, version=1, bag_dir=bag_dir, manifest=manifest
    )
    failed = [f"{o.target}: {o.reason}" for o in outcomes if o.receipt is None]
    if failed:
        raise RuntimeError(f"{record_id}: copies failed: {'; '.join(failed)}")
    return "ingest.copies.deposit_to_targets", [o.receipt for o in outcomes if o.receipt]


def bench_deposit(
    settings: Settings,
    catalogue: Catalogue,
    targets: Sequence[Target],
    pids: Sequence[int],
    signer: ReceiptSigner,
    workdir: Path,
    payload_mib: int,
    repeat: int,
) -> dict[str, Any]:
    bag_dir = workdir / "big-bag"
    manifest = write_bag(bag_dir, {"payload.bin": os.urandom(payload_mib * MIB)})
    total = sum(d.size for d in manifest.values())
    one: list[float] = []
    two: list[float] = []
    records: list[str] = []
    cpu: list[dict[str, Any]] = []
    for round_ in range(repeat):
        for kind in ("one", "two") if round_ % 2 == 0 else ("two", "one"):
            record_id = f"bench-big-{kind}-{round_}-{uuid.uuid4().hex[:6]}"
            chosen = targets[:1] if kind == "one" else targets[:2]
            with CpuMeter(pids) as meter:
                how, receipts = deposit_copies(
                    settings, chosen, signer, record_id, bag_dir, manifest
                )
            elapsed = meter.wall
            cpu.append({"kind": kind, **meter.as_dict()})
            if any(r.reused for r in receipts) or len(receipts) != len(chosen):
                raise RuntimeError(f"{record_id}: not a fresh deposit")
            (one if kind == "one" else two).append(elapsed)
            records.append(record_id)
            catalogue.ensure_item(record_id, source=f"bench:{record_id}", source_kind="bench")
            for target, receipt in zip(chosen, receipts, strict=True):
                record_receipt(catalogue, target.name, record_id, receipt)
            print(
                f"  (a) round {round_ + 1} {kind} target(s): {elapsed:.2f} s (client CPU "
                f"{meter.client_cpu:.2f} s, servers CPU {meter.server_cpu:.2f} s)",
                flush=True,
            )
    shutil.rmtree(bag_dir)
    m_one, m_two = statistics.median(one), statistics.median(two)
    return {
        "implementation": how,
        "aip_bytes": total,
        "files": len(manifest),
        "one_target_s": one,
        "two_targets_s": two,
        "median_one_s": m_one,
        "median_two_s": m_two,
        "mib_per_s_one": total / MIB / m_one,
        "ratio_two_over_one": m_two / m_one,
        "goal": GOAL_DEPOSIT,
        "met": m_two / m_one <= GOAL_DEPOSIT,
        "records": records,
        "cpu": cpu,
    }


# --- many small AIPs for the fast pass -------------------------------------------------------


SMALL_PAYLOAD_FILES = 4  # + 5 tag files + the receipt = 10 objects per AIP


def populate(
    catalogue: Catalogue,
    targets: Sequence[Target],
    signer: ReceiptSigner,
    workdir: Path,
    objects: int,
    workers: int,
) -> dict[str, Any]:
    """Real deposits of small AIPs to every target, recorded as copies in the catalogue."""
    bag_dir = workdir / "small-bag"
    payload = {f"page-{n}.txt": os.urandom(2048 + 512 * n) for n in range(SMALL_PAYLOAD_FILES)}
    manifest = write_bag(bag_dir, payload)
    per_aip = len(manifest) + 1
    aips = -(-objects // per_aip)
    record_ids = [f"bench-small-{n:05d}" for n in range(aips)]
    for record_id in record_ids:
        catalogue.ensure_item(record_id, source=f"bench:{record_id}", source_kind="bench")
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [
            (t, r, pool.submit(deposit_one, t, signer, r, bag_dir, manifest))
            for r in record_ids
            for t in targets
        ]
        for done, (target, record_id, future) in enumerate(jobs, start=1):
            receipt = future.result()
            record_receipt(catalogue, target.name, record_id, receipt)
            if done % 500 == 0:
                print(f"  (b) deposited {done}/{len(jobs)} small AIPs", flush=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(bag_dir)
    return {
        "aips_per_target": aips,
        "objects_per_target": aips * per_aip,
        "populate_s": elapsed,
    }


def record_receipt(
    catalogue: Catalogue, target: str, record_id: str, receipt: DepositReceipt
) -> None:
    marker = receipt.receipt_object
    record_copy(
        catalogue,
        record_id,
        receipt.version,
        target,
        status="verified",
        bag_uri=receipt.bag_uri,
        receipt_key=receipt.receipt_key,
        receipt_version_id=receipt.receipt_version_id,
        receipt_sha256=marker.sha256 if marker else None,
        objects=[
            CopyObject(
                path=o.path,
                key=o.key,
                version_id=o.version_id,
                size=o.size,
                sha256=o.sha256,
                sha512=o.sha512,
            )
            for o in receipt.all_objects
        ],
        verified_at=receipt.completed_at,
    )


# --- the fast pass ---------------------------------------------------------------------------


def counting_clients(counter: list[int]) -> None:
    """Make the audit's per-target client count its S3 requests (instrumentation only: the
    client is the real one, against the real server; the probe's own client is not counted)."""
    import archive_ingest.audit.target as audit_target_module

    real = make_client  # the one audit/target.py imported from storage/s3.py

    def make_counted(view: Settings, **kwargs: Any) -> S3Client:
        client = real(view, **kwargs)

        def count(**_: object) -> None:
            counter[0] += 1

        client.meta.events.register("before-send.s3.*", count)
        return client

    setattr(audit_target_module, "make_client", make_counted)  # noqa: B010 - not exported


def bench_fast_pass(
    settings: Settings, catalogue: Catalogue, targets: Sequence[Target], pids: Sequence[int]
) -> dict[str, Any]:
    """The audit's fast tier (``audit.target.audit_target`` without re-hash: one listing of the
    target, each receipt's latest version, one HEAD per object, 16 in flight), then its
    recording in the catalogue (``audit.record.record_target``), per target."""
    from archive_ingest.audit.record import record_target
    from archive_ingest.audit.target import AuditOptions, audit_target
    from archive_ingest.storage.signing import load_public_key, public_key_path

    public = load_public_key(public_key_path(settings))
    counter = [0]
    counting_clients(counter)
    results: dict[str, Any] = {
        "implementation": "audit.target.audit_target (fast tier) + audit.record.record_target"
    }
    for target in targets:
        counter[0] = 0
        with CpuMeter(pids) as meter:
            done = audit_target(settings, target.view, catalogue, AuditOptions(), public)
        elapsed = meter.wall
        findings = sum(len(c.problems) for c in done.report.copies)
        if not done.report.reachable or findings:
            raise RuntimeError(f"fast pass of {target.name}: {findings} findings")
        start = time.perf_counter()
        record_target(catalogue, done)
        recorded = time.perf_counter() - start
        objects = done.report.objects_checked
        results[target.name] = {
            "copies": len(done.report.copies),
            "objects": objects,
            "requests": counter[0],
            "seconds": elapsed,
            "record_seconds": recorded,
            "objects_per_s": objects / elapsed,
            "requests_per_s": counter[0] / elapsed,
            "cpu": meter.as_dict(),
        }
        print(
            f"  (b) fast pass {target.name}: {objects} objects, {counter[0]} requests in "
            f"{elapsed:.1f} s (client CPU {meter.client_cpu:.1f} s, servers CPU "
            f"{meter.server_cpu:.1f} s); recorded in the catalogue in {recorded:.1f} s",
            flush=True,
        )
    return results


# --- re-hash vs plain read -------------------------------------------------------------------


def plain_read(target: Target, objects: Sequence[Any]) -> int:
    read = 0
    with open(os.devnull, "wb") as sink:
        for obj in objects:
            args = {"VersionId": obj.version_id} if obj.version_id else {}
            body = target.client.get_object(Bucket=target.bucket, Key=obj.key, **args)["Body"]
            try:
                while chunk := body.read(READ_CHUNK):
                    sink.write(chunk)
                    read += len(chunk)
            finally:
                body.close()
    return read


def _rehash_pass(
    target: Target, objects: Sequence[Any], check: Callable[[Target, Any], list[Any]]
) -> int:
    hashed = 0
    for obj in objects:
        problems = check(target, obj)
        if problems:
            raise RuntimeError(f"re-hash found a problem in a fresh deposit: {problems}")
        hashed += obj.size
    return hashed


def _rehash_one(target: Target, obj: Any, digests: Any) -> list[Any]:
    from archive_ingest.storage.rehash import rehash_object

    return rehash_object(
        target.client,
        target.bucket,
        key=obj.key,
        version_id=obj.version_id,
        path=obj.path,
        size=obj.size,
        sha256=obj.sha256,
        sha512=obj.sha512,
        digests=digests,
    )


def rehash_both(target: Target, objects: Sequence[Any]) -> int:
    """The audit's full tier per object with both digests (``storage.rehash.rehash_object``:
    a reader thread ahead, SHA-256 and SHA-512 on two threads; ``audit --all``, deposit)."""
    return _rehash_pass(target, objects, lambda t, o: _rehash_one(t, o, "both"))


def rehash_sha256(target: Target, objects: Sequence[Any]) -> int:
    """The same with SHA-256 alone (``audit_rehash_digests = "sha256"``)."""
    return _rehash_pass(target, objects, lambda t, o: _rehash_one(t, o, "sha256"))


def both_one_thread(target: Target, objects: Sequence[Any]) -> int:
    """For reference: reader thread ahead, both digests hashed one after the other in the
    consumer (no second hashing thread)."""
    from archive_ingest.storage.hashing import hash_body

    done = 0
    for obj in objects:
        args = {"VersionId": obj.version_id} if obj.version_id else {}
        body = target.client.get_object(Bucket=target.bucket, Key=obj.key, **args)["Body"]
        try:
            got = hash_body(body, digests="both", parallel=False)
        finally:
            body.close()
        if (got.size, got.sha256, got.sha512) != (obj.size, obj.sha256, obj.sha512):
            raise RuntimeError(f"one-thread re-hash: {obj.key} differs")
        done += got.size
    return done


def before(target: Target, objects: Sequence[Any]) -> int:
    """For reference: the re-hash as it was before the read-ahead (``verify.read_back_checks``:
    1 MiB reads, SHA-256 then SHA-512, in one thread; the deposit's read-back still is)."""
    from archive_ingest.storage.receipt import StoredObject
    from archive_ingest.storage.verify import read_back_checks

    def check(t: Target, o: Any) -> list[Any]:
        expected = StoredObject(
            path=o.path,
            key=o.key,
            size=o.size,
            sha256=o.sha256,
            sha512=o.sha512,
            version_id=o.version_id,
            checksum_algorithm="SHA256",
            checksum="",
        )
        return list(read_back_checks(t.client, t.bucket, expected))

    return _rehash_pass(target, objects, check)


def bench_rehash(
    catalogue: Catalogue,
    target: Target,
    records: Sequence[str],
    repeat: int,
    pids: Sequence[int],
) -> dict[str, Any]:
    digests = Settings.model_fields["audit_rehash_digests"].default
    objects = [o for r in records for o in objects_of_copy(catalogue, r, 1, target.name)]
    total = sum(o.size for o in objects)
    passes: dict[str, Callable[[Target, Sequence[Any]], int]] = {
        "plain": plain_read,
        "rehash-both": rehash_both,
        "rehash-sha256": rehash_sha256,
        "both-one-hashing-thread": both_one_thread,
        "before-read-ahead": before,
    }
    plain_read(target, objects)  # warm-up: every pass then reads from the same page cache
    times: dict[str, list[float]] = {kind: [] for kind in passes}
    cpu: list[dict[str, Any]] = []
    for round_ in range(repeat):
        order = list(passes)[round_ % len(passes) :] + list(passes)[: round_ % len(passes)]
        for kind in order:
            with CpuMeter(pids) as meter:
                done = passes[kind](target, objects)
            load = os.getloadavg()[0]
            cpu.append({"kind": kind, "load_1min": load, **meter.as_dict()})
            if done != total:
                raise RuntimeError(f"{kind}: read {done} bytes, expected {total}")
            times[kind].append(meter.wall)
            print(
                f"  (c) round {round_ + 1} {kind}: {meter.wall:.2f} s (client CPU "
                f"{meter.client_cpu:.2f} s, server CPU {meter.server_cpu:.2f} s, load "
                f"{load:.2f})",
                flush=True,
            )
    medians = {kind: statistics.median(t) for kind, t in times.items()}
    chosen = "rehash-sha256" if digests == "sha256" else "rehash-both"
    ratio = medians["plain"] / medians[chosen]  # throughput re-hash / throughput plain
    return {
        "implementation": "storage.rehash.rehash_object (the audit's full tier, per object), "
        f"digests {digests!r} (the default of audit_rehash_digests)",
        "chosen": chosen,
        "target": target.name,
        "objects": len(objects),
        "bytes": total,
        "seconds": times,
        "mib_per_s": {kind: total / MIB / m for kind, m in medians.items()},
        "ratios_over_plain": {kind: medians["plain"] / m for kind, m in medians.items()},
        "ratio_rehash_over_plain": ratio,
        "goal": GOAL_REHASH,
        "met": ratio >= GOAL_REHASH,
        "cpu": cpu,
    }


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payload-mib", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8, help="threads that make small AIPs")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--only-rehash",
        action="store_true",
        help="run (c) alone: deposit 2 x --repeat AIPs of --payload-mib to one target, re-hash",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-replication-", dir=args.workdir))
    clean_environment(workdir)
    figures: dict[str, Any] = {"machine": machine(), "args": vars(args) | {"json": str(args.json)}}
    print(figures["machine"], flush=True)
    servers: list[SeaweedServer] = []
    try:
        started = time.perf_counter()
        servers = start_servers(workdir, 1 if args.only_rehash else 2)
        figures["servers_start_s"] = time.perf_counter() - started
        home = workdir / "archive"
        home.mkdir()
        settings = archive_settings(home, servers, prefix=f"bench-{uuid.uuid4().hex[:8]}")
        targets = targets_of(settings)
        signer = ReceiptSigner.for_settings(settings)
        catalogue = Catalogue.open(settings.effective_database_url)

        pids = server_pids(servers)
        if args.only_rehash:
            big = deposit_for_rehash(catalogue, targets[0], signer, workdir, args)
            print("(c) full re-hash vs plain read", flush=True)
            figures["rehash"] = bench_rehash(catalogue, targets[0], big, args.repeat, pids[:1])
            return 0
        print(f"(a) deposit of a {args.payload_mib} MiB AIP to two targets vs one", flush=True)
        figures["deposit"] = bench_deposit(
            settings, catalogue, targets, pids, signer, workdir, args.payload_mib, args.repeat
        )
        big = figures["deposit"]["records"]
        print(f"(b) fast pass over {args.objects} objects per target", flush=True)
        figures["populate"] = populate(
            catalogue, targets, signer, workdir, args.objects, args.workers
        )
        figures["fast_pass"] = bench_fast_pass(settings, catalogue, targets, pids)
        print("(c) full re-hash vs plain read", flush=True)
        figures["rehash"] = bench_rehash(catalogue, targets[0], big, args.repeat, pids[:1])
    finally:
        for server in servers:
            server.local.down(timeout=30)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        if "rehash" in figures:
            report(figures)
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


def deposit_for_rehash(
    catalogue: Catalogue,
    target: Target,
    signer: ReceiptSigner,
    workdir: Path,
    args: argparse.Namespace,
) -> list[str]:
    """As many AIPs of ``--payload-mib`` on one target as (a) leaves there (2 x --repeat),
    deposited and recorded as the deposit stage does."""
    bag_dir = workdir / "big-bag"
    manifest = write_bag(bag_dir, {"payload.bin": os.urandom(args.payload_mib * MIB)})
    records = []
    for number in range(2 * args.repeat):
        record_id = f"bench-big-{number}-{uuid.uuid4().hex[:6]}"
        receipt = deposit_one(target, signer, record_id, bag_dir, manifest)
        catalogue.ensure_item(record_id, source=f"bench:{record_id}", source_kind="bench")
        record_receipt(catalogue, target.name, record_id, receipt)
        records.append(record_id)
    shutil.rmtree(bag_dir)
    return records


def report(figures: dict[str, Any]) -> None:
    print()
    print(f"machine: {figures['machine']}")
    if "deposit" in figures:
        report_deposit(figures["deposit"], figures["fast_pass"])
    r = figures["rehash"]
    print(
        f"(c) {r['bytes'] / MIB:.0f} MiB in {r['objects']} objects on {r['target']}: re-hash/plain "
        f"{r['ratio_rehash_over_plain']:.2f} ({r['chosen']}; goal >= {GOAL_REHASH}: "
        f"{'met' if r['met'] else 'missed'})"
    )
    for kind, rate in r["mib_per_s"].items():
        rows = [c for c in r["cpu"] if c["kind"] == kind]
        loads = ", ".join(f"{c['load_1min']:.2f}" for c in rows)
        print(
            f"    {kind}: {rate:.0f} MiB/s, ratio {r['ratios_over_plain'][kind]:.2f}, client CPU "
            f"{statistics.median(c['client_cpu_s'] for c in rows):.2f} s, server CPU "
            f"{statistics.median(c['servers_cpu_s'] for c in rows):.2f} s, cores busy "
            f"{statistics.median(c['cores_busy'] for c in rows):.2f}, load "
            f"{loads}"
        )
    print(f"    ({r['implementation']})")


def report_deposit(d: dict[str, Any], f: dict[str, Any]) -> None:
    print(
        f"(a) {d['aip_bytes'] / MIB:.0f} MiB AIP, median of {len(d['one_target_s'])}: one target "
        f"{d['median_one_s']:.2f} s, two targets {d['median_two_s']:.2f} s: ratio "
        f"{d['ratio_two_over_one']:.2f} (goal <= {GOAL_DEPOSIT}: "
        f"{'met' if d['met'] else 'missed'})"
    )
    for kind in ("one", "two"):
        rows = [c for c in d["cpu"] if c["kind"] == kind]
        print(
            f"    {kind}: client CPU {statistics.median(c['client_cpu_s'] for c in rows):.2f} s, "
            f"servers CPU {statistics.median(c['servers_cpu_s'] for c in rows):.2f} s, "
            f"cores busy {statistics.median(c['cores_busy'] for c in rows):.2f}"
            f" ({d['implementation']})"
        )
    for name, value in f.items():
        if isinstance(value, dict):
            print(
                f"(b) fast pass {name}: {value['objects']} objects, {value['requests']} requests, "
                f"{value['seconds']:.1f} s: {value['objects_per_s']:.0f} objects/s, "
                f"{value['requests_per_s']:.0f} requests/s"
            )
    print(f"    (fast pass: {f['implementation']})")


if __name__ == "__main__":
    sys.exit(main())

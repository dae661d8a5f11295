"""Fixity audit of stored AIPs: is every object of every receipt still there, untouched, on top?

This is the per-AIP check from one receipt (also what ``repair`` and ``replicate`` use to check
a copy in full); the tiered audit of every copy on every target, with the catalogue, is
:mod:`archive_ingest.audit` (its storage side: :mod:`.audit_fast` and :mod:`.rehash`).

An AIP version is write-once, so its audit is strict. For each object the receipt names:

- its recorded version must still exist (else ``missing``), must be the latest one and the
  only one at its key (else ``delete-marker`` or ``replaced``: someone wrote over it, even if
  our locked version survives underneath), versions the receipt lists in ``replaces`` (a
  repair's bad versions, kept because they may be locked) excepted;
- HEAD: size, server checksum (SHA-256 or full-object CRC32) and our metadata digests;
- optionally a full read-back of that version, hashed with SHA-256 and SHA-512;

and nothing else may live under the version's prefix (``unexpected-object``). Each audited AIP
gets one PREMIS "fixity check" event.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from archive_ingest.errors import StorageError
from archive_ingest.models import Event, utcnow
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import RECEIPT_NAME, normalise_prefix, parse_key
from archive_ingest.storage.listing import (
    MAX_RECEIPT_BYTES,
    VersionEntry,
    find_incomplete,
    version_index,
)
from archive_ingest.storage.premis import fixity_event
from archive_ingest.storage.receipt import DepositReceipt, StoredObject
from archive_ingest.storage.s3 import S3Client, make_client, probe_endpoint, storage_error
from archive_ingest.storage.verify import Problem, check_object

log = logging.getLogger(__name__)


class AuditResult(BaseModel):
    record_id: str
    version: int
    bag_uri: str
    status: Literal["ok", "failed"]
    read_back: bool
    objects_checked: int
    problems: list[Problem] = Field(default_factory=list)
    event: Event
    checked_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class AuditSummary(BaseModel):
    checked: int
    ok: int
    read_back: int
    results: list[AuditResult]
    incomplete: list[str] = Field(default_factory=list)  # version prefixes without receipt
    started_at: dt.datetime
    finished_at: dt.datetime

    @property
    def failed(self) -> list[AuditResult]:
        return [r for r in self.results if not r.ok]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def report(self) -> dict[str, Any]:
        """The JSON summary the CLI prints: ``checked``, ``ok``, ``failed`` with keys/reasons."""
        return {
            "checked": self.checked,
            "ok": self.ok,
            "failed": [
                {
                    "aip": r.bag_uri,
                    "record_id": r.record_id,
                    "version": r.version,
                    "problems": [p.model_dump() for p in r.problems],
                }
                for r in self.failed
            ],
            "read_back": self.read_back,
            "incomplete": self.incomplete,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }


# --- one AIP --------------------------------------------------------------------------------


def _version_problems(obj: StoredObject, entries: Sequence[VersionEntry]) -> list[Problem]:
    """Write-once rules: our version exists, is the latest and the only one at its key."""
    if obj.version_id is None:  # unversioned bucket: only HEAD checks are possible
        return []
    ours = [e for e in entries if e.version_id == obj.version_id and not e.delete_marker]
    if not ours:
        return [Problem(key=obj.key, reason="missing", detail=f"version {obj.version_id} is gone")]
    problems: list[Problem] = []
    latest = next((e for e in entries if e.is_latest), None)
    if latest is not None and latest.delete_marker:
        problems.append(
            Problem(key=obj.key, reason="delete-marker", detail="a delete marker hides our version")
        )
    elif latest is not None and latest.version_id != obj.version_id:
        problems.append(
            Problem(
                key=obj.key,
                reason="replaced",
                detail=f"version {latest.version_id} was written on top of ours",
            )
        )
    others = [e for e in entries if e.version_id != obj.version_id and e is not latest]
    if others:
        problems.append(
            Problem(
                key=obj.key,
                reason="replaced",
                detail=f"{len(entries)} versions at a write-once key",
            )
        )
    return problems


def audit_aip(
    client: S3Client,
    bucket: str,
    receipt: DepositReceipt,
    *,
    read_back: bool,
    index: dict[str, list[VersionEntry]] | None = None,
) -> AuditResult:
    """Audit one AIP version against its receipt (see the module doc)."""
    root = receipt.receipt_key[: -len(RECEIPT_NAME)]
    problems: list[Problem] = []
    objects = receipt.all_objects
    try:
        if index is None:
            index = version_index(client, bucket, root)
        replaced = {(r.key, r.version_id) for r in receipt.replaces}  # a repair's bad versions
        for obj in objects:
            entries = [e for e in index.get(obj.key, []) if (obj.key, e.version_id) not in replaced]
            version_problems = _version_problems(obj, entries)
            problems += version_problems
            if any(p.reason == "missing" for p in version_problems):
                continue
            try:
                problems += check_object(client, bucket, obj, read_back=read_back)
            except StorageError as exc:  # e.g. the server cannot read a damaged chunk
                problems.append(Problem(key=obj.key, reason="error", detail=str(exc)))
        expected = {obj.key for obj in objects} | {receipt.receipt_key}
        for key in sorted(k for k in index if k.startswith(root) and k not in expected):
            if any(not e.delete_marker for e in index[key]):
                problems.append(
                    Problem(key=key, reason="unexpected-object", detail="not in the receipt")
                )
    except StorageError as exc:
        problems.append(Problem(key=root, reason="error", detail=str(exc)))
    event = fixity_event(
        bag_uri=receipt.bag_uri,
        objects_checked=len(objects),
        read_back=read_back,
        problems=problems,
        context="fixity audit",
    )
    if problems:
        log.error("AIP %s FAILED its fixity audit: %d problems", receipt.bag_uri, len(problems))
    return AuditResult(
        record_id=receipt.record_id,
        version=receipt.version,
        bag_uri=receipt.bag_uri,
        status="failed" if problems else "ok",
        read_back=read_back,
        objects_checked=len(objects),
        problems=problems,
        event=event,
    )


# --- many AIPs ------------------------------------------------------------------------------


def _pick_read_back(count: int, sample: int, read_back_all: bool, rng: random.Random) -> set[int]:
    if read_back_all:
        return set(range(count))
    return set(rng.sample(range(count), min(max(sample, 0), count)))


def audit_many(
    client: S3Client,
    bucket: str,
    receipts: Iterable[DepositReceipt],
    *,
    sample: int = 0,
    read_back_all: bool = False,
    rng: random.Random | None = None,
    index: dict[str, list[VersionEntry]] | None = None,
    extra_results: Sequence[AuditResult] = (),
    incomplete: Sequence[str] = (),
) -> AuditSummary:
    """HEAD-audit every receipt; fully read back ``sample`` random ones (or all)."""
    started = utcnow()
    receipts = list(receipts)
    chosen = _pick_read_back(len(receipts), sample, read_back_all, rng or random.Random())
    results = list(extra_results)
    for position, receipt in enumerate(receipts):
        results.append(
            audit_aip(client, bucket, receipt, read_back=position in chosen, index=index)
        )
    return AuditSummary(
        checked=len(results),
        ok=sum(1 for r in results if r.ok),
        read_back=len(chosen),
        results=results,
        incomplete=list(incomplete),
        started_at=started,
        finished_at=utcnow(),
    )


def _original_version(entries: Sequence[VersionEntry]) -> VersionEntry | None:
    """The first version written at a write-once key (what a later write would hide)."""
    real = [e for e in entries if not e.delete_marker]
    if not real:
        return None
    return min(real, key=lambda e: e.last_modified or dt.datetime.max.replace(tzinfo=dt.UTC))


def _read_receipt_version(client: S3Client, bucket: str, entry: VersionEntry) -> DepositReceipt:
    args = {"VersionId": entry.version_id} if entry.version_id else {}
    try:
        response = client.get_object(Bucket=bucket, Key=entry.key, **args)
        body = response["Body"]
        try:
            data = body.read(MAX_RECEIPT_BYTES + 1)
        finally:
            body.close()
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("get_object", entry.key, exc) from exc
    if len(data) > MAX_RECEIPT_BYTES:
        raise StorageError(f"deposit receipt {entry.key} is implausibly large")
    receipt = DepositReceipt.from_stored_json(data, version_id=entry.version_id)
    if receipt.receipt_key != entry.key:
        raise StorageError(f"deposit receipt {entry.key} describes another key")
    return receipt


def discover_receipts(
    client: S3Client, bucket: str, prefix: str, index: dict[str, list[VersionEntry]]
) -> tuple[list[DepositReceipt], list[AuditResult]]:
    """Receipts found in storage, including ones hidden by a delete marker or a newer version
    (the original version is read). Unreadable receipts come back as failed results."""
    receipts: list[DepositReceipt] = []
    failures: list[AuditResult] = []
    for key in sorted(index):
        parsed = parse_key(prefix, key)
        if parsed is None or parsed[2] != RECEIPT_NAME:
            continue
        entry = _original_version(index[key])
        if entry is None:
            continue  # only delete markers: nothing left to read (a listing artefact)
        try:
            receipts.append(_read_receipt_version(client, bucket, entry))
        except StorageError as exc:
            record_id, version, _ = parsed
            uri = f"s3://{bucket}/{key[: -len(RECEIPT_NAME)]}"
            problem = Problem(key=key, reason="receipt-unreadable", detail=str(exc))
            failures.append(
                AuditResult(
                    record_id=record_id,
                    version=version,
                    bag_uri=uri,
                    status="failed",
                    read_back=False,
                    objects_checked=0,
                    problems=[problem],
                    event=fixity_event(
                        bag_uri=uri,
                        objects_checked=0,
                        read_back=False,
                        problems=[problem],
                        context="fixity audit",
                    ),
                )
            )
    return receipts, failures


def audit_storage(
    client: S3Client,
    bucket: str,
    prefix: str,
    *,
    sample: int = 0,
    read_back_all: bool = False,
    rng: random.Random | None = None,
) -> AuditSummary:
    """Audit every AIP found under ``prefix`` in the bucket (no catalogue needed)."""
    root = normalise_prefix(prefix) + "/"
    index = version_index(client, bucket, root)
    receipts, failures = discover_receipts(client, bucket, prefix, index)
    incomplete = [aip.root for aip in find_incomplete(client, bucket, prefix)]
    return audit_many(
        client,
        bucket,
        receipts,
        sample=sample,
        read_back_all=read_back_all,
        rng=rng,
        index=index,
        extra_results=failures,
        incomplete=incomplete,
    )


def run_audit(
    settings: Settings, *, sample: int | None = None, read_back_all: bool = False
) -> AuditSummary:
    """The `archive-ingest audit` entry point: every AIP under the configured bucket/prefix,
    HEAD-checked; ``sample`` random ones (or all) also read back in full. The storage is
    probed first: a silent endpoint is one StorageUnreachableError naming it within seconds."""
    probe_endpoint(settings)
    client = make_client(settings)
    return audit_storage(
        client,
        settings.s3_bucket,
        settings.s3_prefix,
        sample=sample or 0,
        read_back_all=read_back_all,
    )

"""Depositing a test bag and reading back what the bucket holds, for storage assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive_ingest.models import Digests
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy
from archive_ingest.storage.s3 import S3Client, make_client

LOCK = LockPolicy(mode="GOVERNANCE", days=1)


def deposit(
    settings: Settings,
    bag: Path,
    manifest: dict[str, Digests],
    record_id: str,
    *,
    client: S3Client | None = None,
    **overrides: Any,
) -> DepositReceipt:
    """``deposit_bag`` of ``bag`` as version 1 of ``record_id`` in the settings' bucket and
    prefix, under :data:`LOCK` and without read-back; ``overrides`` replace any of those
    arguments. ``client`` defaults to the ingest identity's."""
    args: dict[str, Any] = {
        "bucket": settings.s3_bucket,
        "prefix": settings.s3_prefix,
        "record_id": record_id,
        "version": 1,
        "bag_dir": bag,
        "manifest": manifest,
        "lock": LOCK,
        "read_back": False,
    }
    args.update(overrides)
    return deposit_bag(make_client(settings) if client is None else client, **args)


def object_versions(client: S3Client, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    """Every object version and delete marker under ``prefix`` (all pages), as S3 lists them,
    each with ``"marker"``: True for a delete marker."""
    out: list[dict[str, Any]] = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        out += [{**v, "marker": False} for v in page.get("Versions", [])]
        out += [{**m, "marker": True} for m in page.get("DeleteMarkers", [])]
    return out


def versions_by_key(client: S3Client, bucket: str, prefix: str = "") -> dict[str, list[str]]:
    """Key -> the VersionIds of its versions and delete markers under ``prefix``, in the
    order S3 lists them."""
    out: dict[str, list[str]] = {}
    for entry in object_versions(client, bucket, prefix):
        out.setdefault(entry["Key"], []).append(entry["VersionId"])
    return out

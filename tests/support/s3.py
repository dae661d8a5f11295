"""Depositing a test bag and reading back what the bucket holds, for storage assertions;
:func:`assert_one_complete_aip` checks an item ended as one complete AIP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import Digests
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.listing import read_receipt
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


def assert_one_complete_aip(admin: Any, settings: Settings, record_id: str) -> dict[str, str]:
    """Exactly one AIP version v1 of ``record_id``, complete; the catalogue agrees with it.

    Returns key -> VersionId of everything stored for the record."""
    bucket, prefix = settings.s3_bucket, settings.s3_prefix
    root = f"{prefix}/{record_id}/"
    versions = object_versions(admin, bucket, root)
    assert not [v for v in versions if v["marker"]], "delete markers in the bucket"
    keys = [v["Key"] for v in versions]
    assert len(keys) == len(set(keys)), "a key was written twice (overwritten)"
    assert all(k.startswith(f"{root}v1/") for k in keys), f"objects outside v1: {keys}"
    receipt = read_receipt(admin, bucket, prefix, record_id, 1)
    assert receipt is not None, "no receipt: not an AIP"
    stored = {v["Key"]: v["VersionId"] for v in versions}
    expected = {o.key: o.version_id for o in receipt.all_objects}
    assert stored == expected, "bucket and receipt disagree (orphan or missing objects)"

    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        item = catalogue.get_item(record_id)
        assert item is not None and item.state == "deposited", item and item.state
        assert item.deposited_version == 1 and item.current_version == 1
        assert item.bag_uri == receipt.bag_uri
        assert [v.version for v in catalogue.versions(record_id)] == [1]
        by_path = {o.path: o for o in receipt.objects}
        files = catalogue.files(record_id, 1)
        assert files
        for row in files:
            obj = by_path[f"data/{row.path}"]
            assert (row.s3_key, row.s3_version_id, row.sha256) == (
                obj.key,
                obj.version_id,
                obj.sha256,
            ), row.path
        payload = {p for p in by_path if p.startswith("data/")}
        assert payload == {f"data/{row.path}" for row in files}
    finally:
        catalogue.close()
    return stored

"""Least privilege and retention, checked against the real server: the ingest identity can
write new objects and nothing destructive; locked versions survive even the admin without a
governance bypass."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from datetime import UTC
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import make_client

pytest_plugins = ["tests.plugins.storage"]
pytestmark = pytest.mark.slow


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _deposited(settings: Settings, storage_bag: Any, mode: str = "GOVERNANCE") -> Any:
    bag, manifest = storage_bag({"a.pdf": b"locked content " + uuid.uuid4().bytes})
    return deposit_bag(
        make_client(settings),
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        record_id=f"sec-{uuid.uuid4().hex[:8]}",
        version=1,
        bag_dir=bag,
        manifest=manifest,
        lock=LockPolicy(mode=mode, days=1),  # type: ignore[arg-type]
        read_back=False,
    )


def _versions(client: Any, bucket: str, key: str) -> list[str]:
    listing = client.list_object_versions(Bucket=bucket, Prefix=key)
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return sorted(e["VersionId"] for e in entries if e["Key"] == key)


def test_ingest_cannot_delete_or_hide_a_locked_version(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposited(seaweed_settings, storage_bag)
    obj = next(o for o in receipt.objects if o.path == "data/a.pdf")
    bucket = seaweed_settings.s3_bucket
    ingest = seaweed.client("ingest")
    with pytest.raises(ClientError) as info:
        ingest.delete_object(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    assert _code(info) == "AccessDenied"
    with pytest.raises(ClientError) as info:
        ingest.delete_object(
            Bucket=bucket, Key=obj.key, VersionId=obj.version_id, BypassGovernanceRetention=True
        )
    assert _code(info) == "AccessDenied"
    with pytest.raises(ClientError):  # not even a delete marker
        ingest.delete_object(Bucket=bucket, Key=obj.key)
    batch = ingest.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": obj.key, "VersionId": obj.version_id}, {"Key": obj.key}]},
    )
    assert not batch.get("Deleted") and len(batch["Errors"]) == 2
    assert _versions(ingest, bucket, obj.key) == [obj.version_id]
    # the lock itself holds: even the admin needs an explicit governance bypass
    admin = seaweed.client("admin")
    with pytest.raises(ClientError) as info:
        admin.delete_object(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    assert _code(info) == "AccessDenied"
    assert _versions(ingest, bucket, obj.key) == [obj.version_id]


def test_ingest_cannot_shorten_or_drop_retention(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposited(seaweed_settings, storage_bag)
    obj = receipt.objects[0]
    bucket = seaweed_settings.s3_bucket
    ingest = seaweed.client("ingest")
    before = ingest.get_object_retention(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    shorter = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
    for bypass in (False, True):
        with pytest.raises(ClientError) as info:
            ingest.put_object_retention(
                Bucket=bucket,
                Key=obj.key,
                VersionId=obj.version_id,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter},
                BypassGovernanceRetention=bypass,
            )
        assert _code(info) == "AccessDenied"
    after = ingest.get_object_retention(Bucket=bucket, Key=obj.key, VersionId=obj.version_id)
    assert after["Retention"] == before["Retention"]


def test_ingest_cannot_reconfigure_the_bucket(seaweed_settings: Settings, seaweed: Any) -> None:
    bucket = seaweed_settings.s3_bucket
    ingest = seaweed.client("ingest")
    attempts = [
        lambda: ingest.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": []})),
        lambda: ingest.delete_bucket_policy(Bucket=bucket),
        lambda: ingest.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
        ),
        lambda: ingest.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        ),
        lambda: ingest.delete_bucket(Bucket=bucket),
        lambda: ingest.create_bucket(Bucket=f"x-{uuid.uuid4().hex[:8]}"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError):
            attempt()
    admin = seaweed.client("admin")
    assert admin.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert json.loads(admin.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]


def test_compliance_retention_binds_the_admin_too(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposited(seaweed_settings, storage_bag, mode="COMPLIANCE")
    obj = receipt.objects[0]
    admin = seaweed.client("admin")
    with pytest.raises(ClientError):
        admin.delete_object(
            Bucket=seaweed_settings.s3_bucket,
            Key=obj.key,
            VersionId=obj.version_id,
            BypassGovernanceRetention=True,
        )
    head = admin.head_object(
        Bucket=seaweed_settings.s3_bucket, Key=obj.key, VersionId=obj.version_id
    )
    assert head["ObjectLockMode"] == "COMPLIANCE"

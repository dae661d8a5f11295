"""The embedded storage's bucket: created with versioning and Object Lock, then kept so."""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.errors import StorageError
from archive_ingest.settings import Settings
from archive_ingest.storage.credentials import ingest_deny_policy
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import (
    S3Client,
    bucket_capabilities,
    error_code,
    http_status,
    storage_error,
)

log = logging.getLogger(__name__)


def ensure_bucket(admin: S3Client, settings: Settings) -> None:
    """The bucket with versioning, object lock (default retention as configured) and the
    policy that denies the ingest identity every delete; created at the first start."""
    bucket = settings.s3_bucket
    lock = LockPolicy.from_settings(settings)
    try:
        admin.head_bucket(Bucket=bucket)
        exists = True
    except ClientError as exc:
        if http_status(exc) != 404 and error_code(exc) not in {"NoSuchBucket", "NotFound"}:
            raise storage_error("head_bucket", bucket, exc) from exc
        exists = False
    except BotoCoreError as exc:
        raise storage_error("head_bucket", bucket, exc) from exc
    try:
        if not exists:
            args: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
            if settings.s3_region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": settings.s3_region}
            admin.create_bucket(**args)
            log.info("created bucket %s with object lock", bucket)
        if admin.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            admin.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("create_bucket", bucket, exc) from exc
    versioning, object_lock = bucket_capabilities(admin, bucket)
    if not (versioning and object_lock):
        raise StorageError(
            f"bucket {bucket} exists without versioning/object lock (object lock can only "
            "be enabled when a bucket is created); use another ARCHIVE_INGEST_S3_BUCKET"
        )
    lock_config: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if lock.enabled:
        lock_config["Rule"] = {"DefaultRetention": {"Mode": lock.mode, "Days": lock.days}}
    try:
        admin.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock_config)
        admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps(ingest_deny_policy(bucket)))
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("configure_bucket", bucket, exc) from exc

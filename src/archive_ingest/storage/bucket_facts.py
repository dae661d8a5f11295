"""What a bucket says about itself: exists, versioning, Object Lock and its default retention.

`storage status` asks this of every target, embedded or not, with one short-timeout client;
a failure becomes a one-line ``detail`` naming the error code, never a server message (it
could echo request headers).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from archive_ingest.errors import StorageError
from archive_ingest.storage.s3 import S3Client, bucket_capabilities, error_code, http_status


class BucketFacts(BaseModel):
    """None = not known (the question could not be asked or was refused)."""

    s3_answering: bool | None = None
    bucket_exists: bool | None = None
    versioning: bool | None = None
    object_lock: bool | None = None
    default_retention: str | None = None
    detail: str = ""


def bucket_facts(client: S3Client, bucket: str) -> BucketFacts:
    facts = BucketFacts()
    try:
        client.head_bucket(Bucket=bucket)
        facts.s3_answering = True
        facts.bucket_exists = True
        facts.versioning, facts.object_lock = bucket_capabilities(client, bucket)
        if not facts.object_lock:
            return facts
        rule = (
            client.get_object_lock_configuration(Bucket=bucket)
            .get("ObjectLockConfiguration", {})
            .get("Rule", {})
            .get("DefaultRetention")
        )
        if rule:
            period = f"{rule['Days']} days" if "Days" in rule else f"{rule.get('Years')} years"
            facts.default_retention = f"{rule.get('Mode')} {period}"
    except ClientError as exc:
        facts.s3_answering = True
        facts.bucket_exists = http_status(exc) != 404
        facts.detail = f"bucket check failed: {error_code(exc)}"
    except StorageError as exc:
        cause = exc.__cause__
        facts.s3_answering = not isinstance(cause, BotoCoreError)
        facts.detail = (
            f"bucket check failed: {error_code(cause)}"
            if isinstance(cause, ClientError)
            else f"S3 not answering: {type(cause or exc).__name__}"
        )
    except BotoCoreError as exc:
        facts.s3_answering = False
        facts.detail = f"S3 not answering: {type(exc).__name__}"
    return facts

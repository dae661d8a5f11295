"""`storage status` for every storage target: one line of facts each, never a secret.

An embedded target reports its server (running, pid, ports, folders) and its bucket; an
external target is never started or stopped here, only probed: one short request each
(``running`` then means "answers"). The probes run at once, so one dead endpoint costs its
timeout once, not once per target.
"""

from __future__ import annotations

from pydantic import BaseModel

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.settings import Settings
from archive_ingest.storage.bucket_facts import BucketFacts, bucket_facts
from archive_ingest.storage.embedded_set import each_at_once
from archive_ingest.storage.local import LocalStorage, StorageStatus
from archive_ingest.storage.s3 import client_config, endpoint_label, make_client
from archive_ingest.storage.targets import copies_required, target_views


class TargetStatus(BaseModel):
    """One target as `storage status` shows it."""

    name: str
    embedded: bool
    endpoint: str
    bucket: str
    prefix: str
    #: embedded: the server process is alive; external: the endpoint answered
    running: bool
    s3_answering: bool | None = None
    bucket_exists: bool | None = None
    versioning: bool | None = None
    object_lock: bool | None = None
    default_retention: str | None = None
    detail: str = ""
    #: embedded only: the server's process, ports and files
    server: StorageStatus | None = None


class StorageReport(BaseModel):
    copies_required: int
    targets: list[TargetStatus]

    @property
    def all_running(self) -> bool:
        return all(target.running for target in self.targets)


def embedded_target_status(view: Settings, server: StorageStatus) -> TargetStatus:
    return TargetStatus(
        name=view.storage_target_name,
        embedded=True,
        endpoint=server.endpoint,
        bucket=server.bucket,
        prefix=view.s3_prefix,
        running=server.running,
        s3_answering=server.s3_answering,
        bucket_exists=server.bucket_exists,
        versioning=server.versioning,
        object_lock=server.object_lock,
        default_retention=server.default_retention,
        detail=server.detail,
        server=server,
    )


def external_target_status(view: Settings) -> TargetStatus:
    try:
        # one attempt, short timeouts: a status must not hang on a blackholed endpoint
        config = client_config(max_attempts=1, connect_timeout=3, read_timeout=5)
        client = make_client(view, config=config)
        facts = bucket_facts(client, view.s3_bucket)
    except ArchiveIngestError as exc:  # e.g. a credentials file or variable missing
        facts = BucketFacts(detail=str(exc))
    return TargetStatus(
        name=view.storage_target_name,
        embedded=False,
        endpoint=endpoint_label(view),
        bucket=view.s3_bucket,
        prefix=view.s3_prefix,
        running=bool(facts.s3_answering),
        **facts.model_dump(),
    )


def target_status(view: Settings) -> TargetStatus:
    if view.s3_endpoint_url is None:
        return embedded_target_status(view, LocalStorage(view).status())
    return external_target_status(view)


def storage_report(settings: Settings) -> StorageReport:
    """Every target's status, asked all at once."""
    outcomes = each_at_once(target_status, target_views(settings))
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return StorageReport(
        copies_required=copies_required(settings),
        targets=[o for o in outcomes if isinstance(o, TargetStatus)],
    )

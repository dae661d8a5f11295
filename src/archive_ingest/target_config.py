"""One S3-compatible storage target as configured (pure data; resolution is storage/targets.py).

A target is a bucket on a server the archive keeps a full copy of every AIP on. Targets are
listed in the config file as ``[[storage_targets]]`` tables (or as JSON in
``ARCHIVE_INGEST_STORAGE_TARGETS``); with none listed, the archive keeps ``embedded_copies``
copies on as many local SeaweedFS servers (``endpoint_url`` unset), or, when only the older
single-endpoint settings (``s3_endpoint_url``...) are given, one copy there.

Credentials are never part of the configuration itself: a target names either a credentials
file (mode 0600, JSON or AWS INI with ``aws_access_key_id``/``aws_secret_access_key``) or the
two environment variables that hold its keys; with neither, boto3's default chain is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LockModeSetting = Literal["COMPLIANCE", "GOVERNANCE", "NONE"]
TARGET_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"


class StorageTarget(BaseModel):
    """One named S3-compatible target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=TARGET_NAME_PATTERN)
    endpoint_url: str | None = Field(
        default=None, description="S3 endpoint; unset = an embedded SeaweedFS server"
    )
    bucket: str = Field(default="archive-ingest", min_length=3, max_length=63)
    prefix: str = "aip"
    region: str = "us-east-1"
    credentials_file: Path | None = None
    access_key_env: str | None = None
    secret_key_env: str | None = None
    object_lock_mode: LockModeSetting = "GOVERNANCE"
    object_lock_days: int = Field(default=3650, ge=1)
    #: embedded targets only: which local server (0 = HOME/storage, 1 = HOME/storage-2, ...)
    embedded_slot: int = Field(default=0, ge=0, le=7)

    @field_validator("endpoint_url", mode="after")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint URL: {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> StorageTarget:
        if (self.access_key_env is None) != (self.secret_key_env is None):
            raise ValueError("access_key_env and secret_key_env go together")
        if self.credentials_file is not None and self.access_key_env is not None:
            raise ValueError("give credentials_file or access_key_env/secret_key_env, not both")
        if self.endpoint_url is None and (
            self.credentials_file is not None or self.access_key_env is not None
        ):
            raise ValueError("an embedded target (no endpoint_url) uses its own credentials")
        return self

    @property
    def embedded(self) -> bool:
        return self.endpoint_url is None

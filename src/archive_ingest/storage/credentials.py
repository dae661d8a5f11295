"""The embedded storage's generated S3 identities and how they are kept on disk.

Two identities are generated at the first ``storage up``: ``admin`` (bucket set-up, repairs) and
``ingest`` (what the pipeline uses; least privilege). They live in
``HOME/storage/credentials.json`` (mode 0600). Secrets are :class:`pydantic.SecretStr` so that a
``repr``, a log line or an error message never shows them.
"""

from __future__ import annotations

import configparser
import json
import secrets
import string
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from archive_ingest import secret_files
from archive_ingest.errors import ConfigError, StorageError
from archive_ingest.models import utcnow

_KEY_ALPHABET = string.ascii_uppercase + string.digits


class KeyPair(BaseModel):
    model_config = ConfigDict(frozen=True)

    access_key_id: str
    secret_access_key: SecretStr


class EmbeddedCredentials(BaseModel):
    """Both identities of the embedded SeaweedFS."""

    model_config = ConfigDict(frozen=True)

    admin: KeyPair
    ingest: KeyPair
    created_at: str

    def for_role(self, role: str) -> KeyPair:
        if role == "admin":
            return self.admin
        if role == "ingest":
            return self.ingest
        raise ValueError(f"unknown storage role: {role!r}")

    def to_json(self) -> str:
        def pair(kp: KeyPair) -> dict[str, str]:
            return {
                "access_key_id": kp.access_key_id,
                "secret_access_key": kp.secret_access_key.get_secret_value(),
            }

        data: dict[str, Any] = {
            "admin": pair(self.admin),
            "ingest": pair(self.ingest),
            "created_at": self.created_at,
        }
        return json.dumps(data, indent=2) + "\n"


def _access_key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(20 - len(prefix)))


def generate_credentials() -> EmbeddedCredentials:
    """Fresh random identities (160-bit access key ids, 256-bit secrets)."""
    return EmbeddedCredentials(
        admin=KeyPair(access_key_id=_access_key("AIADM"), secret_access_key=_secret()),
        ingest=KeyPair(access_key_id=_access_key("AIING"), secret_access_key=_secret()),
        created_at=utcnow().isoformat(),
    )


def _secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(32))


def write_private_file(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the first byte (never world-readable, even briefly)."""
    secret_files.write_private_file(path, text.encode("utf-8"))


def load_credentials(path: Path) -> EmbeddedCredentials:
    """Read the credentials file; a clear :class:`StorageError` when it is missing or broken."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StorageError(
            f"the embedded storage has no credentials yet ({path} is missing): "
            "run `archive-ingest storage up` first, or set ARCHIVE_INGEST_S3_ENDPOINT_URL"
        ) from None
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read the storage credentials file {path}: {exc}") from None
    try:
        return EmbeddedCredentials.model_validate(raw)
    except ValidationError:
        # the validation error would echo the file's values: keep them out of the message
        raise StorageError(f"the storage credentials file {path} is malformed") from None


def read_key_file(path: Path) -> tuple[str, str]:
    """An external target's keys from its credentials file: JSON (``access_key_id`` and
    ``secret_access_key``, or the ``aws_`` spellings) or AWS INI (``[default]`` section).
    The file must be the owner's only (0600); errors name the file, never its content."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the storage credentials file {path}: {exc}") from None
    if mode & 0o077:
        raise ConfigError(f"the storage credentials file {path} is readable by others: chmod 600")
    values: dict[str, str] = {}
    try:
        raw = json.loads(text)
        if isinstance(raw, dict):
            values = {str(k).lower(): str(v) for k, v in raw.items() if isinstance(v, str)}
    except ValueError:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
        except configparser.Error:
            raise ConfigError(f"the storage credentials file {path} is malformed") from None
        section = "default" if parser.has_section("default") else (parser.sections() or [""])[0]
        if section:
            values = {k.lower(): v.strip() for k, v in parser.items(section)}
    access = values.get("aws_access_key_id") or values.get("access_key_id") or ""
    secret = values.get("aws_secret_access_key") or values.get("secret_access_key") or ""
    if not access or not secret:
        raise ConfigError(
            f"the storage credentials file {path} lacks aws_access_key_id/aws_secret_access_key"
        )
    return access, secret


def seaweed_identities(creds: EmbeddedCredentials, bucket: str) -> dict[str, Any]:
    """The ``-s3.config`` document: an admin and a bucket-scoped, least-privilege ingest identity.

    SeaweedFS' legacy action names scoped as ``Action:bucket``. ``Write`` also allows deletes;
    those are taken away again by a bucket policy (see :func:`ingest_deny_policy`).
    ``PutObjectRetention`` is needed to send retention headers on upload; shortening or
    removing a retention additionally needs ``BypassGovernanceRetention``, which ingest lacks.
    """
    ingest_actions = [
        f"{action}:{bucket}"
        for action in (
            "Read",
            "Write",
            "List",
            "GetObjectRetention",
            "PutObjectRetention",
            "GetBucketObjectLockConfiguration",
        )
    ]

    def identity(name: str, kp: KeyPair, actions: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "credentials": [
                {
                    "accessKey": kp.access_key_id,
                    "secretKey": kp.secret_access_key.get_secret_value(),
                }
            ],
            "actions": actions,
        }

    return {
        "identities": [
            identity("admin", creds.admin, ["Admin", "Read", "Write", "List", "Tagging"]),
            identity("ingest", creds.ingest, ingest_actions),
        ]
    }


#: How SeaweedFS names an identity without an account in bucket policies (checked by a test).
INGEST_PRINCIPAL = "arn:aws:iam::000000000000:user/ingest"

#: What the ingest identity must never do, even though ``Write`` would allow it.
INGEST_DENIED_ACTIONS = (
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:DeleteBucket",
)


def ingest_deny_policy(bucket: str) -> dict[str, Any]:
    """A bucket policy that forbids the ingest identity every destructive action."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IngestIsWriteOnce",
                "Effect": "Deny",
                "Principal": {"AWS": [INGEST_PRINCIPAL]},
                "Action": list(INGEST_DENIED_ACTIONS),
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }

"""The ONE place an S3 client is built, and the one place botocore errors become StorageError.

Why these client settings (see docs/STORAGE.md):

- path-style addressing: SeaweedFS/MinIO need no wildcard DNS;
- ``request_checksum_calculation="when_required"``: botocore >= 1.36 would otherwise add its
  own CRC32 to every upload (and stream aws-chunked trailers over HTTPS, which several
  S3-compatible stores mishandled). We send the checksums *we* choose explicitly instead;
- ``response_checksum_validation="when_required"``: we hash read-backs ourselves;
- standard retries (5xx, SlowDown, throttling, connection resets) with a bounded number of
  attempts, and explicit timeouts so a hung server cannot hang a flow forever;
- :func:`probe_endpoint` before work that needs the store: one short request with its own
  small timeouts, so an endpoint that refuses or never answers is one clear error naming it
  within seconds (a blackhole would otherwise cost attempts x read timeout per request).
"""

from __future__ import annotations

import os
import re
import threading
from functools import cache
from typing import Any, Literal, TypeAlias

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from archive_ingest.errors import ConfigError, StorageError, StorageUnreachableError
from archive_ingest.settings import Settings, mask_url
from archive_ingest.storage.credentials import load_credentials, read_key_file

#: botocore's client is generated at run time; no type stubs are installed.
S3Client: TypeAlias = Any
Role = Literal["ingest", "admin"]

EMBEDDED_HOST = "127.0.0.1"

_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ConditionalRequestConflict",
        "OperationAborted",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "AuthorizationHeaderMalformed",
    }
)
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion"})
_LOCK_ABSENT_CODES = frozenset(
    {
        "ObjectLockConfigurationNotFoundError",
        "ObjectLockConfigurationNotFound",
        "NoSuchObjectLockConfiguration",
    }
)


#: the probe's budget: 2 attempts x (3 s to connect + 4 s to answer), well inside 30 s
PROBE_ATTEMPTS = 2
PROBE_CONNECT_TIMEOUT = 3.0
PROBE_READ_TIMEOUT = 4.0


def client_config(
    *,
    max_attempts: int = 4,
    connect_timeout: float = 5,
    read_timeout: float = 60,
) -> Config:
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=16,
    )


def embedded_endpoint(settings: Settings) -> str:
    return f"http://{EMBEDDED_HOST}:{settings.storage_s3_port}"


def endpoint_label(settings: Settings) -> str:
    """The S3 endpoint the settings use, as it may be shown (a password in it masked)."""
    return mask_url(settings.s3_endpoint_url or embedded_endpoint(settings))


def probe_endpoint(settings: Settings) -> None:
    """Raise :class:`StorageUnreachableError` naming the endpoint when it does not answer
    within the probe's budget. Any HTTP answer counts as reachable (a 403 or a missing bucket
    is for the real request to report, with its own message)."""
    config = client_config(
        max_attempts=PROBE_ATTEMPTS,
        connect_timeout=PROBE_CONNECT_TIMEOUT,
        read_timeout=PROBE_READ_TIMEOUT,
    )
    try:
        make_client(settings, config=config).head_bucket(Bucket=settings.s3_bucket)
    except ClientError:
        return
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise storage_error("head_bucket", f"bucket {settings.s3_bucket}", exc) from None
    except BotoCoreError as exc:
        raise StorageUnreachableError(
            f"the S3 storage at {endpoint_label(settings)} does not answer "
            f"({_unreachable_reason(exc)}); start it or check s3_endpoint_url"
        ) from None


def _unreachable_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectTimeoutError):
        return "connection timed out"
    if isinstance(exc, ReadTimeoutError):
        return "connected, but no answer in time"
    if isinstance(exc, EndpointConnectionError):
        return "connection refused or no route"
    if isinstance(exc, ConnectionClosedError):
        return "connection closed without an answer"
    return type(exc).__name__


def _endpoint_of(exc: BaseException) -> str | None:
    """scheme://host:port of the URL a botocore connection error carries, if any."""
    url = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "")
    match = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", url)
    return mask_url(match.group(0)) if match else None


_SESSION_LOCK = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def _client(*args: Any, **kwargs: Any) -> S3Client:
    """A client with *explicit* keys from one boto3 session per process: the session caches the
    service model, so a client costs a few ms instead of ~180 ms (once per flow run). Only for
    explicit keys: a session also caches the credentials it resolved from the environment.
    Sessions are not thread-safe (clients are), so creation is serialised."""
    with _SESSION_LOCK:
        return _session().client(*args, **kwargs)


def make_client(
    settings: Settings, *, role: Role = "ingest", config: Config | None = None
) -> S3Client:
    """An S3 client for ``role``.

    With ``settings.s3_endpoint_url`` unset: the embedded SeaweedFS and its generated
    credentials for ``role``. Otherwise boto3's standard credential chain (environment,
    profile, instance role) against that endpoint; ``role`` then only documents intent, since
    an external store's identities are managed by its operator.
    """
    config = config or client_config()
    if settings.s3_endpoint_url is None:
        pair = load_credentials(settings.storage_dir / "credentials.json").for_role(role)
        return _client(
            "s3",
            endpoint_url=embedded_endpoint(settings),
            region_name=settings.s3_region,
            aws_access_key_id=pair.access_key_id,
            aws_secret_access_key=pair.secret_access_key.get_secret_value(),
            config=config,
        )
    keys = external_keys(settings)
    if keys is not None:
        return _client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            config=config,
        )
    return boto3.session.Session().client(  # a fresh credential chain each time
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=config,
    )


def external_keys(settings: Settings) -> tuple[str, str] | None:
    """A target's own keys: from its credentials file or its two environment variables;
    None = boto3's default chain. Never logged; errors name the source, not the value."""
    if settings.s3_credentials_file is not None:
        return read_key_file(settings.s3_credentials_file)
    if settings.s3_access_key_env is not None and settings.s3_secret_key_env is not None:
        access = os.environ.get(settings.s3_access_key_env, "")
        secret = os.environ.get(settings.s3_secret_key_env, "")
        if not access or not secret:
            raise ConfigError(
                f"storage target {settings.storage_target_name}: environment variable "
                f"{settings.s3_access_key_env} or {settings.s3_secret_key_env} is unset"
            )
        return access, secret
    return None


def make_client_for(
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    *,
    region: str = "us-east-1",
    config: Config | None = None,
) -> S3Client:
    """A client with explicit credentials (tests, and `storage up` talking to a fresh server);
    from the process's one session, as every client with explicit keys (:func:`_client`)."""
    return _client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config or client_config(),
    )


# --- errors ---------------------------------------------------------------------------------


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


def http_status(exc: BaseException) -> int | None:
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status is not None else None
    return None


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in _NOT_FOUND_CODES or http_status(exc) == 404


def is_precondition_failed(exc: BaseException) -> bool:
    return error_code(exc) == "PreconditionFailed" or http_status(exc) == 412


def is_conflict(exc: BaseException) -> bool:
    return error_code(exc) == "ConditionalRequestConflict" or http_status(exc) == 409


def storage_error(operation: str, where: str | None, exc: BaseException) -> StorageError:
    """A :class:`StorageError` naming the operation, the key and the error code, nothing else.

    Server messages and request details are left out on purpose: they can echo headers,
    and the rule is that no secret ever reaches an error, a log or a record.
    """
    target = f" on {where}" if where else ""
    if isinstance(exc, ClientError):
        code = error_code(exc) or "unknown"
        status = http_status(exc)
        transient = (status is not None and status >= 500) or code in _TRANSIENT_CODES
        if code in _CREDENTIAL_CODES:
            message = (
                f"S3 refused the credentials during {operation}{target} ({code}): "
                "check the access key and secret"
            )
        elif code == "AccessDenied":
            message = f"S3 denied {operation}{target} (AccessDenied): the identity lacks permission"
        else:
            message = f"S3 {operation} failed{target}: {code} (HTTP {status})"
        return StorageError(message, transient=transient)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StorageError(
            f"no S3 credentials for {operation}{target}: set AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or use the embedded storage"
        )
    unreachable = (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
    )
    if isinstance(exc, unreachable):
        endpoint = _endpoint_of(exc)
        return StorageUnreachableError(
            f"cannot reach the S3 endpoint{f' {endpoint}' if endpoint else ''} during "
            f"{operation}{target} ({_unreachable_reason(exc)}); is the storage running? "
            "(`archive-ingest storage status`)"
        )
    if isinstance(exc, BotoCoreError):
        return StorageError(f"S3 {operation} failed{target}: {type(exc).__name__}", transient=True)
    return StorageError(f"S3 {operation} failed{target}: {type(exc).__name__}")


# --- bucket ---------------------------------------------------------------------------------


def bucket_capabilities(client: S3Client, bucket: str) -> tuple[bool, bool]:
    """``(versioning enabled, object lock enabled)`` for ``bucket``."""
    try:
        versioning = client.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    except (ClientError, BotoCoreError) as exc:
        raise storage_error("get_bucket_versioning", f"bucket {bucket}", exc) from exc
    try:
        config = client.get_object_lock_configuration(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in _LOCK_ABSENT_CODES:
            return versioning, False
        raise storage_error("get_object_lock_configuration", f"bucket {bucket}", exc) from exc
    except BotoCoreError as exc:
        raise storage_error("get_object_lock_configuration", f"bucket {bucket}", exc) from exc
    enabled = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
    return versioning, enabled

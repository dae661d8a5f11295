"""Effective configuration: environment (``ARCHIVE_INGEST_*``), an optional TOML file, defaults.

Order of precedence, highest first: keyword arguments, environment variables, the TOML file
named by ``ARCHIVE_INGEST_CONFIG`` (or ``$XDG_CONFIG_HOME/archive-ingest/config.toml`` when it
exists), defaults. S3 credentials are *not* settings: boto3 finds them the standard way
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance roles); the
embedded storage writes its own credentials file under HOME.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from archive_ingest.errors import ConfigError
from archive_ingest.target_config import StorageTarget

ENV_PREFIX = "ARCHIVE_INGEST_"


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("archive-ingest", appauthor=False))


def _config_file() -> Path | None:
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        return Path(explicit)
    candidate = (
        Path(platformdirs.user_config_dir("archive-ingest", appauthor=False)) / "config.toml"
    )
    return candidate if candidate.is_file() else None


class Settings(BaseSettings):
    """All knobs of archive-ingest. Every field can be set as ``ARCHIVE_INGEST_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        validate_default=True,
        frozen=True,
        # an error never quotes the value it refused (a webhook URL's token, a password in a
        # database URL): pydantic would append ``input_value=...`` to its text
        hide_input_in_errors=True,
    )

    home: Path = Field(default_factory=_default_home, description="Working directory")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite under HOME"
    )

    # --- storage --------------------------------------------------------------------------
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3 endpoint; unset = the embedded SeaweedFS started by `storage up`",
    )
    s3_bucket: str = "archive-ingest"
    s3_prefix: str = "aip"
    s3_region: str = "us-east-1"
    s3_object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE", "NONE"] = "GOVERNANCE"
    s3_object_lock_days: int = Field(default=3650, ge=1)
    s3_multipart_threshold: int = Field(default=256 * 1024**2, ge=5 * 1024**2)
    s3_verify_read_back: bool = Field(
        default=False, description="After deposit, re-read every object and hash it"
    )
    storage_s3_port: int = Field(default=8333, ge=1024, le=55500)
    storage_targets: list[StorageTarget] = Field(
        default_factory=list,
        description="Named S3 targets that each keep a full copy ([[storage_targets]] in the "
        "config file); none = embedded_copies local SeaweedFS servers, or s3_endpoint_url",
    )
    embedded_copies: int = Field(
        default=2, ge=1, le=3, description="Local SeaweedFS servers (copies) when no target"
    )
    copies_required: int | None = Field(
        default=None,
        ge=1,
        description="Verified copies that make an item deposited; unset = every target",
    )
    receipt_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM, a regular file only its owner can read) that "
        "signs deposit receipts; its public key is written beside it as <file>.pub; unset = "
        "HOME/keys/receipt-signing.key (and .pub), generated when neither exists",
    )
    audit_rehash_cycle_days: float = Field(
        default=30.0, gt=0, description="Every stored byte is re-hashed within this many days"
    )
    audit_interval_hours: float = Field(
        default=24.0, gt=0, description="How often the scheduled audit runs (its budget)"
    )
    audit_rehash_digests: Literal["sha256", "both"] = Field(
        default="sha256",
        description="Digests the scheduled full tier re-hashes: SHA-256 alone or SHA-256 and "
        "SHA-512 (audit --all and --sample, deposit and repair always check both)",
    )
    replicate_concurrency: int = Field(default=4, ge=1, le=64)
    # one target's view (storage/targets.py sets these; not meant to be set by hand)
    storage_target_name: str = Field(default="primary", description="internal: target view")
    storage_slot: int = Field(default=0, ge=0, le=7, description="internal: embedded server")
    s3_credentials_file: Path | None = Field(default=None, description="internal: target view")
    s3_access_key_env: str | None = Field(default=None, description="internal: target view")
    s3_secret_key_env: str | None = Field(default=None, description="internal: target view")

    # --- sources --------------------------------------------------------------------------
    scielo_books_url: str = "https://books.scielo.org"
    scielo_articlemeta_url: str = "https://articlemeta.scielo.org"
    scielo_articles_url: str | None = Field(
        default=None,
        description="Site base for every article PDF/HTML request; unset = each collection's site",
    )
    extra_allowed_hosts: list[str] = Field(default_factory=list)

    # --- fetch ----------------------------------------------------------------------------
    fetch_max_bytes: int = Field(default=2 * 1024**3, ge=1)
    fetch_metadata_max_bytes: int = Field(default=20 * 1024**2, ge=1)
    fetch_connect_timeout: float = Field(default=15.0, gt=0)
    fetch_read_timeout: float = Field(default=60.0, gt=0)
    fetch_retries: int = Field(default=3, ge=0)
    fetch_backoff_seconds: float = Field(default=1.0, ge=0)
    fetch_min_interval_seconds: float = Field(
        default=0.0, ge=0, description="Politeness delay between requests to one host"
    )
    user_agent: str = "archive-ingest/0.1 (+https://github.com/archive-ingest/archive-ingest)"

    # --- OCR ------------------------------------------------------------------------------
    ocr_fallback_languages: list[str] = Field(default_factory=lambda: ["eng"])
    ocr_languages: list[str] = Field(
        default_factory=lambda: ["por", "spa", "eng"],
        description="Languages items are expected in: `doctor` and the start of ingest check"
        " a Tesseract model and a word list for each",
    )
    ocr_timeout_seconds: int = Field(default=1800, ge=10)
    ocr_jobs: int = Field(default=2, ge=1)
    ocr_max_concurrent: int = Field(
        default=2,
        ge=1,
        description="OCR jobs at once per machine (slots under HOME/locks), and the OCR worker"
        " processes each ingesting process keeps",
    )
    ocr_max_pages: int = Field(
        default=1000,
        ge=1,
        description="A PDF with more pages fails before OCR (raise with ocr_timeout_seconds)",
    )

    # --- licence policy -------------------------------------------------------------------
    licence_review_nc: bool = Field(default=False, description="Send NC licences to review")
    licence_review_nd: bool = Field(default=False, description="Send ND licences to review")
    licence_reject_non_cc: bool = Field(
        default=True, description="A clearly non-CC licence is rejected (else reviewed)"
    )

    # --- harvest, Prefect deployments, notifications --------------------------------------
    harvest_concurrency: int = Field(default=2, ge=1, description="Items ingested at once")
    ingest_concurrency: int = Field(
        default=3,
        ge=1,
        le=64,
        description="Items one `ingest` command works on at once (one in OCR while another is"
        " fetched, packaged or deposited); OCR itself stays within ocr_max_concurrent",
    )
    harvest_retry_failed: bool = Field(
        default=True,
        description="A harvest retries items whose last attempt failed, or stalled (see "
        "stalled_after_hours)",
    )
    harvest_retry_limit: int = Field(
        default=3,
        ge=1,
        description="A harvest retries an item that failed for a permanent reason (a 404, "
        "no PDF, a broken file) this many times in all; transient failures are always retried",
    )
    stalled_after_hours: float = Field(
        default=6.0,
        gt=0,
        description="An item left this long in an in-progress state (a killed worker) is "
        "stalled: reconcile reports it, a harvest retries it. Never less than twice "
        "ocr_timeout_seconds plus 10 minutes (an OCR may wait for a slot, then run)",
    )
    deposit_lease_seconds: float | None = Field(
        default=None,
        ge=0,
        description="How long a claim on an approved item's deposit keeps other depositors "
        "(an approval, deposit-approved, a re-run) away; a killed depositor's item is taken "
        "after it. Unset = stalled_after_hours, when reconcile reports the item",
    )
    notify_webhook_url: str | None = Field(
        default=None, description="POST a JSON notice here on failed runs / items for review"
    )
    alert_webhook_url: SecretStr | None = Field(
        default=None,
        description="POST a JSON alert here when items fail or end under_replicated, an audit "
        "finds damage, or items are stuck (docs/OPERATIONS.md, Alerts); a secret: webhook URLs "
        "often carry a token, so it is never logged or shown",
    )
    alert_timeout: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="Seconds each alert delivery attempt may take (3 attempts at most); a "
        "webhook that fails or is slow is logged without its URL and never fails the run",
    )
    web_base_url: str | None = Field(
        default=None,
        description="Public base URL of `serve` (e.g. https://archive.example.org): alerts and "
        "Prefect artifacts link to its review queue; unset = no links",
    )
    prefect_api_port: int = Field(
        default=4290,
        ge=1024,
        le=65535,
        description="Port of the local Prefect API (`archive-ingest prefect up`) on 127.0.0.1;"
        " it uses this one port only, no port above or beside it",
    )
    local_prefect_api: bool = Field(
        default=True,
        description="Start and reuse a local Prefect API when PREFECT_API_URL is not set"
        " (else Prefect starts a temporary server in every command)",
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Lines on stderr: text for people, json = one JSON object per line (time,"
        " level, logger, message, run and item ids) for a log shipper; `--log-format` wins",
    )

    # --- identity -------------------------------------------------------------------------
    organization: str = "archive-ingest"
    repository_identifier: str = "archive-ingest.local"

    # --- OAI-PMH data provider ------------------------------------------------------------
    oai_repository_name: str = "archive-ingest repository"
    oai_admin_email: str = "archivist@archive-ingest.invalid"
    oai_page_size: int = Field(default=100, ge=1, le=10000)
    oai_page_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="a ListRecords page ends early once its records' payloads reach this many "
        "bytes (always at least one record): METS of long books are large",
    )
    oai_token_secret: SecretStr | None = Field(
        default=None, description="HMAC key for resumption tokens; unset = generated under HOME"
    )
    oai_base_url: str | None = Field(
        default=None,
        description="baseURL in OAI responses (the public URL of /oai); unset = `serve`'s own "
        "http://HOST:PORT/oai, required with --host 0.0.0.0; never taken from a request",
    )
    access_max_streams: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="access copies (/access/) streamed at once, each with one thread under the "
        "route's own limiter; a stream beyond them answers 503 with Retry-After",
    )
    access_send_timeout: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="seconds an access-copy client has to take each chunk; a client that "
        "stops reading for longer has its response ended and its stream slot given back",
    )

    # --- review web UI --------------------------------------------------------------------
    web_session_secret: SecretStr | None = Field(
        default=None, description="Signs review session cookies; unset = generated under HOME"
    )
    web_cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="Secure flag of the session cookie; auto = when over https"
    )
    web_session_hours: float = Field(default=8.0, gt=0)
    web_login_max_attempts: int = Field(default=5, ge=1, description="Per IP+user per window")
    web_login_window_seconds: int = Field(default=900, ge=1)
    web_login_max_client_attempts: int = Field(
        default=20, ge=1, description="Per client IP over all user names, per window"
    )
    web_login_max_total_attempts: int = Field(
        default=100, ge=1, description="All clients together per web_login_total_window_seconds"
    )
    web_login_total_window_seconds: int = Field(default=60, ge=1)
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token GET /metrics requires (at least 32 printable characters; "
        "Prometheus: authorization credentials_file); unset = /metrics answers whoever reaches "
        "`serve` (aggregate figures only: docs/OPERATIONS.md, Metrics)",
    )
    web_forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For/-Proto `serve` trusts (the client the login limits count, the scheme); "
        "default loopback only; empty = none; '*' = any (only when nothing else can connect)",
    )

    @field_validator("web_forwarded_allow_ips", mode="after")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return ",".join(entries)

    @field_validator("alert_webhook_url", mode="after")
    @classmethod
    def _webhook_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL (the value is not shown: it may hold a token)")
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator(
        "scielo_books_url",
        "scielo_articlemeta_url",
        "scielo_articles_url",
        "oai_base_url",
        "web_base_url",
        mode="after",
    )
    @classmethod
    def _base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        shown = "(not shown: it holds user:password@)" if "@" in parts.netloc else repr(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {shown}")
        if info.field_name == "web_base_url" and (
            "@" in parts.netloc or parts.query or parts.fragment
        ):
            # web_base_url lands in every alert and artifact link: no credentials, and a query
            # or fragment would break the links made by appending a path
            raise ValueError(f"a base URL has no user:password@, ?query or #fragment: {shown}")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    # --- derived values -------------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        return normalise_database_url(
            self.database_url or f"sqlite:///{self.home / 'catalogue.sqlite3'}"
        )

    @property
    def stalled_after_seconds(self) -> float:
        """``stalled_after_hours``, raised to what the OCR stage may legitimately take."""
        return max(self.stalled_after_hours * 3600, 2 * self.ocr_timeout_seconds + 600)

    @property
    def deposit_lease(self) -> float:
        """``deposit_lease_seconds``, by default :attr:`stalled_after_seconds`."""
        if self.deposit_lease_seconds is None:
            return self.stalled_after_seconds
        return self.deposit_lease_seconds

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def storage_dir(self) -> Path:
        """The embedded server's folder: HOME/storage, HOME/storage-2, ... by slot."""
        name = "storage" if self.storage_slot == 0 else f"storage-{self.storage_slot + 1}"
        return self.home / name

    @property
    def embedded_storage(self) -> bool:
        """Some storage target is an embedded SeaweedFS server (weed is needed)."""
        if self.storage_targets:
            return any(target.embedded for target in self.storage_targets)
        return self.s3_endpoint_url is None

    def masked(self) -> dict[str, Any]:
        """The settings as a plain dict with every secret masked (for `archive-ingest config`)."""
        data = self.model_dump(mode="json")
        data["database_url"] = mask_url(self.effective_database_url)
        if data.get("s3_endpoint_url"):
            data["s3_endpoint_url"] = mask_url(data["s3_endpoint_url"])
        if data.get("notify_webhook_url"):  # webhook URLs often embed a token
            data["notify_webhook_url"] = "***"
        data["config_file"] = str(_config_file()) if _config_file() else None
        data["s3_credentials"] = describe_aws_credentials()
        return data


def normalise_database_url(url: str) -> str:
    """Map plain ``postgresql://`` URLs onto the psycopg 3 driver that we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: a userinfo with a password, read as SQLAlchemy's make_url reads it: a user without ':' or
#: '/', then ':' and a password holding anything but '@' ('/', '?' and '#' need no escaping)
_USERINFO = re.compile(r"(?P<user>[^:/]*):[^@]*@")
#: more of the same userinfo: an unescaped '@' in a password (SQLAlchemy ends the password at
#: the first one and reads the rest as part of the host; RFC 3986 takes the last one)
_MORE_USERINFO = re.compile(r"[^/?#@]*@")
#: query parameters that carry a secret (libpq's ``password``/``sslpassword``, tokens, keys)
_SECRET_PARAM = re.compile(r"pass(word|wd)?$|pwd|secret|token|key|signature|credential", re.I)


def mask_url(url: str) -> str:
    """Replace the password of a URL by ``***``, in its userinfo and in any password-like
    query parameter (``?password=``, ``sslpassword``, ``*token*``, ``*key*``, ...). Works on
    the text (no parse and re-assembly), so everything else stays exactly as it was, even in
    URLs that urlsplit cannot parse.

    The userinfo is read the way SQLAlchemy reads a database URL (a password may hold an
    unescaped '/', '?' or '#', which RFC 3986 would end the authority at), and runs on to the
    last '@' before the host (RFC 3986's reading of a password with an unescaped '@'), so
    neither reading of the password is shown."""
    scheme = _URL_SCHEME.match(url)
    if scheme is None:
        head, sep, query = url.partition("?")
        return head + sep + _mask_query(query)
    rest = url[scheme.end() :]
    userinfo = _USERINFO.match(rest)
    masked_userinfo = ""
    if userinfo is not None:
        end = userinfo.end()
        while (more := _MORE_USERINFO.match(rest, end)) is not None:
            end = more.end()
        masked_userinfo = f"{userinfo['user']}:***@"
        rest = rest[end:]
    path, sep, query = rest.partition("?")
    return scheme.group(0) + masked_userinfo + path + sep + _mask_query(query)


def _mask_query(query: str) -> str:
    """``a=1&password=x`` -> ``a=1&password=***``. A '#' does not end the query: SQLAlchemy
    passes ``?a=1#&password=x`` on as a=``1#`` and password=``x``."""
    pairs = []
    for pair in query.split("&") if query else []:
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}=***" if eq and _SECRET_PARAM.search(unquote(name)) else pair)
    return "&".join(pairs)


def describe_aws_credentials() -> str:
    """Say where boto3 will find credentials, never what they are."""
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        key = os.environ["AWS_ACCESS_KEY_ID"]
        return f"environment (AWS_ACCESS_KEY_ID={key[:4]}***)"
    if os.environ.get("AWS_PROFILE"):
        return f"profile {os.environ['AWS_PROFILE']}"
    return "boto3 default chain (or the embedded storage's own credentials)"


#: ARCHIVE_INGEST_* variables that are not settings but are read elsewhere
_OTHER_VARIABLES = frozenset(
    {"CONFIG", "CRASH_AT", "HOCR_DIR", "TEST_DATABASE_URL", "TEST_PG_PREFECT_LOG"}
    | {"TEST_PREFECT_SERVER_PYTHON", "PAUSE_AT", "PAUSE_FILE"}
)


def unknown_setting_names() -> list[str]:
    """``ARCHIVE_INGEST_*`` environment variables and config-file keys that name no setting
    (a misspelling is otherwise ignored in silence)."""
    known = set(Settings.model_fields)
    names = [
        key
        for key in os.environ
        if key.startswith(ENV_PREFIX)
        and key[len(ENV_PREFIX) :].lower() not in known
        and key[len(ENV_PREFIX) :] not in _OTHER_VARIABLES
    ]
    path = _config_file()
    if path is not None and path.is_file():
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        names += [f"{key} (in {path})" for key in data if key.lower() not in known]
    return sorted(names)


def check_settings() -> Settings:
    """The settings, or :class:`ConfigError` naming the source and the problem."""
    path = _config_file()
    try:
        return get_settings()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        where = f" (environment ARCHIVE_INGEST_*, config file {path})" if path else ""
        raise ConfigError(f"invalid settings{where}: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()

"""Stateless, tamper-evident resumption tokens (HMAC-SHA256 over a compact JSON query).

A token carries the query (verb, metadataPrefix, set, from, until — ``until`` already frozen
at the first request), the keyset cursor (datestamp, record id; for ListSets the last spec),
the number of items already sent and the completeListSize computed at the first page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from archive_ingest.secret_files import MIN_SECRET_CHARS, check_secret, ensure_secret
from archive_ingest.settings import Settings
from archive_ingest.workspace import ensure_home

TOKEN_VERSION = 1
MAX_TOKEN = 4096
#: base64url body "." base64url MAC, ASCII only (``re.ASCII``: no other scripts' letters)
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)
SECRET_FILE = "oai-token-secret"


@dataclass(frozen=True)
class TokenState:
    verb: str
    prefix: str | None
    set_spec: str | None
    from_: int | None
    until: int | None
    after_stamp: int | None
    after_id: str
    sent: int
    size: int


class BadToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(state: TokenState, key: bytes) -> str:
    payload = json.dumps(
        {"v": TOKEN_VERSION, **asdict(state)}, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
    body = _b64(payload)
    mac = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{mac}"


def decode(token: str, key: bytes) -> TokenState:
    """The state a token carries; :class:`BadToken` for anything not signed with ``key``,
    whatever the characters (an argument is any string a client sends)."""
    if len(token) > MAX_TOKEN or not _TOKEN.fullmatch(token):
        raise BadToken("malformed")
    body, mac = token.split(".")
    expected = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    # bytes, never str: compare_digest raises TypeError on a non-ASCII str
    if not hmac.compare_digest(mac.encode("ascii"), _b64(expected).encode("ascii")):
        raise BadToken("signature")
    try:
        data = json.loads(_unb64(body))
        if data.pop("v") != TOKEN_VERSION:
            raise BadToken("version")
        return TokenState(**data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BadToken("payload") from exc


def token_key(settings: Settings) -> bytes:
    """The HMAC key: the ``oai_token_secret`` setting, else a random one kept under HOME (0600,
    created atomically). An empty, short or garbled key is refused (:class:`SecretFileError`)."""
    if settings.oai_token_secret is not None:
        value = settings.oai_token_secret.get_secret_value().encode("utf-8")
        return check_secret(value, MIN_SECRET_CHARS, source="setting oai_token_secret")
    ensure_home(settings.home)
    path = Path(settings.home) / SECRET_FILE
    return ensure_secret(path, _new_key, MIN_SECRET_CHARS)


def _new_key() -> bytes:
    return secrets.token_hex(32).encode("ascii")

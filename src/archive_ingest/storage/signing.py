"""Ed25519 signatures on deposit receipts: who wrote a receipt, and that nobody edited it since.

The private key is ``HOME/keys/receipt-signing.key`` (PKCS#8 PEM, mode 0600, created once,
atomically: racing creators agree on one key) or the file ``receipt_signing_key_file`` names
(a regular file that group and others cannot read: checked at start-up and on load).
The public key beside it (``HOME/keys/receipt-signing.pub``, or ``<key file>.pub``: the
configured file's name with ``.pub`` appended) is all that ``verify-receipt`` needs: a receipt
can be checked offline, on another machine, by someone who cannot sign. A key is named by its
id, the first 16 hex digits of the SHA-256 of its raw public bytes; a receipt carries the id of
the key that signed it.

A key is generated only when neither it nor its public key exists. A public key without its
private key means the key was lost: that is a :class:`ConfigError` (restore the key from
backup), never a silent new key (every older receipt would then read as tampered). A public
key that is not the private key's public half is an error too, never overwritten. Writing the
public key is best effort: where it cannot be written (a read-only folder) a warning is logged
and signing goes on; readers derive the public key from the private key when the file is
missing (:func:`archive_public_key`).

What is signed is the receipt's canonical JSON without its ``signature`` member (sorted keys,
no insignificant white space, UTF-8): any edit of any field breaks it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import BaseModel, ConfigDict

from archive_ingest.errors import ConfigError
from archive_ingest.secret_files import write_private_file
from archive_ingest.settings import Settings

log = logging.getLogger(__name__)

ALGORITHM = "ed25519"
KEY_NAME = "receipt-signing.key"
PUBLIC_KEY_NAME = "receipt-signing.pub"
MIN_PEM_BYTES = 64


class Signature(BaseModel):
    """A receipt's signature as stored in it."""

    model_config = ConfigDict(frozen=True)

    algorithm: str = ALGORITHM
    key_id: str
    value: str  # base64


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes that are signed: ``document`` without ``signature``, canonical JSON."""
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def private_key_path(settings: Settings) -> Path:
    return settings.receipt_signing_key_file or settings.home / "keys" / KEY_NAME


def public_key_path(settings: Settings) -> Path:
    """``<key file>.pub`` for a configured key (appended: a key named ``x.pub`` is never
    overwritten); ``HOME/keys/receipt-signing.pub`` for HOME's own."""
    configured = settings.receipt_signing_key_file
    if configured is not None:
        return configured.with_name(configured.name + ".pub")
    return settings.home / "keys" / PUBLIC_KEY_NAME


def key_file_problem(path: Path) -> str | None:
    """What is wrong with the private key file's kind or mode (None: a regular file that
    group and others cannot read)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"the receipt signing key {path} does not exist"
    except OSError as exc:
        return f"cannot read the receipt signing key {path}: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return f"the receipt signing key {path} is not a regular file"
    if mode & 0o077:
        return (
            f"the receipt signing key {path} is readable by others (mode "
            f"{stat.S_IMODE(mode):04o}); chmod 600 it"
        )
    return None


def signing_key_problems(settings: Settings) -> list[str]:
    """Start-up validation of a configured ``receipt_signing_key_file`` (HOME's own key is
    created 0600 when missing)."""
    if settings.receipt_signing_key_file is None:
        return []
    problem = key_file_problem(settings.receipt_signing_key_file)
    return [] if problem is None else [problem]


def _lost_key(path: Path, public_path: Path) -> ConfigError:
    return ConfigError(
        f"the receipt signing key {path} is missing but its public key {public_path} exists: "
        f"restore the key from backup (a new key would make every receipt signed so far fail "
        f"to verify), or, to start a new key on purpose, move {public_path} aside and keep it: "
        "older receipts verify only with it"
    )


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        pem = path.read_bytes().strip()  # PEM: lines, so not read_secret's one-line check
    except FileNotFoundError:
        raise ConfigError(f"the receipt signing key {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the receipt signing key {path}: {exc.strerror or exc}"
        ) from None
    if len(pem) < MIN_PEM_BYTES:
        raise ConfigError(f"the receipt signing key {path} is empty or too short")
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"the receipt signing key {path} is not a PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"the receipt signing key {path} is not an Ed25519 key")
    return private


def _publish(path: Path, public: Ed25519PublicKey, private_path: Path) -> None:
    """Write the public key beside the private one: nothing when it is already there; an
    error when another key's is; a warning (and go on) when it cannot be written."""
    pem = public_pem(public)
    try:
        existing: bytes | None = path.read_bytes()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        log.warning("cannot read the public key %s: %s", path, exc.strerror or exc)
        return
    if existing == pem:
        return
    if existing is not None:
        raise ConfigError(
            f"the public key {path} is not the public half of the receipt signing key "
            f"{private_path} (key id {key_id(public)}): restore the matching key from backup, "
            f"or, if {private_path} is the key to sign with from now on, move {path} aside and "
            "keep it (receipts signed before verify only with it)"
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(pem)  # public: may be world-readable
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        log.warning(
            "cannot write the public key %s (%s): receipts are still signed; the audit derives "
            "the public key from the private one, verify-receipt elsewhere needs it copied",
            path,
            exc.strerror or exc,
        )


def _new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class ReceiptSigner:
    """Signs receipts with the archive's key (created on first use when it is HOME's own)."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    def __repr__(self) -> str:  # never the key
        return f"ReceiptSigner(key_id={self.key_id})"

    @classmethod
    def for_settings(cls, settings: Settings) -> ReceiptSigner:
        path = private_key_path(settings)
        public_path = public_key_path(settings)
        if settings.receipt_signing_key_file is None and not path.exists():
            # the public key first: a racing creator writes its key before its public key
            if public_path.exists() and not path.exists():
                raise _lost_key(path, public_path)
            write_private_file(path, _new_private_pem(), replace=False)  # racers agree on one
        elif not path.exists() and public_path.exists():
            raise _lost_key(path, public_path)
        problem = key_file_problem(path)
        if problem is not None:
            raise ConfigError(problem)
        signer = cls(_load_private(path))
        _publish(public_path, signer.public, path)
        return signer

    def sign(self, document: dict[str, Any]) -> Signature:
        value = self._private.sign(canonical_bytes(document))
        return Signature(key_id=self.key_id, value=base64.b64encode(value).decode("ascii"))


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the public key {path}: {exc.strerror or exc}") from None
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise ConfigError(f"{path} is not a PEM public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key")
    return public


def archive_public_key(settings: Settings) -> Ed25519PublicKey | None:
    """The archive's public key: the public key file, else derived from the private key
    (readable, the file missing); None when neither exists (no receipt signed here yet)."""
    public_path = public_key_path(settings)
    if public_path.exists():
        return load_public_key(public_path)
    path = private_key_path(settings)
    if not path.exists():
        return None
    return _load_private(path).public_key()


def signature_problem(document: dict[str, Any], public: Ed25519PublicKey) -> str | None:
    """None when ``document`` carries a valid signature by ``public``; else what is wrong."""
    raw = document.get("signature")
    if raw is None:
        return "the receipt is not signed"
    try:
        signature = Signature.model_validate(raw)
        value = base64.b64decode(signature.value, validate=True)
    except (ValueError, binascii.Error):
        return "the receipt's signature is malformed"
    if signature.algorithm != ALGORITHM:
        return f"the receipt is signed with {signature.algorithm!r}, not {ALGORITHM}"
    if signature.key_id != key_id(public):
        return f"the receipt is signed by key {signature.key_id}, not by {key_id(public)}"
    try:
        public.verify(value, canonical_bytes(document))
    except InvalidSignature:
        return "the signature does not match the receipt's content: it was edited after signing"
    return None

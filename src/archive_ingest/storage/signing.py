"""Ed25519 signatures on deposit receipts: who wrote a receipt, and that nobody edited it since.

The private key is ``HOME/keys/receipt-signing.key`` (PKCS#8 PEM, mode 0600, created once,
atomically: racing creators agree on one key) or the file ``receipt_signing_key_file`` names.
The public key beside it (``receipt-signing.pub``, or ``<key file>.pub``) is all that
``verify-receipt`` needs: a receipt can be checked offline, on another machine, by someone who
cannot sign. A key is named by its id, the first 16 hex digits of the SHA-256 of its raw
public bytes; a receipt carries the id of the key that signed it.

What is signed is the receipt's canonical JSON without its ``signature`` member (sorted keys,
no insignificant white space, UTF-8): any edit of any field breaks it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
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

ALGORITHM = "ed25519"
KEY_NAME = "receipt-signing.key"
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
    private = private_key_path(settings)
    return private.with_suffix(".pub")


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
        if settings.receipt_signing_key_file is None and not path.exists():
            write_private_file(path, _new_private_pem(), replace=False)  # racers agree on one
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
        signer = cls(private)
        public_path = public_key_path(settings)
        if not public_path.exists() or public_path.read_bytes() != public_pem(signer.public):
            public_path.write_bytes(public_pem(signer.public))  # public: may be world-readable
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

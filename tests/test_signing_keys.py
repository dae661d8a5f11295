"""The receipt signing key: a lost key is never silently replaced (its public key left
behind is an error naming the backup), a public key of another key is never overwritten, a
configured key file must be private (start-up validation and load) and its public key is
``<key file>.pub`` (appended: a key named ``x.pub`` is not overwritten), a public key that
cannot be written is a warning, not a failed deposit; the audit derives the public key from
the private key when the file is missing, and with neither key stops with one error (exit 2)
instead of a tampered finding per receipt (real SeaweedFS servers)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from archive_ingest.cli import app
from archive_ingest.errors import ConfigError
from archive_ingest.fixity import audit_and_record
from archive_ingest.models import Digests
from archive_ingest.settings import Settings
from archive_ingest.storage.signing import (
    ReceiptSigner,
    archive_public_key,
    key_id,
    private_key_path,
    public_key_path,
    public_pem,
)
from archive_ingest.storage.targets import check_targets
from tests.support.deposited import deposit_generated
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv

BagMaker = Callable[..., tuple[Path, dict[str, Digests]]]


def _key_file(path: Path, mode: int = 0o600) -> Path:
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(mode)
    return path


def test_a_lost_key_is_an_error_not_a_new_key(settings: Settings) -> None:
    first = ReceiptSigner.for_settings(settings)
    public = public_key_path(settings)
    assert public == settings.home / "keys" / "receipt-signing.pub"
    published = public.read_bytes()
    private_key_path(settings).unlink()
    with pytest.raises(ConfigError, match="restore the key from backup") as caught:
        ReceiptSigner.for_settings(settings)
    assert str(public) in str(caught.value) and "move" in str(caught.value)
    assert public.read_bytes() == published and not private_key_path(settings).exists()
    public.rename(public.with_name("old.pub"))  # the operator starts a new key on purpose
    assert ReceiptSigner.for_settings(settings).key_id != first.key_id


def test_a_public_key_of_another_key_is_never_overwritten(settings: Settings) -> None:
    ReceiptSigner.for_settings(settings)
    public = public_key_path(settings)
    other = public_pem(Ed25519PrivateKey.generate().public_key())
    public.write_bytes(other)
    with pytest.raises(ConfigError, match="not the public half"):
        ReceiptSigner.for_settings(settings)
    assert public.read_bytes() == other


def test_a_configured_key_must_be_private_and_its_public_key_is_appended(
    home: Path, tmp_path: Path
) -> None:
    loose = _key_file(tmp_path / "loose.key", 0o644)
    settings = Settings(receipt_signing_key_file=loose)
    with pytest.raises(ConfigError, match="readable by others"):
        ReceiptSigner.for_settings(settings)
    with pytest.raises(ConfigError, match=r"receipt signing key .* readable by others"):
        check_targets(settings)
    folder = tmp_path / "key-folder"
    folder.mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        check_targets(Settings(receipt_signing_key_file=folder))
    named_pub = _key_file(tmp_path / "signing.pub")
    original = named_pub.read_bytes()
    settings = Settings(receipt_signing_key_file=named_pub)
    check_targets(settings)
    signer = ReceiptSigner.for_settings(settings)
    assert named_pub.read_bytes() == original  # the key itself, untouched
    assert public_key_path(settings) == tmp_path / "signing.pub.pub"
    assert (tmp_path / "signing.pub.pub").read_bytes() == public_pem(signer.public)


def test_a_public_key_that_cannot_be_written_is_a_warning(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = _key_file(tmp_path / "archive.key")
    settings = Settings(receipt_signing_key_file=key)
    # the temporary name the public key is written through is taken: the write fails
    (tmp_path / f".archive.key.pub.{os.getpid()}.tmp").mkdir()
    with caplog.at_level(logging.WARNING):
        signer = ReceiptSigner.for_settings(settings)
    assert not public_key_path(settings).exists()
    assert "cannot write the public key" in caplog.text
    assert "PRIVATE KEY" not in caplog.text and key.read_text()[40:80] not in caplog.text
    # the audit and verify-receipt derive it from the private key
    derived = archive_public_key(settings)
    assert derived is not None and key_id(derived) == signer.key_id


def _deposit(settings: Settings, storage_bag: BagMaker) -> str:
    record_id = f"key-{uuid.uuid4().hex[:10]}"
    deposit_generated(settings, storage_bag, record_id, {"a.bin": os.urandom(3_000)})
    return record_id


def test_the_audit_derives_the_public_key_and_without_any_key_stops_once(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, storage_bag: BagMaker
) -> None:
    settings = targets_env(seaweed_trio[:2])
    _deposit(settings, storage_bag)
    public_key_path(settings).unlink()
    report = audit_and_record(settings)
    assert report.exit_code == 0, report.report()
    private_key_path(settings).unlink()
    result = CliRunner().invoke(app, ["audit", "--json"])
    assert result.exit_code == 2, result.stdout
    assert "no public key to check signed receipts" in result.stderr
    assert "receipt-tampered" not in result.stdout

"""`verify-receipt` checks a deposit receipt offline: a receipt signed with HOME's key passes
(from a file or stdin); an edited one, one checked against another key, an unsigned format-1
receipt and something that is not a receipt fail with exit 1 and say why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from archive_ingest.cli import app
from archive_ingest.settings import Settings
from archive_ingest.storage.receipt import DepositReceipt, StoredObject
from archive_ingest.storage.signing import ReceiptSigner, public_pem

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _receipt(**changes: object) -> DepositReceipt:
    root = "aip/rec-1/v1/"
    obj = StoredObject(
        path="data/a.pdf",
        key=root + "data/a.pdf",
        size=3,
        sha256="a" * 64,
        sha512="b" * 128,
        version_id="v-1",
        checksum_algorithm="SHA256",
        checksum="qqqq",
    )
    receipt = DepositReceipt(
        record_id="rec-1",
        version=1,
        bucket="bucket",
        prefix="aip",
        bag_uri="s3://bucket/" + root,
        receipt_key=root + "deposit-receipt.json",
        objects=[obj],
        payload_oxum="3.1",
        total_bytes=3,
        versioning=True,
        object_lock=True,
        started_at=NOW,
        completed_at=NOW,
        target="t1",
    )
    return receipt.model_copy(update=changes)


def _signed(settings: Settings) -> tuple[bytes, str]:
    signer = ReceiptSigner.for_settings(settings)
    receipt = _receipt()
    receipt = receipt.model_copy(update={"signature": signer.sign(receipt.stored_document())})
    return receipt.to_stored_json(), signer.key_id


def _run(*args: str, stdin: bytes | None = None) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(app, ["verify-receipt", *args], input=stdin)
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_a_signed_receipt_passes_from_a_file_and_from_stdin(
    settings: Settings, tmp_path: Path
) -> None:
    data, key_id = _signed(settings)
    path = tmp_path / "receipt.json"
    path.write_bytes(data)
    code, report, stderr = _run(str(path))
    assert code == 0, stderr
    assert report["ok"] is True and report["target"] == "t1" and report["record_id"] == "rec-1"
    assert (report["version"], report["objects"]) == (1, 1)
    assert f"signature ok (key {key_id})" in stderr
    assert "target t1, record rec-1, version 1" in stderr
    assert _run("-", stdin=data)[0] == 0


def test_an_edited_receipt_fails(settings: Settings, tmp_path: Path) -> None:
    data, _ = _signed(settings)
    document = json.loads(data)
    document["objects"][0]["sha256"] = "c" * 64
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    code, report, stderr = _run(str(path))
    assert code == 1 and report["ok"] is False
    assert "edited after signing" in stderr


def test_another_key_fails(settings: Settings, tmp_path: Path) -> None:
    data, key_id = _signed(settings)
    other = tmp_path / "other.pub"
    other.write_bytes(public_pem(Ed25519PrivateKey.generate().public_key()))
    path = tmp_path / "receipt.json"
    path.write_bytes(data)
    code, _, stderr = _run(str(path), "--public-key", str(other))
    assert code == 1
    assert f"signed by key {key_id}" in stderr


def test_an_unsigned_format_1_receipt_and_a_non_receipt_fail(
    settings: Settings, tmp_path: Path
) -> None:
    ReceiptSigner.for_settings(settings)  # HOME's key exists
    old = _receipt(format="archive-ingest/deposit-receipt/1", target=None)
    path = tmp_path / "old.json"
    path.write_bytes(old.to_stored_json())
    code, report, stderr = _run(str(path))
    assert code == 1 and report["format"] == "archive-ingest/deposit-receipt/1"
    assert "from before receipts were signed" in stderr
    path.write_text('{"hello": 1}')
    code, report, stderr = _run(str(path))
    assert code == 1 and report["record_id"] is None
    assert "not an archive-ingest deposit receipt" in stderr


def test_no_public_key_is_a_usage_error(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(_receipt().to_stored_json())
    result = CliRunner().invoke(app, ["verify-receipt", str(path)])
    assert result.exit_code == 2 and "public key" in result.stderr

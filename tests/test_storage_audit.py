"""Fixity audit against a real SeaweedFS: a good AIP passes; damage done behind the project's
back (a new version on top, a delete marker, a deleted version, rotten bytes on disk) fails
loudly with keys and reasons; the `audit` command exits non-zero with a JSON summary."""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archive_ingest.cli import app as cli_app
from archive_ingest.fixity import audit_and_record
from archive_ingest.settings import Settings
from archive_ingest.storage.audit import audit_aip, audit_many, audit_storage
from archive_ingest.storage.receipt import DepositReceipt
from archive_ingest.storage.s3 import client_config, make_client
from archive_ingest.storage.signing import ReceiptSigner
from tests.support.s3 import deposit

pytestmark = pytest.mark.slow


def _deposit_payload(
    settings: Settings, storage_bag: Any, payload: dict[str, bytes]
) -> DepositReceipt:
    name = f"aud-{uuid.uuid4().hex[:8]}"
    bag, manifest = storage_bag(payload, name=name)
    signer = ReceiptSigner.for_settings(settings)  # the audit checks HOME's public key
    return deposit(settings, bag, manifest, name, target="primary", signer=signer)


def _payload() -> dict[str, bytes]:
    return {"original.pdf": os.urandom(20_000), "text.txt": os.urandom(300)}


def _obj(receipt: DepositReceipt, path: str) -> Any:
    return next(o for o in receipt.objects if o.path == path)


def _reasons(result: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for problem in result.problems:
        out.setdefault(problem.key, set()).add(problem.reason)
    return out


def test_good_aip_passes_with_read_back(seaweed_settings: Settings, storage_bag: Any) -> None:
    receipt = _deposit_payload(seaweed_settings, storage_bag, _payload())
    client = make_client(seaweed_settings)
    result = audit_aip(client, seaweed_settings.s3_bucket, receipt, read_back=True)
    assert result.ok and result.problems == []
    assert result.objects_checked == len(receipt.objects) + 1  # the receipt is checked too
    assert result.event.event_type == "fixity check" and result.event.outcome == "success"
    assert result.event.outcome_detail["read_back"] is True


def test_new_version_on_top_is_caught(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposit_payload(seaweed_settings, storage_bag, _payload())
    target = _obj(receipt, "data/original.pdf")
    seaweed.client("admin").put_object(
        Bucket=seaweed_settings.s3_bucket, Key=target.key, Body=b"other bytes"
    )
    result = audit_aip(
        make_client(seaweed_settings), seaweed_settings.s3_bucket, receipt, read_back=True
    )
    assert not result.ok
    assert _reasons(result) == {target.key: {"replaced"}}
    assert result.event.outcome == "failure"
    assert result.event.outcome_detail["problems"][0]["key"] == target.key


def test_delete_marker_and_deleted_version_are_caught(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    receipt = _deposit_payload(seaweed_settings, storage_bag, _payload())
    bucket = seaweed_settings.s3_bucket
    admin = seaweed.client("admin")
    hidden = _obj(receipt, "data/original.pdf")
    gone = _obj(receipt, "data/text.txt")
    admin.delete_object(Bucket=bucket, Key=hidden.key)  # a delete marker on top
    admin.delete_object(  # the version itself, with the admin's governance bypass
        Bucket=bucket, Key=gone.key, VersionId=gone.version_id, BypassGovernanceRetention=True
    )
    result = audit_aip(make_client(seaweed_settings), bucket, receipt, read_back=False)
    assert _reasons(result) == {hidden.key: {"delete-marker"}, gone.key: {"missing"}}


def _rot_on_disk(data_dir: Path, needle: bytes) -> int:
    """Flip one byte of ``needle`` wherever SeaweedFS stored it in its volume files."""
    flipped = 0
    for dat in data_dir.rglob("*.dat"):
        content = dat.read_bytes()
        at = content.find(needle)
        while at != -1:
            with dat.open("r+b") as fh:
                fh.seek(at + len(needle) // 2)
                fh.write(bytes([content[at + len(needle) // 2] ^ 0xFF]))
            flipped += 1
            at = content.find(needle, at + 1)
    return flipped


def test_bit_rot_on_disk_is_caught_by_read_back(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    payload = _payload()
    receipt = _deposit_payload(seaweed_settings, storage_bag, payload)
    target = _obj(receipt, "data/original.pdf")
    assert _rot_on_disk(seaweed.local.data_dir, payload["original.pdf"][5000:5064]) >= 1
    # SeaweedFS notices the needle CRC mismatch and answers 500 after ~13 s of its own
    # retries; one attempt is enough here (production keeps botocore's standard retries)
    client = make_client(seaweed_settings, config=client_config(max_attempts=1))
    head_only = audit_aip(client, seaweed_settings.s3_bucket, receipt, read_back=False)
    assert head_only.ok  # metadata and server checksums cannot see rot: only a read-back can
    result = audit_aip(client, seaweed_settings.s3_bucket, receipt, read_back=True)
    assert _reasons(result) == {target.key: {"unreadable"}}
    assert result.event.outcome == "failure"


def test_audit_of_the_whole_prefix_reports_each_damaged_aip(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    good = [_deposit_payload(seaweed_settings, storage_bag, _payload()) for _ in range(2)]
    bad = _deposit_payload(seaweed_settings, storage_bag, _payload())
    hidden = _deposit_payload(seaweed_settings, storage_bag, _payload())
    bucket = seaweed_settings.s3_bucket
    admin = seaweed.client("admin")
    admin.put_object(Bucket=bucket, Key=_obj(bad, "data/text.txt").key, Body=b"tampered")
    admin.delete_object(Bucket=bucket, Key=hidden.receipt_key)  # the AIP "disappears"
    client = make_client(seaweed_settings)
    summary = audit_storage(
        client, bucket, seaweed_settings.s3_prefix, sample=1, rng=random.Random(7)
    )
    assert (summary.checked, summary.ok, summary.read_back) == (4, 2, 1)
    report = json.loads(json.dumps(summary.report()))
    failed = {entry["record_id"]: entry for entry in report["failed"]}
    assert set(failed) == {bad.record_id, hidden.record_id}
    assert failed[bad.record_id]["problems"][0]["reason"] == "replaced"
    assert failed[hidden.record_id]["problems"][0] == {
        "key": hidden.receipt_key,
        "reason": "delete-marker",
        "detail": "a delete marker hides our version",
    }
    assert summary.exit_code == 1
    assert {r.record_id for r in summary.results if r.ok} == {g.record_id for g in good}
    # the same receipts, as the catalogue would hand them over, give the same verdicts
    again = audit_many(client, bucket, [*good, bad, hidden], read_back_all=True)
    assert (again.checked, again.ok, again.read_back) == (4, 2, 4)


def test_audit_command_exits_non_zero_with_json(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    ok = _deposit_payload(seaweed_settings, storage_bag, _payload())
    app = cli_app
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "--all"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] == 1
    damaged = _deposit_payload(seaweed_settings, storage_bag, _payload())
    seaweed.client("admin").delete_object(
        Bucket=seaweed_settings.s3_bucket, Key=_obj(damaged, "data/original.pdf").key
    )
    result = runner.invoke(app, ["audit", "--sample", "1"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["checked"], report["ok"]) == (2, 1)
    assert report["failed"][0]["aip"] == damaged.bag_uri != ok.bag_uri
    assert "AUDIT FAILED" in result.stderr
    both = runner.invoke(app, ["audit", "--sample", "1", "--all"])
    assert both.exit_code == 2


def test_tiered_audit_of_copies_the_catalogue_does_not_know(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    """Without a catalogue record, a second version at a receipt key (even the same signed
    bytes again) is tampering, and a receipt hidden by a delete marker is still read, so its
    objects are checked rather than reported as strangers."""
    rewritten = _deposit_payload(seaweed_settings, storage_bag, _payload())
    hidden = _deposit_payload(seaweed_settings, storage_bag, _payload())
    bucket = seaweed_settings.s3_bucket
    admin = seaweed.client("admin")
    same = admin.get_object(Bucket=bucket, Key=rewritten.receipt_key)["Body"].read()
    admin.put_object(Bucket=bucket, Key=rewritten.receipt_key, Body=same)
    admin.delete_object(Bucket=bucket, Key=hidden.receipt_key)
    report = audit_and_record(seaweed_settings)
    assert report.exit_code == 1
    found = {c.record_id: {(p.key, p.reason) for p in c.problems} for c in report.copies}
    assert found == {
        rewritten.record_id: {(rewritten.receipt_key, "receipt-tampered")},
        hidden.record_id: {(hidden.receipt_key, "delete-marker")},
    }
    assert {c.objects_checked for c in report.copies} == {len(rewritten.objects) + 1}

"""What the audit records about copies the catalogue does not follow, against real SeaweedFS
servers (two of the session trio): a copy found in storage is adopted only on a signed format-2
receipt naming its target and only when the catalogue has no copies row for it; a format-1
receipt (older deposit) is reported ``unadopted`` (a note, not a finding) and left to
``replicate``; a ``failed`` row stays failed; a later signed receipt revision (a repair killed
before it updated the catalogue) is recorded, receipt and object versions."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, objects_of_copy, record_copy
from archive_ingest.fixity import audit_and_record
from archive_ingest.ingest.copies import deposit_to_targets, record_copies
from archive_ingest.models import Digests, utcnow
from archive_ingest.replication.restore import (
    replaced_version,
    write_new_version,
    write_revision,
)
from archive_ingest.settings import Settings
from archive_ingest.storage import deposit as deposit_module
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import target_views
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv

pytestmark = pytest.mark.slow

BagMaker = Callable[..., tuple[Path, dict[str, Digests]]]


class _FormatOneReceipt(DepositReceipt):
    """A receipt as deposits wrote them before receipts were signed."""

    format: str = "archive-ingest/deposit-receipt/1"


@pytest.fixture
def two_targets(seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv) -> Settings:
    return targets_env(seaweed_trio[:2])


def _catalogue(settings: Settings) -> Catalogue:
    return Catalogue.open(settings.effective_database_url)


def _register(settings: Settings, record_id: str) -> None:
    catalogue = _catalogue(settings)
    try:
        catalogue.ensure_item(record_id, source=f"test:{record_id}", source_kind="chapter")
        catalogue.new_version(record_id, original_sha256=None, work_dir=None)
    finally:
        catalogue.close()


def _copies(settings: Settings, record_id: str) -> dict[str, str]:
    catalogue = _catalogue(settings)
    try:
        return {c.target: c.status for c in copies_of(catalogue, record_id, 1)}
    finally:
        catalogue.close()


def _deposit_on_t1(
    settings: Settings, storage_bag: BagMaker, *, signed: bool = True
) -> tuple[str, DepositReceipt]:
    """One copy written on t1 alone, behind the catalogue's back."""
    record_id = f"adopt-{uuid.uuid4().hex[:10]}"
    bag, manifest = storage_bag({"a.bin": os.urandom(4_000)}, name=record_id)
    _register(settings, record_id)
    view = target_views(settings)[0]
    receipt = deposit_bag(
        make_client(view),
        bucket=view.s3_bucket,
        prefix=view.s3_prefix,
        record_id=record_id,
        version=1,
        bag_dir=bag,
        manifest=manifest,
        lock=LockPolicy.from_settings(view),
        read_back=False,
        target="t1" if signed else None,
        signer=ReceiptSigner.for_settings(settings) if signed else None,
    )
    return record_id, receipt


def test_a_format_1_copy_is_reported_unadopted_not_adopted(
    two_targets: Settings, storage_bag: BagMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ReceiptSigner.for_settings(two_targets)  # the archive has a key
    with monkeypatch.context() as patch:
        patch.setattr(deposit_module, "DepositReceipt", _FormatOneReceipt)
        record_id, receipt = _deposit_on_t1(two_targets, storage_bag, signed=False)
    assert receipt.format == "archive-ingest/deposit-receipt/1"
    report = audit_and_record(two_targets)
    assert report.exit_code == 0, report.report()  # a note, not a finding
    [copy] = report.copies
    assert copy.unadopted is not None and "replicate" in copy.unadopted
    [listed] = report.report()["unadopted"]
    assert (listed["record_id"], listed["target"]) == (record_id, "t1")
    assert _copies(two_targets, record_id) == {}


def test_a_failed_row_is_not_turned_verified_by_the_audit(
    two_targets: Settings, storage_bag: BagMaker
) -> None:
    record_id, _ = _deposit_on_t1(two_targets, storage_bag)
    catalogue = _catalogue(two_targets)
    try:
        record_copy(catalogue, record_id, 1, "t1", status="failed", detail="test: upload failed")
    finally:
        catalogue.close()
    report = audit_and_record(two_targets)
    [copy] = report.copies
    assert copy.unadopted is not None and "failed" in copy.unadopted
    assert _copies(two_targets, record_id) == {"t1": "failed"}


def test_a_later_signed_receipt_revision_is_recorded(
    two_targets: Settings, storage_bag: BagMaker, tmp_path: Path
) -> None:
    record_id = f"rev-{uuid.uuid4().hex[:10]}"
    payload = {"a.bin": os.urandom(4_000)}
    bag, manifest = storage_bag(payload, name=record_id)
    _register(two_targets, record_id)
    outcomes = deposit_to_targets(
        two_targets, record_id=record_id, version=1, bag_dir=bag, manifest=manifest
    )
    catalogue = _catalogue(two_targets)
    try:
        record_copies(catalogue, record_id, 1, outcomes)
    finally:
        catalogue.close()
    base = next(o.receipt for o in outcomes if o.target == "t1")
    assert base is not None
    # what a repair does, killed before it updates the catalogue: a new version of an object
    # and a signed receipt revision 2 naming it (the old version in ``replaces``)
    view = target_views(two_targets)[0]
    client, lock = make_client(view), LockPolicy.from_settings(view)
    old = next(o for o in base.objects if o.path == "data/a.bin")
    source = tmp_path / "a.bin"
    source.write_bytes(payload["a.bin"])
    new = write_new_version(
        client,
        view.s3_bucket,
        key=old.key,
        path=old.path,
        source_file=source,
        size=old.size,
        sha256=old.sha256,
        sha512=old.sha512,
        lock=lock,
    )
    revision = write_revision(
        client,
        view.s3_bucket,
        base,
        target="t1",
        objects=[new if o.key == old.key else o for o in base.objects],
        replaces=[replaced_version(old.key, old.version_id, "test", "t2", utcnow())],
        note="test: a repair killed before the catalogue",
        signer=ReceiptSigner.for_settings(two_targets),
        lock=lock,
    )
    report = audit_and_record(two_targets)
    assert report.exit_code == 0, report.report()
    catalogue = _catalogue(two_targets)
    try:
        [row] = [c for c in copies_of(catalogue, record_id, 1) if c.target == "t1"]
        versions = {o.key: o.version_id for o in objects_of_copy(catalogue, record_id, 1, "t1")}
    finally:
        catalogue.close()
    assert row.status == "verified"
    assert row.receipt_version_id == revision.receipt_version_id
    marker = revision.receipt_object
    assert marker is not None and row.receipt_sha256 == marker.sha256
    assert versions[old.key] == new.version_id != old.version_id
    assert versions[base.receipt_key] == revision.receipt_version_id
    again = audit_and_record(two_targets, read_back_all=True)  # the catalogue now follows
    assert again.exit_code == 0, again.report()
    assert not any("newer" in n for c in again.copies for n in c.notes)

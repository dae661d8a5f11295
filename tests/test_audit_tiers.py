"""The tiered audit against real SeaweedFS servers (two of the session trio) and real damage
(tests/support/damage.py): the fast pass is clean on good copies and names the one target
where an object was deleted or overwritten behind the archive's back, its retention
shortened, or the receipt edited; a byte flipped on disk passes the fast pass (the ETag and
checksum attribute are intact) and is found by the full re-hash; the re-hash budget walks the
objects least-recently re-hashed first; every check lands in the catalogue with one PREMIS
event per copy; the command exits 1 on any finding and on a target that does not answer; the
flow records, then fails."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, objects_of_copy
from archive_ingest.cli import app
from archive_ingest.fixity import audit_and_record
from archive_ingest.ingest.copies import deposit_to_targets, record_copies
from archive_ingest.models import Digests
from archive_ingest.settings import Settings, reset_settings_cache
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import target_views
from tests.support.damage import (
    delete_behind_back,
    edit_receipt,
    flip_stored_bytes,
    overwrite_behind_back,
)
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.ports import free_port

pytestmark = pytest.mark.slow

BagMaker = Callable[..., tuple[Path, dict[str, Digests]]]


@dataclass
class Deposited:
    settings: Settings
    record_id: str
    payload: dict[str, bytes]
    receipts: dict[str, DepositReceipt]  # target -> its copy's receipt

    def key(self, path: str) -> str:
        return next(o.key for o in self.receipts["t1"].objects if o.path == path)


def _catalogue(settings: Settings) -> Catalogue:
    return Catalogue.open(settings.effective_database_url)


def _register(settings: Settings, record_id: str) -> None:
    catalogue = _catalogue(settings)
    try:
        catalogue.ensure_item(record_id, source=f"test:{record_id}", source_kind="chapter")
        catalogue.new_version(record_id, original_sha256=None, work_dir=None)
    finally:
        catalogue.close()


@pytest.fixture
def two_targets(seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv) -> Settings:
    return targets_env(seaweed_trio[:2])


@pytest.fixture
def deposited(two_targets: Settings, storage_bag: BagMaker) -> Deposited:
    """One item, two copies (t1, t2) recorded in the catalogue as the ingest records them."""
    return _deposit(two_targets, storage_bag)


def _deposit(settings: Settings, storage_bag: BagMaker, files: int = 2) -> Deposited:
    record_id = f"aud-{uuid.uuid4().hex[:10]}"
    payload = {f"part-{n}.bin": os.urandom(6_000 + 1_000 * n) for n in range(files)}
    bag, manifest = storage_bag(payload, name=record_id)
    _register(settings, record_id)
    outcomes = deposit_to_targets(
        settings, record_id=record_id, version=1, bag_dir=bag, manifest=manifest
    )
    assert all(o.verified for o in outcomes), [o.reason for o in outcomes]
    catalogue = _catalogue(settings)
    try:
        record_copies(catalogue, record_id, 1, outcomes)
    finally:
        catalogue.close()
    receipts = {o.target: o.receipt for o in outcomes if o.receipt is not None}
    return Deposited(settings, record_id, payload, receipts)


def _reasons(report: Any, target: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for copy in report.copies:
        if copy.target == target:
            for problem in copy.problems:
                out.setdefault(problem.key, set()).add(problem.reason)
    return out


def _events(settings: Settings, record_id: str) -> list[Any]:
    catalogue = _catalogue(settings)
    try:
        return [e for e in catalogue.events(record_id) if e.event_type == "fixity check"]
    finally:
        catalogue.close()


def _copy_status(settings: Settings, record_id: str) -> dict[str, str]:
    catalogue = _catalogue(settings)
    try:
        return {c.target: c.status for c in copies_of(catalogue, record_id, 1)}
    finally:
        catalogue.close()


def test_fast_pass_of_good_copies_is_clean_and_recorded_per_copy(deposited: Deposited) -> None:
    settings = deposited.settings
    before = len(_events(settings, deposited.record_id))
    report = audit_and_record(settings)
    assert report.exit_code == 0, report.report()
    assert [t.name for t in report.targets] == ["t1", "t2"]
    per_copy = len(deposited.receipts["t1"].objects) + 1
    for target in report.targets:
        assert target.objects_checked == per_copy and target.objects_rehashed == 0
    events = _events(settings, deposited.record_id)[before:]
    assert len(events) == 2  # one per copy
    assert {e.outcome_detail["target"] for e in events} == {"t1", "t2"}
    assert all("fast tier" in e.detail and e.agent == "archive-ingest" for e in events)
    catalogue = _catalogue(settings)
    try:
        objects = objects_of_copy(catalogue, deposited.record_id, 1, "t2")
        assert objects and all(o.last_status == "ok" and o.last_checked_at for o in objects)
    finally:
        catalogue.close()


def test_delete_and_overwrite_behind_the_back_are_found_on_that_target_only(
    deposited: Deposited, seaweed_trio: list[SeaweedServer]
) -> None:
    deleted, overwritten = deposited.key("data/part-0.bin"), deposited.key("data/part-1.bin")
    delete_behind_back(seaweed_trio[1], deleted)  # t2
    overwrite_behind_back(seaweed_trio[1], overwritten, b"not the archive's bytes")
    shortened = next(o for o in deposited.receipts["t2"].objects if o.path == "bagit.txt")
    assert shortened.retain_until is not None
    seaweed_trio[1].client("admin").put_object_retention(  # the admin shortens the retention
        Bucket=seaweed_trio[1].bucket,
        Key=shortened.key,
        VersionId=str(shortened.version_id),
        Retention={
            "Mode": "GOVERNANCE",
            "RetainUntilDate": shortened.retain_until - dt.timedelta(hours=12),
        },
        BypassGovernanceRetention=True,
    )
    report = audit_and_record(deposited.settings)
    assert report.exit_code == 1
    assert _reasons(report, "t1") == {}
    assert _reasons(report, "t2") == {
        deleted: {"delete-marker"},
        overwritten: {"replaced"},
        shortened.key: {"lock-missing"},
    }
    assert _copy_status(deposited.settings, deposited.record_id) == {
        "t1": "verified",
        "t2": "damaged",
    }
    catalogue = _catalogue(deposited.settings)
    try:
        status = {
            o.key: o.last_status for o in objects_of_copy(catalogue, deposited.record_id, 1, "t2")
        }
    finally:
        catalogue.close()
    assert status[deleted] == "delete-marker" and status[overwritten] == "replaced"
    failed = [e for e in _events(deposited.settings, deposited.record_id) if e.outcome == "failure"]
    assert [e.outcome_detail["target"] for e in failed] == ["t2"]


def test_bit_rot_passes_the_fast_pass_and_the_full_pass_finds_it(
    deposited: Deposited, seaweed_trio: list[SeaweedServer]
) -> None:
    key = deposited.key("data/part-1.bin")
    version = deposited.receipts["t1"].objects[0].version_id
    flip_stored_bytes(seaweed_trio[0], deposited.payload["part-1.bin"], key=key)  # t1
    fast = audit_and_record(deposited.settings)
    assert fast.exit_code == 0, fast.report()  # ETag, checksum attribute, size: all intact
    full = audit_and_record(deposited.settings, full=True, max_bytes=10**9)
    assert _reasons(full, "t1") == {key: {"content-mismatch"}}, full.report()
    assert _reasons(full, "t2") == {}
    assert (
        full.report()["targets"]["t1"]["objects_rehashed"]
        == len(deposited.receipts["t1"].objects) + 1
    )
    assert _copy_status(deposited.settings, deposited.record_id)["t1"] == "damaged"
    last = _events(deposited.settings, deposited.record_id)[-2:]
    assert {e.outcome_detail["target"]: e.outcome for e in last} == {
        "t1": "failure",
        "t2": "success",
    }
    assert all("fast+full tier" in e.detail for e in last), version
    # the scheduled tier re-hashes with SHA-256 alone (audit_rehash_digests); --all with both
    assert all("hashed (SHA-256)" in e.detail for e in last)
    audit_and_record(deposited.settings, read_back_all=True)
    last = _events(deposited.settings, deposited.record_id)[-2:]
    assert all("hashed (SHA-256, SHA-512)" in e.detail for e in last)


def test_an_edited_receipt_is_tampered(
    deposited: Deposited, seaweed_trio: list[SeaweedServer]
) -> None:
    receipt_key = deposited.receipts["t2"].receipt_key
    edit_receipt(seaweed_trio[1], receipt_key)
    report = audit_and_record(deposited.settings, targets=["t2"])
    assert [t.name for t in report.targets] == ["t2"]
    reasons = _reasons(report, "t2")
    assert reasons == {receipt_key: {"receipt-tampered"}}, report.report()
    detail = report.failed[0].problems[0].detail
    assert "edited after signing" in detail


def test_the_budget_rehashes_least_recently_hashed_first_and_three_passes_cover_all(
    two_targets: Settings, storage_bag: BagMaker
) -> None:
    item = _deposit(two_targets, storage_bag, files=5)
    catalogue = _catalogue(two_targets)

    def hashed_at() -> dict[str, Any]:
        return {
            o.key: o.last_hashed_at for o in objects_of_copy(catalogue, item.record_id, 1, "t1")
        }

    try:
        start = hashed_at()
        sizes = [o.size for o in objects_of_copy(catalogue, item.record_id, 1, "t1")]
        budget = sum(sizes) // 3 + 1 + max(sizes)  # each pass > a third; never all at once
        passes: list[set[str]] = []
        for _ in range(3):
            before = hashed_at()
            report = audit_and_record(two_targets, targets=["t1"], full=True, max_bytes=budget)
            assert report.exit_code == 0, report.report()
            after = hashed_at()
            passes.append({k for k in after if after[k] != before[k]})
            summary = report.report()["targets"]["t1"]
            assert summary["rehash"]["budget_bytes"] == budget
            assert summary["objects_rehashed"] == len(passes[-1])
        first, second, third = passes
        assert first and second and not (first & second)
        assert first | second | third == set(start)
        assert summary["rehash"]["total_bytes"] == sum(sizes)
    finally:
        catalogue.close()


def test_default_budget_and_command_exit_codes_with_a_target_that_does_not_answer(
    deposited: Deposited, seaweed_trio: list[SeaweedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "--full"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rehash = report["targets"]["t1"]["rehash"]
    total = rehash["total_bytes"]
    # nothing overdue (hashed at deposit): one day's share of a 30-day cycle
    assert rehash["overdue_bytes"] == 0 and rehash["budget_bytes"] == -(-total // 30)
    assert "fixity audit" in result.stderr and "t2" in result.stderr

    entries = json.loads(os.environ["ARCHIVE_INGEST_STORAGE_TARGETS"])
    dead = {**entries[0], "name": "t3", "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    monkeypatch.setenv("ARCHIVE_INGEST_STORAGE_TARGETS", json.dumps([*entries, dead]))
    reset_settings_cache()
    result = runner.invoke(app, ["audit", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["checked"] == report["ok"] == 2  # t1 and t2 still audited
    assert [u["target"] for u in report["unreachable"]] == ["t3"]
    assert "does not answer" in report["unreachable"][0]["error"]
    assert "target t3 was not audited" in result.stderr
    alone = runner.invoke(app, ["audit", "--target", "t3"])
    assert alone.exit_code == 2 and "does not answer" in alone.stderr
    unknown = runner.invoke(app, ["audit", "--target", "nowhere"])
    assert unknown.exit_code == 2 and "no storage target named nowhere" in unknown.stderr


def test_a_copy_from_before_the_copies_table_is_adopted(
    two_targets: Settings, storage_bag: BagMaker
) -> None:
    record_id = f"old-{uuid.uuid4().hex[:10]}"
    bag, manifest = storage_bag({"a.bin": os.urandom(5_000)}, name=record_id)
    _register(two_targets, record_id)
    view = target_views(two_targets)[0]
    deposit_bag(
        make_client(view),
        bucket=view.s3_bucket,
        prefix=view.s3_prefix,
        record_id=record_id,
        version=1,
        bag_dir=bag,
        manifest=manifest,
        lock=LockPolicy.from_settings(view),
        read_back=False,
        target="t1",
        signer=ReceiptSigner.for_settings(two_targets),
    )
    report = audit_and_record(two_targets)
    assert report.exit_code == 0, report.report()
    [copy] = report.copies
    # a signed /2 receipt naming t1, and no copies row for t1: adopted
    assert not copy.known and "adopted" in " ".join(copy.notes) and copy.unadopted is None
    assert report.report()["unadopted"] == []
    assert _copy_status(two_targets, record_id) == {"t1": "verified"}
    assert len(_events(two_targets, record_id)) == 1


def test_the_flow_records_then_fails_so_a_schedule_alerts(
    deposited: Deposited, seaweed_trio: list[SeaweedServer], prefect_api_url: str
) -> None:
    from flows.audit import AuditFailed, fixity_audit  # Prefect once its server is up

    assert fixity_audit()["checked"] == 2  # fast + budgeted full pass, clean
    key = deposited.key("data/part-0.bin")
    delete_behind_back(seaweed_trio[0], key)
    before = len(_events(deposited.settings, deposited.record_id))
    with pytest.raises(AuditFailed, match="on t1"):
        fixity_audit()
    after = _events(deposited.settings, deposited.record_id)[before:]
    assert sorted(e.outcome for e in after) == ["failure", "success"]  # recorded first
    assert _copy_status(deposited.settings, deposited.record_id)["t1"] == "damaged"

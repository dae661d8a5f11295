"""`archive-ingest replicate` against real SeaweedFS servers: a target added later gets every
AIP from a verified copy (a signed receipt naming it, the same digests), an under-replicated
item becomes deposited, a re-run has nothing to do, a run killed mid-upload is finished by
the next with one S3 version per key, and deposits made before copies were recorded are
adopted after a full check."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, copy_objects, record_copy
from archive_ingest.models import State
from archive_ingest.reliability.crashpoints import CRASH_ENV, PAUSE_ENV, PAUSE_FILE_ENV
from archive_ingest.replication.progress import TransferProgress
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.listing import version_index
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy, receipt_signature_problem
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import target_views
from tests.support.cli import json_lines, power_cut_when, run_cli
from tests.support.damage import flip_stored_bytes
from tests.support.plugins.storage import SeaweedServer, write_bag
from tests.support.plugins.targets import TargetsEnv


def deposit_item(
    settings: Settings,
    catalogue: Catalogue,
    tmp: Path,
    *,
    state: State = State.DEPOSITED,
    record_copies: bool = True,
    payload: dict[str, bytes] | None = None,
) -> str:
    """A small AIP deposited to every target of ``settings`` and catalogued as the deposit
    records it (item, version, copies), or without copies rows (an older deposit)."""
    record_id = f"test-{uuid.uuid4().hex[:10]}"
    payload = payload or {"a.bin": os.urandom(3000), "b.txt": uuid.uuid4().hex.encode() * 40}
    bag_dir = tmp / record_id
    manifest = write_bag(bag_dir, payload)
    catalogue.ensure_item(record_id, source=f"test:{record_id}", source_kind="test")
    version = catalogue.new_version(record_id, original_sha256=None, work_dir=None)
    signer = ReceiptSigner.for_settings(settings)
    bag_uri = ""
    for view in target_views(settings):
        receipt = deposit_bag(
            make_client(view),
            bucket=view.s3_bucket,
            prefix=view.s3_prefix,
            record_id=record_id,
            version=version,
            bag_dir=bag_dir,
            manifest=manifest,
            lock=LockPolicy.from_settings(view),
            read_back=False,
            target=view.storage_target_name,
            signer=signer,
        )
        bag_uri = bag_uri or receipt.bag_uri
        if record_copies:
            record_copy(
                catalogue,
                record_id,
                version,
                view.storage_target_name,
                status="verified",
                bag_uri=receipt.bag_uri,
                receipt_key=receipt.receipt_key,
                receipt_version_id=receipt.receipt_version_id,
                receipt_sha256=receipt.receipt_object.sha256 if receipt.receipt_object else None,
                objects=copy_objects(receipt),
            )
    catalogue.update_version(record_id, version, bag_uri=bag_uri)
    catalogue.set_state(
        record_id, state, [], version=version, bag_uri=bag_uri, deposited_version=version
    )
    return record_id


def stored_receipt(view: Settings, record_id: str) -> tuple[DepositReceipt, bytes]:
    key = f"{view.s3_prefix}/{record_id}/v1/deposit-receipt.json"
    data = make_client(view).get_object(Bucket=view.s3_bucket, Key=key)["Body"].read()
    return DepositReceipt.from_stored_json(data), data


def versions_per_key(view: Settings) -> dict[str, int]:
    index = version_index(make_client(view), view.s3_bucket, view.s3_prefix + "/")
    return {key: len(entries) for key, entries in index.items()}


def replicate(*args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_cli(dict(os.environ), "replicate", *args, timeout=300)
    lines = json_lines(proc)
    return proc.returncode, (lines[-1] if lines else {}), proc.stderr


def test_a_target_added_later_gets_every_aip_and_a_rerun_has_nothing_to_do(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    one = targets_env(seaweed_trio[:1], prefix=prefix)
    catalogue = Catalogue.open(one.effective_database_url)
    try:
        done = deposit_item(one, catalogue, tmp_path)
        waiting = deposit_item(one, catalogue, tmp_path, state=State.UNDER_REPLICATED)
        two = targets_env(seaweed_trio[:2], prefix=prefix)  # t2 is added
        t1, t2 = target_views(two)

        code, dry, _ = replicate("--dry-run")
        assert code == 0 and len(dry["planned"]) == 2
        assert not any(k.startswith(prefix) for k in versions_per_key(t2))  # nothing written

        code, report, stderr = replicate()
        assert code == 0, stderr
        assert report["failed"] == [] and len(report["replicated"]) == 2
        public = ReceiptSigner.for_settings(two).public
        for record_id in (done, waiting):
            source, _ = stored_receipt(t1, record_id)
            copy, data = stored_receipt(t2, record_id)
            assert receipt_signature_problem(data, public) is None
            assert copy.target == "t2"
            assert {(o.path, o.sha256, o.sha512) for o in copy.objects} == {
                (o.path, o.sha256, o.sha512) for o in source.objects
            }
            assert {c.target: c.status for c in copies_of(catalogue, record_id, 1)} == {
                "t1": "verified",
                "t2": "verified",
            }
            events = catalogue.events(record_id, 1)
            [event] = [e for e in events if e.outcome_detail.get("action") == "replicate"]
            assert (event.outcome_detail["source_target"], event.outcome_detail["target"]) == (
                "t1",
                "t2",
            )
            item = catalogue.get_item(record_id)
            assert item is not None and item.state == State.DEPOSITED.value
        assert report["deposited"] == [waiting]

        code, again, _ = replicate()
        assert code == 0 and again["nothing_to_do"] is True
        assert set(versions_per_key(t2).values()) == {1}
    finally:
        catalogue.close()


def test_a_run_killed_mid_upload_is_finished_by_the_next_with_nothing_duplicated(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    one = targets_env(seaweed_trio[:1], prefix=prefix)
    catalogue = Catalogue.open(one.effective_database_url)
    try:
        records = [deposit_item(one, catalogue, tmp_path) for _ in range(2)]
        two = targets_env([seaweed_trio[0], seaweed_trio[2]], prefix=prefix)
        t2 = target_views(two)[1]
        env = {**os.environ, CRASH_ENV: "mid-upload:4"}
        killed = run_cli(env, "replicate", "--concurrency", "1", timeout=300)
        assert killed.returncode == -9, killed.stderr  # SIGKILL, mid-way through an AIP
        assert any(key.startswith(prefix) for key in versions_per_key(t2))

        code, report, stderr = replicate()
        assert code == 0, stderr
        assert report["failed"] == []
        for record_id in records:
            assert {c.target: c.status for c in copies_of(catalogue, record_id, 1)} == {
                "t1": "verified",
                "t2": "verified",
            }
            stored_receipt(t2, record_id)
            leftovers = home / "work" / record_id / "tmp"
            assert not leftovers.exists() or not any(leftovers.iterdir())
        per_key = versions_per_key(t2)
        assert per_key and set(per_key.values()) == {1}, per_key
        code, again, _ = replicate()
        assert code == 0 and again["nothing_to_do"] is True
    finally:
        catalogue.close()


def test_deposits_from_before_copies_are_adopted_after_a_full_check(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    settings = targets_env(seaweed_trio[:2])
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        record_id = deposit_item(settings, catalogue, tmp_path, record_copies=False)
        assert copies_of(catalogue, record_id, 1) == []
        code, report, stderr = replicate()
        assert code == 0, stderr
        adopted = report["adopted"]
        assert isinstance(adopted, list)
        assert sorted(a["target"] for a in adopted if a["adopted"]) == ["t1", "t2"]
        assert {c.status for c in copies_of(catalogue, record_id, 1)} == {"verified"}
        code, again, _ = replicate()
        assert code == 0 and again["nothing_to_do"] is True
    finally:
        catalogue.close()


def test_nothing_is_copied_from_a_copy_that_fails_its_hashes(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    pair = targets_env(seaweed_trio[:2], prefix=prefix)
    catalogue = Catalogue.open(pair.effective_database_url)
    try:
        rotten_here = os.urandom(4096)
        good_elsewhere = deposit_item(pair, catalogue, tmp_path, payload={"a.bin": rotten_here})
        only_rotten = os.urandom(4096)
        alone = deposit_item(
            targets_env(seaweed_trio[:1], prefix=prefix),
            catalogue,
            tmp_path,
            payload={"a.bin": only_rotten},
        )
        flip_stored_bytes(seaweed_trio[0], rotten_here)  # bit rot on t1, under intact ETags
        flip_stored_bytes(seaweed_trio[0], only_rotten)
        trio = targets_env(seaweed_trio, prefix=prefix)  # t3 is added

        code, report, _ = replicate("--target", "t3")
        assert code == 1
        [copied] = report["replicated"]
        assert (copied["record_id"], copied["source_target"]) == (good_elsewhere, "t2")
        [failed] = report["failed"]
        assert alone in failed and "source t1" in failed
        t3 = target_views(trio)[2]
        _, data = stored_receipt(t3, good_elsewhere)
        assert receipt_signature_problem(data, ReceiptSigner.for_settings(trio).public) is None
        assert not any(key.startswith(f"{prefix}/{alone}/") for key in versions_per_key(t3))
        assert {c.target: c.status for c in copies_of(catalogue, alone, 1)}["t3"] == "failed"
    finally:
        catalogue.close()


def test_a_power_cut_between_the_event_and_the_copy_record_duplicates_nothing(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    """Killed from outside (SIGKILL of the process tree) right after the replication event's
    commit, before the copy is recorded: the re-run finds the receipt, records the copy and
    adds no second event."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    one = targets_env(seaweed_trio[:1], prefix=prefix)
    catalogue = Catalogue.open(one.effective_database_url)
    try:
        record_id = deposit_item(one, catalogue, tmp_path)
        targets_env(seaweed_trio[:2], prefix=prefix)
        pause = tmp_path / "pause.txt"
        label = "record_transfer.add_events#1"
        env = {**os.environ, PAUSE_FILE_ENV: str(pause), PAUSE_ENV: f"commit@{label}"}
        killed = power_cut_when(
            env,
            tmp_path / "replicate.log",
            lambda: pause.is_file() and label in pause.read_text(),
            "replicate",
        )
        assert killed, (tmp_path / "replicate.log").read_text()
        assert "t2" not in {c.target for c in copies_of(catalogue, record_id, 1)}

        code, report, stderr = replicate()
        assert code == 0, stderr
        assert [o["status"] for o in report["replicated"]] == ["already-there"]
        assert copies_of(catalogue, record_id, 1)[-1].status == "verified"
        events = [
            e
            for e in catalogue.events(record_id, 1)
            if e.outcome_detail.get("action") == "replicate"
        ]
        assert len(events) == 1
    finally:
        catalogue.close()


def test_the_progress_bar_is_drawn_on_a_terminal_only() -> None:
    assert TransferProgress(1, 10).enabled is False  # pytest's stderr is no terminal
    with TransferProgress(2, 10, enabled=True) as bar:
        bar.add_bytes(6)
        bar.item_done()
        bar.add_bytes(4)
        bar.item_done()

"""`archive-ingest repair` against real SeaweedFS servers and real damage (tests/support/
damage.py): a copy deleted behind the archive's back, bytes rotted on disk, a receipt edited in
the bucket are each restored from a good copy on another target as a new S3 version with a new
signed receipt revision; an object rotten on every target is reported lost with nothing
written; --dry-run writes nothing."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, objects_of_copy
from archive_ingest.replication.restore import lock_for, write_new_version
from archive_ingest.settings import Settings
from archive_ingest.storage.listing import version_index
from archive_ingest.storage.receipt import DepositReceipt, LockPolicy, receipt_signature_problem
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import target_views
from tests.support.bag import digests_of
from tests.support.cli import json_lines, run_cli
from tests.support.damage import delete_behind_back, edit_receipt, flip_stored_bytes
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.test_replicate import deposit_item


def repair(*args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_cli(dict(os.environ), "repair", *args, timeout=300)
    lines = json_lines(proc)
    return proc.returncode, (lines[-1] if lines else {}), proc.stderr


def audit(*args: str) -> int:
    """`archive-ingest audit` (every target; records what it finds); its exit code."""
    return run_cli(dict(os.environ), "audit", "--json", *args, timeout=300).returncode


def versions(view: Settings, record_id: str) -> dict[str, list[str]]:
    """Every version id (delete markers included) per key of the record's AIP."""
    index = version_index(make_client(view), view.s3_bucket, f"{view.s3_prefix}/{record_id}/")
    return {
        key: sorted(e.version_id for e in entries if e.version_id) for key, entries in index.items()
    }


def latest_receipt(view: Settings, record_id: str) -> tuple[DepositReceipt, bytes]:
    key = f"{view.s3_prefix}/{record_id}/v1/deposit-receipt.json"
    data = make_client(view).get_object(Bucket=view.s3_bucket, Key=key)["Body"].read()
    return DepositReceipt.from_stored_json(data), data


class Aip:
    """One small AIP on two targets of the trio, with a unique payload to damage."""

    def __init__(self, servers: list[SeaweedServer], targets_env: TargetsEnv, tmp: Path):
        self.servers = servers
        self.settings = targets_env(servers)
        self.views = target_views(self.settings)
        self.catalogue = Catalogue.open(self.settings.effective_database_url)
        self.data = os.urandom(4096)
        payload = {"a.bin": self.data, "b.txt": uuid.uuid4().hex.encode() * 40}
        self.record_id = deposit_item(self.settings, self.catalogue, tmp, payload=payload)

    def key(self, target: int, path: str) -> str:
        return f"{self.views[target].s3_prefix}/{self.record_id}/v1/{path}"

    def status(self) -> dict[str, str]:
        return {c.target: c.status for c in copies_of(self.catalogue, self.record_id, 1)}

    def snapshot(self) -> list[dict[str, list[str]]]:
        return [versions(view, self.record_id) for view in self.views]

    def check_signed(self, target: int, revision: int) -> DepositReceipt:
        receipt, data = latest_receipt(self.views[target], self.record_id)
        public = ReceiptSigner.for_settings(self.settings).public
        assert receipt_signature_problem(data, public) is None
        assert (receipt.target, receipt.revision) == (
            self.views[target].storage_target_name,
            revision,
        )
        return receipt

    def close(self) -> None:
        self.catalogue.close()


def test_a_deleted_object_is_restored_from_the_other_target_and_dry_run_writes_nothing(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    aip = Aip(seaweed_trio[:2], targets_env, tmp_path)
    try:
        key = aip.key(1, "data/a.bin")
        marker = delete_behind_back(aip.servers[1], key)
        assert audit() == 1  # the audit finds it and marks the copy damaged
        assert aip.status() == {"t1": "verified", "t2": "damaged"}
        before = aip.snapshot()

        code, plan, stderr = repair("--dry-run")
        assert code == 0, stderr
        [planned] = plan["planned"]
        assert [(a["key"], a["reason"], a["source_target"]) for a in planned["actions"]] == [
            (key, "delete-marker", "t1")
        ]
        assert aip.snapshot() == before and aip.status()["t2"] == "damaged"

        code, report, stderr = repair()
        assert code == 0, stderr
        [done] = report["repaired"]
        [action] = done["actions"]
        assert (action["source_target"], action["bad_version"]) == ("t1", marker)
        after = aip.snapshot()
        assert after[0] == before[0]  # t1 untouched
        assert len(after[1][key]) == len(before[1][key]) + 1  # a new version; nothing deleted
        receipt = aip.check_signed(1, revision=2)
        [stored] = [o for o in receipt.objects if o.key == key]
        assert stored.version_id == action["new_version"]
        assert marker in {r.version_id for r in receipt.replaces if r.key == key}
        assert {r.source_target for r in receipt.replaces} == {"t1"}
        assert aip.status() == {"t1": "verified", "t2": "verified"}
        [obj] = [o for o in objects_of_copy(aip.catalogue, aip.record_id, 1, "t2") if o.key == key]
        assert (obj.version_id, obj.last_status) == (stored.version_id, "ok")
        [event] = [
            e
            for e in aip.catalogue.events(aip.record_id, 1)
            if e.outcome_detail.get("action") == "repair"
        ]
        assert (event.outcome_detail["source_target"], event.outcome_detail["target"]) == (
            "t1",
            "t2",
        )

        assert audit("--all") == 0  # the audit accepts the repaired copy, every byte re-hashed
        code, again, stderr = repair()  # and repair has nothing left to do
        assert code == 0 and again["checked"] == 0, stderr
        assert aip.snapshot() == after
    finally:
        aip.close()


def test_bytes_rotten_on_disk_are_restored_and_an_edited_receipt_gets_a_new_revision(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    aip = Aip(seaweed_trio[1:], targets_env, tmp_path)  # t1, t2 = servers 2 and 3
    try:
        rotten = aip.key(0, "data/a.bin")
        flip_stored_bytes(aip.servers[0], aip.data, key=rotten)
        receipt_key = aip.key(1, "deposit-receipt.json")
        edit_receipt(aip.servers[1], receipt_key)
        edited = versions(aip.views[1], aip.record_id)[receipt_key]

        assert audit("--all") == 1
        assert aip.status() == {"t1": "damaged", "t2": "damaged"}
        code, report, stderr = repair()
        assert code == 0, stderr
        repaired = {c["target"]: c for c in report["repaired"]}
        assert set(repaired) == {"t1", "t2"}
        [fixed] = repaired["t1"]["actions"]
        assert (fixed["key"], fixed["source_target"]) == (rotten, "t2")
        [fixed_receipt] = repaired["t2"]["actions"]
        assert fixed_receipt["reason"] == "receipt-tampered"
        body = (
            make_client(aip.views[0])
            .get_object(Bucket=aip.views[0].s3_bucket, Key=rotten)["Body"]
            .read()
        )
        assert body == aip.data
        aip.check_signed(0, revision=2)
        receipt = aip.check_signed(1, revision=2)
        tampered = {r.version_id for r in receipt.replaces if r.key == receipt_key}
        assert tampered and tampered <= set(edited)
        assert aip.status() == {"t1": "verified", "t2": "verified"}

        assert audit("--all") == 0
    finally:
        aip.close()


def test_an_object_rotten_on_every_target_is_lost_and_nothing_is_written(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    aip = Aip([seaweed_trio[0], seaweed_trio[2]], targets_env, tmp_path)
    try:
        for number, server in enumerate(aip.servers):
            flip_stored_bytes(server, aip.data, key=aip.key(number, "data/a.bin"))
        before = aip.snapshot()
        code, report, stderr = repair("--check-all")
        assert code == 1
        assert "LOST" in stderr
        assert {c["target"] for c in report["lost"]} == {"t1", "t2"}
        assert aip.snapshot() == before
        assert aip.status() == {"t1": "lost", "t2": "lost"}
        assert json.dumps(report)  # a JSON report on stdout all the same
    finally:
        aip.close()


def test_a_rotten_receipt_is_rebuilt_from_the_other_targets_receipt(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    aip = Aip(seaweed_trio[:2], targets_env, tmp_path)
    try:
        receipt_key = aip.key(1, "deposit-receipt.json")
        _, stored = latest_receipt(aip.views[1], aip.record_id)
        flip_stored_bytes(aip.servers[1], stored, key=receipt_key)
        assert audit("--all") == 1
        code, report, stderr = repair()
        assert code == 0, stderr
        [done] = report["repaired"]
        [action] = done["actions"]
        assert (action["key"], action["reason"], action["source_target"]) == (
            receipt_key,
            "receipt-corrupt",
            "t1",
        )
        receipt = aip.check_signed(1, revision=2)
        assert all(o.key.startswith(aip.views[1].s3_prefix + "/") for o in receipt.objects)
        assert receipt.bucket == aip.views[1].s3_bucket
        assert audit("--all") == 0
    finally:
        aip.close()


def test_a_repair_killed_before_its_receipt_revision_is_finished_without_a_second_write(
    seaweed_trio: list[SeaweedServer], targets_env: TargetsEnv, home: Path, tmp_path: Path
) -> None:
    aip = Aip([seaweed_trio[0], seaweed_trio[2]], targets_env, tmp_path)
    try:
        key = aip.key(1, "data/a.bin")
        delete_behind_back(aip.servers[1], key)
        assert audit() == 1
        # what a repair killed after its new version, before the receipt revision, leaves
        view = aip.views[1]
        client = make_client(view)
        good = tmp_path / "good.bin"
        good.write_bytes(aip.data)
        digests = digests_of(aip.data)
        written = write_new_version(
            client,
            view.s3_bucket,
            key=key,
            path="data/a.bin",
            source_file=good,
            size=digests.size,
            sha256=digests.sha256,
            sha512=digests.sha512,
            lock=lock_for(client, view.s3_bucket, LockPolicy.from_settings(view)),
        )
        before = aip.snapshot()

        code, report, stderr = repair()
        assert code == 0, stderr
        [done] = report["repaired"]
        [action] = done["actions"]
        assert (action["source_target"], action["new_version"]) == ("t2", written.version_id)
        after = aip.snapshot()
        assert after[1][key] == before[1][key]  # kept, not written again
        receipt = aip.check_signed(1, revision=2)
        assert [o.version_id for o in receipt.objects if o.key == key] == [written.version_id]
        assert audit("--all") == 0
    finally:
        aip.close()

"""Restoring a whole target (docs/PRESERVATION.md, "Restoring a whole target from the others")
against real SeaweedFS servers: t2 is replaced by a fresh, empty server under the same name, and
the documented steps, run through the CLI, give it back every copy, verified, with t1 untouched;
a restore killed midway (an object already written) is finished without writing it twice.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import all_copies
from archive_ingest.replication.restore import lock_for, write_new_version
from archive_ingest.settings import Settings
from archive_ingest.storage.embedded_set import stop_all
from archive_ingest.storage.receipt import LockPolicy, receipt_signature_problem
from archive_ingest.storage.s3 import make_client
from archive_ingest.storage.signing import ReceiptSigner
from archive_ingest.storage.targets import target_views
from tests.support.bag import digests_of
from tests.support.cli import json_lines, run_cli
from tests.support.plugins.storage import SeaweedServer, start_server
from tests.support.plugins.targets import TargetsEnv
from tests.test_replicate import deposit_item, stored_receipt, versions_per_key


def cli(*args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_cli(dict(os.environ), *args, timeout=300)
    lines = json_lines(proc)
    return proc.returncode, (lines[-1] if lines else {}), proc.stderr


def restored_earlier(view: Settings, key: str, data: bytes, tmp: Path) -> str | None:
    """What a repair killed before its receipt revision leaves: the good bytes at ``key``."""
    client = make_client(view)
    good = tmp / "good.bin"
    good.write_bytes(data)
    digests = digests_of(data)
    return write_new_version(
        client,
        view.s3_bucket,
        key=key,
        path="data/a.bin",
        source_file=good,
        size=digests.size,
        sha256=digests.sha256,
        sha512=digests.sha512,
        lock=lock_for(client, view.s3_bucket, LockPolicy.from_settings(view)),
    ).version_id


def test_a_target_replaced_by_an_empty_server_is_restored_by_the_documented_steps(
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    home: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    before = targets_env(seaweed_trio[:2], prefix=prefix)
    catalogue = Catalogue.open(before.effective_database_url)
    fresh = SeaweedServer(*start_server(tmp_path_factory.mktemp("fresh-t2")))
    try:
        data = os.urandom(3000)
        payload = {"a.bin": data, "b.txt": b"restore"}
        records = [deposit_item(before, catalogue, tmp_path, payload=payload) for _ in range(2)]
        t1_versions = versions_per_key(target_views(before)[0])

        after = targets_env([seaweed_trio[0], fresh], prefix=prefix)  # t2: same name, empty
        t2 = target_views(after)[1]
        interrupted = f"{prefix}/{records[0]}/v1/data/a.bin"
        kept = restored_earlier(t2, interrupted, data, tmp_path)
        code, _, stderr = cli("audit", "--json", "--target", "t2")
        assert code == 1, stderr  # every recorded copy on t2 is missing
        code, report, stderr = cli("replicate", "--target", "t2")
        assert code == 0, stderr
        assert len(report["left_for_repair"]) == 2 and "2 damaged or lost" in stderr
        code, report, stderr = cli("repair", "--target", "t2")
        assert code == 0, stderr
        assert {c["record_id"] for c in report["repaired"]} == set(records)
        [action] = [a for c in report["repaired"] for a in c["actions"] if a["key"] == interrupted]
        assert action["new_version"] == kept  # a killed restore's version is kept
        assert set(versions_per_key(t2).values()) == {1}  # nothing written twice
        public = ReceiptSigner.for_settings(after).public
        for record_id in records:
            receipt, stored = stored_receipt(t2, record_id)
            assert receipt_signature_problem(stored, public) is None
            assert (receipt.target, receipt.bucket, receipt.replaces) == ("t2", t2.s3_bucket, [])
        code, _, stderr = cli("audit", "--json", "--target", "t2", "--all")
        assert code == 0, stderr

        code, _, stderr = cli("audit", "--json", "--all")
        assert code == 0, stderr
        copies = {(c.record_id, c.target): c.status for c in all_copies(catalogue)}
        assert copies == {(r, t): "verified" for r in records for t in ("t1", "t2")}
        assert versions_per_key(target_views(before)[0]) == t1_versions  # t1 untouched
    finally:
        catalogue.close()
        stop_all([fresh.local], timeout=3)

"""`archive-ingest reconcile [--fix]` against a real SeaweedFS: an interrupted
deposit (objects, no receipt) and an abandoned multipart upload are reported; ``--fix`` aborts
the upload, deletes nothing that is object-locked and reports what it could not remove; a
catalogue row that claims a deposit the bucket does not hold is reported too.
The kill tests (tests/test_crash_points.py) check reconcile after real SIGKILLs.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import State
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import AipLayout
from archive_ingest.storage.s3 import make_client
from tests.support.cli import run_cli
from tests.support.s3 import deposit

pytestmark = pytest.mark.slow


class _Interrupted(Exception):
    pass


def _interrupted_deposit(settings: Settings, bag: Path, manifest: Any, record_id: str) -> None:
    client = make_client(settings)
    puts = {"n": 0}

    def stop(**_: Any) -> None:
        puts["n"] += 1
        if puts["n"] > 2:
            raise _Interrupted

    client.meta.events.register("before-send.s3.PutObject", stop)
    with pytest.raises(_Interrupted):
        deposit(settings, bag, manifest, record_id, client=client)


def _reconcile(*args: str) -> tuple[int, dict[str, Any]]:
    proc = run_cli(dict(os.environ), "reconcile", *args, timeout=120)
    assert proc.stdout, proc.stderr[-2000:]
    return proc.returncode, json.loads(proc.stdout)


def test_reconcile_reports_and_fixes_what_it_safely_can(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    settings = seaweed_settings
    code, empty = _reconcile()
    assert (code, empty["findings"], empty["complete_aips"]) == (0, [], 0)

    record_id = f"rec-{uuid.uuid4().hex[:8]}"
    bag, manifest = storage_bag({"a.pdf": b"%PDF-1.7 a", "b.txt": b"b" * 100})
    _interrupted_deposit(settings, bag, manifest, record_id)
    layout = AipLayout(settings.s3_prefix, record_id, 2)
    client = make_client(settings)
    client.create_multipart_upload(Bucket=settings.s3_bucket, Key=layout.key("data/big.bin"))
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        catalogue.ensure_item("ghost-1", source="file:ghost.pdf", source_kind="file", title="g")
        version = catalogue.new_version("ghost-1", original_sha256="0" * 64, work_dir=bag)
        catalogue.set_state("ghost-1", State.DEPOSITED, [], version=version, deposited_version=1)
    finally:
        catalogue.close()

    code, report = _reconcile()
    assert code == 1
    kinds = {(f["kind"], f["record_id"], f["version"]) for f in report["findings"]}
    assert kinds == {
        ("incomplete-upload", record_id, 1),
        ("multipart-upload", record_id, 2),
        ("catalogue-without-aip", "ghost-1", 1),
    }, report
    assert report["actions"] == [] and report["fixed"] is False

    code, fixed = _reconcile("--fix")
    actions = {(a["action"], a["key"].rsplit("/", 1)[-1]) for a in fixed["actions"]}
    assert ("aborted-upload", "big.bin") in actions
    kept = [a for a in fixed["actions"] if a["action"] == "kept"]
    assert len(kept) == 2 and all("object-locked (GOVERNANCE" in a["reason"] for a in kept)
    assert code == 1  # the locked orphans remain and are reported
    uploads = client.list_multipart_uploads(Bucket=settings.s3_bucket, Prefix=layout.root)
    assert uploads.get("Uploads", []) == []
    # the locked objects are still there, untouched
    admin = seaweed.client("admin")
    root = AipLayout(settings.s3_prefix, record_id, 1).root
    listing = admin.list_object_versions(Bucket=settings.s3_bucket, Prefix=root)
    assert len(listing.get("Versions", [])) == 2 and not listing.get("DeleteMarkers")


def test_an_unreadable_receipt_is_a_finding_not_a_crash(
    seaweed_settings: Settings, storage_bag: Any
) -> None:
    settings = seaweed_settings
    record_id = f"bad-{uuid.uuid4().hex[:8]}"
    bag, _ = storage_bag({"a.pdf": b"%PDF-1.7 a"})
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        catalogue.ensure_item(record_id, source="file:bad.pdf", source_kind="file", title="b")
        version = catalogue.new_version(record_id, original_sha256="0" * 64, work_dir=bag)
        catalogue.set_state(record_id, State.DEPOSITED, [], version=version, deposited_version=1)
    finally:
        catalogue.close()
    key = AipLayout(settings.s3_prefix, record_id, 1).receipt_key
    make_client(settings).put_object(Bucket=settings.s3_bucket, Key=key, Body=b"{not json")

    code, report = _reconcile()
    assert code == 1
    [finding] = [f for f in report["findings"] if f["record_id"] == record_id]
    assert (finding["kind"], finding["version"], finding["keys"]) == (
        "unreadable-receipt",
        1,
        [key],
    )
    assert "unreadable deposit receipt" in finding["detail"]


def test_an_item_left_mid_pipeline_is_reported_as_stalled(seaweed_settings: Settings) -> None:
    """A worker killed mid-item leaves the item in an in-progress state; once that is older
    than stalled_after_hours, reconcile names it (exit 1) and says how to resume it."""
    import datetime as dt

    from archive_ingest.catalogue.schema import Item

    settings = seaweed_settings
    old, fresh = f"stalled-{uuid.uuid4().hex[:8]}", f"busy-{uuid.uuid4().hex[:8]}"
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        for record_id in (old, fresh):
            catalogue.ensure_item(
                record_id, source=f"file:{record_id}.pdf", source_kind="file", title="t"
            )
            version = catalogue.new_version(record_id, original_sha256=None, work_dir=None)
            catalogue.set_state(record_id, State.OCR_DONE, [], version=version)
        with catalogue.session() as session:
            item = session.get(Item, old)
            assert item is not None
            item.updated_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=7)
    finally:
        catalogue.close()

    code, report = _reconcile()
    assert code == 1
    stalled = [f for f in report["findings"] if f["kind"] == "stalled-item"]
    assert [f["record_id"] for f in stalled if f["record_id"] in (old, fresh)] == [old]
    [finding] = [f for f in stalled if f["record_id"] == old]
    assert finding["version"] == 1 and "ocr_done since" in finding["detail"]
    assert f"archive-ingest ingest file:{old}.pdf" in finding["detail"]

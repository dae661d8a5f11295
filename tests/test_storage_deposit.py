"""Deposits against a real SeaweedFS: checksums, VersionIds, retention, idempotency, no
overwrite, multipart with a full-object checksum, receipt last, incomplete AIPs."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import uuid
import zlib
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.errors import CopyDamagedError, StorageError
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.listing import find_incomplete, read_receipt
from archive_ingest.storage.s3 import bucket_capabilities, make_client, make_client_for
from archive_ingest.storage.upload import adopt_unfinished, crc32_b64, single_upload
from tests.support.s3 import LOCK, deposit, versions_by_key

pytestmark = pytest.mark.slow


def _record() -> str:
    return f"rec-{uuid.uuid4().hex[:10]}"


def test_bucket_has_versioning_and_object_lock(seaweed_settings: Settings) -> None:
    client = make_client(seaweed_settings)
    assert bucket_capabilities(client, seaweed_settings.s3_bucket) == (True, True)


def test_deposit_stores_verified_locked_objects_and_the_receipt_last(
    seaweed_settings: Settings, storage_bag: Any, storage_recorded_writes: Any
) -> None:
    bag, manifest = storage_bag({"original.pdf": os.urandom(70_000), "text.txt": b"hello\n"})
    record = _record()
    client = make_client(seaweed_settings)
    before = dt.datetime.now(UTC)
    with storage_recorded_writes(client) as writes:
        receipt = deposit(seaweed_settings, bag, manifest, record, client=client, read_back=True)
    assert (
        receipt.bag_uri
        == f"s3://{seaweed_settings.s3_bucket}/{seaweed_settings.s3_prefix}/{record}/v1/"
    )
    assert {obj.path for obj in receipt.objects} == set(manifest)
    # the receipt is written last, after every bag object
    assert writes[-1] == ("PutObject", receipt.receipt_key)
    assert {key for _, key in writes[:-1]} == {obj.key for obj in receipt.objects}
    for obj in receipt.objects:
        head = client.head_object(
            Bucket=seaweed_settings.s3_bucket,
            Key=obj.key,
            VersionId=obj.version_id,
            ChecksumMode="ENABLED",
        )
        digests = manifest[obj.path]
        assert head["ChecksumSHA256"] == digests.sha256_b64
        assert head["ContentLength"] == digests.size
        assert head["Metadata"]["sha256"] == digests.sha256
        assert head["VersionId"] == obj.version_id is not None
        assert head["ObjectLockMode"] == "GOVERNANCE"
        assert head["ObjectLockRetainUntilDate"] > before + dt.timedelta(hours=23)
    stored = read_receipt(client, seaweed_settings.s3_bucket, seaweed_settings.s3_prefix, record, 1)
    assert stored is not None
    assert stored.version_ids == receipt.version_ids
    assert stored.receipt_version_id is not None
    assert receipt.verification == "read-back"
    types = [event.event_type for event in receipt.events]
    assert types == ["replication", "fixity check"]
    assert all(event.outcome == "success" for event in receipt.events)
    assert receipt.events[0].outcome_detail["version_ids"] == receipt.version_ids


def test_rerun_is_a_no_op(
    seaweed_settings: Settings, storage_bag: Any, storage_recorded_writes: Any
) -> None:
    bag, manifest = storage_bag({"a.pdf": os.urandom(5000)})
    record = _record()
    first = deposit(seaweed_settings, bag, manifest, record)
    client = make_client(seaweed_settings)
    root = first.receipt_key.rsplit("/", 1)[0] + "/"
    versions_before = versions_by_key(client, seaweed_settings.s3_bucket, root)
    with storage_recorded_writes(client) as writes:
        second = deposit(seaweed_settings, bag, manifest, record, client=client)
    assert writes == []
    assert second.reused and not first.reused
    assert second.version_ids == first.version_ids
    assert versions_by_key(client, seaweed_settings.s3_bucket, root) == versions_before
    assert all(len(v) == 1 for v in versions_before.values())
    assert "already deposited" in second.events[0].detail


def test_changed_item_is_refused_at_the_same_version_and_becomes_a_new_one(
    seaweed_settings: Settings, storage_bag: Any
) -> None:
    record = _record()
    bag1, manifest1 = storage_bag({"a.pdf": b"first edition"}, name="bag1")
    first = deposit(seaweed_settings, bag1, manifest1, record)
    bag2, manifest2 = storage_bag({"a.pdf": b"second edition"}, name="bag2")
    with pytest.raises(StorageError, match="new version"):
        deposit(seaweed_settings, bag2, manifest2, record)
    client = make_client(seaweed_settings)
    bucket, prefix = seaweed_settings.s3_bucket, seaweed_settings.s3_prefix
    second = deposit(seaweed_settings, bag2, manifest2, record, version=2)
    assert second.version == 2
    assert read_receipt(client, bucket, prefix, record, 2) is not None
    # version 1 untouched
    again = read_receipt(client, bucket, prefix, record, 1)
    assert again is not None and again.version_ids == first.version_ids


def test_an_existing_key_with_other_bytes_is_never_overwritten(
    seaweed_settings: Settings, storage_bag: Any
) -> None:
    """An interrupted deposit left other bytes at a key: the deposit stops, nothing changes."""
    record = _record()
    bag, manifest = storage_bag({"a.pdf": b"the real content"})
    client = make_client(seaweed_settings)
    bucket, prefix = seaweed_settings.s3_bucket, seaweed_settings.s3_prefix
    key = f"{prefix}/{record}/v1/data/a.pdf"
    other = client.put_object(Bucket=bucket, Key=key, Body=b"something else", IfNoneMatch="*")
    with pytest.raises(StorageError, match="refusing to overwrite"):
        deposit(seaweed_settings, bag, manifest, record)
    versions = versions_by_key(client, bucket, key)
    assert versions[key] == [other["VersionId"]]
    assert read_receipt(client, bucket, prefix, record, 1) is None


def test_multipart_upload_has_a_verified_full_object_checksum(
    seaweed_settings: Settings, storage_bag: Any, storage_recorded_writes: Any
) -> None:
    big = os.urandom(12 * 1024 * 1024 + 123)
    bag, manifest = storage_bag({"big.tif": big, "small.txt": b"x"})
    record = _record()
    client = make_client(seaweed_settings)
    with storage_recorded_writes(client) as writes:
        receipt = deposit(
            seaweed_settings,
            bag,
            manifest,
            record,
            client=client,
            read_back=True,
            multipart_threshold=5 * 1024 * 1024,
            part_size=5 * 1024 * 1024,
        )
    obj = next(o for o in receipt.objects if o.path == "data/big.tif")
    assert obj.multipart and obj.parts == 3 and obj.checksum_algorithm == "CRC32"
    assert sum(1 for op, _ in writes if op == "UploadPart") == 3
    head = client.head_object(
        Bucket=seaweed_settings.s3_bucket,
        Key=obj.key,
        VersionId=obj.version_id,
        ChecksumMode="ENABLED",
    )
    assert head["ChecksumCRC32"] == crc32_b64(zlib.crc32(big))
    assert head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
    assert head["ContentLength"] == len(big)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    small = next(o for o in receipt.objects if o.path == "data/small.txt")
    assert not small.multipart and small.checksum_algorithm == "SHA256"
    uploads = client.list_multipart_uploads(Bucket=seaweed_settings.s3_bucket, Prefix=obj.key)
    assert not uploads.get("Uploads")


def test_interrupted_deposit_is_incomplete_then_resumed_without_duplicates(
    seaweed_settings: Settings, storage_bag: Any
) -> None:
    record = _record()
    bag, manifest = storage_bag({"a.pdf": b"A" * 1000, "b.pdf": b"B" * 1000, "c.txt": b"C"})
    client = make_client(seaweed_settings)
    bucket, prefix = seaweed_settings.s3_bucket, seaweed_settings.s3_prefix
    puts: list[str] = []

    def crash_on_third_put(params: dict[str, Any], **_: Any) -> None:
        puts.append(str(params["Key"]))
        if len(puts) == 3:
            raise KeyboardInterrupt("simulated crash mid-deposit")

    client.meta.events.register("before-parameter-build.s3.PutObject", crash_on_third_put)
    with pytest.raises(KeyboardInterrupt):
        deposit(seaweed_settings, bag, manifest, record, client=client)
    assert read_receipt(client, bucket, prefix, record, 1) is None
    incomplete = [aip for aip in find_incomplete(client, bucket, prefix) if aip.record_id == record]
    assert len(incomplete) == 1 and incomplete[0].version == 1
    assert len(incomplete[0].keys) == 2

    receipt = deposit(seaweed_settings, bag, manifest, record)
    assert sum(1 for obj in receipt.objects if obj.resumed) == 2
    root = receipt.receipt_key.rsplit("/", 1)[0] + "/"
    versions = versions_by_key(make_client(seaweed_settings), bucket, root)
    assert set(versions) == {obj.key for obj in receipt.objects} | {receipt.receipt_key}
    assert all(len(entries) == 1 for entries in versions.values())
    assert not [a for a in find_incomplete(client, bucket, prefix) if a.record_id == record]


def test_wrong_credentials_give_a_clear_error_and_store_nothing(
    seaweed_settings: Settings, seaweed: Any, storage_bag: Any
) -> None:
    bag, manifest = storage_bag({"a.pdf": b"content"})
    secret = "not-the-secret-" + uuid.uuid4().hex
    client = make_client_for(seaweed.endpoint, seaweed.credentials.ingest.access_key_id, secret)
    with pytest.raises(StorageError) as info:
        deposit(seaweed_settings, bag, manifest, _record(), client=client)
    assert "credentials" in str(info.value) and secret not in str(info.value)
    listing = make_client(seaweed_settings).list_objects_v2(
        Bucket=seaweed_settings.s3_bucket, Prefix=seaweed_settings.s3_prefix + "/"
    )
    assert listing.get("KeyCount", 0) == 0


def test_unversioned_bucket_is_refused(seaweed: Any, storage_bag: Any) -> None:
    admin = seaweed.client("admin")
    bucket = f"plain-{uuid.uuid4().hex[:8]}"
    admin.create_bucket(Bucket=bucket)
    bag, manifest = storage_bag({"a.pdf": b"content"})
    with pytest.raises(StorageError, match="versioning"):
        deposit_bag(
            admin,
            bucket=bucket,
            prefix="aip",
            record_id=_record(),
            version=1,
            bag_dir=bag,
            manifest=manifest,
            lock=LOCK,
            read_back=False,
        )


CRASHING_DEPOSIT = """
import hashlib, os, signal, sys
from pathlib import Path
from archive_ingest.models import Digests
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import make_client

bag, record = Path(sys.argv[1]), sys.argv[2]
manifest = {}
for path in sorted(p for p in bag.rglob("*") if p.is_file()):
    data = path.read_bytes()
    manifest[path.relative_to(bag).as_posix()] = Digests(
        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        sha512=hashlib.sha512(data).hexdigest(), md5=hashlib.md5(data).hexdigest())
settings = Settings()
client = make_client(settings)
parts = []

def die_mid_upload(**_):
    parts.append(1)
    if len(parts) == 2:  # the 2nd part of the big file is stored: SIGKILL ourselves
        os.kill(os.getpid(), signal.SIGKILL)

client.meta.events.register("after-call.s3.UploadPart", die_mid_upload)
deposit_bag(client, bucket=settings.s3_bucket, prefix=settings.s3_prefix, record_id=record,
            version=1, bag_dir=bag, manifest=manifest, lock=LockPolicy(days=1),
            read_back=False, multipart_threshold=5 * 2**20, part_size=5 * 2**20)
"""


def test_sigkill_mid_multipart_then_rerun_completes_one_clean_aip(
    seaweed_settings: Settings, storage_bag: Any, tmp_path: Path
) -> None:
    record = _record()
    bag, manifest = storage_bag({"big.tif": os.urandom(16 * 2**20), "z.txt": b"last"})
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_DEPOSIT)
    done = subprocess.run(
        [sys.executable, str(script), str(bag), record],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    client = make_client(seaweed_settings)
    bucket, prefix = seaweed_settings.s3_bucket, seaweed_settings.s3_prefix
    assert read_receipt(client, bucket, prefix, record, 1) is None
    [incomplete] = [a for a in find_incomplete(client, bucket, prefix) if a.record_id == record]
    big_key = f"{prefix}/{record}/v1/data/big.tif"
    assert incomplete.uploads_in_progress == [big_key]
    assert big_key not in incomplete.keys  # never completed: no object a reader could take
    assert all(key.rsplit("/", 1)[-1] in manifest for key in incomplete.keys)

    receipt = deposit(
        seaweed_settings,
        bag,
        manifest,
        record,
        multipart_threshold=5 * 2**20,
        part_size=5 * 2**20,
        read_back=True,
    )
    root = f"{prefix}/{record}/v1/"
    versions = versions_by_key(client, bucket, root)
    assert set(versions) == {o.key for o in receipt.objects} | {receipt.receipt_key}
    assert all(len(entries) == 1 for entries in versions.values())
    assert not client.list_multipart_uploads(Bucket=bucket, Prefix=root).get("Uploads")
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{record}/")
    assert {item["Key"] for item in listed["Contents"]} == set(versions)  # v1 only
    assert not [a for a in find_incomplete(client, bucket, prefix) if a.record_id == record]


MEASURED_DEPOSIT = """
import hashlib, sys
from pathlib import Path
from archive_ingest.models import Digests
from archive_ingest.settings import Settings
from archive_ingest.storage.deposit import deposit_bag
from archive_ingest.storage.receipt import LockPolicy
from archive_ingest.storage.s3 import make_client

bag, record, size, sha256, sha512, md5 = sys.argv[1:7]
manifest = {"data/big.bin": Digests(size=int(size), sha256=sha256, sha512=sha512, md5=md5)}
settings = Settings()
client = make_client(settings)
client.list_buckets()  # warm up: imports and first connection are not the upload

def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
baseline = status_kb("VmRSS")
receipt = deposit_bag(client, bucket=settings.s3_bucket, prefix=settings.s3_prefix,
                      record_id=record, version=1, bag_dir=Path(bag), manifest=manifest,
                      lock=LockPolicy(days=1), read_back=True, multipart_threshold=8 * 2**20)
peak = status_kb("VmHWM")
print(receipt.objects[0].parts, (peak - baseline) // 1024)
"""


def test_multipart_memory_is_bounded(seaweed_settings: Settings, tmp_path: Path) -> None:
    """64 MiB streamed in 8 MiB parts (and read back): peak RSS grows by far less than the
    file (a 1 GiB deposit measured 83 MB peak RSS in total, see docs/STORAGE.md)."""
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    size = 64 * 2**20
    hashes = [hashlib.sha256(), hashlib.sha512(), hashlib.md5()]
    with (bag / "data" / "big.bin").open("wb") as fh:
        for _ in range(size // 2**20):
            block = os.urandom(2**20)
            fh.write(block)
            for h in hashes:
                h.update(block)
    script = tmp_path / "measure.py"
    script.write_text(MEASURED_DEPOSIT)
    done = subprocess.run(
        [sys.executable, str(script), str(bag), _record(), str(size)]
        + [h.hexdigest() for h in hashes],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parts, growth_mb = (int(x) for x in done.stdout.split())
    assert parts == 8, done.stdout
    assert growth_mb < 40, f"peak RSS grew by {growth_mb} MB for a 64 MiB file"


def test_a_version_never_made_current_is_adopted_only_alone_and_with_the_bytes(
    seaweed_settings: Settings, storage_bag: Any
) -> None:
    """A server killed between storing a version and making it current leaves a version that
    listing and If-None-Match do not see: the deposit takes it (by its VersionId) when it is
    the key's only one and holds the manifest's bytes, instead of adding a second version;
    a version of other bytes, or several, stop the deposit and nothing is written."""
    record = _record()
    bag, manifest = storage_bag({"a.pdf": b"the real content"})
    client = make_client(seaweed_settings)
    bucket, prefix = seaweed_settings.s3_bucket, seaweed_settings.s3_prefix
    digests, path = manifest["data/a.pdf"], bag / "data/a.pdf"

    def adopt(key: str, version_ids: list[str]) -> Any:
        return adopt_unfinished(client, bucket, key, "data/a.pdf", path, digests, version_ids)

    key = f"{prefix}/{record}/v1/data/a.pdf"
    stored = single_upload(client, bucket, key, "data/a.pdf", path, digests, {})
    assert stored.version_id
    adopted = adopt(key, [stored.version_id])
    assert (adopted.version_id, adopted.sha256, adopted.resumed) == (
        stored.version_id,
        digests.sha256,
        True,
    )

    other_key = f"{prefix}/{record}/v1/data/b.pdf"
    other = client.put_object(Bucket=bucket, Key=other_key, Body=b"something else")
    with pytest.raises(CopyDamagedError, match="version of other content"):
        adopt(other_key, [other["VersionId"]])
    assert versions_by_key(client, bucket, other_key)[other_key] == [other["VersionId"]]

    twice_key = f"{prefix}/{record}/v1/data/c.pdf"
    first = single_upload(client, bucket, twice_key, "data/a.pdf", path, digests, {})
    second = client.put_object(Bucket=bucket, Key=twice_key, Body=b"the real content")
    assert first.version_id and second["VersionId"]
    with pytest.raises(CopyDamagedError, match="2 versions that were never made current"):
        adopt(twice_key, [second["VersionId"], first.version_id])
    assert len(versions_by_key(client, bucket, twice_key)[twice_key]) == 2

"""Where a repair's good bytes come from: another target's copy that passes full verification.

For a bad object, the other targets are tried in target order (those whose copy of the version
is ``verified`` or ``damaged``: a damaged copy may still hold this object intact); the object
there is streamed and hashed into the repair's work folder and used only when its size,
SHA-256 and SHA-512 equal the recorded digests. A receipt that cannot be trusted is rebuilt
from another target's receipt that passes every check (signature, recorded SHA-256), with this
target's bucket, keys and recorded versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import CopyInfo, ObjectInfo, copies_of, objects_of_copy
from archive_ingest.errors import StorageError
from archive_ingest.replication.diagnose import Diagnosis
from archive_ingest.replication.restore import stored_from_head
from archive_ingest.replication.sources import fetch_verified, recorded_receipt
from archive_ingest.settings import Settings
from archive_ingest.storage.layout import AipLayout, check_relpath, normalise_prefix
from archive_ingest.storage.receipt import DepositReceipt, StoredObject
from archive_ingest.storage.s3 import S3Client, make_client
from archive_ingest.storage.signing import ReceiptSigner


class GoodCopies:
    """The other targets' copies of a version, as sources for a repair."""

    def __init__(
        self,
        catalogue: Catalogue,
        views: dict[str, Settings],
        signer: ReceiptSigner,
    ) -> None:
        self.catalogue = catalogue
        self.views = views
        self.order = list(views)
        self.signer = signer

    def others(self, copy: CopyInfo) -> list[CopyInfo]:
        rows = {c.target: c for c in copies_of(self.catalogue, copy.record_id, copy.version)}
        return [
            rows[name]
            for name in self.order
            if name != copy.target and name in rows and rows[name].status in ("verified", "damaged")
        ]

    def good_object(
        self, copy: CopyInfo, obj: ObjectInfo, work: Path
    ) -> tuple[str | None, Path | None, list[str]]:
        """The first other target whose copy of ``obj`` passes a full read and hash."""
        problems: list[str] = []
        relpath = check_relpath(obj.path)
        for other in self.others(copy):
            theirs = next(
                (
                    o
                    for o in objects_of_copy(
                        self.catalogue, copy.record_id, copy.version, other.target
                    )
                    if o.path == obj.path
                ),
                None,
            )
            if theirs is None or (theirs.size, theirs.sha256, theirs.sha512) != (
                obj.size,
                obj.sha256,
                obj.sha512,
            ):
                problems.append(f"{other.target}: no object with the recorded digests")
                continue
            view = self.views[other.target]
            dest = work / other.target / relpath
            try:
                fetch_verified(
                    make_client(view),
                    view.s3_bucket,
                    theirs.key,
                    theirs.version_id,
                    size=obj.size,
                    sha256=obj.sha256,
                    sha512=obj.sha512,
                    dest=dest,
                )
            except StorageError as exc:
                problems.append(f"{other.target}: {exc}")
                continue
            return other.target, dest, problems
        return None, None, problems

    def good_receipt(self, copy: CopyInfo) -> tuple[str, DepositReceipt] | None:
        """Another target's receipt of this version that passes every check."""
        for other in self.others(copy):
            try:
                view = self.views[other.target]
                receipt, _ = recorded_receipt(make_client(view), view, other, self.signer.public)
            except StorageError:
                continue
            return other.target, receipt
        return None

    def retarget(
        self,
        source: DepositReceipt,
        diagnosis: Diagnosis,
        view: Settings,
        client: S3Client,
        written: Mapping[str, StoredObject],
    ) -> DepositReceipt:
        """The damaged copy's receipt rebuilt from another target's: this target's bucket and
        keys, the same digests, and for each object the version this repair has ``written`` (by
        key) or else the recorded one (read from this target's server). The source's
        ``replaces`` and notes are about the other target: none is carried over."""
        layout = AipLayout(view.s3_prefix, diagnosis.record_id, diagnosis.version)
        mine = {o.path: o for o in diagnosis.objects}
        objects: list[StoredObject] = []
        for obj in source.objects:
            here = mine.get(obj.path)
            if here is None:
                raise StorageError(
                    f"the catalogue has no object {obj.path} on {view.storage_target_name}"
                )
            if here.key in written:
                objects.append(written[here.key])
                continue
            objects.append(
                stored_from_head(
                    client,
                    view.s3_bucket,
                    key=here.key,
                    version_id=here.version_id,
                    path=here.path,
                    size=here.size,
                    sha256=here.sha256,
                    sha512=here.sha512,
                )
            )
        return source.model_copy(
            update={
                "bucket": view.s3_bucket,
                "prefix": normalise_prefix(view.s3_prefix),
                "bag_uri": layout.uri(view.s3_bucket),
                "receipt_key": diagnosis.receipt_key,
                "objects": objects,
                "target": view.storage_target_name,
                "revision": 1,
                "replaces": [],
                # the source's notes speak of its own bucket and repairs
                "notes": [
                    f"rebuilt from the receipt of target {source.target or '?'} "
                    f"(revision {source.revision})"
                ],
            }
        )

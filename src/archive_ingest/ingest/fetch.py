"""Fetch: download the PDF (streamed, bounded, digested once) and open a version for it.

Requires the record ``resolve`` left in ``incoming/``; produces :class:`FetchCheckpoint`.
Events: ``capture`` then ``message digest calculation`` (of the original). The stage records
them itself, with the version's files, through ``Catalogue.record_fetch``: one transaction
that *replaces* what an interrupted earlier fetch into the same version wrote, so a redone
fetch never doubles them. The runner saves the checkpoint (and passes ``after-fetch``).

Versioning (ingest/versioning.py): same content as the newest settled version → nothing to
do (``unchanged``: the flow skips every later stage; a deposited item gets the after-deposit
hooks again). Same content as an unfinished version → resume it (its fetch redone when it
has no fetch checkpoint). Otherwise a new version. A version an archivist approved whose
deposit was postponed is deposited first (ingest/approval.py).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from archive_ingest.catalogue.schema import Version
from archive_ingest.digests import write_and_digest
from archive_ingest.errors import ArchiveIngestError, ContentError
from archive_ingest.ingest import checkpoints, versioning
from archive_ingest.ingest.approval import deposit_approved_first, is_approved
from archive_ingest.ingest.checkpoints import FetchCheckpoint
from archive_ingest.ingest.deposit import run_after_deposit
from archive_ingest.ingest.resolve import load_incoming_record
from archive_ingest.ingest.services import SOFTWARE, Handle, Services
from archive_ingest.ingest.stage import NETWORK_RETRIES, Stage, StageOutput
from archive_ingest.models import Digests, Event, FileInfo, SourceRecord, State
from archive_ingest.workspace import ItemWorkspace, safe_filename, sweep_work_folders

log = logging.getLogger(__name__)


def _unchanged(svc: Services, handle: Handle, latest: Version) -> StageOutput:
    """Nothing new to ingest. A deposited item gets the after-deposit hooks again (OAI-PMH
    publication): a run killed between the deposit's last commit and the publication left it
    unpublished, and publishing is idempotent (the datestamp moves only when it changes)."""
    if latest.state == State.DEPOSITED.value:
        run_after_deposit(svc, handle.record_id)
    return StageOutput(
        handle=handle.model_copy(update={"version": latest.version, "unchanged": True})
    )


class _Fetched:
    """The PDF in ``incoming/`` and what the capture event says about it."""

    def __init__(
        self,
        path: Path,
        digests: Digests,
        url: str | None,
        etag: str | None,
        last_modified: str | None,
        media_type: str,
        detail: str,
    ) -> None:
        self.path, self.digests, self.url = path, digests, url
        self.etag, self.last_modified = etag, last_modified
        self.media_type, self.detail = media_type, detail


def _local_file(ws: ItemWorkspace) -> _Fetched:
    meta = json.loads((ws.incoming / "local-file.json").read_text("utf-8"))
    return _Fetched(
        ws.incoming / meta["path"],
        Digests.model_validate(meta["digests"]),
        None,
        None,
        None,
        "application/pdf",
        f"copied from local file {meta['source']}",
    )


def fetch(svc: Services, handle: Handle) -> StageOutput:
    """Download the PDF and open (or resume) its version; see the module docstring."""
    ws = svc.workspace(handle.record_id)
    for folder in sweep_work_folders(ws.tmp):  # what a killed earlier run of this item left
        log.info("removed the work folder %s a killed run left", folder)
    record = load_incoming_record(ws)
    item = svc.catalogue.get_item(handle.record_id)
    if item is None:
        raise ArchiveIngestError(f"{handle.record_id} is not registered (resolve it first)")
    latest = (
        svc.catalogue.get_version(handle.record_id, item.current_version)
        if (item.current_version)
        else None
    )
    if latest is not None and is_approved(svc, handle.record_id, latest):
        latest = deposit_approved_first(svc, handle, latest.version)

    started = Event(event_type="capture", detail="", agent=SOFTWARE)  # timed before the GET
    if record.source_kind == "file":
        got = _local_file(ws)
    else:
        url = record.primary_pdf_url()
        if not url:
            raise ContentError("the publisher metadata names no PDF for this item")
        name = safe_filename(url.split("?", 1)[0], default="original.pdf", suffix=".pdf")
        pdf_path = ws.incoming / name
        pdf_path.unlink(missing_ok=True)
        settled = latest is not None and versioning.settled(latest)
        download = svc.http.download(
            url,
            pdf_path,
            etag=item.source_etag if settled else None,
            last_modified=item.source_last_modified if settled else None,
        )
        if download.not_modified and latest is not None:
            # 304: the PDF is the one we hold; unchanged unless the metadata changed
            if versioning.same_content(latest, record, latest.original_sha256 or ""):
                return _unchanged(svc, handle, latest)
            download = svc.http.download(url, pdf_path)
        if download.path is None or download.digests is None:
            raise ContentError(f"GET {url}: the server sent no PDF (304 Not Modified unasked)")
        got = _Fetched(
            pdf_path,
            download.digests,
            download.url,
            download.etag,
            download.last_modified,
            download.media_type or "application/pdf",
            f"GET {download.url} ({download.attempts} attempt(s), {download.seconds:.2f} s)",
        )

    fingerprint = versioning.fingerprint(record, got.digests.sha256)
    version: int | None = None
    if latest is not None and versioning.same_content(latest, record, got.digests.sha256):
        if versioning.settled(latest):
            got.path.unlink(missing_ok=True)
            return _unchanged(svc, handle, latest)
        if checkpoints.load(ws, latest.version, FetchCheckpoint) is not None:
            got.path.unlink(missing_ok=True)
            return StageOutput(handle=handle.model_copy(update={"version": latest.version}))
        version = latest.version  # opened, its fetch never finished: redo it into this version
    elif latest is not None and versioning.unfetched(ws, latest, got.digests.sha256):
        version = latest.version  # same PDF, opened before the fingerprint was stored with it

    if version is None:
        # the fingerprint goes in with the row: a run killed before this stage ends finds the
        # version again by its content and finishes it, instead of opening another
        version = svc.catalogue.new_version(
            handle.record_id,
            original_sha256=got.digests.sha256,
            work_dir=ws.version_dir(0).parent,
            summary={"fingerprint": fingerprint, "url": got.url},
        )
    original, source_files = _lay_out(ws, record, got, version)
    # called here, not in a helper: the power-cut test names this commit fetch.record_fetch
    svc.catalogue.record_fetch(
        handle.record_id,
        version,
        files=[original, *source_files],
        events=_events(got, started),
        summary={"fingerprint": fingerprint, "url": got.url},
        record=record.model_dump(mode="json", exclude={"raw_metadata"}),
        work_dir=str(ws.version_dir(version)),
        source_etag=got.etag,
        source_last_modified=got.last_modified,
        title=record.title,
    )
    checkpoint = FetchCheckpoint(
        url=got.url,
        original=original,
        source_files=source_files,
        fingerprint=fingerprint,
        etag=got.etag,
        last_modified=got.last_modified,
    )
    return StageOutput(handle=handle.model_copy(update={"version": version}), checkpoint=checkpoint)


def _lay_out(
    ws: ItemWorkspace, record: SourceRecord, got: _Fetched, version: int
) -> tuple[FileInfo, list[FileInfo]]:
    """Move the PDF into the version's payload and write the source metadata next to it
    (what an interrupted fetch into this version left is removed first)."""
    data = ws.data_dir(version)
    if ws.version_dir(version).exists():  # what an interrupted fetch into it left: redone
        shutil.rmtree(ws.version_dir(version))
    (data / "original").mkdir(parents=True)
    original_rel = f"original/{got.path.name}"
    got.path.replace(data / original_rel)
    original = FileInfo(
        role="original", path=original_rel, digests=got.digests, media_type="application/pdf"
    )
    source_files = []
    for raw in record.raw_metadata:
        rel = f"source-metadata/{raw.name}"
        source_files.append(
            FileInfo(
                role="source-metadata",
                path=rel,
                digests=write_and_digest(data / rel, raw.content),
                media_type=raw.media_type or "application/octet-stream",
            )
        )
    return original, source_files


def _events(got: _Fetched, started: Event) -> list[Event]:
    """``capture`` (timed when the fetch started) and ``message digest calculation``."""
    digests = got.digests
    return [
        started.model_copy(
            update={
                "detail": got.detail,
                "outcome_detail": {
                    "url": got.url,
                    "declared_type": got.media_type,
                    "etag": got.etag,
                    "last_modified": got.last_modified,
                },
                "object_roles": ["original"],
            }
        ),
        Event(
            event_type="message digest calculation",
            agent=SOFTWARE,
            detail="sha256 and sha512 computed in the same read as the download",
            outcome_detail={
                "size": digests.size,
                "sha256": digests.sha256,
                "sha512": digests.sha512,
            },
            object_roles=["original"],
        ),
    ]


STAGE = Stage(
    name="fetch",
    run=fetch,
    requires=(),
    produces=FetchCheckpoint,
    retry=NETWORK_RETRIES,
    crashpoint="after-fetch",
)

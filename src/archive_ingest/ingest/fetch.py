"""Fetch: download the PDFs (streamed, bounded, digested once) and open a version for them.

Requires the record ``resolve`` left in ``incoming/``; produces :class:`FetchCheckpoint`.
Events: ``capture`` then ``message digest calculation`` of the original, then the same two
for each translation. The stage records them itself, with the version's files, through
``Catalogue.record_fetch``: one transaction that *replaces* what an interrupted earlier fetch
into the same version wrote, so a redone fetch never doubles them. The runner saves the
checkpoint (and passes ``after-fetch``).

Several PDFs (an article the publisher lists in several languages, ``SourceRecord.pdf_urls``):
the one in the document's own language is the original (``SourceRecord.primary_pdf_url``: the
record's first language is the original one; without a PDF in it, the first by language code,
and the capture event says so). Every other language's PDF is downloaded too, through
the same client with the same size bound and the same conditional request, and kept as
received as a ``translation`` file, ``data/translation/<language>/<name>``. Inspect and OCR
work on the original only. A translation the server refuses for good (HTTP 404, not a PDF,
over the size limit) is recorded as missing (a ``capture`` event with outcome failure, the
checkpoint's ``missing``) and the version is held for review (ingest/hold.py); a transient
failure fails the stage like the original's would (docs/DECISIONS.md D38).

Versioning (ingest/versioning.py): same content as the newest settled version → nothing to
do (``unchanged``: the flow skips every later stage; a deposited item gets the after-deposit
hooks again). Same content as an unfinished version → resume it (its fetch redone when it
has no fetch checkpoint). Otherwise a new version. A version an archivist approved whose
deposit was postponed is deposited first (ingest/approval.py).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive_ingest.catalogue.schema import Version
from archive_ingest.digests import write_and_digest
from archive_ingest.errors import ArchiveIngestError, ContentError, FetchError
from archive_ingest.ingest import checkpoints, versioning
from archive_ingest.ingest.approval import deposit_approved_first, is_approved
from archive_ingest.ingest.checkpoints import FetchCheckpoint, MissingFile
from archive_ingest.ingest.deposit import run_after_deposit
from archive_ingest.ingest.resolve import load_incoming_record
from archive_ingest.ingest.services import SOFTWARE, Handle, Services
from archive_ingest.ingest.stage import NETWORK_RETRIES, Stage, StageOutput
from archive_ingest.ingest.versioning import MISSING
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


@dataclass
class _Translation:
    """One other language's PDF: fetched into ``incoming/translation/``, unchanged (304), or
    missing for good (``missing`` says why)."""

    language: str
    folder: str  # the language as a path segment: data/translation/<folder>/<name>
    requested: str  # the URL the record names
    path: Path | None = None
    digests: Digests | None = None
    url: str | None = None  # the final URL (after redirects)
    etag: str | None = None
    last_modified: str | None = None
    media_type: str = "application/pdf"
    detail: str = ""
    not_modified: bool = False
    prior_sha256: str | None = None  # the SHA-256 the settled version holds (for a 304)
    missing: str | None = None

    @property
    def sha256(self) -> str:
        if self.digests is not None:
            return self.digests.sha256
        if self.not_modified and self.prior_sha256:
            return self.prior_sha256
        return MISSING


def pdf_languages(record: SourceRecord) -> tuple[str | None, list[str]]:
    """The original's language key in ``record.pdf_urls`` and the other languages to fetch as
    translations: the record's languages first (in its order), then the rest by name; a URL
    listed under several languages is fetched once."""
    primary = record.primary_pdf_language()
    if primary is None:
        return None, []
    url = record.pdf_urls[primary]
    rank = {lang: n for n, lang in enumerate(record.languages)}
    seen = {url}
    others: list[str] = []
    for lang in sorted(record.pdf_urls, key=lambda k: (rank.get(k, len(rank)), k)):
        if record.pdf_urls[lang] not in seen:
            seen.add(record.pdf_urls[lang])
            others.append(lang)
    return primary, others


def _folders(languages: list[str]) -> dict[str, str]:
    """Each language as a distinct, safe path segment (``pt``, ``es``, ``pt-br``)."""
    folders: dict[str, str] = {}
    for lang in languages:
        folder = re.sub(r"[^a-z0-9-]+", "-", lang.lower()).strip("-")[:35] or "und"
        candidate, n = folder, 1
        while candidate in folders.values():
            n += 1
            candidate = f"{folder}-{n}"
        folders[lang] = candidate
    return folders


def _fetch_translation(
    svc: Services,
    ws: ItemWorkspace,
    lang: str,
    folder: str,
    url: str,
    prior: dict[str, Any] | None,
) -> _Translation:
    """Download one translation (conditionally when ``prior``, the settled version's, holds
    its validators). A transient failure raises (the stage is retried, the item fails
    transient); a permanent one comes back as ``missing``."""
    out = _Translation(language=lang, folder=folder, requested=url)
    name = safe_filename(url.split("?", 1)[0], default=f"{folder}.pdf", suffix=".pdf")
    dest = ws.incoming / "translation" / folder / name
    dest.unlink(missing_ok=True)
    known = prior if prior and prior.get("sha256") not in (None, MISSING) else None
    try:
        download = svc.http.download(
            url,
            dest,
            etag=known.get("etag") if known else None,
            last_modified=known.get("last_modified") if known else None,
        )
    except FetchError as exc:
        if exc.transient:
            raise
        out.missing = str(exc)
        return out
    except ContentError as exc:
        out.missing = str(exc)
        return out
    if download.not_modified and known is not None:
        out.not_modified, out.prior_sha256 = True, str(known["sha256"])
        out.url, out.etag, out.last_modified = download.url, download.etag, download.last_modified
        return out
    if download.path is None or download.digests is None:
        out.missing = f"GET {url}: the server sent no PDF (304 Not Modified unasked)"
        return out
    out.path, out.digests, out.url = download.path, download.digests, download.url
    out.etag, out.last_modified = download.etag, download.last_modified
    out.media_type = download.media_type or "application/pdf"
    out.detail = (
        f"GET {download.url} ({download.attempts} attempt(s), {download.seconds:.2f} s), "
        f"the PDF in {lang}"
    )
    return out


def _fetch_translations(
    svc: Services, ws: ItemWorkspace, record: SourceRecord, latest: Version | None, settled: bool
) -> list[_Translation]:
    """Every other language's PDF, one after the other (what a killed run left in
    ``incoming/translation/`` is removed first)."""
    shutil.rmtree(ws.incoming / "translation", ignore_errors=True)
    _, others = pdf_languages(record)
    folders = _folders(others)
    prior = versioning.stored_translations(latest) if latest is not None and settled else {}
    return [
        _fetch_translation(svc, ws, lang, folders[lang], record.pdf_urls[lang], prior.get(lang))
        for lang in others
    ]


def _shas(translations: list[_Translation]) -> dict[str, str]:
    return {t.language: t.sha256 for t in translations}


def _drop(got: _Fetched | None, translations: list[_Translation]) -> None:
    """Remove the downloads of a fetch that found nothing new."""
    if got is not None:
        got.path.unlink(missing_ok=True)
    for item in translations:
        if item.path is not None:
            item.path.unlink(missing_ok=True)


def fetch(svc: Services, handle: Handle) -> StageOutput:
    """Download the PDFs and open (or resume) their version; see the module docstring."""
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
    translations: list[_Translation] = []
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
        translations = _fetch_translations(svc, ws, record, latest, settled)
        if download.not_modified and latest is not None:
            # 304: the PDF is the one we hold; unchanged unless the metadata or a translation
            # changed
            if versioning.same_content(
                latest, record, latest.original_sha256 or "", _shas(translations)
            ):
                _drop(None, translations)
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

    shas = _shas(translations)
    version: int | None = None
    if latest is not None and versioning.same_content(latest, record, got.digests.sha256, shas):
        if versioning.settled(latest):
            _drop(got, translations)
            return _unchanged(svc, handle, latest)
        if checkpoints.load(ws, latest.version, FetchCheckpoint) is not None:
            _drop(got, translations)
            return StageOutput(handle=handle.model_copy(update={"version": latest.version}))
        version = latest.version  # opened, its fetch never finished: redo it into this version
    elif latest is not None and versioning.unfetched(ws, latest, got.digests.sha256):
        version = latest.version  # same PDF, opened before the fingerprint was stored with it

    # a translation the settled version holds (304) is needed again for a new version
    translations = [
        _fetch_translation(svc, ws, t.language, t.folder, t.requested, None)
        if t.not_modified
        else t
        for t in translations
    ]
    shas = _shas(translations)
    fingerprint = versioning.fingerprint(record, got.digests.sha256, translations=shas)
    summary: dict[str, Any] = {"fingerprint": fingerprint, "url": got.url}
    if translations:
        summary["translations"] = {
            t.language: {
                "url": t.url or t.requested,
                "sha256": t.sha256,
                "etag": t.etag,
                "last_modified": t.last_modified,
            }
            for t in translations
        }
    if version is None:
        # the fingerprint goes in with the row: a run killed before this stage ends finds the
        # version again by its content and finishes it, instead of opening another
        version = svc.catalogue.new_version(
            handle.record_id,
            original_sha256=got.digests.sha256,
            work_dir=ws.version_dir(0).parent,
            summary=summary,
        )
    original, source_files = _lay_out(ws, record, got, translations, version)
    missing = [
        MissingFile(role="translation", language=t.language, url=t.requested, reason=t.missing)
        for t in translations
        if t.missing is not None
    ]
    # called here, not in a helper: the power-cut test names this commit fetch.record_fetch
    svc.catalogue.record_fetch(
        handle.record_id,
        version,
        files=[original, *source_files],
        events=_events(record, got, started, translations, source_files),
        summary=summary,
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
        missing=missing,
    )
    return StageOutput(handle=handle.model_copy(update={"version": version}), checkpoint=checkpoint)


def _lay_out(
    ws: ItemWorkspace,
    record: SourceRecord,
    got: _Fetched,
    translations: list[_Translation],
    version: int,
) -> tuple[FileInfo, list[FileInfo]]:
    """Move the PDFs into the version's payload and write the source metadata next to them
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
    for item in translations:
        if item.path is None or item.digests is None:
            continue
        rel = f"translation/{item.folder}/{item.path.name}"
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        item.path.replace(data / rel)
        source_files.append(
            FileInfo(role="translation", path=rel, digests=item.digests, media_type=item.media_type)
        )
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


def _events(
    record: SourceRecord,
    got: _Fetched,
    started: Event,
    translations: list[_Translation],
    files: list[FileInfo],
) -> list[Event]:
    """``capture`` (timed when the fetch started) and ``message digest calculation`` of the
    original, then of each translation (each event names its file by path); a translation
    that could not be fetched gets a failed ``capture`` of the package."""
    digests = got.digests
    primary, _ = pdf_languages(record)
    capture: dict[str, Any] = {
        "url": got.url,
        "declared_type": got.media_type,
        "etag": got.etag,
        "last_modified": got.last_modified,
    }
    detail = got.detail
    if primary is not None and primary != "":
        capture["language"] = primary
        original_language = record.languages[0] if record.languages else None
        if original_language is not None and primary != original_language:
            detail += (
                f"; no PDF in the original language ({original_language}): the one in "
                f"{primary} is the original"
            )
    events = [
        started.model_copy(
            update={"detail": detail, "outcome_detail": capture, "object_roles": ["original"]}
        ),
        _digest_event(digests, "original"),
    ]
    paths = {f.path.split("/")[1]: f.path for f in files if f.role == "translation"}
    for item in translations:
        if item.missing is not None:
            events.append(
                Event(
                    event_type="capture",
                    agent=SOFTWARE,
                    outcome="failure",
                    detail=(
                        f"the PDF in {item.language} the publisher lists could not be fetched: "
                        f"{item.missing}; the version is held for review"
                    ),
                    outcome_detail={"url": item.requested, "language": item.language},
                    object_roles=["package"],
                )
            )
            continue
        if item.digests is None:
            continue
        path = paths[item.folder]
        events.append(
            Event(
                event_type="capture",
                agent=SOFTWARE,
                detail=item.detail,
                outcome_detail={
                    "url": item.url,
                    "declared_type": item.media_type,
                    "etag": item.etag,
                    "last_modified": item.last_modified,
                    "language": item.language,
                },
                object_roles=[path],
            )
        )
        events.append(_digest_event(item.digests, path))
    return events


def _digest_event(digests: Digests, concerns: str) -> Event:
    return Event(
        event_type="message digest calculation",
        agent=SOFTWARE,
        detail="sha256 and sha512 computed in the same read as the download",
        outcome_detail={
            "size": digests.size,
            "sha256": digests.sha256,
            "sha512": digests.sha512,
        },
        object_roles=[concerns],
    )


STAGE = Stage(
    name="fetch",
    run=fetch,
    requires=(),
    produces=FetchCheckpoint,
    retry=NETWORK_RETRIES,
    crashpoint="after-fetch",
)

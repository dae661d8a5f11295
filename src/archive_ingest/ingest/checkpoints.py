"""The stage checkpoints: one pydantic model per stage output, and typed accessors.

A checkpoint is the JSON a stage leaves in ``HOME/work/<id>/v<N>/checkpoints/<stage>.json``
when it has finished for version ``N``; the stage's name is its model's ``stage``. A stage
whose checkpoint exists does not run again, and the next stages read what they need from the
checkpoints of the stages before them (never from the previous stage's return value), so a
re-run after a crash resumes where the last one stopped.

Nothing outside this module and the runner names a checkpoint file: readers ask for a model,

    inspected = checkpoints.load(ws, version, InspectCheckpoint)     # None when not there
    lic = checkpoints.require(ws, version, LicenceCheckpoint)        # CheckpointMissing if not
    checkpoints.save(ws, version, lic.model_copy(update=...))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, Field

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.models import Digests, FileInfo, PdfInspection, SourceRecord
from archive_ingest.workspace import ItemWorkspace, atomic_write_text

__all__ = [
    "STAGE_CHECKPOINTS",
    "Checkpoint",
    "CheckpointMissing",
    "DescribeCheckpoint",
    "FetchCheckpoint",
    "InspectCheckpoint",
    "LicenceCheckpoint",
    "MissingFile",
    "OcrCheckpoint",
    "PackageCheckpoint",
    "drop",
    "exists",
    "load",
    "payload_files",
    "require",
    "save",
]


class CheckpointMissing(ArchiveIngestError):
    """A stage needs the checkpoint of an earlier stage that has not finished."""


class Checkpoint(BaseModel):
    """What a finished stage leaves for the next ones; ``stage`` names its file."""

    stage: ClassVar[str]


class MissingFile(BaseModel):
    """A file the publisher lists that the fetch could not get for good (HTTP 404, not a PDF,
    over the size limit): the version is held for review (ingest/hold.py), never deposited
    silently without it."""

    role: str  # the role it would have had, e.g. "translation"
    language: str
    url: str
    reason: str


class FetchCheckpoint(Checkpoint):
    stage: ClassVar[str] = "fetch"

    url: str | None
    original: FileInfo
    #: the other fetched files: the PDFs in the other languages (role ``translation``) first,
    #: then the publisher's metadata responses (role ``source-metadata``)
    source_files: list[FileInfo]
    fingerprint: str
    etag: str | None = None
    last_modified: str | None = None
    missing: list[MissingFile] = Field(default_factory=list)


class InspectCheckpoint(Checkpoint):
    stage: ClassVar[str] = "inspect"

    inspection: PdfInspection
    record: SourceRecord
    #: OCR languages chosen by an archivist (a re-run); None = the record's languages
    ocr_languages: list[str] | None = None


class OcrCheckpoint(Checkpoint):
    stage: ClassVar[str] = "ocr"

    result: Any
    files: list[FileInfo]
    needs_review: list[str] = Field(default_factory=list)


class LicenceCheckpoint(Checkpoint):
    stage: ClassVar[str] = "licence"

    verdict: dict[str, Any]
    file: FileInfo


class DescribeCheckpoint(Checkpoint):
    stage: ClassVar[str] = "describe"

    files: list[FileInfo]


class PackageCheckpoint(Checkpoint):
    stage: ClassVar[str] = "package"

    tag_files: dict[str, Digests]
    payload_oxum: str


#: every checkpoint model, in the order of the stages that write them
STAGE_CHECKPOINTS: tuple[type[Checkpoint], ...] = (
    FetchCheckpoint,
    InspectCheckpoint,
    OcrCheckpoint,
    LicenceCheckpoint,
    DescribeCheckpoint,
    PackageCheckpoint,
)

C = TypeVar("C", bound=Checkpoint)


def exists(ws: ItemWorkspace, version: int, model: type[Checkpoint]) -> bool:
    """Whether the stage that writes ``model`` has finished for ``version``."""
    return ws.checkpoint_path(version, model.stage).is_file()


def load(ws: ItemWorkspace, version: int, model: type[C]) -> C | None:
    """The checkpoint ``model`` of ``version``; None when its stage has not finished."""
    path = ws.checkpoint_path(version, model.stage)
    if not path.is_file():
        return None
    return model.model_validate_json(path.read_text(encoding="utf-8"))


def require(ws: ItemWorkspace, version: int, model: type[C]) -> C:
    """The checkpoint ``model`` of ``version``; :class:`CheckpointMissing` when not there."""
    value = load(ws, version, model)
    if value is None:
        raise CheckpointMissing(
            f"{ws.record_id} v{version}: the {model.stage} stage has not finished "
            f"(no {model.stage} checkpoint); re-run the ingest to resume it"
        )
    return value


def save(ws: ItemWorkspace, version: int, value: Checkpoint) -> None:
    """Write ``value`` as its stage's checkpoint of ``version`` (atomically)."""
    atomic_write_text(
        ws.checkpoint_path(version, value.stage), value.model_dump_json(indent=1) + "\n"
    )


def drop(ws: ItemWorkspace, version: int, models: Iterable[type[Checkpoint]]) -> None:
    """Forget the checkpoints ``models`` of ``version``: their stages run again."""
    for model in models:
        ws.checkpoint_path(version, model.stage).unlink(missing_ok=True)


def payload_files(ws: ItemWorkspace, version: int) -> list[FileInfo]:
    """The package payload as the fetch, OCR and licence stages left it (records excluded)."""
    fetched = require(ws, version, FetchCheckpoint)
    ocr_ck = require(ws, version, OcrCheckpoint)
    lic = require(ws, version, LicenceCheckpoint)
    return [fetched.original, *fetched.source_files, *ocr_ck.files, lic.file]

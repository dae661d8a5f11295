"""The one input of the record writers: everything a package's records say, as plain data.

The pipeline assembles a :class:`PackageDescription` from the catalogue (the item's
:class:`SourceRecord`, the files it packages, its event log, the licence verdict and the
OCR page decisions) and calls ``build_dc(desc)`` / ``build_mets(desc)``. Nothing here
reads the clock, the disk or the settings: ``created`` comes from the record, so the same
description always gives byte-identical records.

The licence verdict arrives as plain values on purpose: the licence package is another
component and the records must not depend on its classes.
"""

from __future__ import annotations

import datetime as dt

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from archive_ingest import __version__
from archive_ingest.models import Event, FileInfo, SourceRecord


class OcrPage(BaseModel):
    """What the OCR step decided for one page (1-based), as the OCR component reports it.

    Accepts the OCR stage's ``PageReport.model_dump()`` as is: its ``hocr`` path is taken as
    ``file``, its other keys (reason, figures) are ignored here (they stay in the OCR report
    file, which the package holds).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    page: int = Field(ge=1)
    kind: str = Field(min_length=1)  # born-digital | scanned | no-text
    decision: str = Field(min_length=1)  # kept-layer | fresh-ocr | born-digital ...
    #: path (as in ``FileInfo.path``) of this page's own OCR output file, when there is one
    file: str | None = Field(default=None, validation_alias=AliasChoices("file", "hocr"))


class PackageDescription(BaseModel):
    """Everything ``build_dc`` and ``build_mets`` need for one package version."""

    model_config = ConfigDict(frozen=True)

    record: SourceRecord
    #: every payload file the package holds (paths relative to the bag's ``data/``,
    #: i.e. relative to ``data/mets.xml`` itself); not mets.xml, which cannot list itself
    files: list[FileInfo] = Field(default_factory=list)
    #: PREMIS-style events, oldest first (they are re-sorted by time, stably)
    events: list[Event] = Field(default_factory=list)
    licence_uri: str | None = None  # the validated Creative Commons URI
    licence_label: str | None = None  # e.g. "CC BY-NC-SA 3.0"
    licence_outcome: str  # the licence component's verdict, e.g. "accepted", "needs_review"
    rights_statement: str | None = None  # the licence statement as the publisher words it
    granted_acts: list[str] = Field(default_factory=list)  # PREMIS acts: replicate, migrate ...
    ocr_pages: list[OcrPage] = Field(default_factory=list)
    page_count: int | None = Field(default=None, ge=0)
    version: int = Field(default=1, ge=1)
    organization: str = Field(min_length=1)  # the archive keeping the package
    software_name: str = "archive-ingest"
    software_version: str = __version__
    #: when these records were made, taken from the catalogue record (never the clock)
    created: dt.datetime

    @field_validator("created")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        # A naive datetime (SQLite gives those back) is taken as UTC, as the catalogue stores.
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

    @property
    def record_id(self) -> str:
        return self.record.record_id

    @property
    def software(self) -> str:
        """The software agent's name as the records show it, e.g. ``archive-ingest 0.1.0``."""
        return f"{self.software_name} {self.software_version}".strip()

"""bag-info.txt: what a bag says about itself, built from the record, never from the clock.

Pure: :class:`BagInfo` holds the descriptive tags; :func:`render_bag_info` adds the tags that
are computed from the payload (Payload-Oxum, Bag-Size) and returns the file's exact bytes.
The same record and payload give the same bytes on every run: Bagging-Date is the record's
packaging date, tags are written sorted, values have their white space collapsed, and no
software version is written (a re-run after an upgrade must not change a deposited bag).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from archive_ingest.bag.profile import project_profile
from archive_ingest.errors import PackageError, RefError
from archive_ingest.models import SourceKind, SourceRecord
from archive_ingest.refs import ItemRef, parse_ref

_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")

#: Labels this module writes itself; extra tags may not use them.
RESERVED_LABELS = frozenset(
    label.lower()
    for label in (
        "BagIt-Profile-Identifier",
        "Bag-Group-Identifier",
        "Bag-Size",
        "Bagging-Date",
        "External-Description",
        "External-Identifier",
        "Internal-Sender-Identifier",
        "Payload-Oxum",
        "Source-Kind",
        "Source-Organization",
        "Version",
    )
)


def clean_value(value: str) -> str:
    """One line: runs of white space (CR, LF, tabs included) become one space."""
    return " ".join(value.split())


def _default_profile_identifier() -> str:
    return project_profile().identifier


class BagInfo(BaseModel):
    """The descriptive bag-info.txt tags of one package (see schemas/bagit-profile.json)."""

    model_config = ConfigDict(frozen=True)

    source_organization: str = Field(min_length=1)
    external_identifier: str = Field(min_length=1)  # the record id
    external_description: str = Field(min_length=1)
    bagging_date: dt.date  # the record's packaging date, never "today" at a re-run
    bag_group_identifier: str | None = None  # e.g. the book's record id for a chapter
    internal_sender_identifier: str | None = None  # the source REF
    source_kind: SourceKind | None = None
    version: int | None = Field(default=None, ge=1)  # the record's package version (v<N>)
    profile_identifier: str = Field(default_factory=_default_profile_identifier)
    extra_tags: dict[str, str | list[str]] = Field(default_factory=dict)

    @field_validator(
        "source_organization",
        "external_identifier",
        "external_description",
        "bag_group_identifier",
        "internal_sender_identifier",
        "profile_identifier",
        mode="after",
    )
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = clean_value(value)
        if not cleaned:
            raise ValueError("must not be blank")
        return cleaned

    @field_validator("bagging_date", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("give a date (the record's packaging date), not a datetime")
        return value

    @field_validator("extra_tags", mode="after")
    @classmethod
    def _extra_labels(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        cleaned: dict[str, str | list[str]] = {}
        for label, raw in value.items():
            if not _LABEL.fullmatch(label):
                raise ValueError(f"bad tag label {label!r}: letters, digits and '-' only")
            if label.lower() in RESERVED_LABELS:
                raise ValueError(f"tag {label!r} is written by archive-ingest itself")
            values = [raw] if isinstance(raw, str) else list(raw)
            lines = [clean_value(v) for v in values]
            if not lines or not all(lines):
                raise ValueError(f"tag {label!r} has a blank value")
            cleaned[label] = lines[0] if isinstance(raw, str) else lines
        return cleaned

    def tags(self) -> list[tuple[str, str]]:
        """The descriptive (label, value) pairs, without the payload-derived ones."""
        pairs: list[tuple[str, str]] = [
            ("BagIt-Profile-Identifier", self.profile_identifier),
            ("Bagging-Date", self.bagging_date.isoformat()),
            ("External-Description", self.external_description),
            ("External-Identifier", self.external_identifier),
            ("Source-Organization", self.source_organization),
        ]
        if self.bag_group_identifier:
            pairs.append(("Bag-Group-Identifier", self.bag_group_identifier))
        if self.internal_sender_identifier:
            pairs.append(("Internal-Sender-Identifier", self.internal_sender_identifier))
        if self.source_kind:
            pairs.append(("Source-Kind", self.source_kind))
        if self.version is not None:
            pairs.append(("Version", str(self.version)))
        for label, value in self.extra_tags.items():
            for line in [value] if isinstance(value, str) else value:
                pairs.append((label, line))
        return pairs


def payload_oxum(total_bytes: int, file_count: int) -> str:
    """RFC 8493 §2.2.2: ``OctetCount.StreamCount`` of the payload."""
    return f"{total_bytes}.{file_count}"


def format_bag_size(total_bytes: int) -> str:
    """A person's size ("1.4 MB", decimal units), as RFC 8493 §2.2.2 suggests for Bag-Size.

    It describes the payload: the tag files are a few kilobytes and depend on this value.
    """
    if total_bytes < 1000:
        return f"{total_bytes} bytes"
    size = float(total_bytes)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        size /= 1000.0
        if size < 999.95 or unit == "PB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def render_bag_info(info: BagInfo, *, oxum: str, bag_size: str) -> bytes:
    """bag-info.txt as UTF-8 bytes: one ``Label: value`` line per tag, sorted by label.

    Sorting is stable, so a repeated extra tag keeps the order of its values.
    """
    pairs = [*info.tags(), ("Bag-Size", bag_size), ("Payload-Oxum", oxum)]
    pairs.sort(key=lambda pair: pair[0].lower())
    return "".join(f"{label}: {value}\n" for label, value in pairs).encode("utf-8")


def describe(record: SourceRecord) -> str:
    """External-Description: the title, and for a part the larger work it belongs to."""
    text = record.title
    if record.is_part_of and record.is_part_of.title:
        text = f"{text}. In: {record.is_part_of.title}"
    return clean_value(text)


def group_identifier(record: SourceRecord) -> str | None:
    """For a SciELO Books chapter, the record id of its book (the book's bag has it too)."""
    if record.source_kind != "scielo-books-chapter":
        return None
    try:
        ref = parse_ref(record.source)
    except RefError:
        return None
    if ref.kind != "scielo-books" or not ref.sbid:
        return None
    return ItemRef(kind="scielo-books", sbid=ref.sbid).record_id


def bag_info_from_record(
    record: SourceRecord,
    *,
    organization: str,
    bagging_date: dt.date,
    version: int | None = None,
    extra_tags: Mapping[str, str | list[str]] | None = None,
) -> BagInfo:
    """The bag-info tags of a record's package (pure: same record, same tags)."""
    try:
        return BagInfo(
            source_organization=organization,
            external_identifier=record.record_id,
            external_description=describe(record),
            bagging_date=bagging_date,
            bag_group_identifier=group_identifier(record),
            internal_sender_identifier=record.source,
            source_kind=record.source_kind,
            version=version,
            extra_tags=dict(extra_tags or {}),
        )
    except ValueError as exc:
        raise PackageError(f"cannot describe bag for {record.record_id}: {exc}") from exc

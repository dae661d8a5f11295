"""Decide everything the METS says before writing any XML: files, events, agents, pages.

Separating the decisions from the writing keeps both small and lets the refusals (bad
paths, missing PUIDs, events naming files the package lacks, raw metadata that is not the
publisher's bytes) happen in one place, each with a message that says what to fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import PurePosixPath

from archive_ingest.errors import PackageError
from archive_ingest.models import Event, FileInfo
from archive_ingest.records import ids
from archive_ingest.records.model import OcrPage, PackageDescription
from archive_ingest.records.text import clean_block, clean_line, require_line
from archive_ingest.records.xmlutil import xsd_datetime

#: fileGrp USE values, in the order the fileSec lists them (= FileInfo roles)
FILE_GROUPS = (
    "original",
    "translation",
    "access",
    "text",
    "ocr-page",
    "ocr-report",
    "source-metadata",
    "record",
)
#: roles whose files are the item's content (pointed to by the logical structMap)
CONTENT_ROLES = ("original", "translation", "access", "text")
#: where the PDFs in the publisher's other languages sit inside data/: translation/<lang>/<name>
TRANSLATION_DIR = "translation"
#: derivation: role -> the roles it may be derived from, first present wins
DERIVED_FROM = {
    "access": ("original",),
    "text": ("access", "original"),
    "ocr-page": ("access", "original"),
}
#: event types that make derived files (their event is linked from the relationship)
DERIVING_EVENT_TYPES = {
    "ocr",
    "transcription",
    "optical character recognition",
    "normalization",
    "migration",
}
OCR_EVENT_TYPES = {"ocr", "transcription", "optical character recognition"}
#: object_roles entries that mean "the item itself" rather than a file
ENTITY_ROLES = {"package", "item", "entity", "intellectual entity"}
METADATA_CREATION = "metadata creation"
#: where the publisher's raw metadata files sit inside data/
SOURCE_METADATA_DIR = "source-metadata"
METS_FILENAME = "mets.xml"
DC_FILENAME = "dc.xml"

_PUID_RE = re.compile(r"^(?:x-)?fmt/[0-9]+$")
_HEX_RE = {"sha256": 64, "sha512": 128, "md5": 32}
_VERSION_RE = re.compile(r"^(?P<name>.*\S)\s+v?(?P<version>[0-9][0-9A-Za-z.+-]*)$")


def raw_metadata_path(name: str) -> str:
    """Where a :class:`RawMetadata` file goes, relative to ``data/``."""
    return f"{SOURCE_METADATA_DIR}/{name}"


def _natural_key(path: str) -> list[tuple[int, int | str]]:
    return [
        (0, int(tok)) if tok.isascii() and tok.isdigit() else (1, tok)
        for tok in re.split(r"([0-9]+)", path)
    ]


def check_path(path: str) -> str:
    """A payload path must be a plain relative POSIX path inside ``data/``; refuse others."""
    if path != clean_line(path) or not path:
        raise PackageError(f"file path {path!r} has control characters, odd spaces or is empty")
    if "\\" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise PackageError(f"file path {path!r} must be relative with / separators")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise PackageError(f"file path {path!r} has an empty, '.' or '..' segment")
    if path == METS_FILENAME:
        raise PackageError("mets.xml cannot list itself as a file of the package")
    return path


@dataclass(eq=False)
class PlannedFile:
    info: FileInfo
    file_id: str  # METS file ID
    tech_id: str  # techMD ID
    uuid: str
    original_name: str
    event_ids: list[str] = field(default_factory=list)  # digiprovMD IDs of its events
    event_uuids: list[str] = field(default_factory=list)
    page: int | None = None  # the page an ocr-page file belongs to
    language: str | None = None  # the language of an original or a translation, when told

    @property
    def role(self) -> str:
        return self.info.role


@dataclass
class PlannedAgent:
    key: tuple[str, str, str]
    uuid: str
    md_id: str
    name: str
    agent_type: str
    version: str | None
    local_id: str | None


@dataclass
class PlannedEvent:
    event: Event
    md_id: str
    uuid: str
    event_type: str
    when: str
    agent: PlannedAgent
    files: list[PlannedFile]
    concerns_entity: bool
    notes: list[str]


@dataclass
class Plan:
    files: list[PlannedFile]
    events: list[PlannedEvent]
    agents: list[PlannedAgent]
    page_count: int
    pages: dict[int, OcrPage]
    entity_uuid: str
    rights_uuid: str

    def by_role(self, role: str) -> list[PlannedFile]:
        return [f for f in self.files if f.role == role]


def _check_file(info: FileInfo) -> None:
    for name, length in _HEX_RE.items():
        value = getattr(info.digests, name)
        if value is None and name == "md5":
            continue  # optional since D11
        if value is None or not re.fullmatch(f"[0-9a-fA-F]{{{length}}}", value):
            raise PackageError(f"file {info.path!r}: {name} {value!r} is not {length} hex digits")
    if info.digests.size < 0:
        raise PackageError(f"file {info.path!r}: negative size")
    if not info.puid or not _PUID_RE.fullmatch(info.puid):
        raise PackageError(
            f"file {info.path!r} has no PRONOM format (PUID {info.puid!r}"
            + (f", identified by {info.identified_by}" if info.identified_by else "")
            + "): the METS profile requires one for every file; a file no tool recognises "
            "cannot be packaged"
        )
    if not clean_line(info.media_type) or "/" not in info.media_type:
        raise PackageError(
            f"file {info.path!r}: media type {info.media_type!r} is not type/subtype"
        )


def _plan_files(desc: PackageDescription) -> list[PlannedFile]:
    seen: set[str] = set()
    for info in desc.files:
        check_path(info.path)
        if info.path in seen:
            raise PackageError(f"file {info.path!r} is listed twice")
        seen.add(info.path)
        _check_file(info)
    originals = [f for f in desc.files if f.role == "original"]
    if len(originals) != 1:
        raise PackageError(f"a package holds exactly one original file, this one {len(originals)}")
    raw_urls = {raw_metadata_path(raw.name): raw.url for raw in desc.record.raw_metadata}
    translated = any(f.role == "translation" for f in desc.files)
    planned: list[PlannedFile] = []
    for role in FILE_GROUPS:
        members = sorted(
            (f for f in desc.files if f.role == role), key=lambda f: _natural_key(f.path)
        )
        for n, info in enumerate(members, start=1):
            language = None
            label: str | int = n
            if role == "original":
                original_name = desc.record.primary_pdf_url() or info.path
                language = _original_language(desc) if translated else None
            elif role == "translation":
                language = translation_language(info.path)
                original_name = desc.record.pdf_urls.get(language) or info.path
                label = language
            elif role == "source-metadata":
                original_name = raw_urls.get(info.path) or info.path
            else:
                original_name = info.path
            planned.append(
                PlannedFile(
                    info=info,
                    file_id=ids.xml_id("file", role, label),
                    tech_id=ids.xml_id("tech", role, label),
                    uuid=ids.file_uuid(desc.record_id, desc.version, role, info.path),
                    original_name=original_name,
                    language=language,
                )
            )
    return planned


def translation_language(path: str) -> str:
    """The language of a translation file, the folder it sits in (``translation/es/x.pdf``)."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != TRANSLATION_DIR:
        raise PackageError(
            f"translation file {path!r} is not at {TRANSLATION_DIR}/<language>/<name>"
        )
    return parts[1]


def _original_language(desc: PackageDescription) -> str | None:
    """The language of the original PDF: its key in ``pdf_urls`` (None for the only PDF)."""
    return desc.record.primary_pdf_language() or None


def _check_raw_metadata(desc: PackageDescription, files: list[PlannedFile]) -> None:
    """Every raw publisher response must be in the package, byte for byte."""
    by_path = {f.info.path: f for f in files}
    for raw in desc.record.raw_metadata:
        path = raw_metadata_path(raw.name)
        planned = by_path.get(path)
        if planned is None or planned.role != "source-metadata":
            raise PackageError(
                f"raw metadata {raw.name!r} is not in the package as a source-metadata file "
                f"at {path!r}"
            )
        digest = hashlib.sha256(raw.content).hexdigest()
        if planned.info.digests.sha256.lower() != digest:
            raise PackageError(
                f"source-metadata file {path!r} is not the publisher's response verbatim "
                "(SHA-256 differs from the bytes in the record)"
            )


def _split_version(name: str) -> tuple[str, str | None]:
    match = _VERSION_RE.match(name)
    return (match.group("name"), match.group("version")) if match else (name, None)


def _agent_key(desc: PackageDescription, event: Event) -> tuple[str, str, str]:
    """(type, name, local id) of an event's agent; the default agent is this software."""
    name = require_line(event.agent, f"agent of event {event.event_type!r}")
    local_id = clean_line(event.agent_id) or ""
    if event.agent_type == "software" and name == desc.software_name and not local_id:
        name = require_line(desc.software, "software name")  # "archive-ingest" -> versioned
    return (event.agent_type, name, local_id)


def _plan_agents(
    desc: PackageDescription, events: list[Event]
) -> dict[tuple[str, str, str], PlannedAgent]:
    """One agent per distinct (type, name, local id), in order of first appearance."""
    agents: dict[tuple[str, str, str], PlannedAgent] = {}
    for event in events:
        key = _agent_key(desc, event)
        if key in agents:
            continue
        agent_type, name, local_id = key
        label, version = _split_version(name) if agent_type == "software" else (name, None)
        agents[key] = PlannedAgent(
            key=key,
            uuid=ids.agent_uuid(agent_type, name, local_id or None),
            md_id=ids.xml_id("agent", f"{len(agents) + 1:02d}"),
            name=label,
            agent_type=agent_type,
            version=version,
            local_id=local_id or None,
        )
    return agents


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _with_metadata_creation(desc: PackageDescription) -> list[Event]:
    """The events in time order (stable), plus a metadata creation event if none is given."""
    events = list(desc.events)
    if not any(e.event_type.strip().lower() == METADATA_CREATION for e in events):
        events.append(
            Event(
                event_type=METADATA_CREATION,
                outcome="success",
                detail="Dublin Core (oai_dc and qualified), MODS, METS and PREMIS records written",
                agent=desc.software_name,
                agent_type="software",
                datetime=desc.created,
            )
        )
    return sorted(events, key=lambda e: _utc(e.datetime))


def _page_ranges(pages: list[int]) -> str:
    runs: list[str] = []
    for _, group in groupby(enumerate(pages), key=lambda t: t[1] - t[0]):
        members = [p for _, p in group]
        runs.append(str(members[0]) if len(members) == 1 else f"{members[0]}-{members[-1]}")
    return ", ".join(runs)


def ocr_summary(pages: dict[int, OcrPage], page_count: int) -> str:
    """One line per kind/decision, e.g. ``scanned, ocr: pages 2-13``."""
    groups: dict[tuple[str, str], list[int]] = {}
    for number in sorted(pages):
        page = pages[number]
        key = (clean_line(page.kind) or "?", clean_line(page.decision) or "?")
        groups.setdefault(key, []).append(number)
    lines = [f"OCR decisions for {page_count} pages:"]
    lines += [
        f"{kind}, {decision}: pages {_page_ranges(nums)}"
        for (kind, decision), nums in groups.items()
    ]
    missing = [n for n in range(1, page_count + 1) if n not in pages]
    if missing:
        lines.append(f"no decision recorded: pages {_page_ranges(missing)}")
    return "\n".join(lines)


def _plan_pages(
    desc: PackageDescription, files: list[PlannedFile]
) -> tuple[int, dict[int, OcrPage]]:
    pages: dict[int, OcrPage] = {}
    for page in desc.ocr_pages:
        if page.page in pages:
            raise PackageError(f"OCR page {page.page} is reported twice")
        pages[page.page] = page
    page_count = desc.page_count if desc.page_count is not None else max(pages, default=0)
    beyond = [n for n in pages if n > page_count]
    if beyond:
        raise PackageError(f"OCR pages {beyond} are beyond the page count {page_count}")
    ocr_files = {f.info.path: f for f in files if f.role == "ocr-page"}
    for page in pages.values():
        if page.file is None:
            continue
        if page.file not in ocr_files:
            raise PackageError(
                f"OCR page {page.page} names file {page.file!r}, not an ocr-page file"
            )
        ocr_files[page.file].page = page.page
    taken = {f.page for f in ocr_files.values() if f.page is not None}
    for planned in ocr_files.values():
        if planned.page is not None:
            continue
        numbers = re.findall(r"[0-9]+", PurePosixPath(planned.info.path).name)
        if numbers and 1 <= int(numbers[-1]) <= page_count and int(numbers[-1]) not in taken:
            planned.page = int(numbers[-1])
            taken.add(planned.page)
    return page_count, pages


def make_plan(desc: PackageDescription) -> Plan:
    files = _plan_files(desc)
    _check_raw_metadata(desc, files)
    events = _with_metadata_creation(desc)
    agents = _plan_agents(desc, events)
    page_count, pages = _plan_pages(desc, files)
    by_role: dict[str, list[PlannedFile]] = {}
    for planned_file in files:
        by_role.setdefault(planned_file.role, []).append(planned_file)
    by_path = {planned_file.info.path: planned_file for planned_file in files}
    entity = ids.entity_uuid(desc.record_id)
    ordinals: dict[tuple[str, str, str], int] = {}
    planned_events: list[PlannedEvent] = []
    for index, event in enumerate(events, start=1):
        event_type = require_line(event.event_type, f"type of event {index}")
        when = xsd_datetime(event.datetime)
        agent = agents[_agent_key(desc, event)]
        identity = (event_type, when, agent.uuid)
        ordinals[identity] = ordinals.get(identity, 0) + 1
        concerned: list[PlannedFile] = []
        concerns_entity = not event.object_roles
        for role in event.object_roles:
            if role.strip().lower() in ENTITY_ROLES:
                concerns_entity = True
            elif role in by_role:
                concerned += [f for f in by_role[role] if f not in concerned]
            elif role in by_path:  # one file of its role (a translation), named by its path
                if by_path[role] not in concerned:
                    concerned.append(by_path[role])
            else:
                raise PackageError(
                    f"event {index} ({event_type}) concerns file role {role!r}, but the package "
                    f"has no such file, nor a file at that path (roles present: "
                    f"{', '.join(by_role)})"
                )
        notes = []
        if event.outcome_detail:
            notes.append(
                json.dumps(event.outcome_detail, sort_keys=True, ensure_ascii=False, default=str)
            )
        planned_events.append(
            PlannedEvent(
                event=event,
                md_id=ids.xml_id("event", f"{index:04d}"),
                uuid=ids.event_uuid(
                    desc.record_id, event_type, when, agent.uuid, ordinals[identity]
                ),
                event_type=event_type,
                when=when,
                agent=agent,
                files=concerned,
                concerns_entity=concerns_entity,
                notes=notes,
            )
        )
        for planned_file in concerned:
            planned_file.event_ids.append(planned_events[-1].md_id)
            planned_file.event_uuids.append(planned_events[-1].uuid)
    if pages:
        ocr_events = [e for e in planned_events if e.event_type.lower() in OCR_EVENT_TYPES]
        if not ocr_events:
            raise PackageError(
                "OCR page decisions were given but no OCR event ('OCR' or 'transcription') "
                "records the OCR run"
            )
        ocr_events[-1].notes.append(ocr_summary(pages, page_count))
    return Plan(
        files=files,
        events=planned_events,
        agents=list(agents.values()),
        page_count=page_count,
        pages=pages,
        entity_uuid=entity,
        rights_uuid=ids.rights_uuid(desc.record_id, desc.version, 1),
    )


def deriving_event(plan: Plan, derived: PlannedFile) -> str | None:
    """The UUID of the latest event that made ``derived`` (OCR, normalisation ...), if any."""
    for planned in reversed(plan.events):
        if planned.event_type.lower() in DERIVING_EVENT_TYPES and derived in planned.files:
            return planned.uuid
    return None


def event_detail(event: Event) -> str | None:
    return clean_block(event.detail)

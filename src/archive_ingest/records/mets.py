"""``data/mets.xml``: METS 1.12.1 with DC, MODS and PREMIS 3, written with lxml.

metsrw (Artefactual's METS library) is not used: it is AGPL-3.0, which would bind this
Apache-2.0 project's distribution, it has no type hints, and it validates by fetching the
schemas named in the document. lxml directly, with the decisions made in :mod:`.plan`,
is short enough to read in one sitting.

Layout (the project's METS profile, schemas/mets-profile.md, says what is always there):

* metsHdr: CREATEDATE (from the record), the software as CREATOR agent, the archive as
  CUSTODIAN, the source REF and package version as altRecordIDs;
* dmdSec ``dmd-dc`` (oai_dc), ``dmd-qdc`` (qualified DC), ``dmd-mods`` (MODS, roles),
  ``dmd-premis`` (the PREMIS intellectual entity);
* one amdSec: a techMD per file (PREMIS file object), one rightsMD, a digiprovMD per
  event and one per agent (agents once, referenced by identifier);
* fileSec: one fileGrp per role, FLocat hrefs relative to mets.xml (i.e. to ``data/``); the
  PDFs in the publisher's other languages in fileGrp ``translation``, each file's ID ending
  in its language (``file-translation-es``) and its PREMIS object carrying the language as a
  significant property (the original's too, when there are translations);
* structMap physical (the document and its pages) and logical (the larger work and the
  item).
"""

from __future__ import annotations

from urllib.parse import quote

from lxml import etree

from archive_ingest.records import premis
from archive_ingest.records.dc import DcValues, oai_dc_element, qualified_dc_element
from archive_ingest.records.model import PackageDescription
from archive_ingest.records.mods import mods_element
from archive_ingest.records.plan import (
    CONTENT_ROLES,
    DERIVED_FROM,
    FILE_GROUPS,
    Plan,
    PlannedFile,
    deriving_event,
    event_detail,
    make_plan,
)
from archive_ingest.records.text import clean_line, require_line
from archive_ingest.records.vocab import PARENT_DIV_TYPE, kind_mapping
from archive_ingest.records.xmlutil import (
    METS_NS,
    METS_SCHEMA_LOCATION,
    NSMAP_METS,
    XLINK_NS,
    XSI_NS,
    q,
    serialise,
    sub,
    xsd_datetime,
)

#: the METS/@PROFILE of every package this project writes: profile version 1
#: (schemas/mets-profile.md), a UUID URN; a new profile version gets a new UUID
METS_PROFILE_URI = "urn:uuid:be4ba9ac-4b9b-42cb-9bde-cc1cfc99037f"
#: the same profile version as packages written before the URN name it; read, never written
METS_PROFILE_LEGACY_URI = (
    "https://github.com/archive-ingest/archive-ingest/blob/main/schemas/mets-profile.md#version-1"
)
DMD_IDS = ("dmd-dc", "dmd-qdc", "dmd-mods", "dmd-premis")
RIGHTS_ID = "rights-1"


def _m(local: str) -> str:
    return q(METS_NS, local)


def _wrap(
    parent: etree._Element, tag: str, md_id: str, created: str, **wrap: str
) -> etree._Element:
    """``<tag ID=.. CREATED=..><mdWrap ..><xmlData/>``; returns the xmlData element."""
    section = sub(parent, _m(tag), attrib={"ID": md_id, "CREATED": created})
    md_wrap = sub(section, _m("mdWrap"), attrib=dict(wrap))
    return sub(md_wrap, _m("xmlData"))


def _header(root: etree._Element, desc: PackageDescription, created: str) -> None:
    header = sub(root, _m("metsHdr"), attrib={"CREATEDATE": created, "RECORDSTATUS": "complete"})
    creator = sub(
        header, _m("agent"), attrib={"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"}
    )
    sub(creator, _m("name"), require_line(desc.software, "software name"))
    custodian = sub(header, _m("agent"), attrib={"ROLE": "CUSTODIAN", "TYPE": "ORGANIZATION"})
    sub(custodian, _m("name"), require_line(desc.organization, "organization"))
    sub(header, _m("altRecordID"), desc.record.source, attrib={"TYPE": "source-ref"})
    sub(header, _m("altRecordID"), str(desc.version), attrib={"TYPE": "package-version"})


def _dmd(
    root: etree._Element, desc: PackageDescription, plan: Plan, values: DcValues, created: str
) -> None:
    xml_data = _wrap(root, "dmdSec", "dmd-dc", created, MDTYPE="DC", LABEL="Dublin Core (oai_dc)")
    oai_dc_element(desc, xml_data, values)
    xml_data = _wrap(root, "dmdSec", "dmd-qdc", created, MDTYPE="DC", LABEL="qualified Dublin Core")
    qualified_dc_element(desc, xml_data, values)
    xml_data = _wrap(root, "dmdSec", "dmd-mods", created, MDTYPE="MODS", MDTYPEVERSION="3.8")
    mods_element(desc, xml_data, values)
    xml_data = _wrap(
        root, "dmdSec", "dmd-premis", created, MDTYPE="PREMIS:OBJECT", MDTYPEVERSION="3.0"
    )
    premis.entity_object(
        xml_data,
        plan.entity_uuid,
        desc.record_id,
        desc.version,
        events=[e.uuid for e in plan.events if e.concerns_entity],
        rights=[plan.rights_uuid],
    )


def _source_role(plan: Plan, planned: PlannedFile) -> str | None:
    """The role ``planned`` was derived from: the first of its candidates the package holds."""
    return next((r for r in DERIVED_FROM.get(planned.role, ()) if plan.by_role(r)), None)


def _relationships(plan: Plan, planned: PlannedFile) -> list[premis.Relationship]:
    """PREMIS derivation links: original -> access copy -> text (and OCR pages)."""
    relationships: list[premis.Relationship] = []
    source_role = _source_role(plan, planned)
    if source_role is not None:
        sources = tuple(s.uuid for s in plan.by_role(source_role))
        event = deriving_event(plan, planned)
        relationships.append(premis.Relationship("derivation", "has source", sources, event))
    derived = tuple(f.uuid for f in plan.files if _source_role(plan, f) == planned.role)
    if derived:
        relationships.append(premis.Relationship("derivation", "is source of", derived))
    return relationships


def _amd(
    root: etree._Element, desc: PackageDescription, plan: Plan, values: DcValues, created: str
) -> None:
    amd = sub(root, _m("amdSec"), attrib={"ID": "amd"})
    for planned in plan.files:
        xml_data = _wrap(
            amd, "techMD", planned.tech_id, created, MDTYPE="PREMIS:OBJECT", MDTYPEVERSION="3.0"
        )
        premis.file_object(
            xml_data,
            premis.FileObject(
                uuid=planned.uuid,
                info=planned.info,
                original_name=planned.original_name,
                relationships=_relationships(plan, planned),
                events=planned.event_uuids,
                rights=[plan.rights_uuid],
                language=planned.language,
            ),
        )
    xml_data = _wrap(
        amd, "rightsMD", RIGHTS_ID, created, MDTYPE="PREMIS:RIGHTS", MDTYPEVERSION="3.0"
    )
    premis.rights_element(
        xml_data,
        premis.RightsValues(
            uuid=plan.rights_uuid,
            licence_uri=values.licence_uri,
            licence_label=clean_line(desc.licence_label),
            rights_statement=desc.rights_statement,
            licence_outcome=desc.licence_outcome,
            granted_acts=tuple(desc.granted_acts),
            objects=(plan.entity_uuid,),
        ),
    )
    for event in plan.events:
        xml_data = _wrap(
            amd, "digiprovMD", event.md_id, created, MDTYPE="PREMIS:EVENT", MDTYPEVERSION="3.0"
        )
        objects = ([plan.entity_uuid] if event.concerns_entity else []) + [
            f.uuid for f in event.files
        ]
        premis.event_element(
            xml_data,
            premis.EventValues(
                uuid=event.uuid,
                event_type=event.event_type,
                when=event.when,
                detail=event_detail(event.event),
                outcome=event.event.outcome,
                outcome_notes=tuple(event.notes),
                agent_uuid=event.agent.uuid,
                agent_role="executing program"
                if event.agent.agent_type == "software"
                else "implementer",
                objects=tuple(objects),
            ),
        )
    for agent in plan.agents:
        xml_data = _wrap(
            amd, "digiprovMD", agent.md_id, created, MDTYPE="PREMIS:AGENT", MDTYPEVERSION="3.0"
        )
        premis.agent_element(
            xml_data,
            premis.AgentValues(
                uuid=agent.uuid,
                name=agent.name,
                agent_type=agent.agent_type,
                version=agent.version,
                local_id=agent.local_id,
            ),
        )


def href(path: str) -> str:
    """A payload path as a relative URI reference (percent-encoded, ``/`` kept)."""
    return quote(path, safe="/-._~")


def _file_sec(root: etree._Element, plan: Plan) -> None:
    file_sec = sub(root, _m("fileSec"), attrib={"ID": "filesec"})
    for role in FILE_GROUPS:
        members = plan.by_role(role)
        if not members:
            continue
        group = sub(file_sec, _m("fileGrp"), attrib={"ID": f"grp-{role}", "USE": role})
        for planned in members:
            info = planned.info
            admid = " ".join([planned.tech_id, RIGHTS_ID, *planned.event_ids])
            element = sub(
                group,
                _m("file"),
                attrib={
                    "ID": planned.file_id,
                    "MIMETYPE": info.media_type,
                    "SIZE": info.digests.size,
                    "CHECKSUM": info.digests.sha256.lower(),
                    "CHECKSUMTYPE": "SHA-256",
                    "ADMID": admid,
                },
            )
            sub(
                element,
                _m("FLocat"),
                attrib={
                    "LOCTYPE": "URL",
                    q(XLINK_NS, "type"): "simple",
                    q(XLINK_NS, "href"): href(info.path),
                },
            )


def _struct_maps(
    root: etree._Element, desc: PackageDescription, plan: Plan, values: DcValues
) -> None:
    physical = sub(root, _m("structMap"), attrib={"ID": "structmap-physical", "TYPE": "physical"})
    document = sub(
        physical,
        _m("div"),
        attrib={"ID": "phys-document", "TYPE": "document", "LABEL": values.title},
    )
    for planned in plan.files:
        if planned.page is None:
            sub(document, _m("fptr"), attrib={"FILEID": planned.file_id})
    for number in range(1, plan.page_count + 1):
        label = f"page {number}"
        decision = plan.pages.get(number)
        if decision is not None:
            kind = clean_line(decision.kind) or "?"
            label += f" ({kind}: {clean_line(decision.decision) or '?'})"
        page = sub(
            document,
            _m("div"),
            attrib={
                "ID": f"phys-page-{number:04d}",
                "TYPE": "page",
                "ORDER": number,
                "LABEL": label,
            },
        )
        for planned in plan.files:
            if planned.page == number:
                sub(page, _m("fptr"), attrib={"FILEID": planned.file_id})

    logical = sub(root, _m("structMap"), attrib={"ID": "structmap-logical", "TYPE": "logical"})
    parent = logical
    relation = desc.record.is_part_of
    if relation is not None:
        parent = sub(
            logical,
            _m("div"),
            attrib={
                "ID": "log-parent",
                "TYPE": PARENT_DIV_TYPE[relation.kind],
                "LABEL": values.part_of_title,
            },
        )
    entity_events = [e.md_id for e in plan.events if e.concerns_entity]
    item = sub(
        parent,
        _m("div"),
        attrib={
            "ID": "log-item",
            "TYPE": kind_mapping(desc.record).div_type,
            "LABEL": values.title,
            "ORDERLABEL": values.pages,
            "DMDID": " ".join(DMD_IDS),
            "ADMID": " ".join([RIGHTS_ID, *entity_events]),
        },
    )
    for planned in plan.files:
        if planned.role in CONTENT_ROLES:
            sub(item, _m("fptr"), attrib={"FILEID": planned.file_id})


def build_mets(desc: PackageDescription) -> bytes:
    """``data/mets.xml`` for one package version; refuses (PackageError) what it cannot describe."""
    values = DcValues(desc)
    plan = make_plan(desc)
    created = xsd_datetime(desc.created)
    root = etree.Element(_m("mets"), nsmap=NSMAP_METS)
    root.set(q(XSI_NS, "schemaLocation"), METS_SCHEMA_LOCATION)
    for name, value in (
        ("OBJID", desc.record_id),
        ("LABEL", values.title),
        ("TYPE", desc.record.source_kind),
        ("PROFILE", METS_PROFILE_URI),
    ):
        root.set(name, value)
    _header(root, desc, created)
    _dmd(root, desc, plan, values, created)
    _amd(root, desc, plan, values, created)
    _file_sec(root, plan)
    _struct_maps(root, desc, plan, values)
    return serialise(root)

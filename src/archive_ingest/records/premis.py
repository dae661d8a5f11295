"""PREMIS 3 elements for the METS amdSec: objects, events, agents, rights.

Small builders that take already-decided values (identifiers, links) and write the PREMIS
element in the schema's order. Identifiers are always ``UUID`` type, deterministic
(:mod:`.ids`). Agents are written once each and referenced from events by identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from archive_ingest.models import FileInfo
from archive_ingest.records.xmlutil import PREMIS_NS, XSI_NS, q, sub

PREMIS_VERSION = "3.0"
UUID = "UUID"
#: messageDigestAlgorithm values (PREMIS cryptographicHashFunctions vocabulary)
HASH_VOCAB = "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions"


def _p(local: str) -> str:
    return q(PREMIS_NS, local)


def _identifier(
    parent: etree._Element, element: str, prefix: str, value: str, kind: str = UUID
) -> None:
    ident = sub(parent, _p(element))
    sub(ident, _p(f"{prefix}Type"), kind)
    sub(ident, _p(f"{prefix}Value"), value)


@dataclass(frozen=True)
class Relationship:
    kind: str  # relationshipType, e.g. "derivation"
    subtype: str  # relationshipSubType, e.g. "has source"
    objects: tuple[str, ...]  # related object UUIDs
    event: str | None = None  # the event that made the relationship (UUID)


@dataclass
class FileObject:
    uuid: str
    info: FileInfo
    original_name: str
    relationships: list[Relationship] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    rights: list[str] = field(default_factory=list)
    #: the language of the document the file holds (an original or a translation), when told
    language: str | None = None


def file_object(parent: etree._Element, obj: FileObject) -> etree._Element:
    """A ``premis:object xsi:type="premis:file"``: digests, size, format with PUID, links."""
    info = obj.info
    element = sub(
        parent, _p("object"), attrib={q(XSI_NS, "type"): "premis:file", "version": PREMIS_VERSION}
    )
    _identifier(element, "objectIdentifier", "objectIdentifier", obj.uuid)
    if obj.language:
        significant = sub(element, _p("significantProperties"))
        sub(significant, _p("significantPropertiesType"), "language")
        sub(significant, _p("significantPropertiesValue"), obj.language)
    chars = sub(element, _p("objectCharacteristics"))
    sub(chars, _p("compositionLevel"), "0")
    for algorithm, code, digest in (
        ("SHA-256", "sha256", info.digests.sha256),
        ("SHA-512", "sha512", info.digests.sha512),
        ("MD5", "md5", info.digests.md5),
    ):
        if not digest:
            continue  # MD5 only on records made before D11
        fixity = sub(chars, _p("fixity"))
        sub(
            fixity,
            _p("messageDigestAlgorithm"),
            algorithm,
            attrib={
                "authority": "cryptographicHashFunctions",
                "authorityURI": HASH_VOCAB,
                "valueURI": f"{HASH_VOCAB}/{code}",
            },
        )
        sub(fixity, _p("messageDigest"), digest.lower())
    sub(chars, _p("size"), info.digests.size)
    fmt = sub(chars, _p("format"))
    designation = sub(fmt, _p("formatDesignation"))
    sub(designation, _p("formatName"), info.format_name or info.media_type)
    if info.format_version:
        sub(designation, _p("formatVersion"), info.format_version)
    if info.puid:
        registry = sub(fmt, _p("formatRegistry"))
        sub(registry, _p("formatRegistryName"), "PRONOM")
        sub(registry, _p("formatRegistryKey"), info.puid)
        sub(registry, _p("formatRegistryRole"), "specification")
    if info.identified_by:
        sub(fmt, _p("formatNote"), f"identified by {info.identified_by}")
    sub(element, _p("originalName"), obj.original_name)
    for rel in obj.relationships:
        relationship = sub(element, _p("relationship"))
        sub(relationship, _p("relationshipType"), rel.kind)
        sub(relationship, _p("relationshipSubType"), rel.subtype)
        for related in rel.objects:
            _identifier(relationship, "relatedObjectIdentifier", "relatedObjectIdentifier", related)
        if rel.event:
            _identifier(relationship, "relatedEventIdentifier", "relatedEventIdentifier", rel.event)
    for event in obj.events:
        _identifier(element, "linkingEventIdentifier", "linkingEventIdentifier", event)
    for rights in obj.rights:
        _identifier(
            element, "linkingRightsStatementIdentifier", "linkingRightsStatementIdentifier", rights
        )
    return element


def entity_object(
    parent: etree._Element,
    uuid: str,
    record_id: str,
    version: int,
    events: list[str],
    rights: list[str],
) -> etree._Element:
    """The ``premis:intellectualEntity``: the item itself (chapter, book, article)."""
    element = sub(
        parent,
        _p("object"),
        attrib={q(XSI_NS, "type"): "premis:intellectualEntity", "version": PREMIS_VERSION},
    )
    _identifier(element, "objectIdentifier", "objectIdentifier", uuid)
    _identifier(element, "objectIdentifier", "objectIdentifier", record_id, kind="local")
    sub(element, _p("originalName"), f"{record_id} (package version {version})")
    for event in events:
        _identifier(element, "linkingEventIdentifier", "linkingEventIdentifier", event)
    for right in rights:
        _identifier(
            element, "linkingRightsStatementIdentifier", "linkingRightsStatementIdentifier", right
        )
    return element


@dataclass(frozen=True)
class EventValues:
    uuid: str
    event_type: str
    when: str
    detail: str | None
    outcome: str
    outcome_notes: tuple[str, ...]
    agent_uuid: str
    agent_role: str
    objects: tuple[str, ...]


def event_element(parent: etree._Element, ev: EventValues) -> etree._Element:
    element = sub(parent, _p("event"), attrib={"version": PREMIS_VERSION})
    _identifier(element, "eventIdentifier", "eventIdentifier", ev.uuid)
    sub(element, _p("eventType"), ev.event_type)
    sub(element, _p("eventDateTime"), ev.when)
    if ev.detail:
        sub(sub(element, _p("eventDetailInformation")), _p("eventDetail"), ev.detail, block=True)
    outcome = sub(element, _p("eventOutcomeInformation"))
    sub(outcome, _p("eventOutcome"), ev.outcome)
    for note in ev.outcome_notes:
        sub(sub(outcome, _p("eventOutcomeDetail")), _p("eventOutcomeDetailNote"), note, block=True)
    link = sub(element, _p("linkingAgentIdentifier"))
    sub(link, _p("linkingAgentIdentifierType"), UUID)
    sub(link, _p("linkingAgentIdentifierValue"), ev.agent_uuid)
    sub(link, _p("linkingAgentRole"), ev.agent_role)
    for obj in ev.objects:
        _identifier(element, "linkingObjectIdentifier", "linkingObjectIdentifier", obj)
    return element


@dataclass(frozen=True)
class AgentValues:
    uuid: str
    name: str
    agent_type: str  # software | person | organization
    version: str | None = None
    local_id: str | None = None  # the caller's own agent id, kept as a second identifier


def agent_element(parent: etree._Element, agent: AgentValues) -> etree._Element:
    element = sub(parent, _p("agent"), attrib={"version": PREMIS_VERSION})
    _identifier(element, "agentIdentifier", "agentIdentifier", agent.uuid)
    if agent.local_id:
        _identifier(element, "agentIdentifier", "agentIdentifier", agent.local_id, kind="local")
    sub(element, _p("agentName"), agent.name)
    sub(element, _p("agentType"), agent.agent_type)
    if agent.version:
        sub(element, _p("agentVersion"), agent.version)
    return element


@dataclass(frozen=True)
class RightsValues:
    uuid: str
    licence_uri: str | None
    licence_label: str | None
    rights_statement: str | None
    licence_outcome: str
    granted_acts: tuple[str, ...]
    objects: tuple[str, ...]


def rights_element(parent: etree._Element, rights: RightsValues) -> etree._Element:
    """``premis:rights`` with one licence-based statement: the CC URI and the granted acts."""
    element = sub(parent, _p("rights"), attrib={"version": PREMIS_VERSION})
    statement = sub(element, _p("rightsStatement"))
    _identifier(statement, "rightsStatementIdentifier", "rightsStatementIdentifier", rights.uuid)
    sub(statement, _p("rightsBasis"), "license")
    info = sub(statement, _p("licenseInformation"))
    if rights.licence_uri:
        doc = sub(info, _p("licenseDocumentationIdentifier"))
        sub(doc, _p("licenseDocumentationIdentifierType"), "URI")
        sub(doc, _p("licenseDocumentationIdentifierValue"), rights.licence_uri)
        sub(doc, _p("licenseDocumentationRole"), "licence deed")
    terms = rights.licence_label or rights.licence_uri
    if terms:
        sub(info, _p("licenseTerms"), terms)
    if rights.rights_statement:
        sub(
            info, _p("licenseNote"), f"publisher's statement: {rights.rights_statement}", block=True
        )
    sub(info, _p("licenseNote"), f"licence validation outcome: {rights.licence_outcome}")
    for act in rights.granted_acts:
        granted = sub(statement, _p("rightsGranted"))
        sub(granted, _p("act"), act)
    for obj in rights.objects:
        _identifier(statement, "linkingObjectIdentifier", "linkingObjectIdentifier", obj)
    return element

"""The PREMIS rules of the METS profile: PUIDs, identifiers, events, agents, derivations.

MP-09 .. MP-12 and MP-16 of records/profile.py's METS_RULES, checked on the PREMIS embedded
anywhere in one METS document.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable

from lxml import etree

from archive_ingest.records.profile_xpath import DATETIME_RE, elements, text_at
from archive_ingest.records.xmlutil import XSI_NS

#: records one problem: (rule id, the element it is about or None, message)
Add = Callable[[str, "etree._Element | None", str], None]

_PUID_RE = re.compile(r"^(?:x-)?fmt/[0-9]+$")


def check_premis(root: etree._Element, ids: dict[str, etree._Element], add: Add) -> None:
    """MP-09 .. MP-12 and MP-16 on the METS document ``root``; ``ids``: its elements by METS ID;
    ``add(rule, node, message)`` records a problem."""
    objects = elements(root, "//premis:object")
    object_ids = Counter(
        text_at(o, "premis:objectIdentifier[1]/premis:objectIdentifierValue") for o in objects
    )
    for obj in objects:
        if obj.get(f"{{{XSI_NS}}}type") != "premis:file":
            continue
        keys = elements(
            obj,
            "premis:objectCharacteristics/premis:format/premis:formatRegistry[premis:formatRegistryName='PRONOM']/premis:formatRegistryKey",
        )
        if not keys or not _PUID_RE.fullmatch((keys[0].text or "").strip()):
            add("MP-09", obj, "PREMIS file object without a PRONOM PUID")
    events = elements(root, "//premis:event")
    agents = elements(root, "//premis:agent")
    agent_ids = Counter(
        text_at(a, "premis:agentIdentifier[1]/premis:agentIdentifierValue") for a in agents
    )
    event_ids = Counter(
        text_at(e, "premis:eventIdentifier/premis:eventIdentifierValue") for e in events
    )
    for kind, counter in (("object", object_ids), ("event", event_ids), ("agent", agent_ids)):
        for value, count in counter.items():
            if count > 1:
                add(
                    "MP-12",
                    None,
                    f"PREMIS {kind} identifier {value!r} is defined {count} times",
                )
    for ident in elements(root, "//premis:*[normalize-space(.) = 'UUID']"):
        if not etree.QName(ident).localname.endswith("IdentifierType"):
            continue
        value_node = ident.getnext()
        value = (value_node.text or "").strip() if value_node is not None else ""
        try:
            uuid.UUID(value)
        except ValueError:
            add("MP-12", ident, f"{etree.QName(ident).localname} UUID {value!r} is not a UUID")
    linked_agents: set[str] = set()
    for event in events:
        where = text_at(event, "premis:eventType") or "?"
        if not text_at(event, "premis:eventType"):
            add("MP-10", event, "PREMIS event without eventType")
        if not DATETIME_RE.fullmatch(text_at(event, "premis:eventDateTime")):
            add(
                "MP-10",
                event,
                f"event {where!r}: eventDateTime is not a date-time with time zone",
            )
        if not text_at(event, "premis:eventOutcomeInformation/premis:eventOutcome"):
            add("MP-10", event, f"event {where!r}: no eventOutcome")
        agent_links = [
            text_at(link, "premis:linkingAgentIdentifierValue")
            for link in elements(event, "premis:linkingAgentIdentifier")
        ]
        if not agent_links:
            add("MP-10", event, f"event {where!r}: no linked agent")
        for value in agent_links:
            linked_agents.add(value)
            if value not in agent_ids:
                add("MP-10", event, f"event {where!r}: linked agent {value!r} is not defined")
        object_links = [
            text_at(link, "premis:linkingObjectIdentifierValue")
            for link in elements(event, "premis:linkingObjectIdentifier")
        ]
        if not object_links:
            add("MP-10", event, f"event {where!r}: no linked object")
        for value in object_links:
            if value not in object_ids:
                add("MP-10", event, f"event {where!r}: linked object {value!r} is not defined")
    for agent in agents:
        value = text_at(agent, "premis:agentIdentifier[1]/premis:agentIdentifierValue")
        if value not in linked_agents:
            add("MP-11", agent, f"agent {value!r} is linked by no event")
    for file in elements(root, "mets:fileSec/mets:fileGrp[@USE='access' or @USE='text']/mets:file"):
        tech = [ids.get(r) for r in file.get("ADMID", "").split()]
        sources = [
            text_at(rel, "premis:relatedObjectIdentifier/premis:relatedObjectIdentifierValue")
            for t in tech
            if t is not None
            for rel in elements(
                t, ".//premis:relationship[premis:relationshipSubType='has source']"
            )
        ]
        if not sources or any(s not in object_ids for s in sources):
            add(
                "MP-16",
                file,
                f"file {file.get('ID')!r} has no 'has source' derivation to a defined object",
            )

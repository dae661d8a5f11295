"""The project's own METS and DC rules, checked in code on top of the XSDs.

The XSDs say what METS *may* contain; schemas/mets-profile.md says what this project's
METS *always* contains and how its parts hang together (one original, SHA-256 everywhere,
a PUID for every file, every event linked to a defined agent, references that resolve to
the right kind of section ...). Each rule has an id (``MP-nn`` for METS, ``DC-nn`` for
Dublin Core) used in messages and in the profile document; a test keeps the two in step.

The checks read the document only through XPath and report every problem with its line,
so an archivist can fix a hand-edited record from the message alone.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree

from archive_ingest.records.mets import METS_PROFILE_LEGACY_URI, METS_PROFILE_URI
from archive_ingest.records.plan import FILE_GROUPS
from archive_ingest.records.xmlutil import XPATH_NS, XSI_NS

_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
_PUID_RE = re.compile(r"^(?:x-)?fmt/[0-9]+$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_LANG3_RE = re.compile(r"^[a-z]{3}$")

#: rule id -> one-line statement (the profile document lists the same ids)
METS_RULES: dict[str, str] = {
    "MP-01": "the root is mets:mets with this profile's PROFILE URI and an OBJID",
    "MP-02": "metsHdr has a CREATEDATE with time zone, the software as CREATOR agent "
    "(TYPE OTHER, OTHERTYPE SOFTWARE) and the archive as CUSTODIAN",
    "MP-03": "exactly one dmdSec each for oai_dc (MDTYPE DC), the qualified-DC container "
    "(MDTYPE DC), MODS (MDTYPE MODS) and the PREMIS intellectual entity (MDTYPE PREMIS:OBJECT)",
    "MP-04": "the embedded oai_dc follows the Dublin Core rules DC-01 to DC-05",
    "MP-05": "exactly one amdSec, holding a rightsMD with a PREMIS rights statement that has "
    "a rights basis and licence information",
    "MP-06": "exactly one fileGrp USE='original' holding exactly one file; fileGrp USE values "
    "are file roles; no empty or nested fileGrp",
    "MP-07": "every file has MIMETYPE, SIZE, CHECKSUMTYPE SHA-256 with a lower-case hex "
    "CHECKSUM and one FLocat LOCTYPE URL whose href is relative to mets.xml and stays inside data/",
    "MP-08": "every file's ADMID names exactly one techMD, whose PREMIS file object has the "
    "same SHA-256 and size, and a rightsMD",
    "MP-09": "every PREMIS file object has a PRONOM format registry entry with a PUID",
    "MP-10": "every PREMIS event has a type, a date-time with time zone, an outcome, a linked "
    "agent that is defined in the METS and linked objects that are defined in the METS",
    "MP-11": "every PREMIS agent is defined once and is linked by at least one event",
    "MP-12": "PREMIS identifiers of type UUID are UUIDs; object, event and agent identifiers "
    "are unique",
    "MP-13": "METS IDs are unique; every ADMID names an amdSec section, every DMDID a dmdSec, "
    "every FILEID a file",
    "MP-14": "exactly one physical and one logical structMap; every file is in the physical "
    "one; page divs are numbered 1..n; the logical item div names every dmdSec",
    "MP-15": "every techMD, rightsMD and event digiprovMD is named by some ADMID",
    "MP-16": "access and text files have a PREMIS derivation ('has source') to an object "
    "defined in the METS",
}
DC_RULES: dict[str, str] = {
    "DC-01": "at least one dc:title that is not empty",
    "DC-02": "at least one dc:identifier",
    "DC-03": "every dc:language is an ISO 639-3 code (three lower-case letters)",
    "DC-04": "at least one dc:rights",
    "DC-05": "dc:type 'Text' is present",
}


@dataclass(frozen=True)
class Problem:
    rule: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "document"
        return f"{where}: [{self.rule}] {self.message}"


def _x(node: etree._Element, path: str) -> list[etree._Element]:
    found = node.xpath(path, namespaces=XPATH_NS)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def _text(node: etree._Element, path: str) -> str:
    found = node.xpath(f"string({path})", namespaces=XPATH_NS)
    return str(found).strip()


def check_dc_element(dc: etree._Element) -> list[Problem]:
    """The DC rules for one ``oai_dc:dc`` element (standalone dc.xml or embedded)."""
    problems: list[Problem] = []
    line = dc.sourceline
    if not [t for t in _x(dc, "dc:title") if (t.text or "").strip()]:
        problems.append(Problem("DC-01", line, "no dc:title"))
    if not _x(dc, "dc:identifier"):
        problems.append(Problem("DC-02", line, "no dc:identifier"))
    for lang in _x(dc, "dc:language"):
        if not _LANG3_RE.fullmatch((lang.text or "").strip()):
            problems.append(
                Problem("DC-03", lang.sourceline, f"dc:language {lang.text!r} is not ISO 639-3")
            )
    if not _x(dc, "dc:rights"):
        problems.append(Problem("DC-04", line, "no dc:rights"))
    if "Text" not in [(t.text or "").strip() for t in _x(dc, "dc:type")]:
        problems.append(Problem("DC-05", line, "no dc:type 'Text'"))
    return problems


def check_dc_tree(tree: etree._ElementTree) -> list[Problem]:
    root = tree.getroot()
    if root.tag != f"{{{XPATH_NS['oai_dc']}}}dc":
        return [Problem("DC-01", root.sourceline, f"root element is {root.tag}, not oai_dc:dc")]
    return check_dc_element(root)


class _MetsChecker:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.ids: dict[str, etree._Element] = {}

    def add(self, rule: str, node: etree._Element | None, message: str) -> None:
        self.problems.append(Problem(rule, node.sourceline if node is not None else None, message))

    def run(self) -> list[Problem]:
        root = self.root
        if root.tag != f"{{{XPATH_NS['mets']}}}mets":
            self.add("MP-01", root, f"root element is {root.tag}, not mets:mets")
            return self.problems
        self.check_ids()
        self.check_root_and_header()
        self.check_dmd()
        self.check_amd()
        self.check_files()
        self.check_premis()
        self.check_struct_maps()
        return self.problems

    # --- MP-13 -------------------------------------------------------------------------
    def check_ids(self) -> None:
        counts = Counter(e.get("ID") for e in _x(self.root, "//mets:*[@ID]"))
        for value, count in counts.items():
            if count > 1:
                self.add("MP-13", None, f"ID {value!r} is used {count} times")
        self.ids = {e.get("ID", ""): e for e in _x(self.root, "//mets:*[@ID]")}
        kinds = {
            "ADMID": {"techMD", "rightsMD", "sourceMD", "digiprovMD"},
            "DMDID": {"dmdSec"},
            "FILEID": {"file"},
        }
        for attribute, allowed in kinds.items():
            for node in _x(self.root, f"//mets:*[@{attribute}]"):
                for ref in node.get(attribute, "").split():
                    target = self.ids.get(ref)
                    if target is None:
                        self.add("MP-13", node, f"{attribute} {ref!r} names no element")
                    elif etree.QName(target).localname not in allowed:
                        self.add(
                            "MP-13",
                            node,
                            f"{attribute} {ref!r} names a {etree.QName(target).localname}, "
                            f"not a {' or '.join(sorted(allowed))}",
                        )

    # --- MP-01, MP-02 ------------------------------------------------------------------
    def check_root_and_header(self) -> None:
        root = self.root
        if root.get("PROFILE") not in (METS_PROFILE_URI, METS_PROFILE_LEGACY_URI):
            self.add("MP-01", root, f"PROFILE is {root.get('PROFILE')!r}, not {METS_PROFILE_URI}")
        if not root.get("OBJID", "").strip():
            self.add("MP-01", root, "no OBJID")
        headers = _x(root, "mets:metsHdr")
        if len(headers) != 1:
            self.add("MP-02", root, f"{len(headers)} metsHdr elements, expected 1")
            return
        header = headers[0]
        if not _DATETIME_RE.fullmatch(header.get("CREATEDATE", "")):
            self.add(
                "MP-02",
                header,
                f"CREATEDATE {header.get('CREATEDATE')!r} is not a date-time with time zone",
            )
        software = _x(
            header,
            "mets:agent[@ROLE='CREATOR' and @TYPE='OTHER' and @OTHERTYPE='SOFTWARE']"
            "[normalize-space(mets:name)]",
        )
        if len(software) != 1:
            self.add("MP-02", header, "no single software CREATOR agent with a name")
        if not _x(
            header,
            "mets:agent[@ROLE='CUSTODIAN' and @TYPE='ORGANIZATION'][normalize-space(mets:name)]",
        ):
            self.add("MP-02", header, "no CUSTODIAN organisation agent")

    # --- MP-03, MP-04 ------------------------------------------------------------------
    def check_dmd(self) -> None:
        expected = {
            "oai_dc": ("DC", "mets:mdWrap/mets:xmlData/oai_dc:dc"),
            "qualified DC": (
                "DC",
                "mets:mdWrap/mets:xmlData/*"
                "[self::aiqdc:qualifieddc or self::aiqdc_legacy:qualifieddc]",
            ),
            "MODS": ("MODS", "mets:mdWrap/mets:xmlData/mods:mods"),
            "PREMIS intellectual entity": (
                "PREMIS:OBJECT",
                "mets:mdWrap/mets:xmlData/premis:object",
            ),
        }
        sections = _x(self.root, "mets:dmdSec")
        for label, (mdtype, path) in expected.items():
            found = [s for s in sections if _x(s, path)]
            if len(found) != 1:
                self.add("MP-03", self.root, f"{len(found)} dmdSecs hold {label}, expected 1")
                continue
            wrap = _x(found[0], "mets:mdWrap")[0]
            if wrap.get("MDTYPE") != mdtype:
                self.add(
                    "MP-03", wrap, f"{label} dmdSec has MDTYPE {wrap.get('MDTYPE')!r}, not {mdtype}"
                )
            if label == "PREMIS intellectual entity":
                obj = _x(found[0], path)[0]
                if obj.get(f"{{{XSI_NS}}}type") != "premis:intellectualEntity":
                    self.add("MP-03", obj, "the dmdSec PREMIS object is not an intellectualEntity")
        for dc in _x(self.root, "mets:dmdSec/mets:mdWrap/mets:xmlData/oai_dc:dc"):
            for problem in check_dc_element(dc):
                self.problems.append(
                    Problem("MP-04", problem.line, f"[{problem.rule}] {problem.message}")
                )

    # --- MP-05 -------------------------------------------------------------------------
    def check_amd(self) -> None:
        amd = _x(self.root, "mets:amdSec")
        if len(amd) != 1:
            self.add("MP-05", self.root, f"{len(amd)} amdSec elements, expected 1")
        statements = _x(
            self.root,
            "mets:amdSec/mets:rightsMD/mets:mdWrap[@MDTYPE='PREMIS:RIGHTS']/mets:xmlData"
            "/premis:rights/premis:rightsStatement[premis:rightsBasis][premis:licenseInformation]",
        )
        if not statements:
            self.add("MP-05", self.root, "no rightsMD with a PREMIS licence-based rights statement")
        referenced = {
            ref
            for node in _x(self.root, "//mets:*[@ADMID]")
            for ref in node.get("ADMID", "").split()
        }
        for section in _x(
            self.root,
            "mets:amdSec/mets:techMD | mets:amdSec/mets:rightsMD"
            " | mets:amdSec/mets:digiprovMD[mets:mdWrap/@MDTYPE='PREMIS:EVENT']",
        ):
            if section.get("ID") not in referenced:
                self.add(
                    "MP-15",
                    section,
                    f"{etree.QName(section).localname} {section.get('ID')!r} is named by no ADMID",
                )

    # --- MP-06 .. MP-09 ----------------------------------------------------------------
    def check_files(self) -> None:
        groups = _x(self.root, "mets:fileSec/mets:fileGrp")
        originals = [g for g in groups if g.get("USE") == "original"]
        if len(originals) != 1 or len(_x(originals[0], "mets:file")) != 1:
            self.add(
                "MP-06",
                self.root,
                "there must be exactly one original file, in one fileGrp USE='original'",
            )
        for group in groups:
            if group.get("USE") not in FILE_GROUPS:
                self.add(
                    "MP-06",
                    group,
                    f"fileGrp USE {group.get('USE')!r} is not one of {', '.join(FILE_GROUPS)}",
                )
            if not _x(group, "mets:file"):
                self.add("MP-06", group, f"fileGrp {group.get('USE')!r} holds no file")
        if _x(self.root, "mets:fileSec/mets:fileGrp/mets:fileGrp"):
            self.add("MP-06", self.root, "nested fileGrp")
        for file in _x(self.root, "mets:fileSec//mets:file"):
            self.check_file(file)

    def check_file(self, file: etree._Element) -> None:
        fid = file.get("ID")
        for attribute in ("MIMETYPE", "SIZE"):
            if not file.get(attribute):
                self.add("MP-07", file, f"file {fid!r} has no {attribute}")
        checksum = file.get("CHECKSUM", "")
        if file.get("CHECKSUMTYPE") != "SHA-256" or not _SHA256_RE.fullmatch(checksum):
            self.add("MP-07", file, f"file {fid!r} has no SHA-256 CHECKSUM in lower-case hex")
        locations = _x(file, "mets:FLocat")
        if len(locations) != 1 or locations[0].get("LOCTYPE") != "URL":
            self.add("MP-07", file, f"file {fid!r} needs exactly one FLocat with LOCTYPE URL")
        for location in locations:
            target = location.get(f"{{{XPATH_NS['xlink']}}}href", "")
            parts = urlsplit(target)
            segments = unquote(parts.path).split("/")
            if (
                not target
                or parts.scheme
                or parts.netloc
                or parts.query
                or parts.fragment
                or target.startswith("/")
                or any(s in ("", ".", "..") for s in segments)
            ):
                self.add(
                    "MP-07",
                    location,
                    f"file {fid!r}: href {target!r} is not a relative path inside data/",
                )
        refs = [self.ids.get(r) for r in file.get("ADMID", "").split()]
        tech = [r for r in refs if r is not None and etree.QName(r).localname == "techMD"]
        if not any(r is not None and etree.QName(r).localname == "rightsMD" for r in refs):
            self.add("MP-08", file, f"file {fid!r}: ADMID names no rightsMD")
        if len(tech) != 1:
            self.add("MP-08", file, f"file {fid!r}: ADMID names {len(tech)} techMD, expected 1")
            return
        objects = _x(tech[0], "mets:mdWrap/mets:xmlData/premis:object[@xsi:type='premis:file']")
        if len(objects) != 1:
            self.add("MP-08", tech[0], f"techMD of file {fid!r} holds no PREMIS file object")
            return
        obj = objects[0]
        digest = _text(
            obj,
            "premis:objectCharacteristics/premis:fixity[premis:messageDigestAlgorithm='SHA-256']/premis:messageDigest",
        )
        if digest.lower() != checksum.lower():
            self.add("MP-08", obj, f"file {fid!r}: PREMIS SHA-256 {digest!r} differs from CHECKSUM")
        size = _text(obj, "premis:objectCharacteristics/premis:size")
        if size != file.get("SIZE"):
            self.add("MP-08", obj, f"file {fid!r}: PREMIS size {size!r} differs from SIZE")

    # --- MP-09 .. MP-12, MP-16 ---------------------------------------------------------
    def check_premis(self) -> None:
        objects = _x(self.root, "//premis:object")
        object_ids = Counter(
            _text(o, "premis:objectIdentifier[1]/premis:objectIdentifierValue") for o in objects
        )
        for obj in objects:
            if obj.get(f"{{{XSI_NS}}}type") != "premis:file":
                continue
            keys = _x(
                obj,
                "premis:objectCharacteristics/premis:format/premis:formatRegistry[premis:formatRegistryName='PRONOM']/premis:formatRegistryKey",
            )
            if not keys or not _PUID_RE.fullmatch((keys[0].text or "").strip()):
                self.add("MP-09", obj, "PREMIS file object without a PRONOM PUID")
        events = _x(self.root, "//premis:event")
        agents = _x(self.root, "//premis:agent")
        agent_ids = Counter(
            _text(a, "premis:agentIdentifier[1]/premis:agentIdentifierValue") for a in agents
        )
        event_ids = Counter(
            _text(e, "premis:eventIdentifier/premis:eventIdentifierValue") for e in events
        )
        for kind, counter in (("object", object_ids), ("event", event_ids), ("agent", agent_ids)):
            for value, count in counter.items():
                if count > 1:
                    self.add(
                        "MP-12",
                        None,
                        f"PREMIS {kind} identifier {value!r} is defined {count} times",
                    )
        for ident in _x(self.root, "//premis:*[normalize-space(.) = 'UUID']"):
            if not etree.QName(ident).localname.endswith("IdentifierType"):
                continue
            value_node = ident.getnext()
            value = (value_node.text or "").strip() if value_node is not None else ""
            try:
                uuid.UUID(value)
            except ValueError:
                self.add(
                    "MP-12", ident, f"{etree.QName(ident).localname} UUID {value!r} is not a UUID"
                )
        linked_agents: set[str] = set()
        for event in events:
            where = _text(event, "premis:eventType") or "?"
            if not _text(event, "premis:eventType"):
                self.add("MP-10", event, "PREMIS event without eventType")
            if not _DATETIME_RE.fullmatch(_text(event, "premis:eventDateTime")):
                self.add(
                    "MP-10",
                    event,
                    f"event {where!r}: eventDateTime is not a date-time with time zone",
                )
            if not _text(event, "premis:eventOutcomeInformation/premis:eventOutcome"):
                self.add("MP-10", event, f"event {where!r}: no eventOutcome")
            agent_links = [
                _text(link, "premis:linkingAgentIdentifierValue")
                for link in _x(event, "premis:linkingAgentIdentifier")
            ]
            if not agent_links:
                self.add("MP-10", event, f"event {where!r}: no linked agent")
            for value in agent_links:
                linked_agents.add(value)
                if value not in agent_ids:
                    self.add(
                        "MP-10", event, f"event {where!r}: linked agent {value!r} is not defined"
                    )
            object_links = [
                _text(link, "premis:linkingObjectIdentifierValue")
                for link in _x(event, "premis:linkingObjectIdentifier")
            ]
            if not object_links:
                self.add("MP-10", event, f"event {where!r}: no linked object")
            for value in object_links:
                if value not in object_ids:
                    self.add(
                        "MP-10", event, f"event {where!r}: linked object {value!r} is not defined"
                    )
        for agent in agents:
            value = _text(agent, "premis:agentIdentifier[1]/premis:agentIdentifierValue")
            if value not in linked_agents:
                self.add("MP-11", agent, f"agent {value!r} is linked by no event")
        for file in _x(
            self.root, "mets:fileSec/mets:fileGrp[@USE='access' or @USE='text']/mets:file"
        ):
            tech = [self.ids.get(r) for r in file.get("ADMID", "").split()]
            sources = [
                _text(rel, "premis:relatedObjectIdentifier/premis:relatedObjectIdentifierValue")
                for t in tech
                if t is not None
                for rel in _x(t, ".//premis:relationship[premis:relationshipSubType='has source']")
            ]
            if not sources or any(s not in object_ids for s in sources):
                self.add(
                    "MP-16",
                    file,
                    f"file {file.get('ID')!r} has no 'has source' derivation to a defined object",
                )

    # --- MP-14 -------------------------------------------------------------------------
    def check_struct_maps(self) -> None:
        for kind in ("physical", "logical"):
            count = len(_x(self.root, f"mets:structMap[@TYPE='{kind}']"))
            if count != 1:
                self.add("MP-14", self.root, f"{count} {kind} structMaps, expected 1")
        in_physical = {
            f.get("FILEID") for f in _x(self.root, "mets:structMap[@TYPE='physical']//mets:fptr")
        }
        for file in _x(self.root, "mets:fileSec//mets:file"):
            if file.get("ID") not in in_physical:
                self.add("MP-14", file, f"file {file.get('ID')!r} is not in the physical structMap")
        orders = [
            p.get("ORDER")
            for p in _x(self.root, "mets:structMap[@TYPE='physical']//mets:div[@TYPE='page']")
        ]
        if orders != [str(n) for n in range(1, len(orders) + 1)]:
            self.add("MP-14", self.root, "page divs are not numbered 1..n in order")
        dmd_ids = {s.get("ID") for s in _x(self.root, "mets:dmdSec")}
        items = [
            d
            for d in _x(self.root, "mets:structMap[@TYPE='logical']//mets:div[@DMDID]")
            if dmd_ids <= set(d.get("DMDID", "").split())
        ]
        if not items:
            self.add("MP-14", self.root, "no logical div names every dmdSec in its DMDID")


def check_mets_tree(tree: etree._ElementTree) -> list[Problem]:
    return _MetsChecker(tree.getroot()).run()

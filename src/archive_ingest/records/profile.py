"""The project's own METS and DC rules, checked in code on top of the XSDs.

The XSDs say what METS *may* contain; schemas/mets-profile.md says what this project's
METS *always* contains and how its parts hang together (one original, SHA-256 everywhere,
a PUID for every file, every event linked to a defined agent, references that resolve to
the right kind of section ...). Each rule has an id (``MP-nn`` for METS, ``DC-nn`` for
Dublin Core) used in messages and in the profile document; a test keeps the two in step.

The checks read the document only through XPath and report every problem with its line,
so an archivist can fix a hand-edited record from the message alone. The PREMIS rules are in
profile_premis.py.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree

from archive_ingest.records.mets import METS_PROFILE_LEGACY_URI, METS_PROFILE_URI
from archive_ingest.records.plan import FILE_GROUPS
from archive_ingest.records.profile_premis import check_premis
from archive_ingest.records.profile_xpath import DATETIME_RE, elements, text_at
from archive_ingest.records.xmlutil import XPATH_NS, XSI_NS

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


def check_dc_element(dc: etree._Element) -> list[Problem]:
    """The DC rules for one ``oai_dc:dc`` element (standalone dc.xml or embedded)."""
    problems: list[Problem] = []
    line = dc.sourceline
    if not [t for t in elements(dc, "dc:title") if (t.text or "").strip()]:
        problems.append(Problem("DC-01", line, "no dc:title"))
    if not elements(dc, "dc:identifier"):
        problems.append(Problem("DC-02", line, "no dc:identifier"))
    for lang in elements(dc, "dc:language"):
        if not _LANG3_RE.fullmatch((lang.text or "").strip()):
            problems.append(
                Problem("DC-03", lang.sourceline, f"dc:language {lang.text!r} is not ISO 639-3")
            )
    if not elements(dc, "dc:rights"):
        problems.append(Problem("DC-04", line, "no dc:rights"))
    if "Text" not in [(t.text or "").strip() for t in elements(dc, "dc:type")]:
        problems.append(Problem("DC-05", line, "no dc:type 'Text'"))
    return problems


def check_dc_tree(tree: etree._ElementTree) -> list[Problem]:
    root = tree.getroot()
    if root.tag != f"{{{XPATH_NS['oai_dc']}}}dc":
        tag = etree.QName(root).text
        return [Problem("DC-01", root.sourceline, f"root element is {tag}, not oai_dc:dc")]
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
            self.add("MP-01", root, f"root element is {etree.QName(root).text}, not mets:mets")
            return self.problems
        self.check_ids()
        self.check_root_and_header()
        self.check_dmd()
        self.check_amd()
        self.check_files()
        check_premis(self.root, self.ids, self.add)
        self.check_struct_maps()
        return self.problems

    # --- MP-13 -------------------------------------------------------------------------
    def check_ids(self) -> None:
        counts = Counter(e.get("ID") for e in elements(self.root, "//mets:*[@ID]"))
        for value, count in counts.items():
            if count > 1:
                self.add("MP-13", None, f"ID {value!r} is used {count} times")
        self.ids = {e.get("ID", ""): e for e in elements(self.root, "//mets:*[@ID]")}
        kinds = {
            "ADMID": {"techMD", "rightsMD", "sourceMD", "digiprovMD"},
            "DMDID": {"dmdSec"},
            "FILEID": {"file"},
        }
        for attribute, allowed in kinds.items():
            for node in elements(self.root, f"//mets:*[@{attribute}]"):
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
        headers = elements(root, "mets:metsHdr")
        if len(headers) != 1:
            self.add("MP-02", root, f"{len(headers)} metsHdr elements, expected 1")
            return
        header = headers[0]
        if not DATETIME_RE.fullmatch(header.get("CREATEDATE", "")):
            self.add(
                "MP-02",
                header,
                f"CREATEDATE {header.get('CREATEDATE')!r} is not a date-time with time zone",
            )
        software = elements(
            header,
            "mets:agent[@ROLE='CREATOR' and @TYPE='OTHER' and @OTHERTYPE='SOFTWARE']"
            "[normalize-space(mets:name)]",
        )
        if len(software) != 1:
            self.add("MP-02", header, "no single software CREATOR agent with a name")
        if not elements(
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
        sections = elements(self.root, "mets:dmdSec")
        for label, (mdtype, path) in expected.items():
            found = [s for s in sections if elements(s, path)]
            if len(found) != 1:
                self.add("MP-03", self.root, f"{len(found)} dmdSecs hold {label}, expected 1")
                continue
            wrap = elements(found[0], "mets:mdWrap")[0]
            if wrap.get("MDTYPE") != mdtype:
                self.add(
                    "MP-03", wrap, f"{label} dmdSec has MDTYPE {wrap.get('MDTYPE')!r}, not {mdtype}"
                )
            if label == "PREMIS intellectual entity":
                obj = elements(found[0], path)[0]
                if obj.get(f"{{{XSI_NS}}}type") != "premis:intellectualEntity":
                    self.add("MP-03", obj, "the dmdSec PREMIS object is not an intellectualEntity")
        for dc in elements(self.root, "mets:dmdSec/mets:mdWrap/mets:xmlData/oai_dc:dc"):
            for problem in check_dc_element(dc):
                self.problems.append(
                    Problem("MP-04", problem.line, f"[{problem.rule}] {problem.message}")
                )

    # --- MP-05 -------------------------------------------------------------------------
    def check_amd(self) -> None:
        amd = elements(self.root, "mets:amdSec")
        if len(amd) != 1:
            self.add("MP-05", self.root, f"{len(amd)} amdSec elements, expected 1")
        statements = elements(
            self.root,
            "mets:amdSec/mets:rightsMD/mets:mdWrap[@MDTYPE='PREMIS:RIGHTS']/mets:xmlData"
            "/premis:rights/premis:rightsStatement[premis:rightsBasis][premis:licenseInformation]",
        )
        if not statements:
            self.add("MP-05", self.root, "no rightsMD with a PREMIS licence-based rights statement")
        referenced = {
            ref
            for node in elements(self.root, "//mets:*[@ADMID]")
            for ref in node.get("ADMID", "").split()
        }
        for section in elements(
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
        groups = elements(self.root, "mets:fileSec/mets:fileGrp")
        originals = [g for g in groups if g.get("USE") == "original"]
        if len(originals) != 1 or len(elements(originals[0], "mets:file")) != 1:
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
            if not elements(group, "mets:file"):
                self.add("MP-06", group, f"fileGrp {group.get('USE')!r} holds no file")
        if elements(self.root, "mets:fileSec/mets:fileGrp/mets:fileGrp"):
            self.add("MP-06", self.root, "nested fileGrp")
        for file in elements(self.root, "mets:fileSec//mets:file"):
            self.check_file(file)

    def check_file(self, file: etree._Element) -> None:
        fid = file.get("ID")
        for attribute in ("MIMETYPE", "SIZE"):
            if not file.get(attribute):
                self.add("MP-07", file, f"file {fid!r} has no {attribute}")
        checksum = file.get("CHECKSUM", "")
        if file.get("CHECKSUMTYPE") != "SHA-256" or not _SHA256_RE.fullmatch(checksum):
            self.add("MP-07", file, f"file {fid!r} has no SHA-256 CHECKSUM in lower-case hex")
        locations = elements(file, "mets:FLocat")
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
        objects = elements(
            tech[0], "mets:mdWrap/mets:xmlData/premis:object[@xsi:type='premis:file']"
        )
        if len(objects) != 1:
            self.add("MP-08", tech[0], f"techMD of file {fid!r} holds no PREMIS file object")
            return
        obj = objects[0]
        digest = text_at(
            obj,
            "premis:objectCharacteristics/premis:fixity[premis:messageDigestAlgorithm='SHA-256']/premis:messageDigest",
        )
        if digest.lower() != checksum.lower():
            self.add("MP-08", obj, f"file {fid!r}: PREMIS SHA-256 {digest!r} differs from CHECKSUM")
        size = text_at(obj, "premis:objectCharacteristics/premis:size")
        if size != file.get("SIZE"):
            self.add("MP-08", obj, f"file {fid!r}: PREMIS size {size!r} differs from SIZE")

    # --- MP-14 -------------------------------------------------------------------------
    def check_struct_maps(self) -> None:
        for kind in ("physical", "logical"):
            count = len(elements(self.root, f"mets:structMap[@TYPE='{kind}']"))
            if count != 1:
                self.add("MP-14", self.root, f"{count} {kind} structMaps, expected 1")
        in_physical = {
            f.get("FILEID")
            for f in elements(self.root, "mets:structMap[@TYPE='physical']//mets:fptr")
        }
        for file in elements(self.root, "mets:fileSec//mets:file"):
            if file.get("ID") not in in_physical:
                self.add("MP-14", file, f"file {file.get('ID')!r} is not in the physical structMap")
        orders = [
            p.get("ORDER")
            for p in elements(self.root, "mets:structMap[@TYPE='physical']//mets:div[@TYPE='page']")
        ]
        if orders != [str(n) for n in range(1, len(orders) + 1)]:
            self.add("MP-14", self.root, "page divs are not numbered 1..n in order")
        dmd_ids = {s.get("ID") for s in elements(self.root, "mets:dmdSec")}
        items = [
            d
            for d in elements(self.root, "mets:structMap[@TYPE='logical']//mets:div[@DMDID]")
            if dmd_ids <= set(d.get("DMDID", "").split())
        ]
        if not items:
            self.add("MP-14", self.root, "no logical div names every dmdSec in its DMDID")


def check_mets_tree(tree: etree._ElementTree) -> list[Problem]:
    return _MetsChecker(tree.getroot()).run()

"""Namespaces, element helpers and serialisation shared by the record writers.

Every text and attribute value is set through :func:`sub` / :func:`attrs`, which clean it
with :mod:`.text`; nothing else in the package touches ``.text`` directly. Serialisation
is fixed (UTF-8, XML declaration, two-space indentation, namespaces declared once on the
root in a fixed order) so equal inputs give equal bytes.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from archive_ingest.records.text import clean_block, clean_line

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS_NS = "http://www.loc.gov/premis/v3"
MODS_NS = "http://www.loc.gov/mods/v3"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: the project's qualified-DC container namespace, version 1.0 (schemas/xsd/archive-ingest-qdc.xsd):
#: a UUID URN needs no domain; a new version of the container gets a new UUID, never an edit here
AIQDC_NS = "urn:uuid:957c6466-d37f-4fa7-aba4-61bc73b0ff93"
#: the same container's namespace in records written before :data:`AIQDC_NS`; those records stay
#: valid (schemas/xsd/archive-ingest-qdc-legacy.xsd), new records never use it
AIQDC_LEGACY_NS = "https://github.com/archive-ingest/archive-ingest/ns/qdc/1.0"

NSMAP_DC: dict[str, str] = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
NSMAP_METS: dict[str, str] = {
    "mets": METS_NS,
    "xlink": XLINK_NS,
    "xsi": XSI_NS,
    "premis": PREMIS_NS,
    "mods": MODS_NS,
    "oai_dc": OAI_DC_NS,
    "dc": DC_NS,
    "dcterms": DCTERMS_NS,
    "aiqdc": AIQDC_NS,
}
#: prefix -> namespace, for XPath (also reads the container of records written before AIQDC_NS)
XPATH_NS: dict[str, str] = {**NSMAP_METS, "aiqdc_legacy": AIQDC_LEGACY_NS}

OAI_DC_SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
# dcterms before oai_dc: a tool that imports these in order must meet DCMI's 2008 dc.xsd
# first (see schemas/xsd/mets-driver.xsd). The project's own qualified-DC namespace is not
# listed: it has no public URL, and tools that fetch schemaLocations would fail on it.
METS_SCHEMA_LOCATION = " ".join(
    [
        METS_NS,
        "http://www.loc.gov/standards/mets/version1121/mets.xsd",
        PREMIS_NS,
        "http://www.loc.gov/standards/premis/v3/premis.xsd",
        MODS_NS,
        "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd",
        DCTERMS_NS,
        "http://dublincore.org/schemas/xmls/qdc/2008/02/11/dcterms.xsd",
        OAI_DC_NS,
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
    ]
)


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"


def set_attr(element: etree._Element, name: str, value: str | int | None) -> None:
    """Set one (possibly namespaced) attribute, cleaned; skip ``None`` and empty values."""
    if value is None:
        return
    cleaned = clean_line(str(value))
    if cleaned is not None:
        element.set(name, cleaned)


def sub(
    parent: etree._Element,
    tag: str,
    text: str | int | None = None,
    *,
    block: bool = False,
    attrib: dict[str, str | int | None] | None = None,
) -> etree._Element:
    """Append a child element with cleaned text (``block`` keeps line breaks)."""
    element = etree.SubElement(parent, tag)
    for name, value in (attrib or {}).items():
        set_attr(element, name, value)
    if text is not None:
        value = str(text)
        cleaned = clean_block(value) if block else clean_line(value)
        if cleaned is not None:
            element.text = cleaned
    return element


def xsd_datetime(value: dt.datetime) -> str:
    """An xs:dateTime in UTC with a ``Z`` (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    text = value.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def serialise(root: etree._Element) -> bytes:
    """The fixed serialisation every record uses."""
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body

"""Make a METS record's XML IDs unique within an OAI-PMH response.

Every METS the pipeline writes uses the same fixed ``xs:ID`` values (``dmd-dc``, ``amd``,
``filesec`` ...). IDs are unique per document, and an OAI-PMH response holding two METS records
is one document, so it would be invalid against the XSDs. The stored METS (the one in the bag)
stays as it is; what OAI-PMH sends is a copy whose IDs, and every METS reference to them, carry
a prefix made from the record id: ``r-<record id>_`` (a record id never contains ``_``, so two
records never share a prefix).
"""

from __future__ import annotations

from lxml import etree

from archive_ingest.records.schemas import hardened_parser

#: attributes of type xs:ID in METS, MODS, PREMIS (xmlID) and XML itself
ID_ATTRIBUTES = frozenset({"ID", "xmlID", "{http://www.w3.org/XML/1998/namespace}id"})
#: METS attributes of type xs:IDREF / xs:IDREFS
IDREF_ATTRIBUTES = frozenset({"ADMID", "DMDID", "FILEID", "STRUCTID", "BEGIN", "END"})


def id_prefix(record_id: str) -> str:
    return f"r-{record_id}_"


def scope_ids(payload: bytes, record_id: str) -> bytes:
    """``payload`` (one serialised METS root element) with every ID and METS ID reference
    prefixed by :func:`id_prefix`. References to IDs the document does not define are left
    alone, and so are BEGIN/END values that are not IDs (they may be times or byte offsets)."""
    root = etree.fromstring(payload, hardened_parser())
    prefix = id_prefix(record_id)
    ids: set[str] = set()
    for element in root.iter(etree.Element):
        for name in ID_ATTRIBUTES.intersection(element.attrib):
            value = element.attrib[name]
            ids.add(value)
            element.attrib[name] = prefix + value
    for element in root.iter(etree.Element):
        for name in IDREF_ATTRIBUTES.intersection(element.attrib):
            tokens = element.attrib[name].split()
            if any(token in ids for token in tokens):
                element.attrib[name] = " ".join(
                    prefix + token if token in ids else token for token in tokens
                )
    return etree.tostring(root, encoding="UTF-8", xml_declaration=False)

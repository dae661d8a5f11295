"""Creative Commons licence validation: read, normalise, compare, decide.

Three sources are read, each into :class:`LicenceClaim` values with the exact text they used:
the publisher metadata (:func:`parse_licence_code`), the PDF's first page
(:func:`parse_licence_statement`, English/Portuguese/Spanish) and the XMP packet
(:func:`parse_xmp`). Every claim is normalised against a table of the Creative Commons
licences that really exist (:func:`licence_table`), and :func:`validate_licence` decides
``valid`` / ``needs_review`` / ``rejected``. See docs/LICENCE.md.
"""

from archive_ingest.licence.model import (
    ClaimKind,
    LicenceClaim,
    LicencePolicy,
    LicenceVerdict,
    Outcome,
    Source,
    Strength,
    TextSpan,
)
from archive_ingest.licence.rights import (
    RightsGranted,
    dc_rights_text,
    premis_granted_acts,
    premis_rights_granted,
)
from archive_ingest.licence.statement import parse_licence_statement
from archive_ingest.licence.table import (
    CANONICAL_ROOT,
    CcLicence,
    canonical_uri,
    elements_of,
    licence_from_uri,
    licence_table,
    lookup,
    parse_cc_url,
)
from archive_ingest.licence.validate import decide, decide_licence, validate_licence
from archive_ingest.licence.values import parse_licence_code
from archive_ingest.licence.xmp import parse_xmp

__all__ = [
    "CANONICAL_ROOT",
    "CcLicence",
    "ClaimKind",
    "LicenceClaim",
    "LicencePolicy",
    "LicenceVerdict",
    "Outcome",
    "RightsGranted",
    "Source",
    "Strength",
    "TextSpan",
    "canonical_uri",
    "dc_rights_text",
    "decide",
    "decide_licence",
    "elements_of",
    "licence_from_uri",
    "licence_table",
    "lookup",
    "parse_cc_url",
    "parse_licence_code",
    "parse_licence_statement",
    "parse_xmp",
    "premis_granted_acts",
    "premis_rights_granted",
    "validate_licence",
]

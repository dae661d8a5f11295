"""Descriptive and preservation records: Dublin Core, METS with MODS and PREMIS 3.

Pure functions over one :class:`PackageDescription`::

    dc_xml = build_dc(desc)        # data/dc.xml (oai_dc)
    mets_xml = build_mets(desc)    # data/mets.xml (METS 1.12.1)
    validate_dc(dc_xml); validate_mets(mets_xml)   # offline XSDs + the project's profile

Same description in, same bytes out. See docs/RECORDS.md and schemas/mets-profile.md.
"""

from archive_ingest.records.dc import build_dc
from archive_ingest.records.mets import METS_PROFILE_URI, build_mets
from archive_ingest.records.model import OcrPage, PackageDescription
from archive_ingest.records.plan import (
    DC_FILENAME,
    METS_FILENAME,
    SOURCE_METADATA_DIR,
    raw_metadata_path,
)
from archive_ingest.records.text import clean_block, clean_line
from archive_ingest.records.validate import check_mets_profile, validate_dc, validate_mets
from archive_ingest.records.write import write_raw_metadata, write_records

__all__ = [
    "DC_FILENAME",
    "METS_FILENAME",
    "METS_PROFILE_URI",
    "SOURCE_METADATA_DIR",
    "OcrPage",
    "PackageDescription",
    "build_dc",
    "build_mets",
    "check_mets_profile",
    "clean_block",
    "clean_line",
    "raw_metadata_path",
    "validate_dc",
    "validate_mets",
    "write_raw_metadata",
    "write_records",
]

"""BagIt packaging: write a bag's tag files around a payload in place, and validate bags.

    write_bag(bag_dir, payload, info) -> BagSummary      tag files only; payload already in data/
    validate_bag(bag_dir, profile=True, fast=False) -> BagReport   never raises for a bad bag
    bag_info_from_record(record, organization=..., bagging_date=...) -> BagInfo

Design notes, the profile and the conformance results: docs/BAGIT.md.
"""

from archive_ingest.bag.info import BagInfo, bag_info_from_record, format_bag_size, payload_oxum
from archive_ingest.bag.paths import check_payload_path, decode_manifest_path, encode_manifest_path
from archive_ingest.bag.profile import (
    BagProfile,
    check_profile,
    load_profile,
    profile_from_document,
    project_profile,
)
from archive_ingest.bag.validate import BagReport, validate_bag, validate_bag_cli
from archive_ingest.bag.writer import TAG_FILES, BagSummary, write_bag

__all__ = [
    "TAG_FILES",
    "BagInfo",
    "BagProfile",
    "BagReport",
    "BagSummary",
    "bag_info_from_record",
    "check_payload_path",
    "check_profile",
    "decode_manifest_path",
    "encode_manifest_path",
    "format_bag_size",
    "load_profile",
    "payload_oxum",
    "profile_from_document",
    "project_profile",
    "validate_bag",
    "validate_bag_cli",
    "write_bag",
]

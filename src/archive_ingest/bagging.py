"""The packaging stage's entry points; the implementation lives in :mod:`archive_ingest.bag`.

Kept as its own module so callers can write ``from archive_ingest.bagging import write_bag``.
"""

from archive_ingest.bag import (
    TAG_FILES,
    BagInfo,
    BagProfile,
    BagReport,
    BagSummary,
    bag_info_from_record,
    load_profile,
    project_profile,
    validate_bag,
    validate_bag_cli,
    write_bag,
)

__all__ = [
    "TAG_FILES",
    "BagInfo",
    "BagProfile",
    "BagReport",
    "BagSummary",
    "bag_info_from_record",
    "load_profile",
    "project_profile",
    "validate_bag",
    "validate_bag_cli",
    "write_bag",
]

"""Validation entry points: XSD (offline, vendored schemas) plus the project's profile.

``validate_dc`` / ``validate_mets`` raise one :class:`PackageError` that lists *every*
problem, schema and profile alike, each with its line, so one run tells the whole story.
``check_mets_profile`` gives the profile problems alone, as a list.
"""

from __future__ import annotations

from archive_ingest.errors import PackageError
from archive_ingest.records.profile import check_dc_tree, check_mets_tree
from archive_ingest.records.schemas import parse_record, xsd_errors

_MAX_LISTED = 50


def _raise(what: str, problems: list[str]) -> None:
    if not problems:
        return
    listed = problems[:_MAX_LISTED]
    more = len(problems) - len(listed)
    tail = f"\n  ... and {more} more" if more else ""
    raise PackageError(
        f"{what} is not valid ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n  "
        + "\n  ".join(listed)
        + tail
    )


def validate_dc(xml: bytes) -> None:
    """Check ``dc.xml`` against the official oai_dc XSD and the DC rules; raise on any error."""
    tree = parse_record(xml, "dc.xml")
    problems = [f"schema: {e}" for e in xsd_errors(tree, "oai_dc")]
    problems += [f"profile: {p}" for p in check_dc_tree(tree)]
    _raise("dc.xml", problems)


def check_mets_profile(xml: bytes) -> list[str]:
    """The project's METS profile rules (schemas/mets-profile.md); ``[]`` when all hold."""
    tree = parse_record(xml, "mets.xml")
    return [str(p) for p in check_mets_tree(tree)]


def validate_mets(xml: bytes) -> None:
    """Check ``mets.xml`` against the METS/PREMIS/MODS/DC XSDs and the profile; raise on errors."""
    tree = parse_record(xml, "mets.xml")
    problems = [f"schema: {e}" for e in xsd_errors(tree, "mets")]
    problems += [f"profile: {p}" for p in check_mets_tree(tree)]
    _raise("mets.xml", problems)

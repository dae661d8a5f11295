"""Validate a bag: BagIt (bagit-python), our extra checks, and a BagIt profile. Never raises.

bagit-python's ``Bag.validate()`` stops at the first failing stage (a wrong Payload-Oxum hides
which file is extra or missing), so its stages are run one by one here and each stage's
``BagValidationError.details`` are collected: the report lists every problem it can find.
The stage methods are private to bagit-python; the pin ``bagit==1.9.0`` in pyproject.toml and
tests/test_bag.py keep that honest.

Thread safety: ``bagit.Bag(...)`` and its validation never change the working directory (only
``make_bag`` and ``Bag.save`` call ``os.chdir``, and neither is used here); fixity
runs in-process (``processes=1``, no multiprocessing pool), so validation is safe under any
Prefect task runner.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

import bagit
from pydantic import BaseModel, Field

from archive_ingest.bag.lint import (
    check_declaration,
    lint_fetch,
    lint_manifests,
    system_file_warnings,
)
from archive_ingest.bag.profile import BagProfile, check_profile, project_profile

#: What reading a broken bag can raise inside bagit-python besides BagError.
_READ_ERRORS = (bagit.BagError, OSError, UnicodeError, LookupError, ValueError)


class BagReport(BaseModel):
    """The outcome of :func:`validate_bag`: person-readable problems, nothing raised."""

    bag_dir: str
    valid: bool
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    bagit_version: str | None = None
    profile_identifier: str | None = None  # the profile checked, None when none was
    fixity_checked: bool = False

    def summary(self) -> str:
        verdict = "valid" if self.valid else "INVALID"
        parts = [f"{self.bag_dir}: {verdict}"]
        if self.errors:
            parts.append(f"{len(self.errors)} error(s)")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s)")
        return ", ".join(parts)


def _detail(detail: object) -> str:
    if isinstance(detail, bagit.ChecksumMismatch):
        found = str(detail.found)
        if found.startswith("Could not read"):
            return f"{detail.path}: cannot be read ({found})"
        return (
            f"{detail.path}: {detail.algorithm} checksum does not match the manifest "
            f"(manifest {detail.expected}, file {found})"
        )
    if isinstance(detail, bagit.FileMissing):
        return f"{detail.path}: listed in a manifest but missing from the bag"
    if isinstance(detail, bagit.UnexpectedFile):
        return f"{detail.path}: in the bag but not listed in the payload manifests"
    return str(detail)


def _stage_errors(exc: Exception) -> list[str]:
    details = getattr(exc, "details", None)
    if details:
        return [_detail(d) for d in details]
    return [str(exc) or type(exc).__name__]


def _resolve_profile(profile: bool | BagProfile) -> BagProfile | None:
    if isinstance(profile, BagProfile):
        return profile
    return project_profile() if profile else None


def validate_bag(
    bag_dir: str | os.PathLike[str], *, profile: bool | BagProfile = True, fast: bool = False
) -> BagReport:
    """Check a bag directory and report every problem found.

    ``profile``: True = the project's profile, False = BagIt only, or any :class:`BagProfile`.
    ``fast``: skip fixity (no payload byte is read); structure, Payload-Oxum, completeness
    and the profile are still checked.
    """
    path = Path(bag_dir)
    chosen = _resolve_profile(profile)
    report = BagReport(
        bag_dir=str(path),
        valid=False,
        profile_identifier=chosen.identifier if chosen else None,
    )
    errors, warnings = report.errors, report.warnings
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory (unpack it first)"
        errors.append(f"{path} {what}")
        return report

    errors.extend(check_declaration(path))
    try:
        bag = bagit.Bag(str(path))
    except _READ_ERRORS as exc:
        errors.append(f"cannot open the bag: {exc}")
        return report
    report.bagit_version = bag.tags.get("BagIt-Version")

    lint_errors, lint_warnings = lint_manifests(path, bag.encoding, bag.version_info)
    errors.extend(lint_errors)
    warnings.extend(lint_warnings)
    errors.extend(lint_fetch(path, bag.encoding))
    warnings.extend(system_file_warnings(path))

    try:
        bag._validate_structure()
    except _READ_ERRORS as exc:
        errors.extend(_stage_errors(exc))
        return report  # without data/ or a manifest the later stages only repeat the problem

    for stage in (bag._validate_bagittxt, bag.validate_fetch, bag._validate_oxum):
        try:
            stage()
        except _READ_ERRORS as exc:
            errors.extend(_stage_errors(exc))

    missing: set[str] = set()
    try:
        bag._validate_completeness()
    except _READ_ERRORS as exc:
        missing = {d.path for d in getattr(exc, "details", []) if isinstance(d, bagit.FileMissing)}
        errors.extend(_stage_errors(exc))

    if not fast:
        try:
            bag._validate_entries(processes=1)
        except _READ_ERRORS as exc:
            details = getattr(exc, "details", None)
            if not details:
                errors.extend(_stage_errors(exc))
            else:  # a missing file is already reported; bagit-python also fails to read it
                errors.extend(
                    _detail(d) for d in details if getattr(d, "path", None) not in missing
                )
        report.fixity_checked = True

    if chosen is not None:
        errors.extend(f"profile: {message}" for message in check_profile(bag, chosen))

    report.valid = not errors
    return report


def validate_bag_cli(
    bag_dir: str | os.PathLike[str],
    *,
    profile: bool | BagProfile = True,
    fast: bool = False,
    out: TextIO | None = None,
) -> int:
    """Print a report for a person and return an exit code: 0 valid, 1 invalid."""
    stream = out if out is not None else sys.stdout
    report = validate_bag(bag_dir, profile=profile, fast=fast)
    print(report.summary(), file=stream)
    for error in report.errors:
        print(f"  error: {error}", file=stream)
    for warning in report.warnings:
        print(f"  warning: {warning}", file=stream)
    return 0 if report.valid else 1

"""BagIt profiles: the project's own (schemas/bagit-profile.json) and any other one, offline.

Validation runs bagit-profile (``bagit_profile.Profile(url, profile=dict)``: the profile is
given as data, so nothing is fetched over the network) and adds what bagit-profile 1.3.1 does
not do:

* every bag-info problem, not only the first (its ``validate_bag_info`` stops at the first
  bad tag, so each tag is checked again on its own);
* ``Payload-Files-Required``, which the project's profile uses (not part of the BagIt-Profiles
  spec text 1.3.0; implemented by BagItTools and bagit-utils; bagit-profile ignores it).

A profile may list *aliases*: other identifiers bags use for the same profile (the BTR sample
bags name it by a raw.githubusercontent.com URL, the profile itself by its release URL).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import bagit_profile

from archive_ingest.errors import PackageError
from archive_ingest.resources import schemas_dir

PROFILE_FILE = "bagit-profile.json"
#: the identifier bags written before the profile's UUID URN declare for the same profile
#: (docs/DECISIONS.md); they still validate against it
PROJECT_PROFILE_ALIASES = ("https://archive-ingest.github.io/profiles/bagit-profile-v1.0.json",)
ID_TAG = "BagIt-Profile-Identifier"
#: bagit-profile's CLI hint, which means nothing to callers of this module
_CASE_HINT = " Set 'ignore_baginfo_tag_case' to True if you wish to ignore tag case."


@dataclass(frozen=True)
class BagProfile:
    """A BagIt profile document with its identifier; immutable, so one can be shared freely."""

    identifier: str
    document_json: str  # the profile as canonical JSON text (bagit-profile mutates dicts)
    aliases: tuple[str, ...] = ()
    source: str = ""

    def document(self) -> dict[str, Any]:
        """A fresh copy of the profile document."""
        doc: dict[str, Any] = json.loads(self.document_json)
        return doc

    def accepts(self, identifier: str) -> bool:
        return identifier == self.identifier or identifier in self.aliases


_REQUIRED_KEYS = ("BagIt-Profile-Info", "Bag-Info", "Manifests-Required", "Accept-BagIt-Version")


def profile_from_document(
    document: dict[str, Any], *, aliases: tuple[str, ...] = (), source: str = ""
) -> BagProfile:
    """Check a profile document (as bagit-profile does, plus the keys it needs) and wrap it."""
    where = source or "BagIt profile"
    if not isinstance(document, dict):
        raise PackageError(f"{where}: not a JSON object")
    missing = [key for key in _REQUIRED_KEYS if key not in document]
    if missing:
        raise PackageError(f"{where}: missing {', '.join(missing)}")
    info = document["BagIt-Profile-Info"]
    identifier = info.get(ID_TAG) if isinstance(info, dict) else None
    if not isinstance(identifier, str) or not identifier:
        raise PackageError(f"{where}: BagIt-Profile-Info has no {ID_TAG}")
    try:
        bagit_profile.Profile(identifier, profile=json.loads(json.dumps(document)))
    except bagit_profile.ProfileValidationError as exc:
        raise PackageError(f"{where}: not a valid BagIt profile: {exc.value}") from exc
    return BagProfile(
        identifier=identifier,
        document_json=json.dumps(document, sort_keys=True, ensure_ascii=False),
        aliases=tuple(aliases),
        source=source,
    )


def load_profile(path: str | os.PathLike[str], *, aliases: tuple[str, ...] = ()) -> BagProfile:
    """Read a BagIt profile from a local JSON file (never from a URL)."""
    file = Path(path)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"cannot read BagIt profile {file}: {exc}") from exc
    return profile_from_document(document, aliases=aliases, source=str(file))


@lru_cache(maxsize=1)
def project_profile() -> BagProfile:
    """archive-ingest's own profile (schemas/bagit-profile.json)."""
    return load_profile(schemas_dir() / PROFILE_FILE, aliases=PROJECT_PROFILE_ALIASES)


class _BagView:
    """What ``Profile.validate_bag_info`` reads of a bag (path, info), with an info override."""

    def __init__(self, path: str, info: dict[str, Any]) -> None:
        self.path = path
        self.info = info

    def __str__(self) -> str:
        return self.path


def _message(bag_path: str, value: object) -> str:
    text = str(value).replace(_CASE_HINT, "")
    prefix = f"{bag_path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def check_profile(bag: Any, profile: BagProfile) -> list[str]:
    """Every way ``bag`` (an opened ``bagit.Bag``) breaks ``profile``; empty when it conforms.

    Raises nothing for a bad bag. bagit-profile logs each failure on the root logger as well.
    """
    declared = bag.info.get(ID_TAG)
    url = (
        declared if isinstance(declared, str) and profile.accepts(declared) else profile.identifier
    )
    raw: list[object] = []

    validator = bagit_profile.Profile(url, profile=profile.document())
    try:
        validator.validate_serialization(bag.path)
    except bagit_profile.ProfileValidationError as exc:
        raw.append(exc.value)
    validator.validate(bag)
    raw.extend(error.value for error in validator.report.errors)

    # bagit-profile stops at the first bad bag-info tag; check each tag alone to list them all.
    # The view carries the right identifier so that problem (already reported) does not mask
    # the others.
    view = _BagView(bag.path, {**bag.info, ID_TAG: url})
    for tag, rule in profile.document().get("Bag-Info", {}).items():
        single = bagit_profile.Profile(url, profile={**profile.document(), "Bag-Info": {tag: rule}})
        try:
            single.validate_bag_info(view)
        except bagit_profile.ProfileValidationError as exc:
            raw.append(exc.value)

    for required in profile.document().get("Payload-Files-Required", []):
        target = Path(bag.path, required)
        present = target.is_dir() if required.endswith("/") else target.is_file()
        if not required.startswith("data/") or not present:
            raw.append(f"Required payload file '{required}' is not present in the bag.")

    messages: list[str] = []
    for value in raw:
        text = _message(bag.path, value)
        if text not in messages:
            messages.append(text)
    return messages

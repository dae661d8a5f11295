"""Checks bagit-python 1.9.0 does not make, run by :func:`archive_ingest.bag.validate_bag`.

They read only tag files and file names (no payload bytes), and each returns messages instead
of raising, so a report lists every problem:

* the bag declaration (bagit.txt) must be exactly the two lines of RFC 8493 §2.1.1
  (bagit-python accepts ``BagIt-Version : 1.0``; conformance case bagit-with-invalid-whitespace);
* every payload manifest must list every payload file (RFC 8493 §3; bagit-python only checks
  that each file is in *some* manifest);
* manifest and fetch.txt paths must be portable: a backslash or a drive letter is a path
  escape on Windows (the conformance suite's windows-only cases), so it is refused everywhere;
* a manifest line that is not ``checksum path`` is an error (bagit-python logs and skips it);
* warnings: ``./`` or md5sum's ``*`` in front of a path, a path listed twice, names that differ
  only in case or Unicode normalisation, operating-system files such as .DS_Store.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import unicodedata
from pathlib import Path

from archive_ingest.bag.paths import decode_manifest_path, is_system_file

_MANIFEST = re.compile(r"^(tag)?manifest-([A-Za-z0-9]+)\.txt$")
_VERSION_LINE = re.compile(r"BagIt-Version: [0-9]+\.[0-9]+")
_ENCODING_LINE = re.compile(r"Tag-File-Character-Encoding: [A-Za-z0-9._:-]+")
_DRIVE = re.compile(r"^[A-Za-z]:")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}

Messages = tuple[list[str], list[str]]  # (errors, warnings)


def check_declaration(bag_dir: Path) -> list[str]:
    """RFC 8493 §2.1.1: bagit.txt is exactly two lines, each with exactly ``Label: value``.

    A missing file or a byte-order mark is left to bagit-python, which reports both.
    """
    try:
        raw = (bag_dir / "bagit.txt").read_bytes()
    except OSError:
        return []
    if raw.startswith(codecs.BOM_UTF8):
        return []
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return ["bagit.txt is not UTF-8 (RFC 8493 §2.1.1)"]
    errors: list[str] = []
    if len(lines) != 2:
        errors.append(
            f"bagit.txt must have exactly two lines (RFC 8493 §2.1.1), it has {len(lines)}"
        )
    if lines and not _VERSION_LINE.fullmatch(lines[0]):
        errors.append(
            f"bagit.txt line 1 must read 'BagIt-Version: M.N' exactly, found {lines[0]!r}"
        )
    if len(lines) > 1 and not _ENCODING_LINE.fullmatch(lines[1]):
        errors.append(
            "bagit.txt line 2 must read 'Tag-File-Character-Encoding: ENCODING' exactly, "
            f"found {lines[1]!r}"
        )
    return errors


def _portable_problem(path: str) -> str | None:
    if "\\" in path:
        return "contains a backslash (a path separator on Windows)"
    if _DRIVE.match(path):
        return "starts with a drive letter"
    return None


def _read_lines(path: Path, encoding: str) -> tuple[list[str] | None, str | None, bool]:
    """(lines, error, had_utf8_bom)."""
    try:
        text = path.read_bytes().decode(encoding)
    except (OSError, UnicodeDecodeError, LookupError) as exc:
        return None, f"{path.name} cannot be read as {encoding}: {exc}", False
    bom = text.startswith("\ufeff")
    return text.lstrip("\ufeff").splitlines(), None, bom


def lint_manifests(bag_dir: Path, encoding: str, version: tuple[int, ...]) -> Messages:
    """Check every manifest and tag manifest at the top of the bag (see the module docstring)."""
    errors: list[str] = []
    warnings: list[str] = []
    payload_sets: dict[str, set[str]] = {}
    for name in sorted(os.listdir(bag_dir)):
        match = _MANIFEST.fullmatch(name)
        if not match or not (bag_dir / name).is_file():
            continue
        is_tag = match.group(1) is not None
        algorithm = match.group(2).lower()
        lines, error, bom = _read_lines(bag_dir / name, encoding)
        if lines is None:
            errors.append(error or name)
            continue
        if bom and encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
            warnings.append(f"{name} starts with a byte-order mark, which RFC 8493 does not allow")
        seen: dict[str, str] = {}
        folded: dict[str, str] = {}
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            parts = stripped.split(None, 1)
            if len(parts) != 2:
                errors.append(f"{name} line {number} is not 'checksum path': {stripped!r}")
                continue
            digest, path = parts
            expected_length = _DIGEST_LENGTHS.get(algorithm)
            if not _HEX.fullmatch(digest) or (expected_length and len(digest) != expected_length):
                errors.append(f"{name} line {number}: {digest!r} is not a {algorithm} checksum")
            if path.startswith("*"):
                warnings.append(
                    f"{name} line {number}: '*' before {path[1:]!r} is an md5sum-style "
                    "binary marker, not part of BagIt"
                )
                path = path[1:]
            problem = _portable_problem(path)
            if problem:
                errors.append(f"{name} line {number}: path {path!r} {problem}; not allowed")
                continue
            if path.startswith("./"):
                warnings.append(f"{name} line {number}: path {path!r} starts with './'")
            if version >= (1, 0):
                path = decode_manifest_path(path)
            path = posixpath.normpath(path)
            if not is_tag and not path.startswith("data/"):
                errors.append(f"{name} line {number}: {path!r} is not a payload path (data/...)")
            if path in seen:
                if version < (1, 0):  # from 1.0 on bagit-python reports it as an error
                    warnings.append(f"{name} lists {path!r} more than once")
                continue
            seen[path] = digest
            key = unicodedata.normalize("NFC", path).casefold()
            other = folded.setdefault(key, path)
            if other != path:
                warnings.append(
                    f"{name} lists {other!r} and {path!r}, which differ only in letter case "
                    "or Unicode normalisation"
                )
        if not is_tag:
            payload_sets[name] = set(seen)
    errors.extend(_compare_payload_manifests(payload_sets))
    return errors, warnings


def _compare_payload_manifests(payload_sets: dict[str, set[str]]) -> list[str]:
    """RFC 8493 §3: every payload file is listed in every payload manifest."""
    errors: list[str] = []
    if len(payload_sets) < 2:
        return errors
    union = set().union(*payload_sets.values())
    for name, listed in sorted(payload_sets.items()):
        for path in sorted(union - listed):
            others = sorted(n for n, s in payload_sets.items() if path in s)
            errors.append(f"{path} is listed in {', '.join(others)} but not in {name}")
    return errors


def lint_fetch(bag_dir: Path, encoding: str) -> list[str]:
    """fetch.txt paths must be portable too (bagit-python checks '..', absolute and '~')."""
    fetch = bag_dir / "fetch.txt"
    if not fetch.is_file():
        return []
    lines, error, _ = _read_lines(fetch, encoding)
    if lines is None:
        return [error or "fetch.txt"]
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        parts = line.strip().split(None, 2)
        if not parts:
            continue
        if len(parts) != 3:
            errors.append(f"fetch.txt line {number} is not 'url length path': {line.strip()!r}")
            continue
        problem = _portable_problem(parts[2])
        if problem:
            errors.append(f"fetch.txt line {number}: path {parts[2]!r} {problem}; not allowed")
    return errors


def system_file_warnings(bag_dir: Path) -> list[str]:
    """Operating-system litter in the payload (valid BagIt, but rarely meant to be kept)."""
    warnings: list[str] = []
    data = bag_dir / "data"
    for root, dirs, files in os.walk(data):
        dirs.sort()
        for name in sorted(files):
            rel = Path(root, name).relative_to(bag_dir).as_posix()
            if is_system_file(rel):
                warnings.append(f"{rel} is an operating-system file, probably not meant to be kept")
    return warnings

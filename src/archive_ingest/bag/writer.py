"""Write a bag's tag files around a payload that is already in place under ``data/``.

The pipeline's stages write their files straight into ``<bag>/data/`` and know each file's
digests from the one read that produced it (:mod:`archive_ingest.digests`). ``write_bag`` only
checks names and sizes (a stat, never a read) and writes bagit.txt, bag-info.txt, the SHA-256
and SHA-512 payload manifests and the two tag manifests. The tag files are produced in memory,
so they are hashed as they are written; their digests come back in :class:`BagSummary` for the
deposit.

Unlike ``bagit.make_bag`` (which moves files and calls ``os.chdir``, a process-wide change)
this uses absolute paths only and touches no process-wide state: any number of bags can be
written at once from threads, processes or Prefect tasks. Every tag file is replaced
atomically (temporary file, fsync, rename) and the tag manifests are written last, so a crash
leaves no half-written bag that looks complete; re-running writes the same bytes.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from archive_ingest.bag.info import BagInfo, format_bag_size, payload_oxum, render_bag_info
from archive_ingest.bag.paths import (
    PAYLOAD_DIR,
    check_distinct,
    check_payload_path,
    encode_manifest_path,
    manifest_path,
)
from archive_ingest.digests import digest_bytes
from archive_ingest.errors import PackageError
from archive_ingest.models import Digests
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.workspace import atomic_write_bytes

ALGORITHMS = ("sha256", "sha512")
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFESTS = tuple(f"manifest-{alg}.txt" for alg in ALGORITHMS)
TAG_MANIFESTS = tuple(f"tagmanifest-{alg}.txt" for alg in ALGORITHMS)
TAG_FILES = ("bagit.txt", "bag-info.txt", *MANIFESTS, *TAG_MANIFESTS)
_PARTIAL = re.compile(
    r"^\.(bagit|bag-info|manifest-sha256|manifest-sha512|tagmanifest-sha256|tagmanifest-sha512)"
    r"\.txt\.[A-Za-z0-9_]+\.(?:partial|tmp)$"
)
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_LIST_LIMIT = 10


class BagSummary(BaseModel):
    """What :func:`write_bag` wrote: the numbers in bag-info.txt and every file's digests."""

    bag_dir: Path
    payload_oxum: str
    payload_bytes: int
    payload_files: int
    bag_size: str
    payload: dict[str, Digests]  # bag-relative path ("data/...") -> digests
    tag_files: dict[str, Digests]  # tag file name -> digests of the bytes written

    def files(self) -> dict[str, Digests]:
        """Every file of the bag, bag-relative path -> digests, sorted by path."""
        merged = {**self.payload, **self.tag_files}
        return {path: merged[path] for path in sorted(merged)}


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_LIST_LIMIT])
    more = len(paths) - _LIST_LIMIT
    return f"{shown} and {more} more" if more > 0 else shown


def _checked_digests(path: str, digests: Digests) -> Digests:
    if not isinstance(digests, Digests):
        raise PackageError(f"payload {path!r}: digests must be a Digests, got {type(digests)}")
    if digests.size < 0:
        raise PackageError(f"payload {path!r}: negative size {digests.size}")
    values: dict[str, str] = {}
    for alg, length in _HEX_LENGTH.items():
        value = getattr(digests, alg).lower()
        if len(value) != length or any(c not in "0123456789abcdef" for c in value):
            raise PackageError(f"payload {path!r}: {alg} {getattr(digests, alg)!r} is not a digest")
        values[alg] = value
    return digests.model_copy(update=values)


def _checked_payload(payload: Mapping[str, Digests]) -> dict[str, Digests]:
    checked = {check_payload_path(path): _checked_digests(path, d) for path, d in payload.items()}
    check_distinct(checked)
    return {path: checked[path] for path in sorted(checked)}


def _clean_root(bag_dir: Path) -> None:
    """Only data/ and our own tag files may be at the top; leftovers of a crash are removed."""
    if not bag_dir.is_dir():
        raise PackageError(f"bag directory {bag_dir} does not exist")
    unexpected: list[str] = []
    for name in sorted(os.listdir(bag_dir)):
        if _PARTIAL.fullmatch(name):
            (bag_dir / name).unlink()
        elif name not in TAG_FILES and name != PAYLOAD_DIR:
            unexpected.append(name)
        elif name in TAG_FILES and not stat.S_ISREG((bag_dir / name).lstat().st_mode):
            unexpected.append(f"{name} (not a regular file)")
    if unexpected:
        raise PackageError(
            f"bag {bag_dir} holds files that belong neither to the payload nor to the tag "
            f"files: {_listing(unexpected)}"
        )
    data = bag_dir / PAYLOAD_DIR
    if data.is_symlink() or (data.exists() and not data.is_dir()):
        raise PackageError(f"{data} must be a directory, not a link or a file")


def _files_on_disk(data: Path) -> dict[str, int]:
    """Payload path (relative to data/) -> size, for every regular file under ``data``."""
    found: dict[str, int] = {}
    odd: list[str] = []
    for root, dirs, files in os.walk(data):
        base = Path(root)
        for name in dirs:
            if (base / name).is_symlink():
                odd.append((base / name).relative_to(data).as_posix() + "/ (a link)")
        for name in files:
            rel = (base / name).relative_to(data).as_posix()
            info = (base / name).lstat()
            if not stat.S_ISREG(info.st_mode):
                odd.append(f"{rel} (not a regular file)")
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                odd.append(f"{rel!r} (name is not UTF-8)")
                continue
            found[rel] = info.st_size
    if odd:
        raise PackageError(f"{data} holds entries a bag cannot carry: {_listing(sorted(odd))}")
    return found


def _check_disk(data: Path, payload: dict[str, Digests]) -> None:
    on_disk = _files_on_disk(data) if data.is_dir() else {}
    missing = sorted(set(payload) - set(on_disk))
    extra = sorted(set(on_disk) - set(payload))
    problems: list[str] = []
    if missing:
        problems.append(f"missing from {data}: {_listing(missing)}")
    if extra:
        problems.append(f"on disk but not in the payload list: {_listing(extra)}")
    wrong = sorted(
        f"{path} ({on_disk[path]} bytes, expected {payload[path].size})"
        for path in set(payload) & set(on_disk)
        if on_disk[path] != payload[path].size
    )
    if wrong:
        problems.append(f"size differs from its digests: {_listing(wrong)}")
    if problems:
        raise PackageError("payload does not match the files under data/: " + "; ".join(problems))


def render_manifest(payload: Mapping[str, Digests], algorithm: str) -> bytes:
    """``<hex digest>  data/<path>`` lines, sorted by path, paths encoded per RFC 8493."""
    lines = [
        f"{getattr(payload[path], algorithm)}  {encode_manifest_path(manifest_path(path))}\n"
        for path in sorted(payload)
    ]
    return "".join(lines).encode("utf-8")


def render_tag_manifest(tag_digests: Mapping[str, Digests], algorithm: str) -> bytes:
    return "".join(
        f"{getattr(tag_digests[name], algorithm)}  {name}\n" for name in sorted(tag_digests)
    ).encode("utf-8")


def write_bag(bag_dir: Path, payload: Mapping[str, Digests], info: BagInfo) -> BagSummary:
    """Write the tag files of the bag at ``bag_dir`` whose payload is already under data/.

    ``payload`` maps each payload path, relative to data/ with '/' separators, to the digests
    computed when the file was written. Raises PackageError, before writing anything, when a
    path is unsafe, when the files under data/ are not exactly the payload (missing or extra
    files, wrong sizes) or when something else sits at the top of the bag.
    """
    bag_dir = Path(bag_dir).absolute()
    entries = _checked_payload(payload)
    _clean_root(bag_dir)
    data = bag_dir / PAYLOAD_DIR
    _check_disk(data, entries)
    data.mkdir(exist_ok=True)  # an empty payload still has its data/ directory

    total = sum(d.size for d in entries.values())
    oxum = payload_oxum(total, len(entries))
    size = format_bag_size(total)
    tag_bytes = {
        "bagit.txt": BAGIT_TXT,
        "bag-info.txt": render_bag_info(info, oxum=oxum, bag_size=size),
        **{
            name: render_manifest(entries, alg)
            for name, alg in zip(MANIFESTS, ALGORITHMS, strict=True)
        },
    }
    tag_digests = {name: digest_bytes(content) for name, content in tag_bytes.items()}
    for name, alg in zip(TAG_MANIFESTS, ALGORITHMS, strict=True):
        tag_bytes[name] = render_tag_manifest(
            {n: d for n, d in tag_digests.items() if n not in TAG_MANIFESTS}, alg
        )
    for name in TAG_MANIFESTS:
        tag_digests[name] = digest_bytes(tag_bytes[name])

    for name in (*MANIFESTS, "bagit.txt", "bag-info.txt", *TAG_MANIFESTS):
        atomic_write_bytes(bag_dir / name, tag_bytes[name])
        crashpoint("mid-bag")

    return BagSummary(
        bag_dir=bag_dir,
        payload_oxum=oxum,
        payload_bytes=total,
        payload_files=len(entries),
        bag_size=size,
        payload={manifest_path(path): d for path, d in entries.items()},
        tag_files={name: tag_digests[name] for name in TAG_FILES},
    )

"""Where an item's files live while it is processed, and the stage checkpoints.

    HOME/work/<record-id>/incoming/            the download lands here first
    HOME/work/<record-id>/v<N>/bag/data/...    the package payload, assembled in place
    HOME/work/<record-id>/v<N>/checkpoints/    one JSON file per finished stage
    HOME/work/<record-id>/tmp/                 work folders (OCR): held by flock while in use,
                                               swept by the item's next run and reconcile --fix

A stage that finds its checkpoint does not run again: a re-run after a crash resumes where
the last one stopped, and the files it already wrote (and perhaps deposited) stay byte-identical.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive_ingest.models import RECORD_ID_RE
from archive_ingest.secret_files import ensure_private_dir

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, *, default: str, suffix: str = "") -> str:
    """A file name made only of safe characters; never a path, never hidden, never ``..``."""
    base = name.rsplit("/", 1)[-1]
    cleaned = SAFE_NAME.sub("-", base).strip(".-")[:120]
    if not cleaned:
        cleaned = default
    if suffix and not cleaned.lower().endswith(suffix):
        cleaned += suffix
    return cleaned


def ensure_home(home: Path) -> Path:
    """Create HOME with mode 0700, or take group and other access away from an existing one.

    HOME holds the catalogue (password hashes, receipts), secrets and work files: only its
    owner may enter it, whatever the modes of the files inside."""
    return ensure_private_dir(home)


@dataclass(frozen=True)
class ItemWorkspace:
    home: Path
    record_id: str

    def __post_init__(self) -> None:
        if not RECORD_ID_RE.fullmatch(self.record_id) or ".." in self.record_id:
            raise ValueError(f"unsafe record id {self.record_id!r}")

    @property
    def root(self) -> Path:
        return self.home / "work" / self.record_id

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def tmp(self) -> Path:
        """The item's one place for temporary work folders (see :func:`work_folder`)."""
        return self.root / "tmp"

    def version_dir(self, version: int) -> Path:
        return self.root / f"v{version}"

    def bag_dir(self, version: int) -> Path:
        return self.version_dir(version) / "bag"

    def data_dir(self, version: int) -> Path:
        return self.bag_dir(version) / "data"

    def checkpoint_path(self, version: int, stage: str) -> Path:
        """Where the stage ``stage`` leaves its checkpoint; read and written through
        ``archive_ingest.ingest.checkpoints`` (typed models), never by name elsewhere."""
        return self.version_dir(version) / "checkpoints" / f"{stage}.json"


_HOLD = ".held"
STAGING_PREFIX = ".staging-"
#: an unheld staging folder younger than this may be a creation in progress, not debris
STAGING_GRACE_SECONDS = 3600.0


@contextmanager
def work_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder under ``parent``, held (``flock`` on a file inside) while in use and
    removed afterwards. A process killed meanwhile leaves it behind *unheld*: the kernel drops
    the lock with the process, so :func:`sweep_work_folders` knows it is debris.

    The folder is made and held under a hidden staging name, then renamed into place: a sweep
    never sees a folder under its final name before it is held (between ``mkdtemp`` and
    ``flock`` it would look like a killed run's). An unheld staging folder is debris only once
    older than :data:`STAGING_GRACE_SECONDS`."""
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{prefix}", dir=parent))
    fd = -1
    work = staging
    try:
        fd = os.open(staging / _HOLD, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        while True:  # a name nobody uses (rename would replace an empty folder)
            target = parent / f"{prefix}{secrets.token_hex(6)}"
            if not target.exists():
                break
        os.rename(staging, target)
        work = target
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if fd >= 0:
            os.close(fd)


def stale_work_folders(parent: Path) -> list[Path]:
    """Folders under ``parent`` that no live process holds (left by a killed run)."""
    if not parent.is_dir():
        return []
    stale = []
    for folder in sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink()):
        if folder.name.startswith(STAGING_PREFIX):
            try:
                age = time.time() - folder.stat().st_mtime
            except FileNotFoundError:  # renamed into place or removed meanwhile
                continue
            if age < STAGING_GRACE_SECONDS:
                continue  # perhaps being made right now
        try:
            fd = os.open(folder / _HOLD, os.O_RDONLY)
        except FileNotFoundError:  # killed before the hold existed (or removed meanwhile)
            if folder.is_dir():
                stale.append(folder)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # in use
        finally:
            os.close(fd)  # closing drops the probe's lock
        stale.append(folder)
    return stale


def sweep_work_folders(parent: Path) -> list[Path]:
    """Remove the stale work folders under ``parent``; returns what was removed."""
    removed = stale_work_folders(parent)
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

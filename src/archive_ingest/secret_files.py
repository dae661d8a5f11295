"""Secret files under HOME: created atomically with mode 0600, refused when empty or short.

A secret file never exists under its final name with partial content. :func:`ensure_secret`
writes the new secret to a private temporary file in the same folder, fsyncs it and then
hard-links it to the final name (``os.link`` fails if the name exists), so two processes
creating the same secret at once agree on one: the loser drops its own and reads the winner's.
A crash or a full disk leaves at most a stray ``.<name>.*`` temporary file, never an empty key.

:func:`read_secret` and :func:`check_secret` refuse an empty, short or non-ASCII secret with a
:class:`SecretFileError` whose one-line message names the file (or setting) and what to do.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from archive_ingest.errors import ConfigError

#: the shortest secret accepted (generated ones are 64 characters)
MIN_SECRET_CHARS = 32
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class SecretFileError(ConfigError):
    """A secret (file or setting) that must not be used: missing bits, empty, short, garbled."""


def _problem(value: bytes, min_bytes: int) -> str | None:
    if not value:
        return "is empty"
    if not all(0x20 <= byte <= 0x7E for byte in value):
        return "holds characters other than printable ASCII"
    if len(value) < min_bytes:
        return f"is too short ({len(value)} characters, at least {min_bytes} needed)"
    return None


def check_secret(value: bytes, min_bytes: int, *, source: str) -> bytes:
    """``value`` stripped of whitespace, else :class:`SecretFileError` naming ``source``."""
    value = value.strip()
    problem = _problem(value, min_bytes)
    if problem is not None:
        raise SecretFileError(
            f"the secret {source} {problem}: set a random value of at least {min_bytes} "
            "printable ASCII characters"
        )
    return value


def read_secret(path: Path, min_bytes: int) -> bytes:
    """The secret kept in ``path`` (whitespace stripped); :class:`SecretFileError` if unusable.

    ``FileNotFoundError`` passes through (the caller may create the file)."""
    try:
        value = path.read_bytes().strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SecretFileError(f"cannot read the secret file {path}: {exc.strerror}") from None
    problem = _problem(value, min_bytes)
    if problem is not None:
        raise SecretFileError(
            f"the secret file {path} {problem}: delete it to have a new one generated "
            f"(or write a random value of at least {min_bytes} printable ASCII characters)"
        )
    return value


def fsync_dir(path: Path) -> None:
    """Make a rename or link in ``path`` durable (best effort where directories cannot sync)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700; tighten it if group or others have access.

    Only ``path`` itself is tightened, never its parents (they are not ours)."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, mode & ~0o077)
    return path


def _write_temp(folder: Path, name: str, data: bytes) -> Path:
    """A fsynced 0600 temporary file in ``folder`` holding ``data``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_private_file(path: Path, data: bytes, *, replace: bool = True) -> bool:
    """Write ``data`` to ``path`` atomically with mode 0600 from the first byte.

    With ``replace`` an existing file is replaced (``os.replace``); without it an existing file
    is kept and ``False`` returned (``os.link``: no window where the name exists half-written).
    ``True`` when this call's content is now at ``path``."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    tmp = _write_temp(path.parent, path.name, data)
    try:
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                    raise SecretFileError(
                        f"cannot create {path}: its file system does not support hard links "
                        f"({exc.strerror}); configure the secret as a setting instead"
                    ) from None
                raise
    finally:
        tmp.unlink(missing_ok=True)
        fsync_dir(path.parent)
    return True


def ensure_secret(path: Path, make: Callable[[], bytes], min_bytes: int) -> bytes:
    """The secret in ``path``, created with ``make()`` if the file does not exist yet.

    Concurrent creators all return the same secret. An existing empty or short file is
    refused (:class:`SecretFileError`), never silently replaced."""
    try:
        return read_secret(path, min_bytes)
    except FileNotFoundError:
        pass
    fresh = make()
    check_secret(fresh, min_bytes, source=f"generated for {path}")
    write_private_file(path, fresh, replace=False)
    return read_secret(path, min_bytes)

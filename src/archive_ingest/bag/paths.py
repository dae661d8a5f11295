"""Payload paths: what a bag may hold, and how a path is written into a manifest.

Pure functions, no I/O. A payload path is given relative to ``data/`` with POSIX separators
(``original/x.pdf``); the manifest line carries ``data/original/x.pdf``.

RFC 8493 §2.1.3: in a manifest (and fetch.txt) a path's CR, LF and ``%`` — and only those —
are percent-encoded (``%0D``, ``%0A``, ``%25``). bagit-python 1.9.0 decodes ``%0D``/``%0A``
but not ``%25`` (it decodes only CR and LF), so a bag with ``%`` in a file name is written
correctly here but fails bagit-python's validation; docs/BAGIT.md has the details.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from archive_ingest.errors import PackageError

PAYLOAD_DIR = "data"

_ENCODED = re.compile(r"%(0[dD]|0[aA]|25)")
_DECODE = {"0d": "\r", "0a": "\n", "25": "%"}

#: Files an operating system drops into folders by itself; a bag holding one is suspect.
SYSTEM_FILE_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r", ".directory"})


def encode_manifest_path(path: str) -> str:
    """Percent-encode CR, LF and ``%`` (RFC 8493 §2.1.3); everything else stays as it is."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_manifest_path(path: str) -> str:
    """Undo :func:`encode_manifest_path` (single pass, so ``%250A`` decodes to ``%0A``)."""
    return _ENCODED.sub(lambda m: _DECODE[m.group(1).lower()], path)


def check_payload_path(path: str) -> str:
    """Return ``path`` if it is a safe payload path (relative to data/), else raise PackageError.

    Refused: empty, absolute, backslashes (a Windows separator: the path would mean something
    else elsewhere), NUL and control characters other than CR/LF (which the manifest encodes),
    empty, ``.`` or ``..`` segments, and segments with leading or trailing white space (bagit
    tools strip manifest lines, so such a name would not survive a round trip).
    """
    if not isinstance(path, str) or not path:
        raise PackageError(f"payload path {path!r} is empty or not text")
    if path.startswith("/"):
        raise PackageError(f"payload path {path!r} is absolute; give it relative to data/")
    if "\\" in path:
        raise PackageError(f"payload path {path!r} contains a backslash; use '/' separators")
    bad = [c for c in path if (ord(c) < 32 and c not in "\r\n") or ord(c) == 127]
    if bad:
        raise PackageError(f"payload path {path!r} contains control characters")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise PackageError(
                f"payload path {path!r} has an empty, '.' or '..' segment (it could escape data/)"
            )
        if segment != segment.strip():
            raise PackageError(
                f"payload path {path!r} has a name with leading or trailing white space"
            )
    return path


def check_distinct(paths: Iterable[str]) -> None:
    """Refuse two payload paths that differ only in Unicode normalisation or in letter case.

    RFC 8493 §3: implementations MUST NOT create bags whose names differ only in normalisation
    (they collapse into one file on macOS) and SHOULD NOT for case (Windows, macOS).
    """
    seen: dict[str, str] = {}
    for path in paths:
        key = unicodedata.normalize("NFC", path).casefold()
        other = seen.setdefault(key, path)
        if other != path:
            raise PackageError(
                f"payload paths {other!r} and {path!r} differ only in letter case or Unicode "
                "normalisation; they would be one file on some systems"
            )


def manifest_path(payload_path: str) -> str:
    """The bag-relative path of a payload file: ``data/`` + the payload path."""
    return f"{PAYLOAD_DIR}/{payload_path}"


def is_system_file(path: str) -> bool:
    """True for names like .DS_Store, Thumbs.db or AppleDouble ``._x`` companions."""
    name = path.rsplit("/", 1)[-1]
    return name.lower() in SYSTEM_FILE_NAMES or name.startswith("._")

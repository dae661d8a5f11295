"""File format identification with Siegfried (PRONOM), in-process through pygfried.

Every file that goes into a package gets a PRONOM identifier (PUID) for its PREMIS
"format identification" event. The tool version reported includes the signature files
(DROID and container signatures), because a PUID is only meaningful with the signature release
that produced it. There is deliberately no guessing from the file extension or ``mimetypes``:
without Siegfried the stage fails and says so. One fallback is a proof, not a guess: a file
Siegfried cannot match that lxml parses as well-formed XML is XML 1.0 (fmt/101), identified by
lxml (PRONOM's XML signature needs the optional ``<?xml`` declaration at byte 0, so a
user's Dublin Core file without one would otherwise have no format at all).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from archive_ingest.errors import ConfigError, ContentError
from archive_ingest.records.schemas import hardened_parser

TOOL = "siegfried"
UNKNOWN = "UNKNOWN"
_LOCK = threading.Lock()  # one identification at a time through the shared scanner


class FormatToolError(ConfigError):
    """The format identification tool (pygfried / Siegfried) is missing or broken."""


@dataclass(frozen=True)
class FormatId:
    """One file's format as Siegfried identifies it against PRONOM.

    ``puid`` is ``None`` when Siegfried found no match. ``tool_version`` carries both the
    Siegfried version and the signature files, e.g. "1.11.9 (DROID_SignatureFile_V125.xml;
    container-signature-20260119.xml)", so ``f"{tool} {tool_version}"`` names the PREMIS agent
    completely. ``basis`` is Siegfried's reason ("extension match pdf; byte match at ...") and
    ``warning`` its doubts ("match on extension only", "extension mismatch", "empty source").
    """

    puid: str | None
    format_name: str | None
    format_version: str | None
    media_type: str | None
    tool: str
    tool_version: str
    basis: str
    warning: str = ""
    siegfried_version: str = ""
    signature_version: str = ""

    @property
    def agent(self) -> str:
        """The PREMIS agent name: tool, version and signatures."""
        return f"{self.tool} {self.tool_version}"


def identify(path: Path) -> FormatId:
    """Identify the file at ``path``.

    Raises :class:`ContentError` when the file does not exist or cannot be read, and
    :class:`FormatToolError` when pygfried is not installed or fails.
    """
    path = Path(path)
    if not path.is_file():
        raise ContentError(f"cannot identify the format of {path.name}: no such file")
    scanner = _scanner()
    try:
        with _LOCK:
            result = scanner.identify(str(path), detailed=True)
    except Exception as exc:  # pygfried raises GoError subclasses (OSError) and others
        message = str(exc).replace(str(path), path.name)
        raise FormatToolError(f"Siegfried failed on {path.name}: {message}") from None
    found = parse_result(result, path)
    if found.puid is None:
        return _parsed_as_xml(path, found) or found
    return found


XML_PUID = "fmt/101"
_XML_PARSE_LIMIT = 64 * 1024 * 1024


def _parsed_as_xml(path: Path, found: FormatId) -> FormatId | None:
    """fmt/101 for a file Siegfried did not match but lxml parses as well-formed XML."""
    try:
        if path.stat().st_size > _XML_PARSE_LIMIT:
            return None
        with path.open("rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"<"):
            return None
        etree.parse(str(path), hardened_parser())
    except (OSError, etree.XMLSyntaxError):
        return None
    return FormatId(
        puid=XML_PUID,
        format_name="Extensible Markup Language",
        format_version="1.0",
        media_type="application/xml",
        tool="lxml",
        tool_version=etree.__version__,
        basis=f"parsed as well-formed XML; Siegfried: {found.basis or 'no match'}",
        warning="no XML declaration: identified by parsing, not by signature",
        siegfried_version=found.siegfried_version,
        signature_version=found.signature_version,
    )


def siegfried_versions() -> tuple[str, str]:
    """(Siegfried version, signature files) of the installed pygfried, for reports."""
    pygfried = _import()
    try:
        return pygfried.version(), _signature_details(_probe())
    except Exception as exc:
        raise FormatToolError(f"Siegfried does not report its version: {exc}") from None


def parse_result(result: dict[str, Any], path: Path) -> FormatId:
    """Turn Siegfried's detailed result (its JSON output, as a dict) for one file into a
    :class:`FormatId`. Pure: no I/O."""
    files = result.get("files") or []
    if not files:
        raise FormatToolError(f"Siegfried returned no result for {path.name}")
    entry = files[0]
    errors = str(entry.get("errors") or "").replace(str(path), path.name)
    matches = [m for m in entry.get("matches") or [] if m.get("ns", "pronom") == "pronom"]
    if not matches and errors:
        raise ContentError(f"cannot identify the format of {path.name}: {errors}")
    match = matches[0] if matches else {}
    puid = match.get("id") or None
    if puid == UNKNOWN:
        puid = None
    sf_version = str(result.get("siegfried") or "")
    signatures = _signature_details(result)
    warning = "; ".join(w for w in (errors, str(match.get("warning") or "")) if w)
    return FormatId(
        puid=puid,
        format_name=(match.get("format") or None) if puid else None,
        format_version=(match.get("version") or None) if puid else None,
        media_type=(match.get("mime") or None) if puid else None,
        tool=TOOL,
        tool_version=f"{sf_version} ({signatures})" if signatures else sf_version,
        basis=str(match.get("basis") or ""),
        warning=warning,
        siegfried_version=sf_version,
        signature_version=signatures,
    )


def _signature_details(result: dict[str, Any]) -> str:
    for identifier in result.get("identifiers") or []:
        if identifier.get("name") == "pronom":
            return str(identifier.get("details") or "")
    return str(result.get("signature") or "")


def _import() -> Any:
    try:  # optional at import time: a missing extension is reported as FormatToolError
        import pygfried
    except ImportError as exc:
        raise FormatToolError(
            "format identification needs pygfried (Siegfried as a Python extension): "
            f"install it with `pip install pygfried` ({exc})"
        ) from None
    return pygfried


@cache
def _scanner() -> Any:
    """One Siegfried scanner per process (loading the signatures takes ~0.2 s)."""
    pygfried = _import()
    try:
        return pygfried.Scanner()
    except Exception as exc:
        raise FormatToolError(f"Siegfried cannot load its signatures: {exc}") from None


@cache
def _probe() -> dict[str, Any]:
    """A detailed result for this module's own file, only to read the signature versions."""
    with _LOCK:
        result: dict[str, Any] = _scanner().identify(__file__, detailed=True)
    return result

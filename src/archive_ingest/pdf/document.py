"""Document-level facts: JavaScript and embedded files anywhere in the file, the XMP packet,
the document info dictionary and the effective PDF version, each read within a bound."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
import pypdf
from pypdf.errors import PyPdfError

from archive_ingest.pdf.bounds import (
    MAX_FORM_DEPTH,
    MAX_INFO_VALUE,
    MAX_OBJECTS,
    MAX_XMP_BYTES,
    Warnings,
)


@dataclass
class ObjectFlags:
    javascript: bool = False
    embedded_files: bool = False
    open_action: bool = False


def scan_objects(pdf: pikepdf.Pdf, warnings: Warnings | None = None) -> ObjectFlags:
    """Find JavaScript (``/JS``, ``/S /JavaScript``, a ``/JavaScript`` name tree) and embedded
    files (``/EmbeddedFiles`` tree, ``/EF`` file specs, file-attachment annotations) anywhere in
    the file, plus the catalogue's ``/OpenAction``. Bounded by ``MAX_OBJECTS``."""
    warnings = warnings if warnings is not None else Warnings()
    flags = ObjectFlags()
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        flags.javascript |= "/JavaScript" in names
        flags.embedded_files |= "/EmbeddedFiles" in names
    open_action = root.get("/OpenAction")
    if open_action is not None:
        flags.open_action = True
        kind = open_action.get("/S") if isinstance(open_action, pikepdf.Dictionary) else None
        warnings.add(f"document has an /OpenAction ({kind or 'go to a page'})")
    for count, obj in enumerate(_dictionaries(pdf)):
        if count >= MAX_OBJECTS:
            warnings.add(f"object scan stopped after {MAX_OBJECTS} objects")
            break
        if "/JS" in obj or obj.get("/S") == "/JavaScript":
            flags.javascript = True
        if "/EF" in obj or obj.get("/Subtype") in ("/FileAttachment", "/EmbeddedFile"):
            flags.embedded_files = True
        if flags.javascript and flags.embedded_files:
            break
    return flags


def _dictionaries(pdf: pikepdf.Pdf) -> Iterator[Any]:
    """Every dictionary and stream of the file: the indirect objects and the direct
    dictionaries nested in them (an annotation's ``/A`` action is usually direct)."""
    try:
        for obj in pdf.objects:
            yield from _nested(obj, 0)
    except (pikepdf.PdfError, RuntimeError):
        return


def _nested(obj: Any, depth: int) -> Iterator[Any]:
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        yield obj
        children: Any = obj.values()
    elif isinstance(obj, pikepdf.Array):
        children = obj
    else:
        return
    if depth >= MAX_FORM_DEPTH:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
            yield from _nested(child, depth + 1)


def xmp_packet(pdf: pikepdf.Pdf, warnings: Warnings) -> str | None:
    """The catalogue's XMP packet as text (``None`` when there is none, or it is over
    ``MAX_XMP_BYTES``)."""
    metadata = pdf.Root.get("/Metadata")
    if not isinstance(metadata, pikepdf.Stream):
        return None
    try:
        length = int(metadata.get("/Length", 0))
        if length > MAX_XMP_BYTES:
            warnings.add(f"XMP packet of {length} bytes not read (limit {MAX_XMP_BYTES})")
            return None
        data = metadata.read_bytes()
    except (pikepdf.PdfError, ValueError, TypeError) as exc:
        warnings.add(f"XMP packet cannot be read: {exc}")
        return None
    return data[:MAX_XMP_BYTES].decode("utf-8", errors="replace")


def document_info(reader: pypdf.PdfReader, warnings: Warnings) -> dict[str, str]:
    """The document info dictionary, keys without the slash, each value cut at
    ``MAX_INFO_VALUE`` characters (100 entries at most)."""
    try:
        info = reader.metadata
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        warnings.add(f"document info cannot be read: {exc}")
        return {}
    if not info:
        return {}
    out: dict[str, str] = {}
    for key, value in list(info.items())[:100]:
        try:
            text = str(value.get_object() if hasattr(value, "get_object") else value)
        except (PyPdfError, ValueError):
            continue
        out[str(key).lstrip("/")] = text[:MAX_INFO_VALUE]
    return out


def pdf_version(reader: pypdf.PdfReader, pdf: pikepdf.Pdf) -> str | None:
    """The effective version: the header's, or the catalogue's /Version when higher."""
    header = reader.pdf_header.removeprefix("%PDF-").strip() or None
    catalog = pdf.Root.get("/Version")
    if isinstance(catalog, pikepdf.Name):
        declared = str(catalog).lstrip("/")
        if header is None or _version_key(declared) > _version_key(header):
            return declared
    return header


def _version_key(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.split("."))
    except ValueError:
        return (0,)

"""Offline XSD validation against the vendored official schemas (schemas/xsd/).

Schemas are compiled from a driver schema whose imports are resolved *only* through
``schemas/xsd/catalog.xml``: the parser has ``no_network=True``, and an import whose URL is
not in the catalog (or a local path outside schemas/xsd/) is refused and reported, never
fetched. Refusing matters: libxml2 merely *skips* an import it cannot load, after which
the content of that namespace would no longer be checked at all.

Compiled schemas are cached per process. lxml keeps the last error log on the schema
object, so each validation runs under that schema's lock (Prefect's default task runner
uses threads).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lxml import etree

if TYPE_CHECKING:  # the resolver's result type exists in the lxml stubs only
    from lxml.etree._docloader import _InputDocument

from archive_ingest.errors import PackageError
from archive_ingest.resources import schemas_dir

CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"

#: driver schema (or official schema) per record kind, relative to schemas/xsd/
SCHEMA_FILES = {
    "mets": "mets-driver.xsd",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
}


def xsd_dir() -> Path:
    return schemas_dir() / "xsd"


def hardened_parser() -> etree.XMLParser:
    """The parser for anything that is not our own schema: no network, no entities, no DTD."""
    return etree.XMLParser(
        no_network=True,
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


@lru_cache(maxsize=1)
def catalog() -> dict[str, Path]:
    """``systemId`` -> local file, from schemas/xsd/catalog.xml."""
    base = xsd_dir()
    tree = etree.parse(str(base / "catalog.xml"), hardened_parser())
    mapping: dict[str, Path] = {}
    for entry in tree.getroot().iter(f"{{{CATALOG_NS}}}system"):
        target = (base / entry.get("uri", "")).resolve()
        if not target.is_file() or not target.is_relative_to(base.resolve()):
            raise PackageError(f"schemas/xsd/catalog.xml names a missing schema file: {target}")
        mapping[entry.get("systemId", "")] = target
    return mapping


class _CatalogResolver(etree.Resolver):
    """Resolves schema imports through the catalog; records every URL it refuses."""

    def __init__(self, mapping: dict[str, Path], root: Path) -> None:
        super().__init__()
        self.mapping = mapping
        self.root = root.resolve()
        self.refused: list[str] = []
        self.requested: list[str] = []

    def resolve(
        self, system_url: str | None, public_id: str | None, context: object
    ) -> _InputDocument | None:
        system_url = system_url or ""
        self.requested.append(system_url)
        if system_url in self.mapping:
            return self.resolve_filename(str(self.mapping[system_url]), context)
        parts = urlsplit(system_url)
        if parts.scheme in ("", "file"):
            path = Path(unquote(parts.path) if parts.scheme == "file" else system_url).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                return self.resolve_filename(str(path), context)
        self.refused.append(system_url)
        # An empty schema document: the import fails here, loudly, instead of a download.
        return self.resolve_string("<refused/>", context)


@dataclass
class _Compiled:
    schema: etree.XMLSchema
    lock: threading.Lock


def compile_schema(location: str, root: Path | None = None) -> tuple[etree.XMLSchema, list[str]]:
    """Compile one schema (a catalog URL or a path) offline; returns it and every URL asked for.

    Local files are allowed only under ``root`` (default schemas/xsd/). Raises
    :class:`PackageError` when an import is not in the catalog or the schema is broken.
    """
    base = root or xsd_dir()
    mapping = catalog()
    path = mapping[location] if location in mapping else base / location
    resolver = _CatalogResolver(mapping, base)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(resolver)
    try:
        schema = etree.XMLSchema(etree.parse(str(path), parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        refused = f" (refused: {', '.join(resolver.refused)})" if resolver.refused else ""
        raise PackageError(f"cannot compile the schema {path.name}: {exc}{refused}") from exc
    if resolver.refused:
        raise PackageError(
            f"the schema {path.name} imports {', '.join(resolver.refused)}, which "
            "schemas/xsd/catalog.xml does not map to a local file (schemas are never fetched)"
        )
    return schema, resolver.requested


@cache
def _compiled(kind: str) -> _Compiled:
    schema, _ = compile_schema(SCHEMA_FILES[kind])
    return _Compiled(schema, threading.Lock())


def parse_record(xml: bytes, what: str) -> etree._ElementTree:
    """Parse record bytes with the hardened parser; refuse DTDs and malformed XML."""
    if not isinstance(xml, bytes):
        raise PackageError(f"{what} must be bytes, not {type(xml).__name__}")
    try:
        root = etree.fromstring(xml, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"{what} is not well-formed XML: {exc}") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise PackageError(f"{what} has a DOCTYPE; records never carry one")
    return tree


def xsd_errors(tree: etree._ElementTree, kind: str) -> list[str]:
    """Every XSD error of ``tree`` against the ``kind`` schema, as ``line N: message``."""
    compiled = _compiled(kind)
    with compiled.lock:
        if compiled.schema.validate(tree):
            return []
        log = list(compiled.schema.error_log)
    return [f"line {entry.line}: {entry.message}" for entry in log]

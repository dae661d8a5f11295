"""The vendored XSDs: complete, offline, provenance recorded, and refusing any download."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive_ingest.errors import PackageError
from archive_ingest.records.schemas import SCHEMA_FILES, catalog, compile_schema, xsd_dir

README = xsd_dir() / "README.md"


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schemas_compile_from_local_files_only(kind: str) -> None:
    _, requested = compile_schema(SCHEMA_FILES[kind])
    mapping = catalog()
    root = xsd_dir().resolve()
    for url in requested:
        if urlsplit(url).scheme in ("http", "https"):
            assert url in mapping, f"{url} would have been fetched"
        else:
            assert Path(url).resolve().is_relative_to(root)
    # the METS driver really pulls in every namespace it must check
    if kind == "mets":
        for needed in ("mets-1-12-1.xsd", "premis-v3-0.xsd", "mods-3-8.xsd", "dcterms.xsd"):
            assert any(needed in str(mapping.get(u, u)) for u in requested), needed


def test_an_import_outside_the_catalog_is_refused_not_fetched(tmp_path: Path) -> None:
    probe = tmp_path / "probe.xsd"
    probe.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:import namespace="urn:x" schemaLocation="http://127.0.0.1:9/never.xsd"/>'
        "</xs:schema>"
    )
    with pytest.raises(PackageError, match=r"127\.0\.0\.1:9/never\.xsd"):
        compile_schema(str(probe), root=tmp_path)


def test_a_local_file_outside_the_schema_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "other.xsd"
    outside.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')
    (tmp_path / "schemas").mkdir()
    probe = tmp_path / "schemas" / "probe.xsd"
    probe.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="urn:y" schemaLocation="{outside}"/>'
        "</xs:schema>"
    )
    with pytest.raises(PackageError, match=r"other\.xsd"):
        compile_schema(str(probe), root=tmp_path / "schemas")


def _readme_hashes() -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", README.read_text(), re.M)
    return dict(rows)


def test_every_vendored_file_has_provenance_and_an_unchanged_hash() -> None:
    hashes = _readme_hashes()
    vendored = sorted(
        str(p.relative_to(xsd_dir()))
        for p in xsd_dir().rglob("*")
        if p.is_file() and p.name not in ("README.md",)
    )
    assert sorted(hashes) == vendored
    for name, digest in hashes.items():
        assert hashlib.sha256((xsd_dir() / name).read_bytes()).hexdigest() == digest, name


def test_catalog_points_only_at_vendored_files() -> None:
    root = xsd_dir().resolve()
    for url, path in catalog().items():
        assert urlsplit(url).scheme in ("http", "https")
        assert path.is_file() and path.is_relative_to(root)

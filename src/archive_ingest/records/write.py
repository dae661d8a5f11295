"""The only side effects of the records package: writing files into a package's ``data/``.

Two steps because of a chicken-and-egg: the METS lists the raw metadata files with their
digests, so those must be on disk (and identified) before the METS can be built.

1. :func:`write_raw_metadata` puts every publisher response, verbatim, at
   ``data/source-metadata/<name>`` (the caller then hashes and identifies them into
   ``FileInfo(role="source-metadata")``);
2. :func:`write_records` builds, validates and writes ``data/dc.xml`` and
   ``data/mets.xml``.

Writes go to a temporary file in the same directory, then ``os.replace``: a crash never
leaves half a record. An existing file with *different* bytes is refused, not replaced.
"""

from __future__ import annotations

from pathlib import Path

from archive_ingest.errors import PackageError
from archive_ingest.models import SourceRecord
from archive_ingest.records.dc import build_dc
from archive_ingest.records.mets import build_mets
from archive_ingest.records.model import PackageDescription
from archive_ingest.records.plan import DC_FILENAME, METS_FILENAME, raw_metadata_path
from archive_ingest.records.validate import validate_dc, validate_mets
from archive_ingest.reliability.crashpoints import crashpoint
from archive_ingest.workspace import atomic_write_bytes


def _write_once(path: Path, content: bytes) -> Path:
    if path.exists():
        if path.read_bytes() == content:
            return path
        raise PackageError(f"{path} exists with different content; a package is never rewritten")
    atomic_write_bytes(path, content)
    return path


def write_raw_metadata(record: SourceRecord, data_dir: Path) -> list[Path]:
    """Write each of the record's raw publisher responses verbatim under ``data_dir``."""
    return [
        _write_once(data_dir / raw_metadata_path(raw.name), raw.content)
        for raw in record.raw_metadata
    ]


def write_records(desc: PackageDescription, data_dir: Path) -> tuple[Path, Path]:
    """Build, validate and write ``dc.xml`` and ``mets.xml``; returns their paths."""
    dc_xml = build_dc(desc)
    validate_dc(dc_xml)
    mets_xml = build_mets(desc)
    validate_mets(mets_xml)
    dc_path = _write_once(data_dir / DC_FILENAME, dc_xml)
    crashpoint("mid-records")
    return dc_path, _write_once(data_dir / METS_FILENAME, mets_xml)

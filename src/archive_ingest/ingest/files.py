"""Derivative files a stage writes into the payload: digested once and identified."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from archive_ingest.digests import digest_file
from archive_ingest.formats import identify
from archive_ingest.models import FileInfo

#: the roles of the files a stage derives (``FileInfo.role`` without the fetched ones)
DerivativeRole = Literal["access", "text", "ocr-page", "record", "ocr-report"]


def identify_new(data: Path, rel: str, role: DerivativeRole, media_type: str) -> FileInfo:
    """Digest (once: the file was just written) and identify a derivative."""
    fmt = identify(data / rel)
    return FileInfo(
        role=role,
        path=rel,
        digests=digest_file(data / rel),
        media_type=fmt.media_type or media_type,
        puid=fmt.puid,
        format_name=fmt.format_name,
        format_version=fmt.format_version,
        identified_by=f"{fmt.tool} {fmt.tool_version}",
    )

"""The access copy of a version and where it is stored: which file the route may serve
(:func:`served_access_file`), every verified copy holding it in the targets' order
(:func:`find_access_copy`), and :class:`CopyReader`, which checks a copy with a HEAD and
streams byte ranges from it, going on from the next copy when one fails mid-way
(web/access.py describes the rules)."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select

from archive_ingest.catalogue.copies import copies_of, objects_of_copy
from archive_ingest.catalogue.schema import File, Version
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.oai.tables import OaiRecord
from archive_ingest.settings import Settings
from archive_ingest.storage.s3 import S3Client, client_config, make_client

log = logging.getLogger(__name__)

#: version states whose bytes are stored and verified on at least one target
SERVED_STATES = frozenset({"deposited", "under_replicated"})
CHUNK = 32 * 1024
#: a target that does not answer costs seconds, not the client's patience
READ_CONFIG = client_config(max_attempts=2, connect_timeout=3, read_timeout=30)
#: what a failing target raises while it opens or streams an object
_READ_ERRORS = (BotoCoreError, ClientError, OSError, ArchiveIngestError)


@dataclass(frozen=True)
class Source:
    """One verified copy's object holding the access file."""

    target: str
    bucket: str
    key: str
    version_id: str | None


@dataclass(frozen=True)
class AccessCopy:
    record_id: str
    version: int
    size: int
    sha256: str
    sources: tuple[Source, ...]

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'

    @property
    def filename(self) -> str:
        # the record id's syntax ([a-z0-9._-]) needs no quoting in a header
        return f"{self.record_id}-v{self.version}.pdf"


def served_access_file(catalogue: Catalogue, record_id: str, version: int) -> File | None:
    """The access file of ``record_id``'s ``version`` if the route may serve it, else None."""
    with catalogue.session() as session:
        exposed = session.get(OaiRecord, record_id)
        if (
            exposed is None
            or exposed.deleted
            or not exposed.access_copy
            or version > exposed.version
        ):
            return None
        row = session.scalars(
            select(Version).where(Version.item_id == record_id, Version.version == version)
        ).first()
        if row is None or row.state not in SERVED_STATES:
            return None
        files = list(
            session.scalars(
                select(File).where(
                    File.item_id == record_id, File.version == version, File.role == "access"
                )
            )
        )
        if len(files) != 1 or files[0].media_type != "application/pdf" or files[0].size <= 0:
            return None
        session.expunge(files[0])
        return files[0]


def find_access_copy(
    catalogue: Catalogue, views: dict[str, Settings], record_id: str, version: int
) -> AccessCopy | None:
    """What the route serves for ``record_id`` v``version``, with every verified copy that
    holds it, in the targets' order (``views``); None when there is nothing to serve."""
    access = served_access_file(catalogue, record_id, version)
    if access is None:
        return None
    path = f"data/{access.path}"
    verified = {
        c.target for c in copies_of(catalogue, record_id, version) if c.status == "verified"
    }
    sources: list[Source] = []
    for target, view in views.items():
        if target not in verified:
            continue
        for obj in objects_of_copy(catalogue, record_id, version, target):
            if obj.path == path and (obj.size, obj.sha256) == (access.size, access.sha256):
                sources.append(Source(target, view.s3_bucket, obj.key, obj.version_id))
                break
    if not sources:
        return None
    return AccessCopy(record_id, version, access.size, access.sha256, tuple(sources))


class NoCopyAnswers(Exception):
    """No verified copy gave the bytes asked for (503)."""


class CopyReader:
    """Opens byte ranges of a copy's object on the targets, one S3 client per target."""

    def __init__(self, views: dict[str, Settings]) -> None:
        self.views = views
        self._clients: dict[str, S3Client] = {}
        self._lock = threading.Lock()

    def client(self, target: str) -> S3Client:
        with self._lock:
            if target not in self._clients:
                self._clients[target] = make_client(self.views[target], config=READ_CONFIG)
            return self._clients[target]

    def check(self, copy: AccessCopy, source: Source) -> None:
        """Raises unless ``source``'s object is the access file: its size, and its SHA-256 when
        the server keeps a full-object one (a HEAD; nothing is re-hashed)."""
        args: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
        if source.version_id:
            args["VersionId"] = source.version_id
        head = self.client(source.target).head_object(ChecksumMode="ENABLED", **args)
        if int(head.get("ContentLength", -1)) != copy.size:
            raise ArchiveIngestError(
                f"{source.target}: {source.key} is {head.get('ContentLength')} bytes, "
                f"not {copy.size}"
            )
        server_sum = head.get("ChecksumSHA256")
        if server_sum and head.get("ChecksumType") != "COMPOSITE":
            expected = base64.b64encode(bytes.fromhex(copy.sha256)).decode("ascii")
            if server_sum != expected:
                raise ArchiveIngestError(
                    f"{source.target}: {source.key} has SHA-256 {server_sum}, "
                    f"not the access file's {expected}"
                )

    def open(self, source: Source, start: int, end: int) -> Any:
        """The body of bytes ``start``..``end`` of ``source``'s object; raises when the target
        does not answer or answers with another length than asked."""
        args: dict[str, Any] = {
            "Bucket": source.bucket,
            "Key": source.key,
            "Range": f"bytes={start}-{end}",
        }
        if source.version_id:
            args["VersionId"] = source.version_id
        response = self.client(source.target).get_object(**args)
        body = response["Body"]
        if int(response.get("ContentLength", -1)) != end - start + 1:
            body.close()
            raise ArchiveIngestError(
                f"{source.target}: {source.key} answered {response.get('ContentLength')} bytes "
                f"for a range of {end - start + 1}"
            )
        return body

    def first_open(
        self, copy: AccessCopy, start: int, end: int, after: int = -1
    ) -> tuple[int, Any]:
        """``(index, body)`` of the first source after ``after`` that opens."""
        for index in range(after + 1, len(copy.sources)):
            source = copy.sources[index]
            try:
                self.check(copy, source)
                return index, self.open(source, start, end)
            except _READ_ERRORS as exc:
                log.warning(
                    "access copy of %s v%s: %s does not serve it (%s)",
                    copy.record_id,
                    copy.version,
                    source.target,
                    exc,
                )
        raise NoCopyAnswers

    def stream(
        self, copy: AccessCopy, start: int, end: int, index: int, body: Any
    ) -> Iterator[bytes]:
        """Bytes ``start``..``end``, in chunks; a copy failing mid-way is replaced by the next
        one from the byte reached. When none is left the response ends short (the client
        sees fewer bytes than its Content-Length)."""
        position = start
        try:
            while position <= end:
                try:
                    chunk = body.read(min(CHUNK, end - position + 1))
                except _READ_ERRORS as exc:
                    log.warning(
                        "access copy of %s v%s: %s failed at byte %d (%s)",
                        copy.record_id,
                        copy.version,
                        copy.sources[index].target,
                        position,
                        exc,
                    )
                    chunk = b""
                if not chunk:
                    body.close()
                    try:
                        index, body = self.first_open(copy, position, end, after=index)
                    except NoCopyAnswers:
                        log.error(
                            "access copy of %s v%s: no copy left at byte %d",
                            copy.record_id,
                            copy.version,
                            position,
                        )
                        return
                    continue
                position += len(chunk)
                yield chunk
        finally:
            body.close()

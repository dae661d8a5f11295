"""Real damage to stored AIPs, for the audit and repair tests.

Every helper harms one object of one real SeaweedFS server the way the world does, never
through the code under test:

- :func:`flip_stored_bytes`: bit rot. One byte of the object's bytes is flipped *on disk*, in
  the server's volume files (``*.dat``), under an intact ETag and checksum attribute: a HEAD
  still says all is well, only a GET (a full re-hash) can tell. SeaweedFS keeps a CRC-32C per
  needle (right after the needle's body, big-endian); by default the helper rewrites it to
  match, so the GET returns the rotten bytes at once (rot the server cannot see). With
  ``fix_crc=False`` the server's CRC catches it and the GET fails (an InternalError, after
  SeaweedFS's own retries: about 25 s). Either way the helper checks the GET really changed.
- :func:`delete_behind_back`: a delete through the raw S3 API with the admin role (a delete
  marker on top; the locked version stays underneath).
- :func:`overwrite_behind_back`: a new version on top of the key, with the admin role.
- :func:`edit_receipt`: the receipt read, one digest changed, written back as a new version.

Use unique payloads (random bytes) so that a flip never lands in another test's object: the
servers of ``seaweed_trio`` are shared by the whole session.
"""

from __future__ import annotations

import json
import mmap
import struct
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from archive_ingest.storage.s3 import client_config, make_client_for
from tests.support.plugins.storage import SeaweedServer

#: how much of the payload must match on disk to call it found (unique random bytes)
PROBE_BYTES = 64


#: a SeaweedFS needle's header: cookie (4), needle id (8), body size (4); the body then starts
#: with the data size (4) and the data; the CRC-32C of the data follows the body
_HEADER = struct.Struct(">IQI")
_DATA_SIZE = struct.Struct(">I")


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as SeaweedFS stores it per needle (pure Python: test sizes)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class DamageError(AssertionError):
    """The damage could not be done as asked (the test would prove nothing)."""


def _locate(data_dir: Path, data: bytes) -> tuple[Path, int]:
    """Where the whole of ``data`` lies in the volume files (found by its first bytes, then
    compared whole: PDFs of one producer share their first bytes)."""
    probe = data[:PROBE_BYTES]
    hits: list[tuple[Path, int]] = []
    for dat in sorted(data_dir.rglob("*.dat")):
        if dat.stat().st_size == 0:
            continue
        with dat.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            start = view.find(probe)
            while start != -1:
                if view[start : start + len(data)] == data:  # the whole object, not a header
                    hits.append((dat, start))
                start = view.find(probe, start + 1)
    if not hits:
        raise DamageError(
            f"the object's bytes were not found whole in the volume files under {data_dir} "
            "(compressed, or chunked? use random, incompressible bytes)"
        )
    if len(hits) > 1:
        raise DamageError(
            f"the object's bytes occur whole {len(hits)} times in the volume files: "
            "use a unique payload"
        )
    return hits[0]


def _get(server: SeaweedServer, key: str, version_id: str | None) -> bytes | None:
    """The object's bytes as a GET returns them now, or None when the GET fails."""
    args: dict[str, str] = {"Bucket": server.bucket, "Key": key}
    if version_id:
        args["VersionId"] = version_id
    keys = server.credentials.admin
    once = make_client_for(
        server.endpoint,
        keys.access_key_id,
        keys.secret_access_key.get_secret_value(),
        config=client_config(max_attempts=1),
    )
    try:
        body: bytes = once.get_object(**args)["Body"].read()
    except (ClientError, BotoCoreError):
        return None
    return body


def flip_stored_bytes(
    server: SeaweedServer,
    data: bytes,
    *,
    key: str | None = None,
    version_id: str | None = None,
    offset: int | None = None,
    fix_crc: bool = True,
) -> int:
    """Flip one byte of the stored object whose content is ``data`` in place, on disk.

    ``data`` must be unique in the server (random bytes, at least :data:`PROBE_BYTES` long).
    The byte at ``offset`` into the object (default: the middle) is XORed with 0xFF. With
    ``key`` (and ``version_id``), checks that a GET now returns other bytes or fails, and
    raises :class:`DamageError` otherwise. ``fix_crc`` rewrites the needle's CRC to match the
    rotten bytes (the GET then returns them); without it the GET fails, slowly. Returns the
    offset flipped."""
    if len(data) < PROBE_BYTES:
        raise DamageError(f"payload too short to find on disk: use >= {PROBE_BYTES} bytes")
    where = len(data) // 2 if offset is None else offset
    if not 0 <= where < len(data):
        raise DamageError(f"offset {where} outside the object ({len(data)} bytes)")
    dat, start = _locate(server.local.data_dir, data)
    volume = dat.read_bytes()
    header = start - _DATA_SIZE.size - _HEADER.size
    _, _, body_size = _HEADER.unpack_from(volume, header)
    (data_size,) = _DATA_SIZE.unpack_from(volume, header + _HEADER.size)
    crc_at = header + _HEADER.size + body_size
    if data_size != len(data) or _DATA_SIZE.unpack_from(volume, crc_at)[0] != crc32c(data):
        raise DamageError(f"the object is not one whole needle in {dat.name}")
    rotten = bytearray(data)
    rotten[where] ^= 0xFF
    with dat.open("r+b") as fh:
        fh.seek(start + where)
        fh.write(rotten[where : where + 1])
        if fix_crc:
            fh.seek(crc_at)
            fh.write(_DATA_SIZE.pack(crc32c(bytes(rotten))))
        fh.flush()
    if key is not None:
        now = _get(server, key, version_id)
        if now == data:
            raise DamageError(f"a GET of {key} still returns the original bytes after the flip")
    return where


def delete_behind_back(server: SeaweedServer, key: str) -> str | None:
    """Delete ``key`` through the raw S3 API with the admin role; S3 puts a delete marker on
    top (the locked version underneath stays). Returns the marker's VersionId."""
    response = server.client("admin").delete_object(Bucket=server.bucket, Key=key)
    marker = response.get("VersionId")
    return str(marker) if marker else None


def overwrite_behind_back(server: SeaweedServer, key: str, data: bytes) -> str | None:
    """Write ``data`` as a new version on top of ``key`` with the admin role. Returns the new
    VersionId."""
    response = server.client("admin").put_object(Bucket=server.bucket, Key=key, Body=data)
    version = response.get("VersionId")
    return str(version) if version else None


def edit_receipt(server: SeaweedServer, key: str, *, field: str | None = None) -> bytes:
    """GET the receipt at ``key``, change one thing, PUT it back with the admin role.

    By default the first object's sha256 gets its first hex digit changed (a receipt that
    lies about a digest, its signature left as it was); ``field`` names a top-level string
    field to change instead. Returns the edited bytes as stored."""
    admin = server.client("admin")
    raw = admin.get_object(Bucket=server.bucket, Key=key)["Body"].read()
    document = json.loads(raw)
    if field is None:
        obj = document["objects"][0]
        digest = str(obj["sha256"])
        obj["sha256"] = ("0" if digest[0] != "0" else "1") + digest[1:]
    else:
        document[field] = f"{document.get(field)}-edited"
    edited = (json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()
    if edited == raw:
        raise DamageError("the edit changed nothing")
    admin.put_object(Bucket=server.bucket, Key=key, Body=edited)
    return edited

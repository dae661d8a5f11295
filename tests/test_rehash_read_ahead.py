"""The re-hash's read-ahead (storage/hashing.py), without a server: the digests are those of
the bytes whatever the chunking and threads; an error of the body's read (botocore's own
truncated-body check on a real ``StreamingBody``, an OSError) reaches the caller's thread
unchanged; a caller that stops early leaves no reader thread behind; memory stays bounded."""

from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest
from botocore.exceptions import IncompleteReadError
from botocore.response import StreamingBody

from archive_ingest.storage.hashing import hash_body, read_ahead

DATA = os.urandom(300_000)


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "body-read-ahead"]


@pytest.mark.parametrize("parallel", [True, False])
def test_digests_of_every_chunking(parallel: bool) -> None:
    for chunk_size in (4096, 65_536, 1 << 20):
        got = hash_body(
            io.BytesIO(DATA), digests="both", parallel=parallel, chunk_size=chunk_size, depth=2
        )
        assert (got.size, got.sha256, got.sha512) == (
            len(DATA),
            hashlib.sha256(DATA).hexdigest(),
            hashlib.sha512(DATA).hexdigest(),
        )
    only = hash_body(io.BytesIO(DATA), digests="sha256", chunk_size=65_536)
    assert (only.size, only.sha256, only.sha512) == (
        len(DATA),
        hashlib.sha256(DATA).hexdigest(),
        None,
    )
    assert hash_body(io.BytesIO(b"")).size == 0
    assert not _reader_threads()


def test_a_truncated_body_raises_botocores_error_in_the_callers_thread() -> None:
    body = StreamingBody(io.BytesIO(DATA[:100_000]), content_length=len(DATA))
    with pytest.raises(IncompleteReadError):
        hash_body(body, chunk_size=16_384, depth=2)
    assert not _reader_threads()


class _Failing(io.RawIOBase):
    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads == 3:
            raise OSError("connection reset")
        return b"x" * size


def test_a_read_error_midway_is_raised_not_swallowed() -> None:
    with pytest.raises(OSError, match="connection reset"):
        hash_body(_Failing(), chunk_size=1024, depth=1)
    assert not _reader_threads()


class _Endless(io.RawIOBase):
    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return b"y" * size


def test_a_caller_that_stops_early_stops_the_reader_and_memory_is_bounded() -> None:
    body = _Endless()
    chunks = read_ahead(body, chunk_size=1024, depth=2)
    for number, chunk in enumerate(chunks):
        assert len(chunk) == 1024
        if number == 5:
            break
    chunks.close()  # the generator's finally: stop the reader
    assert not _reader_threads()
    # at most depth chunks queued, one in the caller's hands and one being put
    assert body.reads <= 6 + 2 + 2

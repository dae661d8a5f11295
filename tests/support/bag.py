"""A package payload as the pipeline lays it out and the bag-info of its bag, for the bag tests;
:func:`digests_of` computes the digests a test expects with hashlib, apart from the code under
test."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

from archive_ingest.bag import BagInfo
from archive_ingest.digests import write_and_digest
from archive_ingest.models import Digests

BAGGING_DATE = dt.date(2001, 2, 3)  # deliberately not today: dates come from the record


def digests_of(data: bytes) -> Digests:
    """Size, SHA-256, SHA-512 and MD5 of ``data``."""
    return Digests(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sha512=hashlib.sha512(data).hexdigest(),
        md5=hashlib.md5(data).hexdigest(),
    )


def payload_files(seed: int = 7) -> dict[str, bytes]:
    """A package payload as the pipeline lays it out, with deterministic contents."""
    rng = random.Random(seed)
    return {
        "original/scielo-books-37t-05.pdf": b"%PDF-1.4\n" + rng.randbytes(300_000),
        "access/scielo-books-37t-05.pdf": b"%PDF-1.7\n" + rng.randbytes(1_200_000),
        "text/scielo-books-37t-05.txt": "Capítulo cinco\nTexto reconhecido.\n".encode(),
        "ocr/page-0001.hocr": b"<html><body>hocr</body></html>\n",
        "metadata/source/book.json": b'{"title": "O livro"}\n',
        "metadata/source/book-page.html": b"<html>page</html>\n",
        "dc.xml": b'<?xml version="1.0"?><dc/>\n',
        "mets.xml": b'<?xml version="1.0"?><mets/>\n',
    }


def build_payload(bag_dir: Path, files: dict[str, bytes]) -> dict[str, Digests]:
    """Write each file once and keep the digests of that one write (as the stages do)."""
    return {path: write_and_digest(bag_dir / "data" / path, data) for path, data in files.items()}


def make_info(**changes: object) -> BagInfo:
    values: dict[str, object] = {
        "source_organization": "Example Archive",
        "external_identifier": "scielo-books-37t-05",
        "external_description": "Capítulo cinco. In: O livro",
        "bagging_date": BAGGING_DATE,
        "bag_group_identifier": "scielo-books-37t",
        "internal_sender_identifier": "scielo-books:37t/05",
        "source_kind": "scielo-books-chapter",
        "version": 1,
    }
    values.update(changes)
    return BagInfo.model_validate(values)

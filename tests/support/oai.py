"""Builders for the OAI tests: a test catalogue of exposed records, inserted directly (no OCR).

Data builders shared by the tests/test_oai_*.py modules and bench/bench_oai.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from archive_ingest.catalogue.schema import Item
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.models import Identifier
from archive_ingest.oai.protocol import to_epoch
from archive_ingest.oai.sets import record_sets
from archive_ingest.oai.store import ACCESS_URL_PLACEHOLDER, publish_record
from archive_ingest.records import build_dc, build_mets
from archive_ingest.records.openaire import AccessCopy, build_openaire
from tests.support.records import chapter_description, chapter_record

BASE = dt.datetime(2026, 1, 10, 8, 0, 0, tzinfo=dt.UTC)
LICENCES = [
    "http://creativecommons.org/licenses/by-nc-sa/3.0/",
    "http://creativecommons.org/licenses/by/4.0/",
]
PUBLISHERS = ["Editora Fiocruz", "Centro Edelstein de Pesquisas Sociais"]


@dataclass(frozen=True)
class Spec:
    record_id: str
    datestamp: int
    kind: str
    licence: str
    publisher: str
    with_mets: bool
    #: an oai_openaire record and a served access copy (records published before they existed
    #: have neither)
    with_openaire: bool = True


def spec(n: int) -> Spec:
    """Record n: 2 records per minute from BASE; a mix of sources, licences, publishers."""
    return Spec(
        record_id=f"rec-{n:04d}",
        datestamp=to_epoch(BASE) + 30 * n,
        kind="scielo-article" if n % 3 == 0 else "scielo-books-chapter",
        licence=LICENCES[n % 2],
        publisher=PUBLISHERS[(n // 2) % 2],
        with_mets=True,
    )


@cache
def payloads(record_id: str, licence: str, publisher: str) -> tuple[bytes, bytes]:
    record = chapter_record(
        record_id=record_id,
        publisher=publisher,
        identifiers=[Identifier(scheme="doi", value=f"10.9999/{record_id}")],
    )
    desc = chapter_description(record=record, licence_uri=licence)
    return build_dc(desc), build_mets(desc)


@cache
def openaire_payload(record_id: str, licence: str, publisher: str) -> bytes:
    """The oai_openaire record as publish_deposited stores it (URL placeholder included)."""
    record = chapter_record(
        record_id=record_id,
        publisher=publisher,
        identifiers=[Identifier(scheme="doi", value=f"10.9999/{record_id}")],
    )
    files = chapter_description(record=record, licence_uri=licence).files
    access = next(f for f in files if f.role == "access")
    copy = AccessCopy(
        ACCESS_URL_PLACEHOLDER, access.digests.size, access.media_type, access.digests.sha256
    )
    return build_openaire(record, licence_uri=licence, access=copy)


def add_record(catalogue: Catalogue, s: Spec, *, state: str = "deposited") -> None:
    now = dt.datetime.fromtimestamp(s.datestamp, dt.UTC)
    with catalogue.session() as session:
        session.add(
            Item(
                id=s.record_id,
                source=f"test:{s.record_id}",
                source_kind=s.kind,
                state=state,
                reasons=[],
                title=s.record_id,
                licence_uri=s.licence,
                current_version=1,
                deposited_version=1 if state == "deposited" else None,
                created_at=now,
                updated_at=now,
            )
        )
    if state != "deposited":
        return
    dc, mets = payloads(s.record_id, s.licence, s.publisher)
    sets = record_sets(source_kind=s.kind, licence_uri=s.licence, publisher=s.publisher)
    publish_record(
        catalogue,
        s.record_id,
        1,
        dc,
        mets if s.with_mets else None,
        sets,
        s.datestamp,
        openaire_xml=(
            openaire_payload(s.record_id, s.licence, s.publisher) if s.with_openaire else None
        ),
        access_copy=s.with_openaire,
    )


def build_catalogue(url: str, count: int) -> tuple[Catalogue, list[Spec]]:
    """``count`` deposited records plus one in review and one rejected (never exposed)."""
    catalogue = Catalogue.open(url)
    specs = [spec(n) for n in range(count)]
    for s in specs:
        add_record(catalogue, s)
    add_record(catalogue, spec(9000), state="needs_review")
    add_record(catalogue, spec(9001), state="rejected")
    return catalogue, specs

"""METS records in OAI-PMH responses: XML IDs scoped per record, so a ListRecords page holds many
METS and stays one valid document; and a byte budget ends pages of large METS early."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree

from archive_ingest.oai import queries
from archive_ingest.oai.mets_ids import id_prefix, scope_ids
from archive_ingest.oai.validate import response_errors
from archive_ingest.oai.web import oai_router
from archive_ingest.records.validate import check_mets_profile
from archive_ingest.settings import Settings
from tests.support.oai import build_catalogue, payloads

OAI = "{http://www.openarchives.org/OAI/2.0/}"
METS = "{http://www.loc.gov/METS/}mets"
COUNT = 7


def _ids(root: etree._Element) -> set[str]:
    return {e.get("ID") for e in root.iter(etree.Element) if e.get("ID")}


def test_scoped_mets_keeps_every_reference_and_passes_the_profile() -> None:
    _, mets = payloads("rec-0001", "http://creativecommons.org/licenses/by/4.0/", "Editora")
    scoped = scope_ids(mets, "rec-0001")
    before, after = etree.fromstring(mets), etree.fromstring(scoped)
    assert _ids(after) == {id_prefix("rec-0001") + i for i in _ids(before)}
    refs = [
        token
        for e in after.iter(etree.Element)
        for name in ("ADMID", "DMDID", "FILEID")
        for token in (e.get(name) or "").split()
    ]
    assert refs and set(refs) <= _ids(after)  # every reference still names an element
    # the profile's own checks (IDs unique, ADMID/DMDID/FILEID resolve) hold on the copy
    assert check_mets_profile(scoped) == check_mets_profile(mets) == []
    # only IDs changed: the same text, the same element names
    assert [e.tag for e in before.iter()] == [e.tag for e in after.iter()]


def test_two_records_never_share_an_id() -> None:
    lic = "http://creativecommons.org/licenses/by/4.0/"
    a = etree.fromstring(scope_ids(payloads("rec-1", lic, "p")[1], "rec-1"))
    b = etree.fromstring(scope_ids(payloads("rec-1.2", lic, "p")[1], "rec-1.2"))
    assert _ids(a) and not _ids(a) & _ids(b)


@pytest.fixture
def client_for(tmp_path: Path, home: Path) -> Iterator[object]:
    url = f"sqlite:///{tmp_path / 'oai.sqlite3'}"
    catalogue, _ = build_catalogue(url, COUNT)
    clients: list[TestClient] = []

    def make(**settings: object) -> TestClient:
        app = FastAPI()
        app.include_router(oai_router(Settings(database_url=url, **settings)))
        client = TestClient(app, base_url="http://testserver")
        clients.append(client)
        return client

    make.catalogue = catalogue  # type: ignore[attr-defined]
    yield make
    for client in clients:
        client.close()
    catalogue.close()


def _harvest(client: TestClient) -> list[int]:
    """Records per page of a whole ListRecords harvest in mets, every response XSD-valid."""
    query, per_page = "verb=ListRecords&metadataPrefix=mets", []
    while True:
        response = client.get(f"/oai?{query}")
        assert response_errors(response.content) == []
        root = etree.fromstring(response.content)
        per_page.append(len(root.findall(f".//{METS}")))
        token = root.findtext(f".//{OAI}resumptionToken")
        if not token:
            return per_page
        query = f"verb=ListRecords&resumptionToken={token}"


def test_list_records_pages_hold_many_mets(client_for) -> None:  # type: ignore[no-untyped-def]
    assert _harvest(client_for(oai_page_size=3)) == [3, 3, 1]


def test_byte_budget_ends_a_page_early_but_never_empty(client_for) -> None:  # type: ignore[no-untyped-def]
    with client_for.catalogue.session() as session:  # type: ignore[attr-defined]
        sizes = [len(queries.get_record(session, f"rec-{n:04d}").mets_xml) for n in range(COUNT)]
    size = max(sizes)
    assert 3 * min(sizes) > 2 * size  # so a budget of two of the largest never fits three
    assert _harvest(client_for(oai_page_size=5, oai_page_bytes=2 * size)) == [2, 2, 2, 1]
    assert _harvest(client_for(oai_page_size=5, oai_page_bytes=1)) == [1] * COUNT
    # oai_dc pages are unaffected by a budget their small records never reach
    response = client_for(oai_page_size=5, oai_page_bytes=2 * size).get(
        "/oai?verb=ListRecords&metadataPrefix=oai_dc"
    )
    assert len(etree.fromstring(response.content).findall(f".//{OAI}record")) == 5


def test_get_record_sends_the_scoped_copy_and_the_stored_record_is_untouched(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for()
    with client_for.catalogue.session() as session:  # type: ignore[attr-defined]
        stored = queries.get_record(session, "rec-0002").mets_xml
    response = client.get(
        "/oai?verb=GetRecord&metadataPrefix=mets&identifier=oai:archive-ingest.local:rec-0002"
    )
    assert response_errors(response.content) == []
    sent = etree.fromstring(response.content).find(f".//{METS}")
    assert sent is not None and all(i.startswith("r-rec-0002_") for i in _ids(sent))
    with client_for.catalogue.session() as session:  # type: ignore[attr-defined]
        assert queries.get_record(session, "rec-0002").mets_xml == stored
    assert "r-rec-0002_" not in stored.decode()

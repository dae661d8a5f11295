"""Real harvesters against a real server: oaipmh-scythe and pyoai harvest `archive-ingest serve`'s
app (uvicorn on 127.0.0.1) over SQLite and PostgreSQL: full ListRecords with resumption in both
formats, selective by set and by date range, GetRecord; every deposited record exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from oaipmh.client import Client
from oaipmh.metadata import MetadataReader, MetadataRegistry, oai_dc_reader
from oaipmh_scythe import Scythe

from archive_ingest.oai.validate import response_errors
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from tests.support.oai import Spec, build_catalogue
from tests.support.web import serving

COUNT = 23
PAGE = 5
REPO = "archive-ingest.local"
METS = "{http://www.loc.gov/METS/}mets"


@pytest.fixture
def served(database_url: str, home: Path) -> Iterator[tuple[str, list[Spec]]]:
    """The test catalogue behind `archive-ingest serve`'s app on a real loopback port."""
    catalogue, specs = build_catalogue(database_url, COUNT)
    catalogue.close()
    settings = Settings(database_url=database_url, oai_page_size=PAGE)
    with serving(create_app(settings)) as base:
        yield f"{base}/oai", specs


def oai_id(record_id: str) -> str:
    return f"oai:{REPO}:{record_id}"


def test_every_response_of_a_harvest_validates(served: tuple[str, list[Spec]]) -> None:
    url, _ = served
    query = {"verb": "ListRecords", "metadataPrefix": "mets"}
    pages, per_page = 0, []
    while True:
        response = httpx.get(url, params=query, timeout=30)
        assert response_errors(response.content) == []
        pages += 1
        root = etree.fromstring(response.content)
        per_page.append(len(root.findall(f".//{METS}")))
        token = root.findtext(".//{http://www.openarchives.org/OAI/2.0/}resumptionToken")
        if not token:
            break
        query = {"verb": "ListRecords", "resumptionToken": token}
    # full pages of METS, each page one valid document: XML IDs are scoped per record
    assert per_page[0] == PAGE and pages == -(-sum(per_page) // PAGE)


def test_scythe_harvests_everything_once_in_both_formats(served: tuple[str, list[Spec]]) -> None:
    url, specs = served
    expected = [oai_id(s.record_id) for s in specs]
    with Scythe(url) as scythe:
        identify = scythe.identify()
        assert identify.repositoryName and identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
        dc = list(scythe.list_records(metadata_prefix="oai_dc", ignore_deleted=False))
        assert [r.header.identifier for r in dc] == expected
        assert all(r.metadata["title"] for r in dc)
        assert len({tuple(r.metadata["identifier"]) for r in dc}) == COUNT
        mets = list(scythe.list_records(metadata_prefix="mets"))
        assert [r.header.identifier for r in mets] == expected
        assert all(r.xml.find(f".//{METS}") is not None for r in mets)

        articles = [oai_id(s.record_id) for s in specs if s.kind == "scielo-article"]
        got = [
            h.identifier
            for h in scythe.list_identifiers(
                metadata_prefix="oai_dc", set_="source:scielo-articles"
            )
        ]
        assert got == articles
        window = specs[4:15]
        got = [
            h.identifier
            for h in scythe.list_identifiers(
                metadata_prefix="oai_dc",
                from_=_stamp(window[0].datestamp),
                until=_stamp(window[-1].datestamp),
            )
        ]
        assert got == [oai_id(s.record_id) for s in window]

        record = scythe.get_record(identifier=expected[7], metadata_prefix="mets")
        assert record.header.identifier == expected[7]
        assert record.xml.find(f".//{METS}") is not None
        sets = {s.setSpec for s in scythe.list_sets()}
        assert {"source:scielo-books", "license:by-nc-sa", "publisher:editora-fiocruz"} <= sets


class _LxmlCompat:
    """pyoai 2.5.0 calls ``XPathEvaluator(...).evaluate(...)``, which lxml 6 removed (calling
    the evaluator does the same). Only pyoai's own module sees this shim; the HTTP, the XML
    and our server are untouched."""

    def __getattr__(self, name: str) -> object:
        return getattr(etree, name)

    @staticmethod
    def XPathEvaluator(*args: object, **kwargs: object) -> object:
        evaluator = etree.XPathEvaluator(*args, **kwargs)

        class _Evaluator:
            def evaluate(self, path: str) -> object:
                return evaluator(path)

            def __call__(self, path: str) -> object:
                return evaluator(path)

        return _Evaluator()


def test_pyoai_harvests_everything_once_in_both_formats(
    served: tuple[str, list[Spec]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import oaipmh.client
    import oaipmh.metadata

    monkeypatch.setattr(oaipmh.client, "etree", _LxmlCompat())
    monkeypatch.setattr(oaipmh.metadata, "etree", _LxmlCompat())
    url, specs = served
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    registry.registerReader(
        "mets",
        MetadataReader(
            fields={"objid": ("textList", "mets:mets/@OBJID")},
            namespaces={"mets": "http://www.loc.gov/METS/"},
        ),
    )
    client = Client(url, registry)  # pyoai sends POST (form-urlencoded) by default
    client.updateGranularity()
    expected = [oai_id(s.record_id) for s in specs]

    dc = list(client.listRecords(metadataPrefix="oai_dc"))
    assert [h.identifier() for h, _, _ in dc] == expected
    assert all(m.getField("title") for _, m, _ in dc)
    mets = list(client.listRecords(metadataPrefix="mets"))
    assert [h.identifier() for h, _, _ in mets] == expected
    assert all(m.getField("objid") for _, m, _ in mets)

    licensed = [oai_id(s.record_id) for s in specs if "by-nc-sa" in s.licence]
    got = [
        h.identifier()
        for h in client.listIdentifiers(metadataPrefix="mets", set="license:by-nc-sa")
    ]
    assert got == licensed
    window = specs[10:21]
    got = [
        h.identifier()
        for h in client.listIdentifiers(
            metadataPrefix="oai_dc",
            from_=_naive(window[0].datestamp),
            until=_naive(window[-1].datestamp),
        )
    ]
    assert got == [oai_id(s.record_id) for s in window]

    header, metadata, _ = client.getRecord(identifier=expected[2], metadataPrefix="oai_dc")
    assert header.identifier() == expected[2]
    assert header.datestamp() == _naive(specs[2].datestamp)
    assert metadata.getField("title")
    formats = [prefix for prefix, _, _ in client.listMetadataFormats(identifier=expected[2])]
    assert formats == ["oai_dc", "mets", "oai_openaire"]


def _stamp(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _naive(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)

"""OAI-PMH protocol tests through the real router (FastAPI TestClient), every response XSD-checked.

The catalogue is SQLite here (fast); tests/test_oai_harvesters.py runs the same data on SQLite
and PostgreSQL through a real uvicorn server and two real harvesters.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree

from archive_ingest.catalogue.store import Catalogue
from archive_ingest.oai.protocol import format_datestamp
from archive_ingest.oai.store import withdraw_record
from archive_ingest.oai.validate import response_errors
from archive_ingest.oai.web import oai_router
from archive_ingest.records.schemas import parse_record, xsd_errors
from archive_ingest.settings import Settings
from tests.support.oai import add_record, build_catalogue, spec

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/"}
REPO = "archive-ingest.local"
COUNT = 7


@pytest.fixture
def oai(tmp_path: Path, home: Path) -> Iterator[tuple[TestClient, Catalogue]]:
    url = f"sqlite:///{tmp_path / 'oai.sqlite3'}"
    catalogue, _ = build_catalogue(url, COUNT)
    settings = Settings(
        database_url=url,
        oai_page_size=3,
        oai_admin_email="archivist@example.org",
        oai_base_url="https://archive.example.org/oai",
    )
    app = FastAPI()
    app.include_router(oai_router(settings))
    with TestClient(app, base_url="http://testserver") as client:
        yield client, catalogue
    catalogue.close()


def call(client: TestClient, query: str, *, post: bool = False) -> etree._Element:
    if post:
        response = client.post(
            "/oai", content=query, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    else:
        response = client.get(f"/oai?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    errors = response_errors(response.content)
    assert errors == [], errors
    return etree.fromstring(response.content)


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall("o:error", NS)]


def ids(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//o:header/o:identifier", NS)]


def token(root: etree._Element) -> etree._Element | None:
    return root.find(".//o:resumptionToken", NS)


def harvest(client: TestClient, query: str, verb: str = "ListIdentifiers") -> list[str]:
    root = call(client, f"verb={verb}&{query}")
    seen = ids(root)
    while (tok := token(root)) is not None and tok.text:
        root = call(client, f"verb={verb}&resumptionToken={tok.text}")
        seen += ids(root)
    return seen


def oai_id(n: int) -> str:
    return f"oai:{REPO}:{spec(n).record_id}"


# --- the six verbs --------------------------------------------------------------------------
def test_identify(oai: tuple[TestClient, Catalogue]) -> None:
    root = call(oai[0], "verb=Identify")
    ident = root.find("o:Identify", NS)
    assert ident is not None
    assert ident.findtext("o:baseURL", namespaces=NS) == "https://archive.example.org/oai"
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert ident.findtext("o:adminEmail", namespaces=NS) == "archivist@example.org"
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == format_datestamp(
        spec(0).datestamp
    )
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    sample = root.findtext(
        ".//{http://www.openarchives.org/OAI/2.0/oai-identifier}sampleIdentifier"
    )
    assert sample == oai_id(0)
    request = root.find("o:request", NS)
    assert request is not None and request.get("verb") == "Identify"


def test_list_metadata_formats_all_and_per_item(oai: tuple[TestClient, Catalogue]) -> None:
    client, catalogue = oai
    root = call(client, "verb=ListMetadataFormats")
    all_formats = ["oai_dc", "mets", "oai_openaire"]
    assert [e.text for e in root.iterfind(".//o:metadataPrefix", NS)] == all_formats
    root = call(client, f"verb=ListMetadataFormats&identifier={oai_id(1)}")
    assert [e.text for e in root.iterfind(".//o:metadataPrefix", NS)] == all_formats
    no_mets = spec(50)
    add_record(
        catalogue,
        type(no_mets)(**{**no_mets.__dict__, "with_mets": False, "with_openaire": False}),
    )
    root = call(client, f"verb=ListMetadataFormats&identifier={oai_id(50)}")
    assert [e.text for e in root.iterfind(".//o:metadataPrefix", NS)] == ["oai_dc"]
    for prefix in ("mets", "oai_openaire"):
        root = call(client, f"verb=GetRecord&identifier={oai_id(50)}&metadataPrefix={prefix}")
        assert error_codes(root) == ["cannotDisseminateFormat"]


def test_list_sets_hierarchy_and_resumption(oai: tuple[TestClient, Catalogue]) -> None:
    client, _ = oai
    root = call(client, "verb=ListSets")
    specs = [e.text for e in root.iterfind(".//o:setSpec", NS)]
    tok = token(root)
    assert tok is not None and tok.text and tok.get("cursor") == "0"
    total = int(tok.get("completeListSize") or 0)
    while tok is not None and tok.text:
        root = call(client, f"verb=ListSets&resumptionToken={tok.text}")
        specs += [e.text for e in root.iterfind(".//o:setSpec", NS)]
        tok = token(root)
    assert len(specs) == total == len(set(specs))
    assert {
        "source",
        "source:scielo-books",
        "source:scielo-articles",
        "license",
        "license:by-nc-sa",
        "license:by",
        "publisher",
        "publisher:editora-fiocruz",
        "publisher:centro-edelstein-de-pesquisas-sociais",
    } == set(specs)


def test_get_record_both_formats_payloads_validate(oai: tuple[TestClient, Catalogue]) -> None:
    client, _ = oai
    root = call(client, f"verb=GetRecord&identifier={oai_id(3)}&metadataPrefix=oai_dc")
    header = root.find(".//o:header", NS)
    assert header is not None
    assert header.findtext("o:datestamp", namespaces=NS) == format_datestamp(spec(3).datestamp)
    assert "source:scielo-articles" in [e.text for e in header.iterfind("o:setSpec", NS)]
    dc = root.find(".//o:metadata/*", NS)
    assert dc is not None and dc.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert xsd_errors(parse_record(etree.tostring(dc), "dc"), "oai_dc") == []
    assert dc.findtext("dc:identifier", namespaces=NS) is not None
    root = call(client, f"verb=GetRecord&identifier={oai_id(3)}&metadataPrefix=mets")
    mets = root.find(".//o:metadata/*", NS)
    assert mets is not None and mets.tag == "{http://www.loc.gov/METS/}mets"
    assert xsd_errors(parse_record(etree.tostring(mets), "mets"), "mets") == []


def test_list_records_pages_cover_everything_once(oai: tuple[TestClient, Catalogue]) -> None:
    client, _ = oai
    root = call(client, "verb=ListRecords&metadataPrefix=oai_dc")
    assert len(root.findall(".//o:record", NS)) == 3
    tok = token(root)
    assert tok is not None and tok.get("completeListSize") == str(COUNT)
    cursors = [tok.get("cursor")]
    seen = ids(root)
    while tok is not None and tok.text:
        root = call(client, f"verb=ListRecords&resumptionToken={tok.text}", post=True)
        seen += ids(root)
        tok = token(root)
        assert tok is not None
        cursors.append(tok.get("cursor"))
    assert cursors == ["0", "3", "6"]
    assert seen == [oai_id(n) for n in range(COUNT)]
    assert len(root.findall(".//o:metadata", NS)) == 1


def test_list_identifiers_by_set_and_exact_inclusive_dates(
    oai: tuple[TestClient, Catalogue],
) -> None:
    client, _ = oai
    assert harvest(client, "metadataPrefix=mets&set=source:scielo-articles") == [
        oai_id(n) for n in (0, 3, 6)
    ]
    assert harvest(client, "metadataPrefix=oai_dc&set=license") == [oai_id(n) for n in range(COUNT)]
    lo, hi = format_datestamp(spec(2).datestamp), format_datestamp(spec(4).datestamp)
    assert harvest(client, f"metadataPrefix=oai_dc&from={lo}&until={hi}") == [
        oai_id(n) for n in (2, 3, 4)
    ]
    lo1 = format_datestamp(spec(2).datestamp + 1)
    hi1 = format_datestamp(spec(4).datestamp - 1)
    assert harvest(client, f"metadataPrefix=oai_dc&from={lo1}&until={hi1}") == [oai_id(3)]
    day = format_datestamp(spec(0).datestamp)[:10]
    assert len(harvest(client, f"metadataPrefix=oai_dc&from={day}&until={day}")) == COUNT
    root = call(client, "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2020-01-01")
    assert error_codes(root) == ["noRecordsMatch"]


def test_withdrawn_record_stays_as_deleted_header(oai: tuple[TestClient, Catalogue]) -> None:
    client, catalogue = oai
    stamp = spec(COUNT + 5).datestamp
    assert withdraw_record(catalogue, spec(1).record_id, "licence withdrawn", stamp)
    root = call(client, f"verb=GetRecord&identifier={oai_id(1)}&metadataPrefix=oai_dc")
    header = root.find(".//o:header", NS)
    assert header is not None and header.get("status") == "deleted"
    assert header.findtext("o:datestamp", namespaces=NS) == format_datestamp(stamp)
    assert root.find(".//o:metadata", NS) is None
    listed = harvest(client, "metadataPrefix=oai_dc", verb="ListRecords")
    assert listed[-1] == oai_id(1) and len(listed) == COUNT


def test_inserts_and_edits_mid_harvest_neither_skip_nor_repeat(
    oai: tuple[TestClient, Catalogue],
) -> None:
    client, catalogue = oai
    first = call(client, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    response_date = first.findtext("o:responseDate", namespaces=NS)
    assert response_date is not None
    seen = ids(first)
    # Mid-harvest: a new record, an update of a record already sent and of one not yet sent.
    now = int(dt.datetime.now(dt.UTC).timestamp())
    add_record(catalogue, type(spec(60))(**{**spec(60).__dict__, "datestamp": now}))
    withdraw_record(catalogue, spec(0).record_id, "edited", now)
    withdraw_record(catalogue, spec(5).record_id, "edited", now)
    tok = token(first)
    while tok is not None and tok.text:
        root = call(client, f"verb=ListIdentifiers&resumptionToken={tok.text}")
        seen += ids(root)
        tok = token(root)
    # This harvest is the catalogue as of its first request, minus the record that moved out
    # of its window; nothing twice.
    assert len(seen) == len(set(seen))
    assert set(seen) == {oai_id(n) for n in range(COUNT) if n != 5}
    # The next incremental harvest from the first responseDate gets exactly the changes
    # (once their second is complete: a harvest never includes the second it runs in).
    while int(time.time()) <= now:
        time.sleep(0.05)
    later = harvest(client, f"metadataPrefix=oai_dc&from={response_date}")
    assert sorted(later) == [oai_id(0), oai_id(5), oai_id(60)]


# --- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "badVerb"),
        ("verb=Frobnicate", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=Identify&set=x", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01&until=2026-01-02T00:00:00Z",
            "badArgument",
        ),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01T00:00:00", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-01&until=2026-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=abc", "badArgument"),
        ("verb=ListIdentifiers&metadataPrefix=", "badArgument"),
        ("verb=GetRecord&identifier=oai:archive-ingest.local:rec-0001", "badArgument"),
        ("verb=ListSets&set=source", "badArgument"),
        ("verb=ListRecords&resumptionToken=abc.def", "badResumptionToken"),
        ("verb=ListSets&resumptionToken=%3Cx%3E", "badResumptionToken"),
        ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
        (
            "verb=GetRecord&identifier=oai:archive-ingest.local:rec-0001&metadataPrefix=marc21",
            "cannotDisseminateFormat",
        ),
        (
            "verb=GetRecord&identifier=oai:archive-ingest.local:nope&metadataPrefix=oai_dc",
            "idDoesNotExist",
        ),
        (
            "verb=GetRecord&identifier=oai:other.repo:rec-0001&metadataPrefix=oai_dc",
            "idDoesNotExist",
        ),
        ("verb=ListMetadataFormats&identifier=oai:archive-ingest.local:nope", "idDoesNotExist"),
        (
            "verb=GetRecord&identifier=oai:archive-ingest.local:rec-9000&metadataPrefix=oai_dc",
            "idDoesNotExist",
        ),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=publisher:nobody", "noRecordsMatch"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01", "noRecordsMatch"),
    ],
)
def test_errors_are_exact_and_valid(
    oai: tuple[TestClient, Catalogue], query: str, code: str
) -> None:
    client, _ = oai
    for post in (False, True):
        root = call(client, query, post=post)
        assert error_codes(root) == [code]
        request = root.find("o:request", NS)
        assert request is not None and request.text == "https://archive.example.org/oai"
        assert root.findtext("o:responseDate", namespaces=NS)
        if code in ("badVerb", "badArgument"):
            assert dict(request.attrib) == {}
        else:
            assert request.get("verb")


def test_tampered_or_cross_verb_token_is_refused(oai: tuple[TestClient, Catalogue]) -> None:
    client, _ = oai
    tok = token(call(client, "verb=ListIdentifiers&metadataPrefix=oai_dc"))
    assert tok is not None and tok.text
    body, mac = tok.text.split(".")
    forged = ("A" if body[0] != "A" else "B") + body[1:]
    for value in (f"{forged}.{mac}", f"{body}.{mac[:-2]}xx"):
        root = call(client, f"verb=ListIdentifiers&resumptionToken={value}")
        assert error_codes(root) == ["badResumptionToken"]
    root = call(client, f"verb=ListRecords&resumptionToken={tok.text}")
    assert error_codes(root) == ["badResumptionToken"]


def test_no_sets_and_empty_repository(tmp_path: Path, home: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    Catalogue.open(url).close()
    app = FastAPI()
    app.include_router(oai_router(Settings(database_url=url)))
    with TestClient(app) as client:
        assert error_codes(call(client, "verb=ListSets")) == ["noSetHierarchy"]
        root = call(client, "verb=ListRecords&metadataPrefix=oai_dc&set=source")
        assert error_codes(root) == ["noSetHierarchy"]
        root = call(client, "verb=ListIdentifiers&metadataPrefix=oai_dc")
        assert error_codes(root) == ["noRecordsMatch"]
        assert call(client, "verb=Identify").find("o:Identify", NS) is not None


def test_oversized_post_is_a_bad_argument(oai: tuple[TestClient, Catalogue]) -> None:
    root = call(oai[0], "verb=Identify&x=" + "a" * 70_000, post=True)
    assert error_codes(root) == ["badArgument"]

"""oai_openaire (OpenAIRE Guidelines for Literature Repositories v4) and the access-copy URL.

The builder (records/openaire.py) on chapters, books and articles, every record validated
against the official 4.0 schema; publish_deposited and backfill on a real catalogue (SQLite
and PostgreSQL), the migration that adds the columns; whole responses validated against
schemas/xsd/oai-driver-openaire.xsd; oaipmh-scythe harvesting both formats from a real
server through resumption tokens; and a real ingest whose access copy a harvester reaches
through the URLs in both formats.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from lxml import etree
from oaipmh_scythe import Scythe
from sqlalchemy import inspect, select, text

from archive_ingest.access_urls import access_copy_url
from archive_ingest.catalogue.engine import MIGRATIONS
from archive_ingest.catalogue.schema import Item, Version
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.models import Creator, Identifier, PageRange, Relation, SourceRecord
from archive_ingest.oai import queries, store
from archive_ingest.oai.store import ACCESS_URL_PLACEHOLDER, publish_record, withdraw_record
from archive_ingest.oai.tables import OaiRecord
from archive_ingest.oai.validate import response_errors
from archive_ingest.records import build_dc, build_mets
from archive_ingest.records.openaire import (
    AccessCopy,
    build_openaire,
    coar_resource_type,
    licence_label,
    openaire_errors,
)
from archive_ingest.records.schemas import compile_schema
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.oai import Spec, build_catalogue
from tests.support.pipeline import ingest_in_process
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.records import CC_BY_NC_SA_30, chapter_description, chapter_record
from tests.support.samples import add_generated_book
from tests.support.web import serving

NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "oaire": "http://namespace.openaire.eu/schema/oaire/",
    "datacite": "http://datacite.org/schema/kernel-4",
    "dc": "http://purl.org/dc/elements/1.1/",
}
OAIRE = "{http://namespace.openaire.eu/schema/oaire/}resource"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
REPO = "archive-ingest.local"
CC_BY_40 = "http://creativecommons.org/licenses/by/4.0/"
T0 = dt.datetime(2026, 2, 1, 10, 0, 0, tzinfo=dt.UTC)
COPY = AccessCopy("https://archive.example.org/access/x/v1", 123456, "application/pdf", "ab" * 32)


def article_record(**overrides: object) -> SourceRecord:
    values: dict[str, object] = {
        "record_id": "scielo-scl-s0034-89102024000100001",
        "source": "scielo-article:scl/S0034-89102024000100001",
        "source_kind": "scielo-article",
        "title": "Mortalidade materna no Brasil",
        "translated_titles": {"en": "Maternal mortality in Brazil", "es": "Mortalidad materna"},
        "creators": [
            Creator(
                name="Silva, Ana",
                affiliation="Universidade de São Paulo",
                orcid="https://orcid.org/0000-0002-1825-0097",
            ),
            Creator(name="Souza, Bruno", orcid="0000-0001-5109-3700"),
            Creator(name="Lima, Carla", orcid="not an orcid"),
        ],
        "publisher": "Faculdade de Saúde Pública da Universidade de São Paulo",
        "date": "2024-03-15",
        "languages": ["pt"],
        "identifiers": [
            Identifier(scheme="scielo-pid", value="S0034-89102024000100001"),
            Identifier(scheme="doi", value="https://doi.org/10.11606/s1518-8787.2024058005"),
            Identifier(scheme="url", value="https://www.scielo.br/j/rsp/a/abc/"),
            Identifier(scheme="issn", value="0034-8910"),
            Identifier(scheme="eissn", value="1518-8787"),
        ],
        "pages": PageRange(first="12", last="20"),
        "is_part_of": Relation(
            title="Revista de Saúde Pública",
            identifiers=(
                Identifier(scheme="issn", value="0034-8910"),
                Identifier(scheme="eissn", value="1518-8787"),
            ),
            kind="journal-issue",
            volume="58",
            issue="1",
        ),
        "description": "Estudo sobre mortalidade materna.",
        "subjects": ["mortalidade materna", "saúde pública"],
        "pdf_urls": {"pt": "https://www.scielo.br/j/rsp/a/abc/?format=pdf&lang=pt"},
        "landing_url": "https://www.scielo.br/j/rsp/a/abc/",
    }
    values.update(overrides)
    return SourceRecord(**values)  # type: ignore[arg-type]


def parsed(xml: bytes) -> etree._Element:
    errors = openaire_errors(xml)
    assert errors == [], errors
    root = etree.fromstring(xml)
    assert root.tag == OAIRE
    # mandatory in the guidelines (the schema does not check presence)
    for path in ("datacite:titles/datacite:title", "oaire:resourceType", "datacite:identifier"):
        assert root.find(path, NS) is not None, path
    assert root.find("datacite:rights", NS) is not None
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(path, NS)]


def attrs(root: etree._Element, path: str, name: str) -> list[str]:
    return [e.get(name) or "" for e in root.iterfind(path, NS)]


# --- the builder ---------------------------------------------------------------------------
def test_article_record_field_by_field() -> None:
    root = parsed(build_openaire(article_record(), licence_uri=CC_BY_40, access=COPY))
    titles = root.findall("datacite:titles/datacite:title", NS)
    assert [(t.text, t.get("titleType"), t.get(XML_LANG)) for t in titles] == [
        ("Mortalidade materna no Brasil", None, "pt"),
        ("Maternal mortality in Brazil", "TranslatedTitle", "en"),
        ("Mortalidad materna", "TranslatedTitle", "es"),
    ]
    assert texts(root, "datacite:creators/datacite:creator/datacite:creatorName") == [
        "Silva, Ana",
        "Souza, Bruno",
        "Lima, Carla",
    ]
    creators = root.findall("datacite:creators/datacite:creator", NS)
    assert texts(creators[0], "datacite:nameIdentifier") == [
        "https://orcid.org/0000-0002-1825-0097"
    ]
    assert attrs(creators[0], "datacite:nameIdentifier", "nameIdentifierScheme") == ["ORCID"]
    assert texts(creators[0], "datacite:affiliation") == ["Universidade de São Paulo"]
    assert texts(creators[1], "datacite:nameIdentifier") == [
        "https://orcid.org/0000-0001-5109-3700"
    ]
    assert texts(creators[2], "datacite:nameIdentifier") == []  # not an ORCID iD: left out
    assert texts(root, "dc:language") == ["por"]
    assert texts(root, "dc:publisher") == [
        "Faculdade de Saúde Pública da Universidade de São Paulo"
    ]
    assert attrs(root, "datacite:dates/datacite:date", "dateType") == ["Issued"]
    assert texts(root, "datacite:dates/datacite:date") == ["2024-03-15"]
    assert attrs(root, "oaire:resourceType", "uri") == ["http://purl.org/coar/resource_type/c_6501"]
    assert attrs(root, "oaire:resourceType", "resourceTypeGeneral") == ["literature"]
    identifier = root.find("datacite:identifier", NS)
    assert identifier is not None
    assert (identifier.get("identifierType"), identifier.text) == (
        "DOI",
        "10.11606/s1518-8787.2024058005",
    )
    alternates = list(
        zip(
            attrs(root, ".//datacite:alternateIdentifier", "alternateIdentifierType"),
            texts(root, ".//datacite:alternateIdentifier"),
            strict=True,
        )
    )
    assert alternates == [
        ("SciELO PID", "S0034-89102024000100001"),
        ("URL", "https://www.scielo.br/j/rsp/a/abc/"),
        ("URL", COPY.url),
    ]
    related = list(
        zip(
            attrs(root, ".//datacite:relatedIdentifier", "relatedIdentifierType"),
            attrs(root, ".//datacite:relatedIdentifier", "relationType"),
            texts(root, ".//datacite:relatedIdentifier"),
            strict=True,
        )
    )
    assert related == [("PISSN", "IsPartOf", "0034-8910"), ("EISSN", "IsPartOf", "1518-8787")]
    assert texts(root, "oaire:citationTitle") == ["Revista de Saúde Pública"]
    assert texts(root, "oaire:citationVolume") == ["58"]
    assert texts(root, "oaire:citationIssue") == ["1"]
    assert texts(root, "oaire:citationStartPage") == ["12"]
    assert texts(root, "oaire:citationEndPage") == ["20"]
    assert texts(root, "dc:description") == ["Estudo sobre mortalidade materna."]
    assert texts(root, "datacite:subjects/datacite:subject") == [
        "mortalidade materna",
        "saúde pública",
    ]
    assert attrs(root, "datacite:rights", "rightsURI") == [
        "http://purl.org/coar/access_right/c_abf2"
    ]
    assert attrs(root, "oaire:licenseCondition", "uri") == [CC_BY_40]
    assert attrs(root, "oaire:licenseCondition", "startDate") == ["2024-03-15"]
    assert texts(root, "oaire:licenseCondition") == ["CC BY 4.0"]
    file = root.find("oaire:file", NS)
    assert file is not None and file.text == COPY.url
    assert (file.get("accessRightsURI"), file.get("mimeType"), file.get("objectType")) == (
        "http://purl.org/coar/access_right/c_abf2",
        "application/pdf",
        "fulltext",
    )
    assert texts(root, "dc:format") == ["application/pdf"]
    assert texts(root, "datacite:sizes/datacite:size") == ["123456 bytes"]
    assert root.find("oaire:fundingReferences", NS) is None  # no source maps funding


def test_chapter_book_and_file_kinds() -> None:
    chapter = parsed(build_openaire(chapter_record(), licence_uri=CC_BY_NC_SA_30, access=COPY))
    assert attrs(chapter, "oaire:resourceType", "uri") == [
        "http://purl.org/coar/resource_type/c_3248"
    ]
    # the organizers are the book's editors; the chapter's author is its creator
    assert texts(chapter, ".//datacite:creatorName") == ["Pablo"]
    assert texts(chapter, ".//datacite:contributorName") == ["Henfrey, Colin", "Sorj, Bernardo"]
    assert attrs(chapter, ".//datacite:contributor", "contributorType") == ["Editor", "Editor"]
    assert texts(chapter, ".//datacite:relatedIdentifier") == [
        "9788599662847",
        "http://books.scielo.org/id/37t",
    ]
    assert texts(chapter, "oaire:citationTitle") == ["Chilean Voices"]
    assert texts(chapter, "oaire:licenseCondition") == ["CC BY-NC-SA 3.0"]

    book = chapter_record(source_kind="scielo-books-book", is_part_of=None, pages=None)
    root = parsed(build_openaire(book, licence_uri=CC_BY_40, access=COPY))
    assert attrs(root, "oaire:resourceType", "uri") == ["http://purl.org/coar/resource_type/c_2f33"]
    assert root.find("oaire:citationTitle", NS) is None

    file = chapter_record(
        source_kind="file",
        identifiers=[Identifier(scheme="sha256", value="cd" * 32)],
        landing_url=None,
        is_part_of=None,
    )
    root = parsed(build_openaire(file, licence_uri=CC_BY_40, access=COPY))
    assert attrs(root, "oaire:resourceType", "uri") == ["http://purl.org/coar/resource_type/c_18cf"]
    identifier = root.find("datacite:identifier", NS)
    assert identifier is not None and identifier.get("identifierType") == "URL"
    assert identifier.text == COPY.url  # no DOI: the access copy is the primary identifier


@pytest.mark.parametrize(
    ("document_type", "code"),
    [
        ("editorial", "c_b239"),
        ("ed", "c_b239"),
        ("press-release", "c_1843"),
        ("pr", "c_1843"),
        ("correction", "c_1843"),
        ("addendum", "c_1843"),
        ("undefined", "c_6501"),
        ("er", "c_1843"),
        ("review-article", "c_dcae04bc"),
        ("letter", "c_545b"),
        ("book-review", "c_ba08"),
        ("research-article", "c_6501"),
        ("something-new", "c_6501"),
        (None, "c_6501"),
    ],
)
def test_document_types_map_to_coar(document_type: str | None, code: str) -> None:
    uri, _ = coar_resource_type("scielo-article", document_type)
    assert uri == f"http://purl.org/coar/resource_type/{code}"
    record = article_record(document_type=document_type)
    xml = build_openaire(record, licence_uri=CC_BY_40, access=COPY)
    assert attrs(parsed(xml), "oaire:resourceType", "uri") == [uri]


def test_no_licence_is_metadata_only_and_announces_no_file() -> None:
    root = parsed(build_openaire(article_record(), licence_uri=None, access=COPY))
    assert attrs(root, "datacite:rights", "rightsURI") == [
        "http://purl.org/coar/access_right/c_14cb"
    ]
    assert root.find("oaire:file", NS) is None
    assert root.find("oaire:licenseCondition", NS) is None
    assert COPY.url not in texts(root, ".//datacite:alternateIdentifier")


def test_licence_labels() -> None:
    assert licence_label("https://creativecommons.org/licenses/by-nc-nd/4.0/") == "CC BY-NC-ND 4.0"
    assert licence_label("http://creativecommons.org/publicdomain/zero/1.0/") == "CC0 1.0"
    assert licence_label("https://example.org/licence") == "https://example.org/licence"


def test_a_broken_record_is_caught_by_the_schema() -> None:
    xml = build_openaire(article_record(), licence_uri=CC_BY_40, access=COPY)
    bad = xml.replace(b'resourceTypeGeneral="literature"', b'resourceTypeGeneral="publication"')
    assert openaire_errors(bad) != []


# --- the catalogue: publish_deposited, backfill, the migration ----------------------------
def _deposit(
    catalogue: Catalogue, tmp_path: Path, record: SourceRecord, licence: str | None
) -> None:
    desc = chapter_description(record=record, licence_uri=licence)
    work = tmp_path / record.record_id / "v1"
    data = work / "bag" / "data"
    data.mkdir(parents=True)
    (data / "dc.xml").write_bytes(build_dc(desc))
    (data / "mets.xml").write_bytes(build_mets(desc))
    with catalogue.session() as session:
        session.add(
            Item(
                id=record.record_id,
                source=record.source,
                source_kind=record.source_kind,
                state="deposited",
                reasons=[],
                licence_uri=licence,
                licence_outcome="valid",
                current_version=1,
                deposited_version=1,
                created_at=T0,
                updated_at=T0,
            )
        )
        session.flush()
        session.add(
            Version(
                item_id=record.record_id,
                version=1,
                state="deposited",
                reasons=[],
                record=record.model_dump(mode="json", exclude={"raw_metadata"}),
                summary={},
                work_dir=str(work),
                created_at=T0,
                updated_at=T0,
            )
        )
    catalogue.add_files(record.record_id, 1, desc.files)


def _served(settings: Settings, record_id: str, prefix: str) -> etree._Element:
    with serving(create_app(settings)) as base:
        response = httpx.get(
            f"{base}/oai",
            params={
                "verb": "GetRecord",
                "identifier": f"oai:{REPO}:{record_id}",
                "metadataPrefix": prefix,
            },
            timeout=30,
        )
    assert response_errors(response.content) == []
    return etree.fromstring(response.content)


def test_publish_deposited_builds_it_from_the_catalogue(
    database_url: str, tmp_path: Path, home: Path
) -> None:
    catalogue = Catalogue.open(database_url)
    record = chapter_record(
        creators=[Creator(name="Pablo", role="author", orcid="0000-0002-1825-0097")]
    )
    _deposit(catalogue, tmp_path, record, CC_BY_NC_SA_30)
    closed = chapter_record(record_id="closed-1", source="test:closed-1")
    _deposit(catalogue, tmp_path, closed, None)
    assert store.publish_deposited(catalogue, record.record_id) is not None
    assert store.publish_deposited(catalogue, closed.record_id) is not None
    with catalogue.session() as session:
        row = session.get(OaiRecord, record.record_id)
        assert row is not None and row.access_copy and row.openaire_xml is not None
        stored = row.openaire_xml
        shut = session.get(OaiRecord, closed.record_id)
        assert shut is not None and not shut.access_copy and shut.openaire_xml is not None
    assert ACCESS_URL_PLACEHOLDER.encode() in stored
    access = next(f for f in catalogue.files(record.record_id, 1) if f.role == "access")
    catalogue.close()

    base = "https://archive.example.org/oai"
    settings = Settings(database_url=database_url, oai_base_url=base)
    url = access_copy_url(base, record.record_id, 1)
    root = _served(settings, record.record_id, "oai_openaire")
    resource = root.find(".//oaire:resource", NS)
    assert resource is not None
    assert ACCESS_URL_PLACEHOLDER not in etree.tostring(resource).decode()
    file = resource.find("oaire:file", NS)
    assert file is not None and file.text == url
    assert file.get("mimeType") == access.media_type
    assert texts(resource, "datacite:sizes/datacite:size") == [f"{access.size} bytes"]
    assert texts(resource, ".//datacite:nameIdentifier") == [
        "https://orcid.org/0000-0002-1825-0097"
    ]
    parsed(etree.tostring(resource))
    dc = _served(settings, record.record_id, "oai_dc")
    assert url in texts(dc, ".//dc:identifier")
    # not open access: no access copy announced, in either format
    dc = _served(settings, closed.record_id, "oai_dc")
    assert not any("/access/" in t for t in texts(dc, ".//dc:identifier"))
    shut_resource = _served(settings, closed.record_id, "oai_openaire")
    assert shut_resource.find(".//oaire:file", NS) is None


def test_only_the_placed_url_is_filled_in_not_a_publishers_text(
    database_url: str, tmp_path: Path, home: Path
) -> None:
    """A title quoting the placeholder keeps it; the access copy's URL goes only where the
    builder put the placeholder (oaire:file, and the URL alternate beside the DOI)."""
    catalogue = Catalogue.open(database_url)
    title = f"On {ACCESS_URL_PLACEHOLDER}"
    record = chapter_record(
        record_id="quoting-1",
        source="test:quoting-1",
        title=ACCESS_URL_PLACEHOLDER,
        translated_titles={"en": title},
    )
    _deposit(catalogue, tmp_path, record, CC_BY_NC_SA_30)
    assert store.publish_deposited(catalogue, record.record_id) is not None
    catalogue.close()
    base = "https://archive.example.org/oai"
    url = access_copy_url(base, record.record_id, 1)
    resource = _served(
        Settings(database_url=database_url, oai_base_url=base), record.record_id, "oai_openaire"
    ).find(".//oaire:resource", NS)
    assert resource is not None
    assert texts(resource, "datacite:titles/datacite:title") == [ACCESS_URL_PLACEHOLDER, title]
    assert texts(resource, "oaire:file") == [url]
    assert texts(resource, "datacite:alternateIdentifiers/datacite:alternateIdentifier")[-2:] == [
        url,
        record.landing_url,
    ]
    assert etree.tostring(resource).decode().count(ACCESS_URL_PLACEHOLDER) == 2
    parsed(etree.tostring(resource))


def test_backfill_gives_older_records_the_format_and_restamps_them(
    database_url: str, tmp_path: Path
) -> None:
    catalogue = Catalogue.open(database_url)
    old = chapter_record(record_id="old-1", source="test:old-1")
    gone = chapter_record(record_id="gone-1", source="test:gone-1")
    for record in (old, gone):
        _deposit(catalogue, tmp_path, record, CC_BY_NC_SA_30)
        desc = chapter_description(record=record)
        # as published before oai_openaire existed: oai_dc and METS only
        publish_record(catalogue, record.record_id, 1, build_dc(desc), build_mets(desc), {}, T0)
    withdraw_record(catalogue, gone.record_id, "withdrawn by the publisher", T0)
    assert store.backfill(catalogue) == 1
    assert store.backfill(catalogue) == 0
    with catalogue.session() as session:
        row = session.get(OaiRecord, old.record_id)
        assert row is not None and row.openaire_xml is not None and row.access_copy
        assert row.datestamp > int(T0.timestamp())
        withdrawn = session.get(OaiRecord, gone.record_id)
        assert withdrawn is not None and withdrawn.deleted and withdrawn.openaire_xml is None
    parsed(row.openaire_xml)
    catalogue.close()


def test_backfill_needs_the_workspace_and_keeps_what_is_exposed_without_it(
    database_url: str, tmp_path: Path
) -> None:
    """oai_dc and METS are the bag's files: a record published before oai_openaire whose
    workspace is gone is not published again by backfill; it keeps its record and datestamp."""
    catalogue = Catalogue.open(database_url)
    record = chapter_record(record_id="nowork-1", source="test:nowork-1")
    _deposit(catalogue, tmp_path, record, CC_BY_NC_SA_30)
    desc = chapter_description(record=record)
    dc = build_dc(desc)
    stamp = publish_record(catalogue, record.record_id, 1, dc, build_mets(desc), {}, T0)
    (tmp_path / record.record_id / "v1" / "bag" / "data" / "dc.xml").unlink()
    assert store.publish_deposited(catalogue, record.record_id) is None
    assert store.backfill(catalogue) == 0
    with catalogue.session() as session:
        row = session.get(OaiRecord, record.record_id)
        assert row is not None and row.openaire_xml is None and row.datestamp == stamp
        assert row.dc_xml == store.normalise_payload(dc, "dc")
    catalogue.close()


def _without_driver_values(dc_path: Path) -> None:
    """The bag's dc.xml as written before the DRIVER values existed (no info:eu-repo/*)."""
    root = etree.fromstring(dc_path.read_bytes())
    for node in list(root):
        if (node.text or "").startswith("info:eu-repo/semantics/"):
            root.remove(node)
    dc_path.write_bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def test_only_records_whose_oai_dc_says_driver_type_and_open_access_are_in_driver(
    database_url: str, tmp_path: Path
) -> None:
    catalogue = Catalogue.open(database_url)
    new = chapter_record(record_id="new-1", source="test:new-1")
    older = chapter_record(record_id="older-1", source="test:older-1")
    wrong = chapter_record(record_id="wrong-1", source="test:wrong-1")
    for record in (new, older, wrong):
        _deposit(catalogue, tmp_path, record, CC_BY_NC_SA_30)
    for record in (older, wrong):
        _without_driver_values(tmp_path / record.record_id / "v1" / "bag" / "data" / "dc.xml")
    assert not store.driver_ready((tmp_path / "older-1/v1/bag/data/dc.xml").read_bytes())
    assert store.driver_ready((tmp_path / "new-1/v1/bag/data/dc.xml").read_bytes())
    # wrong-1 as an earlier backfill published it: in driver with the older oai_dc
    assert store.publish_deposited(catalogue, wrong.record_id) is not None
    wrong_sets = dict.fromkeys(["openaire", "driver"], "x")
    dc = (tmp_path / "wrong-1/v1/bag/data/dc.xml").read_bytes()
    with catalogue.session() as session:
        row = session.get(OaiRecord, wrong.record_id)
        assert row is not None
        publish_record(
            session,
            wrong.record_id,
            1,
            dc,
            row.mets_xml,
            wrong_sets,
            T0,
            openaire_xml=row.openaire_xml,
            access_copy=row.access_copy,
        )
    assert store.backfill(catalogue) == 3  # new-1 and older-1 published, wrong-1 fixed
    assert store.backfill(catalogue) == 0
    with catalogue.session() as session:
        sets = queries.sets_of(session, [new.record_id, older.record_id, wrong.record_id])
        moved = session.get(OaiRecord, wrong.record_id)
        assert moved is not None and moved.datestamp > int(T0.timestamp())
    assert {"openaire", "driver"} <= set(sets[new.record_id])
    for record_id in (older.record_id, wrong.record_id):
        assert "openaire" in sets[record_id] and "driver" not in sets[record_id], record_id
    catalogue.close()


def test_migration_adds_the_columns_and_keeps_rows(database_url: str) -> None:
    catalogue = Catalogue.open(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with catalogue.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    columns = {c["name"] for c in inspect(catalogue.engine).get_columns("oai_records")}
    assert "openaire_xml" not in columns and "access_copy" not in columns
    with catalogue.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO oai_records (record_id, version, datestamp, deleted, dc_xml)"
                " VALUES ('before', 1, 5, :false, :dc)"
            ),
            {"false": False, "dc": b"<x/>"},
        )
    catalogue.close()
    catalogue = Catalogue.open(database_url)  # upgrades to head again
    columns = {c["name"] for c in inspect(catalogue.engine).get_columns("oai_records")}
    assert {"openaire_xml", "access_copy"} <= columns
    with catalogue.session() as session:
        row = session.scalars(select(OaiRecord)).one()
        assert (row.record_id, row.access_copy, row.openaire_xml) == ("before", False, None)
    catalogue.close()


# --- whole responses and a real harvester -------------------------------------------------
COUNT = 13
PAGE = 4
BASE_URL = "https://archive.example.org/oai"


@pytest.fixture
def served(database_url: str, home: Path) -> Iterator[tuple[str, list[Spec]]]:
    catalogue, specs = build_catalogue(database_url, COUNT)
    catalogue.close()
    settings = Settings(database_url=database_url, oai_page_size=PAGE, oai_base_url=BASE_URL)
    with serving(create_app(settings)) as base:
        yield f"{base}/oai", specs


def test_list_records_validates_against_the_openaire_driver(
    served: tuple[str, list[Spec]],
) -> None:
    url, specs = served
    driver, _ = compile_schema("oai-driver-openaire.xsd")
    query: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_openaire"}
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        response = httpx.get(url, params=query, timeout=30)
        document = etree.fromstring(response.content)
        assert driver.validate(document), driver.error_log
        assert response_errors(response.content) == []
        for resource in document.iterfind(".//oaire:resource", NS):
            parsed(etree.tostring(resource))
        seen += texts(document, ".//o:header/o:identifier")
        token = document.findtext(".//o:resumptionToken", namespaces=NS)
        if not token:
            break
        query = {"verb": "ListRecords", "resumptionToken": token}
    assert seen == [f"oai:{REPO}:{s.record_id}" for s in specs]
    assert pages == -(-COUNT // PAGE) > 1  # through resumption tokens


def test_scythe_harvests_oai_openaire_and_oai_dc_with_access_urls(
    served: tuple[str, list[Spec]],
) -> None:
    url, specs = served
    expected = [f"oai:{REPO}:{s.record_id}" for s in specs]
    with Scythe(url) as scythe:
        formats = [f.metadataPrefix for f in scythe.list_metadata_formats()]
        assert "oai_openaire" in formats
        records = list(scythe.list_records(metadata_prefix="oai_openaire"))
        assert [r.header.identifier for r in records] == expected
        for record, s in zip(records, specs, strict=True):
            resource = record.xml.find(f".//{OAIRE}")
            assert resource is not None
            parsed(etree.tostring(resource))
            file = resource.find("oaire:file", NS)
            assert file is not None
            assert file.text == access_copy_url(BASE_URL, s.record_id, 1)
        dc = list(scythe.list_records(metadata_prefix="oai_dc"))
        assert [r.header.identifier for r in dc] == expected
        for record, s in zip(dc, specs, strict=True):
            assert access_copy_url(BASE_URL, s.record_id, 1) in record.metadata["identifier"]


# --- end to end: a real ingest, then a harvester follows the URLs to the access copy ------
@pytest.mark.slow
def test_a_harvester_follows_both_urls_to_the_ingested_access_copy(
    seaweed_private_pair: list[SeaweedServer],
    targets_env: TargetsEnv,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    tmp_path: Path,
) -> None:
    settings = targets_env(seaweed_private_pair).model_copy(
        update={**scielo_server.settings_overrides(), "oai_base_url": BASE_URL}
    )
    [ref] = add_generated_book(
        scielo_catalogue, f"oa{uuid.uuid4().hex[:6]}", 1, tmp_path, scanned_pages=0
    )
    result = ingest_in_process(settings, ref)
    assert (result.state, result.version) == ("deposited", 1), result.reasons
    record_id = result.id or ""
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        [access] = [f for f in catalogue.files(record_id, 1) if f.role == "access"]
    finally:
        catalogue.close()
    url = access_copy_url(BASE_URL, record_id, 1)
    path = url.removeprefix("https://archive.example.org")
    with serving(create_app(settings)) as base, Scythe(f"{base}/oai") as scythe:
        record = scythe.get_record(
            identifier=f"oai:{REPO}:{record_id}", metadata_prefix="oai_openaire"
        )
        resource = record.xml.find(f".//{OAIRE}")
        assert resource is not None
        parsed(etree.tostring(resource))
        file = resource.find("oaire:file", NS)
        assert file is not None and file.text == url
        assert file.get("mimeType") == access.media_type
        assert f"{access.size} bytes" in texts(resource, "datacite:sizes/datacite:size")
        dc = scythe.get_record(identifier=f"oai:{REPO}:{record_id}", metadata_prefix="oai_dc")
        assert url in dc.metadata["identifier"]
        # the URL's path on this server is the access copy itself
        response = httpx.get(f"{base}{path}", timeout=60)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == access.sha256
    assert len(response.content) == access.size

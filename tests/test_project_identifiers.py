"""The project's own identifiers: the qualified-DC namespace and the BagIt profile identifier
are UUID URNs, and records and bags written under the earlier URLs stay valid."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree

from archive_ingest.bag import project_profile, validate_bag, write_bag
from archive_ingest.bag.profile import PROJECT_PROFILE_ALIASES
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.errors import PackageError
from archive_ingest.oai.store import publish_record
from archive_ingest.oai.validate import response_errors
from archive_ingest.oai.web import oai_router
from archive_ingest.records import METS_PROFILE_URI, build_mets, validate_mets
from archive_ingest.records.mets import METS_PROFILE_LEGACY_URI
from archive_ingest.records.validate import check_mets_profile
from archive_ingest.records.xmlutil import AIQDC_LEGACY_NS, AIQDC_NS, DC_NS, XPATH_NS
from archive_ingest.settings import Settings
from tests.support.bag import build_payload, make_info, payload_files
from tests.support.oai import payloads
from tests.support.records import chapter_description

LICENCE = "http://creativecommons.org/licenses/by/4.0/"
GET_METS = "/oai?verb=GetRecord&metadataPrefix=mets&identifier=oai:archive-ingest.local:"


def _uuid_urn_v4(value: str) -> bool:
    prefix = "urn:uuid:"
    return value.startswith(prefix) and uuid.UUID(value.removeprefix(prefix)).version == 4


def in_legacy_namespace(mets_xml: bytes) -> bytes:
    """A METS as the project wrote it before its namespace and profile URI were UUID URNs."""
    legacy = mets_xml.replace(AIQDC_NS.encode(), AIQDC_LEGACY_NS.encode())
    return legacy.replace(METS_PROFILE_URI.encode(), METS_PROFILE_LEGACY_URI.encode())


def with_bogus_dc(mets_xml: bytes) -> bytes:
    """The METS with an element DCMI does not define inside its qualified-DC container."""
    root = etree.fromstring(mets_xml)
    (container,) = root.xpath(
        "//aiqdc:qualifieddc | //aiqdc_legacy:qualifieddc", namespaces=XPATH_NS
    )
    etree.SubElement(container, f"{{{DC_NS}}}bogus").text = "x"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def mets_xml() -> bytes:
    return build_mets(chapter_description())


# --- the qualified-DC namespace -------------------------------------------------------------


def test_new_records_use_the_uuid_urns(mets_xml: bytes) -> None:
    assert _uuid_urn_v4(AIQDC_NS) and _uuid_urn_v4(METS_PROFILE_URI)
    assert AIQDC_NS.encode() in mets_xml
    assert etree.fromstring(mets_xml).get("PROFILE") == METS_PROFILE_URI
    assert b"github" not in mets_xml


def test_a_record_in_the_earlier_namespace_still_validates(mets_xml: bytes) -> None:
    legacy = in_legacy_namespace(mets_xml)
    assert AIQDC_LEGACY_NS.encode() in legacy and AIQDC_NS.encode() not in legacy
    assert etree.fromstring(legacy).get("PROFILE") == METS_PROFILE_LEGACY_URI
    validate_mets(legacy)
    assert check_mets_profile(legacy) == []


@pytest.mark.parametrize("legacy", [False, True], ids=["urn", "earlier"])
def test_the_container_is_checked_in_either_namespace(mets_xml: bytes, legacy: bool) -> None:
    # declared by a schema in both namespaces, so its content is validated, never skipped as lax
    record = in_legacy_namespace(mets_xml) if legacy else mets_xml
    with pytest.raises(PackageError, match="bogus"):
        validate_mets(with_bogus_dc(record))


def test_a_record_in_another_namespace_fails_the_profile(mets_xml: bytes) -> None:
    other = mets_xml.replace(AIQDC_NS.encode(), b"urn:uuid:00000000-0000-4000-8000-000000000000")
    assert any("qualified DC" in problem for problem in check_mets_profile(other))


@pytest.fixture
def oai_client(tmp_path: Path, home: Path) -> Iterator[tuple[Catalogue, TestClient]]:
    url = f"sqlite:///{tmp_path / 'oai.sqlite3'}"
    catalogue = Catalogue.open(url)
    app = FastAPI()
    app.include_router(oai_router(Settings(database_url=url)))
    with TestClient(app, base_url="http://testserver") as client:
        yield catalogue, client
    catalogue.close()


def test_oai_serves_an_earlier_record_as_a_valid_response(
    oai_client: tuple[Catalogue, TestClient],
) -> None:
    catalogue, client = oai_client
    dc, mets = payloads("rec-legacy", LICENCE, "Editora")
    publish_record(catalogue, "rec-legacy", 1, dc, in_legacy_namespace(mets), {})
    publish_record(catalogue, "rec-bogus", 1, dc, with_bogus_dc(in_legacy_namespace(mets)), {})

    response = client.get(GET_METS + "rec-legacy")
    assert response.status_code == 200
    assert AIQDC_LEGACY_NS.encode() in response.content
    assert response_errors(response.content) == []

    bogus = client.get(GET_METS + "rec-bogus")
    assert any("bogus" in error for error in response_errors(bogus.content))


# --- the BagIt profile identifier ------------------------------------------------------------


def test_the_profile_identifier_is_a_uuid_urn() -> None:
    profile = project_profile()
    assert _uuid_urn_v4(profile.identifier)
    assert make_info().profile_identifier == profile.identifier
    assert all(alias.startswith("https://") for alias in PROJECT_PROFILE_ALIASES)


def test_a_bag_with_the_earlier_profile_identifier_still_validates(tmp_path: Path) -> None:
    bag_dir = tmp_path / "bag"
    payload = build_payload(bag_dir, payload_files())
    (earlier,) = PROJECT_PROFILE_ALIASES
    write_bag(bag_dir, payload, make_info(profile_identifier=earlier))
    assert f"BagIt-Profile-Identifier: {earlier}" in (bag_dir / "bag-info.txt").read_text()
    report = validate_bag(bag_dir)
    assert report.valid, report.errors
    assert report.profile_identifier == project_profile().identifier

"""METS 1.12.1 + PREMIS 3 + MODS + DC for a SciELO chapter: schema, profile and content."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from lxml import etree

from archive_ingest.errors import PackageError
from archive_ingest.models import (
    Event,
    FileInfo,
    Identifier,
    PageRange,
    RawMetadata,
    Relation,
    SourceRecord,
)
from archive_ingest.records import (
    METS_PROFILE_URI,
    OcrPage,
    build_dc,
    build_mets,
    check_mets_profile,
    validate_mets,
)
from archive_ingest.records.ids import PROJECT_NAMESPACE
from archive_ingest.records.xmlutil import XPATH_NS
from tests.support.bag import digests_of
from tests.support.records import (
    CC_BY_NC_SA_30,
    at,
    chapter_description,
    chapter_events,
    chapter_files,
    chapter_record,
)

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@pytest.fixture(scope="module")
def mets_xml() -> bytes:
    return build_mets(chapter_description())


@pytest.fixture(scope="module")
def mets(mets_xml: bytes) -> etree._Element:
    return etree.fromstring(mets_xml)


def x(node: etree._Element, path: str) -> list[etree._Element]:
    return node.xpath(path, namespaces=XPATH_NS)  # type: ignore[no-any-return]


def s(node: etree._Element, path: str) -> str:
    return str(node.xpath(f"string({path})", namespaces=XPATH_NS))


# --- the happy path -----------------------------------------------------------------------


def test_chapter_mets_validates_offline_and_passes_the_profile(mets_xml: bytes) -> None:
    validate_mets(mets_xml)
    assert check_mets_profile(mets_xml) == []


def test_header_names_the_software_the_archive_and_the_record_date(mets: etree._Element) -> None:
    assert mets.get("PROFILE") == METS_PROFILE_URI
    assert mets.get("OBJID") == "scielo-books-37t-05"
    header = x(mets, "mets:metsHdr")[0]
    assert header.get("CREATEDATE") == "2026-03-04T12:30:00Z"
    assert s(header, "mets:agent[@ROLE='CREATOR'][@OTHERTYPE='SOFTWARE']/mets:name") == (
        "archive-ingest 0.1.0"
    )
    assert s(header, "mets:agent[@ROLE='CUSTODIAN']/mets:name") == "Arquivo Exemplo"


def test_embedded_oai_dc_is_the_standalone_dc_record(mets: etree._Element) -> None:
    standalone = etree.fromstring(build_dc(chapter_description()))
    embedded = x(mets, "mets:dmdSec[@ID='dmd-dc']/mets:mdWrap/mets:xmlData/oai_dc:dc")[0]

    def content(root: etree._Element) -> list[tuple[str, str | None, dict[str, str]]]:
        return [(e.tag, e.text, dict(e.attrib)) for e in root]

    assert content(embedded) == content(standalone)


def test_qualified_dc_has_license_part_of_and_encoding_schemes(mets: etree._Element) -> None:
    qdc = x(mets, "mets:dmdSec[@ID='dmd-qdc']//aiqdc:qualifieddc")[0]
    license_ = x(qdc, "dcterms:license")[0]
    assert license_.text == CC_BY_NC_SA_30
    assert license_.get(XSI_TYPE) == "dcterms:URI"
    assert [e.text for e in x(qdc, "dcterms:isPartOf")] == [
        "urn:isbn:9788599662847",
        "http://books.scielo.org/id/37t",
        "Chilean Voices",
    ]
    assert x(qdc, "dcterms:language")[0].get(XSI_TYPE) == "dcterms:ISO639-3"
    assert s(qdc, "dcterms:extent") == "pp. 40-52"
    assert x(qdc, "dcterms:issued")[0].get(XSI_TYPE) == "dcterms:W3CDTF"


def test_mods_keeps_the_roles_dc_cannot(mets: etree._Element) -> None:
    mods = x(mets, "mets:dmdSec[@ID='dmd-mods']//mods:mods")[0]
    roles = {
        s(name, "mods:namePart"): (
            s(name, "mods:role/mods:roleTerm[@type='code']"),
            s(name, "mods:role/mods:roleTerm[@type='text']"),
        )
        for name in x(mods, "mods:name")
    }
    assert roles == {
        "Henfrey, Colin": ("edc", "organizer"),
        "Sorj, Bernardo": ("edc", "organizer"),
        "Pablo": ("aut", "author"),
    }
    host = x(mods, "mods:relatedItem[@type='host']")[0]
    assert s(host, "mods:part/mods:extent/mods:start") == "40"
    assert s(host, "mods:part/mods:extent/mods:end") == "52"


def test_files_are_grouped_by_use_with_sha256_and_relative_hrefs(mets: etree._Element) -> None:
    uses = [g.get("USE") for g in x(mets, "mets:fileSec/mets:fileGrp")]
    assert uses == ["original", "access", "text", "ocr-report", "source-metadata"]
    by_path = {f.path: f for f in chapter_files()}
    for file in x(mets, "mets:fileSec//mets:file"):
        href = x(file, "mets:FLocat")[0].get("{http://www.w3.org/1999/xlink}href")
        info = by_path[href]
        assert file.get("CHECKSUMTYPE") == "SHA-256"
        assert file.get("CHECKSUM") == info.digests.sha256
        assert file.get("SIZE") == str(info.digests.size)
        assert file.get("MIMETYPE") == info.media_type


def test_publisher_raw_metadata_is_listed_beside_the_records(mets: etree._Element) -> None:
    hrefs = [
        f.get("{http://www.w3.org/1999/xlink}href")
        for f in x(mets, "mets:fileSec/mets:fileGrp[@USE='source-metadata']//mets:FLocat")
    ]
    assert hrefs == ["source-metadata/book-page.html", "source-metadata/book.json"]
    names = x(
        mets, "//premis:object[premis:originalName='http://books.scielo.org/api/v1/book/37t/']"
    )
    assert len(names) == 1  # the URL it was fetched from is its original name


def test_premis_objects_carry_size_digests_and_puid(mets: etree._Element) -> None:
    original = x(mets, "mets:amdSec/mets:techMD[@ID='tech-original-1']//premis:object")[0]
    assert original.get(XSI_TYPE) == "premis:file"
    algorithms = [e.text for e in x(original, ".//premis:messageDigestAlgorithm")]
    assert algorithms == ["SHA-256", "SHA-512", "MD5"]
    assert s(original, ".//premis:size") == str(chapter_files()[0].digests.size)
    assert s(original, ".//premis:formatRegistryKey") == "fmt/18"
    assert s(original, ".//premis:formatRegistryName") == "PRONOM"


def _object_uuid(mets: etree._Element, tech_id: str) -> str:
    return s(mets, f"mets:amdSec/mets:techMD[@ID='{tech_id}']//premis:objectIdentifierValue")


def test_derivation_chain_original_to_access_to_text(mets: etree._Element) -> None:
    original, access, text = (
        _object_uuid(mets, t) for t in ("tech-original-1", "tech-access-1", "tech-text-1")
    )

    def related(tech_id: str, subtype: str) -> list[str]:
        return [
            e.text or ""
            for e in x(
                mets,
                f"mets:amdSec/mets:techMD[@ID='{tech_id}']//premis:relationship"
                f"[premis:relationshipSubType='{subtype}']//premis:relatedObjectIdentifierValue",
            )
        ]

    assert related("tech-access-1", "has source") == [original]
    assert related("tech-original-1", "is source of") == [access]
    assert related("tech-text-1", "has source") == [access]
    assert related("tech-access-1", "is source of") == [text]
    # the relationship names the OCR event that made the access copy
    ocr_uuid = s(mets, "//premis:event[premis:eventType='OCR']//premis:eventIdentifierValue")
    assert (
        s(
            mets,
            "mets:amdSec/mets:techMD[@ID='tech-access-1']//premis:relatedEventIdentifierValue",
        )
        == ocr_uuid
    )


def test_rights_statement_from_the_licence(mets: etree._Element) -> None:
    statement = x(mets, "mets:amdSec/mets:rightsMD//premis:rightsStatement")[0]
    assert s(statement, "premis:rightsBasis") == "license"
    assert s(statement, ".//premis:licenseDocumentationIdentifierValue") == CC_BY_NC_SA_30
    assert s(statement, ".//premis:licenseTerms") == "CC BY-NC-SA 3.0"
    assert [a.text for a in x(statement, "premis:rightsGranted/premis:act")] == [
        "replicate",
        "migrate",
        "disseminate",
    ]
    notes = [n.text for n in x(statement, ".//premis:licenseNote")]
    assert "licence validation outcome: accepted" in notes


def test_every_action_is_an_event_with_agent_datetime_outcome(mets: etree._Element) -> None:
    events = x(mets, "//premis:event")
    types = [s(e, "premis:eventType") for e in events]
    assert types == [
        "capture",
        "message digest calculation",
        "format identification",
        "OCR",
        "licence validation",
        "review decision",
        "metadata creation",  # added by build_mets, dated from the record
    ]
    for event in events:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s(event, "premis:eventDateTime"))
        assert s(event, ".//premis:eventOutcome") == "success"
        assert x(event, "premis:linkingAgentIdentifier")
    assert s(events[-1], "premis:eventDateTime") == "2026-03-04T12:30:00Z"


def test_agents_are_defined_once_and_referenced(mets: etree._Element) -> None:
    agents = x(mets, "//premis:agent")
    names = sorted(s(a, "premis:agentName") for a in agents)
    # archive-ingest did four actions, yet it is defined once
    assert names == ["Ana Archivist", "archive-ingest", "ocrmypdf", "siegfried"]
    links = [e.text for e in x(mets, "//premis:linkingAgentIdentifierValue")]
    assert len(links) == 7 and len(set(links)) == 4
    person = next(a for a in agents if s(a, "premis:agentType") == "person")
    assert s(person, "premis:agentIdentifier[premis:agentIdentifierType='local']/*[2]") == "ana"


def test_ocr_event_summarises_the_per_page_decisions(mets: etree._Element) -> None:
    notes = [
        n.text or ""
        for n in x(mets, "//premis:event[premis:eventType='OCR']//premis:eventOutcomeDetailNote")
    ]
    assert '{"pages_ocred": 12, "tesseract": "5.3.0"}' in notes
    summary = next(n for n in notes if n.startswith("OCR decisions"))
    assert "born-digital, kept: pages 1" in summary
    assert "scanned, redo-ocr: pages 2-13" in summary


def test_struct_maps_physical_pages_and_logical_book_chapter(mets: etree._Element) -> None:
    pages = x(mets, "mets:structMap[@TYPE='physical']//mets:div[@TYPE='page']")
    assert [p.get("ORDER") for p in pages] == [str(n) for n in range(1, 14)]
    assert pages[0].get("LABEL") == "page 1 (born-digital: kept)"
    book = x(mets, "mets:structMap[@TYPE='logical']/mets:div")[0]
    assert (book.get("TYPE"), book.get("LABEL")) == ("book", "Chilean Voices")
    chapter = x(book, "mets:div")[0]
    assert chapter.get("TYPE") == "chapter"
    assert chapter.get("DMDID") == "dmd-dc dmd-qdc dmd-mods dmd-premis"
    assert chapter.get("ORDERLABEL") == "40-52"


def test_identifiers_are_uuid5_under_the_project_namespace(mets: etree._Element) -> None:
    values = [e.text or "" for e in x(mets, "//premis:objectIdentifierValue")]
    uuids = [uuid.UUID(v) for v in values if v != "scielo-books-37t-05"]
    assert uuids and all(u.version == 5 for u in uuids)
    entity = uuid.uuid5(PROJECT_NAMESPACE, "entity\x1fscielo-books-37t-05")
    assert str(entity) in values


# --- mutations that must fail -------------------------------------------------------------


def _fails(xml: bytes, pattern: str) -> str:
    with pytest.raises(PackageError, match=pattern) as info:
        validate_mets(xml)
    return str(info.value)


def test_bogus_dc_element_in_the_oai_dc_dmdsec_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b"<dc:date>2008</dc:date>", b"<dc:date>2008</dc:date><dc:bogus/>", 1)
    assert bad != mets_xml
    _fails(bad, r"schema: line \d+: .*bogus.*not expected")


def test_bogus_dc_element_in_the_qualified_dc_dmdsec_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b"<dcterms:extent>", b"<dc:bogus>x</dc:bogus><dcterms:extent>", 1)
    assert bad != mets_xml
    _fails(bad, r"bogus.*not expected")


def test_bad_encoding_scheme_value_in_qualified_dc_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b'W3CDTF">2008<', b'W3CDTF">circa 2008<', 1)
    assert bad != mets_xml
    _fails(bad, "issued.*not a valid value")


def test_archivematica_style_unvalidated_dc_wrapper_is_not_accepted(mets_xml: bytes) -> None:
    """The dcterms:dublincore wrapper escapes the XSD; the profile still refuses it."""
    root = etree.fromstring(mets_xml)
    qdc = x(root, "//aiqdc:qualifieddc")[0]
    wrapper = etree.Element("{http://purl.org/dc/terms/}dublincore")
    etree.SubElement(wrapper, "{http://purl.org/dc/elements/1.1/}bogus").text = "x"
    qdc.getparent().replace(qdc, wrapper)
    message = _fails(etree.tostring(root), r"\[MP-03\] 0 dmdSecs hold qualified DC")
    assert "schema:" not in message  # the XSD alone would have let it through


def test_bogus_mods_and_premis_content_fail(mets_xml: bytes) -> None:
    _fails(
        mets_xml.replace(b"<mods:typeOfResource>", b"<mods:bogus/><mods:typeOfResource>", 1),
        "bogus",
    )
    _fails(mets_xml.replace(b"<premis:size>", b"<premis:size>x", 1), "size.*xs:long")


def test_missing_checksum_fails(mets_xml: bytes) -> None:
    bad = re.sub(rb' CHECKSUM="[0-9a-f]{64}" CHECKSUMTYPE="SHA-256"', b"", mets_xml, count=1)
    assert bad != mets_xml
    _fails(bad, r"\[MP-07\] file 'file-original-1' has no SHA-256 CHECKSUM")


def test_md5_instead_of_sha256_fails(mets_xml: bytes) -> None:
    bad = re.sub(rb'CHECKSUMTYPE="SHA-256"', b'CHECKSUMTYPE="MD5"', mets_xml, count=1)
    _fails(bad, r"\[MP-07\]")


def test_dangling_admid_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b'ADMID="tech-text-1 ', b'ADMID="tech-text-9 ', 1)
    assert bad != mets_xml
    _fails(bad, r"\[MP-13\] ADMID 'tech-text-9' names no element")


def test_admid_pointing_at_the_wrong_kind_of_section_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b'ADMID="tech-text-1 ', b'ADMID="dmd-dc ', 1)
    _fails(bad, r"\[MP-13\] ADMID 'dmd-dc' names a dmdSec")


def test_duplicate_ids_fail(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b'ID="tech-text-1"', b'ID="tech-access-1"', 1)
    assert bad != mets_xml
    message = _fails(bad, "tech-access-1")
    assert "MP-13" in message


def test_a_second_original_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b'USE="access"', b'USE="original"', 1)
    _fails(bad, r"\[MP-06\] there must be exactly one original")


def test_missing_puid_fails(mets_xml: bytes) -> None:
    bad = mets_xml.replace(
        b"<premis:formatRegistryKey>fmt/18<", b"<premis:formatRegistryKey>UNKNOWN<", 1
    )
    _fails(bad, r"\[MP-09\]")


def test_event_linked_to_an_undefined_agent_fails(mets_xml: bytes) -> None:
    root = etree.fromstring(mets_xml)
    x(root, "//premis:linkingAgentIdentifierValue")[0].text = str(uuid.uuid4())
    _fails(etree.tostring(root), r"\[MP-10\] event 'capture': linked agent .* is not defined")


def test_missing_rights_md_fails(mets_xml: bytes) -> None:
    root = etree.fromstring(mets_xml)
    rights = x(root, "mets:amdSec/mets:rightsMD")[0]
    rights.getparent().remove(rights)
    message = _fails(etree.tostring(root), r"\[MP-05\]")
    assert "rights-1" in message  # and the ADMIDs naming it dangle


def test_absolute_or_escaping_href_fails(mets_xml: bytes) -> None:
    for href in (b"/etc/passwd", b"../outside.pdf", b"http://example.org/x.pdf"):
        bad = mets_xml.replace(
            b'xlink:href="original/henfrey-9788599662847-05.pdf"', b'xlink:href="' + href + b'"', 1
        )
        assert bad != mets_xml
        _fails(bad, r"\[MP-07\] .* is not a relative path inside data/")


def test_profile_check_alone_reports_without_raising(mets_xml: bytes) -> None:
    bad = mets_xml.replace(b'PROFILE="', b'PROFILE="x', 1)
    problems = check_mets_profile(bad)
    assert len(problems) == 1 and "[MP-01]" in problems[0]


# --- refusals at build time ---------------------------------------------------------------


def _replace_file(files: list[FileInfo], role: str, **changes: object) -> list[FileInfo]:
    return [f.model_copy(update=changes) if f.role == role else f for f in files]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"puid": None}, "has no PRONOM format"),
        ({"puid": "UNKNOWN"}, "has no PRONOM format"),
        ({"path": "../escape.pdf"}, r"'\.\.' segment"),
        ({"path": "/abs/original.pdf"}, "must be relative"),
        ({"path": "mets.xml"}, "cannot list itself"),
        ({"path": "orig\x00.pdf"}, "control characters"),
        ({"media_type": "pdf"}, "type/subtype"),
    ],
)
def test_bad_files_are_refused_with_a_reason(changes: dict[str, object], message: str) -> None:
    desc = chapter_description()
    desc = desc.model_copy(update={"files": _replace_file(desc.files, "original", **changes)})
    with pytest.raises(PackageError, match=message):
        build_mets(desc)


def test_exactly_one_original_is_required() -> None:
    desc = chapter_description()
    without = [f for f in desc.files if f.role != "original"]
    with pytest.raises(PackageError, match="exactly one original file, this one 0"):
        build_mets(desc.model_copy(update={"files": without}))


def test_raw_metadata_must_be_packaged_verbatim() -> None:
    desc = chapter_description()
    changed = [
        f.model_copy(update={"digests": digests_of(b"reformatted json")})
        if f.path == "source-metadata/book.json"
        else f
        for f in desc.files
    ]
    with pytest.raises(PackageError, match="not the publisher's response verbatim"):
        build_mets(desc.model_copy(update={"files": changed}))
    missing = [f for f in desc.files if f.path != "source-metadata/book.json"]
    with pytest.raises(PackageError, match=r"raw metadata 'book\.json' is not in the package"):
        build_mets(desc.model_copy(update={"files": missing}))


def test_event_naming_a_role_the_package_lacks_is_refused() -> None:
    events = [
        *chapter_events(),
        Event(event_type="fixity check", datetime=at(30), object_roles=["ocr-page"]),
    ]
    with pytest.raises(PackageError, match=r"role 'ocr-page'.*no such file"):
        build_mets(chapter_description(events=events))


def test_ocr_pages_need_an_ocr_event_and_must_fit_the_page_count() -> None:
    no_ocr = [e for e in chapter_events() if e.event_type != "OCR"]
    with pytest.raises(PackageError, match="no OCR event"):
        build_mets(chapter_description(events=no_ocr))
    with pytest.raises(PackageError, match="beyond the page count 5"):
        build_mets(chapter_description(page_count=5))


def test_events_are_sorted_by_time_and_keep_their_uuid_across_versions() -> None:
    v1 = etree.fromstring(build_mets(chapter_description()))
    shuffled = list(reversed(chapter_events()))
    v2 = etree.fromstring(build_mets(chapter_description(events=shuffled, version=2)))
    order = [s(e, "premis:eventType") for e in x(v1, "//premis:event")]
    assert order == [s(e, "premis:eventType") for e in x(v2, "//premis:event")]

    def event_ids(root: etree._Element) -> list[str]:
        return [e.text or "" for e in x(root, "//premis:eventIdentifierValue")][:-1]

    assert event_ids(v1) == event_ids(v2)  # same events, same UUIDs
    assert _object_uuid(v1, "tech-original-1") != _object_uuid(v2, "tech-original-1")
    assert s(v2, "mets:metsHdr/mets:altRecordID[@TYPE='package-version']") == "2"


def test_ocr_page_files_are_placed_on_their_pages() -> None:
    desc = chapter_description()
    pages = [
        FileInfo(
            role="ocr-page",
            path=f"ocr/page-{n:03d}.hocr",
            digests=digests_of(f"page {n}".encode()),
            media_type="text/html",
            puid="fmt/96",
        )
        for n in (2, 10, 3)
    ]
    events = [*chapter_events()]
    events[3] = events[3].model_copy(update={"object_roles": ["access", "text", "ocr-page"]})
    xml = build_mets(desc.model_copy(update={"files": [*desc.files, *pages], "events": events}))
    validate_mets(xml)
    root = etree.fromstring(xml)
    page10 = x(root, "//mets:div[@TYPE='page'][@ORDER='10']/mets:fptr")
    file_id = page10[0].get("FILEID")
    href = s(root, f"//mets:file[@ID='{file_id}']/mets:FLocat/@xlink:href")
    assert href == "ocr/page-010.hocr"
    # natural order inside the group: page-002, page-003, page-010
    assert [
        f.get("{http://www.w3.org/1999/xlink}href")
        for f in x(root, "mets:fileSec/mets:fileGrp[@USE='ocr-page']//mets:FLocat")
    ] == ["ocr/page-002.hocr", "ocr/page-003.hocr", "ocr/page-010.hocr"]


def test_a_path_with_spaces_and_accents_becomes_a_percent_encoded_href() -> None:
    desc = chapter_description()
    files = _replace_file(desc.files, "text", path="text/capítulo 5.txt")
    xml = build_mets(desc.model_copy(update={"files": files}))
    validate_mets(xml)
    assert b'xlink:href="text/cap%C3%ADtulo%205.txt"' in xml


def test_events_with_sub_second_and_naive_times_sort_by_time() -> None:
    events = [
        Event(event_type="fixity check", datetime=dt.datetime(2026, 3, 4, 12, 5, 0, 500000)),
        Event(event_type="virus check", datetime=dt.datetime(2026, 3, 4, 12, 5, tzinfo=dt.UTC)),
    ]
    root = etree.fromstring(build_mets(chapter_description(events=[*chapter_events(), *events])))
    types = [s(e, "premis:eventType") for e in x(root, "//premis:event")]
    assert types.index("virus check") + 1 == types.index("fixity check")
    assert "2026-03-04T12:05:00.500000Z" in [
        s(e, "premis:eventDateTime") for e in x(root, "//premis:event")
    ]


def test_a_journal_article_has_issue_and_article_divs() -> None:
    record = chapter_record(
        record_id="scielo-scl-s0102-311x2008000100001",
        source="scielo-article:scl/S0102-311X2008000100001",
        source_kind="scielo-article",
        languages=["en", "pt"],
        pages=PageRange(first="7", last="19"),
        is_part_of=Relation(
            title="Cadernos de Saúde Pública",
            kind="journal-issue",
            volume="24",
            issue="1",
            identifiers=(Identifier(scheme="issn", value="0102-311X"),),
        ),
        identifiers=[Identifier(scheme="scielo-pid", value="S0102-311X2008000100001")],
        raw_metadata=[
            RawMetadata(
                name="articlemeta.json",
                media_type="application/json",
                content=b'{"code": "S0102-311X2008000100001", "collection": "scl"}',
            )
        ],
        landing_url=None,
    )
    desc = chapter_description(record=record, files=chapter_files(record))
    xml = build_mets(desc)
    validate_mets(xml)
    root = etree.fromstring(xml)
    outer = x(root, "mets:structMap[@TYPE='logical']/mets:div")[0]
    assert (outer.get("TYPE"), x(outer, "mets:div")[0].get("TYPE")) == ("issue", "article")
    assert s(root, "//dc:relation") == "urn:issn:0102-311X"
    assert [e.text for e in x(root, "//oai_dc:dc/dc:language")] == ["eng", "por"]
    assert s(root, "//mods:relatedItem//mods:detail[@type='volume']/mods:number") == "24"


def test_a_hand_delivered_file_with_only_its_hash_as_identifier() -> None:
    record = SourceRecord(
        record_id="file-3f2a",
        source="file:incoming/x.pdf",
        source_kind="file",
        title="Relatório",
        identifiers=[Identifier(scheme="sha256", value="ab" * 32)],
    )
    events = [
        e.model_copy(update={"object_roles": [r for r in e.object_roles if r != "source-metadata"]})
        for e in chapter_events()
    ]
    desc = chapter_description(
        record=record, files=chapter_files(record), events=events, ocr_pages=[], page_count=None
    )
    xml = build_mets(desc)
    validate_mets(xml)
    root = etree.fromstring(xml)
    assert s(root, "//oai_dc:dc/dc:identifier").startswith("ni:///sha-256;")
    assert x(root, "mets:structMap[@TYPE='logical']/mets:div")[0].get("TYPE") == "document"
    assert not x(root, "//mets:div[@TYPE='page']")


def test_the_ocr_stage_page_reports_are_accepted_as_they_are() -> None:
    """Dicts shaped like archive_ingest.ocr.result.PageReport.model_dump()."""
    desc = chapter_description()
    hocr = FileInfo(
        role="ocr-page",
        path="ocr/page-0002.hocr",
        digests=digests_of(b"<html/>"),
        media_type="text/html",
        puid="fmt/96",
    )
    reports = [
        {"page": 1, "kind": "born-digital", "decision": "born-digital", "reason": "real font"},
        {
            "page": 2,
            "kind": "scanned",
            "decision": "fresh-ocr",
            "reason": "old layer garbage",
            "old": {"chars": 10},
            "hocr": "ocr/page-0002.hocr",
            "needs_review": None,
        },
    ]
    events = [
        *chapter_events(),
        Event(event_type="transcription", datetime=at(12), object_roles=["text", "ocr-page"]),
    ]
    xml = build_mets(
        desc.model_copy(
            update={
                "files": [*desc.files, hocr],
                "events": events,
                "ocr_pages": [OcrPage.model_validate(r) for r in reports],
                "page_count": 2,
            }
        )
    )
    validate_mets(xml)
    root = etree.fromstring(xml)
    page2 = x(root, "//mets:div[@TYPE='page'][@ORDER='2']")[0]
    assert page2.get("LABEL") == "page 2 (scanned: fresh-ocr)"
    assert x(page2, "mets:fptr")[0].get("FILEID") == "file-ocr-page-1"
    summary = s(
        root, "//premis:event[premis:eventType='transcription']//premis:eventOutcomeDetailNote"
    )
    assert summary.startswith("OCR decisions for 2 pages:")

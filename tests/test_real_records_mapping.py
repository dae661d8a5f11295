"""The ten real ArticleMeta records (tests/fixtures/real-records/): our mapping against xylose.

xylose (scieloorg/xylose, ``Article``) is how SciELO itself reads these documents. For each
record, map_articlemeta's SourceRecord and the Dublin Core built from it are compared with
xylose field by field. Where we differ on purpose (docs/DECISIONS.md, the ArticleMeta entry)
the difference is asserted explicitly below, never skipped over:

* ``nd`` page placeholders: xylose answers "nd" as a page; we have no pages;
* a top-level licence without a version (``by-nc``): xylose's URL has no version; ours reads it
  as 4.0, as xylose itself reads a bare journal v541 code;
* fulltexts that list no PDF: xylose answers them as they are (no PDF); we derive the PDF path
  xylose's ``fulltexts()`` builds when ``fulltexts`` is absent;
* a document without an ``issue`` record: xylose cannot give volume or number; we read the
  article's own v31/v32.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree
from xylose.scielodocument import Article, UnavailableMetadataException

from archive_ingest.licence import LicencePolicy, LicenceVerdict, dc_rights_text, validate_licence
from archive_ingest.models import SourceRecord
from archive_ingest.records import PackageDescription, build_dc, validate_dc
from archive_ingest.records.dc import DcValues
from archive_ingest.records.languages import to_iso639_3
from archive_ingest.sources.normalise import plain_text
from archive_ingest.sources.scielo_articles import map_articlemeta

FOLDER = Path(__file__).parent / "fixtures" / "real-records"
FILES = sorted(FOLDER.glob("*.json"))
DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: the records whose v14 is the "nd" placeholder
ND_PAGES = {
    "scl-S0100-19651998000200001",
    "scl-S0100-19651998000200002",
    "scl-S0100-19651998000200003",
}
#: the records whose DOI spells the PID of the other one (v237 and top-level doi agree)
NEIGHBOUR_DOI = {
    "scl-S0100-19651998000200001": "10.1590/S0100-19651998000200002",
    "scl-S0100-19651998000200002": "10.1590/S0100-19651998000200001",
}
#: fulltexts lists html only: the PDF path is derived
HTML_ONLY = {
    "spa-S0034-89102018000100244",
    "spa-S0036-36341997000100001",
    "spa-S1851-82652018000100051",
}
#: the journal's v541 is a bare code (BY, BY-NC) and the article has no licence of its own
BARE_V541 = {"scl-S0102-67202009000300001", "scl-S1676-06032007000300020"}
#: the licence each record resolves to (checked by archive_ingest.licence)
LICENCES = {
    "scl-S0034-89102010000400007": "https://creativecommons.org/licenses/by-nc/4.0/",
    "scl-S0100-19651998000200001": "https://creativecommons.org/licenses/by-nc/4.0/",
    "scl-S0100-19651998000200002": "https://creativecommons.org/licenses/by-nc/4.0/",
    "scl-S0100-19651998000200003": "https://creativecommons.org/licenses/by-nc/4.0/",
    "scl-S0100-879X1998000800011": "https://creativecommons.org/licenses/by/4.0/",
    "scl-S0102-67202009000300001": "https://creativecommons.org/licenses/by-nc/4.0/",
    "scl-S1676-06032007000300020": "https://creativecommons.org/licenses/by/4.0/",
    "spa-S0034-89102018000100244": "https://creativecommons.org/licenses/by/4.0/",
    "spa-S0036-36341997000100001": "https://creativecommons.org/licenses/by/3.0/",
    "spa-S1851-82652018000100051": "https://creativecommons.org/licenses/by-nc/4.0/",
}


def test_the_ten_records_are_here() -> None:
    assert [f.stem for f in FILES] == sorted(LICENCES)


def load(path: Path) -> tuple[dict[str, Any], SourceRecord, Article]:
    document = json.loads(path.read_bytes())
    record = map_articlemeta(path.read_bytes(), collection=path.stem[:3], pid=path.stem[4:])
    return document, record, Article(document)


def xylose(value: Any) -> Any:
    """A xylose property read with its deprecation warnings silenced (publication_date)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return value()


def name(author: dict[str, str]) -> str:
    return ", ".join(p for p in (author.get("surname"), author.get("given_names")) if p)


def verdict_of(record: SourceRecord) -> LicenceVerdict:
    metadata = [v for v in (record.licence_statement, record.licence_url) if v]
    return validate_licence(metadata=metadata, pdf_text="", xmp=None, policy=LicencePolicy())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_record_agrees_with_xylose(path: Path) -> None:
    document, record, article = load(path)
    key = path.stem

    # titles: the original language's and each translation's
    assert record.title == plain_text(article.original_title())
    translated = article.translated_titles() or {}
    assert record.translated_titles == {k: plain_text(v) for k, v in translated.items()}
    assert record.languages[0] == article.original_language()

    # creators in order
    persons = [c.name for c in record.creators if not c.corporate]
    assert persons == [name(a) for a in article.authors or []]
    orcids = [c.orcid for c in record.creators if not c.corporate]
    assert orcids == [a.get("orcid") for a in article.authors or []]

    assert record.date == xylose(lambda: article.publication_date)
    assert record.identifier("scielo-pid") == article.publisher_id
    assert record.identifier("doi") == article.doi  # v237 first, then doi, as xylose
    if key in NEIGHBOUR_DOI:  # kept (what SciELO registered), but said
        assert record.identifier("doi") == NEIGHBOUR_DOI[key]
        assert any("spells the PID of another article" in n for n in record.notes)
    else:
        assert not any("spells the PID" in n for n in record.notes)

    # ISSNs by type, v435 first (Journal._load_issn)
    assert record.identifier("issn") == article.journal.print_issn
    assert record.identifier("eissn") == article.journal.electronic_issn

    assert record.publisher == article.journal.publisher_name[0]
    assert record.is_part_of is not None
    assert record.is_part_of.title == article.journal.title
    try:
        volume, number = article.issue.volume, article.issue.number
    except UnavailableMetadataException:  # older shape: no issue record; v31/v32 of the article
        assert "issue" not in document
        volume = document["article"]["v31"][0]["_"]
        number = document["article"]["v32"][0]["_"]
    assert (record.is_part_of.volume, record.is_part_of.issue) == (volume, number)

    # pages: xylose answers the placeholder "nd" as a page, we have none
    if key in ND_PAGES:
        assert (article.start_page, article.end_page) == ("nd", "nd")
        assert record.pages is None
    elif article.start_page is None and article.end_page is None:
        assert record.pages is None  # an e-location only (v14 e)
    else:
        assert record.pages is not None
        assert (record.pages.first, record.pages.last) == (article.start_page, article.end_page)

    assert record.document_type == article.document_type


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_pdf_urls_agree_with_xylose(path: Path) -> None:
    document, record, article = load(path)
    xylose_pdfs = article.fulltexts().get("pdf") or {}
    if path.stem in HTML_ONLY:
        # xylose answers the listed fulltexts (no PDF); the path it derives without them is ours
        assert xylose_pdfs == {}
        derived = Article({k: v for k, v in document.items() if k != "fulltexts"})
        xylose_pdfs = derived.fulltexts()["pdf"]
        assert any("fulltexts lists no PDF: PDF URL derived" in n for n in record.notes)
    assert set(record.pdf_urls) == set(xylose_pdfs)
    for lang, url in xylose_pdfs.items():
        ours, theirs = urlsplit(record.pdf_urls[lang]), urlsplit(url)
        assert (ours.hostname, ours.path) == (theirs.hostname, theirs.path)
    # the original-language PDF is the primary one
    assert record.primary_pdf_url() == record.pdf_urls[article.original_language()]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_licence_agrees_with_xylose_and_validates(path: Path) -> None:
    _, record, article = load(path)
    permissions = article.permissions
    assert record.licence_url is not None
    if path.stem == "scl-S0034-89102010000400007":
        # top-level "by-nc" without a version: xylose keeps the URL versionless, we read 4.0
        assert permissions["url"] == "http://creativecommons.org/licenses/by-nc/"
        assert record.licence_url == "http://creativecommons.org/licenses/by-nc/4.0/"
    else:
        assert record.licence_url == permissions["url"]
        assert record.licence_statement is not None
        if path.stem in BARE_V541:  # SciELO's sentence for the bare code, as xylose writes it
            assert record.licence_statement == permissions["text"]
        else:  # the code as the publisher wrote it
            assert record.licence_statement.lower() == permissions["id"]
    assert re.fullmatch(r"http://creativecommons\.org/licenses/[a-z-]+/\d\.\d/", record.licence_url)
    verdict = verdict_of(record)
    assert verdict.outcome == "valid", verdict.reasons
    assert verdict.uri == LICENCES[path.stem]


def description(record: SourceRecord) -> PackageDescription:
    verdict = verdict_of(record)
    return PackageDescription(
        record=record,
        licence_uri=verdict.uri,
        licence_label=verdict.label,
        licence_outcome=verdict.outcome,
        rights_statement=dc_rights_text(verdict),
        organization="Arquivo Exemplo",
        created=dt.datetime(2026, 3, 4, 12, 30, tzinfo=dt.UTC),
    )


def texts(root: etree._Element, element: str) -> list[str]:
    return [e.text or "" for e in root.iter(f"{DC}{element}")]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_dublin_core_agrees_with_xylose(path: Path) -> None:
    _, record, article = load(path)
    desc = description(record)
    xml = build_dc(desc)
    validate_dc(xml)
    root = etree.fromstring(xml)

    titles = list(root.iter(f"{DC}title"))
    original = article.original_language()
    assert titles[0].text == plain_text(article.original_title())
    assert titles[0].get(XML_LANG) == original
    translated = {k: plain_text(v) for k, v in (article.translated_titles() or {}).items()}
    assert {t.get(XML_LANG): t.text for t in titles[1:]} == translated

    assert texts(root, "creator") == [name(a) for a in article.authors or []]
    assert texts(root, "date") == [xylose(lambda: article.publication_date)]
    # the original language first, then those of the other PDFs (xylose: every full text's)
    languages = texts(root, "language")
    assert languages[0] == to_iso639_3(original)
    assert set(languages) <= {to_iso639_3(lang) for lang in article.languages()}
    assert languages == [to_iso639_3(lang) for lang in record.languages]
    assert texts(root, "publisher") == [article.journal.publisher_name[0]]

    identifiers = texts(root, "identifier")
    assert f"SciELO PID: {article.publisher_id}" in identifiers
    if article.doi:
        assert f"https://doi.org/{article.doi}" in identifiers
    else:
        assert not any("doi.org" in i for i in identifiers)
    issns = [
        f"urn:issn:{i}" for i in (article.journal.print_issn, article.journal.electronic_issn) if i
    ]
    assert [i for i in identifiers if i.startswith("urn:issn:")] == issns
    assert texts(root, "relation") == issns  # the journal, by its ISSNs

    assert texts(root, "source") == [record.primary_pdf_url()]

    rights = texts(root, "rights")
    assert rights[0] == LICENCES[path.stem]
    assert re.fullmatch(r"https://creativecommons\.org/licenses/[a-z-]+/\d\.\d/", rights[0])

    # no "nd" placeholder anywhere: no "pp. nd-nd", no "nd" page
    everything = [e.text or "" for e in root.iter()]
    assert not any(re.search(r"(?<![\w.])nd(?![\w])", t) for t in everything)
    formats = texts(root, "format")
    if article.start_page and article.start_page != "nd":
        if article.start_page == article.end_page:  # one page: "p. 1", never "pp. 1-1"
            assert f"p. {article.start_page}" in formats
        else:
            assert f"pp. {article.start_page}-{article.end_page}" in formats
    else:
        assert not any(f.startswith("pp.") for f in formats)

    # the citation (qualified DC) names the journal, not a placeholder
    citation = DcValues(desc).citation()
    assert citation is not None
    assert article.journal.title in citation
    assert "nd" not in re.findall(r"\w+", citation)

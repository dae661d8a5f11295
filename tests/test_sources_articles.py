"""ArticleMeta mapping (pure): fields as xylose reads them, licence precedence, PDF URLs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archive_ingest.errors import SourceError
from archive_ingest.ingest.fetch import pdf_languages
from archive_ingest.ingest.versioning import fingerprint
from archive_ingest.licence import LicencePolicy, validate_licence
from archive_ingest.models import SourceRecord
from archive_ingest.sources.articlemeta_issns import journal_issns
from archive_ingest.sources.scielo_articles import map_articlemeta
from archive_ingest_demo.scielo_sample.articlemeta import articlemeta_document
from tests.support.scielo_fixtures import FIXTURES

PID = "S2179-975X2011000300002"
SITE = "http://127.0.0.1:8123"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def dump(data: object) -> bytes:
    return json.dumps(data).encode()


def test_full_document_with_license_and_fulltexts() -> None:
    raw = (FIXTURES / "articlemeta-license.json").read_bytes()
    record = map_articlemeta(raw, site_base=SITE, collection="scl", pid=PID)
    assert record.record_id == "scielo-scl-s2179-975x2011000300002"
    assert record.source == f"scielo-article:scl/{PID}"
    assert record.source_kind == "scielo-article"
    # v12 in the original language (v40 = en), <i> tags removed
    assert record.title == (
        "First adult record of Misgurnus anguillicaudatus, Cantor 1842 from Ribeira de Iguape "
        "River Basin, Brazil"
    )
    assert record.translated_titles == {
        "pt": "Primeiro registro de um indivíduo adulto de Misgurnus anguillicaudatus, Cantor "
        "1842 do rio Ribeira de Iguape, Brasil"
    }
    assert [c.name for c in record.creators] == [
        "Gomes, Caio Isola Dallevo do Amaral",
        "Peressin, Alexandre",
        "Cetra, Mauricio",
        "Barrella, Walter",
    ]
    assert {c.role for c in record.creators} == {"author"}
    assert record.creators[0].affiliation == "UNIVERSIDADE FEDERAL DE SAO CARLOS"
    assert record.creators[3].affiliation == "PONTIFICIA UNIVERSIDADE CATOLICA DE SAO PAULO"
    assert record.publisher == "Associação Brasileira de Limnologia"
    assert record.date == "2011-09"  # v65 20110900
    assert record.languages == ["en", "pt"]
    assert record.identifier("scielo-pid") == PID
    assert record.identifier("doi") == "10.1590/S2179-975X2012005000004"
    assert record.identifier("eissn") == "2179-975X"  # v35 ONLIN
    assert record.identifier("issn") is None
    assert record.pages is not None and (record.pages.first, record.pages.last) == ("229", "232")
    assert record.is_part_of is not None
    assert record.is_part_of.title == "Acta Limnologica Brasiliensia"
    assert (record.is_part_of.volume, record.is_part_of.issue) == ("23", "3")
    assert record.is_part_of.kind == "journal-issue"
    assert record.description and record.description.startswith("AIM: This work")
    assert record.subjects == [
        "Oriental weatherfish", "exotic species", "sexual maturity", "diet overlap",
        "São Paulo State",
    ]  # fmt: skip
    # licence: the top-level `license` wins (xylose Article.permissions)
    assert record.licence_statement == "by/4.0"
    assert record.licence_url == "http://creativecommons.org/licenses/by/4.0/"
    # fulltexts per language, rebased onto the configured site
    assert record.pdf_urls == {
        "en": f"{SITE}/pdf/alb/v23n3/alb_aop_230302.pdf",
        "pt": f"{SITE}/pdf/alb/v23n3/pt_alb_aop_230302.pdf",
    }
    assert record.primary_pdf_url() == f"{SITE}/pdf/alb/v23n3/alb_aop_230302.pdf"
    assert record.landing_url == f"{SITE}/scielo.php?script=sci_arttext&pid={PID}&tlng=en"
    assert record.missing == []


def test_v540_fallback_prefers_english_and_derives_the_pdf() -> None:
    raw = (FIXTURES / "articlemeta-v540.json").read_bytes()
    record = map_articlemeta(raw, site_base=SITE)
    assert record.licence_url == "http://creativecommons.org/licenses/by/4.0/"
    assert record.licence_statement is not None
    assert "This is an article published in open access" in record.licence_statement
    assert record.licence_statement.startswith('<a rel="license"')  # kept verbatim
    # no fulltexts: /pdf/{acronym}/{issue label}/{file code}.pdf as xylose builds it
    assert record.pdf_urls == {"en": f"{SITE}/pdf/alb/v23n3/alb_aop_230302.pdf"}
    assert any("derived" in n for n in record.notes)
    assert record.languages == ["en"]
    assert record.landing_url == (f"{SITE}/scielo.php?script=sci_arttext&pid={PID}&lng=en&tlng=en")


def test_journal_licence_fallback_v541() -> None:
    data = load("articlemeta-v540.json")
    del data["article"]["v540"]
    record = map_articlemeta(dump(data), site_base=SITE)
    # the bare code as SciELO words it, with the version read (v541 itself stays in the raw JSON)
    assert record.licence_statement == (
        "This work is licensed under a Creative Commons Attribution-NonCommercial 4.0 "
        "International License."
    )
    assert record.licence_url == "http://creativecommons.org/licenses/by-nc/4.0/"
    notes = "\n".join(record.notes)
    assert "licence from the journal record" in notes
    # the journal's own v540 says 3.0: said, not resolved (licence validation decides)
    assert "links http://creativecommons.org/licenses/by-nc/3.0/ instead" in notes


def test_journal_licence_fallback_v540_only() -> None:
    data = load("articlemeta-v540.json")
    del data["article"]["v540"]
    del data["title"]["v541"]
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.licence_url == "http://creativecommons.org/licenses/by-nc/3.0/"
    assert (
        record.licence_statement and "All the contents of this journal" in record.licence_statement
    )


def test_journal_declares_no_licence() -> None:
    data = load("articlemeta-v540.json")
    del data["article"]["v540"]
    data["title"]["v541"] = [{"_": "nd"}]
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.licence_statement is None and record.licence_url is None
    assert "licence_statement" in record.missing
    assert any("v541 = nd" in n for n in record.notes)


def test_article_v540_without_cc_link_does_not_fall_back() -> None:
    data = load("articlemeta-v540.json")
    data["article"]["v540"] = [{"t": "All rights reserved", "l": "en"}]
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.licence_statement is None  # xylose: v540 present => no journal fallback
    assert any("no Creative Commons link" in n for n in record.notes)


def test_urls_left_as_given_without_site_base() -> None:
    raw = (FIXTURES / "articlemeta-license.json").read_bytes()
    record = map_articlemeta(raw)
    assert record.pdf_urls["en"] == "http://www.scielo.br/pdf/alb/v23n3/alb_aop_230302.pdf"


def test_sparse_document_lists_what_is_missing() -> None:
    data = {
        "code": PID,
        "collection": "scl",
        "article": {"v12": [{"_": "Só um título"}], "v880": [{"_": PID}]},
    }
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.title == "Só um título"
    assert set(record.missing) == {
        "creators", "publisher", "date", "languages", "doi", "pages", "description",
        "licence_statement", "pdf_urls",
    }  # fmt: skip
    assert any("fulltexts is absent and no file name" in n for n in record.notes)


def test_title_in_another_language_when_original_missing() -> None:
    data = load("articlemeta-license.json")
    data["article"]["v12"] = [data["article"]["v12"][1]]  # only the Portuguese title
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.title.startswith("Primeiro registro")
    assert record.translated_titles == {}
    assert any("the pt title is used" in n for n in record.notes)


def test_author_orcid_role_and_corporate() -> None:
    data = load("articlemeta-license.json")
    data["article"]["v10"] = [
        {"s": "Silva", "n": "Ana", "r": "ND", "k": "0000-0002-1825-0097", "_": ""},
        {"s": "Souza", "n": "Rui", "r": "ed", "_": ""},
        {"s": "Lima", "n": "Eva", "r": "xx", "_": ""},
    ]
    data["article"]["v11"] = [{"_": "Grupo de Estudos Limnológicos"}]
    record = map_articlemeta(dump(data), site_base=SITE)
    assert [(c.name, c.role, c.corporate) for c in record.creators] == [
        ("Silva, Ana", "author", False),
        ("Souza, Rui", "editor", False),
        ("Lima, Eva", "other", False),
        ("Grupo de Estudos Limnológicos", "author", True),
    ]
    assert record.creators[0].orcid == "0000-0002-1825-0097"
    assert any("'xx'" in n for n in record.notes)


def test_v237_doi_wins_over_top_level() -> None:
    data = load("articlemeta-license.json")
    data["doi"] = "10.9999/other"
    data["article"]["v237"] = [{"_": "http://dx.doi.org/10.1590/S2179-975X2011000300002"}]
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.identifier("doi") == "10.1590/S2179-975X2011000300002"


def test_pages_from_v14_text() -> None:
    data = load("articlemeta-license.json")
    data["article"]["v14"] = [{"_": "229-232"}]
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.pages is not None and (record.pages.first, record.pages.last) == ("229", "232")


def test_metadata_pdf_url_with_odd_scheme_is_not_used() -> None:
    data = load("articlemeta-license.json")
    data["fulltexts"]["pdf"]["pt"] = "file:///etc/passwd"
    record = map_articlemeta(dump(data), site_base=SITE)
    assert set(record.pdf_urls) == {"en"}
    assert any("pdf URL (pt) unusable" in n for n in record.notes)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"null", "ArticleMeta has no article S2179-975X2011000300002 in collection scl"),
        (b"", "empty"),
        (b"<html>", "not valid JSON"),
        (b"[]", "no 'article' record"),
        (b'{"code": "x", "article": {}}', "no valid PID"),
        (b'{"article": {}, "code": "S2179-975X2011000300003"}', "not the requested"),
        (
            b'{"article": {}, "code": "S2179-975X2011000300002", "collection": "spa"}',
            "collection 'spa', not 'scl'",
        ),
    ],
)
def test_malformed_or_wrong_documents(raw: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        map_articlemeta(raw, site_base=SITE, collection="scl", pid=PID)


def test_non_string_subfields_are_tolerated() -> None:
    """Found by hypothesis: an affiliation id that is a JSON boolean crashed the mapper."""
    doc = json.loads((FIXTURES / "articlemeta-license.json").read_text(encoding="utf-8"))
    for aff in doc["article"].get("v70", []):
        aff["i"] = True
    record = map_articlemeta(json.dumps(doc).encode())
    assert record.creators


# --- the other shapes SciELO publishes (built with the sample's articlemeta_document) ---------


def build(**options: Any) -> SourceRecord:
    document = articlemeta_document(collection="scl", pid=PID, **options)
    return map_articlemeta(dump(document), site_base=SITE, collection="scl", pid=PID)


def test_html_only_fulltexts_derive_the_pdf_as_xylose_does() -> None:
    record = build(fulltext_formats=("html",), fulltext_languages=["en", "pt"])
    # only the original language: xylose derives no translation's PDF
    assert record.pdf_urls == {"en": f"{SITE}/pdf/alb/v23n3/a02v23n3.pdf"}
    assert record.primary_pdf_url() == f"{SITE}/pdf/alb/v23n3/a02v23n3.pdf"
    assert any("fulltexts lists no PDF: PDF URL derived" in n for n in record.notes)


def test_several_pdfs_per_language_are_all_kept_the_original_first() -> None:
    record = build(original_language="pt", fulltext_languages=["en", "pt", "es"])
    assert set(record.pdf_urls) == {"en", "pt", "es"}
    assert record.pdf_urls["en"] == f"{SITE}/pdf/alb/v23n3/en_a02v23n3.pdf"
    assert record.languages[0] == "pt"
    assert record.primary_pdf_url() == f"{SITE}/pdf/alb/v23n3/a02v23n3.pdf"


@pytest.mark.parametrize(
    ("v541", "url", "assumed"),
    [
        ("BY", "http://creativecommons.org/licenses/by/4.0/", True),
        ("BY-NC", "http://creativecommons.org/licenses/by-nc/4.0/", True),
        ("BY/4.0", "http://creativecommons.org/licenses/by/4.0/", False),
        ("BY-NC/4.0", "http://creativecommons.org/licenses/by-nc/4.0/", False),
        ("by-nc-sa/3.0", "http://creativecommons.org/licenses/by-nc-sa/3.0/", False),
    ],
)
def test_journal_v541_code_with_and_without_version(v541: str, url: str, assumed: bool) -> None:
    record = build(license=None, journal_v541=v541)
    assert record.licence_url == url  # never .../4.0/4.0/
    assert (record.licence_statement == v541) is not assumed
    assert any("version 4.0 assumed" in n for n in record.notes) is assumed
    verdict = validate_licence(
        metadata=[record.licence_statement, record.licence_url],
        pdf_text="",
        xmp=None,
        policy=LicencePolicy(),
    )
    assert verdict.outcome == "valid"
    assert verdict.uri == url.replace("http://", "https://")


def test_top_level_licence_without_version_reads_as_current() -> None:
    record = build(license="by-nc")
    assert record.licence_url == "http://creativecommons.org/licenses/by-nc/4.0/"
    assert any("names no version" in n for n in record.notes)
    assert build(license="by/3.0").licence_url == "http://creativecommons.org/licenses/by/3.0/"


@pytest.mark.parametrize(
    "v14",
    [
        [{"_": "", "f": "nd", "l": "nd"}],
        [{"_": "", "f": "ND"}, {"_": "", "l": "nd"}],
        [{"_": "nd"}],
        [{"_": "", "f": "0", "l": "00"}],
    ],
)
def test_page_placeholders_give_no_pages(v14: list[dict[str, str]]) -> None:
    document = articlemeta_document(collection="scl", pid=PID)
    document["article"]["v14"] = v14
    record = map_articlemeta(dump(document), site_base=SITE)
    assert record.pages is None
    assert "pages" in record.missing


def test_typed_issns_v435_win_over_v35() -> None:
    # v35 says the v935 ISSN is electronic; v435 says it is the print one (as in a real record)
    record = build(
        issn="1669-2381",
        issn_type="ONLIN",
        journal_v435=[("ONLIN", "1851-8265"), ("PRINT", "1669-2381")],
    )
    assert record.identifier("issn") == "1669-2381"
    assert record.identifier("eissn") == "1851-8265"
    assert any("followed, as xylose does" in n for n in record.notes)
    assert record.is_part_of is not None
    assert [i.scheme for i in record.is_part_of.identifiers] == ["issn", "eissn"]


def test_typed_issns_of_one_kind_leave_the_other_out() -> None:
    document = articlemeta_document(
        collection="scl", pid=PID, issn="1414-431X", journal_v435=[("ONLIN", "1414-431X")]
    )
    document["title"]["v400"] = [{"_": "0100-879X"}]
    record = map_articlemeta(dump(document))
    assert record.identifier("eissn") == "1414-431X"
    assert record.identifier("issn") is None  # as xylose: v435 is the whole list
    assert any("0100-879X" in n and "not recorded" in n for n in record.notes)


def test_article_typed_issns_when_the_journal_has_none() -> None:
    record = build(article_v435=[("ppub", "0034-8910"), ("epub", "1518-8787")])
    assert (record.identifier("issn"), record.identifier("eissn")) == ("0034-8910", "1518-8787")


def test_older_document_shape_maps_from_v880_and_v992() -> None:
    record = build(older_shape=True, license=None)
    assert record.source == f"scielo-article:scl/{PID}"
    assert record.identifier("doi") == "10.1590/S2179-975X2012005000004"  # v237
    assert record.pdf_urls == {"en": f"{SITE}/pdf/alb/v23n3/a02v23n3.pdf"}
    assert record.licence_url == "http://creativecommons.org/licenses/by-nc/4.0/"
    older = articlemeta_document(collection="scl", pid=PID, older_shape=True)
    del older["article"]["v992"]
    assert map_articlemeta(dump(older), collection="scl").source == f"scielo-article:scl/{PID}"
    older["title"]["v992"] = [{"_": "spa"}]
    with pytest.raises(SourceError, match="collection 'spa', not 'scl'"):
        map_articlemeta(dump(older), collection="scl")


def test_doi_spelling_a_neighbours_pid_is_kept_and_noted() -> None:
    neighbour = "10.1590/S2179-975X2011000300003"
    record = build(doi=neighbour)
    assert record.identifier("doi") == neighbour
    assert any("spells the PID of another article" in n for n in record.notes)
    # a DOI made with the ahead-of-print PID (another issue) is nothing to note
    assert not any("spells" in n for n in build().notes)


def test_ahead_of_print() -> None:
    record = build(ahead_of_print=True, publication_date="20110000", document_date="20110512")
    assert record.pages is None
    assert record.is_part_of is not None
    assert (record.is_part_of.volume, record.is_part_of.issue) == (None, None)
    assert record.date == "2011-05-12"  # v223, not the placeholder year of v65
    assert record.pdf_urls == {"en": f"{SITE}/pdf/alb/2011nahead/a02v23n3.pdf"}
    assert any("ahead of print" in n for n in record.notes)


@pytest.mark.parametrize(
    ("options", "issue"),
    [
        ({"supplement_volume": "1"}, "3 suppl 1"),
        ({"supplement_number": "2"}, "3 suppl 2"),
        ({"supplement_number": "0"}, "3 suppl"),
    ],
)
def test_supplements(options: dict[str, str], issue: str) -> None:
    record = build(**options)
    assert record.is_part_of is not None
    assert (record.is_part_of.volume, record.is_part_of.issue) == ("23", issue)


@pytest.mark.parametrize(
    ("v71", "kind"),
    [
        ("oa", "research-article"),
        ("pr", "press-release"),
        ("er", "correction"),
        ("ed", "editorial"),
        ("zz", "undefined"),
    ],
)
def test_document_type_from_v71(v71: str, kind: str) -> None:
    assert build(document_type=v71).document_type == kind


def test_article_licence_wins_over_the_journals_and_the_difference_is_noted() -> None:
    """The article's own licence is the one it was published under; a journal that has since
    changed its licence is named in a note, so the reviewer sees both."""
    data = articlemeta_document(
        collection="spa", pid=PID, license="by/3.0", journal_v541="BY-NC-SA/4.0"
    )
    record = map_articlemeta(dump(data), site_base=SITE)
    assert record.licence_url == "http://creativecommons.org/licenses/by/3.0/"
    assert any("'BY-NC-SA/4.0'" in n and "'by/3.0'" in n for n in record.notes), record.notes
    same = articlemeta_document(collection="spa", pid=PID, license="by/4.0", journal_v541="BY")
    assert not any("journal record declares" in n for n in map_articlemeta(dump(same)).notes)


# --- review findings: ISSN fall-backs, page order, language order, duplicate language codes ---


def test_a_journal_without_v35_keeps_v400_as_its_print_issn() -> None:
    print_issn, electronic, notes = journal_issns({"v400": [{"_": "0034-8910"}]}, {})
    assert (print_issn, electronic) == ("0034-8910", None)
    assert any("no ISSN type (v35)" in n and "0034-8910" in n for n in notes)


def test_typed_issns_of_unknown_types_fall_back_to_v35() -> None:
    document = articlemeta_document(
        collection="scl",
        pid=PID,
        issn="1414-431X",
        issn_type="PRINT",
        journal_v435=[("PPUB", "1414-431X"), ("??", "0100-879X")],
    )
    document["title"]["v400"] = [{"_": "0100-879X"}]
    record = map_articlemeta(dump(document))
    assert (record.identifier("issn"), record.identifier("eissn")) == ("1414-431X", "0100-879X")
    assert record.is_part_of is not None
    assert [i.value for i in record.is_part_of.identifiers] == ["1414-431X", "0100-879X"]
    assert any("name no PRINT or ONLIN ISSN" in n for n in record.notes)


def test_an_empty_journal_v435_gives_way_to_the_articles() -> None:
    record = build(journal_v435=[], article_v435=[("epub", "1518-8787")])
    assert (record.identifier("issn"), record.identifier("eissn")) == (None, "1518-8787")


@pytest.mark.parametrize(
    ("v14", "first", "last"),
    [
        ([{"_": "9-12"}], "9", "12"),  # xylose (text sort) reads 12 to 9
        ([{"_": "12-9"}], "9", "12"),
        ([{"_": "99-100"}], "99", "100"),
        ([{"_": "e12-e3"}], "e12", "e3"),  # not numbers: the order given
        ([{"_": "7"}], "7", "7"),
        ([{"f": "9", "_": "9-12"}], "9", "12"),  # the missing bound from `_`
        ([{"l": "12", "_": "9-12"}], "9", "12"),
        ([{"f": "9", "_": ""}, {"_": "9-12"}], "9", "12"),
        ([{"f": "14", "_": "9-12"}], "14", None),  # a bound that would reverse it: not taken
        ([{"f": "9", "l": "10", "_": "9-12"}], "9", "10"),  # f and l win
    ],
)
def test_pages_in_order(v14: list[dict[str, str]], first: str, last: str | None) -> None:
    document = articlemeta_document(collection="scl", pid=PID)
    document["article"]["v14"] = v14
    record = map_articlemeta(dump(document), site_base=SITE)
    assert record.pages is not None
    assert (record.pages.first, record.pages.last) == (first, last)


def test_without_v40_the_languages_do_not_follow_the_listing_order() -> None:
    records = []
    for listing in (["pt", "es", "en"], ["es", "en", "pt"]):
        document = articlemeta_document(collection="scl", pid=PID, fulltext_languages=listing)
        del document["article"]["v40"]
        records.append(map_articlemeta(dump(document), site_base=SITE))
    for record in records:
        assert record.languages == ["en", "es", "pt"]
        assert record.primary_pdf_url() == record.pdf_urls["en"]
        assert any("original language is unknown" in n for n in record.notes)
    assert records[0].model_dump(exclude={"notes", "raw_metadata"}) == records[1].model_dump(
        exclude={"notes", "raw_metadata"}
    )


@pytest.mark.parametrize("order", [("pt", "pt-BR"), ("pt-BR", "pt")])
def test_two_codes_of_one_language_keep_the_exact_one_and_say_so(order: tuple[str, str]) -> None:
    data = load("articlemeta-license.json")
    urls = {
        "pt": "http://www.scielo.br/pdf/alb/v23n3/pt_a.pdf",
        "pt-BR": "http://www.scielo.br/pdf/alb/v23n3/ptbr_a.pdf",
    }
    data["fulltexts"]["pdf"] = {"en": data["fulltexts"]["pdf"]["en"]} | {k: urls[k] for k in order}
    record = map_articlemeta(dump(data))
    assert record.pdf_urls["pt"] == urls["pt"]
    assert [n for n in record.notes if "both pt" in n] == [
        f"fulltexts lists pdf URLs under 'pt' and 'pt-BR' (both pt); {urls['pt']} kept, "
        f"{urls['pt-BR']} not used"
    ]


def test_two_regional_codes_keep_the_first_listed() -> None:
    data = load("articlemeta-license.json")
    data["fulltexts"]["html"] = {
        "pt-BR": "http://www.scielo.br/a",
        "pt-PT": "http://www.scielo.br/b",
    }
    data["article"]["v40"] = [{"_": "pt"}]
    record = map_articlemeta(dump(data))
    assert record.landing_url == "http://www.scielo.br/a"
    assert any(
        "'pt-BR' and 'pt-PT' (both pt); http://www.scielo.br/a kept" in n for n in record.notes
    )


def test_the_original_pdf_key_is_the_original_language_also_when_urls_repeat() -> None:
    record = SourceRecord(
        record_id="scielo-scl-s2179-975x2011000300002",
        source=f"scielo-article:scl/{PID}",
        source_kind="scielo-article",
        title="t",
        languages=["pt", "en"],
        pdf_urls={"en": "http://x/a.pdf", "pt": "http://x/a.pdf", "es": "http://x/es.pdf"},
    )
    assert record.primary_pdf_language() == "pt"
    assert pdf_languages(record) == ("pt", ["es"])


def test_a_reordered_pdf_listing_is_the_same_record() -> None:
    """ArticleMeta may list the PDFs in another order next time: the mapped record, and with it
    the content fingerprint, must not change (no needless new version)."""
    first = articlemeta_document(
        collection="scl", pid=PID, original_language="pt", fulltext_languages=["pt", "en", "es"]
    )
    again = articlemeta_document(
        collection="scl", pid=PID, original_language="pt", fulltext_languages=["pt", "es", "en"]
    )
    a, b = map_articlemeta(dump(first)), map_articlemeta(dump(again))
    assert a.languages == b.languages == ["pt", "en", "es"]
    assert fingerprint(a, "a" * 64) == fingerprint(b, "a" * 64)

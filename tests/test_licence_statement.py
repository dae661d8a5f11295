"""The licence statement on a PDF's first page, in English, Portuguese and Spanish."""

from __future__ import annotations

import unicodedata

import pytest

from archive_ingest.licence import LicenceClaim, parse_licence_statement
from tests.support.licence_statements import BY_NC_SA_30, EN, ES, PT

CITATION = (
    "PABLO. Building the Industrial Cordons: Maipú-Cerrillos. In HENFREY, C., and SORJ, B. "
    "Chilean Voices: activists describe their experiences of the Popular Unity Period "
    "[online]. Rio de Janeiro: Centro Edelstein de Pesquisas Sociais, 2008. pp. 40-52. ISBN: "
    "978-85-99662-84-7. Available from SciELO Books <http://books.scielo.org>."
)
PAGE_ONE = "\n".join([CITATION, EN, PT, ES])


def _cc(claims: list[LicenceClaim]) -> list[LicenceClaim]:
    return [c for c in claims if c.kind == "cc"]


def test_scielo_page_one_gives_one_strong_claim_per_language() -> None:
    claims = parse_licence_statement(PAGE_ONE)
    assert [c.language for c in claims] == ["en", "pt", "es"]
    assert all(c.kind == "cc" and c.canonical_uri == BY_NC_SA_30 for c in claims)
    assert all(c.strength == "strong" and c.source == "pdf" for c in claims)
    spans = [c.text_span for c in claims]
    assert all(s is not None for s in spans)
    assert spans[0].text == (  # type: ignore[union-attr]
        "Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported"
    )
    assert spans[1].text == (  # type: ignore[union-attr]
        "Creative Commons Atribuição - Uso Não Comercial - Partilha nos Mesmos Termos 3.0 "
        "Não adaptada"
    )
    assert spans[2].text == (  # type: ignore[union-attr]
        "Creative Commons Reconocimento-NoComercial-CompartirIgual 3.0 Unported"
    )
    for span in spans:
        assert PAGE_ONE[span.start : span.end] == span.text  # type: ignore[union-attr]


@pytest.mark.parametrize(("statement", "language"), [(EN, "en"), (PT, "pt"), (ES, "es")])
def test_each_language_alone(statement: str, language: str) -> None:
    (claim,) = parse_licence_statement(statement)
    assert claim.canonical_uri == BY_NC_SA_30
    assert claim.language == language


def _strip_diacritics(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@pytest.mark.parametrize(
    "variant",
    [
        PAGE_ONE.upper(),
        PAGE_ONE.lower(),
        _strip_diacritics(PAGE_ONE),  # "Atribuicao", "Nao Comercial", "Nao adaptada"
        PAGE_ONE.replace(" ", "  "),
        PAGE_ONE.replace("Non Commercial", "NonCommercial").replace("3.0 Unported", "3.0Unported"),
        PAGE_ONE.replace("Attribution-Non", "Attribution - Non").replace(
            "-ShareAlike", "- ShareAlike"
        ),
        PAGE_ONE.replace("-", "\u2013"),  # en dashes
        PAGE_ONE.replace("Reconocimento", "Reconocimiento"),
        PAGE_ONE.replace("3.0", "3,0"),
        PAGE_ONE.replace("Creative Commons", "Creative\nCommons"),
        PAGE_ONE.replace("Partilha nos Mesmos", "Partilha nos\nMesmos"),
        PAGE_ONE.replace("Não Comercial", "Não Comer-\ncial"),  # hyphenated at a line break
        PAGE_ONE.replace("Attribution-Non", "Attribution-\nNon"),
        PAGE_ONE.replace("Reconocimento-NoComercial", "Reconoci-\nmento-No-\nComercial"),
        PAGE_ONE.replace("ShareAlike", "Share\u00adAlike"),  # soft hyphen
        PAGE_ONE.replace("\n", " "),
        PAGE_ONE.replace("\n", "\r\n"),
    ],
)
def test_case_spacing_diacritic_and_line_break_variants(variant: str) -> None:
    claims = parse_licence_statement(variant)
    assert [c.language for c in claims] == ["en", "pt", "es"]
    assert [c.canonical_uri for c in claims] == [BY_NC_SA_30] * 3
    for c in claims:
        assert c.text_span is not None
        assert variant[c.text_span.start : c.text_span.end] == c.text_span.text


@pytest.mark.parametrize(
    ("statement", "uri", "language"),
    [
        (
            "is licensed under a Creative Commons Attribution 4.0 International license.",
            "https://creativecommons.org/licenses/by/4.0/",
            "en",
        ),
        (
            "é publicado sob a licença Creative Commons Atribição 4.0.",
            "https://creativecommons.org/licenses/by/4.0/",
            "pt",
        ),
        (
            "está bajo licencia de la licencia Creative Commons Reconocimento 4.0.",
            "https://creativecommons.org/licenses/by/4.0/",
            "es",
        ),
        (
            "sob a licença Creative Commons Atribuição-NãoComercial-SemDerivações 4.0 "
            "Internacional",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            "pt",
        ),
        (
            "bajo licencia Creative Commons Atribución-NoComercial-SinDerivadas 4.0 Internacional",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            "es",
        ),
        (
            "licensed under a Creative Commons Attribution-NoDerivs 3.0 Unported License",
            "https://creativecommons.org/licenses/by-nd/3.0/",
            "en",
        ),
        (
            "publicado sob a licença Creative Commons Atribuição-Vedada a criação de obras "
            "derivadas 3.0 Brasil",
            "https://creativecommons.org/licenses/by-nd/3.0/br/",
            "pt",
        ),
        (
            "publicado sob a licença Creative Commons Atribuição-Uso não-comercial-"
            "Compartilhamento pela mesma licença 3.0 Brasil",
            "https://creativecommons.org/licenses/by-nc-sa/3.0/br/",
            "pt",
        ),
        (
            "licensed under a Creative Commons Attribution-NonCommercial 3.0 Brazil License",
            "https://creativecommons.org/licenses/by-nc/3.0/br/",
            "en",
        ),
        (
            "bajo licencia Creative Commons Reconocimiento-CompartirIgual 3.0 España",
            "https://creativecommons.org/licenses/by-sa/3.0/es/",
            "es",
        ),
        (
            "bajo licencia Creative Commons Atribución-SinDerivadas 2.5 Argentina",
            "https://creativecommons.org/licenses/by-nd/2.5/ar/",
            "es",
        ),
        (
            "dedicated to the public domain under Creative Commons Zero 1.0 Universal",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            "en",
        ),
    ],
)
def test_other_licences_versions_and_ports(statement: str, uri: str, language: str) -> None:
    claims = _cc(parse_licence_statement(statement))
    assert len(claims) == 1
    assert claims[0].canonical_uri == uri
    assert claims[0].language == language
    assert claims[0].strength == "strong"


def test_conflicting_statements_in_one_pdf_are_separate_claims() -> None:
    page = PAGE_ONE.replace("Partilha nos Mesmos Termos", "Vedada a criação de obras derivadas")
    claims = parse_licence_statement(page)
    assert [(c.language, c.canonical_uri) for c in claims] == [
        ("en", BY_NC_SA_30),
        ("pt", "https://creativecommons.org/licenses/by-nc-nd/3.0/"),
        ("es", BY_NC_SA_30),
    ]


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("licensed under a Creative Commons Attribution 5.0 International", "no version 5.0"),
        ("licensed under a Creative Commons Attribution 4.0 Brasil License", "never ported"),
        ("licensed under a Creative Commons Attribution 3.0 Uruguay", "Uruguay"),
    ],
)
def test_fake_licences_in_statements(statement: str, why: str) -> None:
    (claim,) = parse_licence_statement(statement)
    assert claim.kind == "not_real"
    assert claim.problem is not None and why in claim.problem


def test_statement_without_version_is_partial_and_weak() -> None:
    text = (
        "This is an Open Access article distributed under the terms of the Creative Commons "
        "Attribution License, which permits unrestricted use."
    )
    (claim,) = parse_licence_statement(text)
    assert claim.kind == "partial"
    assert claim.strength == "weak"
    assert claim.elements == ("by",)
    assert claim.text_span is not None
    assert claim.text_span.text == "Creative Commons Attribution License"


def test_creative_commons_without_any_licence_is_partial() -> None:
    (claim,) = parse_licence_statement("This book is licensed under a Creative Commons license.")
    assert claim.kind == "partial"
    assert claim.elements == ()


@pytest.mark.parametrize(
    "statement",
    [
        "licensed under a Creative Commons Attribution-FooBar 4.0 International",
        "publicado sob a licença Creative Commons Atrbuicao-NaoComrcial 3.0",
    ],
)
def test_unreadable_statements_are_unrecognised(statement: str) -> None:
    (claim,) = parse_licence_statement(statement)
    assert claim.kind == "unrecognised"
    assert claim.problem
    assert claim.text_span is not None and claim.text_span.text.startswith("Creative Commons")


def test_licence_urls_and_codes_on_the_page_are_claims() -> None:
    page = (
        "Received 2020. Licença CC BY-NC 4.0. "
        "https://creativecommons.org/licenses/by-nc/4.0/deed.pt"
    )
    claims = parse_licence_statement(page)
    assert [c.canonical_uri for c in claims] == [
        "https://creativecommons.org/licenses/by-nc/4.0/"
    ] * 2
    assert [c.note for c in claims] == [None, "url"]


def test_statement_followed_by_a_different_code_is_a_conflict_in_the_pdf() -> None:
    page = "Creative Commons Attribution 4.0 International License (CC BY-NC 4.0)"
    uris = [c.canonical_uri for c in parse_licence_statement(page)]
    assert uris == [
        "https://creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/licenses/by-nc/4.0/",
    ]


def test_statement_followed_by_its_own_code_is_one_claim() -> None:
    page = "Creative Commons Attribution 4.0 International License (CC BY 4.0)"
    assert len(parse_licence_statement(page)) == 1


def test_all_rights_reserved_on_the_page_is_a_non_cc_claim() -> None:
    claims = parse_licence_statement(
        "Copyright © 2008 Editora. Todos os direitos reservados. " + PT
    )
    assert [c.kind for c in claims] == ["non_cc", "cc"]


@pytest.mark.parametrize(
    "text", ["", "   ", "Chapter 3. The industrial cordons of Santiago.", "by 4.0 and beyond"]
)
def test_pages_without_licence_give_no_claim(text: str) -> None:
    assert parse_licence_statement(text) == []

"""Licence codes, URLs and HTML snippets from publisher metadata."""

from __future__ import annotations

import pytest

from archive_ingest.licence import LicenceClaim, parse_licence_code

BY_NC_SA_30 = "https://creativecommons.org/licenses/by-nc-sa/3.0/"
BY_40 = "https://creativecommons.org/licenses/by/4.0/"


def _only(claims: list[LicenceClaim]) -> LicenceClaim:
    assert len(claims) == 1, claims
    return claims[0]


@pytest.mark.parametrize(
    ("value", "uri"),
    [
        # SciELO Books use_licence
        ("CC BY-NC-SA 3.0", BY_NC_SA_30),
        ("CC BY-NC-SA 3.0 ", BY_NC_SA_30),
        ("cc by-nc-sa 3.0", BY_NC_SA_30),
        ("CC  BY - NC - SA   3.0", BY_NC_SA_30),
        ("CC BY NC SA 3.0", BY_NC_SA_30),
        # ArticleMeta "license"
        ("by/4.0", BY_40),
        ("by-nc/4.0", "https://creativecommons.org/licenses/by-nc/4.0/"),
        ("by-nc/3.0", "https://creativecommons.org/licenses/by-nc/3.0/"),
        # hand-typed forms
        ("CC-BY 4.0", BY_40),
        ("CC BY 4", BY_40),
        ("cc_by_4", BY_40),
        ("CC BY v4.0", BY_40),
        ("CC BY 4.0 International", BY_40),
        ("Creative Commons BY-NC-SA 3.0", BY_NC_SA_30),
        # SPDX
        ("CC-BY-NC-SA-3.0", BY_NC_SA_30),
        ("CC-BY-4.0", BY_40),
        ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        ("CC-BY-3.0-BR", "https://creativecommons.org/licenses/by/3.0/br/"),
        ("CC-BY-SA-3.0-IGO", "https://creativecommons.org/licenses/by-sa/3.0/igo/"),
        ("CC-BY-NC-ND-1.0", "https://creativecommons.org/licenses/by-nd-nc/1.0/"),
        ("CC-PDDC", "https://creativecommons.org/publicdomain/certification/1.0/us/"),
        ("CC-PDM-1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
        # identifiers as Creative Commons writes them
        ("CC BY-NC 3.0 BR", "https://creativecommons.org/licenses/by-nc/3.0/br/"),
        ("CC BY 3.0 IGO", "https://creativecommons.org/licenses/by/3.0/igo/"),
        ("CC BY-SA 2.5 CO", "https://creativecommons.org/licenses/by-sa/2.5/co/"),
        ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        ("CC0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        ("PDM 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
        ("Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
        # a port by name
        ("CC BY-NC 3.0 Brasil", "https://creativecommons.org/licenses/by-nc/3.0/br/"),
        ("CC BY 2.5 Colombia", "https://creativecommons.org/licenses/by/2.5/co/"),
        # URLs (JATS <license xlink:href>, ArticleMeta licence URL)
        ("http://creativecommons.org/licenses/by/4.0/", BY_40),
        ("https://creativecommons.org/licenses/by/4.0/legalcode", BY_40),
        ("creativecommons.org/licenses/by/4.0/deed.pt_BR", BY_40),
        # words
        ("Creative Commons Attribution 4.0 International", BY_40),
        (
            "Atribuição-NãoComercial-CompartilhaIgual 3.0 via Creative Commons BY-NC-SA 3.0",
            BY_NC_SA_30,
        ),
    ],
)
def test_metadata_codes_normalise_to_canonical_uris(value: str, uri: str) -> None:
    claim = _only(parse_licence_code(value))
    assert claim.kind == "cc"
    assert claim.canonical_uri == uri
    assert claim.strength == "strong"
    assert claim.source == "metadata"


def test_articlemeta_v540_html_is_read_from_its_link() -> None:
    v540 = (
        "Este é um artigo publicado em acesso aberto sob uma licença Creative Commons "
        '<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/deed.pt">'
        '<img alt="Licença Creative Commons" src="https://i.creativecommons.org/l/by-nc/4.0/'
        '88x31.png"></a>'
    )
    claims = parse_licence_code(v540)
    assert [c.canonical_uri for c in claims if c.kind == "cc"] == [
        "https://creativecommons.org/licenses/by-nc/4.0/"
    ]
    span = claims[0].text_span
    assert span is not None
    assert v540[span.start : span.end] == span.text
    assert span.text == "https://creativecommons.org/licenses/by-nc/4.0/deed.pt"
    # the words "licença Creative Commons" around the link are not a second, partial claim
    assert all(c.kind == "cc" for c in claims)


def test_html_link_and_its_text_agreeing_give_one_claim_each_way() -> None:
    html = (
        "This work is licensed under a "
        '<a href="http://creativecommons.org/licenses/by/4.0/">'
        "http://creativecommons.org/licenses/by/4.0/</a>."
    )
    claims = parse_licence_code(html)
    assert {c.canonical_uri for c in claims} == {BY_40}


def test_html_link_and_anchor_text_disagreeing_are_both_reported() -> None:
    html = '<a href="http://creativecommons.org/licenses/by/4.0/">CC BY-NC 4.0</a>'
    uris = {c.canonical_uri for c in parse_licence_code(html)}
    assert uris == {BY_40, "https://creativecommons.org/licenses/by-nc/4.0/"}


def test_span_points_at_the_code_in_the_original_value() -> None:
    value = "Licença: CC BY-NC-SA 3.0 (ver site)"
    claim = _only(parse_licence_code(value))
    assert claim.text_span is not None
    assert claim.text_span.text == "CC BY-NC-SA 3.0"
    assert value[claim.text_span.start : claim.text_span.end] == "CC BY-NC-SA 3.0"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("CC BY-NC-SA 5.0", "no version 5.0"),
        ("by-nc-sa/5.0", "no version 5.0"),
        ("https://creativecommons.org/licenses/by-nc-sa/5.0/", "no version 5.0"),
        ("by-xx/3.0", "'XX' is not a Creative Commons licence element"),
        ("CC BY 4.0 Brasil", "never ported"),
        ("CC-BY-4.0-BR", "never ported"),
        ("https://creativecommons.org/licenses/by/4.0/br/", "never ported"),
        ("CC BY 3.0 Uruguay", "Uruguay"),
        ("CC BY-ND-SA 3.0", "ShareAlike"),
    ],
)
def test_fake_licences_are_not_real(value: str, why: str) -> None:
    claim = _only(parse_licence_code(value))
    assert claim.kind == "not_real"
    assert claim.canonical_uri is None
    assert claim.problem is not None
    assert "not a real Creative Commons licence" in claim.problem
    assert why in claim.problem


@pytest.mark.parametrize(
    "value",
    [
        "All rights reserved",
        "all rights reserved.",
        "© 2019 Editora Fiocruz. Todos os direitos reservados.",
        "Todos los derechos reservados",
        "GNU General Public License v3",
        "GPL-3.0",
        "MIT",
        "Apache License 2.0",
        "http://creativecommons.org/licenses/GPL/2.0/",
    ],
)
def test_non_cc_licences_are_recognised(value: str) -> None:
    claims = parse_licence_code(value)
    assert claims
    assert all(c.kind == "non_cc" for c in claims)
    assert all(c.problem for c in claims)


def test_cc_some_rights_reserved_badge_is_not_all_rights_reserved() -> None:
    claims = parse_licence_code("Alguns direitos reservados. CC BY 4.0")
    assert [c.kind for c in claims] == ["cc"]


@pytest.mark.parametrize(
    ("value", "elements"),
    [("CC BY", ("by",)), ("CC BY-NC-SA", ("by", "nc", "sa")), ("by-nc", ("by", "nc"))],
)
def test_codes_without_version_are_partial(value: str, elements: tuple[str, ...]) -> None:
    claim = _only(parse_licence_code(value))
    assert claim.kind == "partial"
    assert claim.strength == "weak"
    assert claim.elements == elements
    assert claim.version is None


@pytest.mark.parametrize(
    "value",
    ["", "   ", "Open Access", "licensed by the author", "by the way, 4.0 is a number"],
)
def test_values_naming_no_licence_give_no_claim(value: str) -> None:
    assert parse_licence_code(value) == []


def test_lowercase_two_letters_after_a_version_are_not_a_port() -> None:
    claim = parse_licence_code("CC BY 4.0 in this journal")[0]
    assert claim.kind == "cc"
    assert claim.canonical_uri == BY_40


def test_two_licences_in_one_value_are_two_claims() -> None:
    claims = parse_licence_code("CC BY 4.0 / CC BY-NC 4.0")
    assert [c.canonical_uri for c in claims] == [
        BY_40,
        "https://creativecommons.org/licenses/by-nc/4.0/",
    ]

"""Property tests (hypothesis) for the licence parsers and the canonical URI table."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_ingest.licence import (
    CcLicence,
    LicenceClaim,
    LicencePolicy,
    LicenceVerdict,
    canonical_uri,
    dc_rights_text,
    elements_of,
    licence_from_uri,
    licence_table,
    parse_licence_code,
    parse_licence_statement,
    parse_xmp,
    validate_licence,
)

LICENCES = list(licence_table())
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fragments that steer random text into the parsers' interesting paths.
FRAGMENTS = [
    "Creative Commons", "creative commons", "CreativeCommons", "CC", "cc", "BY", "by", "NC",
    "ND", "SA", "-", "/", "_", "4.0", "3.0", "2.5", "1.0", "5.0", "v", "BR", "Brasil", "IGO",
    "Unported", "Não adaptada", "International", "Attribution", "Atribuição", "Reconocimento",
    "Non Commercial", "NoComercial", "Uso Não Comercial", "ShareAlike", "CompartirIgual",
    "Partilha nos Mesmos Termos", "NoDerivs", "SinDerivadas", "licença", "license", "cc0",
    "zero", "PDM", "http://", "https://www.", "creativecommons.org/licenses/",
    "creativecommons.org/publicdomain/zero/1.0/", "legalcode", "deed.pt_BR", "<a href='",
    "'>", "</a>", "&amp;", "all rights reserved", "Todos os direitos reservados", "GPL",
    "(", ")", ".", ",", " ", "  ", "\n", "-\n", "\u2013", "\u00ad",
]  # fmt: skip
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join)
glued_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=400), fragment_text, glued_text)


def _spans_match(claims: list[LicenceClaim], original: str) -> None:
    for c in claims:
        if c.text_span is not None:
            assert original[c.text_span.start : c.text_span.end] == c.text_span.text
            assert c.text_span.start <= c.text_span.end


@FAST
@given(any_text)
def test_code_parser_never_raises_and_spans_are_exact(text: str) -> None:
    claims = parse_licence_code(text)
    _spans_match(claims, text)
    for c in claims:
        assert (c.kind == "cc") == (c.canonical_uri is not None)
        if c.canonical_uri:
            assert licence_table().get(c.canonical_uri) is not None


@FAST
@given(any_text)
def test_statement_parser_never_raises_and_spans_are_exact(text: str) -> None:
    claims = parse_licence_statement(text)
    _spans_match(claims, text)
    assert all(c.language in (None, "en", "pt", "es") for c in claims)


@FAST
@given(any_text, any_text, any_text)
def test_validation_never_raises(meta: str, page: str, xmp: str) -> None:
    v = validate_licence(metadata=[meta], pdf_text=page, xmp=xmp, policy=LicencePolicy())
    assert v.outcome in ("valid", "needs_review", "rejected")
    assert v.reasons
    if v.outcome == "valid":
        assert v.uri is not None
    assert LicenceVerdict.from_json(v.to_json()) == v


xml_names = st.sampled_from(
    ["x:xmpmeta", "rdf:RDF", "rdf:Description", "xmpRights:WebStatement", "cc:license",
     "xmpRights:UsageTerms", "dc:rights", "rdf:Alt", "rdf:li", "xmpRights:Marked", "foo"]
)  # fmt: skip


@st.composite
def xmlish(draw: st.DrawFn) -> str:
    """Random, mostly well-formed XMP-like documents with random licence text inside."""
    depth = draw(st.integers(0, 4))
    names = [draw(xml_names) for _ in range(depth)]
    inner = draw(any_text).replace("&", "&amp;").replace("<", "&lt;")
    attrs = draw(st.sampled_from(["", ' rdf:resource="' + inner.replace('"', "") + '"']))
    doc = inner
    for name in reversed(names):
        doc = f"<{name}{attrs}>{doc}</{name}>"
    ns = (
        'xmlns:x="adobe:ns:meta/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
        'xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    )
    doc = f"<root {ns}>{doc}</root>"
    if draw(st.booleans()):
        doc = doc[: draw(st.integers(0, len(doc)))]  # truncated
    return doc


@FAST
@given(st.one_of(xmlish(), any_text, st.binary(max_size=300)))
def test_xmp_parser_never_raises(xmp: str | bytes) -> None:
    claims = parse_xmp(xmp)
    assert all(c.source == "xmp" for c in claims)


# --- canonical URI <-> elements ----------------------------------------------------------


def test_every_licence_round_trips_uri_elements_uri() -> None:
    for lic in LICENCES:
        elements = elements_of(lic.uri)
        assert elements == lic.elements
        assert canonical_uri(elements, lic.version, lic.port) == lic.uri


def test_every_identifier_parses_back_to_its_licence() -> None:
    for lic in LICENCES:
        claims = parse_licence_code(lic.label)
        assert [c.canonical_uri for c in claims] == [lic.uri], lic.label


def test_every_rights_statement_parses_back_to_its_licence() -> None:
    for lic in LICENCES:
        text = dc_rights_text(LicenceVerdict(outcome="valid", uri=lic.uri))
        claims = parse_licence_statement(text)
        assert claims, text
        assert {c.canonical_uri for c in claims} == {lic.uri}, text


@st.composite
def url_variant(draw: st.DrawFn) -> tuple[CcLicence, str]:
    lic = draw(st.sampled_from(LICENCES))
    scheme = draw(st.sampled_from(["https://", "http://", "//", ""]))
    www = draw(st.sampled_from(["", "www."]))
    path = lic.path
    suffix = draw(
        st.sampled_from(["", "legalcode", "legalcode.pt", "deed.pt", "deed.pt_BR", "deed.es_ES"])
    )
    if suffix:
        url = f"{scheme}{www}creativecommons.org/{path}{suffix}"
    else:
        url = f"{scheme}{www}creativecommons.org/{path}"
        if draw(st.booleans()):
            url = url.rstrip("/")
    if draw(st.booleans()):
        url = url.upper()
    return lic, url


@FAST
@given(url_variant())
def test_url_variants_round_trip_to_the_canonical_uri(case: tuple[CcLicence, str]) -> None:
    lic, url = case
    assert licence_from_uri(url) == lic
    claims = parse_licence_code(url)
    assert [c.canonical_uri for c in claims] == [lic.uri]
    again = licence_from_uri(lic.uri)
    assert again is not None and again.uri == lic.uri


# --- the SciELO statements survive case, spacing and diacritic noise ----------------------

STATEMENTS = {
    "en": "is licensed under a Creative Commons Attribution-Non Commercial-ShareAlike 3.0 "
    "Unported.",
    "pt": "é publicado sob a licença Creative Commons Atribuição - Uso Não Comercial - Partilha "
    "nos Mesmos Termos 3.0 Não adaptada.",
    "es": "está bajo licencia de la licencia Creative Commons Reconocimento-NoComercial-"
    "CompartirIgual 3.0 Unported.",
}
ACCENTS = str.maketrans("çãéáíóúâêô", "caeaiouaeo")


@st.composite
def noisy_statement(draw: st.DrawFn) -> tuple[str, str]:
    language = draw(st.sampled_from(sorted(STATEMENTS)))
    text = STATEMENTS[language]
    if draw(st.booleans()):
        text = text.translate(ACCENTS)
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    text = "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=True))
    spaces = st.sampled_from([" ", "  ", "\n", " \n ", "\t", "\r\n"])
    words = text.split(" ")
    text = words[0] + "".join(draw(spaces) + w for w in words[1:])
    return language, text


@settings(max_examples=200, deadline=None)
@given(noisy_statement())
def test_statements_survive_case_spacing_and_accent_noise(case: tuple[str, str]) -> None:
    language, text = case
    claims = parse_licence_statement(text)
    assert [c.canonical_uri for c in claims] == [
        "https://creativecommons.org/licenses/by-nc-sa/3.0/"
    ]
    assert claims[0].language == language


@FAST
@given(st.text(alphabet=string.ascii_letters + string.digits + " -_./", max_size=60))
def test_codes_from_an_ascii_alphabet_never_raise(text: str) -> None:
    parse_licence_code(text)

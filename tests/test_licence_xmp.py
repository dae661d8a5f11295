"""Licence evidence in XMP packets, and hostile XMP refused safely."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archive_ingest.licence import parse_xmp

BY_NC_SA_30 = "https://creativecommons.org/licenses/by-nc-sa/3.0/"

NS = (
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
    'xmlns:cc="http://creativecommons.org/ns#" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def packet(body: str, attrs: str = "") -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f"<rdf:RDF {NS}>\n"
        f'<rdf:Description rdf:about="" {attrs}>\n{body}\n</rdf:Description>\n'
        "</rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def test_web_statement_and_cc_license_urls_are_strong() -> None:
    xmp = packet(
        "<xmpRights:Marked>True</xmpRights:Marked>"
        "<xmpRights:WebStatement>http://creativecommons.org/licenses/by-nc-sa/3.0/"
        "</xmpRights:WebStatement>"
        '<cc:license rdf:resource="https://creativecommons.org/licenses/by-nc-sa/3.0/legalcode"/>'
    )
    claims = parse_xmp(xmp)
    assert [(c.locator, c.kind, c.canonical_uri, c.strength) for c in claims] == [
        ("xmpRights:WebStatement", "cc", BY_NC_SA_30, "strong"),
        ("cc:license", "cc", BY_NC_SA_30, "strong"),
    ]
    assert all(c.source == "xmp" for c in claims)
    assert all(c.note and "xmpRights:Marked=True" in c.note for c in claims)
    web = claims[0].text_span
    assert web is not None and web.text == "http://creativecommons.org/licenses/by-nc-sa/3.0/"


def test_attribute_form_and_bytes_input() -> None:
    xmp = packet(
        "",
        attrs='xmpRights:Marked="True" '
        'xmpRights:WebStatement="https://creativecommons.org/licenses/by/4.0/"',
    )
    claims = parse_xmp(xmp.encode("utf-8"))
    assert [c.canonical_uri for c in claims] == ["https://creativecommons.org/licenses/by/4.0/"]


def test_usage_terms_text_is_weak_evidence() -> None:
    xmp = packet(
        "<xmpRights:UsageTerms><rdf:Alt>"
        '<rdf:li xml:lang="x-default">This work is licensed under a Creative Commons '
        "Attribution-NonCommercial-ShareAlike 3.0 Unported License.</rdf:li>"
        "</rdf:Alt></xmpRights:UsageTerms>"
    )
    (claim,) = parse_xmp(xmp)
    assert claim.kind == "cc"
    assert claim.canonical_uri == BY_NC_SA_30
    assert claim.strength == "weak"
    assert claim.locator == "xmpRights:UsageTerms"


def test_cc_license_as_a_code_is_weak() -> None:
    (claim,) = parse_xmp(packet("<cc:license>CC BY 4.0</cc:license>"))
    assert claim.kind == "cc"
    assert claim.strength == "weak"


def test_dc_rights_copyright_line_is_not_a_claim_but_reserved_rights_are() -> None:
    plain = packet(
        '<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">© 2008 Centro Edelstein</rdf:li>'
        "</rdf:Alt></dc:rights>"
    )
    assert parse_xmp(plain) == []
    reserved = packet(
        '<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">© 2008 Editora. Todos os direitos '
        "reservados.</rdf:li></rdf:Alt></dc:rights>"
    )
    (claim,) = parse_xmp(reserved)
    assert claim.kind == "non_cc"
    assert claim.locator == "dc:rights"


def test_web_statement_that_is_not_a_licence_is_unrecognised() -> None:
    (claim,) = parse_xmp(
        packet("<xmpRights:WebStatement>http://www.scielo.br</xmpRights:WebStatement>")
    )
    assert claim.kind == "unrecognised"
    assert claim.strength == "weak"


def test_fake_licence_url_in_xmp() -> None:
    (claim,) = parse_xmp(
        packet(
            "<xmpRights:WebStatement>https://creativecommons.org/licenses/by/5.0/"
            "</xmpRights:WebStatement>"
        )
    )
    assert claim.kind == "not_real"


def test_packet_without_licence_fields_gives_nothing() -> None:
    assert parse_xmp(packet("<dc:title>A book</dc:title>")) == []
    assert parse_xmp("") == []


def test_xxe_is_refused_and_the_file_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT creativecommons.org/licenses/by/4.0/")
    xmp = (
        f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        + packet("<xmpRights:WebStatement>&xxe;</xmpRights:WebStatement>").split("\n", 1)[1]
    )
    (claim,) = parse_xmp(xmp)
    assert claim.kind == "refused"
    assert claim.canonical_uri is None
    assert "TOP-SECRET" not in claim.model_dump_json()
    assert claim.problem is not None and "DTD" in claim.problem


def test_external_dtd_is_refused_without_fetching() -> None:
    xmp = '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><x/>'
    (claim,) = parse_xmp(xmp)
    assert claim.kind == "refused"


def test_billion_laughs_is_refused_quickly() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    xmp = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]>'
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>'
    )
    started = time.perf_counter()
    (claim,) = parse_xmp(xmp)
    assert time.perf_counter() - started < 1.0
    assert claim.kind == "refused"


@pytest.mark.parametrize(
    "xmp",
    ["<x:xmpmeta", "not xml at all", b"\xff\xfe\x00garbage", "<a><b></a>"],
)
def test_malformed_xmp_is_unrecognised_not_an_exception(xmp: str | bytes) -> None:
    (claim,) = parse_xmp(xmp)
    assert claim.kind == "unrecognised"
    assert claim.problem and "not well-formed" in claim.problem


def test_oversized_packet_is_refused() -> None:
    huge = packet("<dc:title>" + "x" * (5 * 1024 * 1024) + "</dc:title>")
    (claim,) = parse_xmp(huge)
    assert claim.kind == "refused"

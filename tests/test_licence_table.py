"""The table of real Creative Commons licences, canonical URIs and URL normalisation."""

from __future__ import annotations

import pytest

from archive_ingest.licence import (
    CcLicence,
    canonical_uri,
    elements_of,
    licence_from_uri,
    licence_table,
    lookup,
    parse_cc_url,
)

TABLE = licence_table()


def test_table_has_every_row_of_the_cc_legal_tools_list() -> None:
    # config/cc-legal-tools.csv at the commit named in PROVENANCE.md has 639 rows
    assert len(TABLE) == 639
    assert TABLE.source["commit"] == "b5f0188e91e954fa157ec1ada61bccaa03967c94"
    by_version: dict[str, int] = {}
    for lic in TABLE:
        if lic.category == "licenses":
            by_version[lic.version] = by_version.get(lic.version, 0) + 1
    assert by_version == {"1.0": 48, "2.0": 120, "2.1": 24, "2.5": 174, "3.0": 264, "4.0": 6}


def test_canonical_uris_are_unique_https_with_trailing_slash() -> None:
    uris = [lic.uri for lic in TABLE]
    assert len(set(uris)) == len(uris)
    for uri in uris:
        assert uri.startswith("https://creativecommons.org/")
        assert uri.endswith("/")
        assert uri == uri.lower() or "sampling+" in uri


@pytest.mark.parametrize(
    ("elements", "version", "port", "uri"),
    [
        (("by", "nc", "sa"), "3.0", None, "https://creativecommons.org/licenses/by-nc-sa/3.0/"),
        (("by", "nc", "sa"), "3.0", "br", "https://creativecommons.org/licenses/by-nc-sa/3.0/br/"),
        (("by",), "2.5", "co", "https://creativecommons.org/licenses/by/2.5/co/"),
        (("by",), "2.5", "mx", "https://creativecommons.org/licenses/by/2.5/mx/"),
        (("by",), "2.5", "pe", "https://creativecommons.org/licenses/by/2.5/pe/"),
        (("by",), "2.5", "ar", "https://creativecommons.org/licenses/by/2.5/ar/"),
        (("by", "sa"), "3.0", "es", "https://creativecommons.org/licenses/by-sa/3.0/es/"),
        (("by", "nd"), "3.0", "cl", "https://creativecommons.org/licenses/by-nd/3.0/cl/"),
        (("by",), "3.0", "igo", "https://creativecommons.org/licenses/by/3.0/igo/"),
        (("by", "nc", "nd"), "4.0", None, "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
        # 1.0 wrote ND before NC; elements are compared as a set
        (("by", "nc", "nd"), "1.0", None, "https://creativecommons.org/licenses/by-nd-nc/1.0/"),
        (
            ("nc", "sampling+"),
            "1.0",
            None,
            "https://creativecommons.org/licenses/nc-sampling+/1.0/",
        ),
        (("devnations",), "2.0", None, "https://creativecommons.org/licenses/devnations/2.0/"),
        (("sa",), "1.0", "fi", "https://creativecommons.org/licenses/sa/1.0/fi/"),
        (("zero",), "1.0", None, "https://creativecommons.org/publicdomain/zero/1.0/"),
        (("mark",), "1.0", None, "https://creativecommons.org/publicdomain/mark/1.0/"),
        (
            ("certification",),
            "1.0",
            "us",
            "https://creativecommons.org/publicdomain/certification/1.0/us/",
        ),
    ],
)
def test_real_licences_have_their_canonical_uri(
    elements: tuple[str, ...], version: str, port: str | None, uri: str
) -> None:
    assert canonical_uri(elements, version, port) == uri
    assert elements_of(uri) is not None
    assert set(elements_of(uri) or ()) == set(elements)


@pytest.mark.parametrize(
    ("elements", "version", "port"),
    [
        (("by", "nc", "sa"), "5.0", None),  # no version 5.0
        (("by",), "4.0", "br"),  # 4.0 was never ported
        (("by",), "3.0", "uy"),  # no Uruguay port ever
        (("by",), "2.1", None),  # 2.1 exists only as ports
        (("by", "nd", "sa"), "3.0", None),  # ND and SA never combine
        (("nc",), "3.0", None),  # the NC-only licence existed only in 1.0 (and 2.0 Japan)
        (("by", "xx"), "3.0", None),
        (("sampling",), "2.0", None),
        (("zero",), "2.0", None),
        (("by",), "2.5", "cl"),  # Chile was ported in 2.0 and 3.0, not 2.5
    ],
)
def test_licences_that_never_existed_have_no_uri(
    elements: tuple[str, ...], version: str, port: str | None
) -> None:
    assert canonical_uri(elements, version, port) is None
    assert TABLE.why_not_real(elements, version, port)


def test_why_not_real_explains_the_problem() -> None:
    assert "no version 5.0" in (TABLE.why_not_real(("by", "nc", "sa"), "5.0", None) or "")
    assert "never ported" in (TABLE.why_not_real(("by",), "4.0", "br") or "")
    assert "Uruguay" in (TABLE.why_not_real(("by",), "3.0", "uy") or "")
    assert "'XX'" in (TABLE.why_not_real(("by", "xx"), "3.0", None) or "")
    assert "ShareAlike" in (TABLE.why_not_real(("by", "nd", "sa"), "3.0", None) or "")
    assert TABLE.why_not_real(("by",), "4.0", None) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://creativecommons.org/licenses/by-nc-sa/3.0/",
        "http://creativecommons.org/licenses/by-nc-sa/3.0/",
        "http://www.creativecommons.org/licenses/by-nc-sa/3.0/",
        "https://creativecommons.org/licenses/by-nc-sa/3.0",
        "creativecommons.org/licenses/by-nc-sa/3.0/",
        "//creativecommons.org/licenses/by-nc-sa/3.0/",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/legalcode",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/legalcode.pt",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/deed.pt",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/deed.pt_BR",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/deed.es_ES",
        "HTTPS://CREATIVECOMMONS.ORG/LICENSES/BY-NC-SA/3.0/",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/?ref=chooser#x",
    ],
)
def test_url_variants_normalise_to_one_canonical_uri(url: str) -> None:
    lic = licence_from_uri(url)
    assert lic is not None
    assert lic.uri == "https://creativecommons.org/licenses/by-nc-sa/3.0/"


def test_ported_url_variants_keep_the_port() -> None:
    for url in (
        "http://creativecommons.org/licenses/by/3.0/br/",
        "http://creativecommons.org/licenses/by/3.0/br",
        "http://creativecommons.org/licenses/by/3.0/br/deed.pt_BR",
        "http://creativecommons.org/licenses/by/3.0/br/legalcode",
    ):
        lic = licence_from_uri(url)
        assert lic is not None and lic.uri == "https://creativecommons.org/licenses/by/3.0/br/"


def test_parse_cc_url_reads_fake_licences_without_judging() -> None:
    parts = parse_cc_url("https://creativecommons.org/licenses/by-nc-sa/5.0/")
    assert parts is not None
    assert (parts.unit, parts.version, parts.port) == ("by-nc-sa", "5.0", None)
    assert lookup(parts.elements, parts.version, parts.port) is None
    assert parse_cc_url("https://example.org/licenses/by/4.0/") is None
    assert parse_cc_url("https://creativecommons.org/about/") is None


def _get(uri: str) -> CcLicence:
    lic = TABLE.get(uri)
    assert lic is not None, uri
    return lic


def _spdx(identifier: str) -> CcLicence:
    lic = TABLE.spdx(identifier)
    assert lic is not None, identifier
    return lic


def test_labels_and_titles_are_the_official_ones() -> None:
    lic = _get("https://creativecommons.org/licenses/by-nc-sa/3.0/")
    assert lic.label == "CC BY-NC-SA 3.0"
    assert lic.title == "Attribution-NonCommercial-ShareAlike 3.0 Unported"
    assert lic.spdx == "CC-BY-NC-SA-3.0"
    br = _get("https://creativecommons.org/licenses/by-nc/3.0/br/")
    assert br.label == "CC BY-NC 3.0 BR"
    assert br.title == "Attribution-NonCommercial 3.0 Brazil"
    four = _get("https://creativecommons.org/licenses/by-nc-nd/4.0/")
    assert four.title == "Attribution-NonCommercial-NoDerivatives 4.0 International"
    assert _get("https://creativecommons.org/licenses/by/2.5/").title == "Attribution 2.5 Generic"
    assert _get("https://creativecommons.org/publicdomain/zero/1.0/").label == "CC0 1.0"
    assert _get("https://creativecommons.org/publicdomain/mark/1.0/").label == "PDM 1.0"


def test_spdx_identifiers_map_to_licences() -> None:
    assert _spdx("CC-BY-NC-ND-1.0").uri.endswith("/licenses/by-nd-nc/1.0/")
    assert _spdx("cc0-1.0").uri.endswith("/publicdomain/zero/1.0/")
    assert _spdx("CC-PDDC").uri.endswith("/certification/1.0/us/")
    assert _spdx("CC-BY-3.0-IGO").port == "igo"
    assert TABLE.spdx("CC-BY-5.0") is None


def test_the_whole_table_round_trips_uri_elements_uri() -> None:
    for lic in TABLE:
        elements = elements_of(lic.uri)
        assert elements == lic.elements
        assert canonical_uri(elements, lic.version, lic.port) == lic.uri
        assert licence_from_uri(lic.uri.replace("https://", "http://www.")) == lic

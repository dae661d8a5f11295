"""What a validated licence feeds into the records: dc:rights and PREMIS rights granted."""

from __future__ import annotations

import pytest

from archive_ingest.errors import LicenceError
from archive_ingest.licence import (
    LicencePolicy,
    LicenceVerdict,
    dc_rights_text,
    premis_granted_acts,
    premis_rights_granted,
    validate_licence,
)


def _verdict(code: str) -> LicenceVerdict:
    v = validate_licence(metadata=[code], pdf_text=None, xmp=None, policy=LicencePolicy())
    assert v.outcome == "valid", v.reasons
    return v


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (
            "CC BY-NC-SA 3.0",
            "This work is licensed under a Creative Commons Attribution-NonCommercial-ShareAlike "
            "3.0 Unported License (https://creativecommons.org/licenses/by-nc-sa/3.0/).",
        ),
        (
            "CC BY 4.0",
            "This work is licensed under a Creative Commons Attribution 4.0 International "
            "License (https://creativecommons.org/licenses/by/4.0/).",
        ),
        (
            "CC BY-NC 3.0 BR",
            "This work is licensed under a Creative Commons Attribution-NonCommercial 3.0 "
            "Brazil License (https://creativecommons.org/licenses/by-nc/3.0/br/).",
        ),
        (
            "CC0 1.0",
            "This work has been dedicated to the public domain under CC0 1.0 Universal "
            "(https://creativecommons.org/publicdomain/zero/1.0/).",
        ),
    ],
)
def test_dc_rights_text(code: str, text: str) -> None:
    assert dc_rights_text(_verdict(code)) == text


def test_public_domain_mark_text() -> None:
    text = dc_rights_text(_verdict("PDM 1.0"))
    assert "free of known restrictions under copyright law" in text
    assert "https://creativecommons.org/publicdomain/mark/1.0/" in text


def test_no_rights_text_without_a_valid_licence() -> None:
    v = validate_licence(metadata=["CC BY 5.0"], pdf_text=None, xmp=None, policy=LicencePolicy())
    with pytest.raises(LicenceError, match="no validated licence"):
        dc_rights_text(v)


def test_acts_without_nd_include_modify() -> None:
    assert premis_granted_acts(("by", "nc", "sa")) == [
        "replicate",
        "migrate",
        "modify",
        "use",
        "disseminate",
    ]


def test_nd_licences_do_not_grant_modify_but_do_grant_migrate() -> None:
    acts = premis_granted_acts(("by", "nc", "nd"))
    assert "modify" not in acts
    assert "migrate" in acts and "replicate" in acts and "disseminate" in acts


def test_restrictions_follow_the_elements() -> None:
    granted = {g.act: g for g in premis_rights_granted(("by", "nc", "sa"))}
    assert granted["disseminate"].restrictions == ("Attribution", "NonCommercial")
    assert granted["modify"].restrictions == ("Attribution", "NonCommercial", "ShareAlike")
    assert granted["use"].restrictions == ("NonCommercial",)
    assert granted["replicate"].restrictions == ()
    nd = {g.act: g for g in premis_rights_granted(("by", "nd"))}
    assert nd["disseminate"].restrictions == ("Attribution", "NoDerivatives")
    assert "unmodified" in nd["disseminate"].note
    assert nd["use"].restrictions == ()


def test_public_domain_grants_everything_without_restriction() -> None:
    granted = premis_rights_granted(("zero",))
    assert [g.act for g in granted] == ["replicate", "migrate", "modify", "use", "disseminate"]
    assert all(g.restrictions == () for g in granted)

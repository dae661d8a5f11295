"""The licence verdict: agreement, each kind of disagreement, missing sources, policy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archive_ingest.errors import LicenceError
from archive_ingest.licence import (
    LicenceClaim,
    LicencePolicy,
    LicenceVerdict,
    decide_licence,
    validate_licence,
)
from archive_ingest.settings import Settings
from tests.support.licence_statements import BY_NC_SA_30, EN, ES, PT

POLICY = LicencePolicy()
PAGE_ONE = "\n".join(["PABLO. Building the Industrial Cordons. 2008.", EN, PT, ES])


def xmp(body: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
        'xmlns:cc="http://creativecommons.org/ns#">'
        f'<rdf:Description rdf:about="">{body}</rdf:Description></rdf:RDF></x:xmpmeta>'
    )


def web_statement(url: str) -> str:
    return xmp(f"<xmpRights:WebStatement>{url}</xmpRights:WebStatement>")


def _by_source(verdict: LicenceVerdict, source: str) -> list[LicenceClaim]:
    return [c for c in verdict.evidence if c.source == source]


# --- agreement ---------------------------------------------------------------------------


def test_all_three_sources_agree() -> None:
    v = validate_licence(
        metadata=["CC BY-NC-SA 3.0"],
        pdf_text=PAGE_ONE,
        xmp=web_statement("http://creativecommons.org/licenses/by-nc-sa/3.0/"),
        policy=POLICY,
    )
    assert v.outcome == "valid"
    assert v.depositable
    assert v.uri == BY_NC_SA_30
    assert v.label == "CC BY-NC-SA 3.0"
    assert v.title == "Attribution-NonCommercial-ShareAlike 3.0 Unported"
    assert v.elements == ("by", "nc", "sa")
    assert (v.version, v.port) == ("3.0", None)
    assert len(_by_source(v, "pdf")) == 3
    assert [c.language for c in _by_source(v, "pdf")] == ["en", "pt", "es"]
    assert all(c.text_span for c in v.evidence)
    assert "say CC BY-NC-SA 3.0" in v.reasons[0]


def test_metadata_url_and_pdf_code_forms_agree() -> None:
    v = validate_licence(
        metadata=["by-nc-sa/3.0", "http://creativecommons.org/licenses/by-nc-sa/3.0/deed.pt"],
        pdf_text=EN,
        xmp=None,
        policy=POLICY,
    )
    assert v.outcome == "valid"
    assert v.uri == BY_NC_SA_30


def test_partial_evidence_that_matches_agrees() -> None:
    v = validate_licence(
        metadata=["CC BY-NC-SA 3.0"],
        pdf_text="distributed under the terms of the Creative Commons license.",
        xmp=xmp("<cc:license>CC BY-NC-SA</cc:license>"),
        policy=POLICY,
    )
    assert v.outcome == "valid"


# --- missing sources ---------------------------------------------------------------------


def test_only_metadata_is_enough() -> None:
    v = validate_licence(metadata=["CC BY 4.0"], pdf_text=None, xmp=None, policy=POLICY)
    assert v.outcome == "valid"
    assert v.uri == "https://creativecommons.org/licenses/by/4.0/"
    not_stated = [c for c in v.evidence if c.kind == "not_stated"]
    assert [c.source for c in not_stated] == ["pdf", "xmp"]
    assert all(c.note for c in not_stated)
    assert "not a disagreement" in v.reasons[0]


def test_only_pdf_is_enough() -> None:
    v = validate_licence(metadata=[], pdf_text=PAGE_ONE, xmp=None, policy=POLICY)
    assert v.outcome == "valid"
    assert v.uri == BY_NC_SA_30
    assert _by_source(v, "metadata")[0].kind == "not_stated"


def test_page_without_statement_is_not_stated() -> None:
    v = validate_licence(
        metadata=["CC BY 4.0"], pdf_text="Chapter 1. Introduction.", xmp=None, policy=POLICY
    )
    assert v.outcome == "valid"
    (pdf,) = _by_source(v, "pdf")
    assert pdf.kind == "not_stated"
    assert pdf.note == "the PDF's first page has no licence statement"


def test_nothing_anywhere_needs_review() -> None:
    v = validate_licence(metadata=None, pdf_text=None, xmp=None, policy=POLICY)
    assert v.outcome == "needs_review"
    assert not v.depositable
    assert v.uri is None
    assert [c.kind for c in v.evidence] == ["not_stated"] * 3
    assert "No licence was found anywhere" in v.reasons[0]


def test_xmp_alone_never_carries_a_verdict() -> None:
    v = validate_licence(
        metadata=[],
        pdf_text=None,
        xmp=web_statement("https://creativecommons.org/licenses/by/4.0/"),
        policy=POLICY,
    )
    assert v.outcome == "needs_review"
    assert v.uri == "https://creativecommons.org/licenses/by/4.0/"  # the sources agree
    assert any(r.startswith("Only weak evidence") for r in v.reasons)


def test_only_partial_evidence_needs_review() -> None:
    v = validate_licence(
        metadata=["CC BY"],
        pdf_text="distributed under the terms of the Creative Commons Attribution License",
        xmp=None,
        policy=POLICY,
    )
    assert v.outcome == "needs_review"
    assert v.uri is None
    assert any(r.startswith("Only partial evidence") for r in v.reasons)


# --- disagreements -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "difference"),
    [
        ("CC BY-NC 3.0", "licence elements"),
        ("CC BY-NC-SA 4.0", "version"),
        ("CC BY-NC-SA 3.0 BR", "jurisdiction port"),
    ],
)
def test_metadata_against_pdf(metadata: str, difference: str) -> None:
    v = validate_licence(metadata=[metadata], pdf_text=PAGE_ONE, xmp=None, policy=POLICY)
    assert v.outcome == "needs_review"
    assert v.uri is None
    assert len(v.reasons) == 3  # one per PDF statement
    assert v.reasons[0].startswith("The PDF's English licence statement says CC BY-NC-SA 3.0 ")
    assert "but the publisher metadata says" in v.reasons[0]
    assert f"(they differ in {difference})" in v.reasons[0]


def test_pdf_languages_disagree_among_themselves() -> None:
    page = PAGE_ONE.replace("Partilha nos Mesmos Termos", "Vedada a criação de obras derivadas")
    v = validate_licence(metadata=[], pdf_text=page, xmp=None, policy=POLICY)
    assert v.outcome == "needs_review"
    assert v.reasons == [
        "The PDF's Portuguese licence statement says CC BY-NC-ND 3.0 but the PDF's English "
        "licence statement says CC BY-NC-SA 3.0 (they differ in licence elements)"
    ]


def test_xmp_against_metadata() -> None:
    v = validate_licence(
        metadata=["CC BY-NC-SA 3.0"],
        pdf_text=None,
        xmp=web_statement("http://creativecommons.org/licenses/by/3.0/"),
        policy=POLICY,
    )
    assert v.outcome == "needs_review"
    assert v.reasons[0].startswith("The PDF's XMP packet (xmpRights:WebStatement) says CC BY 3.0")


def test_partial_claim_that_contradicts() -> None:
    v = validate_licence(
        metadata=["CC BY-NC-SA 3.0"],
        pdf_text="distributed under the terms of the Creative Commons Attribution License",
        xmp=None,
        policy=POLICY,
    )
    assert v.outcome == "needs_review"
    assert "CC BY (no version)" in v.reasons[0]


def test_two_metadata_values_disagree() -> None:
    v = validate_licence(
        metadata=["CC BY 4.0", "https://creativecommons.org/licenses/by-nc/4.0/"],
        pdf_text=None,
        xmp=None,
        policy=POLICY,
    )
    assert v.outcome == "needs_review"
    assert v.reasons[0].startswith("The publisher metadata (metadata[1]) says CC BY-NC 4.0")


def test_hostile_xmp_needs_review_even_when_the_rest_agrees() -> None:
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'
    v = validate_licence(metadata=["CC BY 4.0"], pdf_text=None, xmp=hostile, policy=POLICY)
    assert v.outcome == "needs_review"
    assert _by_source(v, "xmp")[0].kind == "refused"


def test_unreadable_xmp_field_is_reported_but_does_not_block() -> None:
    v = validate_licence(
        metadata=["CC BY 4.0"],
        pdf_text=None,
        xmp=web_statement("http://www.scielo.br/"),
        policy=POLICY,
    )
    assert v.outcome == "valid"
    assert any(r.startswith("Ignored: the PDF's XMP packet") for r in v.reasons)


def test_unreadable_metadata_licence_field_needs_review() -> None:
    v = validate_licence(metadata=["Open Access"], pdf_text=PAGE_ONE, xmp=None, policy=POLICY)
    assert v.outcome == "needs_review"
    assert "could not be read" in v.reasons[0]


def test_unparseable_pdf_statement_needs_review() -> None:
    v = validate_licence(
        metadata=["CC BY-NC-SA 3.0"],
        pdf_text="publicado sob a licença Creative Commons Atrbuicao-NaoComrcial 3.0",
        xmp=None,
        policy=POLICY,
    )
    assert v.outcome == "needs_review"


# --- fake and non-CC licences ------------------------------------------------------------


@pytest.mark.parametrize("fake", ["CC BY-NC-SA 5.0", "by-xx/3.0", "CC BY 4.0 Brasil"])
def test_fake_licences_need_review(fake: str) -> None:
    v = validate_licence(metadata=[fake], pdf_text=None, xmp=None, policy=POLICY)
    assert v.outcome == "needs_review"
    assert v.uri is None
    assert "not a real Creative Commons licence" in v.reasons[0]


def test_fake_licence_next_to_a_real_one_needs_review() -> None:
    v = validate_licence(metadata=["CC BY-NC-SA 5.0"], pdf_text=PAGE_ONE, xmp=None, policy=POLICY)
    assert v.outcome == "needs_review"
    assert v.uri is None


@pytest.mark.parametrize(
    "value", ["All rights reserved", "© 2019 Editora. Todos os direitos reservados.", "GPL-3.0"]
)
def test_non_cc_is_rejected_when_policy_says_so(value: str) -> None:
    v = validate_licence(metadata=[value], pdf_text=None, xmp=None, policy=POLICY)
    assert v.outcome == "rejected"
    assert not v.depositable
    assert "not a Creative Commons licence" in v.reasons[0]


def test_non_cc_needs_review_when_policy_does_not_reject() -> None:
    v = validate_licence(
        metadata=["All rights reserved"],
        pdf_text=None,
        xmp=None,
        policy=LicencePolicy(reject_non_cc=False),
    )
    assert v.outcome == "needs_review"


def test_non_cc_against_a_cc_licence_is_a_disagreement_not_a_rejection() -> None:
    v = validate_licence(
        metadata=["All rights reserved"], pdf_text=PAGE_ONE, xmp=None, policy=POLICY
    )
    assert v.outcome == "needs_review"
    assert "'All rights reserved'" in v.reasons[0]


# --- policy ------------------------------------------------------------------------------


def test_nc_policy_flag_sends_nc_to_review_with_the_uri() -> None:
    v = validate_licence(
        metadata=["CC BY-NC-SA 3.0"],
        pdf_text=PAGE_ONE,
        xmp=None,
        policy=LicencePolicy(review_nc=True),
    )
    assert v.outcome == "needs_review"
    assert v.uri == BY_NC_SA_30
    assert "NonCommercial (NC)" in v.reasons[-1]
    by = validate_licence(
        metadata=["CC BY 4.0"], pdf_text=None, xmp=None, policy=LicencePolicy(review_nc=True)
    )
    assert by.outcome == "valid"


def test_nd_policy_flag() -> None:
    nd = validate_licence(
        metadata=["CC BY-ND 4.0"], pdf_text=None, xmp=None, policy=LicencePolicy(review_nd=True)
    )
    assert nd.outcome == "needs_review"
    assert "NoDerivatives (ND)" in nd.reasons[-1]
    assert (
        validate_licence(
            metadata=["CC BY-ND 4.0"], pdf_text=None, xmp=None, policy=LicencePolicy()
        ).outcome
        == "valid"
    )


def test_policy_comes_from_settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_INGEST_LICENCE_REVIEW_NC", "true")
    monkeypatch.setenv("ARCHIVE_INGEST_LICENCE_REJECT_NON_CC", "false")
    policy = LicencePolicy.from_settings(Settings())
    assert policy == LicencePolicy(review_nc=True, review_nd=False, reject_non_cc=False)


# --- the verdict as a record ---------------------------------------------------------------


def test_verdict_round_trips_through_json() -> None:
    v = validate_licence(metadata=["CC BY-NC 3.0"], pdf_text=PAGE_ONE, xmp="<broken", policy=POLICY)
    again = LicenceVerdict.from_json(v.to_json())
    assert again == v
    assert again.evidence[0].text_span == v.evidence[0].text_span


def test_archivist_decision_accepts_or_rejects() -> None:
    v = validate_licence(metadata=["CC BY-NC 3.0"], pdf_text=PAGE_ONE, xmp=None, policy=POLICY)
    accepted = decide_licence(
        v,
        archivist="M. Silva",
        uri="http://creativecommons.org/licenses/by-nc-sa/3.0/",
        note="the PDF is right; SciELO fixed the record",
    )
    assert accepted.outcome == "valid"
    assert accepted.uri == BY_NC_SA_30
    assert accepted.decided_by == "M. Silva"
    assert accepted.evidence == v.evidence
    assert accepted.reasons[-1].startswith("decided by M. Silva")
    rejected = decide_licence(v, archivist="M. Silva", uri=None, note="licence unclear")
    assert rejected.outcome == "rejected"
    with pytest.raises(LicenceError, match="not a real Creative Commons licence"):
        decide_licence(
            v, archivist="M. Silva", uri="https://creativecommons.org/licenses/by/5.0/", note=""
        )
    with pytest.raises(LicenceError, match="archivist"):
        decide_licence(v, archivist=" ", uri=BY_NC_SA_30, note="")


# --- hostile input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Creative Commons " * 6000,
        "cc by-" * 16000,
        "a-\nb" * 25000,
        "all rights reserved " * 5000,
        "http://creativecommons.org/licenses/by/4.0/ " * 2000,
        "<a href='" * 10000,
    ],
)
def test_long_hostile_text_is_handled_quickly_with_bounded_evidence(text: str) -> None:
    started = time.perf_counter()
    v = validate_licence(metadata=[text], pdf_text=text, xmp=text, policy=POLICY)
    assert time.perf_counter() - started < 5.0
    assert len(v.evidence) <= 3 * 51

"""Decide an item's licence from three sources: publisher metadata, the PDF, the XMP packet.

Rules (docs/LICENCE.md has the table):

* ``valid``: at least one strong claim from the publisher metadata or the PDF names a real
  CC licence, and every claim present names the same licence (a partial claim, e.g. "CC BY"
  without a version, agrees when what it does say matches). An absent source is "not stated",
  never a disagreement. XMP can corroborate or contradict but never carries a verdict alone.
* ``needs_review``: sources disagree (elements, version or port; PDF statements among
  themselves; XMP against the rest), only weak or partial evidence, an unreadable statement,
  a licence that does not exist ("CC BY-NC-SA 5.0"), a refused XMP packet, no licence
  anywhere, or NC/ND terms the policy sends to review; also a non-CC licence when the policy
  does not reject those.
* ``rejected``: only non-CC evidence (e.g. "All rights reserved") and the policy rejects
  non-CC licences. A non-CC statement that contradicts a CC licence is a disagreement
  (``needs_review``), not a rejection.

Pure: no I/O; the same inputs always give the same verdict (apart from ``checked_at``).
"""

from __future__ import annotations

from collections.abc import Sequence

from archive_ingest.errors import LicenceError
from archive_ingest.licence.claims import plain_claim
from archive_ingest.licence.fold import fold
from archive_ingest.licence.model import LicenceClaim, LicencePolicy, LicenceVerdict, Outcome
from archive_ingest.licence.statement import parse_licence_statement
from archive_ingest.licence.table import CcLicence, licence_from_uri, licence_table
from archive_ingest.licence.values import parse_licence_code
from archive_ingest.licence.xmp import parse_xmp

_CC_KINDS = ("cc", "partial", "not_real")


def validate_licence(
    *,
    metadata: Sequence[str] | None,
    pdf_text: str | None,
    xmp: str | bytes | None,
    policy: LicencePolicy,
) -> LicenceVerdict:
    """The licence verdict for one item, with every source's evidence and the reasons."""
    evidence: list[LicenceClaim] = []
    evidence += _metadata_claims(metadata or [])
    evidence += _pdf_claims(pdf_text)
    evidence += _xmp_claims(xmp)
    return decide(evidence, policy)


def _metadata_claims(values: Sequence[str]) -> list[LicenceClaim]:
    claims: list[LicenceClaim] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            continue
        locator = f"metadata[{i}]"
        found = parse_licence_code(value, locator=locator)
        if not found:
            f = fold(value[:2000])
            found = [
                plain_claim(
                    source="metadata",
                    kind="unrecognised",
                    problem="the publisher's licence field names no licence that can be read",
                    folded=f,
                    start=0,
                    end=len(f.text),
                    locator=locator,
                )
            ]
        claims += found
    if not claims:
        claims.append(
            plain_claim(
                source="metadata",
                kind="not_stated",
                problem=None,
                note="the publisher metadata states no licence",
            )
        )
    return claims


def _pdf_claims(pdf_text: str | None) -> list[LicenceClaim]:
    claims = parse_licence_statement(pdf_text) if pdf_text else []
    if not claims:
        note = (
            "no page-one text was given"
            if not pdf_text or not pdf_text.strip()
            else "the PDF's first page has no licence statement"
        )
        claims = [plain_claim(source="pdf", kind="not_stated", problem=None, note=note)]
    return claims


def _xmp_claims(xmp: str | bytes | None) -> list[LicenceClaim]:
    claims = parse_xmp(xmp) if xmp else []
    if not claims:
        note = "the PDF has no XMP packet" if not xmp else "the XMP packet states no licence"
        claims = [plain_claim(source="xmp", kind="not_stated", problem=None, note=note)]
    return claims


def decide(evidence: list[LicenceClaim], policy: LicencePolicy) -> LicenceVerdict:
    """Apply the rules to a list of claims (exposed so a stored verdict can be re-decided)."""
    table = licence_table()
    claims = [c for c in evidence if c.kind != "not_stated"]
    reasons: list[str] = []

    def verdict(outcome: Outcome, lic: CcLicence | None = None) -> LicenceVerdict:
        return LicenceVerdict(
            outcome=outcome,
            uri=lic.uri if lic else None,
            label=lic.label if lic else None,
            title=lic.title if lic else None,
            elements=lic.elements if lic else (),
            version=lic.version if lic else None,
            port=lic.port if lic else None,
            reasons=reasons,
            evidence=evidence,
            policy=policy,
        )

    if not claims:
        reasons.append(
            "No licence was found anywhere: not in the publisher metadata, not on the PDF's "
            "first page, not in the XMP packet"
        )
        return verdict("needs_review")

    cc_claims = [c for c in claims if c.kind in _CC_KINDS]
    non_cc = [c for c in claims if c.kind == "non_cc"]
    refused = [c for c in claims if c.kind == "refused"]
    unreadable = [c for c in claims if c.kind == "unrecognised"]

    if non_cc and not cc_claims:
        for c in non_cc:
            reasons.append(_sentence(f"{c.where()} says {c.label}"))
        for c in refused + unreadable:
            reasons.append(_sentence(f"{c.where()}: {c.problem}"))
        if policy.reject_non_cc:
            reasons.append(
                "The licence is not a Creative Commons licence, and the policy "
                "rejects non-CC licences"
            )
            return verdict("rejected")
        reasons.append(
            "The licence is not a Creative Commons licence; the policy sends "
            "non-CC licences to an archivist"
        )
        return verdict("needs_review")

    complete = [c for c in cc_claims if c.kind == "cc"]
    uris = list(dict.fromkeys(c.canonical_uri for c in complete if c.canonical_uri))
    reference = _reference(complete)
    agreed = table.get(uris[0]) if len(uris) == 1 else None
    blocking = False

    if len(uris) > 1 and reference is not None:
        blocking = True
        for c in complete:
            if c.canonical_uri != reference.canonical_uri:
                reasons.append(_disagreement(c, reference))
    for c in cc_claims:
        # one agreed URI means at least one complete claim, hence a reference
        if (
            c.kind == "partial"
            and agreed is not None
            and reference is not None
            and not _compatible(c, agreed)
        ):
            blocking = True
            reasons.append(_disagreement(c, reference))
    for c in cc_claims:
        if c.kind == "not_real":
            blocking = True
            reasons.append(_sentence(f"{c.where()} says {c.label}, which is {c.problem}"))
    for c in non_cc:
        blocking = True
        other = reference or cc_claims[0]
        reasons.append(
            _sentence(f"{c.where()} says {c.label} but {other.where()} says {other.label}")
        )
    for c in refused:
        blocking = True
        reasons.append(_sentence(f"{c.where()}: {c.problem}"))
    for c in unreadable:
        if c.source == "xmp":
            reasons.append(_sentence(f"ignored: {c.where()}: {c.problem}"))
        else:
            blocking = True
            reasons.append(_sentence(f"{c.where()} could not be read: {c.label}"))

    all_agree = agreed is not None and not blocking
    if agreed is None and not uris:
        blocking = True
        shown = ", ".join(f"{c.where()} says {c.label}" for c in cc_claims if c.kind == "partial")
        if shown:
            reasons.append(_sentence(f"only partial evidence: {shown}"))
    if (
        all_agree
        and agreed is not None
        and not any(
            c.kind == "cc" and c.strength == "strong" and c.source in ("metadata", "pdf")
            for c in complete
        )
    ):
        blocking = True
        reasons.append(
            _sentence(
                f"only weak evidence for {agreed.label}: no publisher licence field and no "
                "unambiguous licence statement on the PDF's first page names it"
            )
        )

    if blocking or agreed is None:  # no agreed licence without blocking: nothing to accept
        return verdict("needs_review", agreed if all_agree else None)

    reasons.append(_agreement(agreed, complete, evidence))
    flagged = False
    if agreed.has_nc and policy.review_nc:
        flagged = True
        reasons.append(
            f"{agreed.label} has the NonCommercial (NC) term, and the policy sends NC "
            "licences to an archivist"
        )
    if agreed.has_nd and policy.review_nd:
        flagged = True
        reasons.append(
            f"{agreed.label} has the NoDerivatives (ND) term, and the policy sends ND "
            "licences to an archivist"
        )
    return verdict("needs_review" if flagged else "valid", agreed)


def _reference(complete: list[LicenceClaim]) -> LicenceClaim | None:
    """The claim others are compared with: the publisher's own field first, then the PDF."""
    for source in ("metadata", "pdf", "xmp"):
        for c in complete:
            if c.source == source and c.strength == "strong":
                return c
    return complete[0] if complete else None


def _compatible(partial: LicenceClaim, lic: CcLicence) -> bool:
    if partial.elements and set(partial.elements) != set(lic.elements):
        return False
    if partial.version and partial.version != lic.version:
        return False
    return not (partial.port and partial.port != lic.port)


def _difference(a: LicenceClaim, b: LicenceClaim) -> str:
    parts = []
    if a.elements and b.elements and set(a.elements) != set(b.elements):
        parts.append("licence elements")
    if a.version and b.version and a.version != b.version:
        parts.append("version")
    if (a.port or None) != (b.port or None) and a.kind == b.kind == "cc":
        parts.append("jurisdiction port")
    return " and ".join(parts)


def _disagreement(claim: LicenceClaim, reference: LicenceClaim) -> str:
    diff = _difference(claim, reference)
    tail = f" (they differ in {diff})" if diff else ""
    return _sentence(
        f"{claim.where()} says {claim.label} but {reference.where()} says {reference.label}{tail}"
    )


def _agreement(lic: CcLicence, complete: list[LicenceClaim], evidence: list[LicenceClaim]) -> str:
    sayers = list(dict.fromkeys(c.where() for c in complete))
    silent = [c.note for c in evidence if c.kind == "not_stated" and c.note]
    text = f"{_join_words(sayers)} {'say' if len(sayers) > 1 else 'says'} {lic.label}"
    if silent:
        text += f"; {'; '.join(silent)} (not stated, not a disagreement)"
    return _sentence(text)


def _join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


def decide_licence(
    verdict: LicenceVerdict, *, archivist: str, uri: str | None, note: str
) -> LicenceVerdict:
    """Record an archivist's decision: accept ``uri`` (a real CC licence) or reject (None).

    The evidence and the original reasons are kept; the decision is added to them.
    """
    if not archivist.strip():
        raise LicenceError("an archivist's decision needs the archivist's name")
    reasons = [*verdict.reasons, f"decided by {archivist}: {note}".strip()]
    if uri is None:
        return verdict.model_copy(
            update={
                "outcome": "rejected",
                "uri": None,
                "label": None,
                "title": None,
                "elements": (),
                "version": None,
                "port": None,
                "reasons": reasons,
                "decided_by": archivist,
                "decision_note": note,
            }
        )
    lic = licence_from_uri(uri)
    if lic is None:
        raise LicenceError(f"{uri!r} is not a real Creative Commons licence URI")
    return verdict.model_copy(
        update={
            "outcome": "valid",
            "uri": lic.uri,
            "label": lic.label,
            "title": lic.title,
            "elements": lic.elements,
            "version": lic.version,
            "port": lic.port,
            "reasons": reasons,
            "decided_by": archivist,
            "decision_note": note,
        }
    )

"""The values of licence validation: claims (what one source said), the policy and the verdict.

Pure data, JSON-serialisable with pydantic, so a verdict can be stored in the catalogue, put in
the package and shown to an archivist exactly as it was decided.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from archive_ingest.licence.table import elements_name, licence_table
from archive_ingest.models import utcnow

if TYPE_CHECKING:
    from archive_ingest.settings import Settings

Source = Literal["metadata", "pdf", "xmp"]
Strength = Literal["strong", "weak"]
Outcome = Literal["valid", "needs_review", "rejected"]

#: What a claim is:
#: ``cc`` a real Creative Commons legal tool, fully identified (``canonical_uri`` is set);
#: ``partial`` Creative Commons is named but not which licence (no version, no elements);
#: ``not_real`` it looks like a CC licence but no such licence exists ("CC BY-NC-SA 5.0");
#: ``non_cc`` a licence or rights statement that is not Creative Commons ("all rights reserved");
#: ``unrecognised`` a licence field or statement that could not be read;
#: ``refused`` input that was not read at all because it is hostile (XML with a DTD/entities);
#: ``not_stated`` the source is absent or says nothing about a licence (evidence only).
ClaimKind = Literal["cc", "partial", "not_real", "non_cc", "unrecognised", "refused", "not_stated"]

SOURCE_NAMES: dict[str, str] = {
    "metadata": "the publisher metadata",
    "pdf": "the PDF's first page",
    "xmp": "the PDF's XMP packet",
}
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "pt": "Portuguese", "es": "Spanish"}


class TextSpan(BaseModel):
    """Where a claim was read: ``text[start:end]`` of the text named by the claim's locator."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class LicenceClaim(BaseModel):
    """What one source says about the licence, with the words it used."""

    model_config = ConfigDict(frozen=True)

    source: Source
    kind: ClaimKind
    canonical_uri: str | None = None
    elements: tuple[str, ...] = ()
    version: str | None = None
    port: str | None = None
    text_span: TextSpan | None = None
    strength: Strength = "weak"
    problem: str | None = None
    #: where in the source: "metadata[0]", "page 1", "xmpRights:WebStatement", ...
    locator: str | None = None
    #: language of a PDF licence statement ("en", "pt", "es") when known
    language: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        """A short name for what was claimed, real or not ("CC BY-NC-SA 3.0", "CC BY (no
        version)")."""
        return claim_label(self)

    def where(self) -> str:
        """The source in words, for reasons shown to an archivist."""
        if self.source == "pdf":
            if self.language in LANGUAGE_NAMES:
                return f"the PDF's {LANGUAGE_NAMES[self.language]} licence statement"
            if self.note == "url":
                return "a licence link on the PDF's first page"
            return "the PDF's first page"
        if self.source == "xmp":
            return f"the PDF's XMP packet ({self.locator})" if self.locator else SOURCE_NAMES["xmp"]
        if self.locator and self.locator != "metadata[0]":
            return f"the publisher metadata ({self.locator})"
        return SOURCE_NAMES["metadata"]


def claim_label(claim: LicenceClaim) -> str:
    """A short name for a claim, real licence or not (used in reasons for the archivist)."""
    if claim.canonical_uri:
        lic = licence_table().get(claim.canonical_uri)
        if lic:
            return lic.label
    if claim.kind in ("cc", "partial", "not_real"):
        els = claim.elements
        name = elements_name(els) if els else "a Creative Commons licence"
        version = f" {claim.version}" if claim.version else " (no version)"
        if not els and not claim.version:
            version = " (no licence named)"
        port = f" {claim.port.upper()}" if claim.port else ""
        return f"{name}{version}{port}"
    quoted = claim.text_span.text if claim.text_span else ""
    quoted = " ".join(quoted.split())
    if len(quoted) > 80:
        quoted = quoted[:77] + "..."
    if claim.kind == "non_cc":
        return f"{quoted!r} (not a Creative Commons licence)" if quoted else "a non-CC licence"
    if claim.kind == "unrecognised":
        return f"{quoted!r} (unreadable)" if quoted else "something unreadable"
    if claim.kind == "refused":
        return "an XMP packet that was refused"
    return "nothing"


class LicencePolicy(BaseModel):
    """What the archive accepts without an archivist (from Settings ``licence_*``)."""

    model_config = ConfigDict(frozen=True)

    review_nc: bool = False
    review_nd: bool = False
    reject_non_cc: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> LicencePolicy:
        return cls(
            review_nc=settings.licence_review_nc,
            review_nd=settings.licence_review_nd,
            reject_non_cc=settings.licence_reject_non_cc,
        )


class LicenceVerdict(BaseModel):
    """The outcome of licence validation, with every piece of evidence behind it.

    ``uri`` is the canonical licence URI when the outcome is ``valid`` or when every present
    source agrees (e.g. a needs_review caused only by the NC policy); otherwise ``None``.
    """

    outcome: Outcome
    uri: str | None = None
    label: str | None = None
    title: str | None = None
    elements: tuple[str, ...] = ()
    version: str | None = None
    port: str | None = None
    reasons: list[str] = Field(default_factory=list)
    evidence: list[LicenceClaim] = Field(default_factory=list)
    policy: LicencePolicy = Field(default_factory=LicencePolicy)
    checked_at: dt.datetime = Field(default_factory=utcnow)
    #: set when an archivist decided (see :func:`archive_ingest.licence.decide_licence`)
    decided_by: str | None = None
    decision_note: str | None = None

    @property
    def depositable(self) -> bool:
        """Only a ``valid`` licence may be deposited; anything else waits for an archivist."""
        return self.outcome == "valid"

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, data: str | bytes) -> LicenceVerdict:
        return cls.model_validate_json(data)

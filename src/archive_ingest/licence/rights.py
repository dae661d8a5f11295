"""What a validated licence means for the records: dc:rights text and PREMIS rights granted.

The records module writes ``dc:rights`` (:func:`dc_rights_text`), ``dcterms:license`` (the
verdict's ``uri``) and a PREMIS ``rightsStatement`` with ``rightsBasis`` "license",
``licenseDocumentationIdentifier`` = the URI, and one ``rightsGranted`` per entry of
:func:`premis_rights_granted`. Acts use the PREMIS actionsGranted vocabulary
(id.loc.gov/vocabulary/preservation/actionsGranted): replicate, migrate, modify, use,
disseminate.

Format migration is granted even under ND: every CC licence lets the licensee make the
technical modifications needed to use the work in other media and formats (4.0 §2(a)(4);
3.0 §3), and such changes do not make an adaptation.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from archive_ingest.errors import LicenceError
from archive_ingest.licence.model import LicenceVerdict
from archive_ingest.licence.table import PUBLIC_DOMAIN_UNITS, licence_table, order_elements


class RightsGranted(BaseModel):
    """One PREMIS rightsGranted: an act, its restrictions, and a note for people."""

    model_config = ConfigDict(frozen=True)

    act: str
    restrictions: tuple[str, ...] = ()
    note: str = ""


def dc_rights_text(verdict: LicenceVerdict) -> str:
    """A human rights statement for dc:rights, e.g. "This work is licensed under a Creative
    Commons Attribution-NonCommercial-ShareAlike 3.0 Unported License
    (https://creativecommons.org/licenses/by-nc-sa/3.0/)."

    Only for a verdict with a validated licence: anything else has no rights statement to
    publish yet (LicenceError).
    """
    if verdict.outcome != "valid" or not verdict.uri:
        raise LicenceError(
            f"no validated licence to describe (licence check outcome: {verdict.outcome})"
        )
    lic = licence_table().get(verdict.uri)
    if lic is None:
        raise LicenceError(f"{verdict.uri!r} is not a real Creative Commons licence URI")
    if lic.unit == "zero":
        return f"This work has been dedicated to the public domain under {lic.title} ({lic.uri})."
    if lic.unit == "mark":
        return (
            "This work has been identified as being free of known restrictions under "
            f"copyright law ({lic.title}, {lic.uri})."
        )
    if lic.unit == "certification":
        return f"This work has been certified as in the public domain ({lic.title}, {lic.uri})."
    return f"This work is licensed under a Creative Commons {lic.title} License ({lic.uri})."


def premis_granted_acts(elements: Iterable[str]) -> list[str]:
    """PREMIS acts a licence with these elements grants a preservation repository.

    Every CC legal tool allows replicating, migrating, using and disseminating (with the
    restrictions of :func:`premis_rights_granted`); modifying is granted unless ND.
    """
    return [g.act for g in premis_rights_granted(elements)]


def premis_rights_granted(elements: Iterable[str]) -> list[RightsGranted]:
    """Acts with their restriction texts for PREMIS rightsGranted."""
    els = set(order_elements(elements))
    if els & PUBLIC_DOMAIN_UNITS:
        free = "no restriction: public domain"
        return [
            RightsGranted(act=act, note=free)
            for act in ("replicate", "migrate", "modify", "use", "disseminate")
        ]
    attribution = ("Attribution",) if "by" in els else ()
    commercial = ("NonCommercial",) if "nc" in els else ()
    devnations = ("Developing Nations only",) if "devnations" in els else ()
    granted = [
        RightsGranted(
            act="replicate",
            note="copies for preservation are reproduction, which every CC licence permits",
        ),
        RightsGranted(
            act="migrate",
            note="format changes are technical modifications every CC licence permits; "
            "they do not create an adaptation",
        ),
    ]
    if "nd" not in els:
        granted.append(
            RightsGranted(
                act="modify",
                restrictions=attribution
                + commercial
                + (("ShareAlike",) if "sa" in els else ())
                + devnations,
                note="adaptations may be made"
                + ("; they must be shared under the same licence" if "sa" in els else ""),
            )
        )
    granted.append(
        RightsGranted(
            act="use",
            restrictions=commercial,
            note="no commercial use" if commercial else "",
        )
    )
    granted.append(
        RightsGranted(
            act="disseminate",
            restrictions=attribution
            + commercial
            + (("NoDerivatives",) if "nd" in els else ())
            + devnations,
            note=_dissemination_note(els),
        )
    )
    return granted


def _dissemination_note(els: set[str]) -> str:
    parts = []
    if "by" in els:
        parts.append("credit the creator and link the licence")
    if "nc" in els:
        parts.append("not for commercial advantage")
    if "nd" in els:
        parts.append("only unmodified copies")
    if "devnations" in els:
        parts.append("only in developing nations")
    return "; ".join(parts)

"""The print and electronic ISSNs of an ArticleMeta article's journal, as xylose's
``Journal._load_issn`` reads them (the typed list v435, else v35 with v935/v400)."""

from __future__ import annotations

from typing import Any

from archive_ingest.identifiers import normalise_issn
from archive_ingest.models import Identifier
from archive_ingest.sources.isis_fields import first, values
from archive_ingest.sources.normalise import clean_text


def _typed_issns(
    record: dict[str, Any], print_type: str, online_type: str
) -> tuple[str | None, str | None]:
    print_issn = electronic = None
    for occurrence in values(record, "v435"):
        kind = (clean_text(occurrence.get("t")) or "").upper()
        value = normalise_issn(occurrence.get("_"))
        if value is None:
            continue
        if kind == print_type:
            print_issn = value
        elif kind == online_type:
            electronic = value
    return print_issn, electronic


def journal_issns(
    journal: dict[str, Any], article: dict[str, Any]
) -> tuple[str | None, str | None, list[str]]:
    """(print ISSN, electronic ISSN, notes) as xylose's ``Journal._load_issn`` reads them.

    The journal's typed list v435 (``t`` = ``PRINT``/``ONLIN``) wins whenever it names an ISSN,
    even of one kind only: it is the title manager's current list, while v35/v935/v400 are the
    older fields (v400 is the ISSN the PIDs were made with, which stays in the PID after a
    print edition ends). Without one, the article's own typed list (SPS XML: ``ppub``/``epub``),
    which xylose does not read; then v35 (the type of v935) as xylose does. A typed list that
    names no ISSN of a known type (xylose would then answer none) falls back to the next, and a
    journal without v35 keeps v400 as its print ISSN, with a note (xylose answers none).
    """
    notes: list[str] = []
    kind = (first(journal, "v35") or "").upper()
    v935 = normalise_issn(first(journal, "v935"))
    v400 = normalise_issn(first(journal, "v400"))
    legacy_print = legacy_electronic = None
    if kind:
        main = v935 or v400
        other = v400 if v935 and v400 and v400 != v935 else None
        if kind == "PRINT":
            legacy_print, legacy_electronic = main, other
        else:
            legacy_electronic, legacy_print = main, other
    print_issn = electronic = None
    source = ""
    for record, print_type, online_type, whose in (
        (journal, "PRINT", "ONLIN", "the journal's"),
        (article, "PPUB", "EPUB", "the article's"),
    ):
        if "v435" not in record:
            continue
        print_issn, electronic = _typed_issns(record, print_type, online_type)
        if print_issn or electronic:
            source = f"{whose} typed ISSNs (v435)"
            break
        notes.append(
            f"{whose} typed ISSNs (v435) name no {print_type} or {online_type} ISSN; not used"
        )
    if not source and not kind and v400:
        notes.append(
            f"the journal record has no ISSN type (v35): v400 {v400} taken as the print ISSN"
        )
        return v400, None, notes
    if not source:
        return legacy_print, legacy_electronic, notes
    legacy = {legacy_print: "print", legacy_electronic: "electronic"}
    typed = {print_issn: "print", electronic: "electronic"}
    for issn, legacy_kind in legacy.items():
        if issn is None:
            continue
        if issn not in typed:
            notes.append(
                f"ISSN {issn} ({legacy_kind} by v35/v935/v400) is not in {source}; not recorded"
            )
        elif typed[issn] != legacy_kind:
            notes.append(
                f"ISSN {issn} is {typed[issn]} by {source} but {legacy_kind} by v35/v935/v400; "
                f"{source} followed, as xylose does"
            )
    return print_issn, electronic, notes


def issn_identifiers(print_issn: str | None, electronic: str | None) -> list[Identifier]:
    out = []
    if print_issn:
        out.append(Identifier(scheme="issn", value=print_issn))
    if electronic:
        out.append(Identifier(scheme="eissn", value=electronic))
    return out

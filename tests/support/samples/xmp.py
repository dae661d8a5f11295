"""Add an XMP packet with rights metadata to a PDF, as Creative Commons' licence chooser and
some publishers do (``xmpRights:WebStatement``, ``xmpRights:Marked``, ``cc:license``,
``dc:rights``), so the licence checker can compare XMP with metadata and page one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pikepdf
from pikepdf.models.metadata import PdfMetadata

CC_NS = "http://creativecommons.org/ns#"


def make_xmp(
    path: Path,
    *,
    licence_url: str | None = None,
    web_statement: str | None = None,
    rights: str | None = None,
    usage_terms: str | None = None,
    title: str | None = None,
    creators: Sequence[str] = (),
    marked: bool = True,
    output: Path | None = None,
) -> Path:
    """Write an XMP packet into ``path`` (or into a copy at ``output``) and return the file.

    ``licence_url`` goes to ``cc:license`` and, unless ``web_statement`` says otherwise, to
    ``xmpRights:WebStatement`` (the two may be set to disagree on purpose). The document info is
    left as it is (``update_docinfo`` off) so only the XMP changes.
    """
    PdfMetadata.register_xml_namespace(CC_NS, "cc")
    target = output or path
    with pikepdf.open(path, allow_overwriting_input=target == path) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            if licence_url:
                meta[f"{{{CC_NS}}}license"] = licence_url
            statement = web_statement if web_statement is not None else licence_url
            if statement:
                meta["xmpRights:WebStatement"] = statement
            if licence_url or statement or rights:
                meta["xmpRights:Marked"] = "True" if marked else "False"
            if rights:
                meta["dc:rights"] = rights
            if usage_terms:
                meta["xmpRights:UsageTerms"] = usage_terms
            if title:
                meta["dc:title"] = title
            if creators:
                meta["dc:creator"] = list(creators)
        pdf.save(target, deterministic_id=True)
    return target

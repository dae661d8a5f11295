"""The licence of an ArticleMeta article, in xylose's ``Article.permissions`` precedence: the
top-level ``license`` (a CC id such as ``by/4.0``), else the article's v540 (HTML, English
preferred), else the journal's (v541, ``nd`` meaning none, then v540). A bare code (``BY-NC``)
is the current version, 4.0, as xylose reads v541; a code with its version is kept as it is.
"""

from __future__ import annotations

import re
from typing import Any

from archive_ingest.sources.isis_fields import first, values

#: As xylose: the href of the first link in a v540 licence text, and the CC id inside it.
LICENSE_HREF_RE = re.compile(r'a.+?href="(.+?)"')
LICENSE_CC_ID_RE = re.compile(r"licenses/(.*?/\d\.\d)")
#: A Creative Commons code without its version ("BY", "by-nc-sa"), as v541 and ``license`` hold
_CC_BARE_RE = re.compile(r"^by(?:-(?:nc|nd|sa)){0,2}$")
#: The version SciELO (and xylose, Journal.permissions) means by a bare code: the current one
CURRENT_CC_VERSION = "4.0"
#: The names of the licence elements in SciELO's statements (xylose/choices.py)
CC_NAMES: dict[str, str] = {
    "by": "Attribution",
    "by-nd": "Attribution-NoDerivatives",
    "by-sa": "Attribution-ShareAlike",
    "by-nc": "Attribution-NonCommercial",
    "by-nc-nd": "Attribution-NonCommercial-NoDerivatives",
    "by-nc-sa": "Attribution-NonCommercial-ShareAlike",
}


def licence_from_v540(entries: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(statement html, URL) from v540 entries, English preferred, as xylose reads them."""
    found: tuple[str, str] | None = None
    for entry in entries:
        text = entry.get("t")
        if not isinstance(text, str):
            continue
        hrefs = LICENSE_HREF_RE.findall(text)
        if not hrefs or not LICENSE_CC_ID_RE.findall(hrefs[0]):
            continue
        found = (text, hrefs[0])
        if entry.get("l") == "en":
            break
    return found


def cc_licence_id(code: str) -> tuple[str, bool]:
    """(CC id with a version, whether the version was assumed) from ``BY``, ``BY-NC/4.0`` ...

    As xylose's ``Journal.permissions`` reads v541: a code without a ``/`` is the current
    version (4.0); one with it is kept (lower case), never given a second version.
    """
    cc_id = code.strip().strip("/").lower()
    if _CC_BARE_RE.fullmatch(cc_id):
        return f"{cc_id}/{CURRENT_CC_VERSION}", True
    return cc_id, False


def _statement(code: str, cc_id: str, assumed: bool) -> str:
    """The publisher's code, or for a bare code SciELO's own sentence with the version read.

    A bare ``BY`` says nothing a licence reader can take alone; SciELO's site (and xylose's
    ``creative_commons_text``) state it as "... Creative Commons Attribution 4.0 International
    License.", which is what the article's readers were shown.
    """
    name = CC_NAMES.get(cc_id.split("/")[0])
    if not assumed or name is None:
        return code.strip()
    return (
        f"This work is licensed under a Creative Commons {name} {CURRENT_CC_VERSION} "
        "International License."
    )


def article_licence(
    data: dict[str, Any], article: dict[str, Any], journal: dict[str, Any]
) -> tuple[str | None, str | None, list[str]]:
    """(statement, URL, notes) following xylose's ``Article.permissions`` precedence."""
    licence = data.get("license")
    if isinstance(licence, str) and licence.strip():
        cc_id, assumed = cc_licence_id(licence)
        notes = (
            [
                f"top-level licence {licence.strip()!r} names no version; version "
                f"{CURRENT_CC_VERSION} assumed as xylose does for the journal's v541"
            ]
            if assumed
            else []
        )
        statement = _statement(licence, cc_id, assumed)
        v541 = first(journal, "v541")
        if v541 and v541.lower() != "nd" and cc_licence_id(v541)[0] != cc_id:
            # the article's own licence wins (xylose's order; a journal changes its licence
            # over the years, an article keeps the one it was published under), but a reviewer
            # reading the record should see that the journal now says otherwise
            notes.append(
                f"the journal record declares {v541!r}; the article's own licence "
                f"{licence.strip()!r} is taken"
            )
        return statement, f"http://creativecommons.org/licenses/{cc_id}/", notes
    if "v540" in article:
        found = licence_from_v540(values(article, "v540"))
        if found:
            return found[0], found[1], ["licence from the article's v540 field"]
        return None, None, ["article v540 licence field has no Creative Commons link"]
    # the journal's licence (Journal.permissions): v541 first, "nd" = none declared
    v541 = first(journal, "v541")
    if v541 and v541.lower() == "nd":
        return None, None, ["the journal record declares no licence (v541 = nd)"]
    if v541:
        cc_id, assumed = cc_licence_id(v541)
        notes = [
            f"licence from the journal record, not the article (v541 {v541!r}"
            + (f"; version {CURRENT_CC_VERSION} assumed as xylose does)" if assumed else ")")
        ]
        found = licence_from_v540(values(journal, "v540"))
        if found and cc_id not in found[1]:
            notes.append(f"the journal's v540 licence text links {found[1]} instead")
        statement = _statement(v541, cc_id, assumed)
        return statement, f"http://creativecommons.org/licenses/{cc_id}/", notes
    found = licence_from_v540(values(journal, "v540"))
    if found:
        return found[0], found[1], ["licence from the journal record (v540), not the article"]
    return None, None, []

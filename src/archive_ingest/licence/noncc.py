"""Recognise rights statements and licences that are clearly *not* Creative Commons.

Only explicit statements count: "all rights reserved" in the three languages and named
non-CC licences (GNU GPL/LGPL/AGPL/FDL, MIT, Apache, BSD, ODbL, Open Government Licence). A
bare copyright notice ("© 2008 the author") is not one: CC-licensed works carry those too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Matched against folded text (lower case, no diacritics).
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("all rights reserved", r"all\s?rights\s?reserved"),
    ("all rights reserved", r"todos\s?os\s?direitos\s?(?:autorais\s?)?(?:sao\s?)?reservados"),
    ("all rights reserved", r"todos\s?los\s?derechos\s?(?:estan\s?)?reservados"),
    ("all rights reserved", r"reservados\s?todos\s?los\s?derechos"),
    # not "Alguns direitos reservados" / "Algunos derechos reservados" (CC's "Some rights
    # reserved" badge text)
    ("all rights reserved", r"(?<!alguns )(?<!algunos )(?:direitos|derechos)\s?reservados"),
    ("all rights reserved", r"tous\s?droits\s?reserves"),
    ("GNU licence", r"gnu\s?(?:lesser\s?|library\s?|affero\s?)?general\s?public\s?licen[cs]e"),
    ("GNU licence", r"gnu\s?free\s?documentation\s?licen[cs]e"),
    ("GNU licence", r"(?<![a-z0-9])(?:[al]?gpl|gfdl)(?:\s?-?\s?v?\d(?:\.\d)?)?(?![a-z])"),
    ("MIT licence", r"(?<![a-z])mit\s?licen[cs]e"),
    ("Apache licence", r"apache\s?licen[cs]e"),
    ("BSD licence", r"(?<![a-z])bsd(?:\s?-?\s?[234]\s?-?\s?clause)?\s?licen[cs]e"),
    ("Open Database Licence", r"open\s?database\s?licen[cs]e|(?<![a-z])odbl(?![a-z])"),
    ("Open Government Licence", r"open\s?government\s?licen[cs]e"),
)
_REGEX = re.compile("|".join(f"(?P<p{i}>{p})" for i, (_n, p) in enumerate(_PATTERNS)))

#: whole-value SPDX identifiers of common non-CC licences (for metadata codes)
_SPDX_RE = re.compile(
    r"^(?:mit|apache-2\.0|bsd-[234]-clause|isc|mpl-2\.0|odbl-1\.0|ogl-uk-3\.0|"
    r"(?:a|l)?gpl-[23]\.[01](?:-only|-or-later|\+)?|gfdl-1\.[123](?:-only|-or-later)?|"
    r"proprietary|copyright)$"
)


@dataclass(frozen=True)
class NonCcMatch:
    name: str
    start: int
    end: int


def find_non_cc(folded: str) -> list[NonCcMatch]:
    """Every explicit non-CC rights statement in folded text."""
    found: list[NonCcMatch] = []
    for m in _REGEX.finditer(folded):
        index = next(int(k[1:]) for k, v in m.groupdict().items() if v is not None)
        found.append(NonCcMatch(_PATTERNS[index][0], m.start(), m.end()))
    if not found and _SPDX_RE.match(folded.strip()):
        start = len(folded) - len(folded.lstrip())
        found.append(NonCcMatch(f"{folded.strip().upper()} licence", start, len(folded.rstrip())))
    return found

"""The table of real Creative Commons legal tools, and canonical URIs.

The table (``data/cc-licences.json``, see ``data/PROVENANCE.md``) lists every licence that
Creative Commons really published: units × versions × jurisdiction ports, plus CC0 1.0, the
Public Domain Mark 1.0 and the (retired) Public Domain Certification 1.0 US. Anything not in it
is not a Creative Commons licence, however plausible it looks ("by-nc-sa/5.0", "CC BY 4.0 BR").

Canonical URI form (decided once, the form Creative Commons itself uses as CANONICAL_URL):
``https://creativecommons.org/{licenses|publicdomain}/{unit}/{version}/`` and, for ports,
``.../{version}/{port}/`` -- always https, no ``www.``, lower case, trailing slash, no
``legalcode``/``deed.xx`` suffix. Input accepts http/https, ``www.``, a missing scheme or
trailing slash, ``legalcode``, ``legalcode.xx``, ``deed.xx`` and ``deed.xx_YY``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

CANONICAL_ROOT = "https://creativecommons.org/"

#: canonical order of elements in a unit (and in ``LicenceClaim.elements``)
ELEMENT_ORDER: tuple[str, ...] = (
    "by",
    "nc",
    "nd",
    "sa",
    "sampling",
    "sampling+",
    "devnations",
    "zero",
    "mark",
    "certification",
)
PUBLIC_DOMAIN_UNITS = frozenset({"zero", "mark", "certification"})
#: units under creativecommons.org/licenses/ that are not Creative Commons licences
#: (the old CC-GNU GPL/LGPL pages and the BSD/MIT explanations)
SOFTWARE_UNITS = frozenset({"gpl", "lgpl", "bsd", "mit"})

_EN_TERMS = {
    "by": "Attribution",
    "nc": "NonCommercial",
    "nd": "NoDerivs",
    "sa": "ShareAlike",
    "sampling": "Sampling",
    "sampling+": "Sampling Plus",
    "devnations": "Developing Nations",
}
_PD_LABELS = {"zero": "CC0", "mark": "PDM", "certification": "CERTIFICATION"}
_PD_TITLES = {
    "zero": "CC0 {version} Universal",
    "mark": "Public Domain Mark {version} Universal",
    "certification": "Public Domain Certification {version} United States",
}

_VERSION_RE = re.compile(r"^(\d)(?:\s?[.,_]\s?(\d))?$")


def normalise_version(text: str | None) -> str | None:
    """ "4" -> "4.0", "2,5" -> "2.5", "3.0" -> "3.0"; anything else -> None."""
    if text is None:
        return None
    m = _VERSION_RE.match(text.strip().lower().removeprefix("v"))
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2) or '0'}"


def order_elements(elements: Iterable[str]) -> tuple[str, ...]:
    """Elements in canonical order, duplicates removed; unknown ones sorted at the end."""
    unique = {e.lower() for e in elements if e}
    known = [e for e in ELEMENT_ORDER if e in unique]
    return tuple(known + sorted(unique - set(ELEMENT_ORDER)))


@dataclass(frozen=True)
class Jurisdiction:
    """A jurisdiction Creative Commons ported (or, for ``ported=False``, never ported) to."""

    code: str
    names: dict[str, str] = field(hash=False, compare=False)
    aliases: tuple[str, ...] = ()
    ported: bool = True

    @property
    def english(self) -> str:
        return self.names.get("en", self.code.upper())


@dataclass(frozen=True)
class CcLicence:
    """One real Creative Commons legal tool."""

    category: str  # "licenses" or "publicdomain"
    unit: str  # "by-nc-sa", "zero", "nc-sampling+", ...
    version: str
    port: str | None = None
    spdx: str | None = None

    @property
    def elements(self) -> tuple[str, ...]:
        return order_elements(self.unit.split("-"))

    @property
    def path(self) -> str:
        port = f"{self.port}/" if self.port else ""
        return f"{self.category}/{self.unit}/{self.version}/{port}"

    @property
    def uri(self) -> str:
        return CANONICAL_ROOT + self.path

    @property
    def is_public_domain(self) -> bool:
        return self.category == "publicdomain"

    @property
    def has_nc(self) -> bool:
        return "nc" in self.elements

    @property
    def has_nd(self) -> bool:
        return "nd" in self.elements

    @property
    def has_sa(self) -> bool:
        return "sa" in self.elements

    @property
    def label(self) -> str:
        """The identifier Creative Commons uses: "CC BY-NC-SA 3.0", "CC BY 3.0 BR", "CC0 1.0"."""
        port = f" {self.port.upper()}" if self.port else ""
        if self.is_public_domain:
            return f"{_PD_LABELS[self.unit]} {self.version}{port}"
        return f"CC {self.unit.upper()} {self.version}{port}"

    @property
    def title(self) -> str:
        """English title: "Attribution-NonCommercial-ShareAlike 3.0 Unported"."""
        if self.is_public_domain:
            return _PD_TITLES[self.unit].format(version=self.version)
        parts = self.unit.split("-")
        terms = [
            "NoDerivatives" if (p == "nd" and self.version == "4.0") else _EN_TERMS[p]
            for p in parts
        ]
        joiner = " " if "sampling+" in parts else "-"
        if self.port:
            where = licence_table().jurisdiction_name(self.port)
        else:
            where = {"4.0": "International", "3.0": "Unported"}.get(self.version, "Generic")
        return f"{joiner.join(terms)} {self.version} {where}"


@dataclass(frozen=True)
class CcUrl:
    """The parts of a creativecommons.org licence URL, before checking that it is real."""

    category: str
    unit: str | None
    version: str | None
    port: str | None
    raw_version: str | None = None

    @property
    def elements(self) -> tuple[str, ...]:
        return order_elements(self.unit.split("-")) if self.unit else ()


# Matched against *folded* (lower-case) text; no whitespace inside a URL; the host must be
# creativecommons.org itself (not "fakecreativecommons.org").
CC_URL_RE = re.compile(
    r"(?<![a-z0-9\-.])(?:(?:https?:)?//)?(?:www\.)?creativecommons\.org/"
    r"(?P<path>(?:licenses|licences|publicdomain)(?:/[a-z0-9+._\-]*)*)"
)
_SUFFIX_RE = re.compile(r"(?:legalcode|deed|rdf|index)(?:\.[a-z0-9_\-]+)?")
_PORT_SEGMENT_RE = re.compile(r"[a-z]{2,8}")


def parse_cc_url(url: str) -> CcUrl | None:
    """Split a creativecommons.org licence URL into category, unit, version and port.

    Lenient about the form (scheme, ``www.``, trailing slash, ``legalcode``, ``deed.pt_BR``,
    query, fragment); says nothing about whether the licence exists (see :func:`lookup`).
    Returns None for text that is not a creativecommons.org licenses/publicdomain URL.
    """
    m = CC_URL_RE.search(url.strip().lower())
    if not m:
        return None
    return url_parts(m.group("path"))


def url_parts(path: str) -> CcUrl:
    """Split the path after ``creativecommons.org/`` (see :func:`parse_cc_url`)."""
    path = re.split(r"[?#]", path, maxsplit=1)[0].rstrip(".,;:")
    segments = [s for s in path.split("/") if s]
    category = "publicdomain" if segments[0] == "publicdomain" else "licenses"
    unit = segments[1] if len(segments) > 1 and not _SUFFIX_RE.fullmatch(segments[1]) else None
    raw_version = segments[2] if unit and len(segments) > 2 else None
    version = normalise_version(raw_version) if raw_version else None
    port = None
    if version and len(segments) > 3:
        candidate = segments[3]
        if not _SUFFIX_RE.fullmatch(candidate) and _PORT_SEGMENT_RE.fullmatch(candidate):
            port = candidate
    if raw_version and version is None and _SUFFIX_RE.fullmatch(raw_version):
        raw_version = None  # ".../by-nc/legalcode": no version given
    return CcUrl(category, unit, version, port, raw_version)


class LicenceTable:
    """Every real CC legal tool, indexed by canonical URI and by (elements, version, port)."""

    def __init__(self, data: dict[str, Any]):
        self.source: dict[str, Any] = dict(data.get("source", {}))
        spdx_by_path = {path: ident for ident, path in data.get("spdx", {}).items()}
        licences: list[CcLicence] = []
        for category in ("licenses", "publicdomain"):
            for version, units in data.get(category, {}).items():
                for unit, ports in units.items():
                    for port in ports:
                        lic = CcLicence(category, unit, version, port or None)
                        spdx = spdx_by_path.get(lic.path)
                        licences.append(CcLicence(category, unit, version, port or None, spdx))
        self.licences: tuple[CcLicence, ...] = tuple(licences)
        self._by_uri = {lic.uri: lic for lic in licences}
        self._by_key = {(frozenset(lic.elements), lic.version, lic.port): lic for lic in licences}
        self._spdx = {
            ident.upper(): self._by_uri[CANONICAL_ROOT + path]
            for ident, path in data.get("spdx", {}).items()
        }
        self.jurisdictions: dict[str, Jurisdiction] = {}
        for code, info in data.get("jurisdictions", {}).items():
            self.jurisdictions[code] = Jurisdiction(
                code,
                {k: v for k, v in info.items() if k != "aliases"},
                tuple(info.get("aliases", ())),
            )
        for code, info in data.get("never_ported", {}).items():
            self.jurisdictions[code] = Jurisdiction(code, dict(info), (), ported=False)

    def __iter__(self) -> Iterator[CcLicence]:
        return iter(self.licences)

    def __len__(self) -> int:
        return len(self.licences)

    def get(self, uri: str) -> CcLicence | None:
        """The licence with this exact canonical URI."""
        return self._by_uri.get(uri)

    def find(
        self, elements: Iterable[str], version: str | None, port: str | None = None
    ) -> CcLicence | None:
        """The real licence with these elements (as a set), version and port, if any."""
        if version is None:
            return None
        return self._by_key.get((frozenset(order_elements(elements)), version, port or None))

    def spdx(self, identifier: str) -> CcLicence | None:
        return self._spdx.get(identifier.upper())

    def jurisdiction_name(self, code: str, language: str = "en") -> str:
        j = self.jurisdictions.get(code)
        if j is None:
            return code.upper()
        return j.names.get(language) or j.english

    def versions_for(self, elements: Iterable[str]) -> list[str]:
        wanted = frozenset(order_elements(elements))
        return sorted({v for (els, v, _p) in self._by_key if els == wanted})

    def ports_for(self, elements: Iterable[str], version: str) -> list[str]:
        wanted = frozenset(order_elements(elements))
        return sorted({p for (els, v, p) in self._by_key if els == wanted and v == version and p})

    def why_not_real(
        self, elements: Iterable[str], version: str | None, port: str | None
    ) -> str | None:
        """Why (elements, version, port) is not a real CC licence; None when it is real."""
        els = order_elements(elements)
        if version is not None and self.find(els, version, port):
            return None
        unknown = [e for e in els if e not in ELEMENT_ORDER]
        if unknown:
            names = ", ".join(repr(e.upper()) for e in unknown)
            return f"{names} is not a Creative Commons licence element"
        shown = elements_name(els)
        versions = self.versions_for(els)
        if not versions:
            if "nd" in els and "sa" in els:
                return "no Creative Commons licence combines NoDerivs (ND) with ShareAlike (SA)"
            return f"Creative Commons never published a licence with the elements {shown}"
        if version is None:
            return f"{shown} is named without a version"
        if version not in versions:
            return (
                f"there is no version {version} of {shown} (versions that exist: "
                f"{', '.join(versions)})"
            )
        if port is None:
            return f"{shown} {version} exists only as national ports, and none is named"
        if version == "4.0":
            return "version 4.0 licences were never ported to national jurisdictions"
        j = self.jurisdictions.get(port)
        if j is None:
            return f"{port.upper()!r} is not a jurisdiction Creative Commons ported licences to"
        if not j.ported:
            return f"Creative Commons never published a {j.english} port of any licence"
        return f"there is no {j.english} port of {shown} {version}"


def elements_name(elements: tuple[str, ...]) -> str:
    """How licence elements read: "CC BY-NC", "CC0", "CC (no elements)"."""
    if PUBLIC_DOMAIN_UNITS & set(elements):
        return " ".join(_PD_LABELS.get(e, e.upper()) for e in elements)
    return "CC " + "-".join(e.upper() for e in elements) if elements else "CC (no elements)"


@lru_cache(maxsize=1)
def licence_table() -> LicenceTable:
    """The packaged table (read once)."""
    ref = resources.files("archive_ingest.licence").joinpath("data", "cc-licences.json")
    return LicenceTable(json.loads(ref.read_text(encoding="utf-8")))


def lookup(
    elements: Iterable[str], version: str | None, port: str | None = None
) -> CcLicence | None:
    """The real CC licence for these elements, version and port (None if there is none)."""
    return licence_table().find(elements, version, port)


def canonical_uri(
    elements: Iterable[str], version: str | None, port: str | None = None
) -> str | None:
    """Canonical URI of a real licence, e.g. (("by", "nc", "sa"), "3.0", "br") ->
    ``https://creativecommons.org/licenses/by-nc-sa/3.0/br/``; None if no such licence."""
    lic = lookup(elements, version, port)
    return lic.uri if lic else None


def licence_from_uri(uri: str) -> CcLicence | None:
    """The real licence a (possibly non-canonical) creativecommons.org URL names, if any."""
    parts = parse_cc_url(uri)
    if parts is None or parts.unit is None:
        return None
    return lookup(parts.elements, parts.version, parts.port)


def elements_of(uri: str) -> tuple[str, ...] | None:
    """Elements of the licence a URI names (None if it names no real licence)."""
    lic = licence_from_uri(uri)
    return lic.elements if lic else None

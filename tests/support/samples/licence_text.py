"""The licence paragraphs SciELO Books prints on a chapter's first page, from a CC licence id.

SciELO states the licence three times (English, Portuguese, Spanish) with its own wording of the
Creative Commons names. The English and Portuguese names follow the CC 3.0 "Unported" /
"Não adaptada" translations; the Spanish paragraph reproduces SciELO's real spelling
"Reconocimento" (sic, as printed on the real pages quoted in /work/shared/reference/scielo.md), so
that the licence checker is tested against what it will actually meet. 4.0 licences use the CC
4.0 official names ("International" / "Internacional").
"""

from __future__ import annotations

import re

LICENCE_ID_RE = re.compile(r"^(by(?:-nc)?(?:-sa|-nd)?)/(\d\.\d)$")

# element id -> (English, Portuguese, Spanish) names, SciELO wording for 3.0
_NAMES_3: dict[str, tuple[str, str, str]] = {
    "by": ("Attribution", "Atribuição", "Reconocimento"),
    "by-sa": (
        "Attribution-ShareAlike",
        "Atribuição - Partilha nos Mesmos Termos",
        "Reconocimento-CompartirIgual",
    ),
    "by-nd": (
        "Attribution-NoDerivs",
        "Atribuição - Proibição de realização de Obras Derivadas",
        "Reconocimento-SinObraDerivada",
    ),
    "by-nc": (
        "Attribution-Non Commercial",
        "Atribuição - Uso Não Comercial",
        "Reconocimento-NoComercial",
    ),
    "by-nc-sa": (
        "Attribution-Non Commercial-ShareAlike",
        "Atribuição - Uso Não Comercial - Partilha nos Mesmos Termos",
        "Reconocimento-NoComercial-CompartirIgual",
    ),
    "by-nc-nd": (
        "Attribution-Non Commercial-NoDerivs",
        "Atribuição - Uso Não Comercial - Proibição de realização de Obras Derivadas",
        "Reconocimento-NoComercial-SinObraDerivada",
    ),
}

# CC 4.0 official names (en, pt-BR, es)
_NAMES_4: dict[str, tuple[str, str, str]] = {
    "by": ("Attribution", "Atribuição", "Atribución"),
    "by-sa": ("Attribution-ShareAlike", "Atribuição-CompartilhaIgual", "Atribución-CompartirIgual"),
    "by-nd": ("Attribution-NoDerivatives", "Atribuição-SemDerivações", "Atribución-SinDerivadas"),
    "by-nc": ("Attribution-NonCommercial", "Atribuição-NãoComercial", "Atribución-NoComercial"),
    "by-nc-sa": (
        "Attribution-NonCommercial-ShareAlike",
        "Atribuição-NãoComercial-CompartilhaIgual",
        "Atribución-NoComercial-CompartirIgual",
    ),
    "by-nc-nd": (
        "Attribution-NonCommercial-NoDerivatives",
        "Atribuição-NãoComercial-SemDerivações",
        "Atribución-NoComercial-SinDerivadas",
    ),
}

# what the work is called in each language: chapter pages vs whole books
_WORK = {
    "chapter": ("this chapter", "deste capítulo", "este capítulo"),
    "book": ("this work", "deste trabalho", "esta obra"),
}


def is_licence_id(value: str) -> bool:
    """True for a CC id such as ``by-nc-sa/3.0`` (the form SciELO's ArticleMeta uses)."""
    return LICENCE_ID_RE.fullmatch(value.strip().lower()) is not None


def licence_url(licence_id: str) -> str:
    """The canonical creativecommons.org URL of a CC id (``by/4.0`` -> .../licenses/by/4.0/)."""
    element, version = _parse(licence_id)
    return f"http://creativecommons.org/licenses/{element}/{version}/"


def licence_names(licence_id: str) -> dict[str, str]:
    """The licence's full name per language, e.g. ``{"en": "Creative Commons Attribution 4.0
    International", ...}``, as SciELO prints it."""
    element, version = _parse(licence_id)
    if version.startswith("3") or version.startswith("2"):
        en, pt, es = _NAMES_3[element]
        return {
            "en": f"Creative Commons {en} {version} Unported",
            "pt": f"Creative Commons {pt} {version} Não adaptada",
            "es": f"Creative Commons {es} {version} Unported",
        }
    en, pt, es = _NAMES_4[element]
    return {
        "en": f"Creative Commons {en} {version} International",
        "pt": f"Creative Commons {pt} {version} Internacional",
        "es": f"Creative Commons {es} {version} Internacional",
    }


def licence_statements(licence_id: str, *, work: str = "chapter") -> dict[str, str]:
    """The three licence paragraphs (en, pt, es) of SciELO's first page for ``licence_id``."""
    names = licence_names(licence_id)
    en_w, pt_w, es_w = _WORK[work]
    return {
        "en": (
            f"All the contents of {en_w}, except where otherwise noted, is licensed under a "
            f"{names['en']}."
        ),
        "pt": (
            f"Todo o conteúdo {pt_w}, exceto quando houver ressalva, é publicado sob a licença "
            f"{names['pt']}."
        ),
        "es": (
            f"Todo el contenido de {es_w}, excepto donde se indique lo contrario, está bajo "
            f"licencia de la licencia {names['es']}."
        ),
    }


def _parse(licence_id: str) -> tuple[str, str]:
    match = LICENCE_ID_RE.fullmatch(licence_id.strip().lower())
    if match is None:
        raise ValueError(
            f"not a Creative Commons licence id: {licence_id!r} (expected e.g. 'by-nc-sa/3.0')"
        )
    element, version = match.group(1), match.group(2)
    if version not in {"2.0", "2.5", "3.0", "4.0"}:
        raise ValueError(f"unknown Creative Commons licence version: {version}")
    return element, version

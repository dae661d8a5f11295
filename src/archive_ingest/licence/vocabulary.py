"""How licences are named in English, Portuguese and Spanish, as patterns over folded text.

Folded text (see :mod:`archive_ingest.licence.fold`) is lower case, without diacritics, with
"-" for every dash and single spaces, so "Atribuição - Uso Não Comercial" arrives here as
"atribuicao - uso nao comercial". ``_`` in the phrases below stands for "a space, a hyphen,
both, or nothing", which covers "NonCommercial", "Non Commercial", "Non-Commercial" and text
extraction that lost the space.

The names come from the licence titles Creative Commons published for each language (the
"TITLE" column of cc-legal-tools-data's config/cc-legal-tools.csv, see data/PROVENANCE.md) and
from SciELO's own wording, including its misspellings ("Reconocimento", "Atribição").
"""

from __future__ import annotations

import re
from functools import lru_cache

from archive_ingest.licence.fold import strip_accents_lower
from archive_ingest.licence.table import licence_table

_SEP = r"(?:\s?-?\s?)"

# (element, language, phrase); longest phrases first within an element so that the regex
# alternation prefers "uso nao comercial" over "nao comercial".
ELEMENT_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("by", "en", "attribution"),
    ("by", "pt", "atribuicao"),
    ("by", "pt", "atribicao"),  # SciELO Books' own spelling on some 4.0 pages
    ("by", "pt", "atribucao"),
    ("by", "es", "reconocimiento"),
    ("by", "es", "reconocimento"),  # SciELO Books' Spanish statement
    ("by", "es", "atribucion"),
    ("nc", "en", "non_commercial"),
    ("nc", "pt", "uso_nao_comercial"),
    ("nc", "pt", "nao_comercial"),
    ("nc", "es", "uso_no_comercial"),
    ("nc", "es", "no_comercial"),
    ("nd", "en", "no_derivative_works"),
    ("nd", "en", "no_derivatives"),
    ("nd", "en", "no_derivative"),
    ("nd", "en", "no_derivs"),
    ("nd", "pt", "vedada_a_criacao_de_obras_derivadas"),
    ("nd", "pt", "proibicao_de_realizacao_de_obras_derivadas"),
    ("nd", "pt", "vedadas_obras_derivadas"),
    ("nd", "pt", "vedada_obras_derivadas"),
    ("nd", "pt", "sem_obras_derivadas"),
    ("nd", "pt", "sem_derivacoes"),
    ("nd", "pt", "sem_derivados"),
    ("nd", "es", "sin_obras_derivadas"),
    ("nd", "es", "sin_obra_derivada"),
    ("nd", "es", "sin_derivadas"),
    ("nd", "es", "no_derivadas"),
    ("sa", "en", "share_alike"),
    ("sa", "pt", "partilha_nos_mesmos_termos"),
    ("sa", "pt", "partilha_nos_termos_da_mesma_licenca"),
    ("sa", "pt", "compartilhamento_pela_mesma_licenca"),
    ("sa", "pt", "compartilha_igual"),
    ("sa", "es", "compartir_derivadas_igual"),
    ("sa", "es", "compartir_igual"),
    ("sa", "es", "licenciar_por_igual"),
    ("sa", "es", "licenciar_igual"),
    ("sa", "es", "licenciamiento_reciproco"),
    ("sampling+", "en", "sampling_plus"),
    ("sampling", "en", "sampling"),
    ("sampling", "pt", "recombinacao"),
    ("devnations", "en", "developing_nations"),
    ("zero", "", "zero"),
)

#: words that say "this is the unported / international / universal version" (no port)
NO_PORT_PHRASES: tuple[str, ...] = (
    "unported",
    "international",
    "internacional",
    "generic",
    "generica",
    "generico",
    "universal",
    "nao adaptada",
    "nao adaptado",
    "no adaptada",
    "no portada",
    "no adaptado",
    "sem adaptacao",
)

LICENCE_WORD = r"(?:(?:public\s?)?licen[cs]es?|licencas?|licencias?)"

#: words before "Creative Commons" that tell the statement's language
LANGUAGE_CUES: tuple[tuple[str, str], ...] = (
    (
        "en",
        r"\b(?:licen[cs]ed|under|available|distributed|terms|contents?|this|work|is|the|"
        r"except|noted)\b",
    ),
    (
        "pt",
        r"\b(?:licenca|publicad[oa]|sob|conteudo|deste|desta|trabalho|exceto|ressalva|"
        r"houver|quando)\b",
    ),
    ("es", r"\b(?:licencia|bajo|contenido|excepto|indique|contrario|donde|la|el|del)\b"),
)


def _phrase_regex(phrase: str) -> str:
    return phrase.replace("_", _SEP).replace(" ", r"\s?")


@lru_cache(maxsize=1)
def element_regex() -> re.Pattern[str]:
    """One alternation of every element phrase; group ``e<N>`` is ELEMENT_PHRASES[N]."""
    alts = [f"(?P<e{i}>{_phrase_regex(p)})" for i, (_e, _l, p) in enumerate(ELEMENT_PHRASES)]
    return re.compile(r"(?:" + "|".join(alts) + r")(?![a-z])")


def element_of(match: re.Match[str]) -> tuple[str, str]:
    """(element, language) of a match of :func:`element_regex`."""
    for name, value in match.groupdict().items():
        if value is not None:
            element, language, _phrase = ELEMENT_PHRASES[int(name[1:])]
            return element, language
    raise ValueError("not an element match")  # pragma: no cover - regex guarantees a group


@lru_cache(maxsize=1)
def port_names() -> dict[str, str]:
    """Folded jurisdiction name -> code, for every ported and never-ported jurisdiction."""
    names: dict[str, str] = {}
    for code, j in licence_table().jurisdictions.items():
        for name in (*j.names.values(), *j.aliases):
            folded = strip_accents_lower(name)
            if folded and folded not in names:
                names[folded] = code
    return names


@lru_cache(maxsize=1)
def port_phrase_regex() -> re.Pattern[str]:
    """A jurisdiction name or a "no port" word, at a position, as group ``port`` / ``noport``."""
    names = sorted(port_names(), key=len, reverse=True)
    name_alt = "|".join(re.escape(n).replace(r"\ ", r"\s?") for n in names)
    noport_alt = "|".join(re.escape(n).replace(r"\ ", r"\s?") for n in NO_PORT_PHRASES)
    return re.compile(
        r"\s?(?:-\s?)?\(?(?:(?P<noport>" + noport_alt + r")|(?P<port>" + name_alt + r"))\)?"
        r"(?![a-z])"
    )


def port_code_for(folded_name: str) -> str | None:
    return port_names().get(re.sub(r"\s+", " ", folded_name.strip()))

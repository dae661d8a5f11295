"""Read SciELO Books' citation page (a chapter PDF's first page) and complete a chapter record.

SciELO prepends one born-digital page to every chapter PDF::

    PABLO. Building the Industrial Cordons: Maipú-Cerrillos. In HENFREY, C., and SORJ, B.
    Chilean Voices: activists describe their experiences of the Popular Unity Period [online].
    Rio de Janeiro: Centro Edelstein de Pesquisas Sociais, 2008. pp. 40-52. ISBN:
    978-85-99662-84-7. Available from SciELO Books <http://books.scielo.org>.
    All the contents of this chapter, except where otherwise noted, is licensed under ...
    Todo o conteúdo deste capítulo, exceto quando houver ressalva, é publicado sob ...
    Todo el contenido de este capítulo, excepto donde se indique lo contrario, está bajo ...

It is the only source of a chapter's creators and page range. The citation follows ISO 690 as
SciELO writes it (upper-case surnames, initials, ``In``/``In:``/``Em:``/``En:``, ``[online]`` or
``[en línea]``, ``pp. 40-52``), in English, Portuguese or Spanish; PDF text extraction breaks
its lines anywhere. The parser is deliberately tolerant: whatever it cannot find stays ``None``
and the record says so, rather than guessing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from archive_ingest.models import Creator, Identifier, PageRange, SourceRecord
from archive_ingest.sources.base import finish
from archive_ingest.sources.normalise import (
    CITATION_ROLES,
    clean_text,
    fold,
    normalise_doi,
    normalise_isbn,
)

_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zß-öø-ÿ"
_SURNAME = rf"[{_UP}][{_UP}'’\-]+(?:\s+[{_UP}][{_UP}'’\-]+)*"
_PARTICLE = r"(?:de|da|do|dos|das|del|la|van|von|der)\s+"
_INITIAL = rf"(?:{_PARTICLE})?[{_UP}][{_UP}{_LOW}]{{0,3}}\."
_NAME_RE = re.compile(
    rf"(?P<surname>{_SURNAME})(?:,\s*(?P<initials>{_INITIAL}(?:\s*{_INITIAL})*))?"
)
_SEP_RE = re.compile(r"\s*(?:[,;]\s*)?(?:and|e|y|&)\s+|\s*[,;]\s*")
_ROLE_RE = re.compile(r",?\s*\(?(?P<role>orgs?|eds?|coords?|trads?|comps?|tr)\.\)?", re.IGNORECASE)
_ETAL_RE = re.compile(r",?\s*et\s+al\.", re.IGNORECASE)

_IN_RE = re.compile(rf"\.\s+(?:In|Em|En)\s*:?\s+(?=[\"“{_UP}{_LOW}0-9])")
_ONLINE_RE = re.compile(r"\[\s*(?:online|on-line|en\s+l[íi]nea)\s*\]", re.IGNORECASE)
_IMPRINT_RE = re.compile(
    r"^\W*(?P<city>[^:]{1,80}?)\s*:\s*(?P<publisher>.+?)\s*[,.;]\s*(?P<year>1[5-9][0-9]{2}|20[0-9]{2})\b"
)
_PAGES_RE = re.compile(
    r"\bpp?\.\s*(?P<first>[0-9]+|[ivxlcdm]+)(?:\s*[-–—]\s*(?P<last>[0-9]+|[ivxlcdm]+))?\b",
    re.IGNORECASE,
)
_ISBN_RE = re.compile(r"\bISBN(?:-1[03])?\s*:?\s*(?P<isbn>[0-9][0-9\s\-‐‑–]{8,20}[0-9Xx])")
_DOI_RE = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|\bdoi:\s*)(?P<doi>10\.[0-9]{4,9}/\S+)", re.I)
_HEADER_RE = re.compile(r"^(?:\s*SciELO\s+(?:Books|Livros|Libros)\s*/?)+\s*", re.IGNORECASE)

#: How each language's licence paragraph begins on SciELO Books citation pages.
LICENCE_OPENERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("en", re.compile(r"All\s+(?:the\s+)?contents?\s+of\s+this\s+(?:chapter|work|book)", re.I)),
    (
        "pt",
        re.compile(
            r"Todo\s+o\s+conte[úu]do\s+d(?:este|esta|o|a)\s+(?:cap[íi]tulo|obra|livro|trabalho)",
            re.I,
        ),
    ),
    (
        "es",
        re.compile(
            r"Todo\s+el\s+contenido\s+de\s+(?:este|esta)\s+(?:cap[íi]tulo|obra|libro|trabajo)",
            re.I,
        ),
    ),
)


@dataclass(frozen=True)
class CitationPage:
    """The facts printed on SciELO's citation page, as printed (names not re-cased)."""

    citation: str | None = None  # the citation as one line
    creators: tuple[str, ...] = ()
    creators_role: str | None = None  # our role name when the names carry "org."/"ed."...
    chapter_title: str | None = None
    book_creators: tuple[str, ...] = ()
    book_creators_role: str | None = None
    book_title: str | None = None
    city: str | None = None
    publisher: str | None = None
    year: str | None = None
    pages: tuple[str, str | None] | None = None  # (first, last)
    isbn: str | None = None  # digits, as normalise_isbn gives them
    doi: str | None = None
    licence_statements: dict[str, str] = field(default_factory=dict)  # language -> paragraph


def join_lines(text: str) -> str:
    """One line of text from PDF-extracted lines: a line ending in a hyphen joins the next
    without a space (keeping the hyphen: "Maipú-" + "Cerrillos", "978-85-" + "99662")."""
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "").replace("\r", "\n")
    out = ""
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            out += " "
            continue
        if out.endswith(("-", "‐")) or not out:
            out += line
        else:
            out += " " + line
    return re.sub(r"\s+", " ", out).strip()


def split_creators(text: str) -> tuple[list[str], str | None, str]:
    """``"HENFREY, C., and SORJ, B. Chilean Voices"`` -> (["HENFREY, C.", "SORJ, B."], None,
    "Chilean Voices"). No leading upper-case surname: no creators, the text unchanged."""
    first = _NAME_RE.match(text)
    if not first:
        return [], None, text
    names = [first.group(0)]
    pos = first.end()
    while True:
        sep = _SEP_RE.match(text, pos)
        if not sep:
            break
        following = _NAME_RE.match(text, sep.end())
        if not following:
            break
        names.append(following.group(0))
        pos = following.end()
    role: str | None = None
    role_match = _ROLE_RE.match(text, pos)
    if role_match:
        role = CITATION_ROLES.get(role_match.group("role").lower())
        pos = role_match.end()
    etal = _ETAL_RE.match(text, pos)
    if etal:
        names.append("et al.")
        pos = etal.end()
    # after initials the full stop is already consumed ("SORJ, B. Title"); a doubled one
    # ("R.. Title") is a typo seen in the wild and tolerated
    terminator = {".": r"\.?\s+", ")": r"\.?\s+"}.get(text[pos - 1], r"\.\s+")
    end = re.compile(terminator).match(text, pos)
    if not end:
        return [], None, text
    return names, role, text[end.end() :]


def _title(text: str | None) -> str | None:
    if text is None:
        return None
    return clean_text(text.strip().rstrip("."))


def licence_paragraphs(text: str) -> dict[str, str]:
    """Each language's licence paragraph, from its opener to the next opener (or the end)."""
    starts: list[tuple[int, str]] = []
    for language, pattern in LICENCE_OPENERS:
        match = pattern.search(text)
        if match:
            starts.append((match.start(), language))
    starts.sort()
    paragraphs: dict[str, str] = {}
    for index, (start, language) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        paragraphs[language] = text[start:end].strip()
    return paragraphs


def parse_citation_page(text: str) -> CitationPage:
    """Parse the first page's text (as pypdf or pdftotext extract it)."""
    flat = join_lines(text)
    licences = licence_paragraphs(flat)
    opener_positions = [flat.find(p) for p in licences.values()]
    cut = min((p for p in opener_positions if p >= 0), default=len(flat))
    citation = _HEADER_RE.sub("", flat[:cut]).strip()
    if not citation:
        return CitationPage(licence_statements=licences)

    values: dict[str, Any] = {"citation": citation, "licence_statements": licences}
    online = _ONLINE_RE.search(citation)
    head = citation[: online.start()] if online else None
    tail = citation[online.end() :] if online else citation
    if head is not None:
        split = _IN_RE.search(head)
        chapter_part, book_part = (
            (head[: split.start()], head[split.end() :])
            if split
            else (
                None,
                head,
            )
        )
        if chapter_part is not None:
            names, role, rest = split_creators(chapter_part.strip() + ". ")
            values.update(creators=tuple(names), creators_role=role, chapter_title=_title(rest))
        names, role, rest = split_creators(book_part.strip() + " ")
        values.update(book_creators=tuple(names), book_creators_role=role, book_title=_title(rest))
        imprint = _IMPRINT_RE.match(tail)
        if imprint:
            values.update(
                city=clean_text(imprint.group("city")),
                publisher=clean_text(imprint.group("publisher")),
                year=imprint.group("year"),
            )
    pages = _PAGES_RE.search(tail)
    if pages:
        values["pages"] = (pages.group("first"), pages.group("last"))
    isbn = _ISBN_RE.search(tail)
    if isbn:
        normalised = normalise_isbn(isbn.group("isbn"))
        values["isbn"] = normalised.value if normalised else None
    doi = _DOI_RE.search(tail)
    if doi:
        values["doi"] = normalise_doi(doi.group("doi"))
    return CitationPage(**values)


def _page_count(first: str, last: str | None) -> int | None:
    if last and first.isdigit() and last.isdigit() and int(last) >= int(first):
        return int(last) - int(first) + 1
    return None


def enrich_chapter_from_pdf_text(record: SourceRecord, first_page_text: str) -> SourceRecord:
    """Complete a chapter record from its PDF's first page (called after the PDF is fetched).

    Fills creators and the page range when the record lacks them, adds a chapter DOI when one is
    printed, and notes every disagreement with the metadata (chapter title, book title, ISBN,
    year, publisher). The licence paragraphs are *not* copied into the record: the record keeps
    the publisher's statement, and the licence check compares it with the PDF itself.
    """
    page = parse_citation_page(first_page_text)
    notes = list(record.notes)
    update: dict[str, Any] = {}
    if not page.citation:
        notes.append("no SciELO citation found on the PDF's first page")
        return finish(record.model_copy(update={"notes": notes}))
    if page.chapter_title is None and page.creators == ():
        notes.append("the PDF's first page citation is not in the expected form; not used")
        return finish(record.model_copy(update={"notes": notes}))

    filled: list[str] = []
    creators = [n for n in page.creators if n != "et al."]
    if creators and not record.creators:
        role = page.creators_role or "author"
        update["creators"] = [Creator(name=name, role=role) for name in creators]
        filled.append("creators")
    elif creators and {fold(n) for n in creators} != {fold(c.name) for c in record.creators}:
        notes.append(
            "creators on the PDF's first page ("
            + "; ".join(creators)
            + ") differ from the metadata's"
        )
    if "et al." in page.creators:
        notes.append("the PDF's first page lists the creators with 'et al.' (list incomplete)")
    if not creators:
        notes.append("no creators found in the PDF's first page citation")

    if page.pages and record.pages is None:
        first, last = page.pages
        update["pages"] = PageRange(first=first, last=last, count=_page_count(first, last))
        filled.append("page range")
    elif not page.pages:
        notes.append("no page range found in the PDF's first page citation")

    if page.chapter_title:
        if not record.title:
            update["title"] = page.chapter_title
            filled.append("title")
        elif fold(page.chapter_title) != fold(record.title):
            notes.append(
                f"chapter title on the PDF's first page ({page.chapter_title!r}) differs from "
                f"the book page's ({record.title!r})"
            )

    relation = record.is_part_of
    if (
        relation is not None
        and page.book_title
        and relation.title
        and fold(page.book_title) != fold(relation.title)
    ):
        notes.append(
            f"book title on the PDF's first page ({page.book_title!r}) differs from the "
            f"book JSON's ({relation.title!r})"
        )
    book_isbns = {i.value for i in (relation.identifiers if relation else ()) if "isbn" in i.scheme}
    if page.isbn:
        checked = normalise_isbn(page.isbn)
        if checked is not None and not checked.valid:
            notes.append(f"ISBN {page.isbn} on the PDF's first page: {checked.problem}")
        if book_isbns and page.isbn not in book_isbns:
            notes.append(
                f"ISBN {page.isbn} on the PDF's first page is not the book's "
                f"({', '.join(sorted(book_isbns))})"
            )
    if page.year and record.date and not record.date.startswith(page.year):
        notes.append(f"year {page.year} on the PDF's first page differs from {record.date}")
    if page.publisher and record.publisher:
        a, b = fold(page.publisher), fold(record.publisher)
        if a not in b and b not in a:
            notes.append(
                f"publisher on the PDF's first page ({page.publisher!r}) differs from the "
                f"metadata's ({record.publisher!r})"
            )
    if page.doi and not record.identifier("doi"):
        update["identifiers"] = [*record.identifiers, Identifier(scheme="doi", value=page.doi)]
        filled.append("DOI")
    if filled:
        notes.append(f"{', '.join(filled)} read from the SciELO citation on the PDF's first page")
    update["notes"] = notes
    return finish(record.model_copy(update=update))

"""Read a SciELO Books book page (``/id/SBID``) into plain values.

The page is rendered by scielobooks/catalog/templates/book_details.pt: ``citation_*`` meta tags
in the head, a ``<dl class="metadata">`` of labelled facts (labels translated into the site's
language), a download box, the synopsis and the "Table of Contents" table whose rows carry
``<td class="chpTitle">`` and ``<a class="PDF" href="/id/SBID/pdf/SHORTNAME-NN.pdf">``. For a
chapter this page is the only place that gives its title and PDF link, so it is parsed here with
a hardened lxml HTML parser (no network, no entities from DTDs, comments and PIs dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

from archive_ingest.errors import SourceError
from archive_ingest.sources.normalise import clean_text

_CHAPTER_PDF_RE = re.compile(r"-(?P<nn>[0-9]{2,3})\.pdf$", re.IGNORECASE)
_CHAPTER_PAGE_RE = re.compile(r"/id/[^/]+/(?P<nn>[0-9]{1,3})/?$")
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

#: <dt> labels (English, Portuguese, Spanish site) -> field key.
DT_LABELS: dict[str, str] = {
    "publisher": "publisher",
    "editora": "publisher",
    "editorial": "publisher",
    "language": "language",
    "idioma": "language",
    "edition": "edition",
    "edição": "edition",
    "edición": "edition",
    "year": "year",
    "ano": "year",
    "año": "year",
    "pages": "pages",
    "páginas": "pages",
    "isbn": "isbn",
    "eisbn": "eisbn",
    "doi": "doi",
}

#: <dt> creator labels -> SciELO role name (as in staff/models.py).
DT_ROLES: dict[str, str] = {
    "author": "individual_author",
    "autor": "individual_author",
    "corporate author": "corporate_author",
    "autor corporativo": "corporate_author",
    "translator": "translator",
    "tradutor": "translator",
    "traductor": "translator",
    "coordinator": "coordinator",
    "coordenador": "coordinator",
    "coordinador": "coordinator",
    "editor": "editor",
    "other": "other",
    "outro": "other",
    "otro": "other",
    "organizer": "organizer",
    "organizador": "organizer",
    "collaborator": "collaborator",
    "colaborador": "collaborator",
}


@dataclass(frozen=True)
class ChapterRow:
    """One row of the book page's table of contents."""

    order: str | None  # zero-padded, from the PDF link (or the preview link, or the row)
    title: str
    pdf_href: str | None  # as written in the page, usually a site-relative path
    preview_href: str | None = None


@dataclass(frozen=True)
class BookPage:
    """What the book page says, unmapped (labels already keyed in English)."""

    title: str | None
    authors: tuple[str, ...] = ()  # citation_author, in page order
    publisher: str | None = None  # citation_publisher
    publication_date: str | None = None  # citation_publication_date (a year)
    isbn: str | None = None  # citation_isbn
    pdf_url: str | None = None  # citation_pdf_url (absolute, on the public host)
    epub_url: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # publisher, language, year, pages, ...
    creators: tuple[tuple[str, str], ...] = ()  # (SciELO role, "Name; Name") from the <dl>
    synopsis: str | None = None
    download_links: tuple[str, ...] = ()
    chapters: tuple[ChapterRow, ...] = ()
    warnings: tuple[str, ...] = ()

    def chapter(self, order: str) -> ChapterRow | None:
        wanted = int(order)
        for row in self.chapters:
            if row.order is not None and int(row.order) == wanted:
                return row
        return None


def _decode(raw: bytes) -> tuple[str, list[str]]:
    """Decode with the page's declared charset, else UTF-8, else Latin-1 (with a warning)."""
    warnings: list[str] = []
    declared = _CHARSET_RE.search(raw[:4096])
    encodings = [declared.group(1).decode("ascii")] if declared else []
    for encoding in [*encodings, "utf-8"]:
        try:
            return raw.decode(encoding), warnings
        except (LookupError, UnicodeDecodeError):
            continue
    warnings.append("book page is not valid UTF-8; decoded as Latin-1")
    return raw.decode("latin-1"), warnings


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _text(element: lxml.html.HtmlElement | None) -> str | None:
    if element is None:
        return None
    return clean_text(element.text_content())


def parse_book_page(raw: bytes) -> BookPage:
    """Parse the book page HTML; :class:`SourceError` if it is not one."""
    if not raw.strip():
        raise SourceError("book page is empty")
    text, warnings = _decode(raw)
    if "\x00" in text:
        raise SourceError("book page is binary data, not HTML")
    text = _XML_DECLARATION_RE.sub("", text, count=1)  # lxml refuses one in a str
    parser = lxml.html.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise SourceError(f"book page is not parseable HTML: {exc}") from None

    meta: dict[str, list[str]] = {}
    for tag in root.iter("meta"):
        name = (tag.get("name") or "").strip().lower()
        content = clean_text(tag.get("content"))
        if name and content:
            meta.setdefault(name, []).append(content)

    def first(name: str) -> str | None:
        values = meta.get(name)
        return values[0] if values else None

    heading = root.xpath(f"//div[{_has_class('bookDetail')}]//h3")
    title = first("citation_title") or _text(heading[0] if heading else None)
    if not title:
        raise SourceError(
            "not a SciELO Books book page: no citation_title meta tag and no title heading"
        )

    fields: dict[str, str] = {}
    creators: list[tuple[str, str]] = []
    for dl in root.xpath(f"//dl[{_has_class('metadata')}]"):
        label: str | None = None
        for item in dl.xpath(".//dt|.//dd"):
            if item.tag == "dt":
                label = (_text(item) or "").rstrip(":").strip().lower()
                continue
            value = _text(item)
            if label is None or not value:
                continue
            if label in DT_ROLES:
                creators.append((DT_ROLES[label], value))
            elif label in DT_LABELS:
                fields.setdefault(DT_LABELS[label], value)

    synopsis_p = root.xpath(f"//div[{_has_class('synopsis')}]//p")
    downloads = tuple(
        href
        for href in (
            (a.get("href") or "").strip() for a in root.xpath(f"//div[{_has_class('download')}]//a")
        )
        if href and href != "#"
    )

    chapters: list[ChapterRow] = []
    for index, row in enumerate(root.xpath(f"//div[{_has_class('tableContents')}]//tr")):
        title_cells = row.xpath(f".//td[{_has_class('chpTitle')}]")
        chapter_title = _text(title_cells[0]) if title_cells else None
        if not chapter_title:
            continue
        pdf_links = row.xpath(f".//a[{_has_class('PDF')}]/@href")
        preview_links = row.xpath(f".//a[{_has_class('preview')}]/@href")
        pdf_href = next((h.strip() for h in pdf_links if h.strip() and h.strip() != "#"), None)
        preview = next((h.strip() for h in preview_links if h.strip() and h.strip() != "#"), None)
        order = _row_order(pdf_href, preview, index)
        chapters.append(ChapterRow(order, chapter_title, pdf_href, preview))

    return BookPage(
        title=title,
        authors=tuple(meta.get("citation_author", [])),
        publisher=first("citation_publisher"),
        publication_date=first("citation_publication_date"),
        isbn=first("citation_isbn"),
        pdf_url=first("citation_pdf_url"),
        epub_url=first("citation_epub_url"),
        fields=fields,
        creators=tuple(creators),
        synopsis=_text(synopsis_p[0]) if synopsis_p else None,
        download_links=downloads,
        chapters=tuple(chapters),
        warnings=tuple(warnings),
    )


def _row_order(pdf_href: str | None, preview_href: str | None, index: int) -> str:
    """The chapter number: from ``-NN.pdf``, else ``/id/SBID/NN``, else the row (0-based, as
    scielobooks numbers its parts)."""
    if pdf_href:
        match = _CHAPTER_PDF_RE.search(pdf_href.split("?", 1)[0])
        if match:
            return f"{int(match.group('nn')):02d}"
    if preview_href:
        match = _CHAPTER_PAGE_RE.search(preview_href.split("?", 1)[0])
        if match:
            return f"{int(match.group('nn')):02d}"
    return f"{index:02d}"

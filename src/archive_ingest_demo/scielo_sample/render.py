"""Render SciELO Books responses from the sample catalogue, in the real shapes.

* book JSON: scielobooks/api/views.py (``_prepare_response``), with the ``creators`` map of
  role -> ``[[full_name, link_resume], ...]`` described in scielo.md and ``use_licence`` added
  as the raw record has it; absolute URIs on ``http://books.scielo.org`` as the real API writes
  them (its ``APP_DOMAIN`` is hard-coded);
* the changes feed: CouchDB's ``{"results": [{"seq", "id", "changes": [{"rev"}]}], "last_seq"}``;
* the book page: scielobooks/catalog/templates/book_details.pt as rendered in English
  (``citation_*`` meta tags, ``<dl class="metadata">``, download box, synopsis, table of
  contents with ``td.chpTitle`` and ``a.PDF``).
"""

from __future__ import annotations

import html
import json
from typing import Any

from archive_ingest_demo.scielo_sample.catalogue import (
    ChangeEntry,
    SampleBook,
    SampleCatalogue,
    creators_by_role,
)

_ROLE_LABELS = {
    "individual_author": "Author:",
    "corporate_author": "Corporate Author:",
    "translator": "Translator:",
    "coordinator": "Coordinator:",
    "editor": "Editor:",
    "other": "Other:",
    "organizer": "Organizer:",
    "collaborator": "Collaborator:",
}
_LANGUAGE_NAMES = {"pt": "Portuguese", "es": "Spanish", "en": "English"}


def book_dict(book: SampleBook, public_url: str) -> dict[str, Any]:
    """The API's JSON object for one book."""
    data: dict[str, Any] = {
        "publisher": book.publisher,
        "_id": book.sbid,
        "pisbn": book.isbn,
        "eisbn": book.eisbn,
        "language": book.language,
        "updated": book.created.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "cover_thumbnail": {
            "type": "image/jpeg",
            "uri": f"{public_url}/id/{book.sbid}/cover/cover_thumbnail.jpeg",
        },
        "cover": {"type": "image/jpeg", "uri": f"{public_url}/id/{book.sbid}/cover/cover.jpeg"},
        "synopsis": book.synopsis,
        "year": book.year,
        "title": book.title,
        "creators": {
            role: [[name, None] for name in names]
            for role, names in creators_by_role(book.creators).items()
        },
    }
    if book.use_licence is not None:
        data["use_licence"] = book.use_licence
    if book.pdf is not None:
        data["pdf_file"] = {"type": "application/pdf", "uri": public_url + book.book_pdf_path()}
    if book.epub is not None:
        data["epub_file"] = {"type": "application/epub+zip", "uri": public_url + book.epub_path()}
    for key in book.omit:
        data.pop(key, None)
    return data


def book_json(catalogue: SampleCatalogue, sbid: str) -> bytes | None:
    with catalogue.lock:
        book = catalogue.books.get(sbid)
        if book is None:
            return None
        return json.dumps(book_dict(book, catalogue.public_books_url)).encode("utf-8")


def books_json(
    catalogue: SampleCatalogue, *, initial: str | None = None, publisher: str | None = None
) -> bytes:
    """``/api/v1/books/`` (``filter_initial`` by title initial, ``filter_publisher``)."""
    with catalogue.lock:
        books = sorted(catalogue.books.values(), key=lambda b: b.title.casefold())
        if initial:
            books = [b for b in books if b.title[:1].upper() == initial.upper()]
        if publisher:
            books = [b for b in books if b.publisher.upper() == publisher.upper()]
        return json.dumps([book_dict(b, catalogue.public_books_url) for b in books]).encode()


def changes_json(catalogue: SampleCatalogue, since: int) -> bytes:
    entries, last = catalogue.changes_since(since)
    return json.dumps({"results": [_change(e) for e in entries], "last_seq": last}).encode("utf-8")


def _change(entry: ChangeEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"seq": entry.seq, "id": entry.doc_id, "changes": [{"rev": entry.rev}]}
    if entry.deleted:
        out["deleted"] = True
    return out


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def book_page_html(catalogue: SampleCatalogue, sbid: str) -> bytes | None:
    """``/id/SBID`` as book_details.pt renders it (English interface)."""
    with catalogue.lock:
        book = catalogue.books.get(sbid)
        if book is None:
            return None
        public = catalogue.public_books_url
        metas = [f'    <meta content="{_e(book.title)}" name="citation_title" />']
        metas += [
            f'    <meta name="citation_author" content="{_e(n)}" />' for _, n in book.creators
        ]
        metas.append(f'    <meta name="citation_publisher" content="{_e(book.publisher)}" />')
        if book.year:
            metas.append(f'    <meta name="citation_publication_date" content="{_e(book.year)}" />')
        if book.isbn:
            metas.append(f'    <meta name="citation_isbn" content="{_e(book.isbn)}" />')
        attachments: list[tuple[str, str, str, str]] = []  # url, css class, text, meta name
        if book.pdf is not None:
            attachments.append(
                (book.book_pdf_path(), "pdf_file", "Book in PDF", "citation_pdf_url")
            )
        if book.epub is not None:
            attachments.append((book.epub_path(), "epub_file", "Book in ePub", "citation_epub_url"))
        metas += [
            f'    <meta content="{_e(public + u)}" name="{m}" />' for u, _, _, m in attachments
        ]

        dl = []
        for role, names in creators_by_role(book.creators).items():
            dl.append(f"          <dt>{_ROLE_LABELS.get(role, 'Other:')}</dt>")
            dl.append(f"            <dd>{_e('; '.join(names))}</dd>")
        dl.append("          <dt>Publisher:</dt>")
        dl.append(f"            <dd>{_e(book.publisher)}</dd>")
        if book.language in _LANGUAGE_NAMES:
            dl.append("          <dt>Language:</dt>")
            dl.append(f"            <dd>{_LANGUAGE_NAMES[book.language]}</dd>")
        for label, value in (
            ("Edition:", book.edition),
            ("Year:", book.year),
            ("Pages:", book.pages),
            ("ISBN:", book.isbn),
            ("eISBN:", book.eisbn),
            ("DOI:", book.doi_number),
        ):
            if value:
                dl.append(f"          <dt>{label}</dt>")
                dl.append(f"            <dd>{_e(value)}</dd>")

        downloads = "\n".join(
            f'             <div>\n               <a href="{_e(u)}" class="{c}">{t}</a>\n'
            "             </div>"
            for u, c, t, _ in attachments
        )
        rows = []
        for nn, chapter in book.chapters.items():
            pdf = (
                f'<a class="PDF" href="{_e(book.chapter_pdf_path(nn))}"><span>PDF</span>\n'
                "                  </a>"
                if chapter.pdf is not None
                else ""
            )
            rows.append(
                "            <tr>\n"
                f'              <td class="chpTitle">{_e(chapter.title)}</td>\n'
                '              <td class="right">\n'
                f'                <a class="preview" href="/id/{_e(sbid)}/{nn}">\n'
                "                  <span>Preview</span>\n"
                "                </a>\n"
                "              </td>\n"
                '              <td class="right">\n'
                f"                <span>\n                  {pdf}\n                </span>\n"
                "              </td>\n"
                "            </tr>"
            )
        synopsis = (
            '        <div class="synopsis">\n          <h3>Synopsis</h3>\n'
            f"          <p>{_e(book.synopsis)}</p>\n        </div>\n"
            if book.synopsis
            else ""
        )
        toc = (
            '      \t<div class="tableContents">\n          <h3>Table of Contents</h3>\n'
            '          <table cellspacing="0">\n' + "\n".join(rows) + "\n          </table>\n"
            "        </div>\n"
            if rows
            else ""
        )
        page = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
  <head>
    <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
{chr(10).join(metas)}
    <title>SciELO Books | {_e(book.title)}</title>
    <link rel="stylesheet" href="/static/css/styles.css" type="text/css" media="screen"></link>
    <link rel="stylesheet" href="/static/css/thickbox.css" type="text/css" media="screen"></link>
    <script src="/static/js/thickbox-compressed.js"></script>
  </head>
  <body>
  <div class="container">
  <div class="header"><h1><a href="/">SciELO Books</a></h1>
  <h2>{_e(book.publisher)}</h2></div>
  <div class="middle">
    <div class="breadcrumb">
      <a href="http://search.livros.scielo.org/">Home</a> /
      <a href="http://search.livros.scielo.org/search">Search</a> / {_e(book.title)}
    </div>
    <div class="leftCol">
    &#160;
    </div>

    <div class="contentCol">
      <div class="bookDetail">
        <div class="thumb">
            <a href="/id/{_e(sbid)}/cover/cover.jpeg" class="thickbox" title="{_e(book.title)}">
            <img src="/id/{_e(sbid)}/cover/cover_thumbnail.jpeg"/>
            </a>
        </div>
        <h3>{_e(book.title)}</h3>

        <dl class="metadata">
{chr(10).join(dl)}
        </dl>

        <div class="download_box">
         <div class="download">
           <fieldset>
             <legend>Download</legend>
{downloads}
           </fieldset>
         </div>
        </div>

        <div class="actions"></div>
        <div class="spacer"></div>

{synopsis}
      \t<div class="spacer"></div>

{toc}
    \t  <div class="spacer"></div>

      </div>
    </div>
  </div>
  <div class="footer">SciELO Books</div>
  </div>
  </body>
</html>
"""
        return page.encode("utf-8")


def error_page(status: int, reason: str) -> bytes:
    """The kind of HTML error page a Pyramid/nginx front end answers with."""
    return (
        (
            "<html>\n <head>\n  <title>{0} {1}</title>\n </head>\n <body>\n  <h1>{0} {1}</h1>\n"
            "  The resource could not be found or the server failed.<br/><br/>\n </body>\n</html>\n"
        )
        .format(status, html.escape(reason))
        .encode("utf-8")
    )

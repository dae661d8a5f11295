"""The local SciELO test server as fixtures.

``scielo_server`` is a running :class:`SampleScieloServer` on 127.0.0.1 over a fresh, empty
``scielo_catalogue``; ``scielo_settings`` points every SciELO base URL at it (with fast retries);
``source_http`` is the real fetcher (``archive_ingest.http.SourceHttp``) over those settings.
``make_pdf`` makes a small born-digital PDF with reportlab, and ``scielo_book`` is the server
with a realistic book (37t) and chapters in its catalogue.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from archive_ingest.http import SourceHttp
from archive_ingest.settings import Settings
from archive_ingest.sources import allowed_hosts
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer


def tiny_pdf(*lines: str) -> bytes:
    """A one-page PDF whose page shows ``lines`` (real text, extractable by pypdf)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    y = 800.0
    for line in lines or ("sample",):
        canvas.drawString(40, y, line)
        y -= 14
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def citation_lines(author: str, title: str, pages: str) -> tuple[str, ...]:
    """SciELO's citation and English licence paragraph, as lines of a page."""
    author = author if author.endswith(".") else author + "."
    return (
        f"{author} {title}. In RIBEIRO, MTF., and MILANI, CRS., orgs. Compreendendo a",
        "complexidade socioespacial contemporânea [online]. Salvador: EDUFBA, 2009.",
        f"pp. {pages}. ISBN: 978-85-232-0560-7. Available from SciELO Books <http://books.scielo.org>.",
        "All the contents of this chapter, except where otherwise noted, is licensed under a",
        "Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported.",
    )


def add_sample_book(catalogue: SampleCatalogue, sbid: str = "37t") -> None:
    """The 37t book (real metadata) with three chapters; chapter 03 has no PDF."""
    catalogue.add_book(
        sbid,
        title="Compreendendo a complexidade socioespacial contemporânea: o território como "
        "categoria de diálogo interdisciplinar",
        publisher="EDUFBA",
        isbn="9788523205607",
        language="pt",
        year="2009",
        pages="312",
        synopsis="O livro constrói um diálogo entre pesquisadores brasileiros e franceses.",
        creators=[
            ("organizer", "Ribeiro, Maria Teresa Franco"),
            ("organizer", "Milani, Carlos Roberto Sanchez"),
        ],
        use_licence="CC BY-NC-SA 3.0",
        pdf_bytes=tiny_pdf("whole book"),
    )
    catalogue.add_chapter(
        sbid,
        1,
        title="Apresentação",
        creators=[("organizer", "Ribeiro, Maria Teresa Franco")],
        pdf_bytes=tiny_pdf(*citation_lines("RIBEIRO, MTF.", "Apresentação", "7-13")),
    )
    catalogue.add_chapter(
        sbid,
        2,
        title="O território como categoria",
        creators=[("individual_author", "Haesbaert, Rogério")],
        pdf_bytes=tiny_pdf(
            *citation_lines("HAESBAERT, R.", "O território como categoria", "15-40")
        ),
    )
    catalogue.add_chapter(sbid, 3, title="Conclusões", pdf_bytes=None)


@pytest.fixture
def scielo_catalogue() -> SampleCatalogue:
    return SampleCatalogue()


@pytest.fixture
def scielo_server(scielo_catalogue: SampleCatalogue) -> Iterator[SampleScieloServer]:
    with SampleScieloServer(scielo_catalogue) as server:
        yield server


@pytest.fixture
def make_pdf() -> Callable[..., bytes]:
    """``make_pdf("line 1", "line 2")`` -> bytes of a one-page PDF showing those lines."""
    return tiny_pdf


@pytest.fixture
def scielo_book(
    scielo_catalogue: SampleCatalogue, scielo_server: SampleScieloServer
) -> SampleScieloServer:
    """The running server with :func:`add_sample_book`'s 37t book in its catalogue."""
    add_sample_book(scielo_catalogue)
    return scielo_server


@pytest.fixture
def scielo_settings(home: Path, scielo_server: SampleScieloServer) -> Settings:
    return Settings(
        **scielo_server.settings_overrides(),
        fetch_retries=2,
        fetch_backoff_seconds=0.0,
        fetch_read_timeout=2.0,
        fetch_connect_timeout=2.0,
    )


@pytest.fixture
def source_http(scielo_settings: Settings) -> Iterator[SourceHttp]:
    with SourceHttp(scielo_settings, allowed_hosts(scielo_settings)) as http:
        yield http

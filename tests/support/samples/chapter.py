"""SciELO-like chapter PDFs with known ground truth, for OCR, licence and inspection tests.

A real SciELO Books chapter PDF starts with a born-digital page (the citation and the licence in
English, Portuguese and Spanish) followed by the scanned book pages, which carry an invisible
(render mode 3) OCR text layer of uneven quality. :func:`make_sample_chapter` builds exactly that,
deterministically from ``seed``, and returns the true text of every page next to the text its
layer actually holds, so OCR quality (CER) can be measured instead of guessed.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from tests.support.samples.corpus import page_text
from tests.support.samples.damage import Damage, damage_lines
from tests.support.samples.licence_text import (
    is_licence_id,
    licence_statements,
    licence_url,
)
from tests.support.samples.pdfwrite import (
    binary_streams,
    new_canvas,
    pack_bilevel_images,
    remove_empty_trans,
)
from tests.support.samples.render import (
    BODY_FONT,
    MARGIN_PT,
    PAGE_SIZE,
    ImageMode,
    Scan,
    body_lines,
    render_scan,
    wrap,
)

Language = Literal["en", "pt", "es"]

SCIELO_HEADER = "SciELO Books / SciELO Livros / SciELO Libros"
FRONT_FONT = "DejaVuSans"
FRONT_SIZE = 9.0


@dataclass(frozen=True)
class SamplePdf:
    """A generated PDF and what each page really says.

    ``true_texts[i]`` is the text drawn on page ``i`` (lines joined by newlines): the ground truth
    for character error rates. ``layer_texts[i]`` is what the page's text layer holds: equal to
    the truth on born-digital pages, damaged on scanned pages, empty on pages without a layer.
    """

    path: Path
    true_texts: list[str]
    layer_texts: list[str]
    scanned_pages: list[int] = field(default_factory=list)  # 0-based


@dataclass(frozen=True)
class SampleChapter(SamplePdf):
    """A SciELO-like chapter: page 0 born-digital (citation + licence), the rest scanned."""

    citation: str = ""
    licence_id: str | None = None  # None when a full statement override was given
    licence_url: str | None = None
    licence_statements: dict[str, str] = field(default_factory=dict)  # en/pt/es, or "" override
    language: str = "en"
    damage: Damage = "heavy"
    seed: int = 0

    @property
    def licence_statement(self) -> str:
        """The whole licence block as page one prints it (paragraphs joined by spaces)."""
        return " ".join(self.licence_statements.values())


def make_sample_chapter(
    path: Path,
    *,
    title: str = "Building the Industrial Cordons: Maipú-Cerrillos",
    creators: Sequence[str] = ("Pablo",),
    book_title: str = (
        "Chilean Voices: activists describe their experiences of the Popular Unity Period"
    ),
    publisher: str = "Centro Edelstein de Pesquisas Sociais",
    year: int | str = 2008,
    pages: tuple[int, int] = (40, 52),
    isbn: str = "978-85-99662-84-7",
    licence: str = "by-nc-sa/3.0",
    language: Language = "en",
    scanned_pages: int = 2,
    damage: Damage = "heavy",
    seed: int = 0,
    body_texts: Sequence[str] | None = None,
    editors: Sequence[str] = ("Henfrey, C.", "Sorj, B."),
    city: str = "Rio de Janeiro",
    image_mode: ImageMode = "gray",
    clean: bool = False,
) -> SampleChapter:
    """Write a SciELO-like chapter PDF to ``path`` and return its ground truth.

    ``licence`` is a CC id (``by-nc-sa/3.0``, ``by/4.0``...) from which the three SciELO licence
    paragraphs are generated, or any other string, printed verbatim as the whole licence block
    (for tests of odd or conflicting statements). ``body_texts`` gives the text of each scanned
    page (cycled); by default a built-in corpus in ``language`` is used. Text that does not fit
    on a page is cut, and the truth records only what was drawn.

    The output keeps reportlab's empty ``/Trans`` page key, as messy real inputs do (OCRmyPDF's
    internal PDF/A backend rejects it); ``clean=True`` removes it.
    """
    if scanned_pages < 0:
        raise ValueError("scanned_pages must be >= 0")
    citation = chapter_citation(
        creators=creators,
        title=title,
        editors=editors,
        book_title=book_title,
        city=city,
        publisher=publisher,
        year=year,
        pages=pages,
        isbn=isbn,
    )
    if is_licence_id(licence):
        statements = licence_statements(licence, work="chapter")
        lic_id: str | None = licence.strip().lower()
        lic_url: str | None = licence_url(licence)
    else:
        statements = {"": licence}
        lic_id = lic_url = None

    true_texts: list[str] = []
    layer_texts: list[str] = []
    scanned: list[int] = []
    with binary_streams():
        canvas = new_canvas(path, title=title, author="; ".join(creators), subject=book_title)
        front = draw_front_page(canvas, citation, list(statements.values()))
        true_texts.append(front)
        layer_texts.append(front)
        for i in range(scanned_pages):
            text = body_texts[i % len(body_texts)] if body_texts else page_text(language, i, seed)
            truth, layer = add_scanned_page(
                canvas,
                text,
                page_number=pages[0] + i,
                damage=damage,
                seed=f"{seed}:{i}",
                image_mode=image_mode,
            )
            true_texts.append(truth)
            layer_texts.append(layer)
            scanned.append(i + 1)
        canvas.save()
    if image_mode == "bilevel":
        pack_bilevel_images(path)
    if clean:
        remove_empty_trans(path)
    return SampleChapter(
        path=path,
        true_texts=true_texts,
        layer_texts=layer_texts,
        scanned_pages=scanned,
        citation=citation,
        licence_id=lic_id,
        licence_url=lic_url,
        licence_statements=statements,
        language=language,
        damage=damage,
        seed=seed,
    )


def chapter_citation(
    *,
    creators: Sequence[str],
    title: str,
    editors: Sequence[str],
    book_title: str,
    city: str,
    publisher: str,
    year: int | str,
    pages: tuple[int, int],
    isbn: str,
) -> str:
    """SciELO's chapter citation line, e.g. "PABLO. Title. In HENFREY, C., and SORJ, B. Book
    [online]. City: Publisher, 2008. pp. 40-52. ISBN: ... Available from SciELO Books
    <http://books.scielo.org>." """
    authors = _join_names(creators)
    authors = authors if authors.endswith(".") else authors + "."
    title_part = title if title.endswith((".", "?", "!")) else title + "."
    where = f"In {_join_names(editors)} {book_title}" if editors else f"In {book_title}"
    return (
        f"{authors} {title_part} {where} [online]. {city}: {publisher}, {year}. "
        f"pp. {pages[0]}-{pages[1]}. ISBN: {isbn}. "
        "Available from SciELO Books <http://books.scielo.org>."
    )


def citation_name(name: str) -> str:
    """ "Henfrey, Colin" -> "HENFREY, C."; "Maria Teresa Ribeiro" -> "RIBEIRO, M.T."; "Pablo" ->
    "PABLO" (SciELO's citation style: surname in capitals, initials)."""
    name = " ".join(name.split())
    if "," in name:
        surname, given = (part.strip() for part in name.split(",", 1))
    elif " " in name:
        given, surname = name.rsplit(" ", 1)
    else:
        return name.upper()
    initials = "".join(f"{part[0].upper()}." for part in re.split(r"[\s.]+", given) if part)
    return f"{surname.upper()}, {initials}" if initials else surname.upper()


def _join_names(names: Sequence[str]) -> str:
    formatted = [citation_name(n) for n in names]
    if len(formatted) <= 1:
        return "".join(formatted)
    return ", ".join(formatted[:-1]) + ", and " + formatted[-1]


def draw_front_page(canvas: Canvas, citation: str, paragraphs: Sequence[str]) -> str:
    """SciELO's born-digital first page: header, citation, licence paragraphs; visible text in
    embedded DejaVu Sans. Returns the page's text, line by line as drawn."""
    width = PAGE_SIZE[0] - 2 * MARGIN_PT
    leading = FRONT_SIZE * 1.35
    y = PAGE_SIZE[1] - MARGIN_PT
    drawn: list[str] = [SCIELO_HEADER]
    canvas.setFont("DejaVuSans-Bold", 11)
    canvas.drawCentredString(PAGE_SIZE[0] / 2, y, SCIELO_HEADER)
    y -= 2.5 * leading
    canvas.setFont(FRONT_FONT, FRONT_SIZE)

    def measure(text: str) -> float:
        return stringWidth(text, FRONT_FONT, FRONT_SIZE)

    blocks = [citation, *paragraphs]
    for number, block in enumerate(blocks):
        for line in wrap(block, width, measure):
            canvas.drawString(MARGIN_PT, y, line)
            drawn.append(line)
            y -= leading
        y -= leading * (2.0 if number == 0 else 0.6)
        if number == 0:  # the CC badge sits between citation and licence: a plain drawing
            canvas.roundRect(MARGIN_PT, y + leading * 0.4, 58, 20, 4, stroke=1, fill=0)
            y -= 24
    canvas.showPage()
    return "\n".join(drawn)


def add_scanned_page(
    canvas: Canvas,
    text: str,
    *,
    page_number: int | None,
    damage: Damage | None,
    seed: str,
    image_mode: ImageMode = "gray",
) -> tuple[str, str]:
    """Render ``text`` as a scanned page with an OCR layer damaged to ``damage`` (``None``: no
    text layer at all). Returns (true text, layer text), lines joined by newlines."""
    lines = body_lines(text, page_number=page_number)
    scan = render_scan(
        lines, rng=random.Random(seed), mode=image_mode, has_page_number=page_number is not None
    )
    layer = damage_lines(lines, damage, random.Random(f"{seed}:{damage}")) if damage else []
    draw_scanned_page(canvas, scan, layer)
    return "\n".join(lines), "\n".join(layer)


def draw_scanned_page(canvas: Canvas, scan: Scan, layer: Sequence[str]) -> None:
    """Place the scan over the whole page and, on top, the OCR layer in text render mode 3
    (invisible), one line per image line, stretched to the line's width as OCR engines do."""
    canvas.drawImage(
        ImageReader(io.BytesIO(scan.data)), 0, 0, width=PAGE_SIZE[0], height=PAGE_SIZE[1]
    )
    if layer:
        text = canvas.beginText()
        text.setTextRenderMode(3)
        for placed, damaged in zip(scan.lines, layer, strict=True):
            if not damaged:
                continue
            text.setFont(BODY_FONT, scan.font_size_pt)
            natural = stringWidth(damaged, BODY_FONT, scan.font_size_pt)
            text.setHorizScale(100.0 * placed.width / natural if natural else 100.0)
            text.setTextOrigin(placed.x, placed.baseline)
            text.textOut(damaged)
        canvas.drawText(text)
    canvas.showPage()

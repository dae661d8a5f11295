"""Repairs that let OCRmyPDF's internal PDF/A backend accept real-world PDFs.

Debian 12's Ghostscript 10.0.0 corrupts PDFs that already carry text, so OCRmyPDF refuses it
for ``--redo-ocr``; its ``--pdfa-backend internal`` avoids Ghostscript but only accepts what
pikepdf's PDF/A validator recognises. Two things real files (and reportlab) produce make it
fail with exit code 10:

- an empty ``/Trans`` (page transition) dictionary on every page: removed (an empty
  transition means "no transition", the default);
- an unembedded font that is selected but never draws a glyph, e.g. reportlab's default
  ``BT /F1 12 Tf 14.4 TL ET`` with Helvetica at the start of every page: the empty text object
  is removed when no later text relies on the font or leading it set, and the then unused font
  resource is dropped. What the page shows and its text do not change; empty text objects with
  embedded fonts are left alone (nothing to gain).

A font that really draws text without being embedded cannot be repaired here (embedding a
substitute is what Ghostscript would do); the stage then falls back to a plain PDF access
copy and says why. The original file is never touched: this works on a private copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

_TEXT_SHOW = {"Tj", "TJ", "'", '"'}
_NEEDS_LEADING = {"T*", "'", '"'}
# operators allowed in a text object we may delete: they only set state that later text
# re-sets (checked below) or that ends with the text object (text matrix)
_REMOVABLE_BLOCK_OPS = {"BT", "ET", "Tf", "TL", "Td", "TD", "Tm", "T*"}

# one parsed content-stream instruction (operands and operator; inline images are one too)
Instruction = pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage


@dataclass
class CleanupReport:
    """What was changed in the working copy, page by page (1-based numbers)."""

    empty_trans_removed: list[int] = field(default_factory=list)
    empty_text_objects_removed: list[int] = field(default_factory=list)
    unused_resources_removed: bool = False

    @property
    def changes(self) -> list[str]:
        out: list[str] = []
        if self.empty_trans_removed:
            out.append(f"removed empty /Trans on page(s) {_ranges(self.empty_trans_removed)}")
        if self.empty_text_objects_removed:
            out.append(
                "removed empty text objects (font selected, nothing drawn) on page(s) "
                f"{_ranges(self.empty_text_objects_removed)}"
            )
        if self.unused_resources_removed:
            out.append("dropped unused page resources")
        return out


def clean_for_pdfa(source: Path, target: Path) -> CleanupReport:
    """Write a cleaned copy of ``source`` to ``target`` (``source`` is only read)."""
    report = CleanupReport()
    with pikepdf.open(source) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            trans = page.obj.get("/Trans")
            if isinstance(trans, pikepdf.Dictionary) and len(trans.keys()) == 0:
                del page.obj["/Trans"]
                report.empty_trans_removed.append(number)
            if _drop_empty_text_objects(pdf, page):
                report.empty_text_objects_removed.append(number)
        if report.empty_text_objects_removed:
            pdf.remove_unreferenced_resources()
            report.unused_resources_removed = True
        pdf.save(target)
    return report


def _drop_empty_text_objects(pdf: pikepdf.Pdf, page: pikepdf.Page) -> bool:
    try:
        ops = list(pikepdf.parse_content_stream(page))
    except pikepdf.PdfError:
        return False
    blocks = _text_blocks(ops)
    removable = [
        (start, end)
        for start, end in blocks
        if all(str(ops[i].operator) in _REMOVABLE_BLOCK_OPS for i in range(start, end + 1))
        and _selects_unembedded_font(ops[start : end + 1], page)
        and not _later_text_relies_on_state(ops, end, page)
    ]
    if not removable:
        return False
    drop = {i for start, end in removable for i in range(start, end + 1)}
    kept = [op for i, op in enumerate(ops) if i not in drop]
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
    return True


def _selects_unembedded_font(block: list[Instruction], page: pikepdf.Page) -> bool:
    """Only blocks that select an unembedded font are worth touching (the PDF/A blocker)."""
    fonts = _named_resources(page.obj.get("/Resources"), "/Font")
    for inst in block:
        if str(inst.operator) == "Tf" and inst.operands:
            font = _lookup(fonts, inst.operands[0])
            if font is None or not font_is_embedded(font):
                return True
    return False


def font_is_embedded(font: pikepdf.Object) -> bool:
    """Whether a font dictionary carries its font program (Type0: via its descendant)."""
    try:
        if font.get("/Subtype") == "/Type0":
            descendants = font.get("/DescendantFonts")
            if not descendants:
                return False
            font = descendants[0]
        if font.get("/Subtype") == "/Type3":
            return True  # glyphs are content streams: nothing to embed
        descriptor = font.get("/FontDescriptor")
        return descriptor is not None and any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
        )
    except (AttributeError, TypeError, pikepdf.PdfError):
        return False


def _named_resources(resources: pikepdf.Object | None, category: str) -> pikepdf.Object | None:
    """The ``category`` dictionary (``/Font``, ``/XObject``) of a resource dictionary, if any."""
    return resources.get(category) if resources is not None else None


def _lookup(dictionary: pikepdf.Object | None, key: pikepdf.Object) -> pikepdf.Object | None:
    """``dictionary[key]`` for a name operand; None when absent (or the operand is no name)."""
    if dictionary is None or not isinstance(key, pikepdf.Name):
        return None
    return dictionary.get(key)


def _text_blocks(ops: list[Instruction]) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    start: int | None = None
    for i, inst in enumerate(ops):
        name = str(inst.operator)
        if name == "BT":
            start = i
        elif name == "ET" and start is not None:
            blocks.append((start, i))
            start = None
    return blocks


def _later_text_relies_on_state(ops: list[Instruction], after: int, page: pikepdf.Page) -> bool:
    """Whether anything after ``ops[after]`` could use the font or leading set before it.

    Conservative: every later text object must select its own font before showing text and
    set its own leading before T*/'/"; a form XObject drawn later must not contain text.
    """
    has_font = has_leading = False
    for inst in ops[after + 1 :]:
        name = str(inst.operator)
        if name == "BT":
            has_font = has_leading = False
        elif name == "Tf":
            has_font = True
        elif name == "TL":
            has_leading = True
        elif name in _TEXT_SHOW and not has_font:
            return True
        if name in _NEEDS_LEADING and not has_leading:
            return True
        if name == "Do" and inst.operands and _form_has_text(page, inst.operands[0]):
            return True
    return False


def _form_has_text(page: pikepdf.Page, name: pikepdf.Object, depth: int = 0) -> bool:
    xobj = _lookup(_named_resources(page.obj.get("/Resources"), "/XObject"), name)
    if xobj is None or xobj.get("/Subtype") != "/Form":
        return False
    return _stream_has_text(xobj, depth)


def _stream_has_text(stream: pikepdf.Object, depth: int) -> bool:
    if depth > 8:
        return True
    try:
        ops = pikepdf.parse_content_stream(stream)
    except pikepdf.PdfError:
        return True
    resources = stream.get("/Resources")
    for inst in ops:
        name = str(inst.operator)
        if name in _TEXT_SHOW:
            return True
        if name == "Do" and inst.operands and resources is not None:
            inner = _lookup(_named_resources(resources, "/XObject"), inst.operands[0])
            if (
                inner is not None
                and inner.get("/Subtype") == "/Form"
                and _stream_has_text(inner, depth + 1)
            ):
                return True
    return False


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3, 5" (page lists in messages)."""
    runs: list[list[int]] = []  # [first, last] of each run of consecutive numbers
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{first}-{last}" if first != last else f"{first}" for first, last in runs)

"""Read Tesseract's hOCR: the page text and each word's confidence.

The hOCR files come from our own Tesseract run, but they are still parsed with a hardened
parser (no DTD loading, no entities, no network): the same code may one day read hOCR from
elsewhere, and the XHTML doctype names a remote DTD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from archive_ingest.errors import OcrError
from archive_ingest.ocr.quality import mean

_XHTML = "{http://www.w3.org/1999/xhtml}"
_WCONF_RE = re.compile(r"x_wconf\s+(-?\d+(?:\.\d+)?)")
_IMAGE_RE = re.compile(r'image\s+"[^"]*"')
_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}


@dataclass(frozen=True)
class HocrPage:
    """What one page's hOCR says: its text (lines, paragraphs) and word confidences."""

    text: str
    word_confidences: tuple[float, ...]

    @property
    def mean_confidence(self) -> float | None:
        return mean(self.word_confidences)

    @property
    def words(self) -> int:
        return len(self.word_confidences)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def parse_hocr(data: bytes) -> HocrPage:
    """Text and word confidences of an hOCR page. Raises ``OcrError`` on unreadable hOCR."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise OcrError(f"Tesseract wrote unreadable hOCR: {exc}") from exc
    paragraphs: list[str] = []
    confidences: list[float] = []
    for par in root.iter(f"{_XHTML}p", "p"):
        lines: list[str] = []
        for line in par.iter():
            if _classes(line) & _LINE_CLASSES:
                words = []
                for word in line.iter():
                    if "ocrx_word" in _classes(word):
                        text = "".join(word.itertext()).strip()
                        if not text:
                            continue
                        words.append(text)
                        match = _WCONF_RE.search(word.get("title", ""))
                        if match:
                            confidences.append(float(match.group(1)))
                if words:
                    lines.append(" ".join(words))
        if lines:
            paragraphs.append("\n".join(lines))
    return HocrPage(text="\n\n".join(paragraphs), word_confidences=tuple(confidences))


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


def read_hocr(path: Path) -> HocrPage:
    return parse_hocr(path.read_bytes())


def scrub_image_path(data: bytes, page_name: str) -> bytes:
    """Replace the temporary image path Tesseract records (a local path, meaningless later
    and not for the archive) with a neutral page name."""
    text = data.decode("utf-8")
    return _IMAGE_RE.sub(f'image "{page_name}"', text, count=1).encode("utf-8")

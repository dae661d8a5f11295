"""Low-level drawing shared by the sample generators: fonts, text wrapping, page scans.

Pages are A5 (148 x 210 mm), the size of many SciELO books. A "scan" is the page's body text
drawn at 300 dpi with a TrueType font, with ink spread, paper noise, dust and a slight skew, as a
flatbed scanner would produce; the caller places it as a full-page image.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from reportlab.lib.pagesizes import A5
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSerif": "DejaVuSerif.ttf",
}
PAGE_SIZE: tuple[float, float] = A5  # points
DPI = 300
BODY_FONT = "DejaVuSerif"
BODY_SIZE_PT = 10.5
LINE_PITCH = 1.5  # times the font size
MARGIN_PT = 54.0  # 0.75 inch

ImageMode = Literal["gray", "bilevel"]


@dataclass(frozen=True)
class ScanLine:
    """Where one text line sits on the page, in PDF points (origin bottom-left)."""

    text: str
    x: float
    baseline: float
    width: float


@dataclass(frozen=True)
class Scan:
    """A rendered page image (encoded) and the geometry of the lines drawn on it."""

    data: bytes  # JPEG (gray) or PNG of black and white only (bilevel)
    mode: ImageMode
    size_px: tuple[int, int]
    lines: tuple[ScanLine, ...]
    font_size_pt: float


def _noise(width: int, height: int, rng: random.Random, tile: int = 512) -> Image.Image:
    """Paper noise from ``rng`` (PIL's own noise generator is not seedable): one random tile
    repeated over the page, which is invisible at this amplitude and keeps the output
    byte-for-byte reproducible."""
    patch = Image.frombytes("L", (tile, tile), rng.randbytes(tile * tile))
    noise = Image.new("L", (width, height))
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            noise.paste(patch, (left, top))
    return noise


def font_path(name: str) -> Path:
    path = FONT_DIR / FONTS[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"font {path} is missing: install the Debian package fonts-dejavu-core"
        )
    return path


@cache
def register_fonts() -> None:
    """Register the DejaVu fonts with reportlab once per process (they are embedded, subset)."""
    for name in FONTS:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))


@lru_cache(maxsize=8)
def _pil_font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size_px)


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy word wrap. ``measure(str) -> float`` gives a string's width in the same unit as
    ``width``. Blank lines in ``text`` separate paragraphs and are dropped (paragraphs start
    on a new line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if not words:
            continue
        current = words[0]
        for word in words[1:]:
            candidate = f"{current} {word}"
            if measure(candidate) <= width:
                current = candidate
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines


def body_lines(text: str, page_number: int | None) -> list[str]:
    """The lines a scanned page shows: an optional page number, then the wrapped body text."""
    font_size_px = round(BODY_SIZE_PT * DPI / 72)
    font = _pil_font(BODY_FONT, font_size_px)
    width_px = (PAGE_SIZE[0] - 2 * MARGIN_PT) * DPI / 72
    lines = wrap(text, width_px, font.getlength)
    max_lines = int((PAGE_SIZE[1] - 2 * MARGIN_PT) / (BODY_SIZE_PT * LINE_PITCH)) - 2
    lines = lines[:max_lines]
    if page_number is not None:
        lines.insert(0, str(page_number))
    return lines


def render_scan(
    lines: Sequence[str], *, rng: random.Random, mode: ImageMode = "gray", has_page_number: bool
) -> Scan:
    """Draw ``lines`` as a 300-dpi scan: ink spread, paper noise, dust specks, slight skew."""
    width_px = round(PAGE_SIZE[0] * DPI / 72)
    height_px = round(PAGE_SIZE[1] * DPI / 72)
    font_size_px = round(BODY_SIZE_PT * DPI / 72)
    font = _pil_font(BODY_FONT, font_size_px)
    px_per_pt = DPI / 72
    margin_px = MARGIN_PT * px_per_pt
    pitch_px = BODY_SIZE_PT * LINE_PITCH * px_per_pt

    image = Image.new("L", (width_px, height_px), 255)
    draw = ImageDraw.Draw(image)
    placed: list[ScanLine] = []
    y = margin_px + font_size_px
    for index, line in enumerate(lines):
        line_width = font.getlength(line)
        page_number_line = index == 0 and has_page_number
        x = width_px - margin_px - line_width if page_number_line else margin_px  # number: right
        ink = rng.randint(20, 60)
        draw.text((x, y), line, font=font, fill=ink, anchor="ls")
        placed.append(
            ScanLine(
                text=line,
                x=x / px_per_pt,
                baseline=PAGE_SIZE[1] - y / px_per_pt,
                width=line_width / px_per_pt,
            )
        )
        y += pitch_px * (2 if index == 0 and has_page_number else 1)

    for _ in range(rng.randint(15, 40)):  # dust
        cx, cy = rng.randrange(width_px), rng.randrange(height_px)
        r = rng.choice((1, 1, 2, 3))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rng.randint(40, 160))

    image = image.filter(ImageFilter.GaussianBlur(0.6))  # ink spread
    noise = _noise(width_px, height_px, rng)
    image = Image.blend(image, noise, 0.07)
    angle = rng.uniform(0.15, 0.6) * rng.choice((-1, 1))
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=240)

    buffer = io.BytesIO()
    if mode == "bilevel":
        # 0/255 grayscale here; reportlab cannot write 1-bit images, so the PDF's image is
        # packed to 1 bit per pixel afterwards (pdfwrite.pack_bilevel_images)
        bilevel = image.point(lambda v: 255 if v > 150 else 0)
        bilevel.save(buffer, format="PNG", dpi=(DPI, DPI))
    elif mode == "gray":
        image.save(buffer, format="JPEG", quality=80, dpi=(DPI, DPI))
    else:
        raise ValueError(f"unknown image mode {mode!r}; use gray or bilevel")
    return Scan(
        data=buffer.getvalue(),
        mode=mode,
        size_px=(width_px, height_px),
        lines=tuple(placed),
        font_size_pt=BODY_SIZE_PT,
    )

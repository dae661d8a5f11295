"""A screenshot's structure, for comparing page layouts without comparing pixels.

The page is cut into a coarse grid of square cells (:data:`COLUMNS` across); a cell is *inked*
when its mean darkness against the page background is above :data:`INK`. Text in another font,
antialiasing or a different date on an axis moves a few cells at the edges of text; a chart that
disappears, or a layout that breaks (boxes stacked differently, overflowing, collapsed), moves
whole blocks of cells. :func:`mismatch` is the share of cells inked in either grid that differ.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import FloatRect

COLUMNS = 32
#: mean darkness (0-255, against the background) above which a cell counts as inked
INK = 12.0
#: the greyscale page background of the review stylesheet (#fafafa)
BACKGROUND = 250


def _image(source: bytes | Path) -> Image.Image:
    data = source.read_bytes() if isinstance(source, Path) else source
    return Image.open(io.BytesIO(data)).convert("L")


def ink_grid(source: bytes | Path, columns: int = COLUMNS) -> list[list[bool]]:
    """The inked cells of a screenshot (PNG bytes or file), row by row."""
    image = _image(source)
    width, height = image.size
    rows = max(1, round(height * columns / width))
    cells = image.resize((columns, rows), Image.Resampling.BOX).tobytes()  # one byte a cell
    return [
        [BACKGROUND - float(cells[y * columns + x]) > INK for x in range(columns)]
        for y in range(rows)
    ]


def mismatch(got: list[list[bool]], want: list[list[bool]]) -> float:
    """Share of cells inked in either grid that differ (rows one grid lacks count as blank)."""
    rows = max(len(got), len(want))
    blank = [False] * (len(got[0]) if got else COLUMNS)
    differ = either = 0
    for y in range(rows):
        a = got[y] if y < len(got) else blank
        b = want[y] if y < len(want) else blank
        for p, q in zip(a, b, strict=True):
            either += p or q
            differ += p != q
    return differ / either if either else 0.0


def inked_share(grid: list[list[bool]], box: FloatRect, page_width: float) -> float:
    """Share of the cells under ``box`` (a DOM bounding box in page pixels) that are inked."""
    columns = len(grid[0])
    cell = page_width / columns
    x0, x1 = int(box["x"] // cell), int((box["x"] + box["width"]) // cell)
    y0, y1 = int(box["y"] // cell), int((box["y"] + box["height"]) // cell)
    under = [
        grid[y][x]
        for y in range(y0, min(y1 + 1, len(grid)))
        for x in range(x0, min(x1 + 1, columns))
    ]
    return sum(under) / len(under) if under else 0.0


def save_reference(png: bytes, path: Path, width: int = 640) -> None:
    """``png`` downscaled to ``width`` pixels across, greyscale: what :func:`ink_grid` needs."""
    image = _image(png)
    height = round(image.size[1] * width / image.size[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    image.resize((width, height), Image.Resampling.LANCZOS).save(path, optimize=True)

"""reportlab canvas set-up shared by the generators, and the optional clean-up pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from tests.support.samples.render import PAGE_SIZE, register_fonts

DEFAULT_FONT = "DejaVuSans"


@contextmanager
def binary_streams() -> Iterator[None]:
    """Write streams Flate/DCT only, without reportlab's default ASCII85 layer (scanners and
    publishers' tools do not use it, and it makes the files 25 % larger)."""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


def new_canvas(
    path: Path, *, title: str, author: str, subject: str = "", initial_font: str = DEFAULT_FONT
) -> Canvas:
    """A reportlab canvas for an A5 PDF with document info, byte-for-byte reproducible.

    The initial font is an embedded DejaVu, not reportlab's default Helvetica, which would put an
    unembedded font on every page (only :func:`make_unembedded_font_pdf` wants that).
    """
    register_fonts()
    canvas = Canvas(
        str(path),
        pagesize=PAGE_SIZE,
        invariant=True,
        pageCompression=1,
        initialFontName=initial_font,
    )
    canvas.setTitle(title)
    canvas.setAuthor(author)
    if subject:
        canvas.setSubject(subject)
    return canvas


def remove_empty_trans(path: Path) -> None:
    """Drop the empty ``/Trans`` dictionaries reportlab writes on every page (a page transition
    with no content, which OCRmyPDF's internal PDF/A backend refuses). Rewrites ``path``."""
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            trans = page.obj.get("/Trans")
            if isinstance(trans, pikepdf.Dictionary) and len(trans.keys()) == 0:
                del page.obj["/Trans"]
        pdf.save(path, deterministic_id=True)


def pack_bilevel_images(path: Path) -> None:
    """Rewrite every 8-bit gray Flate image holding only black and white as a 1-bit image, as a
    bilevel scanner writes it (reportlab only writes 8-bit images). Rewrites ``path``."""
    import zlib

    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
            for xobject in xobjects.values():
                if xobject.get("/Subtype") != "/Image":
                    continue
                image = pikepdf.PdfImage(xobject)
                if image.bits_per_component != 8 or image.colorspace != "/DeviceGray":
                    continue
                pil = image.as_pil_image()
                colors = pil.getcolors(maxcolors=2)
                if colors is None or not {value for _, value in colors} <= {0, 255}:
                    continue
                packed = pil.convert("1", dither=None).tobytes()  # rows padded, 1 bit = white
                xobject.write(zlib.compress(packed), filter=pikepdf.Name.FlateDecode)
                xobject.BitsPerComponent = 1
        pdf.save(path, deterministic_id=True)

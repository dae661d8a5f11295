"""Helpers shared by the OCR tests (inputs the sample generators do not make, checks)."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from reportlab.pdfgen.canvas import Canvas

from tests.support.samples.chapter import add_scanned_page
from tests.support.samples.render import PAGE_SIZE, register_fonts

ImageKey = tuple[str, int, int, int, str, bytes]


def make_reportlab_default_pdf(
    path: Path,
    *,
    scanned_text: str,
    damage: str = "heavy",
    licence_line: str = "Licence: Creative Commons Atribuição 4.0 Internacional",
) -> Path:
    """What plain reportlab writes: Helvetica selected (never used, unembedded) on every page
    and an empty /Trans per page; the visible text (``licence_line`` on a born-digital page,
    then a scanned page showing ``scanned_text``) is in an embedded DejaVu font."""
    register_fonts()
    canvas = Canvas(str(path), pagesize=PAGE_SIZE)  # default initial font: Helvetica
    canvas.setFont("DejaVuSans", 10)
    canvas.drawString(50, 500, licence_line)
    canvas.showPage()
    add_scanned_page(canvas, scanned_text, page_number=3, damage=damage, seed="1")  # type: ignore[arg-type]
    canvas.save()
    return path


def page_images(path: Path) -> list[list[ImageKey]]:
    """Per page, every image drawn (also inside form XObjects) as (filters left after undoing
    Flate/ASCII layers, width, height, bits, colour space, bytes after that undoing).

    Equal keys mean the image was not re-encoded: a JPEG keeps its exact bitstream, a Flate
    image its exact pixels.
    """
    out: list[list[ImageKey]] = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            images: list[ImageKey] = []
            _collect(page.obj.get("/Resources"), images, 0)
            out.append(sorted(images))
    return out


def _collect(resources: pikepdf.Object | None, images: list[ImageKey], depth: int) -> None:
    if resources is None or depth > 8:
        return
    for xobj in resources.get("/XObject", {}).values():
        if xobj.get("/Subtype") == "/Image":
            filters = xobj.get("/Filter")
            names = (
                [str(f) for f in filters]
                if isinstance(filters, pikepdf.Array)
                else ([str(filters)] if filters is not None else [])
            )
            left = ",".join(
                n
                for n in names
                if n
                in (
                    "/DCTDecode",
                    "/JPXDecode",
                    "/JBIG2Decode",
                    "/CCITTFaxDecode",
                    "/RunLengthDecode",
                )
            )
            images.append(
                (
                    left,
                    int(xobj.Width),
                    int(xobj.Height),
                    int(xobj.get("/BitsPerComponent", 1)),
                    str(xobj.get("/ColorSpace")),
                    _payload(xobj),
                )
            )
        elif xobj.get("/Subtype") == "/Form":
            _collect(xobj.get("/Resources"), images, depth + 1)


def processes_mentioning(marker: str) -> list[tuple[int, str]]:
    """Live processes whose command line or working directory contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == __import__("os").getpid():
            continue
        try:
            cmdline = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
            stat = (entry / "stat").read_text()
            cwd = str((entry / "cwd").readlink()) if (entry / "cwd").exists() else ""
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            continue
        if marker in cmdline or marker in cwd:
            found.append((int(entry.name), cmdline))
    return found


def _payload(stream: pikepdf.Object) -> bytes:
    """Bytes with Flate/LZW/ASCII layers undone; a lone DCT/JPX/JBIG2 stream as stored."""
    try:
        return stream.read_bytes()
    except pikepdf.PdfError:  # "unfilterable": only specialised codecs, nothing to undo
        return stream.read_raw_bytes()

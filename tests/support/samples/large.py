"""A large, valid SciELO-like PDF written to disk in chunks, never held in memory.

Page one is a real born-digital chapter page with a CC BY 4.0 licence statement (so the licence
stage passes); after it come pages holding one raw (unfiltered) 8-bit grey image of random
bytes each (incompressible), appended as a classic incremental update with tracked byte offsets.
Used by bench/bench_rss.py (1 GB) and by the memory tests of PDF inspection.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.samples.chapter import make_sample_chapter

MIB = 1024**2


def _startxref(path: Path) -> int:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 1024))
        tail = handle.read()
    marker = tail.rindex(b"startxref")
    return int(tail[marker + len(b"startxref") :].split()[0])


def make_large_pdf(path: Path, *, size_mb: float, page_mb: float = 4) -> dict[str, Any]:
    """A licence page plus raw random-grey image pages, ~``size_mb`` MiB, written in chunks.

    Returns ``{"pages", "image_pages", "image_bytes"}``."""
    import pikepdf

    first = path.with_name(path.name + ".licence-page.pdf")
    make_sample_chapter(
        first,
        title="Capítulo grande (medida de memória)",
        creators=["Souza, Helena Martins"],
        book_title="Livro gerado para a medida de memória",
        publisher="EDUFBA",
        year=2012,
        pages=(1, 1 + max(1, round(size_mb / page_mb))),
        isbn="978-85-232-1234-6",
        licence="by/4.0",
        language="pt",
        scanned_pages=0,
        damage="none",
        seed=5,
        clean=True,
    )
    with pikepdf.open(first) as pdf:  # classic xref table, so a classic update can follow
        pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    first.unlink()
    with pikepdf.open(path) as pdf:
        root = pdf.Root.objgen
        pages_obj = pdf.Root.Pages
        pages_ref = pages_obj.objgen
        kids = [k.objgen for k in pages_obj.Kids]
        if any(k.get("/Type") != "/Page" for k in pages_obj.Kids):
            raise RuntimeError("expected a flat page tree in the licence page PDF")
        box = [float(v) for v in pdf.pages[0].mediabox]
        size = int(pdf.trailer.Size)
        ids = [bytes(i).hex() for i in pdf.trailer.ID] if "/ID" in pdf.trailer else []
    prev = _startxref(path)

    width = 2048
    page_bytes = max(width, int(page_mb * MIB) // width * width)
    height = page_bytes // width
    target = int(size_mb * MIB)
    count = max(1, -(-(target - path.stat().st_size) // page_bytes))
    chunk = 1 * MIB
    offsets: dict[int, int] = {}
    new_kids: list[int] = []
    pw, ph = box[2] - box[0], box[3] - box[1]
    with path.open("ab") as out:
        out.write(b"\n")

        def begin(num: int) -> None:
            offsets[num] = out.tell()
            out.write(f"{num} 0 obj\n".encode())

        num = size
        for _ in range(count):
            image, contents, page = num, num + 1, num + 2
            num += 3
            begin(image)
            out.write(
                f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length {page_bytes} >>\n"
                "stream\n".encode()
            )
            left = page_bytes
            while left:
                n = min(chunk, left)
                out.write(os.urandom(n))
                left -= n
            out.write(b"\nendstream\nendobj\n")
            draw = f"q {pw:g} 0 0 {ph:g} {box[0]:g} {box[1]:g} cm /Im0 Do Q\n".encode()
            begin(contents)
            out.write(f"<< /Length {len(draw)} >>\nstream\n".encode() + draw)
            out.write(b"endstream\nendobj\n")
            begin(page)
            out.write(
                f"<< /Type /Page /Parent {pages_ref[0]} {pages_ref[1]} R "
                f"/MediaBox [{' '.join(f'{v:g}' for v in box)}] "
                f"/Resources << /XObject << /Im0 {image} 0 R >> >> "
                f"/Contents {contents} 0 R >>\nendobj\n".encode()
            )
            new_kids.append(page)
        # the page tree object, replaced in the update: old kids plus the new pages
        pages_offset = out.tell()
        kid_refs = [f"{n} {g} R" for n, g in kids] + [f"{n} 0 R" for n in new_kids]
        out.write(
            f"{pages_ref[0]} {pages_ref[1]} obj\n<< /Type /Pages /Kids [{' '.join(kid_refs)}] "
            f"/Count {len(kid_refs)} >>\nendobj\n".encode()
        )
        xref_offset = out.tell()
        lines = [
            "xref",
            "0 1",
            "0000000000 65535 f ",
            f"{pages_ref[0]} 1",
            f"{pages_offset:010d} {pages_ref[1]:05d} n ",
            f"{size} {num - size}",
            *(f"{offsets[n]:010d} 00000 n " for n in range(size, num)),
        ]
        id_part = f" /ID [<{ids[0]}> <{ids[1]}>]" if len(ids) == 2 else ""
        trailer = (
            f"trailer\n<< /Size {num} /Root {root[0]} {root[1]} R /Prev {prev}{id_part} >>\n"
            f"startxref\n{xref_offset}\n%%EOF\n"
        )
        out.write(("\n".join(lines) + "\n" + trailer).encode("ascii"))
    return {"pages": count + len(kids), "image_pages": count, "image_bytes": page_bytes}

"""Generated SciELO Books content for the sample server: batches for the harvest / scale-out
tests and the benchmarks."""

from __future__ import annotations

from pathlib import Path

from archive_ingest_demo.scielo_sample import SampleCatalogue
from tests.support.samples.chapter import make_sample_chapter


def add_generated_book(
    catalogue: SampleCatalogue,
    sbid: str,
    chapters: int,
    tmp: Path,
    *,
    seed: int = 0,
    scanned_pages: int = 1,
) -> list[str]:
    """A book with ``chapters`` generated chapters (``scanned_pages`` lightly damaged scanned
    pages each after a born-digital licence page, a valid CC BY 4.0 licence): each ends
    deposited. PDFs are written under ``tmp``. Returns their REFs."""
    title = f"Livro gerado {sbid}"
    catalogue.add_book(
        sbid,
        title=title,
        isbn="9788523212346",
        publisher="EDUFBA",
        language="pt",
        year="2012",
        creators=[("organizer", "Almeida, Joana Prado")],
        use_licence="CC BY 4.0",
    )
    refs = []
    for order in range(1, chapters + 1):
        pdf = tmp / f"{sbid}-{order:02d}.pdf"
        make_sample_chapter(
            pdf,
            title=f"Capítulo {order} do livro {sbid}",
            creators=["Souza, Helena Martins"],
            book_title=title,
            publisher="EDUFBA",
            year=2012,
            pages=(10 * order, 10 * order + 8),
            isbn="978-85-232-1234-6",
            licence="by/4.0",
            language="pt",
            scanned_pages=scanned_pages,
            damage="light",
            seed=seed + order,
        )
        catalogue.add_chapter(
            sbid,
            order,
            title=f"Capítulo {order} do livro {sbid}",
            creators=[("individual_author", "Souza, Helena Martins")],
            pages=(str(10 * order), str(10 * order + 8)),
            pdf_path=pdf,
            text_language="pt",
        )
        refs.append(f"scielo-books:{sbid}/{order:02d}")
    return refs

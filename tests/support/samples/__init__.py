"""Synthetic SciELO-like PDFs with known ground truth, and the bad inputs tests need.

See docs/SAMPLES.md for what each generator makes and why.
"""

from tests.support.samples.book import add_generated_book
from tests.support.samples.chapter import SampleChapter, SamplePdf, make_sample_chapter
from tests.support.samples.damage import Damage, damage_lines
from tests.support.samples.large import make_large_pdf
from tests.support.samples.licence_text import licence_names, licence_statements, licence_url
from tests.support.samples.variants import (
    make_born_digital_pdf,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf_with_embedded_file,
    make_pdf_with_javascript,
    make_truncated_pdf,
    make_unembedded_font_pdf,
)
from tests.support.samples.xmp import make_xmp

__all__ = [
    "Damage",
    "SampleChapter",
    "SamplePdf",
    "add_generated_book",
    "damage_lines",
    "licence_names",
    "licence_statements",
    "licence_url",
    "make_born_digital_pdf",
    "make_encrypted_pdf",
    "make_image_only_pdf",
    "make_large_pdf",
    "make_pdf_with_embedded_file",
    "make_pdf_with_javascript",
    "make_sample_chapter",
    "make_truncated_pdf",
    "make_unembedded_font_pdf",
    "make_xmp",
]

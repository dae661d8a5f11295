"""Reading PDFs without changing them, within fixed bounds.

- :mod:`~archive_ingest.pdf.bounds`: the limits every reader here keeps, and the warning list;
- :mod:`~archive_ingest.pdf.streams`: how many bytes a stream decodes to, counted in bounded
  steps before any parser is given it;
- :mod:`~archive_ingest.pdf.reading`: opening a file (envelope checks, pypdf, pikepdf) and a
  page's text;
- :mod:`~archive_ingest.pdf.pages`: the one per-page analysis (what a page draws: visible and
  invisible text, images, fonts), used by the inspection and by the OCR stage;
- :mod:`~archive_ingest.pdf.document`: document-level facts (JavaScript, embedded files, XMP,
  document info, version);
- :mod:`~archive_ingest.pdf.inspection`: :func:`~archive_ingest.pdf.inspection.inspect_pdf`,
  all of the above as one :class:`~archive_ingest.models.PdfInspection`.
"""

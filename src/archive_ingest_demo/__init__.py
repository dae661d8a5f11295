"""``archive-ingest demo`` and the sample SciELO it ingests from: not part of the pipeline.

The pipeline (``archive_ingest``, ``flows``) never imports this package. It adds its ``demo``
command to the command line through the ``archive_ingest.commands`` entry point group
(:func:`archive_ingest_demo.command.register`); the sample SciELO server
(:mod:`archive_ingest_demo.scielo_sample`) is also what the test suite runs the pipeline
against. The demo book's PDFs are package data (``pdfs/``), not generated at run time.
"""

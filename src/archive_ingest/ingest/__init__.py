"""The ingest of one item, as one module per stage behind a small runner.

    resolve → fetch → inspect → ocr → licence → describe → package → deposit | hold

``registry.STAGES`` is the ordered tuple of stages after ``resolve``; ``runner.run_stage``
runs one of them (skip when done, required checkpoints, events, checkpoint);
``checkpoints`` holds the typed stage outputs. ``flows/ingest.py`` makes one Prefect task per
registered stage. docs/ARCHITECTURE.md walks one item through these modules.
"""

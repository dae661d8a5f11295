"""Archivist review: queue, record pages, decisions as PREMIS events (issue 6)."""

"""Archivist review: queue, record pages, decisions as PREMIS events."""

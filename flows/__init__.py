"""Prefect flows of archive-ingest: thin compositions of archive_ingest functions."""

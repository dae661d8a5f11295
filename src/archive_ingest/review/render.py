"""Derived views of a package for the record page: page images, per-page text diffs,
the licence phrase highlighted. Subprocesses (poppler) run with a timeout; output is cached
under ``v<N>/review-cache/``, outside the bag."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path
from typing import Any

TIMEOUT = 30


class RenderError(RuntimeError):
    pass


def page_png(pdf: Path, page: int, cache: Path, *, dpi: int = 80) -> Path:
    """Page ``page`` (1-based) of ``pdf`` as a PNG, rendered by pdftoppm once."""
    target = cache / f"page-{page:04d}-{dpi}.png"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    stem = cache / f".render-{page:04d}-{dpi}"
    cmd = ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile"]
    try:
        subprocess.run(
            [*cmd, str(pdf), str(stem)], check=True, capture_output=True, timeout=TIMEOUT
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise RenderError(f"pdftoppm could not render page {page}: {type(exc).__name__}") from None
    stem.with_suffix(".png").replace(target)
    return target


def page_text(pdf: Path, page: int) -> str:
    try:
        proc = subprocess.run(
            [
                "pdftotext",
                "-layout",
                "-enc",
                "UTF-8",
                "-f",
                str(page),
                "-l",
                str(page),
                str(pdf),
                "-",
            ],
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise RenderError(f"pdftotext failed on page {page}: {type(exc).__name__}") from None
    return proc.stdout.decode("utf-8", "replace")


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Line diff as (kind, line) with kind in ' ', '-', '+' (pure; rendered escaped)."""
    out: list[tuple[str, str]] = []
    old_lines = [line.rstrip() for line in old.splitlines() if line.strip()]
    new_lines = [line.rstrip() for line in new.splitlines() if line.strip()]
    for line in difflib.ndiff(old_lines, new_lines):
        kind = line[:1]
        if kind in (" ", "-", "+"):
            out.append((kind, line[2:]))
    return out


def highlight(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, highlighted) parts for the given spans (pure).

    A span whose offsets do not match its text is looked up by its text instead.
    """
    marks: list[tuple[int, int]] = []
    for start, end, span_text in spans:
        if 0 <= start < end <= len(text) and text[start:end] == span_text:
            marks.append((start, end))
        elif span_text:
            found = text.find(span_text)
            if found >= 0:
                marks.append((found, found + len(span_text)))
    marks.sort()
    parts: list[tuple[str, bool]] = []
    pos = 0
    for start, end in marks:
        if start < pos:
            continue
        if start > pos:
            parts.append((text[pos:start], False))
        parts.append((text[start:end], True))
        pos = end
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def evidence_columns(verdict: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The verdict's claims grouped by source: metadata, pdf, xmp (pure)."""
    cols: dict[str, list[dict[str, Any]]] = {"metadata": [], "pdf": [], "xmp": []}
    for claim in verdict.get("evidence", []):
        cols.setdefault(str(claim.get("source")), []).append(claim)
    return cols

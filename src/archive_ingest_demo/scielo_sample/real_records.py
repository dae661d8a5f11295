"""Real ArticleMeta documents on the sample server, as ArticleMeta and the classic site serve them.

A real document (a file ``<collection>-<PID>.json``, e.g. tests/fixtures/real-records/) is served
verbatim: the article route renders it the way scieloorg/articles_meta does (see
:func:`articlemeta_answer`), and the journal site beside it answers the PDF paths the document
names or that the classic site derives (see :func:`site_pdf_paths`).

Read from scieloorg/articles_meta (articlemeta/articlemeta.py ``get_article``,
articlemeta/controller.py ``get_article``, the ``jsonp`` renderer registered in
articlemeta/__init__.py as ``JSONP(param_name='callback', indent=4)``) and scieloorg/xylose
(scielodocument.py ``Article.fulltexts``, ``file_code``, ``assets_code``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: ``<collection>-<PID>.json``: how the real-record files are named.
RECORD_FILE_RE = re.compile(r"^(?P<collection>[a-z]{3})-(?P<pid>S\d{4}-\d{3}[\dX]\d{13})\.json$")
#: A real document is a few hundred kB at most (citations included); refuse anything far larger.
MAX_RECORD_BYTES = 8 * 1024 * 1024
#: Pyramid's JSONP renderer accepts only callback names like this one (pyramid/renderers.py).
CALLBACK_RE = re.compile(r"^[$a-z_][$0-9a-z_\.\[\]]+[^.]$", re.IGNORECASE)


@dataclass(frozen=True)
class RealRecord:
    """One real ArticleMeta document and where it came from.

    ``collection`` and ``pid`` are read from the file name: older documents have no top-level
    ``code`` or ``collection`` (only v880 / v992 inside ``article``)."""

    collection: str
    pid: str
    document: dict[str, Any]
    path: Path

    @property
    def ref(self) -> str:
        return f"scielo-article:{self.collection}/{self.pid}"

    @property
    def record_id(self) -> str:
        return f"scielo-{self.collection}-{self.pid}".lower()


def load_real_records(folder: Path) -> list[RealRecord]:
    """Every ``<collection>-<PID>.json`` in ``folder``, in file-name order."""
    records = []
    for path in sorted(folder.glob("*.json")):
        match = RECORD_FILE_RE.match(path.name)
        if match is None:
            raise ValueError(f"not a real-record file name (<collection>-<PID>.json): {path}")
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise ValueError(f"{path} is larger than {MAX_RECORD_BYTES} bytes")
        document = json.loads(path.read_bytes())
        if not isinstance(document, dict):
            raise ValueError(f"{path} does not hold one JSON object")
        records.append(RealRecord(match["collection"], match["pid"], document, path))
    return records


def articlemeta_answer(document: Mapping[str, Any] | None, *, body: bool = False) -> bytes:
    """The bytes ArticleMeta's article route answers for ``document`` (None: unknown article).

    ``get_article`` reads the stored document without its ``body`` key unless ``body=true``
    was asked, and the ``jsonp`` renderer dumps it with ``json.dumps(value, indent=4)``:
    key order as stored, non-ASCII escaped (``ensure_ascii``), ``null`` for no article."""
    if document is None:
        return json.dumps(None, indent=4).encode()
    value = {k: v for k, v in document.items() if body or k != "body"}
    return json.dumps(value, indent=4).encode()


def jsonp(payload: bytes, callback: str) -> bytes:
    """Pyramid's JSONP wrapping of ``payload`` (only for a valid ``callback`` name)."""
    if not CALLBACK_RE.match(callback):
        raise ValueError(f"invalid JSONP callback name: {callback!r}")
    return b"/**/" + callback.encode() + b"(" + payload + b");"


def _first(record: Mapping[str, Any], tag: str) -> str:
    values = record.get(tag)
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return str(values[0].get("_") or "")
    return ""


def classic_file_code(document: Mapping[str, Any]) -> str:
    """xylose's ``file_code``: v702's last path segment (``\\`` or ``/``) before its first dot."""
    path = _first(document.get("article") or {}, "v702")
    return path.replace("/", "\\").split("\\")[-1].split(".")[0]


def classic_pdf_path(document: Mapping[str, Any], lang: str) -> str | None:
    """The classic site's PDF path for ``lang``: ``/pdf/{acronym}/{issue label}/{file}.pdf``
    (journal v68 in lower case, article v4, :func:`classic_file_code`), ``{lang}_{file}.pdf``
    for a language other than the original (v40); None when a part is missing."""
    article = document.get("article") or {}
    acronym = _first(document.get("title") or {}, "v68").lower()
    label = _first(article, "v4")
    file_code = classic_file_code(document)
    original = _first(article, "v40")
    if not (acronym and label and file_code):
        return None
    name = file_code if lang == original else f"{lang}_{file_code}"
    return f"/pdf/{acronym}/{label}/{name}.pdf"


def site_pdf_paths(document: Mapping[str, Any]) -> dict[str, str]:
    """language -> URL path of every PDF the journal site serves for ``document``.

    Each PDF ``fulltexts`` names is served at that URL's path; the original language's (v40),
    when ``fulltexts`` names none for it (html only, or no ``fulltexts`` at all), at the classic
    path (:func:`classic_pdf_path`), where the classic site serves it. No other language's PDF
    is made up: nothing in such a document says one exists."""
    fulltexts = document.get("fulltexts")
    named = fulltexts.get("pdf") if isinstance(fulltexts, dict) else None
    if not isinstance(named, dict):
        named = {}
    paths = {
        str(lang): urlsplit(url.strip()).path
        for lang, url in named.items()
        if isinstance(url, str) and url.strip()
    }
    original = _first(document.get("article") or {}, "v40")
    if original and original not in paths:
        derived = classic_pdf_path(document, original)
        if derived is not None:
            paths = {original: derived, **paths}
    return paths

"""Item references (REF): parse what a person types into one typed :class:`ItemRef`.

Accepted forms::

    scielo-books:SBID                 a whole book (its book PDF is the item)
    scielo-books:SBID/NN              one chapter by its order number
    https://books.scielo.org/id/SBID[/NN]                      same, as a site URL
    https://books.scielo.org/id/SBID/pdf/SHORTNAME[-NN].pdf    same, as a PDF URL
    scielo-article:COLLECTION/PID     a SciELO journal article
    file:PATH.pdf                     a PDF that arrived by hand (with --metadata FILE)

Pure functions; every malformed REF raises :class:`RefError` with a one-line message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from archive_ingest.errors import RefError

SBID_RE = re.compile(r"^[A-Za-z0-9]{2,16}$")
CHAPTER_RE = re.compile(r"^[0-9]{1,3}$")
COLLECTION_RE = re.compile(r"^[a-z]{3}$")
PID_RE = re.compile(r"^S[0-9]{4}-[0-9]{3}[0-9Xx][0-9]{13}$")
PDF_NAME_RE = re.compile(
    r"^(?P<short>[A-Za-z0-9_.-]*?[0-9]{9,13}[Xx]?)(?:-(?P<nn>[0-9]{2,3}))?\.pdf$"
)


@dataclass(frozen=True)
class ItemRef:
    kind: str  # "scielo-books", "scielo-article" or "file"
    sbid: str | None = None
    chapter: str | None = None  # zero-padded, two digits at least
    collection: str | None = None
    pid: str | None = None
    path: Path | None = None

    @property
    def canonical(self) -> str:
        """The REF in its canonical text form (what the catalogue stores as `source`)."""
        if self.kind == "scielo-books":
            return f"scielo-books:{self.sbid}" + (f"/{self.chapter}" if self.chapter else "")
        if self.kind == "scielo-article":
            return f"scielo-article:{self.collection}/{self.pid}"
        return f"file:{self.path}"

    @property
    def record_id(self) -> str | None:
        """Stable record id; ``None`` for files (their id comes from their content)."""
        if self.kind == "scielo-books":
            base = f"scielo-books-{self.sbid}"
            return f"{base}-{self.chapter}" if self.chapter else base
        if self.kind == "scielo-article":
            return f"scielo-{self.collection}-{self.pid}".lower()
        return None


def _chapter(value: str, ref: str) -> str:
    if not CHAPTER_RE.fullmatch(value):
        raise RefError(f"bad chapter number {value!r} in {ref!r}: expected digits such as 05")
    number = int(value)
    if number < 0:
        raise RefError(f"bad chapter number {value!r} in {ref!r}")
    return f"{number:02d}"


def _sbid(value: str, ref: str) -> str:
    if not SBID_RE.fullmatch(value):
        raise RefError(f"bad SciELO Books id {value!r} in {ref!r}: expected letters and digits")
    return value.lower()


def parse_ref(ref: str, books_hosts: tuple[str, ...] = ("books.scielo.org",)) -> ItemRef:
    """Parse one REF. ``books_hosts`` are the host names accepted in SciELO Books URLs."""
    text = ref.strip()
    if not text:
        raise RefError("empty item reference")
    if any(ord(c) < 32 for c in text):
        raise RefError(f"item reference contains control characters: {text!r}")
    scheme, sep, rest = text.partition(":")
    scheme_l = scheme.lower()
    if not sep:
        raise RefError(
            f"unknown item reference {text!r}: expected scielo-books:SBID[/NN], "
            "scielo-article:COLLECTION/PID, file:PATH.pdf or a SciELO Books URL"
        )
    if scheme_l == "scielo-books":
        parts = rest.strip("/").split("/")
        if len(parts) == 1:
            return ItemRef("scielo-books", sbid=_sbid(parts[0], text))
        if len(parts) == 2:
            return ItemRef(
                "scielo-books", sbid=_sbid(parts[0], text), chapter=_chapter(parts[1], text)
            )
        raise RefError(f"bad SciELO Books reference {text!r}: expected scielo-books:SBID[/NN]")
    if scheme_l == "scielo-article":
        coll, slash, pid = rest.partition("/")
        if not slash or not COLLECTION_RE.fullmatch(coll):
            raise RefError(
                f"bad SciELO article reference {text!r}: expected scielo-article:COLLECTION/PID "
                "with a three-letter collection code such as scl"
            )
        if not PID_RE.fullmatch(pid):
            raise RefError(
                f"bad SciELO PID {pid!r} in {text!r}: expected e.g. S0102-311X2008000100001"
            )
        return ItemRef("scielo-article", collection=coll, pid=pid.upper())
    if scheme_l == "file":
        path_text = rest[2:] if rest.startswith("//") else rest
        if not path_text:
            raise RefError(f"bad file reference {text!r}: expected file:PATH.pdf")
        return ItemRef("file", path=Path(unquote(path_text)).expanduser())
    if scheme_l in ("http", "https"):
        return _parse_books_url(text, books_hosts)
    raise RefError(
        f"unknown item reference scheme {scheme!r} in {text!r}: expected scielo-books:, "
        "scielo-article:, file: or a SciELO Books URL"
    )


def _parse_books_url(url: str, books_hosts: tuple[str, ...]) -> ItemRef:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RefError(f"malformed URL {url!r}: {exc}") from None
    host = (parts.hostname or "").lower()
    netloc_host = host + (f":{parts.port}" if parts.port else "")
    allowed = {h.lower() for h in books_hosts}
    if host not in allowed and netloc_host not in allowed:
        raise RefError(
            f"URL host {host!r} is not a configured SciELO Books host "
            f"({', '.join(sorted(allowed))})"
        )
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0] != "id":
        raise RefError(f"not a SciELO Books item URL {url!r}: expected /id/SBID[/NN]")
    sbid = _sbid(segments[1], url)
    rest = segments[2:]
    if not rest:
        return ItemRef("scielo-books", sbid=sbid)
    if len(rest) == 1:
        return ItemRef("scielo-books", sbid=sbid, chapter=_chapter(rest[0], url))
    if len(rest) == 2 and rest[0] == "pdf":
        match = PDF_NAME_RE.fullmatch(rest[1])
        if not match:
            raise RefError(
                f"not a SciELO Books PDF name {rest[1]!r} in {url!r}: expected "
                "SHORTNAME.pdf or SHORTNAME-NN.pdf"
            )
        nn = match.group("nn")
        return ItemRef("scielo-books", sbid=sbid, chapter=_chapter(nn, url) if nn else None)
    raise RefError(f"not a SciELO Books item URL {url!r}: expected /id/SBID[/NN]")

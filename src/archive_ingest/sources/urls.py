"""Every URL the adapters fetch is built here, from the configured bases only.

SciELO's metadata names its own hosts (``"uri": "http://books.scielo.org/id/37t/pdf/..."``,
``fulltexts`` pointing at ``http://www.scielo.br/pdf/...``). We never follow those as given: the
path and query are kept and *rebased* onto the configured base, so that a mirror, a test server
or a proxy sees every request and a metadata record cannot send the fetcher anywhere else.
:func:`allowed_hosts` is the matching allow-list for the HTTP client.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import quote, urlencode, urlsplit

from archive_ingest.errors import ConfigError, SourceError
from archive_ingest.settings import Settings

#: Public site of each SciELO journal collection, by ArticleMeta collection code.
#: Data from scieloorg/articles_meta articlemeta/data/collections.json ("domain"), served over
#: https as the sites are today. Used only when ``scielo_articles_url`` is not set.
COLLECTION_SITES: Mapping[str, str] = MappingProxyType(
    {
        "arg": "https://www.scielo.org.ar",
        "bol": "https://www.scielo.org.bo",
        "chl": "https://www.scielo.cl",
        "col": "https://www.scielo.org.co",
        "cri": "https://www.scielo.sa.cr",
        "cub": "https://scielo.sld.cu",
        "ecu": "https://www.scielo.ec",
        "esp": "https://scielo.isciii.es",
        "mex": "https://www.scielo.org.mx",
        "per": "https://www.scielo.org.pe",
        "prt": "https://www.scielo.mec.pt",
        "pry": "https://scielo.iics.una.py",
        "psi": "https://pepsic.bvsalud.org",
        "rve": "https://www.revenf.bvs.br",
        "scl": "https://www.scielo.br",
        "spa": "https://www.scielosp.org",
        "sza": "https://www.scielo.org.za",
        "ury": "https://www.scielo.edu.uy",
        "ven": "https://www.scielo.org.ve",
        "wid": "https://caribbean.scielo.org",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(base: str) -> str:
    """``host`` or ``host:port`` (the port only when it is not the scheme's default)."""
    parts = urlsplit(base)
    host = (parts.hostname or "").lower()
    if not host:
        raise ConfigError(f"not a URL with a host: {base!r}")
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        return f"{host}:{parts.port}"
    return host


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """host[:port] of every configured source base, plus ``extra_allowed_hosts``.

    Without ``scielo_articles_url`` the article PDFs come from each collection's own site, so
    every site in :data:`COLLECTION_SITES` is allowed; with it, only that one host.
    """
    bases = [settings.scielo_books_url, settings.scielo_articlemeta_url]
    if settings.scielo_articles_url:
        bases.append(settings.scielo_articles_url)
    else:
        bases.extend(COLLECTION_SITES.values())
    hosts = {host_of(base) for base in bases}
    hosts.update(h.strip().lower() for h in settings.extra_allowed_hosts if h.strip())
    return frozenset(hosts)


def rebase_url(url: str, base: str) -> str:
    """Keep ``url``'s path and query, take scheme, host, port (and any path prefix) from ``base``.

    Relative references (``/id/37t/pdf/x.pdf``) are rebased the same way. Only http(s) URLs or
    relative paths are accepted: a ``file:``, ``javascript:`` or ``data:`` URL raises
    :class:`SourceError` (nothing from the network may name a local path).
    """
    text = url.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise SourceError(f"control characters in a URL from the metadata: {text!r}")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise SourceError(f"malformed URL in the metadata: {text!r} ({exc})") from None
    if parts.scheme and parts.scheme.lower() not in _DEFAULT_PORTS:
        raise SourceError(f"refusing a non-HTTP URL from the metadata: {text!r}")
    path = parts.path or "/"  # a protocol-relative //host/path keeps only its path too
    if not path.startswith("/"):
        raise SourceError(f"cannot rebase a relative URL without a leading slash: {text!r}")
    rebased = base.rstrip("/") + path
    if parts.query:
        rebased += "?" + parts.query
    return rebased


# --- SciELO Books ---------------------------------------------------------------------------


def book_json_url(base: str, sbid: str) -> str:
    return f"{base.rstrip('/')}/api/v1/book/{quote(sbid, safe='')}/"


def book_page_url(base: str, sbid: str) -> str:
    return f"{base.rstrip('/')}/id/{quote(sbid, safe='')}"


def chapter_page_url(base: str, sbid: str, chapter: str) -> str:
    return f"{book_page_url(base, sbid)}/{quote(chapter, safe='')}"


def books_list_url(base: str) -> str:
    return f"{base.rstrip('/')}/api/v1/books/"


def changes_url(base: str, since: int | str = 0) -> str:
    return f"{base.rstrip('/')}/api/v1/changes/?{urlencode({'since': since})}"


# --- SciELO journals ------------------------------------------------------------------------


def articlemeta_url(base: str, collection: str, pid: str) -> str:
    """ArticleMeta's article route, ``/api/v1/article/?collection=…&code=…``.

    As routed in scieloorg/articles_meta (articlemeta/__init__.py, ``get_article``) and called by
    scieloorg/articlemetaapi's RestfulClient.document(); ``format`` defaults to the raw JSON.
    """
    query = urlencode({"collection": collection, "code": pid})
    return f"{base.rstrip('/')}/api/v1/article/?{query}"


def article_site_base(settings: Settings, collection: str) -> str:
    """Where article PDFs/HTML are fetched from: the configured site, else the collection's."""
    if settings.scielo_articles_url:
        return settings.scielo_articles_url
    site = COLLECTION_SITES.get(collection)
    if site is None:
        raise SourceError(
            f"no public site known for SciELO collection {collection!r}; set "
            "ARCHIVE_INGEST_SCIELO_ARTICLES_URL to the site that serves its PDFs"
        )
    return site

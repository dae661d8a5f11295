"""Public URLs of a deposited version's access copy (pure).

``serve`` answers ``GET /access/{record_id}/v{version}`` with the access-copy PDF of that
version, read from the stored AIP (web/access.py). The OAI records point harvesters at it
(``dc:identifier`` in oai_dc, ``oaire:file`` in oai_openaire). The site's public root is the
OAI baseURL without its ``/oai`` path, so one setting (``oai_base_url``) names both.
"""

from __future__ import annotations

from urllib.parse import quote

#: the route ``serve`` mounts (FastAPI path syntax)
ACCESS_ROUTE = "/access/{record_id}/v{version}"


def site_root(oai_base_url: str) -> str:
    """The public root of the site whose OAI endpoint is ``oai_base_url``."""
    base = oai_base_url.rstrip("/")
    return base[: -len("/oai")] if base.endswith("/oai") else base


def access_copy_url(oai_base_url: str, record_id: str, version: int) -> str:
    """Where ``serve`` hands out the access copy of ``record_id``'s ``version``."""
    return f"{site_root(oai_base_url)}/access/{quote(record_id, safe='')}/v{int(version)}"

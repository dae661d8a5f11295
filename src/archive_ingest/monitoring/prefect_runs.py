"""The newest finished run of each of archive-ingest's own Prefect flows, for
`archive-ingest status`: one ``POST /flow_runs/filter`` per flow of :data:`FLOWS` (its name,
a finished state, newest end first, limit 1) to a Prefect API that answers, all of them
within one short bound, never through a proxy and never following a redirect. Runs of other
projects' flows on a shared Prefect server are not asked for, and however many runs of one
flow there are (a harvest's thousands of ingest-item subflow runs), every flow's newest run
is found. Prefect itself is not imported (seconds): its REST API is asked with httpx.

The credential (the local Prefect API's basic-auth string, or PREFECT_API_AUTH_STRING /
PREFECT_API_KEY of an operator's server) goes into the request's Authorization header only,
never into a result or an error.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
from typing import Any

import httpx
from pydantic import BaseModel

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.orchestrator.local_api import LocalPrefectApi
from archive_ingest.settings import Settings

#: the names of archive-ingest's flows (flows/*.py ``@flow(name=...)``; a test keeps the two
#: in step): only their runs are read
FLOWS = (
    "ingest-item",
    "ingest-batch",
    "harvest-scielo-books",
    "harvest-scielo-articles",
    "deposit-approved",
    "fixity-audit",
    "rerun-ocr",
)
#: a run in one of these states is over
FINISHED = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
#: the newest run of a flow ending in one of these makes the status degraded
FAILED = frozenset({"FAILED", "CRASHED"})


class FlowRunInfo(BaseModel):
    """The newest finished run of one flow."""

    flow: str
    run: str
    state: str  # Prefect's state name: Completed, Failed, Crashed, Cancelled, ...
    state_type: str  # COMPLETED, FAILED, CRASHED, CANCELLED
    ended_at: dt.datetime | None = None

    @property
    def failed(self) -> bool:
        return self.state_type in FAILED


class PrefectQueryError(Exception):
    """The Prefect API did not give the flow runs (its kind only: no URL, no answer text)."""


def api_access(settings: Settings) -> tuple[str, dict[str, str]] | None:
    """The API URL and Authorization header the flow-backed commands would use (None: no
    API to ask, e.g. ``local_prefect_api`` off and no PREFECT_API_URL, or a local API whose
    credential file is missing or cannot be read)."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        auth = os.environ.get("PREFECT_API_AUTH_STRING")
        key = os.environ.get("PREFECT_API_KEY")
        if auth:
            return url, {"Authorization": _basic(auth)}
        return url, ({"Authorization": f"Bearer {key}"} if key else {})
    if not settings.local_prefect_api:
        return None
    api = LocalPrefectApi(settings)
    try:
        auth = api.client_env()["PREFECT_API_AUTH_STRING"]
    except (ArchiveIngestError, OSError):  # no credential file (never ran), or not readable
        return None
    return api.url, {"Authorization": _basic(auth)}


def latest_flow_runs(url: str, headers: dict[str, str], *, timeout: float) -> list[FlowRunInfo]:
    """The newest finished run of each of :data:`FLOWS` that has one, newest first; every
    request together within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    found: list[FlowRunInfo] = []
    try:
        client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={**headers, "Accept": "application/json"},
            trust_env=False,
            timeout=timeout,
            follow_redirects=False,
        )
    except (httpx.InvalidURL, ValueError, TypeError):
        raise PrefectQueryError("an API URL that cannot be used") from None
    with client:
        for name in FLOWS:
            runs = _post(
                client,
                "/flow_runs/filter",
                {
                    "sort": "END_TIME_DESC",
                    "limit": 1,
                    "flows": {"name": {"any_": [name]}},
                    "flow_runs": {"state": {"type": {"any_": list(FINISHED)}}},
                },
                deadline,
            )
            run = runs[0] if runs and isinstance(runs[0], dict) else None
            if run is not None:
                found.append(
                    FlowRunInfo(
                        flow=name,
                        run=str(run.get("name") or ""),
                        state=str(run.get("state_name") or run.get("state_type") or ""),
                        state_type=str(run.get("state_type") or ""),
                        ended_at=_time(run.get("end_time")),
                    )
                )
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda r: r.ended_at or oldest, reverse=True)


def _post(client: httpx.Client, path: str, body: dict[str, Any], deadline: float) -> list[Any]:
    left = deadline - time.monotonic()
    if left <= 0:
        raise PrefectQueryError("no answer within the bound")
    try:
        response = client.post(path, json=body, timeout=left)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise PrefectQueryError(f"no usable answer ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise PrefectQueryError(f"the Prefect API answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise PrefectQueryError("an answer that is not JSON") from None
    if not isinstance(answer, list):
        raise PrefectQueryError("an answer that is not a list")
    return answer


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _basic(credential: str) -> str:
    return "Basic " + base64.b64encode(credential.encode()).decode("ascii")

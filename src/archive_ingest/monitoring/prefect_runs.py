"""The newest finished run of each Prefect flow, for `archive-ingest status`: two requests to a
Prefect API that answers (``POST /flow_runs/filter``, newest end first, then
``POST /flows/filter`` for their names), each bounded by a short timeout, never through a
proxy. Prefect itself is not imported (seconds): its REST API is asked with urllib.

The credential (the local Prefect API's basic-auth string, or PREFECT_API_AUTH_STRING /
PREFECT_API_KEY of an operator's server) goes into the request's Authorization header only,
never into a result or an error.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import urllib.error
import urllib.request
from typing import Any

from pydantic import BaseModel

from archive_ingest.errors import ArchiveIngestError
from archive_ingest.orchestrator.local_api import LocalPrefectApi
from archive_ingest.settings import Settings

#: the flow runs read (newest end first): enough to find each deployed flow's last run
RUNS_READ = 200
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
    API to ask, e.g. ``local_prefect_api`` off and no PREFECT_API_URL)."""
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
    except ArchiveIngestError:  # no credential file: the local API never ran
        return None
    return api.url, {"Authorization": _basic(auth)}


def latest_flow_runs(url: str, headers: dict[str, str], *, timeout: float) -> list[FlowRunInfo]:
    """The newest finished run of each flow, newest first."""
    runs = _post(
        url,
        "/flow_runs/filter",
        {
            "sort": "END_TIME_DESC",
            "limit": RUNS_READ,
            "flow_runs": {"state": {"type": {"any_": list(FINISHED)}}},
        },
        headers,
        timeout,
    )
    newest: dict[str, dict[str, Any]] = {}
    for run in runs:
        if isinstance(run, dict) and run.get("flow_id") and run["flow_id"] not in newest:
            newest[str(run["flow_id"])] = run
    if not newest:
        return []
    flows = _post(url, "/flows/filter", {"flows": {"id": {"any_": list(newest)}}}, headers, timeout)
    names = {str(f.get("id")): str(f.get("name")) for f in flows if isinstance(f, dict)}
    return [
        FlowRunInfo(
            flow=names.get(flow_id, flow_id),
            run=str(run.get("name") or ""),
            state=str(run.get("state_name") or run.get("state_type") or ""),
            state_type=str(run.get("state_type") or ""),
            ended_at=_time(run.get("end_time")),
        )
        for flow_id, run in newest.items()
    ]


def _post(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str], timeout: float
) -> list[Any]:
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    for name, value in headers.items():
        request.add_unredirected_header(name, value)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise PrefectQueryError(f"the Prefect API answered HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise PrefectQueryError(f"no usable answer ({type(exc).__name__})") from None
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

"""The newest run of each of archive-ingest's own flows, read from a real Prefect server
(monitoring/prefect_runs.py): the flow names it asks for are flows/'s, a run of another
project's flow is never read (nor makes the status degraded), and a flow's newest run is found
however many newer runs other flows have."""

from __future__ import annotations

import ast
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from archive_ingest.monitoring.prefect_runs import FLOWS, latest_flow_runs
from archive_ingest.monitoring.probes import (
    HTTP_PROBE_TIMEOUT,
    http_status,
    prefect_service,
    web_service,
)
from archive_ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _flow_names() -> set[str]:
    """Every ``@flow(name=...)`` in flows/ (a name given as a module constant resolved)."""
    names: set[str] = set()
    for path in (ROOT / "flows").glob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                if call is None or getattr(call.func, "id", "") != "flow":
                    continue
                for keyword in call.keywords:
                    if keyword.arg != "name":
                        continue
                    value = keyword.value
                    if isinstance(value, ast.Constant):
                        names.add(str(value.value))
                    elif isinstance(value, ast.Name):
                        names.add(str(constants[value.id]))
    return names


def test_the_flows_asked_for_are_the_flows_of_flows_folder() -> None:
    assert set(FLOWS) == _flow_names()


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """POST, again after a 503 (the server's SQLite busy while other tests load the machine)."""
    for _ in range(20):
        response = api.post(path, json=body)
        if response.status_code != 503:
            return response.raise_for_status().json()
        time.sleep(0.25)
    return response.raise_for_status().json()


def _runs(api: httpx.Client, flow: str, state: str, count: int) -> None:
    flow_id = _post(api, "/flows/", {"name": flow})["id"]
    for _ in range(count):
        run = _post(api, "/flow_runs/", {"flow_id": flow_id, "name": f"run-{uuid.uuid4().hex[:8]}"})
        for step in ("PENDING", "RUNNING", state):
            _post(
                api,
                f"/flow_runs/{run['id']}/set_state",
                {"state": {"type": step, "name": step.title()}, "force": True},
            )


def test_a_flows_newest_run_is_found_behind_many_runs_and_foreign_flows_are_not_read(
    prefect_api_url: str,
) -> None:
    with httpx.Client(base_url=prefect_api_url, trust_env=False, timeout=30) as api:
        _runs(api, "fixity-audit", "FAILED", 1)
        _runs(api, "ingest-item", "COMPLETED", 205)  # newer than the audit run: all of them
        _runs(api, "another-projects-flow", "FAILED", 1)
    started = time.monotonic()
    found = latest_flow_runs(prefect_api_url, {}, timeout=HTTP_PROBE_TIMEOUT)  # status's bound
    took = time.monotonic() - started
    runs = {run.flow: run for run in found}
    assert took < HTTP_PROBE_TIMEOUT
    assert "another-projects-flow" not in runs
    assert runs["fixity-audit"].state_type == "FAILED" and runs["fixity-audit"].failed
    assert runs["ingest-item"].state_type == "COMPLETED" and not runs["ingest-item"].failed
    assert runs["ingest-item"].ended_at is not None
    assert set(runs) <= set(FLOWS)


class _Answering:
    """A real HTTP server on 127.0.0.1 answering every GET with ``status`` (a redirect to
    ``location`` for a 3xx)."""

    def __init__(self, status: int, location: str = "") -> None:
        answer = (status, location)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(answer[0])
                if answer[1]:
                    self.send_header("location", answer[1])
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _Answering:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "up", "words"),
    [
        (200, True, "answered HTTP 200"),
        (404, True, "answered HTTP 404"),
        (401, True, "refusing"),
        (403, True, "refusing"),
        (500, False, "server error"),
        (503, False, "server error"),
    ],
)
def test_a_5xx_is_down_and_a_401_is_up_but_refusing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, status: int, up: bool, words: str
) -> None:
    with _Answering(status) as server:
        monkeypatch.setenv("PREFECT_API_URL", server.url + "/api")
        prefect = prefect_service(settings)
        web = web_service(server.url)
    assert (prefect.mode, prefect.up, web.up) == ("external", up, up)
    assert words in prefect.detail and words in web.detail


def test_a_redirect_is_not_followed_and_no_proxy_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with _Answering(503) as broken, _Answering(302, location=broken.url + "/") as moved:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would refuse: not used
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
        assert http_status(moved.url) == 302
    assert http_status("http://127.0.0.1:9/") is None  # nothing listens on the discard port

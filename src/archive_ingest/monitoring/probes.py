"""The services `archive-ingest status` looks at, each asked once with a bounded wait.

Every probe runs in a daemon thread of its own (:func:`at_once`), all at the same time, and
the caller waits for them until one deadline: a dead or blackholed service costs its own
timeout once and can never hang the command (a thread still waiting is left behind, and dies
with the process). The probes never raise and never return a secret: the database URL and a
PREFECT_API_URL are shown masked, S3 keys are never read into a result.

- the catalogue: reached (one ``SELECT``), its dialect and schema revision; a SQLite file
  that does not exist yet is reported as such and not created;
- each storage target: :func:`archive_ingest.storage.target_status.target_status` (an
  embedded server's process and bucket, an external endpoint probed with one short request
  per question);
- the Prefect API: an operator's server (PREFECT_API_URL) asked ``/health``, else the local
  Prefect API's own status (orchestrator/local_api.py), which starts on demand; when it
  answers, the newest finished run of each flow (:mod:`archive_ingest.monitoring.prefect_runs`);
- the review web server (``serve``): is something answering HTTP at its address (a 5xx is
  down, a 401/403 up but refusing; redirects are not followed, no proxy is used);
- the tools the stages run (on PATH or next to this Python): a look-up, no program is run;
  ``archive-ingest doctor`` runs the full checks.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, TypeVar

import httpx
from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.engine import make_url

from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.engine import head_revision, known_revision
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.monitoring.prefect_runs import (
    FlowRunInfo,
    PrefectQueryError,
    api_access,
    latest_flow_runs,
)
from archive_ingest.orchestrator.local_api import LocalPrefectApi
from archive_ingest.settings import Settings, mask_url
from archive_ingest.storage.weed_process import find_weed

T = TypeVar("T")

#: seconds an HTTP probe (Prefect's /health, the web server) waits for its answer
HTTP_PROBE_TIMEOUT = 2.0


class ProbeTimeout(Exception):
    """The probe did not finish before the deadline (its thread is left to die)."""


def at_once(
    probes: Mapping[str, Callable[[], T]], *, deadline: float
) -> dict[str, T | BaseException]:
    """Run every probe in a daemon thread of its own and wait until each has finished or
    ``deadline`` (a :func:`time.monotonic` value) has passed; each result, the exception it
    raised, or :class:`ProbeTimeout`."""
    results: dict[str, T | BaseException] = {}
    lock = threading.Lock()

    def run(name: str, probe: Callable[[], T]) -> None:
        try:
            outcome: T | BaseException = probe()
        except BaseException as exc:  # handed back to the caller
            outcome = exc
        with lock:
            results[name] = outcome

    threads = {
        name: threading.Thread(target=run, args=(name, probe), name=f"probe-{name}", daemon=True)
        for name, probe in probes.items()
    }
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        return {
            name: results.get(name, ProbeTimeout(f"no answer within the deadline ({name})"))
            for name in probes
        }


# --- the catalogue ----------------------------------------------------------------------------


class CatalogueService(BaseModel):
    """Where the catalogue is and whether it answers (the URL's password masked)."""

    database: str
    dialect: str
    up: bool
    exists: bool = True
    schema_revision: str | None = None
    expected_revision: str | None = None
    detail: str = ""

    @property
    def schema_current(self) -> bool:
        return self.schema_revision == self.expected_revision


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None: another database, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def catalogue_service(settings: Settings) -> tuple[CatalogueService, Catalogue | None]:
    """Reach the catalogue without creating or migrating it; the open catalogue when it
    answers and its schema is this code's (the caller closes it), else None."""
    url = settings.effective_database_url
    service = CatalogueService(
        database=mask_url(url),
        dialect=make_url(url).get_backend_name(),
        up=False,
        expected_revision=head_revision(),
    )
    file = sqlite_file(url)
    if file is not None and not file.exists():
        detail = "no catalogue yet (the first ingest creates it)"
        return service.model_copy(update={"up": True, "exists": False, "detail": detail}), None
    try:
        catalogue = Catalogue.open(url, migrate_schema=False)
    except Exception as exc:  # a bad URL, a missing driver: said, never raised
        return service.model_copy(update={"detail": _error_line(exc, url)}), None
    try:
        with catalogue.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:  # does not answer, refuses the login, ...
        catalogue.close()
        return service.model_copy(update={"detail": _error_line(exc, url)}), None
    service = service.model_copy(update={"up": True, "schema_revision": revision})
    if not service.schema_current:
        catalogue.close()
        if known_revision(revision):
            detail = (
                f"schema at revision {revision or 'none'}, older than this code's "
                f"{service.expected_revision}: the next ingest (or any command that writes) "
                "migrates it; figures not read"
            )
        else:
            detail = (
                f"schema at revision {revision}, newer than this code's "
                f"{service.expected_revision}: upgrade archive-ingest; figures not read"
            )
        return service.model_copy(update={"detail": detail}), None
    return service.model_copy(update={"detail": "answering"}), catalogue


def _error_line(exc: BaseException, url: str) -> str:
    """One line naming the error, with the URL's password masked wherever it appears."""
    first = (str(exc).strip().splitlines() or [""])[0]
    parsed = make_url(url)
    if parsed.password:
        first = first.replace(str(parsed.password), "***")
    return mask_url(f"{type(exc).__name__}: {first}"[:300])


# --- Prefect ------------------------------------------------------------------------------------


class PrefectService(BaseModel):
    """The Prefect API the flow-backed commands use."""

    #: ``external``: PREFECT_API_URL; ``local``: the local Prefect API of this HOME;
    #: ``ephemeral``: neither (every command starts a temporary server of its own)
    mode: Literal["external", "local", "ephemeral"]
    url: str | None
    up: bool | None
    #: the local API is started by the first command that needs it: down is not a problem
    on_demand: bool = False
    detail: str = ""
    #: the newest finished run of each flow (when the API answers), newest first
    flow_runs: list[FlowRunInfo] = Field(default_factory=list)
    flow_runs_detail: str = ""


def prefect_service(settings: Settings) -> PrefectService:
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        up, detail = http_answer(http_status(configured.rstrip("/") + "/health"))
        service = PrefectService(mode="external", url=mask_url(configured), up=up, detail=detail)
    elif not settings.local_prefect_api:
        detail = "local_prefect_api is off: each command starts a temporary server"
        return PrefectService(mode="ephemeral", url=None, up=None, detail=detail)
    else:
        status_now = LocalPrefectApi(settings).status()
        up = bool(status_now.running and status_now.answering)
        detail = status_now.detail if status_now.running else "not running (started on demand)"
        service = PrefectService(
            mode="local", url=status_now.url, up=up, on_demand=True, detail=detail
        )
    return _with_flow_runs(service, settings) if service.up else service


def _with_flow_runs(service: PrefectService, settings: Settings) -> PrefectService:
    access = api_access(settings)
    if access is None:
        return service
    try:
        runs = latest_flow_runs(*access, timeout=HTTP_PROBE_TIMEOUT)
    except PrefectQueryError as exc:
        return service.model_copy(update={"flow_runs_detail": f"flow runs not read: {exc}"})
    return service.model_copy(update={"flow_runs": runs})


# --- the review web server ---------------------------------------------------------------------


class WebService(BaseModel):
    """``archive-ingest serve`` (optional: nothing needs it running but people)."""

    url: str
    up: bool
    detail: str = ""


def serve_url(settings: Settings, explicit: str | None) -> str:
    """Where `serve` is expected: ``explicit``, else ``web_base_url``, else the OAI base
    URL's site, else serve's default address."""
    if explicit:
        return explicit.rstrip("/")
    if settings.web_base_url:
        return settings.web_base_url.rstrip("/")
    if settings.oai_base_url:
        base = settings.oai_base_url.rstrip("/")
        return base.removesuffix("/oai") if base.endswith("/oai") else base
    return "http://127.0.0.1:8000"


def web_service(url: str) -> WebService:
    up, detail = http_answer(http_status(url + "/oai?verb=Identify"))
    return WebService(url=mask_url(url), up=up, detail=detail)


def http_status(url: str, timeout: float = HTTP_PROBE_TIMEOUT) -> int | None:
    """The HTTP status of GET ``url`` (None: no answer), never through a proxy, never
    following a redirect (a 3xx is the answer)."""
    try:
        with httpx.Client(trust_env=False, timeout=timeout, follow_redirects=False) as client:
            return client.get(url).status_code
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError):
        return None


def http_answer(status: int | None) -> tuple[bool, str]:
    """Whether an HTTP service with this answer is up, and a line saying so: no answer and a
    5xx are down; 401/403 are up but refuse this (unauthenticated) request."""
    if status is None:
        return False, "does not answer"
    if status >= 500:
        return False, f"answered HTTP {status} (a server error)"
    if status in (401, 403):
        return True, f"answered HTTP {status}: up, but refusing requests without credentials"
    return True, f"answered HTTP {status}"


# --- tools --------------------------------------------------------------------------------------


class ToolCheck(BaseModel):
    """One program a stage runs: found or not (not run: `doctor` runs them)."""

    name: str
    stage: str
    required: bool
    found: bool
    path: str | None = None


def tool_checks(settings: Settings) -> list[ToolCheck]:
    checks = [
        _on_path("tesseract", "ocr", required=True),
        _on_path("gs", "ocr", required=False),
        _on_path("qpdf", "ocr", required=False),
    ]
    if settings.embedded_storage:
        try:
            weed: str | None = str(find_weed())
        except ArchiveIngestError:
            weed = None
        checks.append(
            ToolCheck(name="weed", stage="storage", required=True, found=bool(weed), path=weed)
        )
    return checks


def _on_path(name: str, stage: str, *, required: bool) -> ToolCheck:
    path = shutil.which(name)
    return ToolCheck(name=name, stage=stage, required=required, found=bool(path), path=path)

"""What the benchmarks share: the real parts a run needs, on 127.0.0.1 only.

* :func:`prefect_server` - ``prefect server start`` in a child process (SQLite, or PostgreSQL when
  given a URL; ``tests.support.prefect_server``, shared with the tests); ``stop_process``
  stops a child started in its own session, with its process group.
* :func:`embedded_storage` - the project's own SeaweedFS (``LocalStorage``) under a HOME, on free
  ports; the same object-locked bucket the pipeline deposits into.
* :func:`embedded_targets` - every embedded server the product keeps copies on by default
  (``embedded_copies``, 2: ``local-1`` and ``local-2``), all started before the block, so a
  command under test finds them running and starts none itself.
* :func:`sample_source` - the local SciELO Books server with one generated book of N chapters.
* :func:`bench_env` - the ``ARCHIVE_INGEST_*`` / ``PREFECT_*`` environment for a child process
  (a worker, the CLI, a measured script) pointing at all of the above.
* :func:`machine` - one line describing the machine, for the figures.
* :func:`tree` - the commit measured (and uncommitted files in src/ and flows/).
* :func:`proc_cpu`, :func:`find_pid` - CPU seconds of a server or worker process from ``/proc``.

Benchmarks import it as ``from harness import ...`` (Python puts ``bench/`` on ``sys.path`` when
a script in it runs); it also puts the repository root there so ``flows`` imports.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.prefect_server import local_prefect_server, stop_process_group  # noqa: E402
from tests.support.samples import add_generated_book  # noqa: E402

from archive_ingest.settings import Settings  # noqa: E402
from archive_ingest.storage.embedded_set import embedded_storages, start_all  # noqa: E402
from archive_ingest.storage.local import LocalStorage  # noqa: E402
from archive_ingest.storage.targets import EMBEDDED_PORT_STRIDE, target_views  # noqa: E402
from archive_ingest.storage.weed_process import Ports, port_is_free  # noqa: E402
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer  # noqa: E402


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024**2:.0f} GiB"
    load = ", load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return (
        f"{dt.date.today().isoformat()}, {os.cpu_count()} cores {cpu}{mem}{load}, "
        f"Python {platform.python_version()}"
    )


def tree() -> str:
    """The commit measured, and how many files under src/ and flows/ differ from it."""
    import subprocess

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    changed = [line for line in git("status", "--porcelain", "src", "flows").splitlines() if line]
    return f"{git('rev-parse', '--short', 'HEAD')}" + (
        f" + {len(changed)} uncommitted files in src/flows" if changed else ""
    )


def prefect_server(
    home: Path,
    *,
    database_url: str | None = None,
    timeout: float = 180,
    extra_env: dict[str, str] | None = None,
) -> contextlib.AbstractContextManager[str]:
    """A running Prefect API server; yields its API URL (``http://127.0.0.1:PORT/api``).

    ``database_url``: ``postgresql+asyncpg://...`` for a PostgreSQL-backed server; default
    Prefect's SQLite under ``home``. Its output goes to ``home/server.log``;
    ``extra_env={"PREFECT_SERVER_LOGGING_LEVEL": "INFO"}`` adds one access line per request."""
    return local_prefect_server(
        home, database_url=database_url, timeout=timeout, extra_env=extra_env
    )


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int, *, children: bool = True) -> float:
    """CPU seconds of a process (all its threads) plus, with ``children``, its reaped children
    (``/proc/PID/stat`` utime, stime, cutime, cstime); 0 when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11 : 15 if children else 13]) / TICK


def find_pid(*args: str) -> int | None:
    """The first process whose command line has every one of ``args`` as a whole argument
    (e.g. ``"server", "start", "--port", "4321"``: a listening port names one process)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if all(arg in argv for arg in args):
            return int(entry.name)
    return None


stop_process = stop_process_group


def _free_storage_port(slots: int = 1) -> int:
    rng = random.Random()
    for _ in range(300):
        candidate = rng.randrange(10000, 22000)  # below the ephemeral range
        ports = [
            port
            for slot in range(slots)
            for port in Ports.derive(candidate + slot * EMBEDDED_PORT_STRIDE).all()
        ]
        if all(port_is_free(port) for port in ports):
            return candidate
    raise RuntimeError("no free port range for SeaweedFS on 127.0.0.1")


@dataclass
class Storage:
    home: Path
    port: int
    local: LocalStorage

    @property
    def env(self) -> dict[str, str]:
        return {
            "ARCHIVE_INGEST_HOME": str(self.home),
            "ARCHIVE_INGEST_STORAGE_S3_PORT": str(self.port),
            "ARCHIVE_INGEST_S3_OBJECT_LOCK_DAYS": "1",
        }


@contextlib.contextmanager
def embedded_storage(home: Path) -> Iterator[Storage]:
    """The embedded SeaweedFS under ``home`` (the pipeline's HOME), up for the block."""
    home.mkdir(parents=True, exist_ok=True)
    port = _free_storage_port()
    settings = Settings(home=home, storage_s3_port=port, s3_endpoint_url=None)
    local = LocalStorage(settings, start_timeout=120, die_with_parent=True)
    local.up()
    try:
        yield Storage(home=home, port=port, local=local)
    finally:
        local.down()


@dataclass
class Targets(Storage):
    """Every embedded target of a HOME (``local`` is the first); ``views`` are the settings as
    each target sees them (endpoint, bucket, credentials), in target order."""

    views: list[Settings] = field(default_factory=list)
    storages: list[LocalStorage] = field(default_factory=list)
    copies: int = 2

    @property
    def env(self) -> dict[str, str]:
        return super().env | {"ARCHIVE_INGEST_EMBEDDED_COPIES": str(self.copies)}


@contextlib.contextmanager
def embedded_targets(home: Path, *, copies: int | None = None) -> Iterator[Targets]:
    """The embedded storage as the product keeps it by default (``embedded_copies`` local
    SeaweedFS servers under ``home``, default 2), all up for the block, on free ports."""
    home.mkdir(parents=True, exist_ok=True)
    count = copies or Settings.model_fields["embedded_copies"].default
    port = _free_storage_port(count)
    settings = Settings(
        home=home, storage_s3_port=port, s3_endpoint_url=None, embedded_copies=count
    )
    storages = embedded_storages(settings, start_timeout=120, die_with_parent=True)
    start_all(storages)
    try:
        yield Targets(
            home=home,
            port=port,
            local=storages[0],
            views=target_views(settings),
            storages=storages,
            copies=count,
        )
    finally:
        for storage in storages:
            storage.down()


@contextlib.contextmanager
def sample_source(
    workdir: Path, *, chapters: int, scanned_pages: int = 1, sbid: str = "bench", seed: int = 0
) -> Iterator[tuple[SampleScieloServer, list[str]]]:
    """The local SciELO Books server with one generated book; yields (server, chapter REFs)."""
    workdir.mkdir(parents=True, exist_ok=True)
    catalogue = SampleCatalogue()
    refs = add_generated_book(
        catalogue, sbid, chapters, workdir, seed=seed, scanned_pages=scanned_pages
    )
    with SampleScieloServer(catalogue) as server:
        yield server, refs


def bench_env(
    *,
    storage: Storage,
    server: SampleScieloServer,
    api_url: str | None = None,
    prefect_home: Path | None = None,
    database_url: str | None = None,
) -> dict[str, str]:
    """Environment for a child process that ingests against the given parts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ARCHIVE_INGEST_"))}
    env.update(storage.env)
    env.update(
        {
            "ARCHIVE_INGEST_CONFIG": str(storage.home / "no-config.toml"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if prefect_home:
        env["PREFECT_HOME"] = str(prefect_home)
    if database_url:
        env["ARCHIVE_INGEST_DATABASE_URL"] = database_url
    for key, value in server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    return env

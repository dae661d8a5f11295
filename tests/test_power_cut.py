"""Power cuts: `archive-ingest ingest` is SIGKILLed - the whole process tree at once, from
outside, as a power cut stops it - after every catalogue commit of one ingest and while every
S3 request of one deposit is in flight (the server has done it, the client never hears back).
After each kill the same command runs again to completion, and then: exactly one version in
the catalogue, one complete AIP with one S3 object version per key, ``reconcile`` and
``audit`` clean.

How the moments are chosen from outside: the catalogue appends ``commit N`` to
``ARCHIVE_INGEST_PAUSE_FILE`` after each transaction that wrote something and, at the commit
``ARCHIVE_INGEST_PAUSE_AT`` names, blocks until killed (reliability/crashpoints.pausepoint); S3
requests go through a loopback proxy that holds the chosen request (tests/support/holding_proxy.py).
Real parts: the CLI, the session Prefect server, the local SciELO server, SeaweedFS, OCRmyPDF.
The chapter is born-digital, so each run is short.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.reliability.crashpoints import PAUSE_ENV, PAUSE_FILE_ENV
from archive_ingest.reliability.reconcile import reconcile
from archive_ingest.settings import Settings
from archive_ingest.storage.audit import run_audit
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, json_lines, power_cut_when, run_cli
from tests.support.holding_proxy import HoldingProxy
from tests.support.s3 import assert_one_complete_aip
from tests.support.territory_book import add_book, add_chapter, make_chapter

pytestmark = pytest.mark.slow

SBID = "pcut1"
RECORD = f"scielo-books-{SBID}-01"
REF = f"scielo-books:{SBID}/01"
BOOK = "Territórios e desenvolvimento"
READS = ("GET ", "HEAD ")


@pytest.fixture
def chapter(scielo_catalogue: SampleCatalogue, tmp_path: Path) -> str:
    pdf = tmp_path / "chapter.pdf"
    make_chapter(pdf, "Capítulo sobre o território", scanned_pages=0)
    add_book(scielo_catalogue, SBID, title=BOOK)
    return add_chapter(scielo_catalogue, SBID, pdf, "Capítulo sobre o território")


@pytest.fixture
def proxy(seaweed: Any) -> Iterator[HoldingProxy]:
    with HoldingProxy(seaweed.endpoint) as held:
        yield held


class Runs:
    """One HOME (emptied or restored between runs) and a fresh S3 prefix per attempt."""

    def __init__(
        self, base: Settings, env: dict[str, str], home: Path, proxy: HoldingProxy
    ) -> None:
        self.base, self.env, self.home, self.proxy = base, env, home, proxy
        self.prefix = ""
        self.kills = 0

    def fresh(self, snapshot: Path | None = None) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        if snapshot is None:
            self.home.mkdir(parents=True)
        else:
            shutil.copytree(snapshot, self.home, symlinks=True)
        self.prefix = f"pc-{uuid.uuid4().hex[:10]}"

    @property
    def settings(self) -> Settings:
        return self.base.model_copy(update={"home": self.home, "s3_prefix": self.prefix})

    def _env(self, **extra: str) -> dict[str, str]:
        return {
            **self.env,
            "ARCHIVE_INGEST_HOME": str(self.home),
            "ARCHIVE_INGEST_S3_PREFIX": self.prefix,
            "ARCHIVE_INGEST_S3_ENDPOINT_URL": self.proxy.endpoint,
            **extra,
        }

    def killed_when(self, moment: Callable[[], bool], **extra: str) -> bool:
        """Run the ingest; power-cut it when ``moment()`` turns true. False: it ended first."""
        log = self.home.parent / "killed-run.log"
        killed = bool(power_cut_when(self._env(**extra), log, moment, "ingest", REF))
        self.kills += killed
        return killed

    def log(self) -> str:
        return (self.home.parent / "killed-run.log").read_text(errors="replace")[-3000:]

    def complete(self, **extra: str) -> list[dict[str, Any]]:
        proc = run_cli(self._env(**extra), "ingest", REF)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json_lines(proc)

    def assert_converged(self, admin: Any, what: str) -> None:
        """The re-run to completion, then the state a power cut at ``what`` must end in."""
        self.proxy.arm(0)
        results = self.complete()
        assert [(r["id"], r["state"], r["version"]) for r in results] == [
            (RECORD, "deposited", 1)
        ], (what, results)
        settings = self.settings
        assert_one_complete_aip(admin, settings, RECORD)  # one version; one S3 version per key
        report = reconcile(settings)
        assert report.findings == [], (what, report.findings)
        audit = run_audit(settings)
        assert audit.checked == 1 and not audit.failed, (what, audit.report())


def _hits(pause_file: Path) -> list[str]:
    """The labels (``stage.method#K``) of the commits recorded in the pause file, in order."""
    if not pause_file.is_file():
        return []
    return [line.split(" ", 2)[2] for line in pause_file.read_text().splitlines() if line]


@pytest.fixture
def runs(
    chapter: str,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    proxy: HoldingProxy,
    tmp_path: Path,
) -> Runs:
    return Runs(seaweed_settings, cli_env(scielo_server, prefect_api_url), tmp_path / "h", proxy)


def test_power_cut_after_every_catalogue_commit(runs: Runs, seaweed: Any, tmp_path: Path) -> None:
    """One kill after each commit of one ingest, in order: every run is killed at the next
    commit of the list, so each run is also the re-run of the kill before it (it resumes what
    that kill left and must get one commit further); then the last re-run completes."""
    admin = seaweed.client("admin")
    pause = tmp_path / "pause.txt"
    runs.fresh()
    runs.complete(**{PAUSE_FILE_ENV: str(pause)})
    commits = _hits(pause)
    assert len(commits) >= 10 and len(set(commits)) == len(commits), commits
    assert {"fetch.new_version#1", "fetch.record_fetch#1"} <= set(commits), commits
    print(f"{len(commits)} commits in one ingest: {commits}")
    runs.fresh()
    for label in commits:
        pause.unlink(missing_ok=True)
        at = {PAUSE_FILE_ENV: str(pause), PAUSE_ENV: f"commit@{label}"}
        killed = runs.killed_when(lambda label=label: label in _hits(pause), **at)
        assert killed, (label, _hits(pause), runs.log())
    assert runs.kills == len(commits)
    runs.assert_converged(admin, "a kill after every commit")


def test_power_cut_during_every_s3_request_of_a_deposit(
    runs: Runs, proxy: HoldingProxy, seaweed: Any, tmp_path: Path
) -> None:
    """One kill while each bucket-changing S3 request of one deposit is in flight (done by
    the server, never answered), in order; each run resumes the deposit the kill before it
    left; then the last re-run completes. Between two requests a deposit writes nothing
    durable (the catalogue is written after the receipt, through the commits above), so the
    states a kill during a deposit can leave are: before any write, and after each write."""
    admin = seaweed.client("admin")
    runs.fresh()
    proxy.arm(0)
    runs.complete()
    writes = [r for r in proxy.requests if not r.startswith(READS)]
    assert any("deposit-receipt.json" in w for w in writes) and len(writes) >= 5, writes
    assert len(set(writes)) == len(writes), writes  # write-once: each key PUT once
    print(f"{len(proxy.requests)} S3 requests, {len(writes)} writes in one ingest")

    counted_in = runs.prefix
    runs.fresh()  # a new HOME and key prefix: the same requests under the new prefix
    for write in writes:
        proxy.arm(0, hold=write.replace(f"/{counted_in}/", f"/{runs.prefix}/"))
        killed = runs.killed_when(proxy.held.is_set)
        proxy.release.set()
        assert killed, (write, proxy.requests, runs.log())
    assert runs.kills == len(writes)
    runs.assert_converged(admin, "a kill during every S3 write")

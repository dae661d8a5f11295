"""`archive-ingest reconcile` reports everything it can: an S3 500 ends only the check it hit
(a ``check-failed`` finding), the other findings are still reported, and the exit status is
non-zero once, at the end; an item whose older version was left unfinished while a newer one
exists is a finding. Real SeaweedFS behind a loopback proxy that answers 500; real CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import State
from archive_ingest.settings import Settings
from tests.support.cli import run_cli
from tests.support.holding_proxy import HoldingProxy

pytestmark = pytest.mark.slow


@pytest.fixture
def proxy(seaweed: Any) -> Iterator[HoldingProxy]:
    with HoldingProxy(seaweed.endpoint) as failing:
        yield failing


def _superseded_unfinished(settings: Settings, record_id: str) -> None:
    """v1 left ``fetched`` by a killed run, v2 deposited: what the power-cut bug produced."""
    cat = Catalogue.open(settings.effective_database_url)
    try:
        cat.ensure_item(record_id, source=f"file:/srv/{record_id}.pdf", source_kind="file")
        cat.new_version(record_id, original_sha256="a" * 64, work_dir=None)
        two = cat.new_version(record_id, original_sha256="a" * 64, work_dir=None)
        cat.set_state(record_id, State.DEPOSITED, version=two, deposited_version=two)
    finally:
        cat.close()


def _reconcile(env_endpoint: str) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "ARCHIVE_INGEST_S3_ENDPOINT_URL": env_endpoint}
    proc = run_cli(env, "reconcile", timeout=300)
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else {}), proc.stderr


def test_one_s3_error_hides_no_other_finding(
    seaweed_settings: Settings, proxy: HoldingProxy
) -> None:
    _superseded_unfinished(seaweed_settings, "file-0123456789abcdef01234567")
    proxy.fail_matching = "list-type=2"  # the listing of current keys: 500, every attempt
    code, report, stderr = _reconcile(proxy.endpoint)
    assert code == 1, (code, stderr[-2000:])
    kinds = sorted(f["kind"] for f in report["findings"])
    assert "check-failed" in kinds, report
    failed = next(f for f in report["findings"] if f["kind"] == "check-failed")
    assert "InternalError" in failed["detail"] and "not checked" in failed["detail"]
    # the other checks ran: the catalogue claims an AIP the bucket lacks, and v1 was left behind
    assert "catalogue-without-aip" in kinds and "unfinished-older-version" in kinds, kinds
    older = next(f for f in report["findings"] if f["kind"] == "unfinished-older-version")
    assert older["version"] == 1 and "fetched" in older["detail"] and "v2" in older["detail"]


def test_an_unfinished_older_version_is_reported(seaweed_settings: Settings, seaweed: Any) -> None:
    _superseded_unfinished(seaweed_settings, "file-fedcba9876543210fedcba98")
    code, report, stderr = _reconcile(seaweed.endpoint)
    assert code == 1, (code, stderr[-2000:])
    older = [f for f in report["findings"] if f["kind"] == "unfinished-older-version"]
    assert [(f["record_id"], f["version"]) for f in older] == [("file-fedcba9876543210fedcba98", 1)]

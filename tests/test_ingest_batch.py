"""`archive-ingest ingest` with several REFs: items worked on at once, results in the given order.

CLI subprocess → Prefect flows on the test session's Prefect server → local SciELO server →
real OCR → real SeaweedFS. With ``--concurrency 2`` the items' flow runs overlap (their start
and end times on the Prefect server show it), with ``--concurrency 1`` they do not; each item
is ingested once even when named twice; each result says how long its run and each stage took.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime
from prefect.client.schemas.sorting import FlowRunSort
from prefect.settings import PREFECT_API_URL, temporary_settings

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.samples import add_generated_book

pytestmark = pytest.mark.slow

STAGES = {"resolve", "fetch", "inspect", "ocr", "licence", "describe", "package", "deposit"}


def _run_spans(api: str, since: dt.datetime, refs: list[str]) -> list[tuple[Any, Any]]:
    """(start, end) of the ``ingest-item`` flow run of each REF, started after ``since``."""
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
            sort=FlowRunSort.START_TIME_ASC,
            limit=200,
        )
    spans = {}
    for run in runs:
        ref = (run.parameters or {}).get("ref")
        if ref in refs and run.start_time and run.end_time:
            assert ref not in spans, f"{ref} ran twice"
            spans[ref] = (run.start_time, run.end_time)
    assert set(spans) == set(refs), spans
    return [spans[ref] for ref in refs]


def test_items_overlap_and_come_back_in_order(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    refs = add_generated_book(scielo_catalogue, "batch1", 3, tmp_path, scanned_pages=2)
    env = cli_env(scielo_server, prefect_api_url)

    since = dt.datetime.now(dt.UTC)
    proc = run_cli(env, "ingest", "--concurrency", "2", refs[0], refs[1], refs[0], refs[2])

    assert proc.returncode == 0, proc.stderr
    results = json_lines(proc)
    ids = [f"scielo-books-batch1-{n:02d}" for n in (1, 2, 3)]
    assert [r["id"] for r in results] == ids  # the given order, the repeated REF once
    assert "given twice, ingested once" in proc.stderr
    for result in results:
        assert result["state"] == "deposited", result
        assert set(result["stage_seconds"]) == STAGES
        assert all(seconds >= 0 for seconds in result["stage_seconds"].values())
        # the run as its caller waited for it holds every stage
        assert result["run_seconds"] >= sum(result["stage_seconds"].values())

    catalogue = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        for record_id in ids:
            captures = [e for e in catalogue.events(record_id) if e.event_type == "capture"]
            assert len(captures) == 1, record_id  # fetched once, though named twice
    finally:
        catalogue.close()
    # two at a time: the second item's run started before the first one's ended
    (_, first_end), (second_start, _), _ = _run_spans(prefect_api_url, since, refs)
    assert second_start < first_end


def test_one_at_a_time_when_asked(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    refs = add_generated_book(scielo_catalogue, "batch2", 2, tmp_path, scanned_pages=1)
    env = cli_env(scielo_server, prefect_api_url)

    since = dt.datetime.now(dt.UTC)
    proc = run_cli(env, "ingest", "--concurrency", "1", *refs)

    assert proc.returncode == 0, proc.stderr
    ids = [r["id"] for r in json_lines(proc)]
    assert ids == ["scielo-books-batch2-01", "scielo-books-batch2-02"]
    # one at a time: the second item's run starts after the first one's ended
    (_, first_end), (second_start, _) = _run_spans(prefect_api_url, since, refs)
    assert second_start >= first_end

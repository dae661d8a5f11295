"""An expected failure (a source that does not answer) is a reason and one line per retry on
stderr, not a framework traceback that reads as a crash; ``--verbose`` keeps the traceback.
Real parts: the CLI as a subprocess on the session Prefect server, SeaweedFS, a closed port."""

from __future__ import annotations

import pytest

from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleScieloServer
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.ports import free_port

pytestmark = pytest.mark.slow


def test_a_source_that_does_not_answer_fails_the_item_without_a_traceback(
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = cli_env(
        scielo_server,
        prefect_api_url,
        ARCHIVE_INGEST_SCIELO_BOOKS_URL=closed,
        ARCHIVE_INGEST_FETCH_RETRIES="0",
    )
    quiet = run_cli(env, "ingest", "scielo-books:37t/05")
    assert quiet.returncode == 1, quiet.stderr[-2000:]
    (result,) = json_lines(quiet)
    assert result["state"] == "failed"
    assert closed in result["reasons"][0]
    assert "Traceback" not in quiet.stderr, quiet.stderr
    assert "Connection refused" in quiet.stderr  # the reason is still on the terminal

    verbose = run_cli(env, "--verbose", "ingest", "scielo-books:37t/05")
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr  # an operator asking for detail gets it all

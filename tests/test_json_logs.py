"""``--log-format json``: every line on stderr is one JSON object (time, level, logger,
message, run_id), the lines a stage emits name the item, its version, the stage and the
Prefect flow run; an exception is a field of its line, not a traceback over many lines. The
default text format is unchanged. Real parts: the CLI as a subprocess on the session Prefect
server, the sample SciELO server, SeaweedFS, OCR."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.logs import context
from archive_ingest.logs.json_lines import ContextFilter, JsonFormatter
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.ports import free_port
from tests.support.samples import add_generated_book

UUID_HEX = set("0123456789abcdef-")


def parsed_lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON (fails on the first that is not one object)."""
    lines = []
    for line in stderr.splitlines():
        value = json.loads(line)
        assert isinstance(value, dict), line
        assert {"time", "level", "logger", "message", "run_id"} <= set(value), line
        lines.append(value)
    return lines


def _record(message: str, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("archive_ingest.x", logging.ERROR, __file__, 1, message, (), exc_info)


def test_a_record_is_one_line_with_its_context_and_exception() -> None:
    formatter, stamp = JsonFormatter(), ContextFilter()
    try:
        raise ValueError("bad\nvalue")
    except ValueError as exc:
        error = exc
    with context.bound(record_id="r-1", ref="scielo-books:x/01", version=2, stage="ocr"):
        record = _record("stage %s", error)
        record.args = ("failed",)
        stamp.filter(record)
    outside = _record("later")
    stamp.filter(outside)

    line = formatter.format(record)
    assert "\n" not in line
    value = json.loads(line)
    assert value["message"] == "stage failed"
    assert (value["record_id"], value["ref"], value["version"], value["stage"]) == (
        "r-1",
        "scielo-books:x/01",
        2,
        "ocr",
    )
    assert value["run_id"] == context.command_run_id()
    assert "ValueError: bad\nvalue" in value["exception"]
    moment = dt.datetime.fromisoformat(value["time"].replace("Z", "+00:00"))
    assert moment.utcoffset() == dt.timedelta(0) and value["time"].endswith("Z")
    later = json.loads(formatter.format(outside))
    assert "record_id" not in later and "stage" not in later  # the item's context ended


def test_text_format_is_unchanged_and_json_lines_parse(home: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("ARCHIVE_")}
    env.update(ARCHIVE_INGEST_HOME=str(home), ARCHIVE_INGEST_CONFIG=str(home / "no.toml"))
    env["ARCHIVE_INGEST_MISSPELT_SETTING"] = "1"  # one warning line
    text = run_cli(env, "config")
    assert text.returncode == 0, text.stderr
    assert text.stderr.startswith("warning: ARCHIVE_INGEST_MISSPELT_SETTING is not a setting")
    as_json = run_cli({**env, "ARCHIVE_INGEST_LOG_FORMAT": "json"}, "config")
    assert as_json.returncode == 0, as_json.stderr
    (warning,) = parsed_lines(as_json.stderr)
    assert warning["level"] == "WARNING"
    assert warning["message"].startswith("ARCHIVE_INGEST_MISSPELT_SETTING is not a setting")
    assert json.loads(as_json.stdout)["log_format"] == "json"  # stdout: the JSON it always was
    option = run_cli(env, "--log-format", "text", "config")
    assert option.stderr == text.stderr
    bad = run_cli({**env, "ARCHIVE_INGEST_OCR_JOBS": "0"}, "--log-format", "json", "config")
    assert bad.returncode == 2
    (error,) = parsed_lines(bad.stderr)
    assert error["level"] == "ERROR" and "ocr_jobs" in error["message"]


_PARTIAL_WRITES = """
import sys, threading, warnings
from archive_ingest.logs.setup import configure
before = list(warnings.filters)
configure("json")
assert warnings.filters == before, "JSON mode changed the warnings filters"
sys.stderr.write("flushed without a newline")
sys.stderr.flush()
halves = threading.Barrier(2)
def half(name):
    sys.stderr.write(name + "-first ")
    halves.wait()
    sys.stderr.write(name + "-second\\n")
threads = [threading.Thread(target=half, args=(n,)) for n in ("alpha", "beta")]
for t in threads: t.start()
for t in threads: t.join()
sys.stderr.write("left at exit")
"""


def test_partial_lines_are_records_on_flush_and_exit_one_per_thread() -> None:
    """Text without its newline is not lost: flush() and the exit write it; two threads'
    halves stay apart; the warnings filters are those of text mode."""
    proc = subprocess.run(
        [sys.executable, "-c", _PARTIAL_WRITES], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    messages = [line["message"] for line in parsed_lines(proc.stderr)]
    assert messages[0] == "flushed without a newline"
    assert sorted(messages[1:3]) == ["alpha-first alpha-second", "beta-first beta-second"]
    assert messages[3:] == ["left at exit"]


@pytest.mark.slow
def test_an_ingest_logs_json_lines_naming_item_version_stage_and_flow_run(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    (ref,) = add_generated_book(scielo_catalogue, "jlog", 1, tmp_path)
    env = cli_env(scielo_server, prefect_api_url)
    proc = run_cli(env, "--log-format", "json", "-v", "ingest", ref)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (result,) = json_lines(proc)
    assert result["state"] == "deposited"

    lines = parsed_lines(proc.stderr)
    staged = [line for line in lines if "stage" in line]
    stages = {line["stage"] for line in staged}
    assert {"resolve", "fetch", "deposit"} <= stages, stages
    for line in staged:
        assert line["ref"] == ref, line
        if line["stage"] != "resolve":
            assert line["record_id"] == result["id"], line
    deposit = [line for line in staged if line["stage"] == "deposit"]
    assert any(line["logger"] == "archive_ingest.storage.upload" for line in deposit)
    assert all(line["version"] == result["version"] for line in deposit)
    run_ids = {line["run_id"] for line in staged}
    assert len(run_ids) == 1, run_ids  # one item, one flow run ...
    (run_id,) = run_ids
    assert len(run_id) == 36 and set(run_id) <= UUID_HEX  # ... Prefect's flow run id
    (done,) = [line for line in lines if line["message"] == f"{ref}: deposited"]
    assert done["logger"] == "archive_ingest.console" and done["level"] == "INFO"
    assert done["run_id"] != run_id and "stage" not in done  # the command's own line and id


@pytest.mark.slow
def test_prefect_lines_and_failures_are_json_once(
    scielo_server: SampleScieloServer, seaweed_settings: Settings, prefect_api_url: str
) -> None:
    """A source that does not answer: Prefect's task-run loggers report the failure; with
    ``-v`` it keeps its traceback, as one field of one line, and no line comes twice."""
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = cli_env(
        scielo_server,
        prefect_api_url,
        ARCHIVE_INGEST_SCIELO_BOOKS_URL=closed,
        ARCHIVE_INGEST_FETCH_RETRIES="0",
        ARCHIVE_INGEST_LOG_FORMAT="json",
    )
    proc = run_cli(env, "-v", "ingest", "scielo-books:37t/05")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert json_lines(proc)[0]["state"] == "failed"
    lines = parsed_lines(proc.stderr)
    prefect = [line for line in lines if line["logger"].startswith("prefect.")]
    assert any(line["logger"] == "prefect.task_runs" for line in prefect), lines
    failed = [line for line in prefect if "exception" in line]
    assert failed and all("Traceback" in line["exception"] for line in failed)
    assert all(len(line["run_id"]) == 36 for line in prefect)  # the flow run's id
    keys = [(line["time"], line["logger"], line["message"]) for line in lines]
    assert len(keys) == len(set(keys))  # each record once

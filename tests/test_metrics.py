"""GET /metrics of the real web application over loopback HTTP, parsed with prometheus_client's
own parser, after a real ingest: every value equals what the catalogue holds and what the
storage targets hold.

The ingest: three chapters through the real stages in this process (tests/support/pipeline.py,
as tests/test_replicated_deposit.py does) against the sample SciELO server and two real
SeaweedFS targets: one deposited (two copies), one held for review (its licences disagree),
one failed (an encrypted PDF). Then one stored object is deleted behind the archive's back
on t2 and a real audit finds it. Also: the bearer token, a catalogue that cannot be read, and
no item or secret in the answer.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, text

from archive_ingest.audit.run import audit_targets
from archive_ingest.audit.target import AuditOptions
from archive_ingest.catalogue import Catalogue
from archive_ingest.catalogue.copies import CopyStatus, copies_of, objects_of_copy
from archive_ingest.catalogue.engine import MIGRATIONS
from archive_ingest.errors import ConfigError
from archive_ingest.ingest.runner import ItemResult
from archive_ingest.monitoring.figures import (
    ArchiveFigures,
    ItemCount,
    JobTimes,
    StageBucket,
    StageHistogram,
    TargetTotals,
)
from archive_ingest.monitoring.metrics import ArchiveCollector
from archive_ingest.settings import Settings, normalise_database_url
from archive_ingest.storage.targets import target_views
from archive_ingest.storage.verify import Reason
from archive_ingest.web import create_app
from archive_ingest.web.metrics import loopback_client
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.damage import delete_behind_back
from tests.support.pipeline import ingest_in_process
from tests.support.plugins.db import fresh_schema
from tests.support.plugins.storage import SeaweedServer
from tests.support.plugins.targets import TargetsEnv
from tests.support.review import add_disagreeing_book
from tests.support.samples import add_generated_book, make_encrypted_pdf
from tests.support.web import serving

TOKEN = "metrics-token-" + "x" * 40

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(base: str, **headers: str) -> tuple[httpx.Response, Samples]:
    response = httpx.get(f"{base}/metrics", headers=headers, timeout=60)
    samples: Samples = defaultdict(dict)
    if response.status_code == 200:
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return response, samples


def by(samples: Samples, name: str, label: str) -> dict[str, float]:
    """``name``'s values summed by one label."""
    out: dict[str, float] = defaultdict(float)
    for labels, value in samples[name].items():
        out[dict(labels)[label]] += value
    return dict(out)


def _bucket_total(server: SeaweedServer, view: Settings) -> tuple[int, int]:
    """(objects, bytes) the target's bucket holds under the archive's prefix (current ones)."""
    client = server.client("admin")
    count = size = 0
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=view.s3_bucket, Prefix=f"{view.s3_prefix}/"
    ):
        for obj in page.get("Contents", []):
            count, size = count + 1, size + int(obj["Size"])
    return count, size


@pytest.mark.slow
def test_metrics_after_a_real_ingest_equal_the_catalogue_and_the_targets(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_trio: list[SeaweedServer],
    targets_env: TargetsEnv,
    tmp_path: Path,
) -> None:
    servers = seaweed_trio[:2]
    settings = targets_env(servers).model_copy(update=scielo_server.settings_overrides())
    [deposited_ref] = add_generated_book(scielo_catalogue, "met01", 1, tmp_path, scanned_pages=0)
    scielo_catalogue.add_chapter(
        "met01",
        2,
        title="Cifrado",
        pdf_path=make_encrypted_pdf(tmp_path / "enc.pdf", user_password="s"),
    )
    review_ref = add_disagreeing_book(scielo_catalogue, tmp_path, "Capítulo em revisão")
    started = math.floor(time.time())  # the catalogue keeps whole seconds
    results: list[ItemResult] = [
        ingest_in_process(settings, ref)
        for ref in (deposited_ref, "scielo-books:met01/02", review_ref)
    ]
    assert [r.state for r in results] == ["deposited", "failed", "needs_review"], results
    deposited = results[0].id or ""

    views = target_views(settings)
    in_buckets = {
        v.storage_target_name: _bucket_total(s, v) for s, v in zip(servers, views, strict=True)
    }
    deleted = f"{views[1].s3_prefix}/{deposited}/v1/data/dc.xml"
    delete_behind_back(servers[1], deleted)  # t2: a delete marker on top
    audit = audit_targets(settings, AuditOptions())
    assert audit.exit_code == 1 and len(audit.failed) == 1

    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        ids = [r.id or "" for r in results]
        states = catalogue.count_by_state()
        versions = [v for rid in ids for v in catalogue.versions(rid)]
        copies = [c for rid in ids for c in copies_of(catalogue, rid)]
        objects = {
            c.target: objects_of_copy(catalogue, c.record_id, c.version, c.target) for c in copies
        }
        files = [f for v in versions for f in catalogue.files(v.item_id, v.version)]
        items = [catalogue.get_item(rid) for rid in ids]
    finally:
        catalogue.close()

    with serving(create_app(settings)) as base:
        response, samples = scrape(base)
    finished = time.time()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert not any(rid in response.text for rid in ids)  # no label per item

    assert samples["archive_ingest_catalogue_up"][()] == 1
    assert by(samples, "archive_ingest_items", "state") == states
    assert by(samples, "archive_ingest_items", "collection") == {"books": 3}
    version_states: dict[str, int] = defaultdict(int)
    for v in versions:
        version_states[v.state] += 1
    assert by(samples, "archive_ingest_versions", "state") == version_states
    assert samples["archive_ingest_review_queue_items"][()] == 1
    assert 0 < samples["archive_ingest_review_queue_oldest_age_seconds"][()] <= finished - started

    # copies, and what each target holds: the catalogue's objects, and the bucket's
    copy_samples = {
        (dict(k)["target"], dict(k)["status"]): v
        for k, v in samples["archive_ingest_copies"].items()
    }
    assert {k: v for k, v in copy_samples.items() if v} == {(c.target, c.status): 1 for c in copies}
    # every status of every target is a series, 0 included: a repaired copy goes back to 0
    assert set(copy_samples) == {(t, s) for t in ("t1", "t2") for s in get_args(CopyStatus)}
    assert {c.target for c in copies} == {"t1", "t2"}
    verified: dict[tuple[str, int], int] = defaultdict(int)
    for c in copies:
        verified[(c.record_id, c.version)] += c.status == "verified"
    assert sorted(verified.values()) == [1]  # t2's copy is damaged since the audit
    assert samples["archive_ingest_copies_per_version"] == {(("copies", "1"),): 1}
    stored = by(samples, "archive_ingest_deposited_bytes", "target")
    counted = by(samples, "archive_ingest_deposited_objects", "target")
    for target, rows in objects.items():
        assert stored[target] == sum(o.size for o in rows) == in_buckets[target][1]
        assert counted[target] == len(rows) == in_buckets[target][0]

    # the audit's finding, on t2 only, of the kind the catalogue recorded for the object
    [kind] = {o.last_status for o in objects["t2"] if o.key == deleted}
    assert kind not in (None, "ok")
    findings = samples["archive_ingest_audit_findings"]
    assert {k: v for k, v in findings.items() if v} == {(("kind", kind), ("target", "t2")): 1}
    assert len(findings) == 2 * len(get_args(Reason))  # every kind of both targets, 0 included
    assert findings[(("kind", "missing"), ("target", "t1"))] == 0
    last = by(samples, "archive_ingest_last_success_timestamp_seconds", "job")
    assert started <= last["audit"] <= finished
    assert started <= last["ingest"] <= finished
    assert last["replicate"] == last["repair"] == last["harvest"] == 0

    # fetched bytes, OCR pages, licence outcomes
    fetched = by(samples, "archive_ingest_fetched_bytes", "role")
    assert fetched["original"] == sum(f.size for f in files if f.role == "original")
    pages = by(samples, "archive_ingest_ocr_pages_total", "decision")
    assert sum(pages.values()) == sum(v.summary.get("ocr", {}).get("pages", 0) for v in versions)
    assert sum(pages.values()) > 0
    ocr_runs = sum(1 for r in results if "ocr" in (r.stage_seconds or {}))
    assert samples["archive_ingest_ocr_runs_total"][()] == ocr_runs == 2
    outcomes = by(samples, "archive_ingest_licence_outcome_items", "outcome")
    wanted: dict[str, int] = defaultdict(int)
    for item in items:
        assert item is not None
        wanted[item.licence_outcome or "unchecked"] += 1
    assert outcomes == wanted

    # stage durations: each stage's runs and seconds are those the result lines reported
    ran: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for stage, seconds in (result.stage_seconds or {}).items():
            ran[stage].append(seconds)
    assert {"fetch", "ocr", "deposit"} <= set(ran)
    counts = by(samples, "archive_ingest_stage_duration_seconds_count", "stage")
    sums = by(samples, "archive_ingest_stage_duration_seconds_sum", "stage")
    assert counts == {stage: len(values) for stage, values in ran.items()}
    for stage, values in ran.items():
        assert sums[stage] == pytest.approx(sum(values), abs=1e-6)
        inf = samples["archive_ingest_stage_duration_seconds_bucket"][
            (("le", "+Inf"), ("stage", stage))
        ]
        assert inf == len(values)


def _empty_app(settings: Settings, **update: Any) -> Any:
    return create_app(settings.model_copy(update=update))


def test_the_bearer_token_is_required_when_set(settings: Settings) -> None:
    app = _empty_app(settings, metrics_token=SecretStr(TOKEN))
    with serving(app) as base:
        refused, _ = scrape(base)
        wrong, _ = scrape(base, Authorization="Bearer " + "y" * 54)
        basic, _ = scrape(base, Authorization=f"Basic {TOKEN}")
        allowed, samples = scrape(base, Authorization=f"Bearer {TOKEN}")
    assert refused.status_code == wrong.status_code == basic.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in refused.text + wrong.text
    assert allowed.status_code == 200
    assert samples["archive_ingest_catalogue_up"][()] == 1
    assert samples["archive_ingest_items"] == {}  # an empty archive: the family, no sample
    assert samples["archive_ingest_review_queue_items"][()] == 0


def test_a_short_token_is_refused_when_the_app_is_built(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="metrics_token"):
        _empty_app(settings, metrics_token=SecretStr("short"))


def test_a_catalogue_that_cannot_be_read_is_catalogue_up_0_without_its_url(
    settings: Settings,
) -> None:
    password = "hunter2-db-password"
    url = f"postgresql://archive:{password}@127.0.0.1:9/nowhere?connect_timeout=2"
    with serving(_empty_app(settings, database_url=url)) as base:
        response, samples = scrape(base)
    assert response.status_code == 200
    assert samples["archive_ingest_catalogue_up"][()] == 0
    assert "archive_ingest_items" not in samples
    assert password not in response.text and "127.0.0.1:9" not in response.text


def test_the_collector_turns_figures_into_prefixed_families_with_their_types() -> None:
    at = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
    figures = ArchiveFigures(
        generated_at=at,
        items=[
            ItemCount(state="deposited", source_kind="scielo-article", collection="scl", items=3)
        ],
        targets=[TargetTotals(target="t1", objects=18, bytes=2_353_849)],
        ocr_runs=2,
        ocr_pages={"fresh-ocr": 5, "kept-layer": 1, "born-digital": 0},
        jobs=[JobTimes(job="audit", last_run=at, last_success=at), JobTimes(job="repair")],
        stages=[
            StageHistogram(
                stage="ocr",
                buckets=[StageBucket(le="5.0", runs=1), StageBucket(le="+Inf", runs=3)],
                runs=3,
                seconds=70.5,
            )
        ],
    )
    families = {f.name: f for f in ArchiveCollector(lambda: figures).collect()}
    assert all(name.startswith("archive_ingest_") for name in families)
    assert families["archive_ingest_ocr_pages"].type == "counter"
    assert families["archive_ingest_stage_duration_seconds"].type == "histogram"
    assert families["archive_ingest_items"].type == "gauge"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("archive_ingest_deposited_bytes", (("target", "t1"),))] == 2_353_849
    assert samples[("archive_ingest_ocr_runs_total", ())] == 2
    assert samples[("archive_ingest_ocr_pages_total", (("decision", "fresh-ocr"),))] == 5
    assert samples[("archive_ingest_last_success_timestamp_seconds", (("job", "audit"),))] == (
        at.timestamp()
    )
    assert samples[("archive_ingest_last_success_timestamp_seconds", (("job", "repair"),))] == 0
    bucket = "archive_ingest_stage_duration_seconds_bucket"
    assert samples[(bucket, (("le", "5.0"), ("stage", "ocr")))] == 1
    assert samples[(bucket, (("le", "+Inf"), ("stage", "ocr")))] == 3
    assert samples[("archive_ingest_stage_duration_seconds_count", (("stage", "ocr"),))] == 3
    assert samples[("archive_ingest_stage_duration_seconds_sum", (("stage", "ocr"),))] == 70.5
    assert samples[("archive_ingest_review_queue_oldest_age_seconds", ())] == 0  # empty queue


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.5", False),
        ("192.168.1.20", False),
        ("::ffff:10.0.0.5", False),
        ("2001:db8::1", False),
        ("testclient", False),
        ("", False),
        (None, False),
    ],
)
def test_without_a_token_only_loopback_clients_are_answered(
    host: str | None, loopback: bool
) -> None:
    assert loopback_client(host) is loopback


def _revision(url: str) -> str | None:
    catalogue = Catalogue.open(url, migrate_schema=False)
    try:
        with catalogue.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        catalogue.close()


@pytest.mark.parametrize("revision", ["older", "newer"])
def test_a_catalogue_at_another_revision_is_catalogue_up_0_and_is_not_migrated(
    settings: Settings, database_url: str, revision: str
) -> None:
    catalogue = Catalogue.open(database_url)
    with catalogue.engine.begin() as connection:
        if revision == "older":
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.downgrade(config, "0010")
        else:  # a newer code's migration ran: this code does not know the revision
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    catalogue.close()
    before = _revision(database_url)
    with serving(_empty_app(settings, database_url=database_url)) as base:
        response, samples = scrape(base)
    assert response.status_code == 200
    assert samples["archive_ingest_catalogue_up"][()] == 0
    assert "archive_ingest_items" not in samples
    assert _revision(database_url) == before  # the scrape migrated nothing


def test_a_catalogue_path_that_cannot_be_opened_is_catalogue_up_0(
    settings: Settings, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    url = f"sqlite:///{not_a_folder / 'catalogue.sqlite3'}"  # under a file: NotADirectoryError
    unreadable = tmp_path / "folder.sqlite3"
    unreadable.mkdir()  # exists, but is a folder
    for database_url in (url, f"sqlite:///{unreadable}"):
        with serving(_empty_app(settings, database_url=database_url)) as base:
            response, samples = scrape(base)
        assert response.status_code == 200, database_url
        assert samples["archive_ingest_catalogue_up"][()] == 0, database_url


def test_a_scraper_that_gave_up_while_waiting_costs_no_read(
    settings: Settings, postgres_url: str
) -> None:
    """A scrape held behind a slow one (a table lock keeps the first read waiting), whose
    client gives up, is not read once the first finishes: the catalogue is read once."""
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM items" in statement and "GROUP BY" in statement:
            reads.append(statement)

    with fresh_schema(postgres_url) as url:
        Catalogue.open(url).close()  # created and migrated
        locker = create_engine(normalise_database_url(url))
        event.listen(Engine, "before_cursor_execute", count)
        try:
            with serving(_empty_app(settings, database_url=url)) as base:
                first: list[httpx.Response] = []
                with locker.begin() as connection:
                    connection.execute(text("LOCK TABLE items IN ACCESS EXCLUSIVE MODE"))
                    waiting = threading.Thread(target=lambda: first.append(scrape(base)[0]))
                    waiting.start()
                    deadline = time.monotonic() + 20
                    while not reads and time.monotonic() < deadline:  # the first read waits
                        time.sleep(0.05)
                    with pytest.raises(httpx.ReadTimeout):  # the second gives up
                        httpx.get(f"{base}/metrics", timeout=httpx.Timeout(10, read=0.5))
                    time.sleep(0.3)
                waiting.join(30)
                time.sleep(0.5)  # the second request's turn: it finds its client gone
        finally:
            event.remove(Engine, "before_cursor_execute", count)
            locker.dispose()
    assert [r.status_code for r in first] == [200]
    assert len(reads) == 1

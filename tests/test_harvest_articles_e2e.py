"""The SciELO articles harvest for real: ArticleMeta's identifiers route on the sample server.

The route (``/api/v1/article/identifiers/``) is served in the shape scieloorg/articlemeta gives
it (see ``SampleScieloServer._identifiers``); the listing pages through it by ``offset``. The
end-to-end tests run the ``harvest-scielo-articles`` flow on a real Prefect server, ingesting
through the local SciELO server, real OCR and a real SeaweedFS, and the real CLI in a
subprocess for a dry run.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.harvest import get_watermark, parse_source, plan_harvest, set_watermark
from archive_ingest.harvest.listing import list_articles, parse_identifiers
from archive_ingest.harvest.store import runs
from archive_ingest.http import SourceHttp
from archive_ingest.models import State
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer

IDENTIFIERS = "/api/v1/article/identifiers/"
CC_BY = "This article is licensed under a Creative Commons Attribution 4.0 International License."
CC_BY_NC = (
    "This article is licensed under a Creative Commons Attribution-NonCommercial 4.0 "
    "International License."
)

#: scl articles: (PID, processing date, licence statement printed in the PDF)
SCL = [
    ("S0102-311X2024000100001", "2024-03-01", CC_BY),
    ("S0102-311X2024000100002", "2024-03-02", CC_BY),
    ("S0102-311X2024000100003", "2024-03-04", CC_BY),
    ("S0102-311X2024000100004", "2024-03-04", CC_BY_NC),  # disagrees with the metadata's by/4.0
]
SPA = ("S1807-59322024000100001", "2024-03-03", CC_BY)
FLAKY = "S0102-311X2024000100006"


def rid(collection: str, pid: str) -> str:
    return f"scielo-{collection}-{pid}".lower()


def add_article(
    cat: SampleCatalogue,
    collection: str,
    pid: str,
    processed: str,
    statement: str,
    make_pdf: Callable[..., bytes],
) -> None:
    """An article whose metadata says CC BY 4.0 and whose PDF prints ``statement``."""
    n = pid[-3:]
    title = f"Sample article {collection} {n} on river basins"
    cat.add_article(
        collection,
        pid,
        processing_date=processed,
        titles={"en": title},
        doi=f"10.1590/{pid}",
        file_code=f"a{n}v23n3",
        license="by/4.0",
        pdfs={
            "en": make_pdf(
                title,
                "Gomes, Caio; Peressin, Alexandre",
                *(statement[i : i + 80] for i in range(0, len(statement), 80)),
            )
        },
    )


def identifier_queries(server: SampleScieloServer) -> list[dict[str, str]]:
    return [
        {k: v[-1] for k, v in parse_qs(r.query).items()} for r in server.requests_for(IDENTIFIERS)
    ]


# --- the route itself ----------------------------------------------------------------------------
def test_identifiers_route_shape_filters_and_paging(
    scielo_catalogue: SampleCatalogue, scielo_server: SampleScieloServer, make_pdf: Any
) -> None:
    for pid, processed, statement in SCL:
        add_article(scielo_catalogue, "scl", pid, processed, statement, make_pdf)
    add_article(scielo_catalogue, "spa", *SPA, make_pdf)
    scielo_server.identifiers_page_size = 3
    today = dt.datetime.now(dt.UTC).date().isoformat()  # the sample's default ``until``
    with httpx.Client(base_url=scielo_server.base_url, timeout=5) as client:
        first = client.get(IDENTIFIERS, params={"collection": "scl", "from": "2024-03-02"}).json()
        assert first["meta"] == {
            "limit": 3,
            "offset": 0,
            "filter": {
                "processing_date": {"$gte": "2024-03-02", "$lte": today},
                "collection": "scl",
            },
            "total": 3,
        }
        assert first["objects"] == [
            {
                "code": pid,
                "collection": "scl",
                "processing_date": processed,
                "doi": f"10.1590/{pid}".upper(),
            }
            for pid, processed, _ in SCL[1:]
        ]
        # the page size is the server's: a larger limit is cut to it, a smaller one honoured
        everything = client.get(IDENTIFIERS, params={"limit": 50}).json()
        assert everything["meta"]["limit"] == 3 and everything["meta"]["total"] == 5
        assert [o["processing_date"] for o in everything["objects"]] == [
            "2024-03-01",
            "2024-03-02",
            "2024-03-03",
        ]
        rest = client.get(IDENTIFIERS, params={"offset": 3}).json()
        assert [o["code"] for o in rest["objects"]] == [SCL[2][0], SCL[3][0]]
        assert client.get(IDENTIFIERS, params={"offset": 9}).json()["objects"] == []
        one = client.get(IDENTIFIERS, params={"limit": 1, "until": "2024-03-01"}).json()
        assert [o["code"] for o in one["objects"]] == [SCL[0][0]] and one["meta"]["total"] == 1
        by_issn = client.get(IDENTIFIERS, params={"issn": "2179-975X", "collection": "spa"})
        assert [o["code"] for o in by_issn.json()["objects"]] == [SPA[0]]
        assert client.get(IDENTIFIERS, params={"issn": "0000-0000"}).json()["objects"] == []
        for bad in ({"offset": "x"}, {"offset": "-1"}, {"limit": "0"}, {"limit": "many"}):
            assert client.get(IDENTIFIERS, params=bad).status_code == 400, bad
        assert client.get(IDENTIFIERS, params={"from": "March"}).status_code == 500
        redirect = client.get(IDENTIFIERS.rstrip("/"), params={"collection": "scl"})
        assert redirect.status_code == 302
        assert redirect.headers["location"] == f"{IDENTIFIERS}?collection=scl"


def test_list_articles_pages_through_one_collection(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    source_http: SourceHttp,
    make_pdf: Any,
) -> None:
    for pid, processed, statement in SCL:
        add_article(scielo_catalogue, "scl", pid, processed, statement, make_pdf)
    add_article(scielo_catalogue, "spa", *SPA, make_pdf)
    scielo_server.identifiers_page_size = 3
    base = scielo_settings.scielo_articlemeta_url
    listing = list_articles(source_http, base, "scl", watermark=None, since=None)
    assert [i.ref for i in listing.items] == [f"scielo-article:scl/{pid}" for pid, _, _ in SCL]
    assert [i.record_id for i in listing.items] == [rid("scl", pid) for pid, _, _ in SCL]
    assert listing.next_watermark == "2024-03-04" and listing.problems == []
    assert [q.get("offset") for q in identifier_queries(scielo_server)] == ["0", "3"]
    queries = identifier_queries(scielo_server)
    assert all(q["collection"] == "scl" and "from" not in q for q in queries)
    raw = source_http.get_bytes(f"{base}{IDENTIFIERS}?collection=spa").content
    assert parse_identifiers(raw) == ([("spa", SPA[0], SPA[1])], 1)


def test_listing_after_the_watermark_marks_only_later_dates_changed(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    source_http: SourceHttp,
    make_pdf: Any,
) -> None:
    """``from`` is inclusive (``$gte``) on a date: the watermark's own day is listed again, and
    its articles must not count as changed, or every run re-ingests the newest day forever."""
    for pid, processed, statement in SCL:
        add_article(scielo_catalogue, "scl", pid, processed, statement, make_pdf)
    base = scielo_settings.scielo_articlemeta_url
    listing = list_articles(source_http, base, "scl", watermark="2024-03-02", since=None)
    assert identifier_queries(scielo_server)[-1]["from"] == "2024-03-02"
    assert {i.record_id: i.changed for i in listing.items} == {
        rid("scl", SCL[1][0]): False,  # processed on the watermark's day: seen last time
        rid("scl", SCL[2][0]): True,
        rid("scl", SCL[3][0]): True,
    }
    assert listing.next_watermark == "2024-03-04"
    # an explicit --since asks for everything processed since then, as changed
    since = list_articles(source_http, base, "scl", watermark=None, since=dt.date(2024, 3, 2))
    assert all(i.changed for i in since.items) and len(since.items) == 3


class _ReprocessAfterFirstPage:
    """The real SourceHttp; after the first identifiers page SciELO reprocesses one article it
    listed (it moves to the end of the date order and everything after it shifts back)."""

    def __init__(self, http: SourceHttp, reprocess: Callable[[], None]) -> None:
        self.http, self.reprocess, self.pages = http, reprocess, 0

    def get_bytes(self, url: str, **kwargs: Any) -> Any:
        got = self.http.get_bytes(url, **kwargs)
        self.pages += 1
        if self.pages == 1:
            self.reprocess()
        return got


def _many_articles(cat: SampleCatalogue, count: int, make_pdf: Any) -> list[str]:
    pids = [f"S0102-311X20240002{n:05d}" for n in range(count)]
    start = dt.date(2024, 1, 1)
    for n, pid in enumerate(pids):
        add_article(cat, "scl", pid, (start + dt.timedelta(days=n)).isoformat(), CC_BY, make_pdf)
    return pids


def test_listing_survives_a_reprocessing_between_pages(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    source_http: SourceHttp,
    make_pdf: Any,
) -> None:
    """Offset paging over a date-ordered list: an article reprocessed mid-listing shifts the
    rest back by one. Overlapping pages (deduplicated) still list every article once."""
    pids = _many_articles(scielo_catalogue, 45, make_pdf)
    scielo_server.identifiers_page_size = 20
    base = scielo_settings.scielo_articlemeta_url
    http = _ReprocessAfterFirstPage(
        source_http,
        lambda: scielo_catalogue.update_article("scl", pids[3], processing_date="2024-06-01"),
    )
    listing = list_articles(
        http, base, "scl", watermark=None, since=None, today=dt.date(2025, 1, 1)
    )
    listed = [i.ref.rsplit("/", 1)[1] for i in listing.items]
    assert sorted(listed) == sorted(pids) and len(listed) == len(set(listed))
    offsets = [q.get("offset") for q in identifier_queries(scielo_server)]
    assert offsets == ["0", "15", "30"]  # 20 a page, 5 of them again on the next
    assert listing.next_watermark == "2024-06-01" and listing.problems == []


def test_listing_without_totals_pages_until_empty_and_stops_at_the_page_limit(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    source_http: SourceHttp,
    make_pdf: Any,
) -> None:
    pids = _many_articles(scielo_catalogue, 7, make_pdf)
    scielo_server.identifiers_page_size = 3
    base = scielo_settings.scielo_articlemeta_url

    class NoTotals:  # an older ArticleMeta: pages without meta.total
        def get_bytes(self, url: str, **kwargs: Any) -> Any:
            got = source_http.get_bytes(url, **kwargs)
            data = json.loads(got.content)
            data["meta"].pop("total")
            return dataclasses.replace(got, content=json.dumps(data).encode())

    listing = list_articles(NoTotals(), base, "scl", watermark=None, since=None)
    assert [i.ref.rsplit("/", 1)[1] for i in listing.items] == pids
    assert [q.get("offset") for q in identifier_queries(scielo_server)] == ["0", "3", "6", "7"]

    capped = list_articles(source_http, base, "scl", watermark=None, since=None, page_limit=2)
    assert capped.next_watermark is None  # a listing cut short never moves the watermark
    assert capped.problems and "stopped after 2 identifier pages" in capped.problems[0]


def test_the_watermark_never_reaches_a_day_that_is_not_over(
    scielo_catalogue: SampleCatalogue,
    scielo_settings: Settings,
    source_http: SourceHttp,
    make_pdf: Any,
) -> None:
    """Articles processed today may be reprocessed later today: the watermark stops at
    yesterday, so the next run still sees today's articles as changed."""
    add_article(scielo_catalogue, "scl", SCL[0][0], "2024-03-01", CC_BY, make_pdf)
    add_article(scielo_catalogue, "scl", SCL[1][0], "2024-03-05", CC_BY, make_pdf)
    base = scielo_settings.scielo_articlemeta_url
    today = dt.date(2024, 3, 5)
    first = list_articles(source_http, base, "scl", watermark=None, since=None, today=today)
    assert first.next_watermark == "2024-03-04"
    again = list_articles(
        source_http, base, "scl", watermark=first.next_watermark, since=None, today=today
    )
    assert {i.record_id: i.changed for i in again.items} == {rid("scl", SCL[1][0]): True}
    assert again.next_watermark == "2024-03-04"
    later = list_articles(
        source_http, base, "scl", watermark="2024-03-04", since=None, today=dt.date(2024, 3, 9)
    )
    assert later.next_watermark == "2024-03-05"


def test_plan_after_a_run_selects_only_what_is_new_or_changed(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    scielo_settings: Settings,
    make_pdf: Any,
) -> None:
    for pid, processed, statement in SCL:
        add_article(scielo_catalogue, "scl", pid, processed, statement, make_pdf)
    source = parse_source("scielo-articles:scl")
    catalogue = Catalogue.open(scielo_settings.effective_database_url)
    try:
        first = plan_harvest(scielo_settings, catalogue, source)
        assert [c.reason for c in first.selected] == ["new"] * 4
        for cand in first.selected:  # as if the run deposited them all
            catalogue.ensure_item(cand.record_id, source=cand.ref, source_kind="scielo-article")
            catalogue.set_state(cand.record_id, State.DEPOSITED, [])
        assert first.next_watermark == "2024-03-04"
        set_watermark(catalogue, source.key, first.next_watermark)
        again = plan_harvest(scielo_settings, catalogue, source)
        assert again.selected == [] and again.to_json()["skipped"] == {"unchanged": 2}
        # a new article processed on the watermark's day after the last run is still new
        fifth = "S0102-311X2024000100005"
        add_article(scielo_catalogue, "scl", fifth, "2024-03-04", CC_BY, make_pdf)
        later = plan_harvest(scielo_settings, catalogue, source)
        assert [(c.record_id, c.reason) for c in later.selected] == [(rid("scl", fifth), "new")]
    finally:
        catalogue.close()


# --- end to end --------------------------------------------------------------------------------
def _keys(client: Any, bucket: str, prefix: str) -> set[str]:
    out: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out |= {o["Key"][len(prefix) :] for o in page.get("Contents", [])}
    return out


@pytest.mark.slow
def test_harvest_articles_flow_end_to_end(
    harvest_env: Settings,
    scielo_server: SampleScieloServer,
    seaweed: Any,
    make_pdf: Any,
) -> None:
    from flows.harvest import harvest_scielo_articles

    cat = scielo_server.catalogue
    for pid, processed, statement in SCL:
        add_article(cat, "scl", pid, processed, statement, make_pdf)
    add_article(cat, "spa", *SPA, make_pdf)
    # a fifth scl article whose PDF answers 404 once: failed, then retried by the next run
    add_article(cat, "scl", FLAKY, "2024-03-03", CC_BY, make_pdf)
    [flaky_pdf] = cat.articles[("scl", FLAKY)].pdfs
    scielo_server.inject(flaky_pdf, status=404, times=1)
    scielo_server.identifiers_page_size = 3  # five scl articles: two pages

    first = harvest_scielo_articles(collection="scl")
    states = {row["id"]: row["state"] for row in first["items"]}
    assert states == {
        rid("scl", SCL[0][0]): "deposited",
        rid("scl", SCL[1][0]): "deposited",
        rid("scl", FLAKY): "failed",
        rid("scl", SCL[2][0]): "deposited",
        rid("scl", SCL[3][0]): "needs_review",  # PDF says BY-NC, the metadata BY
    }, first
    held = next(r for r in first["items"] if r["state"] == "needs_review")
    assert held["licence"] == "needs_review" and any("licen" in r for r in held["reasons"]), held
    failed = next(r for r in first["items"] if r["state"] == "failed")
    assert any("404" in r for r in failed["reasons"]), failed
    assert first["counts"] == {"deposited": 3, "needs_review": 1, "failed": 1, "total": 5}
    assert first["problems"] == []
    assert first["watermark_before"] is None and first["watermark_after"] == "2024-03-04"
    assert first["watermark_stored"] is True
    assert [q.get("offset") for q in identifier_queries(scielo_server)] == ["0", "3"]
    assert all(q["collection"] == "scl" for q in identifier_queries(scielo_server))
    # the other collection was never asked for, nor its document
    assert not [r for r in scielo_server.requests if "spa" in r.target]

    admin = seaweed.client("admin")
    bucket, prefix = harvest_env.s3_bucket, harvest_env.s3_prefix
    catalogue = Catalogue.open(harvest_env.effective_database_url)
    try:
        assert get_watermark(catalogue, "scielo-articles:scl") == "2024-03-04"
        assert [r.status for r in runs(catalogue, "scielo-articles:scl")] == ["completed"]
        assert catalogue.get_item(rid("spa", SPA[0])) is None
        for pid, _, statement in SCL:
            item = catalogue.get_item(rid("scl", pid))
            assert item is not None and item.source == f"scielo-article:scl/{pid}"
            stored = _keys(admin, bucket, f"{prefix}/{item.id}/")
            if statement == CC_BY:
                assert item.state == State.DEPOSITED.value and item.deposited_version == 1
                assert item.bag_uri == f"s3://{bucket}/{prefix}/{item.id}/v1/"
                assert {"v1/deposit-receipt.json", "v1/data/mets.xml"} <= stored, stored
            else:
                assert item.state == State.NEEDS_REVIEW.value and stored == set()
    finally:
        catalogue.close()

    # the next run lists from the watermark's day again: only the failed article is retried
    scielo_server.clear_requests()
    second = harvest_scielo_articles(collection="scl")
    assert {r["id"]: r["state"] for r in second["items"]} == {rid("scl", FLAKY): "deposited"}
    assert second["watermark_before"] == "2024-03-04" and second["watermark_stored"] is True
    assert [q.get("from") for q in identifier_queries(scielo_server)] == ["2024-03-04"]
    # and then nothing at all: no document fetched, nothing ingested
    scielo_server.clear_requests()
    third = harvest_scielo_articles(collection="scl")
    assert third["items"] == [] and third["counts"] == {"total": 0}, third
    assert third["watermark_after"] == "2024-03-04" and third["watermark_stored"] is True
    assert {r.path for r in scielo_server.requests} == {IDENTIFIERS}

    # SciELO reprocesses one deposited article with a corrected title: it is "changed"
    changed_pid = SCL[1][0]
    document = copy.deepcopy(cat.articles[("scl", changed_pid)].document)
    document["article"]["v12"] = [{"l": "en", "_": "A corrected title on river basins"}]
    cat.update_article("scl", changed_pid, processing_date="2024-03-10", document=document)
    plan = harvest_scielo_articles(collection="scl", dry_run=True)
    assert [(c["id"], c["reason"]) for c in plan["would_ingest"]] == [
        (rid("scl", changed_pid), "changed")
    ]
    assert plan["skipped"] == {"unchanged": 2}  # the two of 2024-03-04
    fourth = harvest_scielo_articles(collection="scl")
    assert {r["id"]: r["state"] for r in fourth["items"]} == {rid("scl", changed_pid): "deposited"}
    assert fourth["watermark_after"] == "2024-03-10" and fourth["watermark_stored"] is True
    catalogue = Catalogue.open(harvest_env.effective_database_url)
    try:
        item = catalogue.get_item(rid("scl", changed_pid))
        assert item is not None and item.title == "A corrected title on river basins"
        assert item.deposited_version == 2
        assert get_watermark(catalogue, "scielo-articles:scl") == "2024-03-10"
        statuses = [r.status for r in runs(catalogue, "scielo-articles:scl")]
        assert statuses == ["completed", "completed", "completed", "dry-run", "completed"]
    finally:
        catalogue.close()
    assert "v2/deposit-receipt.json" in _keys(admin, bucket, f"{prefix}/{rid('scl', changed_pid)}/")


@pytest.mark.slow
def test_harvest_articles_cli_dry_run(
    home: Path,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    prefect_api_url: str,
    make_pdf: Any,
) -> None:
    """``archive-ingest harvest scielo-articles:scl --dry-run`` in a subprocess: the plan on
    stdout (new, changed, unchanged against the catalogue and the watermark), nothing ingested,
    nothing fetched but the listing, the watermark left alone, a dry-run row recorded."""
    for pid, processed, statement in SCL:
        add_article(scielo_catalogue, "scl", pid, processed, statement, make_pdf)
    add_article(scielo_catalogue, "spa", *SPA, make_pdf)
    scielo_server.identifiers_page_size = 2
    settings = Settings(**scielo_server.settings_overrides())
    catalogue = Catalogue.open(settings.effective_database_url)
    try:  # a previous run deposited 0002 and 0003 and stored 2024-03-02
        for pid in (SCL[1][0], SCL[2][0]):
            catalogue.ensure_item(
                rid("scl", pid), source=f"scielo-article:scl/{pid}", source_kind="scielo-article"
            )
            catalogue.set_state(rid("scl", pid), State.DEPOSITED, [])
        set_watermark(catalogue, "scielo-articles:scl", "2024-03-02")
    finally:
        catalogue.close()

    env = dict(os.environ)
    for key, value in scielo_server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    env["PREFECT_API_URL"] = prefect_api_url
    env["ARCHIVE_INGEST_FETCH_RETRIES"] = "0"
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "harvest", "scielo-articles:scl", "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["dry_run"] is True and out["source"] == "scielo-articles:scl"
    assert out["since"] == "2024-03-02" and out["next_watermark"] == "2024-03-04"
    assert [(c["ref"], c["reason"]) for c in out["would_ingest"]] == [
        (f"scielo-article:scl/{SCL[2][0]}", "changed"),  # deposited, processed again since
        (f"scielo-article:scl/{SCL[3][0]}", "new"),
    ]
    assert out["skipped"] == {"unchanged": 1} and out["problems"] == []
    # only the listing was fetched (from the watermark, two pages); no document, no PDF
    assert [(q["from"], q["offset"]) for q in identifier_queries(scielo_server)] == [
        ("2024-03-02", "0"),
        ("2024-03-02", "2"),
    ]
    assert {r.path for r in scielo_server.requests} == {IDENTIFIERS}
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        assert catalogue.get_item(rid("scl", SCL[3][0])) is None
        assert catalogue.get_item(rid("scl", SCL[2][0])).state == State.DEPOSITED.value  # type: ignore[union-attr]
        assert get_watermark(catalogue, "scielo-articles:scl") == "2024-03-02"
        [run] = runs(catalogue, "scielo-articles:scl")
        assert run.status == "dry-run" and run.counts == {"would_ingest": 2}
    finally:
        catalogue.close()

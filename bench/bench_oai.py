"""Benchmark of the OAI-PMH provider (not a test; prints p50/p95 per page, optionally JSON).

Builds N records (default 100,000) in its own schema of a PostgreSQL catalogue with bulk
inserts (a real oai_dc record per item, its identifier and title made unique; a real METS for
one item in ``--mets-every``), starts ``archive-ingest serve`` against it, and times whole
HTTP requests (client side, keep-alive) through the real endpoint:

- ListRecords oai_dc: a full harvest, every page by resumption (N / page size pages);
- ListIdentifiers oai_dc and ListRecords oai_dc within a set (``license:by``, half the items);
- ListRecords mets (METS IDs scoped per record at serve time, docs/OAI.md);
- the first page of each list separately (it also counts completeListSize).

    .venv/bin/python bench/bench_oai.py [--records 100000] [--keep] [--json out.json]

Database: ARCHIVE_INGEST_TEST_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from lxml import etree
from sqlalchemy import create_engine, insert, text

from archive_ingest.catalogue.store import Catalogue
from archive_ingest.oai.protocol import to_epoch
from archive_ingest.oai.sets import record_sets
from archive_ingest.oai.store import normalise_payload
from archive_ingest.oai.tables import OaiRecord, OaiRecordSet, OaiSet
from archive_ingest.settings import normalise_database_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.oai import BASE, LICENCES, PUBLISHERS, payloads
from tests.support.ports import free_port

OAI = "{http://www.openarchives.org/OAI/2.0/}"
SCHEMA = "bench_oai"


def build(url: str, records: int, mets_every: int) -> None:
    catalogue = Catalogue.open(url)
    catalogue.close()
    engine = create_engine(normalise_database_url(url))
    templates = {
        (lic, pub): tuple(
            normalise_payload(x, k)
            for x, k in zip(payloads("rec-template", lic, pub), ("dc", "mets"), strict=True)
        )
        for lic in LICENCES
        for pub in PUBLISHERS
    }
    start = to_epoch(BASE)
    names: dict[str, str] = {}
    batch = 5000
    with engine.begin() as conn:
        for lo in range(0, records, batch):
            rows: list[dict[str, Any]] = []
            members: list[dict[str, Any]] = []
            for n in range(lo, min(records, lo + batch)):
                rid = f"rec-{n:06d}"
                lic, pub = LICENCES[n % 2], PUBLISHERS[(n // 2) % 2]
                kind = "scielo-article" if n % 3 == 0 else "scielo-books-chapter"
                dc, mets = templates[(lic, pub)]
                stamp = start + n  # one record per second, plus ties below
                stamp -= n % 7 == 0
                rows.append(
                    {
                        "record_id": rid,
                        "version": 1,
                        "datestamp": stamp,
                        "deleted": n % 1000 == 999,
                        "reason": None,
                        "dc_xml": dc.replace(b"rec-template", rid.encode()),
                        "mets_xml": mets.replace(b"rec-template", rid.encode())
                        if n % mets_every == 0
                        else None,
                    }
                )
                sets = record_sets(source_kind=kind, licence_uri=lic, publisher=pub)
                names.update(sets)
                members += [{"set_spec": s, "record_id": rid, "datestamp": stamp} for s in sets]
            conn.execute(insert(OaiRecord), rows)
            conn.execute(insert(OaiRecordSet), members)
            print(f"  inserted {min(records, lo + batch)}/{records}", file=sys.stderr)
        conn.execute(insert(OaiSet), [{"spec": s, "name": n} for s, n in names.items()])
        conn.execute(text("ANALYZE oai_records"))
        conn.execute(text("ANALYZE oai_record_sets"))
    engine.dispose()


def walk(client: httpx.Client, url: str, params: dict[str, str], max_pages: int) -> dict[str, Any]:
    times: list[float] = []
    items = 0
    first = 0.0
    verb = params["verb"]
    while len(times) < max_pages:
        t0 = time.perf_counter()
        response = client.get(url, params=params)
        elapsed = (time.perf_counter() - t0) * 1000
        response.raise_for_status()
        root = etree.fromstring(response.content)
        items += len(root.findall(f".//{OAI}header"))
        if params.get("resumptionToken"):
            times.append(elapsed)
        else:
            first = elapsed
        token = root.findtext(f".//{OAI}resumptionToken")
        if not token:
            break
        params = {"verb": verb, "resumptionToken": token}
    q = statistics.quantiles(times, n=20, method="inclusive") if len(times) >= 2 else [0.0] * 19
    return {
        "pages": len(times) + 1,
        "items": items,
        "first_page_ms": round(first, 1),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(q[18], 1),
        "max_ms": round(max(times), 1) if times else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--mets-every", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the schema")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    base = os.environ.get(
        "ARCHIVE_INGEST_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    admin = create_engine(normalise_database_url(base))
    with admin.begin() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
            {"s": SCHEMA},
        ).scalar()
        if exists and not args.keep:
            conn.execute(text(f'DROP SCHEMA "{SCHEMA}" CASCADE'))
            exists = None
        if not exists:
            conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={SCHEMA}')}"
    if not exists:
        t0 = time.perf_counter()
        build(url, args.records, args.mets_every)
        print(f"built {args.records} records in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    port = free_port()
    home = tempfile.mkdtemp(prefix="bench-oai-")
    env = {
        **os.environ,
        "ARCHIVE_INGEST_HOME": home,
        "ARCHIVE_INGEST_DATABASE_URL": url,
        "ARCHIVE_INGEST_OAI_PAGE_SIZE": str(args.page_size),
    }
    exe = Path(sys.executable).with_name("archive-ingest")
    server = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env)
    endpoint = f"http://127.0.0.1:{port}/oai"
    try:
        with httpx.Client(timeout=60) as client:
            for _ in range(200):
                try:
                    client.get(endpoint, params={"verb": "Identify"})
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            results = {
                "ListRecords oai_dc (full harvest)": walk(
                    client, endpoint, {"verb": "ListRecords", "metadataPrefix": "oai_dc"}, 10**6
                ),
                "ListIdentifiers oai_dc": walk(
                    client,
                    endpoint,
                    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
                    200,
                ),
                "ListRecords oai_dc set=license:by": walk(
                    client,
                    endpoint,
                    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "license:by"},
                    200,
                ),
                "ListRecords mets": walk(
                    client, endpoint, {"verb": "ListRecords", "metadataPrefix": "mets"}, 200
                ),
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{SCHEMA}" CASCADE'))
        admin.dispose()

    report = {
        "records": args.records,
        "page_size": args.page_size,
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cpu",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "results": results,
    }
    print(f"{'list':40} {'pages':>6} {'items':>7} {'first':>7} {'p50':>7} {'p95':>7} {'max':>7}")
    for name, r in results.items():
        print(
            f"{name:40} {r['pages']:>6} {r['items']:>7} {r['first_page_ms']:>7} "
            f"{r['p50_ms']:>7} {r['p95_ms']:>7} {r['max_ms']:>7}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`archive-ingest ingest` end to end, as a user runs it: CLI subprocess → Prefect flow on a
real Prefect server → local SciELO server → real OCR → real SeaweedFS. Then the stored AIP is
downloaded and checked with bagit-python, our profile and the official XSDs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import bagit
import pytest
from lxml import etree

from archive_ingest.bag import validate_bag
from archive_ingest.catalogue import Catalogue
from archive_ingest.records import validate_dc, validate_mets
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.s3 import versions_by_key
from tests.support.samples import make_encrypted_pdf
from tests.support.territory_book import ISBN, add_book, add_chapter, make_chapter

pytestmark = pytest.mark.slow

SBID = "e2e01"
BOOK = "Territórios e desenvolvimento: diálogos interdisciplinares"
DC = "{http://purl.org/dc/elements/1.1/}"


def _chapter(tmp: Path, order: int, licence: str, damage: str, seed: int) -> Path:
    path = tmp / f"ch{order:02d}-{seed}.pdf"
    make_chapter(
        path,
        f"Capítulo {order} sobre o território",
        book_title=BOOK,
        licence=licence,
        pages=(40, 52),
        isbn="978-85-232-1234-6",
        scanned_pages=2,
        damage=damage,
        seed=seed,
    )
    return path


@pytest.fixture
def book(scielo_catalogue: SampleCatalogue, tmp_path: Path) -> SampleCatalogue:
    add_book(scielo_catalogue, SBID, title=BOOK)
    chapters = [(1, "by-nc-sa/3.0", "heavy"), (2, "by-nc-nd/3.0", "light")]
    for order, licence, damage in chapters:
        pdf = _chapter(tmp_path, order, licence, damage, seed=order)
        title = f"Capítulo {order} sobre o território"
        add_chapter(scielo_catalogue, SBID, pdf, title, order=order)
    encrypted = make_encrypted_pdf(tmp_path / "enc.pdf", user_password="secret")
    scielo_catalogue.add_chapter(SBID, 3, title="Cifrado", pdf_path=encrypted)
    scielo_catalogue.add_chapter(SBID, 4, title="Sumido", pdf_path=encrypted)
    return scielo_catalogue


def _download(client: Any, bucket: str, prefix: str, dest: Path) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix) :]
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, obj["Key"], str(target))


def test_ingest_end_to_end(
    book: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    prefect_api_url: str,
    tmp_path: Path,
) -> None:
    env = cli_env(scielo_server, prefect_api_url)
    settings = seaweed_settings
    bucket, prefix = settings.s3_bucket, settings.s3_prefix
    admin = seaweed.client("admin")
    refs = [
        f"scielo-books:{SBID}/01",
        f"{scielo_server.base_url}/id/{SBID}/02",
        f"scielo-books:{SBID}/03",
        f"scielo-books:{SBID}/09",
        f"scielo-books:{SBID}/04",
    ]
    # chapter 04 is in the table of contents, but its PDF answers 404
    scielo_server.inject(book.books[SBID].chapter_pdf_path("04"), status=404, times=1000)

    first = run_cli(env, "ingest", *refs)
    results = json_lines(first)
    assert first.returncode == 1, first.stderr  # 03, 09 and 04 failed
    assert [r["id"] for r in results] == [
        f"scielo-books-{SBID}-01",
        f"scielo-books-{SBID}-02",
        f"scielo-books-{SBID}-03",
        f"scielo-books-{SBID}-09",
        f"scielo-books-{SBID}-04",
    ]
    ok, review, encrypted, missing, gone = results
    assert ok["state"] == "deposited", ok
    assert ok["licence"] == "https://creativecommons.org/licenses/by-nc-sa/3.0/"
    assert ok["bag"] == f"s3://{bucket}/{prefix}/scielo-books-{SBID}-01/v1/"
    assert ok["version"] == 1 and ok["reasons"] == []
    assert review["state"] == "needs_review" and review["bag"] is None
    assert any("BY-NC-ND" in r for r in review["reasons"])
    assert encrypted["state"] == "failed" and "encrypted" in encrypted["reasons"][0]
    assert missing["state"] == "failed" and "no chapter 09" in missing["reasons"][0]
    assert gone["state"] == "failed" and "HTTP 404" in gone["reasons"][0]

    # the stored AIP: a valid bag (bagit-python and our profile), valid METS and DC
    aip = tmp_path / "aip"
    _download(admin, bucket, f"{prefix}/scielo-books-{SBID}-01/v1/", aip)
    assert (aip / "deposit-receipt.json").is_file()
    (aip / "deposit-receipt.json").unlink()  # the commit marker is not part of the bag
    bagit.Bag(str(aip)).validate()
    report = validate_bag(aip)
    assert report.valid, report.errors
    validate_mets((aip / "data" / "mets.xml").read_bytes())
    dc_bytes = (aip / "data" / "dc.xml").read_bytes()
    validate_dc(dc_bytes)
    dc = etree.fromstring(dc_bytes)

    def values(name: str) -> list[str]:
        return [e.text or "" for e in dc.iter(f"{DC}{name}")]

    assert values("title") == ["Capítulo 1 sobre o território"]
    assert any("SOUZA" in c.upper() for c in values("creator"))
    assert f"urn:isbn:{ISBN}" in values("relation") + values("identifier")
    assert "pp. 40-52" in values("format")
    assert values("language") == ["por"]
    assert "https://creativecommons.org/licenses/by-nc-sa/3.0/" in values("rights")
    # heavy damage: the kept text of the scanned pages came from fresh OCR
    ocr_report = json.loads((aip / "data" / "ocr" / "ocr-report.json").read_text())
    assert ocr_report["decisions"].get("fresh-ocr", 0) >= 1
    assert ocr_report["decisions"].get("born-digital") == 1
    # nothing of the held item is in the bucket
    assert versions_by_key(admin, bucket, f"{prefix}/scielo-books-{SBID}-02/") == {}

    # the catalogue has the item, its checksums and its events
    catalogue = Catalogue.open(settings.effective_database_url)
    item = catalogue.get_item(f"scielo-books-{SBID}-01")
    assert item is not None and item.state == "deposited"
    files = catalogue.files(item.id, 1)
    original = next(f for f in files if f.role == "original")
    assert original.sha256 and original.puid and original.s3_version_id
    kinds = {e.event_type for e in catalogue.events(item.id)}
    assert {
        "capture",
        "message digest calculation",
        "format identification",
        "transcription",
        "validation",
        "metadata creation",
        "packing",
        "replication",
        "fixity check",
    } <= kinds
    failed = catalogue.get_item(f"scielo-books-{SBID}-09")
    assert failed is not None and failed.state == "failed" and failed.reasons
    catalogue.close()

    # the same command again changes nothing in the bucket
    before = versions_by_key(admin, bucket, f"{prefix}/")
    scielo_server.clear_requests()
    again = json_lines(run_cli(env, "ingest", refs[0], refs[1]))
    assert [r["state"] for r in again] == ["deposited", "needs_review"]
    assert [r["version"] for r in again] == [1, 1]
    assert again[0]["licence_outcome"] == "valid"
    assert again[1]["licence_outcome"] == "needs_review"
    assert versions_by_key(admin, bucket, f"{prefix}/") == before
    # the re-run asked for the PDF conditionally (ETag kept from the first fetch)
    pdf_requests = scielo_server.requests_for(book.books[SBID].chapter_pdf_path("01"))
    assert pdf_requests and all("if-none-match" in r.headers for r in pdf_requests)

    # a changed PDF becomes version 2; version 1 stays as it was
    book.add_chapter(
        SBID,
        1,
        title="Capítulo 1 sobre o território",
        creators=[("individual_author", "Souza, Helena Martins")],
        pages=("40", "52"),
        pdf_path=_chapter(tmp_path, 1, "by-nc-sa/3.0", "heavy", seed=99),
        text_language="pt",
    )
    changed = json_lines(run_cli(env, "ingest", refs[0]))[0]
    assert changed["state"] == "deposited" and changed["version"] == 2
    assert changed["bag"] == f"s3://{bucket}/{prefix}/scielo-books-{SBID}-01/v2/"
    after = versions_by_key(admin, bucket, f"{prefix}/scielo-books-{SBID}-01/v1/")
    v1 = f"{prefix}/scielo-books-{SBID}-01/v1/"
    assert after == {key: ids for key, ids in before.items() if key.startswith(v1)}


def test_usage_errors_exit_2_without_running_anything(home: Path) -> None:
    env = {**os.environ, "ARCHIVE_INGEST_HOME": str(home)}
    bad = run_cli(env, "ingest", "scielo-books:ok1/01", "not-a-ref")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "unknown item reference 'not-a-ref'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (home / "catalogue.sqlite3").exists()

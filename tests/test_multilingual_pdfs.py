"""Articles the publisher lists in several languages: the PDF in the document's own language
is the original, the others are ``translation`` files of the same AIP (ingest/fetch.py).

Real parts: the local SciELO server serving an ArticleMeta document whose ``fulltexts`` name a
PDF in pt, en and es (original pt), the whole pipeline in process (real OCR tools, real
SeaweedFS). Checked: all three in the catalogue, the bag (payload and manifest, valid against
the project's profile), the stored objects, the METS (valid against the XSDs and the METS
profile: fileGrp ``translation``, each file's language) and PREMIS (capture and digest events
per file); the same PDFs again = unchanged; one translation changed = a new version; a
translation the server does not have = the version held for review with the reason, a failed
capture event recorded, nothing deposited.
"""

from __future__ import annotations

import hashlib
import json
import signal
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from archive_ingest.bag import validate_bag
from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import PackageError
from archive_ingest.ingest.checkpoints import FetchCheckpoint
from archive_ingest.ingest.checkpoints import load as load_checkpoint
from archive_ingest.ingest.fetch import pdf_languages
from archive_ingest.ingest.services import Services
from archive_ingest.ingest.versioning import MISSING, fingerprint
from archive_ingest.models import FileInfo
from archive_ingest.records import build_mets
from archive_ingest.records.validate import check_mets_profile, validate_mets
from archive_ingest.records.xmlutil import METS_NS, PREMIS_NS
from archive_ingest.reliability.crashpoints import CRASH_ENV
from archive_ingest.review import actions
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from archive_ingest_demo.scielo_sample.catalogue import pdf_path_for
from tests.support.bag import digests_of
from tests.support.cli import cli_env, run_cli
from tests.support.pipeline import ingest_in_process
from tests.support.records import chapter_description, chapter_files, chapter_record
from tests.support.review import make_user
from tests.support.s3 import assert_one_complete_aip, object_versions

CC_BY = "This article is licensed under a Creative Commons Attribution 4.0 International License."
NS = {"mets": METS_NS, "premis": PREMIS_NS}
LANGS = ("pt", "en", "es")


def rid(pid: str) -> str:
    return f"scielo-scl-{pid}".lower()


def add_article(
    cat: SampleCatalogue, pid: str, make_pdf: Callable[..., bytes], served: tuple[str, ...]
) -> dict[str, bytes]:
    """An article in pt (original), en and es, whose site serves the PDFs in ``served``."""
    n = pid[-3:]
    titles = {
        "pt": f"Artigo de amostra {n} sobre bacias hidrográficas",
        "en": f"Sample article {n} on river basins",
        "es": f"Artículo de muestra {n} sobre cuencas",
    }
    pdfs = {
        lang: make_pdf(
            titles[lang],
            "Gomes, Caio; Peressin, Alexandre",
            *(CC_BY[i : i + 80] for i in range(0, len(CC_BY), 80)),
        )
        for lang in LANGS
    }
    cat.add_article(
        "scl",
        pid,
        titles=titles,
        original_language="pt",
        fulltext_languages=list(LANGS),
        doi=f"10.1590/{pid}",
        file_code=f"a{n}v23n3",
        license="by/4.0",
        pdfs={lang: pdfs[lang] for lang in served},
    )
    return pdfs


def one(element: etree._Element, path: str) -> etree._Element:
    found = element.find(path, NS)
    assert found is not None, path
    return found


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fingerprint_without_translations_is_the_one_versions_already_hold() -> None:
    """No mass re-version: a book or a one-language article keeps its fingerprint; each
    translation's content (or its absence) changes it."""
    record = chapter_record()
    plain = fingerprint(record, "a" * 64)
    assert fingerprint(record, "a" * 64, translations={}) == plain
    with_es = fingerprint(record, "a" * 64, translations={"es": "b" * 64})
    assert len({plain, with_es, fingerprint(record, "a" * 64, translations={"es": "c" * 64})}) == 3
    assert fingerprint(record, "a" * 64, translations={"es": MISSING}) != with_es


def test_the_original_is_the_pdf_in_the_original_language_else_the_first_by_code() -> None:
    base = chapter_record(languages=["pt", "es", "en"])
    urls = {lang: f"http://127.0.0.1:1/{lang}.pdf" for lang in ("es", "pt", "en")}
    record = base.model_copy(update={"pdf_urls": urls})
    assert record.primary_pdf_url() == urls["pt"]
    assert pdf_languages(record) == ("pt", ["es", "en"])  # the record's order, then by code
    without = base.model_copy(update={"pdf_urls": {"es": urls["es"], "en": urls["en"]}})
    assert without.primary_pdf_url() == urls["en"]  # no pt PDF: the first by code
    assert pdf_languages(without) == ("en", ["es"])
    same = base.model_copy(update={"pdf_urls": {"pt": urls["pt"], "en": urls["pt"]}})
    assert pdf_languages(same) == ("pt", [])  # one URL under two languages: fetched once


def test_a_translation_outside_its_language_folder_is_refused() -> None:
    translation = FileInfo(
        role="translation",
        path="translation/es_x.pdf",  # no language folder
        digests=digests_of(b"%PDF-1.4 es"),
        media_type="application/pdf",
        puid="fmt/18",
    )
    desc = chapter_description(files=[*chapter_files(), translation])
    with pytest.raises(PackageError, match="translation/<language>/<name>"):
        build_mets(desc)
    good = translation.model_copy(update={"path": "translation/es/es_x.pdf"})
    mets = etree.fromstring(build_mets(chapter_description(files=[*chapter_files(), good])))
    [file_el] = mets.findall("mets:fileSec/mets:fileGrp[@USE='translation']/mets:file", NS)
    assert file_el.get("ID") == "file-translation-es"


def test_three_languages_deposited_then_one_changed_is_a_new_version(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    make_pdf: Callable[..., bytes],
) -> None:
    pid = "S0102-311X2024000100011"
    pdfs = add_article(scielo_catalogue, pid, make_pdf, LANGS)
    settings = seaweed_settings.model_copy(update=scielo_server.settings_overrides())
    ref = f"scielo-article:scl/{pid}"

    first = ingest_in_process(settings, ref)
    assert (first.state, first.version) == ("deposited", 1), first.reasons
    record_id = rid(pid)

    cat = Catalogue.open(settings.effective_database_url)
    try:
        files = {f.path: f for f in cat.files(record_id, 1)}
        by_role: dict[str, list[str]] = {}
        for path, row in files.items():
            by_role.setdefault(row.role, []).append(path)
        # the original is the Portuguese PDF, the others are translations by language
        [original] = by_role["original"]
        assert files[original].sha256 == sha(pdfs["pt"])
        translations = sorted(by_role["translation"])
        assert [p.split("/")[1] for p in translations] == ["en", "es"]
        assert [files[p].sha256 for p in translations] == [sha(pdfs["en"]), sha(pdfs["es"])]
        assert all((files[p].puid or "").startswith("fmt/") for p in translations)
        # every file of the version is stored; the translations with the rest
        assert all(files[p].s3_key for p in [original, *translations])
        events = cat.events(record_id, 1)
    finally:
        cat.close()

    captures = [e for e in events if e.event_type == "capture"]
    assert [e.outcome_detail.get("language") for e in captures] == ["pt", "en", "es"]
    assert [e.object_roles for e in captures] == [
        ["original"],
        [translations[0]],
        [translations[1]],
    ]
    digest_events = [e for e in events if e.event_type == "message digest calculation"]
    assert [e.outcome_detail["sha256"] for e in digest_events] == [
        sha(pdfs["pt"]),
        sha(pdfs["en"]),
        sha(pdfs["es"]),
    ]
    # OCR and inspection concern the original only
    assert all(e.object_roles == ["original"] for e in events if e.event_type == "validation")

    # the bag: payload and manifest hold the three PDFs, and it is valid against the profile
    svc = Services.open(settings)
    try:
        ws = svc.workspace(record_id)
    finally:
        svc.close()
    bag = ws.bag_dir(1)
    manifest = (bag / "manifest-sha256.txt").read_text("utf-8")
    for lang, path in zip(("en", "es"), translations, strict=True):
        assert f"{sha(pdfs[lang])}  data/{path}" in manifest
        assert (bag / "data" / path).read_bytes() == pdfs[lang]
    report = validate_bag(bag)
    assert report.valid, report.errors

    # the stored AIP holds them
    admin = seaweed.client("admin")
    keys = {v["Key"] for v in object_versions(admin, settings.s3_bucket, settings.s3_prefix)}
    for path in translations:
        assert any(k.endswith(f"/v1/data/{path}") for k in keys), path

    # METS: valid, a translation fileGrp, each file with its language in PREMIS
    mets_xml = (bag / "data" / "mets.xml").read_bytes()
    validate_mets(mets_xml)
    assert check_mets_profile(mets_xml) == []
    mets = etree.fromstring(mets_xml)
    group = mets.find("mets:fileSec/mets:fileGrp[@USE='translation']", NS)
    assert group is not None
    ids = [f.get("ID") for f in group.findall("mets:file", NS)]
    assert ids == ["file-translation-en", "file-translation-es"]
    for file_el in group.findall("mets:file", NS):
        href = one(file_el, "mets:FLocat").get("{http://www.w3.org/1999/xlink}href", "")
        lang = href.split("/")[1]
        assert file_el.get("CHECKSUM") == sha(pdfs[lang])
        tech_id = file_el.get("ADMID", "").split()[0]
        obj = one(mets, f".//mets:techMD[@ID='{tech_id}']//premis:object")
        language = "premis:significantProperties/premis:significantPropertiesValue"
        assert obj.findtext(language, namespaces=NS) == lang
        name = obj.findtext("premis:originalName", namespaces=NS) or ""
        assert name.endswith(f"/{lang}_a011v23n3.pdf"), name
    original_obj = one(mets, ".//mets:techMD[@ID='tech-original-1']//premis:object")
    assert original_obj.findtext(".//premis:significantPropertiesValue", namespaces=NS) == "pt"
    logical = one(mets, "mets:structMap[@TYPE='logical']//mets:div[@ID='log-item']")
    assert {"file-translation-en", "file-translation-es"} <= {
        f.get("FILEID") for f in logical.findall("mets:fptr", NS)
    }

    # the same PDFs again: unchanged, no new version (conditional requests for all three)
    article = scielo_catalogue.article("scl", pid)
    assert article is not None
    pdf_paths = {lang: pdf_path_for(article.document, lang) for lang in LANGS}
    scielo_server.clear_requests()
    again = ingest_in_process(settings, ref)
    assert (again.state, again.version) == ("deposited", 1), again.reasons
    for lang in LANGS:
        asked = scielo_server.requests_for(pdf_paths[lang])
        assert asked and all("if-none-match" in r.headers for r in asked), (lang, asked)

    # one translation changed: a new version holding the new bytes
    es_path = pdf_paths["es"]
    new_es = make_pdf(
        "Artículo corregido", "Gomes, Caio", *(CC_BY[i : i + 80] for i in range(0, len(CC_BY), 80))
    )
    article.pdfs[es_path] = new_es
    changed = ingest_in_process(settings, ref)
    assert (changed.state, changed.version) == ("deposited", 2), changed.reasons
    cat = Catalogue.open(settings.effective_database_url)
    try:
        v2 = {
            f.path: f.sha256
            for f in cat.files(record_id, 2)
            if f.role in ("original", "translation")
        }
    finally:
        cat.close()
    assert sorted(v2.values()) == sorted([sha(pdfs["pt"]), sha(pdfs["en"]), sha(new_es)])


def test_a_translation_the_site_lacks_holds_the_version_for_review(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    make_pdf: Callable[..., bytes],
) -> None:
    pid = "S0102-311X2024000100012"
    add_article(scielo_catalogue, pid, make_pdf, ("pt", "en"))  # es listed, not served: 404
    settings = seaweed_settings.model_copy(update=scielo_server.settings_overrides())
    ref = f"scielo-article:scl/{pid}"
    result = ingest_in_process(settings, ref)
    assert result.state == "needs_review", result
    [reason] = [r for r in result.reasons if r.startswith("fetch:")]
    assert "translation in es" in reason and "404" in reason, reason

    record_id = rid(pid)
    cat = Catalogue.open(settings.effective_database_url)
    try:
        item = cat.get_item(record_id)
        assert item is not None and item.deposited_version is None
        roles = sorted(
            f.role for f in cat.files(record_id, 1) if f.role in ("original", "translation")
        )
        events = cat.events(record_id, 1)
    finally:
        cat.close()
    assert roles == ["original", "translation"]
    failed = [e for e in events if e.event_type == "capture" and e.outcome == "failure"]
    assert len(failed) == 1 and failed[0].outcome_detail["language"] == "es"
    assert failed[0].object_roles == ["package"]

    svc = Services.open(settings)
    try:
        ws = svc.workspace(record_id)
    finally:
        svc.close()
    fetched = load_checkpoint(ws, 1, FetchCheckpoint)
    assert fetched is not None
    assert [(m.language, m.role) for m in fetched.missing] == [("es", "translation")]
    # the failed capture is in the METS, linked to the package (the item), never hidden
    mets = etree.fromstring((ws.data_dir(1) / "mets.xml").read_bytes())
    failures = [
        e
        for e in mets.iterfind(".//premis:event", NS)
        if e.findtext("premis:eventType", namespaces=NS) == "capture"
        and e.findtext(".//premis:eventOutcome", namespaces=NS) == "failure"
    ]
    assert len(failures) == 1

    # still missing on a re-run: the held version is the same content (no new version)
    again = ingest_in_process(settings, ref)
    assert (again.state, again.version) == ("needs_review", 1), again
    # an archivist accepts it without: deposited, the failure and the decision on record
    svc = Services.open(settings)
    try:
        done = actions.approve(svc, record_id, make_user(settings), "es PDF gone from the site")
        approval = [e for e in svc.catalogue.events(record_id, 1) if e.agent_type == "person"]
    finally:
        svc.close()
    assert (done.state, done.version) == ("deposited", 1)
    assert [r for r in approval[-1].outcome_detail["accepted_reasons"] if r.startswith("fetch:")]
    mets = etree.fromstring((ws.data_dir(1) / "mets.xml").read_bytes())
    assert [
        e
        for e in mets.iterfind(".//premis:event", NS)
        if e.findtext(".//premis:eventOutcome", namespaces=NS) == "failure"
    ]

    # the site publishes it: a new version with all three, deposited
    article = scielo_catalogue.article("scl", pid)
    assert article is not None
    article.pdfs[pdf_path_for(article.document, "es")] = make_pdf(
        "Artículo", "Gomes, Caio", *(CC_BY[i : i + 80] for i in range(0, len(CC_BY), 80))
    )
    fixed = ingest_in_process(settings, ref)
    assert (fixed.state, fixed.version) == ("deposited", 2), fixed.reasons


@pytest.mark.slow
def test_killed_between_two_downloads_the_rerun_keeps_each_file_once(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    prefect_api_url: str,
    make_pdf: Callable[..., bytes],
) -> None:
    """SIGKILL inside the third download (the original and the en PDF are on disk, the es one
    half written), then the same command again: one version, each PDF once everywhere."""
    pid = "S0102-311X2024000100013"
    pdfs = add_article(scielo_catalogue, pid, make_pdf, LANGS)
    ref = f"scielo-article:scl/{pid}"
    record_id = rid(pid)
    # one block per tiny PDF: the third hit is inside the es translation's download
    killed = run_cli(
        cli_env(scielo_server, prefect_api_url, **{CRASH_ENV: "mid-download:3"}), "ingest", ref
    )
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    svc = Services.open(seaweed_settings)
    try:
        ws = svc.workspace(record_id)
    finally:
        svc.close()
    left = sorted(p.name for p in (ws.incoming / "translation").rglob("*") if p.is_file())
    assert left == ["en_a013v23n3.pdf", "es_a013v23n3.pdf.part"], left

    rerun = run_cli(cli_env(scielo_server, prefect_api_url), "ingest", ref)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    result = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert (result["state"], result["version"]) == ("deposited", 1), result

    assert_one_complete_aip(seaweed.client("admin"), seaweed_settings, record_id)
    cat = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        rows = [f for f in cat.files(record_id, 1) if f.role in ("original", "translation")]
        captures = [e for e in cat.events(record_id, 1) if e.event_type == "capture"]
    finally:
        cat.close()
    assert sorted(r.sha256 for r in rows) == sorted(sha(b) for b in pdfs.values())
    assert len(captures) == 3
    manifest = (ws.bag_dir(1) / "manifest-sha256.txt").read_text("utf-8").splitlines()
    pdf_lines = [line for line in manifest if line.endswith(".pdf")]
    assert len(pdf_lines) == len(set(pdf_lines)) >= 3
    assert not (ws.incoming / "translation").exists() or not any(
        p.is_file() for p in (ws.incoming / "translation").rglob("*")
    )

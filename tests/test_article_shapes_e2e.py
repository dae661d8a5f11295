"""The other shapes SciELO publishes, end to end: ahead of print, a press release, an erratum, a
supplement article, an older-shape document, and journal licences as a bare code and a code
with its version.

Each is an ArticleMeta document built by the sample's ``articlemeta_document`` (not one of the
ten real records), served by the local SciELO server with its PDF at the path the journal site
serves it (the older shape's at the classic path, one scan so that OCR runs). ONE
``archive-ingest ingest --concurrency 2`` command ingests all seven through a real Prefect
server, real OCR and a real SeaweedFS; the tests read its result lines, the stored ``dc.xml``
and ``mets.xml`` (METS validated against the XSDs and the profile) and the oai_openaire record
the deposit published for harvesters.

What ArticleMeta says of an erratum's corrected article: nothing xylose reads (no field of the
article record names it), so the erratum's record relates to its journal only.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import Relation
from archive_ingest.oai.tables import OaiRecord
from archive_ingest.records import build_dc, build_mets, validate_dc, validate_mets
from archive_ingest.records.openaire import openaire_errors
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from archive_ingest_demo.scielo_sample.articlemeta import articlemeta_document
from archive_ingest_demo.scielo_sample.real_records import RealRecord, site_pdf_paths
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.real_records import PdfSpec, make_article_pdf
from tests.support.records import chapter_description, chapter_record

DC = "{http://purl.org/dc/elements/1.1/}"
DCTERMS = "{http://purl.org/dc/terms/}"
MODS = "{http://www.loc.gov/mods/v3}"
OAIRE = "{http://namespace.openaire.eu/schema/oaire/}"
DATACITE = "{http://datacite.org/schema/kernel-4}"
EU = "info:eu-repo/semantics/"
COAR = "http://purl.org/coar/resource_type/"
BY = "https://creativecommons.org/licenses/by/4.0/"
BY_NC = "https://creativecommons.org/licenses/by-nc/4.0/"
JOURNAL = "Acta Limnologica Brasiliensia"


@dataclass(frozen=True)
class Shape:
    """One document to serve, and what its deposit must say.

    ``options`` go to ``articlemeta_document``; ``driver``/``coar`` the DRIVER type (after
    ``info:eu-repo/semantics/``) and the COAR (code, label); ``issue`` the journal issue as the
    records name it (None: no volume and no issue); ``pages`` the page range (None: none)."""

    pid: str
    options: dict[str, Any]
    driver: str
    coar: tuple[str, str]
    date: str
    licence: str
    issue: str | None
    pages: tuple[str, str] | None
    scanned: bool = False
    statement: str | None = None
    volume: str | None = "23"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def record_id(self) -> str:
        return f"scielo-scl-{self.pid}".lower()


ARTICLE = ("c_6501", "journal article")
OTHER = ("c_1843", "other")

SHAPES: dict[str, Shape] = {
    # not yet in an issue: v32 "ahead", label 2024nahead, no volume or pages; the article's own
    # date (v223), not the placeholder issue year (v65 20240000)
    "ahead": Shape(
        "S2179-975X2024005000001",
        {
            "ahead_of_print": True,
            "publication_date": "20240000",
            "document_date": "20240315",
            "doi": "10.1590/2179-975X1234",
            "file_code": "a01ahead",
        },
        "article",
        ARTICLE,
        "2024-03-15",
        BY,
        None,
        None,
        volume=None,
    ),
    # v71 pr: a press release is a publication of the journal; COAR 1.1 has no press release
    "press-release": Shape(
        "S2179-975X2011000300010",
        {
            "document_type": "pr",
            "titles": {"en": "Press release: a loach in the Ribeira de Iguape River"},
            "pages": None,
            "doi": None,
            "file_code": "pr01v23n3",
        },
        "other",
        OTHER,
        "2011-09",
        BY,
        "3",
        None,
    ),
    # v71 er: an erratum corrects an article of the journal and is published as such
    "erratum": Shape(
        "S2179-975X2011000300011",
        {
            "document_type": "er",
            "titles": {"en": "Erratum"},
            "pages": ("240", "240"),
            "doi": "10.1590/S2179-975X2011000300011",
            "file_code": "er01v23n3",
        },
        "other",
        OTHER,
        "2011-09",
        BY,
        "3",
        ("240", "240"),
    ),
    # v132 1: the number's first supplement, label v23n3s1
    "supplement": Shape(
        "S2179-975X2011000700005",
        {
            "supplement_number": "1",
            "pages": ("41", "48"),
            "doi": "10.1590/S2179-975X2011000700005",
            "file_code": "a05v23n3s1",
        },
        "article",
        ARTICLE,
        "2011-09",
        BY,
        "3 suppl 1",
        ("41", "48"),
    ),
    # no top-level code, collection, doi, fulltexts or issue: PID from v880, the PDF at the
    # classic path; the journal's bare v541 BY; a scan, so OCR runs
    "older": Shape(
        "S2179-975X2007000300020",
        {
            "older_shape": True,
            "license": None,
            "journal_v541": "BY",
            "publication_date": "20070000",
            "volume": "19",
            "doi": None,
            "file_code": "a20v19n3",
        },
        "article",
        ARTICLE,
        "2007",
        BY,
        "3",
        ("229", "232"),
        scanned=True,
        volume="19",
    ),
    # no article licence: the journal's bare code is SciELO's current version, 4.0
    "journal-bare-code": Shape(
        "S2179-975X2011000300003",
        {
            "license": None,
            "journal_v541": "BY-NC",
            "doi": "10.1590/S2179-975X2011000300003",
            "file_code": "a03v23n3",
        },
        "article",
        ARTICLE,
        "2011-09",
        BY_NC,
        "3",
        ("229", "232"),
        statement="by-nc/4.0",
    ),
    # the journal's code with its version: kept as written (never .../4.0/4.0/)
    "journal-versioned-code": Shape(
        "S2179-975X2011000300004",
        {
            "license": None,
            "journal_v541": "BY/4.0",
            "doi": "10.1590/S2179-975X2011000300004",
            "file_code": "a04v23n3",
        },
        "article",
        ARTICLE,
        "2011-09",
        BY,
        "3",
        ("229", "232"),
        statement="by/4.0",
    ),
}


@dataclass
class Run:
    results: dict[str, dict[str, Any]]
    #: record id -> stored file (path under the version) -> bytes: data/dc.xml, data/mets.xml
    stored: dict[str, dict[str, bytes]]
    #: record id -> its published oai_openaire record (None: not published)
    openaire: dict[str, bytes | None]
    seconds: float
    stderr: str


def _document(shape: Shape) -> dict[str, Any]:
    return articlemeta_document(collection="scl", pid=shape.pid, **shape.options)


def add_shapes(catalogue: SampleCatalogue, folder: Path) -> None:
    for seed, shape in enumerate(SHAPES.values()):
        record = RealRecord("scl", shape.pid, _document(shape), folder / f"{shape.pid}.json")
        spec = PdfSpec(scanned=shape.scanned, statement=shape.statement)
        pdfs = {
            lang: make_article_pdf(
                folder / f"{record.record_id}-{lang}.pdf", record, lang, spec, seed
            )
            for lang in site_pdf_paths(record.document)
        }
        catalogue.add_real_record(record, pdfs=pdfs)


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, seaweed: Any, prefect_api_url: str
) -> Iterator[Run]:
    """ONE ``ingest --concurrency 2`` of the seven, on a HOME and a key prefix of its own."""
    tmp = tmp_path_factory.mktemp("article-shapes")
    home = tmp / "home"
    home.mkdir()
    catalogue = SampleCatalogue()
    add_shapes(catalogue, tmp)
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    creds = seaweed.credentials.ingest
    database = f"sqlite:///{home / 'catalogue.sqlite3'}"
    with SampleScieloServer(catalogue) as server:
        env = {
            k: v
            for k, v in cli_env(server, prefect_api_url).items()
            if not k.startswith(("AWS_", "ARCHIVE_INGEST_S3_", "ARCHIVE_INGEST_DATABASE_URL"))
        }
        env.update(
            {
                "ARCHIVE_INGEST_HOME": str(home),
                "ARCHIVE_INGEST_CONFIG": str(tmp / "absent-config.toml"),
                "ARCHIVE_INGEST_DATABASE_URL": database,
                "ARCHIVE_INGEST_S3_ENDPOINT_URL": seaweed.endpoint,
                "ARCHIVE_INGEST_S3_BUCKET": seaweed.bucket,
                "ARCHIVE_INGEST_S3_PREFIX": prefix,
                "ARCHIVE_INGEST_S3_OBJECT_LOCK_MODE": "GOVERNANCE",
                "ARCHIVE_INGEST_S3_OBJECT_LOCK_DAYS": "1",
                "AWS_ACCESS_KEY_ID": creds.access_key_id,
                "AWS_SECRET_ACCESS_KEY": creds.secret_access_key.get_secret_value(),
                "AWS_CONFIG_FILE": str(tmp / "absent-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "absent-aws-credentials"),
            }
        )
        refs = [f"scielo-article:scl/{shape.pid}" for shape in SHAPES.values()]
        started = time.monotonic()
        proc = run_cli(env, "ingest", "--concurrency", "2", *refs)
        seconds = time.monotonic() - started
    results = {line["id"]: line for line in json_lines(proc)}
    admin = seaweed.client("admin")
    stored: dict[str, dict[str, bytes]] = {}
    for shape in SHAPES.values():
        rid = shape.record_id
        stored[rid] = {}
        if results.get(rid, {}).get("state") != "deposited":
            continue
        for name in ("data/dc.xml", "data/mets.xml", "data/ocr/ocr-report.json"):
            key = f"{prefix}/{rid}/v1/{name}"
            stored[rid][name] = admin.get_object(Bucket=seaweed.bucket, Key=key)["Body"].read()
    openaire: dict[str, bytes | None] = {}
    cat = Catalogue.open(database)
    try:
        with cat.session() as session:
            for shape in SHAPES.values():
                row = session.get(OaiRecord, shape.record_id)
                openaire[shape.record_id] = None if row is None else row.openaire_xml
    finally:
        cat.close()
    print(f"article shapes: one ingest of {len(SHAPES)} took {seconds:.1f} s")
    yield Run(results, stored, openaire, seconds, proc.stderr)


def values(xml: bytes, tag: str) -> list[str]:
    return [e.text or "" for e in etree.fromstring(xml).iter(tag)]


@pytest.mark.parametrize(
    ("document_type", "coar"),
    [
        (None, ARTICLE),
        ("research-article", ARTICLE),
        ("undefined", ARTICLE),  # COAR has no narrower term: the source kind's
        ("correction", OTHER),
        ("press-release", OTHER),
        ("editorial", ("c_b239", "editorial")),
        ("review-article", ("c_dcae04bc", "review article")),
    ],
)
def test_the_coar_type_follows_the_document_type_in_every_record(
    document_type: str | None, coar: tuple[str, str]
) -> None:
    """dc.xml's COAR label, the METS' COAR URI (qualified DC) and MODS genre say what
    oai_openaire says: an erratum is "other", not a "journal article"."""
    record = chapter_record(source_kind="scielo-article", document_type=document_type)
    desc = chapter_description(record=record)
    dc = build_dc(desc)
    assert values(dc, f"{DC}type")[:2] == ["Text", coar[1]]
    mets = etree.fromstring(build_mets(desc))
    assert [e.text for e in mets.iter(f"{DCTERMS}type")] == ["Text", COAR + coar[0]]
    [genre] = mets.iter(f"{MODS}genre")
    assert (genre.text, genre.get("valueURI")) == (coar[1], COAR + coar[0])


@pytest.mark.parametrize(
    ("volume", "issue", "where"),
    [
        ("23", "3 suppl 1", f"In: {JOURNAL}, v. 23, n. 3 suppl 1."),
        ("23", "3", f"In: {JOURNAL}, v. 23, n. 3."),
        ("23", None, f"In: {JOURNAL}, v. 23."),
        (None, None, f"In: {JOURNAL}."),  # ahead of print: no issue yet
    ],
)
def test_the_citation_names_the_volume_and_issue(
    volume: str | None, issue: str | None, where: str
) -> None:
    """A supplement article's citation says which supplement, not only which journal."""
    journal = Relation(title=JOURNAL, kind="journal-issue", volume=volume, issue=issue)
    record = chapter_record(source_kind="scielo-article", is_part_of=journal)
    mets = etree.fromstring(build_mets(chapter_description(record=record)))
    [citation] = [e.text or "" for e in mets.iter(f"{DCTERMS}bibliographicCitation")]
    assert f"{record.title}. {where} " in citation, citation


@pytest.mark.slow
def test_one_command_ingests_the_seven(run: Run) -> None:
    assert sorted(run.results) == sorted(s.record_id for s in SHAPES.values()), run.stderr[-4000:]
    assert run.seconds < 300, run.seconds


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_deposited_without_a_reason(run: Run, name: str) -> None:
    """Every shape is a publication of the journal: deposited, nothing for an archivist."""
    shape = SHAPES[name]
    result = run.results[shape.record_id]
    assert (result["state"], result["reasons"]) == ("deposited", []), result
    assert result["licence"] == shape.licence, result


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_stored_dublin_core(run: Run, name: str) -> None:
    shape = SHAPES[name]
    dc = run.stored[shape.record_id]["data/dc.xml"]
    validate_dc(dc)
    assert values(dc, f"{DC}type") == [
        "Text",
        shape.coar[1],
        EU + shape.driver,
        EU + "publishedVersion",
    ]
    assert values(dc, f"{DC}date") == [shape.date]
    # the extent beside the media type (its wording, "p. 240" or "pp. 41-48", is records/dc.py's)
    extent = [f for f in values(dc, f"{DC}format") if f != "application/pdf"]
    if shape.pages:
        [only] = extent
        assert only.startswith("p") and only.endswith(shape.pages[1]), only
        assert shape.pages[0] in only, only
    else:
        assert extent == []
    assert values(dc, f"{DC}rights")[0] == shape.licence
    identifiers = values(dc, f"{DC}identifier")
    assert f"SciELO PID: {shape.pid}" in identifiers
    doi = shape.options["doi"]
    dois = [i for i in identifiers if i.startswith("https://doi.org/")]
    assert dois == ([f"https://doi.org/{doi}"] if doi else [])
    # the journal is the one relation: the erratum's metadata names no corrected article
    assert values(dc, f"{DC}relation") == ["urn:issn:2179-975X"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_mets_validates_and_names_the_issue(run: Run, name: str) -> None:
    shape = SHAPES[name]
    mets = run.stored[shape.record_id]["data/mets.xml"]
    validate_mets(mets)
    root = etree.fromstring(mets)
    assert [e.text for e in root.iter(f"{DCTERMS}type")] == ["Text", COAR + shape.coar[0]]
    [host] = [h for h in root.iter(f"{MODS}relatedItem") if h.get("type") == "host"]
    details = {d.get("type"): d.findtext(f"{MODS}number") for d in host.iter(f"{MODS}detail")}
    want = {k: v for k, v in (("volume", shape.volume), ("issue", shape.issue)) if v}
    assert details == want
    [citation] = [e.text or "" for e in root.iter(f"{DCTERMS}bibliographicCitation")]
    if shape.issue:
        assert f"v. {shape.volume}, n. {shape.issue}" in citation, citation
    else:
        assert ", n. " not in citation and "v. " not in citation, citation


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_published_openaire_record(run: Run, name: str) -> None:
    shape = SHAPES[name]
    xml = run.openaire[shape.record_id]
    assert xml is not None
    assert openaire_errors(xml) == []
    root = etree.fromstring(xml)
    [kind] = root.iter(f"{OAIRE}resourceType")
    assert (kind.get("uri"), kind.text) == (COAR + shape.coar[0], shape.coar[1])
    assert [d.text for d in root.iter(f"{DATACITE}date")] == [shape.date]
    assert root.findtext(f"{OAIRE}citationTitle") == JOURNAL
    assert root.findtext(f"{OAIRE}citationVolume") == shape.volume
    assert root.findtext(f"{OAIRE}citationIssue") == shape.issue
    first = root.findtext(f"{OAIRE}citationStartPage")
    assert first == (shape.pages[0] if shape.pages else None)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_ocr_ran_on_the_scan_only(run: Run, name: str) -> None:
    shape = SHAPES[name]
    report = json.loads(run.stored[shape.record_id]["data/ocr/ocr-report.json"])
    if shape.scanned:
        assert report["decisions"].get("fresh-ocr") == 1, report["decisions"]
    else:
        assert "fresh-ocr" not in report["decisions"], report["decisions"]

"""OAI store (publish, withdraw, backfill; SQLite and PostgreSQL), sets, tokens and secrets."""

from __future__ import annotations

import datetime as dt
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import event, select

from archive_ingest.catalogue.schema import Item, Version
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.oai import queries, store
from archive_ingest.oai.protocol import OaiError, parse_request
from archive_ingest.oai.sets import record_sets, sets_from_catalogue, slug
from archive_ingest.oai.tables import OaiRecord, OaiRecordSet, OaiSet
from archive_ingest.oai.tokens import BadToken, TokenState, decode, encode, token_key
from archive_ingest.settings import Settings
from tests.support.oai import LICENCES, openaire_payload, payloads, spec

T0 = dt.datetime(2026, 2, 1, 10, 0, 0, tzinfo=dt.UTC)


def _item(session: object, record_id: str, state: str, deposited: int | None) -> None:
    session.add(  # type: ignore[attr-defined]
        Item(
            id=record_id,
            source=f"test:{record_id}",
            source_kind="scielo-books-chapter",
            state=state,
            reasons=[],
            licence_uri=LICENCES[0],
            current_version=1,
            deposited_version=deposited,
            created_at=T0,
            updated_at=T0,
        )
    )


def test_publish_is_idempotent_and_changes_restamp(database_url: str) -> None:
    catalogue = Catalogue.open(database_url)
    dc, mets = payloads("rec-a", LICENCES[0], "Editora Fiocruz")
    sets = record_sets(
        source_kind="scielo-article", licence_uri=LICENCES[0], publisher="Editora Fiocruz"
    )
    first = store.publish_record(catalogue, "rec-a", 1, dc, mets, sets, T0)
    again = store.publish_record(catalogue, "rec-a", 1, dc, mets, sets, T0 + dt.timedelta(1))
    assert again == first
    edited = dc.replace(b"Construindo", b"Construindo (rev.)")
    later = T0 + dt.timedelta(hours=2)
    assert store.publish_record(catalogue, "rec-a", 1, edited, mets, sets, later) > first
    with catalogue.session() as session:
        row = session.get(OaiRecord, "rec-a")
        assert row is not None and b"(rev.)" in row.dc_xml and not row.dc_xml.startswith(b"<?xml")
        stamps = set(session.scalars(select(OaiRecordSet.datestamp)))
        assert stamps == {row.datestamp}
    assert store.withdraw_record(catalogue, "rec-a", "taken down", later + dt.timedelta(1))
    assert not store.withdraw_record(catalogue, "never-published", "x")
    with catalogue.session() as session:
        row = session.get(OaiRecord, "rec-a")
        assert row is not None and row.deleted and row.reason == "taken down"
    catalogue.close()


def test_records_of_one_new_set_published_at_once(database_url: str) -> None:
    """Eight workers publish eight records of one new journal at the same moment, five times
    over (five new ``issn:`` sets): every publication commits and each set exists once. A
    read-then-insert of the set lost the race on PostgreSQL (a primary key conflict)."""
    catalogue = Catalogue.open(database_url)
    workers = 8
    try:
        for round_ in range(5):
            sets = record_sets(
                source_kind="scielo-article",
                licence_uri=LICENCES[0],
                publisher="Editora Fiocruz",
                collection="scl",
                issns=[f"1234-56{round_:02d}"],
                journal=f"Revista {round_}",
            )
            start = threading.Barrier(workers)

            def publish(
                n: int,
                sets: dict[str, str] = sets,
                round_: int = round_,
                start: threading.Barrier = start,
            ) -> int:
                record_id = f"race-{round_}-{n}"
                dc, mets = payloads(record_id, LICENCES[0], "Editora Fiocruz")
                start.wait(timeout=30)
                return store.publish_record(catalogue, record_id, 1, dc, mets, sets, T0)

            with ThreadPoolExecutor(workers) as pool:
                stamps = list(pool.map(publish, range(workers)))
            assert stamps == [store.to_epoch(T0)] * workers
            with catalogue.session() as session:
                issn = f"issn:1234-56{round_:02d}"
                assert queries.set_exists(session, issn)
                members = session.scalars(
                    select(OaiRecordSet.record_id).where(OaiRecordSet.set_spec == issn)
                )
                assert sorted(members) == sorted(f"race-{round_}-{n}" for n in range(workers))
        with catalogue.session() as session:
            specs = list(session.scalars(select(OaiSet.spec)))
            assert len(specs) == len(set(specs))
            assert {f"issn:1234-56{r:02d}" for r in range(5)} <= set(specs)
    finally:
        catalogue.close()


def test_new_sets_are_inserted_in_spec_order(database_url: str) -> None:
    """The multi-row INSERT of new sets lists them sorted by spec, whatever order the record's
    sets come in: two publications inserting the same new specs lock them in one order (in
    opposite orders they could deadlock on PostgreSQL)."""
    catalogue = Catalogue.open(database_url)
    inserted: list[str] = []
    specs = [f"publisher:order-{c}" for c in "dbca"]

    def seen(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        if "INSERT INTO oai_sets" in statement:
            values = params.values() if isinstance(params, dict) else params
            inserted.extend(v for v in values if v in specs)  # type: ignore[union-attr]

    event.listen(catalogue.engine, "before_cursor_execute", seen)
    try:
        dc, mets = payloads("rec-order", LICENCES[0], "Editora Fiocruz")
        sets = {s: s.upper() for s in specs}  # d, b, c, a
        store.publish_record(catalogue, "rec-order", 1, dc, mets, sets, T0)
        assert inserted == sorted(specs)
        with catalogue.session() as session:
            names = dict(session.execute(select(OaiSet.spec, OaiSet.name)).tuples().all())
        assert {s: names[s] for s in specs} == sets  # each spec kept its own name
    finally:
        event.remove(catalogue.engine, "before_cursor_execute", seen)
        catalogue.close()


def test_backfill_takes_a_record_out_of_driver_without_its_workspace(
    database_url: str, tmp_path: Path
) -> None:
    """An exposed record in ``driver`` whose stored oai_dc lacks the DRIVER values, and whose
    workspace is gone: backfill takes it out of ``driver`` from the stored oai_dc alone and
    re-stamps it (the record and its other sets); the payloads stay as they were."""
    catalogue = Catalogue.open(database_url)
    dc, mets = payloads("rec-gone", LICENCES[0], "Editora Fiocruz")
    root = etree.fromstring(dc)
    for node in list(root):
        if (node.text or "").startswith("info:eu-repo/semantics/"):
            root.remove(node)
    older_dc = etree.tostring(root, encoding="UTF-8")
    assert store.driver_ready(dc) and not store.driver_ready(older_dc)
    with catalogue.session() as session:
        _item(session, "rec-gone", "deposited", 1)
        session.flush()
        session.add(
            Version(
                item_id="rec-gone",
                version=1,
                state="deposited",
                reasons=[],
                record={"source_kind": spec(1).kind, "publisher": "Editora Fiocruz"},
                summary={},
                work_dir=str(tmp_path / "removed" / "rec-gone" / "v1"),  # never there
                created_at=T0,
                updated_at=T0,
            )
        )
    sets = {"openaire": "OpenAIRE", "driver": "Open Access DRIVERset", "source:x": "X"}
    openaire = openaire_payload("rec-gone", LICENCES[0], "Editora Fiocruz")
    old = store.publish_record(
        catalogue, "rec-gone", 1, older_dc, mets, sets, T0, openaire_xml=openaire
    )
    assert store.backfill(catalogue) == 1
    assert store.backfill(catalogue) == 0
    with catalogue.session() as session:
        row = session.get(OaiRecord, "rec-gone")
        assert row is not None and row.datestamp > old and not row.deleted
        assert row.dc_xml == store.normalise_payload(older_dc, "dc")
        members = dict(
            session.execute(
                select(OaiRecordSet.set_spec, OaiRecordSet.datestamp).where(
                    OaiRecordSet.record_id == "rec-gone"
                )
            )
            .tuples()
            .all()
        )
    assert members == {"openaire": row.datestamp, "source:x": row.datestamp}
    catalogue.close()


def test_publish_refuses_non_records() -> None:
    with pytest.raises(store.PayloadError):
        store.normalise_payload(b"<html/>", "dc")
    with pytest.raises(store.PayloadError):
        store.normalise_payload(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "mets")


def test_backfill_exposes_only_deposited_versions(database_url: str, tmp_path: Path) -> None:
    catalogue = Catalogue.open(database_url)
    dc, mets = payloads("rec-b", LICENCES[0], "Editora Fiocruz")
    work = tmp_path / "rec-b" / "v1"
    (work / "bag" / "data").mkdir(parents=True)
    (work / "bag" / "data" / "dc.xml").write_bytes(dc)
    (work / "bag" / "data" / "mets.xml").write_bytes(mets)
    record = spec(1)
    with catalogue.session() as session:
        _item(session, "rec-b", "deposited", 1)
        _item(session, "rec-c", "needs_review", None)
        session.flush()
        for rid in ("rec-b", "rec-c"):
            session.add(
                Version(
                    item_id=rid,
                    version=1,
                    state="deposited" if rid == "rec-b" else "needs_review",
                    reasons=[],
                    record={"source_kind": record.kind, "publisher": "Editora Fiocruz"},
                    summary={},
                    work_dir=str(work),
                    created_at=T0,
                    updated_at=T0,
                )
            )
    assert store.backfill(catalogue) == 1
    assert store.backfill(catalogue) == 0
    with catalogue.session() as session:
        assert [r.record_id for r in session.scalars(select(OaiRecord))] == ["rec-b"]
        specs = queries.sets_of(session, ["rec-b"])["rec-b"]
    assert "license:by-nc-sa" in specs and "publisher:editora-fiocruz" in specs
    catalogue.close()


def test_sets_are_hierarchical_and_valid_specs() -> None:
    sets = record_sets(
        source_kind="scielo-books-chapter",
        licence_uri="https://creativecommons.org/licenses/by-nc-nd/4.0/deed.pt",
        publisher="Editora da Universidade Federal da Bahia (EDUFBA)",
    )
    assert list(sets) == [
        "source",
        "source:scielo-books",
        "license",
        "license:by-nc-nd",
        "publisher",
        "publisher:editora-da-universidade-federal-da-bahia-edufba",
    ]
    assert slug("Ação & Cia") == "acao-cia"
    assert "license:cc0" in record_sets(
        source_kind=None,
        licence_uri="https://creativecommons.org/publicdomain/zero/1.0/",
        publisher=None,
    )


def test_article_sets_by_collection_issn_and_open_access_full_text() -> None:
    sets = record_sets(
        source_kind="scielo-article",
        licence_uri="https://creativecommons.org/licenses/by/4.0/",
        publisher="Faculdade de Saúde Pública da USP",
        collection="scl",
        issns=["0034-8910", "1518-8787", "ISSN 0034-8910", "12345", "1518 8787"],
        journal="Revista de  Saúde Pública",
        full_text=True,
    )
    assert list(sets) == [
        "source",
        "source:scielo-articles",
        "license",
        "license:by",
        "publisher",
        "publisher:faculdade-de-saude-publica-da-usp",
        "collection",
        "collection:scl",
        "issn",
        "issn:0034-8910",
        "issn:1518-8787",
        "openaire",
        "driver",
    ]
    assert sets["openaire"] == "OpenAIRE"
    assert sets["driver"] == "Open Access DRIVERset"
    assert sets["issn:0034-8910"] == "Journal: Revista de Saúde Pública (ISSN 0034-8910)"
    # no served full text, or no open licence: in neither open-access set
    for licence, full_text in (
        ("https://creativecommons.org/licenses/by/4.0/", False),
        ("https://example.org/all-rights-reserved", True),
        (None, True),
    ):
        plain = record_sets(
            source_kind="scielo-article",
            licence_uri=licence,
            publisher=None,
            full_text=full_text,
        )
        assert "openaire" not in plain and "driver" not in plain, (licence, full_text)
    assert "collection:x1" not in record_sets(
        source_kind="file", licence_uri=None, publisher=None, collection="x1"
    )


def test_sets_from_a_stored_article_record() -> None:
    record = {
        "source": "scielo-article:scl/S0034-89102009000100001",
        "source_kind": "scielo-article",
        "publisher": "Faculdade de Saúde Pública da USP",
        "identifiers": [
            {"scheme": "scielo-pid", "value": "S0034-89102009000100001"},
            {"scheme": "issn", "value": "0034-8910"},
        ],
        "is_part_of": {
            "title": "Revista de Saúde Pública",
            "kind": "journal-issue",
            "identifiers": [
                {"scheme": "issn", "value": "0034-8910"},
                {"scheme": "eissn", "value": "1518-8787"},
            ],
        },
    }
    licence = "https://creativecommons.org/licenses/by/4.0/"
    sets = sets_from_catalogue(record, licence, full_text=True)
    assert {"collection:scl", "issn:0034-8910", "issn:1518-8787", "openaire", "driver"} <= set(sets)
    assert "openaire" not in sets_from_catalogue(record, licence)
    book = {"source": "scielo-books:37t/05", "source_kind": "scielo-books-chapter"}
    book_sets = sets_from_catalogue(book, licence, full_text=True)
    assert not any(s.startswith(("collection", "issn")) for s in book_sets)
    assert {"openaire", "driver", "source:scielo-books"} <= set(book_sets)


def test_tokens_round_trip_and_detect_tampering() -> None:
    state = TokenState("ListRecords", "oai_dc", "license", 1, 2, 3, "rec-1", 100, 250)
    token = encode(state, b"key")
    assert decode(token, b"key") == state
    with pytest.raises(BadToken):
        decode(token, b"other key")
    body, mac = token.split(".")
    with pytest.raises(BadToken):
        decode(body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac, b"key")
    with pytest.raises(BadToken):
        decode("garbage", b"key")


def test_generated_token_secret_is_private_and_stable(settings: Settings) -> None:
    key = token_key(settings)
    path = settings.home / "oai-token-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token_key(settings) == key and len(key) == 64
    configured = Settings(oai_token_secret="s3cret-" + "k" * 32)
    assert token_key(configured) == b"s3cret-" + b"k" * 32
    assert "s3cret" not in repr(configured)


def test_parse_request_datestamps_are_inclusive_seconds() -> None:
    req = parse_request(
        [
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2026-01-02"),
            ("until", "2026-01-02"),
        ]
    )
    assert req.until is not None and req.from_ is not None
    assert req.until - req.from_ == 86399
    with pytest.raises(OaiError) as err:
        parse_request([("verb", "ListSets"), ("bogus", "1")])
    assert err.value.errors[0][0] == "badArgument" and not err.value.echo


def test_cli_withdraw_and_backfill(settings: Settings) -> None:
    from typer.testing import CliRunner

    from archive_ingest.oai.cli import oai_app

    catalogue = Catalogue.open(settings.effective_database_url)
    dc, mets = payloads("rec-d", LICENCES[1], "Editora Fiocruz")
    store.publish_record(catalogue, "rec-d", 1, dc, mets, {"source": "Source"}, T0)
    catalogue.close()
    runner = CliRunner()
    result = runner.invoke(oai_app, ["backfill"])
    assert result.exit_code == 0 and '"published": 0' in result.output
    result = runner.invoke(oai_app, ["withdraw", "rec-d", "--reason", "rights claim"])
    assert result.exit_code == 0 and '"withdrawn": true' in result.output
    assert runner.invoke(oai_app, ["withdraw", "nope", "--reason", "x"]).exit_code == 1

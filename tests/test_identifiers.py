"""DOIs and ISSNs have one form across the project (archive_ingest.identifiers): the source
mapping, the oai_openaire record and the OAI sets all answer the same one."""

from __future__ import annotations

import pytest
from lxml import etree

from archive_ingest.identifiers import normalise_doi, normalise_issn
from archive_ingest.models import Identifier, Relation, SourceRecord
from archive_ingest.oai.sets import issn_set
from archive_ingest.records.openaire import build_openaire
from archive_ingest.sources import normalise
from archive_ingest.sources.articlemeta_issns import journal_issns

DATACITE = "{http://datacite.org/schema/kernel-4}"


@pytest.mark.parametrize(
    ("text", "issn"),
    [
        ("0034-8910", "0034-8910"),
        ("0034-891x", "0034-891X"),
        ("00348910", "0034-8910"),
        (" ISSN 0034-8910 ", "0034-8910"),
        ("ISSN: 1414-431X", "1414-431X"),
        ("issn0034-8910", "0034-8910"),
        ("urn:issn:0034-8910", "0034-8910"),
        ("0034 8910", "0034-8910"),
        ("0034\u20138910", "0034-8910"),  # an en dash
        ("0034-891", None),
        ("0034-89100", None),
        ("0034-8910 (print)", None),  # not only an ISSN: not guessed at
        ("1234-5678; 2345-6789", None),
        ("", None),
        (None, None),
        (34, None),
    ],
)
def test_normalise_issn(text: object, issn: str | None) -> None:
    assert normalise_issn(text) == issn
    assert issn_set(text if isinstance(text, str) else None) == issn


def test_the_adapters_doi_is_the_shared_one() -> None:
    assert normalise.normalise_doi is normalise_doi
    assert normalise_doi("https://doi.org/10.1590/S0034-89102010000400007.") == (
        "10.1590/S0034-89102010000400007"
    )


def _record(issn: str, doi: str) -> SourceRecord:
    return SourceRecord(
        record_id="scielo-scl-s0034-89102010000400007",
        source="scielo-article:scl/S0034-89102010000400007",
        source_kind="scielo-article",
        title="A title",
        languages=["pt"],
        identifiers=[Identifier(scheme="doi", value=doi)],
        is_part_of=Relation(
            title="Revista de Saúde Pública",
            identifiers=(Identifier(scheme="issn", value=issn),),
            kind="journal-issue",
        ),
    )


def test_openaire_writes_the_shared_forms() -> None:
    xml = build_openaire(
        _record(" ISSN 0034-891x", "doi:10.1590/S0034-89102010000400007."),
        licence_uri=None,
        access=None,
    )
    root = etree.fromstring(xml)
    related = [
        (e.get("relatedIdentifierType"), e.text) for e in root.iter(f"{DATACITE}relatedIdentifier")
    ]
    assert ("PISSN", "0034-891X") in related
    # the trailing full stop is no part of the DOI (the earlier openaire reader kept it)
    identifier = root.find(f"{DATACITE}identifier")
    assert identifier is not None and identifier.get("identifierType") == "DOI"
    assert identifier.text == "10.1590/S0034-89102010000400007"


def test_article_mapping_writes_the_shared_form() -> None:
    journal = {"v435": [{"_": "0034-891x", "t": "PRINT"}, {"_": "1518 8787", "t": "ONLIN"}]}
    assert journal_issns(journal, {})[:2] == ("0034-891X", "1518-8787")

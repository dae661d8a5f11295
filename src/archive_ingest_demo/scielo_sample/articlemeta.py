"""Build ArticleMeta documents in the shape of xylose's tests/fixtures/full_document.json.

The real document is an ISIS record as JSON: ``article``/``title``/``issue`` hold ``vNNN``
fields, each a list of subfield dicts (``{"_": value, "l": "en", ...}``). The defaults below are
those of that fixture (Acta Limnologica Brasiliensia, S2179-975X2011000300002) so that a sample
article looks like a real one unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: collection code -> the public domain ArticleMeta writes into URLs (collections.json).
PUBLIC_DOMAINS = {
    "scl": "www.scielo.br",
    "spa": "www.scielosp.org",
    "per": "www.scielo.org.pe",
    "arg": "www.scielo.org.ar",
    "chl": "www.scielo.cl",
    "col": "www.scielo.org.co",
    "mex": "www.scielo.org.mx",
}


def _v(value: str, **subfields: str) -> list[dict[str, str]]:
    return [{"_": value, **subfields}]


def articlemeta_document(
    *,
    collection: str,
    pid: str,
    titles: Mapping[str, str] | None = None,
    original_language: str = "en",
    authors: Sequence[Mapping[str, str]] | None = None,
    affiliations: Sequence[Mapping[str, str]] | None = None,
    corporate_authors: Sequence[str] = (),
    journal_title: str = "Acta Limnologica Brasiliensia",
    journal_acronym: str = "alb",
    publisher: str = "Associação Brasileira de Limnologia",
    issn: str = "2179-975X",
    issn_type: str = "ONLIN",
    volume: str = "23",
    issue: str = "3",
    issue_label: str | None = None,
    publication_date: str = "20110900",
    pages: tuple[str, str] | None = ("229", "232"),
    doi: str | None = "10.1590/S2179-975X2012005000004",
    abstracts: Mapping[str, str] | None = None,
    keywords: Mapping[str, Sequence[str]] | None = None,
    license: str | None = "by/4.0",
    article_v540: Sequence[Mapping[str, str]] | None = None,
    journal_v541: str | None = "BY-NC",
    journal_v540: Sequence[Mapping[str, str]] | None = None,
    fulltext_languages: Sequence[str] | None = None,
    file_code: str = "a02v23n3",
    with_fulltexts: bool = True,
    fulltext_formats: Sequence[str] = ("pdf", "html"),
    document_type: str = "oa",
    journal_v435: Sequence[tuple[str, str]] | None = None,
    article_v435: Sequence[tuple[str, str]] | None = None,
    supplement_volume: str | None = None,
    supplement_number: str | None = None,
    ahead_of_print: bool = False,
    document_date: str | None = None,
    older_shape: bool = False,
) -> dict[str, Any]:
    """An ArticleMeta document. ``license=None`` leaves the top-level licence out (so readers
    fall back to ``article_v540``, then the journal); ``with_fulltexts=False`` leaves out
    ``fulltexts`` (readers then derive the PDF path from v68/v4/v702); ``fulltext_formats``
    names the kinds ``fulltexts`` lists (``("html",)``: no PDF listed, as in real SPS records).

    The other shapes SciELO publishes: ``document_type`` is v71 (``oa`` research article,
    ``ed`` editorial, ``er`` erratum, ``pr`` press release ...); ``journal_v435`` /
    ``article_v435`` the typed ISSN lists (``[("PRINT", issn), ("ONLIN", issn)]`` in the
    journal, ``ppub``/``epub`` in an SPS article); ``supplement_volume``/``supplement_number``
    v131/v132 (label ``v23s1`` / ``v23n3s1``); ``ahead_of_print`` an article not yet in an issue
    (v32 ``ahead``, label ``2011nahead``, no volume or pages); ``document_date`` v223 (the
    article's own publication date, ISIS ``YYYYMMDD``); ``older_shape`` the documents of older
    ArticleMeta versions: no top-level ``code``, ``collection``, ``doi``, ``fulltexts`` or
    ``issue`` (only v880, v992, v237 inside ``article``).
    """
    pid = pid.upper()
    if ahead_of_print:
        volume, issue, pages = "", "ahead", None
    if issue_label is None:  # as the classic site labels issues: v23n3, v23s1, v23n3s1, 2011nahead
        if ahead_of_print:
            issue_label = f"{publication_date[:4]}nahead"
        elif supplement_volume is not None:
            issue_label = f"v{volume}s{supplement_volume}"
        else:
            issue_label = f"v{volume}n{issue}"
            if supplement_number is not None:
                issue_label += f"s{supplement_number}"
    titles = titles or {
        "en": "First adult record of Misgurnus anguillicaudatus, Cantor 1842 from Ribeira "
        "de Iguape River Basin, Brazil",
        "pt": "Primeiro registro de um indivíduo adulto de Misgurnus anguillicaudatus, "
        "Cantor 1842 do rio Ribeira de Iguape, Brasil",
    }
    authors = authors or [
        {"s": "Gomes", "n": "Caio Isola Dallevo do Amaral", "r": "ND", "1": "A01"},
        {"s": "Peressin", "n": "Alexandre", "r": "ND", "1": "A02"},
    ]
    affiliations = affiliations or [
        {"i": "A01", "_": "UNIVERSIDADE FEDERAL DE SAO CARLOS", "p": "BRAZIL", "c": "Sorocaba"},
        {"i": "A02", "_": "UNIVERSIDADE FEDERAL DE SAO CARLOS", "p": "BRAZIL", "c": "Sorocaba"},
    ]
    abstracts = abstracts or {"en": "AIM: This work aimed to describe a first record ..."}
    keywords = keywords or {"en": ["Oriental weatherfish", "exotic species"]}
    domain = PUBLIC_DOMAINS.get(collection, "www.scielo.org")

    article: dict[str, Any] = {
        "v10": [{"_": "", **a} for a in authors],
        "v12": [{"l": lang, "_": text} for lang, text in titles.items()],
        "v14": [{"_": "", "f": pages[0], "l": pages[1]}] if pages else [],
        "v30": _v(journal_title),
        "v31": _v(volume),
        "v32": _v(issue),
        "v35": _v(issn),
        "v40": _v(original_language),
        "v4": _v(issue_label),
        "v65": _v(publication_date),
        "v70": [dict(a) for a in affiliations],
        "v71": _v(document_type),
        "v83": [{"a": text, "l": lang, "_": ""} for lang, text in abstracts.items()],
        "v85": [
            {"k": word, "l": lang, "t": "m", "_": ""}
            for lang, words in keywords.items()
            for word in words
        ],
        "v702": _v(
            f"V:\\scielo\\serial\\{journal_acronym}\\{issue_label}\\markup\\{file_code}.htm"
        ),
        "v880": _v(pid),
        "v992": _v(collection),
    }
    if not pages:
        del article["v14"]
    if not volume:
        del article["v31"]
    if supplement_volume is not None:
        article["v131"] = _v(supplement_volume)
    if supplement_number is not None:
        article["v132"] = _v(supplement_number)
    if document_date is not None:
        article["v223"] = _v(document_date)
    if article_v435 is not None:
        article["v435"] = [{"_": value, "t": kind} for kind, value in article_v435]
    if corporate_authors:
        article["v11"] = [{"_": name} for name in corporate_authors]
    if doi:
        article["doi"] = doi
        article["v237"] = _v(doi)
    if article_v540 is not None:
        article["v540"] = [dict(e) for e in article_v540]

    journal: dict[str, Any] = {
        "v35": _v(issn_type),
        "v68": _v(journal_acronym),
        "v100": _v(journal_title),
        "v150": _v(journal_title),
        "v400": _v(issn),
        "v480": _v(publisher),
        "v690": _v(domain),
        "v935": _v(issn),
        "v992": _v(collection),
    }
    if journal_v541 is not None:
        journal["v541"] = _v(journal_v541)
    if journal_v540 is not None:
        journal["v540"] = [dict(e) for e in journal_v540]
    if journal_v435 is not None:
        journal["v435"] = [{"_": value, "t": kind} for kind, value in journal_v435]
    issue_record: dict[str, Any] = {"v32": _v(issue), "v4": _v(issue_label)}
    if volume:
        issue_record["v31"] = _v(volume)
    for tag, value in (("v131", supplement_volume), ("v132", supplement_number)):
        if value is not None:
            issue_record[tag] = _v(value)

    document: dict[str, Any] = {
        "code": pid,
        "collection": collection,
        "code_issue": pid[:18],
        "code_title": [issn],
        "publication_year": publication_date[:4],
        "doi": doi,
        "article": article,
        "title": journal,
        "issue": {
            "code": pid[1:18],
            "collection": collection,
            "publication_year": publication_date[:4],
            "issue": issue_record,
        },
        "citations": [],
    }
    if doi is None:
        del document["doi"]
    if license is not None:
        document["license"] = license
    if with_fulltexts:
        languages = list(fulltext_languages or [original_language])
        fulltexts = {
            "pdf": {
                lang: f"http://{domain}/pdf/{journal_acronym}/{issue_label}/"
                + (file_code if lang == original_language else f"{lang}_{file_code}")
                + ".pdf"
                for lang in languages
            },
            "html": {
                lang: f"http://{domain}/scielo.php?script=sci_arttext&pid={pid}&tlng={lang}"
                for lang in languages
            },
        }
        document["fulltexts"] = {k: v for k, v in fulltexts.items() if k in fulltext_formats}
    if older_shape:
        for key in ("code", "collection", "doi", "fulltexts", "issue", "code_issue"):
            document.pop(key, None)
    return document

"""SciELO journal articles (``scielo-article:COLL/PID``) from ArticleMeta.

An ArticleMeta document (``/api/v1/article/?collection=COLL&code=PID``) is the ISIS record of
the article as JSON: ``article`` holds ``vNNN`` fields, each a list of ``{"_": value, ...}``
subfield dicts; ``title`` is the journal record, ``issue`` the issue record. Field meanings
follow scieloorg/xylose (xylose/scielodocument.py), the library SciELO itself reads them with:

* v12 titles (``l`` language), v40 original language, v10 authors (``s`` surname, ``n`` given
  names, ``r`` role, ``1`` affiliation ids, ``k`` ORCID), v11 corporate authors, v70
  affiliations (``i`` id), v65 publication date (ISIS ``YYYYMMDD``, ``00`` = unknown), v14
  pages (``f``/``l``), v31/v32 volume/issue, v83 abstracts (``a``, ``l``), v85 keywords
  (``k``, ``l``), v237 (or top-level ``doi``) DOI, v702 file path, v4 issue label;
* journal: v100 title, v68 acronym, v480 publisher, v935/v400/v35 ISSNs;
* licence precedence as xylose's ``Article.permissions``: top-level ``license`` (a CC id such
  as ``by/4.0``), else the article's v540 (HTML, English preferred), else the journal's
  (v541, ``nd`` meaning none, then v540). A bare code (``BY-NC``) is the current version, 4.0,
  as xylose reads v541; a code with its version (``BY/4.0``) is kept as it is;
* ISSNs as xylose's ``Journal._load_issn``: the typed list v435 (``PRINT``/``ONLIN``) when it
  names an ISSN, else v35 (the type of v935) with v935/v400; without v35, v400 as print;
* pages: v14 ``f``/``l`` (``nd`` and all-zero values mean none), a missing one from ``_``
  (``9-12``, in numeric order); v71 the document type; v131/v132 supplements of
  volume/number; ``ahead`` in v32 or v4 an ahead-of-print article;
* full texts: top-level ``fulltexts`` ``{"pdf": {lang: url}, "html": {...}}`` (one URL per
  language: ``pt`` wins over ``pt-BR``, else the first listed; without v40 the languages
  follow their codes, never the listing order); when it lists no PDF (absent, or html only)
  the original-language PDF at ``/pdf/{acronym}/{issue label}/{file code}.pdf``, the path
  xylose's ``fulltexts()`` derives.

ArticleMeta answers HTTP 200 with ``null`` for an unknown article (articlemeta.py,
``get_article``); that is reported as "not found".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from archive_ingest.errors import SourceError
from archive_ingest.models import Creator, Identifier, Relation, SourceRecord
from archive_ingest.refs import PID_RE, ItemRef
from archive_ingest.settings import Settings
from archive_ingest.sources.articlemeta_issns import issn_identifiers, journal_issns
from archive_ingest.sources.articlemeta_licence import article_licence
from archive_ingest.sources.articlemeta_pages import article_pages
from archive_ingest.sources.base import Getter, fetch, finish, load_json, raw_from
from archive_ingest.sources.isis_fields import first, values
from archive_ingest.sources.normalise import (
    ARTICLE_ROLES,
    clean_text,
    iso_date,
    language_code,
    normalise_doi,
    plain_text,
)
from archive_ingest.sources.urls import (
    COLLECTION_SITES,
    article_site_base,
    articlemeta_url,
    rebase_url,
)

#: A SciELO PID inside a DOI (10.1590/S0100-19651998000200002)
_PID_IN_DOI_RE = re.compile(r"S[0-9]{4}-[0-9]{3}[0-9X][0-9]{13}", re.IGNORECASE)

#: ArticleMeta document types (v71) as xylose names them (xylose/choices.py, article_types)
DOCUMENT_TYPES: dict[str, str] = {
    "ab": "abstract",
    "an": "news",
    "ax": "addendum",
    "co": "article-commentary",
    "cr": "case-report",
    "ct": "research-article",
    "ed": "editorial",
    "er": "correction",
    "in": "editorial",
    "le": "letter",
    "mt": "research-article",
    "nd": "undefined",
    "oa": "research-article",
    "pr": "press-release",
    "pv": "editorial",
    "rc": "book-review",
    "rn": "brief-report",
    "ra": "review-article",
    "sc": "rapid-communication",
    "tr": "research-article",
    "up": "undefined",
}


def _creators(article: dict[str, Any], notes: list[str]) -> list[Creator]:
    affiliations = {
        (clean_text(aff.get("i")) or "").upper(): clean_text(aff.get("_"))
        for aff in values(article, "v70")
        if clean_text(aff.get("_"))
    }
    creators: list[Creator] = []
    for author in values(article, "v10"):
        surname, given = clean_text(author.get("s")), clean_text(author.get("n"))
        name = ", ".join(p for p in (surname, given) if p)
        if not name:
            continue
        role_code = (clean_text(author.get("r")) or "").lower()
        role = ARTICLE_ROLES.get(role_code)
        if role is None:
            notes.append(
                f"unknown ArticleMeta author role {role_code!r} for {name!r}; kept as other"
            )
            role = "other"
        xrefs = (clean_text(author.get("1")) or "").upper().split()
        affiliation = "; ".join(a for x in xrefs if (a := affiliations.get(x))) or None
        orcid = clean_text(author.get("k"))
        creators.append(Creator(name=name, role=role, affiliation=affiliation, orcid=orcid))
    for corp in values(article, "v11"):
        corp_name = clean_text(corp.get("_"))
        if corp_name:
            creators.append(Creator(name=corp_name, role="author", corporate=True))
    return creators


def _supplement(value: str | None) -> str | None:
    if value is None:
        return None
    return "suppl" if value in ("0", "") else f"suppl {value}"


def _doi(data: dict[str, Any], article: dict[str, Any], code: str, notes: list[str]) -> str | None:
    """v237, else the top-level ``doi`` (xylose's order).

    A DOI suffix is an opaque name: one that spells another PID of the same issue is kept (it
    is what SciELO registered for this article) and noted, so that a reviewer can check it.
    """
    doi = normalise_doi(first(article, "v237")) or normalise_doi(data.get("doi"))
    if doi is None:
        doi = normalise_doi(article.get("doi"))
    if doi is None:
        return None
    named = _PID_IN_DOI_RE.search(doi)
    if named:
        other = named.group(0).upper()
        if other != code and other[:17] == code[:17] and other != first(article, "v881"):
            notes.append(
                f"DOI {doi} spells the PID of another article of the same issue ({other}); "
                "kept as SciELO registered it (a DOI suffix is an opaque name)"
            )
    return doi


def _file_code(article: dict[str, Any]) -> str | None:
    path = first(article, "v702")
    if not path:
        return None
    return path.replace("/", "\\").split("\\")[-1].split(".")[0] or None


def _scielo_php(url: str) -> str:
    """An html URL with the classic site's script but not its path: ArticleMeta's language
    loader (scieloorg/articles_meta, processing) wrote ``http://www.scielo.br?script=
    sci_arttext&pid=…``; the site serves that page at ``/scielo.php?script=…``."""
    parts = urlsplit(url)
    if parts.path in ("", "/") and parts.query.startswith("script="):
        return urlunsplit(parts._replace(path="/scielo.php"))
    return url


def map_articlemeta(
    raw: bytes,
    *,
    site_base: str | None = None,
    collection: str | None = None,
    pid: str | None = None,
) -> SourceRecord:
    """Map one ArticleMeta document to a record.

    ``site_base`` is where PDF and landing URLs are rebased (the configured article site or the
    collection's); without it they stay as the metadata gives them. ``collection``/``pid`` are
    what was asked for: a document for another article is an error.
    """
    data = load_json(raw, "ArticleMeta document")
    if data is None:
        raise SourceError(
            f"ArticleMeta has no article {pid or ''} in collection {collection or ''}"
        )
    if not isinstance(data, dict) or not isinstance(data.get("article"), dict):
        raise SourceError("ArticleMeta document has no 'article' record")
    article: dict[str, Any] = data["article"]
    journal: dict[str, Any] = data["title"] if isinstance(data.get("title"), dict) else {}
    code = clean_text(data.get("code")) or first(article, "v880")
    if not code or not PID_RE.fullmatch(code.upper()):
        raise SourceError(f"ArticleMeta document has no valid PID (code {code!r})")
    code = code.upper()
    if pid and code != pid.upper():
        raise SourceError(f"ArticleMeta answered with article {code}, not the requested {pid}")
    coll = (
        clean_text(data.get("collection"))
        or first(article, "v992")
        or first(journal, "v992")
        or collection
    )
    if collection and coll and coll != collection:
        raise SourceError(f"ArticleMeta answered for collection {coll!r}, not {collection!r}")
    coll = (coll or "").lower()
    if not re.fullmatch(r"[a-z]{3}", coll):
        raise SourceError("ArticleMeta document has no collection code")

    notes: list[str] = []
    v40 = first(article, "v40")
    original = language_code(v40)
    if v40 and not original:
        notes.append(f"original language {v40!r} is not a known code")

    title: str | None = None
    translated: dict[str, str] = {}
    for occurrence in values(article, "v12"):
        text = plain_text(occurrence.get("_"))
        lang = language_code(occurrence.get("l"))
        if not text:
            continue
        if lang == original and title is None:
            title = text
        elif lang and lang not in translated:
            translated[lang] = text
        elif title is None and lang is None:
            title = text
    if title is None and translated:  # no title in the original language: take the first
        lang, title = next(iter(translated.items()))
        del translated[lang]
        notes.append(f"no title in the original language; the {lang} title is used")
    translated.pop(original or "", None)

    volume, number = first(article, "v31"), first(article, "v32")
    label = first(article, "v4")
    ahead = "ahead" in (number or "").lower() or "ahead" in (label or "").lower()

    date = iso_date(first(article, "v65")) or iso_date(data.get("publication_date"))
    if ahead:  # the issue date of an ahead-of-print article is a placeholder year
        date = iso_date(first(article, "v223")) or date
    if not date:
        date = iso_date(clean_text(data.get("publication_year")))

    identifiers = [Identifier(scheme="scielo-pid", value=code)]
    doi = _doi(data, article, code, notes)
    if doi:
        identifiers.append(Identifier(scheme="doi", value=doi))

    pages = article_pages(article)
    if ahead:
        notes.append("ahead of print: no volume, issue or pages yet")
        pages, volume, number = None, None, None
    else:
        supplements = [_supplement(first(article, "v132")), _supplement(first(article, "v131"))]
        if any(supplements):
            number = " ".join(p for p in (number, *supplements) if p)
    v71 = (first(article, "v71") or "").lower()
    document_type = DOCUMENT_TYPES.get(v71, "undefined") if v71 else None

    abstract = None
    for occurrence in values(article, "v83"):
        if language_code(occurrence.get("l")) == original and plain_text(occurrence.get("a")):
            abstract = plain_text(occurrence.get("a"))
            break
    keywords = [
        text
        for occurrence in values(article, "v85")
        if language_code(occurrence.get("l")) == original
        and (text := plain_text(occurrence.get("k")))
    ]

    statement, licence_url, licence_notes = article_licence(data, article, journal)
    notes += licence_notes

    def rebase(url: str, what: str) -> str | None:
        if site_base is None:
            return url
        try:
            return rebase_url(url, site_base)
        except SourceError as exc:
            notes.append(f"{what} unusable: {exc}")
            return None

    pdf_urls: dict[str, str] = {}
    html_urls: dict[str, str] = {}
    fulltexts = data.get("fulltexts")
    if isinstance(fulltexts, dict):
        for kind, target in (("pdf", pdf_urls), ("html", html_urls)):
            entries = fulltexts.get(kind)
            # the code each language's URL was listed under (two codes can name one language)
            listed_as: dict[str, tuple[str, str]] = {}
            for lang_text, url in entries.items() if isinstance(entries, dict) else []:
                lang = language_code(lang_text)
                if not (isinstance(url, str) and url.strip() and lang):
                    continue
                url = _scielo_php(url.strip()) if kind == "html" else url.strip()
                if (rebased := rebase(url, f"{kind} URL ({lang})")) is None:
                    continue
                if lang not in target:
                    target[lang], listed_as[lang] = rebased, (lang_text, url)
                    continue
                kept_code, kept_url = listed_as[lang]
                if rebased == target[lang]:
                    continue
                if lang_text.strip().lower() == lang and kept_code.strip().lower() != lang:
                    # the exact code ("pt") is preferred to a regional one ("pt-BR")
                    target[lang], listed_as[lang] = rebased, (lang_text, url)
                    kept_code, kept_url, lang_text, url = lang_text, url, kept_code, kept_url
                notes.append(
                    f"fulltexts lists {kind} URLs under {kept_code!r} and {lang_text!r} (both "
                    f"{lang}); {kept_url} kept, {url} not used"
                )
    if not pdf_urls:
        # xylose's fulltexts() path, also when fulltexts lists html only (SciELO's classic site
        # serves the PDF there all the same)
        acronym = (first(journal, "v68") or "").lower()
        file_code = _file_code(article)
        domain = COLLECTION_SITES.get(coll, f"http://{first(journal, 'v690') or ''}")
        listed = "lists no PDF" if isinstance(fulltexts, dict) else "is absent"
        if acronym and label and file_code and original:
            url = f"{domain}/pdf/{acronym}/{label}/{file_code}.pdf"
            if (rebased := rebase(url, "PDF URL")) is not None:
                pdf_urls[original] = rebased
                notes.append(
                    f"ArticleMeta's fulltexts {listed}: PDF URL derived from the journal "
                    "acronym (v68), issue label (v4) and file name (v702)"
                )
        else:
            notes.append(f"ArticleMeta's fulltexts {listed} and no file name to derive a PDF")

    # the PDFs' languages by code, not in the publisher's listing order: that order can change
    # between two runs, and the languages are part of the content fingerprint (a reordered
    # listing is not new content)
    if original:
        languages = [original, *sorted(lang for lang in pdf_urls if lang != original)]
    else:
        # no original language: the first by code stands for the original's
        languages = sorted(pdf_urls)
        if languages:
            notes.append(
                f"the original language is unknown ({'v40 unknown' if v40 else 'no v40'}): "
                "the PDFs' languages are listed by code, and the first "
                f"({languages[0]}) is taken as the original's"
            )

    landing = html_urls.get(original or "")
    if landing is None and original:
        query = urlencode({"script": "sci_arttext", "pid": code, "lng": original, "tlng": original})
        landing = rebase(
            f"{COLLECTION_SITES.get(coll, 'https://www.scielo.org')}/scielo.php?{query}",
            "landing URL",
        )
    if landing:
        identifiers.append(Identifier(scheme="url", value=landing))
    print_issn, electronic, issn_notes = journal_issns(journal, article)
    notes += issn_notes
    identifiers += issn_identifiers(print_issn, electronic)

    relation = Relation(
        title=first(journal, "v100") or first(article, "v30"),
        identifiers=tuple(issn_identifiers(print_issn, electronic)),
        kind="journal-issue",
        volume=volume,
        issue=number,
    )
    return finish(
        SourceRecord(
            record_id=f"scielo-{coll}-{code}".lower(),
            source=f"scielo-article:{coll}/{code}",
            source_kind="scielo-article",
            title=title or "",
            translated_titles=translated,
            creators=_creators(article, notes),
            publisher=first(journal, "v480"),
            date=date,
            languages=languages,
            identifiers=identifiers,
            pages=pages,
            is_part_of=relation,
            description=abstract,
            subjects=keywords,
            licence_statement=statement,
            licence_url=licence_url,
            pdf_urls=pdf_urls,
            landing_url=landing,
            document_type=document_type,
            notes=notes,
        )
    )


def resolve_article(ref: ItemRef, settings: Settings, http: Getter) -> SourceRecord:
    """``scielo-article:COLL/PID``: fetch the ArticleMeta document and map it."""
    if ref.kind != "scielo-article" or not ref.collection or not ref.pid:
        raise SourceError(f"not a SciELO article reference: {ref.canonical}")
    site = article_site_base(settings, ref.collection)
    response = fetch(
        http,
        articlemeta_url(settings.scielo_articlemeta_url, ref.collection, ref.pid),
        what="ArticleMeta document",
        accept="application/json",
        max_bytes=settings.fetch_metadata_max_bytes,
        not_found=f"ArticleMeta has no article {ref.pid} in collection {ref.collection}",
    )
    record = map_articlemeta(
        response.content, site_base=site, collection=ref.collection, pid=ref.pid
    )
    if not record.title:
        raise SourceError(f"ArticleMeta article {ref.pid} has no title")
    raw = raw_from("articlemeta.json", response, "application/json")
    return record.model_copy(update={"raw_metadata": [raw]})

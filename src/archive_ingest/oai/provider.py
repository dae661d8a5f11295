"""One OAI-PMH request -> one response document: protocol core + query layer, no HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from archive_ingest.access_urls import access_copy_url
from archive_ingest.oai import queries
from archive_ingest.oai.mets_ids import scope_ids
from archive_ingest.oai.protocol import (
    FORMATS,
    Envelope,
    Header,
    OaiError,
    OaiRequest,
    Resumption,
    identify,
    list_sets,
    metadata_formats,
    oai_identifier,
    parse_request,
    record_id_of,
)
from archive_ingest.oai.store import ACCESS_URL_PLACEHOLDER
from archive_ingest.oai.tables import OaiRecord
from archive_ingest.oai.tokens import BadToken, TokenState, decode, encode


@dataclass(frozen=True)
class Config:
    repository_name: str
    repository_identifier: str
    admin_email: str
    page_size: int
    key: bytes
    page_bytes: int = 1024 * 1024


def respond(
    config: Config, session: Session, pairs: Iterable[tuple[str, str]], base_url: str, now: int
) -> bytes:
    request: OaiRequest | None = None
    try:
        request = parse_request(pairs)
        env = Envelope(now, base_url, request, echo=True)
        _dispatch(config, session, request, env, now, base_url)
    except OaiError as exc:
        env = Envelope(now, base_url, request, echo=exc.echo)
        env.errors(exc.errors)
    return env.serialise()


def _dispatch(
    config: Config, session: Session, request: OaiRequest, env: Envelope, now: int, base_url: str
) -> None:
    verb = request.verb
    if verb == "Identify":
        identify(
            env,
            name=config.repository_name,
            base_url=env.root[1].text or "",
            admin_email=config.admin_email,
            earliest=queries.earliest_datestamp(session) or 0,
            repository_identifier=config.repository_identifier,
            sample_record_id=queries.any_record_id(session) or "scielo-books-37t-05",
        )
    elif verb == "ListMetadataFormats":
        prefixes = list(FORMATS)
        if request.get("identifier"):
            row = _lookup(config, session, request.args["identifier"])
            prefixes = ["oai_dc"]
            prefixes += ["mets"] if row.mets_xml is not None else []
            prefixes += ["oai_openaire"] if row.openaire_xml is not None else []
        metadata_formats(env, prefixes)
    elif verb == "GetRecord":
        _get_record(config, session, request, env, base_url)
    elif verb == "ListSets":
        _list_sets(config, session, request, env)
    else:
        _list(config, session, request, env, now, base_url)


#: the oai_dc element the access-copy URL goes into (declares its own prefix: a stored record
#: need not have bound ``dc`` on its root)
_DC_IDENTIFIER = b'<dc:identifier xmlns:dc="http://purl.org/dc/elements/1.1/">%s</dc:identifier>'
#: the placeholder where the builder put it: the whole text of ``oaire:file`` (the default
#: namespace), ``datacite:identifier`` or ``datacite:alternateIdentifier`` as lxml
#: serialised them (attribute values never hold a raw ``>``); the same characters anywhere
#: else (a publisher's title or abstract quoting them) are left alone
_PLACED = re.compile(
    rb"(<(?:file|datacite:identifier|datacite:alternateIdentifier)(?:\s[^<>]*)?>)"
    + re.escape(ACCESS_URL_PLACEHOLDER.encode("ascii"))
    + rb"(?=</)"
)


@dataclass(frozen=True)
class _Sent:
    """What a record's payload needs at response time."""

    record_id: str
    version: int
    access_copy: bool


def _payload(prefix: str, sent: _Sent, payload: bytes | None, base_url: str) -> bytes | None:
    """What a record sends: METS with its XML IDs scoped to the record, so that any number of
    METS records make one valid ListRecords response (oai/mets_ids.py); oai_dc with the access
    copy's URL as one more ``dc:identifier`` (CORE and BASE take the full text from there);
    oai_openaire with that URL in place of the placeholder it was stored with. The URL
    depends on the baseURL, so it is never stored (docs/DECISIONS.md)."""
    if payload is None:
        return None
    if prefix == "mets":
        return scope_ids(payload, sent.record_id)
    url = escape(access_copy_url(base_url, sent.record_id, sent.version)).encode("utf-8")
    if prefix == "oai_openaire":
        return _PLACED.sub(lambda found: found.group(1) + url, payload)
    if prefix == "oai_dc" and sent.access_copy:
        end = payload.rfind(b"</")  # the root's end tag: the stored payload is one element
        if end > 0:
            return payload[:end] + _DC_IDENTIFIER % url + payload[end:]
    return payload


def _lookup(config: Config, session: Session, identifier: str) -> OaiRecord:
    record_id = record_id_of(identifier, config.repository_identifier)
    row = queries.get_record(session, record_id) if record_id else None
    if row is None:
        raise OaiError("idDoesNotExist", "no record with this identifier")
    return row


def _check_prefix(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", "metadataPrefix not supported")


def _stored(row: OaiRecord, prefix: str) -> bytes | None:
    if prefix == "mets":
        return row.mets_xml
    if prefix == "oai_openaire":
        return row.openaire_xml
    return row.dc_xml


def _get_record(
    config: Config, session: Session, request: OaiRequest, env: Envelope, base_url: str
) -> None:
    prefix = request.args["metadataPrefix"]
    row = _lookup(config, session, request.args["identifier"])
    _check_prefix(prefix)
    payload = _stored(row, prefix)
    if payload is None:
        raise OaiError("cannotDisseminateFormat", "this record has no such format")
    sets = queries.sets_of(session, [row.record_id])[row.record_id]
    header = Header(
        oai_identifier(config.repository_identifier, row.record_id),
        row.datestamp,
        tuple(sets),
        row.deleted,
    )
    node = env.verb("GetRecord")
    sent = _Sent(row.record_id, row.version, bool(row.access_copy))
    env.record(node, header, _payload(prefix, sent, payload, base_url))


def _token(config: Config, request: OaiRequest) -> TokenState:
    try:
        state = decode(request.args["resumptionToken"], config.key)
    except BadToken:
        raise OaiError("badResumptionToken", "the resumption token is invalid") from None
    if state.verb != request.verb:
        raise OaiError("badResumptionToken", "the resumption token is for another verb")
    return state


def _list_sets(config: Config, session: Session, request: OaiRequest, env: Envelope) -> None:
    if "resumptionToken" in request.args:
        state = _token(config, request)
        after, sent, size = state.after_id, state.sent, state.size
    else:
        total = queries.set_count(session)
        if total == 0:
            raise OaiError("noSetHierarchy", "this repository has no sets yet")
        after, sent, size = None, 0, total
    rows = queries.set_page(session, after, config.page_size + 1)
    more = len(rows) > config.page_size
    rows = rows[: config.page_size]
    res = None
    if more or sent:
        token = ""
        if more:
            token = encode(
                TokenState(
                    "ListSets", None, None, None, None, None, rows[-1][0], sent + len(rows), size
                ),
                config.key,
            )
        res = Resumption(token, max(size, sent + len(rows)), sent)
    list_sets(env, rows, res)


def _list(
    config: Config, session: Session, request: OaiRequest, env: Envelope, now: int, base_url: str
) -> None:
    with_payload = request.verb == "ListRecords"
    if "resumptionToken" in request.args:
        state = _token(config, request)
        query = queries.Query(state.prefix or "", state.set_spec, state.from_, state.until)
        after: tuple[int, str] | None = (
            (state.after_stamp, state.after_id) if state.after_stamp is not None else None
        )
        sent, size = state.sent, state.size
    else:
        prefix = request.args["metadataPrefix"]
        _check_prefix(prefix)
        set_spec = request.get("set")
        if set_spec is not None and not queries.set_exists(session, set_spec):
            if queries.set_count(session) == 0:
                raise OaiError("noSetHierarchy", "this repository has no sets yet")
            raise OaiError("noRecordsMatch", "no records in this set")
        # Freeze the harvest at the last complete second: whatever is stamped from now on
        # (inserts, edits, withdrawals mid-harvest) belongs to the next incremental harvest.
        until = now - 1 if request.until is None else min(request.until, now - 1)
        query = queries.Query(prefix, set_spec, request.from_, until)
        after, sent = None, 0
        size = queries.count(session, query)
        if size == 0:
            raise OaiError("noRecordsMatch", "no records match the request")
    limit = config.page_size
    rows, more = queries.page(
        session, query, after, limit, with_payload=with_payload, max_bytes=config.page_bytes
    )
    sets = queries.sets_of(session, [row.record_id for row in rows])
    node = env.verb(request.verb)
    for row in rows:
        header = Header(
            oai_identifier(config.repository_identifier, row.record_id),
            row.datestamp,
            tuple(sets[row.record_id]),
            row.deleted,
        )
        if with_payload:
            what = _Sent(row.record_id, row.version, row.access_copy)
            env.record(node, header, _payload(query.prefix, what, row.payload, base_url))
        else:
            env.header(node, header)
    if not rows and sent == 0:
        raise OaiError("noRecordsMatch", "no records match the request")
    res = None
    if more or sent:
        token = ""
        if more:
            last = rows[-1]
            token = encode(
                TokenState(
                    request.verb,
                    query.prefix,
                    query.set_spec,
                    query.from_,
                    query.until,
                    last.datestamp,
                    last.record_id,
                    sent + len(rows),
                    size,
                ),
                config.key,
            )
        res = Resumption(token, max(size, sent + len(rows)), sent)
    env.resumption(node, res)

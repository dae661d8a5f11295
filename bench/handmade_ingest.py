"""The hand-made sequential script the batch benchmark compares the pipeline with.

What a person would write in an afternoon, one item after another: download the PDF with
httpx, ``ocrmypdf --force-ocr`` through its Python API (OCRmyPDF's defaults otherwise: PDF/A
output through Ghostscript, one Tesseract job per core), a sidecar text file,
``bagit.make_bag`` with SHA-256 and SHA-512, then ``put_object`` of every bag file with a
SHA-256 checksum to one S3 bucket. Nothing else: no metadata, inspection, per-page quality
gate, licence check, METS/PREMIS, catalogue, checkpoints, conditional writes, verification,
receipts, second copy. It imports nothing of archive-ingest and is timed from outside, as a
process, like the CLI it is compared with.

    python bench/handmade_ingest.py --endpoint URL --bucket B --prefix P --language por \\
        --work DIR URL...     (keys: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)

Prints one JSON object with the seconds of each step of each item on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import bagit
import boto3
import httpx
import ocrmypdf


def ingest(url: str, work: Path, s3: Any, bucket: str, prefix: str, language: str) -> dict:
    times: dict[str, float] = {}
    name = url.rsplit("/", 1)[-1]
    stem = name.removesuffix(".pdf")
    bag_dir = work / stem
    (bag_dir / "original").mkdir(parents=True)
    (bag_dir / "access").mkdir()
    (bag_dir / "text").mkdir()
    original = bag_dir / "original" / name

    t = time.perf_counter()
    with httpx.stream("GET", url, timeout=120) as response, original.open("wb") as fh:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            fh.write(chunk)
    times["fetch"] = time.perf_counter() - t

    t = time.perf_counter()
    saved = sys.stdout, sys.stderr  # OCRmyPDF's API leaves sys.stderr replaced
    try:
        ocrmypdf.ocr(
            original,
            bag_dir / "access" / name,
            force_ocr=True,
            language=language,
            sidecar=bag_dir / "text" / f"{stem}.txt",
            progress_bar=False,
        )
    finally:
        sys.stdout, sys.stderr = saved
    times["ocr"] = time.perf_counter() - t

    t = time.perf_counter()
    bagit.make_bag(str(bag_dir), checksums=["sha256", "sha512"])
    times["bag"] = time.perf_counter() - t

    t = time.perf_counter()
    for path in sorted(p for p in bag_dir.rglob("*") if p.is_file()):
        key = f"{prefix}/{stem}/{path.relative_to(bag_dir).as_posix()}"
        with path.open("rb") as fh:
            s3.put_object(Bucket=bucket, Key=key, Body=fh, ChecksumAlgorithm="SHA256")
    times["upload"] = time.perf_counter() - t
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--language", default="por")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1")
    items = []
    for url in args.urls:
        t = time.perf_counter()
        steps = ingest(url, args.work, s3, args.bucket, args.prefix, args.language)
        items.append({"url": url, "seconds": time.perf_counter() - t, **steps})
    print(json.dumps({"items": items}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

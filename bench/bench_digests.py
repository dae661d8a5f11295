"""Digest cost: every digest of a payload in one read (MultiHasher: sha256 + sha512)
against sha512 alone over the same bytes, side by side in one run. Goal: ratio <= 1.2.

    .venv/bin/python bench/bench_digests.py [--mib 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

from archive_ingest.digests import CHUNK, MultiHasher


def _sha512_only(data: memoryview) -> float:
    start = time.perf_counter()
    h = hashlib.sha512()
    for i in range(0, len(data), CHUNK):
        h.update(data[i : i + CHUNK])
    h.hexdigest()
    return time.perf_counter() - start


def _all_digests(data: memoryview) -> float:
    start = time.perf_counter()
    with MultiHasher() as hasher:
        for i in range(0, len(data), CHUNK):
            hasher.update(data[i : i + CHUNK])
        hasher.digests()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = memoryview(os.urandom(args.mib * 1024 * 1024))
    base = min(_sha512_only(data) for _ in range(args.repeat))
    ours = min(_all_digests(data) for _ in range(args.repeat))
    mib = args.mib
    print(f"payload: {mib} MiB, best of {args.repeat}")
    print(f"sha512 alone:             {base:.3f} s  ({mib / base:.0f} MiB/s)")
    print(f"sha256+sha512 (ours):     {ours:.3f} s  ({mib / ours:.0f} MiB/s)")
    print(f"ratio ours/sha512: {ours / base:.2f}  (goal <= 1.20)")


if __name__ == "__main__":
    main()

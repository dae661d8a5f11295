"""OAI-PMH latency while the review login is sprayed (not a test; prints a table, optionally JSON).

Starts ``archive-ingest serve`` on 127.0.0.1 (tests/support/serve.py) over a fresh catalogue
(SQLite under a temporary HOME, or ``--database-url``) and times ``GET /oai?verb=Identify`` from
one keep-alive client, one request after another, in blocks that alternate (``--rounds``)
between idle (nothing else running) and spray, so whatever else loads the machine falls on
both alike. In a spray block ``--clients`` threads post logins with made-up user names,
``--rate`` a second in all, each from another address (``X-Forwarded-For``, trusted from
loopback), so neither the per-name nor the per-client limit stops them. Cases, each its own
server process:

- default limits (only the total limit applies);
- ``--hashing``: every limit raised, so every attempt costs an argon2 hash;
- ``--flood``: default limits, every client posting as soon as it is answered.

Reports p50/p95/max of idle and spray and the ratio of the p95s, measured in the same run; and
what the spray's logins got (401 = hashed and refused, 429 = limited). The code measured is
whichever ``archive_ingest`` the interpreter imports (``PYTHONPATH=old/src`` measures another
tree).

    .venv/bin/python bench/bench_login_spray.py [--requests 300] [--rounds 6]
        [--clients 40] [--rate 20] [--hashing] [--flood] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from harness import machine
from tests.support.serve import serve_process

from archive_ingest.catalogue import Catalogue
from archive_ingest.review import users

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def identify_times(client: httpx.Client, base: str, n: int) -> list[float]:
    out: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(f"{base}/oai", params={"verb": "Identify"})
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


OUTCOMES = (401, 429)  # then "other"


def _spray_worker(
    base: str, worker: int, interval: float, go: Any, stop: Any, in_flight: Any, counts: Any
) -> None:
    with httpx.Client(timeout=300) as client:
        match = TOKEN.search(client.get(f"{base}/review/login").text)
        if match is None:
            raise RuntimeError("no CSRF token on the login page")
        n = 0
        due = time.monotonic()
        while not stop.is_set():
            if not go.wait(0.1):
                due = time.monotonic()
                continue
            if interval:
                due += interval
                stop.wait(max(0.0, due - time.monotonic()))
            n += 1
            with in_flight.get_lock():
                in_flight.value += 1
            try:
                r = client.post(
                    f"{base}/review/login",
                    data={
                        "username": f"nobody-{worker}-{n}",
                        "password": "not a password",
                        "csrf_token": match.group(1),
                        "next": "/review/",
                    },
                    headers={"X-Forwarded-For": f"10.{worker}.{n // 250 % 250}.{n % 250 + 1}"},
                )
            finally:
                with in_flight.get_lock():
                    in_flight.value -= 1
            slot = OUTCOMES.index(r.status_code) if r.status_code in OUTCOMES else 2
            with counts.get_lock():
                counts[slot] += 1


def _spray_process(
    base: str, clients: int, interval: float, go: Any, stop: Any, in_flight: Any, counts: Any
) -> None:
    """The spraying clients, threads of a process of their own (not the measuring one)."""
    threads = [
        threading.Thread(
            target=_spray_worker, args=(base, i, interval, go, stop, in_flight, counts)
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Spray:
    """``clients`` clients posting logins with made-up names while ``go`` is set, one every
    ``interval`` seconds each (0: as soon as the previous one is answered)."""

    def __init__(self, base: str, clients: int, interval: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.go, self.stop = ctx.Event(), ctx.Event()
        self.in_flight = ctx.Value("i", 0)
        self.counts = ctx.Array("i", 3)
        self.process = ctx.Process(
            target=_spray_process,
            args=(base, clients, interval, self.go, self.stop, self.in_flight, self.counts),
            daemon=True,
        )
        self.process.start()

    def pause(self) -> None:
        """Stop posting and wait until the server has answered every login in flight."""
        self.go.clear()
        time.sleep(0.2)
        while self.in_flight.value:
            time.sleep(0.05)

    @property
    def outcomes(self) -> Counter[int]:
        return Counter({401: self.counts[0], 429: self.counts[1], 0: self.counts[2]})

    def close(self) -> None:
        self.go.clear()
        self.stop.set()
        self.process.join(timeout=300)


def measure(
    base: str, args: argparse.Namespace, rate: float
) -> tuple[list[float], list[float], Counter[int], float]:
    """Alternate idle and spray blocks (``--rounds`` of each), so load that other programs
    put on the machine falls on both alike."""
    idle: list[float] = []
    spray: list[float] = []
    block = max(1, args.requests // args.rounds)
    sprayers = Spray(base, args.clients, args.clients / rate if rate else 0.0)
    spraying = 0.0
    try:
        with httpx.Client(timeout=300) as client:
            identify_times(client, base, 5)
            for _ in range(args.rounds):
                idle += identify_times(client, base, block)
                sprayers.go.set()
                t0 = time.perf_counter()
                time.sleep(0.5)  # the spray is running
                spray += identify_times(client, base, block)
                sprayers.pause()
                spraying += time.perf_counter() - t0
    finally:
        sprayers.close()
    return idle, spray, sprayers.outcomes, spraying


def summary(times: list[float]) -> dict[str, float]:
    q = statistics.quantiles(times, n=20, method="inclusive")
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(q[18], 2),
        "max_ms": round(max(times), 2),
    }


def run(
    args: argparse.Namespace, home: Path, url: str, rate: float, **limits: object
) -> dict[str, Any]:
    with serve_process(home, url, **limits) as base:
        idle, spray, outcomes, seconds = measure(base, args, rate)
    result = {"idle": summary(idle), "spray": summary(spray)}
    result["ratio_p95"] = round(result["spray"]["p95_ms"] / result["idle"]["p95_ms"], 2)
    result["logins"] = {str(k) if k else "other": v for k, v in sorted(outcomes.items()) if v}
    result["logins_per_s"] = round(sum(outcomes.values()) / seconds, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="Identify requests per phase")
    parser.add_argument("--clients", type=int, default=40, help="concurrent spraying clients")
    parser.add_argument("--rounds", type=int, default=6, help="idle/spray blocks alternated")
    parser.add_argument("--rate", type=float, default=20.0, help="spray logins per second")
    parser.add_argument("--hashing", action="store_true", help="also the every-attempt-hashed case")
    parser.add_argument("--flood", action="store_true", help="also an unpaced flood")
    parser.add_argument("--database-url", help="default: SQLite under a temporary HOME")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-login-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        url = args.database_url or f"sqlite:///{home / 'catalogue.sqlite3'}"
        cat = Catalogue.open(url)
        try:
            users.add_user(cat, "ana", "archivist", "correct horse battery")
        finally:
            cat.close()
        results[f"default limits {args.rate:g}/s"] = run(args, home, url, args.rate)
        if args.hashing:
            results[f"all hashed {args.rate:g}/s"] = run(
                args,
                home,
                url,
                args.rate,
                web_login_max_attempts=10**6,
                web_login_max_client_attempts=10**6,
                web_login_max_total_attempts=10**6,
            )
        if args.flood:
            results["default limits, flood"] = run(args, home, url, 0.0)

    report = {
        "machine": machine(),
        "requests": args.requests,
        "clients": args.clients,
        "results": results,
    }
    print(report["machine"])
    print(
        f"{'case':24} {'idle p50':>9} {'idle p95':>9} {'spray p50':>10} {'spray p95':>10} "
        f"{'spray max':>10} {'p95 x':>6}  logins"
    )
    for name, r in results.items():
        print(
            f"{name:24} {r['idle']['p50_ms']:>9} {r['idle']['p95_ms']:>9} "
            f"{r['spray']['p50_ms']:>10} {r['spray']['p95_ms']:>10} {r['spray']['max_ms']:>10} "
            f"{r['ratio_p95']:>6}  {r['logins']} at {r['logins_per_s']}/s"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: one `archive-ingest ingest` call on a batch vs a hand-made sequential script.

Measured from outside, the way an operator runs them, side by side in one run, everything real
and on 127.0.0.1 (the local SciELO sample server, the embedded SeaweedFS servers of a fresh
HOME, the local Prefect API the CLI starts, OCRmyPDF/Tesseract):

* **cold**: 6 chapters with 2 scanned pages each. Nothing of archive-ingest runs (storage and
  the local Prefect API stopped; their data under HOME already initialised, as after a
  reboot); one `archive-ingest ingest REF x6` process, timed from its start to its exit.
  The hand-made script (bench/handmade_ingest.py: httpx, `ocrmypdf --force-ocr`, bagit, boto3)
  runs on 6 other chapters of the same content, with the storage it uploads to already up.
* **warm**: 10 chapters with 1 scanned page each; the services the cold call started are up;
  one `archive-ingest ingest REF x10` process vs the script on 10 other chapters.
* **second call**: `archive-ingest ingest` of an item already deposited (nothing new: resolve
  and fetch only), with the services up: the command's fixed cost, and its flow run's
  orchestration (``run_seconds`` minus the stages' seconds).

Every pipeline item must end ``deposited``. The per-item orchestration overhead is each item's
``run_seconds`` (the flow run as its caller waited for it) minus the sum of its
``stage_seconds``. Goals: cold <= 1.0 x the script, warm <= 0.9 x, overhead <= 0.3 s/item.

    .venv/bin/python bench/bench_batch.py [--cold-items 6] [--warm-items 10]
        [--concurrency N] [--set NAME=VALUE ...] [--json out.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import REPO, machine
from tests.support.samples import add_generated_book

from archive_ingest.settings import Settings
from archive_ingest.storage.credentials import load_credentials
from archive_ingest.storage.weed_process import Ports, port_is_free
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer

GOAL_COLD = 1.0
GOAL_WARM = 0.9
GOAL_OVERHEAD = 0.3
CLI = str(Path(sys.executable).parent / "archive-ingest")


def free_port_pair() -> int:
    """An S3 port whose four ports (and the second server's, +10) and their gRPC ports are free."""
    rng = random.Random()
    for _ in range(300):
        port = rng.randrange(10000, 22000)
        ports = Ports.derive(port).all() + Ports.derive(port + 10).all()
        if all(port_is_free(p) for p in ports):
            return port
    raise RuntimeError("no free port range for SeaweedFS on 127.0.0.1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(home: Path, port: int, server: SampleScieloServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ARCHIVE_INGEST_"))}
    env.update(
        {
            "HOME": str(home.parent / "user"),  # nothing of the bench user's own config
            "ARCHIVE_INGEST_HOME": str(home),
            "ARCHIVE_INGEST_CONFIG": str(home / "no-config.toml"),
            "ARCHIVE_INGEST_STORAGE_S3_PORT": str(port),
            "ARCHIVE_INGEST_S3_OBJECT_LOCK_DAYS": "1",
            "ARCHIVE_INGEST_PREFECT_API_PORT": str(free_port()),
            "PYTHONPATH": str(REPO),
        }
    )
    for key, value in server.settings_overrides().items():
        env[f"ARCHIVE_INGEST_{key.upper()}"] = str(value)
    return env


#: CPU seconds of the servers (storage, Prefect API) of the last timed command
SERVER_CPU = [0.0]


def server_cpu(home: Path) -> float:
    """CPU seconds so far of the long-lived servers whose command line names ``home`` (the
    embedded storage) or whose working folder is under it (the local Prefect API): they
    outlive the command, so its rusage does not count them."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
            if str(home) not in cmd and not cwd.startswith(str(home)):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total


def timed(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, str, int]:
    """Run ``cmd`` to its end: (wall seconds, CPU seconds of it and its children, stdout, rc);
    the servers' CPU over the same time in ``SERVER_CPU``."""
    home = Path(env["ARCHIVE_INGEST_HOME"])
    servers_before = server_cpu(home)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with log.open("ab") as err:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    SERVER_CPU[0] = max(0.0, server_cpu(home) - servers_before)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout.decode(), proc.returncode


def cli(env: dict[str, str], log: Path, *args: str) -> tuple[float, float, list[dict[str, Any]]]:
    wall, cpu, out, rc = timed([CLI, *args], env, log)
    lines = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")] if rc == 0 else []
    if rc != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"archive-ingest {' '.join(args[:2])} … exited {rc}: {tail}")
    return wall, cpu, lines


def pipeline(env: dict[str, str], log: Path, refs: list[str], concurrency: int | None) -> dict:
    extra = ["--concurrency", str(concurrency)] if concurrency else []
    wall, cpu, results = cli(env, log, "ingest", *extra, *refs)
    for result in results:
        if result.get("state") != "deposited":
            raise RuntimeError(f"{result.get('source')}: {result.get('state')}: {result}")
    return {"seconds": wall, "cpu": cpu, "server_cpu": SERVER_CPU[0], "items": results}


def handmade(
    env: dict[str, str], log: Path, urls: list[str], work: Path, language: str, port: int
) -> dict:
    settings = Settings(home=Path(env["ARCHIVE_INGEST_HOME"]), storage_s3_port=port)
    keys = load_credentials(settings.storage_dir / "credentials.json").for_role("ingest")
    script_env = dict(env)
    script_env["AWS_ACCESS_KEY_ID"] = keys.access_key_id
    script_env["AWS_SECRET_ACCESS_KEY"] = keys.secret_access_key.get_secret_value()
    cmd = [sys.executable, str(REPO / "bench" / "handmade_ingest.py")]
    cmd += ["--endpoint", f"http://127.0.0.1:{port}", "--bucket", settings.s3_bucket]
    cmd += ["--prefix", f"handmade/{work.name}", "--language", language, "--work", str(work)]
    wall, cpu, out, rc = timed([*cmd, *urls], script_env, log)
    if rc != 0:
        raise RuntimeError(f"hand-made script exited {rc}: {log.read_text()[-3000:]}")
    items = json.loads(out)["items"]
    return {"seconds": wall, "cpu": cpu, "server_cpu": SERVER_CPU[0], "items": items}


def overheads(items: list[dict[str, Any]]) -> list[float]:
    return [
        item["run_seconds"] - sum((item.get("stage_seconds") or {}).values())
        for item in items
        if "run_seconds" in item
    ]


def stage_totals(items: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        for stage, seconds in (item.get("stage_seconds") or {}).items():
            out[stage] = out.get(stage, 0.0) + seconds
    return out


def has_prefect_command(env: dict[str, str]) -> bool:
    proc = subprocess.run([CLI, "prefect", "--help"], env=env, capture_output=True, check=False)
    return proc.returncode == 0


def stop_services(env: dict[str, str], log: Path, prefect: bool) -> None:
    with log.open("ab") as err:
        subprocess.run([CLI, "storage", "down"], env=env, stdout=err, stderr=err, check=False)
        if prefect:
            subprocess.run([CLI, "prefect", "down"], env=env, stdout=err, stderr=err, check=False)


def run(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    books = {"handcold": (args.cold_items, 2), "cold": (args.cold_items, 2)}
    books |= {"handwarm": (args.warm_items, 1), "warm": (args.warm_items, 1)}
    catalogue = SampleCatalogue()
    (base / "src").mkdir()
    refs: dict[str, list[str]] = {}
    for sbid, (chapters, scanned) in books.items():
        refs[sbid] = add_generated_book(
            catalogue, sbid, chapters, base / "src", seed=0, scanned_pages=scanned
        )
    figures: dict[str, Any] = {"machine": machine(), "cli": CLI}
    home = base / "home"
    home.mkdir()
    (base / "user").mkdir()
    log = base / "commands.log"
    port = free_port_pair()
    with SampleScieloServer(catalogue) as server:
        env = child_env(home, port, server)
        for setting in args.set:
            name, _, value = setting.partition("=")
            env[f"ARCHIVE_INGEST_{name.upper()}"] = value
        figures["settings"] = args.set
        prefect = has_prefect_command(env)
        figures["local_prefect_api"] = prefect
        language = baseline_language(home, port)
        figures["language"] = language

        def urls(sbid: str) -> list[str]:
            book = server.catalogue.books[sbid]
            return [server.url(book.chapter_pdf_path(nn)) for nn in sorted(book.chapters)]

        try:
            # HOME as after a reboot: storage and Prefect data initialised, nothing running
            timed([CLI, "storage", "up"], env, log)
            if prefect:
                timed([CLI, "prefect", "up"], env, log)
            print(f"cold: hand-made script, {args.cold_items} items …", file=sys.stderr)
            figures["cold_handmade"] = handmade(
                env, log, urls("handcold"), base / "handcold", language, port
            )
            stop_services(env, log, prefect)
            print(f"cold: archive-ingest ingest, {args.cold_items} items …", file=sys.stderr)
            figures["cold_pipeline"] = pipeline(env, log, refs["cold"], args.concurrency)
            print(f"warm: archive-ingest ingest, {args.warm_items} items …", file=sys.stderr)
            figures["warm_pipeline"] = pipeline(env, log, refs["warm"], args.concurrency)
            print(f"warm: hand-made script, {args.warm_items} items …", file=sys.stderr)
            figures["warm_handmade"] = handmade(
                env, log, urls("handwarm"), base / "handwarm", language, port
            )
            print("second call: an unchanged item …", file=sys.stderr)
            wall, cpu, results = cli(env, log, "ingest", refs["warm"][0])
            figures["second_call"] = {"seconds": wall, "cpu": cpu, "items": results}
        finally:
            stop_services(env, log, prefect)
    return figures


def baseline_language(home: Path, port: int) -> str:
    """The Tesseract languages our stage chooses for the generated chapters (metadata "pt")."""
    from archive_ingest.ocr.languages import choose_languages, installed_languages

    settings = Settings(home=home, storage_s3_port=port)
    choice = choose_languages(["pt"], settings.ocr_fallback_languages, installed_languages())
    return choice.joined


def report(figures: dict[str, Any]) -> None:
    print(f"archive-ingest ingest (one call) vs hand-made script — {figures['machine']}")
    print(
        f"local Prefect API: {figures['local_prefect_api']}; OCR languages"
        f" {figures['language']}; settings {figures['settings'] or 'defaults'}"
    )
    print(f"{'case':<8} {'items':>5} {'script s':>9} {'pipeline s':>11} {'ratio':>6} {'goal':>5}")
    summary: dict[str, Any] = {}
    for case, goal in (("cold", GOAL_COLD), ("warm", GOAL_WARM)):
        script, ours = figures[f"{case}_handmade"], figures[f"{case}_pipeline"]
        ratio = ours["seconds"] / script["seconds"]
        verdict = "met" if ratio <= goal else "MISSED"
        n = len(ours["items"])
        print(
            f"{case:<8} {n:>5} {script['seconds']:>9.1f} {ours['seconds']:>11.1f} "
            f"{ratio:>6.2f} {goal:>5} {verdict}"
        )
        print(
            f"         CPU s: script {script['cpu']:.1f} + servers {script['server_cpu']:.1f},"
            f" pipeline {ours['cpu']:.1f} + servers {ours['server_cpu']:.1f}"
        )
        steps: dict[str, float] = {}
        for item in script["items"]:
            for key, value in item.items():
                if key not in ("url", "seconds"):
                    steps[key] = steps.get(key, 0.0) + value
        print("         script s/item: " + ", ".join(f"{k} {v / n:.2f}" for k, v in steps.items()))
        stages = stage_totals(ours["items"])
        shares = ", ".join(f"{k} {v / n:.2f}" for k, v in stages.items())
        print(f"         pipeline stage s/item: {shares}")
        over = overheads(ours["items"])
        runs = [i["run_seconds"] for i in ours["items"] if "run_seconds" in i]
        if over:
            print(
                f"         per item: flow run {sum(runs) / len(runs):.2f} s, orchestration "
                f"overhead mean {sum(over) / len(over):.3f} s, max {max(over):.3f} s"
                f" (goal <= {GOAL_OVERHEAD})"
            )
        summary[case] = {"ratio": ratio, "overhead_mean": sum(over) / len(over) if over else None}
    second = figures["second_call"]
    item = second["items"][0]
    over = overheads(second["items"])
    print(
        f"second call (unchanged item): {second['seconds']:.2f} s wall, {second['cpu']:.2f} CPU s;"
        f" flow run {item.get('run_seconds')} s, stages {item.get('stage_seconds')},"
        f" orchestration {over[0] if over else '?'}"
    )
    figures["summary"] = summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold-items", type=int, default=6)
    parser.add_argument("--warm-items", type=int, default=10)
    parser.add_argument("--concurrency", type=int, help="--concurrency of the ingest calls")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the pipeline's commands (e.g. ocr_max_concurrent=2)",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        figures = run(args, base)
        report(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    finally:
        if args.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

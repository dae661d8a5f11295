"""Benchmark: born-digital articles, the pipeline's CLI vs a fetch + hash + upload baseline.

Not a test; prints the figures, optionally writes JSON. Everything is real and on 127.0.0.1:
the local SciELO sample server serving ``--items`` generated ArticleMeta articles per mode
(each a born-digital PDF of about ``--size-mb`` MiB: a first page with the citation and a CC BY
4.0 statement, text pages in a real embedded font, and one photo-like JPEG figure with a visible
caption, so every page has visible text and none needs OCR), the embedded storage as the
product keeps it by default (``embedded_copies`` = 2 local SeaweedFS servers, both started
before timing: ``harness.embedded_targets``) and, by default, the product's local long-lived
Prefect API (``archive-ingest prefect up`` under the bench's HOME, on a free port, before
timing; ``--prefect server``: a ``prefect server`` from ``harness.prefect_server`` named by
PREFECT_API_URL, which also gives each flow run's start and end).

Measured side by side in one run (``--pipeline-first`` swaps the order):

* **baseline** (in this process, one item after another unless ``--baseline-concurrency``):
  ``httpx`` stream of the article PDF to disk from the URL the pipeline fetches; SHA-256 and
  SHA-512 of the file (one read); ``put_object(ChecksumAlgorithm="SHA256")`` of the file to
  every target the pipeline deposits to (both embedded servers, one after the other, under
  ``bench-baseline/``). Nothing else: no metadata, inspection, PDF/A, bag, records, catalogue,
  receipt or verification.
* **pipeline**: ONE ``archive-ingest ingest REF...`` process with all the REFs (the product's
  ``ingest_concurrency``, default 2, unless ``--concurrency``), the Prefect API already up;
  timed from the process start to its exit (imports and start-up included).
  Every item must end ``deposited``. Per item: ``stage_seconds`` and ``run_seconds`` (the flow
  run as the command waited for it) from its JSON line, and the orchestration overhead =
  ``run_seconds`` - the sum of its stage seconds.

CPU seconds are recorded for both: this process (baseline) or the CLI and its children
(``RUSAGE_CHILDREN``), the two SeaweedFS servers and the Prefect server (``/proc``).

    .venv/bin/python bench/bench_born_digital.py [--items 50] [--size-mb 1] [--concurrency N]
        [--baseline-concurrency 1] [--pipeline-first] [--prefect local|server] [--json out.json]
        [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from harness import (
    Targets,
    bench_env,
    embedded_targets,
    find_pid,
    machine,
    prefect_server,
    proc_cpu,
    tree,
)
from PIL import Image
from reportlab.lib.utils import ImageReader
from tests.support.ports import free_port
from tests.support.samples.corpus import page_text
from tests.support.samples.pdfwrite import binary_streams, new_canvas, remove_empty_trans
from tests.support.samples.render import BODY_FONT, MARGIN_PT, PAGE_SIZE, wrap

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import Settings
from archive_ingest.storage.s3 import make_client
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from archive_ingest_demo.scielo_sample.catalogue import pdf_path_for

GOAL = 1.5
MIB = 1024**2
ISSN = "0102-311X"
CC_BY = "This article is licensed under a Creative Commons Attribution 4.0 International License."
BASELINE_PREFIX = "bench-baseline"
TEXT_PAGES = 6
FONT_SIZE = 9.5
PITCH = 1.45

# --- the articles -------------------------------------------------------------------------------


def figure_jpeg(seed: int, target_bytes: int) -> bytes:
    """A photo-like RGB JPEG (smooth colour fields plus grain) of about ``target_bytes``."""
    rng = random.Random(seed)
    width, height, quality = 1600, 1200, 88
    data = b""
    for _ in range(6):
        coarse = Image.frombytes(
            "RGB", (width // 8, height // 8), rng.randbytes(width // 8 * height // 8 * 3)
        ).resize((width, height), Image.Resampling.BICUBIC)
        grain = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        buffer = io.BytesIO()
        Image.blend(coarse, grain, 0.25).save(buffer, "JPEG", quality=quality)
        data = buffer.getvalue()
        if abs(len(data) - target_bytes) < 0.08 * target_bytes:
            break
        scale = (target_bytes / len(data)) ** 0.5
        width, height = max(64, int(width * scale)), max(48, int(height * scale))
    return data


def _text_lines(canvas: Any, text: str, y: float, *, bottom: float = MARGIN_PT) -> float:
    width = PAGE_SIZE[0] - 2 * MARGIN_PT
    canvas.setFont(BODY_FONT, FONT_SIZE)
    for line in wrap(text, width, lambda s: canvas.stringWidth(s, BODY_FONT, FONT_SIZE)):
        if y < bottom:
            break
        canvas.drawString(MARGIN_PT, y, line)
        y -= FONT_SIZE * PITCH
    return y


def make_article_pdf(path: Path, *, title: str, seed: int, size_mb: float) -> int:
    """A born-digital article PDF of about ``size_mb`` MiB; returns its size in bytes."""
    figure = figure_jpeg(seed, max(50_000, int(size_mb * MIB) - 60_000))
    top = PAGE_SIZE[1] - MARGIN_PT
    with binary_streams():
        canvas = new_canvas(path, title=title, author="Gomes, Caio; Peressin, Alexandre")
        canvas.setFont("DejaVuSans-Bold", 11)
        canvas.drawString(MARGIN_PT, top, title[:60])
        y = _text_lines(canvas, "Gomes, Caio; Peressin, Alexandre. Cad. Saúde Pública.", top - 20)
        y = _text_lines(canvas, CC_BY, y - 6)
        _text_lines(canvas, page_text("en", 0, seed), y - 10)
        canvas.showPage()
        for page in range(1, TEXT_PAGES + 1):
            y = top
            if page == 2:  # the figure, with a visible caption above and text below
                box_w = PAGE_SIZE[0] - 2 * MARGIN_PT
                box_h = box_w * 0.75
                canvas.setFont(BODY_FONT, FONT_SIZE)
                canvas.drawString(MARGIN_PT, y, f"Figure 1. Sampling site {seed} (photograph).")
                y -= 6 + box_h
                canvas.drawImage(ImageReader(io.BytesIO(figure)), MARGIN_PT, y, box_w, box_h)
                y -= 14
            _text_lines(canvas, page_text("en", page, seed), y)
            canvas.showPage()
        canvas.save()
    remove_empty_trans(path)
    return path.stat().st_size


def pid_for(group: int, n: int) -> str:
    return f"S{ISSN}2026{group:04d}{n:05d}"


def add_articles(
    catalogue: SampleCatalogue, workdir: Path, group: int, items: int, size_mb: float
) -> tuple[list[str], list[str], list[int]]:
    """``items`` articles of collection scl; returns (REFs, PDF URL paths, PDF sizes)."""
    refs: list[str] = []
    paths: list[str] = []
    sizes: list[int] = []
    for n in range(1, items + 1):
        pid = pid_for(group, n)
        title = f"Born-digital article {group}-{n} on river basins"
        pdf = workdir / f"{pid}.pdf"
        sizes.append(make_article_pdf(pdf, title=title, seed=group * 1000 + n, size_mb=size_mb))
        article = catalogue.add_article(
            "scl",
            pid,
            titles={"en": title},
            doi=f"10.1590/{pid}",
            file_code=f"a{n:03d}g{group}",
            license="by/4.0",
            pdfs={"en": pdf},
        )
        refs.append(f"scielo-article:scl/{pid}")
        paths.append(pdf_path_for(article.document, "en"))
    return refs, paths, sizes


# --- CPU accounting -----------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds of the storage servers and the Prefect server over a block."""

    def __init__(self, targets: Targets, prefect_pid: int | None) -> None:
        self.storage_pids = [json.loads(s.pid_file.read_text())["pid"] for s in targets.storages]
        self.prefect_pid = prefect_pid

    def sample(self) -> dict[str, float]:
        return {
            "storage": sum(proc_cpu(pid) for pid in self.storage_pids),
            "prefect_server": proc_cpu(self.prefect_pid) if self.prefect_pid else 0.0,
        }


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in after}


# --- the baseline -------------------------------------------------------------------------------


def baseline_item(
    http: httpx.Client, clients: list[Any], buckets: list[str], url: str, work: Path, key: str
) -> dict[str, float]:
    times: dict[str, float] = {}
    path = work / url.rsplit("/", 1)[-1]
    t = time.perf_counter()
    with http.stream("GET", url) as response, path.open("wb") as out:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            out.write(chunk)
    times["fetch"] = time.perf_counter() - t
    t = time.perf_counter()
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha256.update(chunk)
            sha512.update(chunk)
    sha256.hexdigest(), sha512.hexdigest()
    times["hash"] = time.perf_counter() - t
    t = time.perf_counter()
    for client, bucket in zip(clients, buckets, strict=True):
        with path.open("rb") as fh:
            client.put_object(Bucket=bucket, Key=key, Body=fh, ChecksumAlgorithm="SHA256")
    times["upload"] = time.perf_counter() - t
    return times


def run_baseline(
    targets: Targets, urls: list[str], work: Path, concurrency: int, meter: CpuMeter
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    clients = [make_client(view, role="ingest") for view in targets.views]
    buckets = [view.s3_bucket for view in targets.views]
    http = httpx.Client(timeout=120)
    servers0, cpu0 = meter.sample(), time.process_time()
    t0 = time.perf_counter()

    def one(n_url: tuple[int, str]) -> dict[str, float]:
        n, url = n_url
        t = time.perf_counter()
        key = f"{BASELINE_PREFIX}/{work.parent.name}/{n:03d}.pdf"
        times = baseline_item(http, clients, buckets, url, work, key)
        return {"seconds": time.perf_counter() - t, **times}

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            items = list(pool.map(one, enumerate(urls)))
    finally:
        http.close()
    total = time.perf_counter() - t0
    return {
        "seconds": total,
        "concurrency": concurrency,
        "copies": len(clients),
        "items": items,
        "cpu_seconds": {
            "bench_process": round(time.process_time() - cpu0, 2),
            **_delta(meter.sample(), servers0),
        },
    }


# --- the pipeline -------------------------------------------------------------------------------


def run_pipeline(
    env: dict[str, str],
    refs: list[str],
    api: str | None,
    work: Path,
    concurrency: int | None,
    meter: CpuMeter,
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    cli = str(Path(sys.executable).with_name("archive-ingest"))
    cmd = [cli, "ingest", *refs]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    log = work / "ingest.stderr"
    started_at = dt.datetime.now(dt.UTC)
    servers0 = meter.sample()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err, check=False)
    total = time.perf_counter() - t0
    ended_at = dt.datetime.now(dt.UTC)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    servers = _delta(meter.sample(), servers0)
    results = [json.loads(line) for line in proc.stdout.decode().splitlines() if line[:1] == "{"]
    bad = [(r.get("id"), r.get("state"), r.get("reasons")) for r in results]
    bad = [b for b in bad if b[1] != "deposited"]
    if proc.returncode != 0 or len(results) != len(refs) or bad:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"ingest exit {proc.returncode}, {len(results)} results, not deposited: {bad}\n{tail}"
        )
    runs = flow_runs(api, started_at, len(refs)) if api else {}
    cli_cpu = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
    return {
        "seconds": total,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat(),
        "concurrency": concurrency,
        "results": results,
        "flow_runs": runs,
        "cpu_seconds": {"cli_and_children": round(cli_cpu, 2), **servers},
    }


def flow_runs(api: str, since: dt.datetime, expected: int) -> dict[str, dict[str, Any]]:
    """The ingest-item flow runs started since ``since``: REF -> start, end, seconds."""
    body = {
        "flows": {"name": {"any_": ["ingest-item"]}},
        "flow_runs": {"start_time": {"after_": since.isoformat()}},
        "limit": max(200, 2 * expected),
    }
    deadline = time.monotonic() + 30
    while True:
        response = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30)
        response.raise_for_status()
        runs = [r for r in response.json() if r.get("end_time")]
        if len(runs) >= expected or time.monotonic() > deadline:
            break
        time.sleep(1)
    out: dict[str, dict[str, Any]] = {}
    for run in runs:
        start = dt.datetime.fromisoformat(run["start_time"])
        end = dt.datetime.fromisoformat(run["end_time"])
        out[run["parameters"]["ref"]] = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "seconds": (end - start).total_seconds(),
            "state": run["state"]["type"],
        }
    return out


def stored(targets: Targets) -> dict[str, dict[str, int]]:
    """Objects and bytes under the pipeline's prefix (the AIPs), per target."""
    out: dict[str, dict[str, int]] = {}
    for view in targets.views:
        client = make_client(view, role="admin")
        objects = size = 0
        for page in client.get_paginator("list_object_versions").paginate(
            Bucket=view.s3_bucket, Prefix=f"{view.s3_prefix}/"
        ):
            for version in page.get("Versions", []):
                objects += 1
                size += int(version["Size"])
        out[view.storage_target_name] = {"objects": objects, "bytes": size}
    return out


def ocr_timings(home: Path, results: list[dict[str, Any]]) -> dict[str, float]:
    """Mean seconds per item of the OCR stage's own timings (its ocr-report.json)."""
    totals: dict[str, float] = {}
    found = 0
    for result in results:
        report = home / "work" / str(result["id"]) / f"v{result['version']}"
        with contextlib.suppress(OSError, ValueError):
            timings = json.loads((report / "bag/data/ocr/ocr-report.json").read_text())["timings"]
            found += 1
            for key, value in timings.items():
                totals[key] = totals.get(key, 0.0) + float(value)
    return {k: round(v / found, 3) for k, v in totals.items()} if found else {}


@contextlib.contextmanager
def prefect_api(
    kind: str, base: Path, env: dict[str, str]
) -> Iterator[tuple[str | None, int | None]]:
    """The Prefect API the command uses; yields (URL the bench may query, server pid).

    ``local``: the product's default, the local long-lived API (``archive-ingest prefect up``
    under the bench's HOME, on a free port), started before timing and stopped afterwards; the
    command finds it through its settings (no PREFECT_API_URL). ``server``: a ``prefect
    server`` (harness) named by PREFECT_API_URL."""
    if kind == "server":
        with prefect_server(base / "prefect") as api:
            port = api.rsplit(":", 1)[1].split("/", 1)[0]
            env["PREFECT_API_URL"] = api
            yield api, find_pid("prefect", "server", "start", "--port", port)
        return
    cli = str(Path(sys.executable).with_name("archive-ingest"))
    env.pop("PREFECT_API_URL", None)
    env["ARCHIVE_INGEST_PREFECT_API_PORT"] = str(free_port())
    env["ARCHIVE_INGEST_LOCAL_PREFECT_API"] = "true"
    up = subprocess.run(
        [cli, "prefect", "up"], env=env, capture_output=True, text=True, check=False
    )
    if up.returncode != 0:
        raise RuntimeError(f"archive-ingest prefect up failed: {up.stdout}{up.stderr}")
    try:
        port = env["ARCHIVE_INGEST_PREFECT_API_PORT"]
        pid = None
        for listening in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = listening.split()
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == int(port):
                pid = pid_of_socket(fields[9])
        yield None, pid
    finally:
        subprocess.run([cli, "prefect", "down"], env=env, capture_output=True, check=False)


def pid_of_socket(inode: str) -> int | None:
    """The process holding the socket of ``inode`` open."""
    target = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return int(entry.name)
    return None


# --- figures ------------------------------------------------------------------------------------


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    base, pipe = figures["baseline"], figures["pipeline"]
    n = len(pipe["results"])
    stages: dict[str, float] = {}
    walls: list[float] = []
    overheads: list[float] = []
    own = all(isinstance(r.get("run_seconds"), (int, float)) for r in pipe["results"])
    for ref, result in zip(pipe["refs"], pipe["results"], strict=True):
        item_stages = result.get("stage_seconds") or {}
        for stage, seconds in item_stages.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
        run = pipe["flow_runs"].get(ref)
        wall = result["run_seconds"] if own else run["seconds"] if run else None
        if wall is not None:
            walls.append(wall)
            overheads.append(wall - sum(item_stages.values()))
    in_stages = sum(stages.values())
    baseline_steps: dict[str, float] = {}
    for item in base["items"]:
        for key, value in item.items():
            if key != "seconds":
                baseline_steps[key] = baseline_steps.get(key, 0.0) + value
    runs = list(pipe["flow_runs"].values())
    first = min((dt.datetime.fromisoformat(r["start"]) for r in runs), default=None)
    last = max((dt.datetime.fromisoformat(r["end"]) for r in runs), default=None)
    prefect_walls = [r["seconds"] for r in runs]
    aips = pipe.get("stored", {})
    return {
        "items": n,
        "stored_per_item_per_target": {
            name: {k: round(v / n) for k, v in counts.items()} for name, counts in aips.items()
        },
        "baseline_s": round(base["seconds"], 2),
        "pipeline_s": round(pipe["seconds"], 2),
        "baseline_items_per_min": round(60 * n / base["seconds"], 1),
        "pipeline_items_per_min": round(60 * n / pipe["seconds"], 1),
        "ratio": round(pipe["seconds"] / base["seconds"], 3),
        "goal": GOAL,
        "baseline_step_s_per_item": {k: round(v / n, 3) for k, v in baseline_steps.items()},
        "stage_s_total": {k: round(v, 2) for k, v in stages.items()},
        "stage_share_of_stage_time": {k: round(v / in_stages, 3) for k, v in stages.items()},
        "stage_s_per_item": {k: round(v / n, 3) for k, v in stages.items()},
        "item_wall_s_mean": round(sum(walls) / len(walls), 3) if len(walls) == n else None,
        "item_wall_source": "result run_seconds" if own else "prefect flow run start..end",
        "item_wall_s_total_over_items": round(pipe["seconds"] / n, 3),
        "prefect_flow_run_s_mean": round(sum(prefect_walls) / len(prefect_walls), 3)
        if prefect_walls
        else None,
        "orchestration_overhead_s_mean": round(sum(overheads) / len(overheads), 3)
        if overheads
        else None,
        "orchestration_overhead_s_max": round(max(overheads), 3) if overheads else None,
        "orchestration_overhead_s_median": round(statistics.median(overheads), 3)
        if overheads
        else None,
        "item_wall_s_median": round(statistics.median(walls), 3) if walls else None,
        "startup_s": round(
            (first - dt.datetime.fromisoformat(pipe["started_at"])).total_seconds(), 2
        )
        if first
        else None,
        "after_last_run_s": round(
            (dt.datetime.fromisoformat(pipe["ended_at"]) - last).total_seconds(), 2
        )
        if last
        else None,
    }


def report(figures: dict[str, Any]) -> None:
    s = figures["summary"]
    print(f"born-digital articles: {s['items']} items of ~{figures['mean_pdf_mib']:.2f} MiB")
    print(f"machine: {figures['machine']}; tree {figures['tree']}")
    print(
        f"copies: {figures['copies']} (embedded default); pipeline concurrency "
        f"{figures['pipeline']['concurrency_used']}; baseline concurrency "
        f"{figures['baseline']['concurrency']}"
    )
    print()
    print(f"{'mode':<10} {'total s':>8} {'items/min':>10} {'s/item':>8}  CPU s")
    for mode in ("baseline", "pipeline"):
        total = s[f"{mode}_s"]
        cpu = ", ".join(f"{k} {v}" for k, v in figures[mode]["cpu_seconds"].items())
        print(
            f"{mode:<10} {total:>8.2f} {s[f'{mode}_items_per_min']:>10.1f} "
            f"{total / s['items']:>8.3f}  {cpu}"
        )
    verdict = "met" if s["ratio"] <= GOAL else "MISSED"
    print(f"\nratio pipeline / baseline = {s['ratio']:.3f} (goal <= {GOAL}): {verdict}\n")
    print("baseline s/item by step: " + json.dumps(s["baseline_step_s_per_item"]))
    share = s["stage_share_of_stage_time"]
    print("pipeline stage seconds, all items (share of stage time, s/item):")
    for stage, total in s["stage_s_total"].items():
        print(
            f"  {stage:<9} {total:>8.2f} s  {100 * share[stage]:5.1f} %  {total / s['items']:.3f}"
        )
    print(
        f"per-item wall {s['item_wall_s_mean']} s ({s['item_wall_source']}; Prefect's flow run "
        f"{s['prefect_flow_run_s_mean']} s; total / items {s['item_wall_s_total_over_items']} s);"
        f" median {s['item_wall_s_median']} s; orchestration overhead (wall - stage seconds) mean "
        f"{s['orchestration_overhead_s_mean']} s, median {s['orchestration_overhead_s_median']}"
        f" s, max {s['orchestration_overhead_s_max']} s"
    )
    print(f"stored per item, per target: {json.dumps(s['stored_per_item_per_target'])}")
    print(f"OCR stage's own timings, s/item: {json.dumps(figures['pipeline']['ocr_timings'])}")
    print(
        f"CLI start-up to the first flow run {s['startup_s']} s; last flow run end to exit "
        f"{s['after_last_run_s']} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=50, help="articles per mode (50)")
    parser.add_argument("--size-mb", type=float, default=1.0, help="PDF size, MiB (1)")
    parser.add_argument("--concurrency", type=int, default=None, help="ingest --concurrency")
    parser.add_argument("--baseline-concurrency", type=int, default=1, help="baseline threads")
    parser.add_argument("--pipeline-first", action="store_true", help="run the pipeline first")
    parser.add_argument(
        "--prefect",
        choices=["local", "server"],
        default="local",
        help="local: the product's local Prefect API (default); server: a prefect server",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="bench-born-digital-"))
    for key in [k for k in os.environ if k.startswith("ARCHIVE_INGEST_")]:
        del os.environ[key]
    os.environ["ARCHIVE_INGEST_CONFIG"] = str(base / "no-config.toml")
    figures: dict[str, Any] = {"benchmark": "bench_born_digital", "items": args.items}
    stack = contextlib.ExitStack()
    try:
        catalogue = SampleCatalogue()
        print(f"generating 2 x {args.items} articles …", file=sys.stderr)
        src = base / "src"
        src.mkdir()
        _, urls_b, sizes_b = add_articles(catalogue, src, 1, args.items, args.size_mb)
        refs, _, sizes_p = add_articles(catalogue, src, 2, args.items, args.size_mb)
        figures["mean_pdf_mib"] = sum(sizes_b + sizes_p) / len(sizes_b + sizes_p) / MIB
        with (
            embedded_targets(base / "home") as targets,
            SampleScieloServer(catalogue) as server,
        ):
            env = bench_env(storage=targets, server=server, prefect_home=base / "prefect-client")
            api, prefect_pid = stack.enter_context(prefect_api(args.prefect, base, env))
            figures["prefect"] = args.prefect
            meter = CpuMeter(targets, prefect_pid)
            # the catalogue as an archive in use has it (created, migrated), untimed: on a
            # fresh HOME the command's item threads each migrate it at once, which races
            settings = Settings(home=targets.home, storage_s3_port=targets.port)
            Catalogue.open(settings.effective_database_url).close()
            figures["copies"] = targets.copies
            figures["concurrency_default"] = Settings.model_fields["ingest_concurrency"].default
            order = ["pipeline", "baseline"] if args.pipeline_first else ["baseline", "pipeline"]
            figures["order"] = order
            figures["load_before"] = {}
            for mode in order:
                figures["load_before"][mode] = os.getloadavg()[0]
                print(f"{mode}: {args.items} items …", file=sys.stderr)
                if mode == "baseline":
                    figures["baseline"] = run_baseline(
                        targets,
                        [server.url(p) for p in urls_b],
                        base / "baseline" / "files",
                        args.baseline_concurrency,
                        meter,
                    )
                else:
                    figures["pipeline"] = run_pipeline(
                        env, refs, api, base / "pipeline", args.concurrency, meter
                    )
                    figures["pipeline"]["refs"] = refs
                    figures["pipeline"]["stored"] = stored(targets)
                    figures["pipeline"]["ocr_timings"] = ocr_timings(
                        targets.home, figures["pipeline"]["results"]
                    )
                    figures["pipeline"]["concurrency_used"] = min(
                        args.items, args.concurrency or figures["concurrency_default"]
                    )
        figures["machine"] = machine()
        figures["tree"] = tree()
        figures["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        figures["summary"] = summarise(figures)
        report(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    finally:
        stack.close()
        if args.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

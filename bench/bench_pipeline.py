"""Benchmark: the whole pipeline vs a hand-made baseline script doing the same work.

Everything is real and on 127.0.0.1: the local SciELO sample server (one catalogue with one
generated book per mode and round, so every run ingests new items), the project's embedded
SeaweedFS (one instance, one HOME), a real ``prefect server`` and real OCRmyPDF/Tesseract.
Measured side by side in one run, ``--rounds`` times, alternating which goes first:

* **baseline** (in this process, one item after another): download the chapter PDF with httpx
  from the same URL the pipeline fetches; drop the empty ``/Trans`` of every page with pikepdf
  (the one repair these files need for the internal PDF/A backend; our stage's cleanup does it
  too); OCRmyPDF through its Python API with the options of
  our OCR stage (``archive_ingest.ocr.engine``): pass 1 ``mode=redo`` on the scanned pages,
  ``output_type=pdf``, ``optimize=0``, the same Tesseract languages and ``jobs``, plus a sidecar
  text; pass 2 ``ocr_engine=none, mode=skip, output_type=pdfa-2, pdfa_backend=internal,
  optimize=0, jobs=1`` (the access copy); ``bagit.make_bag(checksums=["sha256", "sha512"])``
  with original + access copy + text; ``put_object(ChecksumAlgorithm="SHA256")`` of every bag
  file to the same bucket under ``bench-baseline/``. It does NOT: resolve metadata, inspect the
  PDF, identify formats, analyse pages (it is told the generated layout: page 1 born-digital,
  the rest scanned), run the per-page quality gate or keep hOCR, check the licence, write
  METS/PREMIS/DC, keep a catalogue, write checkpoints, use conditional writes or object-lock
  headers, verify stored objects, or write a receipt. OCRmyPDF runs in-process (our stage runs
  it as a child process in its own process group, with a timeout and a machine-wide slot). If
  the PDF/A pass is refused, the plain PDF becomes the access copy (as in our stage; counted).
* **pipeline, warm**: ``flows.ingest.ingest_item(ref=...)`` for each chapter, one after
  another, in ONE child process whose ``PREFECT_API_URL`` points at the running
  ``prefect server``; only the loop is timed (not the imports). Every item must end
  ``deposited``. Per-stage times come from the Prefect API (task run durations).
* **pipeline, cold** (``--skip-cold`` to leave out): ``archive-ingest ingest REF`` as a fresh
  CLI process per item WITHOUT ``PREFECT_API_URL`` (Prefect starts a temporary server in each
  process; one PREFECT_HOME for all cold items, so only the first creates its database); timed
  per item including process start-up.

Ratios: warm pipeline / baseline (goal <= 1.10) and cold / baseline, on total seconds.

    .venv/bin/python bench/bench_pipeline.py [--chapters 10] [--rounds 1] [--scanned-pages 1]
        [--skip-cold] [--json out.json] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from harness import (
    Storage,
    bench_env,
    embedded_storage,
    machine,
    prefect_server,
    stop_process,
)
from tests.support.samples import add_generated_book

from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer

GOAL_WARM = 1.10
BASELINE_PREFIX = "bench-baseline"

# --- the baseline ------------------------------------------------------------------------------


def pdf_urls(server: SampleScieloServer, sbid: str) -> list[str]:
    """The chapter PDF URLs of book ``sbid``, in chapter order (what the pipeline fetches)."""
    book = server.catalogue.books[sbid]
    return [server.url(book.chapter_pdf_path(nn)) for nn in sorted(book.chapters)]


def baseline_languages(settings: Settings) -> str:
    """Tesseract languages our stage chooses for the generated chapters (metadata "pt")."""
    from archive_ingest.ocr.languages import choose_languages, installed_languages

    choice = choose_languages(["pt"], settings.ocr_fallback_languages, installed_languages())
    return choice.joined


class Baseline:
    """The hand-made script: httpx, ocrmypdf (2 passes), bagit, boto3; nothing else."""

    def __init__(self, settings: Settings, work: Path, *, language: str, scanned_pages: int):
        import httpx

        from archive_ingest.storage.s3 import make_client

        self.work = work
        self.language = language
        self.pages = "2" if scanned_pages == 1 else f"2-{1 + scanned_pages}"
        self.jobs = settings.ocr_jobs
        self.bucket = settings.s3_bucket
        self.http = httpx.Client(timeout=120)
        self.s3 = make_client(settings, role="ingest")

    def close(self) -> None:
        self.http.close()

    def item(self, url: str, key_prefix: str) -> dict[str, float]:
        with _keep_std_streams():
            return self._item(url, key_prefix)

    def _item(self, url: str, key_prefix: str) -> dict[str, float]:
        import bagit
        import ocrmypdf
        import pikepdf

        times: dict[str, float] = {}
        name = url.rsplit("/", 1)[-1]
        stem = name.removesuffix(".pdf")
        item_dir = self.work / stem
        bag_dir = item_dir / "bag"
        for sub in ("original", "access", "text"):
            (bag_dir / sub).mkdir(parents=True, exist_ok=True)
        original = bag_dir / "original" / name

        t = time.perf_counter()
        with self.http.stream("GET", url) as response, original.open("wb") as fh:
            response.raise_for_status()
            for chunk in response.iter_bytes(1 << 20):
                fh.write(chunk)
        times["fetch"] = time.perf_counter() - t

        t = time.perf_counter()
        # the one repair these files need for the internal PDF/A backend (empty /Trans on every
        # page; our stage's cleanup also drops unused unembedded fonts, not needed here)
        cleaned = item_dir / "clean.pdf"
        with pikepdf.open(original) as pdf:
            for page in pdf.pages:
                if "/Trans" in page.obj:
                    del page.obj["/Trans"]
            pdf.save(cleaned)
        times["clean"] = time.perf_counter() - t

        t = time.perf_counter()
        ocr_pdf = item_dir / "ocr.pdf"
        ocrmypdf.ocr(
            cleaned,
            ocr_pdf,
            language=self.language,
            mode="redo",
            pages=self.pages,
            output_type="pdf",
            optimize=0,
            jobs=self.jobs,
            sidecar=bag_dir / "text" / f"{stem}.txt",
            invalidate_digital_signatures=True,
            progress_bar=False,
        )
        times["ocr"] = time.perf_counter() - t
        t = time.perf_counter()
        access = bag_dir / "access" / name
        try:
            ocrmypdf.ocr(
                ocr_pdf,
                access,
                ocr_engine="none",
                mode="skip",
                output_type="pdfa-2",
                pdfa_backend="internal",
                optimize=0,
                jobs=1,
                invalidate_digital_signatures=True,
                progress_bar=False,
            )
            times["plain_pdf_access"] = 0
        except ocrmypdf.exceptions.PdfaConversionFailedError:
            # as our stage does when the internal backend refuses: the plain PDF is the copy
            shutil.copyfile(ocr_pdf, access)
            times["plain_pdf_access"] = 1
        times["pdfa"] = time.perf_counter() - t

        t = time.perf_counter()
        bagit.make_bag(str(bag_dir), checksums=["sha256", "sha512"])
        times["bag"] = time.perf_counter() - t

        t = time.perf_counter()
        for path in sorted(p for p in bag_dir.rglob("*") if p.is_file()):
            key = f"{key_prefix}/{stem}/{path.relative_to(bag_dir).as_posix()}"
            with path.open("rb") as fh:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=fh, ChecksumAlgorithm="SHA256")
        times["upload"] = time.perf_counter() - t
        return times


@contextlib.contextmanager
def _keep_std_streams() -> Iterator[None]:
    """Put sys.stdout/sys.stderr back: OCRmyPDF 17.13's in-process ocr() leaves sys.stderr
    replaced by a StringIO (its rich progress bar redirects it even when disabled), which
    silently swallows every later message and traceback."""
    saved = sys.stdout, sys.stderr
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def run_baseline(
    settings: Settings, work: Path, urls: list[str], key_prefix: str, *, language: str, scanned: int
) -> dict[str, Any]:
    base = Baseline(settings, work, language=language, scanned_pages=scanned)
    items: list[dict[str, float]] = []
    try:
        t0 = time.perf_counter()
        for url in urls:
            t = time.perf_counter()
            stages = base.item(url, key_prefix)
            items.append({"seconds": time.perf_counter() - t, **stages})
        total = time.perf_counter() - t0
    finally:
        base.close()
    return {"seconds": total, "items": items}


# --- the warm pipeline (child process) ---------------------------------------------------------


def worker_main(refs: list[str], out: Path) -> int:
    """``--worker-mode``: ingest ``refs`` in this process (env set by the parent), time the loop."""
    from flows.ingest import ingest_item

    items: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for ref in refs:
        t = time.perf_counter()
        state = ingest_item(ref=ref, return_state=True)
        seconds = time.perf_counter() - t
        items.append(
            {
                "ref": ref,
                "seconds": seconds,
                "result": state.result(),
                "flow_run_id": str(state.state_details.flow_run_id),
            }
        )
    total = time.perf_counter() - t0
    stages: dict[str, float] = {}
    stages_error = None
    try:
        stages = _task_seconds([i["flow_run_id"] for i in items])
    except Exception as exc:  # a breakdown is optional: never fail the run on it
        stages_error = f"{type(exc).__name__}: {exc}"
    data = {"seconds": total, "items": items, "stages": stages, "stages_error": stages_error}
    out.write_text(json.dumps(data))
    return 0


def _task_seconds(flow_run_ids: list[str], per_item: int = 8) -> dict[str, float]:
    """Total run time per task name over the given flow runs (from the Prefect API).

    Task runs reach the server through its event pipeline, a little after the flow returned:
    wait (bounded) until every item's ``per_item`` tasks have ended."""
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    ids = [uuid.UUID(i) for i in flow_run_ids]
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,  # the sync client's None gets a 422
                limit=200,
            )
            ended = [r for r in runs if r.start_time and r.end_time]
            if len(ended) >= per_item * len(ids) or time.monotonic() > deadline:
                break
            time.sleep(1)
    out: dict[str, float] = {}
    for run in ended:
        name = run.name.rsplit("-", 1)[0]
        assert run.start_time and run.end_time
        out[name] = out.get(name, 0.0) + (run.end_time - run.start_time).total_seconds()
    return out


def run_warm(env: dict[str, str], refs: list[str], work: Path) -> dict[str, Any]:
    out = work / "warm.json"
    log = work / "warm.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker-mode", str(out), *refs]
    with log.open("wb") as fh:
        returncode, _ = run_child(cmd, env, stderr=fh)
    if returncode != 0 or not out.is_file():
        raise RuntimeError(f"warm pipeline worker failed ({returncode}): {_tail(log)}")
    data: dict[str, Any] = json.loads(out.read_text())
    for item in data["items"]:
        _check_deposited(item["ref"], item["result"])
    return data


# --- the cold pipeline (one CLI process per item) ----------------------------------------------


def run_cold(env: dict[str, str], refs: list[str], work: Path) -> dict[str, Any]:
    env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    # the temporary server per process, as this case measures (not the local API, which
    # bench_batch.py measures)
    env["ARCHIVE_INGEST_LOCAL_PREFECT_API"] = "false"
    items: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for n, ref in enumerate(refs):
        log = work / f"cold-{n}.log"
        t = time.perf_counter()
        with log.open("wb") as err:
            cmd = [sys.executable, "-m", "flows.cli", "ingest", ref]
            returncode, stdout = run_child(cmd, env, stderr=err)
        seconds = time.perf_counter() - t
        lines = [ln for ln in stdout.decode().splitlines() if ln.startswith("{")]
        if returncode != 0 or not lines:
            raise RuntimeError(f"cold ingest of {ref} failed ({returncode}): {_tail(log)}")
        result = json.loads(lines[-1])
        _check_deposited(ref, result)
        items.append({"ref": ref, "seconds": seconds, "result": result})
    return {"seconds": time.perf_counter() - t0, "items": items}


def run_child(cmd: list[str], env: dict[str, str], *, stderr: IO[bytes]) -> tuple[int, bytes]:
    """Run ``cmd`` in its own process group to the end; whatever happens, stop the group (the
    cold CLI's temporary Prefect server, OCRmyPDF workers) before returning."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=out,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            returncode = proc.wait()
        finally:
            if proc.returncode is None:  # interrupted: stop the whole group
                stop_process(proc)
        _stop_stragglers(proc.pid)
        out.seek(0)
        return returncode, out.read()


def _stop_stragglers(pgid: int) -> None:
    """SIGTERM, then SIGKILL, what is left of our child's process group after it exited.

    Signal 0 first: while a member lives, the group id cannot belong to anyone else."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        os.killpg(pgid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def _check_deposited(ref: str, result: dict[str, Any]) -> None:
    if result.get("state") != "deposited":
        raise RuntimeError(
            f"{ref} ended {result.get('state')!r}, not 'deposited': {result.get('reasons')}"
        )


def _tail(path: Path, chars: int = 3000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-chars:]
    return ""


# --- the run -----------------------------------------------------------------------------------


@contextlib.contextmanager
def source(workdir: Path, books: dict[str, int], scanned: int) -> Iterator[SampleScieloServer]:
    """One sample server with one generated book per sbid (same seed: same scanned pages)."""
    workdir.mkdir(parents=True, exist_ok=True)
    catalogue = SampleCatalogue()
    for sbid, chapters in books.items():
        add_generated_book(catalogue, sbid, chapters, workdir, seed=0, scanned_pages=scanned)
    with SampleScieloServer(catalogue) as server:
        yield server


def ocr_reports(storage: Storage, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pipeline's ocr-report.json of each item (languages, access format, stage timings)."""
    out: list[dict[str, Any]] = []
    for result in results:
        version = storage.home / "work" / str(result["id"]) / f"v{result['version']}"
        with contextlib.suppress(OSError, ValueError):
            out.append(json.loads((version / "bag/data/ocr/ocr-report.json").read_text()))
    return out


def run(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    n, rounds = args.chapters, args.rounds
    books = {f"base{r}": n for r in range(rounds)} | {f"warm{r}": n for r in range(rounds)}
    if not args.skip_cold:
        books["cold"] = args.cold_chapters or n
    figures: dict[str, Any] = {"machine": machine(), "chapters": n, "rounds": rounds}
    with (
        embedded_storage(base / "home") as storage,
        source(base / "src", books, args.scanned_pages) as server,
        prefect_server(base / "prefect") as api,
    ):
        settings = Settings(home=storage.home, storage_s3_port=storage.port, s3_endpoint_url=None)
        language = args.language or baseline_languages(settings)
        env = bench_env(storage=storage, server=server, api_url=api, prefect_home=base / "prefect")
        figures["baseline_language"] = language
        baseline_runs: list[dict[str, Any]] = []
        warm_runs: list[dict[str, Any]] = []
        for r in range(rounds):
            urls = pdf_urls(server, f"base{r}")
            refs = [f"scielo-books:warm{r}/{i:02d}" for i in range(1, n + 1)]
            (base / f"baseline{r}").mkdir()
            (base / f"warm{r}").mkdir()
            order = ("baseline", "warm") if r % 2 == 0 else ("warm", "baseline")
            for mode in order:
                print(f"round {r + 1}/{rounds}: {mode} ({n} chapters) …", file=sys.stderr)
                if mode == "baseline":
                    baseline_runs.append(
                        run_baseline(
                            settings,
                            base / f"baseline{r}",
                            urls,
                            f"{BASELINE_PREFIX}/{base.name}/r{r}",
                            language=language,
                            scanned=args.scanned_pages,
                        )
                    )
                else:
                    warm_runs.append(run_warm(env, refs, base / f"warm{r}"))
        figures["baseline"] = baseline_runs
        figures["warm"] = warm_runs
        reports = ocr_reports(storage, [i["result"] for w in warm_runs for i in w["items"]])
        used = {"+".join(r.get("languages", [])) for r in reports}
        figures["pipeline_languages"] = sorted(used)
        figures["pipeline_access_formats"] = sorted({r["access"]["format"] for r in reports})
        figures["pipeline_ocr_timings"] = [r.get("timings", {}) for r in reports]
        if used and used != {language}:
            figures["warning"] = f"baseline OCR'd with {language}, the pipeline with {used}"
        if not args.skip_cold:
            cold_n = books["cold"]
            refs = [f"scielo-books:cold/{i:02d}" for i in range(1, cold_n + 1)]
            (base / "cold").mkdir()
            cold_env = env | {"PREFECT_HOME": str(base / "prefect-cold")}
            print(f"cold: {cold_n} CLI processes …", file=sys.stderr)
            figures["cold"] = run_cold(cold_env, refs, base / "cold")
    return figures


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    def per_item(runs: list[dict[str, Any]]) -> tuple[float, int]:
        return sum(r["seconds"] for r in runs), sum(len(r["items"]) for r in runs)

    b_total, b_items = per_item(figures["baseline"])
    w_total, w_items = per_item(figures["warm"])
    summary: dict[str, Any] = {
        "baseline_s": b_total,
        "baseline_s_per_item": b_total / b_items,
        "warm_s": w_total,
        "warm_s_per_item": w_total / w_items,
        "ratio_warm": (w_total / w_items) / (b_total / b_items),
        "goal_warm": GOAL_WARM,
    }
    if "cold" in figures:
        c_total, c_items = per_item([figures["cold"]])
        summary |= {
            "cold_s": c_total,
            "cold_s_per_item": c_total / c_items,
            "ratio_cold": (c_total / c_items) / (b_total / b_items),
        }
    return summary


def report(figures: dict[str, Any]) -> None:
    s = figures["summary"]
    n, rounds = figures["chapters"], figures["rounds"]
    print(f"pipeline vs hand-made baseline: {n} chapters x {rounds} round(s)")
    print(f"machine: {figures['machine']}")
    print(
        f"OCR languages: baseline {figures['baseline_language']}, pipeline "
        f"{'/'.join(figures['pipeline_languages']) or '?'}"
    )
    if "warning" in figures:
        print(f"WARNING: {figures['warning']}")
    print()
    print(f"{'mode':<20} {'items':>5} {'total s':>9} {'s/item':>8} {'ratio':>7}")
    rows = [("baseline", s["baseline_s"], s["baseline_s_per_item"], 1.0)]
    rows.append(("pipeline, warm", s["warm_s"], s["warm_s_per_item"], s["ratio_warm"]))
    if "cold_s" in s:
        rows.append(("pipeline, cold CLI", s["cold_s"], s["cold_s_per_item"], s["ratio_cold"]))
    for name, total, each, ratio in rows:
        items = round(total / each)
        print(f"{name:<20} {items:>5} {total:>9.2f} {each:>8.2f} {ratio:>7.3f}")
    print()
    verdict = "met" if s["ratio_warm"] <= GOAL_WARM else "MISSED"
    print(f"warm pipeline / baseline = {s['ratio_warm']:.3f} (goal <= {GOAL_WARM}): {verdict}")
    if "ratio_cold" in s:
        print(f"cold CLI / baseline = {s['ratio_cold']:.3f} (reported, no goal)")
    print()
    stages: dict[str, float] = {}
    for b in figures["baseline"]:
        for item in b["items"]:
            for key, value in item.items():
                if key not in ("seconds", "plain_pdf_access"):
                    stages[key] = stages.get(key, 0.0) + value
    b_items = sum(len(b["items"]) for b in figures["baseline"])
    plain = sum(i.get("plain_pdf_access", 0) for b in figures["baseline"] for i in b["items"])
    if plain:
        print(
            f"baseline: the internal PDF/A backend refused {plain} of {b_items} files (the"
            " uncleaned OCR output); their access copy is the plain PDF, as our stage would do"
        )
    print(
        "baseline s/item by step: " + ", ".join(f"{k} {v / b_items:.2f}" for k, v in stages.items())
    )
    w_items = sum(len(w["items"]) for w in figures["warm"])
    tasks: dict[str, float] = {}
    for w in figures["warm"]:
        for key, value in w.get("stages", {}).items():
            tasks[key] = tasks.get(key, 0.0) + value
    for w in figures["warm"]:
        if w.get("stages_error"):
            print(f"(no per-task breakdown: {w['stages_error']})")
    if tasks:
        in_tasks = sum(tasks.values())
        print(
            "pipeline s/item by task: "
            + ", ".join(f"{k} {v / w_items:.2f}" for k, v in tasks.items())
            + f"; outside tasks {(s['warm_s'] - in_tasks) / w_items:.2f}"
        )
    ocr_timings: dict[str, float] = {}
    for timings in figures.get("pipeline_ocr_timings", []):
        for key, value in timings.items():
            ocr_timings[key] = ocr_timings.get(key, 0.0) + value
    if ocr_timings:
        count = len(figures["pipeline_ocr_timings"])
        print(
            "pipeline OCR stage s/item (ocr-report.json): "
            + ", ".join(f"{k} {v / count:.2f}" for k, v in ocr_timings.items())
            + f"; access copy {'/'.join(figures['pipeline_access_formats'])}"
        )
    per_run = {"baseline": figures["baseline"], "warm": figures["warm"]}
    if "cold" in figures:
        per_run["cold"] = [figures["cold"]]
    for name, runs in per_run.items():
        print(f"{name} s per item: {[round(i['seconds'], 2) for r in runs for i in r['items']]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", type=int, default=10, help="chapters per batch (10)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (1)")
    parser.add_argument("--scanned-pages", type=int, default=1, help="scanned pages/chapter (1)")
    parser.add_argument("--skip-cold", action="store_true", help="leave out the cold CLI case")
    parser.add_argument("--cold-chapters", type=int, default=0, help="cold items (= --chapters)")
    parser.add_argument("--language", help="baseline Tesseract languages (default: as the stage)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--worker-mode", nargs="+", metavar=("OUT", "REF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_mode:
        return worker_main(args.worker_mode[1:], Path(args.worker_mode[0]))

    base = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    # this process's Settings (the baseline's OCR jobs, bucket) as the children's: bench_env
    # drops every ARCHIVE_INGEST_* variable and points ARCHIVE_INGEST_CONFIG at no file
    for key in [k for k in os.environ if k.startswith("ARCHIVE_INGEST_")]:
        del os.environ[key]
    os.environ["ARCHIVE_INGEST_CONFIG"] = str(base / "no-config.toml")
    try:
        figures = run(args, base)
        figures["summary"] = summarise(figures)
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

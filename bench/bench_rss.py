"""Peak RSS of fetch + package + deposit of one large PDF, OCR excluded (goal <= 250 MB).

What is measured: the resident memory of the child process(es) that run the stages of
``archive_ingest.ingest`` for a SciELO Books chapter whose PDF is ``--size-mb`` large (default
1024): resolve -> fetch -> inspect -> licence -> describe -> package -> deposit, two ways:

* A (``--mode one``): ONE process runs every stage, as a worker does; its peak is the figure.
* B (``--mode per-stage``): a fresh process per stage (the checkpoints on disk carry the item
  from one to the next, the Handle is passed along as JSON), so each stage's peak starts from
  the same baseline and nothing one stage left on the heap shows up in the next.

``--mode both`` (default) ingests two chapters serving the same PDF, one each way.

How:

* The PDF is written to disk chunk by chunk, never held in memory: a real one-page SciELO-like
  chapter (``make_sample_chapter``, a born-digital page with a CC BY 4.0 licence statement, so
  the licence stage passes and the item deposits) rewritten by pikepdf with a classic xref
  table, then an incremental update appended by hand: pages of one raw (unfiltered) 8-bit grey
  image each (``--page-mb``), random bytes (incompressible), byte offsets tracked for the new
  xref section. It is checked with ``qpdf --check``, pikepdf and pypdf before the run.
* It is served by the local SciELO sample server (which streams ``Path`` bodies); storage is
  the embedded SeaweedFS (``harness.embedded_storage``); the catalogue is SQLite under HOME.
  No Prefect server: the stage functions are called directly, as ``flows/ingest.py`` does
  inside its tasks. The child imports ``flows.ingest`` (so Prefect) first, so its baseline is
  that of a worker process (``--no-prefect`` leaves it out: about 37 MB less).
* OCR is skipped: the pipeline has no "no OCR" path (the OCR stage always writes an access
  PDF/A, text and hOCR), so the child writes the OCR stage's checkpoint as that of an item
  without derivatives (``OcrCheckpoint(result={"pages": []}, files=[], needs_review=[])``),
  which the later stages read like any other. The package thus holds the original, the
  publisher metadata, licence.json, dc.xml and mets.xml, but no access copy.
* Memory: before each stage the child resets its high-water mark (``echo 5 >
  /proc/self/clear_refs``) and after it reads ``VmHWM`` from ``/proc/self/status``: the exact
  peak of that stage (it counts mapped file pages too). Meanwhile this process samples the
  child's ``/proc/PID/status`` every ``--sample-ms`` (from outside: native code that holds the
  GIL cannot hide a peak) for the largest ``RssAnon`` (heap) and ``RssFile`` (mapped files,
  reclaimable) per stage. A process's peak is its largest stage peak or its import peak.

Run (one command; the lead runs the final figure alone on the machine):

    .venv/bin/python bench/bench_rss.py [--size-mb 1024] [--page-mb 4] [--mode both] [--json F]

Smoke: ``--size-mb 64``. Temp files go under ``--workdir`` (default: the system temp dir) and
are removed unless ``--keep``; the space needed is about 5.5 x ``--size-mb`` with two items
(source PDF, and per item the package and the SeaweedFS copy). Exit status 0 when the items
deposited (whatever the figures), 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
GOAL_MB = 250.0
MIB = 1024**2
SBID = "benchrss"
CREATOR = "Souza, Helena Martins"
BOOK_TITLE = "Livro gerado para a medida de memória"
CHAPTER_TITLE = "Capítulo grande (medida de memória)"
STATUS_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")


# --- memory figures (child) ---------------------------------------------------------------------
def proc_status(pid: int | str = "self") -> dict[str, int]:
    """The memory lines of /proc/PID/status, in KiB ({} once the process is gone)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in STATUS_KEYS:
                found[key] = int(rest.split()[0])
    return found


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def mb(kib: int | float) -> float:
    return round(kib / 1024, 1)


# --- the child: the stages, measured --------------------------------------------------------------
STAGES = (
    "resolve",
    "fetch",
    "inspect",
    "ocr (skipped)",
    "licence",
    "describe",
    "package",
    "deposit",
)


def child_main(spec_path: Path) -> int:
    """Run the stages named in the spec in this process; write their figures as JSON."""
    spec = json.loads(spec_path.read_text("utf-8"))
    marker = Path(spec["marker"])
    t0 = time.monotonic()
    if spec["import_prefect"]:
        import flows.ingest  # noqa: F401  (what a worker process has loaded)
    # the modules the stages import lazily, loaded up front so the baseline holds them
    import archive_ingest.bag
    import archive_ingest.formats
    import archive_ingest.licence
    import archive_ingest.oai.store
    import archive_ingest.pdf.inspection
    import archive_ingest.records
    import archive_ingest.sources
    import archive_ingest.storage.deposit
    import archive_ingest.storage.s3  # noqa: F401
    from archive_ingest.ingest import checkpoints, registry
    from archive_ingest.ingest.checkpoints import OcrCheckpoint
    from archive_ingest.ingest.resolve import resolve
    from archive_ingest.ingest.runner import result_for, run_stage
    from archive_ingest.ingest.services import Handle, Services
    from archive_ingest.settings import get_settings

    svc = Services.open(get_settings())
    import_seconds = time.monotonic() - t0
    baseline = proc_status()
    handle = Handle.model_validate(spec["handle"]) if spec.get("handle") else None

    def given() -> Handle:
        assert handle is not None, "an earlier stage returned no handle"
        return handle

    def skip_ocr() -> Handle:
        h = given()
        assert h.version is not None
        checkpoints.save(
            svc.workspace(h.record_id),
            h.version,
            OcrCheckpoint(result={"pages": []}, files=[], needs_review=[]),
        )
        return h

    steps: dict[str, Callable[[], Handle]] = {
        "resolve": lambda: resolve(svc, spec["ref"]),
        "fetch": lambda: run_stage(registry.stage("fetch"), svc, given()),
        "inspect": lambda: run_stage(registry.stage("inspect"), svc, given()),
        "ocr (skipped)": skip_ocr,
        "licence": lambda: run_stage(registry.stage("licence"), svc, given()),
        "describe": lambda: run_stage(registry.stage("describe"), svc, given()),
        "package": lambda: run_stage(registry.stage("package"), svc, given()),
        "deposit": lambda: run_stage(registry.stage("deposit"), svc, given()),
    }
    stages: list[dict[str, Any]] = []
    peak_resets = True
    error: str | None = None
    try:
        for name in spec["stages"]:
            tmp = marker.with_suffix(".tmp")
            tmp.write_text(name, "utf-8")
            tmp.replace(marker)  # the parent samples this process's RSS per stage
            before = proc_status()
            peak_resets = reset_peak() and peak_resets
            started = time.monotonic()
            try:
                handle = steps[name]()
                if handle.unchanged:
                    raise RuntimeError("the item was already ingested (unchanged)")
            except Exception as exc:
                error = f"{name}: {type(exc).__name__}: {exc}"
            seconds = time.monotonic() - started
            after = proc_status()
            stages.append(
                {
                    "stage": name,
                    "seconds": round(seconds, 2),
                    "rss_before_mb": mb(before["VmRSS"]),
                    "rss_after_mb": mb(after["VmRSS"]),
                    "peak_mb": mb(after["VmHWM"]),
                    "peak_delta_mb": mb(after["VmHWM"] - before["VmRSS"]),
                }
            )
            if error:
                break
        marker.write_text("", "utf-8")
        result = result_for(svc, handle) if handle else None
    finally:
        svc.close()
    out = {
        "import_seconds": round(import_seconds, 2),
        "baseline_rss_mb": mb(baseline["VmRSS"]),
        "baseline_peak_mb": mb(baseline["VmHWM"]),
        "peak_resets_per_stage": peak_resets,
        "stages": stages,
        # the import peak counts too: it is this process's memory before any stage
        "peak_rss_mb": max([mb(baseline["VmHWM"])] + [s["peak_mb"] for s in stages]),
        "handle": handle.model_dump(mode="json") if handle else None,
        "state": result.state if result else None,
        "reasons": result.reasons if result else [],
        "bag": result.bag if result else None,
        "error": error,
    }
    Path(spec["result"]).write_text(json.dumps(out, indent=1), "utf-8")
    return 0 if error is None else 1


# --- the large PDF (parent) -----------------------------------------------------------------------
def check_pdf(path: Path, pages: int) -> None:
    """qpdf --check, pikepdf and pypdf must all open it and count the same pages."""
    import pikepdf
    import pypdf

    qpdf = shutil.which("qpdf")
    if qpdf:
        done = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"qpdf --check failed: {done.stdout[-800:]}{done.stderr[-800:]}")
    with pikepdf.open(path) as pdf:
        if len(pdf.pages) != pages:
            raise RuntimeError(f"pikepdf counts {len(pdf.pages)} pages, expected {pages}")
    reader = pypdf.PdfReader(path, strict=True)
    if len(reader.pages) != pages:
        raise RuntimeError(f"pypdf counts {len(reader.pages)} pages, expected {pages}")
    text = reader.pages[0].extract_text() or ""
    if "creativecommons" not in text.replace(" ", "").lower() and "Creative" not in text:
        raise RuntimeError("the licence statement is not on page one")


# --- the parent -----------------------------------------------------------------------------------
@contextlib.contextmanager
def serve_pdf(pdf: Path, pages: int, chapters: int) -> Iterator[tuple[Any, list[str]]]:
    """The sample SciELO server with one book whose ``chapters`` chapters all serve ``pdf``."""
    from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer

    catalogue = SampleCatalogue()
    catalogue.add_book(
        SBID,
        title=BOOK_TITLE,
        isbn="9788523212346",
        publisher="EDUFBA",
        language="pt",
        year="2012",
        creators=[("organizer", "Almeida, Joana Prado")],
        use_licence="CC BY 4.0",
    )
    for order in range(1, chapters + 1):
        catalogue.add_chapter(
            SBID,
            order,
            title=f"{CHAPTER_TITLE} {order}",
            creators=[("individual_author", CREATOR)],
            pages=("1", str(pages)),
            pdf_path=pdf,
            text_language="pt",
        )
    with SampleScieloServer(catalogue) as server:
        yield server, [f"scielo-books:{SBID}/{order:02d}" for order in range(1, chapters + 1)]


def run_child(
    base: Path,
    env: dict[str, str],
    spec: dict[str, Any],
    *,
    tag: str,
    sample_ms: float,
    timeout: float,
) -> dict[str, Any]:
    """One measured child process; this process samples its /proc status per stage meanwhile
    (from outside, so native code holding the GIL in the child cannot hide a peak)."""
    from harness import stop_process

    marker = base / f"{tag}.stage"
    marker.write_text("", "utf-8")
    spec = {**spec, "result": str(base / f"{tag}.result.json"), "marker": str(marker)}
    spec_path = base / f"{tag}.spec.json"
    spec_path.write_text(json.dumps(spec), "utf-8")
    sampled: dict[str, dict[str, int]] = {}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)],
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"the measured child did not finish within {timeout:.0f} s")
            stage = marker.read_text("utf-8") if marker.exists() else ""
            status = proc_status(proc.pid)
            if stage and status:
                top = sampled.setdefault(stage, {})
                for key, value in status.items():
                    top[key] = max(top.get(key, 0), value)
            time.sleep(sample_ms / 1000)
    finally:
        if proc.poll() is None:
            stop_process(proc)
    result_path = Path(spec["result"])
    if not result_path.is_file():
        raise SystemExit(f"the measured child failed (exit {proc.returncode}) without figures")
    child: dict[str, Any] = json.loads(result_path.read_text("utf-8"))
    for row in child["stages"]:
        top = sampled.get(row["stage"], {})
        row["sampled_anon_mb"] = mb(top.get("RssAnon", 0))
        row["sampled_file_mb"] = mb(top.get("RssFile", 0))
    child["exit"] = proc.returncode
    return child


def run(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    from harness import bench_env, embedded_storage, machine
    from tests.support.samples.large import make_large_pdf

    base = Path(tempfile.mkdtemp(prefix="bench-rss-", dir=args.workdir))
    items = 2 if args.mode == "both" else 1
    free = shutil.disk_usage(base).free
    need = int(args.size_mb * MIB * (1 + 2.2 * items))
    if free < need:
        shutil.rmtree(base, ignore_errors=True)
        raise SystemExit(
            f"not enough disk under {base.parent}: {free / MIB:,.0f} MiB free, "
            f"about {need / MIB:,.0f} MiB needed"
        )
    try:
        t0 = time.monotonic()
        pdf = base / "large-chapter.pdf"
        made = make_large_pdf(pdf, size_mb=args.size_mb, page_mb=args.page_mb)
        gen_seconds = time.monotonic() - t0
        t0 = time.monotonic()
        check_pdf(pdf, made["pages"])
        check_seconds = time.monotonic() - t0
        size = pdf.stat().st_size
        print(
            f"PDF: {size / MIB:,.1f} MiB, {made['pages']} pages ({made['image_pages']} raw images "
            f"of {made['image_bytes'] / MIB:.1f} MiB), written in {gen_seconds:.1f} s, "
            f"qpdf/pikepdf/pypdf checks {check_seconds:.1f} s",
            flush=True,
        )
        runs: dict[str, Any] = {}
        with (
            embedded_storage(base / "home") as storage,
            serve_pdf(pdf, made["pages"], items) as (server, refs),
        ):
            env = bench_env(storage=storage, server=server)
            env["ARCHIVE_INGEST_FETCH_MAX_BYTES"] = str(max(2 * 1024**3, size * 2))
            common = {"import_prefect": not args.no_prefect}
            kw = {"sample_ms": args.sample_ms, "timeout": args.timeout}
            todo = list(refs)
            if args.mode in ("both", "one"):
                print("one process, all stages ...", flush=True)
                spec = {**common, "ref": todo.pop(0), "stages": list(STAGES), "handle": None}
                runs["one_process"] = run_child(base, env, spec, tag="one", **kw)
            if args.mode in ("both", "per-stage"):
                print("one process per stage ...", flush=True)
                ref, handle = todo.pop(0), None
                rows: list[dict[str, Any]] = []
                per: dict[str, Any] = {"stages": rows}
                for stage in STAGES:
                    spec = {**common, "ref": ref, "stages": [stage], "handle": handle}
                    child = run_child(base, env, spec, tag=f"stage-{len(rows)}", **kw)
                    row = child["stages"][0]
                    row["baseline_rss_mb"] = child["baseline_rss_mb"]
                    row["process_peak_mb"] = child["peak_rss_mb"]
                    rows.append(row)
                    handle = child["handle"]
                    per.update({k: child[k] for k in ("state", "reasons", "bag", "error")})
                    if child["error"]:
                        break
                per["peak_rss_mb"] = max(r["process_peak_mb"] for r in rows)
                runs["per_stage"] = per
        return {
            "benchmark": "peak RSS of fetch + package + deposit, OCR excluded",
            "machine": machine(),
            "pdf_bytes": size,
            "pdf_mib": round(size / MIB, 1),
            "pdf_pages": made["pages"],
            "page_image_mib": round(made["image_bytes"] / MIB, 2),
            "generate_seconds": round(gen_seconds, 1),
            "import_prefect": not args.no_prefect,
            "goal_mb": GOAL_MB,
            **runs,
            "workdir": str(base) if args.keep else None,
        }
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def _table(rows: list[dict[str, Any]], *, per_process: bool) -> None:
    first = "baseline" if per_process else "RSS before"
    head = (
        f"{'stage':<14} {'seconds':>8} {first:>11} {'peak':>10} {'peak-before':>12} "
        f"{'RSS after':>10} {'max anon':>10} {'max file':>9}"
    )
    print(head)
    print("-" * len(head))
    for s in rows:
        start = s["baseline_rss_mb"] if per_process else s["rss_before_mb"]
        print(
            f"{s['stage']:<14} {s['seconds']:>8.2f} {start:>8.1f} MB {s['peak_mb']:>7.1f} MB "
            f"{s['peak_delta_mb']:>9.1f} MB {s['rss_after_mb']:>7.1f} MB "
            + (
                f"{s['sampled_anon_mb']:>7.1f} MB {s['sampled_file_mb']:>6.1f} MB"
                if s["sampled_anon_mb"]
                else f"{'-':>10} {'-':>9}"  # over before the first sample
            )
        )
    print("-" * len(head))


def _verdict(peak: float) -> str:
    return f"{peak:,.1f} MB, goal <= {GOAL_MB:.0f} MB: " + ("met" if peak <= GOAL_MB else "MISSED")


def _outcome(run: dict[str, Any]) -> str:
    text = f"item state: {run['state']}"
    if run.get("reasons"):
        text += f" ({'; '.join(run['reasons'])})"
    if run.get("error"):
        text += f"; error: {run['error']}"
    return text


def report(fig: dict[str, Any]) -> None:
    print()
    print(f"machine: {fig['machine']}")
    print(
        f"file: {fig['pdf_mib']:,.1f} MiB, {fig['pdf_pages']} pages of "
        f"{fig['page_image_mib']:.1f} MiB raw images; Prefect imported in the measured "
        f"process: {fig['import_prefect']}; peak = VmHWM per stage (reset before each), "
        "max anon/file = RssAnon/RssFile sampled from outside"
    )
    one = fig.get("one_process")
    if one:
        print(
            f"\nA. one process runs every stage (a worker's view); baseline after imports "
            f"{one['baseline_rss_mb']:.1f} MB (import peak {one['baseline_peak_mb']:.1f} MB)"
        )
        _table(one["stages"], per_process=False)
        if not one["peak_resets_per_stage"]:
            print("note: the kernel refused clear_refs; 'peak' is cumulative since start")
        worst = max(one["stages"], key=lambda s: s["peak_mb"])
        print(f"peak RSS of the process (worst: {worst['stage']}): {_verdict(one['peak_rss_mb'])}")
        print(_outcome(one))
    per = fig.get("per_stage")
    if per:
        print("\nB. a fresh process per stage (checkpoints carry the item from one to the next)")
        _table(per["stages"], per_process=True)
        by = {r["stage"]: r["process_peak_mb"] for r in per["stages"]}
        named = [by[s] for s in ("fetch", "package", "deposit") if s in by]
        if named:
            print(f"peak RSS of fetch / package / deposit processes: {_verdict(max(named))}")
        worst = max(per["stages"], key=lambda s: s["process_peak_mb"])
        print(f"worst stage process ({worst['stage']}): {_verdict(per['peak_rss_mb'])}")
        print(_outcome(per))
    if fig.get("workdir"):
        print(f"kept: {fig['workdir']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mb", type=float, default=1024, help="PDF size in MiB")
    parser.add_argument("--page-mb", type=float, default=4, help="raw image bytes per page, in MiB")
    parser.add_argument(
        "--mode",
        choices=("both", "one", "per-stage"),
        default="both",
        help="A: one process for all stages; B: a process per stage; both (two items)",
    )
    parser.add_argument("--sample-ms", type=float, default=20, help="RSS sampling interval")
    parser.add_argument("--no-prefect", action="store_true", help="do not import Prefect")
    parser.add_argument("--workdir", type=Path, default=None, help="where temp files go")
    parser.add_argument("--timeout", type=float, default=3600, help="per child process, s")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child)
    fig = run(args)
    report(fig)
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1) + "\n", "utf-8")
    runs = [fig[k] for k in ("one_process", "per_stage") if k in fig]
    ok = all(r["state"] == "deposited" and not r.get("error") for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

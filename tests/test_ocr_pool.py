"""The pool of long-lived OCR workers: real OCRmyPDF and Tesseract, real processes, no stubs.

A job that must hang reads its input from a FIFO nobody writes: OCRmyPDF blocks opening it,
every time, on any machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from archive_ingest.errors import OcrError
from archive_ingest.ocr import engine
from archive_ingest.ocr.hocr_plugin import HOCR_DIR_ENV
from archive_ingest.ocr.pool import OcrPool
from archive_ingest.ocr.process import ProcessRun, run_process_group
from tests.support.processes import group_members
from tests.support.samples import make_sample_chapter

pytestmark = pytest.mark.slow


def _wait_for(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    return make_sample_chapter(folder / "c.pdf", scanned_pages=1, damage="light").path


@pytest.fixture
def pool() -> Iterator[OcrPool]:
    made = OcrPool(2)
    try:
        yield made
    finally:
        made.close()


class Job:
    """One OCR pass's files in its own folder, run by the pool or as a child process."""

    def __init__(self, folder: Path, source: Path) -> None:
        self.folder = folder
        self.source = source
        self.hocr = folder / "hocr"
        self.hocr.mkdir(parents=True)
        (folder / "tmp").mkdir()
        self.output = folder / "out.pdf"
        self.log = folder / "ocrmypdf.log"
        self.env = dict(os.environ, **{HOCR_DIR_ENV: str(self.hocr), "TMPDIR": str(folder / "tmp")})
        with pikepdf.open(source) as pdf:
            pages = list(range(1, len(pdf.pages) + 1))
        self.argv = engine.arguments(engine.ocr_options("eng", pages, 1), source, self.output)

    def in_pool(self, pool: OcrPool, timeout: float = 120) -> ProcessRun:
        return pool.run(
            self.argv, timeout=timeout, log_path=self.log, cwd=self.folder, env=self.env
        )

    def as_child(self) -> ProcessRun:
        return run_process_group(
            [sys.executable, "-m", "ocrmypdf", *self.argv],
            timeout=120,
            log_path=self.log,
            cwd=self.folder,
            env=self.env,
        )

    def outputs(self) -> dict[str, str]:
        """hOCR pages and the output's pages, less what differs between any two runs: the
        temporary image path in the hOCR (checked to be under the job's own TMPDIR) and the
        random names OCRmyPDF gives its text-layer XObjects."""
        out = {}
        for path in sorted(self.hocr.iterdir()):
            text = path.read_text()
            images = re.findall(r'image "([^"]*)"', text)
            assert images and all(i.startswith(f"{self.folder}/tmp/") for i in images), images
            out[path.name] = _sha(re.sub(r'image "[^"]*"', "image", text).encode())
        with pikepdf.open(self.output) as pdf:
            for number, page in enumerate(pdf.pages, 1):
                contents = page.obj.Contents
                streams = [contents] if isinstance(contents, pikepdf.Stream) else list(contents)
                data = b"".join(s.read_bytes() for s in streams)
                out[f"page {number}"] = _sha(re.sub(rb"/OCR-[\w-]+", b"/OCR", data))
                for name, xobject in page.obj.Resources.XObject.items():
                    if name.startswith("/OCR-"):
                        out[f"page {number} text layer"] = _sha(xobject.read_bytes())
        return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hanging_job(folder: Path, sample: Path) -> Job:
    """A job whose input is a FIFO nobody writes: OCRmyPDF blocks opening it."""
    job = Job(folder, sample)
    fifo = folder / "never-written.pdf"
    os.mkfifo(fifo)
    job.argv = [str(fifo) if a == str(sample) else a for a in job.argv]
    return job


def test_two_jobs_at_once_give_the_child_process_outputs(
    pool: OcrPool, scanned: Path, tmp_path: Path
) -> None:
    child = Job(tmp_path / "child", scanned)
    assert child.as_child().returncode == 0
    expected = child.outputs()
    assert any(name.endswith(".hocr") for name in expected)

    jobs = [Job(tmp_path / f"pool-{n}", scanned) for n in (1, 2)]
    spans: dict[int, tuple[float, float]] = {}
    runs: dict[int, ProcessRun] = {}

    def run(n: int) -> None:
        started = time.monotonic()
        runs[n] = jobs[n].in_pool(pool)
        spans[n] = (started, time.monotonic())

    threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [runs[n].returncode for n in (0, 1)] == [0, 0], [runs[n].log_tail for n in runs]
    assert max(s for s, _ in spans.values()) < min(e for _, e in spans.values())  # overlapped
    for job in jobs:
        assert job.outputs() == expected
        assert "redoing OCR" in job.log.read_text()  # OCRmyPDF's log went to the job's file
    assert len(pool.worker_pids()) == 2  # both workers back, idle


def test_a_job_over_its_timeout_is_killed_and_its_worker_replaced(
    pool: OcrPool, scanned: Path, tmp_path: Path
) -> None:
    pool.prestart()
    before = set(pool.worker_pids())
    hang = _hanging_job(tmp_path / "hang", scanned)
    started = time.monotonic()
    with pytest.raises(OcrError, match=r"did not finish within 2 s and was killed") as caught:
        hang.in_pool(pool, timeout=2)
    assert time.monotonic() - started < 10
    match = re.search(r"process group (\d+)", str(caught.value))
    assert match is not None
    pgid = int(match.group(1))
    assert pgid in before  # the worker that ran it led that group
    assert group_members(pgid) == []  # nothing of it is left
    after = set(pool.worker_pids())
    assert len(after) == 2 and pgid not in after  # replaced

    job = Job(tmp_path / "next", scanned)
    assert job.in_pool(pool).returncode == 0
    assert list(job.hocr.iterdir())


def test_a_worker_killed_mid_job_fails_that_job_and_is_replaced(
    scanned: Path, tmp_path: Path
) -> None:
    pool = OcrPool(1)
    try:
        pool.prestart()
        [pid] = pool.worker_pids()
        hang = _hanging_job(tmp_path / "hang", scanned)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                hang.in_pool(pool, timeout=120)
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        _wait_for(lambda: pool.worker_pids() == [], 10, "the job to take the worker")
        time.sleep(1.0)  # the worker is inside the job (blocked opening the FIFO)
        os.kill(pid, signal.SIGKILL)
        thread.join(30)
        assert not thread.is_alive()
        [exc] = failure
        assert isinstance(exc, OcrError)
        assert f"OCR worker (pid {pid}) died mid-job (killed by signal 9" in str(exc)
        assert group_members(pid) == []
        [fresh] = pool.worker_pids()
        assert fresh != pid

        job = Job(tmp_path / "next", scanned)
        assert job.in_pool(pool).returncode == 0
        assert list(job.hocr.iterdir())
    finally:
        pool.close()


OWNER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import pikepdf
    from archive_ingest.ocr import engine
    from archive_ingest.ocr.pool import OcrPool
    source, folder = Path(sys.argv[1]), Path(sys.argv[2])
    (folder / "tmp").mkdir()
    pool = OcrPool(1)
    pool.prestart()
    print(pool.worker_pids()[0], flush=True)
    env = dict(os.environ, TMPDIR=str(folder / "tmp"))
    with pikepdf.open(source) as pdf:
        pages = list(range(1, len(pdf.pages) + 1))
    argv = engine.arguments(engine.ocr_options("eng", pages, 2), source, folder / "o.pdf")
    pool.run(argv, timeout=600, log_path=folder / "log", cwd=folder, env=env)
    """
)


@pytest.mark.parametrize("how", ["owner-sigkilled", "worker-sigtermed"])
def test_workers_and_tesseract_die_with_the_process_that_owns_the_pool(
    tmp_path: Path, how: str
) -> None:
    """The owner SIGKILLed (a power cut of the command), or the worker SIGTERMed (what an
    interrupted command does to its children): no Tesseract of the worker's group runs on."""
    long = make_sample_chapter(tmp_path / "long.pdf", scanned_pages=4, damage="heavy").path
    folder = tmp_path / "owner"
    folder.mkdir()
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(long), str(folder)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        worker = int(owner.stdout.readline())

        def tesseract_runs() -> bool:
            return any(name == "tesseract" for _, name in group_members(worker))

        _wait_for(tesseract_runs, 60, "Tesseract to start in the worker's group")
        if how == "owner-sigkilled":
            owner.kill()
            owner.wait()
        else:
            os.kill(worker, signal.SIGTERM)
        _wait_for(lambda: group_members(worker) == [], 5, "the worker's group to be gone")
    finally:
        owner.kill()
        owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()

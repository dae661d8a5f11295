"""An OCR worker: one long-lived process that runs OCRmyPDF jobs one after another.

``python -m archive_ingest.ocr.worker <parent pid>``, started by ``pool.OcrPool`` in its own
session (process group). Python, OCRmyPDF and our hOCR plugin are imported once; then each
job is one JSON line on stdin::

    {"argv": [...OCRmyPDF's arguments...], "env": {...}, "cwd": "...", "log": "..."}

and each answer one JSON line on stdout: ``{"returncode": 0, "seconds": 4.8}``.

A job runs as ``python -m ocrmypdf <argv>`` would (``run_cli`` follows
``ocrmypdf.__main__.run`` step by step, with the same arguments), and nothing of it is left
for the next job: its environment replaces ``os.environ`` for the job's duration (so
``TMPDIR`` and the hOCR folder our plugin reads are the job's own), ``tempfile.tempdir`` is
cleared before and after, ``sys.stdout``/``sys.stderr`` are put back (rich's progress
display, used even when hidden, can leave them redirected), the working directory is the
job's and is restored to ``/``, OCRmyPDF's logging handlers are removed, and file
descriptors 1 and 2 point at the job's log (OCRmyPDF's messages and anything a helper
program prints) only while it runs. The two differences from the command line:
``os.nice(5)`` is done once per worker, not once per job (it adds up), and stdout protection
is not needed because the answers go out on a private descriptor; stdout and stdin
themselves point at stderr and /dev/null, so no helper program inherits the job pipes.

A watchdog thread kills the worker's whole process group (itself, tesseract, ...) as soon as
its parent is gone (``getppid`` changes): the parent holds the machine-wide OCR slot, and an
orphaned worker must not go on OCRing without it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from contextlib import suppress
from typing import IO

import ocrmypdf.__main__ as ocrmypdf_main
from ocrmypdf._pipelines.ocr import run_pipeline_cli
from ocrmypdf._validation import check_options
from ocrmypdf.api import Verbosity, configure_logging
from ocrmypdf.cli import get_options_and_plugins
from ocrmypdf.exceptions import BadArgsError, ExitCode, MissingDependencyError

import archive_ingest.ocr.hocr_plugin  # noqa: F401  # imported once here, not once per job
from archive_ingest.ocr.job import Job

_WATCH_SECONDS = 0.05
_IDLE_CWD = "/"


def run_cli(args: Sequence[str]) -> int:
    """OCRmyPDF's command line in this process: ``ocrmypdf.__main__.run`` without its
    per-call ``os.nice(5)`` and stdout protection (see the module docstring)."""
    log = ocrmypdf_main.log
    try:
        options, plugin_manager = get_options_and_plugins(args=list(args))
    except BadArgsError as exc:
        log.error(exc)
        return int(exc.exit_code)
    except ValueError as exc:
        log.error(ocrmypdf_main._describe_options_error(exc))
        return int(ExitCode.bad_args)
    verbosity = Verbosity(options.verbose)
    if not os.isatty(sys.stderr.fileno()):
        options.progress_bar = False
    if options.quiet:
        verbosity = Verbosity.quiet
        options.progress_bar = False
    configure_logging(
        verbosity,
        progress_bar_friendly=options.progress_bar,
        manage_root_logger=True,
        plugin_manager=plugin_manager,
    )
    try:
        check_options(options, plugin_manager)
    except ValueError as exc:
        log.error(exc)
        return int(ExitCode.bad_args)
    except BadArgsError as exc:
        log.error(exc)
        return int(exc.exit_code)
    except MissingDependencyError as exc:
        log.error(exc)
        return int(ExitCode.missing_dependency)
    return int(run_pipeline_cli(options=options, plugin_manager=plugin_manager))


def run_job(job: Job) -> int:
    """Run one job with its environment, folder and log; leave the process as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    streams = sys.stdout, sys.stderr  # rich's progress display may leave a redirect behind
    base_env = dict(os.environ)
    saved_out, saved_err = os.dup(1), os.dup(2)
    log_fd = os.open(job.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    _flush()
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.environ.clear()
        os.environ.update(job.env)
        tempfile.tempdir = None  # gettempdir() caches; the job's TMPDIR must count
        os.chdir(job.cwd)
        return run_cli(job.argv)
    except SystemExit as exc:  # argparse exits on a bad option, as the command line would
        return exc.code if isinstance(exc.code, int) else 1
    except Exception:
        traceback.print_exc(file=sys.__stderr__)
        return int(ExitCode.other_error)
    finally:
        _flush()
        sys.stdout, sys.stderr = streams
        _flush()
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
        os.chdir(_IDLE_CWD)
        os.environ.clear()
        os.environ.update(base_env)
        tempfile.tempdir = None
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for fd in (saved_out, saved_err, log_fd):
            os.close(fd)


def serve(jobs: IO[bytes], answers: IO[bytes]) -> None:
    """Answer each job line with one result line until ``jobs`` ends."""
    for line in jobs:
        if not line.strip():
            continue
        started = time.monotonic()
        code = run_job(Job.parse(line))
        answer = {"returncode": code, "seconds": round(time.monotonic() - started, 3)}
        answers.write((json.dumps(answer) + "\n").encode())
        answers.flush()


def watch_parent(parent: int) -> None:
    """Kill this worker's whole process group once ``parent`` is no longer its parent."""
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os.killpg(0, signal.SIGKILL)


def _group_down(signum: int, frame: object) -> None:
    """SIGTERM (a Ctrl-C'd command terminating its children) takes the whole group: the
    worker alone would leave tesseract/gs running, reparented, without the OCR slot."""
    os.killpg(0, signal.SIGKILL)


def main(argv: Sequence[str]) -> int:
    parent = int(argv[1])
    signal.signal(signal.SIGTERM, _group_down)
    threading.Thread(target=watch_parent, args=(parent,), daemon=True, name="watchdog").start()
    jobs_fd, answers_fd = os.dup(0), os.dup(1)  # private, not inherited by helper programs
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    os.chdir(_IDLE_CWD)
    with suppress(AttributeError, PermissionError):
        os.nice(5)
    with suppress(AttributeError, OSError):
        signal.signal(signal.SIGBUS, ocrmypdf_main.sigbus)
    with suppress(RuntimeError):
        multiprocessing.set_start_method("forkserver")
    with os.fdopen(jobs_fd, "rb") as jobs, os.fdopen(answers_fd, "wb") as answers:
        serve(jobs, answers)
    return 0


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            with suppress(OSError, ValueError):
                stream.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

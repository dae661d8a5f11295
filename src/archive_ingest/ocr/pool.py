"""A pool of long-lived OCR worker processes (``worker.py``), one job per worker at a time.

Each worker pays Python's and OCRmyPDF's imports once instead of once per OCRmyPDF run, and
keeps the isolation of a child process: it runs in its own session (process group), and a job
that overruns its hard timeout, a worker that dies mid-job and a caller interrupted while
waiting all end the same way as ``process.run_process_group``'s child: the whole group is
SIGKILLed *before* the worker is reaped (a zombie leader keeps the group id from being
reused), the pool waits (bounded) until /proc shows no live member, and a fresh worker takes
the dead one's place; other jobs go on. After a normal job every other member of the group
(a straggling tesseract or gs) is killed.

The pool is thread-safe: item threads take a free worker each, at most ``size`` jobs run at
once, more callers wait. ``get_pool`` gives the process-wide pool (sized by
``ocr_max_concurrent``), closed at exit. Workers kill themselves when this process dies (see
``worker.py``), so none OCRs on without the machine-wide slot this process held.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from archive_ingest.errors import OcrError
from archive_ingest.ocr.job import Job
from archive_ingest.ocr.process import (
    ProcessRun,
    await_group_gone,
    kill_group,
    kill_stragglers,
    log_tail,
)
from archive_ingest.settings import Settings

WORKER_MODULE = "archive_ingest.ocr.worker"
_POLL_MS = 500


class _TimedOut(Exception):
    pass


class _Died(Exception):
    pass


class Worker:
    """One worker process, the leader of its own process group."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd="/",
            env={k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
            start_new_session=True,
        )
        if self.proc.stdin is None or self.proc.stdout is None:  # PIPE always gives both
            raise OcrError("an OCR worker was started without its job pipes")
        self._jobs, self._answers = self.proc.stdin, self.proc.stdout
        self._buffer = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None

    def send(self, job: Job) -> None:
        try:
            self._jobs.write(job.to_line())
            self._jobs.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _Died(str(exc)) from exc

    def answer(self, deadline: float) -> dict[str, object]:
        """The job's answer line; ``_TimedOut`` past ``deadline``, ``_Died`` at end of file."""
        fd = self._answers.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _TimedOut
            if poller.poll(min(_POLL_MS, max(1, int(remaining * 1000)))):
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise _Died("end of its output")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except ValueError as exc:
            raise _Died(f"unreadable answer {line[:200]!r}") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("returncode"), int):
            raise _Died(f"unreadable answer {line[:200]!r}")
        return answer

    def destroy(self) -> int:
        """Kill the whole group, reap the worker, wait until no member lives; its exit status.

        Done once: once reaped, the pid (the group id) may belong to someone else.
        """
        if self.proc.returncode is not None:
            return self.proc.returncode
        kill_group(self.pid)  # before reaping: the zombie keeps the group id ours
        returncode = self.proc.wait()
        await_group_gone(self.pid)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return returncode


class OcrPool:
    """At most ``size`` OCR workers, started on demand (or ahead with ``prestart``)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise OcrError(f"ocr_max_concurrent must be at least 1, not {size}")
        self._size = size
        self._idle: list[Worker] = []
        self._busy = 0
        self._closed = False
        self._cond = threading.Condition()

    @property
    def size(self) -> int:
        return self._size

    @property
    def closed(self) -> bool:
        return self._closed

    def worker_pids(self) -> list[int]:
        """The idle workers' pids (for tests and diagnostics)."""
        with self._cond:
            return [w.pid for w in self._idle]

    def resize(self, size: int) -> None:
        if size < 1:
            raise OcrError(f"ocr_max_concurrent must be at least 1, not {size}")
        with self._cond:
            self._size = size
            extra = self._idle[max(0, size - self._busy) :]
            del self._idle[max(0, size - self._busy) :]
            self._cond.notify_all()
        for worker in extra:
            worker.destroy()

    def prestart(self, count: int | None = None) -> None:
        """Start missing workers now, up to ``count`` in all (default: the pool's size); they
        import OCRmyPDF while the caller goes on. The others start when a job needs them."""
        wanted = self._size if count is None else min(count, self._size)
        with self._cond:
            while not self._closed and len(self._idle) + self._busy < wanted:
                self._idle.append(Worker())

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        log_path: Path,
        cwd: Path,
        env: Mapping[str, str],
        what: str = "OCR",
    ) -> ProcessRun:
        """Run OCRmyPDF with ``argv`` (its arguments, no program name) in a worker.

        ``env`` is the job's whole environment, ``log_path`` receives its output. Returns as
        ``run_process_group`` does; raises ``OcrError`` on timeout (same wording), when the
        worker dies mid-job, or when no worker becomes free within ``timeout``.
        """
        job = Job(argv=list(argv), env=dict(env), cwd=str(cwd), log=str(log_path))
        worker = self._take(timeout, what)
        started = time.monotonic()
        done = False
        try:
            worker.send(job)
            answer = worker.answer(started + timeout)
            done = True
        except _TimedOut:
            raise OcrError(
                f"{what} did not finish within {timeout:.0f} s and was killed"
                f" (process group {worker.pid})"
            ) from None
        except _Died as exc:
            status = worker.destroy()
            how = f"killed by signal {-status}" if status < 0 else f"exit code {status}"
            raise OcrError(
                f"{what} failed: its OCR worker (pid {worker.pid}) died mid-job ({how}; {exc});"
                f" the worker was replaced\n{log_tail(log_path)}"
            ) from None
        finally:
            if done:
                kill_stragglers(worker.pid, keep=worker.pid)
            else:
                worker.destroy()  # idempotent after _Died; timeout or interrupted caller
            self._give(worker if done else None)
        returncode = answer["returncode"]
        if not isinstance(returncode, int):
            raise OcrError(f"{what}: its OCR worker answered {answer!r}, not an exit code")
        return ProcessRun(
            returncode=returncode,
            seconds=time.monotonic() - started,
            log_tail=log_tail(log_path),
        )

    def close(self) -> None:
        """Stop every idle worker now; a busy one is stopped when its job returns."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.destroy()

    def _take(self, timeout: float, what: str) -> Worker:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy >= self._size:
                if self._closed:
                    raise OcrError(f"{what}: the OCR pool is closed")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise OcrError(f"{what}: no OCR worker became free within {timeout:.0f} s")
                self._cond.wait(remaining)
            if self._closed:
                raise OcrError(f"{what}: the OCR pool is closed")
            self._busy += 1
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.destroy()  # died while idle (killed from outside)
        try:
            return Worker()
        except OSError as exc:
            self._give(None)
            raise OcrError(f"{what}: could not start an OCR worker: {exc}") from exc
        except BaseException:
            self._give(None)
            raise

    def _give(self, worker: Worker | None) -> None:
        """Return a worker after its job (``None``: it was destroyed; start a fresh one)."""
        stop: Worker | None = None
        with self._cond:
            self._busy -= 1
            if self._closed or len(self._idle) + self._busy >= self._size:
                stop = worker
            else:
                # if a fresh worker cannot start, the next job starts one on demand
                with contextlib.suppress(OSError):
                    self._idle.append(worker or Worker())
            self._cond.notify()
        if stop is not None:
            stop.destroy()


_pool: OcrPool | None = None
_pool_owner = 0
_pool_lock = threading.Lock()


def get_pool(settings: Settings) -> OcrPool:
    """This process's pool, sized ``settings.ocr_max_concurrent``; made on first use."""
    global _pool, _pool_owner
    with _pool_lock:
        # a forked child does not own its parent's workers: it makes its own pool
        if _pool is None or _pool.closed or _pool_owner != os.getpid():
            _pool, _pool_owner = OcrPool(settings.ocr_max_concurrent), os.getpid()
            atexit.register(_pool.close)
        elif _pool.size != settings.ocr_max_concurrent:
            _pool.resize(settings.ocr_max_concurrent)
        return _pool

"""Running OCR in its own process group, with a hard timeout and a per-machine slot limit.

Why a separate process: OCRmyPDF allows one job per Python process, and a Prefect task
running in a thread cannot be interrupted. The child is started in a new session (its own
process group), so on timeout the whole group — ocrmypdf, its worker processes, tesseract,
gs — is killed with SIGKILL, and the group is killed again after a normal exit so that no
straggler survives. The leader is only reaped *after* the group kill: while it is a zombie its
pid (= the group id) cannot be reused, so the kill cannot hit an unrelated group; then we wait
(bounded) until /proc shows no live member of the group.

Slots: ``ocr_max_concurrent`` lock files under ``HOME/locks``; a process holds one
``fcntl.flock`` for the whole OCR of an item. The kernel drops the lock when the holder dies,
so a crashed worker never leaks a slot. The lock file descriptor is passed to the OCR child
too: the slot stays taken while an orphaned child still runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from archive_ingest.errors import OcrError

_POLL_SECONDS = 0.05
_GROUP_GONE_SECONDS = 5.0
_LOG_TAIL_BYTES = 4000


@dataclass(frozen=True)
class Slot:
    """A held OCR slot: which one, and the open lock file (kept open while held)."""

    index: int
    path: Path
    fd: int


@contextlib.contextmanager
def ocr_slot(lock_dir: Path, slots: int, *, timeout: float) -> Iterator[Slot]:
    """Hold one of ``slots`` machine-wide OCR slots; wait up to ``timeout`` seconds for one."""
    if slots < 1:
        raise OcrError(f"ocr_max_concurrent must be at least 1, not {slots}")
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        for index in range(slots):
            path = lock_dir / f"ocr-slot-{index}.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                yield Slot(index=index, path=path, fd=fd)
            finally:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        if time.monotonic() >= deadline:
            raise OcrError(
                f"no OCR slot became free within {timeout:.0f} s ({slots} slot(s) under"
                f" {lock_dir}; raise ocr_max_concurrent or retry later)"
            )
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 1.0)


@dataclass(frozen=True)
class ProcessRun:
    """How a child process ended."""

    returncode: int
    seconds: float
    log_tail: str


def run_process_group(
    cmd: Sequence[str],
    *,
    timeout: float,
    log_path: Path,
    cwd: Path,
    env: Mapping[str, str],
    pass_fds: Sequence[int] = (),
    what: str = "OCR",
) -> ProcessRun:
    """Run ``cmd`` in a new session; kill its process group on timeout (and after it ends).

    Output goes to ``log_path`` (a pipe could fill and block the child). Raises ``OcrError``
    on timeout; a non-zero exit is returned for the caller to interpret.
    """
    started = time.monotonic()
    with log_path.open("ab") as log:
        try:
            proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
                pass_fds=tuple(pass_fds),
            )
        except OSError as exc:
            raise OcrError(f"could not start {what} ({cmd[0]}): {exc}") from exc
    pgid = proc.pid  # start_new_session: the child leads its own group
    timed_out = False
    try:
        while not _exited_unreaped(proc.pid):
            if time.monotonic() - started >= timeout:
                timed_out = True
                break
            time.sleep(_POLL_SECONDS)
    finally:
        # leader exited (zombie, not reaped) or timed out or we were interrupted: kill the group
        kill_group(pgid)
        proc.wait()
        await_group_gone(pgid)
    seconds = time.monotonic() - started
    tail = log_tail(log_path)
    if timed_out:
        raise OcrError(
            f"{what} did not finish within {timeout:.0f} s and was killed (process group {pgid})"
        )
    return ProcessRun(returncode=proc.returncode, seconds=seconds, log_tail=tail)


def _exited_unreaped(pid: int) -> bool:
    """True once the child has exited; it stays a zombie (WNOWAIT) until ``wait``."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def kill_group(pgid: int) -> None:
    """SIGKILL the whole process group ``pgid`` (nothing happens when it is gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def await_group_gone(pgid: int, timeout: float = _GROUP_GONE_SECONDS) -> None:
    """SIGKILL is asynchronous: wait (bounded) until no live process is left in the group.

    While a member lives the group id cannot be reused, so re-sending SIGKILL is safe.
    Zombies are ignored (their parent, often init, reaps them).
    """
    deadline = time.monotonic() + timeout
    while live_members(pgid) and time.monotonic() < deadline:
        kill_group(pgid)
        time.sleep(_POLL_SECONDS / 5)


def live_members(pgid: int) -> list[int]:
    """The non-zombie processes /proc shows in group ``pgid`` (Linux)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    members = []
    for name in entries:
        if name.isdigit() and _live_in_group(int(name), pgid):
            members.append(int(name))
    return members


def kill_stragglers(pgid: int, keep: int, timeout: float = _GROUP_GONE_SECONDS) -> None:
    """SIGKILL every live member of group ``pgid`` except ``keep``; wait (bounded) until gone.

    Each one is signalled through a pidfd opened *after* reading its group and checked again
    once open, so a pid reused by an unrelated process in between is never hit.
    """
    deadline = time.monotonic() + timeout
    while True:
        others = [pid for pid in live_members(pgid) if pid != keep]
        if not others or time.monotonic() >= deadline:
            return
        for pid in others:
            _kill_member(pid, pgid)
        time.sleep(_POLL_SECONDS / 5)


def _kill_member(pid: int, pgid: int) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # gone already
    try:
        if _live_in_group(pid, pgid):
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)


def _live_in_group(pid: int, pgid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X")


def log_tail(path: Path) -> str:
    """The last few kB of a log file (empty when unreadable)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL_BYTES))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""

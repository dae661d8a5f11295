"""The OCR child process: hard timeout, process-group kill, machine-wide slots."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from archive_ingest.errors import OcrError
from archive_ingest.ocr.process import kill_stragglers, live_members, ocr_slot, run_process_group
from tests.support.processes import group_members


def _group_members(pgid: int) -> list[int]:
    return [pid for pid, _ in group_members(pgid)]


def _pgid_from_log(log: Path) -> int:
    for _ in range(100):
        text = log.read_text() if log.exists() else ""
        if text.strip():
            return int(text.split()[0])
        time.sleep(0.05)
    raise AssertionError("child did not report its process group")


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    # the child prints its group id, then starts grandchildren that would outlive it
    script = "echo $(ps -o pgid= $$); sleep 60 & sleep 60 & wait"
    started = time.monotonic()
    with pytest.raises(OcrError, match="did not finish within 1 s and was killed"):
        run_process_group(
            ["sh", "-c", script], timeout=1, log_path=log, cwd=tmp_path, env=os.environ
        )
    assert time.monotonic() - started < 10
    pgid = _pgid_from_log(log)
    assert pgid != os.getpgid(0)  # it ran in its own group
    assert _group_members(pgid) == []  # sh and both sleeps are gone


def test_stragglers_are_killed_after_a_normal_exit(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    run = run_process_group(
        ["sh", "-c", "echo $(ps -o pgid= $$); sleep 60 & exit 3"],
        timeout=30,
        log_path=log,
        cwd=tmp_path,
        env=os.environ,
    )
    assert run.returncode == 3
    assert _group_members(_pgid_from_log(log)) == []


def test_kill_stragglers_spares_the_one_to_keep(tmp_path: Path) -> None:
    # the leader (a pool worker's role) starts two sleeps in its group and lives on
    script = (
        "import subprocess, time\n[subprocess.Popen(['sleep', '60']) for _ in 'ab']\ntime.sleep(60)"
    )
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while len(_group_members(leader.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_group_members(leader.pid)) == 3
        assert sorted(live_members(leader.pid)) == sorted(_group_members(leader.pid))
        kill_stragglers(leader.pid, keep=leader.pid)
        assert _group_members(leader.pid) == [leader.pid]
    finally:
        leader.kill()
        leader.wait()


def test_missing_program_is_an_ocr_error(tmp_path: Path) -> None:
    with pytest.raises(OcrError, match="could not start"):
        run_process_group(
            ["/nonexistent/ocrmypdf"],
            timeout=5,
            log_path=tmp_path / "l",
            cwd=tmp_path,
            env=os.environ,
        )


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from archive_ingest.ocr.process import ocr_slot
    with ocr_slot(Path(sys.argv[1]), int(sys.argv[2]), timeout=5) as slot:
        print(slot.index, flush=True)
        time.sleep(60)
    """
)


def _start_holder(lock_dir: Path, slots: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir), str(slots)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the slot is held once it says which
    assert line.strip() == "0"
    return proc


def test_slots_are_shared_between_processes(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    holder = _start_holder(lock_dir, 1)
    try:
        started = time.monotonic()
        with (
            pytest.raises(OcrError, match="no OCR slot became free within 1 s"),
            ocr_slot(lock_dir, 1, timeout=1),
        ):
            pass
        assert time.monotonic() - started >= 0.9
        with ocr_slot(lock_dir, 2, timeout=1) as slot:  # a second slot is free
            assert slot.index == 1
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # the kernel released the dead holder's lock: the slot is free again
    with ocr_slot(lock_dir, 1, timeout=1) as slot:
        assert slot.index == 0


def test_waiting_for_a_slot_succeeds_when_it_frees(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    holder = _start_holder(lock_dir, 1)
    try:
        import threading

        threading.Timer(0.5, holder.kill).start()
        started = time.monotonic()
        with ocr_slot(lock_dir, 1, timeout=20) as slot:
            waited = time.monotonic() - started
            assert slot.index == 0
        assert 0.3 < waited < 10
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_slot_count_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(OcrError, match="at least 1"), ocr_slot(tmp_path, 0, timeout=1):
        pass

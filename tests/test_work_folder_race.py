"""A sweep of stale work folders (the item's next run, ``reconcile --fix``) racing the creation
of new ones never removes a folder that is in use: a folder appears under its final name only
once it is held. Real processes: creators and a sweeper, all on one real directory."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from archive_ingest.workspace import stale_work_folders, sweep_work_folders, work_folder

ROUNDS = 400


def _create_many(parent: str, rounds: int) -> list[str]:
    """Make ``rounds`` work folders one after another; each must stay whole while in use."""
    problems: list[str] = []
    for n in range(rounds):
        try:
            with work_folder(Path(parent), "ocr-") as work:
                (work / "page.txt").write_text(str(n), encoding="utf-8")
                if not work.is_dir() or not (work / "page.txt").is_file():
                    problems.append(f"{work.name} removed while in use")
        except OSError as exc:
            problems.append(f"round {n}: {type(exc).__name__}: {exc}")
    return problems


def _sweep_until(parent: str, stop_file: str) -> int:
    swept = 0
    while not os.path.exists(stop_file):
        swept += len(sweep_work_folders(Path(parent)))
    return swept


def test_a_sweep_racing_many_creations_never_removes_a_held_folder(tmp_path: Path) -> None:
    parent = tmp_path / "tmp"
    parent.mkdir()
    stop = tmp_path / "stop"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        sweepers = [pool.apply_async(_sweep_until, (str(parent), str(stop))) for _ in range(2)]
        creators = [pool.apply_async(_create_many, (str(parent), ROUNDS)) for _ in range(2)]
        try:
            problems = [p for c in creators for p in c.get(timeout=600)]
        finally:
            stop.touch()
        for s in sweepers:
            s.get(timeout=60)
    assert problems == [], problems[:10]
    assert list(parent.iterdir()) == []  # every folder removed by its owner


def test_a_staging_folder_left_by_a_killed_creation_is_stale_once_old(tmp_path: Path) -> None:
    parent = tmp_path / "tmp"
    young = parent / ".staging-ocr-young"
    old = parent / ".staging-ocr-old"
    young.mkdir(parents=True)
    old.mkdir()
    long_ago = time.time() - 24 * 3600
    os.utime(old, (long_ago, long_ago))
    assert stale_work_folders(parent) == [old]
    with work_folder(parent, "ocr-") as work:  # a held folder is never stale, whatever its age
        os.utime(work, (long_ago, long_ago))
        assert work not in stale_work_folders(parent)
        assert not work.name.startswith(".")

"""The live processes of a process group, from /proc: what the OCR tests check is gone."""

from __future__ import annotations

from pathlib import Path


def group_members(pgid: int) -> list[tuple[int, str]]:
    """Live (non-zombie) processes of group ``pgid`` as (pid, program name), read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append((int(entry.name), name))
    return members

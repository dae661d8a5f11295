"""Which process listens on a loopback TCP port, from /proc (Linux).

The local Prefect API hands its credential to whatever answers on its port, so a client must
know that the answer comes from the server it started, not from another local user's process
that took the port first (or after a crash). A pid file alone cannot tell: the pid may have
been reused. :func:`listens_on` checks that one of the process's open sockets is the one
listening on ``127.0.0.1:port`` (``/proc/net/tcp`` names the listening socket's inode,
``/proc/PID/fd`` the inodes a process holds).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column
_LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian)


def listening_inodes(port: int, *, table: Path = Path("/proc/net/tcp")) -> set[str]:
    """The inodes of the sockets listening on 127.0.0.1:``port`` (or 0.0.0.0:``port``)."""
    wanted = {f"{_LOOPBACK_HEX}:{port:04X}", f"00000000:{port:04X}"}
    found: set[str] = set()
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) > 9 and fields[1] in wanted and fields[3] == _LISTEN:
            found.add(fields[9])
    return found


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds open (empty when /proc says nothing)."""
    found: set[str] = set()
    folder = f"/proc/{pid}/fd"
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            with contextlib.suppress(OSError):
                target = os.readlink(f"{folder}/{name}")
                if target.startswith("socket:["):
                    found.add(target[len("socket:[") : -1])
    return found


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on 127.0.0.1:``port``."""
    listening = listening_inodes(port)
    return bool(listening) and bool(listening & socket_inodes(pid))


def port_listened(port: int) -> bool:
    """Whether any process listens on 127.0.0.1:``port``."""
    return bool(listening_inodes(port))

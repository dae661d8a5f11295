"""One OCRmyPDF job as the pool sends it to a worker: a JSON line (``pool``, ``worker``).

Its own module so that the pool does not import the worker's main module (which the worker
process runs with ``python -m``, and which imports OCRmyPDF's pipeline).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """One OCRmyPDF run: its arguments, environment, working directory and log file."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    log: str

    @classmethod
    def parse(cls, line: bytes) -> Job:
        data = json.loads(line)
        return cls(
            argv=[str(a) for a in data["argv"]],
            env={str(k): str(v) for k, v in data["env"].items()},
            cwd=str(data["cwd"]),
            log=str(data["log"]),
        )

    def to_line(self) -> bytes:
        record = {"argv": self.argv, "env": self.env, "cwd": self.cwd, "log": self.log}
        return (json.dumps(record) + "\n").encode()

"""Rules on the code itself that mypy and ruff do not check: every ``type: ignore`` names its
error code and says why, and no ``assert`` in src/ serves as a runtime check (``python -O``
drops them; a real error says what went wrong)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = [ROOT / "src", ROOT / "flows"]
# "# type: ignore[code, ...]  # reason": the code(s) in brackets, then a comment of its own
IGNORE_WITH_REASON = re.compile(r"#\s*type:\s*ignore\[[a-z0-9-]+(,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def _python_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.py"))


def test_every_type_ignore_names_its_code_and_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _python_files(*CHECKED)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "type: ignore" in line and not IGNORE_WITH_REASON.search(line)
    ]
    assert not bare, "type: ignore without [code] and a reason:\n" + "\n".join(bare)


def test_no_assert_in_src() -> None:
    asserts = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _python_files(ROOT / "src")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if isinstance(node, ast.Assert)
    ]
    assert not asserts, "assert used as a runtime check in src/:\n" + "\n".join(asserts)

"""The demo package: its PDFs are the generator's, it reaches the CLI only through its entry
point, and the pipeline never imports it."""

from __future__ import annotations

import ast
import io
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path

import pypdf
import typer

from archive_ingest.catalogue.copies import record_copy
from archive_ingest.catalogue.store import Catalogue
from archive_ingest.cli import COMMANDS_GROUP, app
from archive_ingest.settings import Settings
from archive_ingest_demo.catalogue import DEMO_CHAPTERS, demo_pdf_name
from archive_ingest_demo.run import copies_line
from tests.support.samples.demo import make_demo_samples

REPO = Path(__file__).resolve().parent.parent


def _pages(pdf: bytes) -> list[tuple[str, int]]:
    """Each page's text and how many images it draws."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [(page.extract_text() or "", len(page.images)) for page in reader.pages]


def test_the_shipped_pdfs_are_what_the_generator_makes(tmp_path: Path) -> None:
    shipped = files("archive_ingest_demo") / "pdfs"
    made = make_demo_samples(tmp_path)
    assert [p.name for p in made] == [demo_pdf_name(c[0]) for c in DEMO_CHAPTERS]
    total = 0
    for path in made:
        committed = (shipped / path.name).read_bytes()
        total += len(committed)
        # same pages, text layers and scans (bytes may differ with the image codec's version)
        assert _pages(committed) == _pages(path.read_bytes()), path.name
    assert total < 3_000_000  # two chapters of one licence page and two scanned pages


def test_demo_is_added_through_its_entry_point() -> None:
    (demo,) = [ep for ep in entry_points(group=COMMANDS_GROUP) if ep.name == "demo"]
    assert demo.value == "archive_ingest_demo.command:register"
    names = [command.name or command.callback.__name__ for command in app.registered_commands]
    assert "demo" in names
    fresh = typer.Typer()
    demo.load()(fresh)
    assert [c.callback.__name__ for c in fresh.registered_commands if c.callback] == ["demo"]


def test_the_pipeline_never_imports_the_demo() -> None:
    offenders = []
    for root in ("src/archive_ingest", "flows"):
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                else:
                    continue
                if any(m.split(".")[0] == "archive_ingest_demo" for m in modules):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_the_demo_shows_each_items_copies_as_the_catalogue_records_them(
    settings: Settings,
) -> None:
    catalogue = Catalogue.open(settings.effective_database_url)
    try:
        catalogue.ensure_item("demo-x", source="test:demo-x", source_kind="test")
        version = catalogue.new_version("demo-x", original_sha256=None, work_dir=None)
        assert copies_line(settings, "demo-x", version) == ""  # nothing stored yet
        for target in ("local-1", "local-2"):
            record_copy(catalogue, "demo-x", version, target, status="verified")
        record_copy(catalogue, "demo-x", version, "offsite", status="failed", detail="down")
    finally:
        catalogue.close()
    assert copies_line(settings, "demo-x", version) == (
        "stored: 2 verified copies (local-1, local-2); offsite failed"
    )
    assert copies_line(settings, "demo-x", None) == ""  # an item without a version

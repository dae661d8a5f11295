"""A corrected PDF published where the old one was - the same ``file:`` path, the same URL -
is a new version of the same item (v2), never an internal error. Real parts: the CLI as a
subprocess on the session Prefect server, the local SciELO server, SeaweedFS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.cli import cli_env, json_lines, run_cli
from tests.support.territory_book import add_book, add_chapter, make_chapter

pytestmark = pytest.mark.slow


def _chapter(path: Path, title: str, seed: int) -> Path:
    """A born-digital one-page chapter (quick through OCR) whose page shows ``title``."""
    make_chapter(path, title, scanned_pages=0, seed=seed)
    return path


def _catalogue_versions(settings: Settings, record_id: str) -> list[tuple[int, str, str | None]]:
    cat = Catalogue.open(settings.effective_database_url)
    try:
        return [(v.version, v.state, v.original_sha256) for v in cat.versions(record_id)]
    finally:
        cat.close()


def _one(proc: Any) -> dict[str, Any]:
    lines = json_lines(proc)
    assert len(lines) == 1, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    return lines[0]


def test_a_corrected_pdf_at_the_same_path_is_a_new_version(
    tmp_path: Path,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
) -> None:
    env = cli_env(scielo_server, prefect_api_url)
    pdf = _chapter(tmp_path / "chapter.pdf", "Capítulo de teste", seed=1)
    meta = tmp_path / "chapter.json"
    meta.write_text(
        json.dumps(
            {
                "kind": "chapter",
                "title": "Capítulo de teste",
                "creators": [{"name": "Souza, Helena Martins", "role": "author"}],
                "date": "2012",
                "language": "pt",
                "publisher": "EDUFBA",
                "licence": "CC BY-NC-SA 3.0",
                "licence_url": "https://creativecommons.org/licenses/by-nc-sa/3.0/",
            }
        ),
        encoding="utf-8",
    )
    first = _one(run_cli(env, "ingest", f"file:{pdf}", "--metadata", str(meta)))
    assert (first["state"], first["version"]) == ("deposited", 1), first
    record_id = first["id"]

    _chapter(pdf, "Capítulo de teste (corrigido)", seed=2)  # new bytes, same path
    second = _one(run_cli(env, "ingest", f"file:{pdf}", "--metadata", str(meta)))
    assert second["id"] == record_id, second
    assert (second["state"], second["version"]) == ("deposited", 2), second
    assert not any("internal error" in r for r in second["reasons"]), second
    versions = _catalogue_versions(seaweed_settings, record_id)
    assert [(n, s) for n, s, _ in versions] == [(1, "deposited"), (2, "deposited")]
    assert versions[0][2] != versions[1][2]

    # the same bytes again: nothing new
    third = _one(run_cli(env, "ingest", f"file:{pdf}", "--metadata", str(meta)))
    assert (third["id"], third["version"]) == (record_id, 2), third
    assert len(_catalogue_versions(seaweed_settings, record_id)) == 2


def test_a_corrected_pdf_at_the_same_url_is_a_new_version(
    tmp_path: Path,
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    prefect_api_url: str,
) -> None:
    env = cli_env(scielo_server, prefect_api_url)
    sbid = "chg1"
    add_book(scielo_catalogue, sbid)

    def publish(seed: int, printed_title: str) -> None:
        pdf = _chapter(tmp_path / f"chapter-{seed}.pdf", printed_title, seed)
        add_chapter(scielo_catalogue, sbid, pdf, "Capítulo sobre o território")

    url = f"{scielo_server.base_url.rstrip('/')}/id/{sbid}/01"
    publish(seed=1, printed_title="Capítulo sobre o território")
    first = _one(run_cli(env, "ingest", url))
    assert (first["state"], first["version"]) == ("deposited", 1), first
    # a corrected PDF (other bytes) at the same URL, same metadata
    publish(seed=2, printed_title="Capítulo sobre o território (corrigido)")
    second = _one(run_cli(env, "ingest", url))
    assert second["id"] == first["id"], second
    assert (second["state"], second["version"]) == ("deposited", 2), second
    versions = _catalogue_versions(seaweed_settings, first["id"])
    assert [(n, s) for n, s, _ in versions] == [(1, "deposited"), (2, "deposited")]
    assert versions[0][2] != versions[1][2]

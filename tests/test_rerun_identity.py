"""The same content from another address is the same version: a mirror, a proxy, http→https or
the demo's sample server on another port must not re-version the archive (real pipeline, real
OCR and SeaweedFS; two sample SciELO servers serving one catalogue)."""

from __future__ import annotations

from pathlib import Path

from archive_ingest.catalogue import Catalogue
from archive_ingest.ingest.resolve import load_incoming_record
from archive_ingest.ingest.services import Services
from archive_ingest.ingest.versioning import fingerprint
from archive_ingest.settings import Settings
from archive_ingest_demo.scielo_sample import SampleCatalogue, SampleScieloServer
from tests.support.pipeline import ingest_in_process
from tests.support.samples import add_generated_book


def test_the_same_item_from_another_base_url_is_not_a_new_version(
    scielo_catalogue: SampleCatalogue,
    scielo_server: SampleScieloServer,
    seaweed_settings: Settings,
    tmp_path: Path,
) -> None:
    [ref] = add_generated_book(scielo_catalogue, "mir01", 1, tmp_path)
    first = ingest_in_process(
        seaweed_settings.model_copy(update=scielo_server.settings_overrides()), ref
    )
    assert (first.state, first.version) == ("deposited", 1), first.reasons

    with SampleScieloServer(scielo_catalogue) as mirror:
        assert mirror.base_url != scielo_server.base_url
        moved = seaweed_settings.model_copy(update=mirror.settings_overrides())
        again = ingest_in_process(moved, ref)
        assert (again.state, again.version) == ("deposited", 1), again.reasons

        # a version fingerprinted before this rule (hosts included) still matches
        cat = Catalogue.open(seaweed_settings.effective_database_url)
        try:
            row = cat.get_version(first.id or "", 1)
            assert row is not None
            record = load_incoming_record(Services.open(moved).workspace(first.id or ""))
            old_style = fingerprint(record, row.original_sha256 or "", with_hosts=True)
            assert old_style != row.summary["fingerprint"]  # the URLs really differ
            cat.update_version(first.id or "", 1, summary={**row.summary, "fingerprint": old_style})
        finally:
            cat.close()
        third = ingest_in_process(moved, ref)
        assert (third.state, third.version) == ("deposited", 1), third.reasons
        assert len(mirror.requests_for(mirror_pdf_path(scielo_catalogue, ref))) >= 1

    cat = Catalogue.open(seaweed_settings.effective_database_url)
    try:
        assert [v.version for v in cat.versions(first.id or "")] == [1]
    finally:
        cat.close()


def mirror_pdf_path(catalogue: SampleCatalogue, ref: str) -> str:
    sbid, nn = ref.split(":", 1)[1].split("/")
    return catalogue.books[sbid].chapter_pdf_path(nn)

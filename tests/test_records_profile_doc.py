"""schemas/mets-profile.md and the code that checks it say the same thing."""

from __future__ import annotations

import re

from archive_ingest.records import METS_PROFILE_URI
from archive_ingest.records.profile import DC_RULES, METS_RULES
from archive_ingest.resources import schemas_dir

DOC = (schemas_dir() / "mets-profile.md").read_text(encoding="utf-8")


def _table_rules() -> dict[str, str]:
    return dict(re.findall(r"^\| ((?:MP|DC)-\d\d) \| (.+?) \|$", DOC, re.M))


def test_every_rule_in_the_code_is_in_the_document_with_the_same_words() -> None:
    assert _table_rules() == {**METS_RULES, **DC_RULES}


def test_the_document_names_the_profile_uri_the_writer_uses() -> None:
    assert f"`{METS_PROFILE_URI}`" in DOC

"""Deterministic identifiers: PREMIS UUIDs (uuid5) and METS XML IDs.

Random UUIDs would make every re-run produce different bytes; these are derived from what
they identify, under one project namespace UUID:

* intellectual entity: the record id (the same chapter is the same entity in every version);
* files: record id + package version + role + path (a new bag version holds new copies);
* rights statement: record id + version + statement number;
* events: record id + event type + time + agent + an ordinal among otherwise identical
  events, *not* the package version or list position, so an event keeps its UUID when a
  later version's METS repeats the history;
* agents: agent type + name (+ the caller's agent id): the same software or person has
  the same UUID in every package.
"""

from __future__ import annotations

import re
import uuid

#: the root of every identifier the records mint. The URL string is only a fixed uuid5 seed,
#: not a namespace or address the project claims; changing it would change every identifier
#: already minted, so it stays as it is.
PROJECT_NAMESPACE = uuid.uuid5(
    uuid.NAMESPACE_URL, "https://github.com/archive-ingest/archive-ingest"
)
_SEP = "\x1f"  # a separator no cleaned value contains


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(PROJECT_NAMESPACE, _SEP.join(str(p) for p in parts)))


def entity_uuid(record_id: str) -> str:
    return _uuid("entity", record_id)


def file_uuid(record_id: str, version: int, role: str, path: str) -> str:
    return _uuid("file", record_id, version, role, path)


def rights_uuid(record_id: str, version: int, number: int) -> str:
    return _uuid("rights", record_id, version, number)


def event_uuid(record_id: str, event_type: str, when: str, agent: str, ordinal: int) -> str:
    return _uuid("event", record_id, event_type, when, agent, ordinal)


def agent_uuid(agent_type: str, name: str, agent_id: str | None) -> str:
    return _uuid("agent", agent_type, name, agent_id or "")


_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def xml_id(*parts: str | int) -> str:
    """An XML ID (an NCName) from readable parts, e.g. ``xml_id("file", "ocr-page", 3)``."""
    text = "-".join(_NOT_NAME.sub("_", str(p)) for p in parts)
    return text if re.match(r"[A-Za-z_]", text) else f"id-{text}"

"""What every stage is given: the run's services and the item's handle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from archive_ingest import __version__
from archive_ingest.catalogue import Catalogue
from archive_ingest.errors import ArchiveIngestError
from archive_ingest.http import SourceHttp
from archive_ingest.settings import Settings
from archive_ingest.sources import allowed_hosts
from archive_ingest.workspace import ItemWorkspace, ensure_home

#: the agent of the events the stages record
SOFTWARE = f"archive-ingest {__version__}"


class Handle(BaseModel):
    """What the flow passes from stage to stage: ids and paths, never the bytes."""

    record_id: str
    source: str
    version: int | None = None
    unchanged: bool = False
    reasons: list[str] = Field(default_factory=list)
    #: seconds spent in each stage this run (the stage and its recording; 0 when skipped as
    #: done): what the orchestration around the stages costs is the run's time minus their sum
    seconds: dict[str, float] = Field(default_factory=dict)


def version_of(handle: Handle) -> int:
    """The handle's version; only ``resolve`` and ``fetch`` see a handle without one."""
    if handle.version is None:
        raise ArchiveIngestError(f"{handle.record_id}: no version fetched yet")
    return handle.version


@dataclass
class Services:
    """The side-effecting parts a run needs, built once per flow run."""

    settings: Settings
    catalogue: Catalogue
    http: SourceHttp

    @classmethod
    def open(cls, settings: Settings) -> Services:
        ensure_home(settings.home)
        catalogue = Catalogue.open(settings.effective_database_url)
        http = SourceHttp(settings, allowed_hosts(settings))
        return cls(settings=settings, catalogue=catalogue, http=http)

    def close(self) -> None:
        self.http.close()
        self.catalogue.close()

    def workspace(self, record_id: str) -> ItemWorkspace:
        return ItemWorkspace(self.settings.home, record_id)


def version_summary(svc: Services, handle: Handle) -> dict[str, Any]:
    """The version row's summary as it is now (a stage adds its part to a copy)."""
    row = svc.catalogue.get_version(handle.record_id, version_of(handle))
    return dict(row.summary or {}) if row else {}

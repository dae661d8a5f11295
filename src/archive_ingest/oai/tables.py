"""The OAI-PMH tables: what the data provider exposes, stored at deposit time.

The provider never reads a workspace: ``publish_record`` copies the deposited version's
``dc.xml``/``mets.xml`` here, with the ``oai_openaire`` record built from the catalogue
(migration ``0009_oai_openaire.py``), its sets and datestamp. Datestamps are integer UTC epoch
seconds (exact second granularity on SQLite and PostgreSQL alike, cheap keyset comparisons).

oai_records      one row per exposed record: payloads, datestamp, deleted flag, whether the
                 version's access copy is served (its URL is added per response)
oai_record_sets  record -> setSpec (every ancestor spec too), datestamp copied for set harvests
oai_sets         setSpec -> setName
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from archive_ingest.catalogue.schema import Base


class OaiRecord(Base):
    __tablename__ = "oai_records"
    __table_args__ = (Index("ix_oai_records_datestamp", "datestamp", "record_id"),)

    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    datestamp: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    dc_xml: Mapped[bytes] = mapped_column(LargeBinary)
    mets_xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: the oai_openaire record, with a placeholder for the access-copy URL (base-dependent)
    openaire_xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: the version's access copy is served to harvesters (oai_dc gets its URL as dc:identifier)
    access_copy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OaiRecordSet(Base):
    __tablename__ = "oai_record_sets"
    __table_args__ = (
        Index("ix_oai_record_sets_keyset", "set_spec", "datestamp", "record_id"),
        Index("ix_oai_record_sets_record", "record_id"),
    )

    set_spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    record_id: Mapped[str] = mapped_column(
        ForeignKey("oai_records.record_id", ondelete="CASCADE"), primary_key=True
    )
    datestamp: Mapped[int] = mapped_column(BigInteger)


class OaiSet(Base):
    __tablename__ = "oai_sets"

    spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(Text)

"""SQLAlchemy models of the core store (migration ``0001_core``); users/roles/tokens live in ``auth_models``.

Tables
------
``plans``, ``targets``, ``tasks``   the work plan as loaded from its YAML (``citycarbon.plan``)
``regions``                         GB/T 2260 codes with parent, names and kind
``factor_loads``, ``factors``       factor-table rows (``citycarbon.factors``), one set of rows per load
``import_batches``                  uploaded tables: validation problems, preview, approval
``ledger_revisions``                one row per ledger write (the ledger version)
``observations``                    the bitemporal ledger of the long-format datasets
``jobs``                            long-running work (pathway ensembles, rollups …)
``audit_log``                       the append-only, hash-chained audit trail

See ``docs/storage.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime, utcnow

__all__ = [
    "AuditEntry",
    "FactorLoad",
    "FactorRecord",
    "ImportBatch",
    "Job",
    "LedgerRevision",
    "Observation",
    "PlanRecord",
    "RegionRecord",
    "TargetRecord",
    "TaskRecord",
]


# ---- the plan ------------------------------------------------------------------------------------


class PlanRecord(Base):
    """A city's work plan; ``document`` is the YAML text as loaded, ``sha256`` its hash."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str] = mapped_column(String(12))
    city: Mapped[str] = mapped_column(String(128))
    city_en: Mapped[str] = mapped_column(String(128))
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    basis_document: Mapped[str] = mapped_column(String(255))
    base_year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TargetRecord(Base):
    """One quantitative target (主要目标) of a plan."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(128))
    indicator: Mapped[str] = mapped_column(String(128))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(64))
    comparison: Mapped[str] = mapped_column(String(16))
    base_year: Mapped[int | None] = mapped_column(Integer)
    tolerance: Mapped[float | None] = mapped_column(Float)
    parameter: Mapped[bool] = mapped_column(Boolean, default=False)
    clause: Mapped[str] = mapped_column(Text)
    clause_ref: Mapped[str] = mapped_column(String(255))
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class TaskRecord(Base):
    """A numbered task (重点任务) of a plan."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    group_number: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    text_zh: Mapped[str] = mapped_column(Text)
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)


# ---- regions and factors -------------------------------------------------------------------------


class RegionRecord(Base):
    """An administrative region (GB/T 2260 code); ``kind`` is province/city/district/county/zone."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)


class FactorLoad(Base):
    """One load of the factor tables (shipped files or an office file); the newest load is current."""

    __tablename__ = "factor_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(128))


class FactorRecord(Base):
    """A factor row exactly as in ``data/factors/*.csv`` (value, unit, years, source, document, status)."""

    __tablename__ = "factors"
    __table_args__ = (UniqueConstraint("load_id", "factor_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("factor_loads.id", ondelete="CASCADE"), index=True)
    factor_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    factor_set: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(64))
    year_from: Mapped[int | None] = mapped_column(Integer)
    year_to: Mapped[int | None] = mapped_column(Integer)
    data_year: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    document: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    flag: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)


# ---- imports and the ledger ----------------------------------------------------------------------


class ImportBatch(Base):
    """An uploaded table: validated at upload, previewed, then approved into the ledger or discarded.

    ``status``: ``validated`` (no problems, awaiting approval), ``rejected`` (problems found), ``approved``
    (written to the ledger), ``discarded``. ``kind`` is the ledger dataset it feeds (``balance``,
    ``statistics`` …) or ``seed`` for the shipped reference data.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[str] = mapped_column(String(128))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), index=True)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_path: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16), default="years")
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class LedgerRevision(Base):
    """One write to the ledger. ``max(id)`` is the ledger version; ``token`` makes a cache key unique even
    where a rolled-back id is reused."""

    __tablename__ = "ledger_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    dataset: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    superseded: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)


class Observation(Base):
    """One version of one value of a long-format dataset (bitemporal).

    Valid time: ``valid_year`` (+ ``valid_month``). Recorded time: ``[recorded_at, superseded_at)``; the
    current version has ``superseded_at`` NULL. ``natural_key`` is the canonical JSON of the dataset's key
    columns; ``dim1..dim3`` repeat the non-time key parts for filtering. A value is never updated in place:
    a change closes the old version and inserts a new one.
    """

    __tablename__ = "observations"
    __table_args__ = (
        Index("uq_observations_current", "dataset", "natural_key", unique=True,
              sqlite_where=text("superseded_at IS NULL"), postgresql_where=text("superseded_at IS NULL")),
        Index("ix_observations_dataset_key", "dataset", "natural_key", "recorded_at"),
        Index("ix_observations_dataset_region_year", "dataset", "region", "valid_year"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(32))
    natural_key: Mapped[str] = mapped_column(String(255))
    region: Mapped[str] = mapped_column(String(32))
    valid_year: Mapped[int] = mapped_column(Integer)
    valid_month: Mapped[int | None] = mapped_column(Integer)
    dim1: Mapped[str] = mapped_column(String(128), default="")
    dim2: Mapped[str] = mapped_column(String(128), default="")
    dim3: Mapped[str] = mapped_column(String(128), default="")
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("ledger_revisions.id"), index=True)


# ---- jobs and audit ------------------------------------------------------------------------------


class Job(Base):
    """A long-running job: ``queued`` → ``running`` → ``done`` | ``failed``; polled by id (a UUID)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[Any | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: how far a running job is: {"done": n, "total": m, "step": "…"} (issue 16: report generation)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AuditEntry(Base):
    """One audit record. ``before``/``after`` are canonical JSON text (hashed as stored); ``hash`` =
    sha256(canonical JSON of the row's fields + ``prev_hash``). Append-only: triggers refuse UPDATE/DELETE."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

"""Store models of the project gate (issue 15; migration ``0105_projects``).

``proj_projects``           fixed-asset investment projects (节能审查): the filed data (``data``: products, types,
                            energy, feedstock and renewable supply by fuel, national plan, consent …, the shape of
                            :func:`citycarbon.store.projects.project_data`), the workflow ``state``, the decision
                            (文号, date, conditions, approved figures) and ``version`` (a write names the version it
                            read; a stale version is refused, nothing is lost).
``proj_project_versions``   every saved state of every project (append-only history).
``proj_events``             the workflow's history: submitted, completeness, comments of the expert review,
                            decision, acceptance (验收); each with its actor, time and body.
``proj_attachments``        files attached to an event (the blob is a ``gov_blobs`` row: content-addressed,
                            type checked by content).
``proj_ledger_sources``     the replacement ledgers' sources: retired capacity (plant, unit, product, date,
                            document) and energy-consumption room (closures, savings), with ``version`` bumped by
                            every allocation (the allocation's conditional update: two racing approvals, one wins).
``proj_ledger_allocations`` amounts of a source allocated to a project (in the source's unit; Decimal as text);
                            ``released_at`` set when the allocation is given back (a rejected or withdrawn project).
``energy_projects``         the energy-project registry (supply side): wind, solar, nuclear, storage, hydrogen,
                            biomass, waste-to-energy, coal units, CHP and boilers, with stage, MW/MWh and dates.
``energy_project_versions`` every saved state of every energy project (append-only history).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime, utcnow

__all__ = [
    "EnergyProject",
    "EnergyProjectVersion",
    "ProjAttachment",
    "ProjEvent",
    "ProjLedgerAllocation",
    "ProjLedgerSource",
    "ProjProject",
    "ProjProjectVersion",
]


class ProjProject(Base):
    """A fixed-asset investment project under 节能审查, as it stands now."""

    __tablename__ = "proj_projects"
    __table_args__ = (UniqueConstraint("city", "code"),
                      Index("ix_proj_projects_scope", "city", "region_code", "state"),
                      Index("ix_proj_projects_enterprise", "city", "applicant_uscc"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    applicant_name: Mapped[str] = mapped_column(String(300))
    applicant_uscc: Mapped[str] = mapped_column(String(18))
    #: the monitoring registry's enterprise when the applicant is a key energy-using unit
    enterprise_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    region_code: Mapped[str] = mapped_column(String(12))
    industry_code: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    application_date: Mapped[date] = mapped_column(Date)
    #: the filed data (products, types, energy, feedstock, renewable_supply, national_plan, city_consent,
    #: investment, commissioning, notes): see citycarbon.store.projects.project_data
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: draft → submitted → (incomplete ↔ submitted) → under_review → approved / approved_conditions / rejected
    #: → commissioned → accepted; withdrawn from any state before the decision
    state: Mapped[str] = mapped_column(String(32), default="draft")
    decision: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decision_no: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 文号
    decision_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    conditions: Mapped[str] = mapped_column(Text, default="")
    #: the figures approved (tce both ways, dual-control tce, coal, CO2 …) frozen at the decision
    approved: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: the check (energy, findings, budget) computed at the last save, for lists and the pipeline
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProjProjectVersion(Base):
    """One saved state of a project (append-only)."""

    __tablename__ = "proj_project_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("proj_projects.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class ProjEvent(Base):
    """One step of a project's workflow: ``kind`` submitted / completeness / comment / decision / commissioned /
    acceptance / withdrawn / allocation; ``body`` its details (missing items, the comment, the decision, the
    measured against approved consumption …)."""

    __tablename__ = "proj_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("proj_projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    state_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128), default="")


class ProjAttachment(Base):
    """A file attached to a workflow event (expert opinions, 节能报告, commissioning records)."""

    __tablename__ = "proj_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("proj_events.id", ondelete="CASCADE"), index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("gov_blobs.sha256"))
    filename: Mapped[str] = mapped_column(String(255))


class ProjLedgerSource(Base):
    """A source of a replacement ledger: retired capacity (``kind`` capacity) or energy-consumption room
    (``kind`` energy). ``amount`` is a Decimal written as text (exact); ``version`` is bumped by every
    allocation and release (the conditional update that makes racing allocations safe)."""

    __tablename__ = "proj_ledger_sources"
    __table_args__ = (UniqueConstraint("city", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # capacity | energy
    amount: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(100), nullable=True)
    plant: Mapped[str | None] = mapped_column(String(300), nullable=True)
    unit_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    retired_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    document: Mapped[str | None] = mapped_column(String(200), nullable=True)
    origin: Mapped[str] = mapped_column(String(32), default="closure")  # closure | saving | other
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProjLedgerAllocation(Base):
    """An amount of a source allocated to a project, in the source's unit (Decimal as text), with what was
    asked for. Released allocations (``released_at``) no longer count against the source."""

    __tablename__ = "proj_ledger_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("proj_ledger_sources.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("proj_projects.id"), index=True)
    amount: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(64))
    requested_amount: Mapped[str] = mapped_column(String(40))
    requested_unit: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class EnergyProject(Base):
    """An energy project of the city's supply side (see ``data/projects/energy_technologies.csv``)."""

    __tablename__ = "energy_projects"
    __table_args__ = (UniqueConstraint("city", "code"),
                      Index("ix_energy_projects_scope", "city", "technology", "stage"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    technology: Mapped[str] = mapped_column(String(48))
    #: planned → approved → construction → grid_connected → retired
    stage: Mapped[str] = mapped_column(String(32), default="planned")
    region_code: Mapped[str] = mapped_column(String(12))
    capacity_mw: Mapped[float] = mapped_column(Float, default=0.0)
    storage_mwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    owner: Mapped[str] = mapped_column(String(300), default="")
    owner_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True)
    approved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    construction_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    grid_connected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    retired_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the planned grid connection
    document: Mapped[str] = mapped_column(String(200), default="")  # approval / filing 文号
    plan_tasks: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the plan's task ids it serves
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # technology-specific details
    source: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="reported")  # verification status
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(128), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class EnergyProjectVersion(Base):
    """One saved state of an energy project (append-only)."""

    __tablename__ = "energy_project_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("energy_projects.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(Text, default="")

"""Store models of assessment and the yearly reports (issue 16; migration ``0106_assessment``).

``assess_schemes``      the assessment schemes (考核方案) of a city, one row per (code, version): the YAML text
                        and its sha256 (the shipped drafts are seeded; the office uploads new versions).
``assess_runs``         one assessment of a year under one scheme version: ``draft`` → ``published`` (or
                        ``superseded`` by a newer draft); the ledger version and the moment (``as_of``) whose data
                        it scored, the objection deadline, the inputs hash; ``version`` bumped by every write (a
                        write names the version it read: publishing a run that changed underneath is refused).
``assess_scores``       each unit's score in a run: total (Decimal as text), grade, the item breakdown with the
                        evidence behind every point (``result``) and the facts it was computed from (``facts``).
``assess_adjustments``  the office's values for qualitative items, with reason, actor and time (the newest per
                        unit and item counts; older ones stay as history).
``assess_objections``   a unit's objection to its draft (within the scheme's period) and the office's answer.
``report_documents``    generated reports (the city's 贯彻落实情况 report as DOCX/PDF/XLSX, a unit's report): the
                        bytes, their sha256, the ledger version and the inputs hash they were built from, the
                        figures they show (``figures``) and the job that built them.
``report_narratives``   the editable narrative sections of a report draft (city or unit, per year), versioned.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime, utcnow

__all__ = ["AssessAdjustment", "AssessObjection", "AssessRun", "AssessScheme", "AssessScore", "ReportDocument",
           "ReportNarrative"]


class AssessScheme(Base):
    """One version of an assessment scheme of a city (the YAML text as uploaded or shipped)."""

    __tablename__ = "assess_schemes"
    __table_args__ = (UniqueConstraint("city", "code", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="estimate")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")


class AssessRun(Base):
    """An assessment of ``year`` under one scheme version."""

    __tablename__ = "assess_runs"
    __table_args__ = (Index("ix_assess_runs_city_year", "city", "year", "scheme_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version: Mapped[int] = mapped_column(Integer)
    scheme_sha256: Mapped[str] = mapped_column(String(64))
    #: the ledger version whose data were scored, and the moment the other records (filings, projects,
    #: monitoring) were read as of
    ledger_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    #: draft → published; a newer draft of the same (year, scheme) supersedes an older draft
    state: Mapped[str] = mapped_column(String(16), default="draft")
    objection_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: sha256 of the canonical JSON of every unit's facts (the same inputs give the same hash)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    publish_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class AssessScore(Base):
    """One unit's score in a run."""

    __tablename__ = "assess_scores"
    __table_args__ = (UniqueConstraint("run_id", "unit_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assess_runs.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(64))
    unit_kind: Mapped[str] = mapped_column(String(32))
    unit_name_zh: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    total: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    vetoed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: UnitScore.to_dict(): items with points, explanation and evidence
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: fact key → Fact.to_dict() (what the score was computed from)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AssessAdjustment(Base):
    """The office's value for a qualitative item of one unit in a run (newest counts)."""

    __tablename__ = "assess_adjustments"
    __table_args__ = (Index("ix_assess_adjustments_run_unit", "run_id", "unit_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assess_runs.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(64))
    indicator: Mapped[str] = mapped_column(String(64))
    points: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    adjusted_by: Mapped[str] = mapped_column(String(128))
    adjusted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssessObjection(Base):
    """A unit's objection to its draft score, and the office's answer (``open`` → ``upheld`` | ``rejected``)."""

    __tablename__ = "assess_objections"
    __table_args__ = (Index("ix_assess_objections_run_unit", "run_id", "unit_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assess_runs.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(64))
    indicator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReportDocument(Base):
    """A generated report file (stored bytes) with what it was built from."""

    __tablename__ = "report_documents"
    __table_args__ = (Index("ix_report_documents_scope", "city", "year", "scope", "org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    #: "city" (the city's report to 市委/市政府) or "unit" (a district's or department's own report)
    scope: Mapped[str] = mapped_column(String(16))
    #: the unit's organisation code ("" for the city's report)
    org_code: Mapped[str] = mapped_column(String(64), default="")
    format: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    ledger_version: Mapped[int] = mapped_column(Integer)
    #: sha256 of the canonical JSON of the report's content model (figures, tables, narrative)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    #: the headline figures the document shows (for checks against the status figures)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assessment_run_id: Mapped[int | None] = mapped_column(ForeignKey("assess_runs.id", ondelete="SET NULL"),
                                                          nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportNarrative(Base):
    """One editable narrative section of a report draft (city: ``org_code`` ""; a unit: its code)."""

    __tablename__ = "report_narratives"
    __table_args__ = (UniqueConstraint("city", "year", "org_code", "section"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    org_code: Mapped[str] = mapped_column(String(64), default="")
    section: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Store models of running the plan (issue 14; migration ``0104_governance``).

Versioned registries (an edit closes the current row, ``valid_to``, and inserts the next ``version``; the
current rows are those with ``valid_to IS NULL``; reading "as of" a time takes the row valid then):

``gov_orgs``                 the organisation registry of a city (leading group, office, departments, districts,
                             开放先导区), each with a code.
``gov_measures``             the responsibility matrix: the 工作措施 of each task, lead unit, co-units, districts,
                             deadline, milestones and quantitative indicators.

Append-mostly records:

``gov_subplans``             the "1+N" implementation plans: plan files (the city plan's schema) with a parent.
``gov_rounds``               progress rounds (调度): period, deadline, state.
``gov_round_assignments``    who must file what in a round: (round, measure, organisation).
``gov_filings``              the current filing of an assignment, with ``version`` (optimistic check: a write
                             names the version it read; a stale version is refused, nothing is lost).
``gov_filing_versions``      every saved state of every filing (append-only history).
``gov_blobs``                evidence files, content-addressed (SHA-256), type checked by content.
``gov_filing_attachments``   attachments of a filing version (blob + the name the unit gave it).
``gov_supervision_items``    督办 items created by the rules, with level, 文号, answer and closing evidence.
``gov_calendar_days``        the working-day calendar overrides (statutory holidays and adjusted working days).
``gov_notifications``        the in-app inbox (one row per recipient user or organisation).
``gov_templates``            a city's replacement DOCX templates (e.g. of the 督办通知), stored as blobs.
``users.org_code``           (a column of ``auth_models.User``) the organisation a department user is bound to.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime, utcnow

__all__ = [
    "GovBlob",
    "GovCalendarDay",
    "GovFiling",
    "GovFilingAttachment",
    "GovFilingVersion",
    "GovMeasure",
    "GovNotification",
    "GovOrg",
    "GovRound",
    "GovRoundAssignment",
    "GovSubplan",
    "GovSupervisionItem",
    "GovTemplate",
]


class GovOrg(Base):
    """One version of an organisation of a city's registry."""

    __tablename__ = "gov_orgs"
    __table_args__ = (UniqueConstraint("city", "code", "version"),
                      Index("ix_gov_orgs_current", "city", "code", "valid_to"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    short_zh: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    parent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(128), default="")
    change_reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")


class GovMeasure(Base):
    """One version of a measure (工作措施) of the responsibility matrix."""

    __tablename__ = "gov_measures"
    __table_args__ = (UniqueConstraint("city", "code", "version"),
                      Index("ix_gov_measures_current", "city", "code", "valid_to"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    task: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")
    lead: Mapped[str | None] = mapped_column(String(64), nullable=True)
    co_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: {"2025": "text"} yearly milestones
    milestones: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: [{"code", "name_zh", "name_en", "unit", "target", "year", "milestones": {"2025": value}}]
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(128), default="")
    change_reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")


class GovSubplan(Base):
    """A "1+N" implementation plan (sector or district) registered as a plan file with a parent link."""

    __tablename__ = "gov_subplans"
    __table_args__ = (UniqueConstraint("city", "code", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    parent: Mapped[str] = mapped_column(String(64))  # the city plan's code, or another subplan's code
    kind: Mapped[str] = mapped_column(String(16))  # "sector" | "district"
    org_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the unit that owns it
    title_zh: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(Text)  # the YAML text as registered
    sha256: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    registered_by: Mapped[str] = mapped_column(String(128), default="")


class GovRound(Base):
    """A progress round (调度) opened by the office."""

    __tablename__ = "gov_rounds"
    __table_args__ = (UniqueConstraint("city", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))  # e.g. "2026Q4"
    title_zh: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(16))  # RoundPeriod
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    opened_by: Mapped[str] = mapped_column(String(128), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class GovRoundAssignment(Base):
    """A unit owes a filing for a measure in a round."""

    __tablename__ = "gov_round_assignments"
    __table_args__ = (UniqueConstraint("round_id", "measure_code", "org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("gov_rounds.id", ondelete="CASCADE"), index=True)
    measure_code: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16), default="lead")  # lead | co | district


class GovFiling(Base):
    """The current state of a unit's filing for a measure in a round. ``version`` increases with every save; a
    write that names an older version than the stored one is refused (optimistic concurrency)."""

    __tablename__ = "gov_filings"
    __table_args__ = (UniqueConstraint("round_id", "measure_code", "org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("gov_rounds.id", ondelete="CASCADE"), index=True)
    measure_code: Mapped[str] = mapped_column(String(32), index=True)
    org_code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default="draft")  # FilingState
    status: Mapped[str] = mapped_column(String(16))  # MeasureStatus
    narrative: Mapped[str] = mapped_column(Text, default="")
    #: {"indicator_code": value} values to date
    indicator_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lag_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GovFilingVersion(Base):
    """Every saved state of a filing (append-only): what was filed, reviewed, returned, and by whom."""

    __tablename__ = "gov_filing_versions"
    __table_args__ = (UniqueConstraint("filing_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("gov_filings.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # save | submit | accept | return
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GovBlob(Base):
    """An evidence file, stored once by content (SHA-256). ``content`` holds the bytes; ``media_type`` is what
    the content is (sniffed from its bytes, never taken from the upload's name or header)."""

    __tablename__ = "gov_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")


class GovFilingAttachment(Base):
    """An evidence file attached to a filing (from ``filing_version`` on)."""

    __tablename__ = "gov_filing_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("gov_filings.id", ondelete="CASCADE"), index=True,
                                                  nullable=True)
    supervision_id: Mapped[int | None] = mapped_column(ForeignKey("gov_supervision_items.id", ondelete="CASCADE"),
                                                       index=True, nullable=True)
    filing_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("gov_blobs.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GovSupervisionItem(Base):
    """A supervision (督办) item created by a rule: a late filing, a lagging measure. ``level`` escalates; the unit
    answers; the office closes it with evidence."""

    __tablename__ = "gov_supervision_items"
    __table_args__ = (UniqueConstraint("city", "rule_code", "round_id", "measure_code", "org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64), index=True)
    rule_code: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # SupervisionLevel
    round_id: Mapped[int | None] = mapped_column(ForeignKey("gov_rounds.id", ondelete="CASCADE"), nullable=True)
    measure_code: Mapped[str] = mapped_column(String(32), default="")
    org_code: Mapped[str] = mapped_column(String(64), index=True)
    reason_zh: Mapped[str] = mapped_column(Text, default="")
    #: the facts the rule fired on (days late, rounds lagging, the working day it fired)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    triggered_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | answered | closed
    doc_number: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 文号 of the 督办通知
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    close_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GovCalendarDay(Base):
    """A day that differs from the Monday–Friday rule: a statutory holiday on a weekday, or an adjusted working
    day (调休) on a weekend, with the State Council notice it comes from."""

    __tablename__ = "gov_calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday
    name_zh: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="unverified")
    loaded_by: Mapped[str] = mapped_column(String(128), default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GovNotification(Base):
    """One message of the in-app inbox, to a user or to every user of an organisation."""

    __tablename__ = "gov_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    org_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: message key (catalogs) and its parameters: rendered in the reader's language
    message: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class GovTemplate(Base):
    """A replacement DOCX template of a city's official documents (``kind``: e.g. ``supervision_notice``); the
    bytes live in ``gov_blobs``. Uploading another one replaces the row (the audit trail keeps the history)."""

    __tablename__ = "gov_templates"

    city: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("gov_blobs.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(128), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Progress rounds (调度) and filings (issue 14 item 4): the use cases every face calls.

The office opens a round (code, period, deadline, the measures in scope); every responsible unit of each measure
in scope (the lead, and per round the co-units and the districts) gets an assignment and an empty filing
(``version`` 0, state ``draft``), and a message in its inbox. A unit saves and submits its filing (status,
narrative, indicator values to date, lag reason, evidence files); the office accepts it or returns it with a
comment; a returned filing is edited and submitted again. The office closes the round: no filing after that.

Rules, once for every face:

* a caller reaches only its city (:meth:`Principal.can_access_city`);
* the office (:meth:`Principal.can_manage_governance`) opens and closes rounds and reviews;
* a filing is seen by the units it belongs to (:meth:`Principal.acts_for_org`: a department user for its
  organisation, a district user for the district or pilot-zone organisation whose region code it holds), by the
  office and by analysts; anyone else gets :class:`NotFound` (existence not leaked). Viewers read the rounds and
  their progress counts (aggregates), no filing;
* :meth:`Principal.can_file_for` saves and submits (a read-only token of the unit: :class:`Forbidden`);
* **optimistic concurrency**: every write names the ``version`` it read; the store is changed by
  ``UPDATE gov_filings … WHERE id = :id AND version = :expected``, so of two writers that read the same version
  exactly one wins, across processes; the other gets :class:`FilingConflict` (409) carrying the current state,
  and nothing of its write is stored. Every save, submit, accept and return writes a ``gov_filing_versions``
  row and an audit row in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.governance.model import FilingState, Measure, MeasureStatus, Organisation, RoundPeriod
from citycarbon.governance.rounds import TRANSITIONS, check_indicator_values, is_late, period_of
from citycarbon.services.cities import require_city
from citycarbon.services.governance import evidence, notify
from citycarbon.store import audit
from citycarbon.store import governance as registry
from citycarbon.store.db import Database
from citycarbon.store.governance_models import (
    GovBlob,
    GovFiling,
    GovFilingAttachment,
    GovFilingVersion,
    GovMeasure,
    GovRound,
    GovRoundAssignment,
)
from citycarbon.store.types import utcnow

__all__ = [
    "AttachmentInfo", "FilingConflict", "FilingInfo", "FilingVersionInfo", "RoundInfo", "attach_file",
    "close_round", "download_headers", "get_attachment", "get_filing", "get_round", "list_attachments", "list_filings",
    "list_rounds", "my_filings", "open_round", "review_filing", "save_filing",
]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # a deadline is a day in the city's time
ROUND_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
MAX_TEXT = 20_000
#: the largest id a filing or an attachment can have (a 64-bit column); a larger one is simply not found
MAX_ID = 2**62
#: inbox message keys (catalog ``gov_rounds.po``, rendered in the reader's language)
MSG_OPENED = "gov_rounds.round_opened"
MSG_CLOSED = "gov_rounds.round_closed"
MSG_RETURNED = "gov_rounds.filing_returned"
MSG_ACCEPTED = "gov_rounds.filing_accepted"


# -- results -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundInfo:
    """A round with its progress counts (aggregates: every reader of the city may see them)."""

    code: str
    title_zh: str
    period: str
    period_start: str
    period_end: str
    deadline: str
    state: str
    opened_by: str
    opened_at: str
    closed_at: str | None
    note: str
    #: assignments; filings by state (``not_filed``: nothing saved yet); submitted after the deadline; lagging
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filing_id: int
    filing_version: int | None
    filename: str
    media_type: str
    size: int
    sha256: str
    added_by: str
    added_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FilingVersionInfo:
    version: int
    action: str
    actor: str
    at: str
    snapshot: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FilingInfo:
    """A unit's filing for a measure in a round, with the measure's indicators (code, names, unit) and, when
    asked for, its history and attachments."""

    id: int
    round: str
    round_state: str
    deadline: str
    measure: str
    task: int
    measure_text_zh: str
    org: str
    org_name_zh: str
    org_name_en: str
    #: the organisation's region code (district and pilot-zone organisations; what a district user files for)
    org_region: str | None
    role: str
    version: int
    state: str
    status: str
    narrative: str
    indicator_values: dict[str, Any]
    lag_reason: str
    submitted_at: str | None
    submitted_by: str | None
    reviewed_at: str | None
    reviewed_by: str | None
    review_comment: str
    updated_at: str
    late: bool
    indicators: list[dict[str, Any]]
    history: list[FilingVersionInfo] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)

    @property
    def filed(self) -> bool:
        return self.version > 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["history"] = [h.to_dict() for h in self.history]
        out["attachments"] = [a.to_dict() for a in self.attachments]
        return out


class FilingConflict(Conflict):
    """A write named a version that is no longer the stored one (someone else wrote in between), or the filing's
    state does not allow the action. ``current`` is the filing as stored now."""

    code = "filing_conflict"

    def __init__(self, message: str, current: FilingInfo, *, code: str | None = None):
        super().__init__(message, code=code)
        self.current = current


# -- helpers -----------------------------------------------------------------------------------------------------

def _iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _local_day(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(LOCAL_TZ).date()


def _problem(message: str, message_zh: str, field_name: str, value: object = None) -> Problem:
    return Problem(message=message, message_zh=message_zh, field=field_name,
                   value=None if value is None else str(value)[:80])


def _orgs(session: Session, city: str) -> dict[str, Organisation]:
    return {org.code: org for org in registry.current_orgs(session, city)}


def _measures(session: Session, city: str) -> dict[str, Measure]:
    return {m.code: m for m in registry.current_measures(session, city)}


def _measure_any(session: Session, city: str, code: str) -> Measure | None:
    """The measure's current version, or its last one when it is no longer active."""
    row = session.scalars(select(GovMeasure).where(GovMeasure.city == city, GovMeasure.code == code)
                          .order_by(GovMeasure.version.desc()).limit(1)).first()
    return None if row is None else registry.measure_of(row)


def _round_row(session: Session, city: str, code: str) -> GovRound:
    row = session.scalars(select(GovRound).where(GovRound.city == city, GovRound.code == code)).one_or_none()
    if row is None:
        raise NotFound("轮次不存在 / round not found", code="round_not_found")  # the asked code is not echoed
    return row


def _counts(session: Session, round_row: GovRound) -> dict[str, int]:
    rows = session.execute(select(GovFiling.state, GovFiling.version, GovFiling.status, GovFiling.submitted_at)
                           .where(GovFiling.round_id == round_row.id)).all()
    counts = {"assignments": len(rows), "not_filed": 0, **{s.value: 0 for s in FilingState}, "late": 0,
              "lagging": 0}
    for state, version, status, submitted_at in rows:
        if version == 0:
            counts["not_filed"] += 1
        else:
            counts[state] += 1
        if is_late(_local_day(submitted_at), round_row.deadline):
            counts["late"] += 1
        if state in (FilingState.submitted, FilingState.accepted) and status == MeasureStatus.lagging:
            counts["lagging"] += 1
    return counts


def _round_info(session: Session, row: GovRound) -> RoundInfo:
    return RoundInfo(row.code, row.title_zh, row.period, row.period_start.isoformat(), row.period_end.isoformat(),
                     row.deadline.isoformat(), row.state, row.opened_by, row.opened_at.isoformat(),
                     _iso(row.closed_at), row.note, _counts(session, row))


def _indicator_dicts(measure: Measure | None) -> list[dict[str, Any]]:
    if measure is None:
        return []
    return [{"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "unit": i.unit, "target": i.target,
             "year": i.year} for i in measure.indicators]


def _snapshot(row: GovFiling) -> dict[str, Any]:
    return {"state": row.state, "status": row.status, "narrative": row.narrative,
            "indicator_values": dict(row.indicator_values or {}), "lag_reason": row.lag_reason,
            "review_comment": row.review_comment, "submitted_at": _iso(row.submitted_at),
            "submitted_by": row.submitted_by, "reviewed_at": _iso(row.reviewed_at), "reviewed_by": row.reviewed_by}


def _attachment_info(row: GovFilingAttachment, blob: GovBlob) -> AttachmentInfo:
    return AttachmentInfo(row.id, int(row.filing_id or 0), row.filing_version, row.filename, blob.media_type,
                          blob.size, blob.sha256, row.added_by, row.added_at.isoformat())


def _attachments(session: Session, filing_id: int) -> list[AttachmentInfo]:
    rows = session.execute(select(GovFilingAttachment, GovBlob).join(GovBlob, GovBlob.sha256 ==
                                                                      GovFilingAttachment.sha256)
                           .where(GovFilingAttachment.filing_id == filing_id)
                           .order_by(GovFilingAttachment.id)).all()
    return [_attachment_info(a, b) for a, b in rows]


def _history(session: Session, filing_id: int) -> list[FilingVersionInfo]:
    rows = session.scalars(select(GovFilingVersion).where(GovFilingVersion.filing_id == filing_id)
                           .order_by(GovFilingVersion.version))
    return [FilingVersionInfo(r.version, r.action, r.actor, r.at.isoformat(), dict(r.snapshot or {})) for r in rows]


def _filing_info(session: Session, city: str, row: GovFiling, round_row: GovRound, role: str,
                 orgs: dict[str, Organisation], measures: dict[str, Measure], *, detail: bool = False) -> FilingInfo:
    measure = measures.get(row.measure_code) or _measure_any(session, city, row.measure_code)
    org = orgs.get(row.org_code)
    return FilingInfo(
        id=row.id, round=round_row.code, round_state=round_row.state, deadline=round_row.deadline.isoformat(),
        measure=row.measure_code, task=measure.task if measure else 0,
        measure_text_zh=measure.text_zh if measure else "", org=row.org_code,
        org_name_zh=(org.short_zh or org.name_zh) if org else row.org_code,
        org_name_en=org.name_en if org else row.org_code, org_region=org.region_code if org else None,
        role=role, version=row.version, state=row.state,
        status=row.status, narrative=row.narrative, indicator_values=dict(row.indicator_values or {}),
        lag_reason=row.lag_reason, submitted_at=_iso(row.submitted_at), submitted_by=row.submitted_by,
        reviewed_at=_iso(row.reviewed_at), reviewed_by=row.reviewed_by, review_comment=row.review_comment,
        updated_at=row.updated_at.isoformat(), late=is_late(_local_day(row.submitted_at), round_row.deadline),
        indicators=_indicator_dicts(measure),
        history=_history(session, row.id) if detail else [],
        attachments=_attachments(session, row.id) if detail else [])


def _role_of(session: Session, row: GovFiling) -> str:
    role = session.scalars(select(GovRoundAssignment.role).where(
        GovRoundAssignment.round_id == row.round_id, GovRoundAssignment.measure_code == row.measure_code,
        GovRoundAssignment.org_code == row.org_code)).first()
    return role or "lead"


def _may_read(principal: Principal, org_code: str, orgs: dict[str, Organisation]) -> bool:
    org = orgs.get(org_code)
    return principal.acts_for_org(org_code, org.region_code if org else None)


def _own_org_codes(principal: Principal, orgs: dict[str, Organisation]) -> set[str]:
    return {code for code, org in orgs.items() if principal.acts_for_org(code, org.region_code)}


def _visible_filing(session: Session, principal: Principal, city: str, filing_id: int
                    ) -> tuple[GovFiling, GovRound, dict[str, Organisation]]:
    """The filing when the caller may read it; :class:`NotFound` otherwise (another unit's: no leak)."""
    require_city(principal, city)
    if isinstance(filing_id, bool) or not isinstance(filing_id, int) or not 1 <= filing_id <= MAX_ID:
        raise NotFound(f"填报 {filing_id} 不存在 / filing {filing_id} not found", code="filing_not_found")
    found = session.execute(select(GovFiling, GovRound).join(GovRound, GovRound.id == GovFiling.round_id)
                            .where(GovFiling.id == filing_id, GovRound.city == city)).first()
    orgs = _orgs(session, city)
    if found is None or not _may_read(principal, found[0].org_code, orgs):
        raise NotFound(f"填报 {filing_id} 不存在 / filing {filing_id} not found", code="filing_not_found")
    return found[0], found[1], orgs


def _require_office(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_manage_governance(city):
        raise Forbidden("只有领导小组办公室可以开启、关闭调度轮次和审核填报 / only the office (administrators with "
                        "write access) opens and closes rounds and reviews filings", code="governance_office")


# -- rounds ------------------------------------------------------------------------------------------------------

def _as_date(value: date | str | None, field_name: str, problems: list[Problem]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(_problem("a date is YYYY-MM-DD", "日期格式应为 YYYY-MM-DD", field_name, value))
        return None


def open_round(db: Database, principal: Principal, city: str, *, code: str, period: str, deadline: date | str,
               period_start: date | str | None = None, period_end: date | str | None = None,
               title_zh: str | None = None, tasks: list[int] | None = None, measures: list[str] | None = None,
               include_co_units: bool = True, include_districts: bool = True, note: str = "",
               now: datetime | None = None) -> RoundInfo:
    """Open round ``code`` of ``period`` with ``deadline`` over the current measures (all, those of ``tasks``, or
    the ``measures`` listed). Each measure's lead unit is assigned, and its co-units and districts when asked.
    Every assigned unit gets an inbox message. Audited. The period's dates default to those the code names."""
    _require_office(principal, city)
    problems: list[Problem] = []
    code = (code or "").strip()
    try:
        kind = RoundPeriod(period)
    except ValueError:
        kind = None
        problems.append(_problem(f"unknown period '{period}' (monthly, quarterly, yearly)",
                                 f"未知的周期“{period}”(应为 monthly、quarterly 或 yearly)", "period", period))
    named = period_of(code, kind) if kind is not None else None
    if not ROUND_CODE.fullmatch(code):
        problems.append(_problem("the round's code is letters, digits, '-' and '_' (e.g. 2026Q4, 2026-11, 2026)",
                                 "轮次编号由字母、数字、“-”和“_”组成(如 2026Q4、2026-11、2026)", "code", code))
    elif kind is not None and named is None and (period_start in (None, "") or period_end in (None, "")):
        examples = {RoundPeriod.monthly: "2026-11", RoundPeriod.quarterly: "2026Q4", RoundPeriod.yearly: "2026"}
        problems.append(_problem(f"a {kind.value} round's code names its period (e.g. {examples[kind]}), or give "
                                 "the period's start and end", f"轮次编号应标明周期(如 {examples[kind]})，"
                                 "或给出周期起止日期", "code", code))
    start = _as_date(period_start, "period_start", problems) or (named[0] if named else None)
    end = _as_date(period_end, "period_end", problems) or (named[1] if named else None)
    due = _as_date(deadline, "deadline", problems)
    if due is None and not any(p.field == "deadline" for p in problems):
        problems.append(_problem("give the filing deadline", "请填写填报截止日期", "deadline"))
    if start and end and start > end:
        problems.append(_problem("the period ends before it starts", "周期结束日期早于开始日期", "period_end",
                                 end.isoformat()))
    if start and due and due < start:
        problems.append(_problem("the deadline is before the period starts", "截止日期早于周期开始日期",
                                 "deadline", due.isoformat()))
    if len(note) > MAX_TEXT or (title_zh and len(title_zh) > 200):
        problems.append(_problem("the title is at most 200 and the note at most 20 000 characters",
                                 "标题不超过 200 字，说明不超过 20000 字", "note"))
    if problems:
        raise InputError(problems)
    assert kind is not None and start is not None and end is not None and due is not None
    moment = now or utcnow()
    with db.session(write=True) as session:
        if session.scalars(select(GovRound.id).where(GovRound.city == city, GovRound.code == code)).first():
            raise Conflict(f"轮次“{code}”已存在 / round '{code}' exists", code="round_exists")
        current = registry.current_measures(session, city)
        orgs = _orgs(session, city)
        chosen = _scope(current, tasks, measures)
        pairs: list[tuple[str, str, str]] = []  # (measure, org, role)
        for measure in chosen:
            wanted = [(measure.lead, "lead")] if measure.lead else []
            if include_co_units:
                wanted += [(c, "co") for c in measure.co_units]
            if include_districts:
                wanted += [(d, "district") for d in measure.districts]
            seen: set[str] = set()
            for org, role in wanted:
                if org and org in orgs and org not in seen:
                    seen.add(org)
                    pairs.append((measure.code, org, role))
        if not pairs:
            raise InputError(_problem("no measure in scope has a responsible unit of the registry",
                                      "范围内没有任何措施有登记在册的责任单位", "measures"))
        title = (title_zh or "").strip() or _default_title(code, kind)
        row = GovRound(city=city, code=code, title_zh=title, period=kind.value, period_start=start, period_end=end,
                       deadline=due, state="open", opened_by=audit.actor_of(principal)[0], opened_at=moment,
                       note=note)
        session.add(row)
        session.flush()
        for measure_code, org, role in pairs:
            session.add(GovRoundAssignment(round_id=row.id, measure_code=measure_code, org_code=org, role=role))
            session.add(GovFiling(round_id=row.id, measure_code=measure_code, org_code=org, version=0,
                                  state=FilingState.draft.value, status=MeasureStatus.not_started.value,
                                  narrative="", indicator_values={}, lag_reason="", updated_at=moment))
        session.flush()
        per_org: dict[str, int] = {}
        for _, org, _ in pairs:
            per_org[org] = per_org.get(org, 0) + 1
        for org, count in per_org.items():
            notify.post(session, city, kind="round", message=MSG_OPENED, org_code=org, link="/governance/my",
                        params={"round": code, "title": title, "deadline": due.isoformat(), "count": count})
        audit.record(session, principal, "gov_round.open", "gov_round", f"{city}:{code}", None,
                     {"period": kind.value, "period_start": start.isoformat(), "period_end": end.isoformat(),
                      "deadline": due.isoformat(), "measures": len(chosen), "assignments": len(pairs),
                      "co_units": include_co_units, "districts": include_districts})
        return _round_info(session, row)


def _default_title(code: str, kind: RoundPeriod) -> str:
    word = {RoundPeriod.monthly: "月度", RoundPeriod.quarterly: "季度", RoundPeriod.yearly: "年度"}[kind]
    return f"{code} {word}调度"


def _scope(current: list[Measure], tasks: list[int] | None, measures: list[str] | None) -> list[Measure]:
    if measures:
        by_code = {m.code: m for m in current}
        unknown = [c for c in measures if c not in by_code]
        if unknown:
            raise InputError(_problem(f"unknown measure(s): {', '.join(unknown)}",
                                      f"未知的措施:{'、'.join(unknown)}", "measures", ",".join(unknown)))
        return [by_code[c] for c in dict.fromkeys(measures)]
    if tasks:
        present = {m.task for m in current}
        unknown_tasks = [t for t in tasks if t not in present]
        if unknown_tasks:
            raise InputError(_problem(f"no measure of task(s) {unknown_tasks}", f"任务 {unknown_tasks} 没有措施",
                                      "tasks", unknown_tasks))
        return [m for m in current if m.task in set(tasks)]
    return current


def close_round(db: Database, principal: Principal, city: str, code: str, *, now: datetime | None = None
                ) -> RoundInfo:
    """Close round ``code``: no filing is saved or submitted after this (a closed round: :class:`Conflict`)."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        row = _round_row(session, city, code)
        changed = session.execute(update(GovRound).where(GovRound.id == row.id, GovRound.state == "open")
                                  .values(state="closed", closed_at=now or utcnow()))
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"轮次“{code}”已关闭 / round '{code}' is already closed", code="round_closed")
        session.refresh(row)
        orgs = sorted(set(session.scalars(select(GovRoundAssignment.org_code)
                                          .where(GovRoundAssignment.round_id == row.id))))
        for org in orgs:
            notify.post(session, city, kind="round", message=MSG_CLOSED, org_code=org, link="/governance/my",
                        params={"round": code})
        info = _round_info(session, row)
        audit.record(session, principal, "gov_round.close", "gov_round", f"{city}:{code}", {"state": "open"},
                     {"state": "closed", "counts": info.counts})
        return info


def list_rounds(db: Database, principal: Principal, city: str) -> list[RoundInfo]:
    """Every round of the city, newest first, with progress counts (aggregates: every caller of the city)."""
    require_city(principal, city)
    with db.session() as session:
        rows = session.scalars(select(GovRound).where(GovRound.city == city)
                               .order_by(GovRound.opened_at.desc(), GovRound.id.desc()))
        return [_round_info(session, row) for row in rows]


def get_round(db: Database, principal: Principal, city: str, code: str) -> RoundInfo:
    """One round with its progress counts."""
    require_city(principal, city)
    with db.session() as session:
        return _round_info(session, _round_row(session, city, code))


# -- filings: reading --------------------------------------------------------------------------------------------

def list_filings(db: Database, principal: Principal, city: str, code: str, *, org: str | None = None,
                 state: str | None = None) -> list[FilingInfo]:
    """The filings of round ``code`` the caller may see (the office and analysts: all; a unit: its own), by
    measure, optionally of one unit (``org``) or in one state (``state``: a FilingState or ``not_filed``).
    Viewers and enterprises see no unit's filing (an empty list): they read the rounds' counts."""
    require_city(principal, city)
    if state is not None and state not in {*(s.value for s in FilingState), "not_filed"}:
        raise InputError(_problem(f"unknown state '{state}'", f"未知的填报状态“{state}”", "state", state))
    with db.session() as session:
        round_row = _round_row(session, city, code)
        orgs, measures = _orgs(session, city), _measures(session, city)
        statement = (select(GovFiling, GovRoundAssignment.role)
                     .join(GovRoundAssignment, (GovRoundAssignment.round_id == GovFiling.round_id)
                           & (GovRoundAssignment.measure_code == GovFiling.measure_code)
                           & (GovRoundAssignment.org_code == GovFiling.org_code))
                     .where(GovFiling.round_id == round_row.id).order_by(GovFiling.measure_code, GovFiling.id))
        if org:
            statement = statement.where(GovFiling.org_code == org)
        out = []
        for row, role in session.execute(statement).all():
            if not _may_read(principal, row.org_code, orgs):
                continue
            if state == "not_filed" and row.version != 0:
                continue
            if state not in (None, "not_filed") and (row.version == 0 or row.state != state):
                continue
            out.append(_filing_info(session, city, row, round_row, role, orgs, measures))
        return out


def my_filings(db: Database, principal: Principal, city: str) -> list[FilingInfo]:
    """The caller's own filings in open rounds (a department's or a district's "my measures"), by deadline. The
    office and analysts speak for no single unit: their list is empty (they use the rounds' pages)."""
    require_city(principal, city)
    if principal.city_wide:
        return []
    with db.session() as session:
        orgs = _orgs(session, city)
        own = _own_org_codes(principal, orgs)
        if not own:
            return []
        measures = _measures(session, city)
        rows = session.execute(
            select(GovFiling, GovRound, GovRoundAssignment.role)
            .join(GovRound, GovRound.id == GovFiling.round_id)
            .join(GovRoundAssignment, (GovRoundAssignment.round_id == GovFiling.round_id)
                  & (GovRoundAssignment.measure_code == GovFiling.measure_code)
                  & (GovRoundAssignment.org_code == GovFiling.org_code))
            .where(GovRound.city == city, GovRound.state == "open", GovFiling.org_code.in_(own))
            .order_by(GovRound.deadline, GovRound.code, GovFiling.measure_code)).all()
        return [_filing_info(session, city, f, r, role, orgs, measures) for f, r, role in rows]


def get_filing(db: Database, principal: Principal, city: str, filing_id: int) -> FilingInfo:
    """One filing with its history (every version) and attachments; another unit's: :class:`NotFound`."""
    with db.session() as session:
        row, round_row, orgs = _visible_filing(session, principal, city, filing_id)
        return _filing_info(session, city, row, round_row, _role_of(session, row), orgs, _measures(session, city),
                            detail=True)


# -- filings: writing --------------------------------------------------------------------------------------------

def _conflict(session: Session, city: str, filing_id: int, message: str, code: str) -> FilingConflict:
    row = session.get(GovFiling, filing_id, populate_existing=True)
    assert row is not None
    round_row = session.get(GovRound, row.round_id)
    assert round_row is not None
    current = _filing_info(session, city, row, round_row, _role_of(session, row), _orgs(session, city),
                           _measures(session, city), detail=True)
    return FilingConflict(message, current, code=code)


def _stale(session: Session, city: str, filing_id: int, expected: int) -> FilingConflict:
    current = session.get(GovFiling, filing_id, populate_existing=True)
    stored = current.version if current else "?"
    return _conflict(session, city, filing_id,
                     f"填报已被他人修改(您读取的是第 {expected} 版，当前为第 {stored} 版)，您的修改未保存；请查看当前"
                     f"内容后重试 / the filing changed since you read it (you read version {expected}, it is now "
                     f"version {stored}); nothing of yours was saved: look at the current state and try again",
                     "version_conflict")


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise InputError(_problem("name the version you read (a whole number ≥ 0)",
                                  "请给出您读取的版本号(不小于 0 的整数)", "version", version))
    return version


def _write_version(session: Session, principal: Principal, city: str, filing_id: int, expected: int,
                   values: dict[str, Any], action: str, before: dict[str, Any], moment: datetime) -> GovFiling:
    """The conditional UPDATE (the optimistic check), then the history row and the audit row."""
    result = session.execute(update(GovFiling).where(GovFiling.id == filing_id, GovFiling.version == expected)
                             .values(version=expected + 1, updated_at=moment, **values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _stale(session, city, filing_id, expected)
    row = session.get(GovFiling, filing_id, populate_existing=True)
    assert row is not None
    snapshot = _snapshot(row)
    actor = audit.actor_of(principal)[0]
    session.add(GovFilingVersion(filing_id=filing_id, version=expected + 1, action=action, snapshot=snapshot,
                                 actor=actor, at=moment))
    session.flush()
    audit.record(session, principal, f"gov_filing.{action}", "gov_filing", filing_id, before,
                 {**snapshot, "version": expected + 1})
    return row


def save_filing(db: Database, principal: Principal, city: str, filing_id: int, *, version: int, status: str,
                narrative: str = "", indicator_values: dict[str, Any] | None = None, lag_reason: str = "",
                submit: bool = False, now: datetime | None = None) -> FilingInfo:
    """Save (``submit=False``) or submit a unit's filing, naming the ``version`` read. Refused: another unit's
    filing (:class:`NotFound`); a caller who may not file for the unit (:class:`Forbidden`); bad content
    (:class:`InputError` naming the field: status, indicator_values.<code>, lag_reason); a closed round, a filing
    already submitted or accepted, or a stale version (:class:`FilingConflict`, with the current state)."""
    expected = _check_version(version)
    moment = now or utcnow()
    action = "submit" if submit else "save"
    with db.session(write=True) as session:
        row, round_row, orgs = _visible_filing(session, principal, city, filing_id)
        org = orgs.get(row.org_code)
        if not principal.can_file_for(row.org_code, org.region_code if org else None):
            raise Forbidden("您不能为该单位填报 / you may not file for this unit", code="governance_file")
        measure = _measures(session, city).get(row.measure_code) or _measure_any(session, city, row.measure_code)
        problems: list[Problem] = []
        try:
            MeasureStatus(status)
        except ValueError:
            problems.append(_problem(f"unknown status '{status}' (not_started, in_progress, completed, lagging)",
                                     f"未知的推进状态“{status}”(应为未启动、推进中、已完成或滞后)", "status", status))
        values, found = check_indicator_values(indicator_values or {}, measure.indicators if measure else ())
        problems += [_problem(en, zh, name) for name, en, zh in found]
        narrative, lag_reason = (narrative or "").strip(), (lag_reason or "").strip()
        if status == MeasureStatus.lagging and not lag_reason:
            problems.append(_problem("a lagging measure needs the reason it lags", "状态为滞后时须填写滞后原因",
                                     "lag_reason"))
        if len(narrative) > MAX_TEXT or len(lag_reason) > MAX_TEXT:
            problems.append(_problem("the narrative and the lag reason are at most 20 000 characters each",
                                     "进展情况和滞后原因各不超过 20000 字", "narrative"))
        if problems:
            raise InputError(problems)
        if round_row.state != "open":
            raise _conflict(session, city, filing_id, f"轮次“{round_row.code}”已关闭，不再接受填报 / round "
                            f"'{round_row.code}' is closed: no more filings", "round_closed")
        allowed, _ = TRANSITIONS[action]
        if row.version != expected:
            raise _stale(session, city, filing_id, expected)
        if FilingState(row.state) not in allowed:
            raise _conflict(session, city, filing_id, "填报已提交，待审核期间不能修改 / the filing is submitted (or "
                            "accepted): it cannot be changed while it is with the office", "filing_state")
        before = {**_snapshot(row), "version": row.version}
        updates: dict[str, Any] = {"status": status, "narrative": narrative, "indicator_values": values,
                                   "lag_reason": lag_reason}
        if submit:
            # the first submission's moment stays (on time or late); each later one is in the history
            updates.update(state=FilingState.submitted.value,
                           submitted_at=func.coalesce(GovFiling.submitted_at, moment),
                           submitted_by=audit.actor_of(principal)[0])
        _write_version(session, principal, city, filing_id, expected, updates, action, before, moment)
        fresh = session.get(GovFiling, filing_id, populate_existing=True)
        assert fresh is not None
        return _filing_info(session, city, fresh, round_row, _role_of(session, fresh), orgs,
                            _measures(session, city),
                            detail=True)


def review_filing(db: Database, principal: Principal, city: str, filing_id: int, *, version: int, decision: str,
                  comment: str = "", now: datetime | None = None) -> FilingInfo:
    """The office accepts a submitted filing or returns it with ``comment`` (required), naming the ``version``
    read; a stale version or a filing not submitted: :class:`FilingConflict`. The unit gets an inbox message."""
    expected = _check_version(version)
    moment = now or utcnow()
    with db.session(write=True) as session:
        row, round_row, orgs = _visible_filing(session, principal, city, filing_id)
        _require_office(principal, city)
        comment = (comment or "").strip()
        if decision not in ("accept", "return"):
            raise InputError(_problem(f"unknown decision '{decision}' (accept, return)",
                                      f"未知的审核结论“{decision}”(应为通过或退回)", "decision", decision))
        if decision == "return" and not comment:
            raise InputError(_problem("say why the filing is returned", "退回时须填写审核意见", "comment"))
        if len(comment) > MAX_TEXT:
            raise InputError(_problem("the comment is at most 20 000 characters", "审核意见不超过 20000 字",
                                      "comment"))
        if row.version != expected:
            raise _stale(session, city, filing_id, expected)
        allowed, target = TRANSITIONS[decision]
        if FilingState(row.state) not in allowed:
            raise _conflict(session, city, filing_id, "只能审核已提交的填报 / only a submitted filing is reviewed",
                            "filing_state")
        if decision == "return" and round_row.state != "open":
            raise _conflict(session, city, filing_id, "轮次已关闭，填报不能再退回修改 / the round is closed: a filing "
                            "can no longer be returned for changes", "round_closed")
        assert target is not None
        before = {**_snapshot(row), "version": row.version}
        _write_version(session, principal, city, filing_id, expected,
                       {"state": target.value, "reviewed_at": moment, "reviewed_by": audit.actor_of(principal)[0],
                        "review_comment": comment}, decision, before, moment)
        notify.post(session, city, kind="filing", message=MSG_RETURNED if decision == "return" else MSG_ACCEPTED,
                    org_code=row.org_code, link=f"/governance/filings/{filing_id}",
                    params={"round": round_row.code, "measure": row.measure_code, "comment": comment})
        fresh = session.get(GovFiling, filing_id, populate_existing=True)
        assert fresh is not None
        return _filing_info(session, city, fresh, round_row, _role_of(session, fresh), orgs,
                            _measures(session, city),
                            detail=True)


# -- attachments -------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\\"<>:|?*]")


def _clean_filename(filename: str) -> str:
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "evidence"


def attach_file(db: Database, principal: Principal, city: str, filing_id: int, *, filename: str, content: bytes
                ) -> AttachmentInfo:
    """Attach an evidence file to a filing being edited (draft or returned, round open): PDF, image or Excel by
    content, size-limited, stored once by SHA-256; linked with the filing's current version (it belongs to the
    next save). Audited. A wrong type: :class:`InputError` naming the file."""
    with db.session(write=True) as session:
        row, round_row, orgs = _visible_filing(session, principal, city, filing_id)
        org = orgs.get(row.org_code)
        if not principal.can_file_for(row.org_code, org.region_code if org else None):
            raise Forbidden("您不能为该单位填报 / you may not file for this unit", code="governance_file")
        name = _clean_filename(filename)
        stored = evidence.store_blob(session, content, filename=name, uploaded_by=audit.actor_of(principal)[0])
        # lock the filing row: an attachment never lands on a filing submitted at the same moment
        locked = session.scalars(select(GovFiling).where(GovFiling.id == filing_id).with_for_update()
                                 .execution_options(populate_existing=True)).one()
        if round_row.state != "open":
            raise _conflict(session, city, filing_id, f"轮次“{round_row.code}”已关闭，不再接受填报 / round "
                            f"'{round_row.code}' is closed: no more filings", "round_closed")
        if FilingState(locked.state) not in TRANSITIONS["save"][0]:
            raise _conflict(session, city, filing_id, "填报已提交，待审核期间不能修改 / the filing is submitted (or "
                            "accepted): it cannot be changed while it is with the office", "filing_state")
        link = GovFilingAttachment(filing_id=filing_id, filing_version=locked.version, sha256=stored.sha256,
                                   filename=name, added_by=audit.actor_of(principal)[0])
        session.add(link)
        session.flush()
        audit.record(session, principal, "gov_filing.attach", "gov_filing", filing_id, None,
                     {"attachment": link.id, "filename": name, "sha256": stored.sha256,
                      "media_type": stored.media_type, "size": stored.size, "filing_version": locked.version})
        blob = session.get(GovBlob, stored.sha256)
        assert blob is not None
        return _attachment_info(link, blob)


def list_attachments(db: Database, principal: Principal, city: str, filing_id: int) -> list[AttachmentInfo]:
    with db.session() as session:
        _visible_filing(session, principal, city, filing_id)
        return _attachments(session, filing_id)


def download_headers(info: AttachmentInfo) -> dict[str, str]:
    """The headers of an evidence download, for every face: always an attachment (never shown inline), the
    sniffed media type kept (``nosniff``), and a CSP that sandboxes the file should a browser render it anyway."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in info.filename)
    disposition = f"attachment; filename=\"{ascii_name or 'evidence'}\"; filename*=UTF-8''{quote(info.filename)}"
    return {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'", "Cache-Control": "private, no-store"}


def get_attachment(db: Database, principal: Principal, city: str, attachment_id: int
                   ) -> tuple[AttachmentInfo, bytes]:
    """An attachment's record and bytes, for a caller who may read its filing (otherwise :class:`NotFound`)."""
    with db.session() as session:
        in_range = not isinstance(attachment_id, bool) and isinstance(attachment_id, int) and (
            1 <= attachment_id <= MAX_ID)
        link = session.get(GovFilingAttachment, attachment_id) if in_range else None
        if link is None or link.filing_id is None:
            raise NotFound(f"附件 {attachment_id} 不存在 / attachment {attachment_id} not found",
                           code="attachment_not_found")
        try:
            _visible_filing(session, principal, city, link.filing_id)
        except NotFound:
            raise NotFound(f"附件 {attachment_id} 不存在 / attachment {attachment_id} not found",
                           code="attachment_not_found") from None
        blob = session.get(GovBlob, link.sha256)
        assert blob is not None
        return _attachment_info(link, blob), bytes(blob.content)


"""Supervision (督办) of running the plan, and the working-day calendar it counts with (issue 14 item 5).

``scan``            the office evaluates the rules (``governance/supervision.py``) on the city's rounds, assignments
                    and filings as of ``today``: new items are created, existing ones escalate (the level only goes
                    up; a closed item that escalates opens again), nothing is duplicated (one item per rule, round,
                    measure and unit). Each change is audited and posted to the unit's inbox. A 督办通知 number
                    (文号) is taken from the year's sequence when an item reaches the notice level.
``list_items``/``get_item``  the office and analysts see every item; a unit (department or district user) only its
                    own (another unit's item is 404); viewers and enterprises none.
``answer``          the unit answers (text and evidence files, content-checked and stored once).
``close``           the office closes an item with a note.
``notice_docx``     the 督办通知 as a GB/T 9704 DOCX, from the office's replacement template when uploaded
                    (``upload_template``).
``calendar_year`` / ``import_calendar``  the working-day calendar: ``chinese-calendar`` + the shipped notices +
                    the office's imports (``gov_calendar_days``, CSV or Excel).
"""

from __future__ import annotations

import contextlib
import functools
import io
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal
from citycarbon.documents.gbt9704 import Block, OfficialDocument, Paragraph, Table, chinese_date, render_docx
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.governance.model import SupervisionLevel
from citycarbon.governance.supervision import (
    AssignmentFacts,
    FilingFacts,
    RoundFacts,
    Rules,
    evaluate,
    load_rules,
    next_doc_number,
)
from citycarbon.governance.workdays import (
    Calendar,
    CalendarDay,
    CalendarNotCovered,
    DayKind,
    add_workdays,
    base_calendar,
    layered,
    parse_calendar_csv,
    parse_calendar_rows,
    shipped_days,
    workdays_between,
)
from citycarbon.services.governance import evidence, notify
from citycarbon.store import audit
from citycarbon.store.db import Database
from citycarbon.store.governance_models import (
    GovBlob,
    GovCalendarDay,
    GovFiling,
    GovFilingAttachment,
    GovOrg,
    GovRound,
    GovRoundAssignment,
    GovSupervisionItem,
    GovTemplate,
)
from citycarbon.store.types import utcnow

__all__ = ["LEVEL_ZH", "CalendarEntry", "ItemView", "ScanResult", "answer", "calendar_for", "calendar_year",
           "close", "get_item", "import_calendar", "list_items", "local_today", "notice_docx", "overdue", "scan",
           "upload_template"]

#: China Standard Time (no daylight saving): the day a deadline, a submission or a return falls on
CST = timezone(timedelta(hours=8))
LEVEL_ZH = {"reminder": "提醒", "notice": "督办通知", "interview": "约谈"}
STATE_ZH = {"open": "待答复", "answered": "已答复", "closed": "已办结"}
TEMPLATE_KIND = "supervision_notice"
TEMPLATE_LIMIT = 5 * 1024 * 1024
CALENDAR_LIMIT = 2 * 1024 * 1024


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(CST).date()


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(CST).date() if moment is not None else None


# ---- views ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemView:
    id: int
    city: str
    rule_code: str
    rule_title_zh: str
    level: str
    level_zh: str
    round_id: int | None
    round_code: str
    measure_code: str
    org_code: str
    org_name_zh: str
    reason_zh: str
    facts: dict[str, Any]
    workdays_late: int | None
    triggered_on: str
    state: str
    doc_number: str | None
    answer: str
    answered_by: str | None
    answered_at: str | None
    closed_by: str | None
    closed_at: str | None
    close_note: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    #: the unit's region code (district and pilot-zone units): who may answer in its name
    org_region: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScanResult:
    as_of: str
    created: list[ItemView]
    escalated: list[ItemView]
    unchanged: int

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "created": [i.to_dict() for i in self.created],
                "escalated": [i.to_dict() for i in self.escalated], "unchanged": self.unchanged}


@dataclass(frozen=True)
class CalendarEntry:
    day: str
    weekday: int
    kind: str
    name: str
    source: str
    status: str
    origin: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- rules of access -----------------------------------------------------------------------------------------

def _require_city(principal: Principal, city: str) -> None:
    if not principal.can_access_city(city):
        raise Forbidden(f"you are scoped to city '{principal.city}', not '{city}'", code="city_scope")


def _require_office(principal: Principal, city: str) -> None:
    _require_city(principal, city)
    if not principal.can_manage_governance(city):
        raise Forbidden("only the office (领导小组办公室) may do this", code="governance_office")


def _require_reader(principal: Principal, city: str) -> None:
    """Items are read by the office and analysts (all) and by units (their own: :func:`_visible`); a viewer or an
    enterprise sees none (an empty list, 404 for one)."""
    _require_city(principal, city)


def _orgs(session: Session, city: str) -> dict[str, GovOrg]:
    rows = session.scalars(select(GovOrg).where(GovOrg.city == city, GovOrg.valid_to.is_(None)))
    return {row.code: row for row in rows}


def _visible(principal: Principal, orgs: dict[str, GovOrg], org_code: str) -> bool:
    org = orgs.get(org_code)
    return principal.acts_for_org(org_code, org.region_code if org is not None else None)


#: the largest id looked up (a larger or malformed one is simply not found: no 64-bit overflow in the driver)
MAX_ID = 2**62


def _item(session: Session, principal: Principal, city: str, item_id: int) -> GovSupervisionItem:
    if isinstance(item_id, bool) or not isinstance(item_id, int) or not 1 <= item_id <= MAX_ID:
        raise NotFound("supervision item not found")
    row = session.get(GovSupervisionItem, item_id)
    if row is None or row.city != city or not _visible(principal, _orgs(session, city), row.org_code):
        raise NotFound("supervision item not found")
    return row


# ---- the calendar --------------------------------------------------------------------------------------------

@functools.cache
def _base_and_shipped() -> Calendar:
    base = base_calendar()
    return layered(base.days.values(), shipped_days(), years=base.years)


def calendar_for(session: Session) -> Calendar:
    """chinese-calendar, then the shipped notices, then the office's imports (a later source wins a day)."""
    below = _base_and_shipped()
    imported = [CalendarDay(r.day, DayKind(r.kind), r.name_zh, r.source, r.status, "import")
                for r in session.scalars(select(GovCalendarDay))]
    return layered(below.days.values(), imported, years=below.years)


def calendar_year(db: Database, principal: Principal, city: str, year: int) -> list[CalendarEntry]:
    """The holidays and adjusted working days of ``year`` with their sources; a year no source covers raises
    :class:`InputError` naming it."""
    _require_city(principal, city)
    with db.session() as session:
        calendar = calendar_for(session)
    try:
        calendar.require(date(year, 1, 1))
    except CalendarNotCovered as error:
        raise InputError(Problem(message=str(error), message_zh=error.message_zh, field="year",
                                 value=year)) from None
    return [CalendarEntry(d.day.isoformat(), d.day.isoweekday(), d.kind.value, d.name, d.source, d.status, d.origin)
            for d in calendar.year_days(year)]


def _calendar_rows(content: bytes, filename: str) -> list[CalendarDay]:
    if len(content) > CALENDAR_LIMIT:
        raise InputError(Problem(message="the file is too large", message_zh="文件过大", file=filename,
                                 field="file"))
    if content.startswith(b"PK\x03\x04"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise InputError(Problem(message="not a readable Excel workbook", message_zh="无法读取的 Excel 文件",
                                     file=filename, field="file")) from None
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        if not values:
            raise InputError(Problem(message="the workbook is empty", message_zh="工作簿为空", file=filename))
        header = [str(c or "").strip().lower() for c in values[0]]
        missing = [c for c in ("date", "kind") if c not in header]
        if missing:
            raise InputError([Problem(message=f"missing column {c!r} (expected date,kind,name,source,status)",
                                      message_zh=f"缺少列 {c}", file=filename, row=1, field=c) for c in missing])
        rows: list[dict[str, object]] = []
        for record in values[1:]:
            if not any(v not in (None, "") for v in record):
                continue
            row = dict(zip(header, record, strict=False))
            if isinstance(row.get("date"), datetime | date):
                row["date"] = row["date"].isoformat()
            rows.append(row)
        return parse_calendar_rows(rows, filename=filename)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(Problem(message="not UTF-8 CSV text or an Excel workbook", file=filename, field="file",
                                 message_zh="不是 UTF-8 编码的 CSV 或 Excel 文件")) from None
    return parse_calendar_csv(text, filename=filename)


def import_calendar(db: Database, principal: Principal, city: str, content: bytes, *,
                    filename: str = "calendar.csv") -> list[CalendarEntry]:
    """Import holidays and adjusted working days (CSV or Excel: date, kind holiday|workday, name, source, status).
    The office only; all rows or none (every bad row named); a day already imported is replaced. Audited."""
    _require_office(principal, city)
    days = _calendar_rows(content, filename)
    if not days:
        raise InputError(Problem(message="no rows", message_zh="没有数据行", file=filename))
    actor = audit.actor_of(principal)[0]
    with db.session(write=True) as session:
        for entry in days:
            row = session.get(GovCalendarDay, entry.day)
            before = None if row is None else {"kind": row.kind, "name": row.name_zh, "status": row.status}
            if row is None:
                row = GovCalendarDay(day=entry.day)
                session.add(row)
            row.kind, row.name_zh, row.source, row.status = entry.kind.value, entry.name[:64], entry.source, \
                entry.status
            row.loaded_by, row.loaded_at = actor, utcnow()
            session.flush()
            audit.record(session, principal, "update" if before else "create", "gov_calendar_day",
                         entry.day.isoformat(), before=before,
                         after={"kind": entry.kind.value, "name": entry.name, "status": entry.status,
                                "source": entry.source}, reason=f"import {filename}")
    return [CalendarEntry(d.day.isoformat(), d.day.isoweekday(), d.kind.value, d.name, d.source, d.status, "import")
            for d in days]


# ---- facts for the rules -------------------------------------------------------------------------------------

def _facts(session: Session, city: str) -> tuple[list[RoundFacts], list[AssignmentFacts], list[FilingFacts],
                                                 dict[int, GovRound]]:
    rounds = {r.id: r for r in session.scalars(select(GovRound).where(GovRound.city == city))}
    if not rounds:
        return [], [], [], {}
    ids = list(rounds)
    assignments = [AssignmentFacts(a.round_id, a.measure_code, a.org_code) for a in session.scalars(
        select(GovRoundAssignment).where(GovRoundAssignment.round_id.in_(ids)))]
    filings = [FilingFacts(f.round_id, f.measure_code, f.org_code, f.state, f.status, _local_day(f.submitted_at),
                           _local_day(f.reviewed_at) if f.state == "returned" else None)
               for f in session.scalars(select(GovFiling).where(GovFiling.round_id.in_(ids)))]
    facts = [RoundFacts(r.id, r.code, r.period, r.period_start, r.deadline) for r in rounds.values()]
    return facts, assignments, filings, rounds


def _not_covered(error: CalendarNotCovered) -> InputError:
    return InputError(Problem(message=str(error), message_zh=error.message_zh, field="today", value=error.year))


# ---- scan ----------------------------------------------------------------------------------------------------

def _view(session: Session, row: GovSupervisionItem, rules: Rules, orgs: dict[str, GovOrg],
          rounds: dict[int, GovRound] | None = None, calendar: Calendar | None = None,
          today: date | None = None) -> ItemView:
    rnd = (rounds or {}).get(row.round_id) if row.round_id is not None else None
    if rnd is None and row.round_id is not None:
        rnd = session.get(GovRound, row.round_id)
    rule = rules.rule(row.rule_code)
    facts = dict(row.facts or {})
    late = facts.get("workdays_late")
    if (row.rule_code == "late_filing" and row.state != "closed" and not facts.get("submitted_on")
            and rnd is not None and calendar is not None and today is not None and today > rnd.deadline):
        with contextlib.suppress(CalendarNotCovered):
            late = workdays_between(rnd.deadline, today, calendar)
    attachments = [{"filename": a.filename, "sha256": a.sha256, "added_by": a.added_by}
                   for a in session.scalars(select(GovFilingAttachment)
                                            .where(GovFilingAttachment.supervision_id == row.id)
                                            .order_by(GovFilingAttachment.id))]
    org = orgs.get(row.org_code)
    return ItemView(row.id, row.city, row.rule_code, rule.title_zh if rule else row.rule_code, row.level,
                    LEVEL_ZH.get(row.level, row.level), row.round_id, rnd.code if rnd else "", row.measure_code,
                    row.org_code, org.name_zh if org else row.org_code, row.reason_zh, facts,
                    int(late) if late is not None else None, row.triggered_on.isoformat(), row.state,
                    row.doc_number, row.answer, row.answered_by,
                    row.answered_at.isoformat() if row.answered_at else None, row.closed_by,
                    row.closed_at.isoformat() if row.closed_at else None, row.close_note, attachments,
                    org.region_code if org else None)


def _assign_number(session: Session, row: GovSupervisionItem, rules: Rules, day: date) -> None:
    if row.doc_number or SupervisionLevel(row.level).rank < SupervisionLevel.notice.rank:
        return
    existing = session.scalars(select(GovSupervisionItem.doc_number).where(
        GovSupervisionItem.city == row.city, GovSupervisionItem.doc_number.is_not(None)))
    row.doc_number = next_doc_number(rules, [str(n) for n in existing], city=row.city, year=day.year)


def scan(db: Database, principal: Principal, city: str, *, today: date | None = None) -> ScanResult:
    """Create and escalate the items the rules call for on ``today`` (default: today in China). Idempotent: a
    second scan on the same day changes nothing. The office only."""
    _require_office(principal, city)
    today = today or local_today()
    rules = load_rules()
    created: list[ItemView] = []
    escalated: list[ItemView] = []
    unchanged = 0
    with db.session(write=True) as session:
        calendar = calendar_for(session)
        rounds, assignments, filings, round_rows = _facts(session, city)
        try:
            findings = evaluate(rules, rounds, assignments, filings, calendar, today)
        except CalendarNotCovered as error:
            raise _not_covered(error) from None
        orgs = _orgs(session, city)
        existing = {(r.rule_code, r.round_id, r.measure_code, r.org_code): r for r in session.scalars(
            select(GovSupervisionItem).where(GovSupervisionItem.city == city))}
        for finding in findings:
            row = existing.get(finding.key)
            if row is None:
                row = GovSupervisionItem(city=city, rule_code=finding.rule_code, level=finding.level.value,
                                         round_id=finding.round_id, measure_code=finding.measure_code,
                                         org_code=finding.org_code, reason_zh=finding.reason_zh,
                                         facts=dict(finding.facts), triggered_on=today, state="open")
                session.add(row)
                session.flush()
                _assign_number(session, row, rules, today)
                session.flush()
                audit.record(session, principal, "create", "gov_supervision_item", row.id,
                             after={"rule": row.rule_code, "level": row.level, "round_id": row.round_id,
                                    "measure": row.measure_code, "org": row.org_code, "facts": row.facts,
                                    "doc_number": row.doc_number})
                message = "supervision_created"
                view_list = created
            elif finding.level.rank > SupervisionLevel(row.level).rank:
                before = {"level": row.level, "state": row.state, "facts": row.facts}
                row.level, row.facts, row.reason_zh = finding.level.value, dict(finding.facts), finding.reason_zh
                row.triggered_on, row.updated_at = today, utcnow()
                if row.state == "closed":
                    row.state, row.closed_at, row.closed_by = "open", None, None
                _assign_number(session, row, rules, today)
                session.flush()
                audit.record(session, principal, "escalate", "gov_supervision_item", row.id, before=before,
                             after={"level": row.level, "state": row.state, "facts": row.facts,
                                    "doc_number": row.doc_number})
                message = "supervision_escalated"
                view_list = escalated
            else:
                unchanged += 1
                continue
            rnd = round_rows.get(finding.round_id)
            notify.post(session, city, kind="supervision", message=message, org_code=row.org_code,
                        params={"level": row.level, "round": rnd.code if rnd else "", "measure": row.measure_code,
                                "doc_number": row.doc_number or "", "item_id": row.id},
                        link=f"/governance/supervision/{row.id}")
            view_list.append(_view(session, row, rules, orgs, round_rows, calendar, today))
        audit.record(session, principal, "scan", "gov_supervision", city,
                     after={"as_of": today.isoformat(), "created": len(created), "escalated": len(escalated),
                            "unchanged": unchanged})
    return ScanResult(today.isoformat(), created, escalated, unchanged)


# ---- reading -------------------------------------------------------------------------------------------------

def list_items(db: Database, principal: Principal, city: str, *, level: str | None = None,
               state: str | None = None, org: str | None = None, open_only: bool = False,
               today: date | None = None) -> list[ItemView]:
    """The items the caller may see, highest level first, then by unit and measure."""
    _require_reader(principal, city)
    today = today or local_today()
    rules = load_rules()
    with db.session() as session:
        orgs = _orgs(session, city)
        calendar = calendar_for(session)
        statement = select(GovSupervisionItem).where(GovSupervisionItem.city == city)
        if level:
            statement = statement.where(GovSupervisionItem.level == level)
        if state:
            statement = statement.where(GovSupervisionItem.state == state)
        if open_only:
            statement = statement.where(GovSupervisionItem.state != "closed")
        if org:
            statement = statement.where(GovSupervisionItem.org_code == org)
        rows = [r for r in session.scalars(statement) if _visible(principal, orgs, r.org_code)]
        round_rows = {r.id: r for r in session.scalars(select(GovRound).where(GovRound.city == city))}
        views = [_view(session, r, rules, orgs, round_rows, calendar, today) for r in rows]
    return sorted(views, key=lambda v: (-SupervisionLevel(v.level).rank, v.org_code, v.measure_code, v.id))


def overdue(db: Database, principal: Principal, city: str, *, today: date | None = None) -> list[ItemView]:
    """What is late on ``today``, by level: the items the rules call for then (as a scan would leave them, without
    writing anything), with the stored state where an item exists."""
    _require_reader(principal, city)
    today = today or local_today()
    rules = load_rules()
    with db.session() as session:
        calendar = calendar_for(session)
        rounds, assignments, filings, round_rows = _facts(session, city)
        try:
            findings = evaluate(rules, rounds, assignments, filings, calendar, today)
        except CalendarNotCovered as error:
            raise _not_covered(error) from None
        orgs = _orgs(session, city)
        stored = {(r.rule_code, r.round_id, r.measure_code, r.org_code): r for r in session.scalars(
            select(GovSupervisionItem).where(GovSupervisionItem.city == city))}
        out = []
        for finding in findings:
            if not _visible(principal, orgs, finding.org_code):
                continue
            row = stored.get(finding.key)
            rule = rules.rule(finding.rule_code)
            rnd = round_rows.get(finding.round_id)
            org_row = orgs.get(finding.org_code)
            late = finding.facts.get("workdays_late", finding.facts.get("workdays_since_return"))
            out.append(ItemView(row.id if row else 0, city, finding.rule_code, rule.title_zh if rule else "",
                                finding.level.value, LEVEL_ZH[finding.level.value], finding.round_id,
                                rnd.code if rnd else "", finding.measure_code, finding.org_code,
                                org_row.name_zh if org_row else finding.org_code, finding.reason_zh,
                                dict(finding.facts), int(late) if late is not None else None, today.isoformat(),
                                row.state if row else "pending", row.doc_number if row else None, "", None, None,
                                None, None, ""))
    return sorted(out, key=lambda v: (-SupervisionLevel(v.level).rank, v.org_code, v.measure_code))


def get_item(db: Database, principal: Principal, city: str, item_id: int, *, today: date | None = None) -> ItemView:
    _require_reader(principal, city)
    with db.session() as session:
        row = _item(session, principal, city, item_id)
        return _view(session, row, load_rules(), _orgs(session, city), None, calendar_for(session),
                     today or local_today())


# ---- the unit answers, the office closes ---------------------------------------------------------------------

def answer(db: Database, principal: Principal, city: str, item_id: int, text: str, *,
           attachments: list[tuple[str, bytes]] | None = None) -> ItemView:
    """The unit's answer (text, and evidence files: PDF, images, Excel). Its own unit only (another's: 404);
    a closed item takes no answer (422)."""
    _require_reader(principal, city)
    text = (text or "").strip()
    with db.session(write=True) as session:
        row = _item(session, principal, city, item_id)
        orgs = _orgs(session, city)
        org = orgs.get(row.org_code)
        if not principal.can_file_for(row.org_code, org.region_code if org else None):
            raise Forbidden("only the unit concerned answers a supervision item", code="governance_answer")
        if row.state == "closed":
            raise InputError(Problem(message="the item is closed", message_zh="该督办事项已办结", field="state"))
        if not text:
            raise InputError(Problem(message="write the answer", message_zh="请填写答复内容", field="answer"))
        if len(text) > 20_000:
            raise InputError(Problem(message="the answer is longer than 20000 characters",
                                     message_zh="答复超过 20000 字", field="answer"))
        before = {"state": row.state, "answer": row.answer}
        actor = audit.actor_of(principal)[0]
        stored = []
        for filename, content in attachments or []:
            found = evidence.store_blob(session, content, filename=filename, uploaded_by=actor)
            session.add(GovFilingAttachment(supervision_id=row.id, sha256=found.sha256, filename=filename[:255],
                                            added_by=actor))
            stored.append({"filename": filename, "sha256": found.sha256})
        row.answer, row.state, row.answered_by, row.answered_at = text, "answered", actor, utcnow()
        row.updated_at = utcnow()
        session.flush()
        audit.record(session, principal, "answer", "gov_supervision_item", row.id, before=before,
                     after={"state": row.state, "answer": text, "attachments": stored})
        office = next((o.code for o in orgs.values() if o.kind == "office"), None)
        if office:
            notify.post(session, city, kind="supervision", message="supervision_answered", org_code=office,
                        params={"org": row.org_code, "measure": row.measure_code, "level": row.level,
                                "item_id": row.id}, link=f"/governance/supervision/{row.id}")
        return _view(session, row, load_rules(), orgs)


def close(db: Database, principal: Principal, city: str, item_id: int, note: str) -> ItemView:
    """The office closes an item with a note (audited); the unit is told."""
    _require_reader(principal, city)
    note = (note or "").strip()
    with db.session(write=True) as session:
        row = _item(session, principal, city, item_id)
        _require_office(principal, city)
        if row.state == "closed":
            raise InputError(Problem(message="the item is already closed", message_zh="该督办事项已办结",
                                     field="state"))
        if not note:
            raise InputError(Problem(message="write a closing note", message_zh="请填写办结说明", field="note"))
        before = {"state": row.state}
        row.state, row.close_note, row.closed_by, row.closed_at = "closed", note, audit.actor_of(principal)[0], utcnow()
        row.updated_at = utcnow()
        session.flush()
        audit.record(session, principal, "close", "gov_supervision_item", row.id, before=before,
                     after={"state": "closed", "note": note})
        notify.post(session, city, kind="supervision", message="supervision_closed", org_code=row.org_code,
                    params={"measure": row.measure_code, "level": row.level, "item_id": row.id},
                    link=f"/governance/supervision/{row.id}")
        return _view(session, row, load_rules(), _orgs(session, city))


# ---- the 督办通知 --------------------------------------------------------------------------------------------

def _is_docx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return "word/document.xml" in names and "[Content_Types].xml" in names and not any(
        n.lower().endswith("vbaproject.bin") for n in names)


def upload_template(db: Database, principal: Principal, city: str, content: bytes, *,
                    filename: str = "template.docx") -> dict[str, Any]:
    """Replace the 督办通知's DOCX template (styles, page, header and footer are kept; the body is generated).
    The office only; the file must be a DOCX python-docx opens (no macros)."""
    _require_office(principal, city)
    if not content or len(content) > TEMPLATE_LIMIT or not _is_docx(content):
        raise InputError(Problem(message="not a Word document (DOCX) of at most 5 MiB",
                                 message_zh="不是不超过 5 MiB 的 Word 文档（DOCX）", file=filename, field="file"))
    from docx import Document

    try:
        Document(io.BytesIO(content))
    except Exception:
        raise InputError(Problem(message="the Word document cannot be read", message_zh="无法读取该 Word 文档",
                                 file=filename, field="file")) from None
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    actor = audit.actor_of(principal)[0]
    with db.session(write=True) as session:
        if session.get(GovBlob, digest) is None:
            session.add(GovBlob(sha256=digest, media_type="application/vnd.openxmlformats-officedocument."
                                                          "wordprocessingml.document",
                                size=len(content), content=content, created_by=actor))
            session.flush()
        row = session.get(GovTemplate, (city, TEMPLATE_KIND))
        before = None if row is None else {"sha256": row.sha256, "filename": row.filename}
        if row is None:
            row = GovTemplate(city=city, kind=TEMPLATE_KIND)
            session.add(row)
        row.sha256, row.filename, row.uploaded_by, row.uploaded_at = digest, filename[:255], actor, utcnow()
        session.flush()
        audit.record(session, principal, "update" if before else "create", "gov_template",
                     f"{city}:{TEMPLATE_KIND}", before=before, after={"sha256": digest, "filename": filename})
    return {"city": city, "kind": TEMPLATE_KIND, "sha256": digest, "filename": filename}


def notice_docx(db: Database, principal: Principal, city: str, item_id: int, *,
                today: date | None = None) -> tuple[str, bytes]:
    """The 督办通知 of an item at the notice level or above, as (file name, DOCX bytes)."""
    _require_reader(principal, city)
    today = today or local_today()
    rules = load_rules()
    with db.session() as session:
        row = _item(session, principal, city, item_id)
        if SupervisionLevel(row.level).rank < SupervisionLevel.notice.rank or not row.doc_number:
            raise InputError(Problem(message="a reminder has no 督办通知 (it is issued from the notice level)",
                                     message_zh="提醒级事项不发督办通知", field="level", value=row.level))
        orgs = _orgs(session, city)
        office = next((o for o in orgs.values() if o.kind == "office"), None)
        if office is None:
            raise InputError(Problem(message="the registry has no office (kind office) to issue the notice",
                                     message_zh="组织名录中没有领导小组办公室", field="issuer"))
        unit = orgs.get(row.org_code)
        calendar = calendar_for(session)
        try:
            answer_by = add_workdays(today, rules.answer_within_workdays, calendar)
        except CalendarNotCovered as error:
            raise _not_covered(error) from None
        same = list(session.scalars(select(GovSupervisionItem).where(
            GovSupervisionItem.city == city, GovSupervisionItem.org_code == row.org_code,
            GovSupervisionItem.state != "closed", GovSupervisionItem.doc_number == row.doc_number)))
        rounds = {r.id: r for r in session.scalars(select(GovRound).where(GovRound.city == city))}
        template_row = session.get(GovTemplate, (city, TEMPLATE_KIND))
        template = session.get(GovBlob, template_row.sha256).content if template_row else None  # type: ignore[union-attr]
        table_rows = []
        for item in same or [row]:
            rnd = rounds.get(item.round_id) if item.round_id else None
            late = (item.facts or {}).get("workdays_late", (item.facts or {}).get("workdays_since_return",
                                                                                  (item.facts or {}).get(
                                                                                      "consecutive_rounds", "")))
            rule = rules.rule(item.rule_code)
            table_rows.append([item.measure_code, rnd.code if rnd else "", rule.title_zh if rule else item.rule_code,
                               str(late), item.reason_zh])
        unit_name = unit.name_zh if unit else row.org_code
        body: list[Block] = [
            Paragraph(f"根据本市碳达峰碳中和工作调度安排，经核查，你单位以下工作措施存在逾期或滞后情况，"
                      f"现予{LEVEL_ZH[row.level]}："),
            Table(["措施编号", "调度批次", "事由", "逾期工作日/连续滞后次数", "情况"], table_rows),
            Paragraph(f"请于{chinese_date(answer_by)}前（{rules.answer_within_workdays}个工作日内）将整改落实情况"
                      f"书面报送{office.name_zh}，并附相关佐证材料。"),
        ]
        doc = OfficialDocument(issuer=office.name_zh, title=f"关于{unit_name}碳达峰工作措施落实情况的督办通知",
                               body=body, day=today, doc_number=row.doc_number, recipients=unit_name)
    return f"supervision-{item_id}.docx", render_docx(doc, template=template)


"""The office's board, the 调度 summary of a round (web, XLSX, DOCX) and each unit's yearly 贯彻落实情况 report.

Read-only use cases over ``gov_rounds``, ``gov_round_assignments``, ``gov_filings``, ``gov_supervision_items``,
``gov_orgs`` and ``gov_measures``; the aggregation itself is :mod:`citycarbon.governance.summary`.

Who sees what (applied here for every face):

* the office and analysts (``can_read_governance_detail``): every unit;
* a department or district user: its own organisation(s) (``acts_for_org``), plus the city's aggregate round
  progress; another unit's report answers 404;
* a viewer: the city aggregate only (no unit named); the XLSX/DOCX of a round: the office and analysts;
* an enterprise user: nothing (403).

Performance (docs/performance.md): the board reads only what it draws: the newest round's and the open
rounds' assignments with their filings (plain columns, one query), and only for the (measure, unit) pairs the
newest round lacks, their latest assignment by one window query (``ROW_NUMBER() OVER (PARTITION BY measure,
unit ORDER BY period_end DESC)`` behind an anti-join); never the 15 000 filings of a five-year history.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, extract, func, select
from sqlalchemy.orm import Session, aliased

from citycarbon.auth.principal import Principal, Role
from citycarbon.documents import gbt9704
from citycarbon.errors import Forbidden, NotFound
from citycarbon.governance import summary as agg
from citycarbon.governance.model import Measure, Organisation, OrgKind
from citycarbon.progress import Progress, or_silent
from citycarbon.store import governance as store
from citycarbon.store.db import Database
from citycarbon.store.governance_models import (
    GovFiling,
    GovMeasure,
    GovRound,
    GovRoundAssignment,
    GovSupervisionItem,
)

__all__ = ["Board", "OrgLabel", "ReportMeasure", "RoundSummaryView", "UnitReport", "board", "round_summary",
           "round_summary_docx", "round_summary_xlsx", "unit_report", "unit_report_docx"]

#: deadlines are local dates: a filing's UTC submission time is read in China Standard Time
CITY_TZ = ZoneInfo("Asia/Shanghai")
SUPERVISION_ZH = {"reminder": "提醒", "notice": "督办通知", "interview": "约谈"}


# ---- scope ---------------------------------------------------------------------------------------------

def _require(principal: Principal, city: str) -> None:
    if not principal.can_access_city(city):
        raise Forbidden(f"您的账号限于城市“{principal.city}” / you are scoped to city '{principal.city}', not "
                        f"'{city}'", code="city_scope")
    if principal.role is Role.enterprise:
        raise Forbidden("企业用户无权查看规划实施情况 / enterprise users do not read the plan's implementation",
                        code="forbidden")


def _scope(principal: Principal, city: str, orgs: Sequence[Organisation]) -> tuple[str, frozenset[str] | None]:
    """("city", None) for the office and analysts; ("units", own codes) for departments and districts;
    ("aggregate", empty) for viewers."""
    if principal.can_read_governance_detail(city):
        return "city", None
    if principal.role in (Role.department, Role.district):
        own = frozenset(o.code for o in orgs if principal.acts_for_org(o.code, o.region_code))
        return "units", own
    return "aggregate", frozenset()


@dataclass(frozen=True)
class OrgLabel:
    code: str
    name_zh: str
    name_en: str
    kind: str

    @classmethod
    def of(cls, org: Organisation) -> OrgLabel:
        return cls(org.code, org.short_zh or org.name_zh, org.name_en, org.kind.value)


def _labels(orgs: Iterable[Organisation]) -> dict[str, OrgLabel]:
    return {o.code: OrgLabel.of(o) for o in orgs}


def _local_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CITY_TZ).date()


def _today(today: date | None) -> date:
    return today or datetime.now(CITY_TZ).date()


def _facts(row: GovRound) -> agg.RoundFacts:
    return agg.RoundFacts(row.id, row.code, row.title_zh, row.period, row.period_start, row.period_end,
                          row.deadline, row.state)


_A, _F, _R = GovRoundAssignment, GovFiling, GovRound
_JOIN = and_(_F.round_id == _A.round_id, _F.measure_code == _A.measure_code, _F.org_code == _A.org_code)


def _assignment(row: Any, *, full: bool = False) -> agg.Assignment:
    if not full:
        return agg.Assignment(row.round_id, row.measure_code, row.org_code, row.role, row.state, row.status,
                              _local_day(row.submitted_at))
    values = {str(k): float(v) for k, v in (row.indicator_values or {}).items()
              if isinstance(v, int | float) and not isinstance(v, bool)}
    return agg.Assignment(row.round_id, row.measure_code, row.org_code, row.role, row.state, row.status,
                          _local_day(row.submitted_at), row.narrative or "", row.lag_reason or "", values)


def _assignments(session: Session, round_ids: Sequence[int], *, orgs: frozenset[str] | None = None,
                 full: bool = False) -> list[agg.Assignment]:
    if not round_ids:
        return []
    columns = [_A.round_id, _A.measure_code, _A.org_code, _A.role, _F.state, _F.status, _F.submitted_at]
    if full:
        columns += [_F.narrative, _F.lag_reason, _F.indicator_values]
    statement = select(*columns).select_from(_A).outerjoin(_F, _JOIN).where(_A.round_id.in_(round_ids))
    if orgs is not None:
        statement = statement.where(_A.org_code.in_(sorted(orgs)))
    return [_assignment(row, full=full) for row in session.execute(statement)]


# ---- the board -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Board:
    """The office's board (or a unit's, or the city aggregate for viewers)."""

    city: str
    today: date
    scope: str  # city | units | aggregate
    own: tuple[str, ...]  # the organisations the caller speaks for (units scope)
    tasks: list[int]
    orgs: list[OrgLabel]  # the heat map's rows (none in the aggregate scope)
    cells: list[agg.BoardCell]
    task_levels: dict[int, dict[str, int]]  # the city's cells per task by level (aggregate, every scope)
    progress: list[agg.RoundProgress]  # open rounds, within the caller's scope
    city_progress: list[agg.RoundProgress]  # open rounds, the whole city
    overdue: list[agg.OverdueItem]
    org_names: dict[str, OrgLabel] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "city": self.city, "today": self.today.isoformat(), "scope": self.scope, "own": list(self.own),
            "levels": list(agg.CELL_LEVELS), "tasks": self.tasks, "orgs": [asdict(o) for o in self.orgs],
            "cells": [asdict(c) for c in self.cells],
            "task_levels": {str(t): v for t, v in self.task_levels.items()},
            "progress": [_progress_dict(p) for p in self.progress],
            "city_progress": [_progress_dict(p) for p in self.city_progress],
            "overdue": [_overdue_dict(o, self.org_names) for o in self.overdue],
        }


def _progress_dict(p: agg.RoundProgress) -> dict[str, Any]:
    return {**asdict(p), "deadline": p.deadline.isoformat(), "filed_rate": round(p.filed_rate, 4)}


def _overdue_dict(o: agg.OverdueItem, names: dict[str, OrgLabel]) -> dict[str, Any]:
    label = names.get(o.org)
    return {**asdict(o), "deadline": o.deadline.isoformat(), "org_name": label.name_zh if label else o.org}


def _older_latest(session: Session, city: str, newest: int,
                  rounds: dict[int, agg.RoundFacts]) -> list[tuple[agg.RoundFacts, agg.Assignment]]:
    """Each (measure, unit) that the newest round does not assign, with its assignment in the latest round
    that did (one window query; the anti-join leaves it nothing to rank when every pair is in the newest)."""
    again = aliased(_A)
    in_newest = (select(again.id).where(again.round_id == newest, again.measure_code == _A.measure_code,
                                        again.org_code == _A.org_code).exists())
    rank = func.row_number().over(partition_by=(_A.measure_code, _A.org_code),
                                  order_by=(_R.period_end.desc(), _R.id.desc())).label("rank")
    ranked = (select(_A.round_id, _A.measure_code, _A.org_code, _A.role, rank)
              .join(_R, _R.id == _A.round_id).where(_R.city == city, _A.round_id != newest, ~in_newest)
              .subquery())
    statement = (select(ranked.c.round_id, ranked.c.measure_code, ranked.c.org_code, ranked.c.role, _F.state,
                        _F.status, _F.submitted_at)
                 .select_from(ranked)
                 .outerjoin(_F, and_(_F.round_id == ranked.c.round_id, _F.measure_code == ranked.c.measure_code,
                                     _F.org_code == ranked.c.org_code))
                 .where(ranked.c.rank == 1))
    return [(rounds[row.round_id], _assignment(row)) for row in session.execute(statement)]


def _tasks(session: Session, city: str) -> list[int]:
    rows = session.execute(select(GovMeasure.task).where(GovMeasure.city == city, GovMeasure.valid_to.is_(None),
                                                         GovMeasure.active.is_(True)).distinct())
    return sorted(int(task) for (task,) in rows)


def board(db: Database, principal: Principal, city: str, *, today: date | None = None) -> Board:
    """The board at ``/governance``: tasks × units heat map, progress of the open rounds, the overdue list."""
    _require(principal, city)
    day = _today(today)
    with db.session() as session:
        orgs = store.current_orgs(session, city)
        scope, own = _scope(principal, city, orgs)
        rounds = {row.id: _facts(row) for row in session.scalars(select(_R).where(_R.city == city))}
        open_ids = sorted((r.id for r in rounds.values() if r.state == "open"),
                          key=lambda i: (rounds[i].period_end, i))
        newest = max(rounds, key=lambda i: (rounds[i].period_end, i)) if rounds else None
        fetched = _assignments(session, sorted({*open_ids, *([newest] if newest else [])}))
        latest = ([(rounds[a.round_id], a) for a in fetched if a.round_id == newest]
                  + _older_latest(session, city, newest, rounds) if newest is not None else [])
        current = [a for a in fetched if a.round_id in set(open_ids)]
        tasks = _tasks(session, city)
    all_cells = agg.heat_cells(latest, today=day)
    task_levels: dict[int, dict[str, int]] = {task: {} for task in tasks}
    for cell in all_cells:
        levels = task_levels.setdefault(cell.task, {})
        levels[cell.level] = levels.get(cell.level, 0) + 1
    city_progress = [agg.round_progress(rounds[i], [a for a in current if a.round_id == i], today=day)
                     for i in open_ids]
    labels = _labels(orgs)

    def visible(org: str) -> bool:
        return own is None or org in own

    cells = [c for c in all_cells if visible(c.org)] if scope != "aggregate" else []
    shown = [a for a in current if visible(a.org)] if scope != "aggregate" else []
    progress = (city_progress if scope == "city" else
                [agg.round_progress(rounds[i], [a for a in shown if a.round_id == i], today=day)
                 for i in open_ids] if scope == "units" else [])
    overdue = sorted((agg.OverdueItem(rounds[a.round_id].code, a.measure, agg.task_of(a.measure), a.org,
                                      rounds[a.round_id].deadline, (day - rounds[a.round_id].deadline).days)
                      for a in shown if a.overdue(rounds[a.round_id].deadline, day)),
                     key=lambda o: (-o.days, o.round_code, o.measure, o.org))
    with_cells = {c.org for c in cells}
    rows = [labels[o.code] for o in orgs if o.code in with_cells or (own is not None and o.code in own)]
    rows = [r for r in rows if scope != "aggregate"]
    return Board(city, day, scope, tuple(sorted(own or ())), tasks, rows, cells, task_levels, progress,
                 city_progress, overdue, labels)


# ---- the round summary -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundSummaryView:
    """A round's 调度 summary as the caller may see it, with the names of the units and the office."""

    city: str
    scope: str
    title_zh: str
    summary: agg.RoundSummary
    org_names: dict[str, OrgLabel]
    office_zh: str

    def name(self, code: str) -> str:
        label = self.org_names.get(code)
        return label.name_zh if label else code

    def to_dict(self) -> dict[str, Any]:
        s, r = self.summary, self.summary.round
        return {
            "city": self.city, "scope": self.scope, "title_zh": self.title_zh, "today": s.today.isoformat(),
            "round": {"code": r.code, "title_zh": r.title_zh, "period": r.period,
                      "period_start": r.period_start.isoformat(), "period_end": r.period_end.isoformat(),
                      "deadline": r.deadline.isoformat(), "state": r.state},
            "assigned": s.assigned, "on_time": s.on_time, "on_time_rate": round(s.on_time_rate, 4),
            "by_status": s.by_status, "measures_by_status": s.measures_by_status,
            "measures": [{"code": c, "task": t, "text_zh": text, "status": st, "units": list(u)}
                         for c, t, text, st, u in s.measure_rows],
            "units": [{"org": u.org, "org_name": self.name(u.org), "assigned": u.assigned, "filed": u.filed,
                       "on_time": u.on_time, "rate": round(u.rate, 4)} for u in s.units],
            "lagging": [{**asdict(i), "org_name": self.name(i.org)} for i in s.lagging],
            "indicators": [{**asdict(i), "ratio": None if i.ratio is None else round(i.ratio, 4), "met": i.met,
                            "reported_by": list(i.reported_by)} for i in s.indicators],
            "overdue": [_overdue_dict(o, self.org_names) for o in s.overdue],
        }


def _office_name(orgs: Sequence[Organisation]) -> str:
    for org in orgs:
        if org.kind is OrgKind.office:
            return org.name_zh
    return "碳达峰碳中和工作领导小组办公室"


def _round_row(session: Session, city: str, code: str) -> GovRound:
    row = session.scalars(select(_R).where(_R.city == city, _R.code == code)).one_or_none()
    if row is None:
        raise NotFound("没有该调度轮次 / no such round", code="not_found")
    return row


def round_summary(db: Database, principal: Principal, city: str, code: str, *,
                  today: date | None = None) -> RoundSummaryView:
    """The 调度 summary of round ``code``: measures by status, units by on-time rate, lagging measures with
    their reasons, indicators against milestones, the overdue list. A unit sees its own assignments; a viewer
    the counts and indicators without units."""
    _require(principal, city)
    day = _today(today)
    with db.session() as session:
        orgs = store.current_orgs(session, city)
        scope, own = _scope(principal, city, orgs)
        row = _round_row(session, city, code)
        facts = _facts(row)
        assignments = _assignments(session, [row.id], full=True,
                                   orgs=own if scope == "units" else None)
        measures = {m.code: m for m in store.current_measures(session, city)}
    summary = agg.summarise_round(facts, assignments, measures, today=day)
    if scope == "aggregate":
        summary = agg.RoundSummary(summary.round, day, summary.assigned, summary.by_status,
                                   summary.measures_by_status, summary.measure_rows, [], [], summary.indicators, [])
    return RoundSummaryView(city, scope, agg.round_title_zh(facts), summary, _labels(orgs), _office_name(orgs))


def _require_detail(principal: Principal, city: str) -> None:
    _require(principal, city)
    if not principal.can_read_governance_detail(city):
        raise Forbidden("调度汇总文件仅供领导小组办公室和分析人员下载 / the round's workbook and document are for "
                        "the office and analysts", code="forbidden")


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def round_summary_xlsx(db: Database, principal: Principal, city: str, code: str, *, today: date | None = None,
                       progress: Progress | None = None) -> bytes:
    """The round's summary as an XLSX workbook: sheets 概况, 措施进展, 单位按时率, 滞后措施, 指标对照 (Chinese
    headers with units, frozen header row, column widths, number formats). The office and analysts only."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    _require_detail(principal, city)
    view = round_summary(db, principal, city, code, today=today)
    s = view.summary
    report = or_silent(progress)
    sheets = ("概况", "措施进展", "单位按时率", "滞后措施", "指标对照")
    report(0, len(sheets), "")
    book = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")

    def sheet(title: str, header: list[str], rows: Iterable[Sequence[Any]], widths: list[int],
              formats: dict[int, str] | None = None, first: bool = False) -> None:
        ws = book.active if first else book.create_sheet()
        assert ws is not None
        ws.title = title
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for values in rows:
            ws.append(list(values))
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        for column, number_format in (formats or {}).items():
            for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = number_format
        ws.freeze_panes = "A2"
        report(sheets.index(title) + 1, len(sheets), title)

    r = s.round
    sheet("概况", ["项目", "内容"], [
        ["标题", view.title_zh], ["调度轮次", f"{r.title_zh}（{r.code}）"],
        ["调度期间", f"{r.period_start.isoformat()} 至 {r.period_end.isoformat()}"],
        ["报送截止日期", r.deadline], ["统计日期", s.today],
        ["应报送（项）", s.assigned], ["按时报送（项）", s.on_time], ["按时报送率（%）", s.on_time_rate],
        *[[f"措施数·{agg.STATUS_ZH[k]}（项）", v] for k, v in s.measures_by_status.items()],
        *[[f"报送项·{agg.STATUS_ZH[k]}（项）", v] for k, v in s.by_status.items()],
        ["逾期未报（项）", len(s.overdue)],
    ], [28, 60], first=True)
    ws = book["概况"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in ("报送截止日期", "统计日期"):
            row[1].number_format = "yyyy-mm-dd"
        if row[0].value == "按时报送率（%）":
            row[1].number_format = "0.0%"
    sheet("措施进展", ["措施编号", "任务（序号）", "工作措施", "进展状态", "责任单位"],
          [[c, t, text, agg.STATUS_ZH[st], "、".join(view.name(u) for u in units)]
           for c, t, text, st, units in s.measure_rows], [12, 10, 70, 10, 40])
    sheet("单位按时率", ["单位", "应报送（项）", "已报送（项）", "按时报送（项）", "按时报送率（%）"],
          [[view.name(u.org), u.assigned, u.filed, u.on_time, u.rate] for u in s.units], [30, 12, 12, 14, 14],
          {5: "0.0%"})
    sheet("滞后措施", ["措施编号", "任务（序号）", "工作措施", "单位", "滞后原因", "进展情况"],
          [[i.measure, i.task, i.text_zh, view.name(i.org), i.reason, i.narrative] for i in s.lagging],
          [12, 10, 50, 24, 40, 40])
    sheet("指标对照", ["措施编号", "指标", "单位（计量）", "累计值", f"{r.year}年目标（里程碑）", "完成比例（%）",
                     "是否达到", "目标值", "目标年份"],
          [[i.measure, i.name_zh, i.unit, i.value, i.milestone, i.ratio,
            "—" if i.met is None else ("是" if i.met else "否"), i.target, i.target_year] for i in s.indicators],
          [12, 30, 12, 14, 18, 14, 10, 14, 10], {4: "#,##0.00", 5: "#,##0.00", 6: "0.0%", 8: "#,##0.00"})
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _task_rows(s: agg.RoundSummary) -> list[list[str]]:
    counts: dict[int, dict[str, int]] = {}
    for _code, task, _text, status, _units in s.measure_rows:
        row = counts.setdefault(task, {k: 0 for k in s.measures_by_status})
        row[status] += 1
    return [[f"第{task}项", str(sum(row.values())), *[str(v) for v in row.values()]]
            for task, row in sorted(counts.items())]


def round_summary_docx(db: Database, principal: Principal, city: str, code: str, *, today: date | None = None,
                       progress: Progress | None = None) -> bytes:
    """The round's summary as an official document (GB/T 9704): 「2026年第四季度碳达峰碳中和工作调度情况」 with
    sections 一、总体情况 … and their tables. The office and analysts only."""
    _require_detail(principal, city)
    view = round_summary(db, principal, city, code, today=today)
    s, r = view.summary, view.summary.round
    report = or_silent(progress)
    report(1, 3, "summary")
    counts = "，".join(f"{agg.STATUS_ZH[k]}{v}项" for k, v in s.measures_by_status.items() if v)
    body: list[gbt9704.Block] = [
        gbt9704.Heading("一、总体情况", 1),
        gbt9704.Paragraph(
            f"本轮调度（{r.title_zh}，调度期间{gbt9704.chinese_date(r.period_start)}至"
            f"{gbt9704.chinese_date(r.period_end)}，报送截止{gbt9704.chinese_date(r.deadline)}）共涉及工作措施"
            f"{len(s.measure_rows)}项，应报送{s.assigned}项，按时报送{s.on_time}项，按时报送率{_pct(s.on_time_rate)}"
            f"；截至{gbt9704.chinese_date(s.today)}，逾期未报送{len(s.overdue)}项。措施进展：{counts or '无'}。"),
        gbt9704.Heading("二、各项任务措施进展情况", 1),
        gbt9704.Table(["任务", "措施（项）", *[agg.STATUS_ZH[k] for k in s.measures_by_status]],
                      _task_rows(s), caption="表1 各项任务工作措施进展（措施明细见调度汇总表）"),
        gbt9704.Heading("三、各单位按时报送情况", 1),
        gbt9704.Table(["单位", "应报送（项）", "按时报送（项）", "按时报送率（%）"],
                      [[view.name(u.org), str(u.assigned), str(u.on_time), _pct(u.rate)] for u in s.units],
                      caption="表2 各单位按时报送率"),
        gbt9704.Heading("四、滞后措施及原因", 1),
    ]
    if s.lagging:
        body.append(gbt9704.Table(["措施编号", "单位", "滞后原因"],
                                  [[i.measure, view.name(i.org), i.reason or "未说明"] for i in s.lagging],
                                  caption="表3 滞后措施"))
    else:
        body.append(gbt9704.Paragraph("本轮调度无滞后措施。"))
    body.append(gbt9704.Heading("五、指标完成情况", 1))
    if s.indicators:
        body.append(gbt9704.Table(
            ["指标", "累计值", f"{r.year}年目标", "完成比例"],
            [[i.name_zh, f"{_num(i.value)} {i.unit}", f"{_num(i.milestone)} {i.unit}", _pct(i.ratio)]
             for i in s.indicators], caption="表4 指标与年度目标对照"))
    else:
        body.append(gbt9704.Paragraph("本轮调度措施未设量化指标。"))
    if s.overdue:
        body.append(gbt9704.Heading("六、逾期未报送情况", 1))
        late: dict[str, list[int]] = {}
        for o in s.overdue:
            late.setdefault(o.org, []).append(o.days)
        body.append(gbt9704.Table(["单位", "逾期未报送（项）", "逾期天数"],
                                  [[view.name(org), str(len(days)), str(max(days))]
                                   for org, days in sorted(late.items(), key=lambda kv: (-len(kv[1]), kv[0]))],
                                  caption="表5 逾期未报送（明细见调度汇总表）"))
    report(2, 3, "body")
    document = gbt9704.OfficialDocument(issuer=view.office_zh, title=view.title_zh, body=body, day=s.today,
                                        recipients="市碳达峰碳中和工作领导小组各成员单位")
    content = gbt9704.render_docx(document)
    report(3, 3, "docx")
    return content


# ---- the unit's yearly report ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportMeasure:
    code: str
    task: int
    text_zh: str
    role: str
    status: str  # the latest counted status of the year (not_filed: none)
    round_code: str  # the round it comes from
    narrative: str
    lag_reasons: list[str]
    indicators: list[dict[str, Any]]  # name_zh, unit, value, milestone, target, target_year


@dataclass(frozen=True)
class UnitReport:
    """The draft of a unit's yearly 贯彻落实情况 report (the assessment issue compiles these)."""

    city: str
    org: str
    org_name: str
    org_kind: str
    year: int
    title_zh: str
    office_zh: str
    rounds: list[str]
    assigned: int
    on_time: int
    status_counts: dict[str, int]
    measures: list[ReportMeasure]
    supervision: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "on_time_rate": round(self.on_time / self.assigned, 4) if self.assigned else None}


def _report_org(principal: Principal, city: str, org: str, orgs: Sequence[Organisation]) -> Organisation:
    found = next((o for o in orgs if o.code == org), None)
    if principal.can_read_governance_detail(city):
        if found is None:
            raise NotFound("没有该单位 / no such organisation", code="not_found")
        return found
    # a viewer, like another unit, reads no unit's report: the same answer as for a unit that does not exist
    if (principal.role not in (Role.department, Role.district) or found is None
            or not principal.acts_for_org(found.code, found.region_code)):
        raise NotFound("没有该单位 / no such organisation", code="not_found")
    return found


def unit_report(db: Database, principal: Principal, city: str, org: str, year: int) -> UnitReport:
    """The yearly 贯彻落实情况 report of ``org`` for ``year``, drafted from its filings of the rounds ending in
    that year (the latest counted filing per measure), its lag reasons and its supervision items. The unit
    itself and the office; another unit's report answers 404."""
    _require(principal, city)
    with db.session() as session:
        orgs = store.current_orgs(session, city)
        unit = _report_org(principal, city, org, orgs)
        rounds = sorted((_facts(r) for r in session.scalars(select(_R).where(
            _R.city == city, extract("year", _R.period_end) == year))), key=lambda r: (r.period_end, r.id))
        by_id = {r.id: r for r in rounds}
        assignments = _assignments(session, [r.id for r in rounds], orgs=frozenset({unit.code}), full=True)
        measures = {m.code: m for m in store.current_measures(session, city)}
        items = list(session.scalars(select(GovSupervisionItem).where(
            GovSupervisionItem.city == city, GovSupervisionItem.org_code == unit.code,
            extract("year", GovSupervisionItem.triggered_on) == year).order_by(GovSupervisionItem.triggered_on,
                                                                              GovSupervisionItem.id)))
        supervision = [{"level": i.level, "level_zh": SUPERVISION_ZH.get(i.level, i.level),
                        "measure": i.measure_code, "reason_zh": i.reason_zh, "state": i.state,
                        "triggered_on": i.triggered_on.isoformat(), "doc_number": i.doc_number,
                        "answer": i.answer} for i in items]
    ordered = sorted(assignments, key=lambda a: (by_id[a.round_id].period_end, a.round_id))
    latest: dict[str, agg.Assignment] = {}
    reasons: dict[str, list[str]] = {}
    roles: dict[str, str] = {}
    for a in ordered:
        roles[a.measure] = a.role
        if a.counted:
            latest[a.measure] = a
            if a.lag_reason and a.lag_reason not in reasons.setdefault(a.measure, []):
                reasons[a.measure].append(a.lag_reason)
    report_measures = []
    for code in sorted(roles):
        measure = measures.get(code)
        filed = latest.get(code)
        indicators = _report_indicators(measure, filed, year)
        report_measures.append(ReportMeasure(
            code, agg.task_of(code), measure.text_zh if measure else "", roles[code],
            filed.shown_status if filed else agg.NOT_FILED, by_id[filed.round_id].code if filed else "",
            filed.narrative if filed else "", reasons.get(code, []), indicators))
    counts = {status: 0 for status in (*agg.STATUS_ORDER, agg.NOT_FILED)}
    for m in report_measures:
        counts[m.status] += 1
    on_time = sum(a.on_time(by_id[a.round_id].deadline) for a in assignments)
    name = unit.name_zh
    return UnitReport(city, unit.code, name, unit.kind.value, year,
                      f"{name}{year}年碳达峰碳中和工作贯彻落实情况报告", _office_name(orgs),
                      [r.code for r in rounds], len(assignments), on_time, counts, report_measures, supervision)


def _report_indicators(measure: Measure | None, filed: agg.Assignment | None, year: int) -> list[dict[str, Any]]:
    if measure is None:
        return []
    out = []
    for indicator in measure.indicators:
        value = filed.indicator_values.get(indicator.code) if filed else None
        milestone = indicator.milestones.get(year)
        if milestone is None and indicator.year == year:
            milestone = indicator.target
        out.append({"code": indicator.code, "name_zh": indicator.name_zh, "unit": indicator.unit, "value": value,
                    "milestone": milestone, "target": indicator.target, "target_year": indicator.year})
    return out


def unit_report_docx(db: Database, principal: Principal, city: str, org: str, year: int, *,
                     day: date | None = None) -> tuple[UnitReport, bytes]:
    """The draft report and its DOCX (GB/T 9704 layout, issued by the unit to the office)."""
    report = unit_report(db, principal, city, org, year)
    counts = "，".join(f"{agg.STATUS_ZH[k]}{v}项" for k, v in report.status_counts.items() if v)
    rate = _pct(report.on_time / report.assigned) if report.assigned else "—"
    body: list[gbt9704.Block] = [
        gbt9704.Paragraph(f"按照市碳达峰碳中和工作领导小组部署，现将{report.org_name}{report.year}年碳达峰碳中和工作"
                          "贯彻落实情况报告如下。"),
        gbt9704.Heading("一、总体情况", 1),
        gbt9704.Paragraph(f"{report.year}年本单位承担工作措施{len(report.measures)}项（{counts or '无'}），参加调度"
                          f"{len(report.rounds)}轮，应报送{report.assigned}项，按时报送{report.on_time}项，按时报送率"
                          f"{rate}。"),
        gbt9704.Heading("二、重点措施推进情况", 1),
    ]
    if report.measures:
        body.append(gbt9704.Table(["措施编号", "工作措施", "进展状态"],
                                  [[m.code, m.text_zh, agg.STATUS_ZH[m.status]] for m in report.measures],
                                  caption="表1 承担措施进展情况"))
        for index, m in enumerate((m for m in report.measures if m.narrative), start=1):
            body.append(gbt9704.Heading(f"（{_ordinal(index)}）{m.code}", 2))
            body.append(gbt9704.Paragraph(m.narrative))
    else:
        body.append(gbt9704.Paragraph("本年度未承担调度措施。"))
    body.append(gbt9704.Heading("三、指标完成情况", 1))
    rows = [[i["name_zh"], i["unit"], _num(i["value"]), _num(i["milestone"])] for m in report.measures
            for i in m.indicators]
    body.append(gbt9704.Table(["指标", "单位", "累计值", f"{report.year}年目标"], rows, caption="表2 指标完成情况")
                if rows else gbt9704.Paragraph("本单位承担的措施未设量化指标。"))
    body.append(gbt9704.Heading("四、存在的问题和滞后原因", 1))
    lagging = [(m.code, reason) for m in report.measures for reason in m.lag_reasons]
    body.extend([gbt9704.Paragraph(f"{code}：{reason}") for code, reason in lagging]
                or [gbt9704.Paragraph("本年度无滞后措施。")])
    body.append(gbt9704.Heading("五、督办事项办理情况", 1))
    body.append(gbt9704.Table(["日期", "等级", "措施", "事由", "办理情况"],
                              [[s["triggered_on"], s["level_zh"], s["measure"], s["reason_zh"],
                                s["answer"] or {"open": "办理中", "answered": "已答复", "closed": "已办结"}.get(
                                    s["state"], s["state"])] for s in report.supervision], caption="表3 督办事项")
                if report.supervision else gbt9704.Paragraph("本年度无督办事项。"))
    body.append(gbt9704.Heading("六、下一步工作打算", 1))
    body.append(gbt9704.Paragraph("（由本单位补充。）"))
    document = gbt9704.OfficialDocument(issuer=report.org_name, title=report.title_zh, body=body,
                                        day=day or _today(None), recipients=report.office_zh)
    return report, gbt9704.render_docx(document)


_ORDINALS = "一二三四五六七八九十"


def _ordinal(n: int) -> str:
    if n <= 10:
        return _ORDINALS[n - 1]
    if n < 20:
        return "十" + (_ORDINALS[n - 11] if n > 10 else "")
    tens, ones = divmod(n, 10)
    return _ORDINALS[tens - 1] + "十" + (_ORDINALS[ones - 1] if ones else "")

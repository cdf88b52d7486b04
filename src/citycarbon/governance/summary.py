"""The 调度 summary of a progress round, the office's board and a unit's yearly report, as plain aggregation.

Plain values in (:class:`Assignment` rows: who owes a filing for which measure in which round, with what the
filing says), results out. The services read the rows from the store (``services/governance/summary.py``);
nothing here touches a database, so the rules below are tested by hand-worked values and by properties.

Rules (docs/governance.md, section "summary"):

* A filing **counts** once it is submitted or accepted (a draft or a returned filing is not filed).
* **Measures by status**: each assignment counts once, under the status of its counted filing, or under
  ``not_filed``; the counts sum to the number of assignments.
* **On time**: a counted filing submitted on or before the round's deadline (the date in the city's time
  zone). A unit's on-time rate = on-time filings / assignments (0 when it owes nothing is never shown).
* **Overdue**: an assignment with no counted filing after the deadline (``today > deadline``).
* **A measure's status** in a round is the worst of its units' counted statuses (滞后 > 未启动 > 推进中 > 已完成).
* **Indicators against milestones**: the value to date is the lead unit's value when it reports one (the lead
  reports the city's figure), else the sum of the other units' values; compared with the indicator's
  milestone for the round's year (or its target in the target year).
* **Heat map cell** (task × unit): the worst state of the unit's assignments of that task in the latest round
  that gave it any (overdue counts worse than 滞后; a filing not yet due is ``pending``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from citycarbon.governance.model import FilingState, Measure, MeasureStatus

__all__ = [
    "CELL_LEVELS",
    "NOT_FILED",
    "STATUS_ORDER",
    "STATUS_ZH",
    "Assignment",
    "BoardCell",
    "IndicatorCheck",
    "LaggingItem",
    "OverdueItem",
    "RoundFacts",
    "RoundProgress",
    "RoundSummary",
    "UnitOnTime",
    "heat_cells",
    "indicator_checks",
    "measure_status",
    "round_progress",
    "round_title_zh",
    "summarise_round",
]

NOT_FILED = "not_filed"
#: statuses, best first; the worst of several is the last in this order
STATUS_ORDER: tuple[str, ...] = (MeasureStatus.completed.value, MeasureStatus.in_progress.value,
                                 MeasureStatus.not_started.value, MeasureStatus.lagging.value)
#: the Chinese labels the documents print (the web reads its labels from the catalogs)
STATUS_ZH: dict[str, str] = {"not_started": "未启动", "in_progress": "推进中", "completed": "已完成",
                             "lagging": "滞后", NOT_FILED: "未报送"}
#: heat-map levels, best first (the colour scale of the board): a cell is the worst level of its assignments
CELL_LEVELS: tuple[str, ...] = ("completed", "in_progress", "pending", "not_started", "lagging", "overdue")
COUNTED_STATES = frozenset({FilingState.submitted.value, FilingState.accepted.value})


@dataclass(frozen=True)
class RoundFacts:
    """A round as the summary needs it."""

    id: int
    code: str
    title_zh: str
    period: str
    period_start: date
    period_end: date
    deadline: date
    state: str = "open"

    @property
    def year(self) -> int:
        return self.period_end.year


@dataclass(frozen=True)
class Assignment:
    """An assignment of a round and what its filing says (``state`` None: nothing saved yet)."""

    round_id: int
    measure: str
    org: str
    role: str = "lead"
    state: str | None = None
    status: str | None = None
    submitted_on: date | None = None
    narrative: str = ""
    lag_reason: str = ""
    indicator_values: Mapping[str, float] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        return self.state in COUNTED_STATES

    @property
    def shown_status(self) -> str:
        """The status this assignment counts under: its counted filing's status, else ``not_filed``."""
        return str(self.status) if self.counted and self.status in STATUS_ORDER else NOT_FILED

    def on_time(self, deadline: date) -> bool:
        return self.counted and self.submitted_on is not None and self.submitted_on <= deadline

    def overdue(self, deadline: date, today: date) -> bool:
        return not self.counted and today > deadline


def task_of(measure_code: str) -> int:
    """The task number of a measure code ("T05-M02" → 5)."""
    try:
        return int(measure_code[1:measure_code.index("-")])
    except ValueError:
        return 0


def measure_status(statuses: Iterable[str]) -> str:
    """The worst of the units' statuses of a measure (``not_filed`` when no unit's filing counts)."""
    worst = -1
    for status in statuses:
        if status in STATUS_ORDER:
            worst = max(worst, STATUS_ORDER.index(status))
    return STATUS_ORDER[worst] if worst >= 0 else NOT_FILED


@dataclass(frozen=True)
class UnitOnTime:
    org: str
    assigned: int
    filed: int
    on_time: int

    @property
    def rate(self) -> float:
        return self.on_time / self.assigned if self.assigned else 0.0


@dataclass(frozen=True)
class LaggingItem:
    measure: str
    task: int
    text_zh: str
    org: str
    reason: str
    narrative: str


@dataclass(frozen=True)
class OverdueItem:
    round_code: str
    measure: str
    task: int
    org: str
    deadline: date
    days: int


@dataclass(frozen=True)
class IndicatorCheck:
    measure: str
    indicator: str
    name_zh: str
    unit: str
    value: float | None  # value to date (None: nobody reported one)
    milestone: float | None  # the milestone of the round's year (None: none set)
    target: float | None
    target_year: int | None
    reported_by: tuple[str, ...]

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.milestone:
            return None
        return self.value / self.milestone

    @property
    def met(self) -> bool | None:
        if self.value is None or self.milestone is None:
            return None
        return self.value >= self.milestone


@dataclass(frozen=True)
class RoundProgress:
    round_code: str
    title_zh: str
    deadline: date
    state: str
    assigned: int
    filed: int
    accepted: int
    late: int  # filed after the deadline, or not filed and past it

    @property
    def filed_rate(self) -> float:
        return self.filed / self.assigned if self.assigned else 0.0


@dataclass(frozen=True)
class RoundSummary:
    round: RoundFacts
    today: date
    assigned: int
    by_status: dict[str, int]  # assignments by shown status (sum = assigned)
    measures_by_status: dict[str, int]  # measures by their (worst) status (sum = measures in the round)
    measure_rows: list[tuple[str, int, str, str, tuple[str, ...]]]  # (code, task, text, status, units)
    units: list[UnitOnTime]  # worst rate first
    lagging: list[LaggingItem]
    indicators: list[IndicatorCheck]
    overdue: list[OverdueItem]

    @property
    def on_time(self) -> int:
        return sum(u.on_time for u in self.units)

    @property
    def on_time_rate(self) -> float:
        return self.on_time / self.assigned if self.assigned else 0.0


def unit_on_time(assignments: Iterable[Assignment], deadline: date) -> list[UnitOnTime]:
    """Every unit's assigned, filed and on-time counts, lowest on-time rate first (then by code)."""
    counts: dict[str, list[int]] = {}
    for a in assignments:
        row = counts.setdefault(a.org, [0, 0, 0])
        row[0] += 1
        row[1] += a.counted
        row[2] += a.on_time(deadline)
    units = [UnitOnTime(org, *row) for org, row in counts.items()]
    return sorted(units, key=lambda u: (u.rate, u.org))


def indicator_checks(measures: Iterable[Measure], assignments: Sequence[Assignment],
                     year: int) -> list[IndicatorCheck]:
    """Each indicator of the round's measures: value to date (the lead's, else the sum of the others') against
    the milestone of ``year`` (or the target when ``year`` is the target year)."""
    by_measure: dict[str, list[Assignment]] = {}
    for a in assignments:
        if a.counted:
            by_measure.setdefault(a.measure, []).append(a)
    out: list[IndicatorCheck] = []
    for measure in measures:
        filed = by_measure.get(measure.code, [])
        for indicator in measure.indicators:
            reports = [(a, a.indicator_values[indicator.code]) for a in filed
                       if indicator.code in a.indicator_values and a.indicator_values[indicator.code] is not None]
            lead = [(a, v) for a, v in reports if a.org == measure.lead]
            chosen = lead or reports
            value = float(sum(float(v) for _, v in chosen)) if chosen else None
            milestone = indicator.milestones.get(year)
            if milestone is None and indicator.year == year:
                milestone = indicator.target
            out.append(IndicatorCheck(measure.code, indicator.code, indicator.name_zh, indicator.unit, value,
                                      milestone, indicator.target, indicator.year,
                                      tuple(a.org for a, _ in chosen)))
    return out


def summarise_round(round_: RoundFacts, assignments: Sequence[Assignment], measures: Mapping[str, Measure], *,
                    today: date) -> RoundSummary:
    """The 调度 summary of one round: its assignments (all of the round's, or one unit's) and the measures."""
    by_status = {status: 0 for status in (*STATUS_ORDER, NOT_FILED)}
    per_measure: dict[str, list[str]] = {}
    units_of: dict[str, list[str]] = {}
    lagging: list[LaggingItem] = []
    overdue: list[OverdueItem] = []
    for a in assignments:
        shown = a.shown_status
        by_status[shown] += 1
        per_measure.setdefault(a.measure, []).append(shown)
        units_of.setdefault(a.measure, []).append(a.org)
        measure = measures.get(a.measure)
        if shown == MeasureStatus.lagging.value:
            lagging.append(LaggingItem(a.measure, task_of(a.measure), measure.text_zh if measure else "", a.org,
                                       a.lag_reason, a.narrative))
        if a.overdue(round_.deadline, today):
            overdue.append(OverdueItem(round_.code, a.measure, task_of(a.measure), a.org, round_.deadline,
                                       (today - round_.deadline).days))
    measures_by_status = {status: 0 for status in (*STATUS_ORDER, NOT_FILED)}
    rows = []
    for code in sorted(per_measure):
        status = measure_status(per_measure[code])
        measures_by_status[status] += 1
        measure = measures.get(code)
        rows.append((code, task_of(code), measure.text_zh if measure else "", status, tuple(units_of[code])))
    in_round = [measures[code] for code in sorted(per_measure) if code in measures]
    return RoundSummary(
        round=round_, today=today, assigned=len(assignments), by_status=by_status,
        measures_by_status=measures_by_status, measure_rows=rows,
        units=unit_on_time(assignments, round_.deadline),
        lagging=sorted(lagging, key=lambda i: (i.measure, i.org)),
        indicators=indicator_checks(in_round, assignments, round_.year),
        overdue=sorted(overdue, key=lambda i: (-i.days, i.measure, i.org)))


def round_progress(round_: RoundFacts, assignments: Iterable[Assignment], *, today: date) -> RoundProgress:
    """Assigned, filed, accepted and late counts of a round (late: filed after the deadline, or overdue)."""
    assigned = filed = accepted = late = 0
    for a in assignments:
        assigned += 1
        filed += a.counted
        accepted += a.state == FilingState.accepted.value
        late += (a.counted and not a.on_time(round_.deadline)) or a.overdue(round_.deadline, today)
    return RoundProgress(round_.code, round_.title_zh, round_.deadline, round_.state, assigned, filed, accepted,
                         late)


@dataclass(frozen=True)
class BoardCell:
    task: int
    org: str
    level: str  # one of CELL_LEVELS
    round_code: str
    counts: dict[str, int]  # the cell's assignments by level


def cell_level(a: Assignment, deadline: date, today: date) -> str:
    if a.counted and a.status in STATUS_ORDER:
        return str(a.status)
    return "overdue" if today > deadline else "pending"


def heat_cells(latest: Iterable[tuple[RoundFacts, Assignment]], *, today: date) -> list[BoardCell]:
    """The board's task × unit cells from each (measure, unit)'s latest assignment and its round: per cell, the
    assignments of the latest round that gave the unit that task, the cell's level being the worst of theirs."""
    groups: dict[tuple[int, str], tuple[RoundFacts, list[Assignment]]] = {}
    for round_, a in latest:
        key = (task_of(a.measure), a.org)
        held = groups.get(key)
        if held is None or (round_.period_end, round_.id) > (held[0].period_end, held[0].id):
            groups[key] = (round_, [a])
        elif held[0].id == round_.id:
            held[1].append(a)
    cells = []
    for (task, org), (round_, items) in sorted(groups.items()):
        counts: dict[str, int] = {}
        for a in items:
            level = cell_level(a, round_.deadline, today)
            counts[level] = counts.get(level, 0) + 1
        worst = max(counts, key=CELL_LEVELS.index)
        cells.append(BoardCell(task, org, worst, round_.code, counts))
    return cells


_QUARTERS = "一二三四"
_MONTHS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")


def round_title_zh(round_: RoundFacts, subject: str = "碳达峰碳中和工作调度情况") -> str:
    """The summary's title: 「2026年第四季度碳达峰碳中和工作调度情况」 (月度: 2026年10月…, 年度: 2026年度…)."""
    end = round_.period_end
    if round_.period == "quarterly":
        return f"{end.year}年第{_QUARTERS[(end.month - 1) // 3]}季度{subject}"
    if round_.period == "monthly":
        return f"{end.year}年{end.month}月{subject}"
    return f"{end.year}年度{subject}"

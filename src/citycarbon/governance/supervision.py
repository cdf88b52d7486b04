"""Supervision (督办) rules as data, and their pure evaluation.

The rules (``data/governance/supervision_rules.yaml``) say when a unit's delay becomes a supervision item and at
which level (提醒 reminder → 督办通知 notice → 约谈 interview). :func:`evaluate` takes rounds, assignments and
filings as plain values, the working-day calendar and a date, and returns the items that should exist then, each
with its level and the facts it fired on. It writes nothing: the service (``services/governance/supervision``)
compares the result with the stored items, creates the new ones and escalates the others.

Rule kinds:

``late_filing``   an assignment of a round whose deadline has passed, without a submitted filing: the working days
                  after the deadline up to today (or up to the day it was finally submitted) reach a level's
                  ``after_workdays``.
``returned``      a filing the office returned and the unit has not submitted again: working days since the return.
``lagging``       a unit reports a measure 滞后 in ``consecutive_rounds`` consecutive rounds of the same period kind
                  (the item belongs to the later round).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

import yaml

from citycarbon.governance.model import FilingState, MeasureStatus, SupervisionLevel
from citycarbon.governance.workdays import Calendar, workdays_between

__all__ = [
    "AssignmentFacts",
    "FilingFacts",
    "Finding",
    "Level",
    "RoundFacts",
    "Rule",
    "Rules",
    "evaluate",
    "format_doc_number",
    "load_rules",
    "next_doc_number",
    "parse_rules",
]

RULE_KINDS = ("late_filing", "returned", "lagging")


@dataclass(frozen=True)
class Level:
    level: SupervisionLevel
    after: int  # working days (late_filing, returned) or rounds (lagging)


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    title_zh: str
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    doc_number_format: str
    office_code_default: str
    answer_within_workdays: int
    document: str = ""
    source: str = ""
    status: str = "estimate"
    office_codes: Mapping[str, str] = field(default_factory=dict)

    def office_code(self, city: str) -> str:
        return self.office_codes.get(city, self.office_code_default)

    def rule(self, code: str) -> Rule | None:
        return next((r for r in self.rules if r.code == code), None)


@dataclass(frozen=True)
class RoundFacts:
    id: int
    code: str
    period: str
    period_start: date
    deadline: date


@dataclass(frozen=True)
class AssignmentFacts:
    round_id: int
    measure_code: str
    org_code: str


@dataclass(frozen=True)
class FilingFacts:
    round_id: int
    measure_code: str
    org_code: str
    state: str  # FilingState
    status: str  # MeasureStatus
    submitted_on: date | None = None  # the (last) day it was submitted
    returned_on: date | None = None  # the day the office returned it (state returned)


@dataclass(frozen=True)
class Finding:
    """An item that should exist: its key (rule, round, measure, unit), level and facts."""

    rule_code: str
    level: SupervisionLevel
    round_id: int
    measure_code: str
    org_code: str
    reason_zh: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.rule_code, self.round_id, self.measure_code, self.org_code)


# ---- the rules as data ---------------------------------------------------------------------------------------

def parse_rules(data: Mapping[str, Any]) -> Rules:
    """Rules from their YAML mapping; a wrong kind, level or threshold raises ValueError naming it."""
    rules: list[Rule] = []
    for raw in data.get("rules") or []:
        code, kind = str(raw["code"]), str(raw["kind"])
        if kind not in RULE_KINDS:
            raise ValueError(f"rule {code}: kind {kind!r}, expected one of {RULE_KINDS}")
        levels = []
        for entry in raw.get("levels") or []:
            level = SupervisionLevel(str(entry["level"]))
            after = int(entry.get("after_rounds") if kind == "lagging" else entry["after_workdays"])
            if after < 1:
                raise ValueError(f"rule {code}: threshold {after} must be at least 1")
            levels.append(Level(level, after))
        if not levels:
            raise ValueError(f"rule {code}: no levels")
        ordered = sorted(levels, key=lambda x: x.after)
        if [x.level.rank for x in ordered] != sorted(x.level.rank for x in ordered):
            raise ValueError(f"rule {code}: a later threshold must give a higher level")
        rules.append(Rule(code, kind, str(raw.get("title_zh") or code), tuple(ordered)))
    fmt = str(data["doc_number_format"])
    if "{n}" not in fmt or "{year}" not in fmt:
        raise ValueError("doc_number_format must contain {year} and {n}")
    return Rules(tuple(rules), fmt, str(data.get("office_code_default") or ""),
                 int(data.get("answer_within_workdays", 5)), str(data.get("document") or ""),
                 str(data.get("source") or ""), str(data.get("status") or "estimate"),
                 {str(k): str(v) for k, v in (data.get("office_codes") or {}).items()})


def load_rules() -> Rules:
    """The shipped rules (``data/governance/supervision_rules.yaml``)."""
    text = (resources.files("citycarbon") / "data" / "governance" / "supervision_rules.yaml").read_text("utf-8")
    return parse_rules(yaml.safe_load(text))


def format_doc_number(rules: Rules, *, city: str, year: int, n: int) -> str:
    return rules.doc_number_format.format(office_code=rules.office_code(city), year=year, n=n)


def next_doc_number(rules: Rules, existing: Iterable[str], *, city: str, year: int) -> str:
    """The next 文号 of ``year``: one more than the highest number of that year among ``existing``."""
    import re

    probe = format_doc_number(rules, city=city, year=year, n=0)
    head, _, tail = probe.rpartition("0")
    pattern = re.compile("^" + re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
    numbers = [int(m.group(1)) for text in existing if (m := pattern.match(text))]
    return format_doc_number(rules, city=city, year=year, n=max(numbers, default=0) + 1)


# ---- evaluation ----------------------------------------------------------------------------------------------

def _level_for(rule: Rule, amount: int) -> SupervisionLevel | None:
    reached = [lv for lv in rule.levels if amount >= lv.after]
    return reached[-1].level if reached else None


def evaluate(rules: Rules, rounds: Iterable[RoundFacts], assignments: Iterable[AssignmentFacts],
             filings: Iterable[FilingFacts], calendar: Calendar, today: date) -> list[Finding]:
    """The supervision items that should exist on ``today`` (each at the highest level its facts reach).

    Raises :class:`~citycarbon.governance.workdays.CalendarNotCovered` when a day to count falls in a year no
    calendar source covers."""
    by_round = {r.id: r for r in rounds}
    by_key = {(f.round_id, f.measure_code, f.org_code): f for f in filings}
    out: list[Finding] = []
    for rule in rules.rules:
        if rule.kind == "late_filing":
            out.extend(_late(rule, by_round, assignments, by_key, calendar, today))
        elif rule.kind == "returned":
            out.extend(_returned(rule, by_round, by_key.values(), calendar, today))
        else:
            out.extend(_lagging(rule, by_round, by_key.values()))
    return sorted(out, key=lambda f: (f.round_id, f.org_code, f.measure_code, f.rule_code))


def _late(rule: Rule, rounds: Mapping[int, RoundFacts], assignments: Iterable[AssignmentFacts],
          filings: Mapping[tuple[int, str, str], FilingFacts], calendar: Calendar, today: date) -> list[Finding]:
    out = []
    for a in assignments:
        rnd = rounds.get(a.round_id)
        if rnd is None or today <= rnd.deadline:
            continue
        filing = filings.get((a.round_id, a.measure_code, a.org_code))
        submitted = filing.submitted_on if filing is not None and filing.state != FilingState.draft else None
        until = min(today, submitted) if submitted is not None else today
        if until <= rnd.deadline:
            continue
        days = workdays_between(rnd.deadline, until, calendar)
        level = _level_for(rule, days)
        if level is None:
            continue
        facts = {"workdays_late": days, "deadline": rnd.deadline.isoformat(), "round": rnd.code,
                 "submitted_on": submitted.isoformat() if submitted else None, "as_of": today.isoformat()}
        reason = (f"{rnd.code} 调度截止 {rnd.deadline.isoformat()}，"
                  + (f"逾期 {days} 个工作日后报送" if submitted else f"已逾期 {days} 个工作日未报送"))
        out.append(Finding(rule.code, level, a.round_id, a.measure_code, a.org_code, reason, facts))
    return out


def _returned(rule: Rule, rounds: Mapping[int, RoundFacts], filings: Iterable[FilingFacts], calendar: Calendar,
              today: date) -> list[Finding]:
    out = []
    for f in filings:
        rnd = rounds.get(f.round_id)
        if rnd is None or f.state != FilingState.returned or f.returned_on is None or today <= f.returned_on:
            continue
        days = workdays_between(f.returned_on, today, calendar)
        level = _level_for(rule, days)
        if level is None:
            continue
        facts = {"workdays_since_return": days, "returned_on": f.returned_on.isoformat(), "round": rnd.code,
                 "as_of": today.isoformat()}
        reason = f"{rnd.code} 报送于 {f.returned_on.isoformat()} 被退回，{days} 个工作日未重新报送"
        out.append(Finding(rule.code, level, f.round_id, f.measure_code, f.org_code, reason, facts))
    return out


def _lagging(rule: Rule, rounds: Mapping[int, RoundFacts], filings: Iterable[FilingFacts]) -> list[Finding]:
    lagging: dict[tuple[str, str, str], set[int]] = {}
    for f in filings:
        rnd = rounds.get(f.round_id)
        if rnd is None or f.state in (FilingState.draft, FilingState.returned) or f.status != MeasureStatus.lagging:
            continue
        lagging.setdefault((rnd.period, f.measure_code, f.org_code), set()).add(rnd.id)
    series: dict[str, list[RoundFacts]] = {}
    for rnd in rounds.values():
        series.setdefault(rnd.period, []).append(rnd)
    for period_rounds in series.values():
        period_rounds.sort(key=lambda r: (r.period_start, r.id))
    first_after = rule.levels[0].after
    out = []
    for (period, measure, org), ids in lagging.items():
        runs: list[list[RoundFacts]] = [[]]
        for rnd in series[period]:
            if rnd.id in ids:
                runs[-1].append(rnd)
            elif runs[-1]:
                runs.append([])
        for run in runs:
            level = _level_for(rule, len(run))
            if level is None:
                continue
            anchor = run[first_after - 1]  # the round where the run reached the rule: the item's key stays put
            facts = {"consecutive_rounds": len(run), "rounds": [r.code for r in run], "period": period}
            reason = f"连续 {len(run)} 次调度（{'、'.join(r.code for r in run)}）报告滞后"
            out.append(Finding(rule.code, level, anchor.id, measure, org, reason, facts))
    return out

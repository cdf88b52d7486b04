"""The "1+N" consistency check: do the sector and district implementation plans add up to the city's plan?

Contract
--------
:func:`check_consistency` is pure: it takes the city plan, the values the platform holds for the targets the plan
leaves open and the district allocations set in the platform (both already in the target's unit), the registered
sub-plans, the responsibility matrix's current measures and the organisation registry, and returns
:class:`Finding` rows, most severe first. It reads nothing else (the allocation rules come in as
:class:`AllocationRule` rows; :func:`load_rules` reads the shipped ones from ``data/governance/consistency.yaml``).

What it reports (``Finding.code``):

* (a) allocations — ``allocation_short`` (the parts of an ``at_least`` target sum below it, e.g. district wind and
  solar capacity under the city's 800万千瓦), ``allocation_over`` (the parts of an ``at_most`` target, e.g. sector
  energy caps, sum above the city's room), ``allocation_off`` (the parts of an ``about`` target miss its
  tolerance), ``allocation_unchecked`` (parts exist but the parent has no value for that year: says what is
  missing), ``allocation_missing`` (the city has the target but no sub-plan allocates it),
  ``platform_allocation_unplanned`` / ``platform_allocation_mismatch`` (a district allocation set in the platform
  that no district plan carries, or that the district plan weakens);
* (b) ``target_year_later`` (a sub-plan's target year, or its peak year, later than the city's for the same
  indicator) and ``deadline_later`` (a carried measure's deadline later than the city measure's);
* (c) ``measures_not_carried`` (per task: city measures no sub-plan carries) and ``unknown_measures``;
* (d) ``parent_missing``, ``org_missing``, and ``region_mismatch`` (a district plan whose region is not its
  organisation's).

Every sum is taken after converting each part to the parent target's unit (:func:`citycarbon.units.convert`); a
finding carries the target, the parts (own value and unit, and converted), their total and the gap, so the
numbers can be shown as they are and checked by hand: ``total == sum(part.converted)`` always.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from citycarbon.data import data_path
from citycarbon.governance.model import Measure, Organisation
from citycarbon.plan.models import Comparison, Plan, PlanKind, Target, indicator_table
from citycarbon.units import convert

__all__ = ["AllocationRule", "Amount", "Finding", "Severity", "check_consistency", "load_rules", "number_text"]

RULES_FILE = "governance/consistency.yaml"
#: float round-off forgiven when comparing a sum with its target (relative; not a domain parameter)
_ROUND_OFF = 1e-9


class Severity(StrEnum):
    error = "error"  # the plans contradict each other or refer to something that is not there
    warning = "warning"  # the numbers or dates do not add up
    info = "info"  # something is missing that the check needs, or not yet allocated

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class AllocationRule:
    """Which sub-plan targets (of kind ``parts``, on ``part_indicators``) add up to which parent target (on
    ``city_indicators``)."""

    id: str
    title_zh: str
    title_en: str
    parts: PlanKind
    city_indicators: tuple[str, ...]
    part_indicators: tuple[str, ...]
    source: str
    status: str


def load_rules(path: str | Path | None = None) -> list[AllocationRule]:
    """The allocation rules of ``path`` (default: the shipped ``data/governance/consistency.yaml``)."""
    where = Path(path) if path is not None else data_path(RULES_FILE)
    raw = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    rules = []
    for row in raw.get("rules", []):
        rules.append(AllocationRule(
            id=str(row["id"]), title_zh=str(row["title_zh"]), title_en=str(row["title_en"]),
            parts=PlanKind(row["parts"]), city_indicators=tuple(str(v) for v in row["city_indicators"]),
            part_indicators=tuple(str(v) for v in row["part_indicators"]), source=str(row["source"]),
            status=str(row["status"])))
    return rules


@dataclass(frozen=True)
class Amount:
    """One part of a sum: a plan's target in its own unit, and converted to the finding's unit."""

    plan: str
    title_zh: str
    target_id: str
    value: float
    unit: str
    converted: float


@dataclass(frozen=True)
class Finding:
    """One problem of the "1+N" plans, with its numbers (``unit`` is the unit of ``target``, ``total`` and
    ``gap`` and of each part's ``converted``) and the plans it concerns."""

    code: str
    severity: Severity
    message_zh: str
    message_en: str
    plans: tuple[str, ...]
    indicator: str | None = None
    year: int | None = None
    unit: str | None = None
    target: float | None = None
    total: float | None = None
    gap: float | None = None
    parts: tuple[Amount, ...] = ()
    measures: tuple[str, ...] = ()
    rule: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["severity"] = self.severity.value
        out["plans"] = list(self.plans)
        out["measures"] = list(self.measures)
        out["parts"] = [asdict(p) for p in self.parts]
        out["details"] = dict(self.details)
        return out


def number_text(value: float) -> str:
    """``8000.0`` → ``8,000``; ``1234.5678`` → ``1,234.568``: a number as a person reads it in a message."""
    if math.isfinite(value) and abs(value - round(value)) < 1e-9 * max(1.0, abs(value)):
        return f"{round(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _with_unit(value: float, unit: str) -> str:
    return f"{number_text(value)} {unit}"


# -- the check -------------------------------------------------------------------------------------------------

def check_consistency(city_code: str, city_plan: Plan, subplans: Sequence[Plan], *,
                      target_values: Mapping[str, float] | None = None,
                      allocations: Mapping[str, Mapping[str, float]] | None = None,
                      measures: Sequence[Measure] = (), orgs: Sequence[Organisation] = (),
                      rules: Sequence[AllocationRule] | None = None) -> list[Finding]:
    """Every finding of the "1+N" check, most severe first (then by code and plan).

    ``subplans`` are registered sub-plans (``meta.code`` set); ``target_values``: the city target id → the value
    set in the platform, in the target's unit (for targets the plan leaves open); ``allocations``: district
    region code → city target id → the allocation set in the platform, in the target's unit; ``measures``: the
    current responsibility matrix; ``orgs``: the current organisation registry; ``rules``: the allocation rules
    (default: :func:`load_rules`)."""
    rules = load_rules() if rules is None else rules
    values = dict(target_values or {})
    by_code = {p.meta.code: p for p in subplans if p.meta.code}
    found: list[Finding] = []
    found += _links(city_code, by_code, orgs)
    parents: list[tuple[str, Plan, Mapping[str, float]]] = [(city_code, city_plan, values)]
    parents += [(code, plan, {}) for code, plan in by_code.items()]
    for rule in rules:
        for code, parent, own_values in parents:
            found += _allocation(rule, code, parent, own_values, list(by_code.values()), is_city=code == city_code)
    found += _platform_allocations(city_plan, values, allocations or {}, list(by_code.values()), orgs)
    found += _later_years(city_code, city_plan, values, list(by_code.values()))
    found += _measures(list(by_code.values()), measures)
    return sorted(found, key=lambda f: (f.severity.rank, f.code, f.plans, f.indicator or "", f.year or 0))


def _title(plan: Plan) -> str:
    return plan.meta.title_zh


def _value_of(target: Target, values: Mapping[str, float]) -> float | None:
    """The parent target's value: the plan's, or (for a target it leaves open) the platform's."""
    if target.value is not None and not target.parameter:
        return float(target.value)
    found = values.get(target.id)
    if found is not None:
        return float(found)
    return None if target.value is None else float(target.value)


def _links(city_code: str, by_code: Mapping[str, Plan], orgs: Sequence[Organisation]) -> list[Finding]:
    found: list[Finding] = []
    registry = {o.code: o for o in orgs}
    for code, plan in by_code.items():
        meta = plan.meta
        parent = meta.parent
        if parent != city_code and parent not in by_code:
            found.append(Finding(
                "parent_missing", Severity.error,
                f"《{_title(plan)}》的上级方案“{parent}”不是本市方案，也不是已登记的实施方案",
                f"{code}: its parent '{parent}' is neither the city plan ({city_code}) nor a registered sub-plan",
                (code,), details={"parent": parent}))
        else:
            seen = {code}
            probe: str | None = parent
            while probe is not None and probe in by_code and probe != city_code:
                if probe in seen:
                    found.append(Finding(
                        "parent_missing", Severity.error, f"《{_title(plan)}》的上级方案链成环（{probe}）",
                        f"{code}: its chain of parents loops at '{probe}'", (code, probe),
                        details={"parent": parent}))
                    break
                seen.add(probe)
                probe = by_code[probe].meta.parent
        org = registry.get(meta.org or "")
        if org is None:
            found.append(Finding(
                "org_missing", Severity.error, f"《{_title(plan)}》的责任单位“{meta.org}”不在单位名录中",
                f"{code}: its organisation '{meta.org}' is not in the registry", (code,),
                details={"org": meta.org}))
        elif (meta.kind is PlanKind.district and org.region_code is not None
              and org.region_code != meta.region_code):
            found.append(Finding(
                "region_mismatch", Severity.warning,
                f"《{_title(plan)}》的行政区划代码 {meta.region_code} 与责任单位{org.name_zh}的 "
                f"{org.region_code} 不一致",
                f"{code}: region_code {meta.region_code} differs from its organisation's ({org.region_code})",
                (code,), details={"region_code": meta.region_code, "org_region_code": org.region_code}))
    return found


def _part_of(rule: AllocationRule, plan: Plan, year: int) -> Target | None:
    for indicator in rule.part_indicators:
        for target in plan.targets:
            if target.indicator == indicator and target.year == year and target.value is not None:
                return target
    return None


def _amount(plan: Plan, target: Target, unit: str) -> Amount:
    value = float(target.value) if target.value is not None else 0.0
    return Amount(plan.meta.code or "", plan.meta.title_zh, target.id, value, target.unit,
                  convert(value, target.unit, unit))


def _allocation(rule: AllocationRule, code: str, parent: Plan, values: Mapping[str, float],
                subplans: Sequence[Plan], *, is_city: bool) -> list[Finding]:
    children = [p for p in subplans if p.meta.parent == code and p.meta.kind is rule.parts]
    kind_zh = "区市县" if rule.parts is PlanKind.district else "行业和领域"
    found: list[Finding] = []
    checked_years: set[int] = set()
    targets = [t for t in parent.targets if t.indicator in rule.city_indicators]
    for target in targets:
        value = _value_of(target, values)
        if value is None:
            continue
        checked_years.add(target.year)
        parts = tuple(_amount(child, part, target.unit) for child in children
                      if (part := _part_of(rule, child, target.year)) is not None)
        if not parts:
            if is_city:
                found.append(Finding(
                    "allocation_missing", Severity.info,
                    f"{target.title_zh}（{target.year}年 {_with_unit(value, target.unit)}）尚无{kind_zh}实施方案分解",
                    f"{target.title_en} ({target.year}: {_with_unit(value, target.unit)}): no {rule.parts.value} "
                    "plan allocates it yet", (code,), target.indicator, target.year, target.unit, value, 0.0,
                    -value if target.comparison is not Comparison.at_most else None, (), (), rule.id))
            continue
        total = math.fsum(p.converted for p in parts)
        gap = total - value
        plans = (code, *(p.plan for p in parts))
        listed_zh = "、".join(f"{p.title_zh} {_with_unit(p.value, p.unit)}" for p in parts)
        listed_en = ", ".join(f"{p.plan} {_with_unit(p.value, p.unit)}" for p in parts)
        slack = _ROUND_OFF * max(1.0, abs(value))
        if target.comparison is Comparison.at_least and total < value - slack:
            found.append(Finding(
                "allocation_short", Severity.warning,
                f"{rule.title_zh}为 {_with_unit(total, target.unit)}，低于{target.title_zh}（{target.year}年 "
                f"{_with_unit(value, target.unit)}），差 {_with_unit(-gap, target.unit)}：{listed_zh}",
                f"{rule.title_en}: {_with_unit(total, target.unit)}, below the target {target.id} "
                f"({_with_unit(value, target.unit)}) by {_with_unit(-gap, target.unit)}: {listed_en}",
                plans, target.indicator, target.year, target.unit, value, total, gap, parts, (), rule.id))
        elif target.comparison is Comparison.at_most and total > value + slack:
            found.append(Finding(
                "allocation_over", Severity.warning,
                f"{rule.title_zh}为 {_with_unit(total, target.unit)}，超出{target.title_zh}（{target.year}年 "
                f"{_with_unit(value, target.unit)}）{_with_unit(gap, target.unit)}：{listed_zh}",
                f"{rule.title_en}: {_with_unit(total, target.unit)}, above the cap {target.id} "
                f"({_with_unit(value, target.unit)}) by {_with_unit(gap, target.unit)}: {listed_en}",
                plans, target.indicator, target.year, target.unit, value, total, gap, parts, (), rule.id))
        elif (target.comparison is Comparison.about and target.tolerance is not None
              and abs(gap) > target.tolerance + slack):
            found.append(Finding(
                "allocation_off", Severity.warning,
                f"{rule.title_zh}为 {_with_unit(total, target.unit)}，与{target.title_zh}（{target.year}年 "
                f"{_with_unit(value, target.unit)}左右）相差 {_with_unit(gap, target.unit)}：{listed_zh}",
                f"{rule.title_en}: {_with_unit(total, target.unit)}, off the target {target.id} "
                f"({_with_unit(value, target.unit)}) by {_with_unit(gap, target.unit)}: {listed_en}",
                plans, target.indicator, target.year, target.unit, value, total, gap, parts, (), rule.id))
    # parts whose year the parent has no value for: say what is missing
    years = sorted({t.year for child in children for t in child.targets
                    if t.indicator in rule.part_indicators and t.value is not None} - checked_years)
    for year in years:
        unit = _canonical_unit(rule.city_indicators[0])
        parts = tuple(_amount(child, part, unit) for child in children
                      if (part := _part_of(rule, child, year)) is not None)
        total = math.fsum(p.converted for p in parts)
        wanted = "或".join(f"“{_indicator_zh(i)}”" for i in rule.city_indicators)
        found.append(Finding(
            "allocation_unchecked", Severity.info,
            f"{rule.title_zh}（{year}年）为 {_with_unit(total, unit)}，但{_title(parent)}没有{year}年的对应目标值"
            f"（{wanted}），无法核对是否超出或不足；请在方案中补充或在平台中设定该目标值",
            f"{rule.title_en} ({year}): {_with_unit(total, unit)}, but {code} has no value for {year} on "
            f"{', '.join(rule.city_indicators)} to check it against; add the target to the plan or set it in the "
            "platform", (code, *(p.plan for p in parts)), rule.city_indicators[0], year, unit, None, total, None,
            parts, (), rule.id, details={"missing": list(rule.city_indicators)}))
    return found


def _platform_allocations(city_plan: Plan, values: Mapping[str, float], allocations: Mapping[str, Mapping[str, float]],
                          subplans: Sequence[Plan], orgs: Sequence[Organisation]) -> list[Finding]:
    names = {o.region_code: o.short_zh or o.name_zh for o in orgs if o.region_code}
    by_id = {t.id: t for t in city_plan.targets}
    found: list[Finding] = []
    for region in sorted(allocations):
        plans = [p for p in subplans if p.meta.kind is PlanKind.district and p.meta.region_code == region]
        name = names.get(region, region)
        for target_id, allocated in sorted(allocations[region].items()):
            target = by_id.get(target_id)
            if target is None:
                continue
            own = [(p, t) for p in plans for t in p.targets
                   if t.indicator == target.indicator and t.year == target.year and t.value is not None]
            if not own:
                found.append(Finding(
                    "platform_allocation_unplanned", Severity.warning,
                    f"平台为{name}分解了{target.title_zh}（{target.year}年 {_with_unit(allocated, target.unit)}），"
                    "但没有该区市县的实施方案承接",
                    f"the platform allocates {target.id} ({_with_unit(allocated, target.unit)}) to {region}, but no "
                    "district plan of it carries the target", tuple(p.meta.code or "" for p in plans),
                    target.indicator, target.year, target.unit, allocated, None, None, (), (), None,
                    {"region": region}))
                continue
            for plan, part in own:
                amount = _amount(plan, part, target.unit)
                gap = amount.converted - allocated
                slack = _ROUND_OFF * max(1.0, abs(allocated))
                weaker = ((target.comparison is Comparison.at_most and gap > slack)
                          or (target.comparison is not Comparison.at_most and gap < -slack))
                if weaker:
                    found.append(Finding(
                        "platform_allocation_mismatch", Severity.warning,
                        f"《{plan.meta.title_zh}》的{target.title_zh}目标为 {_with_unit(amount.value, part.unit)}"
                        f"（折合 {_with_unit(amount.converted, target.unit)}），与平台分解给{name}的 "
                        f"{_with_unit(allocated, target.unit)} 相差 {_with_unit(gap, target.unit)}",
                        f"{plan.meta.code}: {target.indicator} {_with_unit(amount.value, part.unit)} "
                        f"(= {_with_unit(amount.converted, target.unit)}) is weaker than the platform's allocation "
                        f"to {region} ({_with_unit(allocated, target.unit)}) by {_with_unit(gap, target.unit)}",
                        (plan.meta.code or "",), target.indicator, target.year, target.unit, allocated,
                        amount.converted, gap, (amount,), (), None, {"region": region}))
    return found


def _later_years(city_code: str, city_plan: Plan, values: Mapping[str, float],
                 subplans: Sequence[Plan]) -> list[Finding]:
    found: list[Finding] = []
    for plan in subplans:
        for target in plan.targets:
            city_targets = city_plan.targets_for(target.indicator)
            if not city_targets:
                continue
            latest = max(t.year for t in city_targets)
            code = plan.meta.code or ""
            if target.year > latest and target.unit != "year":
                found.append(Finding(
                    "target_year_later", Severity.warning,
                    f"《{_title(plan)}》的{target.title_zh}目标年为{target.year}年，晚于本市同一指标的{latest}年",
                    f"{code}: target {target.id} is for {target.year}, later than the city's {latest} for "
                    f"{target.indicator}", (code, city_code), target.indicator, target.year, "year",
                    float(latest), float(target.year), float(target.year - latest)))
            # a milestone year (e.g. the peak year) later than the city's
            if target.unit == "year" and target.value is not None:
                city_years = [v for t in city_targets if t.unit == "year" and (v := _value_of(t, values)) is not None]
                if city_years and target.value is not None and target.value > min(city_years):
                    city_year = min(city_years)
                    found.append(Finding(
                        "target_year_later", Severity.warning,
                        f"《{_title(plan)}》的{target.title_zh}为{number_text(target.value)}年，晚于本市的"
                        f"{number_text(city_year)}年",
                        f"{code}: {target.id} is {number_text(target.value)}, later than the city's "
                        f"{number_text(city_year)}", (code, city_code), target.indicator, target.year, "year",
                        city_year, float(target.value), float(target.value) - city_year))
    return found


def _measures(subplans: Sequence[Plan], measures: Sequence[Measure]) -> list[Finding]:
    found: list[Finding] = []
    by_code = {m.code: m for m in measures}
    carried: set[str] = set()
    for plan in subplans:
        code = plan.meta.code or ""
        unknown = []
        for item in plan.carried:
            carried.add(item.measure)
            measure = by_code.get(item.measure)
            if measure is None:
                unknown.append(item.measure)
                continue
            if item.deadline is not None and measure.deadline is not None and item.deadline > measure.deadline:
                days = (item.deadline - measure.deadline).days
                found.append(Finding(
                    "deadline_later", Severity.warning,
                    f"《{_title(plan)}》承接的措施 {item.measure} 期限为{_zh_date(item.deadline)}，晚于本市的"
                    f"{_zh_date(measure.deadline)}（晚{days}天）",
                    f"{code}: carries {item.measure} with deadline {item.deadline.isoformat()}, later than the "
                    f"city's {measure.deadline.isoformat()} by {days} days", (code,), None, None, "d", 0.0,
                    float(days), float(days), (), (item.measure,),
                    details={"deadline": item.deadline.isoformat(), "city_deadline": measure.deadline.isoformat()}))
        if unknown and by_code:
            found.append(Finding(
                "unknown_measures", Severity.error,
                f"《{_title(plan)}》承接了责任清单中没有的措施：{'、'.join(unknown)}",
                f"{code}: carries measures not in the responsibility matrix: {', '.join(unknown)}", (code,),
                measures=tuple(unknown), total=float(len(unknown)), unit="1"))
    by_task: dict[int, list[str]] = {}
    for measure in measures:
        if measure.code not in carried:
            by_task.setdefault(measure.task, []).append(measure.code)
    for task in sorted(by_task):
        codes = tuple(by_task[task])
        of_task = sum(1 for m in measures if m.task == task)
        found.append(Finding(
            "measures_not_carried", Severity.info,
            f"任务{task}的 {len(codes)}/{of_task} 项措施没有任何实施方案承接：{'、'.join(codes)}",
            f"task {task}: {len(codes)} of {of_task} measures are carried by no sub-plan: {', '.join(codes)}",
            (), None, None, "1", float(of_task), float(len(codes)), None, (), codes, details={"task": task}))
    return found


def _canonical_unit(indicator: str) -> str:
    return str(indicator_table().loc[indicator, "unit"])


def _indicator_zh(indicator: str) -> str:
    table = indicator_table()
    return str(table.loc[indicator, "name_zh"]) if indicator in table.index else indicator


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"

"""A city's 碳达峰碳中和工作方案 as data: plan metadata, targets, hard rules, task groups, tasks, implementation.

Contract
--------
* Every model forbids unknown fields; a misspelt key is an error, never silently dropped.
* :class:`Target` values are in the target's own ``unit`` (any pint unit with the dimension of the
  indicator's canonical unit in ``data/codelists/indicators.csv``). Shares are fractions with unit
  ``dimensionless`` (16 % → ``0.16``).
* ``value: null`` means the plan leaves the number to a higher authority or to a later decision
  (``parameter: true``): such a target :attr:`Target.is_set` is false and :meth:`Target.evaluate`
  returns ``None``.
* 左右 ("about") is judged with an absolute tolerance in the target's unit. The plan file carries a
  plan-level default (``meta.about_tolerance``) that is an *interpretation chosen by the office*, not an
  official number; a target may override it with its own ``tolerance``.
* Cross-field checks (known indicators, compatible units, unique ids and task numbers, references between
  tasks, groups and rules) are in :meth:`Plan.issues`; constructing a :class:`Plan` runs them and raises
  ``ValueError`` unless the validation context sets ``defer_checks`` (the file loader in
  :mod:`citycarbon.plan.load` does, so that it can report each issue with its YAML line).

The plan structure follows the work plans issued under 中发〔2021〕36号《中共中央、国务院关于完整准确全面贯彻
新发展理念做好碳达峰碳中和工作的意见》: 主要目标 (targets), 重点任务 (task groups and numbered tasks),
组织实施 (implementation).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from citycarbon.codelists import load_codelist, nearest
from citycarbon.units import UnitError, convert, is_unit, same_dimension

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AboutTolerance",
    "CarriedMeasure",
    "Comparison",
    "GoalParagraph",
    "ImplementationItem",
    "Plan",
    "PlanIssue",
    "PlanKind",
    "PlanMeta",
    "ProjectAction",
    "Rule",
    "RuleKind",
    "SourceStatus",
    "Target",
    "Task",
    "TaskGroup",
    "indicator_table",
]

_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
#: a plan code (a city code such as ``dalian``, or a sub-plan's code such as ``zhuanghe_2030``)
_PLAN_CODE_PATTERN = r"^[a-z][a-z0-9_-]{1,63}$"
#: a measure code of the responsibility matrix (``T10-M01``: task 10, measure 1)
_MEASURE_CODE_PATTERN = r"^T\d{2}-M\d{2}$"
#: relative slack for float round-off when comparing an actual with a target (not a domain parameter)
_ROUND_OFF = 1e-9


class Comparison(StrEnum):
    """How an actual value is judged against a target value."""

    at_least = "at_least"  # 达到 / 以上 / 不低于: actual >= value
    at_most = "at_most"  # 不超过 / 以内 / 前: actual <= value
    about = "about"  # 左右: |actual - value| <= tolerance
    by_year = "by_year"  # milestone reached no later than the calendar year ``value`` (year indicators)


class RuleKind(StrEnum):
    """Kinds of hard rule a plan lays down."""

    prohibition = "prohibition"  # 不得 / 不再新建
    replacement = "replacement"  # 等量或减量置换 / 替代
    exclusion = "exclusion"  # 不纳入 (excluded from an accounting or control scope)
    restriction = "restriction"  # 严控 / 严格控制
    phase_out = "phase_out"  # 逐步减少直至禁止


class ProjectAction(StrEnum):
    """What a project does, for rules that depend on it (新建 / 扩建 / 改扩建)."""

    new = "new"  # 新建
    expansion = "expansion"  # 扩建 / 改扩建


class SourceStatus(StrEnum):
    """Status of a sourced value, as for factor rows (docs/architecture.md)."""

    official = "official"
    secondary = "secondary"
    unverified = "unverified"
    estimate = "estimate"


class PlanKind(StrEnum):
    """What a "1+N" implementation plan is: a sector's (行业和领域碳达峰实施方案) or a district's (区市县方案)."""

    sector = "sector"
    district = "district"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_default=True)


def _snake_case(values: list[str], what: str) -> list[str]:
    bad = [v for v in values if not re.fullmatch(_ID_PATTERN, v)]
    if bad:
        raise ValueError(f"{what} must be snake_case: {bad}")
    return values


def _check_unit(unit: str) -> str:
    if not is_unit(unit):
        raise ValueError(f"unit {unit!r} is not a unit citycarbon.units can parse")
    return unit


class AboutTolerance(_Strict):
    """The plan-level reading of 左右: |actual − value| ≤ ``value`` (in ``unit``)."""

    value: float = Field(ge=0, description="absolute tolerance")
    unit: str = Field(description="unit of the tolerance; converted to each target's unit")
    status: SourceStatus = Field(description="'estimate' when it is the office's interpretation")
    note: str = Field(description="why this tolerance; who may change it")

    @field_validator("unit")
    @classmethod
    def _unit_parses(cls, value: str) -> str:
        return _check_unit(value)


class PlanMeta(_Strict):
    """Who issued the plan, on what basis, and where the file's text comes from."""

    city: str = Field(description="city name in Chinese, e.g. 大连市")
    city_en: str
    region_code: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 administrative code")
    title_zh: str
    title_en: str
    basis_document: str = Field(description="document number the plan implements, e.g. 中发〔2021〕36号")
    basis_title_zh: str
    base_year: int = Field(ge=1990, le=2100)
    preamble_zh: str | None = Field(default=None, description="the plan's opening sentence, verbatim")
    source: str = Field(description="where the text was taken from")
    status: SourceStatus = Field(description="status of the plan text itself")
    about_tolerance: AboutTolerance
    # -- "1+N": set on a sector or district implementation plan only (a city plan leaves them out) --
    code: str | None = Field(default=None, pattern=_PLAN_CODE_PATTERN,
                             description="the sub-plan's code, unique in the city (e.g. zhuanghe_2030)")
    parent: str | None = Field(default=None, pattern=_PLAN_CODE_PATTERN,
                               description="code of the plan it implements: the city's code (e.g. dalian) or "
                                           "another registered sub-plan's code")
    kind: PlanKind | None = Field(default=None, description="sector | district")
    org: str | None = Field(default=None, min_length=1, max_length=64,
                            description="code of the owning organisation in the governance registry")
    sector: str | None = Field(default=None, pattern=_ID_PATTERN,
                               description="the sector a sector plan covers (e.g. energy, industry, transport)")

    @property
    def is_subplan(self) -> bool:
        """True for a "1+N" implementation plan (it names a parent)."""
        return self.parent is not None


class GoalParagraph(_Strict):
    """A paragraph of 主要目标 (main goals) verbatim; its numbers are also :class:`Target` rows."""

    year: int = Field(ge=1990, le=2100)
    text_zh: str
    summary_en: str


class Target(_Strict):
    """One quantitative target of the plan (主要目标)."""

    id: str = Field(pattern=_ID_PATTERN, description="stable id, e.g. non_fossil_share_2025")
    indicator: str = Field(description="indicator id from data/codelists/indicators.csv")
    year: int = Field(ge=1990, le=2100, description="year the target applies to")
    value: float | None = Field(description="target value in `unit`; null when left to a higher authority")
    unit: str
    comparison: Comparison
    base_year: int | None = Field(default=None, ge=1990, le=2100,
                                  description="reference year of a reduction target")
    tolerance: float | None = Field(default=None, ge=0,
                                    description="absolute tolerance for 'about', in `unit`; "
                                                "defaults to meta.about_tolerance")
    parameter: bool = Field(default=False, description="true when the office fills the value in")
    clause: str = Field(description="the verbatim Chinese clause the target comes from")
    clause_ref: str = Field(description="where the clause is, e.g. 一、主要目标 第2段")
    title_zh: str
    title_en: str
    note: str | None = None

    @field_validator("unit")
    @classmethod
    def _unit_parses(cls, value: str) -> str:
        return _check_unit(value)

    @property
    def is_set(self) -> bool:
        """True when the target has a number (``value`` is not null)."""
        return self.value is not None

    def evaluate(self, actual: float, unit: str | None = None) -> bool | None:
        """Is the target met by ``actual``? ``None`` when the target is unset.

        ``actual`` is in ``unit`` (default: the target's unit) and is converted to the target's unit.
        ``at_least``: actual ≥ value; ``at_most``: actual ≤ value; ``about`` (左右):
        |actual − value| ≤ tolerance; ``by_year``: the milestone year ``actual`` is no later than
        ``value``. Comparisons allow float round-off only (relative 1e-9).

        Raises ``ValueError`` for a NaN actual or an ``about`` target without a tolerance, and
        :class:`~citycarbon.units.UnitError` for an incompatible ``unit``.
        """
        if self.value is None:
            return None
        number = float(actual)
        if math.isnan(number):
            raise ValueError(f"target {self.id}: actual value is NaN")
        if unit is not None and unit != self.unit:
            number = convert(number, unit, self.unit)
        slack = _ROUND_OFF * max(1.0, abs(self.value))
        if self.comparison is Comparison.at_least:
            return number >= self.value - slack
        if self.comparison in (Comparison.at_most, Comparison.by_year):
            return number <= self.value + slack
        if self.tolerance is None:
            raise ValueError(f"target {self.id}: 'about' needs a tolerance")
        return abs(number - self.value) <= self.tolerance + slack


class Rule(_Strict):
    """A hard rule of the plan (prohibition, replacement, exclusion, restriction, phase-out)."""

    id: str = Field(pattern=_ID_PATTERN)
    kind: RuleKind
    applies_to: list[str] = Field(min_length=1, description="project types / energy uses, snake_case codes")
    text_zh: str = Field(description="verbatim Chinese text of the rule")
    actions: list[ProjectAction] = Field(default_factory=list,
                                         description="project actions covered; empty = any")
    condition_zh: str | None = Field(default=None, description="verbatim condition under which it applies")
    exception_zh: str | None = Field(default=None, description="verbatim exception, if any")
    title_en: str
    task: int = Field(ge=1, description="number of the task the rule comes from")

    @field_validator("applies_to")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        return _snake_case(value, "applies_to codes")


class TaskGroup(_Strict):
    """A heading of 重点任务, e.g. (三)加快构建清洁低碳安全高效能源体系."""

    number: int = Field(ge=1)
    label_zh: str = Field(description="the heading's numeral as printed, e.g. (三)")
    title_zh: str
    title_en: str


class Task(_Strict):
    """A numbered task (重点任务) with its full paragraph."""

    number: int = Field(ge=1)
    group: int = Field(ge=1, description="number of its task group")
    title_zh: str
    title_en: str
    text_zh: str = Field(description="the full paragraph, verbatim")
    indicators: list[str] = Field(default_factory=list, description="indicator ids the task moves")
    keywords: list[str] = Field(default_factory=list, description="short English tags (snake_case)")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return _snake_case(value, "keywords")


class CarriedMeasure(_Strict):
    """A city measure a sub-plan implements, with the sub-plan's own deadline for it."""

    measure: str = Field(pattern=_MEASURE_CODE_PATTERN, description="measure code, e.g. T10-M01")
    deadline: date | None = Field(default=None, description="the sub-plan's deadline for the measure")
    note: str | None = None


def _carried_from_code(value: object) -> object:
    """``"T10-M01"`` is short for ``{measure: T10-M01}``."""
    return {"measure": value} if isinstance(value, str) else value


_Carried = Annotated[CarriedMeasure, BeforeValidator(_carried_from_code), WithJsonSchema(
    {"anyOf": [{"type": "string", "pattern": _MEASURE_CODE_PATTERN}, CarriedMeasure.model_json_schema()]})]


class ImplementationItem(_Strict):
    """An item of 组织实施 (organisation and implementation)."""

    number: int = Field(ge=1)
    label_zh: str = Field(description="the item's numeral as printed, e.g. (一)")
    title_zh: str
    title_en: str
    text_zh: str


@dataclass(frozen=True)
class PlanIssue:
    """A cross-field problem in a plan; ``path`` is a tuple like ``("targets", 3, "indicator")``."""

    path: tuple[str | int, ...]
    message: str
    value: object = None
    suggestion: str | None = None


def indicator_table() -> pd.DataFrame:
    """The indicator codelist (``data/codelists/indicators.csv``), indexed by indicator id."""
    return load_codelist("indicators")


class Plan(_Strict):
    """A city's work plan: the root of a plan file."""

    format_version: Literal[1] = Field(description="plan file format version")
    meta: PlanMeta
    goals: list[GoalParagraph] = Field(default_factory=list)
    targets: list[Target]
    rules: list[Rule] = Field(default_factory=list)
    task_groups: list[TaskGroup] = Field(default_factory=list,
                                         description="required (non-empty) for a city plan")
    tasks: list[Task] = Field(default_factory=list, description="required (non-empty) for a city plan")
    implementation: list[ImplementationItem] = Field(default_factory=list)
    carries: list[_Carried] = Field(
        default_factory=list,
        description="a sub-plan only: the city measures it implements, as codes (T10-M01) or with a deadline")

    @property
    def carried(self) -> list[CarriedMeasure]:
        """The measures the plan carries (a sub-plan's ``carries``)."""
        return list(self.carries)

    @model_validator(mode="after")
    def _resolve_and_check(self, info: ValidationInfo) -> Plan:
        self._fill_about_tolerance()
        if not (info.context or {}).get("defer_checks"):
            issues = self.issues()
            if issues:
                raise ValueError("; ".join(f"{_dotted(i.path)}: {i.message}" for i in issues))
        return self

    def _fill_about_tolerance(self) -> None:
        default = self.meta.about_tolerance
        for target in self.targets:
            if (target.comparison is Comparison.about and target.tolerance is None
                    and is_unit(target.unit) and same_dimension(default.unit, target.unit)):
                target.tolerance = convert(default.value, default.unit, target.unit)

    # -- look-ups --------------------------------------------------------------------------------
    def target(self, target_id: str) -> Target:
        """The target with this id; ``KeyError`` naming the nearest id otherwise."""
        for target in self.targets:
            if target.id == target_id:
                return target
        hint = nearest(target_id, [t.id for t in self.targets])
        raise KeyError(f"no target {target_id!r}" + (f"; did you mean {hint!r}?" if hint else ""))

    def targets_for(self, indicator: str) -> list[Target]:
        """Targets on ``indicator``, by year."""
        return sorted((t for t in self.targets if t.indicator == indicator), key=lambda t: t.year)

    def tasks_for_indicator(self, indicator: str) -> list[Task]:
        """Tasks that list ``indicator`` among the indicators they move, by number."""
        return sorted((t for t in self.tasks if indicator in t.indicators), key=lambda t: t.number)

    def task(self, number: int) -> Task:
        """The task with this number; ``KeyError`` otherwise."""
        for task in self.tasks:
            if task.number == number:
                return task
        raise KeyError(f"no task {number}")

    def tasks_for_keyword(self, keyword: str) -> list[Task]:
        """Tasks tagged with ``keyword``, by number."""
        return sorted((t for t in self.tasks if keyword in t.keywords), key=lambda t: t.number)

    # -- cross-field checks ------------------------------------------------------------------------
    def issues(self) -> list[PlanIssue]:
        """Every cross-field problem, in file order; empty when the plan is consistent."""
        table = indicator_table()
        known = [str(v) for v in table.index]
        found: list[PlanIssue] = []
        found += _duplicates([t.id for t in self.targets], "targets", "id")
        for i, target in enumerate(self.targets):
            found += _target_issues(i, target, table, known)
        found += _duplicates([g.number for g in self.task_groups], "task_groups", "number")
        found += _duplicates([t.number for t in self.tasks], "tasks", "number")
        groups = [g.number for g in self.task_groups]
        for i, task in enumerate(self.tasks):
            if task.group not in groups:
                found.append(PlanIssue(("tasks", i, "group"), f"unknown task group {task.group}",
                                       task.group, _nearest_number(task.group, groups)))
            for j, indicator in enumerate(task.indicators):
                if indicator not in known:
                    found.append(PlanIssue(("tasks", i, "indicators", j), f"unknown indicator {indicator!r}",
                                           indicator, nearest(indicator, known)))
        found += _duplicates([r.id for r in self.rules], "rules", "id")
        numbers = [t.number for t in self.tasks]
        for i, rule in enumerate(self.rules):
            if rule.task not in numbers:
                found.append(PlanIssue(("rules", i, "task"), f"rule refers to unknown task {rule.task}",
                                       rule.task, _nearest_number(rule.task, numbers)))
        found += _duplicates([m.number for m in self.implementation], "implementation", "number")
        found += self._subplan_issues()
        return found

    def _subplan_issues(self) -> list[PlanIssue]:
        meta = self.meta
        found: list[PlanIssue] = []
        if not meta.is_subplan:
            if not self.tasks:
                found.append(PlanIssue(("tasks",), "a city plan needs its tasks (a sub-plan names meta.parent)"))
            if not self.task_groups:
                found.append(PlanIssue(("task_groups",), "a city plan needs its task groups"))
            for field in ("code", "kind", "org", "sector"):
                if getattr(meta, field) is not None:
                    found.append(PlanIssue(("meta", field), f"meta.{field} is for a sub-plan, which names "
                                           "meta.parent", getattr(meta, field), "parent"))
            if self.carries:
                found.append(PlanIssue(("carries",), "carries is for a sub-plan, which names meta.parent"))
            return found
        for field in ("code", "kind", "org"):
            if getattr(meta, field) is None:
                found.append(PlanIssue(("meta", field), f"a sub-plan needs meta.{field}"))
        if meta.code is not None and meta.code == meta.parent:
            found.append(PlanIssue(("meta", "parent"), "a plan cannot be its own parent", meta.parent))
        if meta.kind is PlanKind.sector and meta.sector is None:
            found.append(PlanIssue(("meta", "sector"), "a sector plan needs meta.sector (e.g. energy)"))
        if meta.kind is PlanKind.district and meta.sector is not None:
            found.append(PlanIssue(("meta", "sector"), "a district plan names its region_code, not a sector",
                                   meta.sector))
        codes = [c.measure for c in self.carried]
        found += _duplicates(codes, "carries", "measure")
        return found


def _target_issues(i: int, target: Target, table, known: list[str]) -> list[PlanIssue]:
    found: list[PlanIssue] = []
    if target.indicator not in known:
        return [PlanIssue(("targets", i, "indicator"), f"unknown indicator {target.indicator!r}",
                          target.indicator, nearest(target.indicator, known))]
    row = table.loc[target.indicator]
    canonical = str(row["unit"])
    try:
        compatible = same_dimension(target.unit, canonical)
    except UnitError:
        compatible = False
    if not compatible:
        found.append(PlanIssue(("targets", i, "unit"),
                               f"unit {target.unit!r} does not fit indicator {target.indicator!r} "
                               f"(unit {canonical!r})", target.unit, canonical))
    kind = str(row["kind"])
    if target.comparison is Comparison.by_year and kind != "year":
        found.append(PlanIssue(("targets", i, "comparison"),
                               f"'by_year' needs an indicator of kind 'year'; {target.indicator!r} is "
                               f"of kind {kind!r}", target.comparison.value, "at_least"))
    if target.comparison is Comparison.about and target.tolerance is None:
        found.append(PlanIssue(("targets", i, "tolerance"),
                               "an 'about' (左右) target needs a tolerance in its unit; meta.about_tolerance "
                               "has a different dimension", None))
    if target.value is None and not target.parameter:
        found.append(PlanIssue(("targets", i, "value"),
                               "value is null but parameter is false; set parameter: true when the value is "
                               "left to a higher authority", None, "parameter"))
    if kind == "reduction" and target.value is not None and target.base_year is None:
        found.append(PlanIssue(("targets", i, "base_year"),
                               "a reduction target with a value needs base_year", None))
    if target.base_year is not None and target.base_year >= target.year:
        found.append(PlanIssue(("targets", i, "base_year"),
                               f"base_year {target.base_year} is not before year {target.year}",
                               target.base_year))
    return found


def _duplicates(values: list, section: str, field: str) -> list[PlanIssue]:
    seen: set = set()
    found = []
    for i, value in enumerate(values):
        if value in seen:
            found.append(PlanIssue((section, i, field), f"duplicate {field} {value!r} in {section}", value))
        seen.add(value)
    return found


def _nearest_number(value: int, choices: list[int]) -> str | None:
    if not choices:
        return None
    return str(min(choices, key=lambda c: (abs(c - value), c)))


def _dotted(path: tuple[str | int, ...]) -> str:
    """``("targets", 3, "indicator")`` → ``targets[3].indicator``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text

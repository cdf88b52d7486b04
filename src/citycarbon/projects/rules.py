"""The project gate's checks: pure functions from a :class:`~citycarbon.projects.model.Project`, the plan's
``rules:`` and the tables of :mod:`citycarbon.projects.tables` to :class:`Finding` s.

Each finding says what was checked, how severe it is (``refuse`` / ``flag`` / ``info``), the numbers, and the
document with its verification status. The plan's rules are applied by their ``kind``, ``applies_to`` and
``actions`` only, never by their text:

- a project carries the rule codes of its products (the benchmark table's ``plan_type``, ';'-separated), the
  codes filed in ``Project.types``, and three implied by what it is: ``new_projects`` (new or expansion),
  ``feedstock_energy`` (it uses feedstock) and ``new_renewable_energy`` (it supplies renewables);
- a rule matches when one of its ``applies_to`` codes is the project's and its ``actions`` (empty = any) hold the
  project's action (a revamp is neither 新建 nor 扩建);
- ``prohibition`` refuses, unless the rule has a ``condition_zh`` (the project is outside it when the applicant
  cites a national plan: ``Project.national_plan``) or an ``exception_zh`` (met when the consent is recorded:
  ``Project.city_consent``);
- ``replacement`` needs retired capacity = capacity × the ratio of the region's class for codes that have a
  capacity-replacement table, otherwise energy-consumption replacement = (annual tce − excluded) × ratio;
- ``exclusion`` is information (what is left out of total-consumption control); ``restriction`` and
  ``phase_out`` flag."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from citycarbon.errors import InputError, Problem
from citycarbon.plan.models import ProjectAction, Rule, RuleKind
from citycarbon.projects.model import Project, ProjectKind
from citycarbon.projects.tables import (
    Benchmark,
    EnergyReview,
    Lianggao,
    PlanType,
    ProjectTables,
    RegionClassRow,
    ReplacementRatio,
    Verification,
)
from citycarbon.units import convert

#: rule codes a project carries by what it is (the plan file's vocabulary for these rules)
NEW_PROJECTS = "new_projects"
FEEDSTOCK_ENERGY = "feedstock_energy"
NEW_RENEWABLE_ENERGY = "new_renewable_energy"


class Severity(StrEnum):
    refuse = "refuse"
    flag = "flag"
    info = "info"


_ORDER = {Severity.refuse: 0, Severity.flag: 1, Severity.info: 2}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message_zh: str
    message_en: str
    numbers: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    document: str | None = None
    status: Verification | None = None
    rule: str | None = None  # the plan rule's id, for plan rules
    subject: str | None = None  # the product or sector the finding is about

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", MappingProxyType(dict(self.numbers)))


def worst(findings: Iterable[Finding]) -> Severity:
    """The most severe finding's severity (``info`` when there is none)."""
    return min((f.severity for f in findings), key=_ORDER.__getitem__, default=Severity.info)


def _fmt(value: float) -> str:
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"


# ------------------------------------------------------------------------------------------------ efficiency


def benchmark_for(product: str, benchmarks: Sequence[Benchmark], on: date) -> Benchmark | None:
    """The newest edition's row for ``product`` in force on ``on``."""
    rows = [b for b in benchmarks if b.product == product and b.in_force_from <= on]
    return max(rows, key=lambda b: b.edition, default=None)


def efficiency_findings(project: Project, benchmarks: Sequence[Benchmark]) -> list[Finding]:
    """Each product's unit consumption against its 标杆 and 基准 (lower is better): at or better than 标杆 is
    fine, between the two is flagged, worse than 基准 is refused; an unknown product is information."""
    out: list[Finding] = []
    newest = max((b.edition for b in benchmarks), default=0)
    for line in project.products:
        row = benchmark_for(line.product, benchmarks, project.application_date)
        if row is None:
            out.append(Finding(
                "efficiency.unknown_product", Severity.info,
                "申报产品不在能效标杆水平和基准水平表中，未比较能效",
                f"product {line.product} is not in the benchmark table; efficiency not compared",
                subject=line.product))
            continue
        edition_note_zh = "" if row.edition == newest else f"(未录入{newest}年版该产品数值，按{row.edition}年版)"
        edition_note_en = "" if row.edition == newest else (
            f" (no {newest} edition value transcribed; the {row.edition} edition is used)")
        numbers = {"benchmark": row.benchmark, "baseline": row.baseline}
        if line.unit_consumption is None or line.consumption_unit is None:
            out.append(Finding(
                "efficiency.not_stated", Severity.flag,
                f"{row.name_zh}: 未填写单位产品能耗，无法与标杆 {_fmt(row.benchmark)}、基准 {_fmt(row.baseline)} "
                f"{row.unit} 比较{edition_note_zh}",
                f"{line.product}: no unit consumption stated; cannot compare with benchmark "
                f"{_fmt(row.benchmark)} / baseline {_fmt(row.baseline)} {row.unit}{edition_note_en}",
                numbers, row.document, row.status, subject=line.product))
            continue
        if line.consumption_unit != row.unit:
            out.append(Finding(
                "efficiency.unit_mismatch", Severity.flag,
                f"{row.name_zh}: 单位产品能耗单位 {line.consumption_unit} 与标准单位 {row.unit} 不一致，未比较",
                f"{line.product}: unit consumption is in {line.consumption_unit}, the table in {row.unit}; "
                "not compared", numbers, row.document, row.status, subject=line.product))
            continue
        value = line.unit_consumption
        numbers = {**numbers, "unit_consumption": value}
        if value <= row.benchmark:
            severity, code, zh, en = (Severity.info, "efficiency.benchmark", "达到标杆水平",
                                      "at or better than the benchmark level")
        elif value <= row.baseline:
            severity, code, zh, en = (Severity.flag, "efficiency.between", "低于标杆水平、达到基准水平",
                                      "between the benchmark and baseline levels")
        else:
            severity, code, zh, en = (Severity.refuse, "efficiency.below_baseline", "未达到基准水平",
                                      "worse than the baseline level")
        out.append(Finding(
            code, severity,
            f"{row.name_zh}: 单位产品能耗 {_fmt(value)} {row.unit}，{zh}(标杆 {_fmt(row.benchmark)}，"
            f"基准 {_fmt(row.baseline)}，{row.edition}年版){edition_note_zh}",
            f"{line.product}: {_fmt(value)} {row.unit}, {en} (benchmark {_fmt(row.benchmark)}, "
            f"baseline {_fmt(row.baseline)}, {row.edition} edition){edition_note_en}",
            numbers, row.document, row.status, subject=line.product))
    return out


# ------------------------------------------------------------------------------------------------- 两高


def project_types(project: Project, benchmarks: Sequence[Benchmark]) -> frozenset[str]:
    """The plan-rule codes the project carries (see the module's docstring)."""
    codes = set(project.types)
    for line in project.products:
        codes.update(code for b in benchmarks if b.product == line.product for code in b.plan_types)
    if project.kind in (ProjectKind.new, ProjectKind.expansion):
        codes.add(NEW_PROJECTS)
    if any(q.value > 0 for q in project.feedstock.values()):
        codes.add(FEEDSTOCK_ENERGY)
    if any(q.value > 0 for q in project.renewable_supply.values()):
        codes.add(NEW_RENEWABLE_ENERGY)
    return frozenset(codes)


def label_zh(code: str, benchmarks: Sequence[Benchmark], plan_types: Sequence[PlanType] = ()) -> str:
    """The Chinese name of a plan-rule code (``plan_types.csv``) or a product code (the benchmark's ``name_zh``);
    the code itself when neither table has it (Chinese text never shows a known code raw)."""
    for row in plan_types:
        if row.code == code:
            return row.name_zh
    return next((b.name_zh for b in benchmarks if b.product == code), code)


def _labels_zh(codes: Iterable[str], benchmarks: Sequence[Benchmark], plan_types: Sequence[PlanType]) -> str:
    return "、".join(label_zh(c, benchmarks, plan_types) for c in sorted(codes))


def lianggao_findings(project: Project, lianggao: Lianggao, benchmarks: Sequence[Benchmark],
                      plan_types: Sequence[PlanType] = ()) -> list[Finding]:
    """两高 classification: by the industry's GB/T 4754 division and by the 45号 categories (project types and
    products). A 两高 project is flagged (it gets the stricter handling); otherwise one information finding."""
    out: list[Finding] = []
    division = project.industry_division
    if division in lianggao.divisions:
        out.append(Finding(
            "lianggao.industry", Severity.flag,
            f"行业 {project.industry_code} 属于高耗能行业 {division} {lianggao.divisions[division]}",
            f"industry {project.industry_code} is in energy-intensive division {division}",
            document=lianggao.divisions_document, status=lianggao.divisions_status, subject=division))
    types = project_types(project, benchmarks)
    products = {line.product for line in project.products}
    for category in lianggao.categories:
        hits = sorted((types & set(category.types)) | (products & set(category.products)))
        if hits:
            out.append(Finding(
                "lianggao.category", Severity.flag,
                f"属于“两高”项目类别：{category.name_zh}({_labels_zh(hits, benchmarks, plan_types)})",
                f"a lianggao (energy-intensive, high-emission) project, category {category.code} ({', '.join(hits)})",
                document=lianggao.categories_document,
                status=lianggao.mapping_status,
                subject=category.code))
    if not out:
        out.append(Finding("lianggao.none", Severity.info, "不属于“两高”项目",
                           "not a lianggao (energy-intensive, high-emission) project",
                           document=lianggao.categories_document, status=lianggao.categories_status))
    return out


def is_lianggao(findings: Iterable[Finding]) -> bool:
    return any(f.code in ("lianggao.industry", "lianggao.category") for f in findings)


# ----------------------------------------------------------------------------------------- capacity replacement


def region_class(region_code: str, rows: Sequence[RegionClassRow]) -> RegionClassRow | None:
    """The class row whose prefix is the longest one ``region_code`` starts with."""
    matching = [r for r in rows if region_code.startswith(r.region_prefix)]
    return max(matching, key=lambda r: len(r.region_prefix), default=None)


def required_retired_capacity(capacity: float, ratio: float) -> float:
    """Retired capacity a new capacity needs: capacity × ratio (ratio = retired : new)."""
    return capacity * ratio


def capacity_replacement_findings(project: Project, sector: str, tables: ProjectTables,
                                  rule: Rule | None = None) -> list[Finding]:
    """The retired capacity each of the project's product lines in ``sector`` needs, at the ratio of the
    project's region class in force on its application date (and the pause, where there is one)."""
    on = project.application_date
    rule_id = rule.id if rule is not None else None
    cls = region_class(project.region_code, tables.region_classes)
    if cls is None:
        return [Finding("replacement.region_unknown", Severity.flag,
                        f"行政区划 {project.region_code} 未列入产能置换区域分类表，无法确定置换比例",
                        f"region {project.region_code} is not in the region-class table; no ratio known",
                        rule=rule_id, subject=sector)]
    ratios: list[ReplacementRatio] = [r for r in tables.replacement if r.sector == sector
                                      and r.region_class == cls.region_class and r.in_force(on)]
    if not ratios:
        return [Finding("replacement.no_ratio", Severity.flag,
                        f"{label_zh(sector, tables.benchmarks, tables.plan_types)}: "
                        f"{on.isoformat()} 无有效的产能置换比例",
                        f"{sector}: no replacement ratio in force "
                        f"on {on.isoformat()}", rule=rule_id, subject=sector)]
    ratio = max(ratios, key=lambda r: r.in_force_from or date.min)
    in_sector = {b.product for b in tables.benchmarks if sector in b.plan_types} | {sector}
    lines = [line for line in project.products if line.product in in_sector]
    region_zh = "重点区域" if cls.region_class.value == "key" else "非重点区域"
    out: list[Finding] = []
    if ratio.paused_from is not None and ratio.paused_from <= on:
        out.append(Finding(
            "replacement.paused", Severity.refuse,
            f"{ratio.name_zh}产能置换自 {ratio.paused_from.isoformat()} 起暂停，新增产能无法通过置换取得"
            f"(恢复时比例：{region_zh} {_fmt(ratio.ratio)}:1)",
            f"{sector} capacity replacement is paused since {ratio.paused_from.isoformat()}; new capacity cannot "
            f"be obtained by replacement (ratio when it resumes: {_fmt(ratio.ratio)}:1, {cls.region_class} region)",
            {"ratio": ratio.ratio}, ratio.document, ratio.status, rule_id, sector))
    if not lines:
        out.append(Finding(
            "replacement.capacity_missing", Severity.flag,
            f"{ratio.name_zh}: 项目须实施产能置换(比例 {_fmt(ratio.ratio)}:1)，但未填写该行业产品产能",
            f"{sector}: capacity replacement at {_fmt(ratio.ratio)}:1 is required but no {sector} capacity is filed",
            {"ratio": ratio.ratio}, ratio.document, ratio.status, rule_id, sector))
    for line in lines:
        required = required_retired_capacity(line.capacity, ratio.ratio)
        out.append(Finding(
            "replacement.capacity", Severity.flag,
            f"{ratio.name_zh}: 新增产能 {_fmt(line.capacity)} {line.unit}，{cls.name_zh}属{region_zh}，"
            f"置换比例 {_fmt(ratio.ratio)}:1，须压减退出产能 {_fmt(required)} {line.unit}",
            f"{sector}: new capacity {_fmt(line.capacity)} {line.unit}, {cls.region_class} region, ratio "
            f"{_fmt(ratio.ratio)}:1, retired capacity required {_fmt(required)} {line.unit}",
            {"capacity": line.capacity, "ratio": ratio.ratio, "required": required},
            ratio.document, ratio.status, rule_id, line.product))
    return out


# ------------------------------------------------------------------------------------------------- plan rules


def _action(kind: ProjectKind) -> ProjectAction | None:
    return {ProjectKind.new: ProjectAction.new, ProjectKind.expansion: ProjectAction.expansion}.get(kind)


def rule_matches(rule: Rule, project: Project, types: frozenset[str]) -> frozenset[str]:
    """The rule's ``applies_to`` codes the project carries, when its ``actions`` cover the project (else empty)."""
    if rule.actions and _action(project.kind) not in rule.actions:
        return frozenset()
    return types & frozenset(rule.applies_to)


def energy_replacement_finding(project: Project, tables: ProjectTables, rule: Rule, annual_tce: float | None,
                               excluded_tce: float) -> Finding:
    """项目能耗等量或减量替代: the room the project needs, (annual tce − excluded) × ratio."""
    spec = tables.energy_review.energy_replacement
    if annual_tce is None:
        return Finding("replacement.energy_unknown", Severity.flag,
                       f"须落实项目能耗等量或减量替代，但项目年综合能耗未计算：{rule.text_zh}",
                       "energy-consumption replacement is required but the annual consumption is not computed",
                       document=spec.source, status=spec.status, rule=rule.id)
    counted = max(annual_tce - excluded_tce, 0.0)
    required = counted * spec.ratio
    return Finding(
        "replacement.energy", Severity.flag,
        f"须落实项目能耗替代：年综合能耗 {_fmt(annual_tce)} tce，扣除原料用能和可再生能源 {_fmt(excluded_tce)} tce，"
        f"按 {_fmt(spec.ratio)}:1 须替代 {_fmt(required)} tce",
        f"energy-consumption replacement: {_fmt(annual_tce)} tce a year, less {_fmt(excluded_tce)} tce feedstock and "
        f"renewables, at {_fmt(spec.ratio)}:1 needs {_fmt(required)} tce of room",
        {"annual_tce": annual_tce, "excluded_tce": excluded_tce, "ratio": spec.ratio, "required": required},
        spec.source, spec.status, rule.id)


def plan_rule_findings(project: Project, rules: Sequence[Rule], tables: ProjectTables,
                       annual_tce: float | None = None, excluded_tce: float = 0.0) -> list[Finding]:
    """Every plan rule that matches the project, applied by its kind. ``annual_tce`` (当量值, tce) and
    ``excluded_tce`` (feedstock and new renewables) come from the energy computation."""
    types = project_types(project, tables.benchmarks)
    sectors = {r.sector for r in tables.replacement}
    out: list[Finding] = []
    for rule in rules:
        hits = rule_matches(rule, project, types)
        if not hits:
            continue
        listed = ", ".join(sorted(hits))
        listed_zh = _labels_zh(hits, tables.benchmarks, tables.plan_types)
        if rule.kind is RuleKind.prohibition:
            if rule.condition_zh and project.national_plan:
                out.append(Finding(
                    "rule.prohibition_lifted", Severity.info,
                    f"{listed_zh}: 申请人引用国家规划《{project.national_plan}》，不属于“{rule.condition_zh}”"
                    f"(规则：{rule.text_zh})；须核实该规划确已纳入本项目",
                    f"{listed}: the applicant cites a national plan (the finding's document); rule "
                    f"{rule.id} does not apply if the plan includes the project (to be verified)",
                    document=project.national_plan, rule=rule.id, subject=listed))
            elif rule.exception_zh and project.city_consent:
                out.append(Finding(
                    "rule.exception_recorded", Severity.info,
                    f"{listed_zh}: 已记录例外依据《{project.city_consent}》(例外：{rule.exception_zh})",
                    f"{listed}: the exception of rule {rule.id} is recorded (the finding's document)",
                    document=project.city_consent, rule=rule.id, subject=listed))
            else:
                extra_zh = "".join(f"；{t}" for t in (rule.condition_zh, rule.exception_zh) if t)
                out.append(Finding(
                    "rule.prohibited", Severity.refuse, f"{listed_zh}: 违反方案规定“{rule.text_zh}”{extra_zh}",
                    f"{listed}: refused by rule {rule.id}: {rule.title_en}"
                    + (" (no national plan cited)" if rule.condition_zh else "")
                    + (" (no recorded consent)" if rule.exception_zh else ""),
                    rule=rule.id, subject=listed))
        elif rule.kind is RuleKind.replacement:
            for code in sorted(hits):
                if code in sectors:
                    out.extend(capacity_replacement_findings(project, code, tables, rule))
                else:
                    out.append(energy_replacement_finding(project, tables, rule, annual_tce, excluded_tce))
        elif rule.kind is RuleKind.exclusion:
            out.append(Finding(
                "rule.exclusion", Severity.info, f"{listed_zh}: {rule.text_zh}",
                f"{listed}: {rule.title_en}", {"excluded_tce": excluded_tce},
                tables.energy_review.energy_replacement.exclusion_document,
                tables.energy_review.energy_replacement.exclusion_status, rule.id, listed))
        else:  # restriction, phase_out
            out.append(Finding(
                f"rule.{rule.kind.value}", Severity.flag, f"{listed_zh}: {rule.text_zh}",
                f"{listed}: {rule.title_en}", rule=rule.id, subject=listed))
    return out


# --------------------------------------------------------------------------------------------- review level


def electricity_kwh(project: Project, fuel: str = "electricity") -> float:
    """The project's annual electricity use in kWh (0 when none is filed)."""
    quantity = project.energy.get(fuel)
    return 0.0 if quantity is None else convert(quantity.value, quantity.unit, "kWh")


#: the English name of an energy basis (当量值 calorific, 等价值 equivalent) in English messages
_BASIS_EN = {"当量值": "calorific value", "等价值": "equivalent value"}


def review_level_findings(annual_tce: float, unit: str, electricity: float, on: date, review: EnergyReview,
                          lianggao: bool = False) -> list[Finding]:
    """The 节能审查 level for a project using ``annual_tce`` (当量值, in ``unit``) and ``electricity`` kWh a
    year, under the edition in force on ``on``; plus the NDRC window guidance for large 两高 projects."""
    try:
        tce = convert(annual_tce, unit, "tce")
    except Exception as err:  # any unit the registry cannot convert is bad input
        raise InputError(Problem(f"cannot convert {unit!r} to tce: {err}", field="annual_tce_unit",
                                 value=unit, message_zh="年综合能耗单位无法换算为吨标准煤")) from None
    editions = [e for e in review.editions if e.in_force(on)]
    if not editions:
        return [Finding("review.no_edition", Severity.flag, f"{on.isoformat()} 无有效的节能审查办法",
                        f"no energy-review rule in force on {on.isoformat()}", {"annual_tce": tce})]
    edition = editions[0]
    level = next((lv for lv in edition.levels if lv.matches(tce, electricity)), edition.default_level)
    numbers: dict[str, float] = {"annual_tce": tce, "electricity_kwh": electricity}
    for name in ("tce_at_least", "tce_below", "electricity_kwh_below"):
        value = getattr(level, name)
        if value is not None:
            numbers[name] = value
    replaced = next((e.document for e in review.editions if e.id == edition.supersedes), edition.supersedes)
    superseded = f"(取代《{replaced}》)" if edition.supersedes else ""
    article_zh = level.article_zh or "条款未核实"
    unverified = level.status in (Verification.unverified, Verification.provisional)
    out = [Finding(
        f"review.{level.level}", Severity.info,
        f"年综合能耗 {_fmt(tce)} tce({edition.energy_basis})、用电 {_fmt(electricity)} kWh：{level.name_zh}"
        f"({edition.document}{superseded}，{article_zh})" + ("；该条款未经核实" if unverified else ""),
        f"{_fmt(tce)} tce a year ({_BASIS_EN.get(edition.energy_basis, 'as stated')}), {_fmt(electricity)} kWh: "
        f"{level.name_en} "
        f"({edition.id}, {level.article})" + ("; this clause is not verified" if unverified else ""),
        numbers, edition.document, level.status, subject=level.level)]
    guidance = review.window_guidance
    if tce >= guidance.tce_at_least and (lianggao or not guidance.lianggao_only):
        out.append(Finding(
            "review.window_guidance", Severity.flag,
            f"新增能耗 {_fmt(tce)} tce ≥ {_fmt(guidance.tce_at_least)} tce 的“两高”项目须报国家发展改革委窗口指导",
            f"a lianggao project adding {_fmt(tce)} tce ≥ {_fmt(guidance.tce_at_least)} tce gets NDRC window guidance",
            {"annual_tce": tce, "tce_at_least": guidance.tce_at_least}, guidance.document, guidance.status))
    return out


# ------------------------------------------------------------------------------------------------------- all


def check(project: Project, rules: Sequence[Rule], tables: ProjectTables, *, annual_tce: float | None = None,
          tce_unit: str = "tce", excluded_tce: float = 0.0) -> list[Finding]:
    """Every check of the gate, most severe first."""
    found = efficiency_findings(project, tables.benchmarks)
    classes = lianggao_findings(project, tables.lianggao, tables.benchmarks, tables.plan_types)
    found += classes
    tce = None if annual_tce is None else convert(annual_tce, tce_unit, "tce")
    found += plan_rule_findings(project, rules, tables, tce, excluded_tce)
    if tce is not None:
        found += review_level_findings(tce, "tce", electricity_kwh(project), project.application_date,
                                       tables.energy_review, is_lianggao(classes))
    return sorted(found, key=lambda f: _ORDER[f.severity])

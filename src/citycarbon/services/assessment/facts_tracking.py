"""Fact collectors from tracking and district accounting (see :mod:`citycarbon.services.assessment.facts`).

District scheme (``data/assessment/schemes/district.yaml``): the annual and cumulative intensity falls against
their targets, the total-energy allowance, the intensity veto and the wind + solar connected in the year.
Department scheme (``department.yaml``): the warning levels of the plan targets the department leads.

Everything is read *as of* ``ctx.as_of``: the ledger (district statistics, shares, the city's energy balance
and statistics, the office's district targets), the responsibility matrix (``gov_measures`` valid at that
moment) and the energy-project registry (a project's state at that moment, from its saved versions). A
district's figures are :func:`citycarbon.tracking.districts.account_districts`' (imported district statistics
where present, the city's figures times the district's share otherwise); the targets are
:mod:`citycarbon.assessment.targets` (the office's row for the district, else the shipped default).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from citycarbon.assessment import Fact
from citycarbon.assessment.targets import AssessmentTarget, fall, find_target, pace_fall
from citycarbon.errors import InputError
from citycarbon.services.assessment.facts import FactContext, collector

__all__ = ["district_accounts", "district_intensity_facts", "led_targets_facts", "wind_solar_facts"]

DISTRICT_KINDS = ("district", "pilot_zone")
CITY_SERIES = ("energy_consumption_tce", "energy_consumption_dual_control_tce", "co2_energy_t", "gdp_10k_yuan")
UNITS = {"energy_consumption_tce": "tce", "energy_consumption_dual_control_tce": "tce", "co2_energy_t": "t",
         "gdp_10k_yuan": "10^4 CNY", "energy_intensity_tce_per_10k_yuan": "tce/(10^4 CNY)",
         "co2_intensity_t_per_10k_yuan": "t/(10^4 CNY)"}
#: kind → (numerator, intensity series, Chinese name)
KINDS = {"energy": ("energy_consumption_tce", "energy_intensity_tce_per_10k_yuan", "能耗强度"),
         "co2": ("co2_energy_t", "co2_intensity_t_per_10k_yuan", "二氧化碳排放强度")}
INTENSITY_KEYS = ("energy_intensity_annual_ratio", "co2_intensity_annual_ratio", "energy_intensity_cumulative_ratio",
                  "co2_intensity_cumulative_ratio", "energy_total_ratio", "energy_intensity_annual_change")
#: warning level → score (三级/green 1, 二级/yellow 0.5, 一级/red 0); unrated targets are left out
LEVEL_SCORES = {3: 1.0, 2: 0.5, 1: 0.0}
NO_STATISTICS_ZH = "该单位无单独的统计数据（无行政区划代码），本项无法计算"
NO_STATISTICS_EN = "the unit has no statistics of its own (no region code); the item cannot be computed"


# -- shared data, as of the run's moment ----------------------------------------------------------------------

def district_accounts(ctx: FactContext) -> dict[str, Any]:
    """The districts' series and figure origins, the office's district targets and the error (if any), read as
    of ``ctx.as_of``; computed once per run (``ctx.memoized``)."""
    found: dict[str, Any] = ctx.memoized("tracking.district_accounts", lambda: _track_district_accounts(ctx))
    return found


def _track_district_accounts(ctx: FactContext) -> dict[str, Any]:
    key = ("districts", str(getattr(ctx.db, "key", id(ctx.db))), ctx.city, 0, _ledger_key(ctx))
    with _STATUS_LOCK:
        hit = _STATUS_CACHE.get(key)
    if hit is not None:
        return hit
    found = _track_read_district_accounts(ctx)
    if found["error"] is None:
        with _STATUS_LOCK:
            _STATUS_CACHE[key] = found
            while len(_STATUS_CACHE) > _STATUS_CACHE_SIZE:
                _STATUS_CACHE.popitem(last=False)
    return found


def _track_read_district_accounts(ctx: FactContext) -> dict[str, Any]:
    from citycarbon.services.accounting import account_city_years
    from citycarbon.services.cities import city_rows
    from citycarbon.store import ledger
    from citycarbon.tracking.districts import account_districts

    try:
        with ctx.db.session() as session:
            dataset = ledger.reference_dataset(session, ctx.city, as_of=ctx.as_of)
            shares = city_rows(ledger.current_frame(session, "districts", as_of=ctx.as_of), "districts",
                               dataset.region)
            statistics = city_rows(ledger.provenance_frame(session, "district_statistics", as_of=ctx.as_of),
                                   "districts", dataset.region)
            overrides = ledger.current_frame(session, "district_assessment_targets", as_of=ctx.as_of)
        results = account_city_years(None, city=ctx.city, dataset=dataset)
    except InputError as error:
        return {"series": {}, "origins": {}, "overrides": None, "error": str(error)}
    city: dict[str, dict[int, float]] = {name: {} for name in CITY_SERIES}
    for year, result in results.items():
        for name in CITY_SERIES:
            value = result.indicators.get(name)
            if value is not None and value == value:
                city[name][int(year)] = float(value)
    series, origins = account_districts(city, None if shares is None or shares.empty else shares,
                                        None if statistics is None or statistics.empty else statistics)
    return {"series": series, "origins": origins, "overrides": overrides, "error": None}


def _figure(ctx: FactContext, data: dict[str, Any], region: str, name: str, year: int) -> dict[str, Any] | None:
    value = data["series"].get(region, {}).get(name, {}).get(year)
    if value is None:
        return None
    origin = data["origins"].get(region, {}).get(name, {}).get(year, {})
    return {"kind": "figure", "series": name, "region": region, "year": year, "value": value,
            "unit": UNITS.get(name, ""), "origin": origin.get("origin"), "status": origin.get("status"),
            "source": origin.get("source"), "batch": origin.get("batch_id"), "estimate": origin.get("estimate", True),
            "ledger_version": ctx.ledger_version}


def _intensity(ctx: FactContext, data: dict[str, Any], region: str, kind: str,
               year: int) -> tuple[float | None, list[dict[str, Any]]]:
    """An intensity in ``year`` and the figures it is made of (numerator and GDP)."""
    top, name, _ = KINDS[kind]
    figures = [_figure(ctx, data, region, top, year), _figure(ctx, data, region, "gdp_10k_yuan", year)]
    value = data["series"].get(region, {}).get(name, {}).get(year)
    return value, [f for f in figures if f is not None]


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _missing(note_zh: str, note_en: str, evidence: list[dict[str, Any]] | None = None) -> Fact:
    return Fact(None, evidence=tuple(evidence or ()), note_zh=note_zh, note_en=note_en,
                estimate=any(e.get("estimate") for e in evidence or ()))


def _estimate(evidence: list[dict[str, Any]]) -> bool:
    return any(e.get("kind") == "figure" and e.get("estimate") for e in evidence)


# -- district scheme -------------------------------------------------------------------------------------------

@collector(*INTENSITY_KEYS)
def district_intensity_facts(ctx: FactContext) -> dict[str, dict[str, Fact]]:
    """The intensity ratios, the total-energy ratio and the veto's change for each district and pilot zone."""
    out: dict[str, dict[str, Fact]] = {}
    units = [u for u in ctx.units if u.kind in DISTRICT_KINDS]
    if not units:
        return out
    data = district_accounts(ctx)
    for unit in units:
        if not unit.region_code:
            out[unit.code] = {key: Fact(None, note_zh=NO_STATISTICS_ZH, note_en=NO_STATISTICS_EN)
                              for key in INTENSITY_KEYS}
            continue
        if data["error"] is not None:
            out[unit.code] = {key: Fact(None, note_zh="数据台账缺少核算所需数据：" + data["error"],
                                        note_en="the ledger lacks the data to account: " + data["error"])
                              for key in INTENSITY_KEYS}
            continue
        facts: dict[str, Fact] = {}
        for kind in KINDS:
            facts[f"{kind}_intensity_annual_ratio"] = _annual(ctx, data, unit.region_code, kind)
            facts[f"{kind}_intensity_cumulative_ratio"] = _cumulative(ctx, data, unit.region_code, kind)
        facts["energy_intensity_annual_change"] = _change(ctx, data, unit.region_code)
        facts["energy_total_ratio"] = _energy_total(ctx, data, unit.region_code)
        out[unit.code] = facts
    return out


def _annual(ctx: FactContext, data: dict[str, Any], region: str, kind: str) -> Fact:
    year = ctx.year
    _, _, name_zh = KINDS[kind]
    now, ev_now = _intensity(ctx, data, region, kind, year)
    before, ev_before = _intensity(ctx, data, region, kind, year - 1)
    evidence = ev_before + ev_now
    if now is None or not before:
        return _missing(f"缺少{year - 1}年或{year}年的{name_zh}数据", f"no {kind} intensity for {year - 1} or {year}",
                        evidence)
    target = find_target(f"{kind}_intensity_annual_fall", year, region, data["overrides"])
    if target is None or target.value <= 0:
        return _missing(f"{year}年未设定{name_zh}年度降低目标", f"no annual {kind}-intensity target for {year}",
                        evidence)
    actual = fall(now, before)
    ratio = actual / (target.value / 100)
    evidence.append(target.evidence())
    return Fact(ratio, "dimensionless", _estimate(evidence), tuple(evidence),
                f"{year}年{name_zh}下降{_pct(actual)}，年度目标{target.value:g}%，完成率{ratio * 100:.0f}%",
                f"{kind} intensity fell {_pct(actual)} in {year} against an annual target of {target.value:g}%: "
                f"{ratio * 100:.0f}% achieved")


def _cumulative(ctx: FactContext, data: dict[str, Any], region: str, kind: str) -> Fact:
    year = ctx.year
    _, _, name_zh = KINDS[kind]
    target = find_target(f"{kind}_intensity_cumulative_fall", year, region, data["overrides"], cumulative=True)
    if target is None:
        return _missing(f"未设定覆盖{year}年的{name_zh}累计降低目标",
                        f"no cumulative {kind}-intensity target for {year}")
    base_year = target.base_year or 2020
    now, ev_now = _intensity(ctx, data, region, kind, year)
    base, ev_base = _intensity(ctx, data, region, kind, base_year)
    evidence = ev_base + ev_now
    due = pace_fall(target, year)
    if now is None or not base or due <= 0:
        return _missing(f"缺少{base_year}年或{year}年的{name_zh}数据", f"no {kind} intensity for {base_year} or {year}",
                        evidence)
    actual = fall(now, base)
    ratio = actual / due
    evidence.append({**target.evidence(), "pace_fall": due, "pace": "geometric"})
    return Fact(ratio, "dimensionless", _estimate(evidence), tuple(evidence),
                f"{base_year}年以来{name_zh}累计下降{_pct(actual)}，按进度应下降{_pct(due)}"
                f"（{target.year}年目标{target.value:g}%），完成率{ratio * 100:.0f}%",
                f"{kind} intensity fell {_pct(actual)} since {base_year} against {_pct(due)} due by {year} "
                f"({target.value:g}% by {target.year}): {ratio * 100:.0f}% achieved")


def _change(ctx: FactContext, data: dict[str, Any], region: str) -> Fact:
    year = ctx.year
    now, ev_now = _intensity(ctx, data, region, "energy", year)
    before, ev_before = _intensity(ctx, data, region, "energy", year - 1)
    evidence = ev_before + ev_now
    if now is None or not before:
        return _missing(f"缺少{year - 1}年或{year}年的能耗强度数据", f"no energy intensity for {year - 1} or {year}",
                        evidence)
    change = round(now / before - 1, 12)  # an unchanged intensity is 0, never a rounding residue that vetoes
    word_zh, word_en = ("上升", "rose") if change > 0 else ("下降", "fell")
    return Fact(change, "dimensionless", _estimate(evidence), tuple(evidence),
                f"{year}年能耗强度较上年{word_zh}{_pct(abs(change))}",
                f"energy intensity {word_en} {_pct(abs(change))} in {year}")


def _energy_total(ctx: FactContext, data: dict[str, Any], region: str) -> Fact:
    year = ctx.year
    name = "energy_consumption_dual_control_tce"
    now, before = _figure(ctx, data, region, name, year), _figure(ctx, data, region, name, year - 1)
    evidence = [f for f in (before, now) if f is not None]
    if now is None or before is None or not before["value"]:
        return _missing(f"缺少{year - 1}年或{year}年的能耗双控口径能源消费量",
                        f"no dual-control energy for {year - 1} or {year}", evidence)
    growth = find_target("energy_total_growth_allowed", year, region, data["overrides"])
    if growth is not None:
        allowed = before["value"] * (1 + growth.value / 100)
        evidence.append(growth.evidence())
        how_zh = f"允许增长{growth.value:g}%"
    else:
        intensity: AssessmentTarget | None = find_target("energy_intensity_annual_fall", year, region,
                                                         data["overrides"])
        gdp_now, gdp_before = (_figure(ctx, data, region, "gdp_10k_yuan", y) for y in (year, year - 1))
        if intensity is None or gdp_now is None or gdp_before is None or not gdp_before["value"]:
            return _missing(f"{year}年未设定能耗总量允许水平，且无法由强度目标推算",
                            f"no allowance of total energy for {year}", evidence)
        growth_gdp = gdp_now["value"] / gdp_before["value"]
        allowed = before["value"] * growth_gdp * (1 - intensity.value / 100)
        evidence += [gdp_before, gdp_now, intensity.evidence(), _track_allowance_rule()]
        how_zh = f"按地区生产总值增长{_pct(growth_gdp - 1)}和强度目标{intensity.value:g}%推算"
    ratio = now["value"] / allowed
    return Fact(ratio, "dimensionless", _estimate(evidence), tuple(evidence),
                f"{year}年能耗双控口径能源消费量{now['value']:,.0f}吨标准煤，允许水平{allowed:,.0f}吨标准煤"
                f"（{how_zh}），为允许水平的{ratio * 100:.1f}%",
                f"dual-control energy use {now['value']:,.0f} tce in {year} against an allowed {allowed:,.0f} tce: "
                f"{ratio * 100:.1f}%")


def _track_allowance_rule() -> dict[str, Any]:
    """The derived allowance's rule as data (codelist ``assessment_target_indicators``, its notes)."""
    from citycarbon.codelists import load_codelist

    notes = str(load_codelist("assessment_target_indicators").loc["energy_total_growth_allowed", "notes"])
    number = re.search(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号", notes)
    return {"kind": "rule", "indicator": "energy_total_growth_allowed", "origin": "derived", "rule": notes,
            "document": number.group(0) if number else notes, "status": "estimate"}


@collector("wind_solar_added_mw")
def wind_solar_facts(ctx: FactContext) -> dict[str, dict[str, Fact]]:
    """Wind + solar grid-connected in the year in each district's region (energy-project registry as it stood at
    ``ctx.as_of``)."""
    units = [u for u in ctx.units if u.kind in DISTRICT_KINDS]
    if not units:
        return {}
    projects = ctx.memoized("tracking.energy_projects", lambda: _track_projects(ctx))
    out: dict[str, dict[str, Fact]] = {}
    for unit in units:
        if not unit.region_code:
            out[unit.code] = {"wind_solar_added_mw": Fact(None, "MW", note_zh=NO_STATISTICS_ZH,
                                                          note_en=NO_STATISTICS_EN)}
            continue
        mine = [p for p in projects if p["region_code"] == unit.region_code]
        total = sum(p["capacity_mw"] for p in mine)
        evidence = tuple({"kind": "project", **p} for p in mine)
        out[unit.code] = {"wind_solar_added_mw": Fact(
            total, "MW", any(p["status"] in ("estimate", "unverified") for p in mine), evidence,
            f"{ctx.year}年新增并网风电、光伏{total:g}兆瓦（{len(mine)}个项目）",
            f"{total:g} MW of wind and solar connected in {ctx.year} ({len(mine)} projects)")}
    return out


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _track_projects(ctx: FactContext) -> list[dict[str, Any]]:
    """The city's wind + solar projects connected in ``ctx.year`` as the registry stood at ``ctx.as_of``: a
    project changed since is read from its last version saved before (or left out when none was)."""
    from sqlalchemy import select

    from citycarbon.services.projects.energy_projects import counted_codes
    from citycarbon.store.project_models import EnergyProject, EnergyProjectVersion

    counted = counted_codes()
    as_of = _aware(ctx.as_of)
    found: list[dict[str, Any]] = []
    with ctx.db.session() as session:
        for row in session.scalars(select(EnergyProject).where(EnergyProject.city == ctx.city)
                                   .order_by(EnergyProject.code)):
            if _aware(row.created_at) > as_of:
                continue
            state: dict[str, Any] = {"technology": row.technology, "region_code": row.region_code,
                                     "capacity_mw": row.capacity_mw, "grid_connected_on": row.grid_connected_on,
                                     "status": row.status, "version": row.version}
            if _aware(row.updated_at) > as_of:
                versions = session.scalars(select(EnergyProjectVersion)
                                           .where(EnergyProjectVersion.project_id == row.id)
                                           .order_by(EnergyProjectVersion.version.desc())).all()
                earlier = [v for v in versions if _aware(v.saved_at) <= as_of]
                if not earlier:
                    continue
                snap = earlier[0].snapshot or {}
                state = {key: snap.get(key, state[key]) for key in state} | {"version": earlier[0].version}
            connected = _as_date(state["grid_connected_on"])
            if str(state["technology"]) not in counted or connected is None or connected.year != ctx.year:
                continue
            found.append({"code": row.code, "name": row.name, "technology": str(state["technology"]),
                          "region_code": str(state["region_code"]), "capacity_mw": float(state["capacity_mw"] or 0),
                          "grid_connected_on": connected.isoformat(), "status": str(state["status"]),
                          "document": row.document, "version": state["version"]})
    return found


# -- department scheme -----------------------------------------------------------------------------------------

@collector("led_targets_level_score")
def led_targets_facts(ctx: FactContext) -> dict[str, dict[str, Fact]]:
    """Mean warning-level score of the plan targets each department leads: a target is led by the lead units of
    the measures (``gov_measures`` valid at ``ctx.as_of``) of the tasks that move its indicator (the plan's
    ``Task.indicators``)."""
    units = [u for u in ctx.units if u.kind == "department"]
    if not units:
        return {}
    leads = ctx.memoized("tracking.target_leads", lambda: _track_target_leads(ctx))
    status = ctx.memoized("tracking.city_status", lambda: _track_city_status(ctx))
    rows = {row["id"]: row for row in status.get("targets", [])}
    out: dict[str, dict[str, Fact]] = {}
    for unit in units:
        led = sorted(t for t, who in leads.items() if unit.code in who)
        if not led:
            out[unit.code] = {"led_targets_level_score": Fact(
                None, applicable=False, note_zh="该部门未牵头工作方案主要目标",
                note_en="the department leads no target of the plan")}
            continue
        evidence: list[dict[str, Any]] = []
        scores: list[float] = []
        for target_id in led:
            row = rows.get(target_id, {})
            level = row.get("level")
            score = LEVEL_SCORES.get(int(level)) if level is not None else None
            evidence.append({"kind": "figure", "series": "warning_level", "target": target_id, "year": ctx.year,
                             "value": level, "colour": row.get("colour"), "score": score,
                             "tasks": sorted(leads[target_id][unit.code]), "ledger_version": ctx.ledger_version,
                             "source": "gov_measures (lead) × plan Task.indicators"})
            if score is not None:
                scores.append(score)
        if not scores:
            out[unit.code] = {"led_targets_level_score": Fact(
                None, evidence=tuple(evidence), note_zh=f"牵头的{len(led)}项目标{ctx.year}年均未评定预警等级",
                note_en=f"none of the {len(led)} led targets is rated for {ctx.year}")}
            continue
        mean = sum(scores) / len(scores)
        out[unit.code] = {"led_targets_level_score": Fact(
            mean, "dimensionless", bool(status.get("estimates")), tuple(evidence),
            f"牵头的{len(led)}项目标中{len(scores)}项已评定预警等级，平均得分率{mean * 100:.0f}%",
            f"{len(scores)} of the {len(led)} led targets rated; mean level score {mean * 100:.0f}%")}
    return out


def _track_target_leads(ctx: FactContext) -> dict[str, dict[str, set[int]]]:
    """Plan target id → lead unit code → the task numbers through which it leads the target."""
    from sqlalchemy import or_, select

    from citycarbon.services.cities import plan_for
    from citycarbon.store.governance_models import GovMeasure

    plan = plan_for(ctx.city, ctx.db)
    by_task: dict[int, set[str]] = {}
    with ctx.db.session() as session:
        for measure in session.scalars(select(GovMeasure).where(
                GovMeasure.city == ctx.city, GovMeasure.active.is_(True), GovMeasure.valid_from <= ctx.as_of,
                or_(GovMeasure.valid_to.is_(None), GovMeasure.valid_to > ctx.as_of))):
            if measure.lead:
                by_task.setdefault(int(measure.task), set()).add(str(measure.lead))
    out: dict[str, dict[str, set[int]]] = {}
    for target in plan.targets:
        for task in plan.tasks:
            if target.indicator in task.indicators:
                for lead in by_task.get(task.number, ()):
                    out.setdefault(target.id, {}).setdefault(lead, set()).add(task.number)
    return out


#: status reports and district accounts per (what, database, city, year, ledger version): the run reads the ledger as
#: of ``ctx.as_of``, which is the moment of ``ctx.ledger_version`` or a later one before any newer revision, so the
#: ledger's content is that version's either way and a re-run (or a run of another scheme) on the same version
#: reuses them (building takes seconds)
_STATUS_CACHE: OrderedDict[tuple[str, str, str, int, str], dict[str, Any]] = OrderedDict()
_STATUS_CACHE_SIZE = 8
_STATUS_LOCK = threading.Lock()


def _ledger_key(ctx: FactContext) -> str:
    """The run's ledger version with the time it was written (an id reused after a rolled-back write differs in
    its time); the moment itself when the version has no revision (an empty ledger)."""
    def read() -> str:
        from citycarbon.errors import InputError
        from citycarbon.store import ledger

        try:
            with ctx.db.session() as session:
                return f"v{ctx.ledger_version}@{ledger.version_time(session, ctx.ledger_version).isoformat()}"
        except InputError:
            return _aware(ctx.as_of).isoformat()

    key: str = ctx.memoized("tracking.ledger_key", read)
    return key


def _track_city_status(ctx: FactContext) -> dict[str, Any]:
    """The city's tracking status report for ``ctx.year`` on the ledger as of ``ctx.as_of``."""
    from citycarbon.services.cities import plan_for
    from citycarbon.services.targets import platform_values
    from citycarbon.services.tracking import build_city_data, status_report
    from citycarbon.store import ledger

    key = ("status", str(getattr(ctx.db, "key", id(ctx.db))), ctx.city, ctx.year, _ledger_key(ctx))
    with _STATUS_LOCK:
        hit = _STATUS_CACHE.get(key)
    if hit is not None:
        return hit
    try:
        with ctx.db.session() as session:
            dataset = ledger.reference_dataset(session, ctx.city, as_of=ctx.as_of)
        data = build_city_data(ctx.city, dataset, None, None)
        # the plan's open targets with the values the office had set by then (services.targets, as of)
        values = platform_values(ctx.city, data.region, ctx.db, as_of=_aware(ctx.as_of))
        data = replace(data, plan=plan_for(ctx.city, ctx.db), target_values=dict(values), memo={})
        report = status_report(ctx.year, city=ctx.city, data=data)
    except InputError:
        return {"targets": [], "estimates": []}
    with _STATUS_LOCK:
        _STATUS_CACHE[key] = report
        while len(_STATUS_CACHE) > _STATUS_CACHE_SIZE:
            _STATUS_CACHE.popitem(last=False)
    return report

"""The budget check of a project and the pipeline view (issue 15 item 4 and the pipeline chart of item 7).

:func:`budget_check` — a project's effect on the dual-control position of the city and of its district in 2025
and 2030 (without and with it: dual-control energy total, energy intensity and its fall against the base year
vs the target, CO2 and CO2 intensity, the warning level), counted from its expected commissioning year.
:func:`pipeline` — every pending and approved project aggregated (count, dual-control tce, CO2) by state group,
district and industry division, against the remaining room of the year.

Inputs resolved here, arithmetic in :mod:`citycarbon.projects.budget`: the tracking series
(:func:`citycarbon.services.tracking.city_data_for`: the ledger's current version when it holds the city's
data, else the shipped files; the faces may pass the app's cached ``data``), the district split
(:func:`citycarbon.tracking.districts.account_districts`), the plan's targets with the values the office
set and the district allocations (as :func:`~citycarbon.services.tracking.status_report` applies them), the
default warning rule set, and the project's figures (the stored ``summary`` of
:func:`citycarbon.services.projects.evaluate.evaluate`, evaluated again when absent or of another method).

Scope (:meth:`~citycarbon.auth.principal.Principal.can_read_project`): a project the caller may not read answers
:class:`NotFound` (as one that does not exist); a viewer, who may read no project's detail, :class:`Forbidden`
for a project that exists (a city-wide viewer may know that it does). The pipeline: the office, analysts,
departments and viewers see the city aggregate; district users their districts' rows (and the room of their
districts); enterprise users are refused (:class:`Forbidden`): the pipeline is the city's planning view, an
enterprise sees its own project's budget check instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import extract, select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.plan import Target
from citycarbon.projects import budget as domain
from citycarbon.services.projects.evaluate import METHOD_VERSION as GATE_METHOD
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.services.tracking import CityData, _allocated, _with_platform_values, city_data
from citycarbon.store import ledger
from citycarbon.store.project_models import ProjProject
from citycarbon.store.projects import project_from_row
from citycarbon.tracking.districts import account_districts, district_codes
from citycarbon.tracking.warning_rules import RuleSet, load_rule_set

__all__ = ["YEARS", "budget_check", "pipeline", "tracking_data"]

#: the years a budget check looks at (the plan's 2025 and 2030 targets)
YEARS: tuple[int, ...] = (2025, 2030)
#: the tracking series behind each column of a budget history frame
SERIES_OF: dict[str, str] = {"energy_tce": "energy_consumption_dual_control_tce", "gdp_10k_yuan": "gdp_10k_yuan",
                             "co2_t": "co2_emissions_t", "co2_energy_t": "co2_energy_t"}

_results: dict[tuple[str, str], Any] = {}
_results_lock = threading.Lock()


# -- inputs ---------------------------------------------------------------------------------------------------

def tracking_data(db: Any, city: str) -> tuple[CityData, dict[str, Any]]:
    """``city``'s tracking data and where they came from: the ledger's current version (cached per version)
    when it holds the city's data, else the shipped files."""
    from citycarbon.services.results import Results

    with db.session() as session:
        version = int(ledger.version(session))
    if version:
        key = (str(db.key), city)
        with _results_lock:
            results = _results.get(key)
            if results is None or results.db is not db:
                results = _results[key] = Results(db, city)
        try:
            return results.city_data(version), {"source": "store", "ledger_version": version}
        except (InputError, KeyError, ValueError):
            pass  # the ledger does not hold this city's data: the shipped files
    return city_data(city), {"source": "files", "ledger_version": None}


def _history(series: dict[str, dict[int, float]]) -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(series.get(name) or {}, dtype=float)
                          for column, name in SERIES_OF.items()})
    frame.index = frame.index.astype(int)
    return frame.sort_index()


def _histories(data: CityData) -> dict[str, pd.DataFrame]:
    """The city's history frame (key: the city's region code) and each district's (decomposed by shares)."""
    memo_key = ("project_budget_histories",)
    found = data.memo.get(memo_key)
    if found is None:
        found = {data.region: _history(data.series)}
        if data.districts is not None:
            # issue 16 (track): imported district statistics where present, the share estimate otherwise
            for code, values in account_districts(data.series, data.districts, data.district_statistics)[0].items():
                found[code] = _history(values)
        data.memo[memo_key] = found
    return dict(found)


def _targets(data: CityData, region: str) -> list[Target]:
    """The targets of ``region`` (the city's with the values set in the platform, or a district's allocation),
    memoised with the data (CityData is built per ledger version, and target values are read with it)."""
    memo_key = ("project_budget_targets", region)
    found = data.memo.get(memo_key)
    if found is None:
        targets = _with_platform_values(data.plan.targets, data.target_values)
        if region != data.region:
            targets = _allocated(targets, data, region) if data.districts is not None else []
        found = data.memo[memo_key] = list(targets)
    return list(found)


def _extended(data: CityData, region: str, year: int, rules: RuleSet) -> pd.DataFrame | None:
    """``region``'s history projected through ``year`` (memoised: the projection does not depend on a project)."""
    last = max(year, *YEARS)
    memo_key = ("project_budget_extended", region, last, rules.window_years, rules.interval)
    found = data.memo.get(memo_key)
    if found is None:
        history = _histories(data).get(region)
        if history is None:
            return None
        found = data.memo[memo_key] = domain.extend(history, last, window=rules.window_years,
                                                    interval=rules.interval)
    return found


def _target(targets: Iterable[Target], indicator: str, year: int) -> Target | None:
    return next((t for t in targets if t.indicator == indicator and t.year == year), None)


def _districts_of(data: CityData) -> dict[str, dict[str, str]]:
    memo_key = ("project_budget_district_codes",)
    found = data.memo.get(memo_key)
    if found is None:
        found = data.memo[memo_key] = district_codes(data.region)
    return dict(found)


def _region_name(data: CityData, region: str) -> tuple[str, str]:
    if region == data.region:
        return data.plan.meta.city, data.plan.meta.city_en or data.plan.meta.city
    names = _districts_of(data).get(region)
    return (names["name_zh"], names["name_en"]) if names else (region, region)


def _may_read_projects(principal: Principal) -> bool:
    return principal.role is not Role.viewer


def _row(db: Any, principal: Principal, city: str, code: str) -> ProjProject:
    if not principal.can_access_city(city):
        raise NotFound("没有该项目 / no such project", code="not_found")
    with db.session() as session:
        row: ProjProject | None = session.scalars(select(ProjProject).where(ProjProject.city == city,
                                                                            ProjProject.code == code)).first()
    if row is None:
        raise NotFound("没有该项目 / no such project", code="not_found")
    if not _may_read_projects(principal):  # a city-wide viewer: the project's existence is not secret to it
        raise Forbidden("无权查看项目详情（可查看项目管线汇总） / viewers see the pipeline's aggregate, not a project",
                        code="forbidden")
    if not principal.can_read_project(row.region_code, row.enterprise_id):
        raise NotFound("没有该项目 / no such project", code="not_found")
    return row


def _figures(city: str, row: ProjProject, db: Any) -> tuple[dict[str, Any], str]:
    """The project's figures: the stored summary when it is of the current method, else evaluated now."""
    summary = row.summary or {}
    if summary.get("method_version") == GATE_METHOD and summary.get("dual_control_tce") is not None:
        return dict(summary), "stored"
    return evaluate(city, project_from_row(row), db=db).summary(), "evaluated"


# -- the budget check -----------------------------------------------------------------------------------------

def _unit_checks(data: CityData, region: str, contribution: domain.Contribution, years: Sequence[int],
                 rules: RuleSet) -> dict[str, Any] | None:
    history = _extended(data, region, max(years), rules)
    if history is None:
        return None
    targets = _targets(data, region)
    base_year = data.plan.meta.base_year
    checks = []
    for year in years:
        energy = _target(targets, "energy_intensity_reduction", year)
        co2 = _target(targets, "co2_intensity_reduction", year)
        found = domain.check_year(history, contribution, year, base_year=base_year, rules=rules,
                                  energy_target=energy, co2_target=co2)
        checks.append({**found.to_dict(), "energy_target_id": energy.id if energy else None,
                       "co2_target_id": co2.id if co2 else None})
    name_zh, name_en = _region_name(data, region)
    return {"region": region, "name_zh": name_zh, "name_en": name_en, "base_year": base_year, "checks": checks}


def _check_years(years: Iterable[int]) -> tuple[int, ...]:
    out = tuple(sorted({int(y) for y in years}))
    bad = [y for y in out if not 2000 <= y <= 2100]
    if not out or bad:
        raise InputError(Problem("years must be calendar years from 2000 to 2100", field="year",
                                 value=bad[0] if bad else None, message_zh="年份须在2000至2100之间"))
    return out


def budget_check(db: Any, principal: Principal, city: str, code: str, *, years: Iterable[int] = YEARS,
                 data: CityData | None = None, source: dict[str, Any] | None = None) -> dict[str, Any]:
    """Project ``code``'s effect on the dual-control position of ``city`` and of the project's district in each
    of ``years`` (JSON-ready; the keys are listed in docs/projects.md, "Budget check"). ``data``/``source``:
    the tracking data and their origin when the caller holds them (the app's cache); default
    :func:`tracking_data`. Raises :class:`NotFound` (no such project, or one the caller may not read),
    :class:`Forbidden` (viewers), :class:`InputError` (a year outside 2000–2100, a bad commissioning date)."""
    wanted = _check_years(years)
    row = _row(db, principal, city, code)
    figures, figures_from = _figures(city, row, db)
    assumptions = domain.load_budget_assumptions()
    commissioning, origin = domain.commissioning_year((row.data or {}).get("commissioning"), row.application_date,
                                                      assumptions.commissioning_lag_years)
    contribution = domain.Contribution(float(figures["dual_control_tce"]), float(figures["co2_t"]), commissioning)
    if data is None:
        data, source = tracking_data(db, city)
    rules = load_rule_set()
    city_part = _unit_checks(data, data.region, contribution, wanted, rules)
    district = _unit_checks(data, row.region_code, contribution, wanted, rules)
    headline_year = wanted[0]
    first = city_part["checks"][0] if city_part else None
    project = project_from_row(row)
    return {
        "project": {"code": row.code, "name": row.name, "state": row.state, "region_code": row.region_code,
                    "industry_code": row.industry_code, "industry_division": project.industry_division},
        "contribution": {
            "dual_control_tce": {"value": contribution.dual_control_tce, "unit": "tce"},
            "co2_t": {"value": contribution.co2_t, "unit": "t"},
            "tce": {"value": figures.get("tce"), "unit": "tce"},
            "feedstock_tce": {"value": figures.get("feedstock_tce"), "unit": "tce"},
            "renewable_electricity_tce": {"value": figures.get("renewable_electricity_tce"), "unit": "tce"},
            "commissioning_year": commissioning,
            "commissioning_origin": origin,
            "commissioning_status": "data" if origin == "data" else assumptions.lag_status,
            "commissioning_note": None if origin == "data" else
            f"application year {row.application_date.year} + {assumptions.commissioning_lag_years} "
            f"({assumptions.lag_source})",
            "full_year_status": assumptions.full_year_status,
        },
        "years": list(wanted),
        "city": city_part,
        "district": district,
        "summary": None if first is None else {
            "year": headline_year, "counted": first["counted"],
            "fall_without": first["without"]["energy_intensity_fall"]["value"],
            "fall_with": first["with"]["energy_intensity_fall"]["value"],
            "fall_change": first["delta"]["energy_intensity_fall"]["value"],
            "target_fall": first["energy_target_fall"]["value"],
            "meets_target_without": first["meets_target_without"], "meets_target_with": first["meets_target_with"],
            "level_without": first["without"]["level"], "level_with": first["with"]["level"],
            "moves_level": first["moves_level"], "unit": "dimensionless"},
        "provenance": {
            "method_version": domain.METHOD_VERSION, "gate_method_version": figures.get("method_version"),
            "figures": figures_from, "figures_year": figures.get("year"), "city": city,
            "tracking": {**(source or {"source": "given", "ledger_version": None}),
                         "actual_years": [min(data.years), max(data.years)],
                         "series": dict(SERIES_OF), "district_split": "tracking.districts.decompose_to_districts"},
            "rule_set": rules.name, "rule_set_document": rules.document, "projection_window": rules.window_years,
            "assumptions": "data/projects/budget.yaml",
            "documents": ["节能审查办法（国家发展改革委令2023年第2号）", "发改环资〔2022〕803号",
                          "发改运行〔2022〕1258号", rules.document],
        },
    }


# -- the pipeline ---------------------------------------------------------------------------------------------

def _room_of(data: CityData, region: str, year: int, rules: RuleSet) -> dict[str, Any] | None:
    """The allowance and the projected consumption of ``region`` in ``year`` (memoised per data version)."""
    memo_key = ("project_budget_room", region, year, rules.name)
    if memo_key in data.memo:
        return dict(data.memo[memo_key])
    frame = _extended(data, region, year, rules)
    if frame is None:
        return None
    base_year = data.plan.meta.base_year
    target = _target(_targets(data, region), "energy_intensity_reduction", year)
    base_intensity = float(frame.at[base_year, "energy_tce"]) / float(frame.at[base_year, "gdp_10k_yuan"])
    found = {"projected_tce": float(frame.at[year, "energy_tce"]),
             "target_fall": target.value if target is not None else None,
             "target_id": target.id if target is not None else None,
             "allowance": domain.allowance(base_intensity, target.value if target is not None else None,
                                           float(frame.at[year, "gdp_10k_yuan"]))}
    data.memo[memo_key] = found
    return dict(found)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def pipeline(db: Any, principal: Principal, city: str, *, year: int = 2025, data: CityData | None = None,
             source: dict[str, Any] | None = None) -> dict[str, Any]:
    """Pending and approved projects of ``city`` aggregated by state group, district and industry division, and
    the room of ``year`` left after the approved and after approved + pending projects counted in it (JSON-
    ready; see docs/projects.md). District users get their districts only; enterprise users :class:`Forbidden`."""
    if not 2000 <= int(year) <= 2100:
        raise InputError(Problem("year must be a calendar year from 2000 to 2100", field="year", value=year,
                                 message_zh="年份须在2000至2100之间"))
    if not principal.can_access_city(city):
        raise NotFound("没有该城市 / no such city", code="not_found")
    if principal.role is Role.enterprise:
        raise Forbidden("项目管线为全市规划视图，企业用户请查看本企业项目的预算测算 / the pipeline is the city's view; "
                        "an enterprise sees its own projects' budget check", code="forbidden")
    regions = sorted(principal.regions) if principal.role is Role.district else None
    states = [s for group in domain.STATE_GROUPS.values() for s in group]
    columns = (ProjProject.code, ProjProject.state, ProjProject.region_code, ProjProject.industry_code,
               extract("year", ProjProject.application_date), ProjProject.summary["dual_control_tce"].as_float(),
               ProjProject.summary["co2_t"].as_float(), ProjProject.summary["method_version"].as_string(),
               ProjProject.data["commissioning"].as_string())
    query = select(*columns).where(ProjProject.city == city, ProjProject.state.in_(states))
    if regions is not None:
        query = query.where(ProjProject.region_code.in_(regions))
    with db.session() as session:
        rows = session.execute(query).all()
        names = ["code", "state", "region_code", "industry", "applied", "dual_control_tce", "co2_t", "method",
                 "commissioning"]
        frame = pd.DataFrame(dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)) if rows else
                             {name: [] for name in names}, columns=names)
        stale = frame["code"][frame["dual_control_tce"].isna() | (frame["method"] != GATE_METHOD)].tolist()
        if stale:  # rows saved without figures (or by another method): evaluated now
            fresh = {row.code: evaluate(city, project_from_row(row), db=db).summary()
                     for row in session.scalars(select(ProjProject).where(ProjProject.city == city,
                                                                          ProjProject.code.in_(stale)))}
            where = frame["code"].isin(list(fresh))
            frame.loc[where, "dual_control_tce"] = [fresh[c]["dual_control_tce"] for c in frame["code"][where]]
            frame.loc[where, "co2_t"] = [fresh[c]["co2_t"] for c in frame["code"][where]]
    lag = domain.load_budget_assumptions().commissioning_lag_years
    # the commissioning year: data.commissioning's first four digits (a year or a date), else applied + lag
    given = pd.to_numeric(frame["commissioning"].astype("string").str.slice(0, 4), errors="coerce")
    frame["commissioning_year"] = given.fillna(pd.to_numeric(frame["applied"]) + lag).astype(int)
    frame["division"] = frame["industry"].astype("string").str.strip().str.upper().str.slice(0, 3)
    frame[["dual_control_tce", "co2_t"]] = frame[["dual_control_tce", "co2_t"]].astype(float).fillna(0.0)
    parts = domain.aggregate_pipeline(frame, int(year))
    if data is None:
        data, source = tracking_data(db, city)
    rules = load_rule_set()
    totals = {g: dict(zip(parts["groups"].columns, r, strict=True))
              for g, r in zip(parts["groups"]["group"], parts["groups"].itertuples(index=False), strict=True)}

    def total(group: str, column: str = "tce_counted", of: dict[str, dict[str, Any]] = totals) -> float:
        return float(of.get(group, {}).get(column, 0.0))

    scope = "districts" if regions is not None else "city"
    city_room = None
    if regions is None:
        base = _room_of(data, data.region, int(year), rules)
        if base is not None:
            city_room = {**base, **domain.room(base["allowance"], base["projected_tce"],
                                               total("approved"), total("pending"))}
    by_region: dict[str, dict[str, dict[str, Any]]] = {}
    for record in parts["regions"].to_dict(orient="records"):
        by_region.setdefault(str(record["region_code"]), {})[str(record["group"])] = record
    shown = regions if regions is not None else sorted(set(_districts_of(data)) | set(by_region))
    region_rows = []
    for code in shown:
        mine = by_region.get(code, {})
        base = _room_of(data, code, int(year), rules)
        name_zh, name_en = _region_name(data, code)
        approved, pending = total("approved", of=mine), total("pending", of=mine)
        region_rows.append({
            "region": code, "name_zh": name_zh, "name_en": name_en,
            "approved_count": int(total("approved", "count", mine)),
            "pending_count": int(total("pending", "count", mine)),
            "approved_tce": approved, "pending_tce": pending,
            "approved_tce_all": total("approved", "dual_control_tce", mine),
            "pending_tce_all": total("pending", "dual_control_tce", mine),
            "approved_co2_t": total("approved", "co2_counted", mine),
            "pending_co2_t": total("pending", "co2_counted", mine),
            "room": None if base is None else {**base, **domain.room(base["allowance"], base["projected_tce"],
                                                                   approved, pending)}})
    fresh_count = len(stale)
    return {
        "year": int(year), "city": city, "scope": scope, "regions_shown": shown,
        "units": {"tce": "tce", "co2": "t", "room": "tce"},
        "groups": _records(parts["groups"]), "divisions": _records(parts["divisions"]),
        "regions": region_rows, "room": city_room,
        "totals": {"projects": len(frame),
                   "approved_tce": total("approved"), "pending_tce": total("pending"),
                   "approved_tce_all": total("approved", "dual_control_tce"),
                   "pending_tce_all": total("pending", "dual_control_tce")},
        "state_groups": {k: list(v) for k, v in domain.STATE_GROUPS.items()},
        "provenance": {"method_version": domain.METHOD_VERSION, "gate_method_version": GATE_METHOD,
                       "evaluated_now": fresh_count, "tracking": {**(source or {"source": "given"}),
                                                                 "actual_years": [min(data.years), max(data.years)]},
                       "rule_set": rules.name, "commissioning_lag_years": lag,
                       "assumptions": "data/projects/budget.yaml"},
    }

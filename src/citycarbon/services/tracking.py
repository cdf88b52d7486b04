"""Tracking as a service: the plan's targets against the city's actuals, nowcasts and districts → status JSON.

Inputs: the plan (:func:`citycarbon.plan.load_plan`), accounting indicators
(:func:`citycarbon.services.accounting.account_city_years`), wind + solar capacity from the reference
dataset, forest actuals and projections (:func:`citycarbon.sinks.forest_indicators`), net CO2 after sinks
(:func:`citycarbon.sinks.account_sinks`), ``data/<city>/monthly.csv`` and ``data/<city>/districts.csv``.
The domain work is in :mod:`citycarbon.tracking`; this module only gathers series and assembles the report.

:func:`city_data_for` reads the city's data from the one source rule of :mod:`citycarbon.services.sources`
(the ledger when a database exists, else the shipped files; ``source=`` chooses); :func:`city_data` is the
shipped files (cached per process); :func:`build_city_data` takes a :class:`~citycarbon.datasets.ReferenceDataset`
and the monthly/district frames from anywhere (the API caches the result per ledger version) and
:func:`status_report` accepts it as ``data=``.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from citycarbon.codelists import nearest
from citycarbon.datasets import ReferenceDataset
from citycarbon.errors import InputError, Problem
from citycarbon.plan import Plan, Target, load_plan
from citycarbon.services.sources import Source, city_inputs, resolve_source
from citycarbon.tracking.districts import (
    account_districts,
    check_districts,
    district_codes,
    district_targets,
)
from citycarbon.tracking.nowcast import backtest_nowcast, backtest_summary, check_monthly, nowcast_year
from citycarbon.tracking.peak import (
    BASES,
    CO2_SERIES,
    NEUTRALITY_INDICATORS,
    check_basis_rule,
    judge_peak,
    load_peak_rule,
    neutrality_key,
    peak_key,
    worse_basis,
)
from citycarbon.tracking.progress import TargetInfo, describe_target, track_target
from citycarbon.tracking.projection import Projection
from citycarbon.tracking.warning_rules import RuleSet, load_rule_set
from citycarbon.units import UnitError, conversion_factor

ACCOUNTING_SERIES: tuple[str, ...] = (
    "energy_consumption_tce", "energy_consumption_dual_control_tce", "co2_emissions_t", "co2_energy_t",
    "non_fossil_share", "coal_share", "energy_intensity_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan",
    "electricity_consumption_kwh", "gdp_10k_yuan")
WIND_SOLAR_PREFIXES: tuple[str, ...] = ("wind_", "solar_")
FOREST_VARIABLES: dict[str, str] = {"forest_coverage": "forest_coverage", "forest_stock": "forest_stock_m3"}


@dataclass(frozen=True)
class CityData:
    """Everything tracking needs of a city, loaded once (the shipped files do not change at run time)."""

    city: str
    region: str
    plan: Plan
    series: dict[str, dict[int, float]]
    units: dict[str, str]
    years: tuple[int, ...]
    monthly: pd.DataFrame | None
    districts: pd.DataFrame | None
    forest: pd.DataFrame
    estimates: tuple[str, ...]
    #: CO2 series on each basis (basis → indicator → year → value); ``series`` holds the profile's basis
    bases: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict, compare=False, repr=False)
    #: the accounting profile's CO2 basis (``electricity_co2_basis``) and its peak rule (``peak_rule_basis``)
    basis: str = "net_inflow"
    basis_rule: str = "worse"
    #: origin of each input table's rows per year: (table, year) → {"origin", "statuses", "sources"}
    origins: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    #: derived values computed on demand (forest projections, nowcast back-tests), per CityData object
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)
    #: target values set in the platform (target id → services.targets.SetValue) and district allocations
    #: (district → target id → SetValue), read with the ledger (empty for the shipped files)
    target_values: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    allocations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    #: series current beyond the statistical years (platform: wind + solar extended by the energy-project
    #: registry, services.projects.energy_projects): indicator → the latest year it is current to
    current: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    #: issue 16 (track): imported district statistics (``district_statistics``, with ``batch_id``); they replace
    #: the share estimates figure by figure (:func:`citycarbon.tracking.districts.account_districts`)
    district_statistics: pd.DataFrame | None = field(default=None, compare=False, repr=False)


@cache
def city_data(city: str = "dalian") -> CityData:
    """Series of every tracked indicator for ``city`` from the shipped files (cached per process)."""
    from citycarbon.services.sources import shipped_inputs

    inputs = shipped_inputs(city)
    return build_city_data(city, inputs.dataset, inputs.monthly, inputs.districts)


#: CityData built from the ledger, kept per (database, city, ledger version); a new version replaces old ones
STORE_MEMORY = 4
_store_data: OrderedDict[tuple[str, str, int, int], CityData] = OrderedDict()
_store_lock = threading.Lock()


def city_data_for(city: str = "dalian", source: str | Source | None = None) -> CityData:
    """``city``'s series from ``source`` (:func:`citycarbon.services.sources.resolve_source`: the ledger when a
    database exists, the shipped files otherwise). Ledger data are built once per ledger version."""
    if resolve_source(source) is Source.files:
        return city_data(city)
    from citycarbon.services.projects.energy_projects import platform_registry_version

    inputs = city_inputs(city, Source.store)
    key = (*inputs.key, platform_registry_version())  # a registry write changes the wind + solar series
    with _store_lock:
        hit = _store_data.get(key)
    if hit is not None:
        return hit
    data = build_city_data(city, inputs.dataset, inputs.monthly, inputs.districts, platform=True,
                           district_statistics=inputs.district_statistics)
    with _store_lock:
        _store_data[key] = data
        while len(_store_data) > STORE_MEMORY:
            _store_data.popitem(last=False)
    return data


def build_city_data(city: str, dataset: ReferenceDataset, monthly: pd.DataFrame | None = None,
                    districts: pd.DataFrame | None = None, *, platform: bool = False,
                    db: Any = None, district_statistics: pd.DataFrame | None = None) -> CityData:
    """Series of every tracked indicator for ``city`` (year → value, in ``units``) from ``dataset`` and the
    raw monthly/district tables (validated here like ``monthly.csv``/``districts.csv``; None = not available).

    Not cached: callers cache per input version. Raises :class:`InputError` for bad monthly/district rows.
    ``platform``: also read the target values and allocations set in the platform (``db``, default: the
    configured database; :mod:`citycarbon.services.targets`); the plan of a city created with ``city init``
    comes from the store."""
    from citycarbon.services.accounting import account_city_years
    from citycarbon.services.cities import plan_for
    from citycarbon.sinks import account_sinks

    plan = plan_for(city, db) if platform else load_plan(city)
    results = account_city_years(None, city=city, dataset=dataset)
    series: dict[str, dict[int, float]] = {name: {} for name in ACCOUNTING_SERIES}
    units: dict[str, str] = {}
    for year, result in results.items():
        for name in ACCOUNTING_SERIES:
            value = result.indicators.get(name)
            if value is not None and not math.isnan(float(value)):
                series[name][int(year)] = float(value)
                units[name] = result.units.get(name, "")
    capacity = dataset.capacity
    wind_solar = capacity[capacity["technology"].astype(str).str.startswith(WIND_SOLAR_PREFIXES)]
    by_year = wind_solar.groupby("year")["capacity"].sum()
    series["wind_solar_capacity_mw"] = {int(y): float(v) for y, v in by_year.items()}
    units["wind_solar_capacity_mw"] = str(wind_solar["unit"].iloc[0]) if not wind_solar.empty else "MW"
    current: dict[str, int] = {}
    if platform:  # the energy-project registry's connections after the statistics (docs/tracking.md)
        from citycarbon.services.projects.energy_projects import platform_wind_solar

        extended = platform_wind_solar(city, series["wind_solar_capacity_mw"], db)
        if extended != series["wind_solar_capacity_mw"]:
            series["wind_solar_capacity_mw"] = extended
            current["wind_solar_capacity_mw"] = max(extended)
    forest = dataset.forest
    for variable, name in FOREST_VARIABLES.items():
        rows = forest[forest["variable"] == variable]
        series[name] = {int(r.year): float(r.value) for r in rows.itertuples()}
        units[name] = str(rows["unit"].iloc[0]) if not rows.empty else "dimensionless"
    sinks, net = {}, {}
    for year in sorted(series["co2_emissions_t"]):
        try:
            account = account_sinks(dataset.forest, dataset.wetland, year)
        except InputError:
            continue
        sinks[year] = account.total_sink_tco2
        net[year] = series["co2_emissions_t"][year] - account.total_sink_tco2
    series["sink_co2_t"], series["net_co2_emissions_t"] = sinks, net
    units["sink_co2_t"] = units["net_co2_emissions_t"] = "t"
    if monthly is not None:
        monthly = check_monthly(monthly, "monthly.csv")
    if districts is not None:
        districts = check_districts(districts, plan.meta.region_code,
                                    "districts.csv")
    estimates = tuple(f"{name}: {share:.0%} of rows are estimates" for name in ("balance", "statistics", "capacity",
                      "forest") if (share := dataset.estimated_share(name)) > 0)
    if monthly is not None:
        estimates += ("monthly.csv: estimates (tools/estimate_monthly.py)",)
    if districts is not None:
        estimates += ("districts.csv: district shares and allocations are estimates",)
    values: dict[str, Any] = {}
    allocations: dict[str, dict[str, Any]] = {}
    if platform:
        from citycarbon.services.targets import platform_allocations, platform_values

        values = dict(platform_values(city, plan.meta.region_code, db))
        allocations = platform_allocations(city, plan.meta.region_code, db)
    basis, basis_rule, bases = _co2_bases(city, dataset, series, sinks)
    return CityData(city, plan.meta.region_code, plan, series, units, tuple(sorted(results)), monthly, districts,
                    dataset.forest, estimates, bases=bases, basis=basis, basis_rule=basis_rule,
                    origins=_origins(dataset), target_values=values, allocations=allocations, current=current,
                    district_statistics=district_statistics)
# -- CO2 on both bases and figure origins ---------------------------------------------------------------------

def _co2_bases(city: str, dataset: ReferenceDataset, series: dict[str, dict[int, float]],
               sinks: dict[int, float]) -> tuple[str, str, dict[str, dict[str, dict[int, float]]]]:
    """The profile's basis and peak rule, and the CO2 series on both bases (the other basis accounted here
    through the accounting service's inputs with only ``electricity_co2_basis`` changed)."""
    from citycarbon.accounting import account_years
    from citycarbon.services.accounting import city_options, load_inputs

    options = city_options(city)
    basis = str(options.electricity_co2_basis)
    rule = check_basis_rule(options.peak_rule_basis or "worse")
    bases = {basis: {name: dict(series.get(name, {})) for name in CO2_SERIES}}
    inputs = load_inputs(city, dataset=dataset)
    for other in BASES:
        if other == basis:
            continue
        results = account_years(
            inputs.balance, None, statistics=inputs.statistics, process_activity=inputs.process_activity,
            options=options.model_copy(update={"electricity_co2_basis": other}), inputs=inputs.hashes,
            estimates=list(inputs.estimates), source=inputs.balance_source,
            statistics_source=inputs.statistics_source)
        found: dict[str, dict[int, float]] = {name: {} for name in CO2_SERIES}
        for year, result in results.items():
            for name in CO2_SERIES:
                value = result.indicators.get(name)
                if value is not None and not math.isnan(float(value)):
                    found[name][int(year)] = float(value)
        found["net_co2_emissions_t"] = {y: v - sinks[y] for y, v in found["co2_emissions_t"].items() if y in sinks}
        bases[other] = found
    return basis, rule, bases


#: worst first: a figure is as good as the worst row it is computed from
ORIGIN_OF_STATUS: dict[str, str] = {"estimate": "estimated", "unverified": "reported", "secondary": "reported",
                                    "official": "official"}
ORIGIN_ORDER: tuple[str, ...] = ("estimated", "reported", "official")
#: the input tables each tracked series is computed from
TABLES_OF_SERIES: dict[str, tuple[str, ...]] = {
    "wind_solar_capacity_mw": ("capacity",), "forest_coverage": ("forest",), "forest_stock_m3": ("forest",),
    "sink_co2_t": ("forest", "wetland"), "net_co2_emissions_t": ("balance", "forest", "wetland"),
    "energy_intensity_tce_per_10k_yuan": ("balance", "statistics"),
    "co2_intensity_t_per_10k_yuan": ("balance", "statistics"), "gdp_10k_yuan": ("statistics",)}


def _origins(dataset: ReferenceDataset) -> dict[tuple[str, int], dict[str, Any]]:
    """Per input table and year: the statuses and sources of its rows (ledger rows carry both, e.g.
    ``import batch 12: file.csv``) and the figure origin (the worst status: estimated, reported, official)."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for table in ("balance", "statistics", "capacity", "forest", "wetland"):
        frame = getattr(dataset, table, None)
        if frame is None or frame.empty or "year" not in frame.columns or "status" not in frame.columns:
            continue
        sources = frame["source"].astype(str) if "source" in frame.columns else None
        for year, rows in frame.groupby("year"):
            statuses = sorted(set(rows["status"].astype(str)))
            origin = min((ORIGIN_OF_STATUS.get(s, "estimated") for s in statuses), key=ORIGIN_ORDER.index)
            names = sorted(set(sources.loc[rows.index])) if sources is not None else []
            out[(table, int(str(year)))] = {"origin": origin, "statuses": statuses, "sources": names}
    return out


def figure_origin(data: CityData, series: str, year: int | None) -> dict[str, Any] | None:
    """Whether the figure of ``series`` in ``year`` is official, reported or estimated, and from which
    batches/sources (the worst of its input tables' rows of that year); None when unknown."""
    if year is None:
        return None
    tables = TABLES_OF_SERIES.get(series, ("balance",))
    found = [data.origins[(t, year)] for t in tables if (t, year) in data.origins]
    if not found:
        return None
    origin = min((f["origin"] for f in found), key=ORIGIN_ORDER.index)
    sources = sorted({s for f in found for s in f["sources"]})
    statuses = sorted({s for f in found for s in f["statuses"]})
    return {"origin": origin, "year": year, "tables": list(tables), "statuses": statuses, "sources": sources}


def _forest_projection(data: CityData, year: int) -> dict[int, Any]:
    """The forest projections of ``year``'s data by horizon year (empty when the forest data cannot project)."""
    from citycarbon.sinks import forest_indicators

    key = ("forest_projection", year)
    if key not in data.memo:
        try:
            data.memo[key] = forest_indicators(data.forest, year)["projection"]
        except InputError:
            data.memo[key] = {}
    found: dict[int, Any] = data.memo[key]
    return found


def nowcast_backtest(city: str | CityData, month: int, source: str | Source | None = None) -> dict[str, Any]:
    """Back-test of the nowcast through ``month`` on every past year of ``city`` (errors per indicator);
    ``city`` is a city's name (read from ``source``, :func:`city_data_for`) or a :class:`CityData` (memoised
    on it)."""
    data = city_data_for(city, source) if isinstance(city, str) else city
    key = ("backtest", month)
    if key not in data.memo:
        if data.monthly is None:
            data.memo[key] = {}
        else:
            frame = backtest_nowcast(data.series, data.monthly, month)
            data.memo[key] = {"month": month, "summary": backtest_summary(frame),
                              "rows": frame.to_dict(orient="records")}
    found: dict[str, Any] = data.memo[key]
    return found


# -- target overrides ------------------------------------------------------------------------------------

def _override_value(raw: object, where: str, file: str, problems: list[Problem]) -> float | None:
    if isinstance(raw, bool):
        problems.append(Problem("a target value must be a number", file=file, field=where, value=raw))
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            return float(raw.strip()[:-1]) / 100
        except ValueError:
            pass
    problems.append(Problem("a target value must be a number (a share as 0.145 or '14.5%')", file=file,
                            field=where, value=raw))
    return None


def apply_target_overrides(plan: Plan, targets_file: str | Path) -> list[Target]:
    """The plan's targets with values from ``targets_file`` (YAML: target id → value, or → {value, base_year}).

    Raises :class:`InputError` naming the file, the target id and the nearest valid id for unknown ids,
    non-numeric values, or a missing file.
    """
    path = Path(targets_file)
    file = path.name
    if not path.exists():
        raise InputError(Problem("targets file not found", file=str(path)))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InputError(Problem(f"not valid YAML: {error}", file=file)) from error
    if not isinstance(raw, dict) or not raw:
        raise InputError(Problem("expected a mapping of target id → value", file=file))
    known = {t.id: t for t in plan.targets}
    problems: list[Problem] = []
    updates: dict[str, dict[str, Any]] = {}
    for key, entry in raw.items():
        target_id = str(key)
        if target_id not in known:
            problems.append(Problem(f"unknown target {target_id!r}", file=file, field=target_id, value=target_id,
                                    suggestion=nearest(target_id, list(known))))
            continue
        update: dict[str, Any] = {}
        if isinstance(entry, dict):
            extra = [k for k in entry if k not in ("value", "base_year")]
            if extra or "value" not in entry:
                problems.append(Problem("use {value: number, base_year: year}", file=file, field=target_id,
                                        value=entry, suggestion="value"))
                continue
            if "base_year" in entry:
                base = entry["base_year"]
                if not isinstance(base, int) or base >= known[target_id].year:
                    problems.append(Problem("base_year must be a year before the target year", file=file,
                                            field=f"{target_id}.base_year", value=base))
                    continue
                update["base_year"] = base
            entry = entry["value"]
        value = _override_value(entry, target_id, file, problems)
        if value is None:
            continue
        update["value"] = value
        update["parameter"] = known[target_id].parameter
        updates[target_id] = update
    if problems:
        raise InputError(problems)
    return [t.model_copy(update=updates[t.id]) if t.id in updates else t for t in plan.targets]


# -- assembling the report -----------------------------------------------------------------------------------

def _history(data: CityData, series: dict[str, dict[int, float]], name: str, target: Target,
             converted: bool) -> dict[int, float]:
    values = series.get(name) or {}
    unit = data.units.get(name)
    if not converted or not unit or unit == target.unit or not values:
        return dict(values)
    try:
        factor = conversion_factor(unit, target.unit)
    except UnitError as error:
        raise InputError(Problem(f"target unit {target.unit!r} does not fit the series unit {unit!r}",
                                 field=target.id, value=target.unit)) from error
    return {y: v * factor for y, v in values.items()}


def _external_projection(data: CityData, target: Target, year: int) -> Projection | None:
    if target.indicator not in ("forest_coverage", "forest_stock_m3") or target.year <= year:
        return None
    projection = _forest_projection(data, year).get(target.year, {}).get(target.indicator)
    if not projection:
        return None
    factor = 1.0 if projection.get("unit") in (None, "1", target.unit) else conversion_factor(
        "dimensionless" if projection["unit"] == "1" else projection["unit"], target.unit)
    return Projection(target.year, projection["value"] * factor, projection["low"] * factor,
                      projection["high"] * factor, "sinks.forest_indicators",
                      "forest growth model calibrated to the observed stock path (citycarbon.sinks)")


def _track_all(data: CityData, targets: list[Target], series: dict[str, dict[int, float]], year: int,
               rules: RuleSet, *, external: bool,
               bases: dict[str, dict[str, dict[int, float]]] | None = None) -> list[dict[str, Any]]:
    rows = []
    for target in targets:
        info = describe_target(target, data.plan.meta.base_year)
        converted = info.kind not in ("reduction", "year")
        history = _history(data, series, info.series, target, converted)
        projection = _external_projection(data, target, year) if external else None
        # a series current beyond the statistics (wind + solar with the registry) is tracked at its latest year
        # when the report is of the latest statistical year or later
        latest = data.current.get(info.series) if external and data.years else None
        at = latest if latest is not None and latest > year >= max(data.years) else year
        row = track_target(info, history, at, rules, projection=projection).to_dict()
        if bases is not None and info.series in CO2_SERIES:
            row = _with_bases(data, info, row, bases, year, rules)
        if bases is not None:
            row["origin"] = figure_origin(data, info.series, row.get("actual_year") if info.kind != "year"
                                          else _latest(history, year))
        rows.append(row)
    return rows


def _latest(history: dict[int, float], year: int) -> int | None:
    years = [y for y in history if y <= year]
    return max(years) if years else None


#: what each basis entry of a CO2 target carries (besides the peak judgement of a peak target)
BASIS_KEYS: tuple[str, ...] = ("actual_year", "actual", "previous", "base_value", "progress_share", "projection",
                               "projected_met", "met", "level", "level_name_zh", "level_name_en", "colour",
                               "reason", "reason_en")


def _with_bases(data: CityData, info: TargetInfo, row: dict[str, Any],
                bases: dict[str, dict[str, dict[int, float]]], year: int, rules: RuleSet) -> dict[str, Any]:
    """``row`` with ``bases`` (the target tracked on each CO2 basis); a peak or neutrality target is rated on
    the deciding basis (:func:`citycarbon.tracking.peak.worse_basis` under the profile's rule)."""
    target = info.target
    converted = info.kind not in ("reduction", "year")
    full: dict[str, dict[str, Any]] = {}
    bases_out: dict[str, dict[str, Any]] = {}
    keys: dict[str, tuple[float, ...]] = {}
    peak_rule = load_peak_rule()
    for basis in BASES:
        if basis not in bases:
            continue
        history = _history(data, bases[basis], info.series, target, converted)
        status = track_target(info, history, year, rules).to_dict() if basis != data.basis else row
        entry = {k: status.get(k) for k in BASIS_KEYS}
        if info.kind == "year":
            entry["peak"] = judge_peak(history, peak_rule, basis=basis, upto=year).to_dict()
            entry["projected_peak_year"] = status.get("projected_peak_year")
            keys[basis] = peak_key(status.get("level"), status.get("projected_peak_year"),
                                   status.get("peak_year_so_far"))
        elif target.indicator in NEUTRALITY_INDICATORS:
            entry["neutrality"] = status.get("neutrality")
            keys[basis] = neutrality_key(status.get("level"), (status.get("projection") or {}).get("value"))
        full[basis] = status
        bases_out[basis] = entry
    if keys:
        deciding = worse_basis(keys, data.basis_rule) or data.basis
        out = {**full[deciding], "bases": bases_out, "deciding_basis": deciding, "basis_rule": data.basis_rule,
               **basis_note(deciding, data.basis_rule)}
        if info.kind == "year":
            out["peak_rule"] = {"plateau_margin": peak_rule.plateau_margin, "trend_years": peak_rule.trend_years,
                                "source": peak_rule.source, "status": peak_rule.status}
        return out
    return {**row, "bases": bases_out, "basis": data.basis}


def _level_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"1": 0, "2": 0, "3": 0, "unrated": 0}
    for row in rows:
        counts[str(row["level"]) if row["level"] is not None else "unrated"] += 1
    return counts


def status_report(year: int, *, month: int | None = None, region: str | None = None, city: str = "dalian",
                  targets_file: str | Path | None = None, rule_set: str | None = None,
                  data: CityData | None = None, source: str | Source | None = None) -> dict[str, Any]:
    """Progress and warning level of every plan target in ``year`` (JSON-ready; see docs/tracking.md).

    ``month``: nowcast ``year`` from monthly data through that month and rate the nowcast. ``region``: a
    district/county code (GB/T 2260) to report that district's allocated targets; the city code or None
    gives the city with every district summarised. ``targets_file`` fills unset target values.
    ``data``: the city's series from :func:`build_city_data` (e.g. the API's cache of the ledger); default:
    :func:`city_data_for` ``(city, source)`` (the ledger when a database exists, the shipped files otherwise).
    Raises :class:`InputError` for an unknown region, a month outside 1–12, a year without data, or a bad
    targets file.
    """
    if data is None:
        data = city_data_for(city, source)
    rules = load_rule_set(rule_set)
    targets = _with_platform_values(data.plan.targets, data.target_values)
    if targets_file is not None:  # an explicit what-if on top of the platform's values
        targets = apply_target_overrides(data.plan.model_copy(update={"targets": targets}), targets_file)
    first = min(data.years)
    if year < first + 1 or (month is None and year > max(data.years) + 5):
        raise InputError(Problem(f"no data to track {year}: the dataset covers {first}–{max(data.years)}",
                                 field="year", value=year, suggestion=str(max(data.years))))
    # a report is computed once per data version (CityData is built per ledger version) and target values
    memo_key = ("status", year, month, region, rules.name, _targets_key(targets),
                str(targets_file) if targets_file is not None else None)
    if memo_key in data.memo:
        remembered: dict[str, Any] = copy.deepcopy(data.memo[memo_key])
        return remembered
    series = data.series
    nowcast = None
    if month is not None:
        if not 1 <= month <= 12:
            raise InputError(Problem("month must be 1 to 12", field="month", value=month))
        if data.monthly is None:
            raise InputError(Problem(f"no monthly data for {city}", field="month", value=month))
        estimates = nowcast_year(data.series, data.monthly, year, month, interval=rules.interval)
        series = {name: {y: v for y, v in values.items() if y < year} for name, values in data.series.items()}
        for name, estimate in estimates.items():
            series.setdefault(name, {})[year] = estimate.value
        for name in ("non_fossil_share", "coal_share", "wind_solar_capacity_mw", "forest_coverage",
                     "forest_stock_m3", "sink_co2_t", "net_co2_emissions_t"):
            series[name] = {y: v for y, v in data.series.get(name, {}).items() if y < year}
        backtest = nowcast_backtest(data, month)
        nowcast = {"month": month, "indicators": {n: e.to_dict() for n, e in estimates.items()},
                   "actual_known": year in data.years, "backtest": backtest.get("summary", {})}

    codes = district_codes(data.region)
    report: dict[str, Any] = {"year": year, "city": city, "city_name_zh": data.plan.meta.city, "month": month,
                    "rule_set": rules.name, "rule_set_document": rules.document, "pace": rules.pace}
    if region is not None and str(region) != data.region:
        if str(region) not in codes:
            raise InputError(Problem(f"unknown region {region!r} for {city}", field="region", value=region,
                                     suggestion=nearest(str(region), [data.region, *codes])))
        if data.districts is None and data.district_statistics is None:
            raise InputError(Problem(f"no district data for {city}", field="region", value=region))
        district_series = account_districts(series, data.districts, data.district_statistics)[0].get(str(region), {})
        rows = _track_all(data, _allocated(targets, data, str(region)), district_series, year,
                          rules, external=False)
        report.update({"region": str(region), "region_name_zh": codes[str(region)]["name_zh"],
                       "region_name_en": codes[str(region)]["name_en"], "targets": rows,
                       "summary": _level_counts(rows)})
    else:
        bases = _bases_for(data, series, year, month)
        rows = _track_all(data, targets, series, year, rules, external=month is None, bases=bases)
        report.update(co2_report(data, bases, rows, year))
        report.update({"region": data.region, "region_name_zh": data.plan.meta.city, "targets": rows,
                       "summary": _level_counts(rows), "districts": _districts(data, targets, series, year, rules)})
    report["nowcast"] = nowcast
    report["estimates"] = list(data.estimates)
    _describe_values(report, data, targets_file)
    data.memo[memo_key] = copy.deepcopy(report)
    return report


# -- target values set in the platform (citycarbon.services.targets) ------------------------------------------

def _with_platform_values(targets: list[Target], values: dict[str, Any]) -> list[Target]:
    """The plan's open targets with the values the office set (in the target's unit)."""
    out = []
    for target in targets:
        found = values.get(target.id)
        if found is not None and (target.value is None or target.parameter):
            target = target.model_copy(update={"value": found.value_in_target_unit})
        out.append(target)
    return out


def _allocated(targets: list[Target], data: CityData, region: str) -> list[Target]:
    """District ``region``'s targets: ``districts.csv``'s factors, replaced by allocations set in the platform."""
    allocated = district_targets(targets, data.districts, region) if data.districts is not None else []
    set_here = data.allocations.get(region, {})
    if not set_here:
        return allocated
    have = {t.id for t in allocated}
    out = [t.model_copy(update={"value": set_here[t.id].value_in_target_unit}) if t.id in set_here else t
           for t in allocated]
    out += [t.model_copy(update={"value": set_here[t.id].value_in_target_unit}) for t in targets
            if t.id in set_here and t.id not in have]
    return out


def _describe_values(report: dict[str, Any], data: CityData, targets_file: str | Path | None) -> None:
    """Each row's ``value_source``: the plan, the platform (who set it, document, date), the what-if file or
    nobody yet (待省政府下达)."""
    from citycarbon.services.targets import PENDING_EN, PENDING_ZH

    overridden: set[str] = set()
    if targets_file is not None:
        raw = yaml.safe_load(Path(targets_file).read_text(encoding="utf-8")) or {}
        overridden = {str(k) for k in raw}
    region = report.get("region")
    for row in report.get("targets", []):
        found = data.allocations.get(str(region), {}).get(row["id"]) if region != data.region else \
            data.target_values.get(row["id"])
        if row["id"] in overridden:
            row["value_source"] = {"origin": "override", "file": Path(targets_file or "").name}
        elif found is not None and row.get("target_value") is not None:
            row["value_source"] = {"origin": "set", "document": found.document, "document_date": found.document_date,
                                   "note": found.note, "set_by": found.recorded_by, "set_at": found.recorded_at,
                                   "value": found.value, "unit": found.unit, "status": found.status}
        elif row.get("target_value") is None:
            row["value_source"] = {"origin": "pending", "label_zh": PENDING_ZH, "label_en": PENDING_EN}
        else:
            row["value_source"] = {"origin": "plan"}




def _targets_key(targets: list[Target]) -> tuple[tuple[Any, ...], ...]:
    return tuple((t.id, t.value, t.year, t.base_year, t.comparison.value, t.unit) for t in targets)


BASIS_NAMES: dict[str, tuple[str, str]] = {"net_inflow": ("净调入口径（省级规则）", "net-inflow (provincial) basis"),
                                          "consumption": ("消费口径", "consumption basis")}


def basis_note(basis: str, rule: str) -> dict[str, str]:
    """Which basis decided a peak or neutrality rating, in Chinese and English (JSON; the web uses its
    catalogs)."""
    zh, en = BASIS_NAMES[basis]
    if rule == "worse":
        return {"basis_note_zh": f"按{zh}判定（两种口径中较差者）",
                "basis_note_en": f"rated on the {en} (the worse of the two)"}
    return {"basis_note_zh": f"按{zh}判定（核算配置指定）",
            "basis_note_en": f"rated on the {en} (set in the accounting profile)"}


def _bases_for(data: CityData, series: dict[str, dict[int, float]], year: int,
               month: int | None) -> dict[str, dict[str, dict[int, float]]]:
    """The CO2 series on each basis as tracked in ``year``: the profile's basis is ``series`` (with a nowcast
    of ``year`` when ``month`` is given); the other basis has no nowcast, so it stops at the previous year."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    for basis, values in data.bases.items():
        if basis == data.basis:
            out[basis] = {name: dict(series.get(name, {})) for name in CO2_SERIES}
        else:
            out[basis] = {name: {y: v for y, v in values.get(name, {}).items() if month is None or y < year}
                          for name in CO2_SERIES}
    return out


def co2_report(data: CityData, bases: dict[str, dict[str, dict[int, float]]], rows: list[dict[str, Any]],
               year: int) -> dict[str, Any]:
    """The report's CO2 on both bases side by side (``co2_bases``: basis → indicator → value in ``year``, or
    the latest year before it) and the ``headline``: the peak judgement and the neutrality verdict that every
    page shows (the cockpit, targets, accounting and pathways pages render the same partial)."""
    side: dict[str, dict[str, Any]] = {}
    for basis in BASES:
        values = bases.get(basis, {})
        co2 = values.get("co2_emissions_t", {})
        shown = _latest(co2, year)
        side[basis] = {"year": shown, **{name: values.get(name, {}).get(shown) if shown is not None else None
                                         for name in CO2_SERIES}}
    headline: dict[str, Any] = {"basis": data.basis, "basis_rule": data.basis_rule, "peak": None,
                                "neutrality": None}
    for row in rows:
        if row.get("indicator") == "co2_peak_year" and headline["peak"] is None and "bases" in row:
            deciding = row.get("deciding_basis")
            peak = row["bases"].get(deciding, {}).get("peak") or {}
            headline["peak"] = {
                "target_id": row["id"], "target_year": row.get("target_year"), "deciding_basis": deciding,
                "basis_rule": row.get("basis_rule"), "peak_year": peak.get("peak_year"),
                "projected_peak_year": row.get("projected_peak_year"), "level": row.get("level"),
                "colour": row.get("colour"), "trend": peak.get("trend"),
                "bases": {b: {**(e.get("peak") or {}), "level": e.get("level"),
                              "projected_peak_year": e.get("projected_peak_year")}
                          for b, e in row["bases"].items()}}
        if row.get("indicator") in NEUTRALITY_INDICATORS and headline["neutrality"] is None and "bases" in row:
            verdict = row.get("neutrality") or {}
            headline["neutrality"] = {
                "target_id": row["id"], "target_year": row.get("target_year"),
                "deciding_basis": row.get("deciding_basis"), "basis_rule": row.get("basis_rule"),
                "reached": verdict.get("reached"), "projected_net_t": verdict.get("projected_net_t"),
                "level": row.get("level"), "colour": row.get("colour"),
                "bases": {b: {**(e.get("neutrality") or {}), "level": e.get("level")}
                          for b, e in row["bases"].items()}}
    return {"co2_bases": side, "headline": headline}


def _districts(data: CityData, targets: list[Target], series: dict[str, dict[int, float]], year: int,
               rules: RuleSet) -> list[dict[str, Any]]:
    if data.districts is None and data.district_statistics is None:
        return []
    codes = district_codes(data.region)
    decomposed, origins = account_districts(series, data.districts, data.district_statistics)
    out = []
    for code, values in decomposed.items():
        if code not in codes:
            continue
        shown = {name: origins.get(code, {}).get(name, {}).get(year) for name in _DISTRICT_FIGURES}
        rows = _track_all(data, _allocated(targets, data, code), values, year, rules,
                          external=False)
        out.append({"region": code, "name_zh": codes[code]["name_zh"], "name_en": codes[code]["name_en"],
                    "energy_consumption_tce": values.get("energy_consumption_tce", {}).get(year),
                    "gdp_10k_yuan": values.get("gdp_10k_yuan", {}).get(year),
                    "energy_intensity_tce_per_10k_yuan": values.get("energy_intensity_tce_per_10k_yuan", {}).get(year),
                    "targets": [{k: row[k] for k in ("id", "target_value", "actual", "progress_share", "level",
                                                     "colour", "reason", "reason_en")} for row in rows],
                    "summary": _level_counts(rows),
                    # issue 16 (track): where each figure comes from (imported statistics or share estimate)
                    "origins": shown,
                    "estimate": any(o is None or o.get("estimate", True) for o in shown.values())})
    return out


_DISTRICT_FIGURES = ("energy_consumption_tce", "gdp_10k_yuan", "energy_intensity_tce_per_10k_yuan")

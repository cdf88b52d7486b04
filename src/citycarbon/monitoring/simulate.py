"""Synthetic city of key energy-using units: registry, meter readings with injected faults, and the truth.

What it makes
-------------
``simulate(units, points_per_unit, days, seed)`` draws ``units`` enterprises from the industries of
``data/monitoring/industries.csv`` (weights ``sim_weight``), sizes each one's annual energy so that the key-unit
tiers make sense (tier 1 ≥ 10 000 tce/a, tier 2 designated 5 000–10 000 tce/a; methods.md §5), and gives it
``points_per_unit`` energy metering points:

* point 1: the main electricity meter; point 2: the main meter of the industry's fuel (natural gas, coal,
  coke, steam, heat, refinery gas); points 3…: electricity sub-meters of point 1 whose sum is the main meter
  minus 1–5 % losses. Plants with a product that has a limit standard (cement clinker, blast-furnace iron) mark
  their main meters ``purpose = product:<id>`` and get one extra ``product_output`` point (``output:<id>``,
  tonnes) sized so that the unit consumption is 0.85–1.08 × the limit.
* load = annual energy × hour × weekday × season shape of the industry (``data/monitoring/load_shapes.csv``,
  seasons interpolated between mid-month values, local time of the deployment) × noise, normalised so a year
  sums to the annual energy.
* a share of points are cumulative registers (instantaneous reads, ``start == end``; some wrap at
  ``register_max`` during the run), the others send energy per interval; electricity meters send the secondary
  side (value × ``multiplier`` = energy).
* faults (rates per point and day in ``data/monitoring/simulator.yaml``): negative values, spikes, impossible
  values, stuck meters, gaps, duplicates with different values, unit mistakes (×1000 and kWh labelled MWh),
  clock skew, future timestamps, late uploads, revisions, counter resets; register rollovers happen by
  themselves. Every fault is a row of ``truth`` (``point_id, enterprise_id, start, end, kind, true_value,
  detail``); ``start``/``end`` are the timestamps as they appear in the readings (the grid slot for gaps).

Enterprises are drawn from one generator seeded by ``seed``; each enterprise's readings from a generator
seeded by ``(seed, enterprise index)``, so a city can be written enterprise by enterprise
(:func:`iter_enterprise_readings`) and still equal :func:`simulate`'s frames. Everything is vectorised numpy
per enterprise; 1 000 units × 5 points × 365 days at 15 min is 175 M readings, so sizes are parameters.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from citycarbon.codelists import load_codelist
from citycarbon.data import data_path, read_csv
from citycarbon.monitoring.registry import Registry, industries, product_limits, tce_factors, tier_for
from citycarbon.monitoring.uscc import USCC_ALPHABET, uscc_check_character
from citycarbon.progress import Progress, or_silent
from citycarbon.units import conversion_factor

__all__ = ["ALERT_TRUTH_COLUMNS", "FAULT_KINDS", "CityChunk", "SimulatedCity", "iter_city", "iter_enterprise_readings",
           "simulate", "simulator_parameters", "write_city"]

#: fault kinds the simulator injects and keeps in ``truth`` (rollover is a normal event, kept as well)
FAULT_KINDS: tuple[str, ...] = ("negative", "spike", "impossible", "stuck", "gap", "duplicate_conflict",
                                "unit_mistake", "clock_skew", "future_timestamp", "late", "revision",
                                "counter_reset", "rollover")
READING_COLUMNS = ("point_id", "start", "end", "value", "unit", "received_at")
TRUTH_COLUMNS = ("point_id", "enterprise_id", "start", "end", "kind", "true_value", "detail")
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
_RAW_UNIT = {"electricity": "kWh", "natural_gas": "m**3", "heat": "GJ"}  # others: t
_MARGIN = 12  # clean intervals kept on each side of a fault, so that neighbour-based checks see clean data


@cache
def simulator_parameters() -> dict:
    """``data/monitoring/simulator.yaml`` (all values are estimates)."""
    return yaml.safe_load(data_path("monitoring/simulator.yaml").read_text(encoding="utf-8"))


@cache
def _shapes() -> dict[str, dict[str, np.ndarray]]:
    frame = read_csv("monitoring/load_shapes.csv")
    out: dict[str, dict[str, np.ndarray]] = {}
    for (profile, component), group in frame.groupby(["profile", "component"]):
        out.setdefault(str(profile), {})[str(component)] = group.sort_values("index")["value"].to_numpy(float)
    return out


def _season(month_values: np.ndarray, day_of_year: np.ndarray) -> np.ndarray:
    """Seasonal factor by fractional day of year, linear between mid-month values (periodic)."""
    mid = np.array([15.5 + 30.44 * m for m in range(12)])
    xp = np.concatenate([mid[-1:] - 365.25, mid, mid[:1] + 365.25])
    fp = np.concatenate([month_values[-1:], month_values, month_values[:1]])
    return np.interp(day_of_year, xp, fp)


def _shape(profile: str, local: pd.DatetimeIndex) -> np.ndarray:
    parts = _shapes()[profile]
    day_of_year = (local.day_of_year - 1 + (local.hour * 60 + local.minute) / 1440.0).to_numpy(float)
    return (parts["hour"][local.hour.to_numpy()] * parts["weekday"][local.day_of_week.to_numpy()]
            * _season(parts["month"], day_of_year))


@dataclass
class _Grid:
    start_ns: np.ndarray  # interval starts (UTC ns)
    step_ns: int
    shapes: dict[str, np.ndarray]  # profile → shape normalised to a yearly mean of 1
    now_ns: int
    months: list[tuple[str, slice]]  # local months the run covers completely, with their intervals
    local_day: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # local day of each start


def _grid(start: pd.Timestamp, days: int, interval: int, timezone: str) -> _Grid:
    step = interval * 60 * _NS
    n = int(days * 1440 // interval)
    starts = start.value + np.arange(n, dtype=np.int64) * step
    local = pd.DatetimeIndex(pd.to_datetime(starts, unit="ns", utc=True)).tz_convert(timezone)
    year_start = pd.Timestamp(year=local[0].year, month=1, day=1, tz=timezone)
    year = pd.date_range(year_start, periods=365 * 24, freq="h")
    shapes = {}
    for profile in _shapes():
        shapes[profile] = _shape(profile, local) / float(_shape(profile, year).mean())
    labels = local.strftime("%Y-%m") if n else pd.Index([])
    months = []
    for month in pd.unique(labels):
        where = np.flatnonzero(labels == month)
        first = pd.Timestamp(f"{month}-01", tz=timezone)
        if len(where) == (first + pd.offsets.MonthBegin(1) - first).value // step:
            months.append((str(month), slice(int(where[0]), int(where[-1]) + 1)))
    local_day = local.tz_localize(None).asi8 // _DAY_NS if n else np.array([], dtype=np.int64)
    return _Grid(starts, step, shapes, int(starts[-1] + step) if n else start.value, months, local_day)


@dataclass
class SimulatedCity:
    """Registry frames, readings (``point_id, start, end, value, unit, received_at``), truth and monthly
    reports (``enterprise_id, month, energy_tce, received_at``: the unit's own monthly upload)."""

    registry: Registry
    readings: pd.DataFrame
    truth: pd.DataFrame
    monthly_reports: pd.DataFrame
    start: pd.Timestamp
    now: pd.Timestamp
    seed: int
    alert_truth: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ALERT_TRUTH_COLUMNS)))

    @property
    def enterprises(self) -> pd.DataFrame:
        return self.registry.enterprises

    @property
    def points(self) -> pd.DataFrame:
        return self.registry.points

    @property
    def products(self) -> pd.DataFrame:
        return self.registry.products


# ------------------------------------------------------------------------------------------------- the plan

@dataclass
class _Plan:
    registry: Registry
    hidden: pd.DataFrame  # per enterprise: profile, annual_tce, electricity_share, ucr, loss, sub_shares …
    start: pd.Timestamp
    days: int
    interval: int
    seed: int
    faults: dict
    points_by_enterprise: dict[str, pd.DataFrame] = field(default_factory=dict)
    overlap: bool = False
    # injected situations that raise alerts: enterprise → outage hours / over-budget ratio, point → dropout hours
    situations: dict = field(default_factory=lambda: {"outage": {}, "dropout": {}, "over_budget": {}})

    def __post_init__(self) -> None:
        points = self.registry.points
        self.points_by_enterprise = {str(k): g for k, g in points.groupby("enterprise_id", sort=False)}


def _plan(units: int, points_per_unit: int, days: int, seed: int, start: pd.Timestamp, interval: int,
          faults: dict) -> _Plan:
    if units < 1 or points_per_unit < 1 or days < 1:
        raise ValueError("units, points_per_unit and days must be ≥ 1")
    params = simulator_parameters()
    rng = np.random.default_rng([seed, 0])
    table = industries()
    weights = table["sim_weight"].to_numpy(float)
    codes = rng.choice(table.index.to_numpy(), size=units, p=weights / weights.sum())
    region_weights = params["regions"]
    region_codes = np.array(list(region_weights), dtype=object)
    rw = np.array(list(region_weights.values()), float)
    regions = rng.choice(region_codes, size=units, p=rw / rw.sum())
    codelist = load_codelist("regions")
    region_names = {str(c): str(n) for c, n in zip(codelist["code"], codelist["name_zh"], strict=True)}
    energy = params["annual_energy"]
    tier2 = rng.random(units) < energy["tier2_share"]
    annual = np.where(
        tier2, rng.uniform(*energy["tier2_range_tce"], size=units),
        np.clip(energy["tier1_median_tce"] * np.exp(energy["tier1_sigma"] * rng.standard_normal(units)),
                energy["tier1_min_tce"], energy["tier1_max_tce"]))
    budget = annual * rng.uniform(*params["budget_ratio_range"], size=units)
    ucr = rng.uniform(*params["unit_consumption_ratio_range"], size=units)
    loss = rng.uniform(*params["submeter"]["loss_range"], size=units)
    cumulative = rng.random((units, points_per_unit)) < params["cumulative_share"]
    rollover = rng.random((units, points_per_unit)) < params["rollover_share"]
    multipliers = rng.choice(np.array(params["electricity_multipliers"], float), size=(units, points_per_unit))
    org = rng.integers(0, len(USCC_ALPHABET), size=(units, 9))
    limits = product_limits()
    enterprises, points, products, hidden = [], [], [], []
    for i in range(units):
        eid = f"E{i + 1:05d}"
        industry = table.loc[codes[i]]
        head = "91" + str(regions[i]) + "".join(USCC_ALPHABET[k] for k in org[i])
        ptype = industry["product_type"] if isinstance(industry["product_type"], str) else ""
        enterprises.append({
            "enterprise_id": eid, "name": f"{region_names[regions[i]]}{industry['name_zh']}模拟企业{i + 1:04d}",
            "uscc": head + uscc_check_character(head), "industry_code": codes[i], "region": str(regions[i]),
            "tier": tier_for(float(annual[i]), designated=True), "annual_budget_tce": round(float(budget[i]), 1),
            "budget_year": start.tz_convert("Asia/Shanghai").year, "annual_energy_tce": round(float(annual[i]), 1)})
        purpose = "main"
        if ptype:
            product_id = f"{eid}-P1"
            limit = limits.loc[ptype]
            products.append({"product_id": product_id, "enterprise_id": eid, "name": limit["name_zh"], "unit": "t",
                             "product_type": ptype, "limit_standard": limit["limit_standard"],
                             "limit_value": float(limit["limit_value"]), "limit_unit": limit["limit_unit"]})
            purpose = f"product:{product_id}"
        for j in range(points_per_unit):
            etype = "electricity" if j != 1 else str(industry["fuel"])
            kind = "cumulative" if cumulative[i, j] else "interval"
            points.append({
                "point_id": f"{eid}-M{j + 1:02d}", "enterprise_id": eid, "energy_type": etype,
                "unit": _RAW_UNIT.get(etype, "t"), "kind": kind,
                "multiplier": float(multipliers[i, j]) if etype == "electricity" else 1.0,
                "parent_point_id": f"{eid}-M01" if j >= 2 else "", "interval_minutes": interval,
                "register_max": math.nan, "purpose": purpose if j < 2 else "production_line",
                "_rollover": bool(rollover[i, j])})
        if ptype:
            points.append({"point_id": f"{eid}-OUT", "enterprise_id": eid, "energy_type": "product_output",
                           "unit": "t", "kind": "interval", "multiplier": 1.0, "parent_point_id": "",
                           "interval_minutes": interval, "register_max": math.nan,
                           "purpose": f"output:{eid}-P1", "_rollover": False})
        hidden.append({"enterprise_id": eid, "profile": industry["load_profile"], "annual_tce": float(annual[i]),
                       "electricity_share": float(industry["electricity_share"]), "ucr": float(ucr[i]),
                       "loss": float(loss[i]), "product_type": ptype})
    points_frame = pd.DataFrame(points)
    # register sizes need the simulated totals; they are fixed here from the expected totals
    points_frame = _size_registers(points_frame, pd.DataFrame(hidden), days, interval, seed)
    registry = Registry(pd.DataFrame(enterprises), points_frame.drop(columns="_rollover"),
                        pd.DataFrame(products, columns=["product_id", "enterprise_id", "name", "unit", "product_type",
                                                        "limit_standard", "limit_value", "limit_unit"]))
    hidden_frame = pd.DataFrame(hidden).set_index("enterprise_id", drop=False)
    hidden_frame["rollover_points"] = [set(points_frame.loc[(points_frame["enterprise_id"] == e)
                                                            & points_frame["_rollover"], "point_id"])
                                       for e in hidden_frame.index]
    return _Plan(registry, hidden_frame, start, days, interval, seed, faults)


def _size_registers(points: pd.DataFrame, hidden: pd.DataFrame, days: int, interval: int,
                    seed: int) -> pd.DataFrame:
    """register_max of cumulative points: a power of ten; points marked to roll over get one just above the
    run's expected raw total, the others one far above it."""
    tce = tce_factors()["tce_per_unit"]
    annual = hidden.set_index("enterprise_id")
    out = points.copy()
    cumulative = out["kind"] == "cumulative"
    rows = out[cumulative]
    share = annual["electricity_share"].reindex(rows["enterprise_id"]).to_numpy()
    share = np.where(rows["energy_type"] == "electricity", share, 1 - share)
    raw_total = (annual["annual_tce"].reindex(rows["enterprise_id"]).to_numpy() * share * days / 365
                 / rows["energy_type"].map(tce).to_numpy(float) / rows["multiplier"].to_numpy(float))
    headroom = np.where(rows["_rollover"].to_numpy(bool), 1.5, 50.0)
    digits = np.ceil(np.log10(np.maximum(raw_total, 1.0) * headroom))
    out.loc[cumulative, "register_max"] = 10.0 ** np.maximum(digits, 3)
    return out


# --------------------------------------------------------------------------------------------- per enterprise

def _place(rng: np.random.Generator, free: np.ndarray, run: int, overlap: bool = False, tries: int = 6) -> int | None:
    """A start index of a free window of ``run`` readings (with clean margins), marked taken; None if none.
    With ``overlap`` any window of ``run`` readings (faults may touch and overlap each other)."""
    n = free.size
    if overlap:
        return int(rng.integers(0, n - run + 1)) if n >= run else None
    if n < run + 2 * _MARGIN:
        return None
    for _ in range(tries):
        i = int(rng.integers(_MARGIN, n - run - _MARGIN + 1))
        if free[i - _MARGIN:i + run + _MARGIN].all():
            free[i - _MARGIN:i + run + _MARGIN] = False
            return i
    return None


def _enterprise_readings(plan: _Plan, grid: _Grid, eid: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                                      pd.DataFrame]:
    """Readings, truth, monthly reports and alert truth of one enterprise."""
    index = int(eid[1:]) - 1
    rng = np.random.default_rng([plan.seed, index + 1])
    params = simulator_parameters()
    h = plan.hidden.loc[eid]
    pts = plan.points_by_enterprise[eid]
    tce = tce_factors()["tce_per_unit"]
    n = grid.start_ns.size
    intervals_per_year = 365 * 1440 / plan.interval
    base = h["annual_tce"] / intervals_per_year * grid.shapes[h["profile"]]
    noise = params["noise_sigma"]
    main_tce = {}
    true_canonical: dict[str, np.ndarray] = {}
    main_elec = None
    subs = pts[pts["parent_point_id"] != ""]
    sub_shares = rng.dirichlet(np.full(len(subs), 2.0)) if len(subs) else np.array([])
    for j, row in enumerate(pts.itertuples(index=False)):
        if row.energy_type == "product_output":
            continue
        if row.parent_point_id:
            share = sub_shares[list(subs["point_id"]).index(row.point_id)]
            value = main_elec * (1 - h["loss"]) * share * (
                1 + params["submeter"]["noise_sigma"] * rng.standard_normal(n))
        else:
            share = h["electricity_share"] if row.energy_type == "electricity" else 1 - h["electricity_share"]
            value_tce = base * share * np.clip(1 + noise * rng.standard_normal(n), 0.05, None)
            value = value_tce / tce[row.energy_type]
            main_tce[row.point_id] = value_tce
            if row.energy_type == "electricity" and j == 0:
                main_elec = value
        true_canonical[row.point_id] = np.maximum(value, 0.0)
    output = pts[pts["energy_type"] == "product_output"]
    if len(output):
        limit = plan.registry.products.set_index("product_id").loc[output.iloc[0]["purpose"][len("output:"):]]
        per_t = float(limit["limit_value"]) * conversion_factor(str(limit["limit_unit"]), "tce/t")
        product_tce = sum(main_tce[p] for p in pts.loc[pts["purpose"].str.startswith("product:"), "point_id"])
        true_canonical[output.iloc[0]["point_id"]] = product_tce / (per_t * h["ucr"])
    frames, truths = [], []
    per_slot = 60 / plan.interval
    outage = plan.situations["outage"].get(eid)
    for row in pts.itertuples(index=False):
        raw = true_canonical[row.point_id] / row.multiplier
        faults = plan.faults if row.energy_type != "product_output" else {}
        hours = max(outage or 0.0, plan.situations["dropout"].get(row.point_id) or 0.0)
        cut = n - round(hours * per_slot) if hours else None
        reading, truth = _point_readings(rng, grid, row, raw, faults, row.point_id in h["rollover_points"],
                                         overlap=plan.overlap, cut=cut)
        frames.append(reading)
        truth["enterprise_id"] = eid
        truths.append(truth)
    monthly = _monthly_reports(rng, grid, eid, sum(main_tce.values()), plan.registry.timezone, params)
    truth_frame = pd.concat(truths, ignore_index=True)
    alert_truth = _alert_truth(plan, grid, eid, main_tce, true_canonical, frames, truth_frame)
    return (pd.concat(frames, ignore_index=True), truth_frame, monthly, alert_truth)


#: columns of the alert truth (what the alerts at the end of the run must say)
ALERT_TRUTH_COLUMNS = ("kind", "enterprise_id", "subject", "level", "value", "threshold", "unit", "borderline",
                       "detail")


def _alert_day(grid: _Grid) -> int:
    """Local day (days since 1970-01-01) of the last day of the run: the day the alerts are checked for."""
    return int(grid.local_day[-1]) if grid.local_day.size else 0


def _inject_situations(plan: _Plan, grid: _Grid, overrides: dict | None = None) -> None:
    """Situations that raise alerts (``simulator.yaml`` ``situations``, estimates), drawn from their own
    generator so the readings of the same seed stay the same: enterprises clearly ahead of their budget's
    pro-rata path at the end of the run (the budget is set from the expected energy), data loggers offline for
    the last hours (every point silent, the last day incomplete), single meters that stop reporting."""
    spec = dict(simulator_parameters()["situations"])
    for name, value in (overrides or {}).items():
        if name not in spec:
            raise ValueError(f"unknown situation parameter {name!r}; known: {', '.join(spec)}")
        spec[name] = value
    rng = np.random.default_rng([plan.seed, 0, 7])
    ents = plan.registry.enterprises.copy()
    points = plan.registry.points
    k = len(ents)
    over = rng.random(k) < spec["over_budget_share"]
    warning_band = rng.random(k) < 0.5
    ratio = np.where(warning_band, rng.uniform(*spec["over_budget_warning"], size=k),
                     rng.uniform(*spec["over_budget_error"], size=k))
    outage = rng.random(k) < spec["outage_share"]
    outage_hours = rng.uniform(*spec["outage_hours"], size=k)
    dropout = rng.random(len(points)) < spec["dropout_share"]
    dropout_hours = rng.uniform(*spec["dropout_hours"], size=len(points))
    day = _alert_day(grid)
    alert_date = pd.Timestamp(day * _DAY_NS)
    year_start = pd.Timestamp(year=alert_date.year, month=1, day=1)
    in_year = grid.local_day >= (year_start.value // _DAY_NS)
    share_elapsed = ((alert_date - year_start).days + 1) / (366 if alert_date.is_leap_year else 365)
    intervals_per_year = 365 * 1440 / plan.interval
    budgets = ents["annual_budget_tce"].to_numpy(float).copy()
    for i, eid in enumerate(ents["enterprise_id"]):
        if not over[i]:
            continue
        h = plan.hidden.loc[eid]
        mains = plan.points_by_enterprise[eid]
        mains = mains[(mains["parent_point_id"] == "") & (mains["energy_type"] != "product_output")]
        metered = sum(h["electricity_share"] if t == "electricity" else 1 - h["electricity_share"]
                      for t in mains["energy_type"])
        expected = h["annual_tce"] * metered / intervals_per_year * float(grid.shapes[h["profile"]][in_year].sum())
        budgets[i] = round(expected / share_elapsed / (1 + ratio[i]), 1)
        plan.situations["over_budget"][eid] = float(ratio[i])
    ents["annual_budget_tce"] = budgets
    plan.situations["outage"] = {eid: float(hours) for eid, hit, hours in zip(
        ents["enterprise_id"], outage, outage_hours, strict=True) if hit}
    plan.situations["dropout"] = {pid: float(hours) for pid, hit, hours in zip(
        points["point_id"], dropout, dropout_hours, strict=True) if hit}
    plan.registry = Registry(ents, plan.registry.points, plan.registry.products, plan.registry.timezone)


def _alert_truth(plan: _Plan, grid: _Grid, eid: str, main_tce: dict[str, np.ndarray],
                 true_canonical: dict[str, np.ndarray], frames: list[pd.DataFrame],
                 truth: pd.DataFrame) -> pd.DataFrame:
    """What the alerts for the last day of the run (checked at its end) must raise for this enterprise,
    computed from the TRUE energy (budget path, product limit) and from what the simulator actually sent
    (completeness of that day, silent points, faults older than the repair deadline in the look-back window).
    ``borderline``: the true figure is within ``alert_truth.borderline`` of a threshold, where repairs of
    faulty data may legitimately tip it either way, or within the share of the energy that no reading shows (a
    logger offline or a meter silent at the end: what it consumed then is unknowable from the data) — reported,
    not scored."""
    from citycarbon.monitoring.alerts import load_alert_rules
    from citycarbon.monitoring.quality import load_rules

    rules, qrules = load_alert_rules(), load_rules()
    margin = float(simulator_parameters()["alert_truth"]["borderline"])
    rows: list[tuple] = []
    if not grid.local_day.size:
        return pd.DataFrame(rows, columns=list(ALERT_TRUTH_COLUMNS))
    day = _alert_day(grid)
    alert_date = pd.Timestamp(day * _DAY_NS)
    tz = plan.registry.timezone
    now = pd.Timestamp(grid.now_ns, unit="ns", tz="UTC")
    ent = plan.registry.enterprise(eid)
    n = grid.local_day.size
    per_slot = 60 / plan.interval

    def unseen(point_id: str, mask: np.ndarray, values: np.ndarray) -> float:
        """True energy of ``point_id`` in ``mask`` that falls in its silent end (no reading was sent)."""
        hours = max(plan.situations["outage"].get(eid) or 0.0, plan.situations["dropout"].get(point_id) or 0.0)
        if not hours:
            return 0.0
        cut = max(n - round(hours * per_slot), 0)
        return float(values[cut:][mask[cut:]].sum())
    # budget: cumulative true tce of the main meters since 1 January against the pro-rata path
    year_start = pd.Timestamp(year=alert_date.year, month=1, day=1)
    in_year = (grid.local_day >= year_start.value // _DAY_NS) & (grid.local_day <= day)
    budget = ent.get("annual_budget_tce")
    if main_tce and budget is not None and not pd.isna(budget) and int(ent["budget_year"]) == alert_date.year:
        cumulative = float(sum(v[in_year].sum() for v in main_tce.values()))
        path = float(budget) * ((alert_date - year_start).days + 1) / (366 if alert_date.is_leap_year else 365)
        ratio = cumulative / path - 1
        warning, error = float(rules.get("budget", "warning_threshold")), float(rules.get("budget", "error_threshold"))
        level = "error" if ratio > error else "warning" if ratio > warning else ""
        hidden = sum(unseen(p, in_year, v) for p, v in main_tce.items()) / path
        borderline = min(abs(ratio - warning), abs(ratio - error)) < margin + hidden
        if level or borderline:
            injected = plan.situations["over_budget"].get(eid)
            rows.append(("budget", eid, "", level, cumulative, path, "tce", borderline,
                         f"true cumulative {cumulative:.1f} tce vs path {path:.1f} tce ({ratio:+.1%})"
                         + (f"; budget set {injected:+.1%} ahead" if injected is not None else "")))
    # product limit: true unit consumption over the month to date
    pts = plan.points_by_enterprise[eid]
    in_month = (grid.local_day >= alert_date.replace(day=1).value // _DAY_NS) & (grid.local_day <= day)
    tolerance = float(rules.get("product_limit", "tolerance"))
    for product in plan.registry.products[plan.registry.products["enterprise_id"] == eid].itertuples(index=False):
        energy_points = pts.loc[pts["purpose"] == f"product:{product.product_id}", "point_id"]
        output_points = pts.loc[pts["purpose"] == f"output:{product.product_id}", "point_id"]
        if energy_points.empty or output_points.empty or pd.isna(product.limit_value):
            continue
        output = float(sum(true_canonical[p][in_month].sum() for p in output_points))
        if output < float(rules.get("product_limit", "min_output")):
            continue
        if "Wh" in str(product.limit_unit):
            energy = float(sum(true_canonical[p][in_month].sum() for p in energy_points
                               if pts.set_index("point_id").loc[p, "energy_type"] == "electricity"))
            unit = "kWh"
        else:
            energy = float(sum(main_tce[p][in_month].sum() for p in energy_points if p in main_tce))
            unit = "tce"
        per_unit = energy / output * conversion_factor(f"{unit}/({product.unit})", str(product.limit_unit))
        threshold = float(product.limit_value) * (1 + tolerance)
        hidden = max(sum(unseen(p, in_month, main_tce[p]) for p in energy_points if p in main_tce)
                     / max(sum(main_tce[p][in_month].sum() for p in energy_points if p in main_tce), 1e-12),
                     sum(unseen(p, in_month, true_canonical[p]) for p in output_points) / output)
        borderline = abs(per_unit / threshold - 1) < margin + hidden
        if per_unit > threshold or borderline:
            rows.append(("product_limit", eid, str(product.product_id), "error" if per_unit > threshold else "",
                         per_unit, threshold, str(product.limit_unit), borderline,
                         f"true unit consumption {per_unit:.1f} vs limit {threshold:.1f} {product.limit_unit}"))
    # completeness of the last day and silent points, from what was sent
    sent = pd.concat(frames, ignore_index=True)
    kinds = pts.set_index("point_id")["kind"]
    cumulative_row = sent["point_id"].map(kinds).eq("cumulative").to_numpy()
    ts = np.where(cumulative_row, sent["end"].to_numpy(np.int64), sent["start"].to_numpy(np.int64))
    tolerance_ns = int(qrules.param("future_timestamp", "tolerance_seconds")) * _NS
    step = plan.interval * 60 * _NS
    local = pd.DatetimeIndex(pd.to_datetime(ts - cumulative_row * _NS, unit="ns", utc=True)).tz_convert(tz)
    on_day = (local.tz_localize(None).asi8 // _DAY_NS == day) & (ts <= grid.now_ns + tolerance_ns)
    slots = pd.DataFrame({"point": sent["point_id"].to_numpy()[on_day], "slot": np.round(ts[on_day] / step)})
    received = len(slots.drop_duplicates())
    expected = int(sum(1440 // int(m) for m in pts["interval_minutes"]))
    completeness = received / expected if expected else math.nan
    minimum = float(rules.get("data_quality", "completeness_min"))
    if completeness < minimum - 1e-12:
        rows.append(("completeness", eid, "", "warning", completeness, minimum, "share", False,
                     f"{received} of {expected} slots on {alert_date:%Y-%m-%d}"))
    silence = float(rules.get("data_quality", "silence_hours"))
    up_to_now = ts <= grid.now_ns
    last = pd.Series(sent["end"].to_numpy(np.int64)[up_to_now]).groupby(sent["point_id"].to_numpy()[up_to_now]).max()
    for point_id in pts["point_id"]:
        seen = last.get(point_id)
        hours = (grid.now_ns - int(seen)) / 3_600 / _NS if seen is not None else math.inf
        if hours > silence:
            why = ("outage" if eid in plan.situations["outage"] else "meter stopped"
                   if point_id in plan.situations["dropout"] else "no reading")
            rows.append(("silence", eid, str(point_id), "warning", hours, silence, "h", False,
                         f"{why}: last reading {hours:.1f} h before the end of the run"))
    # unrepaired faults: warning/error faults in the look-back window older than the repair deadline
    severity = {r["fault_kind"]: r["severity"] for r in qrules.rules.values()}
    lookback = pd.Timedelta(days=float(rules.get("data_quality", "lookback_days")))
    deadline = int(rules.get("data_quality", "repair_deadline_working_days"))
    serious = truth[truth["kind"].map(severity).isin(["warning", "error"])]
    starts = pd.to_datetime(serious["start"].to_numpy(np.int64), unit="ns", utc=True)
    window = (starts >= now - lookback) & (starts < now)
    if window.any():
        begin = starts[window].tz_convert(tz).strftime("%Y-%m-%d").to_numpy().astype("datetime64[D]")
        working = np.busday_count(begin, np.datetime64(now.tz_convert(tz).strftime("%Y-%m-%d"), "D"))
        overdue = int((working > deadline).sum())
        if overdue:
            rows.append(("unrepaired_fault", eid, "", "error", float(working.max()), float(deadline), "working days",
                         False, f"{overdue} fault readings older than {deadline} working days in the last "
                         f"{lookback.days} days"))
    return pd.DataFrame(rows, columns=list(ALERT_TRUTH_COLUMNS))


def _significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant figures (a meter's display resolution scales with the value)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(values != 0, 10.0 ** (np.floor(np.log10(np.abs(values))) - (digits - 1)), 1.0)
    return np.round(values / scale) * scale


@dataclass
class _PointState:
    """One point's readings while faults are injected: values, times and unit per grid slot, which slots are still
    free of faults (``free``) and sent (``keep``), the truth rows ``(kind, slot, true value, detail)`` and extra
    rows ``(start, end, value, unit, received, slot)`` (a second send of a slot)."""

    point: Any
    raw: np.ndarray
    cumulative: bool
    start: np.ndarray
    end: np.ndarray
    received: np.ndarray
    unit: np.ndarray
    values: np.ndarray
    days: float
    now: int
    overlap: bool
    free: np.ndarray
    keep: np.ndarray
    truth: list[tuple] = field(default_factory=list)
    extra: list[tuple] = field(default_factory=list)
    register: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.raw.size


def _events(rng: np.random.Generator, state: _PointState, spec: dict) -> int:
    """How many events of a fault the point gets over the run (Poisson with the spec's rate per day)."""
    return int(rng.poisson(spec["rate"] * state.days))


def _run_length(rng: np.random.Generator, spec: dict) -> int:
    low, high = spec["run"]
    return int(rng.integers(low, high + 1))


def _inject_counter_reset(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    """A register restarts from zero (in time order, so each reset restarts from its value then)."""
    assert s.register is not None
    resets = sorted({i for i in (_place(rng, s.free, 1, s.overlap) for _ in range(_events(rng, s, spec)))
                     if i is not None and i > 0})
    for i in resets:
        s.register[i:] -= s.register[i - 1]
        s.truth.append(("counter_reset", i, float(s.raw[i]), "register restarted from zero"))


def _inject_stuck(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    """The value (an interval's or the register's) repeated over a run of slots."""
    detail = "register frozen" if s.cumulative else "value repeated"
    for _ in range(_events(rng, s, spec)):
        run = _run_length(rng, spec)
        i = _place(rng, s.free, run + 1, s.overlap)
        if i is not None:
            s.values[i + 1:i + 1 + run] = s.values[i]
            s.truth.extend(("stuck", k, float(s.raw[k]), detail) for k in range(i + 1, i + 1 + run))


def _inject_negative(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    for _ in range(_events(rng, s, spec)):
        i = _place(rng, s.free, 1, s.overlap)
        if i is not None:
            s.values[i] = -abs(s.values[i]) * rng.uniform(0.5, 1.5)
            s.truth.append(("negative", i, float(s.raw[i]), "negative value"))


def _inject_spike(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    for _ in range(_events(rng, s, spec)):
        i = _place(rng, s.free, 1, s.overlap)
        if i is not None:
            s.values[i] = s.values[i] * rng.uniform(*spec["factor"])
            s.truth.append(("spike", i, float(s.raw[i]), "spike"))


def _inject_impossible(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    p99 = float(np.quantile(s.raw, 0.99)) if s.n else 0.0
    for _ in range(_events(rng, s, spec)):
        i = _place(rng, s.free, 1, s.overlap)
        if i is not None:
            s.values[i] = p99 * rng.uniform(*spec["p99_factor"])
            s.truth.append(("impossible", i, float(s.raw[i]), "beyond the meter's plausible range"))


def _inject_unit_mistake(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    for _ in range(_events(rng, s, spec)):
        run = _run_length(rng, spec)
        i = _place(rng, s.free, run, s.overlap)
        if i is not None:
            if s.point.unit == "kWh" and rng.random() < 0.5:
                s.unit[i:i + run] = "MWh"
                detail = "kWh values labelled MWh"
            else:
                s.values[i:i + run] = s.values[i:i + run] / 1000.0
                detail = f"values sent in thousand {s.point.unit} labelled {s.point.unit}"
            s.truth.extend(("unit_mistake", k, float(s.raw[k]), detail) for k in range(i, i + run))


def _inject_clock_skew(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    for _ in range(_events(rng, s, spec)):
        run = _run_length(rng, spec)
        i = _place(rng, s.free, run, s.overlap)
        if i is not None:
            minutes = rng.uniform(*spec["minutes"]) * (1 if rng.random() < 0.5 else -1)
            shift = round(minutes * 60) * _NS
            s.start[i:i + run] += shift
            s.end[i:i + run] += shift
            s.received[i:i + run] += max(shift, 0)
            s.truth.extend(("clock_skew", k, float(s.raw[k]), f"clock off by {minutes:+.1f} min")
                           for k in range(i, i + run))


def _inject_future_timestamp(rng: np.random.Generator, s: _PointState, spec: dict, grid_start: np.ndarray) -> None:
    for _ in range(_events(rng, s, spec)):
        i = _place(rng, s.free, 1, s.overlap)
        if i is not None:
            seconds = round(rng.uniform(*spec["days"]) * 86_400)  # timestamps to the second
            shift = s.now - int(grid_start[i]) + seconds * _NS
            s.truth.append(("gap", i, float(s.raw[i]), "reading sent with a future timestamp"))
            s.start[i] += shift
            s.end[i] += shift
            s.truth.append(("future_timestamp", i, float(s.raw[i]), "timestamp in the future"))


def _inject_late(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    for _ in range(_events(rng, s, spec)):
        run = _run_length(rng, spec)
        i = _place(rng, s.free, run, s.overlap)
        if i is not None:
            delay_ns = int(rng.uniform(*spec["days"]) * _DAY_NS)
            if s.end[i + run - 1] + delay_ns <= s.now:
                s.received[i:i + run] = s.end[i:i + run] + delay_ns
                s.truth.extend(("late", k, float(s.raw[k]), f"uploaded {delay_ns / _DAY_NS:.1f} days late")
                               for k in range(i, i + run))


def _inject_second_send(kind: str, rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    """``revision`` (a value revised days later) or ``duplicate_conflict`` (the same slot sent twice with
    different values minutes apart): an extra row for the slot."""
    for _ in range(_events(rng, s, spec)):
        i = _place(rng, s.free, 1, s.overlap)
        if i is None:
            continue
        if s.cumulative:
            # a register read that differs a little (still between its neighbours' reads)
            new = round(float(s.values[i] - s.raw[i] * rng.uniform(0.1, 0.5)), 3)
        if kind == "revision":
            if not s.cumulative:
                new = float(_significant(np.array([s.values[i] * rng.uniform(*spec["factor"])]), 7)[0])
            when = min(int(s.end[i] + rng.uniform(*spec["days"]) * _DAY_NS), s.now)
            if when - s.received[i] < _DAY_NS // 2:
                continue
            detail = "value revised later"
        else:
            factor = rng.uniform(*spec["factor"])
            if not s.cumulative:
                new = float(_significant(np.array([s.values[i] * (factor if rng.random() < 0.5 else 1 / factor)]),
                                         7)[0])
            when = int(s.received[i] + rng.uniform(10, 600) * _NS)
            detail = "same interval sent twice with different values"
        s.extra.append((s.start[i], s.end[i], new, s.unit[i], when, i))
        s.truth.append((kind, i, float(s.raw[i]), detail))


def _inject_gap(rng: np.random.Generator, s: _PointState, spec: dict) -> None:
    for _ in range(_events(rng, s, spec)):
        run = _run_length(rng, spec)
        i = _place(rng, s.free, run, s.overlap)
        if i is not None:
            s.keep[i:i + run] = False
            s.truth.extend(("gap", k, float(s.raw[k]), "no reading") for k in range(i, i + run))


Injector = Callable[[np.random.Generator, _PointState, dict], None]

#: fault injectors by stage, each keyed by its fault kind in ``simulator.yaml``'s ``faults`` and applied in this
#: order (the order of the random draws: a seed gives the same city): a register's faults before it wraps at
#: ``register_max``, then after; an interval meter's value faults; then, after the values are rounded to the
#: meter's resolution, the faults of sending (times, uploads, second sends, gaps) for both kinds
REGISTER_FAULTS: dict[str, Injector] = {"counter_reset": _inject_counter_reset}
REGISTER_READ_FAULTS: dict[str, Injector] = {"stuck": _inject_stuck}
VALUE_FAULTS: dict[str, Injector] = {"negative": _inject_negative, "spike": _inject_spike,
                                     "impossible": _inject_impossible, "unit_mistake": _inject_unit_mistake,
                                     "stuck": _inject_stuck}
SENDING_FAULTS: dict[str, Injector | None] = {
    "clock_skew": _inject_clock_skew,
    "future_timestamp": None,  # needs the grid's slot starts: applied with them in _point_readings
    "late": _inject_late,
    "revision": functools.partial(_inject_second_send, "revision"),
    "duplicate_conflict": functools.partial(_inject_second_send, "duplicate_conflict"),
    "gap": _inject_gap,
}
#: every fault kind the simulator knows (``simulator.yaml``'s ``faults`` must name exactly these)
FAULT_INJECTORS: frozenset[str] = frozenset({*REGISTER_FAULTS, *REGISTER_READ_FAULTS, *VALUE_FAULTS,
                                             *SENDING_FAULTS})


def _apply(stage: dict[str, Injector | None], rng: np.random.Generator, state: _PointState, faults: dict,
           grid: _Grid) -> None:
    for kind, inject in stage.items():
        spec = faults.get(kind)
        if not spec:  # a fault switched off draws nothing
            continue
        if inject is None:
            _inject_future_timestamp(rng, state, spec, grid.start_ns)
        else:
            inject(rng, state, spec)


def _point_readings(rng: np.random.Generator, grid: _Grid, point, raw: np.ndarray, faults: dict,
                    rollover: bool, overlap: bool = False, cut: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readings and truth of one point. ``overlap``: faults may touch and overlap (else each keeps clean margins).
    ``cut``: the point sends nothing from this grid index on (an outage or a dead meter at the end of the run;
    its slots are gaps in the truth). Faults come from the injectors of :data:`FAULT_INJECTORS`, stage by stage."""
    n = raw.size
    step = grid.step_ns
    cumulative = point.kind == "cumulative"
    start = grid.start_ns.copy()
    end = start + step
    if cumulative:
        start = end.copy()  # instantaneous register read at the interval end
    delay = simulator_parameters()["receive_delay_seconds"]
    received = end + (rng.uniform(*delay, size=n) * _NS).astype(np.int64)
    s = _PointState(point=point, raw=raw, cumulative=cumulative, start=start, end=end, received=received,
                    unit=np.full(n, point.unit, dtype=object), values=raw.copy(), days=n * step / _DAY_NS,
                    now=grid.now_ns, overlap=overlap, free=np.ones(n, dtype=bool), keep=np.ones(n, dtype=bool))
    if cumulative:
        register = np.cumsum(raw)
        register_max = float(point.register_max)
        total = float(register[-1]) if n else 0.0
        initial = (register_max - rng.uniform(0.2, 0.8) * total) if rollover else rng.uniform(0, 0.3) * register_max
        s.register = register + initial
        _apply(REGISTER_FAULTS, rng, s, faults, grid)
        wraps = np.floor(s.register / register_max)
        s.values = s.register - wraps * register_max
        for i in np.flatnonzero(np.diff(wraps) > 0) + 1:
            s.truth.append(("rollover", int(i), float(raw[i]), f"register wrapped at {register_max:g}"))
            s.free[max(0, i - _MARGIN):i + _MARGIN] = False
        _apply(REGISTER_READ_FAULTS, rng, s, faults, grid)
    else:
        _apply(VALUE_FAULTS, rng, s, faults, grid)
    # registers show fixed decimals (their resolution must stay below one interval's consumption); interval
    # values a fixed number of significant figures
    s.values = np.round(s.values, 3) if cumulative else _significant(s.values, 7)
    _apply(SENDING_FAULTS, rng, s, faults, grid)
    truth, extra, keep = s.truth, s.extra, s.keep
    if cut is not None and cut < n:
        keep[cut:] = False
        truth.extend(("gap", k, float(raw[k]), "silent until the end of the run") for k in range(max(cut, 0), n))
    if not keep.all():
        truth = _truth_of_kept(truth, keep)
        extra = [row for row in extra if keep[row[5]]]
    frame = pd.DataFrame({"point_id": point.point_id, "start": s.start[keep], "end": s.end[keep],
                          "value": s.values[keep], "unit": s.unit[keep], "received_at": s.received[keep]})
    if extra:
        frame = pd.concat([frame, pd.DataFrame([row[:5] for row in extra],
                                               columns=["start", "end", "value", "unit", "received_at"])
                          .assign(point_id=point.point_id)], ignore_index=True)
    grid_start = grid.start_ns + (grid.step_ns if cumulative else 0)
    rows = []
    for kind, i, true_value, detail in truth:
        if kind == "gap":
            t0 = int(grid_start[i])
            t1 = t0 if cumulative else t0 + grid.step_ns
        else:
            t0, t1 = int(s.start[i]), int(s.end[i])
        rows.append((point.point_id, t0, t1, kind, true_value * point.multiplier, detail))
    truth_frame = pd.DataFrame(rows, columns=["point_id", "start", "end", "kind", "true_value", "detail"])
    return frame, truth_frame


def _truth_of_kept(truth: list[tuple], keep: np.ndarray) -> list[tuple]:
    """Truth rows of readings that were sent: a fault on a reading that a gap or an outage removed is gone with
    it (the gap stays); a register's reset or rollover shows at the next read that was sent."""
    kept = np.flatnonzero(keep)
    out = []
    for kind, i, true_value, detail in truth:
        if kind == "gap" or keep[i]:
            out.append((kind, i, true_value, detail))
        elif kind in ("counter_reset", "rollover"):
            later = kept[np.searchsorted(kept, i):]
            if later.size:
                out.append((kind, int(later[0]), true_value, detail))
    return out


def _monthly_reports(rng: np.random.Generator, grid: _Grid, eid: str, tce: np.ndarray, timezone: str,
                     params: dict) -> pd.DataFrame:
    """The unit's monthly uploads for every local month the run covers completely (sum of true energy ×
    small noise; a share is off by 7–15 %, kept in the ``mismatch`` column)."""
    rows = []
    spec = params["monthly_report"]
    for month, where in grid.months:
        first = pd.Timestamp(f"{month}-01", tz=timezone)
        factor = 1 + spec["noise_sigma"] * rng.standard_normal()
        mismatch = rng.random() < spec["mismatch_share"]
        if mismatch:
            factor = 1 + rng.uniform(*spec["mismatch_range"]) * (1 if rng.random() < 0.5 else -1)
        received = first + pd.offsets.MonthBegin(1) + pd.Timedelta(hours=float(rng.uniform(1, 48)))
        rows.append({"enterprise_id": eid, "month": month, "energy_tce": float(tce[where].sum() * factor),
                     "received_at": received.tz_convert("UTC"), "mismatch": mismatch})
    return pd.DataFrame(rows, columns=["enterprise_id", "month", "energy_tce", "received_at", "mismatch"])


def _finish(readings: pd.DataFrame, truth: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    for frame, columns in ((readings, ("start", "end", "received_at")), (truth, ("start", "end"))):
        for column in columns:
            frame[column] = pd.to_datetime(frame[column].to_numpy(np.int64), unit="ns", utc=True)
    readings = readings.sort_values(["point_id", "start", "received_at"], kind="stable").reset_index(drop=True)
    truth = truth.sort_values(["point_id", "start", "kind"], kind="stable").reset_index(drop=True)
    return readings[list(READING_COLUMNS)], truth[list(TRUTH_COLUMNS)]


def _fault_spec(faults: bool | dict | None) -> dict:
    spec = dict(simulator_parameters()["faults"])
    if faults is False or faults is None:
        return {}
    if isinstance(faults, dict):
        for kind, value in faults.items():
            if kind not in spec:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(spec)}")
            spec[kind] = {**spec[kind], "rate": float(value)} if not isinstance(value, dict) else {
                **spec[kind], **value}
    return spec


def _prepare(units: int, points_per_unit: int, days: int, seed: int, start: str | pd.Timestamp,
             faults: bool | dict | None, interval_minutes: int | None, overlap: bool = False,
             situations: bool | dict = False) -> tuple[_Plan, _Grid]:
    interval = int(interval_minutes or simulator_parameters()["interval_minutes"])
    if interval not in (15, 30, 60):
        raise ValueError("interval_minutes must be 15, 30 or 60")
    begin = pd.Timestamp(start)
    begin = begin.tz_localize("Asia/Shanghai") if begin.tzinfo is None else begin
    begin = begin.tz_convert("UTC")
    plan = _plan(units, points_per_unit, days, seed, begin, interval, _fault_spec(faults))
    plan.overlap = bool(overlap)
    grid = _grid(begin, days, interval, plan.registry.timezone)
    if situations:
        _inject_situations(plan, grid, situations if isinstance(situations, dict) else None)
    return plan, grid


@dataclass
class CityChunk:
    """``chunk`` enterprises of a simulated city (:func:`iter_city`): the whole city's registry, these
    enterprises' readings, fault truth, monthly reports and alert truth (:data:`ALERT_TRUTH_COLUMNS`: what the
    alerts for the last day of the run, checked at its end, must raise), and the check time ``now``."""

    registry: Registry
    readings: pd.DataFrame
    truth: pd.DataFrame
    monthly_reports: pd.DataFrame
    alert_truth: pd.DataFrame
    enterprises: list[str]
    now: pd.Timestamp


def iter_city(units: int, points_per_unit: int, days: int, seed: int = 0, *,
              start: str | pd.Timestamp = "2025-01-01T00:00:00+08:00", faults: bool | dict | None = True,
              interval_minutes: int | None = None, chunk: int = 50, overlap: bool = False,
              situations: bool | dict = False, only: Iterable[int] | None = None) -> Iterator[CityChunk]:
    """Yield the city ``chunk`` enterprises at a time (:class:`CityChunk`), never all of it in memory.

    ``overlap``: faults may touch and overlap each other (default: each keeps 12 clean intervals on either
    side, so precision and recall are an upper bound). ``situations``: inject what raises alerts (enterprises
    ahead of their budget's path, data loggers offline and meters silent at the end of the run;
    ``simulator.yaml`` ``situations``; a dict overrides some of its parameters, e.g. ``{"outage_share": 0.5}``).
    ``only``: indices of the chunks to make (the others are skipped; a
    chunk's content does not depend on the others, so worker processes can each make their own).
    """
    plan, grid = _prepare(units, points_per_unit, days, seed, start, faults, interval_minutes, overlap, situations)
    ids = list(plan.registry.enterprises["enterprise_id"])
    wanted = set(only) if only is not None else None
    now = pd.Timestamp(grid.now_ns, unit="ns", tz="UTC")
    for number, k in enumerate(range(0, len(ids), chunk)):
        if wanted is not None and number not in wanted:
            continue
        parts = [_enterprise_readings(plan, grid, eid) for eid in ids[k:k + chunk]]
        readings, truth = _finish(pd.concat([p[0] for p in parts], ignore_index=True),
                                  pd.concat([p[1] for p in parts], ignore_index=True))
        yield CityChunk(plan.registry, readings, truth, pd.concat([p[2] for p in parts], ignore_index=True),
                        pd.concat([p[3] for p in parts], ignore_index=True), ids[k:k + chunk], now)


def iter_enterprise_readings(units: int, points_per_unit: int, days: int, seed: int = 0, *,
                             start: str | pd.Timestamp = "2025-01-01T00:00:00+08:00",
                             faults: bool | dict | None = True, interval_minutes: int | None = None,
                             chunk: int = 50, overlap: bool = False, situations: bool | dict = False,
                             ) -> Iterator[tuple[Registry, pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """Yield ``(registry, readings, truth, monthly_reports)`` for ``chunk`` enterprises at a time; the
    concatenation equals :func:`simulate` with the same arguments (for writing large cities in pieces).
    :func:`iter_city` gives the alert truth as well."""
    for part in iter_city(units, points_per_unit, days, seed, start=start, faults=faults,
                          interval_minutes=interval_minutes, chunk=chunk, overlap=overlap, situations=situations):
        yield part.registry, part.readings, part.truth, part.monthly_reports


def simulate(units: int, points_per_unit: int, days: int, seed: int = 0, *,
             start: str | pd.Timestamp = "2025-01-01T00:00:00+08:00", faults: bool | dict | None = True,
             interval_minutes: int | None = None, overlap: bool = False,
             situations: bool | dict = False) -> SimulatedCity:
    """A synthetic city: ``units`` enterprises × ``points_per_unit`` energy points × ``days`` days.

    ``start``: first interval (ISO 8601; naive means the deployment's local time). ``faults``: True (rates of
    ``simulator.yaml``), False (clean data), or a dict kind → rate (events per point and day) or kind → spec.
    ``overlap``: faults may touch and overlap; ``situations``: inject what raises alerts (see :func:`iter_city`).
    Same arguments, same frames.
    """
    plan, grid = _prepare(units, points_per_unit, days, seed, start, faults, interval_minutes, overlap, situations)
    parts = [_enterprise_readings(plan, grid, eid) for eid in plan.registry.enterprises["enterprise_id"]]
    readings, truth = _finish(pd.concat([p[0] for p in parts], ignore_index=True),
                              pd.concat([p[1] for p in parts], ignore_index=True))
    monthly = pd.concat([p[2] for p in parts], ignore_index=True)
    return SimulatedCity(plan.registry, readings, truth, monthly, plan.start,
                         pd.Timestamp(grid.now_ns, unit="ns", tz="UTC"), seed,
                         pd.concat([p[3] for p in parts], ignore_index=True))


def write_city(units: int, points_per_unit: int, days: int, out: str | Path, seed: int = 0, *,
               start: str | pd.Timestamp = "2025-01-01T00:00:00+08:00", faults: bool | dict | None = True,
               interval_minutes: int | None = None, fmt: str = "parquet", chunk: int = 50,
               overlap: bool = False, situations: bool | dict = False, progress: Progress | None = None) -> dict:
    """Write a simulated city to ``out``: ``enterprises.csv``, ``points.csv``, ``products.csv``,
    ``readings/readings-YYYY-MM-pNNNN.parquet`` (first arrivals, split by UTC month of ``start``, one file per
    month and chunk of enterprises; ``.csv`` with ``fmt="csv"``), ``readings/resent-YYYY-MM-pNNNN.parquet`` (the
    same intervals sent again: duplicates with other values and revisions — ingest them after the first files,
    as name order does), ``truth.parquet``, ``alert_truth.parquet`` (what the alerts for the last day must
    raise), ``monthly_reports.csv`` and ``city.json`` (sizes, seed, the first interval and the generation time
    ``now``). Returns counts. ``progress`` (:mod:`citycarbon.progress`) counts the enterprises written, after
    each chunk of ``chunk``."""
    if fmt not in ("parquet", "csv"):
        raise ValueError("fmt must be parquet or csv")
    report = or_silent(progress)
    report(0, units, "")
    out = Path(out)
    (out / "readings").mkdir(parents=True, exist_ok=True)
    truths, monthlies, alert_truths, files, rows = [], [], [], [], 0
    registry = None
    for part, piece in enumerate(iter_city(
            units, points_per_unit, days, seed, start=start, faults=faults, interval_minutes=interval_minutes,
            chunk=chunk, overlap=overlap, situations=situations)):
        registry, readings, truth, monthly = piece.registry, piece.readings, piece.truth, piece.monthly_reports
        alert_truths.append(piece.alert_truth)
        arrived = readings.sort_values("received_at", kind="stable")
        resent = arrived.duplicated(["point_id", "start", "end"], keep="first")
        for prefix, subset in (("readings", arrived[~resent]), ("resent", arrived[resent])):
            month = subset["start"].dt.strftime("%Y-%m")
            for key, group in subset.groupby(month, sort=True):
                path = out / "readings" / f"{prefix}-{key}-p{part:04d}.{fmt}"
                group = group.sort_values(["point_id", "start"], kind="stable")
                if fmt == "parquet":
                    group.to_parquet(path, index=False)
                else:
                    group.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
                files.append(path.name)
        rows += len(readings)
        truths.append(truth)
        monthlies.append(monthly)
        report(min(units, (part + 1) * chunk), units, f"p{part:04d}")
    assert registry is not None
    registry.write(out)
    first = pd.Timestamp(start)
    first = (first.tz_localize("Asia/Shanghai") if first.tzinfo is None else first).tz_convert("UTC")
    meta = {"units": units, "points_per_unit": points_per_unit, "days": days, "seed": seed,
            "start": first.isoformat(), "now": (first + pd.Timedelta(days=days)).isoformat(),
            "interval_minutes": int(interval_minutes or simulator_parameters()["interval_minutes"]),
            "faults": bool(faults), "overlap": bool(overlap), "situations": bool(situations)}
    (out / "city.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    truth_all = pd.concat(truths, ignore_index=True)
    truth_all.to_parquet(out / "truth.parquet", index=False)
    pd.concat(monthlies, ignore_index=True).to_csv(out / "monthly_reports.csv", index=False)
    pd.concat(alert_truths, ignore_index=True).to_parquet(out / "alert_truth.parquet", index=False)
    return {"out": str(out), "enterprises": len(registry.enterprises), "points": len(registry.points),
            "products": len(registry.products), "readings": rows, "reading_files": len(files),
            "truth_rows": len(truth_all), "faults": truth_all["kind"].value_counts().sort_index().to_dict()}

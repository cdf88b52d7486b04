"""Forest growth model: area by age class, a yield table, planting and harvest; ``step(state) -> state``.

In the spirit of libcbm's pools-and-fluxes API (ENGINEERING.md §2): the state is the forest area by
forest type and stand age (1-year classes, the last one open-ended); one :func:`step` moves one year:

1. disturbance: a share ``harvest_rate`` of every age class is harvested (stand-replacing) and
   regenerates at age 0 (the area stays forest); a share ``loss_rate`` (plus any explicit
   ``extra_loss_ha``) leaves forest land, taken from every age class in proportion;
2. growth: every remaining class ages by one year (the last class keeps its area);
3. planting: afforestation area enters at age 0.

Area balance of one step: ``area_in + planted = area_out + lost`` (harvested area stays forest).
Growing stock = Σ area × multiplier × yield(age) (m³) with the yield table ``data/sinks/yield_table.csv``
(an estimated curve; :func:`calibrate_growth` fits the multiplier and the initial age structure to the
observed stock path). Carbon and the sink follow the stock-difference method of :mod:`.forest`
(IPCC 2006 Vol. 4 Ch. 2); coverage = forest area / land area (森林覆盖率; the land area is a row of
``data/sinks/land_area.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.sinks.forest import DEFAULT_FOREST_TYPE, ForestParameterTable, biomass_carbon, load_forest_parameters
from citycarbon.sinks.parameters import ParameterRow, co2_per_carbon, read_parameter_table, resolve

YIELD_TABLE = "sinks/yield_table.csv"
LAND_AREA = "sinks/land_area.csv"
#: GB/T 2260 code of Dalian, whose land area is the default coverage denominator
DEFAULT_REGION = "210200"
#: the oldest 1-year age class; it is open-ended (stands older than this stay in it)
MAX_AGE = 150
PROJECTION_COLUMNS: tuple[str, ...] = ("year", "area_ha", "coverage", "stock_m3", "carbon_t", "sink_tco2")
PROJECTION_UNITS: dict[str, str] = {"area_ha": "ha", "coverage": "1", "stock_m3": "m**3", "carbon_t": "t C",
                                    "sink_tco2": "t CO2/yr"}


# --- data: yield curves and land area -----------------------------------------------------------

@dataclass(frozen=True)
class YieldCurve:
    """Growing-stock volume per hectare (m³/ha) by stand age, for one forest type."""

    forest_type: str
    ages: tuple[float, ...]
    volume_per_ha: tuple[float, ...]
    rows: tuple[ParameterRow, ...]

    def volume_at(self, ages: np.ndarray) -> np.ndarray:
        """Linear interpolation between table ages; flat beyond the last age."""
        volume: np.ndarray = np.interp(ages, self.ages, self.volume_per_ha)
        return volume


def load_yield_table(path: str | Path | None = None) -> dict[str, YieldCurve]:
    """Yield curves by forest type from a yield-table CSV (default: the shipped estimate)."""
    return _yield_tables(str(resolve(path, YIELD_TABLE)))


@lru_cache(maxsize=4)
def _yield_tables(path: str) -> dict[str, YieldCurve]:
    frame, rows = read_parameter_table(Path(path), "forest_type", ("age",))
    problems: list[Problem] = []
    by_type: dict[str, list[tuple[float, float, ParameterRow]]] = {}
    for row, age_text in zip(rows, frame["age"].tolist(), strict=True):
        try:
            age = float(age_text)
        except (TypeError, ValueError):
            problems.append(Problem("age is not a number", file=path, row=row.row, field="age", value=age_text))
            continue
        if age < 0 or row.value < 0:
            problems.append(Problem("age and volume must not be negative", file=path, row=row.row,
                                    field="age" if age < 0 else "value", value=age if age < 0 else row.value))
            continue
        by_type.setdefault(row.key, []).append((age, row.value_in("m**3/ha"), row))
    curves: dict[str, YieldCurve] = {}
    for forest_type, points in by_type.items():
        points.sort(key=lambda p: p[0])
        ages = [p[0] for p in points]
        if len(set(ages)) != len(ages) or len(ages) < 2:
            problems.append(Problem(f"yield curve of {forest_type!r} needs two or more distinct ages",
                                    file=path, field="age"))
            continue
        curves[forest_type] = YieldCurve(forest_type, tuple(ages), tuple(p[1] for p in points),
                                         tuple(p[2] for p in points))
    if problems:
        raise InputError(problems)
    if DEFAULT_FOREST_TYPE not in curves:
        raise InputError(Problem(f"yield curve {DEFAULT_FOREST_TYPE!r} missing", file=path, field="forest_type"))
    return curves


def land_area(region: str = DEFAULT_REGION, path: str | Path | None = None) -> ParameterRow:
    """The land-area row of ``region``: its GB/T 2260 code, Chinese name or English name.

    Unknown regions raise ``InputError`` with the nearest code.
    """
    file = resolve(path, LAND_AREA)
    frame, rows = read_parameter_table(file, "region", ("name", "name_en"))
    wanted = str(region).strip()
    for row, name, name_en in zip(rows, frame["name"].tolist(), frame["name_en"].tolist(), strict=True):
        if wanted in (row.key, str(name).strip()) or wanted.lower() == str(name_en).strip().lower():
            return row
    raise InputError(Problem(f"no land area for region {region!r}", file=str(file), field="region",
                             value=region, suggestion=nearest(wanted, [row.key for row in rows])))


# --- parameters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class GrowthParameters:
    """Everything :func:`step` and :func:`project_forest` need, with the rows it came from."""

    forest_types: tuple[str, ...]
    yields: Mapping[str, YieldCurve]
    carbon: ForestParameterTable
    land_area_ha: float
    harvest_rate: float
    loss_rate: float
    multiplier: float = 1.0
    rows: tuple[ParameterRow, ...] = ()

    def curve(self, forest_type: str) -> YieldCurve:
        return self.yields.get(forest_type, self.yields[DEFAULT_FOREST_TYPE])

    def with_changes(self, **changes: object) -> GrowthParameters:
        """A copy with some fields changed (e.g. ``multiplier``, ``harvest_rate``), checked again."""
        updated = replace(self, **changes)  # type: ignore[arg-type]
        _check_rates(updated)
        return updated

    def cite(self) -> list[dict[str, Any]]:
        """Rows used: land area, harvest/loss rates and the yield curves of the types modelled."""
        cited = [row.cite() for row in self.rows]
        for forest_type in self.forest_types:
            cited += [row.cite() for row in self.curve(forest_type).rows]
        first: dict[str, dict[str, Any]] = {}
        for c in cited:
            first.setdefault(c["param_id"], c)
        return list(first.values())


def _check_rates(params: GrowthParameters) -> None:
    for name in ("harvest_rate", "loss_rate", "multiplier", "land_area_ha"):
        value = getattr(params, name)
        if not math.isfinite(value) or value < 0:
            raise InputError(Problem(f"{name} must be a non-negative finite number", field=name, value=value))
    if params.harvest_rate + params.loss_rate > 1:
        raise InputError(Problem("harvest_rate + loss_rate must not exceed 1 per year", field="harvest_rate",
                                 value=params.harvest_rate))
    if params.land_area_ha <= 0:
        raise InputError(Problem("land area must be positive", field="land_area_ha", value=params.land_area_ha))


def growth_parameters(region: str = DEFAULT_REGION, forest_types: tuple[str, ...] = (DEFAULT_FOREST_TYPE,),
                      *, harvest: str = "harvest_rate", forest_table: ForestParameterTable | None = None,
                      yield_path: str | Path | None = None,
                      land_area_path: str | Path | None = None) -> GrowthParameters:
    """Growth parameters from the shipped (or given) tables.

    ``harvest`` names the harvest row to use: ``harvest_rate`` (central), ``harvest_rate_low`` or
    ``harvest_rate_high``. Unknown forest types raise ``InputError`` with the nearest name.
    """
    table = forest_table if forest_table is not None else load_forest_parameters()
    for forest_type in forest_types:
        table.for_type(forest_type, field="forest_types")
    if not forest_types:
        raise InputError(Problem("at least one forest type is needed", field="forest_types"))
    harvest_row = table.growth_row(harvest)
    loss_row = table.growth_row("loss_rate")
    area_row = land_area(region, land_area_path)
    params = GrowthParameters(forest_types=tuple(forest_types), yields=load_yield_table(yield_path),
                              carbon=table, land_area_ha=area_row.value_in("ha"),
                              harvest_rate=harvest_row.value_in("1/yr"), loss_rate=loss_row.value_in("1/yr"),
                              rows=(area_row, harvest_row, loss_row))
    _check_rates(params)
    return params


# --- state and step ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ForestState:
    """Forest area (ha) by forest type (rows) and stand age 0..MAX_AGE (columns) at the end of ``year``.

    ``fluxes`` holds what the step that produced this state moved: ``planted_ha``, ``harvested_ha``,
    ``lost_ha``, ``harvested_m3``, ``lost_m3`` (empty for an initial state).
    """

    year: int
    forest_types: tuple[str, ...]
    area: np.ndarray
    fluxes: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        area = np.array(self.area, dtype=float)
        if area.shape != (len(self.forest_types), MAX_AGE + 1):
            raise InputError(Problem(f"area must have shape ({len(self.forest_types)}, {MAX_AGE + 1})",
                                     field="area", value=area.shape))
        if not np.isfinite(area).all() or (area < 0).any():
            raise InputError(Problem("area must be finite and non-negative", field="area"))
        area.flags.writeable = False
        object.__setattr__(self, "area", area)

    @property
    def total_area_ha(self) -> float:
        return float(self.area.sum())

    def area_by_type(self) -> dict[str, float]:
        return {t: float(a) for t, a in zip(self.forest_types, self.area.sum(axis=1), strict=True)}

    def stock_by_type(self, params: GrowthParameters) -> dict[str, float]:
        """Growing stock (m³) by forest type."""
        ages = np.arange(MAX_AGE + 1, dtype=float)
        return {t: float(params.multiplier * (self.area[i] * params.curve(t).volume_at(ages)).sum())
                for i, t in enumerate(self.forest_types)}

    def stock_m3(self, params: GrowthParameters) -> float:
        return float(sum(self.stock_by_type(params).values()))

    def carbon_t(self, params: GrowthParameters) -> float:
        """Biomass carbon (t C) by the stock-difference parameters of each type (:mod:`.forest`)."""
        areas = self.area_by_type()
        total = 0.0
        for forest_type, volume in self.stock_by_type(params).items():
            area = areas[forest_type]
            total += biomass_carbon(volume, params.carbon.for_type(forest_type), area if area > 0 else None)[0]
        return total

    def mean_age(self) -> float:
        total = self.total_area_ha
        return float((self.area.sum(axis=0) * np.arange(MAX_AGE + 1)).sum() / total) if total else 0.0


def age_state(year: int, areas: Mapping[str, Mapping[int, float]]) -> ForestState:
    """A state from ``{forest_type: {age: ha}}``; ages above MAX_AGE go to the open-ended class."""
    types = tuple(areas)
    if not types:
        raise InputError(Problem("no forest type given", field="areas"))
    grid = np.zeros((len(types), MAX_AGE + 1))
    for i, forest_type in enumerate(types):
        for age, ha in areas[forest_type].items():
            if int(age) < 0:
                raise InputError(Problem("age must not be negative", field="age", value=age))
            grid[i, min(int(age), MAX_AGE)] += _non_negative(ha, "area_ha")
    return ForestState(year=int(year), forest_types=types, area=grid)


def uniform_age_state(year: int, area_ha: float, age_limit: float,
                      forest_type: str = DEFAULT_FOREST_TYPE) -> ForestState:
    """``area_ha`` spread evenly over ages [0, ``age_limit``) (a fractional last class takes its share)."""
    area = _non_negative(area_ha, "area_ha")
    limit = float(age_limit)
    if not math.isfinite(limit) or limit <= 0 or limit > MAX_AGE + 1:
        raise InputError(Problem(f"age_limit must be in (0, {MAX_AGE + 1}]", field="age_limit", value=age_limit))
    weights = np.clip(limit - np.arange(MAX_AGE + 1, dtype=float), 0.0, 1.0)
    grid = (area * weights / weights.sum())[np.newaxis, :]
    return ForestState(year=int(year), forest_types=(forest_type,), area=grid)


def _non_negative(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(Problem("not a number", field=name, value=value)) from None
    if not math.isfinite(number) or number < 0:
        raise InputError(Problem("must be a non-negative finite number", field=name, value=value))
    return number


def _split(amount: float | Mapping[str, float], state: ForestState, name: str) -> np.ndarray:
    """Spread an area over the state's types: a mapping by type, or in proportion to current area."""
    if isinstance(amount, Mapping):
        out = np.zeros(len(state.forest_types))
        for forest_type, ha in amount.items():
            if forest_type not in state.forest_types:
                raise InputError(Problem(f"unknown forest type {forest_type!r}", field=name, value=forest_type,
                                         suggestion=nearest(forest_type, state.forest_types)))
            out[state.forest_types.index(forest_type)] = _non_negative(ha, name)
        return out
    total = _non_negative(amount, name)
    by_type = state.area.sum(axis=1)
    shares = by_type / by_type.sum() if by_type.sum() > 0 else np.eye(len(state.forest_types))[0]
    split: np.ndarray = total * shares
    return split


def step(state: ForestState, planting_ha: float | Mapping[str, float], params: GrowthParameters, *,
         extra_loss_ha: float = 0.0) -> ForestState:
    """Advance one year: disturb (harvest regenerates, loss leaves), age, plant. Pure and deterministic.

    ``planting_ha`` is a number (spread over types in proportion to their area) or ``{type: ha}``;
    ``extra_loss_ha`` removes forest area beyond ``loss_rate`` (e.g. an observed net decline), taken
    from all classes in proportion. Raises ``InputError`` for negative amounts, unknown types, a loss
    larger than the forest, or a forest larger than the land area.
    """
    planted = _split(planting_ha, state, "planting_ha")
    extra = _non_negative(extra_loss_ha, "extra_loss_ha")
    area = state.area.copy()
    total = area.sum()
    if extra > total * (1 - params.loss_rate - params.harvest_rate) + 1e-9 * max(total, 1.0):
        raise InputError(Problem("extra_loss_ha exceeds the forest area left after harvest and loss",
                                 field="extra_loss_ha", value=extra))
    loss_share = params.loss_rate + (extra / total if total > 0 else 0.0)
    ages = np.arange(MAX_AGE + 1, dtype=float)
    volume = np.vstack([params.multiplier * params.curve(t).volume_at(ages) for t in state.forest_types])
    harvested = area * params.harvest_rate
    lost = area * loss_share
    remaining = area - harvested - lost
    aged = np.zeros_like(remaining)
    aged[:, 1:] = remaining[:, :-1]
    aged[:, MAX_AGE] += remaining[:, MAX_AGE]
    aged[:, 0] += harvested.sum(axis=1) + planted
    new_total = aged.sum()
    if new_total > params.land_area_ha * (1 + 1e-9):
        raise InputError(Problem(f"forest area {new_total:,.0f} ha would exceed the land area "
                                 f"{params.land_area_ha:,.0f} ha", field="planting_ha", value=float(planted.sum())))
    fluxes = {"planted_ha": float(planted.sum()), "harvested_ha": float(harvested.sum()),
              "lost_ha": float(lost.sum()), "harvested_m3": float((harvested * volume).sum()),
              "lost_m3": float((lost * volume).sum())}
    return ForestState(year=state.year + 1, forest_types=state.forest_types, area=np.maximum(aged, 0.0),
                       fluxes=fluxes)


# --- projection -------------------------------------------------------------------------------

def _per_year(value: float | Mapping[int, float], year: int, name: str) -> float:
    if isinstance(value, Mapping):
        return _non_negative(value.get(year, 0.0), name)
    return _non_negative(value, name)


def project_forest(initial_state: ForestState, years: int, planting: float | Mapping[int, float],
                   params: GrowthParameters, *, extra_loss: float | Mapping[int, float] = 0.0) -> pd.DataFrame:
    """Project ``years`` steps from ``initial_state``.

    ``planting`` (ha/yr) and ``extra_loss`` (ha/yr) are numbers or ``{year: ha}`` keyed by the year a
    step ends in. Returns one row per year, the initial year first, with columns ``year, area_ha,
    coverage, stock_m3, carbon_t, sink_tco2`` (units in ``frame.attrs["units"]``); ``sink_tco2`` is the
    stock-difference sink of the year ending in that row (IPCC 2006 Vol. 4 Ch. 2), empty in the first row.
    """
    try:
        count = int(years)
    except (TypeError, ValueError):
        raise InputError(Problem("years must be an integer", field="years", value=years)) from None
    if count < 0 or count != years:
        raise InputError(Problem("years must be a non-negative integer", field="years", value=years))
    states = [initial_state]
    for _ in range(count):
        current = states[-1]
        year = current.year + 1
        states.append(step(current, _per_year(planting, year, "planting"), params,
                           extra_loss_ha=_per_year(extra_loss, year, "extra_loss")))
    records = []
    previous: float | None = None
    for state in states:
        carbon = state.carbon_t(params)
        records.append({"year": state.year, "area_ha": state.total_area_ha,
                        "coverage": state.total_area_ha / params.land_area_ha, "stock_m3": state.stock_m3(params),
                        "carbon_t": carbon,
                        "sink_tco2": (carbon - previous) * co2_per_carbon() if previous is not None else math.nan})
        previous = carbon
    frame = pd.DataFrame.from_records(records, columns=list(PROJECTION_COLUMNS))
    frame.attrs["units"] = dict(PROJECTION_UNITS)
    return frame


# --- calibration ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Calibration:
    """The initial state and growth multiplier that reproduce an observed stock path."""

    initial_state: ForestState
    params: GrowthParameters
    age_limit: float
    planting: Mapping[int, float]
    extra_loss: Mapping[int, float]
    fitted: pd.DataFrame  # year, observed_m3, modelled_m3, relative_error

    def to_dict(self) -> dict[str, Any]:
        return {"start_year": self.initial_state.year, "age_limit": self.age_limit,
                "mean_initial_age": self.initial_state.mean_age(), "multiplier": self.params.multiplier,
                "harvest_rate": self.params.harvest_rate, "loss_rate": self.params.loss_rate,
                "fitted": self.fitted.to_dict("records")}


def area_schedule(areas: Mapping[int, float], start: int, end: int,
                  loss_rate: float) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
    """Area path from observations (linear between observed years, flat outside) and the planting and
    extra loss per year that reproduce it given ``loss_rate``. Returns (area, planting, extra_loss)."""
    if not areas:
        raise InputError(Problem("no forest area observation", field="forest_area"))
    known = sorted((int(y), _non_negative(a, "forest_area")) for y, a in areas.items())
    xs, ys = [k[0] for k in known], [k[1] for k in known]
    path = {y: float(np.interp(y, xs, ys)) for y in range(start, end + 1)}
    planting: dict[int, float] = {}
    extra: dict[int, float] = {}
    for year in range(start + 1, end + 1):
        change = path[year] - path[year - 1] * (1 - loss_rate)
        planting[year] = max(change, 0.0)
        extra[year] = max(-change, 0.0)
    return path, planting, extra


def calibrate_growth(stock: Mapping[int, float], area: Mapping[int, float], params: GrowthParameters,
                     forest_type: str = DEFAULT_FOREST_TYPE) -> Calibration:
    """Fit the initial age structure and the yield multiplier to an observed growing-stock path.

    The initial state spreads the first observed year's area evenly over ages [0, A); the model is
    replayed with the planting implied by the area path (:func:`area_schedule`). A is found by bisection
    so that the modelled stock ratio last/first equals the observed one; the multiplier then scales the
    yield table so the first-year stock matches. Deterministic (fixed bisection, no randomness).
    ``stock`` is ``{year: m³}`` with at least two years; ``area`` is ``{year: ha}``. Raises
    ``InputError`` when the yield curve cannot produce the observed growth.
    """
    observed = sorted((int(y), _non_negative(v, "forest_stock")) for y, v in stock.items())
    if len(observed) < 2:
        raise InputError(Problem("calibration needs forest_stock in at least two years", field="forest_stock",
                                 value=[y for y, _ in observed]))
    (first, s_first), (last, s_last) = observed[0], observed[-1]
    if s_first <= 0:
        raise InputError(Problem("first observed forest_stock must be positive", field="forest_stock",
                                 value=s_first))
    params.carbon.for_type(forest_type, field="forest_type")
    base = params.with_changes(multiplier=1.0, forest_types=(forest_type,))
    path, planting, extra = area_schedule(area, first, last, base.loss_rate)

    def replay(limit: float) -> tuple[ForestState, dict[int, float]]:
        state = uniform_age_state(first, path[first], limit, forest_type)
        stocks = {first: state.stock_m3(base)}
        current = state
        for year in range(first + 1, last + 1):
            current = step(current, planting[year], base, extra_loss_ha=extra[year])
            stocks[year] = current.stock_m3(base)
        return state, stocks

    def gap(limit: float) -> float:
        stocks = replay(limit)[1]
        return stocks[last] / stocks[first] - s_last / s_first if stocks[first] > 0 else math.inf

    low, high = 1.0, float(MAX_AGE)
    gap_low, gap_high = gap(low), gap(high)
    if gap_low * gap_high > 0:
        raise InputError(Problem(
            f"the yield table cannot reproduce the observed stock growth {first}->{last} "
            f"(ratio {s_last / s_first:.4f}); adjust yield_table.csv or the harvest rate",
            field="forest_stock", value=s_last))
    for _ in range(100):
        middle = 0.5 * (low + high)
        gap_middle = gap(middle)
        if gap_middle == 0 or high - low < 1e-9:
            low = high = middle
            break
        if (gap_middle > 0) == (gap_low > 0):
            low, gap_low = middle, gap_middle
        else:
            high = middle
    limit = 0.5 * (low + high)
    state, stocks = replay(limit)
    fitted_params = base.with_changes(multiplier=s_first / stocks[first])
    factor = fitted_params.multiplier
    fitted = pd.DataFrame([{"year": y, "observed_m3": v, "modelled_m3": stocks[y] * factor,
                            "relative_error": stocks[y] * factor / v - 1 if v else math.nan}
                           for y, v in observed if y in stocks])
    return Calibration(initial_state=state, params=fitted_params, age_limit=limit, planting=planting,
                       extra_loss=extra, fitted=fitted)

"""The city's Kaya identity by sector, as long LMDI input (``year, category, factor, value, unit``).

Identity (Kaya 1990 extended by sector, in the form used for LMDI by Ang 2005, Table 2 and Ang 2015,
Energy Policy 86:233–238): for each sector ``i`` of the city and year ``t``

    E_i = P · (G / P) · (Y_i / G) · (E_i / Y_i)
    C_i = P · (G / P) · (Y_i / G) · (E_i / Y_i) · (C_i / E_i)

with ``P`` resident population, ``G`` GDP, ``Y_i`` value added of sector ``i``, ``E_i`` energy use of the
sector and ``C_i`` its CO2. The factors are named

=====================  ==================================  ==========================================
factor                 definition                          unit (defaults)
=====================  ==================================  ==========================================
``population``         ``P``                               ``population_unit`` (``10^4 person``)
``gdp_per_capita``     ``G / P``                           ``gdp_unit/(population_unit)``
``structure``          ``Y_i / G`` (share of GDP)          ``1`` (``Y_i`` converted to ``gdp_unit``)
``energy_intensity``   ``E_i / Y_i``                       ``energy_unit/(gdp_unit)``
``carbon_factor``      ``C_i / E_i`` (CO2 input only)      ``co2_unit/(energy_unit)``
=====================  ==================================  ==========================================

so the product of a sector's factors is ``E_i`` in ``energy_unit`` (``C_i`` in ``co2_unit``) and LMDI
additive effects come out in that unit. GDP and value added must be at constant prices of one base
year (统计年鉴 "按可比价格计算"); the functions cannot see the price basis, the caller chooses it. The
unit strings of derived factors are labels (``gdp_unit/(population_unit)``), not registry units.

Inputs are plain frames: ``energy``, ``value_added``, ``co2`` with columns ``year, sector, value``;
``population`` and ``gdp`` with ``year, value``. A frame may carry a ``unit`` column holding a single
unit, which then replaces the keyword default. A sector that uses neither energy nor has value added in
a year gets ``energy_intensity = 0`` (likewise ``carbon_factor = 0`` with no energy and no CO2): LMDI
treats the zeros with the Ang & Liu (2007) limits. Energy without value added, CO2 without energy,
negative values, duplicates, missing sectors or years raise :class:`InputError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.units import conversion_factor, is_unit, same_dimension

__all__ = ["CO2_FACTORS", "ENERGY_FACTORS", "kaya_co2_input", "kaya_energy_input"]

#: factor order of the energy identity
ENERGY_FACTORS: tuple[str, ...] = ("population", "gdp_per_capita", "structure", "energy_intensity")
#: factor order of the CO2 identity
CO2_FACTORS: tuple[str, ...] = (*ENERGY_FACTORS, "carbon_factor")

# dimension each input must have: a unit of that dimension, checked with citycarbon.units
_DIMENSION_OF = {"energy": "tce", "co2": "t", "value_added": "CNY", "gdp": "CNY", "population": "person"}


def _unit(frame: pd.DataFrame, name: str, default: str) -> str:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(Problem(f"{name} must be a pandas DataFrame, got {type(frame).__name__}", file=name))
    unit = default
    if "unit" in frame.columns:
        units = [str(u).strip() for u in pd.unique(frame["unit"].dropna())]
        units = [u for u in units if u]
        if len(units) > 1:
            raise InputError(Problem(f"{name} has several units ({', '.join(units)}); give one unit per "
                                     "frame", file=name, field="unit", value=units))
        if units:
            unit = units[0]
    if not is_unit(unit):
        raise InputError(Problem(f"unknown unit '{unit}' for {name}", file=name, field="unit", value=unit))
    if not same_dimension(unit, _DIMENSION_OF[name]):
        raise InputError(Problem(f"unit '{unit}' of {name} does not have the dimension of "
                                 f"'{_DIMENSION_OF[name]}'", file=name, field="unit", value=unit))
    return unit


def _values(frame: pd.DataFrame, name: str, keys: tuple[str, ...]) -> pd.Series:
    """Validated ``value`` Series indexed by ``keys`` (``year`` [, ``sector``])."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(Problem(f"{name} must be a pandas DataFrame, got {type(frame).__name__}", file=name))
    columns = (*keys, "value")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        present = [str(c) for c in frame.columns]
        raise InputError([Problem(f"{name} lacks column '{c}' (need {', '.join(columns)})", file=name,
                                  field=c, suggestion=nearest(c, present)) for c in missing])
    problems = Problems()
    year = pd.to_numeric(frame["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    value = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    for pos in np.flatnonzero(~np.isfinite(year) | (np.round(year) != year)):
        problems.add("year must be an integer", file=name, row=int(pos) + 1, field="year",
                     value=frame["year"].iloc[pos])
    for pos in np.flatnonzero(~np.isfinite(value)):
        problems.add("value is missing or not a finite number", file=name, row=int(pos) + 1, field="value",
                     value=frame["value"].iloc[pos])
    for pos in np.flatnonzero(value < 0):
        problems.add(f"negative value {float(value[pos])!r}", file=name, row=int(pos) + 1, field="value",
                     value=float(value[pos]))
    problems.raise_if_any()
    index_columns: dict[str, object] = {"year": year.astype(np.int64)}
    if "sector" in keys:
        sector = frame["sector"].astype(object).map(lambda v: "" if pd.isna(v) else str(v).strip())
        for pos in np.flatnonzero((sector == "").to_numpy()):
            problems.add("sector is empty", file=name, row=int(pos) + 1, field="sector")
        index_columns["sector"] = sector.to_numpy(dtype=object)
    problems.raise_if_any()
    index = pd.MultiIndex.from_arrays(list(index_columns.values()), names=list(index_columns))
    series = pd.Series(value, index=index if len(keys) > 1 else index.get_level_values(0), name=name)
    duplicated = series.index.duplicated(keep=False)
    for pos in np.flatnonzero(duplicated):
        problems.add(f"duplicate row for {dict(zip(keys, np.atleast_1d(series.index[pos]), strict=False))}",
                     file=name, row=int(pos) + 1, field=keys[-1])
    problems.raise_if_any()
    return series


def _need(target: pd.Series, keys: pd.Index, name: str, wanted_by: str) -> np.ndarray:
    """``target`` at ``keys``; every key must exist (InputError naming the first gaps)."""
    present = keys.isin(target.index)
    if not present.all():
        problems = Problems()
        for key in keys[~present]:
            if isinstance(key, tuple):
                year, sector = key
                choices = [s for (y, s) in target.index if y == year]
                problems.add(f"no {name} for sector '{sector}' in {year} (needed by {wanted_by})", file=name,
                             field="sector", value=sector, suggestion=nearest(sector, choices))
            else:
                problems.add(f"no {name} for {key} (needed by {wanted_by})", file=name, field="year",
                             value=int(key))
        problems.raise_if_any()
    values: np.ndarray = target.reindex(keys).to_numpy(dtype=float)
    return values


def _factors(energy: pd.DataFrame, value_added: pd.DataFrame, population: pd.DataFrame, gdp: pd.DataFrame,
             units: dict[str, str]) -> tuple[pd.MultiIndex, dict[str, np.ndarray], np.ndarray]:
    e = _values(energy, "energy", ("year", "sector"))
    y = _values(value_added, "value_added", ("year", "sector"))
    p = _values(population, "population", ("year",))
    g = _values(gdp, "gdp", ("year",))
    keys = e.index
    years = pd.Index(keys.get_level_values("year"))
    y_i = _need(y, keys, "value_added", "energy") * conversion_factor(units["value_added"], units["gdp"])
    p_t = _need(p, years, "population", "energy")
    g_t = _need(g, years, "gdp", "energy")
    e_i = e.to_numpy(dtype=float)
    problems = Problems()
    for label, arr in (("population", p_t), ("gdp", g_t)):
        for pos in np.flatnonzero(arr <= 0):
            problems.add(f"{label} must be positive, got {float(arr[pos])!r} in {years[pos]}", file=label,
                         field="value", value=float(arr[pos]))
    for pos in np.flatnonzero((y_i == 0) & (e_i > 0)):
        year, sector = keys[pos]
        problems.add(f"sector '{sector}' uses energy in {year} but has no value added: energy intensity is "
                     "undefined", file="value_added", field="value", value=0.0)
    problems.raise_if_any()
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(y_i > 0, e_i / y_i, 0.0)
    factors = {
        "population": p_t,
        "gdp_per_capita": g_t / p_t,
        "structure": y_i / g_t,
        "energy_intensity": intensity,
    }
    return keys, factors, e_i


def _long(keys: pd.MultiIndex, factors: dict[str, np.ndarray], unit_of: dict[str, str]) -> pd.DataFrame:
    n = len(keys)
    names = list(factors)
    frame = pd.DataFrame({
        "year": np.tile(keys.get_level_values("year").to_numpy(dtype=np.int64), len(names)),
        "category": np.tile(keys.get_level_values("sector").to_numpy(dtype=object), len(names)),
        "factor": np.repeat(np.array(names, dtype=object), n),
        "value": np.concatenate([factors[f] for f in names]),
        "unit": np.repeat(np.array([unit_of[f] for f in names], dtype=object), n),
        "_order": np.tile(np.arange(n), len(names)),
    })
    frame["_factor"] = np.repeat(np.arange(len(names)), n)
    frame = frame.sort_values(["year", "_order", "_factor"], kind="stable")
    return frame.drop(columns=["_order", "_factor"]).reset_index(drop=True)


def _units(**given: tuple[pd.DataFrame, str]) -> dict[str, str]:
    return {name: _unit(frame, name, default) for name, (frame, default) in given.items()}


def kaya_energy_input(*, energy: pd.DataFrame, value_added: pd.DataFrame, population: pd.DataFrame,
                      gdp: pd.DataFrame, energy_unit: str = "10^4 tce", value_added_unit: str = "10^8 CNY",
                      population_unit: str = "10^4 person", gdp_unit: str = "10^8 CNY") -> pd.DataFrame:
    """Long LMDI input ``year, category, factor, value, unit`` for energy use by sector.

    Factors :data:`ENERGY_FACTORS`; the product of a sector's factors equals its energy in
    ``energy_unit``. See the module docstring for the identity, units and error cases.
    """
    units = _units(energy=(energy, energy_unit), value_added=(value_added, value_added_unit),
                   population=(population, population_unit), gdp=(gdp, gdp_unit))
    keys, factors, _ = _factors(energy, value_added, population, gdp, units)
    return _long(keys, factors, _factor_units(units))


def kaya_co2_input(*, co2: pd.DataFrame, energy: pd.DataFrame, value_added: pd.DataFrame,
                   population: pd.DataFrame, gdp: pd.DataFrame, co2_unit: str = "10^4 t",
                   energy_unit: str = "10^4 tce", value_added_unit: str = "10^8 CNY",
                   population_unit: str = "10^4 person", gdp_unit: str = "10^8 CNY") -> pd.DataFrame:
    """Long LMDI input ``year, category, factor, value, unit`` for CO2 by sector.

    Factors :data:`CO2_FACTORS`; the product of a sector's factors equals its CO2 in ``co2_unit``.
    ``co2`` and ``energy`` must cover the same (year, sector) pairs.
    """
    units = _units(co2=(co2, co2_unit), energy=(energy, energy_unit),
                   value_added=(value_added, value_added_unit), population=(population, population_unit),
                   gdp=(gdp, gdp_unit))
    keys, factors, e_i = _factors(energy, value_added, population, gdp, units)
    c = _values(co2, "co2", ("year", "sector"))
    extra = c.index[~c.index.isin(keys)]
    if len(extra):
        raise InputError([Problem(f"CO2 given for sector '{s}' in {y} but no energy for it", file="co2",
                                  field="sector", value=s,
                                  suggestion=nearest(s, [k[1] for k in keys if k[0] == y]))
                          for y, s in extra])
    c_i = _need(c, keys, "co2", "energy")
    bad = np.flatnonzero((e_i == 0) & (c_i > 0))
    if len(bad):
        raise InputError([Problem(f"sector '{keys[pos][1]}' emits CO2 in {keys[pos][0]} but uses no energy: "
                                  "carbon factor is undefined", file="co2", field="value",
                                  value=float(c_i[pos])) for pos in bad])
    with np.errstate(divide="ignore", invalid="ignore"):
        factors["carbon_factor"] = np.where(e_i > 0, c_i / e_i, 0.0)
    return _long(keys, factors, _factor_units(units))


def _factor_units(units: dict[str, str]) -> dict[str, str]:
    labels = {
        "population": units["population"],
        "gdp_per_capita": f"{units['gdp']}/({units['population']})",
        "structure": "1",
        "energy_intensity": f"{units['energy']}/({units['gdp']})",
    }
    if "co2" in units:
        labels["carbon_factor"] = f"{units['co2']}/({units['energy']})"
    return labels

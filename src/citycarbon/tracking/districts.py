"""Districts and counties (区市县): city indicators decomposed by shares, district targets, roll-up.

Method
------
A district's extensive quantities are the city's times the district's share of that year (rows of
``data/<city>/districts.csv``: ``energy_share`` for energy consumption, ``co2_share`` for CO2 (defaults to
the energy share), ``gdp_share`` for GDP at constant prices). Intensities are recomputed from the district
quantities, so summing the districts reproduces the city exactly (:func:`roll_up_districts`) and the city's
intensity is the GDP-weighted mean of the district intensities. District targets are the city target times
the district's ``target_factor`` (the allocation the city makes, 目标分解); with the city value unset the
district value is unset too. Regions are GB/T 2260 codes from ``data/codelists/regions.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from citycarbon.codelists import load_codelist, nearest
from citycarbon.errors import InputError, Problem
from citycarbon.plan import Target
from citycarbon.units import conversion_factor

DISTRICT_VARIABLES: tuple[str, ...] = ("energy_share", "co2_share", "gdp_share", "target_factor")
#: series scaled by each share variable
SHARED_SERIES: dict[str, tuple[str, ...]] = {
    "energy_share": ("energy_consumption_tce", "energy_consumption_dual_control_tce"),
    "co2_share": ("co2_emissions_t", "co2_energy_t"),
    "gdp_share": ("gdp_10k_yuan",),
}
#: intensity = numerator / denominator, recomputed after scaling and after roll-up
INTENSITIES: dict[str, tuple[str, str]] = {
    "energy_intensity_tce_per_10k_yuan": ("energy_consumption_tce", "gdp_10k_yuan"),
    "co2_intensity_t_per_10k_yuan": ("co2_energy_t", "gdp_10k_yuan"),
}
COLUMNS: tuple[str, ...] = ("year", "region", "variable", "target_id", "value", "unit", "status", "source")
SHARE_TOLERANCE = 1e-6


def _code(value: object) -> str:
    """A GB/T 2260 code as text, whatever dtype the codelist reader gave it (210200, 210200.0, '210200')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text


def district_codes(city_code: str) -> dict[str, dict[str, str]]:
    """GB/T 2260 districts and counties whose parent is ``city_code``: code → {name_zh, name_en, level}."""
    regions = load_codelist("regions")
    parents = regions["parent"].map(_code)
    rows = regions[parents == _code(city_code)]
    return {_code(r.code): {"name_zh": str(r.name_zh), "name_en": str(r.name_en), "level": str(r.level)}
            for r in rows.itertuples()}


def check_districts(frame: pd.DataFrame, city_code: str, file: str = "districts.csv") -> pd.DataFrame:
    """Validate a districts table; :class:`InputError` names file, row, field and the nearest valid name.

    Shares must be in [0, 1] and sum to 1 over the districts for each year and share variable.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(Problem(f"missing columns {missing}", file=file, field=missing[0]))
    known = district_codes(city_code)
    problems: list[Problem] = []
    from citycarbon.importers.schemas import row_numbers

    for i, row in zip((int(n) for n in row_numbers(frame)), frame.itertuples(index=False), strict=True):
        region, variable = _code(row.region), str(row.variable)
        if region not in known:
            problems.append(Problem(f"{region!r} is not a district or county of {city_code} (GB/T 2260)",
                                    file=file, row=i, field="region", value=region,
                                    suggestion=nearest(region, list(known))))
        if variable not in DISTRICT_VARIABLES:
            problems.append(Problem(f"unknown variable {variable!r}", file=file, row=i, field="variable",
                                    value=variable, suggestion=nearest(variable, DISTRICT_VARIABLES)))
        value = float(row.value)
        if not math.isfinite(value) or value < 0 or (variable.endswith("_share") and value > 1):  # inf too
            problems.append(Problem("value must be a number ≥ 0 (shares ≤ 1)", file=file, row=i, field="value",
                                    value=row.value))
        if variable == "target_factor" and (pd.isna(row.target_id) or not str(row.target_id).strip()):
            problems.append(Problem("a target_factor row needs the plan target id", file=file, row=i,
                                    field="target_id"))
    shares = frame[frame["variable"].astype(str).str.endswith("_share")]
    for (year, variable), group in shares.groupby(["year", "variable"]):
        total = float(group["value"].sum())
        if abs(total - 1) > SHARE_TOLERANCE:
            problems.append(Problem(f"{variable} of {year} sums to {total:.6f}, not 1", file=file,
                                    field="value", value=total))
    if problems:
        raise InputError(problems)
    return frame


def _shares(frame: pd.DataFrame) -> dict[str, dict[str, dict[int, float]]]:
    shares: dict[str, dict[str, dict[int, float]]] = {}
    rows = frame[frame["variable"].astype(str).str.endswith("_share")]
    for row in rows.itertuples(index=False):
        shares.setdefault(_code(row.region), {}).setdefault(str(row.variable), {})[int(row.year)] = float(row.value)
    return shares


def _with_intensities(series: dict[str, dict[int, float]]) -> dict[str, dict[int, float]]:
    for name, (top, bottom) in INTENSITIES.items():
        if top in series and bottom in series:
            series[name] = {y: series[top][y] / series[bottom][y] for y in series[top]
                            if y in series[bottom] and series[bottom][y] > 0}
    return series


def decompose_to_districts(city: Mapping[str, Mapping[int, float]],
                           districts: pd.DataFrame) -> dict[str, dict[str, dict[int, float]]]:
    """District series: region → series name → year → value (city series × the district's share)."""
    result: dict[str, dict[str, dict[int, float]]] = {}
    for region, by_variable in _shares(districts).items():
        series: dict[str, dict[int, float]] = {}
        for variable, names in SHARED_SERIES.items():
            share = by_variable.get(variable) or (by_variable.get("energy_share") if variable == "co2_share" else None)
            if not share:
                continue
            for name in names:
                values = city.get(name) or {}
                series[name] = {int(y): float(v) * share[int(y)] for y, v in values.items()
                                if v is not None and int(y) in share}
        result[region] = _with_intensities(series)
    return result


def roll_up_districts(districts: Mapping[str, Mapping[str, Mapping[int, float]]]) -> dict[str, dict[int, float]]:
    """Sum the districts' extensive series to the city and recompute the intensities."""
    totals: dict[str, dict[int, float]] = {}
    for series in districts.values():
        for name, values in series.items():
            if name in INTENSITIES:
                continue
            bucket = totals.setdefault(name, {})
            for year, value in values.items():
                bucket[year] = bucket.get(year, 0.0) + value
    return _with_intensities(totals)


def district_targets(targets: list[Target], districts: pd.DataFrame, region: str) -> list[Target]:
    """The city targets allocated to ``region`` (value × target_factor); targets without a factor are left out."""
    rows = districts[(districts["region"].map(_code) == _code(region)) & (districts["variable"] == "target_factor")]
    factors = {str(r.target_id): float(r.value) for r in rows.itertuples(index=False)}
    known = [t.id for t in targets]
    unknown = [t for t in factors if t not in known]
    if unknown:
        raise InputError(Problem(f"target_factor for unknown target {unknown[0]!r}", field="target_id",
                                 value=unknown[0], suggestion=nearest(unknown[0], known)))
    allocated = []
    for target in targets:
        if target.id in factors:
            value = target.value * factors[target.id] if target.value is not None else None
            allocated.append(target.model_copy(update={"value": value}))
    return allocated


# -- district accounting from imported district statistics (issue 16) -----------------------------------------

#: the district statistics an import may hold (``district_statistics`` table, codelist
#: ``district_statistics_variables``): each replaces the share estimate of the same series
STATISTICS_SERIES: tuple[str, ...] = ("energy_consumption_tce", "energy_consumption_dual_control_tce",
                                      "gdp_10k_yuan", "co2_energy_t")
#: the unit each statistics series is accounted in (an imported row in another unit of the same dimension, e.g.
#: GDP in 10^8 CNY, is converted)
STATISTICS_UNITS: dict[str, str] = {"energy_consumption_tce": "tce", "energy_consumption_dual_control_tce": "tce",
                                    "gdp_10k_yuan": "10^4 CNY", "co2_energy_t": "t"}
#: statuses that make a figure an estimate (an imported figure with one of these is still flagged)
ESTIMATE_STATUSES: frozenset[str] = frozenset({"estimate", "unverified"})


def _status_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


#: region → series → year → where the figure comes from
Origins = dict[str, dict[str, dict[int, dict[str, Any]]]]


def account_districts(city: Mapping[str, Mapping[int, float]], districts: pd.DataFrame | None,
                      statistics: pd.DataFrame | None = None
                      ) -> tuple[dict[str, dict[str, dict[int, float]]], Origins]:
    """District accounts: the imported district statistics where present, the share estimate otherwise.

    ``districts``: the shares table (``districts.csv`` / ledger ``districts``; None = no shares); ``statistics``:
    the ``district_statistics`` rows (year, region, variable, value, unit, status, source and, from the ledger's
    :func:`~citycarbon.store.ledger.provenance_frame`, ``batch_id``). For each (region, series, year) the
    imported value wins; without one the city's value times the district's share is used
    (:func:`decompose_to_districts`). Intensities are recomputed from whichever figures were used.

    Returns ``(series, origins)``: region → series → year → value, and region → series → year → origin dict:
    ``{"origin": "statistics", "status", "source", "batch_id", "estimate"}`` for an imported figure,
    ``{"origin": "shares", "status", "source", "estimate"}`` for a share estimate, ``{"origin": "derived",
    "estimate"}`` for an intensity (an estimate when either of its parts is). With no statistics the series
    are exactly :func:`decompose_to_districts`' (so the districts still sum to the city).
    """
    series = decompose_to_districts(city, districts) if districts is not None else {}
    origins: Origins = {}
    share_meta: dict[tuple[str, str, int], tuple[str, str]] = {}
    if districts is not None:
        for row in districts.itertuples(index=False):
            share_meta[(_code(row.region), str(row.variable), int(row.year))] = (
                _status_text(getattr(row, "status", "")), _status_text(getattr(row, "source", "")))
    for region, by_name in series.items():
        for variable, names in SHARED_SERIES.items():
            for name in names:
                for year in by_name.get(name, {}):
                    used = variable if (region, variable, year) in share_meta else "energy_share"
                    status, source = share_meta.get((region, used, year), ("", ""))
                    origins.setdefault(region, {}).setdefault(name, {})[year] = {
                        "origin": "shares", "status": status or None, "source": source or None,
                        "estimate": status in ESTIMATE_STATUSES or not status}
    if statistics is not None and not statistics.empty:
        for row in statistics.itertuples(index=False):
            name = str(row.variable)
            if name not in STATISTICS_SERIES:
                continue
            region, year = _code(row.region), int(row.year)
            status = _status_text(getattr(row, "status", ""))
            batch = getattr(row, "batch_id", None)
            unit = _status_text(getattr(row, "unit", "")) or STATISTICS_UNITS[name]
            factor = 1.0 if unit == STATISTICS_UNITS[name] else conversion_factor(unit, STATISTICS_UNITS[name])
            series.setdefault(region, {}).setdefault(name, {})[year] = float(row.value) * factor
            origins.setdefault(region, {}).setdefault(name, {})[year] = {
                "origin": "statistics", "status": status or None,
                "source": _status_text(getattr(row, "source", "")) or None,
                "batch_id": None if batch is None or pd.isna(batch) else int(batch),
                "estimate": status in ESTIMATE_STATUSES}
    for region, by_name in series.items():
        for name in INTENSITIES:
            by_name.pop(name, None)
        _with_intensities(by_name)
        for name, (top, bottom) in INTENSITIES.items():
            for year in by_name.get(name, {}):
                parts = [origins.get(region, {}).get(part, {}).get(year, {}) for part in (top, bottom)]
                origins.setdefault(region, {}).setdefault(name, {})[year] = {
                    "origin": "derived", "from": [p.get("origin") for p in parts],
                    "estimate": any(p.get("estimate", True) for p in parts)}
    return series, origins

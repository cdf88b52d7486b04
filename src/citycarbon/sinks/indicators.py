"""Forest indicators for the plan targets: actual coverage and stock, and a growth-model projection.

The plan (大连 碳达峰工作方案, tasks 20–21; methods.md §8.1) sets forest coverage 41.5 % (2025, and not
below it in 2030) and forest stock 17.0 / 18.5 million m³ (2025 / 2030). :func:`forest_indicators`
returns the observed values and a projection to the plan years from the growth model of :mod:`.growth`,
calibrated to the observed stock path up to the accounting year (deterministic).

Projection band: the model is calibrated once per harvest assumption (``harvest_rate``,
``harvest_rate_low``, ``harvest_rate_high`` rows of ``forest_parameters.csv``, all estimates), and
each calibrated model is run with two area assumptions: the observed mean annual net area change
continues (``trend``), or the area stays constant (``hold``). ``value`` is the central run (central
harvest, trend); ``low``/``high`` are the smallest and largest values of the six runs. Every run
reproduces the observed stock path, so the band shows what the history does not pin down.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from citycarbon.errors import InputError, Problem
from citycarbon.sinks.accounting import nearest_observation
from citycarbon.sinks.forest import STANDARDS, ForestParameterTable, load_forest_parameters
from citycarbon.sinks.growth import calibrate_growth, growth_parameters, land_area, project_forest
from citycarbon.sinks.inputs import check_forest, file_name, pick_region

#: the plan years the tracking module compares with (forest_coverage_2025/2030, forest_stock_2025/2030)
PLAN_YEARS: tuple[int, ...] = (2025, 2030)
HARVEST_VARIANTS: tuple[str, ...] = ("harvest_rate", "harvest_rate_low", "harvest_rate_high")
AREA_VARIANTS: tuple[str, ...] = ("trend", "hold")
INDICATOR_COLUMNS: dict[str, tuple[str, str]] = {
    "forest_coverage": ("coverage", "1"), "forest_stock_m3": ("stock_m3", "m**3"),
    "carbon_t": ("carbon_t", "t C"), "sink_tco2": ("sink_tco2", "t CO2/yr")}


def forest_indicators(forest: pd.DataFrame, year: int, forest_table: ForestParameterTable | None = None, *,
                      region: str | None = None, horizons: Iterable[int] = PLAN_YEARS) -> dict[str, Any]:
    """Observed ``forest_coverage`` and ``forest_stock_m3`` at ``year`` and projections to ``horizons``.

    Returns ``{"year", "region", "forest_coverage": {value, year, unit, status}, "forest_stock_m3":
    {...}, "projection": {2025: {"forest_coverage": {value, low, high, unit}, "forest_stock_m3": {...},
    "carbon_t": {...}, "sink_tco2": {...}}, 2030: {...}}, "calibration", "assumptions", "parameters",
    "method", "standards"}``. Uses observations up to ``year`` only. Raises ``InputError`` when fewer
    than two stock years are observed up to ``year``, when no coverage or area is observed, or when
    the region has no land area.
    """
    file = file_name(forest, "forest")
    checked = check_forest(forest)
    place = pick_region(checked, region, file)
    table = forest_table if forest_table is not None else load_forest_parameters()
    target = int(year)
    rows = checked[(checked["region"] == place) & (checked["year"] <= target)]

    def series(variable: str) -> dict[int, tuple[float, str]]:
        subset = rows[rows["variable"] == variable]
        return {int(r.year): (float(r.value), str(r.status)) for r in subset.itertuples()}

    stock, coverage, area = series("forest_stock"), series("forest_coverage"), series("forest_area")
    if len(stock) < 2:
        raise InputError(Problem(f"forest_stock is needed in at least two years up to {target} (found "
                                 f"{sorted(stock)})", file=file, field="forest_stock", value=sorted(stock)))
    land = land_area(place)
    land_ha = land.value_in("ha")
    areas = {y: v * land_ha for y, (v, _) in coverage.items()} or {y: v for y, (v, _) in area.items()}
    if not areas:
        raise InputError(Problem("forest_coverage or forest_area is needed for the projection", file=file,
                                 field="forest_coverage"))
    plan_years = sorted({int(h) for h in horizons})
    first, last = min(stock), max(stock)
    if not plan_years or plan_years[0] < first:
        raise InputError(Problem(f"horizons must be years from {first} on", field="horizons", value=plan_years))
    area_years = sorted(areas)
    trend = ((areas[area_years[-1]] - areas[area_years[0]]) / (area_years[-1] - area_years[0])
             if len(area_years) > 1 else 0.0)
    runs: dict[tuple[str, str], pd.DataFrame] = {}
    calibrations = {}
    for harvest in HARVEST_VARIANTS:
        params = growth_parameters(place, harvest=harvest, forest_table=table)
        calibration = calibrate_growth({y: v for y, (v, _) in stock.items()}, areas, params)
        calibrations[harvest] = calibration
        end_area = areas[area_years[-1]]
        for variant in AREA_VARIANTS:
            change = trend if variant == "trend" else 0.0
            planting = dict(calibration.planting)
            extra = dict(calibration.extra_loss)
            for y in range(last + 1, plan_years[-1] + 1):
                planting[y] = max(change, 0.0) + calibration.params.loss_rate * end_area
                extra[y] = max(-change, 0.0)
            runs[(harvest, variant)] = project_forest(calibration.initial_state, plan_years[-1] - first,
                                                      planting, calibration.params, extra_loss=extra)
    central = runs[(HARVEST_VARIANTS[0], AREA_VARIANTS[0])]
    projection: dict[int, dict[str, Any]] = {}
    for horizon in plan_years:
        entry: dict[str, dict[str, Any]] = {}
        for name, (column, unit) in INDICATOR_COLUMNS.items():
            values = [float(run.loc[run["year"] == horizon, column].iloc[0]) for run in runs.values()]
            entry[name] = {"value": float(central.loc[central["year"] == horizon, column].iloc[0]),
                           "low": min(values), "high": max(values), "unit": unit}
        projection[horizon] = entry
    stock_year = max(stock)
    cov_year = nearest_observation(coverage, target)
    coverage_actual = ({"value": coverage[cov_year][0], "year": cov_year, "unit": "1", "status": coverage[cov_year][1]}
                       if cov_year is not None else
                       {"value": areas[area_years[-1]] / land_ha, "year": area_years[-1], "unit": "1",
                        "status": area[area_years[-1]][1], "derived": "forest_area / land_area"})
    central_params = calibrations[HARVEST_VARIANTS[0]].params
    cited = central_params.cite() + [calibrations[h].params.rows[1].cite() for h in HARVEST_VARIANTS[1:]]
    return {
        "year": target, "region": place,
        "forest_coverage": coverage_actual,
        "forest_stock_m3": {"value": stock[stock_year][0], "year": stock_year, "unit": "m**3",
                            "status": stock[stock_year][1]},
        "projection": projection,
        "calibration": calibrations[HARVEST_VARIANTS[0]].to_dict(),
        "assumptions": {"area_change_ha_per_yr": trend, "area_basis": "forest_coverage x land_area" if coverage
                        else "forest_area", "land_area_ha": land_ha, "harvest_variants": list(HARVEST_VARIANTS),
                        "area_variants": list(AREA_VARIANTS), "observed_years": sorted(stock)},
        "parameters": cited,
        "method": "growth model (area by age, yield table, planting, harvest) calibrated to the observed "
                  "stock path; carbon by the stock-difference method",
        "standards": list(STANDARDS),
    }

"""Sink accounting for one year: forest (stock difference) + wetland and blue carbon, with provenance.

The forest sink of year Y is the stock-difference sink (IPCC 2006 Vol. 4 Ch. 2; 省级温室气体清单编制指南
LULUCF; see :mod:`.forest`) between the growing-stock observations of Y−1 and Y. Where those are not
both observed, the nearest pair is used and stated in ``basis``: the observations around Y (mean annual
change over that interval), or the closest pair at the edge of the data. Wetland and blue-carbon sinks
are area × rate × 44/12 per ecosystem (:mod:`.blue_carbon`; HY/T 0349-2022 for salt marsh and
seagrass), with the wetland area of Y or, if Y was not surveyed, of the nearest surveyed year (stated).
Net emissions = gross CO2 − total sink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from citycarbon.errors import InputError, Problem
from citycarbon.provenance import Provenance, hash_frame
from citycarbon.sinks.blue_carbon import STANDARDS as WETLAND_STANDARDS
from citycarbon.sinks.blue_carbon import WetlandRates, WetlandSink, load_wetland_rates, wetland_sink
from citycarbon.sinks.forest import DEFAULT_FOREST_TYPE, ForestParameterTable, forest_sink, load_forest_parameters
from citycarbon.sinks.forest import STANDARDS as FOREST_STANDARDS
from citycarbon.sinks.growth import land_area
from citycarbon.sinks.inputs import check_forest, check_wetland, file_name, pick_region

METHOD_VERSION = "1.0"
SINK_UNIT = "t CO2/yr"


@dataclass(frozen=True)
class SinkParameters:
    """Parameter tables for an account: forest carbon parameters (one forest type) and wetland rates."""

    forest: ForestParameterTable
    wetland: WetlandRates
    forest_type: str = DEFAULT_FOREST_TYPE

    @classmethod
    def default(cls, forest_type: str = DEFAULT_FOREST_TYPE) -> SinkParameters:
        table = load_forest_parameters()
        table.for_type(forest_type)
        return cls(forest=table, wetland=load_wetland_rates(), forest_type=forest_type)


@dataclass
class ForestSinkLine:
    """The forest part of an account."""

    stock_m3: float
    stock_year: int
    coverage: float | None
    coverage_year: int | None
    area_ha: float | None
    sink_tco2: float
    carbon_change_t: float
    basis: str
    pair: tuple[int, int]
    forest_type: str
    parameters: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"stock_m3": self.stock_m3, "stock_year": self.stock_year, "coverage": self.coverage,
                "coverage_year": self.coverage_year, "area_ha": self.area_ha, "sink_tco2": self.sink_tco2,
                "carbon_change_t": self.carbon_change_t, "basis": self.basis, "stock_pair": list(self.pair),
                "forest_type": self.forest_type, "parameters": self.parameters}


@dataclass
class SinkAccount:
    """Sinks of one year and region: forest, wetland by ecosystem, total (t CO2/yr), provenance."""

    year: int
    region: str
    forest: ForestSinkLine
    wetland: list[WetlandSink]
    total_sink_tco2: float
    provenance: Provenance
    units: dict[str, str] = field(default_factory=lambda: {
        "sink": SINK_UNIT, "stock": "m**3", "coverage": "1", "area": "ha", "carbon": "t C",
        "rate": "t C/ha/yr"})

    @property
    def wetland_sink_tco2(self) -> float:
        return float(sum(line.sink_tco2 for line in self.wetland))

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "region": self.region, "forest": self.forest.to_dict(),
                "wetland": [line.to_dict() for line in self.wetland], "wetland_sink_tco2": self.wetland_sink_tco2,
                "total_sink_tco2": self.total_sink_tco2, "units": self.units,
                "provenance": self.provenance.to_dict()}


def _series(checked: pd.DataFrame, region: str, variable: str) -> dict[int, tuple[float, str, int]]:
    rows = checked[(checked["region"] == region) & (checked["variable"] == variable)]
    return {int(r.year): (float(r.value), str(r.status), int(r.row)) for r in rows.itertuples()}


def nearest_observation(observed: dict[int, tuple[Any, ...]], year: int) -> int | None:
    """The observed year at or before ``year`` (latest), else the earliest after it; None if none."""
    if not observed:
        return None
    before = [y for y in observed if y <= year]
    return max(before) if before else min(observed)


def stock_pair(years: list[int], year: int) -> tuple[int, int, str]:
    """The two stock observations used for the sink of ``year`` and how they were chosen."""
    ordered = sorted(years)
    if year in ordered and year - 1 in ordered:
        return year - 1, year, f"annual: stock change {year - 1}->{year}"
    if ordered[0] < year <= ordered[-1]:
        low = max(y for y in ordered if y < year)
        high = min(y for y in ordered if y >= year)
        return low, high, f"interval_average: mean annual stock change {low}->{high} (no {year - 1}/{year} pair)"
    low, high = (ordered[-2], ordered[-1]) if year > ordered[-1] else (ordered[0], ordered[1])
    return low, high, f"nearest_pair: stock change {low}->{high} used for {year} (outside the observed years)"


def account_sinks(forest: pd.DataFrame, wetland: pd.DataFrame, year: int, params: SinkParameters | None = None,
                  *, region: str | None = None) -> SinkAccount:
    """Account the carbon sinks of ``year``.

    ``forest`` and ``wetland`` are in the Dalian dataset format (see :mod:`.inputs`); ``region``
    defaults to the only region in ``forest``. Raises ``InputError`` (file, row, field, suggestion)
    for bad rows, unknown ecosystems, fewer than two forest-stock years, or a region not present.
    """
    parameters = params if params is not None else SinkParameters.default()
    try:
        target = int(year)
    except (TypeError, ValueError):
        raise InputError(Problem("year must be an integer", field="year", value=year)) from None
    forest_file, wetland_file = file_name(forest, "forest"), file_name(wetland, "wetland")
    checked = check_forest(forest)
    place = pick_region(checked, region, forest_file)
    forest_line, forest_estimates = _forest_line(checked, place, target, parameters, forest_file)
    wet_lines, wet_estimates = _wetland_lines(wetland, place, target, parameters.wetland, wetland_file)
    total = forest_line.sink_tco2 + sum(line.sink_tco2 for line in wet_lines)
    standards = list(FOREST_STANDARDS) + list(WETLAND_STANDARDS)
    standards += sorted({line.standard for line in wet_lines if line.standard})
    wet_rows = [parameters.wetland.by_id[line.param_id].row.cite() for line in wet_lines]
    provenance = Provenance(
        method="citycarbon.sinks.account_sinks: forest stock-difference + wetland area x rate",
        method_version=METHOD_VERSION, standards=standards,
        inputs={forest_file: hash_frame(forest), wetland_file: hash_frame(wetland)},
        factors=forest_line.parameters + wet_rows,
        parameters={"year": target, "region": place, "forest_type": parameters.forest_type,
                    "forest_basis": forest_line.basis, "forest_parameters_file": parameters.forest.file,
                    "wetland_rates_file": parameters.wetland.file},
        estimates=forest_estimates + wet_estimates)
    return SinkAccount(year=target, region=place, forest=forest_line, wetland=wet_lines, total_sink_tco2=total,
                       provenance=provenance)


def _forest_line(checked: pd.DataFrame, region: str, year: int, parameters: SinkParameters,
                 file: str) -> tuple[ForestSinkLine, list[str]]:
    stock = _series(checked, region, "forest_stock")
    if len(stock) < 2:
        raise InputError(Problem(f"forest_stock is needed in at least two years for {region} "
                                 f"(found {sorted(stock)})", file=file, field="forest_stock",
                                 value=sorted(stock)))
    low, high, basis = stock_pair(list(stock), year)
    coverage = _series(checked, region, "forest_coverage")
    area = _series(checked, region, "forest_area")
    land_ha = _land_area_ha(region)
    type_params = parameters.forest.for_type(parameters.forest_type)

    def area_at(y: int) -> float | None:
        if y in coverage and land_ha is not None:
            return coverage[y][0] * land_ha
        return area[y][0] if y in area else None

    area_low, area_high = area_at(low), area_at(high)
    result = forest_sink(stock[low][0], stock[high][0], high - low, type_params,
                         area_t1_ha=area_low if type_params.tiered else None,
                         area_t2_ha=area_high if type_params.tiered else None)
    stock_year = year if year in stock else high
    cov_year = nearest_observation(coverage, year)
    coverage_value: float | None = coverage[cov_year][0] if cov_year is not None else None
    if cov_year is None:
        area_year = nearest_observation(area, year)
        if area_year is not None and land_ha is not None:
            cov_year, coverage_value = area_year, area[area_year][0] / land_ha
    estimates = [f"{file} row {stock[y][2]}: forest_stock {y} ({stock[y][1]})" for y in (low, high)
                 if stock[y][1] == "estimate"]
    line = ForestSinkLine(stock_m3=stock[stock_year][0], stock_year=stock_year, coverage=coverage_value,
                          coverage_year=cov_year, area_ha=area_at(stock_year), sink_tco2=result.sink_tco2_per_yr,
                          carbon_change_t=result.carbon_change_per_yr, basis=basis, pair=(low, high),
                          forest_type=parameters.forest_type, parameters=result.parameters)
    return line, estimates


def _land_area_ha(region: str) -> float | None:
    try:
        return land_area(region).value_in("ha")
    except InputError:
        return None


def _wetland_lines(wetland: pd.DataFrame, region: str, year: int, rates: WetlandRates,
                   file: str) -> tuple[list[WetlandSink], list[str]]:
    checked = check_wetland(wetland, rates.ecosystems)
    rows = checked[checked["region"] == region] if len(checked) else checked
    if len(checked) and not len(rows):
        raise InputError(Problem(f"no wetland rows for region {region!r}", file=file, field="region",
                                 value=region, suggestion=str(checked["region"].iloc[0])))
    lines: list[WetlandSink] = []
    estimates: list[str] = []
    for ecosystem in rates.ecosystems:
        subset = rows[rows["ecosystem"] == ecosystem]
        if not len(subset):
            continue
        observed = {int(r.year): (float(r.area_ha), str(r.status), int(r.row)) for r in subset.itertuples()}
        used = nearest_observation(observed, year)
        if used is None:
            continue
        hectares, status, row = observed[used]
        lines.append(wetland_sink(ecosystem, hectares, rates, area_year=used))
        if status == "estimate":
            estimates.append(f"{file} row {row}: {ecosystem} area {used} (estimate)")
    return lines, estimates


def net_emissions(gross_co2_t: float, sinks: SinkAccount) -> float:
    """Net CO2 (t) = gross CO2 emissions (t) − total sink of the account (t CO2/yr, one year).

    Raises ``InputError`` if ``gross_co2_t`` is not a finite number.
    """
    try:
        gross = float(gross_co2_t)
    except (TypeError, ValueError):
        raise InputError(Problem("gross_co2_t is not a number", field="gross_co2_t", value=gross_co2_t)) from None
    if not math.isfinite(gross):
        raise InputError(Problem("gross_co2_t must be finite", field="gross_co2_t", value=gross_co2_t))
    return gross - sinks.total_sink_tco2

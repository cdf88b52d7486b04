"""Wetland and blue-carbon sinks: area × sequestration rate × 44/12, per ecosystem.

Method
------
Sink (t CO2/yr) = area (ha) × soil carbon accumulation rate (t C/ha/yr) × 44/12, the Tier 1 approach
of the 2013 Supplement to the 2006 IPCC Guidelines: Wetlands (Ch. 4 coastal wetlands, Table 4.12) for
vegetated coastal ecosystems. For salt marsh and seagrass the Chinese standard is
**HY/T 0349-2022《海洋碳汇核算方法》** (Ministry of Natural Resources, in force 2023-01-01); it is named in
every result for those ecosystems (``standard``). Rates are rows of ``data/sinks/wetland_rates.csv``
with their status: the IPCC 2013 values are UNVERIFIED (recalled), the salt-marsh default is the
Chmura et al. (2003) global mean burial rate (V); ecosystems without a rate in the reference
(tidal flat, inland natural, artificial wetlands) carry 0 as a conservative ``estimate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.sinks.parameters import ParameterRow, co2_per_carbon, read_parameter_table, resolve
from citycarbon.units import UnitError, conversion_factor

WETLAND_RATES = "sinks/wetland_rates.csv"
RATE_UNIT = "t C/ha/yr"
SINK_UNIT = "t CO2/yr"
DEFAULT_PARAMETER = "sequestration_rate"
ALTERNATIVE_PARAMETER = "sequestration_rate_alternative"
METHOD = "area x sequestration rate (2013 IPCC Wetlands Supplement Ch. 4 Tier 1; HY/T 0349-2022 where it applies)"
STANDARDS: tuple[str, ...] = (
    "2013 Supplement to the 2006 IPCC Guidelines for National Greenhouse Gas Inventories: Wetlands, Ch. 4",
)


@dataclass(frozen=True)
class WetlandRate:
    """A sequestration-rate row and the Chinese standard that governs its ecosystem (may be empty)."""

    row: ParameterRow
    standard: str

    @property
    def ecosystem(self) -> str:
        return self.row.key

    @property
    def rate(self) -> float:
        """The rate in t C/ha/yr."""
        return self.row.value_in(RATE_UNIT)


@dataclass(frozen=True)
class WetlandRates:
    """Rates in use by ecosystem (one per ecosystem) and every row of the table by ``param_id``."""

    file: str
    in_use: Mapping[str, WetlandRate]
    by_id: Mapping[str, WetlandRate]

    @property
    def ecosystems(self) -> tuple[str, ...]:
        return tuple(self.in_use)

    def for_ecosystem(self, ecosystem: str, *, file: str | None = None, row: int | None = None,
                      field: str = "ecosystem") -> WetlandRate:
        """The rate in use for ``ecosystem``; unknown names raise ``InputError`` with the nearest one."""
        if ecosystem not in self.in_use:
            raise InputError(Problem(f"unknown ecosystem {ecosystem!r}", file=file, row=row, field=field,
                                     value=ecosystem, suggestion=nearest(ecosystem, self.ecosystems)))
        return self.in_use[ecosystem]

    def choose(self, choices: Mapping[str, str]) -> WetlandRates:
        """A copy using the rows named in ``{ecosystem: param_id}`` (e.g. the IPCC salt-marsh rate)."""
        chosen = dict(self.in_use)
        for ecosystem, param_id in choices.items():
            self.for_ecosystem(ecosystem, field="choices")
            if param_id not in self.by_id:
                raise InputError(Problem(f"unknown param_id {param_id!r}", file=self.file, field="param_id",
                                         value=param_id, suggestion=nearest(param_id, sorted(self.by_id))))
            rate = self.by_id[param_id]
            if rate.ecosystem != ecosystem:
                raise InputError(Problem(f"{param_id!r} is a rate for {rate.ecosystem!r}, not {ecosystem!r}",
                                         file=self.file, field="param_id", value=param_id))
            chosen[ecosystem] = rate
        return WetlandRates(file=self.file, in_use=chosen, by_id=self.by_id)


def load_wetland_rates(path: str | Path | None = None) -> WetlandRates:
    """Load and check a wetland-rate table (default: the shipped ``wetland_rates.csv``).

    Each ecosystem needs exactly one ``sequestration_rate`` row (the one in use); other rows must be
    ``sequestration_rate_alternative``. Rates must be non-negative and convertible to t C/ha/yr.
    """
    return _load(str(resolve(path, WETLAND_RATES)))


@lru_cache(maxsize=4)
def _load(path: str) -> WetlandRates:
    frame, rows = read_parameter_table(Path(path), "ecosystem", ("standard",))
    problems: list[Problem] = []
    in_use: dict[str, WetlandRate] = {}
    by_id: dict[str, WetlandRate] = {}
    for row, standard in zip(rows, frame["standard"].tolist(), strict=True):
        text = "" if standard is None or (isinstance(standard, float) and math.isnan(standard)) else str(standard)
        rate = WetlandRate(row=row, standard=text.strip())
        try:
            value = rate.rate
        except UnitError:
            problems.append(Problem(f"unit {row.unit!r} is not a rate per area ({RATE_UNIT})", file=path,
                                    row=row.row, field="unit", value=row.unit))
            continue
        if value < 0:
            problems.append(Problem("rate must not be negative", file=path, row=row.row, field="value",
                                    value=row.value))
        if row.parameter == DEFAULT_PARAMETER:
            if row.key in in_use:
                problems.append(Problem(f"second {DEFAULT_PARAMETER!r} row for {row.key!r}", file=path,
                                        row=row.row, field="parameter", value=row.parameter))
            in_use[row.key] = rate
        elif row.parameter != ALTERNATIVE_PARAMETER:
            problems.append(Problem(f"unknown parameter {row.parameter!r}", file=path, row=row.row,
                                    field="parameter", value=row.parameter,
                                    suggestion=nearest(row.parameter, (DEFAULT_PARAMETER, ALTERNATIVE_PARAMETER))))
        by_id[row.param_id] = rate
    for ecosystem in sorted({rate.ecosystem for rate in by_id.values()} - set(in_use)):
        problems.append(Problem(f"ecosystem {ecosystem!r} has no {DEFAULT_PARAMETER!r} row", file=path,
                                field="parameter", value=ecosystem))
    if problems:
        raise InputError(problems)
    return WetlandRates(file=path, in_use=in_use, by_id=by_id)


@dataclass(frozen=True)
class WetlandSink:
    """The sink of one ecosystem: area, the rate used (with its status), t CO2/yr."""

    ecosystem: str
    area_ha: float
    rate: float
    rate_unit: str
    sink_tco2: float
    status: str
    flag: str
    param_id: str
    standard: str
    area_year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ecosystem": self.ecosystem, "area_ha": self.area_ha, "area_year": self.area_year,
                "rate": self.rate, "rate_unit": self.rate_unit, "sink_tco2": self.sink_tco2,
                "unit": SINK_UNIT, "status": self.status, "flag": self.flag, "param_id": self.param_id,
                "standard": self.standard or None}


def wetland_sink(ecosystem: str, area: float, rates: WetlandRates | None = None, *, unit: str = "ha",
                 area_year: int | None = None) -> WetlandSink:
    """Sink of one ecosystem: ``area × rate × 44/12`` (t CO2/yr, positive = removal).

    ``area`` is in ``unit`` (``ha``, ``km**2``, ``10^4 ha`` …). Raises ``InputError`` for an unknown
    ecosystem (with the nearest name), a negative or non-numeric area, or a non-area unit.
    """
    table = rates if rates is not None else load_wetland_rates()
    rate = table.for_ecosystem(ecosystem)
    try:
        hectares = float(area) * conversion_factor(unit, "ha")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, UnitError):
            raise InputError(Problem(str(exc), field="unit", value=unit, suggestion="ha")) from None
        raise InputError(Problem("area is not a number", field="area", value=area)) from None
    if not math.isfinite(hectares) or hectares < 0:
        raise InputError(Problem("area must be a non-negative finite number", field="area", value=area))
    sink = hectares * rate.rate * co2_per_carbon()
    return WetlandSink(ecosystem=ecosystem, area_ha=hectares, rate=rate.rate, rate_unit=RATE_UNIT, sink_tco2=sink,
                       status=rate.row.status, flag=rate.row.flag, param_id=rate.row.param_id,
                       standard=rate.standard, area_year=area_year)


def wetland_sinks(areas: Mapping[str, float], rates: WetlandRates | None = None) -> list[WetlandSink]:
    """Sinks of several ecosystems from ``{ecosystem: ha}``, in the order given."""
    table = rates if rates is not None else load_wetland_rates()
    return [wetland_sink(ecosystem, area, table) for ecosystem, area in areas.items()]

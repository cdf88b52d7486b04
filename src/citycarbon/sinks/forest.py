"""Forest carbon: the stock-difference (蓄积量) method.

Method
------
IPCC 2006 Guidelines Vol. 4 Ch. 2 (stock-difference method, ΔC = (C_t2 − C_t1) / (t2 − t1)) in the form
used by the 省级温室气体清单编制指南(试行) (NDRC 2011) LULUCF chapter and the LY/T forestry standards:

    C   = V × SVD × BEF × (1 + R) × CF          (t C; V growing-stock volume in m³)
    sink = (C_t2 − C_t1) / (t2 − t1) × 44/12     (t CO2 per year; positive = removal from the atmosphere)

SVD is the basic wood density (t dry matter per m³), BEF the biomass expansion factor (stem to
aboveground biomass, or to whole-tree biomass in the national-average convention), R the root:shoot
ratio (IPCC 2006 Vol. 4 Table 4.4, tiered on aboveground biomass per hectare), CF the carbon fraction
of dry matter. The values are rows of ``data/sinks/forest_parameters.csv``; each result lists the rows
it used. Only the biomass pools are counted; understory, litter and soil are outside this method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.sinks.parameters import ParameterRow, co2_per_carbon, read_parameter_table, resolve
from citycarbon.units import UnitError, conversion_factor

FOREST_PARAMETERS = "sinks/forest_parameters.csv"
#: the key in forest_parameters.csv for parameters shared by every forest type (growth model)
ALL_TYPES = "all"
#: the forest type used when a caller gives no type split
DEFAULT_FOREST_TYPE = "average"
CARBON_PARAMETERS: tuple[str, ...] = ("svd", "bef", "cf", "root_shoot")
GROWTH_PARAMETERS: tuple[str, ...] = ("harvest_rate", "harvest_rate_low", "harvest_rate_high", "loss_rate")

METHOD = "stock-difference (IPCC 2006 Vol. 4 Ch. 2; 省级温室气体清单编制指南(试行) LULUCF)"
STANDARDS: tuple[str, ...] = (
    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 4 Ch. 2 (stock-difference method)",
    "省级温室气体清单编制指南(试行) (NDRC 2011), 土地利用变化和林业",
)
CARBON_UNIT = "t C"
SINK_UNIT = "t CO2/yr"


@dataclass(frozen=True)
class RootShootTier:
    """A root:shoot ratio valid for aboveground biomass density in [low, high) t/ha (high None = open)."""

    low: float
    high: float | None
    row: ParameterRow

    def contains(self, agb_t_per_ha: float) -> bool:
        return agb_t_per_ha >= self.low and (self.high is None or agb_t_per_ha < self.high)


@dataclass(frozen=True)
class ForestTypeParameters:
    """The carbon parameters of one forest type (SVD, BEF, CF and R, untiered or tiered)."""

    forest_type: str
    svd: ParameterRow
    bef: ParameterRow
    cf: ParameterRow
    root_shoot: tuple[RootShootTier, ...]

    @property
    def tiered(self) -> bool:
        """True when R depends on aboveground biomass per hectare (so an area is needed)."""
        return len(self.root_shoot) > 1

    def root_shoot_for(self, agb_t_per_ha: float | None) -> ParameterRow:
        """The R row for this aboveground biomass density (t/ha); untiered types ignore it."""
        if not self.tiered:
            return self.root_shoot[0].row
        if agb_t_per_ha is None:
            raise InputError(Problem(
                f"forest type {self.forest_type!r} has a root:shoot ratio tiered on aboveground biomass "
                "per hectare (IPCC 2006 Table 4.4); give the forest area", field="area_ha"))
        for tier in self.root_shoot:
            if tier.contains(agb_t_per_ha):
                return tier.row
        raise InputError(Problem(f"no root:shoot tier covers {agb_t_per_ha:.3g} t/ha for "
                                 f"{self.forest_type!r}", file=self.svd.file, field="range_low"))


@dataclass(frozen=True)
class ForestParameterTable:
    """All rows of a forest parameter file, by forest type, plus the shared growth parameters."""

    file: str
    types: dict[str, ForestTypeParameters]
    growth: dict[str, ParameterRow]

    def for_type(self, forest_type: str, *, file: str | None = None, row: int | None = None,
                 field: str = "forest_type") -> ForestTypeParameters:
        """Parameters of ``forest_type``; an unknown type raises ``InputError`` with the nearest name."""
        if forest_type not in self.types:
            raise InputError(Problem(f"unknown forest type {forest_type!r}", file=file, row=row,
                                     field=field, value=forest_type,
                                     suggestion=nearest(forest_type, sorted(self.types))))
        return self.types[forest_type]

    def growth_row(self, parameter: str) -> ParameterRow:
        if parameter not in self.growth:
            raise InputError(Problem(f"growth parameter {parameter!r} missing", file=self.file,
                                     field="parameter",
                                     suggestion=nearest(parameter, sorted(self.growth))))
        return self.growth[parameter]


def _bound(text: object) -> float | None:
    value = str(text).strip() if text is not None else ""
    if value in ("", "nan", "<NA>", "None"):
        return None
    return float(value)


def load_forest_parameters(path: str | Path | None = None) -> ForestParameterTable:
    """Load and check a forest parameter table (default: the shipped ``forest_parameters.csv``).

    Each forest type must have exactly one ``svd``, ``bef`` and ``cf`` row and either one untiered
    ``root_shoot`` row or tiers whose ranges (``range_low``/``range_high``, t/ha aboveground biomass)
    start at 0 and are contiguous. Problems raise ``InputError`` naming file, row and field.
    """
    if path is None:
        return _default_table()
    return _load(resolve(path, FOREST_PARAMETERS))


@lru_cache(maxsize=1)
def _default_table() -> ForestParameterTable:
    return _load(resolve(None, FOREST_PARAMETERS))


def _load(path: Path) -> ForestParameterTable:
    frame, rows = read_parameter_table(path, "forest_type", ("range_low", "range_high", "range_unit"))
    name = str(path)
    problems: list[Problem] = []
    by_type: dict[str, dict[str, list[tuple[ParameterRow, dict[str, Any]]]]] = {}
    growth: dict[str, ParameterRow] = {}
    records = frame.to_dict("records")
    for row, record in zip(rows, records, strict=True):
        if row.key == ALL_TYPES:
            if row.parameter not in GROWTH_PARAMETERS:
                problems.append(Problem(f"unknown growth parameter {row.parameter!r}", file=name, row=row.row,
                                        field="parameter", value=row.parameter,
                                        suggestion=nearest(row.parameter, GROWTH_PARAMETERS)))
            _check_unit(row, "1/yr", problems)
            growth[row.parameter] = row
            continue
        if row.parameter not in CARBON_PARAMETERS:
            problems.append(Problem(f"unknown forest parameter {row.parameter!r}", file=name, row=row.row,
                                    field="parameter", value=row.parameter,
                                    suggestion=nearest(row.parameter, CARBON_PARAMETERS)))
            continue
        _check_unit(row, {"svd": "t/m**3"}.get(row.parameter, "dimensionless"), problems)
        if row.value < 0:
            problems.append(Problem("parameter must not be negative", file=name, row=row.row, field="value",
                                    value=row.value))
        by_type.setdefault(row.key, {}).setdefault(row.parameter, []).append((row, record))
    types: dict[str, ForestTypeParameters] = {}
    for forest_type, params in by_type.items():
        built = _build_type(name, forest_type, params, problems)
        if built is not None:
            types[forest_type] = built
    if problems:
        raise InputError(problems)
    if DEFAULT_FOREST_TYPE not in types:
        raise InputError(Problem(f"forest type {DEFAULT_FOREST_TYPE!r} missing", file=name,
                                 field="forest_type"))
    return ForestParameterTable(file=name, types=types, growth=growth)


def _check_unit(row: ParameterRow, unit: str, problems: list[Problem]) -> None:
    try:
        conversion_factor(row.unit, unit)
    except UnitError:
        problems.append(Problem(f"unit {row.unit!r} is not convertible to {unit!r}", file=row.file,
                                row=row.row, field="unit", value=row.unit))


def _build_type(name: str, forest_type: str, params: dict[str, list[tuple[ParameterRow, dict[str, Any]]]],
                problems: list[Problem]) -> ForestTypeParameters | None:
    single: dict[str, ParameterRow] = {}
    for parameter in ("svd", "bef", "cf"):
        found = params.get(parameter, [])
        if len(found) != 1:
            problems.append(Problem(f"forest type {forest_type!r} needs exactly one {parameter!r} row, "
                                    f"found {len(found)}", file=name, field="parameter", value=parameter))
            continue
        single[parameter] = found[0][0]
    tiers: list[RootShootTier] = []
    for row, record in params.get("root_shoot", []):
        low, high = _bound(record.get("range_low")), _bound(record.get("range_high"))
        if low is not None and str(record.get("range_unit", "")).strip() != "":
            factor = conversion_factor(str(record["range_unit"]).strip(), "t/ha")
            low, high = low * factor, (high * factor if high is not None else None)
        tiers.append(RootShootTier(low=low if low is not None else 0.0, high=high, row=row))
    tiers.sort(key=lambda tier: tier.low)
    if not tiers:
        problems.append(Problem(f"forest type {forest_type!r} has no 'root_shoot' row", file=name,
                                field="parameter", value="root_shoot"))
    elif len(tiers) > 1:
        expected = 0.0
        for tier in tiers:
            if tier.low != expected or (tier.high is not None and tier.high <= tier.low):
                problems.append(Problem(f"root:shoot tiers of {forest_type!r} are not contiguous from 0",
                                        file=name, row=tier.row.row, field="range_low", value=tier.low))
                break
            expected = tier.high if tier.high is not None else math.inf
        if tiers[-1].high is not None:
            problems.append(Problem(f"last root:shoot tier of {forest_type!r} must be open-ended", file=name,
                                    row=tiers[-1].row.row, field="range_high", value=tiers[-1].high))
    if len(single) < 3 or not tiers:
        return None
    return ForestTypeParameters(forest_type=forest_type, svd=single["svd"], bef=single["bef"],
                                cf=single["cf"], root_shoot=tuple(tiers))


def forest_parameters(forest_type: str = DEFAULT_FOREST_TYPE) -> ForestTypeParameters:
    """Shipped parameters of one forest type (``average``, ``conifer``, ``broadleaf``, ``mixed``)."""
    return load_forest_parameters().for_type(forest_type)


def _check_amount(value: object, field_name: str, *, positive: bool = False) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(Problem("not a number", field=field_name, value=value)) from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        need = "a positive" if positive else "a non-negative"
        raise InputError(Problem(f"must be {need} finite number", field=field_name, value=value))
    return number


def biomass_carbon(volume_m3: float, params: ForestTypeParameters,
                   area_ha: float | None) -> tuple[float, ParameterRow]:
    """Carbon (t C) of ``volume_m3`` and the root:shoot row applied (inputs already checked, in m³ and ha)."""
    biomass_above = volume_m3 * params.svd.value_in("t/m**3") * params.bef.value_in("dimensionless")
    density = biomass_above / area_ha if area_ha is not None else None
    r_row = params.root_shoot_for(density)
    carbon = biomass_above * (1 + r_row.value_in("dimensionless")) * params.cf.value_in("dimensionless")
    return carbon, r_row


def forest_carbon_stock(volume: float, params: ForestTypeParameters | None = None, *, unit: str = "m**3",
                        area_ha: float | None = None) -> float:
    """Biomass carbon (t C) of a growing stock: ``V × SVD × BEF × (1 + R) × CF``.

    ``volume`` is in ``unit`` (any volume: ``m**3``, ``10^4 m3`` …). ``area_ha`` is needed only for
    types whose R is tiered on aboveground biomass per hectare (IPCC 2006 Table 4.4). Raises
    ``InputError`` for a negative or non-numeric volume or a non-volume unit.
    """
    parameters = params if params is not None else forest_parameters()
    volume_m3 = _check_amount(volume, "volume") * _volume_factor(unit)
    area = _check_amount(area_ha, "area_ha", positive=True) if area_ha is not None else None
    return biomass_carbon(volume_m3, parameters, area)[0]


def _volume_factor(unit: str) -> float:
    try:
        return conversion_factor(unit, "m**3")
    except UnitError as exc:
        raise InputError(Problem(str(exc), field="unit", value=unit, suggestion="m**3")) from None


@dataclass
class SinkResult:
    """Forest sink between two stock observations, with units and the parameter rows used."""

    years: float
    stock_t1_m3: float
    stock_t2_m3: float
    carbon_t1: float
    carbon_t2: float
    carbon_change_per_yr: float
    sink_tco2_per_yr: float
    by_type: dict[str, dict[str, float]] = field(default_factory=dict)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=lambda: {
        "stock": "m**3", "carbon": CARBON_UNIT, "carbon_change": f"{CARBON_UNIT}/yr", "sink": SINK_UNIT})
    method: str = METHOD
    standards: list[str] = field(default_factory=lambda: list(STANDARDS))

    def to_dict(self) -> dict[str, Any]:
        return {"years": self.years, "stock_t1_m3": self.stock_t1_m3, "stock_t2_m3": self.stock_t2_m3,
                "carbon_t1": self.carbon_t1, "carbon_t2": self.carbon_t2,
                "carbon_change_per_yr": self.carbon_change_per_yr, "sink_tco2_per_yr": self.sink_tco2_per_yr,
                "by_type": self.by_type, "parameters": self.parameters, "units": self.units,
                "method": self.method, "standards": self.standards}


def _as_split(value: float | Mapping[str, float] | None, name: str) -> dict[str, float] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        if not value:
            raise InputError(Problem("empty forest-type split", field=name))
        return {str(k): v for k, v in value.items()}
    return {DEFAULT_FOREST_TYPE: value}


def forest_sink(stock_t1: float | Mapping[str, float], stock_t2: float | Mapping[str, float], years: float,
                params: ForestParameterTable | ForestTypeParameters | None = None, *, unit: str = "m**3",
                area_t1_ha: float | Mapping[str, float] | None = None,
                area_t2_ha: float | Mapping[str, float] | None = None) -> SinkResult:
    """Annual forest sink (t CO2/yr) from two growing-stock observations ``years`` apart.

    ``stock_t1``/``stock_t2`` are volumes in ``unit``: a number (one forest type: the given
    :class:`ForestTypeParameters`, or ``average``) or a mapping ``{forest_type: volume}`` (then
    ``params`` is a :class:`ForestParameterTable`, default the shipped one, and both mappings have the
    same types). Areas are needed for types with tiered R. Sink = ΔC / Δt × 44/12, positive for a
    removal. Raises ``InputError`` for unknown types (with the nearest name), negative stocks,
    non-positive ``years`` or mismatched splits.
    """
    span = _check_amount(years, "years", positive=True)
    factor = _volume_factor(unit)
    split_1 = _as_split(stock_t1, "stock_t1") or {}
    split_2 = _as_split(stock_t2, "stock_t2") or {}
    if set(split_1) != set(split_2):
        missing = sorted(set(split_1) ^ set(split_2))
        raise InputError(Problem(f"forest types differ between the two stocks: {missing}", field="stock_t2",
                                 value=missing))
    if isinstance(params, ForestTypeParameters):
        if isinstance(stock_t1, Mapping):
            raise InputError(Problem("a forest-type split needs a ForestParameterTable, not one type's "
                                     "parameters", field="params"))
        lookup = {DEFAULT_FOREST_TYPE: params}
    else:
        table = params if params is not None else load_forest_parameters()
        lookup = {t: table.for_type(t, field="stock_t1") for t in split_1}
    areas_1 = _as_split(area_t1_ha, "area_t1_ha") or {}
    areas_2 = _as_split(area_t2_ha, "area_t2_ha") or {}
    by_type: dict[str, dict[str, float]] = {}
    cited: dict[str, dict[str, Any]] = {}
    totals = [0.0, 0.0, 0.0, 0.0]
    for forest_type in split_1:
        p = lookup[forest_type]
        v1 = _check_amount(split_1[forest_type], "stock_t1") * factor
        v2 = _check_amount(split_2[forest_type], "stock_t2") * factor
        a1 = areas_1.get(forest_type)
        a2 = areas_2.get(forest_type)
        c1, r1 = biomass_carbon(v1, p, _check_amount(a1, "area_t1_ha", positive=True) if a1 is not None else None)
        c2, r2 = biomass_carbon(v2, p, _check_amount(a2, "area_t2_ha", positive=True) if a2 is not None else None)
        sink = (c2 - c1) / span * co2_per_carbon()
        by_type[p.forest_type] = {"stock_t1_m3": v1, "stock_t2_m3": v2, "carbon_t1": c1, "carbon_t2": c2,
                                  "sink_tco2_per_yr": sink}
        for row in (p.svd, p.bef, p.cf, r1, r2):
            cited[row.param_id] = row.cite()
        for i, value in enumerate((v1, v2, c1, c2)):
            totals[i] += value
    change = (totals[3] - totals[2]) / span
    return SinkResult(years=span, stock_t1_m3=totals[0], stock_t2_m3=totals[1], carbon_t1=totals[2],
                      carbon_t2=totals[3], carbon_change_per_yr=change,
                      sink_tco2_per_yr=change * co2_per_carbon(), by_type=by_type,
                      parameters=list(cited.values()))

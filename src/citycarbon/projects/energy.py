"""A project's annual energy in physical units → tce both ways, coal, dual-control energy and CO2.

Pure domain (no store, services or faces). The accounting core does the conversion: standard-coal
coefficients and the electricity factor of each method come from :func:`citycarbon.accounting.conversion.
coal_factors` (GB/T 2589-2020 Annex A; 发电煤耗法 with the profile's coal rate), fuel CO2 from
:meth:`citycarbon.factors.FactorTable.fuel_co2_factor` (NCV × CC × OF × 44/12 of the profile's factor set) and
the grid factor from :meth:`~citycarbon.factors.FactorTable.lookup_chain` along the profile's region chain.
Every factor is a row of the factor tables; the result's provenance lists the rows and the profile.

Input: plain mappings, one per energy use::

    {"fuel": "raw_coal", "quantity": 5000, "unit": "t"}
    {"fuel": "electricity", "quantity": 2000, "unit": "10^4 kWh"}
    {"fuel": "electricity", "quantity": 300, "unit": "10^4 kWh", "renewable": True}   # green power supply
    {"fuel": "naphtha", "quantity": 3000, "unit": "t", "purpose": "feedstock"}        # 原料用能

Method (docs/projects.md, "A project's energy and CO2"):

* ``tce_calorific`` (当量值): every use × its GB/T 2589 coefficient, electricity at its calorific
  coefficient (a row of the same table).
* ``tce_equivalent`` (等价值): the same, electricity and primary electricity at the year's thermal-power coal
  rate of the profile (``coal_rate`` row). The two differ only by electricity.
* ``tce``: the profile's method (``options.method``).
* ``feedstock_tce``: uses with ``purpose: feedstock`` (原料用能, 发改环资〔2022〕803号).
* ``renewable_electricity_tce``: electricity marked renewable and primary electricity (wind, solar … on site).
* ``dual_control_tce`` = ``tce`` − feedstock (if ``options.deduct_feedstock``) − renewable electricity (if
  ``options.deduct_renewable_increment``: a new project's renewable supply is all increment, 发改运行〔2022〕1258号).
* ``fossil_tce``: fossil fuels (codelist flag) burnt as fuel, feedstock excluded.
* ``coal_tce``: coal-group fuels (fuel and feedstock: 煤炭消费量), ``coal_t`` the same in tonnes (mass units).
* CO2: fossil fuels burnt × their derived factor; feedstock only when ``feedstock_co2=True`` (the carbon of
  a feedstock is stored in the product, IPCC 2006 Vol. 3 non-energy use); grid electricity (not renewable) ×
  the profile's grid factor; heat carriers × the heat factor. Primary and renewable electricity: none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from citycarbon.accounting.conversion import ELECTRICITY, CoalFactor, coal_factors
from citycarbon.accounting.options import AccountingOptions
from citycarbon.codelists import fuel_table, nearest
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.factors import FactorNotFound, FactorRow, FactorTable, Fallback, grid_region_names
from citycarbon.provenance import Provenance
from citycarbon.units import UnitError, conversion_factor, is_unit, product_factor, same_dimension

__all__ = ["METHOD", "PURPOSES", "EnergyUse", "FuelLine", "ProjectEnergy", "parse_uses", "project_energy"]

METHOD = "citycarbon.projects.energy"
METHOD_VERSION = "1"
PURPOSES: tuple[str, ...] = ("fuel", "feedstock")
STANDARDS: tuple[str, ...] = (
    "GB/T 2589-2020 综合能耗计算通则 (当量值/等价值)",
    "发改环资〔2022〕803号 (原料用能不纳入能源消费总量控制)",
    "发改运行〔2022〕1258号 (新增可再生能源电力消费量不纳入能源消费总量控制)",
    "省级温室气体清单编制指南(试行) / IPCC 2006 Vol. 2 Eq. 2.1",
    "生态环境部 国家统计局 电力二氧化碳排放因子",
)
_CO2_FALLBACK_CN = ("ndrc_enterprise_2013", "ipcc_2006")
_CO2_FALLBACK_IPCC = ("ipcc_2006", "cn_provincial_2011", "ndrc_enterprise_2013")


@dataclass(frozen=True)
class EnergyUse:
    """One validated energy use of a project (a year's quantity of one fuel for one purpose)."""

    fuel: str
    quantity: float
    unit: str
    purpose: str = "fuel"
    renewable: bool = False


@dataclass(frozen=True)
class FuelLine:
    """One use converted: tce both ways and CO2 (t)."""

    use: EnergyUse
    tce_calorific: float
    tce_equivalent: float
    co2_t: float
    electric: bool
    fossil: bool
    coal: bool

    def to_dict(self) -> dict[str, Any]:
        return {"fuel": self.use.fuel, "quantity": self.use.quantity, "unit": self.use.unit,
                "purpose": self.use.purpose, "renewable": self.use.renewable,
                "tce_calorific": self.tce_calorific, "tce_equivalent": self.tce_equivalent, "co2_t": self.co2_t}


@dataclass(frozen=True)
class ProjectEnergy:
    """A project's annual energy and CO2 under one accounting profile, with provenance."""

    year: int
    method: str  # the profile's electricity method: coal-equivalent or calorific
    lines: tuple[FuelLine, ...]
    tce_calorific: float
    tce_equivalent: float
    feedstock_tce_calorific: float
    feedstock_tce_equivalent: float
    renewable_electricity_tce_calorific: float
    renewable_electricity_tce_equivalent: float
    fossil_tce: float
    coal_tce: float
    coal_t: float
    co2_fuel_t: float
    co2_electricity_t: float
    co2_heat_t: float
    deduct_feedstock: bool
    deduct_renewable: bool
    provenance: Provenance = field(compare=False)

    @property
    def tce(self) -> float:
        """Total energy by the profile's method."""
        return self.tce_equivalent if self.method == "coal-equivalent" else self.tce_calorific

    @property
    def feedstock_tce(self) -> float:
        return self.feedstock_tce_equivalent if self.method == "coal-equivalent" else self.feedstock_tce_calorific

    @property
    def renewable_electricity_tce(self) -> float:
        return (self.renewable_electricity_tce_equivalent if self.method == "coal-equivalent"
                else self.renewable_electricity_tce_calorific)

    @property
    def dual_control_tce(self) -> float:
        """Total energy counted in dual control: feedstock and renewable electricity deducted per the profile."""
        return (self.tce - (self.feedstock_tce if self.deduct_feedstock else 0.0)
                - (self.renewable_electricity_tce if self.deduct_renewable else 0.0))

    @property
    def co2_t(self) -> float:
        return self.co2_fuel_t + self.co2_electricity_t + self.co2_heat_t

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "method": self.method, "tce": self.tce, "tce_calorific": self.tce_calorific,
                "tce_equivalent": self.tce_equivalent, "feedstock_tce": self.feedstock_tce,
                "renewable_electricity_tce": self.renewable_electricity_tce,
                "dual_control_tce": self.dual_control_tce, "fossil_tce": self.fossil_tce,
                "coal_tce": self.coal_tce, "coal_t": self.coal_t, "co2_t": self.co2_t,
                "co2_fuel_t": self.co2_fuel_t, "co2_electricity_t": self.co2_electricity_t,
                "co2_heat_t": self.co2_heat_t, "lines": [line.to_dict() for line in self.lines],
                "provenance": self.provenance.to_dict()}


def _bool(value: object, where: str, problems: Problems) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    problems.add(f"'{value}' is not true or false", field=where, value=str(value),
                 message_zh=f"'{value}' 不是是/否值")
    return False


def parse_uses(uses: Iterable[Mapping[str, object]], field_prefix: str = "energy") -> list[EnergyUse]:
    """Validated :class:`EnergyUse` items from plain mappings; :class:`InputError` naming ``energy[i].field``."""
    fuels = fuel_table()
    known = list(fuels.index)
    problems = Problems()
    out: list[EnergyUse] = []
    for i, item in enumerate(uses):
        at = f"{field_prefix}[{i}]"
        fuel = str(item.get("fuel", "")).strip()
        count = len(problems.items)
        if fuel not in fuels.index:
            problems.add(f"unknown fuel '{fuel}' (not in the fuels codelist)", field=f"{at}.fuel", value=fuel,
                         suggestion=nearest(fuel, known), message_zh=f"未知能源品种 '{fuel}'（不在能源品种代码表中）")
        raw = item.get("quantity")
        try:
            quantity = float(raw)  # type: ignore[arg-type]
            if not math.isfinite(quantity) or quantity < 0:
                raise ValueError(raw)
        except (TypeError, ValueError):
            problems.add(f"quantity '{raw}' is not a finite number ≥ 0", field=f"{at}.quantity", value=str(raw),
                         message_zh=f"数量 '{raw}' 必须为不小于 0 的有限数")
            quantity = 0.0
        unit = str(item.get("unit", "") or (fuels.at[fuel, "default_unit"] if fuel in fuels.index else "")).strip()
        if not is_unit(unit):
            problems.add(f"unit '{unit}' cannot be parsed", field=f"{at}.unit", value=unit,
                         message_zh=f"无法识别的单位 '{unit}'")
        purpose = str(item.get("purpose", "fuel") or "fuel").strip()
        if purpose not in PURPOSES:
            problems.add(f"purpose '{purpose}' is not one of {', '.join(PURPOSES)}", field=f"{at}.purpose",
                         value=purpose, suggestion=nearest(purpose, PURPOSES),
                         message_zh=f"用途 '{purpose}' 须为 fuel（燃料）或 feedstock（原料）")
        renewable = _bool(item.get("renewable", False), f"{at}.renewable", problems)
        if renewable and fuel in fuels.index and fuel != ELECTRICITY:
            problems.add("only electricity can be marked renewable (primary electricity is renewable by its fuel "
                         "code)", field=f"{at}.renewable", value=fuel,
                         message_zh="仅电力可标记为可再生电力（一次电力按其品种代码计）")
        if len(problems.items) == count:
            out.append(EnergyUse(fuel, quantity, unit, purpose, renewable))
    problems.raise_if_any()
    return out


def _tce(use: EnergyUse, factor: CoalFactor, at: str) -> float:
    try:
        if factor.value is None:
            return use.quantity * product_factor(use.unit, "dimensionless", "tce")
        return use.quantity * factor.value * product_factor(use.unit, str(factor.unit), "tce")
    except UnitError as exc:
        raise InputError(Problem(
            f"unit '{use.unit}' does not fit fuel '{use.fuel}' (its coefficient is per {factor.unit}): {exc}",
            field=f"{at}.unit", value=use.unit,
            message_zh=f"单位 '{use.unit}' 与能源品种 '{use.fuel}' 的折标系数（{factor.unit}）量纲不符")) from exc


def project_energy(uses: Iterable[Mapping[str, object]], options: AccountingOptions, year: int,
                   table: FactorTable, *, feedstock_co2: bool = False) -> ProjectEnergy:
    """A project's annual energy (tce both ways), coal, dual-control energy and CO2 (see the module docstring).

    ``options``: the city's resolved accounting profile (the service resolves it); ``table``: the factor table
    (shipped plus the office's rows); ``feedstock_co2``: count feedstock carbon as emitted (default: stored)."""
    parsed = parse_uses(uses)
    fuels = fuel_table()
    used: dict[str, FactorRow] = {}
    fallbacks: list[Fallback] = []
    names = sorted({u.fuel for u in parsed})
    units: dict[str, set[str]] = {}
    for u in parsed:
        units.setdefault(u.fuel, set()).add(u.unit)
    calorific = options.model_copy(update={"method": "calorific"})
    equivalent = options.model_copy(update={"method": "coal-equivalent"})
    try:
        k_cal = coal_factors(names, year, table, calorific, units)
        k_eq = coal_factors(names, year, table, equivalent, units)
    except FactorNotFound as exc:
        raise InputError(Problem(str(exc), field="year", value=year)) from exc
    except InputError as exc:  # no coefficient and not an energy unit: name the use
        bad = next((i for i, u in enumerate(parsed) if u.fuel == exc.first.value), 0)
        zh = f"能源品种 '{parsed[bad].fuel}' 无折标系数，请以能量单位（如 tce）填报"
        raise InputError(Problem(exc.first.message, field=f"energy[{bad}].unit", value=parsed[bad].unit,
                                 message_zh=zh)) from exc
    for factor in (*k_cal.values(), *k_eq.values()):
        if factor.row is not None:
            used[factor.row.factor_id] = factor.row

    co2_fallback = _CO2_FALLBACK_IPCC if options.co2_factor_set.startswith("ipcc") else _CO2_FALLBACK_CN
    grid_row: FactorRow | None = None
    heat_row: FactorRow | None = None
    lines: list[FuelLine] = []
    co2_fuel = co2_elec = co2_heat = 0.0
    for i, use in enumerate(parsed):
        at = f"energy[{i}]"
        info = fuels.loc[use.fuel]
        primary = bool(info["primary_electricity"])
        electric = use.fuel == ELECTRICITY or primary
        fossil = bool(info["fossil"])
        group = str(info["group"])
        t_cal = _tce(use, k_cal[use.fuel], at)
        t_eq = _tce(use, k_eq[use.fuel], at)
        co2 = 0.0
        if fossil and (use.purpose == "fuel" or feedstock_co2) and use.quantity:
            try:
                derived = table.fuel_co2_factor(use.fuel, year, factor_set=options.co2_factor_set,
                                                fallback=co2_fallback, quantity_unit=use.unit)
                co2 = use.quantity * derived.value * product_factor(use.unit, derived.unit, "t")
            except FactorNotFound as exc:
                raise InputError(Problem(str(exc), field=f"{at}.fuel", value=use.fuel,
                                         message_zh=f"能源品种 '{use.fuel}' 无二氧化碳排放因子")) from exc
            except UnitError as exc:
                raise InputError(Problem(str(exc), field=f"{at}.unit", value=use.unit)) from exc
            for row in derived.rows:
                used[row.factor_id] = row
            co2_fuel += co2
        elif use.fuel == ELECTRICITY and not use.renewable and use.quantity:
            if grid_row is None:
                grid_row, fallback = table.lookup_chain("grid_ef", ELECTRICITY, year, regions=options.grid_regions,
                                                        factor_set=options.grid_ef_set, names=grid_region_names())
                used[grid_row.factor_id] = grid_row
                if fallback is not None:
                    fallbacks.append(fallback)
            co2 = use.quantity * grid_row.value * product_factor(use.unit, grid_row.unit, "t")
            co2_elec += co2
        elif group == "heat" and use.quantity:
            if heat_row is None:
                heat_row = table.lookup("heat_ef", "heat", year, factor_set=options.heat_ef_set)
                used[heat_row.factor_id] = heat_row
            gj = (use.quantity * conversion_factor(use.unit, "GJ") if same_dimension(use.unit, "GJ")
                  else t_cal * conversion_factor("tce", "GJ"))
            co2 = gj * heat_row.value * product_factor("GJ", heat_row.unit, "t")
            co2_heat += co2
        lines.append(FuelLine(use, t_cal, t_eq, co2, electric, fossil, group == "coal"))

    def total(pick: str, keep: Any) -> float:
        return float(sum(getattr(line, pick) for line in lines if keep(line)))

    def renewable(line: FuelLine) -> bool:
        return line.electric and (line.use.renewable or line.use.fuel != ELECTRICITY)

    def feedstock(line: FuelLine) -> bool:
        return line.use.purpose == "feedstock"

    coal_t = float(sum(line.use.quantity * conversion_factor(line.use.unit, "t") for line in lines
                       if line.coal and same_dimension(line.use.unit, "t")))
    ids = sorted(used)
    provenance = Provenance(
        method=METHOD, method_version=METHOD_VERSION, standards=list(STANDARDS),
        factors=[used[fid].to_dict() for fid in ids],
        parameters={"year": year, "method": options.method, "feedstock_co2": feedstock_co2,
                    "deduct_feedstock": options.deduct_feedstock,
                    "deduct_renewable": options.deduct_renewable_increment,
                    "co2_factor_set": options.co2_factor_set, "grid_ef_set": options.grid_ef_set,
                    "grid_regions": list(options.grid_regions), "coal_rate_key": options.coal_rate_key,
                    "standard_coal_set": options.standard_coal_set},
        factor_tables={"all": table.content_hash(), "used": table.content_hash(ids)},
        fallbacks=[f.to_dict() for f in fallbacks], profile=options.profile(),
        estimates=sorted(fid for fid in ids if used[fid].status == "estimate"))
    return ProjectEnergy(
        year=year, method=options.method, lines=tuple(lines),
        tce_calorific=total("tce_calorific", lambda _: True), tce_equivalent=total("tce_equivalent", lambda _: True),
        feedstock_tce_calorific=total("tce_calorific", feedstock),
        feedstock_tce_equivalent=total("tce_equivalent", feedstock),
        renewable_electricity_tce_calorific=total("tce_calorific", renewable),
        renewable_electricity_tce_equivalent=total("tce_equivalent", renewable),
        fossil_tce=total("tce_calorific", lambda line: line.fossil and not feedstock(line)),
        coal_tce=total("tce_calorific", lambda line: line.coal), coal_t=coal_t,
        co2_fuel_t=co2_fuel, co2_electricity_t=co2_elec, co2_heat_t=co2_heat,
        deduct_feedstock=options.deduct_feedstock, deduct_renewable=options.deduct_renewable_increment,
        provenance=provenance)

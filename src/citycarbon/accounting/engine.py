"""The accounting engine: energy balance → energy (tce), CO2, non-fossil share, intensities, dual control.

Methods followed (see docs/accounting.md for the clause-by-clause description):

* GB/T 2589-2020《综合能耗计算通则》: standard-coal coefficients (Annex A), 1 kgce = 29 307 kJ.
* NBS regional energy balance (能源平衡表) and 能源消费总量 definition: total = final consumption +
  transformation losses + losses; primary electricity by 发电煤耗法 (the year's average thermal coal
  rate) or by 当量值 (the tabulated factor row) — both available.
* 省级温室气体清单编制指南(试行) (NDRC 2011) / IPCC 2006 Vol. 2 Eq. 2.1: combustion CO2 = activity ×
  NCV × carbon content × oxidation × 44/12; net imported electricity × MEE/NBS grid factor; heat × EF.
* 发改环资〔2022〕803号 (原料用能 deduction) and 发改运行〔2022〕1258号 (renewable-power increment over
  the 2020 base deducted from total-consumption assessment).
* Intensity reduction r = 1 − (I_t / I_base), GDP at constant prices (NBS/NDRC bulletin practice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from citycarbon.accounting.conversion import ELECTRICITY, HEAT, coal_factors, rows_to_tce
from citycarbon.accounting.options import AccountingOptions
from citycarbon.codelists import fuel_table, indicator_units, sector_table
from citycarbon.errors import InputError, Problem
from citycarbon.factors import FactorRow, FactorTable, Fallback, grid_region_names, load_factors
from citycarbon.provenance import Provenance, hash_frame
from citycarbon.units import conversion_factor, product_factor, same_dimension

METHOD_VERSION = "citycarbon.accounting/1.1"
STANDARDS = [
    "GB/T 2589-2020 综合能耗计算通则",
    "国家统计局 能源平衡表 / 能源消费总量 (发电煤耗法 and 当量值)",
    "省级温室气体清单编制指南(试行) (发改办气候〔2011〕1041号)",
    "IPCC 2006 Guidelines Vol. 2 Ch. 1-2",
    "生态环境部 国家统计局 电力二氧化碳排放因子 公告",
    "发改环资〔2022〕803号 (原料用能不纳入能源消费总量控制)",
    "发改运行〔2022〕1258号 (新增可再生能源电力消费量不纳入能源消费总量控制)",
]

DEMAND_SIGN = {
    "final_consumption": 1.0,
    "non_energy_use": 1.0,
    "transformation_input": 1.0,
    "losses": 1.0,
    "transformation_output": -1.0,
}


def _signs(flows: pd.Series) -> pd.Series:
    """+1 demand / −1 supply per flow (0 elsewhere), always float (also for an empty string column)."""
    return flows.map(DEMAND_SIGN).astype("float64").fillna(0.0)

#: fuel groups of the by_fuel_group table (production view: primary electricity produced in the city is
#: non-fossil; electricity is the net inflow, negative for a net exporter)
FUEL_GROUP_NAMES_ZH = {
    "coal": "煤炭及制品",
    "oil": "石油及制品",
    "gas": "天然气",
    "non_fossil": "本地一次电力及其他非化石能源",
    "electricity": "电力净调入(负值为净调出)",
    "heat": "热力净调入",
}
#: sector code used for rows without one (losses)
LOSS_SECTOR = "losses"
#: the explicit rows that reconcile the sector CO2 table (combustion by sector) to the total
#: (code → (zh, en)); kind "adjustment"
CO2_ADJUSTMENT_ROWS = {
    "electricity_net_inflow": ("电力净调入(负值为净调出)", "Electricity net inflow (negative: net outflow)"),
    "electricity_consumed": ("电力消费(消费口径)", "Electricity consumed (consumption basis)"),
    "heat": ("热力(净调入或消费)", "Heat (net inflow or consumed)"),
    "process": ("工业生产过程", "Industrial processes"),
}
#: factor statuses that make every figure using the row an estimate
WEAK_STATUSES = ("estimate", "unverified")


@dataclass
class AccountingResult:
    """One year's accounting. Extensive indicators in t, tce, kWh; shares as fractions."""

    year: int
    region: str
    indicators: dict[str, float | None]
    units: dict[str, str]
    by_sector: pd.DataFrame
    by_fuel: pd.DataFrame
    by_fuel_group: pd.DataFrame
    co2_by_scope: dict[str, float]
    dual_control: dict[str, float | None]
    electricity: dict[str, float | str | None]  # kWh figures, kgce/kWh, and the method and attribution names
    provenance: Provenance
    factor_rows: dict[str, FactorRow] = field(default_factory=dict)
    #: sector CO2 that sums to ``co2_emissions_t``: combustion by sector + explicit rows (electricity, heat,
    #: process; :data:`CO2_ADJUSTMENT_ROWS`)
    co2_by_sector: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: figures not computed and why (e.g. intensities without GDP), {indicator: reason}
    not_computed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "region": self.region,
            "indicators": dict(self.indicators),
            "units": dict(self.units),
            "by_sector": self.by_sector.to_dict(orient="records"),
            "by_fuel": self.by_fuel.to_dict(orient="records"),
            "by_fuel_group": self.by_fuel_group.to_dict(orient="records"),
            "co2_by_scope": dict(self.co2_by_scope),
            "dual_control": dict(self.dual_control),
            "electricity": dict(self.electricity),
            "co2_by_sector": self.co2_by_sector.to_dict(orient="records"),
            "not_computed": dict(self.not_computed),
            "provenance": self.provenance.to_dict(),
        }


#: units of the indicators an accounting result carries (from the variable codelist, the one place they live)
INDICATOR_UNITS = indicator_units((
    "energy_consumption_tce", "energy_consumption_tce_coal_equivalent", "energy_consumption_tce_calorific",
    "energy_consumption_dual_control_tce", "feedstock_tce", "non_fossil_energy_tce", "non_fossil_share",
    "coal_share", "co2_emissions_t", "co2_energy_t", "co2_process_t", "gdp_10k_yuan",
    "energy_intensity_tce_per_10k_yuan", "energy_intensity_dual_control_tce_per_10k_yuan",
    "co2_intensity_t_per_10k_yuan", "energy_intensity_reduction_yoy", "co2_intensity_reduction_yoy",
    "energy_intensity_reduction", "co2_intensity_reduction", "electricity_consumption_kwh", "period_base_year",
))


def _gdp(statistics: pd.DataFrame | None, year: int, region: str, base_year: int,
         source: str) -> tuple[float, pd.Series]:
    if statistics is None:
        raise InputError(Problem(f"no statistics given: GDP at constant {base_year} prices is needed for "
                                 f"{year}", file=source, field="gdp"))
    mask = (statistics["variable"] == "gdp") & (statistics["year"] == year) & (
        statistics["region"] == region) & (statistics["price_base_year"] == base_year)
    rows = statistics[mask.fillna(False)]
    if rows.empty:
        raise InputError(Problem(f"no GDP at constant {base_year} prices for {year} (region {region})",
                                 file=source, field="gdp", value=year))
    row = rows.iloc[0]
    return float(row["value"]) * conversion_factor(row["unit"], "10^4 CNY"), row


def _kwh(frame: pd.DataFrame) -> pd.Series:
    factors = {u: conversion_factor(u, "kWh") for u in frame["unit"].unique()}
    return frame["quantity"].astype(float) * frame["unit"].map(factors).astype("float64")


def _statistic(statistics: pd.DataFrame | None, variable: str, year: int, region: str,
               unit: str) -> float | None:
    if statistics is None:
        return None
    rows = statistics[(statistics["variable"] == variable) & (statistics["year"] == year)
                      & (statistics["region"] == region)]
    if rows.empty:
        return None
    return float(rows.iloc[0]["value"]) * conversion_factor(rows.iloc[0]["unit"], unit)


def _year_frame(balance: pd.DataFrame, year: int, region: str | None, source: str) -> tuple[pd.DataFrame, str]:
    frame = balance[balance["year"] == year]
    if region is not None:
        frame = frame[frame["region"] == region]
    if frame.empty:
        years = sorted(int(y) for y in balance["year"].unique())
        raise InputError(Problem(f"the balance has no rows for {year}" + (f" in region {region}" if region
                                 else "") + f" (years present: {years[0]}–{years[-1]})" if years else "",
                                 file=source, field="year", value=year))
    regions = frame["region"].unique()
    if len(regions) > 1:
        raise InputError(Problem(f"the balance holds several regions for {year} ({', '.join(map(str, regions))});"
                                 " choose one", file=source, field="region"))
    return frame.copy(), str(regions[0])


@dataclass
class _Year:
    """One year's balance and the context every stage reads (``used``: factor rows in the order used)."""

    year: int
    region: str
    frame: pd.DataFrame
    options: AccountingOptions
    table: FactorTable
    fuels: pd.DataFrame
    sectors: pd.DataFrame
    used: dict[str, FactorRow]
    fallbacks: list[Fallback] = field(default_factory=list)

    def chain(self, kind: str, key: str, factor_set: str | None, regions: tuple[str, ...]) -> FactorRow:
        """A regional factor for the exact year along ``regions`` (:meth:`FactorTable.lookup_chain`); the row
        is recorded as used and a fallback noted."""
        row, fallback = self.table.lookup_chain(kind, key, self.year, regions=regions, factor_set=factor_set,
                                                names=grid_region_names())
        self.used[row.factor_id] = row
        if fallback is not None and fallback not in self.fallbacks:
            self.fallbacks.append(fallback)
        return row


@dataclass
class EnergyStage:
    """Stage 1: energy (tce) by the demand side, and the city's electricity balance (kWh)."""

    demand: pd.DataFrame  # rows with a demand sign, energy_tce signed
    by_sector: pd.DataFrame  # sector, energy_tce
    total_tce: float
    fuel_energy: pd.Series  # fuel → tce (primary electricity at the electricity factor)
    primary_by_fuel: pd.Series  # primary-electricity fuel → kWh produced
    consumed_kwh: float
    thermal_kwh: float
    primary_kwh: float
    net_inflow_kwh: float
    k_elec: float | None  # tce per kWh of the chosen method (None: no electricity factor)


@dataclass
class NonFossilStage:
    """Stage 2: non-fossil energy and its share of the total."""

    nonfossil_kwh: float
    nonfossil_tce: float
    nonfossil_share: float | None


@dataclass
class DualControlStage:
    """Stage 3: the dual-control view (feedstock and renewable-increment deductions)."""

    feedstock_tce: float
    renewable_increment_tce: float
    renewable_note: str | None
    dual_total: float


@dataclass
class Co2Stage:
    """Stage 4: CO2 by scope, and the combustion rows with their CO2."""

    co2_rows: pd.DataFrame
    scope1: float
    scope2_electricity: float
    scope2_heat: float
    process_t: float
    co2_energy: float
    co2_total: float
    heat_by_fuel: dict[str, float] = field(default_factory=dict)  # t CO2 of each heat carrier


@dataclass
class Tables:
    """Stage 5: the result tables by sector, by fuel and by fuel group."""

    by_sector: pd.DataFrame
    by_fuel: pd.DataFrame
    by_group: pd.DataFrame
    coal_tce: float


def _energy_stage(y: _Year) -> EnergyStage:
    frame, fuels = y.frame, y.fuels
    units_by_fuel: dict[str, set[str]] = {}
    for fuel, unit in frame[["fuel", "unit"]].drop_duplicates().itertuples(index=False):
        units_by_fuel.setdefault(fuel, set()).add(unit)
    coal = coal_factors(sorted(frame["fuel"].unique()), y.year, y.table, y.options, units_by_fuel)
    for factor in coal.values():
        if factor.row is not None:
            y.used[factor.row.factor_id] = factor.row
    frame["tce"] = rows_to_tce(frame, coal)
    frame["sign"] = _signs(frame["flow"])
    frame["sector"] = frame["sector"].where(frame["flow"] != "losses", LOSS_SECTOR).fillna(LOSS_SECTOR)
    demand = frame[frame["sign"] != 0].copy()
    demand["energy_tce"] = demand["tce"] * demand["sign"]

    is_electric = frame["fuel"].map(lambda f: f == ELECTRICITY or bool(fuels.at[f, "primary_electricity"]))
    elec_rows = frame[is_electric].copy()
    elec_rows["kwh"] = _kwh(elec_rows) if not elec_rows.empty else pd.Series(dtype=float)
    primary = elec_rows[(elec_rows["flow"] == "production") & (elec_rows["fuel"] != ELECTRICITY)]
    primary_by_fuel = primary.groupby("fuel")["kwh"].sum()
    grid = elec_rows[elec_rows["fuel"] == ELECTRICITY]
    demand_kwh = float((grid["kwh"] * _signs(grid["flow"])).sum())
    consumed_kwh = float(grid.loc[grid["flow"].isin(["final_consumption", "losses", "transformation_input"]),
                                  "kwh"].sum())
    thermal_kwh = float(grid.loc[grid["flow"] == "transformation_output", "kwh"].sum())
    primary_kwh = float(primary_by_fuel.sum())
    net_inflow_kwh = demand_kwh - primary_kwh  # residual: imports − exports (+ statistical difference)
    k_elec = coal[ELECTRICITY].value * product_factor("kWh", coal[ELECTRICITY].unit, "tce") if (
        ELECTRICITY in coal) else None

    # energy by sector and by fuel (demand side; identical totals)
    by_sector = demand.groupby("sector", as_index=False)["energy_tce"].sum()
    total_tce = float(demand["energy_tce"].sum())
    fuel_energy = demand.groupby("fuel")["energy_tce"].sum()
    if ELECTRICITY in fuel_energy.index or not primary_by_fuel.empty:
        elec_total = float(fuel_energy.get(ELECTRICITY, 0.0))
        fuel_energy = fuel_energy.drop(ELECTRICITY, errors="ignore")
        k = k_elec or 0.0
        for fuel, kwh in primary_by_fuel.items():
            fuel_energy[fuel] = kwh * k
        fuel_energy[ELECTRICITY] = elec_total - float(primary_by_fuel.sum()) * k
    return EnergyStage(demand, by_sector, total_tce, fuel_energy, primary_by_fuel, consumed_kwh, thermal_kwh,
                       primary_kwh, net_inflow_kwh, k_elec)


def _grid_share_row(y: _Year) -> FactorRow:
    regions = tuple(dict.fromkeys((y.options.grid_share_region, y.options.grid_region_fallback, "national")))
    return y.chain("grid_nonfossil_share", ELECTRICITY, None, regions)


def _non_fossil_stage(y: _Year, e: EnergyStage) -> NonFossilStage:
    fuels = y.fuels
    direct_nonfossil = float(sum(v for f, v in e.fuel_energy.items()
                                 if fuels.at[f, "group"] == "non_fossil" and not fuels.at[f, "primary_electricity"]))
    share_row = None
    if y.options.nonfossil_attribution == "grid_average":
        share_row = _grid_share_row(y)
        nonfossil_kwh = e.consumed_kwh * share_row.value_in("dimensionless")
    else:
        local_generation = e.primary_kwh + e.thermal_kwh
        local_share = e.primary_kwh / local_generation if local_generation > 0 else 0.0
        if e.net_inflow_kwh >= 0:
            if e.net_inflow_kwh > 0:
                share_row = _grid_share_row(y)
                nonfossil_kwh = e.primary_kwh + e.net_inflow_kwh * share_row.value_in("dimensionless")
            else:
                nonfossil_kwh = e.primary_kwh
        else:
            nonfossil_kwh = e.primary_kwh + e.net_inflow_kwh * local_share
    if share_row is not None:
        y.used[share_row.factor_id] = share_row
    nonfossil_tce = nonfossil_kwh * (e.k_elec or 0.0) + direct_nonfossil
    return NonFossilStage(nonfossil_kwh, nonfossil_tce, nonfossil_tce / e.total_tce if e.total_tce > 0 else None)


def _dual_control_stage(y: _Year, e: EnergyStage, balance: pd.DataFrame,
                        statistics: pd.DataFrame | None) -> DualControlStage:
    options = y.options
    feedstock_tce = float(e.demand.loc[e.demand["flow"] == "non_energy_use", "energy_tce"].sum())
    renewable_note = None
    renewable_increment_tce = 0.0
    if options.deduct_renewable_increment and y.year > options.renewable_base_year:
        renewable_now = _renewable_kwh(statistics, balance, y.year, y.region, options, y.fuels)
        renewable_base = _renewable_kwh(statistics, balance, options.renewable_base_year, y.region, options, y.fuels)
        if renewable_now is not None and renewable_base is not None:
            renewable_increment_tce = max(0.0, renewable_now[0] - renewable_base[0]) * (e.k_elec or 0.0)
            renewable_note = f"{renewable_now[1]} ({y.year}) vs {renewable_base[1]} ({options.renewable_base_year})"
        else:
            renewable_note = f"no renewable power data for {options.renewable_base_year}: no deduction"
    dual_total = e.total_tce - (feedstock_tce if options.deduct_feedstock else 0.0) - renewable_increment_tce
    return DualControlStage(feedstock_tce, renewable_increment_tce, renewable_note, dual_total)


def _co2_stage(y: _Year, e: EnergyStage, process_activity: pd.DataFrame | None) -> Co2Stage:
    frame, options, table, year = y.frame, y.options, y.table, y.year
    fossil = frame["fuel"].map(lambda f: bool(y.fuels.at[f, "fossil"]))
    consumption_basis = options.electricity_co2_basis == "consumption"
    burnt_in_transformation = (frame["flow"] == "transformation_input") & frame["sector"].isin(
        options.combustion_transformations)
    if consumption_basis:  # generation is re-attributed to the electricity and heat consumed
        burnt_in_transformation &= ~frame["sector"].isin(("power", "heat_supply"))
    burnt = frame[fossil & ((frame["flow"] == "final_consumption") | burnt_in_transformation)]
    co2_rows = burnt.copy()
    ef_multiplier: dict[tuple[str, str], float] = {}
    co2_fallback = (("ipcc_2006", "cn_provincial_2011", "ndrc_enterprise_2013")
                    if options.co2_factor_set.startswith("ipcc") else ("ndrc_enterprise_2013", "ipcc_2006"))
    for fuel, unit in co2_rows[["fuel", "unit"]].drop_duplicates().itertuples(index=False):
        derived = table.fuel_co2_factor(fuel, year, factor_set=options.co2_factor_set, fallback=co2_fallback,
                                        quantity_unit=unit)
        for row in derived.rows:
            y.used[row.factor_id] = row
        ef_multiplier[(fuel, unit)] = derived.value * product_factor(unit, derived.unit, "t")
    co2_rows["co2_t"] = co2_rows["quantity"].astype(float) * pd.Series(
        [ef_multiplier[k] for k in zip(co2_rows["fuel"], co2_rows["unit"], strict=True)], index=co2_rows.index)
    scope1 = float(co2_rows["co2_t"].sum())
    grid_row = y.chain("grid_ef", ELECTRICITY, options.grid_ef_set, options.grid_regions)
    electricity_basis_kwh = e.consumed_kwh if consumption_basis else e.net_inflow_kwh
    scope2_electricity = electricity_basis_kwh * product_factor("kWh", grid_row.unit, "t") * grid_row.value
    heat_by_fuel = _heat_net_gj(y, consumption_basis)
    heat_co2_by_fuel: dict[str, float] = {}
    if any(abs(v) > 0 for v in heat_by_fuel.values()):
        heat_row = table.lookup("heat_ef", HEAT, year, factor_set=options.heat_ef_set)
        y.used[heat_row.factor_id] = heat_row
        per_gj = product_factor("GJ", heat_row.unit, "t") * heat_row.value
        heat_co2_by_fuel = {fuel: gj * per_gj for fuel, gj in heat_by_fuel.items()}
    scope2_heat = float(sum(heat_co2_by_fuel.values()))
    process_t = 0.0
    if options.include_process and process_activity is not None and not process_activity.empty:
        activity = process_activity[(process_activity["year"] == year) & (process_activity["region"] == y.region)]
        for item in activity.itertuples(index=False):
            row = table.lookup("process_ef", item.process, year)
            y.used[row.factor_id] = row
            process_t += float(item.quantity) * product_factor(item.unit, row.unit, "t") * row.value
    co2_energy = scope1 + scope2_electricity + scope2_heat
    return Co2Stage(co2_rows, scope1, scope2_electricity, scope2_heat, process_t, co2_energy, co2_energy + process_t,
                    heat_co2_by_fuel)


def _heat_net_gj(y: _Year, consumption_basis: bool) -> dict[str, float]:
    """GJ of each heat carrier (heat, hot water, steam grades: fuel group ``heat``) counted for CO2: net inflow
    (demand-signed, local output deducted) or, on the consumption basis, heat consumed.

    A quantity in an energy unit converts by unit; a quantity in mass (steam in t or kg) converts through its
    GB/T 2589 standard-coal coefficient (当量值) at 1 kgce = 29 307 kJ (GB/T 2589; units.txt), the definition
    of the coefficient."""
    frame = y.frame
    heat_rows = frame[frame["fuel"].map(y.fuels["group"]) == "heat"]
    if heat_rows.empty:
        return {}
    gj = pd.Series(0.0, index=heat_rows.index)
    for unit in heat_rows["unit"].unique():
        mask = heat_rows["unit"] == unit
        if same_dimension(unit, "GJ"):
            gj[mask] = heat_rows.loc[mask, "quantity"].astype(float) * conversion_factor(unit, "GJ")
        else:
            gj[mask] = heat_rows.loc[mask, "tce"].astype(float) * conversion_factor("tce", "GJ")
    signs = _signs(heat_rows["flow"])
    if consumption_basis:  # heat consumed (final, losses), wherever it was produced
        signs = signs.where(heat_rows["flow"] != "transformation_output", 0.0)
    signed = gj * signs
    return {str(fuel): float(value) for fuel, value in signed.groupby(heat_rows["fuel"]).sum().items()}


def _tables_stage(y: _Year, e: EnergyStage, c: Co2Stage) -> Tables:
    sectors, fuels = y.sectors, y.fuels
    by_sector = e.by_sector
    sector_co2 = c.co2_rows.groupby("sector")["co2_t"].sum()
    by_sector["co2_t"] = by_sector["sector"].map(sector_co2).astype("float64").fillna(0.0)
    for extra in set(sector_co2.index) - set(by_sector["sector"]):
        by_sector.loc[len(by_sector)] = {"sector": extra, "energy_tce": 0.0, "co2_t": float(sector_co2[extra])}
    by_sector["name_zh"] = by_sector["sector"].map(sectors["name_zh"])
    by_sector["name_en"] = by_sector["sector"].map(sectors["name_en"])
    by_sector["parent"] = by_sector["sector"].map(sectors["parent"]).astype(object).where(
        lambda s: s.notna(), None)
    by_sector["kind"] = by_sector["sector"].map(sectors["kind"])
    by_sector = by_sector[["sector", "name_zh", "name_en", "kind", "parent", "energy_tce", "co2_t"]]
    by_sector = by_sector.sort_values(["kind", "energy_tce"], ascending=[True, False]).reset_index(drop=True)

    fuel_co2 = c.co2_rows.groupby("fuel")["co2_t"].sum()
    by_fuel = pd.DataFrame({"fuel": list(e.fuel_energy.index), "energy_tce": list(e.fuel_energy.to_numpy())})
    by_fuel["co2_t"] = by_fuel["fuel"].map(fuel_co2).astype("float64").fillna(0.0)
    by_fuel.loc[by_fuel["fuel"] == ELECTRICITY, "co2_t"] += c.scope2_electricity
    for fuel, heat_t in c.heat_by_fuel.items():
        by_fuel.loc[by_fuel["fuel"] == fuel, "co2_t"] += heat_t
    by_fuel["group"] = by_fuel["fuel"].map(fuels["group"])
    by_fuel["name_zh"] = by_fuel["fuel"].map(fuels["name_zh"])
    by_fuel["name_en"] = by_fuel["fuel"].map(fuels["name_en"])
    by_fuel = by_fuel[["fuel", "name_zh", "name_en", "group", "energy_tce", "co2_t"]]
    by_fuel = by_fuel.sort_values("energy_tce", ascending=False).reset_index(drop=True)
    by_group = by_fuel.groupby("group", as_index=False)[["energy_tce", "co2_t"]].sum()
    by_group["share"] = by_group["energy_tce"] / e.total_tce if e.total_tce else None
    by_group["name_zh"] = by_group["group"].map(FUEL_GROUP_NAMES_ZH)
    by_group = by_group[["group", "name_zh", "energy_tce", "co2_t", "share"]]
    coal_tce = float(by_group.loc[by_group["group"] == "coal", "energy_tce"].sum())
    return Tables(by_sector, by_fuel, by_group, coal_tce)


def account_energy_balance(
    balance: pd.DataFrame,
    year: int,
    *,
    statistics: pd.DataFrame | None = None,
    process_activity: pd.DataFrame | None = None,
    options: AccountingOptions | None = None,
    factors: FactorTable | None = None,
    region: str | None = None,
    inputs: dict[str, str] | None = None,
    estimates: list[str] | None = None,
    source: str = "<balance>",
    statistics_source: str = "<statistics>",
) -> AccountingResult:
    """Account one year of a validated energy balance (see :func:`citycarbon.importers.validate_balance`).

    ``statistics`` supplies GDP at constant prices (``options.price_base_year``); without it intensities are
    not computed and an :class:`InputError` names the missing GDP. ``inputs`` maps input names to content
    hashes for provenance (the frames are hashed when absent).

    Named stages, in order: :func:`_energy_stage` (tce by sector and fuel, electricity balance) →
    :func:`_non_fossil_stage` → :func:`_dual_control_stage` → :func:`_co2_stage` → :func:`_tables_stage`;
    then the intensities and the result.
    """
    options = options or AccountingOptions()
    frame, region = _year_frame(balance, year, region, source)
    y = _Year(year, region, frame, options, factors or load_factors(), fuel_table(), sector_table(), {})
    energy = _energy_stage(y)
    nonfossil = _non_fossil_stage(y, energy)
    dual = _dual_control_stage(y, energy, balance, statistics)
    co2 = _co2_stage(y, energy, process_activity)
    tables = _tables_stage(y, energy, co2)
    total_tce = energy.total_tce

    # intensities: without statistics they are explicitly not computed (never another city's GDP)
    not_computed: dict[str, str] = {}
    dual_for_intensity = total_tce - (dual.feedstock_tce if options.deduct_feedstock else 0.0) - (
        dual.renewable_increment_tce if options.renewable_deduction_in_intensity else 0.0)
    gdp_10k: float | None = None
    if statistics is not None:
        gdp_10k, _ = _gdp(statistics, year, region, options.price_base_year, statistics_source)
    else:
        reason = (f"not computed: no statistics given (GDP at constant {options.price_base_year} prices) / "
                  f"未计算：未提供统计数据（{options.price_base_year}年不变价GDP）")
        not_computed = {k: reason for k in INTENSITY_INDICATORS}

    def per_gdp(value: float) -> float | None:
        return value / gdp_10k if gdp_10k else None

    indicators: dict[str, float | None] = {
        "energy_consumption_tce": total_tce,
        "energy_consumption_dual_control_tce": dual.dual_total,
        "feedstock_tce": dual.feedstock_tce,
        "non_fossil_energy_tce": nonfossil.nonfossil_tce,
        "non_fossil_share": nonfossil.nonfossil_share,
        "coal_share": tables.coal_tce / total_tce if total_tce else None,
        "co2_emissions_t": co2.co2_total,
        "co2_energy_t": co2.co2_energy,
        "co2_process_t": co2.process_t,
        "gdp_10k_yuan": gdp_10k,
        "energy_intensity_tce_per_10k_yuan": per_gdp(total_tce),
        "energy_intensity_dual_control_tce_per_10k_yuan": per_gdp(dual_for_intensity),
        "co2_intensity_t_per_10k_yuan": per_gdp(co2.co2_energy),
        "electricity_consumption_kwh": energy.consumed_kwh,
    }
    used = y.used
    table = y.table
    co2_by_sector = _co2_reconciliation(tables.by_sector, co2, options)
    provenance = Provenance(
        method="energy balance accounting (NBS 能源平衡表; GB/T 2589-2020; 省级温室气体清单编制指南)",
        method_version=METHOD_VERSION,
        standards=list(STANDARDS),
        inputs=inputs or {"balance": hash_frame(balance[balance["year"] == year]),
                          **({"statistics": hash_frame(statistics)} if statistics is not None else {})},
        factors=[row.to_dict() for row in sorted(used.values(), key=lambda r: r.factor_id)],
        parameters={**options.model_dump(mode="json"), "renewable_deduction_basis": dual.renewable_note},
        profile=options.profile(),
        estimates=list(estimates or []),
        factor_tables={"all": table.content_hash(), "used": table.content_hash(list(used))},
        fallbacks=[f.to_dict() for f in y.fallbacks] + [f.to_dict() for f in _year_fallbacks(y)],
        estimated_figures=_estimated_figures(y, energy, co2, list(estimates or []), indicators),
    )
    return AccountingResult(
        year=year,
        region=region,
        indicators=indicators,
        units={k: INDICATOR_UNITS[k] for k in indicators},
        by_sector=tables.by_sector,
        by_fuel=tables.by_fuel,
        by_fuel_group=tables.by_group,
        co2_by_scope={
            "scope1_combustion_t": co2.scope1,
            "scope1_process_t": co2.process_t,
            "scope2_electricity_t": co2.scope2_electricity,
            "scope2_heat_t": co2.scope2_heat,
        },
        dual_control={
            "energy_consumption_tce": total_tce,
            "feedstock_deduction_tce": dual.feedstock_tce if options.deduct_feedstock else 0.0,
            "renewable_increment_deduction_tce": dual.renewable_increment_tce,
            "dual_control_total_tce": dual.dual_total,
            "intensity_basis_tce": dual_for_intensity,
        },
        electricity={
            "consumed_kwh": energy.consumed_kwh,
            "primary_production_kwh": energy.primary_kwh,
            "thermal_generation_kwh": energy.thermal_kwh,
            "net_inflow_kwh": energy.net_inflow_kwh,
            "non_fossil_kwh": nonfossil.nonfossil_kwh,
            "kgce_per_kwh": (energy.k_elec * 1000.0) if energy.k_elec is not None else None,
            "method": options.method,
            "attribution": options.nonfossil_attribution,
        },
        provenance=provenance,
        factor_rows=used,
        co2_by_sector=co2_by_sector,
        not_computed=not_computed,
    )


#: indicators that need GDP
INTENSITY_INDICATORS = ("gdp_10k_yuan", "energy_intensity_tce_per_10k_yuan",
                        "energy_intensity_dual_control_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan",
                        "energy_intensity_reduction_yoy", "co2_intensity_reduction_yoy", "energy_intensity_reduction",
                        "co2_intensity_reduction")


def _co2_reconciliation(by_sector: pd.DataFrame, co2: Co2Stage, options: AccountingOptions) -> pd.DataFrame:
    """Sector CO2 (combustion) plus the explicit rows that make it sum to the total: electricity (net inflow,
    negative for a net outflow; or consumed, on the consumption basis), heat and process CO2."""
    rows = [{"sector": r["sector"], "name_zh": r["name_zh"], "name_en": r["name_en"], "kind": r["kind"],
             "co2_t": float(r["co2_t"])} for _, r in by_sector.iterrows()]
    electricity = ("electricity_consumed" if options.electricity_co2_basis == "consumption"
                   else "electricity_net_inflow")
    for code, value in ((electricity, co2.scope2_electricity), ("heat", co2.scope2_heat),
                        ("process", co2.process_t)):
        zh, en = CO2_ADJUSTMENT_ROWS[code]
        rows.append({"sector": code, "name_zh": zh, "name_en": en, "kind": "adjustment", "co2_t": float(value)})
    return pd.DataFrame(rows, columns=["sector", "name_zh", "name_en", "kind", "co2_t"])


def _year_fallbacks(y: _Year) -> list[Fallback]:
    """Rows used (other than the regional ones already noted) that do not cover the inventory year."""
    noted = {f.factor_id for f in y.fallbacks}
    out = []
    for row in y.used.values():
        if row.factor_id in noted or row.covers(y.year):
            continue
        used_year = row.data_year if row.data_year is not None else row.reference_year
        out.append(Fallback(row.kind, row.key, y.year, used_year, row.region, row.region, row.factor_id,
                            f"{y.year}年采用{used_year}年因子（{row.factor_id}）",
                            f"{y.year}: factor of {used_year} used ({row.factor_id})"))
    return out


def _estimated_figures(y: _Year, e: EnergyStage, c: Co2Stage, estimates: list[str],
                       indicators: dict[str, float | None]) -> dict[str, list[str]]:
    """Per indicator, why it is an estimate: estimated inputs, or an estimate/unverified factor row it uses.

    Energy figures use the standard-coal rows and (coal-equivalent method) the coal rate; CO2 figures use the
    CO2 rows; the non-fossil share also the grid share; intensities the figure they divide."""
    kinds_of = {
        "energy": ("standard_coal", "coal_rate"),
        "co2": ("ncv", "carbon_content", "oxidation", "grid_ef", "heat_ef", "process_ef"),
        "nonfossil": ("standard_coal", "coal_rate", "grid_nonfossil_share"),
    }
    reasons: dict[str, list[str]] = {}
    for group, kinds in kinds_of.items():
        weak = sorted({f"factor {r.factor_id} ({r.status})" for r in y.used.values()
                       if r.kind in kinds and r.status in WEAK_STATUSES})
        inputs = [e for e in estimates if e.startswith(("balance", "process_activity"))]
        reasons[group] = [*inputs, *weak]
    gdp_inputs = [e for e in estimates if e.startswith("statistics")]
    figure_group = {
        "energy_consumption_tce": "energy", "energy_consumption_dual_control_tce": "energy",
        "feedstock_tce": "energy", "coal_share": "energy", "electricity_consumption_kwh": "energy",
        "non_fossil_energy_tce": "nonfossil", "non_fossil_share": "nonfossil",
        "co2_emissions_t": "co2", "co2_energy_t": "co2", "co2_process_t": "co2",
        "energy_intensity_tce_per_10k_yuan": "energy", "energy_intensity_dual_control_tce_per_10k_yuan": "energy",
        "co2_intensity_t_per_10k_yuan": "co2",
    }
    out: dict[str, list[str]] = {}
    for name, group in figure_group.items():
        if indicators.get(name) is None:
            continue
        found = list(reasons[group])
        if "intensity" in name:
            found += gdp_inputs
        if name == "electricity_consumption_kwh":
            found = [r for r in found if not r.startswith("factor")]
        if found:
            out[name] = found
    if "gdp_10k_yuan" in indicators and indicators["gdp_10k_yuan"] is not None and gdp_inputs:
        out["gdp_10k_yuan"] = gdp_inputs
    return out


def _renewable_kwh(statistics: pd.DataFrame | None, balance: pd.DataFrame, year: int, region: str,
                   options: AccountingOptions, fuels: pd.DataFrame) -> tuple[float, str] | None:
    """Renewable (non-nuclear) power consumption for 1258号: reported statistic, else local generation."""
    reported = _statistic(statistics, "renewable_power_consumption", year, region, "kWh")
    if reported is not None:
        return reported, "reported renewable_power_consumption"
    rows = balance[(balance["year"] == year) & (balance["region"] == region) & (balance["flow"] == "production")]
    renewable = rows[rows["fuel"].isin([f for f in fuels.index if fuels.at[f, "primary_electricity"]
                                         and f != "nuclear_power"])]
    if rows.empty:
        return None
    return float(_kwh(renewable).sum()) if not renewable.empty else 0.0, "local renewable generation (estimate)"


def period_base_year(year: int) -> int:
    """Base year of the five-year plan period containing ``year`` (2021–2025 → 2020; 2016–2020 → 2015)."""
    return year - ((year - 1) % 5) - 1


def account_years(balance: pd.DataFrame, years: list[int] | None = None,
                  **kwargs: Any) -> dict[int, AccountingResult]:
    """Account several years; adds year-on-year and period intensity reductions where the years exist.

    Reduction r = 1 − I_t / I_ref with GDP at the same constant prices; the period reference is the base
    year of the five-year plan (:func:`period_base_year`).
    """
    wanted = sorted(set(years) if years else {int(y) for y in balance["year"].unique()})
    needed = set(wanted)
    for year in wanted:
        needed.update({year - 1, period_base_year(year)})
    available = {int(y) for y in balance["year"].unique()}
    missing = [y for y in wanted if y not in available]
    if missing:
        span = f" (years present: {min(available)}–{max(available)})" if available else ""
        raise InputError(Problem(f"the balance has no rows for {', '.join(map(str, missing))}{span}",
                                 file=kwargs.get("source", "<balance>"), field="year", value=missing[0]))
    results = {y: account_energy_balance(balance, y, **kwargs) for y in sorted(needed & available)}
    for year in wanted:
        result = results[year]
        for name, key in (("energy", "energy_intensity_tce_per_10k_yuan"), ("co2", "co2_intensity_t_per_10k_yuan")):
            previous = results.get(year - 1)
            base = results.get(period_base_year(year))
            now = result.indicators[key]
            before = previous.indicators[key] if previous else None
            reference = base.indicators[key] if base else None
            result.indicators[f"{name}_intensity_reduction_yoy"] = (
                1.0 - now / before if before is not None and now is not None else None)
            result.indicators[f"{name}_intensity_reduction"] = (
                1.0 - now / reference if reference is not None and now is not None else None)
            result.units[f"{name}_intensity_reduction_yoy"] = INDICATOR_UNITS[f"{name}_intensity_reduction_yoy"]
            result.units[f"{name}_intensity_reduction"] = INDICATOR_UNITS[f"{name}_intensity_reduction"]
        result.indicators["period_base_year"] = period_base_year(year)
        result.units["period_base_year"] = INDICATOR_UNITS["period_base_year"]
    return {y: results[y] for y in wanted}

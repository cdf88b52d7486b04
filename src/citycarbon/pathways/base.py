"""The base year of the pathway model, taken from the accounted energy balance.

Everything here is computed once per model build with the accounting engine's own conversions and
factor rows (:func:`citycarbon.accounting.conversion.coal_factors` / ``rows_to_tce`` for standard coal,
``FactorTable.fuel_co2_factor`` for combustion CO2, the grid, heat and process rows the engine uses), so
that the pathway's base year reproduces ``account_city(base_year)``: the model is LEAP-style activity ×
intensity on top of these base-year cells (docs/pathways.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citycarbon.accounting import AccountingOptions
from citycarbon.accounting.conversion import ELECTRICITY, HEAT, coal_factors, rows_to_tce
from citycarbon.codelists import fuel_table
from citycarbon.data import read_csv
from citycarbon.errors import InputError, Problem
from citycarbon.factors import FactorRow, FactorTable
from citycarbon.units import conversion_factor, product_factor

#: model segments: accounted final sectors, with transport split into modes
INDUSTRY = ("petrochemical", "steel", "building_materials", "equipment", "other_industry", "construction")
HEAVY = ("petrochemical", "steel", "building_materials")
BUILDINGS = ("residential_urban", "residential_rural", "commercial", "other_services")
TRANSPORT = ("road_passenger", "road_freight", "rail", "water", "aviation")
SEGMENTS = (*INDUSTRY, "agriculture", *BUILDINGS, *TRANSPORT)
#: carriers of final use; fossil carriers are in tce, electricity in kWh, heat in GJ, renewables in tce
FOSSIL = ("coal", "gasoline", "lpg", "diesel", "fuel_oil", "kerosene", "other_oil", "gas")
CARRIERS = (*FOSSIL, "feedstock", "electricity", "heat", "renewable")
_CARRIER_OF_FUEL = {"gasoline": "gasoline", "lpg": "lpg", "diesel": "diesel", "fuel_oil": "fuel_oil",
                    "kerosene": "kerosene"}
#: technologies of capacity.csv and the balance's primary-electricity fuels
PRIMARY_TECH = {"nuclear_power": ("nuclear",), "wind_power": ("wind_onshore", "wind_offshore"),
                "solar_power": ("solar_utility", "solar_distributed"), "hydro_power": ("hydro",),
                "biomass_power": ("biomass",)}


def carrier_of(fuel: str, group: str) -> str:
    """Model carrier of a balance fuel (group from the fuels codelist)."""
    if fuel == ELECTRICITY:
        return "electricity"
    if fuel == HEAT:
        return "heat"
    if group == "non_fossil":
        return "renewable"
    if group == "coal":
        return "coal"
    if group == "gas":
        return "gas"
    return _CARRIER_OF_FUEL.get(fuel, "other_oil")


@dataclass
class BaseYear:
    """Base-year quantities (all floats; arrays are indexed [segment, carrier])."""

    year: int
    final: np.ndarray  # (S, C) tce for fossil/feedstock/renewable, kWh for electricity, GJ for heat
    co2_per_tce: np.ndarray  # (S, C) t CO2 per tce (0 for non-fossil)
    carrier_co2_per_tce: np.ndarray  # (C,) city-wide coefficient for carriers a segment did not use
    elec_loss_ratio: float
    heat_loss_ratio: float
    power_fuel_tce_per_kwh: dict[str, float]  # coal / gas input to power plants per kWh thermal
    power_co2_per_kwh: float
    chp_heat_gj_per_kwh: float
    boiler_tce_per_gj: float
    boiler_co2_per_gj: float
    refining_loss_tce: float
    process_co2: dict[str, float]  # process -> t CO2
    generation_kwh: dict[str, float]  # primary fuel -> kWh; 'thermal'
    capacity_mw: dict[str, float]
    heat_tce_per_gj: float
    gdp_10k_yuan: float
    boiler_fuel_share: dict[str, float] = field(default_factory=dict)  # coal / oil / gas share of boiler tce
    factor_rows: dict[str, FactorRow] = field(default_factory=dict)


def _kwh(frame: pd.DataFrame) -> pd.Series:
    return frame["quantity"].astype(float) * frame["unit"].map(
        {u: conversion_factor(u, "kWh") for u in frame["unit"].unique()}).astype(float)


def _gj(frame: pd.DataFrame) -> pd.Series:
    return frame["quantity"].astype(float) * frame["unit"].map(
        {u: conversion_factor(u, "GJ") for u in frame["unit"].unique()}).astype(float)


def build_base(balance: pd.DataFrame, process_activity: pd.DataFrame | None, capacity: pd.DataFrame,
               year: int, region: str, options: AccountingOptions, table: FactorTable, gdp_10k: float) -> BaseYear:
    """Base-year cells from one year of a validated balance (same conversions as the accounting engine)."""
    frame = balance[(balance["year"] == year) & (balance["region"] == region)].copy()
    if frame.empty:
        raise InputError(Problem(f"the balance has no rows for {year} in region {region}", field="year", value=year))
    fuels = fuel_table()
    used: dict[str, FactorRow] = {}
    units_by_fuel: dict[str, set[str]] = {}
    for fuel, unit in frame[["fuel", "unit"]].drop_duplicates().itertuples(index=False):
        units_by_fuel.setdefault(fuel, set()).add(unit)
    coal = coal_factors(sorted(frame["fuel"].unique()), year, table, options, units_by_fuel)
    used.update({f.row.factor_id: f.row for f in coal.values() if f.row is not None})
    frame["tce"] = rows_to_tce(frame, coal)
    co2_per_unit: dict[tuple[str, str], float] = {}
    fossil = frame["fuel"].map(fuels["fossil"]).astype(bool)
    burnt = fossil & ((frame["flow"] == "final_consumption") | (
        (frame["flow"] == "transformation_input") & frame["sector"].isin(options.combustion_transformations)))
    for fuel, unit in frame.loc[burnt, ["fuel", "unit"]].drop_duplicates().itertuples(index=False):
        derived = table.fuel_co2_factor(fuel, year, factor_set=options.co2_factor_set)
        used.update({r.factor_id: r for r in derived.rows})
        co2_per_unit[(fuel, unit)] = derived.value * product_factor(unit, derived.unit, "t")
    frame["co2"] = [co2_per_unit.get(k, 0.0) for k in zip(frame["fuel"], frame["unit"], strict=True)]
    frame["co2"] = (frame["co2"] * frame["quantity"].astype(float)).where(burnt, 0.0)
    frame["group"] = frame["fuel"].map(fuels["group"])
    frame["carrier"] = [carrier_of(f, g) for f, g in zip(frame["fuel"], frame["group"], strict=True)]

    modes = read_csv("pathways/transport_modes.csv").set_index("fuel")
    seg_index = {s: i for i, s in enumerate(SEGMENTS)}
    car_index = {c: i for i, c in enumerate(CARRIERS)}
    final = np.zeros((len(SEGMENTS), len(CARRIERS)))
    co2 = np.zeros_like(final)
    enduse = frame[frame["flow"].isin(["final_consumption", "non_energy_use"])]
    for row in enduse.itertuples(index=False):
        carrier = "feedstock" if row.flow == "non_energy_use" else row.carrier
        amount = _amount(row, carrier)
        emitted = row.co2 if row.flow == "final_consumption" else 0.0
        if row.sector == "transport":
            if row.fuel not in modes.index:
                raise InputError(Problem(f"no transport mode split for fuel '{row.fuel}'",
                                         file="transport_modes.csv", field="fuel", value=row.fuel))
            split = {m: float(modes.at[row.fuel, m]) for m in TRANSPORT}
        elif row.sector in seg_index:
            split = {row.sector: 1.0}
        else:
            raise InputError(Problem(f"final sector '{row.sector}' has no pathway segment", field="sector",
                                     value=row.sector))
        for segment, share in split.items():
            final[seg_index[segment], car_index[carrier]] += amount * share
            co2[seg_index[segment], car_index[carrier]] += emitted * share
    tce = final.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        co2_per_tce = np.where(tce > 0, co2 / np.where(tce > 0, tce, 1.0), 0.0)
        carrier_totals = final.sum(axis=0)
        carrier_co2 = np.where(carrier_totals > 0, co2.sum(axis=0) / np.where(carrier_totals > 0, carrier_totals, 1),
                               0.0)
    for c in ("electricity", "heat", "feedstock", "renewable"):
        co2_per_tce[:, car_index[c]] = 0.0
        carrier_co2[car_index[c]] = 0.0

    elec = frame[frame["fuel"] == ELECTRICITY]
    elec_kwh = _kwh(elec)
    final_kwh = float(elec_kwh[elec["flow"] == "final_consumption"].sum())
    loss_kwh = float(elec_kwh[elec["flow"] == "losses"].sum()) + float(
        elec_kwh[elec["flow"] == "transformation_input"].sum())
    thermal_kwh = float(elec_kwh[elec["flow"] == "transformation_output"].sum())
    heat = frame[frame["fuel"] == HEAT]
    heat_gj = _gj(heat)
    heat_final = float(heat_gj[heat["flow"] == "final_consumption"].sum())
    heat_loss = float(heat_gj[heat["flow"] == "losses"].sum())
    chp_heat = float(heat_gj[(heat["flow"] == "transformation_output") & (heat["sector"] == "power")].sum())
    boiler_heat = float(heat_gj[(heat["flow"] == "transformation_output") & (heat["sector"] == "heat_supply")].sum())

    fossil_in = frame[(frame["flow"] == "transformation_input") & frame["fuel"].map(fuels["fossil"]).astype(bool)]
    power_in = fossil_in[fossil_in["sector"] == "power"]
    boiler_in = fossil_in[fossil_in["sector"] == "heat_supply"]
    combusted = set(options.combustion_transformations)
    power_fuel = {g: float(power_in.loc[power_in["group"] == g, "tce"].sum()) / thermal_kwh
                  for g in ("coal", "oil", "gas")} if thermal_kwh > 0 else {"coal": 0.0, "oil": 0.0, "gas": 0.0}
    power_co2 = float(power_in["co2"].sum()) / thermal_kwh if thermal_kwh > 0 and "power" in combusted else 0.0
    boiler_tce = float(boiler_in["tce"].sum()) / boiler_heat if boiler_heat > 0 else 0.0
    boiler_total = float(boiler_in["tce"].sum())
    boiler_share = {g: float(boiler_in.loc[boiler_in["group"] == g, "tce"].sum()) / boiler_total if boiler_total
                    else 0.0 for g in ("coal", "oil", "gas")}
    boiler_co2 = float(boiler_in["co2"].sum()) / boiler_heat if boiler_heat > 0 and "heat_supply" in combusted else 0.0
    refining = frame[frame["sector"] == "refining"]
    refining_loss = float((refining["tce"] * refining["flow"].map(
        {"transformation_input": 1.0, "transformation_output": -1.0}).fillna(0.0)).sum())
    other_transform = frame[(frame["flow"].isin(["transformation_input", "transformation_output"]))
                            & ~frame["sector"].isin(["power", "heat_supply", "refining"])]
    if not other_transform.empty:
        raise InputError(Problem("the pathway model covers power, heat supply and refining transformations; "
                                 f"found {sorted(other_transform['sector'].unique())}", field="sector"))

    process: dict[str, float] = {}
    if options.include_process and process_activity is not None:
        activity = process_activity[(process_activity["year"] == year) & (process_activity["region"] == region)]
        for item in activity.itertuples(index=False):
            row = table.lookup("process_ef", item.process, year)
            used[row.factor_id] = row
            process[item.process] = process.get(item.process, 0.0) + float(item.quantity) * product_factor(
                item.unit, row.unit, "t") * row.value

    production = frame[frame["flow"] == "production"]
    generation = {fuel: float(_kwh(production[production["fuel"] == fuel]).sum()) for fuel in PRIMARY_TECH}
    generation["thermal"] = thermal_kwh
    cap = capacity[(capacity["year"] == year) & (capacity["region"] == region)]
    capacity_mw = {str(r.technology): float(r.capacity) * conversion_factor(str(r.unit), "MW")
                   for r in cap.itertuples(index=False)}
    heat_row = table.lookup("standard_coal", HEAT, year, factor_set=options.standard_coal_set)
    used[heat_row.factor_id] = heat_row
    return BaseYear(
        year=year, final=final, co2_per_tce=co2_per_tce, carrier_co2_per_tce=carrier_co2,
        elec_loss_ratio=loss_kwh / final_kwh if final_kwh else 0.0,
        heat_loss_ratio=heat_loss / heat_final if heat_final else 0.0,
        power_fuel_tce_per_kwh=power_fuel, power_co2_per_kwh=power_co2,
        chp_heat_gj_per_kwh=chp_heat / thermal_kwh if thermal_kwh else 0.0,
        boiler_tce_per_gj=boiler_tce, boiler_co2_per_gj=boiler_co2, refining_loss_tce=refining_loss,
        process_co2=process, generation_kwh=generation, capacity_mw=capacity_mw,
        heat_tce_per_gj=heat_row.value * product_factor("GJ", heat_row.unit, "tce"),
        gdp_10k_yuan=gdp_10k, factor_rows=used, boiler_fuel_share=boiler_share)


def _amount(row, carrier: str) -> float:
    """Base-year amount of a balance row in the carrier's model unit (tce, kWh or GJ)."""
    if carrier == "electricity":
        return float(row.quantity) * conversion_factor(row.unit, "kWh")
    if carrier == "heat":
        return float(row.quantity) * conversion_factor(row.unit, "GJ")
    return float(row.tce)

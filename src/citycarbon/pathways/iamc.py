"""IAMC-format export of pathways: a long ``data`` table and a ``meta`` table, as CSV or Excel.

Columns ``model, scenario, region, variable, unit, year, value`` (the IAMC time-series format that pyam
reads). Units follow IAMC common definitions: emissions ``Mt CO2/yr``, energy ``EJ/yr`` (converted from
tce with the GB/T 2589 29.307 GJ/tce of the shared unit registry), capacity ``GW``, shares ``%``.
``meta`` has one row per (model, scenario): code, peak year and level, plateau, cumulative CO2, neutrality
year and, for each plan target, ``met`` and ``margin``. Excel files have sheets ``data`` and ``meta`` (the
layout ``pyam.IamDataFrame(path)`` reads); a CSV export writes ``<name>_meta.csv`` beside the data file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citycarbon.codelists import iamc_variable, indicator_units
from citycarbon.errors import InputError, Problem
from citycarbon.units import conversion_factor

MODEL_NAME = "citycarbon-pathways 1.0"
IAMC_COLUMNS = ["model", "scenario", "region", "variable", "unit", "year", "value"]

#: (IAMC variable, unit, model unit, series names summed)
_EMISSIONS = "Mt CO2/yr"
_ENERGY = "EJ/yr"


def _series(name: str, unit: str) -> tuple[str, str, str, tuple[str, ...]]:
    """The export row of one model series: its IAMC name and model unit from the variable codelist."""
    return iamc_variable(name), unit, indicator_units((name,))[name], (name,)


def _variables() -> list[tuple[str, str, str, tuple[str, ...]]]:
    fossil = ("solids", "liquids", "gases")
    rows: list[tuple[str, str, str, tuple[str, ...]]] = [
        _series("co2_emissions_t", _EMISSIONS),
        _series("co2_energy_t", _EMISSIONS),
        _series("co2_industry_t", _EMISSIONS),
        _series("co2_buildings_t", _EMISSIONS),
        _series("co2_transport_t", _EMISSIONS),
        _series("co2_agriculture_t", _EMISSIONS),
        _series("co2_power_t", _EMISSIONS),
        _series("co2_heat_t", _EMISSIONS),
        _series("co2_process_t", _EMISSIONS),
        _series("ccus_t", _EMISSIONS),
        _series("forest_sink_co2_t", _EMISSIONS),
        _series("wetland_sink_co2_t", _EMISSIONS),
        _series("net_co2_emissions_t", _EMISSIONS),
        _series("energy_consumption_tce", _ENERGY),
        _series("coal_tce", _ENERGY),
        _series("oil_tce", _ENERGY),
        _series("gas_tce", _ENERGY),
        _series("non_fossil_energy_tce", _ENERGY),
        ("Secondary Energy|Electricity|Wind", _ENERGY, "kWh", ("generation_wind_kwh",)),
        ("Secondary Energy|Electricity|Solar", _ENERGY, "kWh", ("generation_solar_kwh",)),
        ("Secondary Energy|Electricity|Nuclear", _ENERGY, "kWh", ("generation_nuclear_kwh",)),
        ("Secondary Energy|Electricity|Hydro", _ENERGY, "kWh", ("generation_hydro_kwh",)),
        ("Secondary Energy|Electricity|Biomass", _ENERGY, "kWh", ("generation_biomass_kwh",)),
        _series("thermal_generation_kwh", _ENERGY),
        ("Secondary Energy|Electricity|Storage Recovered", _ENERGY, "kWh", ("generation_storage_recovered_kwh",)),
        ("Primary Energy|Non-Biomass Renewables", _ENERGY, "kWh",
         ("generation_wind_kwh", "generation_solar_kwh", "generation_hydro_kwh", "generation_storage_recovered_kwh")),
        _series("net_inflow_kwh", _ENERGY),
        ("Capacity|Electricity|Wind", "GW", "MW", ("capacity_wind_onshore_mw", "capacity_wind_offshore_mw")),
        ("Capacity|Electricity|Wind|Onshore", "GW", "MW", ("capacity_wind_onshore_mw",)),
        ("Capacity|Electricity|Wind|Offshore", "GW", "MW", ("capacity_wind_offshore_mw",)),
        ("Capacity|Electricity|Solar", "GW", "MW", ("capacity_solar_utility_mw", "capacity_solar_distributed_mw")),
        ("Capacity|Electricity|Solar|Utility", "GW", "MW", ("capacity_solar_utility_mw",)),
        ("Capacity|Electricity|Solar|Rooftop", "GW", "MW", ("capacity_solar_distributed_mw",)),
        ("Capacity|Electricity|Nuclear", "GW", "MW", ("capacity_nuclear_mw",)),
        ("Capacity|Electricity|Coal", "GW", "MW", ("capacity_coal_mw",)),
        ("Capacity|Electricity|Gas", "GW", "MW", ("capacity_gas_mw",)),
        ("Capacity|Electricity|Storage", "GW", "MW", ("capacity_storage_mw",)),
        _series("non_fossil_share", "%"),
        _series("gdp_10k_yuan", "billion CNY_2020/yr"),
        _series("forest_coverage", "%"),
        _series("forest_stock_m3", "million m3"),
    ]
    sectors = (("Industry", "industry"), ("Residential and Commercial", "buildings"),
               ("Transportation", "transport"), ("Agriculture", "agriculture"))
    carriers = (("Solids", ("solids",), "tce"), ("Liquids", ("liquids",), "tce"), ("Gases", ("gases",), "tce"),
                ("Hydrogen", ("hydrogen",), "tce"), ("Other Renewables", ("renewable",), "tce"),
                ("Non-Energy Use", ("feedstock",), "tce"), ("Electricity", ("electricity",), "kWh"),
                ("Heat", ("heat",), "GJ"))
    for label, group in sectors:
        for carrier, keys, unit in carriers:
            rows.append((f"Final Energy|{label}|{carrier}", _ENERGY, unit,
                         tuple(f"final_{group}_{k}" for k in keys)))
    for carrier, keys, unit in carriers:
        rows.append((f"Final Energy|{carrier}", _ENERGY, unit,
                     tuple(f"final_{g}_{k}" for _, g in sectors for k in keys)))
    rows.append(("Final Energy|Fossil", _ENERGY, "tce", tuple(f"final_{g}_{k}" for _, g in sectors for k in fossil)))
    return rows


VARIABLES = _variables()
_UNIT_SCALE = {("t", _EMISSIONS): 1e-6, ("dimensionless", "%"): 100.0, ("MW", "GW"): 1e-3,
               ("10^4 CNY", "billion CNY_2020/yr"): 1e-5, ("m**3", "million m3"): 1e-6}

# issue 17 (macc): emissions on every CO2 basis, removals and the energy system's cost
#: cost unit of the export: a unit of citycarbon.units (CNY of the cost figures' price year, about 2023–2024)
_COST = "billion CNY/yr"
_BASIS_LABELS = {"net_inflow": "Net Inflow Basis", "consumption": "Consumption Basis", "territorial": "Territorial"}
_COST_SECTORS = (("Power", "power"), ("Heat", "heat"), ("Industry", "industry"),
                 ("Residential and Commercial", "buildings"), ("Transportation", "transport"),
                 ("Agriculture", "agriculture"), ("Carbon Dioxide Removal", "removals"), ("Land Use", "sinks"))
VARIABLES += [(f"Emissions|CO2|{label}", _EMISSIONS, "t", (f"co2_emissions_{basis}_t",))
              for basis, label in _BASIS_LABELS.items()]
VARIABLES += [(f"Emissions|CO2|Net|{label}", _EMISSIONS, "t", (f"net_co2_emissions_{basis}_t",))
              for basis, label in _BASIS_LABELS.items()]
VARIABLES += [("Carbon Sequestration|CCS|Biomass", _EMISSIONS, "t", ("beccs_t",)),
              ("Carbon Sequestration|Direct Air Capture", _EMISSIONS, "t", ("daccs_t",)),
              ("Energy System Cost", _COST, "CNY/yr", ("cost_total_cny",))]
VARIABLES += [(f"Energy System Cost|{label}", _COST, "CNY/yr", (f"cost_{sector}_cny",))
              for label, sector in _COST_SECTORS]
VARIABLES += [(f"Energy System Cost|{kind.title()}", _COST, "CNY/yr", (f"cost_{kind}_cny",))
              for kind in ("capital", "operating", "fuel")]
_UNIT_SCALE[("CNY/yr", _COST)] = conversion_factor("CNY/yr", _COST)


def _removals(model, scenarios: list, outputs) -> dict[str, np.ndarray]:
    """BECCS and DACCS (t CO2/yr) of each row: BECCS is its lever × its ramp (as the model and the cost model
    count it), DACCS the rest of the removals."""
    removals = np.asarray(outputs.series["removals_co2_t"], dtype=float)
    names = list(model.parameters.names)
    lever = np.array([float(model.vector(s)[names.index("beccs_2060_mt")]) for s in scenarios])[:, None]
    beccs = lever * model.pre["ramp_beccs_2060_mt"][None, :] * model.pre["t_per_mt"] + np.zeros_like(removals)
    return {"beccs_t": beccs, "daccs_t": removals - beccs}


def _scale(model_unit: str, unit: str) -> float:
    if (model_unit, unit) in _UNIT_SCALE:
        return _UNIT_SCALE[(model_unit, unit)]
    if unit == _ENERGY:
        return conversion_factor(model_unit, "EJ")
    raise KeyError((model_unit, unit))


def iamc_frames(model, scenarios: list, outputs, region: str = "Dalian") -> tuple[pd.DataFrame, pd.DataFrame]:
    """IAMC ``data`` (long) and ``meta`` frames of ``outputs`` row i = ``scenarios[i]``."""
    years = [int(y) for y in outputs.years]
    records = []
    series = {**outputs.series, **_removals(model, scenarios, outputs)}  # issue 17 (macc)
    for i, scenario in enumerate(scenarios):
        for variable, unit, model_unit, keys in VARIABLES:
            values = sum(series[k][i] for k in keys) * _scale(model_unit, unit)
            records.append(pd.DataFrame({"model": MODEL_NAME, "scenario": scenario.name, "region": region,
                                         "variable": variable, "unit": unit, "year": years, "value": values}))
    data = pd.concat(records, ignore_index=True)[IAMC_COLUMNS]
    targets = outputs.targets()
    neutral = outputs.neutrality_year()
    present = outputs.npv()
    meta_rows = []
    for i, scenario in enumerate(scenarios):
        row = {"model": MODEL_NAME, "scenario": scenario.name, "code": scenario.code,
               "peak_year": int(outputs.peak_year()[i]), "peak_co2_mt": float(outputs.peak_value()[i]) * 1e-6,
               "plateau_years": int(outputs.plateau_years()[i]),
               "cumulative_co2_mt": float(outputs.cumulative_co2()[i]) * 1e-6,
               "neutrality_year": None if np.isnan(neutral[i]) else int(neutral[i])}
        row["npv_cny"] = float(present[i])  # issue 17 (macc): NPV and the peak year on each basis
        row.update({f"peak_year_{basis}": int(outputs.peak_year(basis)[i]) for basis in outputs.bases()})
        for target_id, (met, margin) in targets.items():
            row[f"{target_id}_met"] = bool(met[i])
            row[f"{target_id}_margin"] = float(margin[i])
        meta_rows.append(row)
    return data, pd.DataFrame(meta_rows)


def meta_path(path: Path) -> Path:
    return path.with_name(path.stem + "_meta.csv")


def write_iamc(path: str | Path, data: pd.DataFrame, meta: pd.DataFrame) -> list[Path]:
    """Write ``data`` and ``meta`` to ``path`` (``.csv``: data + ``<stem>_meta.csv``; ``.xlsx``: two sheets)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(Problem("the IAMC export is written as .csv or .xlsx", file=str(target), field="iamc",
                                 value=target.suffix))
    if suffix == ".csv":
        data.to_csv(target, index=False)
        meta.to_csv(meta_path(target), index=False)
        return [target, meta_path(target)]
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        data.to_excel(writer, sheet_name="data", index=False)
        meta.to_excel(writer, sheet_name="meta", index=False)
    return [target]


def read_iamc(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a file written by :func:`write_iamc` back (round trip)."""
    source = Path(path)
    if source.suffix.lower() == ".xlsx":
        return (pd.read_excel(source, sheet_name="data"), pd.read_excel(source, sheet_name="meta"))
    meta_file = meta_path(source)
    meta = pd.read_csv(meta_file) if meta_file.exists() else pd.DataFrame()
    return pd.read_csv(source), meta


def export(model, scenarios: list, path: str | Path, region: str = "Dalian") -> list[Path]:
    """Run ``scenarios`` and write their IAMC export to ``path``."""
    X = np.vstack([model.vector(s) for s in scenarios])
    data, meta = iamc_frames(model, scenarios, model.evaluate(X), region)
    return write_iamc(path, data, meta)

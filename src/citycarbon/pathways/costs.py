"""Costs of a pathway: annual cost by sector and by kind, vectorised over runs (issue 17).

Method (docs/pathways.md "Costs"), after the EPS cost outputs (Energy Innovation, S47/S48 of
``shared/reference/pathway-costs.md``): first-order cash flows of the energy system seen from the city,

* **capital**: every addition of a technology's capacity or of a measure's activity (tce a year saved or switched,
  GJ a year of heat, ha planted) is bought at that year's unit cost and annualised with the capital recovery factor
  ``CRF(r, n) = r / (1 − (1 + r)^−n)`` of the discount rate r and the asset's life n; the annuity runs to the end
  of the horizon (the asset is renewed at the same cost: a levelised view). The 2020 stock is sunk in every
  scenario. Unit costs learn: ``cost_t = cost_2024 · (1 − learning rate)^doublings_t`` with the doublings of global
  cumulative deployment in ``learning.csv`` (Wright's law, as EPS endogenous learning);
* **operating**: fixed O&M per kW of capacity, nuclear fuel per kWh, CCUS, BECCS and DACCS per tonne (levelised
  full-chain prices);
* **fuel**: coal, oil (incl. feedstock and refining losses), gas, renewable hydrogen and sustainable fuels at their
  prices, and electricity bought from (or sold to, a negative cost) the provincial grid at the inflow price.
  Electricity used inside the city is not priced again: its cost is the local plants' cost plus the net inflow.

Cost figures are data (``costs.csv``: source, price year, status); those with a range are parameters of kind
``cost`` sampled by ensembles. Subsidies, taxes, value added lost by structural change and co-benefits are
outside the accounting (Kesicki & Ekins 2012 list these MACC caveats). Everything here is pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

#: capacity technologies of the model and their cost rows (technology of costs.csv)
CAPACITY_COSTED = ("wind_onshore", "wind_offshore", "solar_utility", "solar_distributed", "nuclear", "coal",
                   "storage")
#: demand measures (model series measure_<name>_tce) → (costs.csv technology, sector)
MEASURES: dict[str, tuple[str, str]] = {
    "industry_efficiency": ("industry_efficiency", "industry"),
    "buildings_efficiency": ("buildings_efficiency", "buildings"),
    "transport_efficiency": ("transport_efficiency", "transport"),
    "structure_shift": ("structure_shift", "industry"),
    "refining_reduction": ("structure_shift", "industry"),
    "coal_to_gas": ("coal_to_gas", "industry"),
    "industry_electrification": ("industry_electrification", "industry"),
    "building_electrification": ("building_electrification", "buildings"),
    "ev": ("ev", "transport"),
    "electric_trucks": ("electric_trucks", "transport"),
    "clean_vessels": ("clean_vessels", "transport"),
    "shore_power": ("shore_power", "transport"),
    "modal_shift": ("modal_shift", "transport"),
}
#: cost sectors, in the order they are shown
SECTORS = ("power", "heat", "industry", "buildings", "transport", "agriculture", "removals", "sinks")
#: kinds of cost
KINDS = ("capital", "operating", "fuel")
#: model carrier group → fuel price id
CARRIER_PRICE = {"solids": "price_coal", "liquids": "price_oil", "gases": "price_gas", "feedstock": "price_oil"}
FUEL_PRICE = {"coal": "price_coal", "oil": "price_oil", "gas": "price_gas"}
#: the output series this module adds, with their units
COST_SERIES_UNITS: dict[str, str] = {
    **{f"cost_{sector}_cny": "CNY/yr" for sector in SECTORS},
    **{f"cost_{kind}_cny": "CNY/yr" for kind in KINDS},
    "cost_total_cny": "CNY/yr",
    "discount_factor": "dimensionless",
}

Value = Callable[[str], np.ndarray]


def crf(rate: np.ndarray, life: float) -> np.ndarray:
    """Capital recovery factor r / (1 − (1 + r)^−n) (annuity of 1 CNY over n years at rate r)."""
    return rate / (1.0 - (1.0 + rate) ** (-float(life)))


def added(activity: np.ndarray) -> np.ndarray:
    """Additions per year: the positive year-on-year increase (the first year's stock is sunk)."""
    step = np.diff(activity, axis=1, prepend=activity[:, :1])
    return np.maximum(step, 0.0)


def annualised(spend: np.ndarray, rate: np.ndarray, life: float) -> np.ndarray:
    """Annual capital charge of the spending so far: CRF × cumulative spending (renewed at the same cost)."""
    return crf(rate, life) * np.cumsum(spend, axis=1)


def learned(value: Value, pre: Mapping[str, np.ndarray], technology: str, figure: str) -> np.ndarray:
    """A unit cost along the model years: the figure × (1 − learning rate)^doublings (no learning row: flat)."""
    base = value(figure)
    key = "doublings_" + technology
    if key not in pre:
        return base
    rate = value("learning_" + technology)
    return base * np.exp(pre[key][None, :] * np.log1p(-rate))


def cost_series(value: Value, ramp: Callable[[str], np.ndarray], pre: Mapping[str, np.ndarray],
                years: np.ndarray, out: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Annual cost by sector and by kind (CNY a year, (n, years)) of the runs whose physical series are
    ``out``; ``value`` gives a parameter's (n, 1) column or a fixed cost figure (``costs.csv`` without a range)."""
    rate = value("discount_rate")
    zeros = np.zeros_like(out["co2_emissions_t"])
    by_sector = {sector: zeros.copy() for sector in SECTORS}
    by_kind = {kind: zeros.copy() for kind in KINDS}

    def book(sector: str, kind: str, amount: np.ndarray) -> None:
        by_sector[sector] += amount
        by_kind[kind] += amount

    kw_per_mw = pre["kw_per_mw"]
    for tech in CAPACITY_COSTED:
        capacity_kw = out[f"capacity_{tech}_mw"] * kw_per_mw
        capex = learned(value, pre, tech, "capex_" + tech)
        book("power", "capital", annualised(added(capacity_kw) * capex, rate, float(pre["costfig_life_" + tech])))
        book("power", "operating", capacity_kw * value("fom_" + tech))
    book("power", "operating", out["generation_nuclear_kwh"] * value("price_nuclear_fuel"))
    book("power", "fuel", out["net_inflow_kwh"] * value("price_electricity_inflow"))
    for fg, price in FUEL_PRICE.items():
        book("power", "fuel", out[f"fuel_power_{fg}_tce"] * value(price))
        book("heat", "fuel", out[f"fuel_heat_{fg}_tce"] * value(price))
    book("heat", "capital", annualised(added(out["nuclear_heat_gj"]) * value("capex_nuclear_heating"), rate,
                                       float(pre["costfig_life_nuclear_heating"])))
    book("heat", "capital", annualised(added(out["heat_electric_gj"]) * value("capex_heat_pumps_dh"), rate,
                                       float(pre["costfig_life_heat_pumps_dh"])))
    for group in ("industry", "buildings", "transport", "agriculture"):
        for carrier, price in CARRIER_PRICE.items():
            book(group, "fuel", out[f"final_{group}_{carrier}"] * value(price))
    book("industry", "fuel", out["refining_loss_tce"] * value("price_oil"))
    hydrogen_t = out["final_industry_hydrogen"] / pre["tce_per_t_h2"]
    book("industry", "fuel", hydrogen_t * learned(value, pre, "hydrogen", "price_hydrogen"))
    fuels = out["measure_sustainable_fuels_tce"] * value("price_sustainable_fuel")
    book("transport", "fuel", fuels)
    for measure, (technology, sector) in MEASURES.items():
        activity = out[f"measure_{measure}_tce"]
        unit = learned(value, pre, technology, "capex_" + technology)
        book(sector, "capital", annualised(added(activity) * unit, rate, float(pre["costfig_life_" + technology])))
    t_per_mt = pre["t_per_mt"]
    book("removals", "operating", out["ccus_t"] * learned(value, pre, "ccus", "price_ccus"))
    beccs = value("beccs_2060_mt") * ramp("beccs_2060_mt") * t_per_mt
    book("removals", "operating", beccs * value("price_beccs"))
    book("removals", "operating", (out["removals_co2_t"] - beccs) * learned(value, pre, "daccs", "price_daccs"))
    planted = value("afforestation_ha_per_yr") * pre["planting_schedule"][None, :]
    book("sinks", "capital", annualised(planted * value("capex_afforestation"), rate,
                                        float(pre["costfig_life_afforestation"])))
    restored = value("blue_carbon_2035_ha") * ramp("blue_carbon_2035_ha")
    book("sinks", "capital", annualised(added(restored + zeros) * value("capex_blue_carbon"), rate,
                                        float(pre["costfig_life_blue_carbon"])))
    result = {f"cost_{sector}_cny": amount for sector, amount in by_sector.items()}
    result.update({f"cost_{kind}_cny": amount for kind, amount in by_kind.items()})
    result["cost_total_cny"] = sum((by_sector[s] for s in SECTORS), zeros.copy())
    result["discount_factor"] = (1.0 + rate) ** (-(years[None, :] - years[0]).astype(float)) + zeros
    return result


def npv(total: np.ndarray, discount_factor: np.ndarray, first: int = 1) -> np.ndarray:
    """Net present value at the base year of annual costs (n, years), from column ``first`` (2021) on."""
    return (total[:, first:] * discount_factor[:, first:]).sum(axis=1)

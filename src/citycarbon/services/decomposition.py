"""Ready-made LMDI decompositions of a city's history (Kaya identity by economic sector).

Energy (or CO2) of year t by category i = population × GDP per capita × structure (share of GDP) ×
energy intensity (× carbon factor): Ang (2005) Table 2 / Ang (2015). Categories are the three economic
sectors (三次产业): final consumption sectors map to them, transformation sectors, losses and process CO2
belong to the secondary sector (电力、热力、石油加工属于工业). Household energy has no value added, so
it is not part of the Kaya identity: it is reported beside the decomposition, not inside it.

Sector value added at constant prices is approximated by the current-price sector shares applied to GDP at
constant prices (the dataset has no constant-price split); the result says so.
"""

from __future__ import annotations

import pandas as pd

from citycarbon.datasets import ReferenceDataset
from citycarbon.decomposition import decompose_lmdi, decompose_lmdi_chain, kaya_co2_input, kaya_energy_input
from citycarbon.decomposition.lmdi import LmdiResult
from citycarbon.services.accounting import account_city_years
from citycarbon.services.sources import Source, city_inputs

CATEGORY_OF_SECTOR = {
    "agriculture": "primary",
    "petrochemical": "secondary", "steel": "secondary", "building_materials": "secondary",
    "equipment": "secondary", "other_industry": "secondary", "construction": "secondary",
    "power": "secondary", "heat_supply": "secondary", "refining": "secondary", "coking": "secondary",
    "gas_works": "secondary", "losses": "secondary",
    "transport": "tertiary", "commercial": "tertiary", "other_services": "tertiary",
    "residential_urban": "households", "residential_rural": "households",
}
VALUE_ADDED = {"primary": "gdp_primary", "secondary": "gdp_secondary", "tertiary": "gdp_tertiary"}
NOTES = [
    "categories: primary/secondary/tertiary industry (三次产业); households are outside the Kaya identity",
    "sector value added at constant prices = current-price sector shares × GDP at constant prices",
]


def city_kaya_input(city: str = "dalian", measure: str = "energy", *,
                    dataset: ReferenceDataset | None = None,
                    source: str | Source | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """LMDI input for ``city`` (``measure`` = energy or co2) and the households' values beside it.

    The data: ``dataset`` when given (e.g. the API's cache of the ledger), else ``source``
    (:func:`citycarbon.services.sources.resolve_source`: the ledger when a database exists, else the files)."""
    if dataset is None:
        dataset = city_inputs(city, source).dataset
    results = account_city_years(city=city, dataset=dataset)
    energy, co2, value_added, population, gdp, households = [], [], [], [], [], []
    for year, result in results.items():
        sectors = result.by_sector.assign(category=result.by_sector["sector"].map(CATEGORY_OF_SECTOR))
        grouped = sectors.groupby("category")[["energy_tce", "co2_t"]].sum()
        scope2 = result.co2_by_scope["scope2_electricity_t"] + result.co2_by_scope["scope2_heat_t"]
        grouped.loc["secondary", "co2_t"] += scope2 + result.co2_by_scope["scope1_process_t"]
        base_year = result.provenance.parameters["price_base_year"]  # AccountingOptions.price_base_year, an int
        if not isinstance(base_year, int):
            raise TypeError(f"provenance price_base_year {base_year!r} of {city} {year} is not a year")
        gdp_constant = dataset.statistic("gdp", year, price_base_year=base_year)
        current = {c: dataset.statistic(v, year) for c, v in VALUE_ADDED.items()}
        total_current = sum(current.values())
        for category in VALUE_ADDED:
            energy.append({"year": year, "sector": category, "value": float(grouped.at[category, "energy_tce"])})
            co2.append({"year": year, "sector": category, "value": float(grouped.at[category, "co2_t"])})
            value_added.append({"year": year, "sector": category,
                                "value": gdp_constant * current[category] / total_current})
        population.append({"year": year, "value": dataset.statistic("population", year)})
        gdp.append({"year": year, "value": gdp_constant})
        households.append({"year": year, "energy_tce": float(grouped.at["households", "energy_tce"]),
                           "co2_t": float(grouped.at["households", "co2_t"])})
    frames = {"energy": pd.DataFrame(energy), "value_added": pd.DataFrame(value_added),
              "population": pd.DataFrame(population), "gdp": pd.DataFrame(gdp)}
    if measure == "co2":
        data = kaya_co2_input(co2=pd.DataFrame(co2), energy_unit="tce", co2_unit="t",
                              population_unit="10^4 person", **frames)
    else:
        data = kaya_energy_input(energy_unit="tce", population_unit="10^4 person", **frames)
    return data, pd.DataFrame(households)


def decompose_city(city: str = "dalian", measure: str = "energy", start: int | None = None,
                   end: int | None = None, *,
                   dataset: ReferenceDataset | None = None,
                   source: str | Source | None = None) -> tuple[LmdiResult, pd.DataFrame]:
    """LMDI of ``city``'s history between ``start`` and ``end`` (all consecutive years when both are None);
    the data as in :func:`city_kaya_input`."""
    data, households = city_kaya_input(city, measure, dataset=dataset, source=source)
    if start is not None and end is not None:
        return decompose_lmdi(data, start=start, end=end, source=f"{city} accounts"), households
    return decompose_lmdi_chain(data, source=f"{city} accounts"), households

"""One variable codelist (``data/codelists/indicators.csv``): every indicator the code emits is in it with the
unit the code writes, the IAMC export takes its names from it, and every unit is spelled one way."""

from __future__ import annotations

import numpy as np
import pytest

from citycarbon.codelists import iamc_variable, indicator_units, load_codelist
from citycarbon.pathways import load_scenario
from citycarbon.pathways.iamc import VARIABLES
from citycarbon.services.accounting import account_city
from citycarbon.services.tracking import city_data
from citycarbon.units import is_unit


@pytest.fixture(scope="module")
def codelist():
    return load_codelist("indicators")


def test_every_accounting_indicator_is_in_the_codelist_with_its_unit(codelist):
    result = account_city(2021, source="files")
    assert set(result.indicators) == set(result.units)
    for name, unit in result.units.items():
        assert name in codelist.index, name
        assert codelist.at[name, "unit"] == unit, name


def test_every_named_pathway_series_and_tracked_series_is_in_the_codelist(codelist, model):
    run = model.run(load_scenario("Plan"))
    for name, unit in run.units.items():
        assert codelist.at[name, "unit"] == unit, name
    outputs = model.evaluate(model.vector(load_scenario("BAU"))[None, :])
    # families by (sector group, carrier), technology, measure and plant fuel are not listed one by one
    families = ("final_", "capacity_", "generation_", "measure_", "fuel_power_", "fuel_heat_")
    named = [n for n in outputs.series if not n.startswith(families)]
    assert len(named) > 30
    for name in named:
        assert name in codelist.index, f"{name} is emitted by the pathway model but not in the codelist"
    for spec in model.target_specs:
        assert spec["indicator"] in codelist.index
    data = city_data("dalian")
    for name, unit in data.units.items():
        assert name in codelist.index, name
        if unit in ("1", "fraction"):
            continue  # tracked straight from a reference table's own unit column
        assert codelist.at[name, "unit"] == unit, name


def test_iamc_names_come_from_the_codelist(codelist):
    exported = {keys[0]: (variable, model_unit) for variable, _unit, model_unit, keys in VARIABLES if len(keys) == 1}
    with_name = codelist[codelist["iamc_variable"].fillna("") != ""]
    assert len(with_name) >= 15
    for name, row in with_name.iterrows():
        assert exported[name] == (row["iamc_variable"], row["unit"]), name
        assert iamc_variable(name) == row["iamc_variable"]
    assert len({v for v, *_ in VARIABLES}) == len(VARIABLES)  # no IAMC name twice
    with pytest.raises(KeyError):
        iamc_variable("coal_share")


def test_units_are_spelled_one_way(codelist):
    for name, unit in codelist["unit"].items():
        assert unit == "year" or is_unit(unit), f"{name}: {unit!r}"
    assert not codelist["unit"].str.contains("wan").any()  # 10^4 CNY, as the code writes it
    assert indicator_units(("energy_intensity", "energy_intensity_tce_per_10k_yuan")) == {
        "energy_intensity": "tce/(10^4 CNY)", "energy_intensity_tce_per_10k_yuan": "tce/(10^4 CNY)"}
    with pytest.raises(KeyError, match="not_a_variable"):
        indicator_units(("co2_emissions_t", "not_a_variable"))
    assert np.isfinite(len(codelist))

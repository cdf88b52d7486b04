"""issue 17 (macc): the IAMC export's costs, CO2 bases and removals (values, units of the registry, pyam)."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pandas as pd
import pytest

from citycarbon.pathways import load_scenario
from citycarbon.pathways.iamc import export, iamc_frames
from citycarbon.units import is_unit


@pytest.fixture(scope="module")
def frames(model):
    scenarios = [load_scenario(n) for n in ("BAU", "Enhanced")]
    out = model.evaluate(np.vstack([model.vector(s) for s in scenarios]))
    data, meta = iamc_frames(model, scenarios, out)
    return out, data, meta


def test_cost_variables_add_up_and_use_registry_units(frames):
    out, data, meta = frames
    enhanced = data[data["scenario"] == "Enhanced"].pivot_table(index="year", columns="variable", values="value")
    sectors = ["Power", "Heat", "Industry", "Residential and Commercial", "Transportation", "Agriculture",
               "Carbon Dioxide Removal", "Land Use"]
    total = enhanced["Energy System Cost"]
    np.testing.assert_allclose(enhanced[[f"Energy System Cost|{s}" for s in sectors]].sum(axis=1), total, rtol=1e-9)
    np.testing.assert_allclose(enhanced[[f"Energy System Cost|{k}" for k in ("Capital", "Operating", "Fuel")]]
                               .sum(axis=1), total, rtol=1e-9)
    np.testing.assert_allclose(total.to_numpy(), out.series["cost_total_cny"][1] / 1e9, rtol=1e-12)
    units = set(data.loc[data["variable"].str.startswith("Energy System Cost"), "unit"])
    assert units == {"billion CNY/yr"} and all(is_unit(u) for u in units)
    assert meta["npv_cny"].tolist() == pytest.approx(list(out.npv()))
    assert meta.loc[1, "peak_year_consumption"] == int(out.peak_year("consumption")[1])


def test_bases_and_removals(frames):
    out, data, _ = frames
    plan = data[data["scenario"] == "Enhanced"].pivot_table(index="year", columns="variable", values="value")
    np.testing.assert_allclose(plan["Emissions|CO2|Consumption Basis"].to_numpy(),
                               out.series["co2_emissions_consumption_t"][1] / 1e6, rtol=1e-12)
    np.testing.assert_allclose(plan["Emissions|CO2|Net|Territorial"].to_numpy(),
                               out.series["net_co2_emissions_territorial_t"][1] / 1e6, rtol=1e-12)
    removals = plan["Carbon Sequestration|CCS|Biomass"] + plan["Carbon Sequestration|Direct Air Capture"]
    np.testing.assert_allclose(removals.to_numpy(), out.series["removals_co2_t"][1] / 1e6, atol=1e-12)


def test_beccs_and_daccs_of_a_what_if(model):
    from citycarbon.pathways.scenarios import with_settings

    scenario = with_settings(load_scenario("Enhanced"), {"beccs_2060_mt": 1.0, "daccs_2060_mt": 2.0})
    data, _ = iamc_frames(model, [scenario], model.evaluate(model.vector(scenario)[None, :]))
    last = data[data["year"] == 2060].set_index("variable")["value"]
    assert last["Carbon Sequestration|CCS|Biomass"] == pytest.approx(1.0)
    assert last["Carbon Sequestration|Direct Air Capture"] == pytest.approx(2.0)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # pyam leaves the xlsx open
def test_pyam_loads_the_costs(tmp_path, model):
    pyam = pytest.importorskip("pyam")
    path = tmp_path / "costs.xlsx"
    export(model, [load_scenario("BAU"), load_scenario("Plan")], path)
    with warnings.catch_warnings():
        for message in ("The inplace keyword", "ExcelFile.parse is deprecated"):
            warnings.filterwarnings("ignore", message=message, category=getattr(
                pd.errors, "Pandas4Warning", DeprecationWarning))
        frame = pyam.IamDataFrame(path)
        assert {"Energy System Cost", "Emissions|CO2|Consumption Basis"} <= set(frame.variable)
        assert "npv_cny" in frame.meta.columns
        del frame
        gc.collect()

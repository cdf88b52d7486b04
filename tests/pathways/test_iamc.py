"""IAMC export: round trip (CSV and Excel) and pyam loads the files unchanged."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pandas as pd
import pytest

from citycarbon.errors import InputError
from citycarbon.pathways import load_scenario
from citycarbon.pathways.iamc import IAMC_COLUMNS, export, iamc_frames, read_iamc


@pytest.fixture(scope="module")
def scenarios():
    return [load_scenario(n) for n in ("BAU", "Plan")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip(tmp_path, model, scenarios, suffix):
    path = tmp_path / f"dalian{suffix}"
    written = export(model, scenarios, path)
    assert written[0] == path
    data, meta = read_iamc(path)
    expected, expected_meta = iamc_frames(model, scenarios, model.evaluate(
        np.vstack([model.vector(s) for s in scenarios])))
    assert list(data.columns) == IAMC_COLUMNS
    pd.testing.assert_frame_equal(data, expected, check_dtype=False, rtol=1e-12)
    assert list(meta["scenario"]) == ["BAU", "Plan"]
    assert list(meta["code"]) == list(expected_meta["code"])
    assert list(meta["peak_year"]) == list(expected_meta["peak_year"])


def test_values_and_units(model, scenarios):
    out = model.evaluate(np.vstack([model.vector(s) for s in scenarios]))
    data, meta = iamc_frames(model, scenarios, out)
    row = data[(data["scenario"] == "Plan") & (data["variable"] == "Emissions|CO2") & (data["year"] == 2030)]
    assert row["unit"].item() == "Mt CO2/yr"
    assert row["value"].item() == pytest.approx(out.value_at("co2_emissions_t", 2030)[1] / 1e6)
    plan_rows = data[(data["scenario"] == "Plan") & (data["year"] == 2030)]
    cap = plan_rows[plan_rows["variable"] == "Capacity|Electricity|Wind"]
    assert cap["unit"].item() == "GW"
    # the energy CO2 children add up to the parent
    plan = data[data["scenario"] == "Plan"].pivot_table(index="year", columns="variable", values="value")
    children = [c for c in plan.columns if c.startswith("Emissions|CO2|Energy|") and c.count("|") == 3
                and not c.startswith("Emissions|CO2|Energy|Supply")]
    children += ["Emissions|CO2|Energy|Supply|Electricity", "Emissions|CO2|Energy|Supply|Heat"]
    total = plan[children].sum(axis=1) - plan["Carbon Sequestration|CCS"]
    np.testing.assert_allclose(total, plan["Emissions|CO2|Energy"], rtol=1e-9)
    assert "wind_solar_capacity_2030_met" in meta.columns


def test_bad_suffix(tmp_path, model, scenarios):
    with pytest.raises(InputError, match=r"\.csv or \.xlsx"):
        export(model, scenarios, tmp_path / "out.json")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # pyam leaves the xlsx open
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_pyam_loads_our_file(tmp_path, model, scenarios, suffix):
    pyam = pytest.importorskip("pyam")
    path = tmp_path / f"dalian{suffix}"
    export(model, scenarios, path)
    # pyam 4.0 calls pandas APIs that pandas 3.1 deprecates (their warning, not ours)
    with warnings.catch_warnings():
        for message in ("The inplace keyword", "ExcelFile.parse is deprecated"):
            warnings.filterwarnings("ignore", message=message, category=getattr(
                pd.errors, "Pandas4Warning", DeprecationWarning))
        frame = pyam.IamDataFrame(path)
        assert set(frame.scenario) == {"BAU", "Plan"}
        assert "Emissions|CO2|Energy|Industry" in frame.variable
        value = frame.filter(scenario="Plan", variable="Emissions|CO2", year=2030).timeseries().iloc[0, 0]
        meta_columns = list(frame.meta.columns)
        del frame
        gc.collect()  # pyam leaves the Excel file open: close it inside this test
    out = model.evaluate(model.vector(scenarios[1])[None, :])
    assert value == pytest.approx(out.value_at("co2_emissions_t", 2030)[0] / 1e6)
    if suffix == ".xlsx":
        assert "peak_year" in meta_columns

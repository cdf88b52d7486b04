"""``citycarbon sinks --year Y`` through the Typer app (CliRunner): json shape, csv, table, errors.

The data source (:func:`citycarbon.services.sources.city_inputs`, as the sinks service calls it) is replaced
by a literal fixture so these tests do not depend on the shipped Dalian files; one test runs against the real
dataset.
"""

from __future__ import annotations

import csv
import io
import json
import types

import pandas as pd
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app

runner = CliRunner()

FOREST = pd.DataFrame([
    (2015, "210200", "forest_stock", 12_800_000, "m**3", "official", "methods.md §7.1"),
    (2020, "210200", "forest_stock", 15_604_000, "m**3", "official", "methods.md §7.1"),
    (2015, "210200", "forest_coverage", 0.41, "fraction", "estimate", "fixture"),
    (2020, "210200", "forest_coverage", 0.415, "fraction", "official", "methods.md §7.1"),
], columns=["year", "region", "variable", "value", "unit", "status", "source"])
WETLAND = pd.DataFrame([
    (2020, "210200", "salt_marsh", 1000, "ha", "estimate", "fixture"),
    (2020, "210200", "seagrass", 500, "ha", "estimate", "fixture"),
], columns=["year", "region", "ecosystem", "area", "unit", "status", "source"])


@pytest.fixture
def fake_dataset(monkeypatch):
    """A stand-in data source with literal forest and wetland frames."""
    from citycarbon.errors import InputError, Problem
    from citycarbon.services import sinks as service

    frames = {"forest": FOREST.copy(), "wetland": WETLAND.copy()}

    def city_inputs(city: str, source=None):
        if city != "dalian":
            raise InputError(Problem(f"no reference dataset {city!r}", field="name", value=city))
        return types.SimpleNamespace(dataset=types.SimpleNamespace(
            forest=frames["forest"], wetland=frames["wetland"], region="210200", files={}))

    monkeypatch.setattr(service, "city_inputs", city_inputs)
    return frames


def invoke(*args: str):
    return runner.invoke(app, ["sinks", *args])


def test_json_shape_and_golden_forest_sink(fake_dataset):
    """2020 is not paired with 2019, so the 2015–2020 interval is used:
    (15 604 000 − 12 800 000) × 0.5 × 1.90 × 0.5 / 5 × 44/12 = 976 726.67 t CO2/yr;
    salt marsh 1 000 × 2.18 × 44/12 = 7 993.33; seagrass 500 × 0.43 × 44/12 = 788.33."""
    result = invoke("--year", "2020", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"year", "region", "forest", "wetland", "total_sink_tco2", "projection", "provenance"} <= set(data)
    assert (data["year"], data["region"]) == (2020, "210200")
    forest = data["forest"]
    assert forest["stock_m3"] == 15_604_000 and forest["coverage"] == 0.415
    assert forest["sink_tco2"] == pytest.approx(976_726.666_667, rel=1e-9)
    assert [p["param_id"] for p in forest["parameters"]][:3] == ["FP-AVG-SVD", "FP-AVG-BEF", "FP-AVG-CF"]
    wetland = {w["ecosystem"]: w for w in data["wetland"]}
    assert set(wetland["salt_marsh"]) >= {"ecosystem", "area_ha", "rate", "rate_unit", "sink_tco2", "status"}
    assert wetland["salt_marsh"]["sink_tco2"] == pytest.approx(7_993.333_333, rel=1e-9)
    assert wetland["seagrass"]["rate_unit"] == "t C/ha/yr"
    assert data["total_sink_tco2"] == pytest.approx(976_726.666_667 + 7_993.333_333 + 788.333_333, rel=1e-9)
    assert set(data["projection"]) == {"2025", "2030"}
    band = data["projection"]["2030"]["forest_stock_m3"]
    assert band["low"] <= band["value"] <= band["high"]
    assert data["provenance"]["inputs"] and data["provenance"]["factors"]


def test_csv_and_table_formats(fake_dataset):
    result = invoke("--year", "2020", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["section", "item", "value", "unit", "low", "high", "status", "note"]
    sections = {r["section"] for r in rows}
    assert sections == {"forest", "wetland", "total", "projection"}
    table = invoke("--year", "2020")
    assert table.exit_code == 0, table.stderr
    assert "salt_marsh" in table.stdout and "total_sink_tco2" in table.stdout


def test_year_is_required(fake_dataset):
    result = invoke("--format", "json")
    assert result.exit_code == 2
    assert "--year" in result.stderr


def test_bad_data_exits_2_naming_file_row_field(fake_dataset):
    wetland = fake_dataset["wetland"]
    wetland.loc[1, "ecosystem"] = "seagras"  # frame row 1: sheet row 3
    wetland.attrs["file"] = "wetland.csv"
    result = invoke("--year", "2020", "--format", "json")
    assert result.exit_code == 2
    assert "wetland.csv, row 3, field 'ecosystem'" in result.stderr and "seagrass" in result.stderr


def test_unknown_dataset_exits_2(fake_dataset):
    result = invoke("--year", "2020", "--dataset", "atlantis")
    assert result.exit_code == 2 and "atlantis" in result.stderr


def test_real_dalian_dataset_json():
    from citycarbon.datasets import load_reference

    forest = load_reference("dalian").forest
    year = int(forest.loc[forest["variable"] == "forest_stock", "year"].astype(int).max())
    result = invoke("--year", str(year), "--format", "json", "--source", "files")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["year"] == year and data["forest"]["stock_m3"] > 0

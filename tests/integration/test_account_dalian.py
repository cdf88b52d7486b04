"""`citycarbon account` on the shipped Dalian dataset, checked against an independent hand computation."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.datasets import load_reference
from citycarbon.units import product_factor

runner = CliRunner()
SIGN = {"final_consumption": 1, "non_energy_use": 1, "transformation_input": 1, "losses": 1,
        "transformation_output": -1}


@pytest.fixture(scope="module")
def account_2020() -> dict:
    result = runner.invoke(app, ["account", "--year", "2020", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_has_the_documented_shape(account_2020):
    assert account_2020["year"] == 2020
    for key in ("energy_consumption_tce", "energy_consumption_dual_control_tce", "co2_emissions_t",
                "non_fossil_share", "energy_intensity_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan"):
        assert isinstance(account_2020["indicators"][key], float), key
    assert {"sector", "energy_tce", "co2_t"} <= set(account_2020["by_sector"][0])
    assert {"fuel", "energy_tce", "co2_t"} <= set(account_2020["by_fuel"][0])
    provenance = account_2020["provenance"]
    assert provenance["inputs"]["balance"].startswith("sha256:")
    assert provenance["method_version"].startswith("citycarbon.accounting/")
    assert provenance["estimates"], "the shipped dataset contains estimates and must say so"


def test_total_reproduces_by_hand_from_the_published_coefficients(account_2020):
    """Recompute 能源消费总量 2020 row by row: quantity × the factor row the result names (GB/T 2589 Annex A
    for fuels; the coal rate for electricity in the coal-equivalent method), signed per the NBS balance."""
    factors = {row["key"]: row for row in account_2020["provenance"]["factors"]
               if row["kind"] in ("standard_coal", "coal_rate")}
    electricity = next(row for row in factors.values() if row["kind"] == "coal_rate")
    balance = load_reference("dalian").balance
    total = 0.0
    for row in balance[balance["year"] == 2020].itertuples(index=False):
        sign = SIGN.get(row.flow, 0)
        if not sign:
            continue
        factor = electricity if row.fuel == "electricity" else factors.get(row.fuel)
        if factor is None:  # energy-unit fuels (biomass etc.) convert by unit
            total += sign * row.quantity * product_factor(row.unit, "dimensionless", "tce")
            continue
        total += sign * row.quantity * factor["value"] * product_factor(row.unit, factor["unit"], "tce")
    assert account_2020["indicators"]["energy_consumption_tce"] == pytest.approx(total, rel=1e-12)


def test_raw_coal_factor_is_the_published_one(account_2020):
    rows = [r for r in account_2020["provenance"]["factors"] if r["kind"] == "standard_coal" and r["key"] == "raw_coal"]
    assert rows and rows[0]["value"] == 0.7143 and rows[0]["unit"] == "kgce/kg"


def test_calorific_method_is_lower_for_a_city_with_primary_electricity():
    coal_eq = json.loads(runner.invoke(app, ["account", "--year", "2020", "--format", "json"]).stdout)
    calorific = json.loads(runner.invoke(app, ["account", "--year", "2020", "--method", "calorific",
                                               "--format", "json"]).stdout)
    assert calorific["electricity"]["kgce_per_kwh"] == pytest.approx(0.1229)
    assert coal_eq["electricity"]["kgce_per_kwh"] > 0.25
    assert calorific["indicators"]["non_fossil_share"] < coal_eq["indicators"]["non_fossil_share"]


def test_table_and_csv_formats():
    table = runner.invoke(app, ["account", "--year", "2020"])
    assert table.exit_code == 0 and "能源消费总量" in table.stdout and "estimates" in table.stdout
    csv = runner.invoke(app, ["account", "--year", "2020", "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0] == "indicator,name,value,unit"


def test_imported_balance_with_an_error_names_file_row_and_field(tmp_path):
    frame = load_reference("dalian").balance
    frame = frame[frame["year"] == 2020].copy()
    frame.iloc[3, frame.columns.get_loc("fuel")] = "raw_cole"
    path = tmp_path / "upload.csv"
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["account", "--year", "2020", "--balance", str(path)])
    assert result.exit_code == 2
    assert "upload.csv, row 5, field 'fuel'" in result.stderr and "raw_coal" in result.stderr  # header: row 1


def test_imported_balance_replaces_the_shipped_one(tmp_path):
    frame = load_reference("dalian").balance
    frame = frame[frame["year"].isin([2019, 2020])].copy()
    frame["quantity"] = frame["quantity"] * 2
    path = tmp_path / "doubled.csv"
    frame.to_csv(path, index=False)
    shipped = json.loads(runner.invoke(app, ["account", "--year", "2020", "--format", "json"]).stdout)
    doubled = runner.invoke(app, ["account", "--year", "2020", "--balance", str(path), "--format", "json"])
    assert doubled.exit_code == 0, doubled.output
    doubled = json.loads(doubled.stdout)
    assert doubled["indicators"]["energy_consumption_tce"] == pytest.approx(
        2 * shipped["indicators"]["energy_consumption_tce"], rel=1e-9)
    assert doubled["provenance"]["inputs"]["balance"] != shipped["provenance"]["inputs"]["balance"]


def test_year_without_data_exits_2():
    result = runner.invoke(app, ["account", "--year", "1999"])
    assert result.exit_code == 2 and "1999" in result.stderr

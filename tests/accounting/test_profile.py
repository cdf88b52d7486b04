"""The accounting profile and its method flags on toy balances: golden values computed by hand from the factor
CSV rows (read here with the csv module, not through the engine's lookup), the CO2 reconciliation identity,
steam and hot water, IPCC factors with gas in m³, the exact-year grid chain and its fallback notes, and the
provenance's factor-table hash and per-figure estimates."""

from __future__ import annotations

import csv
import itertools
import json
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from citycarbon.accounting import AccountingOptions, account_energy_balance
from citycarbon.accounting.options import CHOICES
from citycarbon.cli import app
from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.factors import FactorTable, load_factors
from citycarbon.importers import validate_balance
from citycarbon.services.accounting import account_city, city_options
from tests.conftest import balance_rows, statistics_rows

C_TO_CO2 = 44.0 / 12.0
KJ_PER_KGCE = 29307.0  # GB/T 2589: 1 kgce = 29 307 kJ
YEAR = 2023
runner = CliRunner()


@cache
def csv_rows() -> dict[str, dict[str, str]]:
    """Every factor row of the shipped CSVs by factor_id (read directly, banner lines skipped)."""
    rows: dict[str, dict[str, str]] = {}
    for path in sorted(data_path("factors").glob("*.csv")):
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(line for line in handle if not line.startswith("#")):
                rows[row["factor_id"]] = row
    return rows


def value(factor_id: str) -> float:
    return float(csv_rows()[factor_id]["value"])


# --- hand computations (from the CSV rows) -----------------------------------------------------------

def coal_co2_per_t(co2_factors: str) -> float:
    """t CO2 per t raw coal: NCV (GJ/t) × CC (t C/TJ) / 1000 × OF × 44/12."""
    if co2_factors == "provincial":  # 省级指南: GB/T 2589 NCV 20 908 kJ/kg, CC 26.37, OF 0.94
        return value("cn2011.ncv.raw_coal") / 1e3 * value("cn2011.cc.raw_coal") / 1e3 * value(
            "cn2011.of.raw_coal") * C_TO_CO2
    if co2_factors == "ipcc":  # IPCC 2006: NCV 25.8 TJ/Gg (= GJ/t), CC 25.8, OF 1
        return value("ipcc2006.ncv.raw_coal") * value("ipcc2006.cc.raw_coal") / 1e3 * C_TO_CO2
    # ipcc-cn-ncv: GB/T 2589 NCV 20 908 kJ/kg with the IPCC carbon content, OF 1
    return value("gbt2589.ncv.raw_coal") / 1e3 * value("ipcc2006.cc.raw_coal") / 1e3 * C_TO_CO2


def grid_ef_2023(grid_factor: str) -> float:
    """t CO2/MWh for 2023: Liaoning has no 2023 row, so the province chain reaches the Northeast grid's."""
    return {"provincial": value("mee_nbs.northeast.2023"), "regional": value("mee_nbs.northeast.2023"),
            "national": value("mee_nbs.national.2023"),
            "reporting": value("mee_enterprise.national.2022")}[grid_factor]


def kgce_per_kwh(method: str, coal_rate: str) -> float:
    if method == "calorific":
        return value("gbt2589.electricity")
    return value(f"cec.{coal_rate}.2023") / 1000.0  # gce/kWh → kgce/kWh


METHODS = ("coal-equivalent", "calorific")
COAL_RATES = ("generation", "supply")
CO2_FACTORS = ("provincial", "ipcc", "ipcc-cn-ncv")
GRID_FACTORS = ("provincial", "regional", "national", "reporting")
BASES = ("net-inflow", "consumption")
ATTRIBUTIONS = ("grid-average", "local-mix")


# --- 1 t raw coal for 210200 through the CLI (a user's own balance) ------------------------------------

@pytest.fixture(scope="module")
def one_tonne(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("own") / "balance.csv"
    path.write_text("year,region,flow,sector,fuel,quantity,unit\n"
                    f"{YEAR},210200,final_consumption,steel,raw_coal,1,t\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("co2_factors", CO2_FACTORS)
@pytest.mark.parametrize("grid_factor", GRID_FACTORS)
def test_one_tonne_raw_coal_gives_the_hand_computed_co2(one_tonne, co2_factors, grid_factor):
    """No Dalian process activity, no Dalian GDP: the CO2 is the tonne of coal, exactly."""
    result = runner.invoke(app, ["account", "--year", str(YEAR), "--balance", str(one_tonne), "--source", "files",
                                 "--co2-factors", co2_factors, "--grid-factor", grid_factor, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["indicators"]["co2_emissions_t"] == pytest.approx(coal_co2_per_t(co2_factors), rel=1e-12)
    assert data["indicators"]["co2_process_t"] == 0.0
    assert data["indicators"]["energy_consumption_tce"] == pytest.approx(value("gbt2589.raw_coal"), rel=1e-12)
    assert data["indicators"]["energy_intensity_tce_per_10k_yuan"] is None
    assert data["indicators"]["gdp_10k_yuan"] is None
    assert "energy_intensity_tce_per_10k_yuan" in data["not_computed"]
    assert set(data["provenance"]["inputs"]) == {"balance"}


def test_one_tonne_values_by_hand():
    """The hand formula itself, against methods.md §2.3's published 1.9003 kgCO2/kg (省级指南)."""
    assert coal_co2_per_t("provincial") == pytest.approx(1.9003, abs=5e-5)
    assert coal_co2_per_t("ipcc") == pytest.approx(25.8 * 94.6 / 1000, rel=2e-3)  # IPCC EF 94 600 kg/TJ


def test_own_balance_table_says_not_computed(one_tonne):
    result = runner.invoke(app, ["account", "--year", str(YEAR), "--balance", str(one_tonne), "--source", "files"])
    assert result.exit_code == 0, result.output
    assert "not computed" in result.stdout and "未计算" in result.stdout


def test_process_file_is_the_only_process_activity(one_tonne, tmp_path):
    process = tmp_path / "process.csv"
    process.write_text("year,region,process,quantity,unit,status,source\n"
                       f"{YEAR},210200,cement_clinker,10,t,official,toy\n", encoding="utf-8")
    result = runner.invoke(app, ["account", "--year", str(YEAR), "--balance", str(one_tonne), "--source", "files",
                                 "--process", str(process), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    clinker = value("ipcc2006_ippu.cement_clinker")
    assert data["indicators"]["co2_process_t"] == pytest.approx(10 * clinker, rel=1e-12)
    assert data["indicators"]["co2_emissions_t"] == pytest.approx(coal_co2_per_t("provincial") + 10 * clinker,
                                                                  rel=1e-12)
    assert "process_activity" in data["provenance"]["inputs"]


# --- a toy balance on every flag combination (engine) -------------------------------------------------

TOY = [  # 1 t raw coal, 1 MWh electricity bought from the grid, 1 GJ heat bought
    ("final_consumption", "steel", "raw_coal", 1.0, "t"),
    ("final_consumption", "commercial", "electricity", 1.0, "MWh"),
    ("final_consumption", "residential", "heat", 1.0, "GJ"),
]
STATS = statistics_rows({2022: 1.0, 2023: 1.0})  # 10^8 CNY = 10^4 × 10^4 CNY


@pytest.fixture(scope="module")
def toy_balance() -> pd.DataFrame:
    return validate_balance(balance_rows(TOY, year=YEAR), "toy.csv")


@pytest.mark.parametrize(("method", "coal_rate", "co2_factors", "grid_factor", "basis", "attribution"),
                         [c for c in itertools.product(METHODS, COAL_RATES, CO2_FACTORS, GRID_FACTORS, BASES,
                                                       ATTRIBUTIONS)
                          if c[0] == "coal-equivalent" or c[1] == "generation"])  # no coal rate in 当量值
def test_toy_balance_on_every_flag(toy_balance, method, coal_rate, co2_factors, grid_factor, basis, attribution):
    options = city_options("dalian", method=method, coal_rate=coal_rate, co2_factors=co2_factors,
                           grid_factor=grid_factor, electricity_co2_basis=basis, nonfossil_attribution=attribution)
    result = account_energy_balance(toy_balance, YEAR, statistics=STATS, options=options)
    k = kgce_per_kwh(method, coal_rate)
    energy = value("gbt2589.raw_coal") + 1000 * k / 1000 + 1000 * value("gbt2589.heat") / 1000  # tce
    heat_co2 = value("ndrc2013.heat_ef")  # 1 GJ × 0.11 t/GJ
    co2 = coal_co2_per_t(co2_factors) + grid_ef_2023(grid_factor) + heat_co2  # 1 MWh × t/MWh
    share = value("estimate.nonfossil_share.liaoning.2023")  # no local generation: the grid's share either way
    indicators = result.indicators
    assert indicators["energy_consumption_tce"] == pytest.approx(energy, rel=1e-12)
    assert indicators["co2_emissions_t"] == pytest.approx(co2, rel=1e-12)
    assert indicators["non_fossil_share"] == pytest.approx(1000 * share * k / 1000 / energy, rel=1e-12)
    assert indicators["energy_intensity_tce_per_10k_yuan"] == pytest.approx(energy / 1e4, rel=1e-12)
    assert result.co2_by_sector["co2_t"].sum() == pytest.approx(co2, rel=1e-12)


# --- the CO2 table reconciles to the total ---------------------------------------------------------------

quantity = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(coal=quantity, power_coal=quantity, generated=quantity, consumed=quantity, outflow=quantity,
       heat=quantity, steam=quantity, clinker=quantity, basis=st.sampled_from(["net_inflow", "consumption"]))
def test_co2_by_sector_rows_sum_to_the_total(coal, power_coal, generated, consumed, outflow, heat, steam, clinker,
                                             basis):
    rows = [
        ("final_consumption", "steel", "raw_coal", coal, "t"),
        ("transformation_input", "power", "raw_coal", power_coal, "t"),
        ("transformation_output", "power", "electricity", generated, "MWh"),
        ("production", None, "wind_power", generated / 2, "MWh"),
        ("final_consumption", "commercial", "electricity", consumed, "MWh"),
        ("outflow", None, "electricity", outflow, "MWh"),
        ("final_consumption", "residential", "heat", heat, "GJ"),
        ("final_consumption", "petrochemical", "steam_low_pressure", steam, "t"),
    ]
    balance = validate_balance(balance_rows(rows, year=YEAR), "toy.csv")
    process = pd.DataFrame({"year": [YEAR], "region": ["210200"], "process": ["cement_clinker"],
                            "quantity": [clinker], "unit": ["t"]})
    options = AccountingOptions(electricity_co2_basis=basis)
    result = account_energy_balance(balance, YEAR, statistics=STATS, process_activity=process, options=options)
    total = result.indicators["co2_emissions_t"]
    assert result.co2_by_sector["co2_t"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    adjustments = result.co2_by_sector[result.co2_by_sector["kind"] == "adjustment"].set_index("sector")["co2_t"]
    assert adjustments["process"] == pytest.approx(result.indicators["co2_process_t"])
    assert adjustments["heat"] == pytest.approx(result.co2_by_scope["scope2_heat_t"])


# --- steam, hot water ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fuel", "qty", "unit", "factor_id"), [
    ("steam_low_pressure", 1.0, "t", "gbt2589.steam_low_pressure"),
    ("steam_low_pressure", 1000.0, "kg", "gbt2589.steam_low_pressure"),
    ("steam_medium_pressure", 1.0, "t", "gbt2589.steam_medium_pressure"),
    ("steam_high_pressure", 1.0, "t", "gbt2589.steam_high_pressure"),
])
def test_steam_converts_at_its_coefficient_and_emits_via_the_heat_factor(fuel, qty, unit, factor_id):
    balance = validate_balance(balance_rows([("final_consumption", "petrochemical", fuel, qty, unit)], year=YEAR),
                               "steam.csv")
    result = account_energy_balance(balance, YEAR, statistics=STATS, options=AccountingOptions())
    tce = value(factor_id)  # kgce/kg = tce/t, 1 t of steam
    assert result.indicators["energy_consumption_tce"] == pytest.approx(tce, rel=1e-12)
    gj = tce * KJ_PER_KGCE / 1000.0 * 1000.0 / 1000.0  # tce × 29 307 kJ/kgce → GJ
    assert result.co2_by_scope["scope2_heat_t"] == pytest.approx(gj * value("ndrc2013.heat_ef"), rel=1e-12)
    assert result.indicators["co2_emissions_t"] == pytest.approx(gj * value("ndrc2013.heat_ef"), rel=1e-12)


def test_hot_water_in_gj():
    balance = validate_balance(balance_rows([("final_consumption", "residential", "hot_water", 10.0, "GJ")],
                                            year=YEAR), "hw.csv")
    result = account_energy_balance(balance, YEAR, statistics=STATS, options=AccountingOptions())
    assert result.indicators["energy_consumption_tce"] == pytest.approx(10 * value("gbt2589.hot_water"), rel=1e-12)
    assert result.indicators["co2_emissions_t"] == pytest.approx(10 * value("ndrc2013.heat_ef"), rel=1e-12)


def test_steam_coefficients_say_what_is_unverified():
    rows = csv_rows()
    assert rows["gbt2589.steam_low_pressure"]["status"] == "secondary"
    for grade in ("medium", "high"):
        assert rows[f"gbt2589.steam_{grade}_pressure"]["status"] == "unverified"


# --- IPCC with natural gas in m³ ----------------------------------------------------------------------------

@pytest.mark.parametrize(("co2_factors", "cc_id"), [("ipcc", "ipcc2006.cc.natural_gas"),
                                                     ("ipcc-cn-ncv", "ipcc_cn_ncv.cc.natural_gas")])
def test_ipcc_with_gas_in_cubic_metres(co2_factors, cc_id):
    balance = validate_balance(balance_rows([("final_consumption", "residential", "natural_gas", 1.0, "10^4 m3")],
                                            year=YEAR), "gas.csv")
    options = AccountingOptions(co2_factors=co2_factors)
    result = account_energy_balance(balance, YEAR, statistics=STATS, options=options)
    # 10^4 m3 × 38 931 kJ/m3 (GB/T 2589) × 15.3 t C/TJ × 1 × 44/12
    expected = 1e4 * value("gbt2589.ncv.natural_gas") / 1e9 * value(cc_id) * C_TO_CO2
    assert result.indicators["co2_emissions_t"] == pytest.approx(expected, rel=1e-12)
    ids = {f["factor_id"] for f in result.provenance.factors}
    assert "gbt2589.ncv.natural_gas" in ids or "ipcc_cn_ncv.ncv.natural_gas" in ids


# --- the grid factor: exact year along the chain, fallbacks recorded ----------------------------------------

def _grid(result) -> dict:
    return next(f for f in result.provenance.factors if f["kind"] == "grid_ef")


@pytest.mark.parametrize(("year", "factor_id", "zh"), [
    (2022, "mee_nbs.liaoning.2022", None),
    (2023, "mee_nbs.northeast.2023", "2023年采用2023年东北电网因子"),
    (2024, "mee_nbs.northeast.2023", "2024年采用2023年东北电网因子"),
])
def test_grid_factor_prefers_the_exact_year_along_the_chain(year, factor_id, zh):
    balance = validate_balance(balance_rows([("final_consumption", "commercial", "electricity", 1.0, "MWh")],
                                            year=year), "grid.csv")
    result = account_energy_balance(balance, year, statistics=statistics_rows({year: 1.0}),
                                    options=city_options("dalian", method="calorific"))
    assert _grid(result)["factor_id"] == factor_id
    assert result.co2_by_scope["scope2_electricity_t"] == pytest.approx(value(factor_id), rel=1e-12)
    grid_notes = [f for f in result.provenance.fallbacks if f["kind"] == "grid_ef"]
    if zh is None:
        assert not grid_notes
    else:
        assert grid_notes and grid_notes[0]["text_zh"].startswith(zh)
        assert re.search(r"Northeast grid factor of \d{4} used", grid_notes[0]["text_en"])


# --- provenance: the factor tables' hash, estimated figures ----------------------------------------------

def test_provenance_hashes_the_factor_tables(toy_balance):
    result = account_energy_balance(toy_balance, YEAR, statistics=STATS, options=AccountingOptions())
    tables = result.provenance.factor_tables
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", tables["all"]) and re.fullmatch(r"sha256:[0-9a-f]{64}",
                                                                                   tables["used"])
    shipped = load_factors()
    frame = shipped.frame.copy()
    frame.loc[frame["factor_id"] == "gbt2589.raw_coal", "value"] = 0.7
    changed = FactorTable(frame)
    other = account_energy_balance(toy_balance, YEAR, statistics=STATS, options=AccountingOptions(),
                                   factors=changed)
    assert other.provenance.factor_tables["all"] != tables["all"]
    assert other.provenance.factor_tables["used"] != tables["used"]


def test_estimated_figures_name_the_coal_rate(toy_balance):
    coal_eq = account_energy_balance(toy_balance, YEAR, statistics=STATS, options=AccountingOptions())
    flagged = coal_eq.provenance.estimated_figures
    assert any("cec.generation.2023" in r for r in flagged["energy_consumption_tce"])
    assert any("cec.generation.2023" in r for r in flagged["energy_intensity_tce_per_10k_yuan"])
    calorific = account_energy_balance(toy_balance, YEAR, statistics=STATS,
                                       options=AccountingOptions(method="calorific"))
    assert "energy_consumption_tce" not in calorific.provenance.estimated_figures  # official rows only


# --- the profile ------------------------------------------------------------------------------------------

def test_profile_documents_every_choice():
    options = city_options("dalian")
    profile = {row["option"]: row for row in options.profile()}
    for choice in CHOICES:
        assert profile[choice.option]["document"] and profile[choice.option]["default"]
    assert options.peak_rule_basis == "worse"
    assert profile["electricity_co2_basis"]["value"] == "net-inflow"
    assert "803号" in profile["deduct_feedstock"]["document"] and "1258号" in profile[
        "deduct_renewable_increment"]["document"]


def test_named_choices_set_the_low_level_fields():
    assert city_options("dalian", co2_factors="ipcc").co2_factor_set == "ipcc_2006"
    assert city_options("dalian", co2_factors="ipcc-cn-ncv").co2_factor_set == "ipcc_2006_cn_ncv"
    assert city_options("dalian", coal_rate="supply").coal_rate_key == "thermal_power_supply"
    assert city_options("dalian", grid_factor="reporting").grid_ef_set == "mee_enterprise_reporting"
    assert city_options("dalian", grid_factor="regional").grid_regions == ("northeast", "national")
    assert city_options("dalian", peak_rule_basis="net-inflow").peak_rule_basis == "net_inflow"


def test_bad_choice_names_the_option():
    with pytest.raises(InputError) as info:
        city_options("dalian", co2_factors="ipcc2006")
    assert info.value.problems[0].field == "co2_factors"
    with pytest.raises(InputError, match="unknown method choice"):
        account_city(YEAR, source="files", colour="red")


def test_dalian_sector_co2_reconciles_to_the_total():
    """On the shipped data (values change with the recalibration; the identity does not)."""
    for basis in ("net-inflow", "consumption"):
        result = account_city(2020, source="files", electricity_co2_basis=basis)
        assert result.co2_by_sector["co2_t"].sum() == pytest.approx(result.indicators["co2_emissions_t"], rel=1e-9)
        assert result.not_computed == {}

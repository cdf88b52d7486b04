"""Accounting engine: golden values from the official methods, identities, bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.accounting import AccountingOptions, account_energy_balance, account_years, period_base_year
from citycarbon.errors import InputError
from citycarbon.factors import load_factors
from citycarbon.importers import validate_balance
from tests.conftest import balance_rows, statistics_rows

YEAR = 2022
STATS = statistics_rows({2019: 1000.0, 2020: 1000.0, 2021: 1050.0, 2022: 1100.0})
CALORIFIC = AccountingOptions(method="calorific", grid_region="northeast", nonfossil_attribution="local_mix")
COAL_EQ = AccountingOptions(method="coal-equivalent", grid_region="northeast", nonfossil_attribution="local_mix")


def account(rows, options=CALORIFIC, year=YEAR, **kwargs):
    balance = validate_balance(balance_rows(rows, year=year), "fixture.csv")
    return account_energy_balance(balance, year, statistics=STATS, options=options, **kwargs)


def coal_rate_kgce_per_kwh(year: int) -> float:
    row = load_factors().lookup("coal_rate", "thermal_power_generation", year)
    return row.value_in("kgce/kWh")


def test_raw_coal_converts_at_gbt2589_coefficient():
    """GB/T 2589-2020 Annex A: 原煤 0.7143 kgce/kg, so 10^4 t raw coal = 7 143 tce."""
    result = account([("final_consumption", "steel", "raw_coal", 1.0, "10^4 t")])
    assert result.indicators["energy_consumption_tce"] == pytest.approx(7143.0, rel=1e-12)


def test_electricity_calorific_is_01229_kgce_per_kwh():
    """GB/T 2589 Annex A 电力(当量值) 0.1229 kgce/kWh: 10^4 kWh bought from the grid = 1.229 tce."""
    result = account([("final_consumption", "commercial", "electricity", 1.0, "10^4 kWh")])
    assert result.indicators["energy_consumption_tce"] == pytest.approx(1.229, rel=1e-12)
    assert result.electricity["kgce_per_kwh"] == pytest.approx(0.1229)


def test_electricity_coal_equivalent_uses_the_years_coal_rate():
    """NBS 发电煤耗法: electricity at the year's average thermal-power coal rate, not 0.1229."""
    result = account([("final_consumption", "commercial", "electricity", 1.0, "10^4 kWh")], options=COAL_EQ)
    expected = 1e4 * coal_rate_kgce_per_kwh(YEAR) / 1000.0
    assert result.indicators["energy_consumption_tce"] == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(1.229, rel=1e-3)


@pytest.mark.parametrize(
    ("fuel", "unit", "kg_co2_per_unit"),
    [  # 省级温室气体清单编制指南(试行) carbon content and oxidation × GB/T 2589 NCV; methods.md §2.3
        ("raw_coal", "t", 1.9003),
        ("coke", "t", 2.8604),
        ("crude_oil", "t", 3.0202),
        ("fuel_oil", "t", 3.1705),
        ("gasoline", "t", 2.9251),
        ("kerosene", "t", 3.0179),
        ("diesel", "t", 3.0959),
        ("lpg", "t", 3.1013),
        ("refinery_gas", "t", 3.0119),
        ("natural_gas", "m3", 2.1622),
    ],
)
def test_combustion_co2_matches_provincial_guideline(fuel, unit, kg_co2_per_unit):
    """E = AD × NCV × CC × OF × 44/12 (省级指南; IPCC 2006 Vol.2 Eq. 2.1), per 10^4 units burnt."""
    result = account([("final_consumption", "other_industry", fuel, 1.0, f"10^4 {unit}")])
    kg_per_unit_of_fuel = 1000.0 if unit == "t" else 1.0  # kgCO2/kg × 1000 kg/t; per m3 as is
    expected_t = 1e4 * kg_co2_per_unit * kg_per_unit_of_fuel / 1000.0
    # the published factors are rounded to 4 decimals: allow half a unit of the last digit
    assert result.co2_by_scope["scope1_combustion_t"] == pytest.approx(
        expected_t, abs=1e4 * 0.00005 * kg_per_unit_of_fuel / 1000.0)


def test_net_electricity_inflow_uses_grid_factor():
    """MEE/NBS 2022 Northeast grid factor 0.5564 tCO2/MWh: 10^8 kWh net inflow = 55 640 t."""
    result = account([("final_consumption", "commercial", "electricity", 1.0, "10^8 kWh")])
    assert result.electricity["net_inflow_kwh"] == pytest.approx(1e8)
    assert result.co2_by_scope["scope2_electricity_t"] == pytest.approx(55640.0, rel=1e-9)


def test_net_electricity_outflow_is_deducted():
    """A net exporter deducts its net outflow at the grid factor (provincial CO2 accounting)."""
    rows = [
        ("production", None, "wind_power", 3.0, "10^8 kWh"),
        ("final_consumption", "commercial", "electricity", 1.0, "10^8 kWh"),
        ("outflow", None, "electricity", 2.0, "10^8 kWh"),
    ]
    result = account(rows)
    assert result.electricity["net_inflow_kwh"] == pytest.approx(-2e8)
    assert result.co2_by_scope["scope2_electricity_t"] == pytest.approx(-2 * 55640.0, rel=1e-9)


def test_consumption_basis_counts_electricity_consumed_not_generation():
    """Consumption view: 10^8 kWh consumed × 0.5564 t/MWh (2022 Northeast), the power plant's coal not counted;
    the net-inflow view counts the coal burnt and deducts the 2 × 10^8 kWh exported."""
    rows = [
        ("transformation_input", "power", "raw_coal", 10.0, "10^4 t"),
        ("transformation_output", "power", "electricity", 3.0, "10^8 kWh"),
        ("final_consumption", "commercial", "electricity", 1.0, "10^8 kWh"),
        ("outflow", None, "electricity", 2.0, "10^8 kWh"),
    ]
    consumption = account(rows, options=CALORIFIC.model_copy(update={"electricity_co2_basis": "consumption"}))
    assert consumption.indicators["co2_energy_t"] == pytest.approx(55640.0, rel=1e-9)
    assert consumption.by_sector["co2_t"].sum() == pytest.approx(0.0)
    net = account(rows)
    assert net.indicators["co2_energy_t"] == pytest.approx(10 * 19003.0 - 2 * 55640.0, abs=10.0)


def test_non_fossil_share_under_both_electricity_methods():
    """Share = non-fossil primary electricity / total; 10^4 t raw coal + 10^8 kWh local wind consumed."""
    rows = [
        ("production", None, "wind_power", 1.0, "10^8 kWh"),
        ("final_consumption", "commercial", "electricity", 1.0, "10^8 kWh"),
        ("final_consumption", "steel", "raw_coal", 1.0, "10^4 t"),
    ]
    calorific = account(rows, options=CALORIFIC)
    wind_tce = 1e8 * 0.1229 / 1000.0  # 12 290 tce at 当量值
    assert calorific.indicators["non_fossil_share"] == pytest.approx(wind_tce / (wind_tce + 7143.0), rel=1e-12)
    coal_eq = account(rows, options=COAL_EQ)
    wind_ce = 1e8 * coal_rate_kgce_per_kwh(YEAR) / 1000.0
    assert coal_eq.indicators["non_fossil_share"] == pytest.approx(wind_ce / (wind_ce + 7143.0), rel=1e-12)
    assert coal_eq.indicators["non_fossil_share"] > calorific.indicators["non_fossil_share"]


def test_grid_average_attribution_uses_grid_nonfossil_share():
    rows = [("final_consumption", "commercial", "electricity", 1.0, "10^8 kWh")]
    options = AccountingOptions(method="calorific", nonfossil_attribution="grid_average", grid_region="northeast",
                                grid_share_region="liaoning")
    share = load_factors().lookup("grid_nonfossil_share", "electricity", YEAR, region="liaoning")
    result = account(rows, options=options)
    assert result.indicators["non_fossil_share"] == pytest.approx(share.value_in("dimensionless"), rel=1e-12)


def test_feedstock_is_deducted_from_the_dual_control_total():
    """发改环资〔2022〕803号: 原料用能 leaves the total-consumption assessment and the intensity basis."""
    rows = [
        ("final_consumption", "petrochemical", "raw_coal", 1.0, "10^4 t"),
        ("non_energy_use", "petrochemical", "naphtha", 1.0, "10^4 t"),
    ]
    result = account(rows)
    naphtha = load_factors().lookup("standard_coal", "naphtha", YEAR, factor_set="gbt2589_2020")
    feedstock = 1e4 * naphtha.value_in("kgce/kg")  # 10^4 t × kgce/kg = tce
    assert result.indicators["feedstock_tce"] == pytest.approx(feedstock, rel=1e-12)
    assert result.indicators["energy_consumption_dual_control_tce"] == pytest.approx(7143.0, rel=1e-12)
    off = account(rows, options=CALORIFIC.model_copy(update={"deduct_feedstock": False}))
    assert off.indicators["energy_consumption_dual_control_tce"] == pytest.approx(7143.0 + feedstock)
    # feedstock is not burnt: no CO2 from it
    assert result.co2_by_scope["scope1_combustion_t"] == pytest.approx(19003.0, abs=1.0)


def test_renewable_increment_over_2020_is_deducted():
    """发改运行〔2022〕1258号: renewable power above the 2020 base leaves the total (not nuclear)."""
    rows_2020 = [("production", None, "wind_power", 1.0, "10^8 kWh"),
                 ("production", None, "nuclear_power", 5.0, "10^8 kWh"),
                 ("final_consumption", "commercial", "electricity", 6.0, "10^8 kWh")]
    rows_2022 = [("production", None, "wind_power", 3.0, "10^8 kWh"),
                 ("production", None, "nuclear_power", 5.0, "10^8 kWh"),
                 ("final_consumption", "commercial", "electricity", 8.0, "10^8 kWh")]
    balance = validate_balance(pd.concat([balance_rows(rows_2020, 2020), balance_rows(rows_2022, 2022)],
                                         ignore_index=True), "fixture.csv")
    result = account_energy_balance(balance, 2022, statistics=STATS, options=CALORIFIC)
    increment_tce = 2e8 * 0.1229 / 1000.0
    assert result.dual_control["renewable_increment_deduction_tce"] == pytest.approx(increment_tce)
    assert result.indicators["energy_consumption_dual_control_tce"] == pytest.approx(
        result.indicators["energy_consumption_tce"] - increment_tce)
    # by default (V*: 1258号 "仍纳入能耗强度考核") the intensity basis keeps it
    assert result.dual_control["intensity_basis_tce"] == pytest.approx(result.indicators["energy_consumption_tce"])


def test_intensity_and_reductions():
    """Intensity = tce / GDP (10^4 yuan, constant 2020 prices); r = 1 − I_t / I_ref."""
    rows = [("final_consumption", "steel", "raw_coal", 1.0, "10^4 t")]
    balance = validate_balance(pd.concat([balance_rows(rows, y) for y in (2020, 2021, 2022)],
                                         ignore_index=True), "fixture.csv")
    results = account_years(balance, [2022], statistics=STATS, options=CALORIFIC)
    result = results[2022]
    assert result.indicators["energy_intensity_tce_per_10k_yuan"] == pytest.approx(7143.0 / 1100e4)
    assert result.indicators["energy_intensity_reduction_yoy"] == pytest.approx(1 - 1050.0 / 1100.0)
    assert result.indicators["energy_intensity_reduction"] == pytest.approx(1 - 1000.0 / 1100.0)
    assert result.indicators["period_base_year"] == 2020


@pytest.mark.parametrize(("year", "base"), [(2016, 2015), (2020, 2015), (2021, 2020), (2025, 2020), (2026, 2025)])
def test_period_base_year_follows_five_year_plans(year, base):
    assert period_base_year(year) == base


def test_provenance_names_factors_inputs_and_method():
    result = account([("final_consumption", "steel", "raw_coal", 1.0, "10^4 t"),
                      ("final_consumption", "commercial", "electricity", 1.0, "10^4 kWh")])
    ids = {row["factor_id"] for row in result.provenance.factors}
    statuses = {row["status"] for row in result.provenance.factors}
    assert any("raw_coal" in i for i in ids)
    assert statuses <= {"official", "secondary", "unverified", "estimate"}
    assert result.provenance.method_version.startswith("citycarbon.accounting/")
    assert result.provenance.inputs["balance"].startswith("sha256:")
    assert "GB/T 2589-2020 综合能耗计算通则" in result.provenance.standards


# --- identities -------------------------------------------------------------------------------------------

FINAL = ["steel", "petrochemical", "transport", "commercial", "residential_urban", "agriculture"]
FUELS = [("raw_coal", "10^4 t"), ("diesel", "10^4 t"), ("natural_gas", "10^4 m3"), ("electricity", "10^4 kWh"),
         ("gasoline", "10^4 t"), ("heat", "10^4 GJ")]

balances = st.lists(
    st.tuples(st.sampled_from(FINAL), st.sampled_from(FUELS), st.floats(0.01, 1e4)),
    min_size=1, max_size=12, unique_by=lambda t: (t[0], t[1][0]),
).map(lambda items: [("final_consumption", s, f, q, u) for s, (f, u), q in items] + [
    ("transformation_input", "power", "raw_coal", 50.0, "10^4 t"),
    ("transformation_output", "power", "electricity", 80_000.0, "10^4 kWh"),
    ("production", None, "solar_power", 10_000.0, "10^4 kWh"),
    ("losses", None, "electricity", 500.0, "10^4 kWh"),
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(balances)
def test_sector_and_fuel_sums_equal_totals(rows):
    result = account(rows)
    total = result.indicators["energy_consumption_tce"]
    assert result.by_sector["energy_tce"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert result.by_fuel["energy_tce"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert result.by_fuel_group["energy_tce"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    co2_energy = result.indicators["co2_energy_t"]
    scope2 = result.co2_by_scope["scope2_electricity_t"] + result.co2_by_scope["scope2_heat_t"]
    assert result.by_sector["co2_t"].sum() + scope2 == pytest.approx(co2_energy, rel=1e-9, abs=1e-6)
    assert result.by_fuel["co2_t"].sum() == pytest.approx(co2_energy, rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(balances, st.floats(0.1, 100.0))
def test_scaling_a_balance_scales_every_extensive_result(rows, factor):
    base = account(rows)
    scaled = account([(f, s, fu, q * factor, u) for f, s, fu, q, u in rows])
    for key in ("energy_consumption_tce", "energy_consumption_dual_control_tce", "co2_energy_t",
                "non_fossil_energy_tce", "energy_intensity_tce_per_10k_yuan"):
        assert scaled.indicators[key] == pytest.approx(base.indicators[key] * factor, rel=1e-9, abs=1e-9)
    assert scaled.indicators["non_fossil_share"] == pytest.approx(base.indicators["non_fossil_share"], rel=1e-9)
    merged = base.by_sector.merge(scaled.by_sector, on="sector")
    assert (merged["energy_tce_y"] - merged["energy_tce_x"] * factor).abs().max() <= 1e-6 * (
        1 + merged["energy_tce_y"].abs().max())


# --- bad input ----------------------------------------------------------------------------------------------

def test_year_without_gdp_is_an_error_naming_gdp():
    with pytest.raises(InputError) as info:
        account([("final_consumption", "steel", "raw_coal", 1.0, "10^4 t")], year=2018)
    assert info.value.first.field == "gdp"
    assert "2018" in str(info.value)


def test_year_missing_from_balance_is_an_error():
    balance = validate_balance(balance_rows([("final_consumption", "steel", "raw_coal", 1.0, "10^4 t")]), "b.csv")
    with pytest.raises(InputError, match="no rows for 2030"):
        account_energy_balance(balance, 2030, statistics=STATS, options=CALORIFIC, source="b.csv")

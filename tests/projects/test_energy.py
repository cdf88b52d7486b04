"""Project energy: hand-worked values from the factor table's own rows, identities, bad inputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.accounting.options import AccountingOptions
from citycarbon.errors import InputError
from citycarbon.factors import CO2_PER_C, load_factors
from citycarbon.projects.energy import project_energy
from citycarbon.units import convert

YEAR = 2024
TABLE = load_factors()
DALIAN = AccountingOptions.for_city("dalian")
PROJECT = [
    {"fuel": "raw_coal", "quantity": 5000, "unit": "t"},
    {"fuel": "electricity", "quantity": 2000, "unit": "10^4 kWh"},
    {"fuel": "naphtha", "quantity": 3000, "unit": "t", "purpose": "feedstock"},
]


def _k(fuel: str) -> float:
    """kgce per kg (or per kWh) of a fuel, from the table."""
    return TABLE.lookup("standard_coal", fuel, YEAR, factor_set=DALIAN.standard_coal_set).value


def test_golden_small_project() -> None:
    result = project_energy(PROJECT, DALIAN, YEAR, TABLE)
    coal_tce = 5000 * _k("raw_coal")  # t × kgce/kg = tce
    naphtha_tce = 3000 * _k("naphtha")
    kwh = 2000 * 1e4
    elec_cal = kwh * _k("electricity") / 1000  # kgce → tce
    rate = TABLE.lookup("coal_rate", DALIAN.coal_rate_key, YEAR).value  # gce/kWh
    elec_eq = kwh * rate / 1e6
    assert result.tce_calorific == pytest.approx(coal_tce + naphtha_tce + elec_cal, rel=1e-12)
    assert result.tce_equivalent == pytest.approx(coal_tce + naphtha_tce + elec_eq, rel=1e-12)
    assert DALIAN.method == "coal-equivalent" and result.tce == result.tce_equivalent
    assert result.feedstock_tce == pytest.approx(naphtha_tce)
    assert result.dual_control_tce == pytest.approx(coal_tce + elec_eq)  # 803号: feedstock deducted
    assert result.coal_tce == pytest.approx(coal_tce) and result.coal_t == 5000
    assert result.fossil_tce == pytest.approx(coal_tce)
    # CO2: raw coal NCV × CC × OF × 44/12 (省级指南 rows); naphtha feedstock stores its carbon
    ncv = TABLE.lookup("ncv", "raw_coal", YEAR, factor_set=DALIAN.co2_factor_set)
    cc = TABLE.lookup("carbon_content", "raw_coal", YEAR, factor_set=DALIAN.co2_factor_set)
    of = TABLE.lookup("oxidation", "raw_coal", YEAR, factor_set=DALIAN.co2_factor_set)
    coal_co2 = 5000e3 * convert(ncv.value, ncv.unit, "TJ/kg") * cc.value * of.value * CO2_PER_C
    grid, _ = TABLE.lookup_chain("grid_ef", "electricity", YEAR, regions=DALIAN.grid_regions,
                                 factor_set=DALIAN.grid_ef_set)
    elec_co2 = kwh / 1000 * grid.value
    assert result.co2_fuel_t == pytest.approx(coal_co2, rel=1e-9)
    assert result.co2_electricity_t == pytest.approx(elec_co2, rel=1e-12)
    assert result.co2_t == pytest.approx(coal_co2 + elec_co2, rel=1e-9)
    ids = {row["factor_id"] for row in result.provenance.factors}
    assert {ncv.factor_id, cc.factor_id, of.factor_id, grid.factor_id} <= ids
    assert result.provenance.profile == DALIAN.profile()
    assert result.provenance.factor_tables["used"] == TABLE.content_hash(sorted(ids))


def test_feedstock_co2_when_asked_and_calorific_profile() -> None:
    stored = project_energy(PROJECT, DALIAN, YEAR, TABLE)
    burnt = project_energy(PROJECT, DALIAN, YEAR, TABLE, feedstock_co2=True)
    naphtha = TABLE.fuel_co2_factor("naphtha", YEAR, factor_set=DALIAN.co2_factor_set, quantity_unit="t")
    assert burnt.co2_t - stored.co2_t == pytest.approx(3000 * naphtha.value, rel=1e-9)
    calorific = AccountingOptions.for_city("dalian", method="calorific")
    assert project_energy(PROJECT, calorific, YEAR, TABLE).tce == pytest.approx(stored.tce_calorific)
    keep = AccountingOptions.for_city("dalian", deduct_feedstock=False)
    assert project_energy(PROJECT, keep, YEAR, TABLE).dual_control_tce == pytest.approx(stored.tce)


def test_renewable_electricity_deducted_and_without_co2() -> None:
    green = [{"fuel": "electricity", "quantity": 100, "unit": "10^4 kWh", "renewable": True},
             {"fuel": "solar_power", "quantity": 50, "unit": "10^4 kWh"}]
    result = project_energy(green, DALIAN, YEAR, TABLE)
    assert result.co2_t == 0
    assert result.renewable_electricity_tce == pytest.approx(result.tce)
    assert result.dual_control_tce == pytest.approx(0.0, abs=1e-9)


FUELS = st.sampled_from([("raw_coal", "t"), ("natural_gas", "10^4 m3"), ("diesel", "t"), ("coke", "t"),
                         ("electricity", "10^4 kWh"), ("wind_power", "10^4 kWh"), ("naphtha", "t"),
                         ("heat", "GJ"), ("biomass", "tce"), ("lng", "t"), ("steam_low_pressure", "t")])
USES = st.lists(st.tuples(FUELS, st.floats(0, 1e6), st.sampled_from(["fuel", "feedstock"]), st.booleans()),
                max_size=6)


def _mapping(uses: list) -> list[dict]:
    out = []
    for (fuel, unit), quantity, purpose, renewable in uses:
        out.append({"fuel": fuel, "unit": unit, "quantity": quantity,
                    "purpose": purpose if fuel not in ("electricity", "wind_power", "heat") else "fuel",
                    "renewable": renewable and fuel == "electricity"})
    return out


@settings(max_examples=60, deadline=None)
@given(USES)
def test_identities(uses: list) -> None:
    result = project_energy(_mapping(uses), DALIAN, YEAR, TABLE)
    # both ways differ only by electricity
    for line in result.lines:
        if not line.electric:
            assert line.tce_calorific == line.tce_equivalent
    electric_gap = sum(line.tce_equivalent - line.tce_calorific for line in result.lines if line.electric)
    assert result.tce_equivalent - result.tce_calorific == pytest.approx(electric_gap, rel=1e-9, abs=1e-6)
    # parts sum to totals
    assert result.tce_calorific == pytest.approx(sum(line.tce_calorific for line in result.lines), abs=1e-6)
    assert result.co2_t == pytest.approx(sum(line.co2_t for line in result.lines), rel=1e-9, abs=1e-6)
    assert result.dual_control_tce == pytest.approx(
        result.tce - result.feedstock_tce - result.renewable_electricity_tce, rel=1e-9, abs=1e-6)
    assert result.co2_t >= 0 and result.fossil_tce <= result.tce_calorific + 1e-6


@given(st.lists(FUELS, max_size=5))
@settings(max_examples=20, deadline=None)
def test_zero_input_gives_zero(fuels: list) -> None:
    result = project_energy([{"fuel": f, "unit": u, "quantity": 0} for f, u in fuels], DALIAN, YEAR, TABLE)
    assert (result.tce_calorific, result.tce_equivalent, result.co2_t, result.dual_control_tce) == (0, 0, 0, 0)


@pytest.mark.parametrize(("use", "field"), [
    ({"fuel": "unobtainium", "quantity": 1, "unit": "t"}, "energy[1].fuel"),
    ({"fuel": "electricity", "quantity": 1, "unit": "t"}, "energy[1].unit"),
    ({"fuel": "raw_coal", "quantity": 1, "unit": "kWh"}, "energy[1].unit"),
    ({"fuel": "raw_coal", "quantity": -5, "unit": "t"}, "energy[1].quantity"),
    ({"fuel": "raw_coal", "quantity": "lots", "unit": "t"}, "energy[1].quantity"),
    ({"fuel": "raw_coal", "quantity": 1, "unit": "furlongs of coal"}, "energy[1].unit"),
    ({"fuel": "naphtha", "quantity": 1, "unit": "t", "purpose": "decoration"}, "energy[1].purpose"),
    ({"fuel": "raw_coal", "quantity": 1, "unit": "t", "renewable": True}, "energy[1].renewable"),
])
def test_bad_input_names_the_field(use: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        project_energy([PROJECT[0], use], DALIAN, YEAR, TABLE)
    assert info.value.first.field == field
    assert info.value.first.message_zh


def test_unknown_fuel_suggests_nearest() -> None:
    with pytest.raises(InputError) as info:
        project_energy([{"fuel": "raw_col", "quantity": 1, "unit": "t"}], DALIAN, YEAR, TABLE)
    assert info.value.first.suggestion == "raw_coal"


def test_steam_and_natural_gas_golden() -> None:
    uses = [{"fuel": "steam_low_pressure", "quantity": 100, "unit": "t"},
            {"fuel": "natural_gas", "quantity": 50, "unit": "10^4 m3"}]
    result = project_energy(uses, DALIAN, YEAR, TABLE)
    steam_tce = 100 * _k("steam_low_pressure")  # t × kgce/kg = tce
    gas = TABLE.lookup("standard_coal", "natural_gas", YEAR, factor_set=DALIAN.standard_coal_set)
    gas_tce = 50e4 * convert(gas.value, gas.unit, "tce/m3")
    assert result.tce_calorific == pytest.approx(steam_tce + gas_tce, rel=1e-12)
    assert result.tce_equivalent == result.tce_calorific  # no electricity: both ways agree
    heat = TABLE.lookup("heat_ef", "heat", YEAR, factor_set=DALIAN.heat_ef_set)
    assert result.co2_heat_t == pytest.approx(convert(steam_tce, "tce", "GJ") * convert(heat.value, heat.unit, "t/GJ"))
    ef = TABLE.fuel_co2_factor("natural_gas", YEAR, factor_set=DALIAN.co2_factor_set, quantity_unit="10^4 m3")
    assert result.co2_fuel_t == pytest.approx(50e4 * convert(ef.value, ef.unit, "t/m3"), rel=1e-9)
    assert result.coal_tce == 0 and result.fossil_tce == pytest.approx(gas_tce)

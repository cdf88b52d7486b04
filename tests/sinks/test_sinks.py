"""Carbon sinks: forest stock-difference, growth model, wetland/blue carbon, accounts and indicators.

Golden values are worked by hand from the method text (methods.md §7; IPCC 2006 Vol. 4 Ch. 2
stock-difference method; 省级温室气体清单编制指南 LULUCF form C = V × SVD × BEF × (1 + R) × CF;
sink = ΔC/Δt × 44/12; blue carbon = area × rate × 44/12 after the 2013 IPCC Wetlands Supplement Ch. 4).
Parameter values in the worked arithmetic are the rows of the shipped CSVs, quoted in each docstring.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.sinks import (
    PLAN_YEARS,
    SinkParameters,
    account_sinks,
    age_state,
    calibrate_growth,
    co2_per_carbon,
    forest_carbon_stock,
    forest_indicators,
    forest_parameters,
    forest_sink,
    growth_parameters,
    land_area,
    load_forest_parameters,
    load_wetland_rates,
    net_emissions,
    project_forest,
    sink_summary,
    step,
    summary_rows,
    uniform_age_state,
    wetland_sink,
    wetland_sinks,
)
from citycarbon.sinks.growth import MAX_AGE
from citycarbon.sinks.parameters import STATUSES

FOREST_COLUMNS = ["year", "region", "variable", "value", "unit", "status", "source"]
WETLAND_COLUMNS = ["year", "region", "ecosystem", "area", "unit", "status", "source"]
SRC = "methods.md §7.1"


def forest_frame(rows: list[tuple] | None = None) -> pd.DataFrame:
    """Dalian figures of methods.md §7.1: stock 12.80 → 15.604 million m³ (2015 → 2020), coverage 41.5 %."""
    rows = rows if rows is not None else [
        (2015, "210200", "forest_stock", 1280, "10^4 m3", "official", SRC),
        (2020, "210200", "forest_stock", 15_604_000, "m**3", "official", SRC),
        (2021, "210200", "forest_stock", 15_900_000, "m**3", "estimate", "test fixture"),
        (2015, "210200", "forest_coverage", 41.0, "%", "estimate", "test fixture"),
        (2020, "210200", "forest_coverage", 0.415, "fraction", "official", SRC),
        (2020, "210200", "forest_area", 504_600, "ha", "official", SRC),
    ]
    return pd.DataFrame(rows, columns=FOREST_COLUMNS)


def wetland_frame(rows: list[tuple] | None = None) -> pd.DataFrame:
    rows = rows if rows is not None else [
        (2020, "210200", "salt_marsh", 1000, "ha", "estimate", "test fixture"),
        (2020, "210200", "seagrass", 5, "km**2", "estimate", "test fixture"),
        (2020, "210200", "inland_natural", 254_000, "ha", "official", "methods.md §7.1"),
        (2020, "210200", "artificial", 104_300, "ha", "official", "methods.md §7.1"),
    ]
    return pd.DataFrame(rows, columns=WETLAND_COLUMNS)


# --- forest stock-difference ---------------------------------------------------------------------

def test_co2_per_carbon_is_the_molar_mass_ratio():
    """44/12 (molar mass CO2 / C), taken from the unit registry's species definition."""
    assert co2_per_carbon() == pytest.approx(44 / 12, rel=1e-15)


def test_shipped_average_set_is_the_flagged_literature_convention():
    """methods.md §7.1: BEF 1.90, SVD 0.5 t/m³, CF 0.5, flagged UNVERIFIED (literature convention)."""
    p = forest_parameters("average")
    assert (p.bef.value, p.svd.value, p.cf.value) == (1.90, 0.5, 0.5)
    assert {p.bef.status, p.svd.status, p.cf.status} == {"unverified"}
    assert {p.bef.flag, p.svd.flag, p.cf.flag} == {"UNVERIFIED"}
    assert "convention" in p.bef.source


def test_every_shipped_parameter_row_has_source_document_and_status():
    table = load_forest_parameters()
    assert set(table.types) >= {"average", "conifer", "broadleaf", "mixed"}
    rows = [r for t in table.types.values() for r in (t.svd, t.bef, t.cf, *(x.row for x in t.root_shoot))]
    rows += list(table.growth.values())
    assert all(r.source and r.document and r.status in STATUSES for r in rows)
    # IPCC 2006 Table 4.4 root:shoot ratios are UNVERIFIED in methods.md
    conifer = table.types["conifer"]
    assert [t.row.value for t in conifer.root_shoot] == [0.40, 0.29, 0.20]
    assert {t.row.flag for t in conifer.root_shoot} == {"UNVERIFIED"}


def test_forest_carbon_stock_golden_average_set():
    """C = V × SVD × BEF × (1 + R) × CF = 15 604 000 × 0.5 × 1.90 × (1 + 0) × 0.5 = 7 411 900 t C."""
    assert forest_carbon_stock(15_604_000) == pytest.approx(7_411_900.0, rel=1e-12)


def test_forest_sink_golden_dalian_2015_2020():
    """ΔV = 15 604 000 − 12 800 000 = 2 804 000 m³; ΔC = 2 804 000 × 0.5 × 1.90 × 0.5 = 1 331 900 t C;
    per year 1 331 900 / 5 = 266 380 t C/yr; sink = 266 380 × 44/12 = 976 726.67 t CO2/yr
    (IPCC 2006 Vol. 4 Ch. 2 stock-difference)."""
    result = forest_sink(12_800_000, 15_604_000, 5)
    assert result.carbon_change_per_yr == pytest.approx(266_380.0, rel=1e-12)
    assert result.sink_tco2_per_yr == pytest.approx(976_726.666_666_7, rel=1e-12)
    assert result.units["sink"] == "t CO2/yr" and result.units["carbon"] == "t C"
    assert [p["param_id"] for p in result.parameters] == ["FP-AVG-SVD", "FP-AVG-BEF", "FP-AVG-CF", "FP-AVG-R"]


def test_tiered_root_shoot_ratio_golden_conifer():
    """Conifer rows: SVD 0.405, BEF 1.587; AGB = 1 000 000 × 0.405 × 1.587 = 642 735 t.
    On 20 000 ha: 32.14 t/ha < 50 → R = 0.40 (IPCC 2006 Table 4.4): C = 642 735 × 1.40 × 0.5 = 449 914.5 t C.
    On 10 000 ha: 64.27 t/ha in 50–150 → R = 0.29: C = 642 735 × 1.29 × 0.5 = 414 564.075 t C."""
    conifer = forest_parameters("conifer")
    assert forest_carbon_stock(1_000_000, conifer, area_ha=20_000) == pytest.approx(449_914.5, rel=1e-12)
    assert forest_carbon_stock(1_000_000, conifer, area_ha=10_000) == pytest.approx(414_564.075, rel=1e-12)
    with pytest.raises(InputError) as info:
        forest_carbon_stock(1_000_000, conifer)
    assert info.value.first.field == "area_ha"


def test_forest_sink_by_type_adds_up_and_cites_each_type():
    areas = {"conifer": 20_000, "broadleaf": 40_000}
    result = forest_sink({"conifer": 1.0e6, "broadleaf": 2.0e6}, {"conifer": 1.1e6, "broadleaf": 2.1e6}, 1,
                         area_t1_ha=areas, area_t2_ha=areas)
    assert set(result.by_type) == {"conifer", "broadleaf"}
    assert result.sink_tco2_per_yr == pytest.approx(sum(v["sink_tco2_per_yr"] for v in result.by_type.values()))
    ids = {p["param_id"] for p in result.parameters}
    assert {"FP-CON-SVD", "FP-BRD-SVD", "FP-CON-R1", "FP-BRD-R1"} <= ids


def test_volume_unit_round_trip():
    """1 560.4 × 10^4 m³ is 15 604 000 m³: same carbon either way."""
    assert forest_carbon_stock(1560.4, unit="10^4 m3") == pytest.approx(forest_carbon_stock(15_604_000))
    a = forest_sink(1280, 1560.4, 5, unit="10^4 m3")
    b = forest_sink(12_800_000, 15_604_000, 5)
    assert a.sink_tco2_per_yr == pytest.approx(b.sink_tco2_per_yr, rel=1e-12)
    with pytest.raises(InputError) as info:
        forest_carbon_stock(10, unit="ha")
    assert info.value.first.field == "unit"


@settings(max_examples=60, deadline=None)
@given(v1=st.floats(0, 1e9), v2=st.floats(0, 1e9), years=st.integers(1, 20))
def test_forest_sink_is_antisymmetric_and_linear_in_the_stock_change(v1, v2, years):
    forward = forest_sink(v1, v2, years).sink_tco2_per_yr
    backward = forest_sink(v2, v1, years).sink_tco2_per_yr
    assert forward == pytest.approx(-backward, abs=1e-6)
    assert forward == pytest.approx((v2 - v1) * 0.5 * 1.90 * 0.5 / years * 44 / 12, rel=1e-9, abs=1e-6)


def test_forest_bad_input_raises_with_field_and_suggestion():
    with pytest.raises(InputError) as info:
        forest_sink({"conifr": 1.0}, {"conifr": 2.0}, 1)
    assert info.value.first.suggestion == "conifer"
    with pytest.raises(InputError) as info:
        forest_sink(-1.0, 2.0, 1)
    assert info.value.first.field == "stock_t1"
    with pytest.raises(InputError) as info:
        forest_sink(1.0, 2.0, 0)
    assert info.value.first.field == "years"
    with pytest.raises(InputError) as info:
        forest_sink({"average": 1.0}, {"conifer": 2.0}, 1)
    assert info.value.first.field == "stock_t2"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


PARAM_HEADER = ("param_id,forest_type,parameter,value,unit,range_low,range_high,range_unit,source,document,year,"
                "status,flag,notes\n")


def test_bad_parameter_file_names_file_row_field_and_suggestion(tmp_path):
    path = write(tmp_path, "p.csv", PARAM_HEADER
                 + "A,average,svd,0.5,t/m**3,,,,s,d,2005,unverifed,UNVERIFIED,\n"
                 + "B,average,bef,1.9,dimensionless,,,,s,d,2005,unverified,UNVERIFIED,\n"
                 + "C,average,cf,0.5,t/t,,,,s,d,2005,unverified,UNVERIFIED,\n"
                 + "D,average,root_shot,0,dimensionless,,,,s,d,2005,unverified,UNVERIFIED,\n")
    with pytest.raises(InputError) as info:
        load_forest_parameters(path)
    first = info.value.first
    # the header is row 1
    assert (first.file, first.row, first.field, first.suggestion) == (str(path), 2, "status", "unverified")


def test_parameter_file_unknown_parameter_and_gapped_tiers(tmp_path):
    rows = ["A,average,svd,0.5,t/m**3,,,,s,d,2005,unverified,UNVERIFIED,",
            "B,average,bef,1.9,dimensionless,,,,s,d,2005,unverified,UNVERIFIED,",
            "C,average,cf,0.5,t/t,,,,s,d,2005,unverified,UNVERIFIED,",
            "D,average,root_shot,0,dimensionless,,,,s,d,2005,unverified,UNVERIFIED,"]
    with pytest.raises(InputError) as info:
        load_forest_parameters(write(tmp_path, "a.csv", PARAM_HEADER + "\n".join(rows) + "\n"))
    assert (info.value.first.row, info.value.first.field, info.value.first.suggestion) == (5, "parameter",
                                                                                           "root_shoot")
    rows[3] = "D,average,root_shoot,0.4,dimensionless,0,50,t/ha,s,d,2006,unverified,UNVERIFIED,"
    rows.append("E,average,root_shoot,0.2,dimensionless,60,,t/ha,s,d,2006,unverified,UNVERIFIED,")
    with pytest.raises(InputError) as info:
        load_forest_parameters(write(tmp_path, "b.csv", PARAM_HEADER + "\n".join(rows) + "\n"))
    assert (info.value.first.row, info.value.first.field) == (6, "range_low")


# --- growth model ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def growth():
    return growth_parameters()


def test_land_area_row_is_data_with_source(growth):
    """Dalian land area 12 574 km² = 1 257 400 ha (land_area.csv, secondary source)."""
    row = land_area("210200")
    assert row.value_in("ha") == pytest.approx(1_257_400)
    assert growth.land_area_ha == pytest.approx(1_257_400)
    assert row.status == "secondary" and row.source
    assert land_area("Dalian") == row == land_area("大连市")
    with pytest.raises(InputError) as info:
        land_area("210201")
    assert info.value.first.suggestion == "210200" and info.value.first.field == "region"


area_grids = st.lists(st.floats(0, 5_000), min_size=MAX_AGE + 1, max_size=MAX_AGE + 1)


@settings(max_examples=40, deadline=None)
@given(grid=area_grids, planting=st.floats(0, 10_000), harvest=st.floats(0, 0.5), loss=st.floats(0, 0.3))
def test_step_conserves_area(growth, grid, planting, harvest, loss):
    """area_in + planted = area_out + lost; harvested area regenerates and stays forest."""
    params = growth.with_changes(harvest_rate=harvest, loss_rate=loss)
    state = age_state(2020, {"average": dict(enumerate(grid))})
    new = step(state, planting, params)
    assert new.year == 2021
    assert state.total_area_ha + planting == pytest.approx(new.total_area_ha + new.fluxes["lost_ha"], rel=1e-9,
                                                           abs=1e-6)
    assert new.fluxes["harvested_ha"] == pytest.approx(harvest * state.total_area_ha, rel=1e-9, abs=1e-6)
    assert new.area[0, 0] == pytest.approx(new.fluxes["harvested_ha"] + planting, rel=1e-9, abs=1e-6)


def test_step_is_deterministic_and_ages_stands(growth):
    params = growth.with_changes(harvest_rate=0.0, loss_rate=0.0)
    state = age_state(2020, {"average": {10: 100.0, MAX_AGE: 50.0}})
    a, b = step(state, 7.0, params), step(state, 7.0, params)
    assert np.array_equal(a.area, b.area) and a.fluxes == b.fluxes
    assert a.area[0, 11] == 100.0 and a.area[0, MAX_AGE] == 50.0 and a.area[0, 0] == 7.0
    assert state.area[0, 10] == 100.0  # the input state is untouched


def test_step_rejects_bad_planting(growth):
    state = uniform_age_state(2020, 500_000, 40)
    with pytest.raises(InputError) as info:
        step(state, -1.0, growth)
    assert info.value.first.field == "planting_ha"
    with pytest.raises(InputError) as info:
        step(state, 2_000_000, growth)  # more than the land area
    assert "land area" in str(info.value)
    with pytest.raises(InputError) as info:
        step(state, {"averag": 1.0}, growth)
    assert info.value.first.suggestion == "average"


def test_project_forest_columns_coverage_and_sink(growth):
    state = uniform_age_state(2020, 500_000, 40)
    frame = project_forest(state, 3, 1_000.0, growth)
    assert list(frame.columns) == ["year", "area_ha", "coverage", "stock_m3", "carbon_t", "sink_tco2"]
    assert frame["year"].tolist() == [2020, 2021, 2022, 2023]
    assert frame["coverage"].tolist() == pytest.approx((frame["area_ha"] / 1_257_400).tolist())
    assert np.isnan(frame["sink_tco2"].iloc[0])
    expected = frame["carbon_t"].diff().iloc[1:] * 44 / 12
    assert frame["sink_tco2"].iloc[1:].tolist() == pytest.approx(expected.tolist())
    assert frame.attrs["units"]["stock_m3"] == "m**3"
    with pytest.raises(InputError):
        project_forest(state, -1, 0.0, growth)


def test_calibration_reproduces_observed_stock_path(growth):
    """12.80 → 15.604 million m³ (2015 → 2020, methods.md §7.1) within 1 %, deterministically."""
    stock = {2015: 12_800_000, 2020: 15_604_000}
    area = {2015: 0.410 * 1_257_400, 2020: 0.415 * 1_257_400}
    first = calibrate_growth(stock, area, growth)
    second = calibrate_growth(stock, area, growth)
    assert first.age_limit == second.age_limit and first.params.multiplier == second.params.multiplier
    frame = project_forest(first.initial_state, 5, first.planting, first.params, extra_loss=first.extra_loss)
    modelled = dict(zip(frame["year"], frame["stock_m3"], strict=True))
    for year, observed in stock.items():
        assert modelled[year] == pytest.approx(observed, rel=0.01)
    assert frame["area_ha"].iloc[-1] == pytest.approx(area[2020], rel=1e-9)
    assert (first.fitted["relative_error"].abs() < 0.01).all()


def test_calibration_needs_two_years(growth):
    with pytest.raises(InputError) as info:
        calibrate_growth({2020: 15_604_000}, {2020: 500_000}, growth)
    assert info.value.first.field == "forest_stock"


# --- wetland and blue carbon ---------------------------------------------------------------------

def test_blue_carbon_golden_values():
    """salt marsh 1 000 ha × 2.18 t C/ha/yr (Chmura 2003) × 44/12 = 7 993.33 t CO2/yr;
    seagrass 500 ha × 0.43 (IPCC 2013 Wetlands Supplement Table 4.12, UNVERIFIED) × 44/12 = 788.33."""
    marsh, grass = wetland_sinks({"salt_marsh": 1000, "seagrass": 500})
    assert marsh.sink_tco2 == pytest.approx(7_993.333_333, rel=1e-9)
    assert grass.sink_tco2 == pytest.approx(788.333_333, rel=1e-9)
    assert (marsh.status, marsh.flag, grass.status, grass.flag) == ("secondary", "V", "unverified", "UNVERIFIED")
    assert "HY/T 0349-2022" in marsh.standard and "HY/T 0349-2022" in grass.standard
    assert wetland_sink("inland_natural", 254_000).standard == ""


def test_alternative_rate_chosen_by_param_id():
    """IPCC 2013 tidal marsh 0.91 t C/ha/yr: 1 000 × 0.91 × 44/12 = 3 336.67 t CO2/yr."""
    rates = load_wetland_rates().choose({"salt_marsh": "WR-SM-IPCC"})
    assert wetland_sink("salt_marsh", 1000, rates).sink_tco2 == pytest.approx(3_336.666_667, rel=1e-9)
    with pytest.raises(InputError) as info:
        load_wetland_rates().choose({"seagrass": "WR-SM-IPCC"})
    assert info.value.first.field == "param_id"


def test_wetland_area_unit_round_trip():
    assert wetland_sink("seagrass", 5, unit="km**2").sink_tco2 == pytest.approx(
        wetland_sink("seagrass", 500).sink_tco2)


def test_wetland_bad_input():
    with pytest.raises(InputError) as info:
        wetland_sink("seagras", 10)
    assert info.value.first.suggestion == "seagrass" and info.value.first.field == "ecosystem"
    with pytest.raises(InputError) as info:
        wetland_sink("seagrass", -10)
    assert info.value.first.field == "area"


# --- accounts --------------------------------------------------------------------------------

def test_account_sinks_golden_2021():
    """Forest 2020 → 2021: (15 900 000 − 15 604 000) × 0.475 × 44/12 = 515 533.33 t CO2;
    salt marsh 7 993.33; seagrass 5 km² = 500 ha → 788.33; inland/artificial rate 0 → 0."""
    account = account_sinks(forest_frame(), wetland_frame(), 2021)
    assert account.region == "210200"
    assert account.forest.basis.startswith("annual") and account.forest.pair == (2020, 2021)
    assert account.forest.sink_tco2 == pytest.approx(515_533.333_333, rel=1e-9)
    assert account.forest.stock_m3 == 15_900_000 and account.forest.coverage == 0.415
    by_eco = {w.ecosystem: w for w in account.wetland}
    assert by_eco["seagrass"].area_ha == pytest.approx(500) and by_eco["seagrass"].area_year == 2020
    assert account.total_sink_tco2 == pytest.approx(515_533.333_333 + 7_993.333_333 + 788.333_333, rel=1e-9)
    prov = account.provenance.to_dict()
    assert set(prov["inputs"]) == {"forest", "wetland"}
    assert all(h.startswith("sha256:") for h in prov["inputs"].values())
    assert {"FP-AVG-BEF", "WR-SM-CHMURA", "WR-SG-IPCC"} <= {f["param_id"] for f in prov["factors"]}
    assert any("HY/T 0349-2022" in s for s in prov["standards"])
    assert any("forest_stock 2021" in e for e in prov["estimates"])


def test_account_uses_the_interval_around_the_year():
    """2018 lies in 2015–2020: the mean annual change of that interval, 976 726.67 t CO2/yr."""
    account = account_sinks(forest_frame(), wetland_frame(), 2018)
    assert account.forest.pair == (2015, 2020) and account.forest.basis.startswith("interval_average")
    assert account.forest.sink_tco2 == pytest.approx(976_726.666_667, rel=1e-9)
    later = account_sinks(forest_frame(), wetland_frame(), 2024)
    assert later.forest.pair == (2020, 2021) and later.forest.basis.startswith("nearest_pair")


def test_net_emissions_subtracts_total_sink():
    account = account_sinks(forest_frame(), wetland_frame(), 2021)
    assert net_emissions(1_000_000.0, account) == pytest.approx(1_000_000.0 - account.total_sink_tco2)
    with pytest.raises(InputError):
        net_emissions(float("nan"), account)


def test_account_missing_years_raises_naming_the_field():
    frame = forest_frame([(2020, "210200", "forest_stock", 15_604_000, "m**3", "official", SRC)])
    frame.attrs["file"] = "forest.csv"
    with pytest.raises(InputError) as info:
        account_sinks(frame, wetland_frame(), 2020)
    assert (info.value.first.file, info.value.first.field) == ("forest.csv", "forest_stock")


def test_account_bad_rows_name_file_row_field():
    wet = wetland_frame([(2020, "210200", "salt_marsh", -5, "ha", "estimate", "x"),
                         (2020, "210200", "seagras", 5, "ha", "estimate", "x")])
    wet.attrs["file"] = "wetland.csv"
    with pytest.raises(InputError) as info:
        account_sinks(forest_frame(), wet, 2021)
    problems = [(p.file, p.row, p.field, p.suggestion) for p in info.value.problems]
    assert ("wetland.csv", 2, "area", None) in problems  # rows as a sheet below its header shows them
    assert ("wetland.csv", 3, "ecosystem", "seagrass") in problems
    bad = forest_frame()
    bad.loc[0, "variable"] = "forest_stok"
    bad.loc[1, "unit"] = "ha"
    with pytest.raises(InputError) as info:
        account_sinks(bad, wetland_frame(), 2021)
    problems = [(p.file, p.row, p.field, p.suggestion) for p in info.value.problems]
    assert ("forest", 2, "variable", "forest_stock") in problems
    assert ("forest", 3, "unit", "m**3") in problems
    with pytest.raises(InputError) as info:
        account_sinks(forest_frame(), wetland_frame(), 2021, SinkParameters.default(), region="210201")
    assert info.value.first.suggestion == "210200"


def test_account_rejects_missing_columns_and_coverage_above_one():
    with pytest.raises(InputError) as info:
        account_sinks(forest_frame().drop(columns=["unit"]), wetland_frame(), 2021)
    assert info.value.first.field == "unit"
    bad = forest_frame()
    bad.loc[3, "value"] = 141.0  # 141 % coverage
    with pytest.raises(InputError) as info:
        account_sinks(bad, wetland_frame(), 2021)
    assert (info.value.first.row, info.value.first.field) == (5, "value")  # frame row 3: sheet row 5


# --- indicators and summary ------------------------------------------------------------------

def test_forest_indicators_actuals_and_projection_band():
    result = forest_indicators(forest_frame(), 2020)
    assert result["forest_coverage"] == {"value": 0.415, "year": 2020, "unit": "1", "status": "official"}
    assert result["forest_stock_m3"]["value"] == 15_604_000 and result["forest_stock_m3"]["year"] == 2020
    assert set(result["projection"]) == set(PLAN_YEARS) == {2025, 2030}
    for horizon in PLAN_YEARS:
        for band in result["projection"][horizon].values():
            assert band["low"] <= band["value"] <= band["high"]
    # the "hold" runs keep the 2020 area, so the low coverage band is the 2020 coverage
    assert result["projection"][2030]["forest_coverage"]["low"] == pytest.approx(0.415, rel=1e-9)
    # the calibrated model reproduces the observed 2015 and 2020 stocks
    fitted = result["calibration"]["fitted"]
    assert all(abs(f["relative_error"]) < 0.01 for f in fitted)
    assert any(p["param_id"] == "LA-210200" for p in result["parameters"])


def test_forest_indicators_uses_only_years_up_to_the_year():
    with pytest.raises(InputError) as info:
        forest_indicators(forest_frame(), 2019)
    assert info.value.first.field == "forest_stock"


def test_sink_summary_shape_and_rows():
    summary = sink_summary(forest_frame(), wetland_frame(), 2021)
    assert {"year", "region", "forest", "wetland", "total_sink_tco2", "projection", "provenance"} <= set(summary)
    assert {"stock_m3", "coverage", "sink_tco2", "parameters"} <= set(summary["forest"])
    assert {"ecosystem", "area_ha", "rate", "rate_unit", "sink_tco2", "status"} <= set(summary["wetland"][0])
    assert set(summary["projection"]) == {"2025", "2030"}
    rows = summary_rows(summary)
    total = next(r for r in rows if r["section"] == "total")
    assert total["value"] == pytest.approx(summary["total_sink_tco2"])


def test_sink_summary_without_projection_says_why():
    summary = sink_summary(forest_frame(), wetland_frame(), 2016)
    assert summary["projection"] == {} and "forest_stock" in summary["projection_note"]


# --- integration with the shipped Dalian dataset (written in parallel) ---------------------------

def test_dalian_reference_dataset_accounts():
    try:
        datasets = importlib.import_module("citycarbon.datasets")
    except ImportError as error:
        pytest.skip(f"citycarbon.datasets is not importable yet: {error}")
    reference = datasets.load_reference("dalian")
    stock_years = sorted(reference.forest.loc[reference.forest["variable"] == "forest_stock", "year"].astype(int))
    year = stock_years[-1]
    account = account_sinks(reference.forest, reference.wetland, year)
    assert account.forest.stock_m3 > 0 and account.total_sink_tco2 >= account.forest.sink_tco2
    indicators = forest_indicators(reference.forest, year)
    assert set(indicators["projection"]) == {2025, 2030}

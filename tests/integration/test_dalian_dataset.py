"""The shipped Dalian reference dataset: structure, public anchors, balance closure, calibration, rebuild.

Anchors are the public figures of /work/shared/reference/methods.md §7.1 and §8 (status official or
secondary in the files). Calibration checks compute total energy consumption directly with the GB/T 2589-2020
Annex A coefficients (methods.md §1.2) and the coal-equivalent method (methods.md §3: primary and consumed
electricity at the thermal-power coal rate).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from citycarbon.codelists import codes
from citycarbon.data import data_path
from citycarbon.datasets import TABLE_FILES, balance_closure, load_reference
from citycarbon.units import conversion_factor, is_unit

ROOT = Path(__file__).resolve().parents[2]
YEARS = list(range(2015, 2025))
STATUSES = {"official", "secondary", "unverified", "estimate"}

#: GB/T 2589-2020 Annex A 折标准煤系数 (methods.md §1.2, flag V), kgce per kg (per m3 for gas, per MJ for heat).
#: Naphtha, petroleum coke and other petroleum products are not in the retrieved Annex A rows: NBS
#: conversion-table values (UNVERIFIED) as in data/factors/standard_coal.csv. They only enter through the
#: refinery's transformation loss (input − output), a few tenths of a percent of the total.
KGCE = {"raw_coal": 0.7143, "coke": 0.9714, "crude_oil": 1.4286, "fuel_oil": 1.4286, "gasoline": 1.4714,
        "kerosene": 1.4714, "diesel": 1.4571, "lpg": 1.7143, "refinery_gas": 1.5714, "natural_gas": 1.33,
        "naphtha": 1.5, "petroleum_coke": 1.0918, "other_petroleum_products": 1.4286}
HEAT_KGCE_PER_MJ = 0.03412
DEMAND_SIGN = {"final_consumption": 1, "non_energy_use": 1, "transformation_input": 1, "losses": 1,
               "transformation_output": -1}


@pytest.fixture(scope="module")
def dalian():
    return load_reference("dalian")


def tce_by_year(balance: pd.DataFrame, kgce_per_kwh: float) -> pd.Series:
    """能源消费总量 (tce), demand side: final + non-energy use + losses + transformation input − output.

    Electricity at ``kgce_per_kwh`` (发电煤耗法, methods.md §3); biomass, solar thermal and geothermal are
    given in tce. With a closed balance this equals primary supply plus net electricity inflow.
    """
    rows = balance[balance["flow"].isin(DEMAND_SIGN)]
    values = []
    for row in rows.itertuples(index=False):
        if row.fuel == "electricity":
            tce = row.quantity * conversion_factor(row.unit, "kWh") * kgce_per_kwh / 1000
        elif row.fuel == "heat":
            tce = row.quantity * conversion_factor(row.unit, "MJ") * HEAT_KGCE_PER_MJ / 1000
        elif row.unit == "tce":
            tce = row.quantity
        else:
            physical = "m**3" if row.fuel == "natural_gas" else "kg"
            tce = row.quantity * conversion_factor(row.unit, physical) * KGCE[row.fuel] / 1000
        values.append(tce * DEMAND_SIGN[row.flow])
    return pd.Series(values, index=rows.index).groupby(rows["year"]).sum()


# --- structure -------------------------------------------------------------------------------------------

def test_every_table_covers_2015_to_2024(dalian):
    assert dalian.name == "dalian" and dalian.region == "210200"
    assert list(dalian.years) == YEARS
    for table in TABLE_FILES:
        frame = getattr(dalian, table)
        assert sorted(frame["year"].unique().tolist()) == YEARS, table
        assert set(frame["region"]) == {"210200"}, table


def test_every_year_has_the_full_set_of_codes(dalian):
    expected = {
        "capacity": ("technology", {"wind_onshore", "wind_offshore", "solar_utility", "solar_distributed",
                                    "nuclear", "coal", "gas", "biomass", "hydro", "pumped_storage"}),
        "process_activity": ("process", {"cement_clinker", "lime", "crude_steel_bof"}),
        "forest": ("variable", {"forest_coverage", "forest_stock", "forest_area"}),
        "wetland": ("ecosystem", {"salt_marsh", "seagrass", "tidal_flat", "inland_natural", "artificial"}),
    }
    for table, (column, names) in expected.items():
        frame = getattr(dalian, table)
        for year in YEARS:
            assert set(frame.loc[frame["year"] == year, column]) == names, (table, year)
    stats = dalian.statistics
    for year in YEARS:
        for variable in ("gdp", "gdp_primary", "gdp_secondary", "gdp_tertiary", "population"):
            assert dalian.statistic(variable, year) > 0
        for base in (2015, 2020):
            assert dalian.statistic("gdp", year, base) > 0
    assert set(stats["variable"]) == {"gdp", "gdp_primary", "gdp_secondary", "gdp_tertiary", "population"}


def test_codes_units_statuses_and_signs_are_valid(dalian):
    balance = dalian.balance
    assert set(balance["flow"]) <= set(codes("flows"))
    assert set(balance["fuel"]) <= set(codes("fuels"))
    assert set(balance["sector"]) - {""} <= set(codes("sectors"))
    for table in TABLE_FILES:
        frame = getattr(dalian, table)
        assert all(is_unit(u) for u in frame["unit"].unique()), table
        assert set(frame["status"]) <= STATUSES, table
        assert frame["source"].str.strip().str.len().gt(0).all(), table
    unsigned = balance[~balance["flow"].isin(["net_inflow", "stock_change"])]
    assert (unsigned["quantity"] >= 0).all()
    primary = balance[balance["fuel"].isin(["nuclear_power", "wind_power", "solar_power", "hydro_power",
                                            "biomass_power"])]
    assert set(primary["flow"]) == {"production"} and set(primary["sector"]) == {""}


def test_estimate_sources_name_a_rule_documented_in_the_readme(dalian):
    readme = (data_path("dalian") / "README.md").read_text(encoding="utf-8")
    for table in TABLE_FILES:
        frame = getattr(dalian, table)
        estimates = frame[frame["status"] == "estimate"]
        for source in estimates["source"].unique():
            match = re.fullmatch(r"citycarbon estimate: ([A-Z][A-Z0-9-]+)", source)
            assert match, (table, source)
            assert f"**{match.group(1)}**" in readme, match.group(1)
        others = frame[frame["status"] != "estimate"]
        assert not others["source"].str.startswith("citycarbon estimate").any(), table


# --- public anchors reproduced exactly -------------------------------------------------------------------

def test_gdp_and_population_anchors(dalian):
    """大连市2023年统计公报, the 2024 preliminary release (methods.md §8) and the 2017 bulletin figures of the
    government's English site (dalian-statistics.md §1, labelled 2018), 10^8 CNY and 10^4 persons. Every anchor
    of dalian-statistics.md is checked by tests/data/test_dalian_anchors.py."""
    assert dalian.statistic("gdp", 2023) == 8752.9
    assert dalian.statistic("gdp", 2024) == 9516.9
    assert [dalian.statistic(v, 2023) for v in ("gdp_primary", "gdp_secondary", "gdp_tertiary")] == [
        595.9, 3715.3, 4441.7]
    assert [dalian.statistic(v, 2024) for v in ("gdp_primary", "gdp_secondary", "gdp_tertiary")] == [
        585.7, 3349.0, 5582.2]
    assert [dalian.statistic(v, 2017) for v in ("gdp", "gdp_primary", "gdp_secondary", "gdp_tertiary")] == [
        7363.9, 477.1, 3052.6, 3834.3]
    assert dalian.statistic("population", 2023) == 753.9
    assert dalian.statistic("population", 2022) == 753.1
    stats = dalian.statistics
    official = stats[stats["status"] == "official"]
    assert set(official["year"]) == {2017, 2023, 2024}


def test_constant_prices_follow_the_real_growth_rates(dalian):
    """At its base year a constant-price series equals current prices; 2023 +6.0 %, 2024 +5.2 % (V)."""
    gdp = dalian.statistic
    assert gdp("gdp", 2020, 2020) == gdp("gdp", 2020)
    assert gdp("gdp", 2023, 2020) / gdp("gdp", 2022, 2020) == pytest.approx(1.060, abs=2e-4)
    assert gdp("gdp", 2024, 2020) / gdp("gdp", 2023, 2020) == pytest.approx(1.052, abs=2e-4)
    for year in YEARS:  # both constant-price series grow alike (same real index)
        ratio = gdp("gdp", year, 2015) / gdp("gdp", year, 2020)
        assert ratio == pytest.approx(gdp("gdp", 2020, 2015) / gdp("gdp", 2020, 2020), abs=2e-4)
    for year in YEARS:  # sector GDP adds up to GDP
        parts = sum(gdp(v, year) for v in ("gdp_primary", "gdp_secondary", "gdp_tertiary"))
        assert parts == pytest.approx(gdp("gdp", year), abs=0.15)


def test_hongyanhe_anchors(dalian):
    """2018 on-grid 28.27 TWh; 6 × 1 118.79 MWe from unit 6 (2022-06-23); ~48 TWh/yr with six units."""
    balance = dalian.balance
    nuclear = balance[balance["fuel"] == "nuclear_power"].set_index("year")
    twh = nuclear["quantity"] * nuclear["unit"].map(lambda u: conversion_factor(u, "TWh"))
    assert twh[2018] == pytest.approx(28.27, abs=1e-9)
    assert nuclear.loc[2018, "status"] == "secondary"
    assert twh[2018] / twh[2017] == pytest.approx(1.293, abs=1e-6)
    assert 45 <= twh[2023] <= 50 and 45 <= twh[2024] <= 50
    capacity = dalian.capacity[dalian.capacity["technology"] == "nuclear"].set_index("year")["capacity"]
    assert capacity[2022] == pytest.approx(6 * 1118.79) and capacity[2021] == pytest.approx(5 * 1118.79)
    assert capacity[2016] == pytest.approx(4 * 1118.79)


def test_installed_capacity_end_2022(dalian):
    """15.165 GW in total with a 59.8 % clean share (V*, methods.md §8); pumped storage not yet operating."""
    cap = dalian.capacity[dalian.capacity["year"] == 2022].set_index("technology")["capacity"]
    total = cap.sum()
    assert total == pytest.approx(15165, abs=1)
    assert (total - cap["coal"] - cap["gas"]) / total == pytest.approx(0.598, abs=5e-4)
    assert (dalian.capacity.loc[dalian.capacity["technology"] == "pumped_storage", "capacity"] == 0).all()


def test_forest_and_wetland_anchors(dalian):
    """methods.md §7.1: stock 12.80 → 15.604 million m3 (2015 → 2020); 41.5 %; wetland 358 300 ha. The 504 600 ha
    published beside the coverage is 林地: forest_area is coverage × land area (data/sinks/land_area.csv)."""
    forest = dalian.forest.set_index(["year", "variable"])["value"]
    assert forest[(2015, "forest_stock")] == 12.80e6
    assert forest[(2020, "forest_stock")] == 15.604e6
    assert forest[(2020, "forest_coverage")] == 0.415
    assert forest[(2020, "forest_area")] == pytest.approx(0.415 * 12574 * 100, abs=50)  # 12 574 km2
    stock = [forest[(y, "forest_stock")] for y in YEARS]
    assert stock == sorted(stock) and stock[-1] < 17.0e6  # rising towards the 2025 target
    wetland = dalian.wetland[dalian.wetland["year"] == 2020].set_index("ecosystem")["area"]
    assert wetland.sum() == 358300
    assert wetland.drop("artificial").sum() == 254000 and wetland["artificial"] == 104300


# --- balance -----------------------------------------------------------------------------------------------

def test_balance_closes_per_fuel_and_year(dalian):
    closure = balance_closure(dalian.balance)
    assert set(closure["year"]) == set(YEARS)
    worst = closure.loc[closure["relative_imbalance"].abs().idxmax()]
    assert abs(worst["relative_imbalance"]) <= 0.005, worst.to_dict()


def test_dalian_is_a_net_electricity_exporter(dalian):
    balance = dalian.balance
    net = balance[(balance["fuel"] == "electricity") & (balance["flow"] == "net_inflow")]
    assert len(net) == len(YEARS) and (net["quantity"] < 0).all()


def test_refining_loses_one_to_two_percent(dalian):
    """Refinery loss 1–2 % of the crude input, by mass and in standard coal (GB/T 2589 coefficients)."""
    balance = dalian.balance
    refining = balance[balance["sector"] == "refining"]
    assert set(refining["unit"]) == {"10^4 t"}
    for year, rows in refining.groupby("year"):
        crude = rows[rows["flow"] == "transformation_input"]
        out = rows[rows["flow"] == "transformation_output"]
        mass_loss = 1 - out["quantity"].sum() / crude["quantity"].sum()
        energy_loss = 1 - (out["quantity"] * out["fuel"].map(KGCE)).sum() / (crude["quantity"].sum() * KGCE[
            "crude_oil"])
        for loss in (mass_loss, energy_loss):
            assert 0.01 - 1e-9 <= loss <= 0.02 + 1e-9, (year, loss)
    assert refining["year"].nunique() == len(YEARS)


# --- calibration with a direct GB/T 2589 computation ---------------------------------------------------------

@pytest.mark.parametrize("coal_rate", [0.280, 0.300])
def test_energy_intensity_falls_more_than_20_percent_2015_to_2020(dalian, coal_rate):
    """13th FYP result "万元GDP能耗下降20%以上" (methods.md §8): r = 1 − (E20/G20)/(E15/G15), constant prices."""
    tce = tce_by_year(dalian.balance, coal_rate)
    gdp15, gdp20 = dalian.statistic("gdp", 2015, 2015), dalian.statistic("gdp", 2020, 2015)
    reduction = 1 - (tce[2020] / gdp20) / (tce[2015] / gdp15)
    assert reduction > 0.20


def test_total_energy_2015_to_2018_and_the_industry_anchor(dalian):
    """2016–2018: energy consumption +205 万tce with intensity −13 % (V*, dalian-statistics.md §2; coal rate
    ~0.29 kgce/kWh, so within rounding plus the coal-rate difference); 2017: 规上工业 16 Mtce (V, the "2018"
    page's 2017 figure) is a part of the total."""
    tce = tce_by_year(dalian.balance, 0.290)
    assert tce[2018] - tce[2015] == pytest.approx(2.05e6, abs=0.1e6)
    gdp = {y: dalian.statistic("gdp", y, 2015) for y in (2015, 2018)}
    assert (tce[2018] / gdp[2018]) / (tce[2015] / gdp[2015]) - 1 == pytest.approx(-0.13, abs=0.006)
    assert tce[2017] > 16e6 / 0.6  # industry above designated size is not more than 60 % of the total
    assert tce[2020] < tce[2019]  # the 2020 (COVID) dip


def test_non_fossil_share_2024_is_plausible(dalian):
    """Grid-average attribution: (electricity consumed × Liaoning non-fossil generation share × coal rate
    + direct non-fossil use) / total. 0.41 and 283.2 gce/kWh are the 2024 estimates of
    data/factors/grid_nonfossil_share.csv and coal_rate.csv; the plan targets about 16 % in 2025.
    """
    balance = dalian.balance[dalian.balance["year"] == 2024]
    rate, grid_share = 0.2832, 0.41
    used = balance[(balance["fuel"] == "electricity") & balance["flow"].isin(["final_consumption", "losses"])]
    used_kwh = (used["quantity"] * used["unit"].map(lambda u: conversion_factor(u, "kWh"))).sum()
    direct = balance[balance["fuel"].isin(["biomass", "solar_thermal", "geothermal"])
                     & (balance["flow"] == "final_consumption")]["quantity"].sum()
    share = (used_kwh * grid_share * rate / 1000 + direct) / tce_by_year(balance, rate)[2024]
    assert 0.12 <= share <= 0.15


# --- the estimation script rebuilds the files byte for byte -----------------------------------------------

def test_estimation_script_regenerates_the_shipped_files(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "estimate_dalian.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    for name in TABLE_FILES.values():
        assert (tmp_path / name).read_bytes() == (data_path("dalian") / name).read_bytes(), name

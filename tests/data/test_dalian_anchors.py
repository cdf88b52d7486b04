"""The shipped Dalian dataset against every official and reported figure it represents (issue 13, item 8).

The figures, their units, rounding and sources are data: ``data/dalian/anchors.csv`` (from
/work/shared/reference/dalian-statistics.md and methods.md §7.1/§8). This test reads each row, computes the same
quantity from the dataset (energy figures through the accounting engine, as every face shows them) and checks
it within the row's tolerance. No dataset value is written here: a recalibration changes the dataset, the
anchors stay.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from citycarbon.codelists import codes
from citycarbon.data import data_path, read_csv
from citycarbon.datasets import load_reference
from citycarbon.services.accounting import account_city_years
from citycarbon.sinks.growth import land_area
from citycarbon.units import conversion_factor

ANCHORS = read_csv("dalian/anchors.csv", dtype={"period": str, "note": str})
CHECKS = {"equal", "max", "min", "approx", "none"}
FLAG_STATUS = {"V": {"official", "secondary"}, "V*": {"secondary"}, "derived": {"estimate"}}
PRIMARY = ("nuclear_power", "wind_power", "solar_power", "hydro_power", "biomass_power")
FOSSIL_TECH = ("coal", "gas")
INDUSTRY_SECTORS = ("petrochemical", "steel", "building_materials", "equipment", "other_industry", "power",
                    "heat_supply", "refining")


@cache
def dalian():
    return load_reference("dalian")


@cache
def accounts():
    return account_city_years(None, city="dalian", source="files")


def _twh(rows: pd.DataFrame) -> float:
    return float((rows["quantity"] * rows["unit"].map(lambda u: conversion_factor(u, "TWh"))).sum())


def _electricity(year: int, flows: tuple[str, ...]) -> float:
    b = dalian().balance
    return _twh(b[(b["year"] == year) & (b["fuel"] == "electricity") & b["flow"].isin(flows)])


def _primary(year: int, fuels: tuple[str, ...] = PRIMARY) -> float:
    b = dalian().balance
    return _twh(b[(b["year"] == year) & b["fuel"].isin(fuels) & (b["flow"] == "production")])


def _capacity(year: int) -> pd.Series:
    cap = dalian().capacity
    return cap[cap["year"] == year].set_index("technology")["capacity"].drop("pumped_storage")


def _intensity(year: int) -> float:
    ind = accounts()[year].indicators
    return ind["energy_consumption_tce"] / ind["gdp_10k_yuan"]


def _period(row) -> tuple[int, int]:
    start, end = (int(y) for y in str(row.period).split("-"))
    return start, end


def dataset_value(row) -> float:
    """The dataset's value of the anchor's quantity, in the anchor's unit."""
    q, year, d = row.quantity, int(row.year), dalian()
    if q in ("gdp", "gdp_primary", "gdp_secondary", "gdp_tertiary", "population"):
        return d.statistic(q, year)
    if q == "gdp_real_growth":
        return d.statistic("gdp", year, 2020) / d.statistic("gdp", year - 1, 2020) - 1
    if q == "nuclear_ongrid":
        return _primary(year, ("nuclear_power",))
    if q == "electricity_consumption":  # 全社会用电量 = final + losses + plant own use
        value = _electricity(year, ("final_consumption", "losses", "transformation_input"))
        assert value * 1e9 == pytest.approx(accounts()[year].indicators["electricity_consumption_kwh"])
        return value
    if q == "generation_gross":  # published totals are gross: on-grid generation + plant own use
        own = _electricity(year, ("transformation_input",))
        return _primary(year) + _electricity(year, ("transformation_output",)) + own
    if q == "generation_nonfossil_share":  # on the balance's on-grid basis (the anchor's tolerance says so)
        thermal = _electricity(year, ("transformation_output",))
        return _primary(year) / (_primary(year) + thermal)
    if q == "energy_intensity_change":
        start, end = _period(row)
        return _intensity(end) / _intensity(start) - 1
    if q == "energy_consumption_change":
        start, end = _period(row)
        tce = {y: accounts()[y].indicators["energy_consumption_tce"] for y in (start, end)}
        return (tce[end] - tce[start]) / 1e6
    if q == "industry_energy":  # industrial final use incl. feedstock + the energy industries' transformation
        table = accounts()[year].by_sector.set_index("sector")["energy_tce"]
        return float(table.reindex(list(INDUSTRY_SECTORS)).fillna(0.0).sum()) / 1e6
    if q == "capacity_total":
        return float(_capacity(year).sum())
    if q == "capacity_clean_share":
        cap = _capacity(year)
        return float(1 - cap[list(FOSSIL_TECH)].sum() / cap.sum())
    if q == "capacity_added":
        start, end = _period(row)
        return float(_capacity(end).sum() - _capacity(start - 1).sum())
    if q.startswith("capacity_"):
        return float(_capacity(year)[q.removeprefix("capacity_")])
    if q in ("forest_coverage", "forest_stock"):
        f = d.forest
        return float(f.loc[(f["year"] == year) & (f["variable"] == q), "value"].iloc[0])
    if q.startswith("wetland_"):
        w = d.wetland[d.wetland["year"] == year].set_index("ecosystem")["area"]
        part = q.removeprefix("wetland_")
        return float({"total": w.sum(), "artificial": w["artificial"], "natural": w.drop("artificial").sum()}[part])
    raise AssertionError(f"anchors.csv: unknown quantity {q!r} (row {row.id})")


CHECKED = [row for row in ANCHORS.itertuples(index=False) if row.check != "none"]


def test_the_anchor_table_is_well_formed():
    assert ANCHORS["id"].is_unique
    assert set(ANCHORS["check"]) <= CHECKS
    assert set(ANCHORS["status"]) <= set(codes("statuses"))
    for row in ANCHORS.itertuples(index=False):
        assert row.status in FLAG_STATUS[row.flag], row.id
        assert str(row.source).strip(), row.id
        assert row.tolerance >= 0, row.id
        if row.check == "none":
            assert str(row.note).strip() not in ("", "nan"), f"{row.id}: say why it is not represented"
    assert len(CHECKED) >= 50


@pytest.mark.parametrize("row", CHECKED, ids=[row.id for row in CHECKED])
def test_dataset_meets_the_anchor(row):
    value = dataset_value(row)
    if row.check in ("equal", "approx"):
        assert abs(value - row.value) <= row.tolerance + 1e-9, (row.id, value, row.value, row.tolerance)
    elif row.check == "max":
        assert value <= row.value + row.tolerance + 1e-12, (row.id, value, row.value)
    else:
        assert value >= row.value - row.tolerance - 1e-12, (row.id, value, row.value)


def test_official_and_reported_rows_carry_the_anchor_status_and_a_named_source():
    """Where the dataset writes an anchored figure itself, its row is official/secondary with a source."""
    d = dalian()
    stats = d.statistics[d.statistics["price_base_year"].isna()]
    for row in ANCHORS[ANCHORS["quantity"].isin(["gdp", "gdp_primary", "gdp_secondary", "gdp_tertiary",
                                                  "population"])].itertuples(index=False):
        match = stats[(stats["year"] == row.year) & (stats["variable"] == row.quantity)]
        assert match["status"].tolist() == [row.status], row.id
        assert not match["source"].iloc[0].startswith("citycarbon estimate"), row.id
    b = d.balance
    for row in ANCHORS[(ANCHORS["quantity"] == "nuclear_ongrid") & (ANCHORS["flag"] != "derived")].itertuples():
        match = b[(b["year"] == row.year) & (b["fuel"] == "nuclear_power")]
        assert match["status"].tolist() == ["secondary"], row.id


def test_forest_coverage_and_forest_area_agree_with_the_sinks_land_area():
    """森林覆盖率 = 森林面积 / land area, with the land area the sinks use (issue 13: 41.5 % vs 504 600 ha)."""
    land_ha = land_area("210200").value_in("ha")
    f = dalian().forest.pivot(index="year", columns="variable", values="value")
    for year, row in f.iterrows():
        assert row["forest_area"] / land_ha == pytest.approx(row["forest_coverage"], abs=5e-4), year


def test_the_readme_explains_each_status_and_the_unrepresented_anchors():
    readme = (data_path("dalian") / "README.md").read_text(encoding="utf-8")
    for status in codes("statuses"):
        assert f"`{status}`" in readme
    for word in ("全社会用电量", "林地", "anchors.csv", "on-grid"):
        assert word in readme

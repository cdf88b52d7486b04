"""Factor tables as data (``citycarbon.factors``): golden values from the official methods, lookup by year,
row invariants of the shipped files, office-file override, bad files, and unit round trips."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.codelists import codes, fuel_table
from citycarbon.data import data_path, read_csv_file
from citycarbon.errors import InputError
from citycarbon.factors import (
    CO2_PER_C,
    COLUMNS,
    FACTOR_STATUSES,
    FUEL_KINDS,
    KINDS,
    DerivedFactor,
    FactorNotFound,
    FactorRow,
    FactorTable,
    load_factors,
)
from citycarbon.units import UnitError, convert, is_unit, same_dimension, ureg

FACTOR_FILES = sorted(data_path("factors").glob("*.csv"))
FLAG_OF_STATUS = {"official": "V", "secondary": "V*", "unverified": "UNVERIFIED", "estimate": "estimate"}


@pytest.fixture(scope="module")
def table() -> FactorTable:
    return load_factors()


def write_factor_file(path: Path, rows: list[dict], banner: str | None = "office factor file") -> Path:
    """A factor CSV with every column; missing fields are empty."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        if banner:
            handle.write(f"# {banner}\n")
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


def good_row(**overrides: object) -> dict:
    row = {"factor_id": "office.grid.liaoning.2024", "kind": "grid_ef", "factor_set": "mee_nbs_electricity",
           "key": "electricity", "region": "liaoning", "value": "0.5500", "unit": "t/MWh",
           "year_from": "2024", "year_to": "2024", "data_year": "2024", "source": "office letter",
           "document": "辽发改 2025-1", "status": "official", "flag": "V", "notes": ""}
    row.update(overrides)
    return row


# ------------------------------------------------------------------------------------------------
# Golden values: 省级温室气体清单编制指南(试行) (NDRC 2011) CC and OF with GB/T 2589 NCVs, as tabulated in
# methods.md §2.3 (max.book118.com reproduction), EF = NCV × CC × OF × 44/12 (IPCC 2006 Vol. 2 Eq. 2.1).

GUIDELINE_2011 = [
    # fuel, NCV (GJ per t or per 10^3 m3), CC (t C/TJ), OF, tabulated kg CO2 per kg (per m3 for NG)
    ("raw_coal", 20.908, 26.37, 0.94, 1.9003),
    ("coke", 28.435, 29.5, 0.93, 2.8604),
    ("crude_oil", 41.816, 20.1, 0.98, 3.0202),
    ("fuel_oil", 41.816, 21.1, 0.98, 3.1705),
    ("gasoline", 43.070, 18.9, 0.98, 2.9251),
    ("kerosene", 43.070, 19.5, 0.98, 3.0179),
    ("diesel", 42.652, 20.2, 0.98, 3.0959),
    ("lpg", 50.179, 17.2, 0.98, 3.1013),
    ("refinery_gas", 46.055, 18.2, 0.98, 3.0119),
    ("natural_gas", 38.931, 15.3, 0.99, 2.1622),
]


@pytest.mark.parametrize(("fuel", "ncv_gj", "cc", "of", "expected"), GUIDELINE_2011)
def test_guideline_2011_co2_factor_reproduces_the_tabulated_value(table, fuel, ncv_gj, cc, of, expected):
    # by hand: GJ/t × t C/TJ = kg C/t ... NCV[GJ/t] × CC[t C/TJ] / 1000 × OF × 44/12 = t CO2/t = kg/kg
    by_hand = ncv_gj * cc / 1000 * of * 44 / 12
    assert round(by_hand, 4) == expected
    derived = table.fuel_co2_factor(fuel, 2020)
    assert isinstance(derived, DerivedFactor)
    per_unit = "kg/m3" if fuel == "natural_gas" else "kg/kg"
    assert derived.unit == ("t/m3" if fuel == "natural_gas" else "t/t")
    assert round(derived.value_in(per_unit), 4) == expected
    assert [r.kind for r in derived.rows] == ["ncv", "carbon_content", "oxidation"]
    assert {r.factor_set for r in derived.rows} == {"cn_provincial_2011"}
    assert derived.status == "official"
    assert "44/12" in derived.formula and "Eq. 2.1" in derived.formula


def test_ipcc_diesel_co2_factor_follows_from_carbon_content(table):
    # IPCC 2006 Vol. 2 Ch. 1: Table 1.4 EF = Table 1.3 CC × 44/12 × 1000; gas/diesel oil CC 20.2 kg C/GJ
    # → 20.2 × 44/12 = 74.067 t CO2/TJ = 74 067 kg/TJ, tabulated to three figures as 74 100 kg/TJ.
    cc = table.lookup("carbon_content", "diesel", 2020, factor_set="ipcc_2006")
    assert cc.value == 20.2 and cc.value_in("kg/GJ") == pytest.approx(20.2)
    ef_kg_per_tj = cc.value_in("kg/TJ") * CO2_PER_C
    assert ef_kg_per_tj == pytest.approx(74066.67, abs=0.01)
    assert round(ef_kg_per_tj, -2) == 74100
    derived = table.fuel_co2_factor("diesel", 2020, factor_set="ipcc_2006", fallback=())
    # 43.0 TJ/Gg × 74 066.7 kg/TJ = 3 184.9 t CO2/Gg = 3.1849 t/t (oxidation factor 1)
    assert derived.value == pytest.approx(43.0 * 20.2 * 44 / 12 / 1000, rel=1e-12)
    assert derived.status == "secondary"


def test_ndrc_natural_gas_factor_per_volume(table):
    # NDRC enterprise guidelines: 389.31 GJ/10^4 Nm3 × 0.01532 t C/GJ × 99% × 44/12 = 21.650 t/10^4 Nm3
    derived = table.fuel_co2_factor("natural_gas", 2020, factor_set="ndrc_enterprise_2013")
    assert derived.unit == "t/m3"
    assert derived.value_in("t/(wan m3)") == pytest.approx(389.31 * 0.01532 * 0.99 * 44 / 12, rel=1e-12)
    assert round(derived.value_in("kg/m3"), 4) == 2.1650


def test_fuel_co2_factor_falls_back_set_by_set(table):
    lng = table.fuel_co2_factor("lng", 2022)  # not in the 2011 guideline table → NDRC set
    assert lng.factor_set == "ndrc_enterprise_2013"
    assert lng.value == pytest.approx(51.498 * 0.0172 * 0.98 * 44 / 12, rel=1e-12)
    naphtha = table.fuel_co2_factor("naphtha", 2022)  # only in IPCC 2006 Table 1.2/1.3
    assert naphtha.factor_set == "ipcc_2006"
    assert naphtha.value == pytest.approx(44.5 * 20.0 * 44 / 12 / 1000, rel=1e-12)
    coke = table.fuel_co2_factor("coke", 2022, factor_set="ndrc_enterprise_2013")  # NDRC has no coke OF
    assert coke.factor_set == "ipcc_2006"
    with pytest.raises(FactorNotFound, match="ndrc_enterprise_2013 has no oxidation"):
        table.fuel_co2_factor("coke", 2022, factor_set="ndrc_enterprise_2013", fallback=())


def test_derived_status_is_the_weakest_component(table):
    cleaned = table.fuel_co2_factor("cleaned_coal", 2022)
    assert [r.status for r in cleaned.rows] == ["official", "unverified", "estimate"]
    assert cleaned.status == "estimate"
    assert cleaned.value == pytest.approx(26.344 * 25.41 / 1000 * 0.94 * 44 / 12, rel=1e-12)
    assert cleaned.to_dict()["rows"][1]["factor_id"] == "cn2011.cc.cleaned_coal"


def test_fuel_co2_factor_without_components_names_the_fuel(table):
    with pytest.raises(FactorNotFound, match="'electricity'") as info:
        table.fuel_co2_factor("electricity", 2022)
    assert info.value.key == "electricity"
    with pytest.raises(FactorNotFound, match="nearest fuel with components: 'diesel'"):
        table.fuel_co2_factor("diesle", 2022)


# ------------------------------------------------------------------------------------------------
# GB/T 2589 standard coal


def test_electricity_calorific_equivalent_is_0_1229(table):
    # GB/T 2589 Annex A / NBS: 电力 当量值 0.1229 kgce/kWh (tabulated; methods.md §1.4: use exactly)
    row = table.lookup("standard_coal", "electricity", 2024)
    assert (row.factor_id, row.value, row.unit, row.status, row.flag) == (
        "gbt2589.electricity", 0.1229, "kgce/kWh", "official", "V")
    one_kwh = ureg.Quantity(1, "kWh") * ureg.Quantity(row.value, row.unit)
    assert one_kwh.to("kgce").magnitude == pytest.approx(0.1229, rel=1e-12)
    ten_thousand = ureg.Quantity(1, "wan kWh") * ureg.Quantity(row.value, row.unit)
    assert ten_thousand.to("tce").magnitude == pytest.approx(1.229, rel=1e-12)
    assert row.value_in("gce/kWh") == pytest.approx(122.9)


def test_every_fossil_fuel_has_a_gbt2589_coefficient(table):
    fuels = fuel_table()
    for fuel in fuels.index[fuels["fossil"]]:
        row = table.lookup("standard_coal", fuel, 2022, factor_set="gbt2589_2020")
        assert row.status in FACTOR_STATUSES
        assert same_dimension(row.unit, "kgce/kg") or same_dimension(row.unit, "kgce/m3")
    heat = table.lookup("standard_coal", "heat", 2022)
    assert (heat.value, heat.unit) == (0.03412, "kgce/MJ")
    assert heat.value_in("kgce/GJ") == pytest.approx(34.12)
    # 1 kgce = 29 307 kJ: raw coal 0.7143 kgce/kg ≈ 20 908 kJ/kg (5 000 kcal/kg, GB/T 2589 Annex A)
    assert table.lookup("standard_coal", "raw_coal", 2022).value_in("kJ/kg") == pytest.approx(20934, abs=1)


def test_natural_gas_default_is_oil_field_and_gas_field_is_explicit(table):
    assert table.lookup("standard_coal", "natural_gas", 2022).value == 1.3300
    gas_field = table.lookup("standard_coal", "natural_gas", 2022, factor_set="gbt2589_2020_gas_field")
    assert gas_field.value == 1.2143
    # NBS 13.30 tce/10^4 m3
    assert table.lookup("standard_coal", "natural_gas", 2022).value_in("tce/(wan m3)") == pytest.approx(13.30)


def test_fuels_missing_from_the_tables_are_not_marked_official(table):
    for fuel in ("naphtha", "petroleum_coke", "lng", "other_petroleum_products"):
        row = table.lookup("standard_coal", fuel, 2022)
        assert row.status in ("unverified", "estimate"), fuel
    other = table.lookup("standard_coal", "other_petroleum_products", 2022)
    assert other.status == "estimate" and "estimate" in other.notes


# ------------------------------------------------------------------------------------------------
# Lookup by year


@pytest.mark.parametrize(("year", "value", "exact"), [
    (2021, 0.6012, True), (2022, 0.5564, True), (2023, 0.5122, True),
    # fallbacks: nothing covers 2019 → the earliest data year (2021); 2025 → the latest before it (2023)
    (2019, 0.6012, False), (2025, 0.5122, False),
])
def test_northeast_grid_factor_by_year(table, year, value, exact):
    row = table.lookup("grid_ef", "electricity", year, factor_set="mee_nbs_electricity", region="northeast")
    assert row.value == value
    assert row.covers(year) is exact
    assert row.unit == "t/MWh" and row.value_in("kg/kWh") == pytest.approx(value)


def test_grid_lookup_regions_and_sets(table):
    assert table.lookup("grid_ef", "electricity", 2023, region="liaoning").factor_id == "mee_nbs.liaoning.2022"
    assert table.lookup("grid_ef", "electricity", 2022).factor_id == "mee_nbs.national.2022"  # region None
    enterprise = "mee_enterprise_reporting"
    assert table.lookup("grid_ef", "electricity", 2024, factor_set=enterprise).value == 0.5703
    assert table.lookup("grid_ef", "electricity", 2021, factor_set=enterprise).value == 0.5810
    assert table.lookup("grid_ef", "electricity", 2018, factor_set=enterprise).value == 0.6101
    assert table.lookup("grid_ef", "electricity", 2030, factor_set=enterprise).value == 0.5703


def test_coal_rates_cover_2015_to_2024_and_generation_is_below_supply(table):
    for year in range(2015, 2025):
        supply = table.lookup("coal_rate", "thermal_power_supply", year)
        generation = table.lookup("coal_rate", "thermal_power_generation", year)
        assert supply.covers(year) and generation.covers(year)
        assert 15 <= supply.value - generation.value <= 20  # methods.md §3: 15–20 g/kWh lower
        assert generation.status == "estimate" and "minus 17.5" in generation.notes
    assert table.lookup("coal_rate", "thermal_power_supply", 2020).value == 305.5  # methods.md §3
    assert table.lookup("coal_rate", "thermal_power_supply", 2020).status == "unverified"
    later = table.lookup("coal_rate", "thermal_power_generation", 2026)
    assert later.data_year == 2024 and not later.covers(2026)
    assert later.value_in("kgce/kWh") == pytest.approx(later.value / 1000)


def test_nonfossil_share_estimates_cover_the_three_regions(table):
    for region in ("liaoning", "northeast", "national"):
        for year in range(2015, 2025):
            row = table.lookup("grid_nonfossil_share", "electricity", year, region=region)
            assert row.covers(year) and 0 < row.value < 1
            assert row.status == "estimate" and row.notes
    assert table.lookup("grid_nonfossil_share", "electricity", 2020).region == "national"


def test_heat_and_process_factors(table):
    heat = table.lookup("heat_ef", "heat", 2022)
    assert (heat.value, heat.unit, heat.status) == (0.11, "t/GJ", "secondary")
    clinker = table.lookup("process_ef", "cement_clinker", 2022)
    assert (clinker.value, clinker.unit, clinker.status) == (0.52, "t/t", "unverified")
    assert table.select(kind="process_ef")["status"].eq("unverified").all()


def test_lookup_miss_names_kind_key_year_set_region_and_nearest_key(table):
    with pytest.raises(FactorNotFound) as info:
        table.lookup("standard_coal", "desel", 2022, factor_set="gbt2589_2020")
    message = str(info.value)
    for part in ("standard_coal", "'desel'", "2022", "gbt2589_2020", "region", "nearest key: 'diesel'"):
        assert part in message
    assert info.value.nearest_key == "diesel"
    with pytest.raises(FactorNotFound, match="regions") as info:
        table.lookup("grid_ef", "electricity", 2022, region="dalian")
    assert "northeast" in str(info.value)
    with pytest.raises(FactorNotFound, match="did you mean 'grid_ef'"):
        table.lookup("grid_eff", "electricity", 2022)
    with pytest.raises(FactorNotFound, match=re.escape("did you mean 'gbt2589.electricity'")):
        table.row("gbt2589.electricty")


def test_select_filters_and_rejects_unknown_names(table):
    rows = table.select(kind="grid_ef", factor_set="mee_nbs_electricity", status="official")
    assert len(rows) > 0
    assert set(rows["kind"]) == {"grid_ef"} and set(rows["status"]) == {"official"}
    assert set(table.select(key="natural_gas")["key"]) == {"natural_gas"}
    with pytest.raises(InputError) as info:
        table.select(status="oficial")
    assert info.value.first.field == "status" and info.value.first.suggestion == "official"
    with pytest.raises(InputError, match="did you mean 'cn_provincial_2011'"):
        table.select(factor_set="cn_provincial_2012")


# ------------------------------------------------------------------------------------------------
# Every shipped row


def test_every_shipped_row_is_well_formed(table):
    fuels = set(codes("fuels"))
    assert len(table) == len(table.frame) > 250
    for row in table:
        assert is_unit(row.unit), row.factor_id
        assert row.status in FACTOR_STATUSES, row.factor_id
        assert row.kind in KINDS, row.factor_id
        assert row.flag == FLAG_OF_STATUS[row.status], row.factor_id
        assert row.source, row.factor_id
        assert math.isfinite(row.value), row.factor_id
        if row.kind in FUEL_KINDS:
            assert row.key in fuels, row.factor_id
        if row.status == "estimate":
            assert row.notes, row.factor_id


def test_factor_ids_are_unique_across_the_shipped_files():
    seen: dict[str, str] = {}
    for path in FACTOR_FILES:
        frame = read_csv_file(path, dtype=str)
        assert tuple(frame.columns) == COLUMNS, path.name
        with open(path, encoding="utf-8") as handle:
            assert handle.readline().startswith("#"), f"{path.name} has no banner naming its source"
        for factor_id in frame["factor_id"]:
            assert factor_id not in seen, f"{factor_id} in {path.name} and {seen.get(factor_id)}"
            seen[factor_id] = path.name
    assert len(seen) == len(load_factors())


def test_row_to_dict_is_json_safe_and_complete(table):
    record = table.row("mee_nbs.northeast.2022").to_dict()
    assert list(record) == list(COLUMNS)
    assert record["year_from"] == 2022 and type(record["year_from"]) is int
    assert record["region"] == "northeast" and record["document"].startswith("生态环境部")


# ------------------------------------------------------------------------------------------------
# Office files


def test_office_file_replaces_a_shipped_row_and_adds_new_ones(tmp_path):
    path = write_factor_file(tmp_path / "office.csv", [
        good_row(factor_id="mee_nbs.liaoning.2022", value="0.5500", year_from="2022", year_to="2022",
                 data_year="2022"),
        good_row(value="0.5000"),
    ])
    table = FactorTable.load(extra=[path])
    replaced = table.lookup("grid_ef", "electricity", 2022, region="liaoning")
    assert (replaced.factor_id, replaced.value, replaced.source) == ("mee_nbs.liaoning.2022", 0.55, "office letter")
    assert table.sources["mee_nbs.liaoning.2022"] == str(path)
    assert table.lookup("grid_ef", "electricity", 2024, region="liaoning").value == 0.5
    assert len(table) == len(load_factors()) + 1
    assert load_factors().lookup("grid_ef", "electricity", 2022, region="liaoning").value == 0.5626


def test_later_office_file_wins(tmp_path):
    first = write_factor_file(tmp_path / "a.csv", [good_row(value="0.51")])
    second = write_factor_file(tmp_path / "b.csv", [good_row(value="0.52")])
    assert FactorTable.load(extra=[first, second]).row("office.grid.liaoning.2024").value == 0.52


def test_office_row_for_a_shipped_slot_must_reuse_the_shipped_id(tmp_path):
    path = write_factor_file(tmp_path / "office.csv", [
        good_row(factor_id="office.liaoning.2022", year_from="2022", year_to="2022", data_year="2022")])
    with pytest.raises(InputError, match=re.escape("reuse the factor_id 'mee_nbs.liaoning.2022'")) as info:
        FactorTable.load(extra=[path])
    assert (info.value.first.file, info.value.first.row) == (str(path), 3)  # banner row 1, header row 2


# rows as the spreadsheet shows them: the banner is row 1, the header row 2, the first factor row 3
@pytest.mark.parametrize(("rows", "row_number", "field", "suggestion"), [
    ([good_row(status="offical")], 3, "status", "official"),
    ([good_row(unit="t/MWhh")], 3, "unit", None),
    ([good_row(unit="kgce/kg")], 3, "unit", None),  # parses, but not a grid-factor dimension
    ([good_row(), good_row(value="0.6")], 4, "factor_id", None),
    ([good_row(value="zero point five")], 3, "value", None),
    ([good_row(year_from="2023", year_to="2022")], 3, "year_from", None),
    ([good_row(year_to="twenty")], 3, "year_to", None),
    ([good_row(kind="grid_factor")], 3, "kind", "grid_ef"),
    ([good_row(kind="ncv", key="diesle", unit="kJ/kg", region="")], 3, "key", "diesel"),
    ([good_row(status="estimate", notes="")], 3, "notes", None),
    ([good_row(source="")], 3, "source", None),
])
def test_bad_office_file_names_file_row_and_field(tmp_path, rows, row_number, field, suggestion):
    path = write_factor_file(tmp_path / "bad.csv", rows)
    with pytest.raises(InputError) as info:
        FactorTable.load(extra=[path])
    problem = info.value.first
    assert (problem.file, problem.row, problem.field) == (str(path), row_number, field)
    if suggestion:
        assert problem.suggestion == suggestion
    assert str(path) in str(info.value) and f"row {row_number}" in str(info.value)


def test_ambiguous_rows_are_rejected(tmp_path):
    path = write_factor_file(tmp_path / "bad.csv", [
        good_row(factor_id="office.a"), good_row(factor_id="office.b", year_from="", year_to="")])
    with pytest.raises(InputError, match="overlapping years") as info:
        FactorTable.load(extra=[path])
    assert info.value.first.row == 4


def test_missing_or_unknown_columns_and_missing_file(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("factor_id,kind,staus\nx,grid_ef,official\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        FactorTable.load(extra=[path])
    fields = {p.field for p in info.value.problems}
    assert {"factor_set", "value", "status", "staus"} <= fields
    unknown = next(p for p in info.value.problems if p.field == "staus")
    assert unknown.suggestion == "status" and unknown.file == str(path)
    with pytest.raises(InputError, match="factor file not found"):
        FactorTable.load(extra=[tmp_path / "nowhere.csv"])


def test_duplicate_id_across_files_in_a_frame_names_the_source_file():
    frame = read_csv_file(FACTOR_FILES[0], dtype=str)
    doubled = frame.iloc[[0, 0]]
    with pytest.raises(InputError) as info:
        FactorTable(doubled, sources={doubled.iloc[0]["factor_id"]: "shipped.csv"})
    # a frame without file rows is numbered as a sheet below its header: the duplicate is the second row, row 3
    assert (info.value.first.file, info.value.first.row, info.value.first.field) == ("shipped.csv", 3,
                                                                                      "factor_id")


# ------------------------------------------------------------------------------------------------
# Units: value_in round trips (hypothesis)

ALTERNATIVES = ["kgce/kg", "tce/t", "kJ/kg", "GJ/t", "kgce/m3", "tce/(wan m3)", "kJ/m3", "kgce/kWh",
                "gce/kWh", "dimensionless", "percent", "t/TJ", "kg/GJ", "t/MWh", "kg/kWh", "t/GJ", "t/t", "kg/kg"]
SHIPPED = list(load_factors())


@settings(max_examples=200, deadline=None)
@given(row=st.sampled_from(SHIPPED), unit=st.sampled_from(ALTERNATIVES),
       value=st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_value_in_round_trips(row, unit, value):
    factor = FactorRow(**{**row.to_dict(), "value": value})
    if same_dimension(factor.unit, unit):
        there = factor.value_in(unit)
        assert convert(there, unit, factor.unit) == pytest.approx(value, rel=1e-12)
        assert factor.value_in(factor.unit) == pytest.approx(value, rel=1e-12)
    else:
        with pytest.raises(UnitError):
            factor.value_in(unit)


def test_lookup_first_takes_the_first_region_that_has_a_row():
    """Grid factors: the province when it has a row, else the regional grid (the accounting engine's fallback)."""
    table = load_factors()
    liaoning = table.lookup("grid_ef", "electricity", 2022, factor_set="mee_nbs_electricity", region="liaoning")
    northeast = table.lookup("grid_ef", "electricity", 2022, factor_set="mee_nbs_electricity", region="northeast")
    assert table.lookup_first("grid_ef", "electricity", 2022, factor_set="mee_nbs_electricity",
                              regions=("liaoning", "northeast")) is liaoning
    assert table.lookup_first("grid_ef", "electricity", 2022, factor_set="mee_nbs_electricity",
                              regions=("atlantis", "northeast")) is northeast
    with pytest.raises(FactorNotFound, match="atlantis"):
        table.lookup_first("grid_ef", "electricity", 2022, regions=("mars", "atlantis"))


# ------------------------------------------------------------------------------------------------
# Issue 13: the region chain, the factor tables' hash, the ipcc-cn-ncv set


def test_lookup_chain_prefers_the_exact_year_of_a_later_region(table):
    regions = ("liaoning", "northeast", "national")
    row, fallback = table.lookup_chain("grid_ef", "electricity", 2022, regions=regions,
                                       factor_set="mee_nbs_electricity")
    assert row.factor_id == "mee_nbs.liaoning.2022" and fallback is None
    row, fallback = table.lookup_chain("grid_ef", "electricity", 2023, regions=regions,
                                       factor_set="mee_nbs_electricity", names={"northeast": ("东北电网", "NE grid"),
                                                                                "liaoning": ("辽宁", "Liaoning")})
    assert row.factor_id == "mee_nbs.northeast.2023"
    assert fallback is not None and fallback.text_zh.startswith("2023年采用2023年东北电网因子")
    assert "Liaoning" in fallback.text_en
    row, fallback = table.lookup_chain("grid_ef", "electricity", 2026, regions=regions,
                                       factor_set="mee_nbs_electricity")
    assert row.data_year == 2023 and fallback is not None and fallback.used_year == 2023
    row, fallback = table.lookup_chain("grid_ef", "electricity", 2018, regions=regions,
                                       factor_set="mee_nbs_electricity")
    assert row.factor_id == "mee_nbs.liaoning.2021" and fallback is not None and "2018年采用2021年" in fallback.text_zh


def test_content_hash_covers_every_field(table):
    whole = table.content_hash()
    assert whole.startswith("sha256:") and len(whole) == 71 and table.content_hash() == whole
    frame = table.frame.copy()
    frame.loc[frame["factor_id"] == "ndrc2013.heat_ef", "status"] = "official"
    assert FactorTable(frame).content_hash() != whole
    assert table.content_hash(["gbt2589.raw_coal"]) != table.content_hash(["gbt2589.coke"])


def test_ipcc_cn_ncv_rows_repeat_their_sources(table):
    for row in table.select(factor_set="ipcc_2006_cn_ncv").itertuples():
        fuel = row.key
        if row.kind == "ncv":
            assert row.value == table.lookup("ncv", fuel, 2022, factor_set="gbt2589_2020").value
        elif row.kind == "carbon_content":
            assert row.value == table.lookup("carbon_content", fuel, 2022, factor_set="ipcc_2006").value
        else:
            assert row.value == 1.0

"""citycarbon.datasets: reading a reference-dataset folder, its contract violations, and balance closure.

The fixtures are a tiny literal dataset written to a temporary folder; the shipped Dalian dataset is
covered by tests/integration/test_dalian_dataset.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.datasets import (
    TABLE_FILES,
    available_references,
    balance_closure,
    load_reference,
    read_reference,
)
from citycarbon.errors import InputError

BALANCE = """# banner line naming the source
year,region,flow,sector,fuel,quantity,unit,status,source
2020,210200,inflow,,raw_coal,100,10^4 t,estimate,rule A
2020,210200,transformation_input,power,raw_coal,70,10^4 t,estimate,rule A
2020,210200,final_consumption,steel,raw_coal,30,10^4 t,official,bulletin
2020,210200,production,,nuclear_power,2,10^8 kWh,secondary,press
2020,210200,transformation_output,power,electricity,10000,10^4 kWh,estimate,rule B
2020,210200,net_inflow,,electricity,-5000,10^4 kWh,estimate,rule B
2020,210200,final_consumption,commercial,electricity,25000,10^4 kWh,estimate,rule B
2021,210200,inflow,,raw_coal,90,10^4 t,estimate,rule A
2021,210200,final_consumption,steel,raw_coal,90,10^4 t,estimate,rule A
"""
STATISTICS = """year,region,variable,value,unit,price_base_year,status,source
2020,210200,gdp,7030.4,10^8 CNY,,official,bulletin
2020,210200,gdp,7030.4,10^8 CNY,2020,estimate,rule G
2021,210200,gdp,78259000,10^4 CNY,,official,bulletin
2021,210200,gdp,7606.9,10^8 CNY,2020,estimate,rule G
2021,210200,population,745.4,10^4 person,,unverified,recalled
"""
CAPACITY = """year,region,technology,capacity,unit,status,source
2020,210200,nuclear,4475.16,MW,secondary,press
2020,210200,wind_onshore,1.23,GW,estimate,rule C
"""
PROCESS = """year,region,process,quantity,unit,status,source
2020,210200,cement_clinker,270,10^4 t,estimate,rule P
"""
FOREST = """year,region,variable,value,unit,status,source
2020,210200,forest_coverage,0.415,dimensionless,secondary,press
2020,210200,forest_stock,15604000,m**3,secondary,press
"""
WETLAND = """year,region,ecosystem,area,unit,status,source
2020,210200,artificial,104300,ha,secondary,press
2020,210200,seagrass,3000,ha,estimate,rule W
"""
README = "# 测试数据集 / Test dataset\n\nA tiny literal reference dataset.\n"
TEXTS = {"balance": BALANCE, "statistics": STATISTICS, "capacity": CAPACITY, "process_activity": PROCESS,
         "forest": FOREST, "wetland": WETLAND}


def write_dataset(folder: Path, **replace: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in {**TEXTS, **replace}.items():
        (folder / TABLE_FILES[table]).write_text(text, encoding="utf-8")
    (folder / "README.md").write_text(README, encoding="utf-8")
    return folder


def problem_of(folder: Path):
    with pytest.raises(InputError) as info:
        read_reference(folder)
    return info.value.first


@pytest.fixture
def dataset(tmp_path):
    return read_reference(write_dataset(tmp_path / "mini"))


# --- reading ------------------------------------------------------------------------------------------

def test_read_reference_gives_canonical_frames_titles_and_files(dataset, tmp_path):
    assert dataset.name == "mini"
    assert dataset.region == "210200"
    assert (dataset.title_zh, dataset.title_en) == ("测试数据集", "Test dataset")
    assert dataset.years == (2020, 2021)
    assert dataset.files["balance"] == tmp_path / "mini" / "energy_balance.csv"
    assert set(dataset.files) == set(TABLE_FILES)
    assert dataset.balance["quantity"].tolist()[:3] == [100.0, 70.0, 30.0]
    assert dataset.balance["sector"].tolist()[0] == ""  # empty sector is an empty string, not NaN
    assert dataset.capacity["capacity"].tolist() == [4475.16, 1.23]
    assert dataset.forest["year"].dtype.kind == "i"


def test_statistic_current_constant_and_unit_conversion(dataset):
    assert dataset.statistic("gdp", 2020) == 7030.4
    assert dataset.statistic("gdp", 2021, price_base_year=2020) == 7606.9
    # stored as 78 259 000 × 10^4 CNY; returned in the canonical 10^8 CNY (1 亿 = 10 000 万)
    assert dataset.statistic("gdp", 2021) == pytest.approx(7825.9)
    assert dataset.statistic("population", 2021) == 745.4


def test_statistic_missing_value_names_file_and_nearest_variable(dataset):
    with pytest.raises(InputError) as info:
        dataset.statistic("gpd", 2020)
    problem = info.value.first
    assert problem.file.endswith("statistics.csv")
    assert (problem.field, problem.suggestion) == ("variable", "gdp")
    with pytest.raises(InputError, match="constant 2015 prices"):
        dataset.statistic("gdp", 2020, price_base_year=2015)


def test_estimated_share_counts_estimate_rows(dataset):
    assert dataset.estimated_share("balance") == pytest.approx(7 / 9)  # 7 of 9 rows say estimate
    assert dataset.estimated_share("energy_balance") == dataset.estimated_share("balance")
    assert dataset.estimated_share("statistics") == pytest.approx(2 / 5)
    assert dataset.estimated_share("process_activity") == 1.0
    assert dataset.estimated_share("forest") == 0.0


def test_estimated_share_of_unknown_table_suggests_nearest(dataset):
    with pytest.raises(InputError) as info:
        dataset.estimated_share("wetlands")
    assert info.value.first.suggestion == "wetland"


def test_missing_file_is_named(tmp_path):
    folder = write_dataset(tmp_path / "mini")
    (folder / "wetland.csv").unlink()
    problem = problem_of(folder)
    assert problem.file.endswith("wetland.csv") and "not found" in problem.message


def test_titles_fall_back_to_the_name_without_readme(tmp_path):
    folder = write_dataset(tmp_path / "mini")
    (folder / "README.md").unlink()
    assert read_reference(folder, "other").title_en == "other"


# --- contract violations in the simple long tables -----------------------------------------------------

@pytest.mark.parametrize(("table", "bad_row", "field", "suggestion"), [
    ("capacity", "2020,210200,wind_onshor,10,MW,estimate,x", "technology", "wind_onshore"),
    ("process_activity", "2020,210200,cement_clinkr,1,10^4 t,estimate,x", "process", "cement_clinker"),
    ("forest", "2020,210200,forest_stok,1,m**3,estimate,x", "variable", "forest_stock"),
    ("wetland", "2020,210200,salt_mash,1,ha,estimate,x", "ecosystem", "salt_marsh"),
    ("wetland", "2020,210200,tidal_flat,1,ha,estimat,x", "status", "estimate"),
    ("capacity", "2020,210201,coal,10,MW,estimate,x", "region", None),
])
def test_unknown_code_names_file_row_field_and_nearest(tmp_path, table, bad_row, field, suggestion):
    text = TEXTS[table] + bad_row + "\n"
    problem = problem_of(write_dataset(tmp_path / "mini", **{table: text}))
    line = len(TEXTS[table].strip().splitlines()) + 1  # the new row's line: rows as the spreadsheet shows them
    assert (problem.file.endswith(TABLE_FILES[table]), problem.row, problem.field) == (True, line, field)
    if suggestion:
        assert problem.suggestion == suggestion


@pytest.mark.parametrize(("bad_row", "field", "words"), [
    ("2021,210200,coal,10,ha,estimate,x", "unit", "does not fit"),
    ("2021,210200,coal,10,megawattz,estimate,x", "unit", "unknown unit"),
    ("2021,210200,coal,-10,MW,estimate,x", "capacity", "negative"),
    ("2021,210200,coal,ten,MW,estimate,x", "capacity", "not a number"),
    ("20x1,210200,coal,10,MW,estimate,x", "year", "not a number"),
    ("1900,210200,coal,10,MW,estimate,x", "year", "out of range"),
    ("2021,210200,coal,10,MW,estimate,", "source", "source is missing"),
    ("2020,210200,nuclear,10,MW,estimate,x", "technology", "duplicate"),
])
def test_bad_capacity_rows_are_errors(tmp_path, bad_row, field, words):
    problem = problem_of(write_dataset(tmp_path / "mini", capacity=CAPACITY + bad_row + "\n"))
    assert (problem.row, problem.field) == (4, field)  # header row 1, two good rows, the bad one is row 4
    assert words in problem.message


def test_forest_coverage_above_one_is_an_error(tmp_path):
    text = FOREST.replace("0.415,dimensionless", "41.5,dimensionless")
    problem = problem_of(write_dataset(tmp_path / "mini", forest=text))
    assert (problem.row, problem.field) == (2, "value")


def test_forest_coverage_in_percent_is_accepted(tmp_path):
    text = FOREST.replace("0.415,dimensionless", "41.5,percent")
    assert read_reference(write_dataset(tmp_path / "mini", forest=text)).forest["value"].iloc[0] == 41.5


def test_missing_column_suggests_the_misspelt_one(tmp_path):
    text = WETLAND.replace("ecosystem,area", "ecosystem,aera")
    problem = problem_of(write_dataset(tmp_path / "mini", wetland=text))
    assert (problem.field, problem.suggestion) == ("area", "aera")


# --- balance and statistics: validated like imports, plus status and source -------------------------------

def test_balance_is_validated_like_an_import(tmp_path):
    text = BALANCE + "2021,210200,final_consumption,steel,raw_cole,1,10^4 t,estimate,x\n"
    problem = problem_of(write_dataset(tmp_path / "mini", balance=text))
    assert problem.file.endswith("energy_balance.csv")
    assert (problem.row, problem.field, problem.suggestion) == (12, "fuel", "raw_coal")  # banner, header, 9 rows


def test_balance_row_without_status_is_an_error(tmp_path):
    text = BALANCE + "2021,210200,final_consumption,commercial,raw_coal,1,10^4 t,,x\n"
    problem = problem_of(write_dataset(tmp_path / "mini", balance=text))
    assert (problem.row, problem.field) == (12, "status")


def test_statistics_row_without_source_is_an_error(tmp_path):
    text = STATISTICS + "2020,210200,population,745.1,10^4 person,,unverified,\n"
    problem = problem_of(write_dataset(tmp_path / "mini", statistics=text))
    assert (problem.row, problem.field) == (7, "source")


def test_problems_of_several_files_are_reported_together(tmp_path):
    folder = write_dataset(tmp_path / "mini", capacity=CAPACITY + "2021,210200,cole,1,MW,estimate,x\n",
                           wetland=WETLAND + "2021,210200,seagras,1,ha,estimate,x\n")
    with pytest.raises(InputError) as info:
        read_reference(folder)
    assert {Path(p.file).name for p in info.value.problems} == {"capacity.csv", "wetland.csv"}


def test_a_dataset_holds_one_region(tmp_path):
    text = BALANCE + "2021,210000,inflow,,coke,1,10^4 t,estimate,x\n"
    problem = problem_of(write_dataset(tmp_path / "mini", balance=text))
    assert problem.field == "region" and "one region" in problem.message


# --- shipped datasets ------------------------------------------------------------------------------------

def test_load_reference_is_cached_and_lists_dalian():
    assert "dalian" in available_references()
    assert load_reference("dalian") is load_reference("dalian")


def test_unknown_reference_name_suggests_nearest():
    with pytest.raises(InputError) as info:
        load_reference("dalain")
    assert info.value.first.suggestion == "dalian"


# --- balance closure -----------------------------------------------------------------------------------

def test_balance_closure_golden_values(dataset):
    """Hand computation, NBS 能源平衡表 identity (supply = use), fuels codelist default units.

    raw coal 2020: supply = inflow 100; use = 70 (power) + 30 (steel) = 100 → imbalance 0 (10^4 t = 10^4 × 1 000 kg,
    reported in t). Electricity 2020 (kWh): supply = nuclear 2 × 10^8 + thermal 10 000 × 10^4 − 5 000 × 10^4
    net outflow = 2.5 × 10^8; use = 25 000 × 10^4 = 2.5 × 10^8 → 0.
    """
    closure = balance_closure(dataset.balance).set_index(["year", "fuel"])
    coal = closure.loc[(2020, "raw_coal")]
    assert (coal["unit"], coal["supply"], coal["use"], coal["imbalance"]) == ("t", 1_000_000.0, 1_000_000.0, 0.0)
    power = closure.loc[(2020, "electricity")]
    assert power["unit"] == "10^4 kWh"
    assert power["supply"] == pytest.approx(25_000.0) and power["use"] == pytest.approx(25_000.0)
    assert "nuclear_power" not in closure.index.get_level_values("fuel")


def test_balance_closure_reports_an_open_balance():
    frame = pd.DataFrame({
        "year": [2020] * 4, "region": ["210200"] * 4,
        "flow": ["inflow", "stock_change", "final_consumption", "losses"],
        "fuel": ["natural_gas"] * 4, "quantity": [100.0, -5.0, 80.0, 5.0], "unit": ["10^4 m3"] * 4,
    })
    row = balance_closure(frame).iloc[0]
    # supply = 100 − 5 (stock built up) = 95; use = 85 → imbalance 10, relative 10 / 95
    assert (row["supply"], row["use"], row["imbalance"]) == (95.0, 85.0, 10.0)
    assert row["relative_imbalance"] == pytest.approx(10 / 95)


quantities = st.floats(min_value=0.01, max_value=1e7, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(final=st.lists(quantities, min_size=1, max_size=6), losses=quantities, exported=quantities)
def test_a_balance_built_to_close_closes(final, losses, exported):
    """Identity: supply chosen as the sum of the uses gives zero imbalance for any quantities."""
    rows = [("final_consumption", q) for q in final] + [("losses", losses), ("outflow", exported)]
    rows.append(("inflow", sum(q for _, q in rows)))
    frame = pd.DataFrame({"year": 2022, "region": "210200", "flow": [f for f, _ in rows], "fuel": "diesel",
                          "quantity": [q for _, q in rows], "unit": "10^4 t"})
    assert abs(balance_closure(frame)["relative_imbalance"].iloc[0]) < 1e-12


@settings(max_examples=50, deadline=None)
@given(supply=quantities, use=quantities)
def test_closure_does_not_depend_on_the_unit_rows_are_given_in(supply, use):
    """Invariant: the same balance in 10^4 t and in t has the same relative imbalance."""
    def frame(scale: float, unit: str) -> pd.DataFrame:
        return pd.DataFrame({"year": 2022, "region": "210200", "flow": ["inflow", "final_consumption"],
                             "fuel": "gasoline", "quantity": [supply * scale, use * scale], "unit": unit})
    wan = balance_closure(frame(1.0, "10^4 t"))["relative_imbalance"].iloc[0]
    tonnes = balance_closure(frame(1e4, "t"))["relative_imbalance"].iloc[0]
    assert wan == pytest.approx(tonnes, rel=1e-9, abs=1e-12)

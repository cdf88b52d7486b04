"""Validation gaps of the input files (issue 13, item 6): dimensions by pint object, finite quantities, GBK and
BOM CSVs, rows numbered as the spreadsheet shows them, messages in Chinese and English."""

from __future__ import annotations

import math

import pandas as pd
import pint
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.accounting import AccountingOptions, account_energy_balance
from citycarbon.datasets import validate_table
from citycarbon.errors import InputError, Problem
from citycarbon.importers import read_table, read_workbook, validate_balance, validate_statistics
from tests.conftest import balance_rows, statistics_rows

GOOD = [
    ("final_consumption", "steel", "raw_coal", 10.0, "10^4 t"),
    ("final_consumption", "commercial", "electricity", 5.0, "10^8 kWh"),
]
BALANCE_HEADER = "year,region,flow,sector,fuel,quantity,unit"
STATISTICS_HEADER = "year,region,variable,value,unit,price_base_year"


def refused(frame, validate=validate_balance, source="b.csv"):
    with pytest.raises(InputError) as info:
        validate(frame, source)
    return info.value


def renewable(values: dict[int, tuple[float, str]]) -> pd.DataFrame:
    return pd.DataFrame({"year": list(values), "region": "210200", "variable": "renewable_power_consumption",
                         "value": [v for v, _ in values.values()], "unit": [u for _, u in values.values()],
                         "price_base_year": pd.NA})


# --- 1. dimensions by pint dimensionality, never by text ------------------------------------------------

@pytest.mark.parametrize("unit", ["MWh", "10^4 kWh", "10^8 kWh", "GWh", "kWh", "m**2*kg/s**2"])
def test_renewable_power_consumption_is_accepted_in_every_energy_unit(unit):
    frame = validate_statistics(renewable({2022: (5.0, unit)}), "s.csv")
    assert frame["unit"].tolist() == [unit]


def test_renewable_power_consumption_is_accepted_whatever_order_pint_writes_the_dimension(monkeypatch):
    """The bug: '[length] ** 2 * [mass] / [time] ** 2' vs '[mass] * [length] ** 2 / [time] ** 2' (same dimension,
    other text). With the text written in another order the check must not change."""
    monkeypatch.setattr(pint.util.UnitsContainer, "__str__",
                        lambda self: " * ".join(f"{k} ** {v}" for k, v in sorted(self._d.items())))
    for unit in ("MWh", "10^4 kWh"):
        assert len(validate_statistics(renewable({2022: (5.0, unit)}), "s.csv")) == 1
    assert len(validate_balance(balance_rows(GOOD), "b.csv")) == 2


def test_renewable_power_consumption_in_a_mass_unit_is_refused_bilingually():
    problem = refused(renewable({2022: (5.0, "10^4 t")}), validate_statistics).first
    assert (problem.row, problem.field) == (2, "unit")
    assert "量纲不符" in str(problem) and "does not fit variable 'renewable_power_consumption'" in str(problem)


@pytest.mark.parametrize(("unit_2020", "unit_2022"), [("MWh", "MWh"), ("10^4 kWh", "10^4 kWh"), ("MWh", "10^4 kWh")])
def test_1258_deduction_uses_the_reported_renewable_power_consumption(unit_2020, unit_2022, monkeypatch):
    """发改运行〔2022〕1258号: with renewable_power_consumption in the statistics (MWh or 10^4 kWh) the increment
    over 2020 is the reported one, not the local-generation estimate (2·10^8 kWh here), whatever order pint
    writes the dimension's text in (the reported bug: the statistic was refused, so the estimate was used)."""
    monkeypatch.setattr(pint.util.UnitsContainer, "__str__",
                        lambda self: " * ".join(f"{k} ** {v}" for k, v in sorted(self._d.items())))
    rows_2020 = [("production", None, "wind_power", 1.0, "10^8 kWh"),
                 ("final_consumption", "commercial", "electricity", 6.0, "10^8 kWh")]
    rows_2022 = [("production", None, "wind_power", 3.0, "10^8 kWh"),
                 ("final_consumption", "commercial", "electricity", 8.0, "10^8 kWh")]
    balance = validate_balance(pd.concat([balance_rows(rows_2020, 2020), balance_rows(rows_2022, 2022)],
                                         ignore_index=True), "balance.csv")
    kwh_2020, kwh_2022 = 1.5e8, 5.0e8  # reported: 3.5·10^8 kWh more renewable power than in 2020
    value_2020 = kwh_2020 / (1e3 if unit_2020 == "MWh" else 1e4)
    value_2022 = kwh_2022 / (1e3 if unit_2022 == "MWh" else 1e4)
    statistics = validate_statistics(pd.concat([
        statistics_rows({2020: 1000.0, 2022: 1100.0}),
        renewable({2020: (value_2020, unit_2020), 2022: (value_2022, unit_2022)})], ignore_index=True), "s.csv")
    options = AccountingOptions(method="calorific", grid_region="northeast", nonfossil_attribution="local_mix")
    result = account_energy_balance(balance, 2022, statistics=statistics, options=options)
    increment_tce = 3.5e8 * 0.1229 / 1000.0  # kWh × 0.1229 kgce/kWh (calorific, GB/T 2589) / 1000
    assert result.dual_control["renewable_increment_deduction_tce"] == pytest.approx(increment_tce, rel=1e-12)
    basis = result.provenance.parameters["renewable_deduction_basis"]
    assert basis.count("reported renewable_power_consumption") == 2 and "estimate" not in basis
    estimate = account_energy_balance(balance, 2022, statistics=statistics_rows({2020: 1000.0, 2022: 1100.0}),
                                      options=options)
    assert estimate.dual_control["renewable_increment_deduction_tce"] == pytest.approx(2e8 * 0.1229 / 1000.0)


def test_1258_deduction_from_a_statistics_file(tmp_path):
    """The same through the importer: a statistics CSV giving renewable_power_consumption in 10^4 kWh."""
    path = tmp_path / "统计数据.csv"
    path.write_text(f"{STATISTICS_HEADER}\n2020,210200,gdp,1000,10^8 CNY,2020\n2022,210200,gdp,1100,10^8 CNY,2020\n"
                    "2020,210200,renewable_power_consumption,15000,10^4 kWh,\n"
                    "2022,210200,renewable_power_consumption,50000,10^4 kWh,\n", encoding="utf-8")
    name, statistics = read_table(path)
    assert name == "statistics"
    use = ("final_consumption", "commercial", "electricity", 8.0, "10^8 kWh")
    balance = validate_balance(pd.concat([
        balance_rows([("production", None, "wind_power", 1.0, "10^8 kWh"), use], 2020),
        balance_rows([("production", None, "wind_power", 3.0, "10^8 kWh"), use], 2022)], ignore_index=True), "b.csv")
    options = AccountingOptions(method="calorific", grid_region="northeast", nonfossil_attribution="local_mix")
    result = account_energy_balance(balance, 2022, statistics=statistics, options=options)
    assert result.dual_control["renewable_increment_deduction_tce"] == pytest.approx(3.5e8 * 0.1229 / 1000.0)


# --- 2. quantities must be finite -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e400", "-1e400", "Infinity", "NaN"])
def test_a_non_finite_quantity_in_a_csv_is_refused_naming_file_row_and_field(tmp_path, text):
    path = tmp_path / "balance.csv"
    path.write_text(f"{BALANCE_HEADER}\n2022,210200,final_consumption,steel,raw_coal,10,10^4 t\n"
                    f"2022,210200,final_consumption,commercial,raw_coal,{text},10^4 t\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    problem = info.value.first
    assert (problem.file, problem.row, problem.field, problem.value) == ("balance.csv", 3, "quantity", text)
    assert "finite" in problem.message and "有限数" in str(problem)


@pytest.mark.parametrize("number", [math.inf, -math.inf, float("1e400")])
def test_a_non_finite_statistic_is_refused(number):
    frame = statistics_rows({2020: 1000.0, 2021: 1000.0})
    frame.loc[1, "value"] = number
    problem = refused(frame, validate_statistics).first
    assert (problem.row, problem.field) == (3, "value") and "finite" in problem.message


@pytest.mark.parametrize("text", ["inf", "nan", "1e400"])
def test_the_reference_dataset_reader_refuses_non_finite_values(text):
    frame = pd.DataFrame({"year": ["2020"], "region": ["210200"], "technology": ["coal"], "capacity": [text],
                          "unit": ["MW"], "status": ["estimate"], "source": ["x"]})
    with pytest.raises(InputError) as info:
        validate_table("capacity", frame, "capacity.csv")
    problem = info.value.first
    assert (problem.file, problem.row, problem.field) == ("capacity.csv", 2, "capacity")
    assert "finite" in problem.message and "有限数" in str(problem)


@pytest.mark.parametrize("text", ["inf", "nan"])
def test_a_non_finite_reference_year_is_refused_not_a_crash(text):
    frame = pd.DataFrame({"year": [text], "region": ["210200"], "technology": ["coal"], "capacity": ["1"],
                          "unit": ["MW"], "status": ["estimate"], "source": ["x"]})
    with pytest.raises(InputError) as info:
        validate_table("capacity", frame, "capacity.csv")
    assert (info.value.first.row, info.value.first.field) == (2, "year")


_FINITE = st.floats(min_value=0.0, max_value=1e300, allow_nan=False, allow_infinity=False)
_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(values=st.lists(_FINITE, min_size=1, max_size=5))
def test_any_finite_value_round_trips(values):
    frame = pd.DataFrame({"year": [2000 + i for i in range(len(values))], "region": "210200", "variable": "gdp",
                          "value": [repr(v) for v in values], "unit": "10^8 CNY", "price_base_year": None})
    assert validate_statistics(frame, "s.csv")["value"].tolist() == values


@_SETTINGS
@given(values=st.lists(_FINITE, min_size=1, max_size=6), data=st.data())
def test_any_non_finite_value_is_refused_naming_its_row(values, data):
    position = data.draw(st.integers(0, len(values) - 1))
    bad = data.draw(st.sampled_from(["inf", "-inf", "nan", "1e400", "-1e999", "INF"]))
    texts = [repr(v) for v in values]
    texts[position] = bad
    rows = [(("final_consumption", "steel", "raw_coal", t, "10^4 t")) for t in texts]
    frame = balance_rows(rows)
    frame["year"] = [2000 + i for i in range(len(rows))]
    error = refused(frame)
    assert [(p.row, p.field) for p in error.problems] == [(position + 2, "quantity")]


# --- 4. GB18030/GBK and UTF-8 with BOM ------------------------------------------------------------------

GBK_TEXT = (f"{STATISTICS_HEADER},status,source\n"
            "2022,210200,gdp,8430.9,10^8 CNY,,official,大连市2022年国民经济和社会发展统计公报\n"
            "2022,210200,population,753.9,10^4 person,,official,大连市统计局\n")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_a_csv_as_chinese_excel_writes_it_is_read_and_its_encoding_recorded(tmp_path, encoding):
    path = tmp_path / "统计数据.csv"
    path.write_bytes(GBK_TEXT.encode(encoding))
    name, frame = read_table(path)
    assert name == "statistics" and frame["value"].tolist() == [8430.9, 753.9]
    assert frame["source"].tolist() == ["大连市2022年国民经济和社会发展统计公报", "大连市统计局"]
    assert frame.attrs["encoding"] == ("gb18030" if encoding.startswith("gb") else "utf-8-sig")


def test_a_gbk_csv_with_chinese_headers_and_values_names_the_row_of_a_bad_one(tmp_path):
    path = tmp_path / "能源平衡表.csv"
    text = (f"{BALANCE_HEADER},source\n"
            "2022,210200,final_consumption,steel,raw_coal,10,10^4 t,市统计局 能源平衡表(实物量)\n"
            "2022,210200,final_consumption,steel,原煤,10,10^4 t,市统计局\n")
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(InputError) as info:
        read_table(path)
    problem = info.value.first
    assert (problem.row, problem.field, problem.value) == (3, "fuel", "原煤")
    assert str(problem).startswith("能源平衡表.csv, 第 3 行, 字段 'fuel': 未知能源品种 '原煤'")


def test_bytes_that_are_no_text_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"year,region\n\x81\x30\xff\xff\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.first.file == "bad.csv" and "GB18030" in info.value.first.message


# --- 5. rows numbered as the spreadsheet shows them -----------------------------------------------------

def test_csv_rows_count_the_header_the_banner_and_blank_lines(tmp_path):
    path = tmp_path / "balance.csv"
    path.write_text(f"# banner naming the source\n{BALANCE_HEADER}\n"
                    "2022,210200,final_consumption,steel,raw_coal,10,10^4 t\n"
                    "\n"
                    ",,,,,,\n"
                    "2022,210200,final_consumption,steel,raw_cole,1,10^4 t\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert (info.value.first.row, info.value.first.field) == (6, "fuel")  # the file's line 6


def test_the_first_data_row_of_a_csv_is_row_2(tmp_path):
    path = tmp_path / "balance.csv"
    path.write_text(f"{BALANCE_HEADER}\n2022,210200,final_consumption,steel,raw_cole,10,10^4 t\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.first.row == 2 and "row 2" in str(info.value)


def test_excel_rows_are_the_sheets_own_row_numbers(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "upload.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "能源平衡表"
    sheet.append(BALANCE_HEADER.split(","))
    sheet.append([2022, "210200", "final_consumption", "steel", "raw_coal", 10, "10^4 t"])
    sheet.append([])  # a blank row keeps the numbers of the rows below it
    sheet.append([2022, "210200", "final_consumption", "steel", "raw_coal", float("inf"), "10^4 t"])
    sheet.append([2022, "210200", "final_consumption", "steel", "raw_coal", 10, "10^4 t"])
    workbook.save(path)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert [(p.file, p.row, p.field) for p in info.value.problems] == [("upload.xlsx[能源平衡表]", 4, "quantity")]
    sheet.delete_rows(4)  # the sheet's rows 2 and 4 (was 5) now repeat a key
    workbook.save(path)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert [(p.row, p.field) for p in info.value.problems] == [(4, "fuel")]
    assert "as row 2" in info.value.first.message and "第 4 行" in str(info.value.first)


def test_a_validated_frame_is_indexed_from_zero():
    frame = validate_balance(balance_rows(GOOD), "b.csv")
    assert frame.index.tolist() == [0, 1]


# --- 6. messages in Chinese and English -----------------------------------------------------------------

def test_problem_text_reads_chinese_then_english_with_the_structured_fields_kept():
    problem = Problem("the value must be finite", message_zh="数值必须为有限数", file="b.csv", row=3,
                      field="quantity", value="inf")
    assert str(problem) == ("b.csv, 第 3 行, 字段 'quantity': 数值必须为有限数 / "
                            "b.csv, row 3, field 'quantity': the value must be finite")
    assert (problem.file, problem.row, problem.field, problem.value) == ("b.csv", 3, "quantity", "inf")
    assert str(Problem("x", row=2)) == "row 2: x"  # a message without Chinese stays as it was


def test_every_importer_problem_speaks_chinese_and_english():
    frame = balance_rows([("final_consumption", "stel", "raw_cole", -1.0, "10^4 tonnez"), GOOD[0], GOOD[0]])
    problems = refused(frame).problems
    assert {p.field for p in problems} >= {"sector", "fuel", "unit"}
    for problem in problems:
        assert problem.message_zh, problem
        zh, en = str(problem).split(" / ", 1)
        assert "第" in zh and "row" in en
    suggestion = next(p for p in problems if p.field == "fuel")
    assert "是否应为 'raw_coal'" in str(suggestion) and "did you mean 'raw_coal'" in str(suggestion)


@_SETTINGS
@given(values=st.lists(_FINITE, min_size=1, max_size=5), data=st.data())
def test_the_reference_reader_keeps_finite_values_and_refuses_non_finite_ones_by_row(values, data):
    """datasets._number: any finite value ≥ 0 round-trips; a non-finite one is refused naming its row."""
    def frame(texts):
        return pd.DataFrame({"year": [str(2000 + i) for i in range(len(texts))], "region": "210200",
                             "technology": "coal", "capacity": texts, "unit": "MW", "status": "estimate",
                             "source": "x"})

    assert validate_table("capacity", frame([repr(v) for v in values]), "c.csv")["capacity"].tolist() == values
    position = data.draw(st.integers(0, len(values) - 1))
    texts = [repr(v) for v in values]
    texts[position] = data.draw(st.sampled_from(["inf", "-inf", "nan", "1e400", "Infinity"]))
    with pytest.raises(InputError) as info:
        validate_table("capacity", frame(texts), "c.csv")
    assert [(p.row, p.field) for p in info.value.problems] == [(position + 2, "capacity")]


@pytest.mark.parametrize("number", [math.inf, float("1e400"), math.nan])
def test_the_monthly_and_district_checks_refuse_non_finite_values(number):
    """The monthly series and the district table (tracking) refuse inf as they refused nan."""
    from citycarbon.tracking.districts import check_districts, district_codes
    from citycarbon.tracking.nowcast import check_monthly

    monthly = pd.DataFrame({"year": [2024], "month": [1], "variable": ["electricity_consumption_kwh"],
                            "value": [number]})
    with pytest.raises(InputError) as info:
        check_monthly(monthly, "monthly.csv")
    assert info.value.first.field == "value"
    district = sorted(district_codes("210200"))[0]
    districts = pd.DataFrame({"year": [2024], "region": [district], "variable": ["energy_share"], "target_id": [""],
                              "value": [number], "unit": ["dimensionless"], "status": ["estimate"], "source": ["x"]})
    with pytest.raises(InputError) as info:
        check_districts(districts, "210200")
    assert any(p.field == "value" for p in info.value.problems)

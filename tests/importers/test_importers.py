"""Import validation at the boundary: every bad-input case names file, row, field and a suggestion.

Rows are numbered as the spreadsheet shows them: the header is row 1, the first data row is row 2."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.importers import read_table, read_workbook, validate_balance, validate_statistics
from citycarbon.importers.template import write_template
from tests.conftest import balance_rows, statistics_rows

GOOD = [
    ("final_consumption", "steel", "raw_coal", 10.0, "10^4 t"),
    ("final_consumption", "commercial", "electricity", 5.0, "10^8 kWh"),
    ("production", None, "wind_power", 2.0, "10^8 kWh"),
]


def problem_of(frame, validate=validate_balance):
    with pytest.raises(InputError) as info:
        validate(frame, "balance.csv")
    return info.value.first


def test_good_balance_validates_and_is_typed():
    frame = validate_balance(balance_rows(GOOD), "balance.csv")
    assert list(frame["quantity"]) == [10.0, 5.0, 2.0]
    assert frame["year"].tolist() == [2022, 2022, 2022]


def test_unknown_fuel_names_row_field_and_nearest_name():
    rows = [*GOOD, ("final_consumption", "steel", "raw_cole", 1.0, "10^4 t")]
    problem = problem_of(balance_rows(rows))
    assert (problem.file, problem.row, problem.field, problem.suggestion) == ("balance.csv", 5, "fuel", "raw_coal")
    assert "did you mean 'raw_coal'" in str(problem)


def test_unknown_sector_suggests_nearest():
    problem = problem_of(balance_rows([("final_consumption", "stel", "raw_coal", 1.0, "10^4 t")]))
    assert (problem.row, problem.field, problem.suggestion) == (2, "sector", "steel")


def test_unknown_unit_is_an_error():
    problem = problem_of(balance_rows([("final_consumption", "steel", "raw_coal", 1.0, "10^4 tonnez")]))
    assert (problem.row, problem.field) == (2, "unit")


def test_unit_of_wrong_dimension_for_fuel():
    problem = problem_of(balance_rows([("final_consumption", "steel", "raw_coal", 1.0, "10^4 kWh")]))
    assert problem.field == "unit" and "does not fit fuel 'raw_coal'" in problem.message


def test_missing_unit_is_an_error():
    frame = balance_rows(GOOD)
    frame.loc[1, "unit"] = None
    problem = problem_of(frame)
    assert (problem.row, problem.field) == (3, "unit")


def test_negative_quantity_rejected_except_signed_flows():
    problem = problem_of(balance_rows([("final_consumption", "steel", "raw_coal", -1.0, "10^4 t")]))
    assert (problem.row, problem.field) == (2, "quantity")
    ok = validate_balance(balance_rows([("net_inflow", None, "electricity", -3.0, "10^8 kWh")]), "b.csv")
    assert ok["quantity"].iloc[0] == -3.0


def test_duplicate_rows_name_both_rows():
    problem = problem_of(balance_rows([*GOOD, GOOD[0]]))
    assert problem.row == 5 and "as row 2" in problem.message


def test_non_numeric_quantity_names_row():
    frame = balance_rows(GOOD).astype({"quantity": object})
    frame.loc[2, "quantity"] = "lots"
    problem = problem_of(frame)
    assert (problem.row, problem.field) == (4, "quantity")


def test_missing_column_suggests_misspelled_one():
    frame = balance_rows(GOOD).rename(columns={"quantity": "quantiy"})
    problem = problem_of(frame)
    assert (problem.field, problem.suggestion) == ("quantity", "quantiy")


def test_primary_electricity_only_as_production():
    problem = problem_of(balance_rows([("final_consumption", "steel", "wind_power", 1.0, "10^4 kWh")]))
    assert (problem.field, problem.suggestion) == ("flow", "production")


def test_transformation_needs_transformation_sector():
    problem = problem_of(balance_rows([("transformation_input", "steel", "raw_coal", 1.0, "10^4 t")]))
    assert problem.field == "sector" and "needs a transformation sector" in problem.message


def test_statistics_validation():
    good = validate_statistics(statistics_rows({2020: 7030.4}), "s.csv")
    assert good["price_base_year"].iloc[0] == 2020
    bad = statistics_rows({2020: 7030.4})
    bad.loc[0, "variable"] = "gpd"
    problem = problem_of(bad, validate_statistics)
    assert (problem.field, problem.suggestion) == ("variable", "gdp")
    wrong_unit = statistics_rows({2020: 7030.4})
    wrong_unit.loc[0, "unit"] = "10^4 person"
    assert problem_of(wrong_unit, validate_statistics).field == "unit"


@given(st.lists(st.sampled_from(range(len(GOOD))), min_size=1, max_size=3, unique=True))
def test_validation_does_not_modify_input(indices):
    frame = balance_rows([GOOD[i] for i in indices])
    before = frame.copy()
    validate_balance(frame, "b.csv")
    pd.testing.assert_frame_equal(frame, before)


def test_csv_round_trip_and_error_names_file(tmp_path):
    path = tmp_path / "my_balance.csv"
    balance_rows([*GOOD, ("final_consumption", "steel", "raw_cole", 1.0, "10^4 t")]).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.first.file == "my_balance.csv" and info.value.first.row == 5
    balance_rows(GOOD).to_csv(path, index=False)
    name, frame = read_table(path)
    assert name == "energy_balance" and len(frame) == 3


def test_excel_template_has_sheets_and_dropdowns(tmp_path):
    from openpyxl import load_workbook

    path = write_template(tmp_path / "template.xlsx")
    workbook = load_workbook(path)
    assert {"说明", "能源平衡表", "统计数据", "来源"} <= set(workbook.sheetnames)
    validations = workbook["能源平衡表"].data_validations.dataValidation
    assert any("codelists" in (v.formula1 or "") for v in validations)


def test_workbook_import_is_all_or_nothing(tmp_path):
    path = tmp_path / "upload.xlsx"
    bad_stats = statistics_rows({2022: 100.0})
    bad_stats.loc[0, "value"] = -5
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        balance_rows(GOOD).to_excel(writer, sheet_name="能源平衡表", index=False)
        bad_stats.to_excel(writer, sheet_name="统计数据", index=False)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    assert info.value.first.file == "upload.xlsx[统计数据]" and info.value.first.field == "value"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        balance_rows(GOOD).to_excel(writer, sheet_name="能源平衡表", index=False)
        statistics_rows({2022: 100.0}).to_excel(writer, sheet_name="统计数据", index=False)
    tables = read_workbook(path)
    assert set(tables) == {"energy_balance", "statistics"}


def test_a_file_named_xlsx_that_is_not_a_workbook_is_bad_input(tmp_path):
    """A CSV renamed to .xlsx (or a truncated upload) names the file instead of raising BadZipFile."""
    fake = tmp_path / "统计数据.xlsx"
    fake.write_text("year,region,variable\n2020,210200,gdp\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_workbook(fake)
    assert error.value.first.file == "统计数据.xlsx"
    assert "Excel" in error.value.first.message

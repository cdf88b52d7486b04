"""One Excel template per dataset (every ``import:`` table of the registry): a 说明 sheet, a 来源 sheet, drop-down
lists for every codelist column, the reference units in the value column's header; a filled one reads back."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from citycarbon.importers import read_workbook
from citycarbon.importers.tables import header_name
from citycarbon.services.templates import import_template
from citycarbon.tables import import_tables


def _workbook(name: str):
    return load_workbook(io.BytesIO(import_template([name]).content))


@pytest.mark.parametrize("name", list(import_tables()))
def test_each_dataset_has_its_template_with_instructions_sources_and_dropdowns(name):
    spec = import_tables()[name]
    workbook = _workbook(name)
    assert workbook.sheetnames == ["说明", "codelists", spec.sheet_zh, "来源"]
    instructions = [a for a, _ in workbook["说明"].iter_rows(values_only=True, max_col=2) if a]
    assert any(spec.title_zh in line for line in instructions)
    sheet = workbook[spec.sheet_zh]
    headers = [cell.value for cell in sheet[1]]
    assert [header_name(h) for h in headers] == [*spec.required_on_import, *spec.optional_on_import]
    lists = {str(v.sqref).split(":")[0].rstrip("0123456789"): v.formula1 for v in sheet.data_validations.dataValidation
             if v.type == "list"}
    for index, header in enumerate(headers, start=1):
        column = spec.column(header_name(header))
        letter = sheet.cell(row=1, column=index).column_letter
        assert (letter in lists) == (column.codelist is not None), (name, column.name)
    units = set(spec.reference_units().values())
    value_header = next(h for h in headers if header_name(h) == spec.value)
    if units and len(units) <= 3:
        assert all(unit in value_header for unit in units), value_header
    else:
        assert "unit" in value_header
    assert [c.value for c in workbook["来源"][1]][:2] == ["source_id", "citation"]


def test_codelist_columns_of_the_new_tables_have_dropdowns():
    expected = {"capacity": ["region", "technology", "status"], "monthly": ["region", "variable", "status"],
                "districts": ["region", "variable", "status"], "forest": ["region", "variable", "status"],
                "wetland": ["region", "ecosystem", "status"], "process_activity": ["region", "process", "status"]}
    for name, columns in expected.items():
        sheet = _workbook(name)[import_tables()[name].sheet_zh]
        headers = [header_name(c.value) for c in sheet[1]]
        listed = {headers[sheet[str(v.sqref).split(":")[0]].column - 1] for v in sheet.data_validations.dataValidation
                  if v.type == "list"}
        assert set(columns) <= listed, (name, listed)


@pytest.mark.parametrize("name", ["capacity", "wetland", "monthly", "districts"])
def test_a_filled_template_reads_back(tmp_path, name):
    spec = import_tables()[name]
    workbook = _workbook(name)
    sheet = workbook[spec.sheet_zh]
    headers = [header_name(c.value) for c in sheet[1]]
    code_column = next(d for d in spec.dims if spec.column(d).codelist)
    code = spec.column(code_column).codes()[0]
    values = {"year": 2024, "month": 3, "region": "210200", code_column: code, spec.value: 0.25,
              "unit": spec.reference_units()[code], "status": "official", "source": "填报 2024"}
    sheet.append([values.get(h) for h in headers])
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    frame = read_workbook(path)[name]
    assert len(frame) == 1 and frame[code_column].iloc[0] == code and frame[spec.value].iloc[0] == 0.25
    assert int(frame["year"].iloc[0]) == 2024 and str(frame["region"].iloc[0]) == "210200"


def test_cli_template_by_dataset(tmp_path, monkeypatch):
    from citycarbon.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["template", "--dataset", "forest"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "citycarbon-import-template-forest.xlsx"
    assert load_workbook(written).sheetnames == ["说明", "codelists", "森林资源", "来源"]

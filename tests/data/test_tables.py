"""The table registry (data/tables.yaml) and what is built from it: pandera schemas, the import tables, the
reference dataset's long-table vocabularies and the Excel template."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon import datasets
from citycarbon.codelists import load_codelist
from citycarbon.data import data_path, read_csv
from citycarbon.errors import InputError
from citycarbon.importers import TABLES, read_workbook
from citycarbon.importers.schemas import (
    BALANCE_SCHEMA,
    STATISTICS_SCHEMA,
    STATISTICS_VARIABLES,
    STATUSES,
    pandera_schema,
)
from citycarbon.importers.tables import header_name
from citycarbon.importers.template import build_template
from citycarbon.tables import REGISTRY_FILE, load_tables, parse_registry, registry_problems, table
from citycarbon.units import dimension, dimensionality
from tests.table_strategies import as_text, rows, wrong_unit

REGISTRY = load_tables()
REFERENCE = [name for name, spec in REGISTRY.items() if spec.reference]


def _raw() -> dict:
    with open(data_path(REGISTRY_FILE), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# ---- the registry itself ---------------------------------------------------------------------------


def test_registry_loads_and_is_consistent():
    assert registry_problems() == []
    assert list(REGISTRY) == ["balance", "statistics", "capacity", "process_activity", "forest", "wetland",
                              "monthly", "districts", "target_values", "target_allocations",
                              # issue 16 (track)
                              "district_statistics", "district_assessment_targets"]
    for spec in REGISTRY.values():
        assert set(spec.key) <= set(spec.column_names), spec.name
        assert spec.value in spec.column_names and spec.column(spec.value).dtype == "float"
        for column in spec.columns:
            if column.codelist is not None:
                assert len(load_codelist(column.codelist)) > 0, (spec.name, column.name)
        for code, unit in spec.reference_units().items():
            assert dimensionality(unit), (spec.name, code)  # parses in the one pint registry


def test_every_reference_code_has_a_unit_and_every_file_header_is_the_registry():
    for name in [*REFERENCE, "monthly", "districts"]:
        spec = REGISTRY[name]
        header = tuple(read_csv(f"dalian/{spec.file}", nrows=0).columns)
        assert header == spec.column_names, name
        rule = spec.unit_rule
        if rule is not None and rule.by is not None:
            assert set(spec.reference_units()) == set(spec.column(rule.by).codes()), name


@pytest.mark.parametrize(("change", "names"), [
    (lambda r: r["tables"]["capacity"]["columns"][2].update(codelist="no_such_list"), ("capacity.technology",
                                                                                         "no_such_list")),
    (lambda r: r["tables"]["forest"].update(key=["year", "region", "varaible"]), ("forest", "varaible")),
    (lambda r: r["tables"]["wetland"]["columns"][3].update(dtype="decimal"), ("wetland.area", "decimal")),
    (lambda r: r["tables"]["statistics"]["columns"][0].update(lenght=4), ("statistics.year", "lenght")),
    (lambda r: r["tables"]["balance"]["columns"][5]["unit"].update(field="default_units"),
     ("balance.quantity", "default_units")),
])
def test_a_malformed_registry_names_table_and_column(change, names):
    raw = copy.deepcopy(_raw())
    change(raw)
    with pytest.raises(ValueError) as info:
        parse_registry(raw)
    assert all(name in str(info.value) for name in names), str(info.value)


def test_a_unit_that_does_not_parse_is_a_registry_problem(monkeypatch):
    spec = REGISTRY["capacity"]
    monkeypatch.setattr(type(spec), "reference_units", lambda self: {"wind_onshore": "megawatz"})
    assert any("megawatz" in p for p in registry_problems({"capacity": spec}))


def test_table_lookup_by_alias_and_unknown_name():
    assert table("energy_balance") is REGISTRY["balance"] and table("district") is REGISTRY["districts"]
    with pytest.raises(InputError) as info:
        table("statistcs")
    assert (info.value.first.field, info.value.first.suggestion) == ("table", "statistics")


def test_what_is_built_from_the_registry_says_what_the_registry_says():
    assert tuple(load_codelist("statuses").index) == STATUSES
    assert set(STATISTICS_VARIABLES) == set(load_codelist("statistics_variables").index)
    assert STATISTICS_VARIABLES["renewable_power_consumption"] == dimension("kWh")  # pint objects, not text
    for schema, spec in ((BALANCE_SCHEMA, REGISTRY["balance"]), (STATISTICS_SCHEMA, REGISTRY["statistics"])):
        assert list(schema.columns) == list(spec.column_names)
        for column in spec.columns:
            built = schema.columns[column.name]
            assert (built.nullable, built.required) == (column.nullable, not column.optional), column.name
    for name, imported in TABLES.items():
        spec = table(name)
        assert (*imported.columns, *imported.optional) == spec.column_names
        assert imported.sheet_zh == spec.sheet_zh
    assert {name: REGISTRY[name].file for name in REFERENCE} == datasets.TABLE_FILES
    for name, long in datasets.LONG_TABLES.items():
        spec = REGISTRY[name]
        assert long.columns == spec.column_names and (long.key,) == spec.dims and long.value == spec.value
        assert long.units == spec.reference_units()
    assert datasets.LONG_TABLES["forest"].upper == {"forest_coverage": 1.0}


# ---- frames drawn from the registry validate; broken ones fail naming the column ------------------------

_reference_rows = st.sampled_from(REFERENCE).flatmap(lambda name: st.tuples(st.just(name), rows(REGISTRY[name])))
_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(drawn=_reference_rows)
def test_frames_drawn_from_the_registry_validate(drawn):
    name, records = drawn
    spec = REGISTRY[name]
    frame = as_text(spec, records)
    pandera_schema(spec).validate(frame)
    checked = datasets.validate_table(name, frame, f"{spec.file}")
    assert list(checked.columns) == list(spec.column_names) and len(checked) == len(records)
    assert checked["year"].tolist() == [r["year"] for r in records]
    assert checked[spec.value].tolist() == pytest.approx([r[spec.value] for r in records])
    for column in spec.dims:
        expected = [r[column] for r in records]
        got = checked[column].tolist()
        fill = spec.column(column).fill
        assert [fill if (v is None and fill is not None) else v for v in expected] == \
            [None if pd.isna(v) else v for v in got], column


def _problems(name: str, frame: pd.DataFrame) -> list:
    with pytest.raises(InputError) as info:
        datasets.validate_table(name, frame, "broken.csv")
    return info.value.problems


@_settings
@given(drawn=_reference_rows, data=st.data())
def test_an_unknown_code_fails_naming_row_and_column(drawn, data):
    name, records = drawn
    spec = REGISTRY[name]
    coded = [c.name for c in spec.columns if c.codelist is not None and
             not (name == "balance" and c.name == "sector")]
    column = data.draw(st.sampled_from(coded))
    row = data.draw(st.integers(0, len(records) - 1))
    records[row][column] = f"zz_{records[row][column]}"
    problems = _problems(name, as_text(spec, records))
    assert any(p.field == column and p.row == row + 2 for p in problems), problems  # header: row 1


@_settings
@given(drawn=_reference_rows, data=st.data())
def test_a_unit_of_the_wrong_dimension_fails_naming_row_and_unit(drawn, data):
    name, records = drawn
    spec = REGISTRY[name]
    rule = spec.unit_rule
    row = data.draw(st.integers(0, len(records) - 1))
    records[row]["unit"] = wrong_unit(spec.reference_units()[str(records[row][rule.by])])
    problems = _problems(name, as_text(spec, records))
    assert any(p.field == "unit" and p.row == row + 2 for p in problems), problems


@_settings
@given(drawn=_reference_rows, data=st.data())
def test_a_missing_key_column_fails_naming_it(drawn, data):
    name, records = drawn
    spec = REGISTRY[name]
    column = data.draw(st.sampled_from([k for k in spec.key if not spec.column(k).optional]))
    problems = _problems(name, as_text(spec, records).drop(columns=[column]))
    assert [p.field for p in problems] == [column] and "missing column" in problems[0].message


@_settings
@given(drawn=_reference_rows)
def test_a_repeated_key_fails_naming_the_second_row(drawn):
    name, records = drawn
    spec = REGISTRY[name]
    problems = _problems(name, as_text(spec, [*records, dict(records[0])]))
    assert any(p.row == len(records) + 2 and "duplicate row" in p.message for p in problems), problems


# ---- the Excel template -------------------------------------------------------------------------------


def test_template_has_the_registry_header_notes_and_codelist_dropdowns():
    workbook = build_template()
    for name, spec in ((n, table(n)) for n in TABLES):
        sheet = workbook[spec.sheet_zh]
        header = [header_name(cell.value) for cell in sheet[1]]
        assert tuple(header) == (*spec.required_on_import, *spec.optional_on_import), name
        assert all(cell.comment is not None and spec.column(header_name(cell.value)).label_en in cell.comment.text
                   for cell in sheet[1])
        lists = {str(v.sqref).split(":")[0][0]: v.formula1 for v in sheet.data_validations.dataValidation
                 if v.type == "list"}
        for index, column in enumerate(header):
            codelist = spec.column(column).codelist
            letter = sheet.cell(row=1, column=index + 1).column_letter
            if codelist is None:
                assert letter not in lists
                continue
            first, last = lists[letter].removeprefix("=codelists!").split(":")
            values = [c.value for c in workbook["codelists"][first.replace("$", "")[0]][1:]]
            assert [v for v in values if v is not None] == spec.column(column).codes()
            assert int(last.split("$")[-1]) == len(spec.column(column).codes()) + 1


def test_template_instructions_describe_every_column_in_both_languages():
    lines = list(build_template()["说明"].iter_rows(values_only=True))
    for name in TABLES:
        spec = table(name)
        for column in (*spec.required_on_import, *spec.optional_on_import):
            zh, en = next((a, b) for a, b in lines if a and a.startswith(f"{column}: {spec.column(column).label_zh}")
                          and b.startswith(f"{column}: {spec.column(column).label_en}"))
            required = not spec.column(column).optional
            assert ("必填列" in zh) == required and ("required column" in en) == required, column
    sector = next(b for a, b in lines if b and b.startswith("sector:"))
    assert "cells may be empty" in sector and "'sectors'" in sector


def test_template_round_trip_gives_the_filled_rows_back(tmp_path):
    path = tmp_path / "filled.xlsx"
    workbook = build_template(["statistics", "energy_balance"])
    workbook["统计数据"].append([2023, "210200", "gdp", 8752.9, "10^8 CNY", None, "official", "统计公报 2023"])
    workbook["统计数据"].append([2023, "210200", "population", 753.9, "10^4 person", None, None, None])
    workbook["能源平衡表"].append([2023, "210200", "final_consumption", "steel", "raw_coal", 12.5, "10^4 t",
                                   "official", "能源平衡表 2023"])
    workbook.save(path)
    tables = read_workbook(path)
    stats = tables["statistics"]
    assert stats[["year", "region", "variable", "value", "unit"]].values.tolist() == [
        [2023, "210200", "gdp", 8752.9, "10^8 CNY"], [2023, "210200", "population", 753.9, "10^4 person"]]
    assert stats["price_base_year"].isna().all() and stats["status"].tolist()[0] == "official"
    balance = tables["energy_balance"]
    assert balance[["flow", "sector", "fuel", "quantity", "unit"]].values.tolist() == [
        ["final_consumption", "steel", "raw_coal", 12.5, "10^4 t"]]


def test_template_row_with_an_unknown_code_is_refused_naming_sheet_row_and_field(tmp_path):
    path = tmp_path / "filled.xlsx"
    workbook = build_template(["statistics"])
    workbook["统计数据"].append([2023, "210200", "gpd", 8752.9, "10^8 CNY"])
    workbook.save(path)
    with pytest.raises(InputError) as info:
        read_workbook(path)
    problem = info.value.first
    assert (problem.file, problem.row, problem.field, problem.suggestion) == (
        "filled.xlsx[统计数据]", 2, "variable", "gdp")  # the sheet's own row: its header is row 1


def test_template_only_for_importable_tables():
    with pytest.raises(InputError) as info:
        build_template(["capacty"])
    assert info.value.first.field == "table" and info.value.first.suggestion == "capacity"
    assert build_template(["statistics"]).sheetnames == ["说明", "codelists", "统计数据", "来源"]
    assert build_template(["statistics", "statistics"]).sheetnames == ["说明", "codelists", "统计数据", "来源"]


def test_cli_template_writes_the_named_tables_and_refuses_an_unknown_one(tmp_path):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from citycarbon.cli import app

    runner = CliRunner()
    out = tmp_path / "stats.xlsx"
    result = runner.invoke(app, ["template", "--out", str(out), "--table", "statistics"])
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["说明", "codelists", "统计数据", "来源"]
    refused = runner.invoke(app, ["template", "--out", str(tmp_path / "x.xlsx"), "--table", "statistcs"])
    assert refused.exit_code == 2 and "statistics" in refused.output and not (tmp_path / "x.xlsx").exists()

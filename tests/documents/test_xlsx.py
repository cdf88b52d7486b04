"""The XLSX annex: Chinese sheet names (valid, ≤ 31, unique), units in the headers, number formats, layout,
provenance sheet, same bytes twice."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from citycarbon.documents.annex import Sheet, render_xlsx, sheet_names

ENERGY = Sheet(
    name="能源消费",
    title="表1 2020—2024年能源消费总量",
    header=["年份", "能源消费总量（万吨标准煤）", "非化石能源占比（%）", "数据状态"],
    rows=[[2023, 2890.5, 0.125, "核定"], [2024, Decimal("2950.25"), None, "初步数（估算）"]],
    formats=["0", "#,##0.00", "0.0%", None],
    notes=["来源：大连市统计局《2024年能源统计年报》", "2024年为初步数。"],
)
LONG = Sheet(name="各区能源消费总量和强度控制目标完成情况（按考核口径）明细", title="表2", header=["区"],
             rows=[["中山区"]])
PROVENANCE = [("数据批次", "energy-2024-03（2025-01-02 导入）"), ("排放因子版本", "factors v2024.1"),
              ("方法版本", "accounting 3.2")]


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def _render(**kwargs):
    return render_xlsx([ENERGY, LONG, Sheet("目录", "重名", ["a"], [["x"]])], title="2024年度报告附表",
                       provenance=PROVENANCE, **kwargs)


def test_sheets_are_named_in_chinese_with_cover_and_provenance():
    book = _book(_render())
    assert book.sheetnames == ["目录", "能源消费", LONG.name[:31], "目录(2)", "数据来源与版本"]
    cover = book["目录"]
    assert cover["A1"].value == "2024年度报告附表"
    assert [cover.cell(row=2, column=c).value for c in range(1, 5)] == ["序号", "工作表", "表名", "数据行数（行）"]
    assert [cover.cell(row=r, column=2).value for r in range(3, 7)] == book.sheetnames[1:]
    assert cover["B3"].hyperlink.location == "'能源消费'!A1" or cover["B3"].hyperlink.target == "#'能源消费'!A1"
    assert cover["D3"].value == 2


def test_table_sheet_layout_units_and_number_formats():
    sheet = _book(_render())["能源消费"]
    assert sheet["A1"].value == ENERGY.title and sheet["A1"].font.b
    assert [str(cell) for cell in sheet.merged_cells.ranges] == ["A1:D1"]
    assert [cell.value for cell in sheet[2]] == ENERGY.header
    assert "（万吨标准煤）" in sheet["B2"].value
    assert all(cell.font.b and cell.alignment.wrap_text and cell.fill.fgColor.rgb.endswith("D9E1F2")
               for cell in sheet[2])
    assert sheet["A3"].value == 2023 and sheet["A3"].number_format == "0"
    assert sheet["B3"].value == 2890.5 and sheet["B3"].number_format == "#,##0.00"
    assert sheet["B4"].value == 2950.25  # Decimal written as a number
    assert sheet["C3"].number_format == "0.0%" and sheet["C4"].value is None
    assert sheet["D4"].number_format == "General"  # text keeps the general format
    assert sheet.freeze_panes == "A3"
    assert sheet["A6"].value == ENERGY.notes[0] and sheet["A7"].value == ENERGY.notes[1]
    # CJK counts double: the status column (7 CJK characters) is wider than the year column
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["A"].width
    assert sheet.column_dimensions["D"].width >= 2 * len("初步数（估算）")


def test_provenance_sheet_lists_batches_factors_and_method():
    sheet = _book(_render())["数据来源与版本"]
    assert [cell.value for cell in sheet[2]] == ["项目", "内容"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)] == [list(p) for p in PROVENANCE]


def test_same_input_same_bytes_and_dates_from_the_report():
    first = _render(day=date(2025, 1, 5))
    assert first == _render(day=date(2025, 1, 5))
    properties = _book(first).properties
    assert properties.created == datetime(2025, 1, 5) and properties.modified == datetime(2025, 1, 5)
    assert properties.title == "2024年度报告附表"
    assert _render() == _render()


def test_without_provenance_there_is_no_provenance_sheet():
    book = _book(render_xlsx([ENERGY], title="附表"))
    assert book.sheetnames == ["目录", "能源消费"]


def test_sheet_names_golden():
    assert sheet_names(["能源/消费:2024", "a" * 40, "A" * 40, "'引号'", "", "x[1]*?"]) == [
        "能源_消费_2024", "a" * 31, "A" * 28 + "(2)", "引号", "表5", "x_1___"]
    assert sheet_names(["目录"], reserved=("目录", "数据来源与版本")) == ["目录(2)"]
    assert sheet_names(["b" * 30 + "'c", "History"]) == ["b" * 30, "History_"]


def _assert_valid(names: list[str]) -> None:
    result = sheet_names(names, reserved=("目录",))
    assert len(result) == len(names)
    assert all(0 < len(name) <= 31 for name in result)
    assert all(not set(name) & set("[]:*?/\\") for name in result)
    assert all(not name.startswith("'") and not name.endswith("'") for name in result)
    lowered = [name.lower() for name in result]
    assert len(set(lowered)) == len(lowered) and "目录" not in lowered and "history" not in lowered


@given(st.lists(st.text(min_size=0, max_size=40), max_size=12))
def test_sheet_names_are_valid_and_unique(names):
    _assert_valid(names)


@given(st.lists(st.text(alphabet="ab'[/ 目录", max_size=40), max_size=8))
def test_sheet_names_are_valid_and_unique_near_the_edges(names):
    _assert_valid(names)

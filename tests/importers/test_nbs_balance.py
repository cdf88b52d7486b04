"""The energy balance in the statistics bureau's layout (地区能源平衡表(实物量)): a small hand-made table as CSV and
XLSX, read by read_table / read_workbook (layout detected) into the long format written out here by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook

from citycarbon.errors import InputError
from citycarbon.importers import read_table, read_workbook
from citycarbon.importers.nbs_balance import layout, normalise_label

NBS_ROWS = [
    ["2023年大连市能源平衡表(实物量)", "", "", "", "", ""],
    ["项  目", "原煤(万吨)", "天然气(亿立方米)", "电力(亿千瓦小时)", "润滑油(万吨)", "石蜡(万吨)"],
    ["一、一次能源生产量", "10", "", "", "", ""],
    ["外省(区、市)调入量", "200", "3", "50", "1", "0.5"],
    ["本省(区、市)调出量(-)", "-20", "", "-10", "", ""],
    ["库存增(-)减(+)量", "-2", "", "", "", ""],
    ["能源加工转换投入(-)产出(+)量", "-150", "-1", "40", "", ""],
    ["  火力发电", "-120", "-1", "40", "", ""],
    ["  供热", "-30", "", "", "", ""],
    ["损失量", "1", "0.1", "2", "", ""],
    ["终端消费量", "37", "1.9", "78", "1", "0.5"],
    ["  农、林、牧、渔业", "1", "", "2", "", ""],
    ["  工业", "30", "1", "60", "1", "0.5"],
    ["    其中：用作原料、材料", "5", "", "", "", ""],
    ["  交通运输、仓储和邮政业", "", "0.4", "6", "", ""],
    ["  居民生活", "6", "0.5", "10", "", ""],
    ["    城镇", "4", "0.4", "7", "", ""],
    ["    乡村", "2", "0.1", "3", "", ""],
]

#: the long form, by hand: totals and 其中 rows left out, transformation split by sign, outflow positive,
#: 润滑油 and 石蜡 added as other_petroleum_products (both 万吨)
LONG = [
    ("production", None, "raw_coal", 10.0, "10^4 t"),
    ("inflow", None, "raw_coal", 200.0, "10^4 t"),
    ("inflow", None, "natural_gas", 3.0, "10^8 m3"),
    ("inflow", None, "electricity", 50.0, "10^8 kWh"),
    ("inflow", None, "other_petroleum_products", 1.5, "10^4 t"),
    ("outflow", None, "raw_coal", 20.0, "10^4 t"),
    ("outflow", None, "electricity", 10.0, "10^8 kWh"),
    ("stock_change", None, "raw_coal", -2.0, "10^4 t"),
    ("transformation_input", "power", "raw_coal", 120.0, "10^4 t"),
    ("transformation_input", "power", "natural_gas", 1.0, "10^8 m3"),
    ("transformation_output", "power", "electricity", 40.0, "10^8 kWh"),
    ("transformation_input", "heat_supply", "raw_coal", 30.0, "10^4 t"),
    ("losses", None, "raw_coal", 1.0, "10^4 t"),
    ("losses", None, "natural_gas", 0.1, "10^8 m3"),
    ("losses", None, "electricity", 2.0, "10^8 kWh"),
    ("final_consumption", "agriculture", "raw_coal", 1.0, "10^4 t"),
    ("final_consumption", "agriculture", "electricity", 2.0, "10^8 kWh"),
    ("final_consumption", "industry", "raw_coal", 30.0, "10^4 t"),
    ("final_consumption", "industry", "natural_gas", 1.0, "10^8 m3"),
    ("final_consumption", "industry", "electricity", 60.0, "10^8 kWh"),
    ("final_consumption", "industry", "other_petroleum_products", 1.5, "10^4 t"),
    ("final_consumption", "transport", "natural_gas", 0.4, "10^8 m3"),
    ("final_consumption", "transport", "electricity", 6.0, "10^8 kWh"),
    ("final_consumption", "residential", "raw_coal", 6.0, "10^4 t"),
    ("final_consumption", "residential", "natural_gas", 0.5, "10^8 m3"),
    ("final_consumption", "residential", "electricity", 10.0, "10^8 kWh"),
]


def _long(frame: pd.DataFrame) -> set[tuple]:
    assert set(frame["year"]) == {2023} and set(frame["region"]) == {"210200"}
    return {(r.flow, None if pd.isna(r.sector) or r.sector == "" else r.sector, r.fuel, round(float(r.quantity), 9),
             r.unit) for r in frame.itertuples()}


def _csv(tmp_path, rows, name="平衡表.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join(",".join(f'"{c}"' if "," in c else c for c in row) for row in rows) + "\n",
                    encoding=encoding)
    return path


def _xlsx(tmp_path, rows, name="平衡表.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "能源平衡表(实物量)"
    for row in rows:
        sheet.append([float(c) if c.replace("-", "", 1).replace(".", "", 1).isdigit() else (c or None)
                      for c in row])
    path = tmp_path / name
    workbook.save(path)
    return path


def test_the_nbs_layout_in_csv_reads_as_the_long_balance(tmp_path):
    name, frame = read_table(_csv(tmp_path, NBS_ROWS))
    assert name == "energy_balance"
    assert _long(frame) == set(LONG) and len(frame) == len(LONG)


def test_the_nbs_layout_in_gbk_csv_reads_the_same(tmp_path):
    _, frame = read_table(_csv(tmp_path, NBS_ROWS, encoding="gb18030"))
    assert _long(frame) == set(LONG)


def test_the_nbs_layout_in_xlsx_reads_as_the_long_balance(tmp_path):
    path = _xlsx(tmp_path, NBS_ROWS)
    assert _long(read_workbook(path)["energy_balance"]) == set(LONG)
    name, frame = read_table(path)
    assert name == "energy_balance" and _long(frame) == set(LONG)


def test_an_unknown_row_is_named_by_its_sheet_row_with_the_nearest_label(tmp_path):
    rows = [*NBS_ROWS[:3], ["外省调入", "1", "", "", "", ""], *NBS_ROWS[4:]]
    with pytest.raises(InputError) as caught:
        read_table(_csv(tmp_path, rows))
    problem = caught.value.first
    assert problem.row == 4 and problem.field == "项目" and problem.suggestion == normalise_label("外省调入量")


def test_an_unknown_fuel_column_or_a_title_without_a_year_is_refused(tmp_path):
    rows = [row[:] for row in NBS_ROWS]
    rows[1][5] = "石腊(万吨)"
    with pytest.raises(InputError) as caught:
        read_table(_csv(tmp_path, rows))
    assert caught.value.first.row == 2 and caught.value.first.suggestion == "石蜡"
    untitled = [["大连市能源平衡表", "", "", "", "", ""], *NBS_ROWS[1:]]
    with pytest.raises(InputError) as caught:
        read_table(_csv(tmp_path, untitled, "untitled.csv"))
    assert caught.value.first.field == "year"


def test_a_row_without_a_flow_yet_is_refused_only_when_it_holds_a_value(tmp_path):
    rows = [*NBS_ROWS, ["回收能", "", "", "3", "", ""]]
    with pytest.raises(InputError) as caught:
        read_table(_csv(tmp_path, rows))
    assert caught.value.first.row == len(rows) and caught.value.first.field == "电力(亿千瓦小时)"
    _, frame = read_table(_csv(tmp_path, [*NBS_ROWS, ["回收能", "0", "", "", "", ""]], "zero.csv"))
    assert _long(frame) == set(LONG)


def test_every_mapped_code_is_in_its_codelist():
    from citycarbon.codelists import codes

    mapping = layout()
    assert set(mapping.fuels.values()) <= set(codes("fuels"))
    assert {r.flow for r in mapping.rows.values() if r.flow and r.flow != "transformation"} <= set(codes("flows"))
    assert {r.sector for r in mapping.rows.values() if r.sector} <= set(codes("sectors"))

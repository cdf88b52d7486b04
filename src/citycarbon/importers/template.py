"""The Excel import template: one sheet per table, a 说明 (instructions) sheet, a sources sheet and
drop-down validation from the codelists. openpyxl writes values only (no formulas to read back)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from citycarbon.codelists import load_codelist
from citycarbon.importers.schemas import STATISTICS_VARIABLES, STATUSES
from citycarbon.importers.tables import TABLES

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

_INSTRUCTIONS = [
    ("citycarbon 数据导入模板 / import template", ""),
    ("", ""),
    ("每张表一行一条记录(长表格式)。", "One record per row (long format)."),
    ("能源平衡表: 实物量, 每行注明单位, 例如 10^4 t, 10^4 m3, 10^4 kWh, GJ, tce。",
     "Energy balance: physical quantities with their unit on every row."),
    ("流向(flow)、部门(sector)、品种(fuel) 从下拉列表选择; 一次电力只用 production 流向。",
     "Choose flow, sector and fuel from the drop-downs; primary electricity only as 'production'."),
    ("net_inflow 与 stock_change 可为负数, 其余数量不得为负。",
     "Only net_inflow and stock_change may be negative."),
    ("统计数据: gdp 的 price_base_year 为空表示当年价, 填年份表示该年不变价。",
     "Statistics: empty price_base_year = current prices; a year = constant prices of that year."),
    ("status: official(官方) / secondary(二手来源) / unverified(未核实) / estimate(估算)。", ""),
    ("导入时整表校验, 有任何错误则整体不导入, 错误信息注明工作表、行号与字段。",
     "The whole workbook is validated; any error rejects it whole, naming sheet, row and field."),
]


def write_template(path: str | Path) -> Path:
    """Write the import template to ``path`` (.xlsx) and return the path."""
    path = Path(path)
    workbook = Workbook()
    info = workbook.active
    info.title = "说明"
    for row in _INSTRUCTIONS:
        info.append(list(row))
    info["A1"].font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 80
    info.column_dimensions["B"].width = 80

    lists = workbook.create_sheet("codelists")
    columns = {
        "flow": list(load_codelist("flows").index),
        "sector": list(load_codelist("sectors").index),
        "fuel": list(load_codelist("fuels").index),
        "region": list(load_codelist("regions").index),
        "status": list(STATUSES),
        "variable": list(STATISTICS_VARIABLES),
    }
    ranges: dict[str, str] = {}
    for col_index, (name, values) in enumerate(columns.items(), start=1):
        letter = lists.cell(row=1, column=col_index).column_letter
        lists.cell(row=1, column=col_index, value=name).font = Font(bold=True)
        for row_index, value in enumerate(values, start=2):
            lists.cell(row=row_index, column=col_index, value=str(value))
        ranges[name] = f"codelists!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"

    for spec in TABLES.values():
        sheet = workbook.create_sheet(spec.sheet_zh)
        header = list(spec.columns) + list(spec.optional)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            sheet.column_dimensions[cell.column_letter].width = 16
        for col_index, name in enumerate(header, start=1):
            if name in ranges:
                letter = sheet.cell(row=1, column=col_index).column_letter
                validation = DataValidation(type="list", formula1=f"={ranges[name]}", allow_blank=True,
                                            showErrorMessage=True, errorTitle="无效值 / invalid value",
                                            error=f"请从下拉列表选择 {name} / choose a valid {name}")
                validation.add(f"{letter}2:{letter}5000")
                sheet.add_data_validation(validation)
        sheet.freeze_panes = "A2"

    sources = workbook.create_sheet("sources")
    sources.append(["source_id", "citation", "document", "url", "notes"])
    for cell in sources[1]:
        cell.font = Font(bold=True)
    workbook.save(path)
    return path

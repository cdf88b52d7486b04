"""The Excel import template: one sheet per importable table of the registry (``data/tables.yaml``), a 说明
(instructions) sheet, a 来源 (sources) sheet, a note on every header cell, the reference units in the value
column's header (``capacity (MW)``: the readers take the name before the parentheses) and drop-down
validation from the codelists. openpyxl writes values only (no formulas to read back)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.tables import Column, Table, import_tables, table

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
    ("status: official(官方) / secondary(二手来源) / unverified(未核实) / reported(报送) / estimate(估算)。",
     "status: official / secondary / unverified / reported / estimate."),
    ("表头括号内为参考单位, 仅作提示; 每行的单位写在 unit 列。",
     "The units in brackets in a header are the reference units, a hint only; each row names its unit in "
     "'unit'."),
    ("导入默认只替换文件中出现的键(年份、地区、指标等)的数值; 替换整年须选择 years 模式, 预览列出将关闭的每一行。",
     "By default an import replaces only the values whose keys the file holds; replacing whole years is the "
     "'years' mode, and the preview lists every value it would close."),
    ("能源平衡表也可按统计局发布的格式上传(地区能源平衡表(实物量): 标题写明年份和地区, 品种为列、单位在表头)。",
     "The energy balance may also be uploaded in the statistics bureau's layout (year and region in the title, "
     "fuels as columns with their units)."),
    ("在 来源 表登记每个来源(文件、文号、网址), 并在各表的 source 列引用。",
     "Record each source (document, number, URL) on the 来源 sheet and cite it in each table's 'source' column."),
    ("导入时整表校验, 有任何错误则整体不导入, 错误信息注明工作表、行号与字段。",
     "The whole workbook is validated; any error rejects it whole, naming sheet, row and field."),
]


def _note(spec: Table, column: Column) -> str:
    """The header note of one column: its label, whether it is required, its codelist or unit rule."""
    lines = [f"{column.label_zh} / {column.label_en}" if column.label_zh else column.name,
             "可不填此列 / optional column" if column.optional else "必填列 / required column"]
    if column.nullable and not column.optional:
        lines.append("单元格可留空 / cells may be empty")
    if column.codelist:
        lines.append(f"从下拉列表选择 / choose from codelist '{column.codelist}'")
    if column.range:
        lines.append(f"整数 {column.range[0]}–{column.range[1]} / whole number {column.range[0]}–{column.range[1]}")
    rule = column.unit
    if rule is not None:
        if rule.by:
            examples = ", ".join(sorted(set(spec.reference_units().values()))[:6])
            lines.append(f"单位写在 {rule.column} 列, 量纲须与该 {rule.by} 的参考单位一致 (如 {examples}) / "
                         f"unit in column '{rule.column}', of the dimension of the {rule.by}'s reference unit")
        if column.nonnegative:
            lines.append("不得为负 / not negative")
    return "\n".join(lines)


SOURCES_SHEET = "来源"


def header(spec: Table, column: Column) -> str:
    """The header cell of a column: its name, and for the value column the reference units in brackets
    (``capacity (MW)``, ``quantity (见 unit 列 / see unit)`` when the codes have many)."""
    if column.name != spec.value or column.unit is None:
        return column.name
    units = sorted(set(spec.reference_units().values()))
    if not units or len(units) > 3:
        return f"{column.name} (单位见 {column.unit.column} 列 / unit in '{column.unit.column}')"
    return f"{column.name} ({' | '.join(units)})"


def build_template(tables: Iterable[str] | None = None) -> Workbook:
    """The import template as an openpyxl workbook: a 说明 sheet, one sheet per importable table of the
    registry (``data/tables.yaml``; all of them by default, or those named by import name or table name) with
    its header row, a note per header cell and drop-downs from the codelists, and a 来源 (sources) sheet.

    Only values are written: the header row is the first row, so a filled-in sheet imports as it is.
    """
    importable = import_tables()
    chosen = list(importable.values()) if tables is None else list({table(n).name: table(n) for n in tables}.values())
    for spec in chosen:
        if spec.import_name is None:
            raise InputError(Problem(f"table '{spec.name}' cannot be imported", field="table", value=spec.name,
                                     suggestion=nearest(spec.name, list(importable))))
    workbook = Workbook()
    info = workbook.active
    info.title = "说明"
    for row in _INSTRUCTIONS:
        info.append(list(row))
    info["A1"].font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 80
    info.column_dimensions["B"].width = 80
    for spec in chosen:  # one line per column: what it holds, whether it is required, its codelist or unit
        info.append([])
        info.append([f"{spec.sheet_zh}: {spec.title_zh}", f"{spec.import_name}: {spec.title_en}"])
        info.cell(row=info.max_row, column=1).font = Font(bold=True)
        info.cell(row=info.max_row, column=2).font = Font(bold=True)
        for name in (*spec.required_on_import, *spec.optional_on_import):
            note = _note(spec, spec.column(name)).split("\n")
            info.append([f"{name}: {'; '.join(line.split(' / ')[0] for line in note)}",
                         f"{name}: {'; '.join(line.split(' / ')[-1] for line in note)}"])

    lists = workbook.create_sheet("codelists")
    codelists = {column.codelist: column.codes() for spec in chosen for column in spec.columns if column.codelist}
    ranges: dict[str, str] = {}
    for col_index, (name, values) in enumerate(codelists.items(), start=1):
        letter = lists.cell(row=1, column=col_index).column_letter
        lists.cell(row=1, column=col_index, value=name).font = Font(bold=True)
        for row_index, value in enumerate(values, start=2):
            lists.cell(row=row_index, column=col_index, value=str(value))
        ranges[name] = f"codelists!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"

    for spec in chosen:
        sheet = workbook.create_sheet(spec.sheet_zh or spec.import_name or spec.name)
        columns = [spec.column(name) for name in (*spec.required_on_import, *spec.optional_on_import)]
        sheet.append([header(spec, column) for column in columns])
        for col_index, column in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=col_index)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.comment = Comment(_note(spec, column), "citycarbon", width=360, height=120)
            letter = cell.column_letter
            sheet.column_dimensions[letter].width = 16
            if column.codelist in ranges:
                validation = DataValidation(type="list", formula1=f"={ranges[column.codelist]}", allow_blank=True,
                                            showErrorMessage=True, errorTitle="无效值 / invalid value",
                                            error=f"请从下拉列表选择 {column.name} / choose a valid {column.name}")
            elif column.range:
                validation = DataValidation(type="whole", operator="between", formula1=str(column.range[0]),
                                            formula2=str(column.range[1]), allow_blank=True,
                                            showErrorMessage=True, errorTitle="无效值 / invalid value",
                                            error=f"{column.name}: {column.range[0]}–{column.range[1]}")
            else:
                continue
            validation.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(validation)
        sheet.freeze_panes = "A2"

    sources = workbook.create_sheet(SOURCES_SHEET)
    sources.append(["source_id", "citation", "document", "url", "notes"])
    for cell in sources[1]:
        cell.font = Font(bold=True)
    return workbook


def write_template(path: str | Path, tables: Iterable[str] | None = None) -> Path:
    """Write the import template (:func:`build_template`) to ``path`` (.xlsx) and return the path."""
    path = Path(path)
    build_template(tables).save(path)
    return path

"""The energy balance in the layout the statistics bureau publishes it: 地区能源平衡表(实物量).

As in the 中国能源统计年鉴 (and the provincial and city yearbooks): a title naming the year and the region
(``2023年大连市能源平衡表(实物量)``), a header row ``项目 | 原煤(万吨) | 焦炭(万吨) | … | 电力(亿千瓦小时)``
(fuels as columns, the unit of each in its heading), then one row per item: supply (一次能源生产量,
外省(区、市)调入量, 调出量(-), 进口量, 出口量(-), 库存增(-)减(+)量), 加工转换投入(-)产出(+)量 by transformation
(火力发电, 供热, 炼焦, 炼油及煤制油 …: inputs printed negative, outputs positive), 损失量, 终端消费量 by sector
(农、林、牧、渔业, 工业, 建筑业, 交通运输、仓储和邮政业, 批发和零售业、住宿和餐饮业, 其他, 居民生活).

:func:`looks_like_nbs` tells this layout from the long format; :func:`nbs_to_long` converts it to the long
format's columns (``year, region, flow, sector, fuel, quantity, unit``), which
:func:`citycarbon.importers.validate_balance` then checks as any balance. Every Chinese row, column and unit
name is mapped by the data file ``data/nbs/energy_balance_layout.csv`` (none is written in this code):
totals and 其中 memo rows are skipped, transformation rows split by sign into input and output, 调出/出口
(printed negative) stored positive, several columns of one fuel code (润滑油, 石蜡 … → other_petroleum_products)
added. Problems name the file, the sheet's own row number (as a spreadsheet shows it) and the column heading.

Pure: reads shipped data files only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from citycarbon.codelists import load_codelist, nearest
from citycarbon.data import read_csv
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.units import conversion_factor

__all__ = ["LAYOUT_FILE", "Layout", "layout", "looks_like_nbs", "nbs_to_long", "normalise_label"]

LAYOUT_FILE = "nbs/energy_balance_layout.csv"
_BLANKS = {"", "-", "—", "--", "－", "…", "nan", "None"}
_HEADING = re.compile(r"^(?P<name>[^(]+?)\s*(?:\((?P<unit>[^)]*)\))?$")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_NUMBERING = re.compile(r"^(?:\d+[.、]|[一二三四五六七八九十]+[、.]|\(\d+\)|\([一二三四五六七八九十]+\))")


def normalise_label(text: object) -> str:
    """A row or column label as the layout file spells it: no spaces, ASCII brackets and minus, without a
    leading ``其中:`` or numbering (``1.``, ``一、``, ``(1)``)."""
    value = "" if text is None else str(text)
    for wide, narrow in (("（", "("), ("）", ")"), ("：", ":"), ("－", "-"), ("−", "-"), ("—", "-"), ("，", ",")):
        value = value.replace(wide, narrow)
    value = re.sub(r"\s+", "", value)
    value = re.sub(r"^其中:?", "", value)
    return _NUMBERING.sub("", value)


@dataclass(frozen=True)
class RowRule:
    flow: str
    sector: str
    action: str  # as_is | abs | split | skip | unsupported | header


@dataclass(frozen=True)
class Layout:
    """The layout file, read: row label → rule, fuel heading → fuel code, unit text → unit."""

    rows: dict[str, RowRule]
    fuels: dict[str, str]
    units: dict[str, str]


@cache
def layout() -> Layout:
    """The mapping of ``data/nbs/energy_balance_layout.csv`` (cached)."""
    frame = read_csv(LAYOUT_FILE, dtype=str).fillna("")
    rows = {normalise_label(r.label_zh): RowRule(r.flow, r.sector, r.action)
            for r in frame[frame["kind"] == "row"].itertuples(index=False)}
    fuels = {normalise_label(r.label_zh): r.code for r in frame[frame["kind"] == "fuel"].itertuples(index=False)}
    units = {normalise_label(r.label_zh): r.code for r in frame[frame["kind"] == "unit"].itertuples(index=False)}
    return Layout(rows, fuels, units)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _heading(text: str) -> tuple[str, str | None]:
    """``原煤(万吨)`` → (``原煤``, ``万吨``)."""
    match = _HEADING.match(normalise_label(text))
    if match is None:
        return normalise_label(text), None
    return match.group("name"), match.group("unit")


def _header_row(rows: list[list[str]]) -> int | None:
    """The index of the header row: the first row with at least two cells that are fuel headings."""
    fuels = layout().fuels
    for index, row in enumerate(rows[:30]):
        if sum(1 for cell in row[1:] if cell and _heading(cell)[0] in fuels) >= 2:
            return index
    return None


def looks_like_nbs(rows: list[list[object]]) -> bool:
    """Whether a sheet (its cells as rows, no header taken) is in the NBS layout: a row of fuel headings."""
    return _header_row([[_cell(c) for c in row] for row in rows[:30]]) is not None


def _year_and_region(title: str, source: str) -> tuple[int, str]:
    regions = load_codelist("regions")
    years = _YEAR.findall(title)
    names = sorted(((str(name), str(code)) for code, name in regions["name_zh"].items()
                    if str(name) and str(name) in title), key=lambda pair: -len(pair[0]))
    problems = Problems()
    if not years:
        problems.add("表头上方的标题须写明年份（如“2023年大连市能源平衡表(实物量)”） / the title above the table "
                     "names no year (e.g. '2023 ... energy balance')", file=source, field="year")
    if not names:
        problems.add("表头上方的标题须写明地区（如“2023年大连市能源平衡表(实物量)”） / the title above the table "
                     "names no region of data/codelists/regions.csv by its Chinese name",
                     file=source, field="region")
    problems.raise_if_any()
    return int(years[0]), names[0][1]


def _number(text: str) -> float | None:
    value = text.replace(",", "").replace(" ", "")
    if value in _BLANKS:
        return None
    return float(value)


def nbs_to_long(rows: list[list[object]], source: str, *, year: int | None = None,
                region: str | None = None) -> pd.DataFrame:
    """Convert a sheet in the NBS layout (its cells as rows, the first row being the sheet's row 1) to the long
    energy balance (text columns, as a CSV gives them, for :func:`~citycarbon.importers.validate_balance`).

    The year and the region come from the title lines above the header (or ``year``/``region``). Blank and
    ``-`` cells are no value; ``0`` is a value. :class:`InputError` names the row (as the sheet numbers it)
    and the column for an unknown row label, fuel heading or unit, a value that is not a number, or a
    non-zero value in a row the long format has no flow for yet.
    """
    cells = [[_cell(c) for c in row] for row in rows]
    header = _header_row(cells)
    if header is None:
        raise InputError(Problem("未找到能源品种表头行（如“项目, 原煤(万吨), 焦炭(万吨), …”） / no header row of fuels "
                                 "with their units (see docs/imports.md)", file=source))
    title = " ".join(cell for row in cells[:header] for cell in row if cell)
    if year is None or region is None:
        found_year, found_region = _year_and_region(title, source)
        year = found_year if year is None else year
        region = found_region if region is None else region
    rules = layout()
    fuel_codes = set(str(code) for code in load_codelist("fuels").index)
    problems = Problems()
    columns: dict[int, tuple[str, str, str]] = {}  # column index -> (heading, fuel, unit)
    for index, text in enumerate(cells[header]):
        if index == 0 or not text:
            continue
        name, unit_text = _heading(text)
        fuel = rules.fuels.get(name) or (name if name in fuel_codes else None)
        if fuel is None:
            problems.add(f"未知能源品种列“{text}” / unknown fuel column (see data/{LAYOUT_FILE})", file=source,
                         row=header + 1,
                         field=text, value=text, suggestion=nearest(name, list(rules.fuels)))
            continue
        unit = None if unit_text is None else rules.units.get(unit_text, unit_text if unit_text else None)
        if unit is None:
            problems.add(f"列“{text}”未注明单位（如“原煤(万吨)”） / the column names no unit in brackets",
                         file=source, row=header + 1,
                         field=text, value=text)
            continue
        columns[index] = (text, fuel, unit)
    problems.raise_if_any()
    sums: dict[tuple[str, str, str], list] = {}  # (flow, sector, fuel) -> [quantity, unit, first row]
    for position in range(header + 1, len(cells)):
        row = cells[position]
        if not any(row):
            continue
        label = normalise_label(row[0] if row else "")
        line = position + 1
        rule = rules.rows.get(label)
        if rule is None:
            if not label:
                continue
            problems.add(f"未知行“{row[0]}” / unknown row label (see data/{LAYOUT_FILE})", file=source, row=line,
                         field="项目",
                         value=row[0], suggestion=nearest(label, list(rules.rows)))
            continue
        if rule.action in ("skip", "header"):
            continue
        for index, (heading, fuel, unit) in columns.items():
            text = row[index] if index < len(row) else ""
            try:
                value = _number(text)
            except ValueError:
                problems.add(f"“{text}”不是数值 / the cell is not a number", file=source, row=line, field=heading,
                             value=text)
                continue
            if value is None:
                continue
            if rule.action == "unsupported":
                if value != 0:
                    problems.add(f"“{row[0]}”行暂无对应流向，请填 0 或留空 / this row has no flow in the long "
                                 "format yet; enter it as 0 or leave it blank", file=source, row=line, field=heading,
                                 value=text)
                continue
            if rule.action == "split":
                if value == 0:
                    continue
                flow = "transformation_input" if value < 0 else "transformation_output"
                quantity = abs(value)
            else:
                flow, quantity = rule.flow, abs(value) if rule.action == "abs" else value
            key = (flow, rule.sector, fuel)
            if key in sums:
                sums[key][0] += quantity * conversion_factor(unit, sums[key][1])
            else:
                sums[key] = [quantity, unit, line]
    problems.raise_if_any()
    records = [{"year": str(year), "region": str(region), "flow": flow, "sector": sector, "fuel": fuel,
                "quantity": repr(float(quantity)), "unit": unit}
               for (flow, sector, fuel), (quantity, unit, _line) in sorted(sums.items(), key=lambda kv: kv[1][2])]
    if not records:
        raise InputError(Problem("表中没有数值 / the table holds no value", file=source))
    return pd.DataFrame.from_records(records, columns=["year", "region", "flow", "sector", "fuel", "quantity",
                                                       "unit"])

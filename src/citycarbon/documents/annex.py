"""The XLSX annex of a report: every table of the report on its own sheet (Chinese sheet names, units in the
headers, numbers kept as numbers with a number format), plus a provenance sheet.

The content model is :class:`Sheet`; the renderer (openpyxl) is :func:`render_xlsx` (issue 16).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from citycarbon.documents.ooxml import stable_zip

__all__ = ["Sheet", "render_xlsx", "sheet_names"]

_COVER = "目录"
_PROVENANCE = "数据来源与版本"


@dataclass(frozen=True)
class Sheet:
    """One table of the annex.

    ``name``: the sheet's Chinese name (≤ 31 characters, no ``[]:*?/\\``); ``title``: the table's title (first
    row); ``header``: column headers with their units (``能源消费量（万吨标准煤）``); ``rows``: values (numbers stay
    numbers, None is an empty cell); ``formats``: an Excel number format per column (``"0.00"``, ``"0.0%"``,
    ``"#,##0"``; None: general); ``notes``: lines under the table (sources, statuses)."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    formats: list[str | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = "D9E1F2"
_TITLE_ROW = 1
_HEADER_ROW = 2


def _text_width(value: Any) -> float:
    """Display width of a cell's text in Excel character units: CJK and full-width characters count two."""
    text = "" if value is None else str(value)
    longest = 0.0
    for line in text.splitlines() or [""]:
        width = sum(2.0 if unicodedata.east_asian_width(char) in "WF" else 1.0 for char in line)
        longest = max(longest, width)
    return longest


def sheet_names(names: list[str], reserved: tuple[str, ...] = ()) -> list[str]:
    """Valid, unique sheet names in order: forbidden characters ``[]:*?/\\`` replaced, leading/trailing
    apostrophes removed, at most 31 characters, Excel's reserved ``History`` avoided, duplicates
    (case-insensitive, as Excel compares them) numbered ``名称(2)``; an empty name becomes ``表N``.
    ``reserved``: names already taken (the cover sheets)."""
    taken = {name.lower() for name in reserved}
    result: list[str] = []
    for index, raw in enumerate(names, start=1):
        name = _FORBIDDEN.sub("_", str(raw))
        while name != (trimmed := name.strip().strip("'")[:31]):
            name = trimmed
        name = name or f"表{index}"
        if name.lower() == "history":  # reserved by Excel
            name = f"{name}_"
        candidate = name
        counter = 2
        while candidate.lower() in taken:
            suffix = f"({counter})"
            candidate = name[: 31 - len(suffix)] + suffix
            counter += 1
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _fit_columns(worksheet: Any, widths: dict[int, float]) -> None:
    from openpyxl.utils import get_column_letter

    for column, width in sorted(widths.items()):
        worksheet.column_dimensions[get_column_letter(column)].width = round(min(max(width + 2, 8), 60), 1)


def _write_sheet(workbook: Any, name: str, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    worksheet = workbook.create_sheet(name)
    columns = max(len(sheet.header), max((len(row) for row in sheet.rows), default=0), 1)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    worksheet.cell(row=_TITLE_ROW, column=1, value=sheet.title).font = Font(bold=True, size=14)
    worksheet.cell(row=_TITLE_ROW, column=1).alignment = Alignment(horizontal="center", vertical="center")
    if columns > 1:
        worksheet.merge_cells(start_row=_TITLE_ROW, start_column=1, end_row=_TITLE_ROW, end_column=columns)
    worksheet.row_dimensions[_TITLE_ROW].height = 24
    widths: dict[int, float] = {}
    for column, text in enumerate(sheet.header, start=1):
        cell = worksheet.cell(row=_HEADER_ROW, column=column, value=text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color=_HEADER_FILL, end_color=_HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
        # headers wrap: fit to about half the header (two lines) or the widest value, whichever is wider
        widths[column] = max(widths.get(column, 0), min(_text_width(text), max(_text_width(text) / 2, 10)))
    for offset, values in enumerate(sheet.rows):
        row = _HEADER_ROW + 1 + offset
        for column, value in enumerate(values, start=1):
            cell = worksheet.cell(row=row, column=column, value=value)
            cell.border = border
            number_format = sheet.formats[column - 1] if column - 1 < len(sheet.formats) else None
            if number_format and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                cell.number_format = number_format
            if isinstance(value, str):
                cell.alignment = Alignment(vertical="center", wrap_text=_text_width(value) > 60)
            shown = value if not isinstance(value, float) else f"{value:,.4f}".rstrip("0").rstrip(".")
            widths[column] = max(widths.get(column, 0), _text_width(shown))
    # number formats also on the column's empty/text cells is not needed; Excel keeps them per cell
    note_row = _HEADER_ROW + len(sheet.rows) + 2
    for index, note in enumerate(sheet.notes):
        cell = worksheet.cell(row=note_row + index, column=1, value=note)
        cell.font = Font(italic=True, color="595959")
    _fit_columns(worksheet, widths)
    worksheet.freeze_panes = worksheet.cell(row=_HEADER_ROW + 1, column=1).coordinate
    if sheet.header:
        from openpyxl.utils import get_column_letter

        last = get_column_letter(len(sheet.header))
        worksheet.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
        worksheet.print_area = f"A1:{last}{max(_HEADER_ROW + len(sheet.rows), _HEADER_ROW)}"
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    worksheet.page_setup.orientation = "landscape" if columns > 6 else "portrait"
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True


def render_xlsx(sheets: list[Sheet], *, title: str, provenance: list[tuple[str, str]] | None = None,
                day: date | None = None) -> bytes:
    """The annex as XLSX bytes: a 目录 sheet (the title and every sheet with its table title and row count), one
    sheet per :class:`Sheet`, and a 数据来源与版本 sheet (``provenance``: (项目, 内容) pairs, e.g. data batches,
    factor versions, method version).

    Deterministic: the workbook's created/modified dates are ``day`` (default 2000-01-01, never the clock) and
    the zip entries carry a fixed timestamp, so the same input gives the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    moment = datetime.combine(day or date(2000, 1, 1), datetime.min.time())
    workbook = Workbook()
    cover = workbook.active
    cover.title = _COVER
    names = sheet_names([sheet.name for sheet in sheets], reserved=(_COVER, _PROVENANCE))
    cover.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    cover.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    fill = PatternFill("solid", start_color=_HEADER_FILL, end_color=_HEADER_FILL)
    for column, text in enumerate(("序号", "工作表", "表名", "数据行数（行）"), start=1):
        cell = cover.cell(row=2, column=column, value=text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths: dict[int, float] = {1: 6, 2: 10, 3: 10, 4: 14}
    entries = [*zip(names, [sheet.title for sheet in sheets], [len(sheet.rows) for sheet in sheets], strict=True)]
    if provenance is not None:
        entries.append((_PROVENANCE, "数据来源、因子版本与方法版本", len(provenance)))
    for index, (name, table_title, count) in enumerate(entries, start=1):
        cover.cell(row=2 + index, column=1, value=index)
        link = cover.cell(row=2 + index, column=2, value=name)
        link.hyperlink = f"#'{name}'!A1"
        link.font = Font(color="0563C1", underline="single")
        cover.cell(row=2 + index, column=3, value=table_title)
        cover.cell(row=2 + index, column=4, value=count).number_format = "0"
        widths[2] = max(widths[2], _text_width(name))
        widths[3] = max(widths[3], _text_width(table_title))
    _fit_columns(cover, widths)
    cover.freeze_panes = "A3"
    for name, sheet in zip(names, sheets, strict=True):
        _write_sheet(workbook, name, sheet)
    if provenance is not None:
        _write_sheet(workbook, _PROVENANCE, Sheet(name=_PROVENANCE, title="数据来源与版本", header=["项目", "内容"],
                                                  rows=[[key, value] for key, value in provenance]))
    properties = workbook.properties
    properties.title = title
    properties.creator = "citycarbon"
    properties.lastModifiedBy = "citycarbon"
    properties.created = moment
    properties.modified = moment
    properties.language = "zh-CN"
    raw = io.BytesIO()
    workbook.save(raw)
    return stable_zip(raw.getvalue(), moment)

"""Read statistical tables from CSV or from the Excel template, validated at the boundary."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citycarbon.data import read_csv_file
from citycarbon.errors import InputError, Problem
from citycarbon.importers.generic import registry_validator
from citycarbon.importers.schemas import (
    BALANCE_COLUMNS,
    STATISTICS_COLUMNS,
    validate_balance,
    validate_statistics,
)
from citycarbon.tables import import_tables


@dataclass(frozen=True)
class TableSpec:
    name: str
    sheet_zh: str
    title_zh: str
    title_en: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    validate: Callable[[pd.DataFrame, str], pd.DataFrame]


#: the validator of each importable table (its columns, names and sheet come from the table registry)
_VALIDATORS: dict[str, Callable[[pd.DataFrame, str], pd.DataFrame]] = {
    "energy_balance": validate_balance,
    "statistics": validate_statistics,
}
TABLES: dict[str, TableSpec] = {
    name: TableSpec(name, spec.sheet_zh or name, spec.title_zh, spec.title_en, spec.required_on_import,
                    spec.optional_on_import, _VALIDATORS.get(name) or registry_validator(name))
    for name, spec in import_tables().items()}


def detect_table(frame: pd.DataFrame, source: str) -> TableSpec:
    """Which table a frame is, from its columns."""
    columns = {str(c).strip() for c in frame.columns}
    for spec in TABLES.values():
        if set(spec.columns) <= columns:
            return spec
    raise InputError(Problem(
        "cannot tell which table this is: an energy balance needs columns "
        f"{', '.join(BALANCE_COLUMNS)}; statistics need {', '.join(STATISTICS_COLUMNS)}", file=source))


def read_table(path: str | Path, table: str | None = None) -> tuple[str, pd.DataFrame]:
    """Read one CSV/Excel table, validate it, return ``(table_name, frame)``.

    For an ``.xlsx`` file with several table sheets, use :func:`read_workbook`.
    """
    path = Path(path)
    source = path.name
    if not path.exists():
        raise InputError(Problem("file not found", file=str(path)))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = read_workbook(path)
        if table is not None:
            if table not in tables:
                raise InputError(Problem(f"workbook has no '{table}' sheet", file=source, field=table))
            return table, tables[table]
        if len(tables) != 1:
            raise InputError(Problem(f"workbook has {len(tables)} table sheets; name one with table=",
                                     file=source))
        return next(iter(tables.items()))
    try:
        frame = read_csv_file(path, dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"not a readable UTF-8 CSV file ({exc.__class__.__name__}: {exc})",
                                 file=source)) from exc
    spec = TABLES[table] if table else detect_table(frame, source)
    return spec.name, spec.validate(frame, source)


def read_workbook(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read every table sheet of a workbook made from the template; all or nothing.

    A sheet is recognised by its name (``energy_balance``/``能源平衡表``, ``statistics``/``统计数据``).
    Every sheet is validated before any is returned; problems of all sheets are reported together.
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
        # an .xlsx that is not a zip (renamed CSV, truncated upload) is bad input, not a crash
        raise InputError(Problem(f"not a readable Excel workbook ({exc})", file=path.name)) from exc
    problems: list[Problem] = []
    out: dict[str, pd.DataFrame] = {}
    for spec in TABLES.values():
        name = spec.sheet_zh if spec.sheet_zh in sheets else spec.name if spec.name in sheets else None
        if name is None:
            continue
        frame = sheets[name].dropna(how="all")
        try:
            out[spec.name] = spec.validate(frame, f"{path.name}[{name}]")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError(Problem("no table sheet found (expected 能源平衡表 or 统计数据)", file=path.name))
    return out

"""Read statistical tables from CSV or from the Excel template, validated at the boundary.

Every table of the registry with an ``import:`` entry (``data/tables.yaml``) is read here: the energy balance
and the statistics by their own validators (:mod:`citycarbon.importers.schemas`), every other table by
:func:`validate_registry_table` from its registry entry alone. An energy balance is also read in the layout
the statistics bureau publishes (:mod:`citycarbon.importers.nbs_balance`), recognised from its cells.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.importers.csvfile import read_csv_rows
from citycarbon.importers.nbs_balance import looks_like_nbs, nbs_to_long
from citycarbon.importers.schemas import ROW_INDEX, row_numbers, validate_balance, validate_statistics
from citycarbon.tables import Table, import_tables
from citycarbon.units import UnitError, conversion_factor, is_unit, same_dimension


@dataclass(frozen=True)
class TableSpec:
    name: str
    sheet_zh: str
    title_zh: str
    title_en: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    validate: Callable[[pd.DataFrame, str], pd.DataFrame]


#: the tables with a validator of their own (pandera schemas and the balance's sector and sign rules); every
#: other importable table of the registry is validated by :func:`validate_registry_table` from its entry
_VALIDATORS: dict[str, Callable[[pd.DataFrame, str], pd.DataFrame]] = {
    "energy_balance": validate_balance,
    "statistics": validate_statistics,
}


def _validator(spec: Table) -> Callable[[pd.DataFrame, str], pd.DataFrame]:
    own = _VALIDATORS.get(spec.import_name or "")
    if own is not None:
        return own

    def validate(frame: pd.DataFrame, source: str) -> pd.DataFrame:
        return validate_registry_table(spec, frame, source)
    return validate


TABLES: dict[str, TableSpec] = {
    name: TableSpec(name, spec.sheet_zh or name, spec.title_zh, spec.title_en, spec.required_on_import,
                    spec.optional_on_import, _validator(spec))
    for name, spec in import_tables().items()}


_HEADER_UNITS = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[(（].*[)）]\s*$")


def header_name(text: object) -> str:
    """A header as the column name it stands for: ``capacity (MW)`` → ``capacity`` (the template writes the
    reference units in brackets), other text stripped."""
    value = str(text).strip()
    match = _HEADER_UNITS.match(value)
    return match.group(1) if match else value


def _headers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_axis([header_name(c) for c in frame.columns], axis=1)


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or \
        str(value).strip() == ""


def _code_text(value: object) -> str:
    """A code as text, whatever a spreadsheet made of it (210200, 210200.0, ' 210200 ')."""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def validate_registry_table(spec: Table, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate a long table of the registry from its entry alone (``data/tables.yaml``) and return it canonical.

    Checks, row by row (every problem names file, row, field and the nearest valid code): required columns;
    whole numbers within ``range``; codes in their ``codelist``; missing values only in ``nullable`` columns;
    a finite value, not negative where ``nonnegative``; a unit that parses and, with a unit rule ``by``, has
    the dimension of that code's reference unit and stays under its upper bound; status a known status; no
    repeated key. The canonical frame has the registry's columns in file order (optional ones filled with
    missing values) and dtypes (``int`` columns as integers, ``str`` as text, the value as float).
    """
    problems = Problems()
    present = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(present, axis=1).reset_index(drop=True)
    for required in spec.required_on_import:
        if required not in present:
            problems.add(f"missing column '{required}'", file=source, field=required,
                         suggestion=nearest(required, [c for c in present if c not in spec.column_names]))
    problems.raise_if_any()
    rule = spec.unit_rule
    units = spec.reference_units()
    upper = spec.upper_bounds()
    valid = {c.name: set(c.codes()) for c in spec.columns if c.codelist}
    unit_ok: dict[str, bool] = {}
    dims_ok: dict[tuple[str, str], bool] = {}
    out: dict[str, list[Any]] = {c.name: [] for c in spec.columns}
    seen: dict[tuple, int] = {}
    rows = frame.reindex(columns=list(spec.column_names)).to_dict("records")
    numbers = row_numbers(frame)  # as the spreadsheet shows them (header in row 1)
    for position, record in enumerate(rows):
        row = int(numbers[position])
        where = {"file": source, "row": row}
        typed: dict[str, Any] = {}
        for column in spec.columns:
            raw = record.get(column.name)
            if _blank(raw):
                if not (column.nullable or column.optional):
                    problems.add(f"{column.name} is missing", field=column.name, **where)
                typed[column.name] = None
                continue
            if column.dtype == "int":
                try:
                    number = float(str(raw).strip())
                    if not number.is_integer():
                        raise ValueError
                    typed[column.name] = int(number)
                except ValueError:
                    problems.add(f"value {raw!r} is not a whole number", field=column.name, value=str(raw), **where)
                    typed[column.name] = None
                    continue
                if column.range and not column.range[0] <= typed[column.name] <= column.range[1]:
                    problems.add(f"{column.name} {typed[column.name]} is out of range "
                                 f"({column.range[0]}–{column.range[1]})", field=column.name, value=raw, **where)
            elif column.dtype == "float":
                try:
                    number = float(str(raw).strip())
                except ValueError:
                    problems.add(f"value {raw!r} is not a number", field=column.name, value=str(raw), **where)
                    typed[column.name] = None
                    continue
                if not math.isfinite(number):
                    problems.add(f"value {raw!r} is not a finite number", field=column.name, value=str(raw),
                                 **where)
                elif column.nonnegative and number < 0:
                    problems.add(f"negative value {number:g}", field=column.name, value=number, **where)
                typed[column.name] = number
            else:
                typed[column.name] = _code_text(raw) if column.codelist else str(raw).strip()
            if column.codelist and column.name in valid:
                given = _code_text(typed[column.name])
                if given not in valid[column.name]:
                    problems.add(f"unknown {column.name} '{given}'", field=column.name, value=given,
                                 suggestion=nearest(given, sorted(valid[column.name])), **where)
        if rule is not None:
            unit: str | None = typed.get(rule.column)
            value: float | None = typed.get(spec.value)
            if unit is not None:
                if unit not in unit_ok:
                    unit_ok[unit] = is_unit(unit)
                code = None if rule.by is None else _code_text(typed.get(rule.by))
                if not unit_ok[unit]:
                    problems.add(f"unknown unit '{unit}'", field=rule.column, value=unit,
                                 suggestion=nearest(unit, sorted(set(units.values()))), **where)
                elif code in units:
                    pair = (code, unit)
                    if pair not in dims_ok:
                        try:
                            dims_ok[pair] = same_dimension(unit, units[code])
                        except UnitError:
                            dims_ok[pair] = False
                    if not dims_ok[pair]:
                        problems.add(f"unit '{unit}' does not fit the {rule.by} '{code}' (expected a unit "
                                     f"like '{units[code]}')", field=rule.column, value=unit, **where)
                    elif value is not None and code in upper and \
                            value * conversion_factor(unit, units[code]) > upper[code]:
                        problems.add(f"{code} above {upper[code]:g} {units[code]}", field=spec.value, value=value,
                                     **where)
        key = tuple(typed.get(k) for k in spec.key)
        if all(v is not None or spec.column(k).nullable for k, v in zip(spec.key, key, strict=True)):
            if key in seen:
                problems.add(f"duplicate row (same {', '.join(spec.key)} as row {seen[key]})", field=spec.key[-1],
                             value=typed.get(spec.key[-1]), **where)
            seen.setdefault(key, row)
        for name, value in typed.items():
            out[name].append(value)
        if len(problems.items) >= 200:
            break
    problems.raise_if_any()
    canonical = pd.DataFrame(out, columns=list(spec.column_names))
    for column in spec.columns:
        if column.dtype == "int":
            canonical[column.name] = (canonical[column.name].astype("int64") if not column.nullable
                                      else pd.array(canonical[column.name], dtype="Int64"))
        elif column.dtype == "float":
            canonical[column.name] = canonical[column.name].astype(float)
        elif column.fill is not None:
            canonical[column.name] = canonical[column.name].fillna(column.fill)
    return canonical


def _code_hits(spec: TableSpec, frame: pd.DataFrame) -> int:
    """How many cells of the table's code columns (besides region and status) hold a code of their codelist."""
    registry = import_tables()[spec.name]
    hits = 0
    for name in registry.dims:
        column = registry.column(name)
        if column.codelist and name in frame.columns:
            valid = set(column.codes())
            hits += int(frame[name].head(500).map(_code_text).isin(valid).sum())
    return hits


def _coded(spec: TableSpec) -> bool:
    """Whether a table has a code column (besides region and status) whose codelist can tell it from another."""
    registry = import_tables()[spec.name]
    return any(registry.column(name).codelist for name in registry.dims if name != "region")


def detect_table(frame: pd.DataFrame, source: str) -> TableSpec:
    """Which table a frame is, from its columns: of the tables whose required columns are all present, the one
    that needs the most (a monthly file also has every column of the statistics); between tables with the same
    columns (statistics and forest), the one whose codelists know the most of the file's codes. Tables that
    cannot be told apart (target values and district allocations have the same columns and no codelist between
    them) are refused: the upload must name its dataset."""
    columns = {str(c).strip() for c in frame.columns}
    fitting = [spec for spec in TABLES.values() if set(spec.columns) <= columns]
    if fitting:
        stripped = frame.set_axis([str(c).strip() for c in frame.columns], axis=1)
        ranked = sorted(fitting, key=lambda spec: (len(spec.columns), _code_hits(spec, stripped)), reverse=True)
        best = ranked[0]
        twins = [spec.name for spec in ranked if set(spec.columns) == set(best.columns) and not _coded(spec)]
        if len(twins) > 1 and not _coded(best):
            names = ", ".join(twins)
            raise InputError(Problem(f"the columns fit several tables ({names}): name the dataset",
                                     message_zh=f"列名同时符合多个数据集({names})，请指定数据集",
                                     file=source, field="dataset", suggestion=names))
        return best
    needs = "; ".join(f"{spec.name}: {', '.join(spec.columns)}" for spec in TABLES.values())
    raise InputError(Problem(f"cannot tell which table this is: the columns of each table are {needs}",
                             file=source, suggestion=", ".join(TABLES)))


def read_table(path: str | Path, table: str | None = None) -> tuple[str, pd.DataFrame]:
    """Read one CSV/Excel table, validate it, return ``(table_name, frame)``.

    For an ``.xlsx`` file with several table sheets, use :func:`read_workbook`. A CSV may be UTF-8 (with or
    without a byte-order mark) or GB18030/GBK, as Chinese Excel saves it (:mod:`citycarbon.importers.csvfile`);
    ``frame.attrs["encoding"]`` records which. Problems name the row as the spreadsheet shows it.
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
    head = _raw_rows(path, lines=30)
    if head is not None and (table is None or TABLES[table].name == "energy_balance") and looks_like_nbs(head):
        raw = _raw_rows(path) or head
        return "energy_balance", validate_balance(nbs_to_long(raw, source), source)
    frame = read_csv_rows(path, source)
    encoding = frame.attrs["encoding"]
    frame = _headers(frame)
    spec = TABLES[table] if table else detect_table(frame, source)
    checked = spec.validate(frame, source)
    checked.attrs["encoding"] = encoding
    return spec.name, checked


def _raw_rows(path: Path, lines: int | None = None, limit: int = 5_000_000) -> list[list[object]] | None:
    """The cells of a CSV file (its first ``lines`` rows), no header taken (to recognise and read the NBS
    layout); None when it is not text or too large to be a published balance."""
    if path.stat().st_size > limit:
        return None
    data = path.read_bytes()
    if lines is not None:
        data = b"\n".join(data.splitlines()[:lines])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [list(row) for row in csv.reader(io.StringIO(text)) if not (row and row[0].startswith("#"))]
    return None


def read_workbook(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read every table sheet of a workbook made from the template; all or nothing.

    A sheet is recognised by its name: a table's ``sheet_zh`` or import name in the registry
    (``能源平衡表``/``energy_balance``, ``统计数据``/``statistics``, ``装机容量``/``capacity`` …).
    Every sheet is validated before any is returned; problems of all sheets are reported together.
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl", header=None)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
        # an .xlsx that is not a zip (renamed CSV, truncated upload) is bad input, not a crash
        raise InputError(Problem(f"not a readable Excel workbook ({exc})", file=path.name)) from exc
    problems: list[Problem] = []
    out: dict[str, pd.DataFrame] = {}
    for sheet, cells in sheets.items():  # a sheet in the statistics bureau's layout is an energy balance
        rows = cells.astype(object).where(cells.notna(), None).values.tolist()
        if "energy_balance" in TABLES and "energy_balance" not in out and looks_like_nbs(rows):
            where = f"{path.name}[{sheet}]"
            try:
                out["energy_balance"] = validate_balance(nbs_to_long(rows, where), where)
            except InputError as exc:
                problems.extend(exc.problems)
                out["energy_balance"] = pd.DataFrame()
    for spec in TABLES.values():
        name = spec.sheet_zh if spec.sheet_zh in sheets else spec.name if spec.name in sheets else None
        if name is None or spec.name in out:
            continue
        cells = sheets[name].dropna(how="all")
        if cells.empty:
            continue
        # the header is the first non-blank row (the template's row 1; notes are cell comments); each data row
        # keeps the sheet's own row number (the frame index is 0-based), blank rows dropped
        named = [i for i, c in enumerate(cells.iloc[0].tolist()) if not pd.isna(c) and str(c).strip()]
        rows = pd.Index([int(i) + 1 for i in cells.index[1:]], name=ROW_INDEX)
        frame = _headers(pd.DataFrame(cells.iloc[1:, named].values, index=rows, columns=[
            cells.iloc[0, i] for i in named]).dropna(how="all"))
        try:
            out[spec.name] = spec.validate(frame, f"{path.name}[{name}]")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    if not out:
        expected = ", ".join(spec.sheet_zh for spec in TABLES.values())
        raise InputError(Problem(f"no table sheet found (expected one of {expected})", file=path.name))
    return out

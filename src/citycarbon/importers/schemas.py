"""pandera schemas for imported tables, plus the codelist and unit checks pandera cannot express.

Contract: ``validate_balance(frame, source)`` and ``validate_statistics(frame, source)`` return a new,
canonical DataFrame (typed columns, stripped codes, index 0…n-1) or raise :class:`~citycarbon.errors.InputError`
listing every problem with file, row, field and a suggestion, in Chinese and English. They never modify their
input.

* Rows are numbered as the spreadsheet shows them: the header is row 1, so a frame's first row is row 2
  (:data:`FIRST_DATA_ROW`). A reader that knows better (a CSV's banner lines, blank rows it dropped) hands the
  numbers over as the frame's index named :data:`ROW_INDEX` (:func:`numbered`).
* Every float column (``quantity``, ``value``) must be finite: ``inf``, ``-inf``, ``nan`` and overflowing
  numbers (``1e400``) are refused naming the row.
* Units are checked by pint dimensionality objects (:func:`citycarbon.units.same_dimension`), never by text.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pandera.pandas as pa

from citycarbon.codelists import fuel_table, load_codelist, nearest
from citycarbon.errors import Problem, Problems
from citycarbon.tables import Table, table
from citycarbon.units import UnitError, dimension, is_unit, same_dimension

#: the statuses a row may carry (``data/codelists/statuses.csv``)
STATUSES: tuple[str, ...] = tuple(table("balance").column("status").codes())
SIGNED_FLOWS = ("net_inflow", "stock_change")

BALANCE_COLUMNS = table("balance").required_on_import
BALANCE_OPTIONAL = table("balance").optional_on_import
STATISTICS_COLUMNS = table("statistics").required_on_import
STATISTICS_OPTIONAL = table("statistics").optional_on_import

#: statistics variables the accounting and tracking code understands, with the pint dimensionality of their unit
#: (``data/codelists/statistics_variables.csv``); compare these objects, never their text
STATISTICS_VARIABLES: dict[str, object] = {
    variable: dimension(unit) for variable, unit in table("statistics").reference_units().items()}
#: each statistics variable's reference unit (named in messages)
STATISTICS_UNITS: dict[str, str] = table("statistics").reference_units()

#: a table's header is row 1 of its sheet or file, so its first data row is row 2
FIRST_DATA_ROW = 2
#: the index name under which a reader hands the validators each row's number as the spreadsheet shows it
ROW_INDEX = "row"

_PANDERA_DTYPES = {"int": "Int64", "float": float, "str": str}


def pandera_schema(spec: Table) -> pa.DataFrameSchema:
    """The pandera schema of a registry table: dtypes (coerced), nullability, optional columns, year ranges.

    Codelists, unit dimensions, signs and duplicate keys are checked after it, row by row, by the validators
    below (their messages name the nearest valid code).
    """
    columns = {
        column.name: pa.Column(
            _PANDERA_DTYPES[column.dtype], coerce=True, nullable=column.nullable, required=not column.optional,
            checks=pa.Check.in_range(*column.range) if column.range else None)
        for column in spec.columns}
    return pa.DataFrameSchema(columns, strict=False, name=spec.import_name or spec.name)


BALANCE_SCHEMA = pandera_schema(table("balance"))
STATISTICS_SCHEMA = pandera_schema(table("statistics"))


def numbered(frame: pd.DataFrame, first_row: int = FIRST_DATA_ROW) -> pd.DataFrame:
    """``frame`` with its index set to each row's number as the spreadsheet shows it (the first row is
    ``first_row``: 2 below a header in row 1; a CSV's banner lines push it down)."""
    return frame.set_axis(pd.RangeIndex(first_row, first_row + len(frame), name=ROW_INDEX), axis=0)


def row_numbers(frame: pd.DataFrame) -> pd.Index:
    """The spreadsheet row of each row of ``frame``: its index when a reader numbered it (:func:`numbered`,
    index named :data:`ROW_INDEX`), else 2, 3, … (a header in row 1)."""
    if frame.index.name == ROW_INDEX:
        return pd.Index([int(i) for i in frame.index], name=ROW_INDEX)
    return numbered(frame).index


def _row(index: object) -> int | None:
    """The spreadsheet row of a frame label (the validators index their frames by :func:`row_numbers`)."""
    try:
        return int(index)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _finite_problems(frame: pd.DataFrame, spec: Table, source: str, problems: Problems) -> set[tuple]:
    """Refuse non-finite numbers in the float columns (``inf``, ``-inf``, ``nan``, ``1e400``), naming the row;
    returns the (column, row) pairs reported, which the schema's own messages then skip."""
    reported: set[tuple] = set()
    for column in (c.name for c in spec.columns if c.dtype == "float"):
        if column not in frame.columns:
            continue
        values = frame[column]
        numeric = pd.to_numeric(values, errors="coerce")  # vectorised pre-screen: finite rows are done
        suspects = values[~np.isfinite(numeric.astype("float64").to_numpy()) & values.notna().to_numpy()]
        for index, raw in suspects.items():
            if raw is None or raw is pd.NA or (isinstance(raw, str) and not raw.strip()):
                continue  # missing: the schema says so (or the column may be empty)
            try:
                number = float(raw)
            except (TypeError, ValueError):
                continue  # not a number: the schema says so
            if math.isfinite(number):
                continue
            if isinstance(raw, float) and math.isnan(raw):
                continue  # an empty cell read as NaN: the schema's "value is missing"
            problems.add("the value must be a finite number (not inf, -inf, nan or beyond ±1.8e308)",
                         message_zh="数值必须为有限数(不能是 inf、-inf、nan 或超出 ±1.8e308)", file=source,
                         row=_row(index), field=column, value=raw)
            reported.add((column, index))
    return reported


def _required_columns(frame: pd.DataFrame, required: tuple[str, ...], source: str, problems: Problems) -> None:
    present = [str(c) for c in frame.columns]
    for column in required:
        if column not in present:
            problems.add(f"missing column '{column}'", message_zh=f"缺少列 '{column}'", file=source, field=column,
                         suggestion=nearest(column, [c for c in present if c not in required]))


def _run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame, source: str,
                problems: Problems, reported: set[tuple] | frozenset[tuple] = frozenset()) -> pd.DataFrame | None:
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        seen: set[tuple] = set()
        for case in cases.itertuples(index=False):
            column = getattr(case, "column", None)
            index = getattr(case, "index", None)
            key = (column, index)
            if key in seen or key in reported:
                continue
            seen.add(key)
            value = getattr(case, "failure_case", None)
            check = str(getattr(case, "check", ""))
            if "coerce" in check or "dtype" in check:
                message, zh = f"value {value!r} is not a valid {column}", f"数值 {value!r} 不是有效的 {column}"
            elif "in_range" in check:
                message, zh = f"year {value!r} is out of range", f"年份 {value!r} 超出范围"
            elif "not_nullable" in check:
                message, zh = "value is missing", "缺少数值"
            else:
                message, zh = f"value {value!r} fails check {check}", f"数值 {value!r} 未通过检查 {check}"
            problems.items.append(Problem(message, file=source, row=_row(index), field=column, value=value,
                                          message_zh=zh))
        return None


#: the Chinese name of each code column, for messages
_WHAT_ZH = {"flow": "流向", "fuel": "能源品种", "region": "地区", "sector": "部门", "status": "数据状态",
            "variable": "指标"}


def _check_code(frame: pd.DataFrame, column: str, valid: list[str], source: str, problems: Problems,
                what: str, allow_empty: bool = False) -> None:
    valid_set = set(valid)
    what_zh = _WHAT_ZH.get(what, what)
    for index, value in frame[column].items():
        if value is None or (isinstance(value, float) and pd.isna(value)) or value == "" or pd.isna(value):
            if not allow_empty:
                problems.add(f"{what} is missing", message_zh=f"缺少{what_zh}", file=source, row=_row(index),
                             field=column)
            continue
        if str(value) not in valid_set:
            problems.add(f"unknown {what} '{value}'", message_zh=f"未知{what_zh} '{value}'", file=source,
                         row=_row(index), field=column, value=value, suggestion=nearest(value, valid))


def _report_duplicates(frame: pd.DataFrame, key: list[str], source: str, problems: Problems,
                       field: str) -> None:
    """Every row whose key repeats an earlier row is an error naming both rows."""
    first = pd.Series(frame.index, index=frame.index).groupby(
        [frame[k] for k in key], dropna=False).transform("first")
    for index in frame.index[frame.index != first.to_numpy()]:
        problems.add(f"duplicate row (same {', '.join(key)} as row {_row(first[index])})",
                     message_zh=f"重复行(与第 {_row(first[index])} 行的 {', '.join(key)} 相同)", file=source,
                     row=_row(index), field=field, value=frame.at[index, field])


def _strip(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [str(c).strip() for c in out.columns]
    for column in columns:
        if column in out.columns and (out[column].dtype == object
                                      or pd.api.types.is_string_dtype(out[column])):
            out[column] = out[column].map(lambda v: v.strip() if isinstance(v, str) else v)
            out[column] = out[column].replace("", None)
    return out


def _balance_rows_to_check(typed: pd.DataFrame, fuels: pd.DataFrame, sector_kind: pd.Series) -> pd.Series:
    """Vectorised pre-screen: rows that may break a unit, sign, sector-kind or primary-electricity rule.

    Only these rows go through the per-row checks that word the messages, so a clean city-scale table
    validates in milliseconds while a bad row still gets its precise message.
    """
    unit_ok = typed["unit"].map({u: is_unit(u) for u in typed["unit"].dropna().unique()}).astype(
        "boolean").fillna(False)
    pairs = typed[["fuel", "unit"]].drop_duplicates()
    dims_ok = {}
    for fuel, unit in pairs.itertuples(index=False):
        try:
            dims_ok[(fuel, unit)] = fuel in fuels.index and is_unit(unit) and same_dimension(
                unit, fuels.at[fuel, "default_unit"])
        except UnitError:
            dims_ok[(fuel, unit)] = False
    dim_ok = pd.Series([dims_ok[k] for k in zip(typed["fuel"], typed["unit"], strict=True)], index=typed.index)
    negative = (typed["quantity"] < 0) & ~typed["flow"].isin(SIGNED_FLOWS)
    kind = typed["sector"].map(sector_kind)
    wrong_transformation = typed["flow"].isin(["transformation_input", "transformation_output"]) & kind.notna() & (
        kind != "transformation")
    wrong_final = typed["flow"].isin(["final_consumption", "non_energy_use"]) & kind.notna() & (kind != "final")
    primary = typed["fuel"].map(fuels["primary_electricity"]).astype("boolean").fillna(False).astype(bool) & (
        typed["flow"] != "production")
    return ~unit_ok.astype(bool) | ~dim_ok | negative | wrong_transformation | wrong_final | primary


def validate_balance(frame: pd.DataFrame, source: str = "<balance>") -> pd.DataFrame:
    """Validate an energy balance in long format (see docs/architecture.md) and return it canonical."""
    problems = Problems()
    frame = _strip(frame, ("region", "flow", "sector", "fuel", "unit", "status", "source"))
    _required_columns(frame, BALANCE_COLUMNS, source, problems)
    problems.raise_if_any()
    spec = table("balance")
    frame = frame.set_axis(row_numbers(frame), axis=0)
    typed = _run_schema(BALANCE_SCHEMA, frame, source, problems, _finite_problems(frame, spec, source, problems))
    problems.raise_if_any()
    assert typed is not None
    flows = spec.column("flow").codes()
    sectors = spec.column("sector").codes()
    fuels = fuel_table()
    _check_code(typed, "flow", flows, source, problems, "flow")
    _check_code(typed, "fuel", spec.column("fuel").codes(), source, problems, "fuel")
    _check_code(typed, "region", spec.column("region").codes(), source, problems, "region")
    sector_needed = typed["flow"].isin(
        ["transformation_input", "transformation_output", "final_consumption", "non_energy_use"])
    needs = typed[sector_needed]
    _check_code(needs, "sector", sectors, source, problems, "sector")
    other = typed[~sector_needed & typed["sector"].notna()]
    _check_code(other, "sector", sectors, source, problems, "sector")
    if "status" in typed.columns:
        _check_code(typed, "status", list(STATUSES), source, problems, "status", allow_empty=True)
    sector_kind = load_codelist("sectors")["kind"]
    for index, row in typed[_balance_rows_to_check(typed, fuels, sector_kind)].iterrows():
        unit = row["unit"]
        fuel = row["fuel"]
        if not is_unit(unit):
            problems.add(f"unknown unit '{unit}'", message_zh=f"未知单位 '{unit}'", file=source, row=_row(index),
                         field="unit", value=unit,
                         suggestion=nearest(unit, ["10^4 t", "t", "10^4 m3", "10^4 kWh", "10^8 kWh", "GJ",
                                                   "tce", "10^4 tce"]))
        elif fuel in fuels.index:
            expected = fuels.at[fuel, "default_unit"]
            try:
                if not same_dimension(unit, expected):
                    problems.add(f"unit '{unit}' does not fit fuel '{fuel}' (expected a unit like "
                                 f"'{expected}')", message_zh=f"单位 '{unit}' 与能源品种 '{fuel}' 的量纲不符(应为类似 "
                                 f"'{expected}' 的单位)", file=source, row=_row(index), field="unit", value=unit)
            except UnitError:
                problems.add(f"unknown unit '{unit}'", message_zh=f"未知单位 '{unit}'", file=source,
                             row=_row(index), field="unit")
        flow = row["flow"]
        if flow not in SIGNED_FLOWS and row["quantity"] < 0:
            problems.add(f"negative quantity {row['quantity']} for flow '{flow}' (only net_inflow and "
                         "stock_change are signed)", message_zh=f"流向 '{flow}' 的数量 {row['quantity']} 为负"
                         "(只有 net_inflow 与 stock_change 可为负)", file=source, row=_row(index), field="quantity",
                         value=row["quantity"])
        sector = row["sector"]
        if flow in ("transformation_input", "transformation_output") and isinstance(sector, str) \
                and sector in sector_kind.index and sector_kind[sector] != "transformation":
            problems.add(f"flow '{flow}' needs a transformation sector, not '{sector}'",
                         message_zh=f"流向 '{flow}' 须为加工转换部门, 而非 '{sector}'", file=source,
                         row=_row(index), field="sector", value=sector,
                         suggestion=nearest(sector, [s for s in sectors if sector_kind[s] == "transformation"]))
        if flow in ("final_consumption", "non_energy_use") and isinstance(sector, str) \
                and sector in sector_kind.index and sector_kind[sector] != "final":
            problems.add(f"flow '{flow}' needs a final-consumption sector, not '{sector}'",
                         message_zh=f"流向 '{flow}' 须为终端消费部门, 而非 '{sector}'", file=source,
                         row=_row(index), field="sector", value=sector)
        if fuel in fuels.index and fuels.at[fuel, "primary_electricity"] and flow != "production":
            problems.add(f"primary electricity '{fuel}' appears only as 'production'; consumption is "
                         "'electricity'", message_zh=f"一次电力 '{fuel}' 只能以 'production' 流向出现; 消费记为 "
                         "'electricity'", file=source, row=_row(index), field="flow", value=flow,
                         suggestion="production")
    _report_duplicates(typed, list(spec.key), source, problems, "fuel")
    problems.raise_if_any()
    return typed.reset_index(drop=True)


def validate_statistics(frame: pd.DataFrame, source: str = "<statistics>") -> pd.DataFrame:
    """Validate a statistics table (GDP, population …) in long format and return it canonical."""
    problems = Problems()
    frame = _strip(frame, ("region", "variable", "unit", "status", "source"))
    _required_columns(frame, STATISTICS_COLUMNS, source, problems)
    problems.raise_if_any()
    spec = table("statistics")
    frame = frame.set_axis(row_numbers(frame), axis=0)
    typed = _run_schema(STATISTICS_SCHEMA, frame, source, problems, _finite_problems(frame, spec, source, problems))
    problems.raise_if_any()
    assert typed is not None
    if "price_base_year" not in typed.columns:
        typed["price_base_year"] = pd.array([pd.NA] * len(typed), dtype="Int64")
    _check_code(typed, "variable", spec.column("variable").codes(), source, problems, "variable")
    _check_code(typed, "region", spec.column("region").codes(), source, problems, "region")
    if "status" in typed.columns:
        _check_code(typed, "status", list(STATUSES), source, problems, "status", allow_empty=True)
    for index, row in typed.iterrows():
        unit, variable = row["unit"], row["variable"]
        if not is_unit(unit):
            problems.add(f"unknown unit '{unit}'", message_zh=f"未知单位 '{unit}'", file=source, row=_row(index),
                         field="unit", value=unit,
                         suggestion=nearest(unit, ["10^8 CNY", "10^4 CNY", "10^4 person", "10^4 kWh"]))
        elif variable in STATISTICS_UNITS and not same_dimension(unit, STATISTICS_UNITS[variable]):
            problems.add(f"unit '{unit}' does not fit variable '{variable}'",
                         message_zh=f"单位 '{unit}' 与指标 '{variable}' 的量纲不符(应为类似 "
                         f"'{STATISTICS_UNITS[variable]}' 的单位)", file=source, row=_row(index),
                         field="unit", value=unit)
        if row["value"] < 0:
            problems.add(f"negative value {row['value']}", message_zh=f"数值 {row['value']} 为负", file=source,
                         row=_row(index), field="value", value=row["value"])
    _report_duplicates(typed, list(spec.key), source, problems, "variable")
    problems.raise_if_any()
    return typed.reset_index(drop=True)

"""Reference datasets shipped with citycarbon: ``data/<name>/*.csv`` (the Dalian dataset, 2015–2024).

A reference dataset is six long tables in one folder, each row carrying its unit, ``status``
(``official`` / ``secondary`` / ``unverified`` / ``estimate``) and ``source``:

=====================  ======================  =====================================================
attribute / table      file                    columns
=====================  ======================  =====================================================
``balance``            energy_balance.csv      year, region, flow, sector, fuel, quantity, unit, …
``statistics``         statistics.csv          year, region, variable, value, unit, price_base_year, …
``capacity``           capacity.csv            year, region, technology, capacity, unit, …
``process_activity``   process_activity.csv    year, region, process, quantity, unit, …
``forest``             forest.csv              year, region, variable, value, unit, …
``wetland``            wetland.csv             year, region, ecosystem, area, unit, …
=====================  ======================  =====================================================

Contract
--------
* :func:`load_reference` reads and validates every table once per process (cached) and returns a
  frozen :class:`ReferenceDataset`; treat its frames as read-only (copy before changing them).
* The energy balance and the statistics are validated exactly like imported tables
  (:func:`citycarbon.importers.validate_balance` / ``validate_statistics``: codelists, units, signs,
  sectors, duplicates); the other four tables against the vocabularies below (code, unit dimension,
  value ≥ 0). Every row must also carry a known ``status`` and a non-empty ``source``.
* Bad data raises :class:`~citycarbon.errors.InputError` naming the file, the row as a spreadsheet shows the
  file (the banner and header lines count: the Dalian files' first data row is row 3) and the field, with the
  nearest valid name, in Chinese and English. Values must be finite numbers (``inf``, ``nan``, ``1e400`` are
  refused). Files may be UTF-8 or GB18030/GBK (:mod:`citycarbon.importers.csvfile`).
* :func:`balance_closure` checks the NBS balance identity (能源平衡表: 可供量 = 消费量 + 损失 + 调出 …):
  per fuel and year, supply flows minus use flows; primary electricity (nuclear, wind, solar, hydro,
  biomass power) joins the ``electricity`` pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from citycarbon.codelists import codes, fuel_table, load_codelist, nearest
from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.importers.csvfile import read_csv_rows
from citycarbon.importers.schemas import STATUSES, row_numbers, validate_balance, validate_statistics
from citycarbon.tables import Table, load_tables
from citycarbon.tables import table as registry_table
from citycarbon.units import conversion_factor, is_unit, same_dimension

__all__ = [
    "TABLE_FILES",
    "ReferenceDataset",
    "available_references",
    "balance_closure",
    "load_reference",
    "read_reference",
    "validate_table",
]

#: table name (attribute of ReferenceDataset) -> file name inside the dataset folder (the table registry's
#: reference tables, ``data/tables.yaml``)
TABLE_FILES: dict[str, str] = {t.name: t.file for t in load_tables().values() if t.reference}
#: other spellings accepted by :meth:`ReferenceDataset.estimated_share`
TABLE_ALIASES: dict[str, str] = {"energy_balance": "balance"}

#: canonical unit in which :meth:`ReferenceDataset.statistic` returns each variable
#: (``data/codelists/statistics_variables.csv``)
STATISTIC_UNITS: dict[str, str] = registry_table("statistics").reference_units()


@dataclass(frozen=True)
class _LongTable:
    """Vocabulary of one of the simple long tables: key column, value column, code -> reference unit."""

    columns: tuple[str, ...]
    key: str
    value: str
    units: dict[str, str]
    upper: dict[str, float] = field(default_factory=dict)  # upper bound in the reference unit

    @classmethod
    def of(cls, spec: Table) -> _LongTable:
        """The vocabulary of a registry table with one code column (its codelist gives each code's unit)."""
        (key,) = spec.dims
        return cls(spec.column_names, key, spec.value, spec.reference_units(), spec.upper_bounds())


#: the reference tables that are neither the energy balance nor the statistics (validated by _validate_long)
LONG_TABLES: dict[str, _LongTable] = {
    name: _LongTable.of(registry_table(name)) for name in TABLE_FILES if name not in ("balance", "statistics")}


@dataclass(frozen=True, eq=False)
class ReferenceDataset:
    """A city's reference dataset; every frame is validated and canonical (see the module docstring).

    Compared and hashed by identity (``eq=False``): DataFrames have no truth value to compare field-wise.
    """

    name: str
    region: str
    title_zh: str
    title_en: str
    balance: pd.DataFrame
    statistics: pd.DataFrame
    capacity: pd.DataFrame
    process_activity: pd.DataFrame
    forest: pd.DataFrame
    wetland: pd.DataFrame
    files: dict[str, Path]

    @property
    def years(self) -> tuple[int, ...]:
        """The years of the energy balance, ascending."""
        return tuple(sorted(int(y) for y in self.balance["year"].unique()))

    def statistic(self, variable: str, year: int, price_base_year: int | None = None) -> float:
        """One value of ``statistics.csv`` in the variable's canonical unit (:data:`STATISTIC_UNITS`).

        GDP at current prices when ``price_base_year`` is None, at constant prices of that year otherwise.
        A missing value raises :class:`InputError` naming the file and the nearest variable.
        """
        frame = self.statistics
        base = frame["price_base_year"]
        chosen = base.isna() if price_base_year is None else (base == int(price_base_year)).fillna(False)
        rows = frame[(frame["variable"] == variable) & (frame["year"] == int(year)) & chosen]
        if rows.empty:
            known = sorted(str(v) for v in frame["variable"].unique())
            prices = "current prices" if price_base_year is None else f"constant {price_base_year} prices"
            raise InputError(Problem(
                f"no value of '{variable}' for {year} at {prices} in dataset '{self.name}'",
                file=str(self.files["statistics"]), field="variable", value=variable,
                suggestion=nearest(variable, known) if variable not in known else None))
        row = rows.iloc[0]
        target = STATISTIC_UNITS.get(variable, str(row["unit"]))
        return float(row["value"]) * conversion_factor(str(row["unit"]), target)

    def estimated_share(self, table: str) -> float:
        """Share of the rows of ``table`` whose status is ``estimate`` (0.0 for an empty table)."""
        name = TABLE_ALIASES.get(table, table)
        if name not in TABLE_FILES:
            choices = [*TABLE_FILES, *TABLE_ALIASES]
            raise InputError(Problem(f"unknown table '{table}'", field="table", value=table,
                                     suggestion=nearest(table, choices)))
        frame: pd.DataFrame = getattr(self, name)
        if frame.empty:
            return 0.0
        return float((frame["status"] == "estimate").mean())


# ------------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------------

def available_references() -> list[str]:
    """Names of the shipped reference datasets (folders of ``data/`` holding an energy balance)."""
    root = data_path("")
    return sorted(p.name for p in root.iterdir() if (p / TABLE_FILES["balance"]).is_file())


@cache
def load_reference(name: str = "dalian") -> ReferenceDataset:
    """The shipped reference dataset ``name`` (``data/<name>/``), validated; cached per process."""
    known = available_references()
    if name not in known:
        raise InputError(Problem(f"no reference dataset '{name}' (shipped: {', '.join(known) or 'none'})",
                                 field="name", value=name, suggestion=nearest(name, known)))
    return read_reference(data_path(name), name)


def read_reference(directory: str | Path, name: str | None = None) -> ReferenceDataset:
    """Read and validate a reference dataset folder (not cached); ``name`` defaults to the folder name.

    Titles come from the first line of the folder's ``README.md`` (``# <title_zh> / <title_en>``).
    """
    folder = Path(directory)
    problems = Problems()
    raw: dict[str, pd.DataFrame] = {}
    files = {table: folder / file for table, file in TABLE_FILES.items()}
    for table, path in files.items():
        if not path.is_file():
            problems.add("file not found", file=str(path))
            continue
        try:
            raw[table] = read_csv_rows(path, str(path))
        except InputError as exc:
            problems.items.extend(exc.problems)
    problems.raise_if_any()

    frames: dict[str, pd.DataFrame] = {}
    for table, frame in raw.items():
        source = str(files[table])
        try:
            frames[table] = _validate(table, frame, source)
        except InputError as exc:
            problems.items.extend(exc.problems)
    problems.raise_if_any()

    regions = sorted({str(r) for r in frames["balance"]["region"].unique()})
    if len(regions) != 1:
        raise InputError(Problem(f"a reference dataset covers one region; found {', '.join(regions) or 'none'}",
                                 file=str(files["balance"]), field="region"))
    title_zh, title_en = _titles(folder, name or folder.name)
    return ReferenceDataset(name=name or folder.name, region=regions[0], title_zh=title_zh, title_en=title_en,
                            files=files, **frames)


def _titles(folder: Path, fallback: str) -> tuple[str, str]:
    readme = folder / "README.md"
    if readme.is_file():
        with open(readme, encoding="utf-8") as handle:
            first = handle.readline().strip()
        if first.startswith("#") and " / " in first:
            zh, en = first.lstrip("#").strip().split(" / ", 1)
            return zh.strip(), en.strip()
    return fallback, fallback


def validate_table(name: str, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate one table of a reference dataset (a :data:`TABLE_FILES` name) exactly as
    :func:`read_reference` does and return it canonical; :class:`InputError` naming file, row and field."""
    name = TABLE_ALIASES.get(name, name)
    if name not in TABLE_FILES:
        raise InputError(Problem(f"unknown table '{name}'", field="table", value=name,
                                 suggestion=nearest(name, list(TABLE_FILES))))
    return _validate(name, frame, source)


def _validate(table: str, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    rows = row_numbers(frame)  # the validated frames are indexed 0…n-1 in the same order
    if table == "balance":
        checked = validate_balance(frame, source)
        checked["sector"] = checked["sector"].fillna("").astype(str)
    elif table == "statistics":
        checked = validate_statistics(frame, source)
    else:
        return _validate_long(LONG_TABLES[table], frame, source)
    _require_provenance(checked, source, rows)
    checked["year"] = checked["year"].astype(int)
    return checked


def _require_provenance(frame: pd.DataFrame, source: str, rows: pd.Index) -> None:
    """Every reference row names its status and its source (the importers leave both optional); ``rows`` is the
    spreadsheet row of each position of ``frame``."""
    problems = Problems()
    for column in ("status", "source"):
        if column not in frame.columns:
            problems.add(f"missing column '{column}'", file=source, field=column)
            continue
        for position, value in enumerate(frame[column]):
            if _blank(value):
                problems.add(f"{column} is missing (every reference row names its {column})",
                             message_zh=f"缺少 {column}(参考数据集的每一行都须注明 {column})", file=source,
                             row=int(rows[position]), field=column)
    problems.raise_if_any()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or \
        str(value).strip() == ""


def _validate_long(spec: _LongTable, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a simple long table (capacity, process activity, forest, wetland) and return it canonical."""
    problems = Problems()
    present = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(present, axis=1)
    for column in spec.columns:
        if column not in present:
            problems.add(f"missing column '{column}'", message_zh=f"缺少列 '{column}'", file=source, field=column,
                         suggestion=nearest(column, [c for c in present if c not in spec.columns]))
    problems.raise_if_any()
    regions = set(codes("regions"))
    records: list[dict] = []
    seen: dict[tuple, int] = {}
    numbers = row_numbers(frame)  # as the spreadsheet shows them: 2, 3, … below a header in row 1
    for position, record in enumerate(frame[list(spec.columns)].to_dict("records")):
        row = int(numbers[position])
        text = {k: "" if _blank(v) else str(v).strip() for k, v in record.items()}
        where = {"file": source, "row": row}
        year = _year(text["year"], where, problems)
        if text["region"] not in regions:
            problems.add(f"unknown region '{text['region']}'", message_zh=f"未知地区 '{text['region']}'",
                         field="region", value=text["region"],
                         suggestion=nearest(text["region"], sorted(regions)), **where)
        code = text[spec.key]
        if code not in spec.units:
            problems.add(f"unknown {spec.key} '{code}'", message_zh=f"未知{spec.key} '{code}'", field=spec.key,
                         value=code,
                         suggestion=nearest(code, list(spec.units)), **where)
        value = _number(text[spec.value], spec.value, where, problems)
        unit = text["unit"]
        if not is_unit(unit):
            problems.add(f"unknown unit '{unit}'", message_zh=f"未知单位 '{unit}'", field="unit", value=unit,
                         suggestion=nearest(unit, sorted(set(spec.units.values()))), **where)
        elif code in spec.units and not same_dimension(unit, spec.units[code]):
            problems.add(f"unit '{unit}' does not fit {spec.key} '{code}' (expected a unit like "
                         f"'{spec.units[code]}')",
                         message_zh=f"单位 '{unit}' 与 {spec.key} '{code}' 的量纲不符"
                         f"(应为类似 '{spec.units[code]}' 的单位)",
                         field="unit", value=unit, **where)
        elif value is not None and code in spec.upper and \
                value * conversion_factor(unit, spec.units[code]) > spec.upper[code]:
            problems.add(f"{code} above {spec.upper[code]:g} {spec.units[code]}",
                         message_zh=f"{code} 超过 {spec.upper[code]:g} {spec.units[code]}", field=spec.value,
                         value=value, **where)
        if text["status"] not in STATUSES:
            problems.add(f"unknown status '{text['status']}'", message_zh=f"未知数据状态 '{text['status']}'",
                         field="status", value=text["status"],
                         suggestion=nearest(text["status"], list(STATUSES)), **where)
        if not text["source"]:
            problems.add("source is missing (every reference row names its source)",
                         message_zh="缺少 source(参考数据集的每一行都须注明来源)", field="source", **where)
        key = (year, text["region"], code)
        if key in seen:
            problems.add(f"duplicate row (same year, region, {spec.key} as row {seen[key]})",
                         message_zh=f"重复行(与第 {seen[key]} 行的 year, region, {spec.key} 相同)", field=spec.key,
                         value=code, **where)
        seen.setdefault(key, row)
        records.append({**text, "year": year, spec.value: value})
    problems.raise_if_any()
    out = pd.DataFrame.from_records(records, columns=list(spec.columns))
    out["year"] = out["year"].astype(int)
    out[spec.value] = out[spec.value].astype(float)
    return out


def _year(text: str, where: dict, problems: Problems) -> int | None:
    try:
        number = float(text)
    except ValueError:
        problems.add(f"year '{text}' is not a number", message_zh=f"年份 '{text}' 不是数字", field="year",
                     value=text, **where)
        return None
    if not math.isfinite(number) or number != int(number) or not 1949 <= number <= 2100:
        problems.add(f"year '{text}' is out of range", message_zh=f"年份 '{text}' 超出范围", field="year",
                     value=text, **where)
        return None
    return int(number)


def _number(text: str, column: str, where: dict, problems: Problems) -> float | None:
    """A required value ≥ 0: a finite number (``inf``, ``-inf``, ``nan`` and ``1e400``, which overflows to
    inf, are refused naming the row)."""
    if not text:
        problems.add("value is missing", message_zh="缺少数值", field=column, **where)
        return None
    try:
        value = float(text)
    except ValueError:
        problems.add(f"value '{text}' is not a number", message_zh=f"数值 '{text}' 不是数字", field=column,
                     value=text, **where)
        return None
    if not math.isfinite(value):
        problems.add("the value must be a finite number (not inf, -inf, nan or beyond ±1.8e308)",
                     message_zh="数值必须为有限数(不能是 inf、-inf、nan 或超出 ±1.8e308)", field=column, value=text,
                     **where)
        return None
    if value < 0:
        problems.add(f"negative value {text}", message_zh=f"数值 {text} 为负", field=column, value=text, **where)
        return None
    return value


# ------------------------------------------------------------------------------------------------------
# balance closure
# ------------------------------------------------------------------------------------------------------

CLOSURE_COLUMNS = ("year", "region", "fuel", "unit", "supply", "use", "imbalance", "relative_imbalance")


def balance_closure(balance: pd.DataFrame) -> pd.DataFrame:
    """Supply minus use per fuel, region and year (NBS 能源平衡表 identity).

    Supply = production + imports + inflow + net_inflow (signed) + stock_change (signed, + = drawn from
    stock) + transformation_output; use = exports + outflow + transformation_input + losses +
    final_consumption + non_energy_use (the ``sign`` column of the flows codelist). Primary electricity is
    pooled with ``electricity``. Quantities are converted to the fuel's default unit (fuels codelist), so
    mixed units within a fuel are fine. ``relative_imbalance`` = imbalance / max(supply, use) (0 when both
    are 0). Columns: :data:`CLOSURE_COLUMNS`.
    """
    fuels = fuel_table()
    signs = load_codelist("flows")["sign"]
    frame = balance[["year", "region", "flow", "fuel", "quantity", "unit"]].copy()
    frame["pool"] = frame["fuel"].map(lambda f: "electricity" if fuels.at[f, "primary_electricity"] else f)
    frame["target"] = frame["pool"].map(fuels["default_unit"])
    factors = {(u, t): conversion_factor(u, t) for u, t in frame[["unit", "target"]].drop_duplicates().itertuples(
        index=False)}
    quantity = frame["quantity"].astype(float) * pd.Series(
        [factors[k] for k in zip(frame["unit"], frame["target"], strict=True)], index=frame.index)
    side = frame["flow"].map(signs)
    frame["supply"] = quantity.where(side == "supply", 0.0)
    frame["use"] = quantity.where(side == "use", 0.0)
    grouped = frame.groupby(["year", "region", "pool", "target"], as_index=False)[["supply", "use"]].sum()
    grouped = grouped.rename(columns={"pool": "fuel", "target": "unit"})
    grouped["imbalance"] = grouped["supply"] - grouped["use"]
    scale = grouped[["supply", "use"]].abs().max(axis=1)
    grouped["relative_imbalance"] = (grouped["imbalance"] / scale.where(scale > 0)).fillna(0.0)
    return grouped[list(CLOSURE_COLUMNS)].sort_values(["year", "region", "fuel"]).reset_index(drop=True)

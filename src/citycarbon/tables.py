"""The registry of long tables: ``data/tables.yaml`` (columns, dtypes, keys, codelists, unit dimensions).

One definition of every table a city's data travels in (the energy balance, statistics, capacity, process
activity, forest, wetland, monthly and district tables). Built from it, never written twice:

* the pandera schemas and the import tables of :mod:`citycarbon.importers` (:func:`pandera_columns` gives
  what a schema needs; the Excel template's sheets, header notes and drop-downs come from the same columns);
* the vocabularies with which :mod:`citycarbon.datasets` checks the reference dataset's long tables;
* the ledger's dataset specs (:data:`citycarbon.store.ledger.DATASETS`).

Contract
--------
* :func:`load_tables` reads and checks the registry once per process; a malformed registry (unknown field,
  a key or value that is not a column, a codelist that does not exist) raises ``ValueError`` naming the
  table and column. :func:`registry_problems` also parses every reference unit with :mod:`citycarbon.units`.
* :func:`table` finds a table by name or alias; an unknown name raises
  :class:`~citycarbon.errors.InputError` with the nearest name.
* Pure: reads shipped data files only (no database, no HTTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import pandas as pd
import yaml

from citycarbon.codelists import load_codelist, nearest
from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem
from citycarbon.units import UnitError, dimensionality

__all__ = [
    "REGISTRY_FILE",
    "Column",
    "Table",
    "UnitRule",
    "import_tables",
    "load_tables",
    "parse_registry",
    "registry_problems",
    "table",
]

REGISTRY_FILE = "tables.yaml"
Dtype = Literal["int", "float", "str"]
#: key columns that are not dimensions of the ledger (they have columns of their own in ``observations``)
_TIME_AND_PLACE = ("year", "month", "region")
_TABLE_FIELDS = {"file", "title_zh", "title_en", "aliases", "import", "reference", "key", "value", "columns"}
_COLUMN_FIELDS = {"name", "dtype", "nullable", "fill", "optional", "range", "max_length", "codelist", "unit",
                  "nonnegative", "zh", "en"}
_UNIT_FIELDS = {"column", "by", "field", "max_field"}


@dataclass(frozen=True)
class UnitRule:
    """The unit of a value column: named per row in ``column``; with ``by``, each code of that column has a
    reference unit (codelist field ``field``) whose dimension the row's unit must have, and optionally an
    upper bound in that unit (codelist field ``max_field``)."""

    column: str
    by: str | None = None
    field: str | None = None
    max_field: str | None = None


@dataclass(frozen=True)
class Column:
    name: str
    dtype: Dtype
    nullable: bool = False
    fill: str | None = None
    optional: bool = False
    range: tuple[int, int] | None = None
    max_length: int | None = None
    codelist: str | None = None
    unit: UnitRule | None = None
    nonnegative: bool = False
    label_zh: str = ""
    label_en: str = ""

    def codes(self) -> list[str]:
        """The valid values (the keys of the column's codelist, as text); empty when there is no codelist."""
        return [] if self.codelist is None else [str(v) for v in load_codelist(self.codelist).index]


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    value: str
    aliases: tuple[str, ...] = ()
    import_name: str | None = None
    sheet_zh: str | None = None
    reference: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def required_on_import(self) -> tuple[str, ...]:
        """Columns an imported file must have, in file order."""
        return tuple(c.name for c in self.columns if not c.optional)

    @property
    def optional_on_import(self) -> tuple[str, ...]:
        """Columns an import may leave out (filled by the import), in file order."""
        return tuple(c.name for c in self.columns if c.optional)

    @property
    def monthly(self) -> bool:
        return "month" in self.key

    @property
    def dims(self) -> tuple[str, ...]:
        """Key columns besides year, month and region (the ledger's ``dim1..dim3``)."""
        return tuple(k for k in self.key if k not in _TIME_AND_PLACE)

    @property
    def unit_rule(self) -> UnitRule | None:
        return self.column(self.value).unit

    def reference_units(self) -> dict[str, str]:
        """Code of the ``by`` column → its reference unit (empty when the unit is not tied to a code)."""
        rule = self.unit_rule
        if rule is None or rule.by is None or rule.field is None:
            return {}
        frame = load_codelist(self.column(rule.by).codelist or "")
        return {str(code): str(unit) for code, unit in frame[rule.field].items()}

    def upper_bounds(self) -> dict[str, float]:
        """Code → the largest value allowed, in the code's reference unit (only codes that have one)."""
        rule = self.unit_rule
        if rule is None or rule.by is None or rule.max_field is None:
            return {}
        frame = load_codelist(self.column(rule.by).codelist or "")
        return {str(code): float(bound) for code, bound in frame[rule.max_field].items() if not pd.isna(bound)}


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"{REGISTRY_FILE}: {where}: {message}")


def _unknown(fields: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(fields) - allowed)
    if extra:
        raise _fail(where, f"unknown field(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})")


def _column(raw: dict[str, Any], where: str) -> Column:
    _unknown(raw, _COLUMN_FIELDS, where)
    if "name" not in raw:
        raise _fail(where, "a column without a name")
    if raw.get("dtype") not in ("int", "float", "str"):
        raise _fail(where, f"dtype must be int, float or str, not {raw.get('dtype')!r}")
    unit = raw.get("unit")
    rule = None
    if unit is not None:
        _unknown(unit, _UNIT_FIELDS, f"{where}.unit")
        rule = UnitRule(column=unit["column"], by=unit.get("by"), field=unit.get("field"),
                        max_field=unit.get("max_field"))
    low_high = raw.get("range")
    return Column(name=str(raw["name"]), dtype=raw["dtype"], nullable=bool(raw.get("nullable", False)),
                  fill=raw.get("fill"), optional=bool(raw.get("optional", False)),
                  range=(int(low_high[0]), int(low_high[1])) if low_high else None,
                  max_length=raw.get("max_length"), codelist=raw.get("codelist"), unit=rule,
                  nonnegative=bool(raw.get("nonnegative", False)), label_zh=str(raw.get("zh", "")),
                  label_en=str(raw.get("en", "")))


def _table(name: str, raw: dict[str, Any]) -> Table:
    _unknown(raw, _TABLE_FIELDS, name)
    lacking = [f for f in ("file", "title_zh", "title_en", "key", "value", "columns") if f not in raw]
    if lacking:
        raise _fail(name, f"missing field(s) {', '.join(lacking)}")
    columns = tuple(_column(c, f"{name}.{c.get('name', '?')}") for c in raw["columns"])
    importing = raw.get("import") or {}
    _unknown(importing, {"name", "sheet_zh"}, f"{name}.import")
    spec = Table(name=name, file=str(raw["file"]), title_zh=str(raw["title_zh"]), title_en=str(raw["title_en"]),
                 columns=columns, key=tuple(raw["key"]), value=str(raw["value"]),
                 aliases=tuple(raw.get("aliases", ())), import_name=importing.get("name"),
                 sheet_zh=importing.get("sheet_zh"), reference=bool(raw.get("reference", False)))
    names = spec.column_names
    if len(set(names)) != len(names):
        raise _fail(name, "a column is listed twice")
    for listed in (*spec.key, spec.value):
        if listed not in names:
            raise _fail(name, f"key/value column {listed!r} is not a column")
    if len(spec.dims) > 3:
        raise _fail(name, "at most three key columns besides year, month and region (the ledger's dim1..dim3)")
    if spec.column(spec.value).dtype != "float":
        raise _fail(f"{name}.{spec.value}", "the value column must be float")
    for column in columns:
        if column.codelist is not None and not data_path(f"codelists/{column.codelist}.csv").is_file():
            raise _fail(f"{name}.{column.name}", f"no codelist data/codelists/{column.codelist}.csv")
        rule = column.unit
        if rule is None:
            continue
        if rule.column not in names or (rule.by is not None and rule.by not in names):
            raise _fail(f"{name}.{column.name}", "unit column or 'by' column is not a column")
        if rule.by is not None:
            by = spec.column(rule.by)
            if by.codelist is None:
                raise _fail(f"{name}.{column.name}", f"'by' column {rule.by!r} has no codelist")
            fields = load_codelist(by.codelist).columns
            for field in (rule.field, rule.max_field):
                if field is not None and field not in fields:
                    raise _fail(f"{name}.{column.name}", f"codelist {by.codelist} has no field {field!r}")
    return spec


def parse_registry(raw: dict[str, Any]) -> dict[str, Table]:
    """Tables from the parsed YAML of a registry (``{"tables": {name: {...}}}``); ``ValueError`` naming the
    table and column for a malformed one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        raise _fail("top level", "expected a mapping 'tables: {name: {...}}'")
    return {str(name): _table(str(name), spec) for name, spec in raw["tables"].items()}


@cache
def load_tables() -> dict[str, Table]:
    """Every table of the registry, in registry order (cached; see the module contract)."""
    with open(data_path(REGISTRY_FILE), encoding="utf-8") as handle:
        return parse_registry(yaml.safe_load(handle))


def table(name: str) -> Table:
    """The table called ``name`` (or one of its aliases or its import name)."""
    tables = load_tables()
    if name in tables:
        return tables[name]
    for spec in tables.values():
        if name in spec.aliases or name == spec.import_name:
            return spec
    choices = [*tables, *(a for t in tables.values() for a in t.aliases)]
    raise InputError(Problem(f"unknown table '{name}'", field="table", value=name,
                             suggestion=nearest(name, choices)))


def import_tables() -> dict[str, Table]:
    """The importable tables by import name (``energy_balance``, ``statistics``), in registry order."""
    return {t.import_name: t for t in load_tables().values() if t.import_name is not None}


def registry_problems(tables: dict[str, Table] | None = None) -> list[str]:
    """Inconsistencies :func:`load_tables` does not catch: every reference unit parses in
    :mod:`citycarbon.units`, every codelist used by a unit rule gives each code a unit, and every name is
    unique across tables and aliases. Empty when the registry is sound."""
    tables = load_tables() if tables is None else tables
    problems: list[str] = []
    names: dict[str, str] = {}
    for spec in tables.values():
        for name in (spec.name, *spec.aliases, *([spec.import_name] if spec.import_name else [])):
            if names.setdefault(name, spec.name) != spec.name:
                problems.append(f"name {name!r} is used by tables {names[name]} and {spec.name}")
        for code, unit in spec.reference_units().items():
            try:
                dimensionality(unit)
            except UnitError:
                problems.append(f"{spec.name}: {code}: reference unit {unit!r} does not parse")
        for column in spec.columns:
            if column.range is not None and column.dtype != "int":
                problems.append(f"{spec.name}.{column.name}: range on a {column.dtype} column")
            if column.fill is not None and not column.nullable:
                problems.append(f"{spec.name}.{column.name}: fill on a column that is never missing")
    return problems

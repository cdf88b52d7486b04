"""Sink parameter tables as data: loading, validation, and the rows a result cites.

Every sink parameter (wood density, expansion factors, root:shoot ratios, yield curves, land area,
wetland sequestration rates) lives in a CSV under ``data/sinks/`` with its source, document, year,
status (``official`` / ``secondary`` / ``unverified`` / ``estimate``) and the reference file's flag
(``V`` / ``V*`` / ``UNVERIFIED``). This module reads such a table, checks it, and hands out
:class:`ParameterRow` objects that results copy into their provenance.

The carbon-to-CO2 ratio (44/12, the molar-mass ratio CO2/C used by IPCC 2006 Vol. 4 Ch. 2 and the
省级温室气体清单编制指南) is not a literal here: it comes from the shared unit registry, where iam-units
defines the species ``C`` as 44/12 ``CO2``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import iam_units
import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.data import data_path
from citycarbon.errors import Problems
from citycarbon.units import UnitError, conversion_factor

STATUSES: tuple[str, ...] = ("official", "secondary", "unverified", "estimate")
FLAGS: tuple[str, ...] = ("V", "V*", "UNVERIFIED", "")

#: columns every sink parameter table carries besides its key columns
COMMON_COLUMNS: tuple[str, ...] = ("param_id", "parameter", "value", "unit", "source", "document", "year",
                                   "status", "flag", "notes")


@dataclass(frozen=True)
class ParameterRow:
    """One parameter row of a sink table: value, unit, and where it comes from."""

    param_id: str
    key: str  # forest type, ecosystem or region the row applies to
    parameter: str
    value: float
    unit: str
    source: str
    document: str
    year: int | None
    status: str
    flag: str
    notes: str = ""
    file: str = ""
    row: int = 0

    def value_in(self, unit: str) -> float:
        """The value converted to ``unit`` (raises :class:`~citycarbon.units.UnitError` on mismatch)."""
        return self.value * conversion_factor(self.unit, unit)

    def cite(self) -> dict[str, Any]:
        """The row as it goes into a result's provenance (``Provenance.factors``)."""
        return {"param_id": self.param_id, "key": self.key, "parameter": self.parameter,
                "value": self.value, "unit": self.unit, "source": self.source,
                "document": self.document, "year": self.year, "status": self.status, "flag": self.flag}


@lru_cache(maxsize=1)
def co2_per_carbon() -> float:
    """t CO2 per t C (44/12), from the unit registry's species definition (iam-units ``a_C``)."""
    return float(iam_units.convert_gwp(None, "1 t C", "CO2").to("t").magnitude)


def resolve(path: str | Path | None, default: str) -> Path:
    """A user-given table path, or the shipped ``data/<default>``."""
    return Path(path) if path is not None else data_path(default)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def read_parameter_table(path: Path, key_column: str, extra_columns: Iterable[str] = (),
                         valid_keys: Iterable[str] | None = None) -> tuple[pd.DataFrame, list[ParameterRow]]:
    """Read and check a sink parameter CSV; return the frame and its rows.

    Checks: required columns present, unique ``param_id``, numeric finite ``value``, parseable
    ``unit``, ``status`` and ``flag`` from their lists, integer ``year`` where given, ``key_column``
    in ``valid_keys`` where given. All problems are raised together as one ``InputError`` naming
    file, row (as the spreadsheet shows it: banner lines and the header count) and field, with the nearest
    valid name as suggestion.
    """
    problems = Problems()
    name = str(path)
    if not Path(path).exists():
        problems.add("parameter file not found", file=name)
        problems.raise_if_any()
    from citycarbon.importers.csvfile import read_csv_rows

    frame = read_csv_rows(path, name)  # rows as the spreadsheet shows them: banner lines and header count
    required = (key_column, *COMMON_COLUMNS, *extra_columns)
    for column in required:
        if column not in frame.columns:
            problems.add("required column missing", file=name, field=column,
                         suggestion=nearest(column, [str(c) for c in frame.columns]))
    problems.raise_if_any()
    keys = tuple(valid_keys) if valid_keys is not None else None
    rows: list[ParameterRow] = []
    seen: set[str] = set()
    for index, record in zip(frame.index, frame.to_dict("records"), strict=True):
        where = {"file": name, "row": int(index)}
        param_id = _text(record["param_id"])
        if not param_id:
            problems.add("param_id is empty", field="param_id", **where)
        elif param_id in seen:
            problems.add(f"duplicate param_id {param_id!r}", field="param_id", value=param_id, **where)
        seen.add(param_id)
        key = _text(record[key_column])
        if keys is not None and key not in keys:
            problems.add(f"unknown {key_column} {key!r}", field=key_column, value=key,
                         suggestion=nearest(key, keys), **where)
        try:
            value = float(_text(record["value"]))
        except ValueError:
            problems.add("value is not a number", field="value", value=record["value"], **where)
            continue
        if not math.isfinite(value):
            problems.add("value is not finite", field="value", value=value, **where)
        unit = _text(record["unit"])
        try:
            conversion_factor(unit, unit)
        except UnitError:
            problems.add(f"unknown unit {unit!r}", field="unit", value=unit, **where)
        status = _text(record["status"])
        if status not in STATUSES:
            problems.add(f"unknown status {status!r}", field="status", value=status,
                         suggestion=nearest(status, STATUSES), **where)
        flag = _text(record["flag"])
        if flag not in FLAGS:
            problems.add(f"unknown flag {flag!r}", field="flag", value=flag,
                         suggestion=nearest(flag, [f for f in FLAGS if f]), **where)
        year_text = _text(record["year"])
        year: int | None = None
        if year_text:
            try:
                year = int(year_text)
            except ValueError:
                problems.add("year is not an integer", field="year", value=year_text, **where)
        rows.append(ParameterRow(param_id=param_id, key=key, parameter=_text(record["parameter"]),
                                 value=value, unit=unit, source=_text(record["source"]),
                                 document=_text(record["document"]), year=year, status=status,
                                 flag=flag, notes=_text(record["notes"]), file=name, row=index))
    problems.raise_if_any()
    return frame, rows

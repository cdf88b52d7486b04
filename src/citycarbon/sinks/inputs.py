"""Checking the forest and wetland input tables (Dalian dataset format) at the boundary.

Forest: ``year, region, variable, value, unit, status, source`` with variables ``forest_coverage``
(a fraction; ``fraction``, ``1``, ``dimensionless``, ``%`` accepted), ``forest_stock`` (a volume,
stored as m³) and ``forest_area`` (an area, stored as ha).
Wetland: ``year, region, ecosystem, area, unit, status, source`` (an area, stored as ha).

Every problem is an ``InputError`` naming the file (``frame.attrs["file"]`` when the loader set it,
else ``forest``/``wetland``), the 1-based data row and the field, with the nearest valid name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.sinks.parameters import STATUSES
from citycarbon.units import UnitError, conversion_factor

FOREST_COLUMNS: tuple[str, ...] = ("year", "region", "variable", "value", "unit", "status", "source")
WETLAND_COLUMNS: tuple[str, ...] = ("year", "region", "ecosystem", "area", "unit", "status", "source")
#: forest variables and the unit each is stored in after checking
FOREST_VARIABLES: dict[str, str] = {"forest_coverage": "dimensionless", "forest_stock": "m**3", "forest_area": "ha"}
#: spellings of a plain fraction that are not pint units
FRACTION_SPELLINGS: tuple[str, ...] = ("fraction", "ratio", "share")


def file_name(frame: pd.DataFrame, default: str) -> str:
    return str(frame.attrs.get("file", default))


def sheet_rows(frame: pd.DataFrame) -> list[int]:
    """The spreadsheet row of each row of ``frame`` (the header is row 1, a file's banner lines count):
    :func:`citycarbon.importers.schemas.row_numbers`."""
    from citycarbon.importers.schemas import row_numbers

    return [int(n) for n in row_numbers(frame)]


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _columns(frame: pd.DataFrame, required: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(Problem("expected a pandas DataFrame", file=name, value=type(frame).__name__))
    problems = Problems()
    present = [str(c) for c in frame.columns]
    for column in required:
        if column not in present:
            problems.add("required column missing", file=name, field=column, suggestion=nearest(column, present))
    problems.raise_if_any()


def _common(record: dict[str, Any], index: int, name: str, problems: Problems) -> tuple[int | None, str, str]:
    where = {"file": name, "row": index}
    year: int | None = None
    text = _text(record["year"])
    try:
        year = int(float(text))
        if year != float(text):
            raise ValueError
    except ValueError:
        problems.add("year is not an integer", field="year", value=record["year"], **where)
        year = None
    region = _text(record["region"])
    if not region:
        problems.add("region is empty", field="region", **where)
    status = _text(record["status"])
    if status not in STATUSES:
        problems.add(f"unknown status {status!r}", field="status", value=status,
                     suggestion=nearest(status, STATUSES), **where)
    return year, region, status


def _amount(value: object, unit: str, target: str, index: int, name: str, field_name: str,
            problems: Problems) -> float | None:
    where = {"file": name, "row": index}
    try:
        number = float(_text(value))
    except ValueError:
        problems.add("not a number", field=field_name, value=value, **where)
        return None
    spelled = "dimensionless" if unit.lower() in FRACTION_SPELLINGS else unit
    try:
        converted = number * conversion_factor(spelled, target)
    except UnitError:
        problems.add(f"unit {unit!r} is not convertible to {target!r}", field="unit", value=unit,
                     suggestion=target, **where)
        return None
    if not math.isfinite(converted) or converted < 0:
        problems.add("must be a non-negative finite number", field=field_name, value=value, **where)
        return None
    return converted


def check_forest(frame: pd.DataFrame) -> pd.DataFrame:
    """Checked forest rows: ``year, region, variable, value, unit, status, source, row`` in stored units.

    Raises ``InputError`` for missing columns, unknown variables (with the nearest name), non-numeric,
    negative or mis-unit values, coverage above 1, unknown statuses and duplicate (year, region, variable).
    """
    name = file_name(frame, "forest")
    _columns(frame, FOREST_COLUMNS, name)
    problems = Problems()
    out: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for index, record in zip(sheet_rows(frame), frame.to_dict("records"), strict=True):
        year, region, status = _common(record, index, name, problems)
        variable = _text(record["variable"])
        if variable not in FOREST_VARIABLES:
            problems.add(f"unknown variable {variable!r}", file=name, row=index, field="variable", value=variable,
                         suggestion=nearest(variable, tuple(FOREST_VARIABLES)))
            continue
        target = FOREST_VARIABLES[variable]
        value = _amount(record["value"], _text(record["unit"]), target, index, name, "value", problems)
        if value is not None and variable == "forest_coverage" and value > 1:
            problems.add("forest_coverage above 1 (100 %)", file=name, row=index, field="value",
                         value=record["value"])
        key = (year, region, variable)
        if key in seen:
            problems.add(f"duplicate {variable} for {region} {year} (first at row {seen[key]})", file=name,
                         row=index, field="variable", value=variable)
        seen.setdefault(key, index)
        out.append({"year": year, "region": region, "variable": variable, "value": value, "unit": target,
                    "status": status, "source": _text(record["source"]), "row": index})
    problems.raise_if_any()
    return pd.DataFrame(out, columns=[*FOREST_COLUMNS, "row"])


def check_wetland(frame: pd.DataFrame, ecosystems: Iterable[str]) -> pd.DataFrame:
    """Checked wetland rows: ``year, region, ecosystem, area_ha, status, source, row``.

    Raises ``InputError`` for missing columns, unknown ecosystems (with the nearest name), negative
    or non-numeric areas, non-area units, unknown statuses and duplicate (year, region, ecosystem).
    """
    name = file_name(frame, "wetland")
    _columns(frame, WETLAND_COLUMNS, name)
    valid = tuple(ecosystems)
    problems = Problems()
    out: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for index, record in zip(sheet_rows(frame), frame.to_dict("records"), strict=True):
        year, region, status = _common(record, index, name, problems)
        ecosystem = _text(record["ecosystem"])
        if ecosystem not in valid:
            problems.add(f"unknown ecosystem {ecosystem!r}", file=name, row=index, field="ecosystem",
                         value=ecosystem, suggestion=nearest(ecosystem, valid))
            continue
        area = _amount(record["area"], _text(record["unit"]), "ha", index, name, "area", problems)
        key = (year, region, ecosystem)
        if key in seen:
            problems.add(f"duplicate {ecosystem} area for {region} {year} (first at row {seen[key]})", file=name,
                         row=index, field="ecosystem", value=ecosystem)
        seen.setdefault(key, index)
        out.append({"year": year, "region": region, "ecosystem": ecosystem, "area_ha": area, "status": status,
                    "source": _text(record["source"]), "row": index})
    problems.raise_if_any()
    return pd.DataFrame(out, columns=["year", "region", "ecosystem", "area_ha", "status", "source", "row"])


def pick_region(checked: pd.DataFrame, region: str | None, name: str) -> str:
    """The region to account: the one asked for, or the only one present."""
    regions = sorted({str(r) for r in checked["region"]})
    if region is not None:
        if str(region) not in regions:
            raise InputError(Problem(f"region {region!r} not in the input", file=name, field="region",
                                     value=region, suggestion=nearest(region, regions)))
        return str(region)
    if not regions:
        raise InputError(Problem("the input has no rows", file=name, field="region"))
    if len(regions) != 1:
        raise InputError(Problem(f"several regions in the input ({', '.join(regions)}); name one", file=name,
                                 field="region", value=regions))
    return regions[0]

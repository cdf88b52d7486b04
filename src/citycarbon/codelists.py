"""Codelists shipped in ``data/codelists``: fuels, sectors, flows, regions; nearest-name suggestions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

import pandas as pd
from rapidfuzz import fuzz, process

from citycarbon.data import read_csv

#: regions a city registered in the store (``citycarbon city init --regions``) that the shipped GB/T 2260
#: codelist does not list; set by :func:`registered_regions` around a validation (the import workflow)
_REGISTERED: ContextVar[pd.DataFrame | None] = ContextVar("citycarbon_registered_regions", default=None)
REGION_COLUMNS = ("code", "name_zh", "name_en", "level", "parent", "notes")


@cache
def _shipped(name: str) -> pd.DataFrame:
    frame = read_csv(f"codelists/{name}.csv")
    key = frame.columns[0]
    if frame[key].duplicated().any():
        raise ValueError(f"codelist {name}: duplicate keys {frame[key][frame[key].duplicated()].tolist()}")
    return frame.set_index(key, drop=False)


def load_codelist(name: str) -> pd.DataFrame:
    """Load ``data/codelists/<name>.csv``; the first column is the key. Inside :func:`registered_regions`, the
    ``regions`` codelist also holds the regions the store registered for its cities."""
    frame = _shipped(name)
    extra = _REGISTERED.get() if name == "regions" else None
    if extra is None or extra.empty:
        return frame
    shipped = {str(code) for code in frame.index}
    added = extra[~extra["code"].astype(str).isin(shipped)]
    if added.empty:
        return frame
    both = pd.concat([frame.reset_index(drop=True).astype({"code": str}), added], ignore_index=True)
    return both.set_index("code", drop=False)


@contextmanager
def registered_regions(rows: Iterable[dict[str, object]]) -> Iterator[None]:
    """Within the block, the ``regions`` codelist also lists ``rows`` (dicts of :data:`REGION_COLUMNS`: the
    regions stored for the deployment's cities), so a new city's district rows pass the region checks."""
    frame = pd.DataFrame([{column: row.get(column) for column in REGION_COLUMNS} for row in rows],
                         columns=list(REGION_COLUMNS))
    frame["code"] = frame["code"].astype(str)
    token = _REGISTERED.set(frame)
    try:
        yield
    finally:
        _REGISTERED.reset(token)


def codes(name: str) -> list[str]:
    frame = load_codelist(name)
    return [str(v) for v in frame.index]


def nearest(value: object, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest valid name to ``value`` (for 'did you mean' messages), or None if nothing is close."""
    if value is None or not choices:
        return None
    match = process.extractOne(str(value), list(choices), scorer=fuzz.ratio, score_cutoff=50)
    return match[0] if match else None


def fuel_table() -> pd.DataFrame:
    frame = load_codelist("fuels").copy()
    for col in ("fossil", "primary_electricity"):
        frame[col] = frame[col].astype(str).str.lower().eq("true")
    return frame


def sector_table() -> pd.DataFrame:
    return load_codelist("sectors")


def indicator_units(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``{name: unit}`` from the variable codelist (``data/codelists/indicators.csv``), in the order of
    ``names``: the one place a variable's unit is written. Raises KeyError naming any name it lacks."""
    table = load_codelist("indicators")
    missing = [n for n in names if n not in table.index]
    if missing:
        raise KeyError(f"not in data/codelists/indicators.csv: {', '.join(missing)}")
    return {n: str(table.at[n, "unit"]) for n in names}


def iamc_variable(name: str) -> str:
    """The IAMC variable name of the codelist variable ``name`` (KeyError when it has none)."""
    value = load_codelist("indicators").at[name, "iamc_variable"]
    if not isinstance(value, str) or not value:
        raise KeyError(f"{name} has no iamc_variable in data/codelists/indicators.csv")
    return value

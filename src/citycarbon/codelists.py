"""Codelists shipped in ``data/codelists``: fuels, sectors, flows, regions; nearest-name suggestions."""

from __future__ import annotations

from functools import cache

import pandas as pd
from rapidfuzz import fuzz, process

from citycarbon.data import read_csv


@cache
def load_codelist(name: str) -> pd.DataFrame:
    """Load ``data/codelists/<name>.csv``; the first column is the key."""
    frame = read_csv(f"codelists/{name}.csv")
    key = frame.columns[0]
    if frame[key].duplicated().any():
        raise ValueError(f"codelist {name}: duplicate keys {frame[key][frame[key].duplicated()].tolist()}")
    return frame.set_index(key, drop=False)


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

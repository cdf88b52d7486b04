"""Levers and uncertain parameters of the pathway model, read from ``data/pathways/*.csv``.

Every value lives in a data file with its source and status (``levers.csv``, ``parameters.csv``,
``constants.csv``, ``gdp_paths.csv``); this module only reads and checks them. The model's parameter
vector is the levers (in file order) followed by the uncertain parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from citycarbon.data import data_path, read_csv_file
from citycarbon.errors import InputError, Problem
from citycarbon.units import is_unit

SHAPES = ("linear", "s_curve", "step")
GROUPS = (*tuple(str(g) for g in range(1, 11)), "baseline", "uncertainty", "cost")
STATUSES = ("official", "secondary", "unverified", "estimate")

LEVER_COLUMNS = ("id", "name_zh", "name_en", "tasks", "group", "unit", "default", "plan", "min", "max",
                 "start_year", "full_year", "shape", "direction", "source", "status")
PARAMETER_COLUMNS = ("id", "name_zh", "name_en", "unit", "default", "low", "high", "source", "status")
CONSTANT_COLUMNS = ("id", "value", "unit", "source", "status")
COST_COLUMNS = (*PARAMETER_COLUMNS, "technology", "item", "price_year")
COST_ITEMS = ("capex", "fom", "life", "learning_rate", "price", "discount_rate")
POTENTIAL_COLUMNS = ("id", "name_zh", "name_en", "technology", "lever", "value", "unit", "year", "source", "status")
LEARNING_COLUMNS = ("technology", "year", "doublings", "source", "status")


@dataclass(frozen=True)
class Lever:
    """One policy lever: its BAU default, the plan's setting, its range and its timing."""

    id: str
    name_zh: str
    name_en: str
    tasks: tuple[int, ...]
    group: str
    unit: str
    default: float
    plan: float
    min: float
    max: float
    start_year: int
    full_year: int
    shape: str
    direction: int
    source: str
    status: str

    def ramp(self, years: np.ndarray, steepness: float) -> np.ndarray:
        """Share of the lever's full effect reached in each of ``years`` (0 before start, 1 from full)."""
        return ramp(years, self.start_year, self.full_year, self.shape, steepness)

    def to_dict(self) -> dict:
        return {"id": self.id, "name_zh": self.name_zh, "name_en": self.name_en, "tasks": list(self.tasks),
                "group": self.group, "unit": self.unit, "default": self.default, "plan": self.plan,
                "min": self.min, "max": self.max, "start_year": self.start_year, "full_year": self.full_year,
                "shape": self.shape, "direction": self.direction, "source": self.source, "status": self.status}


def ramp(years: np.ndarray, start: int, full: int, shape: str, steepness: float) -> np.ndarray:
    """Timing profile in [0, 1]: ``linear`` and ``s_curve`` (logistic, rescaled to hit 0 and 1 exactly)
    rise from ``start`` to ``full``; ``step`` is 1 from ``start``."""
    years = np.asarray(years, dtype=float)
    if shape == "step" or full <= start:
        return (years >= start).astype(float)
    x = np.clip((years - start) / (full - start), 0.0, 1.0)
    if shape == "linear":
        return x
    lo, hi = 1.0 / (1.0 + math.exp(steepness / 2)), 1.0 / (1.0 + math.exp(-steepness / 2))
    return (1.0 / (1.0 + np.exp(-steepness * (x - 0.5))) - lo) / (hi - lo)


@dataclass(frozen=True)
class ParameterSet:
    """The model's parameter vector: levers first, then uncertain parameters (numpy arrays of length p)."""

    names: list[str]
    default: np.ndarray
    low: np.ndarray
    high: np.ndarray
    group: list[str]
    kind: list[str]  # "lever" | "uncertain" | "cost" (a cost figure's range, issue 17)
    unit: list[str]
    source: list[str]
    direction: np.ndarray  # +1 raising it cuts emissions, -1 raising it adds, 0 not applicable
    plan: np.ndarray  # the plan's setting (levers) or the default (uncertain parameters)
    status: list[str]

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def levers(self) -> list[str]:
        return [n for n, k in zip(self.names, self.kind, strict=True) if k == "lever"]

    @property
    def uncertain(self) -> list[str]:
        return [n for n, k in zip(self.names, self.kind, strict=True) if k == "uncertain"]

    @property
    def costs(self) -> list[str]:
        """The cost figures with a range (``costs.csv``), sampled by ensembles beside the uncertain parameters."""
        return [n for n, k in zip(self.names, self.kind, strict=True) if k == "cost"]

    def rows(self) -> list[dict]:
        """One dict per parameter (for tables and JSON)."""
        return [{"name": n, "kind": k, "group": g, "unit": u, "default": float(d), "plan": float(p),
                 "low": float(lo), "high": float(hi), "direction": int(di), "status": s, "source": src}
                for n, k, g, u, d, p, lo, hi, di, s, src in zip(
                    self.names, self.kind, self.group, self.unit, self.default, self.plan, self.low,
                    self.high, self.direction, self.status, self.source, strict=True)]


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = read_csv_file(path, dtype=str).fillna("")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}", file=path.name, field=missing[0]))
    return frame


def _number(value: str, path: Path, row: int, field: str, problems: list[Problem]) -> float:
    try:
        number = float(value)
    except ValueError:
        problems.append(Problem(f"'{value}' is not a number", file=path.name, row=row, field=field, value=value))
        return math.nan
    if not math.isfinite(number):
        problems.append(Problem("must be finite", file=path.name, row=row, field=field, value=value))
    return number


def _common(record: dict, path: Path, row: int, problems: list[Problem]) -> None:
    if not record["id"] or not record["id"].replace("_", "").isalnum() or record["id"] != record["id"].lower():
        problems.append(Problem("id must be lower_snake_case", file=path.name, row=row, field="id",
                                value=record["id"]))
    if not is_unit(record["unit"]):
        problems.append(Problem(f"unknown unit '{record['unit']}'", file=path.name, row=row, field="unit",
                                value=record["unit"]))
    if record["status"] not in STATUSES:
        problems.append(Problem(f"status must be one of {', '.join(STATUSES)}", file=path.name, row=row,
                                field="status", value=record["status"]))
    if not record["source"]:
        problems.append(Problem("every row needs a source", file=path.name, row=row, field="source"))


@cache
def load_levers(path: str | None = None) -> tuple[Lever, ...]:
    """Levers from ``levers.csv`` (or ``path``), checked; problems name file, row and field."""
    file = Path(path) if path else data_path("pathways/levers.csv")
    frame = _read(file, LEVER_COLUMNS)
    problems: list[Problem] = []
    levers = []
    for i, record in enumerate(frame.to_dict("records"), start=1):
        _common(record, file, i, problems)
        values = {f: _number(record[f], file, i, f, problems) for f in ("default", "plan", "min", "max")}
        years = {f: _number(record[f], file, i, f, problems) for f in ("start_year", "full_year", "direction")}
        if record["shape"] not in SHAPES:
            problems.append(Problem(f"shape must be one of {', '.join(SHAPES)}", file=file.name, row=i,
                                    field="shape", value=record["shape"]))
        if record["group"] not in GROUPS:
            problems.append(Problem("group must be a plan task group 1-10 or 'baseline'", file=file.name, row=i,
                                    field="group", value=record["group"]))
        if not all(math.isnan(v) for v in values.values()):
            for name in ("default", "plan"):
                if not values["min"] <= values[name] <= values["max"]:
                    problems.append(Problem(f"{name} {values[name]} outside [min, max]", file=file.name, row=i,
                                            field=name, value=values[name]))
        try:
            tasks = tuple(int(t) for t in record["tasks"].split(";") if t.strip())
        except ValueError:
            problems.append(Problem("tasks must be task numbers separated by ';'", file=file.name, row=i,
                                    field="tasks", value=record["tasks"]))
            tasks = ()
        if problems:
            continue
        levers.append(Lever(record["id"], record["name_zh"], record["name_en"], tasks, record["group"],
                            record["unit"], values["default"], values["plan"], values["min"], values["max"],
                            int(years["start_year"]), int(years["full_year"]), record["shape"],
                            int(years["direction"]), record["source"], record["status"]))
    if problems:
        raise InputError(problems)
    return tuple(levers)


@cache
def load_uncertain(path: str | None = None) -> pd.DataFrame:
    """Uncertain parameters from ``parameters.csv`` (or ``path``) as a checked frame indexed by id."""
    return _ranged_table(Path(path) if path else data_path("pathways/parameters.csv"), PARAMETER_COLUMNS)


def _ranged_table(file: Path, columns: tuple[str, ...],
                  check_row: Callable[[dict, Path, int, float, float, float, list[Problem]], None] | None = None
                  ) -> pd.DataFrame:
    """A table of figures with ``default``, ``low`` and ``high`` (parameters.csv, costs.csv): every row checked
    (id, unit, status, source, low <= default <= high, then ``check_row``), problems naming file, row and field;
    the three columns as floats, indexed by id."""
    frame = _read(file, columns)
    problems: list[Problem] = []
    for i, record in enumerate(frame.to_dict("records"), start=1):
        _common(record, file, i, problems)
        low, default, high = (_number(record[f], file, i, f, problems) for f in ("low", "default", "high"))
        if not low <= default <= high:
            problems.append(Problem(f"default {default} outside [low, high]", file=file.name, row=i,
                                    field="default", value=default))
        if check_row is not None:
            check_row(record, file, i, low, default, high, problems)
    if problems:
        raise InputError(problems)
    for column in ("default", "low", "high"):
        frame[column] = frame[column].astype(float)
    return frame.set_index("id", drop=False)


@cache
def load_constants(path: str | None = None) -> dict[str, float]:
    """Fixed constants from ``constants.csv`` as ``{id: value}`` (units in the file)."""
    file = Path(path) if path else data_path("pathways/constants.csv")
    frame = _read(file, CONSTANT_COLUMNS)
    problems: list[Problem] = []
    out = {}
    for i, record in enumerate(frame.to_dict("records"), start=1):
        _common(record, file, i, problems)
        out[record["id"]] = _number(record["value"], file, i, "value", problems)
    if problems:
        raise InputError(problems)
    return out


@cache
def load_gdp_paths(path: str | None = None) -> pd.DataFrame:
    """GDP growth paths (low/central/high per period) from ``gdp_paths.csv``."""
    file = Path(path) if path else data_path("pathways/gdp_paths.csv")
    frame = _read(file, ("from_year", "to_year", "low", "central", "high", "status", "source"))
    for column in ("from_year", "to_year"):
        frame[column] = frame[column].astype(int)
    for column in ("low", "central", "high"):
        frame[column] = frame[column].astype(float)
    bad = frame[(frame["low"] > frame["central"]) | (frame["central"] > frame["high"])]
    if not bad.empty:
        raise InputError(Problem("low <= central <= high is required", file=file.name, row=int(bad.index[0]) + 1,
                                 field="central"))
    return frame


def parameter_set(levers: tuple[Lever, ...], uncertain: pd.DataFrame,
                  costs: pd.DataFrame | None = None) -> ParameterSet:
    """The vector layout: levers (file order), uncertain parameters (file order), then the cost figures with a
    range (``costs.csv`` rows with low < high, file order; fixed figures such as lifetimes are constants)."""
    ranged = costs[costs["low"] < costs["high"]] if costs is not None else uncertain.iloc[0:0]
    extra = pd.concat([uncertain, ranged[list(PARAMETER_COLUMNS)]]) if len(ranged) else uncertain
    kinds = ["uncertain"] * len(uncertain) + ["cost"] * len(ranged)
    names = [lv.id for lv in levers] + list(extra["id"])
    return ParameterSet(
        names=names,
        default=np.array([lv.default for lv in levers] + list(extra["default"]), dtype=float),
        low=np.array([lv.min for lv in levers] + list(extra["low"]), dtype=float),
        high=np.array([lv.max for lv in levers] + list(extra["high"]), dtype=float),
        group=[lv.group for lv in levers] + ["uncertainty" if k == "uncertain" else "cost" for k in kinds],
        kind=["lever"] * len(levers) + kinds,
        unit=[lv.unit for lv in levers] + list(extra["unit"]),
        source=[lv.source for lv in levers] + list(extra["source"]),
        direction=np.array([lv.direction for lv in levers] + [0] * len(extra), dtype=int),
        plan=np.array([lv.plan for lv in levers] + list(extra["default"]), dtype=float),
        status=[lv.status for lv in levers] + list(extra["status"]),
    )


@cache
def load_costs(path: str | None = None) -> pd.DataFrame:
    """Cost figures from ``costs.csv`` (or ``path``): a checked frame indexed by id, with technology, item
    (:data:`COST_ITEMS`) and price year; low <= default <= high (low = high: a fixed figure)."""
    return _ranged_table(Path(path) if path else data_path("pathways/costs.csv"), COST_COLUMNS, _check_cost_row)


def _check_cost_row(record: dict, file: Path, i: int, low: float, default: float, high: float,
                    problems: list[Problem]) -> None:
    """costs.csv beyond the range: a known item, a technology, a lifetime as one positive figure."""
    if record["item"] not in COST_ITEMS:
        problems.append(Problem(f"item must be one of {', '.join(COST_ITEMS)}", file=file.name, row=i,
                                field="item", value=record["item"]))
    if not record["technology"]:
        problems.append(Problem("every cost row names its technology or measure", file=file.name, row=i,
                                field="technology"))
    if record["item"] == "life" and not (low == high and default > 0):
        problems.append(Problem("a lifetime is one positive figure (low = default = high)", file=file.name,
                                row=i, field="default", value=record["default"]))


@cache
def load_potentials(path: str | None = None) -> pd.DataFrame:
    """Technical potentials from ``potentials.csv`` (or ``path``), checked, indexed by id."""
    file = Path(path) if path else data_path("pathways/potentials.csv")
    frame = _read(file, POTENTIAL_COLUMNS)
    problems: list[Problem] = []
    for i, record in enumerate(frame.to_dict("records"), start=1):
        _common(record, file, i, problems)
        value = _number(record["value"], file, i, "value", problems)
        if not value >= 0:
            problems.append(Problem("a potential is not negative", file=file.name, row=i, field="value",
                                    value=record["value"]))
    if problems:
        raise InputError(problems)
    frame["value"] = frame["value"].astype(float)
    frame["year"] = frame["year"].astype(int)
    return frame.set_index("id", drop=False)


@cache
def load_learning(path: str | None = None) -> pd.DataFrame:
    """Doublings of global cumulative deployment per technology and year (``learning.csv``), checked."""
    file = Path(path) if path else data_path("pathways/learning.csv")
    frame = _read(file, LEARNING_COLUMNS)
    problems: list[Problem] = []
    for i, record in enumerate(frame.to_dict("records"), start=1):
        _number(record["year"], file, i, "year", problems)
        _number(record["doublings"], file, i, "doublings", problems)
        if record["status"] not in STATUSES:
            problems.append(Problem(f"status must be one of {', '.join(STATUSES)}", file=file.name, row=i,
                                    field="status", value=record["status"]))
        if not record["source"]:
            problems.append(Problem("every row needs a source", file=file.name, row=i, field="source"))
    if problems:
        raise InputError(problems)
    frame["year"] = frame["year"].astype(int)
    frame["doublings"] = frame["doublings"].astype(float)
    return frame

"""The budget check of a project and the pipeline against the remaining room (issue 15 item 4), as arithmetic.

Pure domain: DataFrames and floats in, results out; the service :mod:`citycarbon.services.projects.budget`
resolves the inputs (the tracking series of the city and of the project's district, the plan's targets with the
values the office set, the warning rule set, the project's figures). Method (docs/projects.md, "Budget check"):

* **Series.** ``history`` is indexed by year with the columns of :data:`SERIES`: the dual-control energy total
  (``energy_tce``: consumption less feedstock 原料用能 and the renewable increment, as the accounting profile
  deducts them, 发改环资〔2022〕803号, 发改运行〔2022〕1258号), GDP at constant prices, CO2 and energy CO2.
* **Projection.** Each series is projected past its last actual year to the checked year by the tracking
  trend (:func:`citycarbon.tracking.projection.project_trend`: log-linear OLS on the rule set's window), the
  same method the tracking page uses.
* **The project.** From its commissioning year on (never in an actual year: a project under review is not in
  the statistics yet) it adds its dual-control tce to ``energy_tce`` and its CO2 to ``co2_t`` and
  ``co2_energy_t``, at full annual consumption (``data/projects/budget.yaml``, an assumption).
* **Intensities.** I = E / GDP (tce per 10⁴ CNY), the fall against the base year 1 − I_Y / I_base; the CO2
  intensity is energy CO2 / GDP, its fall likewise. The project changes the intensity fall by
  −P / (GDP_Y · I_base).
* **Warning level.** The year's projected intensity is rated as tracking rates an actual
  (:func:`citycarbon.tracking.progress.track_target` on the series with the projected years, rule set e.g.
  发改办环资〔2021〕629号): with and without the project; ``moves_level`` says whether they differ.
* **Room.** The target-implied allowance of the year is I_base · (1 − target fall) · GDP_Y; the room is the
  allowance less the projected consumption without any project; the pipeline's approved (and then pending)
  projects counted in the year are taken from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import yaml

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem
from citycarbon.plan import Target
from citycarbon.tracking.progress import TargetInfo, describe_target, track_target
from citycarbon.tracking.projection import project_trend
from citycarbon.tracking.warning_rules import RuleSet
from citycarbon.units import is_unit

__all__ = ["METHOD_VERSION", "SERIES", "STATE_GROUPS", "UNITS", "Assumptions", "Contribution", "Position",
           "YearCheck", "aggregate_pipeline", "allowance", "check_year", "commissioning_year", "extend",
           "load_budget_assumptions", "position", "room"]

#: the version of the budget method (bump when a check's figures could change)
METHOD_VERSION = "project-budget/1"
#: the columns of a history frame (indexed by year)
SERIES: tuple[str, ...] = ("energy_tce", "gdp_10k_yuan", "co2_t", "co2_energy_t")
#: the unit of every figure of a check (checked with citycarbon.units at import)
UNITS: dict[str, str] = {
    "energy_tce": "tce", "gdp_10k_yuan": "10^4 CNY", "co2_t": "t", "co2_energy_t": "t",
    "energy_intensity": "tce/(10^4 CNY)", "co2_intensity": "t/(10^4 CNY)",
    "energy_intensity_fall": "dimensionless", "co2_intensity_fall": "dimensionless",
    "energy_target_fall": "dimensionless", "co2_target_fall": "dimensionless",
    "allowance_tce": "tce", "room_tce": "tce", "dual_control_tce": "tce",
}
_BAD_UNITS = [u for u in UNITS.values() if not is_unit(u)]
if _BAD_UNITS:  # pragma: no cover - a typo in UNITS
    raise RuntimeError(f"not units: {_BAD_UNITS}")
#: workflow states of the pipeline's groups (proj_projects.state)
STATE_GROUPS: dict[str, tuple[str, ...]] = {
    "pending": ("submitted", "incomplete", "under_review"),
    "approved": ("approved", "approved_conditions", "commissioned", "accepted"),
}


@dataclass(frozen=True)
class Assumptions:
    """``data/projects/budget.yaml``: the commissioning lag (years after the application) and its status."""

    commissioning_lag_years: int
    lag_status: str
    lag_source: str
    full_year_status: str
    full_year_source: str


@cache
def load_budget_assumptions() -> Assumptions:
    path = data_path("projects/budget.yaml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        lag = raw["commissioning_lag"]
        full = raw["full_year_from_commissioning"]
        years = int(lag["years"])
        if years < 0:
            raise ValueError(years)
        return Assumptions(years, str(lag["status"]), str(lag["source"]), str(full["status"]), str(full["source"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(Problem(f"bad budget assumptions: {exc}", file=path.name, field="commissioning_lag",
                                 message_zh="预算测算假设文件格式错误")) from exc


def commissioning_year(raw: object, application_date: date, lag_years: int) -> tuple[int, str]:
    """The year a project starts counting and where it came from: ``raw`` (a project's ``data.commissioning``:
    a year, ``"YYYY"`` or an ISO date) → (year, ``"data"``); none → (application year + ``lag_years``,
    ``"assumed"``). Raises :class:`InputError` (field ``commissioning``) for a value that is no year."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return application_date.year + lag_years, "assumed"
    text = str(raw).strip()
    head = text[:4]
    if not head.isdigit() or (len(text) > 4 and text[4] not in "-/") or not 1900 < int(head) < 2200:
        raise InputError(Problem(f"commissioning {raw!r} is not a year or a date", field="commissioning",
                                 value=raw, message_zh="预计投产时间须为年份或日期"))
    return int(head), "data"


@dataclass(frozen=True)
class Contribution:
    """What a project adds to a year from its commissioning year on: dual-control tce and CO2 (t)."""

    dual_control_tce: float
    co2_t: float
    commissioning_year: int

    def counted(self, year: int) -> bool:
        return year >= self.commissioning_year


def extend(history: pd.DataFrame, year: int, *, window: int, interval: float) -> pd.DataFrame:
    """``history`` (index: year; :data:`SERIES` columns) with a row per year after its last actual year up to
    ``year``, each series projected by the tracking trend; column ``projected`` marks those rows.

    A frame already extended (with its ``projected`` column) through ``year`` is returned as it is. Raises
    :class:`InputError` when a series has fewer than 2 actual years."""
    if "projected" in history.columns and len(history) and int(history.index.max()) >= year:
        return history
    frame = history.loc[:, list(SERIES)].astype(float).sort_index()
    frame = frame[frame.notna().all(axis=1)]
    frame["projected"] = False
    last = int(frame.index.max()) if len(frame) else None
    if last is None or last >= year:
        return frame
    rows: dict[int, dict[str, Any]] = {y: {"projected": True} for y in range(last + 1, year + 1)}
    for name in SERIES:
        values = {int(y): float(v) for y, v in frame[name].items()}
        for y in rows:
            found = project_trend(values, y, window=window, interval=interval)
            if found is None:
                raise InputError(Problem(f"too few years of {name} to project {y}", field=name, value=len(values),
                                         message_zh="历史数据年份不足，无法外推"))
            rows[y][name] = found.value
    added = pd.DataFrame.from_dict(rows, orient="index")
    return pd.concat([frame, added[frame.columns]]).sort_index()


def _with(frame: pd.DataFrame, contribution: Contribution) -> pd.DataFrame:
    """``frame`` with the project added to its projected years from the commissioning year on."""
    out = frame.copy()
    counted = out["projected"].to_numpy(dtype=bool) & (out.index.to_numpy() >= contribution.commissioning_year)
    for column, added in (("energy_tce", contribution.dual_control_tce), ("co2_t", contribution.co2_t),
                          ("co2_energy_t", contribution.co2_t)):
        out[column] = out[column].to_numpy(dtype=float) + np.where(counted, added, 0.0)
    return out


def _ratio(a: float, b: float) -> float | None:
    return a / b if b and math.isfinite(a) and math.isfinite(b) else None


@dataclass(frozen=True)
class Position:
    """A unit's (city or district) dual-control position in a year: totals, intensities, falls against the base
    year, and the warning level tracking would give the year's figures (None: not rated)."""

    year: int
    projected: bool
    energy_tce: float
    gdp_10k_yuan: float
    co2_t: float
    co2_energy_t: float
    energy_intensity: float | None
    energy_intensity_fall: float | None
    co2_intensity: float | None
    co2_intensity_fall: float | None
    level: int | None = None
    level_name_zh: str | None = None
    level_name_en: str | None = None
    colour: str | None = None
    co2_level: int | None = None
    co2_colour: str | None = None

    def to_dict(self) -> dict[str, Any]:
        figures = ("energy_tce", "gdp_10k_yuan", "co2_t", "co2_energy_t", "energy_intensity",
                   "energy_intensity_fall", "co2_intensity", "co2_intensity_fall")
        return {"year": self.year, "projected": self.projected,
                **{name: {"value": getattr(self, name), "unit": UNITS[name]} for name in figures},
                "level": self.level, "level_name_zh": self.level_name_zh, "level_name_en": self.level_name_en,
                "colour": self.colour, "co2_level": self.co2_level, "co2_colour": self.co2_colour}


#: a target joined with its indicator (describe_target reads the indicator table), per target and value
_INFO: dict[tuple[Any, ...], TargetInfo] = {}


def _rate(target: Target | None, base_year: int, history: Mapping[int, float], year: int,
          rules: RuleSet) -> dict[str, Any] | None:
    if target is None:
        return None
    key = (target.id, target.indicator, target.year, target.value, target.base_year, base_year)
    info = _INFO.get(key)
    if info is None:
        info = _INFO[key] = describe_target(target, base_year)
    status = track_target(info, history, year, rules)
    return {"level": status.level, "level_name_zh": status.level_name_zh, "level_name_en": status.level_name_en,
            "colour": status.colour}


def position(frame: pd.DataFrame, year: int, base_year: int, *, energy_target: Target | None = None,
             co2_target: Target | None = None, rules: RuleSet | None = None) -> Position:
    """The position in ``year`` of an extended frame (:func:`extend`, optionally with a project)."""
    if year not in frame.index or base_year not in frame.index:
        missing = year if year not in frame.index else base_year
        raise InputError(Problem(f"no figures for {missing}", field="year", value=missing,
                                 message_zh="该年份无数据"))
    columns = {name: dict(zip(frame.index.tolist(), frame[name].tolist(), strict=True))
               for name in (*SERIES, "projected")}
    row = {name: float(columns[name][year]) for name in SERIES}
    base = {name: float(columns[name][base_year]) for name in SERIES}
    intensity = _ratio(row["energy_tce"], row["gdp_10k_yuan"])
    base_intensity = _ratio(base["energy_tce"], base["gdp_10k_yuan"])
    co2_intensity = _ratio(row["co2_energy_t"], row["gdp_10k_yuan"])
    base_co2 = _ratio(base["co2_energy_t"], base["gdp_10k_yuan"])
    fall = 1 - intensity / base_intensity if intensity is not None and base_intensity else None
    co2_fall = 1 - co2_intensity / base_co2 if co2_intensity is not None and base_co2 else None
    energy_rating = co2_rating = None
    if rules is not None:
        gdp = columns["gdp_10k_yuan"]
        energy_rating = _rate(energy_target, base_year, {y: v / gdp[y] for y, v in columns["energy_tce"].items()
                                                         if y <= year and gdp[y]}, year, rules)
        co2_rating = _rate(co2_target, base_year, {y: v / gdp[y] for y, v in columns["co2_energy_t"].items()
                                                   if y <= year and gdp[y]}, year, rules)
    return Position(year, bool(columns["projected"][year]), row["energy_tce"], row["gdp_10k_yuan"],
                    row["co2_t"], row["co2_energy_t"], intensity, fall, co2_intensity, co2_fall,
                    **(energy_rating or {}),
                    co2_level=(co2_rating or {}).get("level"), co2_colour=(co2_rating or {}).get("colour"))


@dataclass(frozen=True)
class YearCheck:
    """A unit's position in a year without and with the project, the targets and what the project changes."""

    year: int
    counted: bool
    without: Position
    with_project: Position
    energy_target_fall: float | None
    co2_target_fall: float | None
    allowance_tce: float | None

    @property
    def moves_level(self) -> bool | None:
        if self.without.level is None and self.with_project.level is None:
            return None
        return self.without.level != self.with_project.level

    def delta(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name in ("energy_tce", "co2_t", "energy_intensity", "energy_intensity_fall", "co2_intensity",
                     "co2_intensity_fall"):
            a, b = getattr(self.without, name), getattr(self.with_project, name)
            out[name] = {"value": None if a is None or b is None else b - a, "unit": UNITS[name]}
        return out

    def to_dict(self) -> dict[str, Any]:
        room = None if self.allowance_tce is None else self.allowance_tce - self.without.energy_tce
        return {"year": self.year, "counted": self.counted, "without": self.without.to_dict(),
                "with": self.with_project.to_dict(), "delta": self.delta(),
                "energy_target_fall": {"value": self.energy_target_fall, "unit": UNITS["energy_target_fall"]},
                "co2_target_fall": {"value": self.co2_target_fall, "unit": UNITS["co2_target_fall"]},
                "allowance_tce": {"value": self.allowance_tce, "unit": "tce"},
                "room_tce": {"value": room, "unit": "tce"},
                "room_after_tce": {"value": None if room is None else
                                   room - (self.with_project.energy_tce - self.without.energy_tce), "unit": "tce"},
                "meets_target_without": _meets(self.without.energy_intensity_fall, self.energy_target_fall),
                "meets_target_with": _meets(self.with_project.energy_intensity_fall, self.energy_target_fall),
                "moves_level": self.moves_level}


def _meets(fall: float | None, target: float | None) -> bool | None:
    return None if fall is None or target is None else fall >= target - 1e-12


def allowance(base_intensity: float | None, target_fall: float | None, gdp_10k_yuan: float) -> float | None:
    """The target-implied total energy of a year: I_base · (1 − target fall) · GDP (tce); None without a
    target value."""
    if base_intensity is None or target_fall is None:
        return None
    return base_intensity * (1 - target_fall) * gdp_10k_yuan


def check_year(history: pd.DataFrame, contribution: Contribution, year: int, *, base_year: int, rules: RuleSet,
               energy_target: Target | None = None, co2_target: Target | None = None) -> YearCheck:
    """A unit's position in ``year`` without and with the project ``contribution`` (see the module's method)."""
    frame = extend(history, year, window=rules.window_years, interval=rules.interval)
    without = position(frame, year, base_year, energy_target=energy_target, co2_target=co2_target, rules=rules)
    with_project = position(_with(frame, contribution), year, base_year, energy_target=energy_target,
                            co2_target=co2_target, rules=rules)
    target_fall = energy_target.value if energy_target is not None else None
    counted = bool(frame.at[year, "projected"]) and contribution.counted(year)
    return YearCheck(year, counted, without, with_project, target_fall,
                     co2_target.value if co2_target is not None else None,
                     allowance(_ratio(float(frame.at[base_year, "energy_tce"]),
                                      float(frame.at[base_year, "gdp_10k_yuan"])), target_fall,
                               float(frame.at[year, "gdp_10k_yuan"])))


# -- the pipeline ---------------------------------------------------------------------------------------------

def state_group(state: str) -> str | None:
    for group, states in STATE_GROUPS.items():
        if state in states:
            return group
    return None


def aggregate_pipeline(projects: pd.DataFrame, year: int) -> dict[str, pd.DataFrame]:
    """``projects`` (columns ``state``, ``region_code``, ``division``, ``dual_control_tce``, ``co2_t``,
    ``commissioning_year``) aggregated by state group (``pending``/``approved``; other states dropped): the
    count, the dual-control tce and CO2 of all of them, and of those counted in ``year`` (commissioned by then).
    Returns frames ``groups`` (by group), ``regions`` (by region and group), ``divisions`` (by division and
    group)."""
    groups = {state: group for group, states in STATE_GROUPS.items() for state in states}
    frame = projects.assign(group=projects["state"].map(groups))
    frame = frame[frame["group"].notna()]
    counted = frame["commissioning_year"].to_numpy(dtype=int) <= year
    tce = frame["dual_control_tce"].to_numpy(dtype=float)
    co2 = frame["co2_t"].to_numpy(dtype=float)
    frame = pd.DataFrame({"region_code": frame["region_code"].to_numpy(), "division": frame["division"].to_numpy(),
                          "group": frame["group"].to_numpy(), "count": 1, "count_counted": counted.astype(int),
                          "dual_control_tce": tce, "co2_t": co2, "tce_counted": np.where(counted, tce, 0.0),
                          "co2_counted": np.where(counted, co2, 0.0)})
    values = ["count", "count_counted", "dual_control_tce", "co2_t", "tce_counted", "co2_counted"]
    # one pass over the projects; the three views are sums of its (small) result
    cells = frame.groupby(["region_code", "division", "group"], sort=False)[values].sum().reset_index()

    def by(keys: list[str]) -> pd.DataFrame:
        if cells.empty:
            return pd.DataFrame(columns=[*keys, *values])
        return cells.groupby(keys, sort=True)[values].sum().reset_index()

    return {"groups": by(["group"]), "regions": by(["region_code", "group"]), "divisions": by(["division", "group"])}


def room(allowance_tce: float | None, projected_tce: float, approved_tce: float,
         pending_tce: float) -> dict[str, float | None]:
    """The room of a year (tce): ``room`` = allowance − projected consumption; then after the approved projects
    and after approved + pending (None without a target value)."""
    if allowance_tce is None:
        return {"allowance": None, "room": None, "after_approved": None, "after_pending": None}
    left = allowance_tce - projected_tce
    return {"allowance": allowance_tce, "room": left, "after_approved": left - approved_tce,
            "after_pending": left - approved_tce - pending_tce}

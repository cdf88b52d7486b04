"""The energy-project registry's rules (supply side, issue 15 item 6): technologies, stages, and the wind + solar
stock formed from the capacity statistics and the registry. Pure: no store, no services.

* :func:`load_technologies` reads ``data/projects/energy_technologies.csv`` (code, names, group, unit, whether it
  counts toward the plan's 2030 target 「风电、太阳能发电总装机容量达800万千瓦以上」, actions, plan tasks, source,
  status); a bad row raises :class:`~citycarbon.errors.InputError` naming file, row and field.
* :func:`stage_problems`: a stage move is forward along :data:`STAGES` (planned → approved → construction →
  grid_connected → retired; skipping forward is allowed, each reached stage carries its date, dates never go
  back in time and never lie after today). Going back is a *correction*: only when the caller may correct (the
  office) and gives a reason; the dates of the stages undone are cleared.
* :func:`wind_solar_stock` and :func:`registry_series`: **the no-double-counting rule.** The capacity
  statistics (shipped files or the ledger's ``capacity`` table) give the wind + solar stock at the end of their
  last year *L* (31 December). A registry project whose grid connection is dated after that day adds its MW; one
  connected on or before it is already in the statistics (shown, not added). A retirement dated after that day
  subtracts the MW of a project that had been connected (whether it was in the statistics or added by the
  registry); a retirement on or before it is already in the statistics. Without statistics every connected and
  not retired project counts (the registry is the whole stock).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem

__all__ = ["STAGES", "STAGE_DATES", "EnergyRecord", "Stock", "Technology", "load_technologies", "registry_series",
           "stage_problems", "wind_solar_stock"]

#: the stages in order; a project moves forward (skipping is allowed), back only by a documented correction
STAGES: tuple[str, ...] = ("planned", "approved", "construction", "grid_connected", "retired")
#: the date column each stage is reached on (``planned`` has none: its ``planned_on`` is the expected grid connection)
STAGE_DATES: dict[str, str] = {"approved": "approved_on", "construction": "construction_on",
                               "grid_connected": "grid_connected_on", "retired": "retired_on"}
ACTIONS = ("retirement", "flexibility_retrofit")
STATUSES = ("V", "V*", "V*?", "UNVERIFIED", "estimate")
COLUMNS = ("code", "name_zh", "name_en", "group", "unit", "storage_unit", "counts_wind_solar", "actions",
           "plan_tasks", "plan_quote", "source", "status")


@dataclass(frozen=True)
class Technology:
    code: str
    name_zh: str
    name_en: str
    group: str
    unit: str
    storage_unit: str | None
    counts_wind_solar: bool
    actions: tuple[str, ...]
    plan_tasks: tuple[int, ...]
    plan_quote: str
    source: str
    status: str


def load_technologies(path: Path | str | None = None) -> dict[str, Technology]:
    """The technologies by code (``energy_technologies.csv``; banner lines start with ``#``)."""
    file = Path(path) if path is not None else data_path("projects/energy_technologies.csv")
    lines = file.read_text(encoding="utf-8").splitlines()
    banner = 0
    while banner < len(lines) and lines[banner].startswith("#"):
        banner += 1
    reader = csv.DictReader(lines[banner:])
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(Problem(f"missing columns: {', '.join(missing)}", file=file.name, row=banner + 1))
    problems: list[Problem] = []
    out: dict[str, Technology] = {}
    for offset, row in enumerate(reader):
        number = banner + 2 + offset

        def bad(name: str, message: str, *, _row: int = number, _values: Mapping[str, str] = row) -> None:
            problems.append(Problem(message, file=file.name, row=_row, field=name, value=_values.get(name)))

        code = (row.get("code") or "").strip()
        if not code or code in out:
            bad("code", "a unique code is required")
            continue
        flag = (row.get("counts_wind_solar") or "").strip().lower()
        if flag not in ("true", "false"):
            bad("counts_wind_solar", "must be true or false")
        actions = tuple(a.strip() for a in (row.get("actions") or "").split(";") if a.strip())
        if any(a not in ACTIONS for a in actions):
            bad("actions", f"actions are {', '.join(ACTIONS)}")
        tasks_text = [t.strip() for t in (row.get("plan_tasks") or "").split(";") if t.strip()]
        if not all(t.isdigit() for t in tasks_text):
            bad("plan_tasks", "task numbers separated by ';'")
            tasks_text = []
        status = (row.get("status") or "").strip()
        if status not in STATUSES:
            bad("status", f"status is one of {', '.join(STATUSES)}")
        unit = (row.get("unit") or "").strip()
        if unit != "MW":
            bad("unit", "the capacity unit is MW")
        storage = (row.get("storage_unit") or "").strip() or None
        if storage not in (None, "MWh"):
            bad("storage_unit", "empty or MWh")
        for name in ("name_zh", "name_en", "group", "source"):
            if not (row.get(name) or "").strip():
                bad(name, "a value is required")
        out[code] = Technology(code, (row.get("name_zh") or "").strip(), (row.get("name_en") or "").strip(),
                               (row.get("group") or "").strip(), unit, storage, flag == "true", actions,
                               tuple(int(t) for t in tasks_text), (row.get("plan_quote") or "").strip(),
                               (row.get("source") or "").strip(), status)
    if problems:
        raise InputError(problems)
    return out


def stage_problems(current: str, new: str, dates: Mapping[str, date | None], *, today: date,
                   may_correct: bool, reason: str) -> list[tuple[str, str, str]]:
    """What is wrong with moving from ``current`` to ``new`` with the stage dates ``dates`` (after the move):
    a list of (field, message_en, message_zh), empty when the move is allowed."""
    out: list[tuple[str, str, str]] = []
    if new not in STAGES:
        return [("stage", f"stage is one of {', '.join(STAGES)}", f"阶段须为 {', '.join(STAGES)} 之一")]
    if STAGES.index(new) < STAGES.index(current):
        if not may_correct:
            out.append(("stage", f"a project does not go back from {current} to {new}; only the office corrects "
                                 "a stage, with a reason",
                        f"项目阶段不能从 {current} 退回 {new}；仅领导小组办公室可注明原因更正"))
        elif not reason.strip():
            out.append(("reason", "a correction back to an earlier stage needs a reason",
                        "退回较早阶段的更正须注明原因"))
    column = STAGE_DATES.get(new)
    if column is not None and dates.get(column) is None:
        out.append((column, f"the date the project reached {new} is required ({column}, YYYY-MM-DD)",
                    f"须填写进入该阶段的日期 ({column}, YYYY-MM-DD)"))
    previous: tuple[str, date] | None = None
    for stage in STAGES[1:STAGES.index(new) + 1]:
        day = dates.get(STAGE_DATES[stage])
        if day is None:
            continue
        if day > today:
            out.append((STAGE_DATES[stage], f"{STAGE_DATES[stage]} {day} lies in the future",
                        f"{STAGE_DATES[stage]} {day} 晚于今天"))
        if previous is not None and day < previous[1]:
            out.append((STAGE_DATES[stage], f"{STAGE_DATES[stage]} {day} is before {previous[0]} {previous[1]}",
                        f"{STAGE_DATES[stage]} {day} 早于 {previous[0]} {previous[1]}"))
        previous = (STAGE_DATES[stage], day)
    return out


@dataclass(frozen=True)
class EnergyRecord:
    """What the wind + solar rule needs of a registry project."""

    code: str
    technology: str
    stage: str
    capacity_mw: float
    grid_connected_on: date | None = None
    retired_on: date | None = None
    planned_on: date | None = None


@dataclass(frozen=True)
class Stock:
    """The wind + solar stock on a day: statistics (year, MW) + registry additions − registry retirements."""

    on: date
    statistics_year: int | None
    statistics_mw: float
    added: tuple[tuple[str, float], ...] = field(default=())  # (code, MW) connected after the statistics
    retired: tuple[tuple[str, float], ...] = field(default=())  # (code, MW) retired after the statistics
    in_statistics: tuple[tuple[str, float], ...] = field(default=())  # connected on or before: not added

    @property
    def added_mw(self) -> float:
        return sum(mw for _, mw in self.added)

    @property
    def retired_mw(self) -> float:
        return sum(mw for _, mw in self.retired)

    @property
    def total_mw(self) -> float:
        return self.statistics_mw + self.added_mw - self.retired_mw


def _counted(records: Iterable[EnergyRecord], counts: Sequence[str] | frozenset[str]) -> list[EnergyRecord]:
    return [r for r in records if r.technology in counts]


def wind_solar_stock(statistics: Mapping[int, float], records: Iterable[EnergyRecord],
                     counts: Sequence[str] | frozenset[str], on: date) -> Stock:
    """The stock on ``on`` by the rule of the module docstring. ``statistics``: year → MW at the end of the
    year (only years ≤ ``on.year - 1`` … any year whose 31 December is not after ``on`` is used); ``counts``:
    the technology codes counted."""
    usable = [y for y in statistics if date(y, 12, 31) <= on]
    year = max(usable) if usable else None
    cutoff = date(year, 12, 31) if year is not None else None
    base = float(statistics[year]) if year is not None else 0.0
    added, retired, inside = [], [], []
    for r in _counted(records, counts):
        connected = r.grid_connected_on
        if connected is None or connected > on:
            continue
        if cutoff is not None and connected <= cutoff:
            inside.append((r.code, r.capacity_mw))
        else:
            added.append((r.code, r.capacity_mw))
        if r.retired_on is not None and r.retired_on <= on and (cutoff is None or r.retired_on > cutoff):
            retired.append((r.code, r.capacity_mw))
    return Stock(on, year, base, tuple(sorted(added)), tuple(sorted(retired)), tuple(sorted(inside)))


def registry_series(statistics: Mapping[int, float], records: Iterable[EnergyRecord],
                    counts: Sequence[str] | frozenset[str], today: date) -> dict[int, float]:
    """The statistics' year → MW extended by the registry: for each year after the last statistical year up
    to ``today``'s year, the stock at the end of that year (``today`` for the current year). Years are added
    only through the last year with a registry connection or retirement after the statistics; with none the
    statistics come back unchanged."""
    out = {int(y): float(v) for y, v in statistics.items()}
    last = max(out) if out else None
    cutoff = date(last, 12, 31) if last is not None else date.min
    events = [d for r in _counted(records, counts) if r.grid_connected_on is not None
              for d in (r.grid_connected_on, r.retired_on) if d is not None and cutoff < d <= today]
    if not events:
        return out
    first = last + 1 if last is not None else min(d.year for d in events)
    for year in range(first, max(d.year for d in events) + 1):
        on = min(date(year, 12, 31), today)
        out[year] = wind_solar_stock(statistics, records, counts, on).total_mw
    return out

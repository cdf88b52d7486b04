"""Working days (工作日) of the Chinese calendar, taken as data: statutory holidays and adjusted working days (调休).

A :class:`Calendar` is a plain value: the days that differ from the Monday–Friday rule (a holiday, or a weekend
day worked in lieu) and the years it covers. It is built from sources layered in order, a later one winning for
the same day:

1. the pinned ``chinese-calendar`` package (:func:`base_calendar`; its data follow each November's State Council
   notice and stop at the last year published);
2. the shipped notices ``data/governance/calendar/*.csv`` (:func:`shipped_days`);
3. the office's imports (the ``gov_calendar_days`` table; read by the service).

A year is *covered* when a source covers it: ``chinese-calendar``'s range, or any year for which a holiday row
was given (a State Council notice always names the year's holidays). A day of a year no source covers raises
:class:`CalendarNotCovered` — the calendar never falls back to plain Monday–Friday, which would count the Spring
Festival as working days.

``add_workdays(day, n)`` is the n-th working day after ``day`` (before it for negative n); ``workdays_between``
counts the working days in (start, end]. For n ≥ 0, ``workdays_between(d, add_workdays(d, n)) == n``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources

from citycarbon.errors import InputError, Problem

__all__ = ["Calendar", "CalendarDay", "CalendarNotCovered", "DayKind", "add_workdays", "base_calendar",
           "is_workday", "layered", "parse_calendar_csv", "shipped_days", "workdays_between"]

STATUSES = ("verified", "secondary-source", "unverified", "estimate")


class DayKind(StrEnum):
    holiday = "holiday"  # a statutory holiday (放假)
    workday = "workday"  # an adjusted working day on a weekend (调休上班)


class CalendarNotCovered(ValueError):
    """A day of a year for which no source gives the holidays (import the year's State Council notice)."""

    def __init__(self, year: int, covered: Iterable[int]) -> None:
        years = sorted(covered)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        super().__init__(f"the working-day calendar does not cover {year} (covered: {span}); import the State "
                         f"Council's holiday notice for {year}")
        self.year = year
        self.message_zh = f"工作日历未包含{year}年（已包含：{span}），请导入国务院办公厅{year}年部分节假日安排的通知"


@dataclass(frozen=True)
class CalendarDay:
    """A day that differs from Monday–Friday, with the notice it comes from."""

    day: date
    kind: DayKind
    name: str = ""
    source: str = ""
    status: str = "unverified"
    origin: str = "import"  # chinese-calendar | shipped | import


@dataclass(frozen=True)
class Calendar:
    """Holidays and adjusted working days, and the years covered."""

    days: Mapping[date, CalendarDay] = field(default_factory=dict)
    years: frozenset[int] = frozenset()

    def require(self, day: date) -> None:
        if day.year not in self.years:
            raise CalendarNotCovered(day.year, self.years)

    def year_days(self, year: int) -> list[CalendarDay]:
        return sorted((d for d in self.days.values() if d.day.year == year), key=lambda d: d.day)


def layered(*layers: Iterable[CalendarDay], years: Iterable[int] = ()) -> Calendar:
    """One calendar from layers of days (later layers win for the same day). Covered years: ``years`` plus every
    year with a holiday in some layer."""
    days: dict[date, CalendarDay] = {}
    covered = set(years)
    for layer in layers:
        for entry in layer:
            days[entry.day] = entry
            if entry.kind is DayKind.holiday:
                covered.add(entry.day.year)
    return Calendar(days=days, years=frozenset(covered))


def is_workday(day: date, calendar: Calendar) -> bool:
    """Whether ``day`` is a working day: an adjusted working day, or Monday–Friday and not a holiday."""
    calendar.require(day)
    entry = calendar.days.get(day)
    if entry is not None:
        return entry.kind is DayKind.workday
    return day.weekday() < 5


def add_workdays(day: date, n: int, calendar: Calendar) -> date:
    """The ``n``-th working day after ``day`` (n > 0), before it (n < 0), or ``day`` itself (n == 0)."""
    step = timedelta(days=1 if n >= 0 else -1)
    left = abs(n)
    current = day
    while left:
        current += step
        if is_workday(current, calendar):
            left -= 1
    return current


def workdays_between(start: date, end: date, calendar: Calendar) -> int:
    """The number of working days after ``start`` up to and including ``end`` (negative when end < start)."""
    if end < start:
        return -workdays_between(end, start, calendar)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_workday(current, calendar):
            count += 1
    return count


# ---- sources -------------------------------------------------------------------------------------------------

_CC_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
             "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
             "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def base_calendar() -> Calendar:
    """The days of the pinned ``chinese-calendar`` package and the years its data span."""
    import chinese_calendar  # type: ignore[import-untyped]
    from chinese_calendar import constants

    source = f"chinese-calendar {chinese_calendar.__version__}"
    entries: list[CalendarDay] = []
    for kind, table in ((DayKind.holiday, constants.holidays), (DayKind.workday, constants.workdays)):
        for day, name in table.items():
            label = _CC_NAMES.get(str(name), str(name))
            entries.append(CalendarDay(day, kind, label + ("调休上班" if kind is DayKind.workday else ""), source,
                                       "secondary-source", "chinese-calendar"))
    years = {d.year for d in constants.holidays}
    return layered(entries, years=range(min(years), max(years) + 1))


def parse_calendar_csv(text: str, *, filename: str = "calendar.csv", origin: str = "import") -> list[CalendarDay]:
    """Rows ``date,kind,name,source,status`` (kind holiday|workday). Raises :class:`InputError` naming the file,
    row and field of every bad row; a weekend "holiday" or a weekday "workday" is refused (it changes nothing
    and means the row is wrong)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("date", "kind") if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError([Problem(message=f"missing column {c!r} (expected date,kind,name,source,status)",
                                  message_zh=f"缺少列 {c}（应为 date,kind,name,source,status）", file=filename,
                                  row=1, field=c) for c in missing])
    return parse_calendar_rows(list(reader), filename=filename, origin=origin, first_row=2)


def parse_calendar_rows(rows: list[dict[str, object]], *, filename: str, origin: str = "import",
                        first_row: int = 2) -> list[CalendarDay]:
    problems: list[Problem] = []
    out: dict[date, CalendarDay] = {}
    for number, row in enumerate(rows, start=first_row):
        raw_day = str(row.get("date") or "").strip()[:10]
        raw_kind = str(row.get("kind") or "").strip().lower()
        status = str(row.get("status") or "unverified").strip() or "unverified"
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(Problem(message=f"{raw_day!r} is not a date (YYYY-MM-DD)", value=raw_day,
                                    message_zh=f"{raw_day!r} 不是日期（YYYY-MM-DD）", file=filename, row=number,
                                    field="date"))
            continue
        if raw_kind not in ("holiday", "workday"):
            problems.append(Problem(message=f"kind {raw_kind!r}: expected holiday or workday", value=raw_kind,
                                    message_zh=f"类型 {raw_kind!r} 应为 holiday（放假）或 workday（调休上班）",
                                    file=filename, row=number, field="kind"))
            continue
        kind = DayKind(raw_kind)
        if kind is DayKind.workday and day.weekday() < 5:
            problems.append(Problem(message=f"{day} is a weekday: an adjusted working day falls on a weekend",
                                    message_zh=f"{day} 是周一至周五，调休上班日应在周末", file=filename, row=number,
                                    field="kind", value=raw_kind))
            continue
        if status not in STATUSES:
            problems.append(Problem(message=f"status {status!r}: expected one of {', '.join(STATUSES)}",
                                    message_zh=f"状态 {status!r} 应为 {'、'.join(STATUSES)} 之一", file=filename,
                                    row=number, field="status", value=status))
            continue
        if day in out:
            problems.append(Problem(message=f"{day} is given twice", message_zh=f"{day} 重复", file=filename,
                                    row=number, field="date", value=raw_day))
            continue
        out[day] = CalendarDay(day, kind, str(row.get("name") or "").strip(), str(row.get("source") or "").strip(),
                               status, origin)
    if problems:
        raise InputError(problems)
    return sorted(out.values(), key=lambda d: d.day)


def shipped_days() -> list[CalendarDay]:
    """The State Council notices shipped with the platform (``data/governance/calendar/*.csv``)."""
    folder = resources.files("citycarbon") / "data" / "governance" / "calendar"
    out: list[CalendarDay] = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".csv"):
            out.extend(parse_calendar_csv(item.read_text(encoding="utf-8"), filename=item.name, origin="shipped"))
    return out

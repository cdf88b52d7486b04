"""Progress rounds (调度) and filings: the pure rules (no store, no faces).

A round's code names its period: ``2026-11`` (monthly), ``2026Q4`` (quarterly), ``2026`` (yearly);
:func:`period_of` gives the period's first and last day. A filing moves ``draft → submitted → accepted`` or
``submitted → returned → submitted …`` (:data:`TRANSITIONS`); :func:`check_indicator_values` checks the
indicator values a unit files against the measure's indicators (known codes, finite numbers).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date

from citycarbon.governance.model import FilingState, Indicator, RoundPeriod

__all__ = ["CODE_PATTERNS", "TRANSITIONS", "check_indicator_values", "is_late", "period_of"]

#: the shape of a round's code for each period
CODE_PATTERNS: dict[RoundPeriod, re.Pattern[str]] = {
    RoundPeriod.monthly: re.compile(r"(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])"),
    RoundPeriod.quarterly: re.compile(r"(?P<year>\d{4})Q(?P<quarter>[1-4])"),
    RoundPeriod.yearly: re.compile(r"(?P<year>\d{4})"),
}

#: action → (the states a filing may be in for it, the state it leaves the filing in; None: unchanged)
TRANSITIONS: dict[str, tuple[frozenset[FilingState], FilingState | None]] = {
    "save": (frozenset({FilingState.draft, FilingState.returned}), None),
    "submit": (frozenset({FilingState.draft, FilingState.returned}), FilingState.submitted),
    "accept": (frozenset({FilingState.submitted}), FilingState.accepted),
    "return": (frozenset({FilingState.submitted}), FilingState.returned),
}


def period_of(code: str, period: RoundPeriod) -> tuple[date, date] | None:
    """The first and last day of the period ``code`` names, or None when ``code`` is not a ``period`` code
    (``2026Q4`` → 2026-10-01 … 2026-12-31)."""
    match = CODE_PATTERNS[period].fullmatch(code)
    if match is None:
        return None
    year = int(match["year"])
    if period is RoundPeriod.yearly:
        return date(year, 1, 1), date(year, 12, 31)
    if period is RoundPeriod.quarterly:
        first = 3 * (int(match["quarter"]) - 1) + 1
        last = first + 2
    else:
        first = last = int(match["month"])
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def is_late(submitted_on: date | None, deadline: date) -> bool:
    """Whether a filing first submitted on ``submitted_on`` (a local date) missed ``deadline`` (the deadline day
    itself is on time)."""
    return submitted_on is not None and submitted_on > deadline


def check_indicator_values(values: Mapping[str, object], indicators: Iterable[Indicator]
                           ) -> tuple[dict[str, float], list[tuple[str, str, str]]]:
    """The indicator values of a filing as numbers, and the problems found: (field, English, 中文) for each
    unknown indicator code and each value that is not a finite number. The field is ``indicator_values.<code>``.
    An empty value (None or "") means "not reported" and is left out."""
    known = {indicator.code: indicator for indicator in indicators}
    clean: dict[str, float] = {}
    problems: list[tuple[str, str, str]] = []
    for code, raw in values.items():
        field = f"indicator_values.{code}"
        if code not in known:
            names = ", ".join(sorted(known)) or "none"
            problems.append((field, f"unknown indicator '{code}' (this measure's indicators: {names})",
                             f"未知指标“{code}”(本措施的指标:{'、'.join(sorted(known)) or '无'})"))
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        number: float | None = None
        if isinstance(raw, bool):
            number = None
        elif isinstance(raw, int | float):
            number = float(raw)
        elif isinstance(raw, str):
            try:
                number = float(raw.strip().replace(",", ""))
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            unit = known[code].unit
            problems.append((field, f"the value of '{code}' must be a finite number in {unit}",
                             f"指标“{code}”的值必须是以 {unit} 计的有限数值"))
            continue
        clean[code] = number
    return clean, problems

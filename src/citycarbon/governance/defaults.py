"""The starting registry and responsibility matrix of a city, built from its shipped files and its plan.

``data/<city>/governance/organisations.csv`` lists the units; ``task_leads.csv`` gives each task's lead unit,
co-units, districts and deadline; ``indicators.csv`` the quantitative indicators of measures where the plan
gives a number or a countable object (values the plan does not give are left empty for the office). Each task
is split into measures by the plan's own sentences (:func:`~citycarbon.governance.model.split_task_text`).
The office then edits or replaces all of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from citycarbon.governance.model import (
    Indicator,
    Measure,
    Organisation,
    OrgKind,
    measure_code,
    split_task_text,
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # a code column read as numbers (region_code 210202.0)
        return str(int(value))
    text = str(value).strip()
    return "" if text.lower() == "nan" else text


def _codes(value: Any) -> tuple[str, ...]:
    return tuple(code.strip() for code in _text(value).split(";") if code.strip())


def organisations_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Organisation]:
    """Organisations from rows with the columns of ``organisations.csv``."""
    out: list[Organisation] = []
    for row in rows:
        out.append(Organisation(code=_text(row["code"]), name_zh=_text(row["name_zh"]),
                                name_en=_text(row.get("name_en")), kind=OrgKind(_text(row["kind"])),
                                parent=_text(row.get("parent")) or None,
                                region_code=_text(row.get("region_code")) or None,
                                short_zh=_text(row.get("short_zh")) or None))
    return out


def parse_milestones(text: Any) -> dict[int, float]:
    """Yearly milestones written ``"2025:16; 2030:25"`` → ``{2025: 16.0, 2030: 25.0}``; ValueError when a part is
    not ``year:number``."""
    out: dict[int, float] = {}
    for part in _text(text).replace("；", ";").split(";"):
        if not part.strip():
            continue
        year, sep, value = part.replace("：", ":").partition(":")
        if not sep:
            raise ValueError(f"'{part.strip()}' is not year:value")
        out[int(year.strip())] = float(value.strip())
    return out


def _number(value: float) -> str:
    short = format(value, "g")
    return short if float(short) == value else repr(float(value))


def format_milestones(milestones: Mapping[int, float | str]) -> str:
    """The inverse of :func:`parse_milestones` (``"2025:16; 2030:25"``; a value is written exactly)."""
    return "; ".join(f"{year}:{_number(value)}" if isinstance(value, float | int) else f"{year}:{value}"
                     for year, value in sorted(milestones.items()))


def indicators_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Indicator]]:
    """Indicators by measure code from rows with the columns of ``indicators.csv`` (``measure``, ``code``,
    ``name_zh``, ``name_en``, ``unit``, ``target``, ``year``, ``milestones``, ``status``, ``source``)."""
    out: dict[str, list[Indicator]] = {}
    for row in rows:
        target, year = _text(row.get("target")), _text(row.get("year"))
        out.setdefault(_text(row["measure"]), []).append(Indicator(
            code=_text(row["code"]), name_zh=_text(row.get("name_zh")), name_en=_text(row.get("name_en")),
            unit=_text(row.get("unit")), target=float(target) if target else None,
            year=int(float(year)) if year else None, milestones=parse_milestones(row.get("milestones")),
            source=_text(row.get("source")), status=_text(row.get("status"))))
    return out


def default_measures(tasks: Iterable[Mapping[str, Any]], leads: Iterable[Mapping[str, Any]],
                     indicators: Mapping[str, Iterable[Indicator]] | None = None) -> list[Measure]:
    """One measure per sentence of each task (``tasks``: ``number`` and ``text_zh``), with the task's lead unit,
    co-units, districts and deadline from ``leads`` (rows of ``task_leads.csv``; a task without a row has none)
    and the measure's indicators from ``indicators`` (by measure code; see :func:`indicators_from_rows`)."""
    by_task = {int(row["task"]): row for row in leads}
    indicators = indicators or {}
    out: list[Measure] = []
    for task in sorted(tasks, key=lambda t: int(t["number"])):
        number = int(task["number"])
        lead = by_task.get(number, {})
        deadline_text = _text(lead.get("deadline"))
        deadline = date.fromisoformat(deadline_text) if deadline_text else None
        for seq, sentence in enumerate(split_task_text(str(task["text_zh"])), start=1):
            out.append(Measure(code=measure_code(number, seq), task=number, seq=seq, text_zh=sentence,
                               lead=_text(lead.get("lead")) or None, co_units=_codes(lead.get("co_units")),
                               districts=_codes(lead.get("districts")), deadline=deadline,
                               indicators=tuple(indicators.get(measure_code(number, seq), ()))))
    return out

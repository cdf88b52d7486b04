"""The starting registry and responsibility matrix of a city, built from its shipped files and its plan.

``data/<city>/governance/organisations.csv`` lists the units; ``task_leads.csv`` gives each task's lead unit,
co-units, districts and deadline. Each task is split into measures by the plan's own sentences
(:func:`~citycarbon.governance.model.split_task_text`). The office then edits or replaces all of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from citycarbon.governance.model import Measure, Organisation, OrgKind, measure_code, split_task_text


def _text(value: Any) -> str:
    if value is None:
        return ""
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


def default_measures(tasks: Iterable[Mapping[str, Any]], leads: Iterable[Mapping[str, Any]]) -> list[Measure]:
    """One measure per sentence of each task (``tasks``: ``number`` and ``text_zh``), with the task's lead unit,
    co-units, districts and deadline from ``leads`` (rows of ``task_leads.csv``; a task without a row has none)."""
    by_task = {int(row["task"]): row for row in leads}
    out: list[Measure] = []
    for task in sorted(tasks, key=lambda t: int(t["number"])):
        number = int(task["number"])
        lead = by_task.get(number, {})
        deadline_text = _text(lead.get("deadline"))
        deadline = date.fromisoformat(deadline_text) if deadline_text else None
        for seq, sentence in enumerate(split_task_text(str(task["text_zh"])), start=1):
            out.append(Measure(code=measure_code(number, seq), task=number, seq=seq, text_zh=sentence,
                               lead=_text(lead.get("lead")) or None, co_units=_codes(lead.get("co_units")),
                               districts=_codes(lead.get("districts")), deadline=deadline))
    return out

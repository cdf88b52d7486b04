"""``citycarbon projects budget CODE`` and ``citycarbon projects pipeline``: a project's budget check and the
pipeline against the remaining room (issue 15 item 4).

Each command parses, calls one function of :mod:`citycarbon.services.projects.budget` and renders with
``--format table|json|csv`` (table/csv: one row per unit, year and figure; json: everything the service returns).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit
from citycarbon.cli.projects import projects_app

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
FIGURES = ("energy_tce", "energy_intensity", "energy_intensity_fall", "co2_t", "co2_intensity",
           "co2_intensity_fall")


def budget_rows(found: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per unit (city, district), year and figure: without, with, change, unit."""
    rows = []
    for unit in (found["city"], found["district"]):
        if not unit:
            continue
        for check in unit["checks"]:
            for name in FIGURES:
                rows.append({"unit": unit["name_zh"], "year": check["year"], "figure": name,
                             "without": check["without"][name]["value"], "with": check["with"][name]["value"],
                             "change": check["delta"][name]["value"], "measure": check["without"][name]["unit"]})
            rows.append({"unit": unit["name_zh"], "year": check["year"], "figure": "warning_level",
                         "without": check["without"]["level"], "with": check["with"]["level"],
                         "change": check["moves_level"], "measure": ""})
    return rows


def budget(
    code: Annotated[str, typer.Argument(help="the project's code, e.g. XM-2026-0001")],
    year: Annotated[list[int] | None, typer.Option("--year", help="a year to check (repeatable; default 2025 "
                                                                   "and 2030)")] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A project's effect on the dual-control position of the city and of its district: without and with it,
    energy (dual-control basis), intensity and its fall vs the target, CO2, CO2 intensity, warning level."""
    from citycarbon.services.projects import budget as service

    years = tuple(year) if year else service.YEARS
    found = run_service(lambda db, me: service.budget_check(db, me, city, code, years=years))
    c = found["contribution"]
    assumed = " (假设/assumed)" if c["commissioning_origin"] == "assumed" else ""
    title = (f"{found['project']['code']} {found['project']['name']} · "
             f"{c['dual_control_tce']['value']:,.0f} tce (双控口径), {c['co2_t']['value']:,.0f} t CO2, "
             f"计入自 {c['commissioning_year']}{assumed}")
    emit(found, fmt, rows=budget_rows(found), title=title)


def pipeline(
    year: Annotated[int, typer.Option("--year", help="the year of the room: 2025 or 2030")] = 2025,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Pending and approved projects by district against the room of the year (table/csv: one row per
    district; json: everything, with the state groups and industry divisions)."""
    from citycarbon.services.projects import budget as service

    found = run_service(lambda db, me: service.pipeline(db, me, city, year=year))
    rows = [{"region": r["region"], "name": r["name_zh"], "approved": r["approved_count"],
             "approved_tce": r["approved_tce"], "pending": r["pending_count"], "pending_tce": r["pending_tce"],
             "room_tce": (r["room"] or {}).get("room"), "after_approved_tce": (r["room"] or {}).get("after_approved"),
             "after_pending_tce": (r["room"] or {}).get("after_pending")} for r in found["regions"]]
    room = found.get("room") or {}
    title = (f"项目管线 / pipeline {found['year']}: 剩余空间 room {room.get('room')}, 扣除已批准后 after approved "
             f"{room.get('after_approved')}, 再扣除在审后 after pending {room.get('after_pending')} (tce)")
    emit(found, fmt, rows=rows, title=title)


def register(app: typer.Typer) -> None:
    projects_app.command("budget")(budget)
    projects_app.command("pipeline")(pipeline)

"""``citycarbon energy-projects …``: the energy-project registry (issue 15 item 6) — wind, solar, storage,
nuclear, hydrogen, biomass, coal units and boilers by stage, and the 8 GW wind + solar tracking.

``list|show|add|stage|import|template|wind-solar``. Every command parses, calls one
:mod:`citycarbon.services.projects.energy_projects` function as the operator (the office) and renders
(``--format table|json|csv``). An import is validated whole and stores nothing on error; it previews unless
``--apply`` is given."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError, Problem

energy_projects_app = typer.Typer(
    help="The energy-project registry: wind, solar, storage and other supply projects by stage; the 8 GW card.",
    no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
STAGES = "planned approved construction grid_connected retired"


def register(app: typer.Typer) -> None:
    app.add_typer(energy_projects_app, name="energy-projects")


def _run(call: Any) -> Any:
    from citycarbon.cli.city import run_service

    return run_service(call)


def _row(p: Any) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "technology": p.technology, "stage": p.stage, "region": p.region_code,
            "capacity_mw": p.capacity_mw, "grid_connected_on": p.grid_connected_on or "",
            "planned_on": p.planned_on or "", "version": p.version}


@energy_projects_app.command("list")
def list_cmd(city: Annotated[str, CITY_OPTION] = "dalian",
             technology: Annotated[str | None, typer.Option("--technology")] = None,
             group: Annotated[str | None, typer.Option("--group", help="wind solar nuclear storage hydrogen "
                                                                       "bioenergy coal")] = None,
             stage: Annotated[str | None, typer.Option("--stage", help=STAGES)] = None,
             district: Annotated[str | None, typer.Option("--district", help="GB/T 2260 code")] = None,
             fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The city's energy projects (filters: technology, group, stage, district)."""
    from citycarbon.services.projects import energy_projects as svc

    found = _run(lambda db, me: svc.list_energy_projects(db, me, city, technology=technology, group=group,
                                                         stage=stage, district=district))
    emit([p.to_dict() for p in found], fmt, rows=[_row(p) for p in found], title=f"能源项目 / energy projects: {city}")


@energy_projects_app.command("show")
def show(code: Annotated[str, typer.Argument(help="the project's code")],
         city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One project with its history."""
    from citycarbon.services.projects import energy_projects as svc

    found = _run(lambda db, me: svc.get_energy_project(db, me, city, code))
    emit(found.to_dict(), fmt, rows=found.history or [], title=f"{found.code} {found.name} · {found.stage} · "
         f"{found.capacity_mw:g} MW")


@energy_projects_app.command("add")
def add(name: Annotated[str, typer.Option("--name")],
        technology: Annotated[str, typer.Option("--technology", help="data/projects/energy_technologies.csv")],
        region_code: Annotated[str, typer.Option("--region-code", help="GB/T 2260 code of the district")],
        capacity_mw: Annotated[float, typer.Option("--capacity-mw")],
        city: Annotated[str, CITY_OPTION] = "dalian",
        stage: Annotated[str, typer.Option("--stage", help=STAGES)] = "planned",
        storage_mwh: Annotated[float | None, typer.Option("--storage-mwh")] = None,
        owner: Annotated[str, typer.Option("--owner")] = "",
        planned_on: Annotated[str | None, typer.Option("--planned-on", help="expected grid connection")] = None,
        approved_on: Annotated[str | None, typer.Option("--approved-on")] = None,
        construction_on: Annotated[str | None, typer.Option("--construction-on")] = None,
        grid_connected_on: Annotated[str | None, typer.Option("--grid-connected-on")] = None,
        retired_on: Annotated[str | None, typer.Option("--retired-on")] = None,
        document: Annotated[str, typer.Option("--document", help="approval / filing 文号")] = "",
        source: Annotated[str, typer.Option("--source")] = "",
        status: Annotated[str, typer.Option("--status", help="reported verified estimate example")] = "reported",
        code: Annotated[str | None, typer.Option("--code", help="default: NY-<year>-NNNN")] = None,
        fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Register a project at its current stage, with the dates of the stages reached."""
    from citycarbon.services.projects import energy_projects as svc

    values = {"name": name, "technology": technology, "region_code": region_code, "capacity_mw": capacity_mw,
              "stage": stage, "storage_mwh": storage_mwh, "owner": owner, "planned_on": planned_on,
              "approved_on": approved_on, "construction_on": construction_on,
              "grid_connected_on": grid_connected_on, "retired_on": retired_on, "document": document,
              "source": source, "status": status, "code": code}
    found = _run(lambda db, me: svc.register_energy_project(db, me, city, values))
    emit(found.to_dict(), fmt, rows=[_row(found)], title="已登记 / registered")


@energy_projects_app.command("stage")
def stage_cmd(code: Annotated[str, typer.Argument(help="the project's code")],
              stage: Annotated[str, typer.Argument(help=STAGES)],
              version: Annotated[int, typer.Option("--version", help="the version read (energy-projects show)")],
              on: Annotated[str | None, typer.Option("--on", help="the day the stage was reached (YYYY-MM-DD)")]
              = None,
              reason: Annotated[str, typer.Option("--reason")] = "",
              correction: Annotated[bool, typer.Option("--correction", help="back to an earlier stage (office)")]
              = False,
              city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Move a project to a stage (forward; back only with --correction and --reason)."""
    from citycarbon.services.projects import energy_projects as svc

    found = _run(lambda db, me: svc.move_stage(db, me, city, code, stage, on=on, version=version, reason=reason,
                                               correction=correction))
    emit(found.to_dict(), fmt, rows=[_row(found)], title=f"{code}: {found.stage}")


@energy_projects_app.command("import")
def import_cmd(file: Annotated[Path, typer.Argument(help="the template workbook (.xlsx) or a CSV")],
               city: Annotated[str, CITY_OPTION] = "dalian",
               apply: Annotated[bool, typer.Option("--apply", help="store the import (without it: preview only)")]
               = False,
               reason: Annotated[str, typer.Option("--reason")] = "",
               fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Import projects, all or nothing (errors name file, sheet, row and column); a preview unless --apply."""
    from citycarbon.services.projects import energy_projects as svc

    try:
        content = file.read_bytes()
    except OSError as error:
        fail(InputError(Problem(f"cannot read the file: {error.strerror}", message_zh="无法读取文件", file=str(file))))
        return
    report = _run(lambda db, me: svc.import_energy_projects(db, me, city, content, file.name, apply=apply,
                                                            reason=reason))
    counts = report.to_dict()["counts"]
    emit(report.to_dict(), fmt, rows=[{"action": a, "codes": " ".join(getattr(report, k))} for a, k in (
        ("create", "created"), ("update", "updated"), ("unchanged", "unchanged"))],
         title=f"{'已导入 / imported' if report.applied else '预览 / preview'}: {counts['create']} new, "
               f"{counts['update']} changed, {counts['unchanged']} unchanged")


@energy_projects_app.command("template")
def template(output: Annotated[Path | None, typer.Option("--output", "-o", help="where to write the .xlsx")] = None,
             filled: Annotated[bool, typer.Option("--filled", help="with the current projects")] = False,
             city: Annotated[str, CITY_OPTION] = "dalian") -> None:
    """Write the import workbook (说明 sheet, the 能源项目 sheet with notes and drop-downs)."""
    from citycarbon.services.projects import energy_projects as svc

    download = _run(lambda db, me: svc.energy_projects_workbook(db, me, city, filled=filled))
    path = output or Path(download.filename)
    path.write_bytes(download.content)
    typer.echo(str(path))


@energy_projects_app.command("wind-solar")
def wind_solar(city: Annotated[str, CITY_OPTION] = "dalian",
               on: Annotated[str | None, typer.Option("--on", help="as of this day (default today)")] = None,
               fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The 8 GW card: grid-connected wind + solar (statistics + registry) against the 2030 target, 序时进度,
    and the pipeline by stage and expected year."""
    from citycarbon.services.projects import energy_projects as svc

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        fail(InputError(Problem(f"'{on}' is not a date (YYYY-MM-DD)", message_zh="日期格式应为 YYYY-MM-DD",
                                field="on", value=on)))
        return
    card = _run(lambda db, me: svc.wind_solar_status(db, me, city, on=day))
    share = card["progress_share"]
    elapsed = card["time_elapsed_share"]
    rows = [{"item": "grid-connected (MW)", "value": round(card["grid_connected_mw"], 1)},
            {"item": f"statistics {card['statistics_year']} (MW)", "value": card["statistics_mw"]},
            {"item": "registry added after statistics (MW)", "value": card["registry_added_mw"]},
            {"item": "registry retired after statistics (MW)", "value": card["registry_retired_mw"]},
            {"item": f"target {card['target_year']} (MW)", "value": card["target_mw"]},
            {"item": "progress", "value": None if share is None else f"{share:.0%}"},
            {"item": "time elapsed (序时进度)", "value": None if elapsed is None else f"{elapsed:.0%}"},
            {"item": "pipeline (MW)", "value": card["pipeline_mw"]}]
    emit(card, fmt, rows=rows, title=f"风电+光伏 / wind + solar on {card['on']}")

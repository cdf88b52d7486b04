"""``citycarbon governance orgs …`` and ``citycarbon governance matrix …``: the organisation registry and the
responsibility matrix (issue 14 items 1–2).

``orgs list|show|set|import|template`` and ``matrix list|show|set|import|export|template``. An import previews
unless ``--apply`` is given; it is validated whole (file, row and column named) and stores nothing on error.
Every command calls :mod:`citycarbon.services.governance.registry` as the operator (the office)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.governance import governance_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError, Problem

orgs_app = typer.Typer(help="Organisations (组织机构名录): list, show, edit, import, template.", no_args_is_help=True)
matrix_app = typer.Typer(help="Responsibility matrix (责任清单): measures, units, deadlines, indicators.",
                         no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
AS_OF_OPTION = typer.Option("--as-of", help="as it was at this moment (ISO 8601 with a time zone)")
REASON_OPTION = typer.Option("--reason", help="why (kept in the audit log)")
APPLY_OPTION = typer.Option("--apply", help="store the import (without it: preview only)")
OUTPUT_OPTION = typer.Option("--output", "-o", help="where to write the .xlsx (default: its own name here)")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(InputError(Problem(f"cannot read the file: {error.strerror}", message_zh="无法读取文件",
                                file=str(path))))
    raise AssertionError("unreachable")


def _write(download: Any, output: Path | None) -> None:
    path = output or Path(download.filename)
    path.write_bytes(download.content)
    typer.echo(str(path))


def _org_row(org: Any) -> dict[str, Any]:
    return {"code": org.code, "name_zh": org.name_zh, "short_zh": org.short_zh or "", "kind": org.kind,
            "parent": org.parent or "", "region_code": org.region_code or "", "active": org.active,
            "version": org.version}


def _measure_row(measure: Any) -> dict[str, Any]:
    indicators = "; ".join(f"{i['code']}={'' if i['target'] is None else format(i['target'], 'g')} {i['unit']}"
                           for i in measure.indicators)
    return {"code": measure.code, "lead": measure.lead or "—", "co_units": " ".join(measure.co_units),
            "districts": " ".join(measure.districts), "deadline": measure.deadline or "",
            "indicators": indicators, "text_zh": measure.text_zh[:60]}


def _report(report: Any, fmt: OutputFormat) -> None:
    rows = [{"row": c.row, "code": c.code, "action": c.action, "fields": " ".join(c.fields)}
            for c in report.changes if c.action != "unchanged"]
    counts = report.counts
    title = (f"{'已导入 / imported' if report.applied else '预览 / preview (nothing stored; --apply to store)'}: "
             f"{counts['create']} new, {counts['update']} changed, {counts['unchanged']} unchanged")
    emit(report.to_dict(), fmt, rows=rows, title=title)


# ---- organisations -------------------------------------------------------------------------------------

@orgs_app.command("list")
def orgs_list(city: Annotated[str, CITY_OPTION] = "dalian",
              as_of: Annotated[datetime | None, AS_OF_OPTION] = None,
              include_inactive: Annotated[bool, typer.Option("--all", help="deactivated units too")] = False,
              fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The city's organisations (as of a past moment with --as-of)."""
    from citycarbon.services.governance import registry

    found = run_service(lambda db, me: registry.list_orgs(db, me, city, as_of=as_of,
                                                          include_inactive=include_inactive))
    emit([o.to_dict() for o in found], fmt, rows=[_org_row(o) for o in found],
         title=f"组织机构 / organisations: {city}")


@orgs_app.command("show")
def orgs_show(code: Annotated[str, typer.Argument(help="the organisation's code")],
              city: Annotated[str, CITY_OPTION] = "dalian", as_of: Annotated[datetime | None, AS_OF_OPTION] = None,
              fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One organisation with every version of it and the measures it carries."""
    from citycarbon.services.governance import registry

    found = run_service(lambda db, me: registry.get_org(db, me, city, code, as_of=as_of))
    rows = [{**_org_row(h), "valid_from": h.valid_from, "changed_by": h.changed_by, "reason": h.change_reason}
            for h in found.history]
    emit(found.to_dict(), fmt, rows=rows, title=f"{found.org.name_zh} ({len(found.measures)} measures)")


@orgs_app.command("set")
def orgs_set(code: Annotated[str, typer.Argument(help="the organisation's code")],
             reason: Annotated[str, REASON_OPTION],
             name_zh: Annotated[str | None, typer.Option("--name-zh")] = None,
             name_en: Annotated[str | None, typer.Option("--name-en")] = None,
             short_zh: Annotated[str | None, typer.Option("--short-zh")] = None,
             kind: Annotated[str | None, typer.Option("--kind", help="leading_group office department district "
                                                                     "pilot_zone enterprise")] = None,
             parent: Annotated[str | None, typer.Option("--parent", help="the parent's code ('' for none)")] = None,
             region_code: Annotated[str | None, typer.Option("--region-code", help="GB/T 2260 code")] = None,
             active: Annotated[bool | None, typer.Option("--active/--inactive", help="activate or deactivate")]
             = None,
             create: Annotated[bool, typer.Option("--create", help="a new organisation")] = False,
             city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Change (or --create) an organisation: a new version, audited with --reason."""
    from citycarbon.services.governance import registry

    changes = {k: v for k, v in {"name_zh": name_zh, "name_en": name_en, "short_zh": short_zh, "kind": kind,
                                 "parent": parent, "region_code": region_code, "active": active}.items()
               if v is not None}
    found = run_service(lambda db, me: registry.edit_org(db, me, city, code, changes, reason=reason, create=create))
    emit(found.to_dict(), fmt, rows=[_org_row(found)], title="组织机构 / organisation")


@orgs_app.command("import")
def orgs_import(path: Annotated[Path, typer.Argument(help="CSV or Excel with the columns of organisations.csv")],
                apply: Annotated[bool, APPLY_OPTION] = False, reason: Annotated[str, REASON_OPTION] = "",
                city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Import the registry: preview (default) or --apply; all-or-nothing, errors name file, row and column."""
    from citycarbon.services.governance import registry

    content = _read(path)
    found = run_service(lambda db, me: registry.import_orgs(db, me, city, content, path.name, apply=apply,
                                                            reason=reason))
    _report(found, fmt)


@orgs_app.command("template")
def orgs_template(output: Annotated[Path | None, OUTPUT_OPTION] = None,
                  empty: Annotated[bool, typer.Option("--empty", help="without the current registry")] = False,
                  city: Annotated[str, CITY_OPTION] = "dalian") -> None:
    """Write the registry workbook (说明 sheet, kinds drop-down): the current registry, or --empty."""
    from citycarbon.services.governance import registry

    _write(run_service(lambda db, me: registry.orgs_workbook(db, me, city, filled=not empty)), output)


# ---- the matrix ----------------------------------------------------------------------------------------

@matrix_app.command("list")
def matrix_list(city: Annotated[str, CITY_OPTION] = "dalian", as_of: Annotated[datetime | None, AS_OF_OPTION] = None,
                task: Annotated[int | None, typer.Option("--task", help="one task (1–31)")] = None,
                org: Annotated[str | None, typer.Option("--org", help="measures this unit carries")] = None,
                unassigned: Annotated[bool, typer.Option("--unassigned", help="only measures without a lead")]
                = False,
                fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The measures with their units, deadlines and indicators."""
    from citycarbon.services.governance import registry

    found = run_service(lambda db, me: registry.list_measures(db, me, city, as_of=as_of, task=task, org=org,
                                                              unassigned=unassigned))
    emit([m.to_dict() for m in found], fmt, rows=[_measure_row(m) for m in found],
         title=f"责任清单 / responsibility matrix: {len(found)} measures")


@matrix_app.command("show")
def matrix_show(code: Annotated[str, typer.Argument(help="the measure's code, e.g. T10-M01")],
                city: Annotated[str, CITY_OPTION] = "dalian", as_of: Annotated[datetime | None, AS_OF_OPTION] = None,
                fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One measure with every version of it."""
    from citycarbon.services.governance import registry

    found = run_service(lambda db, me: registry.get_measure(db, me, city, code, as_of=as_of))
    rows = [{"version": h.version, **_measure_row(h), "valid_from": h.valid_from, "changed_by": h.changed_by,
             "reason": h.change_reason} for h in found.history]
    emit(found.to_dict(), fmt, rows=rows, title=f"{code}: {found.measure.text_zh[:40]}")


@matrix_app.command("set")
def matrix_set(code: Annotated[str, typer.Argument(help="the measure's code, e.g. T10-M02")],
               reason: Annotated[str, REASON_OPTION],
               lead: Annotated[str | None, typer.Option("--lead", help="the lead unit's code ('' for none)")] = None,
               co_unit: Annotated[list[str] | None, typer.Option("--co-unit", help="a co-unit (repeat)")] = None,
               district: Annotated[list[str] | None, typer.Option("--district", help="a district (repeat)")] = None,
               clear_co_units: Annotated[bool, typer.Option("--no-co-units", help="remove every co-unit")] = False,
               clear_districts: Annotated[bool, typer.Option("--no-districts", help="remove every district")]
               = False,
               deadline: Annotated[str | None, typer.Option("--deadline", help="YYYY-MM-DD ('' for none)")] = None,
               milestone: Annotated[list[str] | None, typer.Option("--milestone", help="YEAR:text (repeat)")]
               = None,
               indicators: Annotated[str | None, typer.Option(
                   "--indicators", help='a JSON list: [{"code", "name_zh", "unit", "target", "year", '
                                        '"milestones": {"2025": 16}, "status", "source"}]')] = None,
               text_zh: Annotated[str | None, typer.Option("--text")] = None,
               text_en: Annotated[str | None, typer.Option("--text-en")] = None,
               active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
               city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Change a measure: units (registry codes), deadline, milestones, indicators; a new version, audited."""
    from citycarbon.services.governance import registry

    changes: dict[str, Any] = {}
    for key, value in (("lead", lead), ("deadline", deadline), ("text_zh", text_zh), ("text_en", text_en),
                       ("active", active)):
        if value is not None:
            changes[key] = value
    if co_unit or clear_co_units:
        changes["co_units"] = list(co_unit or [])
    if district or clear_districts:
        changes["districts"] = list(district or [])
    if milestone:
        changes["milestones"] = ";".join(milestone)
    if indicators is not None:
        try:
            changes["indicators"] = json.loads(indicators)
        except json.JSONDecodeError as error:
            fail(InputError(Problem(f"--indicators is not JSON: {error.msg}", message_zh="--indicators 不是合法的 JSON",
                                    field="indicators")))
    found = run_service(lambda db, me: registry.edit_measure(db, me, city, code, changes, reason=reason))
    emit(found.to_dict(), fmt, rows=[_measure_row(found)], title=f"措施 / measure {code}")


@matrix_app.command("import")
def matrix_import(path: Annotated[Path, typer.Argument(help="the matrix workbook (.xlsx; sheets 措施 and 指标)")],
                  apply: Annotated[bool, APPLY_OPTION] = False, reason: Annotated[str, REASON_OPTION] = "",
                  city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Import the matrix: preview (default) or --apply; all-or-nothing, errors name sheet, row and column."""
    from citycarbon.services.governance import registry

    content = _read(path)
    found = run_service(lambda db, me: registry.import_matrix(db, me, city, content, path.name, apply=apply,
                                                              reason=reason))
    _report(found, fmt)


@matrix_app.command("export")
def matrix_export(output: Annotated[Path | None, OUTPUT_OPTION] = None,
                  city: Annotated[str, CITY_OPTION] = "dalian") -> None:
    """Write the current matrix as a workbook in the import layout (edit it and import it back)."""
    from citycarbon.services.governance import registry

    _write(run_service(lambda db, me: registry.matrix_workbook(db, me, city)), output)


@matrix_app.command("template")
def matrix_template(output: Annotated[Path | None, OUTPUT_OPTION] = None,
                    city: Annotated[str, CITY_OPTION] = "dalian") -> None:
    """Write the empty matrix template (说明, 措施, 指标; notes on every column, drop-downs)."""
    from citycarbon.services.governance import registry

    _write(run_service(lambda db, me: registry.matrix_workbook(db, me, city, filled=False)), output)


def register(app: typer.Typer) -> None:
    governance_app.add_typer(orgs_app, name="orgs")
    governance_app.add_typer(matrix_app, name="matrix")

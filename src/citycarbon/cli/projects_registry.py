"""``citycarbon projects list|show|check|create|import|template``: the project registry and a project's check
(issue 15 items 1, 2, 7).

``check CODE`` shows a stored project's check; ``check --file project.yaml`` checks a project not stored (the
fields of the API body, YAML or JSON). An import previews unless ``--apply`` is given; it is validated whole
(file, sheet, row and column named) and stores nothing on error. Every command calls
:mod:`citycarbon.services.projects.registry` as the operator (the office)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.projects import projects_app
from citycarbon.errors import InputError, Problem

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
SEVERITY_ZH = {"refuse": "否决", "flag": "提示", "info": "信息"}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(InputError(Problem(f"cannot read the file: {error.strerror}", message_zh="无法读取文件",
                                file=str(path))))
    raise AssertionError("unreachable")


def _body(path: Path) -> dict[str, Any]:
    """A project body from a YAML or JSON file (the API body's fields)."""
    import yaml

    text = _read(path).decode("utf-8-sig", errors="replace")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        fail(InputError(Problem(f"not valid YAML or JSON: {error}", message_zh="不是有效的 YAML 或 JSON 文件",
                                file=str(path))))
    if not isinstance(data, dict):
        fail(InputError(Problem("the file must hold one project (a mapping of its fields)",
                                message_zh="文件须为一个项目（字段映射）", file=str(path))))
    return data


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:,.1f}" if isinstance(value, float) else str(value)


def _list_row(view: Any) -> dict[str, Any]:
    s = view.summary
    return {"编号 code": view.code, "项目 name": view.name, "区市县 district": view.region_name,
            "行业 industry": view.industry_code, "状态 state": view.state,
            "当量值 tce": _fmt(s.get("tce_calorific")), "等价值 tce": _fmt(s.get("tce_equivalent")),
            "CO2 t": _fmt(s.get("co2_t")), "结论 verdict": SEVERITY_ZH.get(s.get("verdict", ""), "")}


def _check_rows(evaluation: Any) -> list[dict[str, Any]]:
    e = evaluation.energy
    rows = [{"项目 item": label, "数值 value": _fmt(value), "单位 unit": unit} for label, value, unit in (
        ("综合能耗（当量值） tce_calorific", e.tce_calorific, "tce/a"),
        ("综合能耗（等价值） tce_equivalent", e.tce_equivalent, "tce/a"),
        ("原料用能 feedstock", e.feedstock_tce, "tce/a"),
        ("可再生能源 renewable", e.renewable_electricity_tce, "tce/a"),
        ("双控口径能耗 dual control", e.dual_control_tce, "tce/a"),
        ("煤炭消费 coal", e.coal_t, "t/a"),
        ("二氧化碳 CO2", e.co2_t, "t/a"))]
    rows += [{"项目 item": f"[{SEVERITY_ZH[f.severity.value]}] {f.code}", "数值 value": f.message_zh,
              "单位 unit": f.document or ""} for f in evaluation.findings]
    return rows


def _show(detail: Any, fmt: OutputFormat) -> None:
    v = detail.view
    emit(detail.to_dict(), fmt, rows=_check_rows(detail.evaluation),
         title=f"{v.code} {v.name}（{v.applicant_name}，{v.region_name}，{v.state}，第 {v.version} 版）")


def list_projects(city: Annotated[str, CITY_OPTION] = "dalian",
                  state: Annotated[str | None, typer.Option("--state", help="workflow state")] = None,
                  district: Annotated[str | None, typer.Option("--district", help="GB/T 2260 code")] = None,
                  industry: Annotated[str | None, typer.Option("--industry", help="GB/T 4754 prefix")] = None,
                  verdict: Annotated[str | None, typer.Option("--verdict", help="refuse, flag or info")] = None,
                  text: Annotated[str | None, typer.Option("--text", help="in code, name or applicant")] = None,
                  limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 200,
                  fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The registry's projects, newest first, with their check summary."""
    from citycarbon.services.projects import registry

    found = run_service(lambda db, me: registry.list_projects(db, me, city, state=state, district=district,
                                                              industry=industry, verdict=verdict, text=text,
                                                              limit=limit))
    emit({"total": found.total, "items": [v.to_dict() for v in found.items]}, fmt,
         rows=[_list_row(v) for v in found.items], title=f"项目 / projects: {city} ({found.total})")


def show(code: Annotated[str, typer.Argument(help="the project's code (XM-2026-0001)")],
         city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One project with its check."""
    from citycarbon.services.projects import registry

    _show(run_service(lambda db, me: registry.get_project(db, me, city, code)), fmt)


def check(code: Annotated[str | None, typer.Argument(help="a stored project's code")] = None,
          file: Annotated[Path | None, typer.Option("--file", help="check an unsaved project (YAML or JSON)")]
          = None,
          city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """A project's check: energy both ways, CO2, every finding with its reason, the verdict."""
    from citycarbon.services.projects import registry

    if (code is None) == (file is None):
        fail(InputError(Problem("give a project's code or --file, not both",
                                message_zh="请给出项目编号或 --file，二者选一")))
    if file is not None:
        values = _body(file)
        evaluation = run_service(lambda db, me: registry.check_unsaved(db, me, city, values))
        emit(evaluation.to_dict(), fmt, rows=_check_rows(evaluation), title=f"{values.get('name', '')}（未保存）")
        return
    assert code is not None
    detail = run_service(lambda db, me: registry.get_project(db, me, city, code))
    emit(detail.evaluation.to_dict(), fmt, rows=_check_rows(detail.evaluation),
         title=f"{detail.view.code} {detail.view.name}")


def create(file: Annotated[Path, typer.Option("--file", help="the project (YAML or JSON, the API body's fields)")],
           city: Annotated[str, CITY_OPTION] = "dalian",
           reason: Annotated[str, typer.Option("--reason", help="kept in the audit log")] = "",
           fmt: OutputFormat = FORMAT_OPTION) -> None:
    """File a new project (a draft) from a file."""
    from citycarbon.services.projects import registry

    values = _body(file)
    _show(run_service(lambda db, me: registry.create_project(db, me, city, values, reason=reason)), fmt)


def edit(code: Annotated[str, typer.Argument(help="the project's code")],
         version: Annotated[int, typer.Option("--version", min=1, help="the version read (a stale one is refused)")],
         file: Annotated[Path, typer.Option("--file", help="the fields that change (YAML or JSON)")],
         city: Annotated[str, CITY_OPTION] = "dalian",
         reason: Annotated[str, typer.Option("--reason", help="kept in the audit log")] = "",
         fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Change a draft (or a project returned as incomplete), naming the version read."""
    from citycarbon.services.projects import registry

    values = _body(file)
    _show(run_service(lambda db, me: registry.edit_project(db, me, city, code, values, version=version,
                                                           reason=reason)), fmt)


def import_file(file: Annotated[Path, typer.Argument(help="the template (xlsx) or a CSV of the 项目 columns")],
                apply: Annotated[bool, typer.Option("--apply", help="store them (without it: preview only)")] = False,
                city: Annotated[str, CITY_OPTION] = "dalian",
                reason: Annotated[str, typer.Option("--reason", help="kept in the audit log")] = "",
                fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Import projects (all-or-nothing; errors name file, sheet, row and column)."""
    from citycarbon.services.projects import registry

    content = _read(file)
    report = run_service(lambda db, me: registry.import_projects(db, me, city, content, file.name, apply=apply,
                                                                 reason=reason))
    rows = [{"行 row": r.row, "编号 code": r.code or "", "项目 name": r.name, "区市县 district": r.region_code,
             "当量值 tce": _fmt(r.tce_calorific), "等价值 tce": _fmt(r.tce_equivalent), "CO2 t": _fmt(r.co2_t),
             "结论 verdict": SEVERITY_ZH.get(r.verdict, r.verdict)} for r in report.rows]
    title = (f"已导入 / imported {len(report.rows)}" if report.applied
             else f"预览 / preview {len(report.rows)} (nothing stored; --apply to store)")
    emit(report.to_dict(), fmt, rows=rows, title=title)


def template(out: Annotated[Path, typer.Option("--out", "-o", help="where to write the .xlsx")],
             city: Annotated[str, CITY_OPTION] = "dalian",
             example: Annotated[bool, typer.Option("--example/--empty", help="with the example project")] = True
             ) -> None:
    """Write the import template (说明, 项目, 能源消费 sheets)."""
    from citycarbon.services.projects import registry

    download = run_service(lambda db, me: registry.template_workbook(db, me, city, example=example))
    out.write_bytes(download.content)
    typer.echo(str(out))


def register(app: typer.Typer) -> None:
    """Add the registry's commands to ``citycarbon projects`` (the group is registered by ``cli/projects``)."""
    for name, command in (("list", list_projects), ("show", show), ("check", check), ("create", create),
                          ("edit", edit),
                          ("import", import_file), ("template", template)):
        projects_app.command(name)(command)

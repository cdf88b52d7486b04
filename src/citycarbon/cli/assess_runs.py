"""``citycarbon assess run|show|publish|adjust|schemes|objections|answer|reproduce``: assessment runs (考核, issue
16 item 2). The CLI acts as the office (the operator).

``run --year Y [--scheme district] [--ledger-version N]``     score every unit; a new draft of the year
``show --year Y [--scheme] [--unit CODE]``                    the board (published, else the newest draft), or
                                                              one unit's breakdown
``adjust --year Y --unit U --item I --points P --reason R``   set a qualitative item of the year's draft
``objections --year Y [--scheme]``                            the draft's objections (open first)
``answer --year Y --objection ID --decision upheld|rejected --answer TEXT``
``publish --year Y [--scheme] [--note N] [--early]``          publish the draft (frozen afterwards)
``reproduce --year Y [--scheme]``                             re-collect on the run's ledger version and compare
``schemes``                                                   the stored scheme versions
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.assess import assess_app
from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
YEAR_OPTION = typer.Option("--year", help="the year assessed")
SCHEME_OPTION = typer.Option("--scheme", help="the scheme code (district | department | an uploaded one)")
STATE_ZH = {"draft": "草稿", "published": "已发布", "superseded": "已被取代"}


def _flags(row: dict[str, Any]) -> str:
    marks = []
    if row.get("estimate"):
        marks.append("含估算")
    if row.get("incomplete"):
        marks.append("数据不全")
    if row.get("vetoed"):
        marks.append("一票否决")
    return "、".join(marks)


def _board_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"名次": r["rank"], "单位代码": r["unit_code"], "单位": r["unit_name_zh"], "得分": r["total"],
             "等级": r["grade_zh"], "标记": _flags(r), "调整": r["adjustments"], "异议": r["objections"]}
            for r in view["rows"]]


def _title(run: dict[str, Any]) -> str:
    return (f"{run['year']} 年考核 · {run['scheme_name_zh']}（第 {run['scheme_version']} 版）· "
            f"{STATE_ZH.get(run['state'], run['state'])} · 台账版本 {run['ledger_version']} · 异议期至 "
            f"{run['objection_until'] or '—'} · 第 {run['version']} 次修改")


def _show_board(view: dict[str, Any], fmt: OutputFormat) -> None:
    emit(view, fmt, rows=_board_rows(view), title=_title(view["run"]))
    if fmt is OutputFormat.table and any(r["estimate"] for r in view["rows"]):
        typer.echo("注：标记“含估算”的单位，其得分所依据的数据含估算值 / scores marked 含估算 rest on estimates",
                   err=True)


def run(year: Annotated[int, YEAR_OPTION], scheme: Annotated[str, SCHEME_OPTION] = "district",
        ledger_version: Annotated[int | None, typer.Option("--ledger-version", help="the ledger version to score "
                                                                                    "(default: current)")] = None,
        city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Run the assessment of a year: every unit the scheme applies to, stored as a draft."""
    from citycarbon.services.assessment import runs

    view = run_service(lambda db, me: runs.run_assessment(db, me, city, year, scheme=scheme,
                                                          ledger_version=ledger_version))
    _show_board(view.to_dict(), fmt)


def show(year: Annotated[int, YEAR_OPTION], scheme: Annotated[str, SCHEME_OPTION] = "district",
         unit: Annotated[str | None, typer.Option("--unit", help="one unit's breakdown (its code)")] = None,
         city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The year's board (the published run, else the newest draft), or one unit's breakdown."""
    from citycarbon.services.assessment import runs

    if unit is None:
        view = run_service(lambda db, me: runs.latest_run(db, me, city, year, scheme=scheme))
        _show_board(view.to_dict(), fmt)
        return

    def breakdown(db: Any, me: Any) -> Any:
        board = runs.latest_run(db, me, city, year, scheme=scheme)
        return runs.unit_score(db, me, city, board.run.id, unit)

    found = run_service(breakdown).to_dict()
    rows = []
    for item in found["items"]:
        fact = item.get("fact") or {}
        rows.append({"指标": item["name_zh"], "实际值": "—" if item["value"] is None else item["value"],
                     "单位": "" if item["unit"] == "dimensionless" else item["unit"], "得分": item["points"],
                     "满分": item["max_points"],
                     "标记": "、".join(m for m, on in (("估算", item["estimate"]), ("缺数据", item["missing"]),
                                                      ("否决", item["vetoed"]), ("已调整", item["adjusted"]))
                                     if on),
                     "说明": item["explanation_zh"] + (f"；{fact.get('note_zh')}" if fact.get("note_zh") else "")})
    emit(found, fmt, rows=rows, title=f"{found['unit_name_zh']}：{found['total']} 分，{found['grade_zh']}"
                                      f"（第 {found['rank']} 名）" + ("，含估算" if found["estimate"] else ""))


def adjust(year: Annotated[int, YEAR_OPTION], unit: Annotated[str, typer.Option("--unit", help="the unit's code")],
           item: Annotated[str, typer.Option("--item", help="the qualitative item's code")],
           points: Annotated[str, typer.Option("--points", help="the points (two decimals at most)")],
           reason: Annotated[str, typer.Option("--reason", help="why (recorded in the audit log)")],
           scheme: Annotated[str, SCHEME_OPTION] = "district", city: Annotated[str, CITY_OPTION] = "dalian",
           fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Set a qualitative item of one unit in the year's draft, with a reason; the unit is re-scored."""
    from citycarbon.services.assessment import runs

    def call(db: Any, me: Any) -> Any:
        board = runs.latest_run(db, me, city, year, scheme=scheme)
        return runs.adjust(db, me, city, board.run.id, unit, item, points=points, reason=reason,
                           version=board.run.version)

    found = run_service(call).to_dict()
    emit(found, fmt, rows=[{"单位": found["unit_name_zh"], "指标": item, "得分": found["total"],
                            "等级": found["grade_zh"], "名次": found["rank"]}], title="已调整 / adjusted")


def objections(year: Annotated[int, YEAR_OPTION], scheme: Annotated[str, SCHEME_OPTION] = "district",
               city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The objections to the year's run (open first)."""
    from citycarbon.services.assessment import runs

    def call(db: Any, me: Any) -> list[dict[str, Any]]:
        board = runs.latest_run(db, me, city, year, scheme=scheme)
        found: list[dict[str, Any]] = []
        for row in board.rows:
            if row.objections:
                found.extend(o.to_dict() for o in runs.unit_score(db, me, city, board.run.id,
                                                                  row.unit_code).objections)
        return sorted(found, key=lambda o: (o["state"] != "open", o["id"]))

    found = run_service(call)
    emit(found, fmt, rows=[{"编号": o["id"], "单位": o["unit_code"], "指标": o["indicator"] or "—",
                            "状态": o["state"], "异议": o["text"], "答复": o["answer"]} for o in found],
         title="异议 / objections")


def answer(year: Annotated[int, YEAR_OPTION], objection: Annotated[int, typer.Option("--objection",
                                                                                    help="the objection's id")],
           decision: Annotated[str, typer.Option("--decision", help="upheld | rejected")],
           text: Annotated[str, typer.Option("--answer", help="the answer")],
           scheme: Annotated[str, SCHEME_OPTION] = "district", city: Annotated[str, CITY_OPTION] = "dalian",
           fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Answer an objection to the year's draft (upheld: then adjust the item or re-run)."""
    from citycarbon.services.assessment import runs

    def call(db: Any, me: Any) -> Any:
        board = runs.latest_run(db, me, city, year, scheme=scheme)
        return runs.answer_objection(db, me, city, board.run.id, objection, decision=decision, answer=text)

    found = run_service(call).to_dict()
    emit(found, fmt, rows=[{"编号": found["id"], "单位": found["unit_code"], "状态": found["state"]}],
         title="已答复 / answered")


def publish(year: Annotated[int, YEAR_OPTION], scheme: Annotated[str, SCHEME_OPTION] = "district",
            note: Annotated[str, typer.Option("--note", help="the publication note (required with --early)")] = "",
            early: Annotated[bool, typer.Option("--early", help="publish before the objection period ends")]
            = False,
            city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Publish the year's draft: refused while objections are open or before the period ends (unless --early
    with a note). The published run is frozen."""
    from citycarbon.services.assessment import runs

    def call(db: Any, me: Any) -> Any:
        board = runs.latest_run(db, me, city, year, scheme=scheme)
        return runs.publish(db, me, city, board.run.id, version=board.run.version, note=note, early=early)

    _show_board(run_service(call).to_dict(), fmt)


def reproduce(year: Annotated[int, YEAR_OPTION], scheme: Annotated[str, SCHEME_OPTION] = "district",
              city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Collect the facts again on the run's ledger version and compare each unit's score (exit 1 if any
    differs)."""
    from citycarbon.services.assessment import runs

    def call(db: Any, me: Any) -> dict[str, Any]:
        board = runs.latest_run(db, me, city, year, scheme=scheme)
        return runs.reproduce(db, me, city, board.run.id)

    found = run_service(call)
    emit(found, fmt, rows=[{"单位": u["unit"], "原得分": u["stored_total"], "复核得分": u["total"],
                            "一致": "是" if u["same"] else "否", "不一致的指标": " ".join(u["differing"])}
                           for u in found["units"]], title=f"复核：台账版本 {found['ledger_version']}")
    if not found["same"]:
        raise typer.Exit(1)


_KIND_ZH = {"district": "区市县", "pilot_zone": "开放先导区", "department": "市直部门"}


def schemes(city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The stored assessment schemes (every version)."""
    from citycarbon.services.assessment import runs

    found = [s.to_dict() for s in run_service(lambda db, me: runs.list_schemes(db, me, city))]
    emit(found, fmt, rows=[{"代码": s["code"], "版本": s["version"], "名称": s["name_zh"], "状态": s["status"],
                            "适用": "、".join(_KIND_ZH.get(k, k) for k in s["applies_to"]), "基础分": s["base_points"],
                            "异议期（天）": s["objection_days"]} for s in found], title="考核方案 / schemes")


def scheme_add(path: Annotated[Path, typer.Argument(help="the scheme's YAML file (code, version, indicators, "
                                                           "grades; version = the stored one + 1)")],
               city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Register a new version of an assessment scheme (the office): later runs score with it."""
    from citycarbon.services.assessment import runs

    if not path.is_file():
        raise typer.BadParameter(f"没有文件 {path} / no such file", param_hint="PATH")
    content = path.read_bytes()
    found = run_service(lambda db, me: runs.register_scheme(db, me, city, content, path.name)).to_dict()
    emit(found, fmt, rows=[{"代码": found["code"], "版本": found["version"], "名称": found["name_zh"],
                            "状态": found["status"]}], title="已登记考核方案 / scheme registered")


def register(app: typer.Typer) -> None:
    for name, command in (("run", run), ("show", show), ("adjust", adjust), ("objections", objections),
                          ("answer", answer), ("publish", publish), ("reproduce", reproduce),
                          ("schemes", schemes), ("scheme-add", scheme_add)):
        assess_app.command(name)(command)

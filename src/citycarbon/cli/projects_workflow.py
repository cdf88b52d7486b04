"""``citycarbon projects submit|complete|comment|decide|commission|accept|withdraw|opinion|events``: the 节能审查
workflow of a project (issue 15 item 5). The CLI acts as the office (the operator).

``submit CODE``                                      submit (the completeness pre-check is recorded)
``complete CODE [--missing ITEM …] [--note …]``      the completeness check (missing items: back as incomplete)
``comment CODE --text … [--file F …]``               an expert-review comment with files (PDF, images, Excel)
``decide CODE --decision approve|conditions|reject --number 文号 --date D [--conditions …] [--reason …]``
``commission CODE --date D [--enterprise ID]``       the project went into operation
``accept CODE [--measured TCE --source …]``          验收 against the approved 当量值 (meter lake, or entered)
``withdraw CODE``                                    withdraw before the decision
``opinion CODE --out FILE.docx``                     the 审查意见 (GB/T 9704 DOCX)
``events CODE``                                      the history
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit
from citycarbon.cli.projects import projects_app

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
CODE_ARG = typer.Argument(help="the project's code (XM-2026-0001)")
VERSION_OPTION = typer.Option("--version", help="the version read (a stale one is refused); default: current")


def _day(text: str | None, hint: str = "--date") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=hint) from None


def _row(view: dict[str, Any]) -> dict[str, Any]:
    return {"code": view["code"], "state": view["state"], "version": view["version"],
            "decision": view.get("decision") or "", "decision_no": view.get("decision_no") or "",
            "decision_date": view.get("decision_date") or "", "next": " ".join(view.get("actions") or [])}


def _show(view: dict[str, Any], fmt: OutputFormat, title: str) -> None:
    emit(view, fmt, rows=[_row(view)], title=title)


def submit(code: Annotated[str, CODE_ARG], version: Annotated[int | None, VERSION_OPTION] = None,
           city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Submit a project for 节能审查 (the completeness pre-check is run and recorded)."""
    from citycarbon.services.projects import workflow

    _show(run_service(lambda db, me: workflow.submit(db, me, city, code, version=version)), fmt, "已提交 / submitted")


def complete(code: Annotated[str, CODE_ARG],
             missing: Annotated[list[str] | None, typer.Option("--missing", help="a missing checklist item "
                                                                                 "(repeat); none: complete")] = None,
             note: Annotated[str, typer.Option("--note", help="the notice's note")] = "",
             version: Annotated[int | None, VERSION_OPTION] = None,
             city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The completeness check: complete → the review starts; missing items → back to the filer as incomplete."""
    from citycarbon.services.projects import workflow

    found = run_service(lambda db, me: workflow.check_completeness(db, me, city, code, missing=missing or [],
                                                                   note=note, version=version))
    _show(found, fmt, "形式审查 / completeness")


def comment(code: Annotated[str, CODE_ARG], text: Annotated[str, typer.Option("--text", help="the comment")],
            files: Annotated[list[Path] | None, typer.Option("--file", help="a file (PDF, image, Excel); "
                                                                            "repeat for more")] = None,
            city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """An expert-review comment with attachments."""
    from citycarbon.services.projects import workflow

    attachments = [(p.name, p.read_bytes()) for p in files or []]
    found = run_service(lambda db, me: workflow.comment(db, me, city, code, text, attachments=attachments))
    emit(found, fmt, rows=[{"event": found["event"], "files": len(found["attachments"])}], title="审查意见 / comment")


def decide(code: Annotated[str, CODE_ARG],
           decision: Annotated[str, typer.Option("--decision", help="approve | conditions | reject")],
           number: Annotated[str, typer.Option("--number", help="the decision's 文号")],
           day: Annotated[str, typer.Option("--date", help="the decision date, YYYY-MM-DD")],
           conditions: Annotated[str, typer.Option("--conditions", help="the conditions (conditions)")] = "",
           reason: Annotated[str, typer.Option("--reason", help="the reason (reject)")] = "",
           version: Annotated[int | None, VERSION_OPTION] = None,
           city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Approve, approve with conditions or reject, with 文号 and date."""
    from citycarbon.services.projects import workflow

    when = _day(day)
    found = run_service(lambda db, me: workflow.decide(db, me, city, code, decision=decision, number=number,
                                                       day=when, conditions=conditions, reason=reason,
                                                       version=version))
    _show(found, fmt, "审查决定 / decision")


def commission(code: Annotated[str, CODE_ARG],
               day: Annotated[str, typer.Option("--date", help="the commissioning date, YYYY-MM-DD")],
               enterprise: Annotated[str | None, typer.Option("--enterprise", help="the monitoring enterprise it "
                                                                                   "runs under")] = None,
               version: Annotated[int | None, VERSION_OPTION] = None,
               city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Record that the project went into operation."""
    from citycarbon.services.projects import workflow

    when = _day(day)
    found = run_service(lambda db, me: workflow.commission(db, me, city, code, day=when, enterprise_id=enterprise,
                                                           version=version))
    _show(found, fmt, "投产 / commissioned")


def accept(code: Annotated[str, CODE_ARG],
           measured: Annotated[float | None, typer.Option("--measured", help="measured tce (当量值), only without "
                                                                             "meter data")] = None,
           source: Annotated[str, typer.Option("--source", help="the source of the measured figure")] = "",
           start: Annotated[str | None, typer.Option("--start", help="period start (default: commissioning)")] = None,
           end: Annotated[str | None, typer.Option("--end", help="period end (default: start + the months "
                                                                  "configured)")] = None,
           version: Annotated[int | None, VERSION_OPTION] = None,
           city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """验收: the unit's consumption over the period against the approved 当量值 (deviation flagged)."""
    from citycarbon.services.monitoring.service import MonitoringService
    from citycarbon.services.projects import workflow

    began, until = _day(start, "--start"), _day(end, "--end")
    found = run_service(lambda db, me: workflow.accept(
        db, me, city, code, meters=MonitoringService(db.settings, db), measured=measured, source=source,
        start=began, end=until, version=version))
    body = found["acceptance"]
    emit(found, fmt, rows=[{**_row(found), "approved_tce": body["approved"], "measured_tce": body["measured"],
                            "deviation": f"{body['deviation']:+.1%}", "flagged": body["flagged"],
                            "measured_by": body["measured_by"]}], title="验收 / acceptance")


def withdraw(code: Annotated[str, CODE_ARG], note: Annotated[str, typer.Option("--note")] = "",
             version: Annotated[int | None, VERSION_OPTION] = None,
             city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Withdraw a project before the decision (its allocations are released)."""
    from citycarbon.services.projects import workflow

    _show(run_service(lambda db, me: workflow.withdraw(db, me, city, code, note=note, version=version)), fmt,
          "已撤回 / withdrawn")


def opinion(code: Annotated[str, CODE_ARG], out: Annotated[Path, typer.Option("--out", help="the DOCX to write")],
            city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Write the 审查意见 of a decided project (GB/T 9704 layout) to a DOCX file."""
    from citycarbon.services.projects import workflow

    content = run_service(lambda db, me: workflow.opinion_docx(db, me, city, code))
    out.write_bytes(content)
    emit({"file": str(out), "bytes": len(content)}, fmt, rows=[{"file": str(out), "bytes": len(content)}],
         title="审查意见 / opinion")


def events(code: Annotated[str, CODE_ARG], city: Annotated[str, CITY_OPTION] = "dalian",
           fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The project's workflow history."""
    from citycarbon.services.projects import workflow

    found = run_service(lambda db, me: workflow.events(db, me, city, code))
    emit(found, fmt, rows=[{"at": e["at"], "kind": e["kind"], "from": e["state_from"] or "",
                            "to": e["state_to"] or "", "actor": e["actor"], "files": len(e["attachments"])}
                           for e in found], title=f"{code} 审查记录 / history")


def register(app: typer.Typer) -> None:
    for name, command in (("submit", submit), ("complete", complete), ("comment", comment), ("decide", decide),
                          ("commission", commission), ("accept", accept), ("withdraw", withdraw),
                          ("opinion", opinion), ("events", events)):
        projects_app.command(name)(command)

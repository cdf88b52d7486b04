"""``citycarbon governance overdue|supervise|calendar|inbox``: supervision (督办), the working-day calendar and the
inbox of running the plan (issue 14 items 5 and 8). The CLI acts as the office (the operator).

``overdue [--as-of DATE]``                  what is late on a day, by level (computed, nothing written)
``supervise scan [--as-of DATE]``           create and escalate the items (idempotent)
``supervise list|show ID``                  the items; one item
``supervise answer ID --text … [--file F]`` answer in a unit's name (the office, for a unit without users)
``supervise close ID --note …``             close an item
``supervise notice ID --out FILE``          the 督办通知 as DOCX
``supervise template FILE``                 replace the 督办通知's DOCX template
``calendar show YEAR`` / ``calendar import FILE``   the working-day calendar
``inbox [--unread] [--deliver]``            the office's inbox; ``--deliver`` e-mails pending messages (SMTP)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.governance import governance_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit

supervise_app = typer.Typer(help="Supervision items (督办): scan, list, show, answer, close, notice.",
                            no_args_is_help=True)
calendar_app = typer.Typer(help="The working-day calendar (法定节假日、调休).", no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
AS_OF_OPTION = typer.Option("--as-of", help="the day to evaluate, YYYY-MM-DD (default: today in China)")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


def _item_row(item) -> dict:
    return {"id": item.id or "", "level": f"{item.level_zh} ({item.level})", "unit": item.org_name_zh,
            "measure": item.measure_code, "round": item.round_code, "rule": item.rule_title_zh,
            "workdays_late": "" if item.workdays_late is None else item.workdays_late, "state": item.state,
            "doc_number": item.doc_number or ""}


def overdue(as_of: Annotated[str | None, AS_OF_OPTION] = None, city: Annotated[str, CITY_OPTION] = "dalian",
            fmt: OutputFormat = FORMAT_OPTION) -> None:
    """What is late on a day, by level (提醒 / 督办通知 / 约谈), counted in working days; writes nothing."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.overdue(db, me, city, today=_day(as_of)))
    emit([i.to_dict() for i in found], fmt, rows=[_item_row(i) for i in found], title="逾期 / overdue")


@supervise_app.command("scan")
def scan(as_of: Annotated[str | None, AS_OF_OPTION] = None, city: Annotated[str, CITY_OPTION] = "dalian",
         fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Create and escalate the supervision items the rules call for (idempotent; the unit's inbox is told)."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.scan(db, me, city, today=_day(as_of)))
    rows = [{"change": "created", **_item_row(i)} for i in found.created] + [
        {"change": "escalated", **_item_row(i)} for i in found.escalated]
    emit(found.to_dict(), fmt, rows=rows, title=f"督办扫描 / scan {found.as_of}: {found.unchanged} unchanged")


@supervise_app.command("list")
def list_(city: Annotated[str, CITY_OPTION] = "dalian",
          level: Annotated[str | None, typer.Option("--level", help="reminder | notice | interview")] = None,
          state: Annotated[str | None, typer.Option("--state", help="open | answered | closed")] = None,
          fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The supervision items, highest level first."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.list_items(db, me, city, level=level, state=state))
    emit([i.to_dict() for i in found], fmt, rows=[_item_row(i) for i in found], title="督办事项 / supervision")


@supervise_app.command("show")
def show(item_id: Annotated[int, typer.Argument(help="the item's id")], city: Annotated[str, CITY_OPTION] = "dalian",
         fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One item with its facts, answer and closing note."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.get_item(db, me, city, item_id))
    rows = [{"field": k, "value": v} for k, v in found.to_dict().items()]
    emit(found.to_dict(), fmt, rows=rows, title=f"督办事项 / item {item_id}")


@supervise_app.command("answer")
def answer_(item_id: Annotated[int, typer.Argument(help="the item's id")],
            text: Annotated[str, typer.Option("--text", help="the answer")],
            files: Annotated[list[Path] | None, typer.Option("--file", help="evidence file (PDF, image, Excel); "
                                                                           "repeat for more")] = None,
            city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Answer an item in its unit's name (with evidence files)."""
    from citycarbon.services.governance import supervision

    attachments = [(p.name, p.read_bytes()) for p in files or []]
    found = run_service(lambda db, me: supervision.answer(db, me, city, item_id, text, attachments=attachments))
    emit(found.to_dict(), fmt, rows=[_item_row(found)], title="已答复 / answered")


@supervise_app.command("close")
def close_(item_id: Annotated[int, typer.Argument(help="the item's id")],
           note: Annotated[str, typer.Option("--note", help="the closing note")],
           city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Close an item with a note."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.close(db, me, city, item_id, note))
    emit(found.to_dict(), fmt, rows=[_item_row(found)], title="已办结 / closed")


@supervise_app.command("notice")
def notice(item_id: Annotated[int, typer.Argument(help="the item's id")],
           out: Annotated[Path, typer.Option("--out", help="where to write the DOCX")],
           day: Annotated[str | None, typer.Option("--date", help="成文日期, YYYY-MM-DD (default: today)")] = None,
           city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Write the 督办通知 of an item (GB/T 9704 layout) to a DOCX file."""
    from citycarbon.services.governance import supervision

    _name, content = run_service(lambda db, me: supervision.notice_docx(db, me, city, item_id, today=_day(day)))
    out.write_bytes(content)
    emit({"file": str(out), "bytes": len(content)}, fmt, rows=[{"file": str(out), "bytes": len(content)}],
         title="督办通知 / notice")


@supervise_app.command("template")
def template(path: Annotated[Path, typer.Argument(help="the office's DOCX template")],
             city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Replace the 督办通知's DOCX template (styles, page, header and footer kept; the body is generated)."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.upload_template(db, me, city, path.read_bytes(),
                                                                   filename=path.name))
    emit(found, fmt, rows=[found], title="模板 / template")


def _calendar_rows(found) -> list[dict]:
    return [{"date": d.day, "weekday": d.weekday, "kind": "放假 holiday" if d.kind == "holiday" else "调休上班 workday",
             "name": d.name, "status": d.status, "origin": d.origin} for d in found]


@calendar_app.command("show")
def calendar_show(year: Annotated[int, typer.Argument(help="the year")], city: Annotated[str, CITY_OPTION] = "dalian",
                  fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The year's holidays and adjusted working days, with where each comes from."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.calendar_year(db, me, city, year))
    emit([d.to_dict() for d in found], fmt, rows=_calendar_rows(found), title=f"工作日历 / calendar {year}")


@calendar_app.command("import")
def calendar_import(path: Annotated[Path, typer.Argument(help="CSV or Excel: date,kind,name,source,status")],
                    city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Import a State Council holiday notice (all rows or none; bad rows named)."""
    from citycarbon.services.governance import supervision

    found = run_service(lambda db, me: supervision.import_calendar(db, me, city, path.read_bytes(),
                                                                   filename=path.name))
    emit([d.to_dict() for d in found], fmt, rows=_calendar_rows(found), title=f"导入 / imported {len(found)}")


def inbox(unread: Annotated[bool, typer.Option("--unread", help="only unread messages")] = False,
          deliver: Annotated[bool, typer.Option("--deliver", help="e-mail pending messages (needs "
                                                                  "CITYCARBON_SMTP_HOST)")] = False,
          city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The office's inbox; with --deliver, e-mail the messages not sent yet (for cron)."""
    from citycarbon.services.governance import inbox as service

    if deliver:
        done = run_service(lambda db, me: service.deliver_pending(db))
        emit(done.to_dict(), fmt, rows=[done.to_dict()], title="邮件 / e-mail")
        return
    found = run_service(lambda db, me: service.list_messages(db, me, city, unread_only=unread))
    emit([m.to_dict() for m in found], fmt, rows=[{"id": m.id, "read": m.read, "message": m.text_zh,
                                                   "created_at": m.created_at, "link": m.link} for m in found],
         title="通知 / inbox")


def register(app: typer.Typer) -> None:
    governance_app.command("overdue")(overdue)
    governance_app.command("inbox")(inbox)
    governance_app.add_typer(supervise_app, name="supervise")
    governance_app.add_typer(calendar_app, name="calendar")

"""``citycarbon governance round …`` and ``citycarbon governance filings …``: progress rounds (调度) and filings.

``round open|close|list|show`` and ``filings list|show|file|submit|review|attach``; every command calls one
function of :mod:`citycarbon.services.governance.rounds` as the operator (an administrator: the office, who may
also file in a unit's name) and renders ``--format table|json|csv``. A stale ``--version`` is refused (exit 2)
with the current state named."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.governance import governance_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit
from citycarbon.errors import InputError, Problem

round_app = typer.Typer(help="Progress rounds (调度): open, close, list, show.", no_args_is_help=True)
filings_app = typer.Typer(help="Filings of a round: list, show, file (save), submit, review, attach.",
                          no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
VERSION_OPTION = typer.Option("--version", help="the version you read (filings show); a stale one is refused")
STATUS_OPTION = typer.Option("--status", help="not_started | in_progress | completed | lagging")
NARRATIVE_OPTION = typer.Option("--narrative", help="what was done this period")
INDICATOR_OPTION = typer.Option("--indicator", help="CODE=VALUE, a value to date in the indicator's unit "
                                                    "(repeat for several)")
LAG_OPTION = typer.Option("--lag-reason", help="why the measure lags (required with --status lagging)")


def _round_row(r: Any) -> dict[str, Any]:
    c = r.counts
    return {"code": r.code, "title": r.title_zh, "period": r.period, "start": r.period_start, "end": r.period_end,
            "deadline": r.deadline, "state": r.state, "assignments": c["assignments"], "not_filed": c["not_filed"],
            "draft": c["draft"], "submitted": c["submitted"], "returned": c["returned"], "accepted": c["accepted"],
            "late": c["late"], "lagging": c["lagging"]}


def _filing_row(f: Any) -> dict[str, Any]:
    return {"id": f.id, "round": f.round, "measure": f.measure, "org": f.org, "role": f.role, "version": f.version,
            "state": f.state if f.filed else "not_filed", "status": f.status, "late": f.late,
            "deadline": f.deadline, "indicators": ";".join(f"{k}={v:g}" for k, v in f.indicator_values.items())}


@round_app.command("open")
def open_(
    code: Annotated[str, typer.Argument(help="the round's code: 2026Q4, 2026-11 or 2026")],
    period: Annotated[str, typer.Option("--period", help="monthly | quarterly | yearly")],
    deadline: Annotated[str, typer.Option("--deadline", help="the filing deadline, YYYY-MM-DD")],
    start: Annotated[str | None, typer.Option("--start", help="period start (default: from the code)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="period end (default: from the code)")] = None,
    task: Annotated[list[int] | None, typer.Option("--task", help="only the measures of this task (repeat)")]
    = None,
    measure: Annotated[list[str] | None, typer.Option("--measure", help="only this measure, e.g. T04-M01 "
                                                                         "(repeat)")] = None,
    co_units: Annotated[bool, typer.Option("--co-units/--no-co-units", help="assign the co-units too")] = True,
    districts: Annotated[bool, typer.Option("--districts/--no-districts", help="assign the districts too")]
    = True,
    title: Annotated[str | None, typer.Option("--title", help="the round's title (default: 2026Q4 季度调度)")]
    = None,
    note: Annotated[str, typer.Option("--note", help="a note to the units")] = "",
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Open a round: every responsible unit of the measures in scope is assigned and notified."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.open_round(
        db, me, city, code=code, period=period, deadline=deadline, period_start=start, period_end=end,
        title_zh=title, tasks=task or None, measures=measure or None, include_co_units=co_units,
        include_districts=districts, note=note))
    emit(found.to_dict(), fmt, rows=[_round_row(found)], title="调度轮次 / round")


@round_app.command("close")
def close(
    code: Annotated[str, typer.Argument(help="the round's code")],
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Close a round: no filing is saved or submitted after this."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.close_round(db, me, city, code))
    emit(found.to_dict(), fmt, rows=[_round_row(found)], title="调度轮次 / round")


@round_app.command("list")
def list_rounds(city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Every round, newest first, with its progress counts."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.list_rounds(db, me, city))
    emit([r.to_dict() for r in found], fmt, rows=[_round_row(r) for r in found], title="调度轮次 / rounds")


@round_app.command("show")
def show_round(
    code: Annotated[str, typer.Argument(help="the round's code")],
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """One round with its progress counts."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.get_round(db, me, city, code))
    emit(found.to_dict(), fmt, rows=[_round_row(found)], title="调度轮次 / round")


@filings_app.command("list")
def list_filings(
    code: Annotated[str, typer.Argument(help="the round's code")],
    org: Annotated[str | None, typer.Option("--org", help="only this unit (organisation code)")] = None,
    state: Annotated[str | None, typer.Option("--state", help="not_filed | draft | submitted | returned | "
                                                              "accepted")] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The round's filings by measure and unit."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.list_filings(db, me, city, code, org=org, state=state))
    emit([f.to_dict() for f in found], fmt, rows=[_filing_row(f) for f in found], title=f"填报 / filings: {code}")


@filings_app.command("show")
def show_filing(
    filing_id: Annotated[int, typer.Argument(help="the filing's id")],
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """One filing with its history (table: one row per version)."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.get_filing(db, me, city, filing_id))
    rows = [{"version": h.version, "action": h.action, "actor": h.actor, "at": h.at,
             "state": h.snapshot.get("state"), "status": h.snapshot.get("status"),
             "comment": h.snapshot.get("review_comment", "")} for h in found.history] or [_filing_row(found)]
    emit(found.to_dict(), fmt, rows=rows, title=f"填报 / filing {filing_id} ({found.measure} · {found.org}, "
                                                f"version {found.version}, {found.state})")


def _indicators(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        code, sep, value = pair.partition("=")
        if not sep or not code.strip():
            raise InputError(Problem("an indicator is CODE=VALUE", field="indicator", value=pair,
                                     message_zh="指标应写作 代码=数值"))
        out[code.strip()] = value.strip()
    return out


def _save(filing_id: int, version: int, status: str, narrative: str, indicator: list[str] | None, lag_reason: str,
          city: str, fmt: OutputFormat, *, submit: bool) -> None:
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.save_filing(
        db, me, city, filing_id, version=version, status=status, narrative=narrative,
        indicator_values=_indicators(indicator), lag_reason=lag_reason, submit=submit))
    emit(found.to_dict(), fmt, rows=[_filing_row(found)], title="填报 / filing")


@filings_app.command("file")
def file_(
    filing_id: Annotated[int, typer.Argument(help="the filing's id")],
    version: Annotated[int, VERSION_OPTION],
    status: Annotated[str, STATUS_OPTION],
    narrative: Annotated[str, NARRATIVE_OPTION] = "",
    indicator: Annotated[list[str] | None, INDICATOR_OPTION] = None,
    lag_reason: Annotated[str, LAG_OPTION] = "",
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Save a filing as a draft (in the unit's name; the operator is the office)."""
    _save(filing_id, version, status, narrative, indicator, lag_reason, city, fmt, submit=False)


@filings_app.command("submit")
def submit(
    filing_id: Annotated[int, typer.Argument(help="the filing's id")],
    version: Annotated[int, VERSION_OPTION],
    status: Annotated[str, STATUS_OPTION],
    narrative: Annotated[str, NARRATIVE_OPTION] = "",
    indicator: Annotated[list[str] | None, INDICATOR_OPTION] = None,
    lag_reason: Annotated[str, LAG_OPTION] = "",
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Save and submit a filing to the office."""
    _save(filing_id, version, status, narrative, indicator, lag_reason, city, fmt, submit=True)


@filings_app.command("review")
def review(
    filing_id: Annotated[int, typer.Argument(help="the filing's id")],
    version: Annotated[int, VERSION_OPTION],
    decision: Annotated[str, typer.Option("--decision", help="accept | return")],
    comment: Annotated[str, typer.Option("--comment", help="the office's comment (required to return)")] = "",
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Accept a submitted filing or return it with a comment."""
    from citycarbon.services.governance import rounds

    found = run_service(lambda db, me: rounds.review_filing(db, me, city, filing_id, version=version,
                                                            decision=decision, comment=comment))
    emit(found.to_dict(), fmt, rows=[_filing_row(found)], title="填报 / filing")


@filings_app.command("attach")
def attach(
    filing_id: Annotated[int, typer.Argument(help="the filing's id")],
    path: Annotated[Path, typer.Argument(help="PDF, image or Excel file (the type is read from the content)",
                                         exists=True, dir_okay=False, readable=True)],
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Attach an evidence file to a filing being edited."""
    from citycarbon.services.governance import evidence, rounds

    with path.open("rb") as handle:
        content = handle.read(evidence.MAX_BYTES + 1)  # one byte over is enough to be refused
    found = run_service(lambda db, me: rounds.attach_file(db, me, city, filing_id, filename=path.name,
                                                          content=content))
    emit(found.to_dict(), fmt, rows=[found.to_dict()], title="附件 / attachment")


def register(app: typer.Typer) -> None:
    governance_app.add_typer(round_app, name="round")
    governance_app.add_typer(filings_app, name="filings")

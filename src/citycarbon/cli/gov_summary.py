"""``citycarbon governance board|summary|export|report``: the office's board, a round's 调度 summary and its
XLSX/DOCX, and a unit's yearly 贯彻落实情况 report (issue 14 items 6, 9, 10).

Each command parses, calls one function of :mod:`citycarbon.services.governance.summary` and renders: the read
commands with ``--format table|json|csv``; ``export`` and ``report`` write a file (``--out``) with a progress
bar on stderr for the long part (see :mod:`citycarbon.cli.progress`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.governance import governance_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit
from citycarbon.cli.progress import QUIET_OPTION, progress_bars

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
TODAY_OPTION = typer.Option("--today", help="count overdue filings as of this day, YYYY-MM-DD (default: today)")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --today must be a date YYYY-MM-DD, not {text!r}", err=True)
        raise typer.Exit(2) from None


def board(
    city: Annotated[str, CITY_OPTION] = "dalian",
    today: Annotated[str | None, TODAY_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The office's board: each task × unit cell's state (table/csv: one row per cell), the open rounds'
    progress and the overdue filings (json: everything)."""
    from citycarbon.services.governance import summary

    found = run_service(lambda db, me: summary.board(db, me, city, today=_day(today)))
    data = found.to_dict()
    names = {code: label.name_zh for code, label in found.org_names.items()}
    cells = [{"task": c.task, "unit": c.org, "unit_name": names.get(c.org, c.org), "level": c.level,
              "round": c.round_code} for c in found.cells]
    emit(data, fmt, rows=cells, title="任务×单位 / tasks × units")
    if fmt is OutputFormat.table:
        emit(data, fmt, rows=[{k: v for k, v in p.items() if k != "title_zh"} for p in data["progress"]],
             title="进行中的调度 / open rounds")
        emit(data, fmt, rows=data["overdue"], title="逾期未报送 / overdue")


def summary_(
    round_code: Annotated[str, typer.Option("--round", help="the round's code, e.g. 2026Q4")],
    city: Annotated[str, CITY_OPTION] = "dalian",
    today: Annotated[str | None, TODAY_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A round's 调度 summary (table/csv: units by on-time rate; json: everything)."""
    from citycarbon.services.governance import summary

    found = run_service(lambda db, me: summary.round_summary(db, me, city, round_code, today=_day(today)))
    data = found.to_dict()
    emit(data, fmt, rows=data["units"], title=f"{found.title_zh} · 单位按时率 / on-time rate")


def export(
    round_code: Annotated[str, typer.Option("--round", help="the round's code, e.g. 2026Q4")],
    kind: Annotated[str, typer.Option("--format", "-f", help="xlsx (the workbook) | docx (the document)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="the file to write")],
    city: Annotated[str, CITY_OPTION] = "dalian",
    today: Annotated[str | None, TODAY_OPTION] = None,
    quiet: bool = QUIET_OPTION,
) -> None:
    """Write a round's 调度 summary as an XLSX workbook (概况, 措施进展, 单位按时率, 滞后措施, 指标对照) or a
    DOCX in official-document layout."""
    from citycarbon.services.governance import summary

    if kind not in ("xlsx", "docx"):
        typer.echo(f"error: --format must be xlsx or docx, not {kind!r}", err=True)
        raise typer.Exit(2)
    write = summary.round_summary_xlsx if kind == "xlsx" else summary.round_summary_docx
    with progress_bars(quiet) as bars:
        bar = bars.task("调度汇总 / round summary", "sheets" if kind == "xlsx" else "steps")
        content = run_service(lambda db, me: write(db, me, city, round_code, today=_day(today), progress=bar))
    out.write_bytes(content)
    typer.echo(f"wrote {out} ({len(content):,} bytes)", err=True)


def report(
    org: Annotated[str, typer.Option("--org", help="the unit's code (citycarbon governance orgs)")],
    year: Annotated[int, typer.Option("--year", min=2000, max=2100, help="the year reported")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write the DOCX here")] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A unit's yearly 贯彻落实情况 report drafted from its filings: the draft (table/csv: its measures; json:
    everything) and, with --out, the DOCX."""
    from citycarbon.services.governance import summary

    def call(db: Any, me: Any) -> tuple[Any, bytes | None]:
        if out is None:
            return summary.unit_report(db, me, city, org, year), None
        return summary.unit_report_docx(db, me, city, org, year)

    draft, content = run_service(call)
    if out is not None and content is not None:
        out.write_bytes(content)
        typer.echo(f"wrote {out} ({len(content):,} bytes)", err=True)
    data = draft.to_dict()
    rows = [{"measure": m.code, "task": m.task, "role": m.role, "status": m.status, "round": m.round_code,
             "lag_reasons": "；".join(m.lag_reasons)} for m in draft.measures]
    emit(data, fmt, rows=rows, title=draft.title_zh)


def register(app: typer.Typer) -> None:
    governance_app.command("board")(board)
    governance_app.command("summary")(summary_)
    governance_app.command("export")(export)
    governance_app.command("report")(report)

"""``citycarbon report annual|list``: the city's yearly 贯彻落实情况 report (or a district's or department's own)
as DOCX, PDF or XLSX, stored with its ledger version and inputs hash; the stored documents.

Each command parses, calls one function of :mod:`citycarbon.services.reports.generate` and writes or renders;
``annual`` draws a progress bar on stderr (see :mod:`citycarbon.cli.progress`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.cli.report import report_app

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")


def annual(
    year: Annotated[int, typer.Option("--year", min=2000, max=2100, help="the year reported")],
    out: Annotated[Path, typer.Option("--out", "-o", help="the file to write")],
    kind: Annotated[str, typer.Option("--format", "-f", help="docx | pdf | xlsx")] = "docx",
    district: Annotated[str | None, typer.Option(
        "--district", help="a district's GB/T 2260 code or a unit's organisation code: that unit's own report")] = None,
    ledger_version: Annotated[int | None, typer.Option(
        "--ledger-version", min=0, help="build from this ledger version (default: the current one)")] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    quiet: bool = QUIET_OPTION,
) -> None:
    """The city's yearly report to 市委/市政府 (GB/T 9704 layout; XLSX: every table), or --district's own report;
    stored in the platform (citycarbon report list) and written to --out."""
    from citycarbon.services.reports import generate

    kind = kind.lower()
    if kind not in generate.FORMATS:
        typer.echo(f"error: --format must be docx, pdf or xlsx, not {kind!r}", err=True)
        raise typer.Exit(2)
    with progress_bars(quiet) as bars:
        bar = bars.task("年度报告 / yearly report", "steps")
        found = run_service(lambda db, me: generate.build_report(db, me, city, year, kind, district=district,
                                                                 progress=bar, ledger_version=ledger_version))
    out.write_bytes(found.content)
    typer.echo(f"wrote {out} ({len(found.content):,} bytes; document {found.info.id}, ledger version "
               f"{found.info.ledger_version}, inputs {found.inputs_hash[:12]})", err=True)


def list_(
    year: Annotated[int | None, typer.Option("--year", min=2000, max=2100, help="only this year's")] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The stored report documents, newest first."""
    from citycarbon.services.reports import generate

    found = run_service(lambda db, me: generate.list_documents(db, me, city, year=year))
    rows = [{k: v for k, v in d.to_dict().items() if k not in ("sha256", "inputs_hash", "job_id")} for d in found]
    emit([d.to_dict() for d in found], fmt, rows=rows, title="年度报告 / report documents")


def register(app: typer.Typer) -> None:
    del app  # the commands join the ``report`` group (cli/report.py)
    report_app.command("annual")(annual)
    report_app.command("list")(list_)

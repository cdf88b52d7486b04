"""``citycarbon status``: progress and early warning (一级/二级/三级) of every plan target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.output import (
    FORMAT_OPTION,
    SOURCE_OPTION,
    DataSourceChoice,
    OutputFormat,
    emit,
    fail,
    source_value,
)
from citycarbon.errors import InputError


def status_rows(report: dict) -> list[dict]:
    """A flat table view of the status report's targets."""
    return [{"id": t["id"], "title_zh": t["title_zh"], "target_year": t["target_year"],
             "target_value": t["target_value"], "actual": t["actual"], "progress_share": t["progress_share"],
             "time_elapsed_share": t["time_elapsed_share"], "required_annual_rate": t["required_annual_rate"],
             "projection": t["projection"]["value"], "level": t["level"], "colour": t["colour"],
             "reason": t["reason"]} for t in report["targets"]]


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status(
        year: Annotated[int, typer.Option("--year", help="year to report")],
        month: Annotated[int | None, typer.Option("--month", help="nowcast the year from monthly data to M")] = None,
        region: Annotated[str | None, typer.Option("--region", help="district/county code (GB/T 2260)")] = None,
        targets: Annotated[Path | None, typer.Option("--targets", help="YAML: target id → value")] = None,
        rule_set: Annotated[str | None, typer.Option("--rule-set", help="warning rule set (default ndrc_629)")] = None,
        city: Annotated[str, typer.Option("--city", help="city dataset")] = "dalian",
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Target progress, 序时进度, projection and warning level (发改办环资〔2021〕629号 barometer); CO2 targets
        on both bases (net inflow, consumption) in --format json, the peak and neutrality rated on the worse basis."""
        from citycarbon.services.tracking import status_report

        try:
            report = status_report(year, month=month, region=region, city=city, targets_file=targets,
                                   rule_set=rule_set, source=source_value(source))
        except InputError as error:
            fail(error)
            return
        title = f"{report['region_name_zh']} {year} 年目标进度与预警 / target status"
        if month is not None:
            title += f" (nowcast to month {month})"
        emit(report, fmt, rows=status_rows(report), title=title)

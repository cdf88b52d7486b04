"""``citycarbon demo``: the main job on the embedded default — the Dalian plan, accounts and barometer."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from citycarbon.cli.account import indicator_rows
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


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        city: Annotated[str, typer.Option("--city", help="city dataset")] = "dalian",
        year: Annotated[int | None, typer.Option("--year", help="year (default: latest in the dataset)")] = None,
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Run the main job: plan targets, the year's accounts and their warnings (the ledger when a database
        exists, the shipped data otherwise; --source chooses)."""
        from citycarbon.plan import load_plan
        from citycarbon.services.accounting import account_city
        from citycarbon.services.sources import city_inputs
        from citycarbon.services.tracking import status_report

        plan = load_plan(city)
        try:
            inputs = city_inputs(city, source_value(source))
            year = year or max(inputs.dataset.years)
            result = account_city(year, city=city, dataset=inputs.dataset)
            report = status_report(year, city=city, source=inputs.source)
        except InputError as error:
            fail(error)
            return
        if fmt is OutputFormat.json:
            emit({"city": city, "year": year, "accounting": result.to_dict(), "status": report}, fmt)
            return
        console = Console(width=160)
        console.rule(f"citycarbon · {plan.meta.city} {year}")
        emit(None, fmt, rows=indicator_rows(result.indicators), title=f"{year} 年能源与碳排放核算 / accounts")
        emit(None, fmt, rows=[{
            "id": t["id"], "target": t["title_zh"], "target_year": t["target_year"],
            "target_value": t["target_value"], "actual": t["actual"], "level": t["level"], "reason": t["reason"],
        } for t in report["targets"]], title=f"{year} 年目标预警 / barometer (一级=red 二级=yellow 三级=green)")
        if result.provenance.estimates:
            console.print("[yellow]含估算值 / contains estimates:[/yellow] " + "; ".join(result.provenance.estimates))
        console.print("更多 / more: citycarbon plan show · citycarbon account --year Y · citycarbon status --year Y "
                      "· citycarbon sinks --year Y · citycarbon decompose --input FILE.csv")

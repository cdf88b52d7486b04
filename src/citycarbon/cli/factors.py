"""``citycarbon factors``: list and show the factor rows (shipped, plus optional office files).

JSON of ``factors list``: ``{"factors": [row dicts with all 15 columns], "count": n}``.
JSON of ``factors show ID``: ``{"factor": {row dict}, "file": "<file the row came from>"}``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError
from citycarbon.factors import FactorNotFound, FactorRow, FactorTable, load_factors

factors_app = typer.Typer(help="Conversion and emission factors as data: list, show.", no_args_is_help=True)

EXTRA_OPTION = typer.Option(None, "--extra", "-x",
                            help="office factor file (CSV, same columns); its rows replace shipped rows "
                                 "with the same factor_id. Repeatable.")


def _table(extra: list[Path] | None) -> FactorTable:
    return FactorTable.load(list(extra)) if extra else load_factors()


def _years(row: dict) -> str:
    start, end = row["year_from"], row["year_to"]
    if start is None and end is None:
        return "all"
    if start == end:
        return str(start)
    return f"{start if start is not None else '…'}–{end if end is not None else '…'}"


def _table_row(row: dict) -> dict:
    return {"id": row["factor_id"], "kind": row["kind"], "set": row["factor_set"], "key": row["key"],
            "region": row["region"], "value": row["value"], "unit": row["unit"], "years": _years(row),
            "status": row["status"]}


@factors_app.command("list")
def list_factors(
    kind: str | None = typer.Option(None, "--kind", help="standard_coal, ncv, carbon_content, oxidation, "
                                    "grid_ef, heat_ef, coal_rate, process_ef, grid_nonfossil_share"),
    factor_set: str | None = typer.Option(None, "--factor-set", help="e.g. gbt2589_2020, cn_provincial_2011"),
    status: str | None = typer.Option(None, "--status", help="official, secondary, unverified, estimate"),
    key: str | None = typer.Option(None, "--key", help="fuel id, electricity, heat, process id ..."),
    extra: list[Path] | None = EXTRA_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List factor rows, filtered by kind, set, status and key."""
    try:
        frame = _table(extra).select(kind=kind, factor_set=factor_set, status=status, key=key)
    except InputError as error:
        fail(error)
        return
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    if fmt is OutputFormat.csv:
        emit(None, fmt, rows=frame)
        return
    emit({"factors": records, "count": len(records)}, fmt, rows=[_table_row(r) for r in records],
         title=f"factors ({len(records)} rows)")


@factors_app.command("show")
def show(factor_id: str = typer.Argument(..., help="factor_id, e.g. gbt2589.electricity"),
         extra: list[Path] | None = EXTRA_OPTION, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Show one factor row with its source, document, status and notes."""
    try:
        table = _table(extra)
        row: FactorRow = table.row(factor_id)
    except (InputError, FactorNotFound) as error:
        fail(error)
        return
    data = row.to_dict()
    emit({"factor": data, "file": table.sources.get(row.factor_id)}, fmt,
         rows=[{"field": name, "value": value} for name, value in data.items()], title=factor_id)


def register(app: typer.Typer) -> None:
    app.add_typer(factors_app, name="factors")

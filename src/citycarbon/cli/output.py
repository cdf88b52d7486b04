"""Output for CLI commands: ``--format table|json|csv``. JSON is stable, UTF-8, machine-readable."""

from __future__ import annotations

import io
import json
import math
import sys
from contextlib import suppress
from datetime import date
from enum import StrEnum
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from citycarbon.errors import InputError


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table | json | csv")


class DataSourceChoice(StrEnum):
    store = "store"
    files = "files"


#: ``--source store|files`` of every command that reads a city's data; None = the one rule of
#: :func:`citycarbon.services.sources.resolve_source` (the ledger when CITYCARBON_HOME holds a database)
SOURCE_OPTION = typer.Option(None, "--source", help="where to read the city's data: store (the ledger) | "
                             "files (the shipped CSVs); default: store when a database exists, files otherwise")


def source_value(source: DataSourceChoice | None) -> str | None:
    """The ``source=`` argument of the services for a ``--source`` option value."""
    return None if source is None else source.value


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf -> null, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, date):  # datetimes too: ISO 8601, as the API writes them
        return value.isoformat()
    return value


def to_json(data: Any) -> str:
    return json.dumps(_clean(data), ensure_ascii=False, indent=2, sort_keys=False)


def emit(data: Any, fmt: OutputFormat, rows: list[dict] | pd.DataFrame | None = None,
         title: str | None = None) -> None:
    """Print ``data`` as JSON, or ``rows`` (a flat table view of it) as a table or CSV."""
    if fmt is OutputFormat.json:
        sys.stdout.write(to_json(data) + "\n")
        return
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows if rows is not None else [])
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for record in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in record])
    Console(width=160).print(table)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        if abs(value) < 1e-9:
            return "0"
        if abs(value) >= 1e5:
            return f"{value:,.0f}"
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def fail(error: Exception, code: int = 2) -> None:
    """Print an input error to stderr and exit with ``code`` (2 = bad input)."""
    if isinstance(error, InputError):
        typer.echo(f"error: {error}", err=True)
    else:
        typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code)

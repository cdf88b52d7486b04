"""``citycarbon sinks``: carbon sinks of one year (forest, wetland/blue carbon) and forest projections.

An adapter only: :func:`citycarbon.services.sinks.city_sinks` (ledger or shipped files, ``--source``) printed
as a table, JSON or CSV.
"""

from __future__ import annotations

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
from citycarbon.sinks.summary import summary_rows


def register(app: typer.Typer) -> None:
    @app.command("sinks")
    def sinks(
        year: int = typer.Option(..., "--year", "-y", help="accounting year"),
        city: str = typer.Option("dalian", "--city", "--dataset", help="city dataset"),
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Forest and wetland/blue-carbon sinks of a year (t CO2/yr), with a projection to 2025/2030."""
        from citycarbon.services.sinks import city_sinks

        try:
            data = city_sinks(year, city, source=source_value(source))
        except (InputError, ValueError, KeyError) as error:
            fail(error)
            return
        emit(data, fmt, rows=summary_rows(data),
             title=f"Carbon sinks {data['region']} {data['year']} (t CO2/yr; positive = removal)")

"""``citycarbon sinks``: carbon sinks of one year (forest, wetland/blue carbon) and forest projections.

An adapter only: it loads the Dalian reference dataset and prints
:func:`citycarbon.sinks.summary.sink_summary` as a table, JSON or CSV.
"""

from __future__ import annotations

import importlib

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError
from citycarbon.sinks.summary import sink_summary, summary_rows


def _input_files(dataset: object) -> dict[str, str]:
    files = getattr(dataset, "files", None) or {}
    if isinstance(files, dict):
        return {str(k): str(v) for k, v in files.items() if str(k) in ("forest", "wetland")}
    return {}


def register(app: typer.Typer) -> None:
    @app.command("sinks")
    def sinks(
        year: int = typer.Option(..., "--year", "-y", help="accounting year"),
        dataset: str = typer.Option("dalian", "--dataset", help="reference dataset name"),
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Forest and wetland/blue-carbon sinks of a year (t CO2/yr), with a projection to 2025/2030."""
        try:
            datasets = importlib.import_module("citycarbon.datasets")
        except ImportError as error:
            fail(RuntimeError(f"the reference datasets are not available: {error}"))
            return
        try:
            reference = datasets.load_reference(dataset)
            data = sink_summary(reference.forest, reference.wetland, year,
                                input_files=_input_files(reference))
        except (InputError, ValueError, KeyError) as error:
            fail(error)
            return
        emit(data, fmt, rows=summary_rows(data),
             title=f"Carbon sinks {data['region']} {data['year']} (t CO2/yr; positive = removal)")

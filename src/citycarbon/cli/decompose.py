"""``citycarbon decompose``: LMDI-I decomposition of a long ``year, category, factor, value`` CSV.

Without ``--from``/``--to`` every pair of consecutive years in the file is a period (a chain); with both
the file is decomposed directly between those two years. The work is done by
:func:`citycarbon.decomposition.decompose_lmdi` / :func:`~citycarbon.decomposition.decompose_lmdi_chain`.

JSON: ``{"periods": [{"from", "to", "total_change", "ratio", "additive": {factor: effect},
"multiplicative": {factor: index}, "by_category": {category: {factor: effect}}}, ...]}``.
CSV: one row per period and factor: ``from, to, factor, additive_effect, multiplicative_index``.
Table: the same rows plus a ``(total)`` row per period (total change and ratio). Bad input: exit 2 with
the error on stderr.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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
from citycarbon.data import read_csv_file
from citycarbon.decomposition import LmdiResult, decompose_lmdi, decompose_lmdi_chain
from citycarbon.errors import InputError, Problem

INPUT_OPTION = typer.Option(None, "--input", "-i", help="long CSV with columns year, category, factor, value")
CITY_OPTION = typer.Option(None, "--city", help="decompose a city's accounted history instead (e.g. dalian)")
MEASURE_OPTION = typer.Option("energy", "--measure", help="with --city: energy | co2")
FROM_OPTION = typer.Option(None, "--from", help="start year (with --to); default: chain over all years")
TO_OPTION = typer.Option(None, "--to", help="end year (with --from)")


def read_lmdi_csv(path: Path) -> pd.DataFrame:
    """Read the input CSV (UTF-8; leading ``#`` banner lines skipped); InputError if unreadable."""
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    try:
        return read_csv_file(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"cannot read CSV: {exc}", file=str(path))) from exc


def run_decomposition(data: pd.DataFrame, start: int | None, end: int | None, source: str) -> LmdiResult:
    """Direct decomposition when both years are given, the chain over all years when neither is."""
    if (start is None) != (end is None):
        raise InputError(Problem("give both --from and --to, or neither for a chain over all years",
                                 file=source, field="year", value=start if end is None else end))
    if start is None or end is None:
        return decompose_lmdi_chain(data, source=source)
    return decompose_lmdi(data, start=start, end=end, source=source)


def decomposition_document(result: LmdiResult) -> dict:
    """The JSON document: ``{"periods": [LmdiPeriod.to_dict(), ...]}``."""
    return {"periods": [period.to_dict() for period in result.periods]}


def table_rows(result: LmdiResult) -> list[dict]:
    rows: list[dict] = []
    for period in result.periods:
        label = f"{period.start}→{period.end}"
        for row in period.rows():
            rows.append({"period": label, "factor": row["factor"], "additive_effect": row["additive_effect"],
                         "multiplicative_index": row["multiplicative_index"]})
        rows.append({"period": label, "factor": "(total)", "additive_effect": period.total_change,
                     "multiplicative_index": period.ratio})
    return rows


def register(app: typer.Typer) -> None:
    @app.command("decompose")
    def decompose(input_file: Path | None = INPUT_OPTION, from_year: int | None = FROM_OPTION,
                  to_year: int | None = TO_OPTION, city: str | None = CITY_OPTION, measure: str = MEASURE_OPTION,
                  source: DataSourceChoice | None = SOURCE_OPTION, fmt: OutputFormat = FORMAT_OPTION) -> None:
        """LMDI-I decomposition (additive and multiplicative) of a change between years."""
        try:
            if city is not None:
                from citycarbon.services.decomposition import NOTES, decompose_city

                if measure not in ("energy", "co2"):
                    raise InputError(Problem(f"unknown measure '{measure}'", field="measure", value=measure,
                                             suggestion="energy" if measure.startswith("e") else "co2"))
                if (from_year is None) != (to_year is None):
                    raise InputError(Problem("give both --from and --to, or neither", field="--from"))
                result, households = decompose_city(city, measure, from_year, to_year, source=source_value(source))
                label = f"{city} {measure}"
            elif input_file is not None:
                data = read_lmdi_csv(input_file)
                result = run_decomposition(data, from_year, to_year, str(input_file))
                label, households = input_file.name, None
            else:
                raise InputError(Problem("give --input FILE.csv or --city NAME", field="--input"))
        except InputError as error:
            fail(error)
            return
        document = decomposition_document(result)
        if households is not None:
            document["households"] = households.to_dict(orient="records")
            document["notes"] = NOTES
        emit(document, fmt,
             rows=table_rows(result) if fmt is OutputFormat.table else result.period_rows(),
             title=f"LMDI-I decomposition {result.start}→{result.end} ({label})")

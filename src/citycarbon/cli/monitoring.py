"""``citycarbon monitoring simulate|quality|alerts|registry``: key energy-using units (重点用能单位).

The lake commands (``ingest``, ``rollup``, ``mqtt``) live in ``cli/monitoring_lake.py``. These commands hold no
logic: they call :mod:`citycarbon.monitoring` functions and print the result with ``--format``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from citycarbon.cli.groups import monitoring_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError, Problem

registry_app = typer.Typer(help="Registry of key units: enterprises, metering points, products.",
                           no_args_is_help=True)
TABLE_NAMES = ("enterprises", "points", "products")


def _home() -> Path:
    from citycarbon.settings import Settings

    return Settings.from_env().home


def _registry_folder(registry: Path | None) -> Path:
    from citycarbon.monitoring.registry import registry_dir

    return registry if registry is not None else registry_dir(_home())


def _load(registry: Path | None):
    from citycarbon.monitoring.registry import load_registry

    folder = _registry_folder(registry)
    if not folder.exists():
        raise InputError(Problem("no registry here; run 'citycarbon monitoring registry import FILES' or pass "
                                 "--registry DIR", file=str(folder)))
    return load_registry(folder)


def _frame_rows(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(lambda t: t.isoformat() if not pd.isna(t) else None)
    return out.astype(object).where(out.notna(), None).to_dict("records")


@registry_app.command("import")
def registry_import(
    files: Annotated[list[Path], typer.Argument(help="folder, workbook (sheets enterprises/points/products) or CSVs")],
    registry: Annotated[Path | None, typer.Option("--registry", help="registry folder to write")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Validate and import the registry (errors name file, row and field); nothing is written if any fails."""
    from citycarbon.monitoring.registry import load_registry

    try:
        if len(files) == 1:
            loaded = load_registry(files[0])
        else:
            mapping = {}
            for path in files:
                stem = path.stem.lower()
                if stem not in TABLE_NAMES:
                    raise InputError(Problem(f"name the file one of {', '.join(t + '.csv' for t in TABLE_NAMES)}",
                                             file=path.name))
                mapping[stem] = path
            loaded = load_registry(mapping)
    except InputError as error:
        fail(error)
        return
    folder = loaded.write(_registry_folder(registry))
    summary = {"registry": str(folder), "enterprises": len(loaded.enterprises), "points": len(loaded.points),
               "products": len(loaded.products)}
    emit(summary, fmt, rows=[summary], title="登记已导入 / registry imported")


@registry_app.command("list")
def registry_list(
    table: Annotated[str, typer.Option("--table", help="enterprises | points | products")] = "enterprises",
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="only this enterprise")] = None,
    registry: Annotated[Path | None, typer.Option("--registry", help="registry folder")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the registry's enterprises, points or products."""
    try:
        if table not in TABLE_NAMES:
            from citycarbon.codelists import nearest

            raise InputError(Problem(f"unknown table {table!r}", field="--table",
                                     suggestion=nearest(table, TABLE_NAMES)))
        loaded = _load(registry)
    except InputError as error:
        fail(error)
        return
    frame = getattr(loaded, table)
    if enterprise:
        frame = frame[frame["enterprise_id"] == enterprise]
    rows = _frame_rows(frame)
    emit({"table": table, "rows": rows}, fmt, rows=frame, title=f"{table} ({len(frame)})")


def register(app: typer.Typer) -> None:
    """Attach the commands to the ``monitoring`` group (``app`` gets the group from cli/groups.py)."""
    monitoring_app.add_typer(registry_app, name="registry")

    @monitoring_app.command("simulate")
    def simulate_command(
        units: Annotated[int, typer.Option("--units", min=1, help="number of enterprises")] = 20,
        points: Annotated[int, typer.Option("--points", min=1, help="energy metering points per enterprise")] = 3,
        days: Annotated[int, typer.Option("--days", min=1, help="days to simulate")] = 14,
        out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("simulated-city"),
        seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same city)")] = 0,
        start: Annotated[str, typer.Option("--start", help="first interval, ISO 8601")] = "2025-01-01T00:00:00+08:00",
        interval: Annotated[int | None, typer.Option("--interval", help="15 | 30 | 60 minutes")] = None,
        no_faults: Annotated[bool, typer.Option("--no-faults", help="clean data, no injected faults")] = False,
        format_out: Annotated[str, typer.Option("--format-out", help="parquet | csv (readings files)")] = "parquet",
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Write a synthetic city: registry CSVs, readings by month, truth.parquet, monthly_reports.csv."""
        from citycarbon.monitoring.simulate import write_city

        try:
            summary = write_city(units, points, days, out, seed, start=start, faults=not no_faults,
                                 interval_minutes=interval, fmt=format_out)
        except ValueError as error:
            fail(error)
            return
        rows = [{"item": k, "value": v} for k, v in summary.items() if k != "faults"]
        rows += [{"item": f"fault:{k}", "value": v} for k, v in summary["faults"].items()]
        emit(summary, fmt, rows=rows, title="模拟城市 / simulated city")

"""``citycarbon monitoring simulate|quality|alerts|registry``: key energy-using units (重点用能单位).

The registry lives in the store (PostgreSQL in production, the SQLite file of ``CITYCARBON_HOME`` embedded), read
and written through :mod:`citycarbon.services.monitoring.registry`: ``registry import`` writes it there,
``registry export DIR`` writes it back as CSV files, and every command that reads a registry takes
``--registry DIR`` to work on files instead.

The lake commands (``ingest``, ``rollup``, ``mqtt``) live in ``cli/monitoring_lake.py``. These commands hold no
logic: they parse options, call :mod:`citycarbon.services.monitoring.checks` (quality, alerts, scores) or
:mod:`citycarbon.monitoring` functions and print the result with ``--format``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date as _date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from citycarbon.cli.groups import monitoring_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.errors import InputError, Problem

registry_app = typer.Typer(help="Registry of key units: enterprises, metering points, products.",
                           no_args_is_help=True)
TABLE_NAMES = ("enterprises", "points", "products")


@contextmanager
def open_store() -> Iterator[Any]:
    """The store of the settings (``CITYCARBON_HOME`` / ``CITYCARBON_DATABASE_URL``), migrated first if needed."""
    from citycarbon.cli.db import open_database

    database = open_database()
    try:
        if not database.is_current():
            database.upgrade()
        yield database
    finally:
        database.dispose()


def load_registry_option(registry: Path | None):
    """The registry of ``--registry DIR`` (files, for analysts), else the store's (``registry import``)."""
    from citycarbon.monitoring.registry import load_registry

    if registry is not None:
        if not registry.exists():
            raise InputError(Problem("no registry here", file=str(registry), field="--registry"))
        return load_registry(registry)
    from citycarbon.services.monitoring.registry import stored_registry

    with open_store() as database:
        return stored_registry(database)



def _lake_dir(lake: Path | None) -> Path:
    """``--lake DIR``, else the lake of the settings."""
    if lake is not None:
        return lake
    from citycarbon.settings import Settings

    return Settings.from_env().lake_dir


def _local_day(date: str | None, timezone: str) -> pd.Timestamp:
    try:
        day = pd.Timestamp(_date.fromisoformat(date)) if date else pd.Timestamp.now(tz=timezone).normalize(
        ).tz_localize(None)
    except ValueError as error:
        raise InputError(Problem(f"not a date: {date!r} (use YYYY-MM-DD)", field="--date", value=date)) from error
    return day.tz_localize(timezone) if day.tzinfo is None else day.tz_convert(timezone)


def _now(now: str | None) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(now) if now else pd.Timestamp.now(tz="UTC")
    except ValueError as error:
        raise InputError(Problem(f"not a time: {now!r} (use ISO 8601, e.g. 2025-02-01T00:00:00+08:00)",
                                 field="--now", value=now)) from error
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _month_weights(path: Path) -> dict[int, float] | pd.DataFrame:
    """``month, weight`` (one profile for all) or ``enterprise_id, month, weight`` (one per enterprise)."""
    try:
        frame = pd.read_csv(path, dtype={"enterprise_id": str})
    except (OSError, ValueError) as error:
        raise InputError(Problem(f"cannot read month weights: {error}", file=path.name)) from error
    for column in ("month", "weight"):
        if column not in frame.columns:
            raise InputError(Problem(f"missing column {column!r}", file=path.name, field=column))
    for i, (month, weight) in enumerate(zip(frame["month"], frame["weight"], strict=True), start=1):
        if not (str(month).isdigit() and 1 <= int(month) <= 12):
            raise InputError(Problem("month must be 1 to 12", file=path.name, row=i, field="month", value=month))
        if not (pd.notna(weight) and float(weight) >= 0):
            raise InputError(Problem("weight must be ≥ 0", file=path.name, row=i, field="weight", value=weight))
    if "enterprise_id" in frame.columns:
        return frame[["enterprise_id", "month", "weight"]]
    return dict(zip(frame["month"].astype(int), frame["weight"].astype(float), strict=True))


def _import_source(files: list[Path]) -> Path | dict[str, Path]:
    if len(files) == 1:
        return files[0]
    mapping = {}
    for path in files:
        stem = path.stem.lower()
        if stem not in TABLE_NAMES:
            raise InputError(Problem(f"name the file one of {', '.join(t + '.csv' for t in TABLE_NAMES)}",
                                     file=path.name))
        mapping[stem] = path
    return mapping


@registry_app.command("import")
def registry_import(
    files: Annotated[list[Path], typer.Argument(help="folder, workbook (sheets enterprises/points/products) or CSVs")],
    registry: Annotated[Path | None, typer.Option("--registry", help="write a registry folder (CSV files) instead "
                                                  "of the store")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Validate and import the registry into the store (PostgreSQL or the SQLite file of CITYCARBON_HOME) in one
    audited transaction; errors name file, row and field, and nothing is written if any fails."""
    from citycarbon.monitoring.registry import load_registry

    try:
        source = _import_source(files)
        if registry is not None:  # an analyst's folder of files, not the store
            loaded = load_registry(source)
            folder = loaded.write(registry)
            summary = {"registry": str(folder), "enterprises": len(loaded.enterprises),
                       "points": len(loaded.points), "products": len(loaded.products)}
            emit(summary, fmt, rows=[summary], title="登记已导入 / registry imported")
            return
        from citycarbon.cli.db import cli_actor
        from citycarbon.services.monitoring.registry import import_registry

        label = ", ".join(str(p) for p in files)
        with open_store() as database:
            report = import_registry(database, source, cli_actor(), label=label)
            where = database.settings.redacted_url()
    except InputError as error:
        fail(error)
        return
    summary = {"registry": where, **report.to_dict()}
    rows = [{k: v for k, v in summary.items() if not isinstance(v, dict)}]
    emit(summary, fmt, rows=rows, title="登记已导入 / registry imported" if report.changed
         else "登记未变 / registry unchanged")


@registry_app.command("export")
def registry_export(
    folder: Annotated[Path, typer.Argument(help="folder to write enterprises.csv, points.csv, products.csv into")],
    registry: Annotated[Path | None, typer.Option("--registry", help="registry folder to read instead of the "
                                                  "store")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Write the registry as the three CSV files 'registry import' reads (each file replaced atomically)."""
    try:
        loaded = load_registry_option(registry)
    except InputError as error:
        fail(error)
        return
    written = loaded.write(folder)
    summary = {"folder": str(written), "enterprises": len(loaded.enterprises), "points": len(loaded.points),
               "products": len(loaded.products)}
    emit(summary, fmt, rows=[summary], title="登记已导出 / registry exported")


@registry_app.command("list")
def registry_list(
    table: Annotated[str, typer.Option("--table", help="enterprises | points | products")] = "enterprises",
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="only this enterprise")] = None,
    registry: Annotated[Path | None, typer.Option("--registry", help="registry folder (default: the store's)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the registry's enterprises, points or products."""
    try:
        if table not in TABLE_NAMES:
            from citycarbon.codelists import nearest

            raise InputError(Problem(f"unknown table {table!r}", field="--table",
                                     suggestion=nearest(table, TABLE_NAMES)))
        loaded = load_registry_option(registry)
    except InputError as error:
        fail(error)
        return
    frame = getattr(loaded, table)
    if enterprise:
        frame = frame[frame["enterprise_id"] == enterprise]
    from citycarbon.services.monitoring.checks import frame_records

    rows = frame_records(frame)
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
        overlap: Annotated[bool, typer.Option("--overlap", help="faults may touch and overlap (default: 12 clean "
                                              "intervals around each)")] = False,
        situations: Annotated[bool, typer.Option("--situations", help="inject what raises alerts; writes "
                                                 "alert_truth.parquet")] = False,
        format_out: Annotated[str, typer.Option("--format-out", help="parquet | csv (readings files)")] = "parquet",
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Write a synthetic city: registry CSVs, readings by month, truth.parquet, monthly_reports.csv."""
        from citycarbon.monitoring.simulate import write_city

        try:
            with progress_bars(quiet) as bars:
                summary = write_city(units, points, days, out, seed, start=start, faults=not no_faults,
                                     interval_minutes=interval, fmt=format_out, overlap=overlap,
                                     situations=situations, progress=bars.task("模拟城市 / simulate", "units"))
        except ValueError as error:
            fail(error)
            return
        rows = [{"item": k, "value": v} for k, v in summary.items() if k != "faults"]
        rows += [{"item": f"fault:{k}", "value": v} for k, v in summary["faults"].items()]
        emit(summary, fmt, rows=rows, title="模拟城市 / simulated city")

    @monitoring_app.command("quality")
    def quality_command(
        date: Annotated[str | None, typer.Option("--date", help="local day YYYY-MM-DD (default today)")] = None,
        enterprise: Annotated[str | None, typer.Option("--enterprise", help="only this enterprise")] = None,
        lake: Annotated[Path | None, typer.Option("--lake", help="meter lake folder (default the settings')")] = None,
        readings: Annotated[Path | None, typer.Option("--readings", help="Parquet/CSV readings file or folder "
                                                      "instead of the lake")] = None,
        registry: Annotated[Path | None, typer.Option("--registry", help="registry folder (default: the "
                                                                          "store's)")] = None,
        monthly_reports: Annotated[Path | None, typer.Option("--monthly-reports", help="CSV enterprise_id, month, "
                                                             "energy_tce (daily vs monthly check)")] = None,
        now: Annotated[str | None, typer.Option("--now", help="check time, ISO 8601 (default now)")] = None,
        limit: Annotated[int, typer.Option("--limit", help="flags listed in JSON")] = 200,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Data-quality flags of a day and the national indicators per enterprise (completeness ≥ 90 %, daily vs
        monthly ≤ 5 %, timeliness; methods.md §5)."""
        from citycarbon.services.monitoring.checks import day_quality

        try:
            loaded = load_registry_option(registry)
            day = _local_day(date, loaded.timezone)
            reports = pd.read_csv(monthly_reports, dtype={"enterprise_id": str, "month": str}) \
                if monthly_reports else None
            report = day_quality(loaded, day, lake=_lake_dir(lake), readings=readings, now=_now(now),
                                 enterprise=enterprise, monthly_reports=reports, limit=limit).to_dict()
        except InputError as error:
            fail(error)
            return
        rows = [{k: r[k] for k in ("enterprise_id", "completeness", "completeness_ok", "timeliness", "timeliness_ok",
                                   "daily_vs_monthly_deviation", "daily_vs_monthly_ok", "flags")}
                for r in report["indicators"]]
        emit(report, fmt, rows=rows, title=f"{report['date']} 数据质量 / data quality ({report['flags_total']} flags)")

    @monitoring_app.command("alerts")
    def alerts_command(
        date: Annotated[str | None, typer.Option("--date", help="local day YYYY-MM-DD (default today)")] = None,
        enterprise: Annotated[str | None, typer.Option("--enterprise", help="only this enterprise")] = None,
        lake: Annotated[Path | None, typer.Option("--lake", help="meter lake folder (default the settings')")] = None,
        readings: Annotated[Path | None, typer.Option("--readings", help="Parquet/CSV readings file or folder "
                                                      "instead of the lake")] = None,
        registry: Annotated[Path | None, typer.Option("--registry", help="registry folder (default: the "
                                                                          "store's)")] = None,
        now: Annotated[str | None, typer.Option("--now", help="check time, ISO 8601 (default end of --date)")] = None,
        month_weights: Annotated[Path | None, typer.Option("--month-weights", help="CSV month, weight "
                                                           "[, enterprise_id]: seasonal budget path")] = None,
        energy: Annotated[str, typer.Option("--energy", help="repaired | raw: energy of the budget and product "
                                            "alerts on the lake (repaired: the year to date is checked enterprise "
                                            "chunk by chunk; raw: the lake's rollup, faults included)")] = "repaired",
        chunk: Annotated[int, typer.Option("--chunk", min=1, help="enterprises checked at a time (--energy "
                                           "repaired on the lake)")] = 50,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Alerts with their numbers: budget path, product limits, completeness, silence, unrepaired faults."""
        from citycarbon.services.monitoring.checks import day_alerts

        try:
            loaded = load_registry_option(registry)
            day = _local_day(date, loaded.timezone)
            check_time = _now(now) if now else (day + pd.Timedelta(days=1)).tz_convert("UTC")
            weights = _month_weights(month_weights) if month_weights else None
            with progress_bars(quiet) as bars:
                report = day_alerts(loaded, day, lake=_lake_dir(lake), readings=readings, now=check_time,
                                    enterprise=enterprise, month_weights=weights, energy=energy, chunk=chunk,
                                    progress=bars.task("年内核查 / year to date", "units"))
        except InputError as error:
            fail(error)
            return
        emit(report.to_dict(), fmt, rows=report.alerts.drop(columns=["numbers"]),
             title=f"{report.date} 预警 / alerts ({len(report.alerts)})")

    @monitoring_app.command("score")
    def score_command(
        truth: Annotated[Path, typer.Option("--truth", help="truth.parquet of 'monitoring simulate'")],
        lake: Annotated[Path | None, typer.Option("--lake", help="meter lake folder (default the settings')")] = None,
        readings: Annotated[Path | None, typer.Option("--readings", help="Parquet/CSV readings file or folder "
                                                      "instead of the lake")] = None,
        registry: Annotated[Path | None, typer.Option("--registry", help="registry folder (default: the "
                                                                          "store's)")] = None,
        start: Annotated[str | None, typer.Option("--start", help="window start (default city.json's)")] = None,
        now: Annotated[str | None, typer.Option("--now", help="check time = window end (default city.json's)")] = None,
        chunk: Annotated[int, typer.Option("--chunk", min=1, help="enterprises checked at a time")] = 50,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Precision and recall of the quality rules against a simulated city's truth, per fault kind
        (enterprises checked in chunks, so a large city fits in memory)."""
        import json as _json

        from citycarbon.services.monitoring.checks import score_rules

        try:
            loaded = load_registry_option(registry)
            meta_file = truth.parent / "city.json"
            meta = _json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
            if not (start or meta.get("start")) or not (now or meta.get("now")):
                raise InputError(Problem("give --start and --now (no city.json beside the truth file)",
                                         field="--start"))
            lo, hi = _now(start or meta["start"]), _now(now or meta["now"])
            try:
                truth_frame = pd.read_parquet(truth)
            except (OSError, ValueError) as error:
                raise InputError(Problem(f"cannot read truth: {error}", file=truth.name)) from error
            with progress_bars(quiet) as bars:
                report = score_rules(loaded, truth_frame, lake=_lake_dir(lake), readings=readings, start=lo,
                                     now=hi, chunk=chunk, progress=bars.task("规则评分 / score", "units"))
        except InputError as error:
            fail(error)
            return
        emit(report.to_dict(), fmt, rows=report.scores, title="质量规则精确率/召回率 / precision and recall")

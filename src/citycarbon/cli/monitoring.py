"""``citycarbon monitoring simulate|quality|alerts|registry``: key energy-using units (重点用能单位).

The registry lives in the store (``citycarbon.store.monitoring_registry``: PostgreSQL in production, the SQLite file
of ``CITYCARBON_HOME`` embedded): ``registry import`` writes it there, ``registry export DIR`` writes it back as
CSV files, and every command that reads a registry takes ``--registry DIR`` to work on files instead.

The lake commands (``ingest``, ``rollup``, ``mqtt``) live in ``cli/monitoring_lake.py``. These commands hold no
logic: they call :mod:`citycarbon.monitoring` functions and print the result with ``--format``.
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
    from citycarbon.store.monitoring_registry import load_registry_from_db

    with open_store() as database:
        loaded = load_registry_from_db(database)
        if loaded is None:
            raise InputError(Problem("the store holds no registry; run 'citycarbon monitoring registry import "
                                     "FILES' or pass --registry DIR", file=database.settings.redacted_url()))
    return loaded



def _frame_rows(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(lambda t: t.isoformat() if not pd.isna(t) else None)
    return out.astype(object).where(out.notna(), None).to_dict("records")


def _read_readings_files(path: Path, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Readings from a Parquet/CSV file or every such file under a folder (the simulator's ``readings/``)."""
    files = sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".csv")) if path.is_dir() else [path]
    if not files:
        raise InputError(Problem("no .parquet or .csv readings here", file=str(path)))
    frames = []
    for file in files:
        try:
            frame = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)
        except (OSError, ValueError) as error:
            raise InputError(Problem(f"cannot read readings: {error}", file=file.name)) from error
        missing = [c for c in ("point_id", "start", "end") if c not in frame.columns]
        if "value" not in frame.columns and "value_raw" not in frame.columns:
            missing.append("value")
        if missing:
            raise InputError(Problem(f"missing column {missing[0]!r}", file=file.name, field=missing[0]))
        frame["start"] = pd.to_datetime(frame["start"], utc=True)
        frame["end"] = pd.to_datetime(frame["end"], utc=True)
        if start is not None:
            frame = frame[frame["start"] >= start]
        if end is not None:
            frame = frame[frame["start"] < end]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _readings(lake: Path | None, readings: Path | None, start: pd.Timestamp, end: pd.Timestamp,
              enterprise: str | None) -> pd.DataFrame:
    """Readings of the window from ``--readings`` or the meter lake (all revisions, for the duplicate rules)."""
    if readings is not None:
        return _read_readings_files(readings, start, end)
    try:
        from citycarbon.monitoring.lake import read_readings
    except ImportError as error:  # the lake module ships separately
        raise InputError(Problem("the meter lake is not available here; pass --readings FILE", field="--lake")) \
            from error
    lake_dir = lake
    if lake_dir is None:
        from citycarbon.settings import Settings

        lake_dir = Settings.from_env().lake_dir
    return read_readings(lake_dir, enterprise=enterprise, start=start, end=end, latest_revision_only=False)


def _lake_daily(lake: Path | None, registry, start: pd.Timestamp, end: pd.Timestamp,
                enterprise: str | None) -> pd.DataFrame:
    """Daily energy per point from the lake's rollup (DuckDB over the Parquet parts), as the alerts read it."""
    from citycarbon.monitoring.alerts import daily_from_rollup
    from citycarbon.monitoring.rollup import rollup

    lake_dir = lake
    if lake_dir is None:
        from citycarbon.settings import Settings

        lake_dir = Settings.from_env().lake_dir
    result = rollup(lake_dir, registry, period="day", by="point", enterprise=enterprise, start=start, end=end)
    return daily_from_rollup(result.frame, registry)


def _sub_registry(registry, enterprises):
    """The registry of ``enterprises`` only (quality checks with a window expect exactly their points)."""
    from citycarbon.monitoring.registry import Registry

    wanted = {str(e) for e in enterprises}
    return Registry(*(frame[frame["enterprise_id"].astype(str).isin(wanted)].reset_index(drop=True) for frame in (
        registry.enterprises, registry.points, registry.products)), registry.timezone)


def _lake_repaired_daily(lake: Path | None, registry, raw_daily: pd.DataFrame, start: pd.Timestamp,
                         now: pd.Timestamp, enterprise: str | None, chunk: int) -> pd.DataFrame:
    """The lake's raw daily rollup with the repaired view of the year to date: the readings are checked
    enterprise chunk by chunk (each chunk with its own points only, so the memory stays bounded) and their
    repaired daily energy (``quality.daily_energy(..., flags=...)``) replaces the raw days."""
    from citycarbon.monitoring import quality
    from citycarbon.monitoring.alerts import repaired_daily
    from citycarbon.monitoring.lake import read_readings
    from citycarbon.settings import Settings

    lake_dir = lake if lake is not None else Settings.from_env().lake_dir
    ids = [enterprise] if enterprise is not None else list(registry.enterprises["enterprise_id"].astype(str))
    parts = []
    for k in range(0, len(ids), chunk):
        part = set(ids[k:k + chunk])
        sub = _sub_registry(registry, part)
        frame = read_readings(lake_dir, enterprise=sorted(part), start=start, end=now, latest_revision_only=False)
        if frame.empty:
            continue
        flags = quality.check(frame, sub, now=now, start=start, end=now)
        parts.append(quality.daily_energy(frame, sub, now=now, flags=flags))
    return repaired_daily(raw_daily, pd.concat(parts, ignore_index=True) if parts else raw_daily.iloc[0:0])


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


def _only(frame: pd.DataFrame, registry, enterprise: str | None) -> pd.DataFrame:
    if enterprise is None or frame.empty:
        return frame
    ids = set(registry.points_of(enterprise)["point_id"])
    return frame[frame["point_id"].astype(str).isin(ids)]


def quality_report(day: pd.Timestamp, readings: pd.DataFrame, registry, *, now: pd.Timestamp,
                   enterprise: str | None = None, monthly_reports: pd.DataFrame | None = None,
                   limit: int = 200, daily: pd.DataFrame | None = None) -> dict:
    """Flags of the local ``day`` (checked with a day of context either side) and the national indicators
    (the month's daily energy from ``daily``, or ``readings`` from the first of the month, for the daily vs
    monthly deviation)."""
    from citycarbon.monitoring import quality

    readings = _only(readings, registry, enterprise)
    lo, hi = day.tz_convert("UTC"), (day + pd.Timedelta(days=1)).tz_convert("UTC")
    margin = pd.Timedelta(days=1)
    context = readings[(readings["start"] >= lo - margin) & (readings["start"] < hi + margin)]
    flags = quality.check(context, registry, now=now, start=lo, end=min(hi, now))
    flags = flags[(flags["start"] >= lo) & (flags["start"] < hi)]
    flags = _only(flags, registry, enterprise)
    indicators = quality.national_indicators(readings, registry, day.strftime("%Y-%m-%d"), now=now,
                                             monthly_reports=monthly_reports, daily=daily)
    if enterprise is not None:
        indicators = indicators[indicators["enterprise_id"] == enterprise]
    by_rule = flags.groupby(["rule_id", "severity"]).size().rename("count").reset_index()
    points = registry.points.set_index("point_id")["enterprise_id"]
    per_enterprise = flags.assign(enterprise_id=flags["point_id"].astype(str).map(points)).groupby(
        "enterprise_id").size()
    indicators = indicators.assign(flags=indicators["enterprise_id"].map(per_enterprise).fillna(0).astype(int))
    return {"date": day.strftime("%Y-%m-%d"), "timezone": registry.timezone, "now": now.isoformat(),
            "provenance": quality.provenance().to_dict(),
            "indicators": _frame_rows(indicators), "flags_by_rule": _frame_rows(by_rule),
            "flags_total": len(flags), "flags": _frame_rows(flags.head(limit)),
            "flags_truncated": len(flags) > limit}


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
        from citycarbon.store.monitoring_registry import save_registry

        label = ", ".join(str(p) for p in files)
        with open_store() as database:
            report = save_registry(database, source, cli_actor(), label=label)
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
        overlap: Annotated[bool, typer.Option("--overlap", help="faults may touch and overlap (default: 12 clean "
                                              "intervals around each)")] = False,
        situations: Annotated[bool, typer.Option("--situations", help="inject what raises alerts; writes "
                                                 "alert_truth.parquet")] = False,
        format_out: Annotated[str, typer.Option("--format-out", help="parquet | csv (readings files)")] = "parquet",
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Write a synthetic city: registry CSVs, readings by month, truth.parquet, monthly_reports.csv."""
        from citycarbon.monitoring.simulate import write_city

        try:
            summary = write_city(units, points, days, out, seed, start=start, faults=not no_faults,
                                 interval_minutes=interval, fmt=format_out, overlap=overlap, situations=situations)
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
        try:
            loaded = load_registry_option(registry)
            day = _local_day(date, loaded.timezone)
            first = min(day.replace(day=1), day - pd.Timedelta(days=1))
            upto = (day + pd.Timedelta(days=2)).tz_convert("UTC")
            daily = None
            if readings is None:  # the lake: the month's energy from its rollup, readings of three days only
                first_of_month = day.replace(day=1)
                daily = _lake_daily(lake, loaded, first_of_month, first_of_month + pd.offsets.MonthBegin(1),
                                    enterprise)
                first = day - pd.Timedelta(days=1)
            frame = _readings(lake, readings, first.tz_convert("UTC"), upto, enterprise)
            reports = pd.read_csv(monthly_reports, dtype={"enterprise_id": str, "month": str}) \
                if monthly_reports else None
            report = quality_report(day, frame, loaded, now=_now(now), enterprise=enterprise,
                                    monthly_reports=reports, limit=limit, daily=daily)
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
    ) -> None:
        """Alerts with their numbers: budget path, product limits, completeness, silence, unrepaired faults."""
        from citycarbon.monitoring import quality
        from citycarbon.monitoring.alerts import alerts, load_alert_rules

        try:
            loaded = load_registry_option(registry)
            day = _local_day(date, loaded.timezone)
            check_time = _now(now) if now else (day + pd.Timedelta(days=1)).tz_convert("UTC")
            year_start = day.replace(month=1, day=1)
            weights = _month_weights(month_weights) if month_weights else None
            daily = None
            first = year_start.tz_convert("UTC")
            if energy not in ("repaired", "raw"):
                raise InputError(Problem(f"--energy must be repaired or raw, not {energy!r}", field="--energy",
                                         value=energy))
            if readings is None:  # the lake: year-to-date energy from its rollup, recent readings for data quality
                daily = _lake_daily(lake, loaded, year_start, day + pd.Timedelta(days=1), enterprise)
                if energy == "repaired":
                    daily = _lake_repaired_daily(lake, loaded, daily, year_start.tz_convert("UTC"), check_time,
                                                 enterprise, chunk)
                lookback = pd.Timedelta(days=float(load_alert_rules().get("data_quality", "lookback_days")))
                first = max(first, check_time - lookback)
            frame = _only(_readings(lake, readings, first, check_time, enterprise), loaded, enterprise)
            flags = quality.check(frame, loaded, now=check_time)
            result = alerts(frame, loaded, date=day.strftime("%Y-%m-%d"), now=check_time, flags=flags,
                            month_weights=weights, daily=daily)
        except InputError as error:
            fail(error)
            return
        if enterprise is not None:
            result = result[result["enterprise_id"] == enterprise]
        from citycarbon.monitoring.alerts import energy_view_of

        source = ("readings, repaired view (flags' suggested values)" if daily is None else
                  "lake, year to date checked: repaired view (flags' suggested values)" if energy == "repaired" else
                  "lake daily rollup by point (raw latest revisions)")
        if daily is not None:
            source += f"; {energy_view_of(daily)}"
        meta = quality.provenance().to_dict()
        meta.update(method="citycarbon.monitoring.alerts", parameters={
            **meta["parameters"], "alert_rules": load_alert_rules().values, "energy_source": source})
        meta["estimates"] += ["alert_rules.yaml: thresholds marked estimate"]
        data = {"date": day.strftime("%Y-%m-%d"), "now": check_time.isoformat(), "energy_source": source,
                "provenance": meta, "alerts": _frame_rows(result)}
        emit(data, fmt, rows=result.drop(columns=["numbers"]), title=f"{data['date']} 预警 / alerts ({len(result)})")

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
    ) -> None:
        """Precision and recall of the quality rules against a simulated city's truth, per fault kind
        (enterprises checked in chunks, so a large city fits in memory)."""
        import json as _json

        from citycarbon.monitoring import quality

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
            ids = list(loaded.enterprises["enterprise_id"])
            everything = _read_readings_files(readings, None, None) if readings is not None else None
            found = []
            for k in range(0, len(ids), chunk):
                part = ids[k:k + chunk]
                points = set(loaded.points.loc[loaded.points["enterprise_id"].isin(part), "point_id"])
                if everything is not None:
                    frame = everything[everything["point_id"].astype(str).isin(points)]
                else:
                    from citycarbon.monitoring.lake import read_readings
                    from citycarbon.settings import Settings

                    frame = read_readings(lake if lake is not None else Settings.from_env().lake_dir,
                                          enterprise=part, latest_revision_only=False)
                # the chunk's own registry: with a window, every registry point without a reading would be a
                # window of gaps (all the other chunks' points), which the check would build and the filter drop
                flags = quality.check(frame, _sub_registry(loaded, part), now=hi, start=lo, end=hi)
                found.append(flags[flags["point_id"].astype(str).isin(points)][["point_id", "fault_kind", "end"]])
            flags = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
                columns=["point_id", "fault_kind", "end"])
            scores = quality.score(flags, truth_frame)
        except InputError as error:
            fail(error)
            return
        data = {"start": lo.isoformat(), "now": hi.isoformat(), "enterprises": len(ids), "flags": len(flags),
                "scores": _frame_rows(scores)}
        emit(data, fmt, rows=scores, title="质量规则精确率/召回率 / precision and recall")

"""``citycarbon monitoring ingest|rollup|mqtt|lake-info|compact``: the meter lake.

No logic here: the commands call :mod:`citycarbon.monitoring.ingest`, :mod:`~citycarbon.monitoring.rollup`,
:mod:`~citycarbon.monitoring.mqtt` and :class:`~citycarbon.monitoring.lake.Lake`, and print with ``--format``.
The registry comes from ``--registry DIR`` (``enterprises.csv``, ``points.csv``, ``products.csv`` as
``citycarbon monitoring simulate`` or ``registry export`` write them), by default the store's (``registry
import``); the lake from ``--lake DIR``, by default ``$CITYCARBON_LAKE_DIR``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.groups import monitoring_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.errors import InputError

REGISTRY_OPTION = typer.Option("--registry", help="registry folder (enterprises.csv, points.csv, products.csv); "
                                                 "default: the store's")
LAKE_OPTION = typer.Option("--lake", help="meter lake folder (default $CITYCARBON_LAKE_DIR)")
SHOWN_REJECTIONS = 50


def load_registry_dir(registry: Path | None):
    """The registry of ``--registry DIR``, else the store's (``citycarbon monitoring registry import``)."""
    from citycarbon.cli.monitoring import load_registry_option

    return load_registry_option(registry)


def open_lake(lake: Path | None):
    """``--lake DIR`` (its own SQLite ledger), else the deployment's lake (ledger in PostgreSQL when the
    application database is PostgreSQL)."""
    from citycarbon.monitoring.lake import Lake
    from citycarbon.settings import get_settings

    return Lake.open(lake) if lake is not None else Lake.for_settings(get_settings())


@contextmanager
def submission_store() -> Iterator[Any]:
    """The store that records ingest submissions (``store/monitoring_submissions.py``), or None when none is
    configured: ``CITYCARBON_DATABASE_URL`` names a server database, or the embedded SQLite file exists. An
    analyst's run on files alone (``--registry DIR``, no store yet) creates nothing."""
    from sqlalchemy.engine import make_url

    from citycarbon.cli.monitoring import open_store
    from citycarbon.settings import Settings

    settings = Settings.from_env()
    database_file = make_url(settings.database_url).database if settings.is_sqlite else None
    if settings.is_sqlite and not (database_file and Path(database_file).exists()):
        yield None
        return
    with open_store() as database:
        yield database


TIMEZONE_OPTION = typer.Option("--timezone", help="local days of the compacted aggregates (the registry's zone)")


def register(app: typer.Typer) -> None:
    @monitoring_app.command("ingest")
    def ingest_command(
        files: Annotated[list[Path], typer.Argument(help="CSV/Parquet/Excel files or folders of them")],
        registry: Annotated[Path | None, REGISTRY_OPTION] = None,
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        chunk_rows: Annotated[int, typer.Option("--chunk-rows", help="rows per durable batch")] = 1_000_000,
        assume_timezone: Annotated[str | None, typer.Option(
            "--assume-timezone", help="time zone of timestamps without an offset (default: reject them)")] = None,
        now: Annotated[str | None, typer.Option(
            "--now", help="the ingest clock, ISO 8601 with offset (a backfill of simulated future data); "
                          "default: the real clock. Readings ending more than the future margin after it are "
                          "rejected")] = None,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Backfill readings (point_id, start, end, value, unit) into the lake; idempotent, safe to re-run."""
        from citycarbon.cli.db import cli_actor
        from citycarbon.cli.monitoring import _now
        from citycarbon.services.monitoring.submissions import ingest_reading_files
        from citycarbon.settings import get_settings

        with submission_store() as database:  # the office sees each file's counts and rejected rows later
            try:
                with progress_bars(quiet) as bars:
                    reports = ingest_reading_files(
                        open_lake(lake), load_registry_dir(registry), files, db=database, actor=cli_actor(),
                        chunk_rows=chunk_rows, assume_timezone=assume_timezone,
                        now=_now(now) if now else None,  # None: the real clock at each chunk
                        future_margin=get_settings().monitoring_future_margin,
                        progress=bars.task("抄表数据入湖 / ingest", "files"))
            except InputError as error:
                fail(error)
                return
        data = {name: {k: v for k, v in report.to_dict().items() if k != "rejected_rows"}
                | {"rejected_rows": report.rejected_rows[:SHOWN_REJECTIONS]} for name, report in reports.items()}
        rows = [{"file": Path(name).name, **{k: r[k] for k in ("rows", "accepted", "duplicate", "revised",
                                                                 "rederived", "rejected")}}
                for name, r in data.items()]
        emit(data, fmt, rows=rows, title="抄表数据入湖 / readings ingested")
        for name, report in reports.items():
            for problem in report.rejected_rows[:5]:
                typer.echo(f"{Path(name).name}: row {problem['row']}, field '{problem['field']}': "
                           f"{problem['reason']}", err=True)

    @monitoring_app.command("rollup")
    def rollup_command(
        period: Annotated[str, typer.Option("--period", help="hour | day | month (local time)")] = "month",
        by: Annotated[str, typer.Option("--by", help="point | enterprise | industry | district | city")] =
            "enterprise",
        enterprise: Annotated[str | None, typer.Option("--enterprise", help="one enterprise id")] = None,
        region: Annotated[str | None, typer.Option("--region", help="GB/T 2260 code (city code: all districts)")] =
            None,
        start: Annotated[str | None, typer.Option("--start", help="first local time, e.g. 2025-01-01")] = None,
        end: Annotated[str | None, typer.Option("--end", help="end (exclusive), local time")] = None,
        engine: Annotated[str, typer.Option("--engine", help="duckdb | dask")] = "duckdb",
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="Dask scheduler address (default $CITYCARBON_DASK_SCHEDULER)")] = None,
        source: Annotated[str, typer.Option(
            "--source", help="auto | aggregates | readings: what the DuckDB engine reads")] = "auto",
        registry: Annotated[Path | None, REGISTRY_OPTION] = None,
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Energy, tce (calorific and coal-equivalent) and CO2 per period, level and energy type."""
        from citycarbon.monitoring.rollup import rollup
        from citycarbon.settings import get_settings

        if engine == "dask" and scheduler is None:
            scheduler = get_settings().dask_scheduler
        try:
            result = rollup(open_lake(lake), load_registry_dir(registry), period=period, by=by,  # type: ignore[arg-type]
                            enterprise=enterprise, region=region, start=start, end=end,
                            engine=engine, scheduler=scheduler, source=source)  # type: ignore[arg-type]
        except InputError as error:
            fail(error)
            return
        emit(result.to_dict(), fmt, rows=result.frame, title=f"能耗汇总 / rollup by {by} per {period}")
        for text in result.missing_factors:
            typer.echo(f"warning: missing factor: {text}", err=True)

    @monitoring_app.command("nowcast-feed")
    def nowcast_feed_command(
        year: Annotated[int, typer.Option("--year", help="the year whose months to give")],
        city: Annotated[str, typer.Option("--city", help="shipped city plan (its region code labels the rows)")] =
            "dalian",
        out: Annotated[Path | None, typer.Option("--out", help="write the rows as a monthly.csv file to import")] =
            None,
        registry: Annotated[Path | None, REGISTRY_OPTION] = None,
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """The monitored key units' monthly energy (tce, 当量值, main meters only) as the tracking nowcast's
        key_unit_energy_tce rows, in the columns of monthly.csv: import the file as the 'monthly' dataset."""
        from citycarbon.plan.load import load_plan
        from citycarbon.services.monitoring.checks import nowcast_feed

        try:
            loaded = load_registry_dir(registry)
            region = load_plan(city).meta.region_code
            result = nowcast_feed(open_lake(lake), loaded, year, region=str(region))
            feed = result.rows
        except InputError as error:
            fail(error)
            return
        if out is not None:  # exactly monthly.csv's columns (the count of enterprises stays in the answer)
            out.parent.mkdir(parents=True, exist_ok=True)
            feed.drop(columns=["enterprises"], errors="ignore").to_csv(out, index=False)
        emit({"rows": feed.to_dict(orient="records"), "file": None if out is None else str(out),
              "missing_factors": result.missing_factors}, fmt, rows=feed,
             title=f"重点用能单位月度能耗 / key units' monthly energy {year}")

    @monitoring_app.command("mqtt")
    def mqtt_command(
        broker: Annotated[str, typer.Option("--broker", help="HOST:PORT of the MQTT broker")] = "127.0.0.1:1883",
        topic: Annotated[str, typer.Option("--topic", help="subscription, e.g. 'cc/readings/#'")] = "cc/readings/#",
        client_id: Annotated[str, typer.Option("--client-id", help="persistent session id (QoS 1 redelivery)")] =
            "citycarbon-ingest",
        registry: Annotated[Path | None, REGISTRY_OPTION] = None,
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        max_messages: Annotated[int | None, typer.Option("--max-messages", help="stop after N messages")] = None,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Subscribe to terminal pushes ({"readings": [...]} per message on cc/readings/<enterprise_id>)."""
        from citycarbon.monitoring.mqtt import MqttIngest, parse_broker
        from citycarbon.services.monitoring.submissions import registry_source, submission_recorder
        from citycarbon.settings import get_settings

        with contextlib.ExitStack() as stack:
            # each message is recorded as a submission when a store exists
            database = stack.enter_context(submission_store())
            try:
                host, port = parse_broker(broker)
                source = None
                if registry is None:  # the store's registry, taken again after each import
                    from citycarbon.cli.monitoring import open_store

                    store = database if database is not None else stack.enter_context(open_store())
                    source = registry_source(store)
                service = MqttIngest(open_lake(lake), load_registry_dir(registry), host=host, port=port,
                                     topic=topic, client_id=client_id, registry_source=source,
                                     record=None if database is None else submission_recorder(database),
                                     future_margin=get_settings().monitoring_future_margin)
                service.refresh_registry(force=True)
            except InputError as error:
                fail(error)
                return
            try:
                stats = service.run(max_messages=max_messages)
            except KeyboardInterrupt:
                stats = service.stats
        emit(stats, fmt, rows=[stats], title="MQTT ingest")

    @monitoring_app.command("prune-submissions")
    def prune_submissions_command(
        older_than: Annotated[int, typer.Option("--older-than", min=1, help="days: delete the records of "
                                                "submissions received earlier than this many days ago")],
        reason: Annotated[str | None, typer.Option("--reason", help="kept in the audit row")] = None,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Retention of the submission records (who sent which batch, its counts and first rejected rows): delete
        those older than N days in one audited transaction. The readings in the lake are not touched."""
        from citycarbon.cli.db import cli_actor
        from citycarbon.cli.monitoring import open_store
        from citycarbon.services.monitoring.submissions import prune_submissions

        with open_store() as database:
            summary = prune_submissions(database, older_than_days=older_than, actor=cli_actor(), reason=reason)
        emit(summary, fmt, rows=[summary], title="提交记录已清理 / submission records pruned")

    @monitoring_app.command("lake-info")
    def lake_info_command(
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        repair: Annotated[bool, typer.Option("--repair", help="remove files the ledger does not hold")] = False,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Batches, parts, rows and months of the lake (and, with --repair, a full orphan scan)."""
        target = open_lake(lake)
        removed: list[str] = []
        if repair:
            with target.writer():
                removed = target.recover(full=True)
        info = target.info() | ({"removed": removed} if repair else {})
        rows = [{"field": k, "value": ", ".join(map(str, v)) if isinstance(v, list) else v} for k, v in info.items()]
        emit(info, fmt, rows=rows, title="抄表数据湖 / meter lake")

    @monitoring_app.command("compact")
    def compact_command(
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        enterprise: Annotated[str | None, typer.Option("--enterprise", help="only this enterprise")] = None,
        timezone: Annotated[str, TIMEZONE_OPTION] = "Asia/Shanghai",
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Merge each partition's small parts into one (content unchanged); without --enterprise also merge the
        hourly aggregate files into one per month, summed by local day of --timezone."""
        result = open_lake(lake).compact(enterprises=[enterprise] if enterprise else None, timezone=timezone)
        emit(result, fmt, rows=[result], title="compaction")

    @monitoring_app.command("rebuild-aggregates")
    def rebuild_aggregates_command(
        lake: Annotated[Path | None, LAKE_OPTION] = None,
        timezone: Annotated[str, TIMEZONE_OPTION] = "Asia/Shanghai",
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Recompute the rollup aggregates from the readings (a lake written before they existed, or a check)."""
        result = open_lake(lake).rebuild_aggregates(timezone=timezone)
        emit(result, fmt, rows=[result], title="aggregates")

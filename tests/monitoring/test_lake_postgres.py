"""The meter lake's ingest ledger in PostgreSQL (production), against the real server on 127.0.0.1:5432."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import event, select

from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake, content_frame, ledger, read_readings
from citycarbon.monitoring.rollup import rollup, scan_duckdb
from citycarbon.settings import Settings
from tests.db_fixtures import pg_admin  # noqa: F401 - fixture

try:
    from tests.monitoring.test_lake_fixtures import NOW, interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, interval_rows, make_registry


@pytest.fixture(scope="module")
def registry():
    return make_registry()


@pytest.fixture
def pg_url(pg_admin):  # noqa: F811 - the fixture imported above
    if pg_admin.error:
        pytest.skip(pg_admin.error)
    name = pg_admin.create()
    yield pg_admin.url(name)
    pg_admin.drop(name)


def _ledger_rows(url: str, table: str) -> int:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as con:
        return con.execute(f"SELECT count(*) FROM lake.{table}").fetchone()[0]


def _batches() -> list[pd.DataFrame]:
    first = pd.concat([interval_rows("E1-EL", "2024-01-31T22:00", 12, 15),
                       interval_rows("E2-EL", "2024-02-01T09:00", 4, 15)])
    revised = interval_rows("E1-EL", "2024-01-31T22:00", 2, 15, values=[99.0, 98.0])
    return [first, revised, first]  # the last is a re-send: all duplicates


def test_ledger_in_postgresql_holds_what_the_sqlite_ledger_holds(tmp_path, registry, pg_url):
    pg = Lake.open(tmp_path / "pg", ledger_url=pg_url)
    local = Lake.open(tmp_path / "local")
    for batch in _batches():
        reports = [ingest_frame(lake, registry, batch, source="t", now=NOW) for lake in (pg, local)]
        assert reports[0].to_dict() | {"batch_id": None} == reports[1].to_dict() | {"batch_id": None}
    assert not (pg.root / "ledger.sqlite").exists()  # the ledger is in the database, not beside the files
    assert _ledger_rows(pg_url, "batches") == 2 and _ledger_rows(pg_url, "parts") == len(local.parts())
    pd.testing.assert_frame_equal(content_frame(pg), content_frame(local))
    keep = ["point_id", "start", "end", "revision", "energy"]
    pd.testing.assert_frame_equal(read_readings(pg, enterprise="E1")[keep], read_readings(local, enterprise="E1")[keep])
    assert pg.info()["rows"] == local.info()["rows"] and pg.info()["revised_rows"] == 2
    # rollups: from the aggregates and from the readings, equal on both ledgers
    for lake in (pg, local):
        for period in ("hour", "day", "month"):
            pd.testing.assert_frame_equal(
                scan_duckdb(lake, period=period, timezone="Asia/Shanghai", source="aggregates")
                .sort_values(["point_id", "period"]).reset_index(drop=True),
                scan_duckdb(lake, period=period, timezone="Asia/Shanghai", source="readings")
                .sort_values(["point_id", "period"]).reset_index(drop=True), check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(rollup(pg, registry, period="month").frame,
                                  rollup(local, registry, period="month").frame)
    # compaction swaps parts and aggregate files in one PostgreSQL transaction
    result = pg.compact()
    assert result["partitions_compacted"] >= 1 and pg.aggregates_day_offset() == 480
    assert len(pg.parts()) == 2 and _ledger_rows(pg_url, "parts") == 2  # E1 in January, E2 in February (UTC)
    pd.testing.assert_frame_equal(content_frame(pg), content_frame(local))
    pd.testing.assert_frame_equal(rollup(pg, registry, period="day").frame,
                                  rollup(local, registry, period="day").frame, check_exact=False, rtol=1e-12)


def test_a_failed_ledger_commit_changes_nothing_and_the_journal_cleans_up(tmp_path, registry, ledger_url):
    lake = Lake.open(tmp_path / "lake", ledger_url=ledger_url)
    ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-05T00:00", 4, 15), source="t", now=NOW)
    before = (content_frame(lake), [p.path for p in lake.parts()], len(lake.batches()))
    # the database fails after the batch row is inserted, while the part rows go in: the transaction rolls back
    dbapi = lake.ledger.engine.dialect.loaded_dbapi

    def failing(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"INSERT INTO (\w+\.)?parts\b", statement):
            raise dbapi.OperationalError("connection lost (simulated)")

    event.listen(lake.ledger.engine, "before_cursor_execute", failing)
    try:
        with pytest.raises(ledger.LedgerError, match="simulated"):
            ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-06T00:00", 4, 15), source="t", now=NOW)
    finally:
        event.remove(lake.ledger.engine, "before_cursor_execute", failing)
    assert len(lake.batches()) == before[2]  # the batch row went with the rollback
    # the parts it wrote are not in the ledger; the next writer replays the journal and deletes them
    assert json.loads(lake.journal_path.read_text())["write"]
    with lake.writer():
        pass
    assert not lake.journal_path.exists()
    files = sorted(str(p.relative_to(lake.root)) for p in (lake.root / "readings").rglob("*.parquet"))
    assert files == before[1]
    pd.testing.assert_frame_equal(content_frame(lake), before[0])
    # and the same batch sent again is accepted in full
    report = ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-06T00:00", 4, 15), source="t", now=NOW)
    assert report.accepted == 4 and len(lake.batches()) == before[2] + 1


def _ledger_snapshot(lake: Lake) -> dict[str, list[tuple]]:
    """Every ledger row, with what differs by chance between two lakes fed the same batches made comparable:
    generated ids (``…-<12 hex>``) and commit times become their rank of first commit."""
    tables = (ledger.batches, ledger.parts, ledger.agg_parts, ledger.meta)
    with lake.ledger.reading() as con:
        rows = {t.name: [dict(r._mapping) for r in con.execute(select(t))] for t in tables}
    times = sorted({r["committed_at"] for table in rows.values() for r in table if "committed_at" in r})
    ids: dict[str, str] = {}
    for time in times:  # one transaction commits one generated id: number them in commit order
        for table in rows.values():
            for row in table:
                if row.get("committed_at") == time:
                    for found in re.findall(r"-([0-9a-f]{12})\b", str(row.get("batch_id"))):
                        ids.setdefault(found, f"id{len(ids)}")

    def plain(value):
        if isinstance(value, str):
            value = re.sub(r"-([0-9a-f]{12})\b", lambda m: "-" + ids.get(m.group(1), m.group(1)), value)
            return f"t{times.index(value)}" if value in times else value
        return value

    return {name: sorted(tuple((k, plain(v)) for k, v in row.items()) for row in table)
            for name, table in rows.items()}


def test_both_ledgers_hold_identical_rows_for_the_same_batches(tmp_path, registry, pg_admin):  # noqa: F811
    if pg_admin.error:
        pytest.skip(pg_admin.error)
    name = pg_admin.create()
    try:
        lakes = [Lake.open(tmp_path / "local"), Lake.open(tmp_path / "pg", ledger_url=pg_admin.url(name))]
        steps = [lambda lake, b=b: ingest_frame(lake, registry, b, source="t", now=NOW) for b in _batches()]
        steps += [lambda lake: ingest_frame(lake, registry, interval_rows("E2-EL", "2024-03-01T00:00", 3, 15),
                                            source="t", now=NOW),
                  lambda lake: lake.compact(enterprises=["E1"]),
                  lambda lake: lake.rebuild_aggregates(),
                  lambda lake: lake.compact()]
        for step in steps:
            results = [step(lake) for lake in lakes]
            if hasattr(results[0], "to_dict"):
                results = [r.to_dict() | {"batch_id": None} for r in results]
            assert results[0] == results[1]
            snapshots = [_ledger_snapshot(lake) for lake in lakes]
            assert snapshots[0] == snapshots[1]
        assert len(snapshots[0]["batches"]) == 3 and any(r for r in snapshots[0]["parts"] if ("revised_rows", 2) in r)
        assert {dict(r)["key"] for r in snapshots[0]["meta"]} == {"layout", "aggregates", "aggregates_day_offset"}
        assert lakes[1].version() != () and not (lakes[1].root / "ledger.sqlite").exists()
    finally:
        pg_admin.drop(name)


def test_settings_put_the_ledger_in_the_application_database(tmp_path, pg_url):
    embedded = Settings.for_home(tmp_path / "home")
    assert embedded.lake_ledger_url is None
    assert Lake.for_settings(embedded).ledger_path.exists()
    production = replace(embedded, database_url=pg_url, lake_dir=tmp_path / "lake-pg")
    assert production.lake_ledger_url == pg_url
    lake = Lake.for_settings(production)
    assert Lake.present(production) and not lake.ledger_path.exists()
    before = lake.version()
    registry = make_registry()
    ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-05T00:00", 2, 15), source="t", now=NOW)
    assert lake.version() != before
    with pytest.raises(ValueError, match="PostgreSQL"):
        Lake(tmp_path / "x", ledger_url="mysql://u@h/db")

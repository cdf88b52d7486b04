"""The ingest ledger's tables (batches, parts, aggregate index, meta) and its connections: a kept-open SQLite
file beside the lake (embedded) or a PostgreSQL schema (production)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable

LEDGER_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id TEXT PRIMARY KEY, source TEXT, enterprise_id TEXT, client_batch_id TEXT,
        rows_in INTEGER NOT NULL, accepted INTEGER NOT NULL, duplicate INTEGER NOT NULL,
        revised INTEGER NOT NULL, rejected INTEGER NOT NULL, committed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS parts (
        path TEXT PRIMARY KEY, batch_id TEXT NOT NULL, month TEXT NOT NULL, enterprise_id TEXT NOT NULL,
        rows INTEGER NOT NULL, revised_rows INTEGER NOT NULL, min_start TEXT, max_end TEXT,
        committed_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS parts_partition ON parts (enterprise_id, month)",
    # hourly aggregates (citycarbon.monitoring.aggregates): one row per (file, UTC month, enterprise) it covers
    """CREATE TABLE IF NOT EXISTS agg_parts (
        path TEXT NOT NULL, month TEXT NOT NULL, enterprise_id TEXT NOT NULL, batch_id TEXT NOT NULL,
        rows INTEGER NOT NULL, committed_at TEXT NOT NULL, PRIMARY KEY (path, month, enterprise_id))""",
    "CREATE INDEX IF NOT EXISTS agg_parts_partition ON agg_parts (enterprise_id, month)",
)
#: ``meta`` value of key ``aggregates`` while the hourly aggregates cover every committed part
AGGREGATES_VERSION = "hourly v1"


def partition_filter(enterprises: Iterable[str] | None, months: tuple[str | None, str | None] | None
                      ) -> tuple[list[str], list[object]] | None:
    """WHERE terms and arguments selecting ledger rows of ``enterprises`` in months ``[lo, hi]`` (either None:
    no condition); None when ``enterprises`` is empty (nothing can match)."""
    where: list[str] = []
    args: list[object] = []
    if enterprises is not None:
        ids = sorted({str(e) for e in enterprises})
        if not ids:
            return None
        where.append(f"enterprise_id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    if months is not None:
        for op, value in ((">=", months[0]), ("<=", months[1])):
            if value is not None:
                where.append(f"month {op} ?")
                args.append(value)
    return where, args


class SqliteConnection:
    """A kept-open sqlite3 connection whose ``close`` does nothing (callers use ``contextlib.closing``)."""

    def __init__(self, raw: sqlite3.Connection):
        self.raw = raw

    def execute(self, sql: str, args: Iterable[object] = ()):
        return self.raw.execute(sql, tuple(args))

    def executemany(self, sql: str, rows: Iterable[Iterable[object]]):
        return self.raw.executemany(sql, rows)

    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        return None

    def __enter__(self) -> SqliteConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def close_sqlite(connections: dict) -> None:
    pid = os.getpid()
    for (owner, _thread), con in list(connections.items()):
        if owner == pid:
            with contextlib.suppress(Exception):
                con.raw.close()
    connections.clear()


class PgLedger:
    """The ledger's tables in a PostgreSQL schema (psycopg 3), behind the few sqlite3 calls the lake makes.

    The statements are the SQLite ones with three dialect differences translated: ``?`` parameters,
    ``INSERT OR IGNORE`` / ``INSERT OR REPLACE`` (``ON CONFLICT``), and ``BEGIN IMMEDIATE`` (``BEGIN``: the
    lake's writer lock already serialises writers; a transaction keeps each batch atomic). One connection per
    thread is kept open (connecting costs milliseconds per call otherwise).
    """

    def __init__(self, url: str, schema: str):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if not parsed.drivername.startswith("postgresql"):
            raise ValueError(f"lake ledger URL must be PostgreSQL (or none for SQLite): {parsed.drivername}")
        if not schema.isidentifier():
            raise ValueError(f"lake ledger schema must be an identifier: {schema!r}")
        self.dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.schema = schema
        self._local = threading.local()
        self._open: list = []  # every connection made, closed when this ledger object goes away
        weakref.finalize(self, close_all, self._open)

    @staticmethod
    def errors() -> type[Exception]:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a dependency
            return sqlite3.Error
        return psycopg.Error

    def connect(self) -> PgConnection:
        con = getattr(self._local, "con", None)
        if con is None or con.raw.closed or con.raw.broken:
            import psycopg

            raw = psycopg.connect(self.dsn, autocommit=True)
            self._open.append(raw)
            raw.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            raw.execute(f'SET search_path TO "{self.schema}"')
            con = self._local.con = PgConnection(raw)
        return con


def close_all(connections: list) -> None:
    for raw in connections:
        with contextlib.suppress(Exception):
            raw.close()
    connections.clear()


class PgConnection:
    """sqlite3-like ``execute``/``executemany``/``commit``/``close`` over a psycopg connection."""

    def __init__(self, raw):
        self.raw = raw

    @staticmethod
    def _sql(sql: str) -> str:
        text = sql.strip()
        if text.startswith("PRAGMA"):
            return ""
        if text == "BEGIN IMMEDIATE":
            return "BEGIN"
        if text.startswith("INSERT OR IGNORE INTO"):
            text = "INSERT INTO" + text[len("INSERT OR IGNORE INTO"):] + " ON CONFLICT DO NOTHING"
        elif text.startswith("INSERT OR REPLACE INTO meta"):
            text = "INSERT INTO meta" + text[len("INSERT OR REPLACE INTO meta"):] + \
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        return text.replace("?", "%s")

    def execute(self, sql: str, args: Iterable[object] = ()):
        text = self._sql(sql)
        cursor = self.raw.cursor()
        if text:
            cursor.execute(text, tuple(args))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Iterable[object]]):
        cursor = self.raw.cursor()
        rows = [tuple(r) for r in rows]
        if rows:
            cursor.executemany(self._sql(sql), rows)
        return cursor

    def commit(self) -> None:  # autocommit outside explicit BEGIN … COMMIT
        return None

    def close(self) -> None:  # the per-thread connection stays open for the next call
        return None

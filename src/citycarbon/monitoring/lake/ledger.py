"""The ingest ledger: its tables (batches, parts, aggregate index, meta), defined once with SQLAlchemy Core, and
the engine that holds them — a SQLite file beside the lake (embedded) or a schema of a PostgreSQL database
(production). Every statement is a Core construct compiled by the backend's dialect; the only dialect-specific
statements are the two upserts of ``meta`` (``sqlite.insert`` / ``postgresql.insert`` ``on_conflict_do_*``).

Transactions: a write is one ``BEGIN`` … ``COMMIT`` (``BEGIN IMMEDIATE`` in SQLite, so the writer takes the
file's write lock up front), rolled back on any failure; reads run outside a transaction (SQLite's autocommit
mode, PostgreSQL ``AUTOCOMMIT``), as each asks one question of committed rows.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    create_engine,
    delete,
    distinct,
    event,
    exc,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool
from sqlalchemy.schema import CreateSchema
from sqlalchemy.sql.elements import ColumnElement

#: ``meta`` value of key ``aggregates`` while the hourly aggregates cover every committed part
AGGREGATES_VERSION = "hourly v1"
#: ``meta`` value of key ``layout``
LAYOUT = "month=UTC month of start; v1"

metadata = MetaData()

meta = Table("meta", metadata,
             Column("key", Text, primary_key=True),
             Column("value", Text, nullable=False))

batches = Table("batches", metadata,
                Column("batch_id", Text, primary_key=True),
                Column("source", Text),
                Column("enterprise_id", Text),
                Column("client_batch_id", Text),
                Column("rows_in", Integer, nullable=False),
                Column("accepted", Integer, nullable=False),
                Column("duplicate", Integer, nullable=False),
                Column("revised", Integer, nullable=False),
                Column("rejected", Integer, nullable=False),
                Column("committed_at", Text, nullable=False))

parts = Table("parts", metadata,
              Column("path", Text, primary_key=True),  # relative to the lake root
              Column("batch_id", Text, nullable=False),
              Column("month", Text, nullable=False),
              Column("enterprise_id", Text, nullable=False),
              Column("rows", Integer, nullable=False),
              Column("revised_rows", Integer, nullable=False),
              Column("min_start", Text),  # ISO UTC texts of one format: they compare like the times they name
              Column("max_end", Text),
              Column("committed_at", Text, nullable=False))
Index("parts_partition", parts.c.enterprise_id, parts.c.month)

# hourly aggregates (citycarbon.monitoring.aggregates): one row per (file, UTC month, enterprise) it covers
agg_parts = Table("agg_parts", metadata,
                  Column("path", Text, nullable=False),
                  Column("month", Text, nullable=False),
                  Column("enterprise_id", Text, nullable=False),
                  Column("batch_id", Text, nullable=False),
                  Column("rows", Integer, nullable=False),
                  Column("committed_at", Text, nullable=False),
                  PrimaryKeyConstraint("path", "month", "enterprise_id"))
Index("agg_parts_partition", agg_parts.c.enterprise_id, agg_parts.c.month)

#: the columns of :data:`parts` a :class:`~citycarbon.monitoring.lake.core.PartInfo` holds, in its field order
PART_COLUMNS = (parts.c.path, parts.c.batch_id, parts.c.month, parts.c.enterprise_id, parts.c.rows,
                parts.c.revised_rows, parts.c.min_start, parts.c.max_end)

#: what a failed ledger statement raises on either backend (the driver's error, wrapped)
LedgerError = exc.DBAPIError


def partition_filter(table: Table, enterprises: Iterable[str] | None,
                     months: tuple[str | None, str | None] | None) -> list[ColumnElement[bool]] | None:
    """Conditions selecting rows of ``table`` of ``enterprises`` in months ``[lo, hi]`` (either None: no
    condition); None when ``enterprises`` is empty (nothing can match)."""
    where: list[ColumnElement[bool]] = []
    if enterprises is not None:
        ids = sorted({str(e) for e in enterprises})
        if not ids:
            return None
        where.append(table.c.enterprise_id.in_(ids))
    if months is not None:
        if months[0] is not None:
            where.append(table.c.month >= months[0])
        if months[1] is not None:
            where.append(table.c.month <= months[1])
    return where


class Ledger:
    """The ledger's engine: ``url`` None keeps the tables in the SQLite file ``sqlite_path``; a PostgreSQL URL
    (``postgresql[+psycopg]://…``) keeps them in that database's ``schema``. Creating one does no I/O (the
    engine connects on first use); :meth:`create` makes the tables.

    Connections are pooled and kept open (opening one costs about a millisecond, and a rollup asks the ledger
    several questions); a forked child drops its parent's pool and opens its own. Every ``Ledger`` of one file or
    database in a process shares one engine (:func:`_shared_engine`), so its compiled statements are reused by
    each lake object opened on it (compiling them again would cost several milliseconds per ``Lake.open``).
    """

    def __init__(self, url: str | None, sqlite_path: Path, schema: str = "lake"):
        self.schema: str | None
        if url is None:
            self.schema = None
            self.sqlite_path: Path | None = Path(sqlite_path)
            base = _shared_engine(("sqlite", str(Path(sqlite_path).absolute())), lambda: _sqlite_engine(sqlite_path))
            engine = self._read = base
        else:
            parsed = make_url(url)
            if not parsed.drivername.startswith("postgresql"):
                raise ValueError(f"lake ledger URL must be PostgreSQL (or none for SQLite): {parsed.drivername}")
            if not schema.isidentifier():
                raise ValueError(f"lake ledger schema must be an identifier: {schema!r}")
            self.schema = schema
            self.sqlite_path = None
            target = parsed.set(drivername="postgresql+psycopg")
            base = _shared_engine(("postgresql", target.render_as_string(hide_password=False)),
                                  lambda: create_engine(target, pool_size=8, max_overflow=-1))
            engine = base.execution_options(schema_translate_map={None: schema})
            self._read = engine.execution_options(isolation_level="AUTOCOMMIT")
        #: the engine (listen for its events here); statements run through ``_engine`` (PostgreSQL: the schema)
        self.engine: Engine = base
        self._engine = engine
        self._write = engine.execution_options(ledger_write=True)
        self._pid = os.getpid()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _forked(self) -> None:
        if self._pid != os.getpid():  # the parent's connections stay the parent's
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads of committed rows (no transaction held)."""
        self._forked()
        with self._read.connect() as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: ``BEGIN`` (SQLite: ``BEGIN IMMEDIATE``) … ``COMMIT``; any failure — the
        block's or the commit's — rolls it back, so a pooled connection never stays inside a transaction."""
        self._forked()
        with self._write.begin() as con:
            yield con

    def create(self) -> None:
        """Create the schema (PostgreSQL), the tables and the ``meta`` rows of a new ledger (idempotent)."""
        self._forked()
        if self.sqlite_path is not None:
            found = _file_identity(self.sqlite_path)
            if found != _FILES.setdefault(self.engine, found):
                # the file was removed or replaced since this process's connections opened it: open new ones
                self.engine.dispose()
                _FILES[self.engine] = found
        if self._created():
            return
        if self.schema is not None:
            with self._engine.begin() as con:
                con.execute(CreateSchema(self.schema, if_not_exists=True))
        with self.transaction() as con:
            metadata.create_all(con)
            con.execute(self.insert_ignore(meta).values(key="layout", value=LAYOUT))
            # a new (empty) lake keeps aggregates from its first batch; a lake written before aggregates existed
            # has none until `rebuild_aggregates` (rollups scan the readings meanwhile)
            if con.execute(select(func.count()).select_from(parts)).scalar_one() == 0:
                con.execute(self.insert_ignore(meta).values(key="aggregates", value=AGGREGATES_VERSION))
        if self.sqlite_path is not None:
            _FILES[self.engine] = _file_identity(self.sqlite_path)

    def _created(self) -> bool:
        """Whether the tables and both ``meta`` rows exist, so :meth:`create` has nothing to do (one read, no
        write lock: the common case of opening a lake)."""
        try:
            with self.reading() as con:
                keys = con.execute(select(func.count()).where(meta.c.key.in_(["layout", "aggregates"]))).scalar_one()
        except exc.DBAPIError:  # no such table (or schema) yet
            return False
        return keys == 2

    def _insert(self, table: Table):
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    def insert_ignore(self, table: Table):
        """``INSERT … ON CONFLICT DO NOTHING`` on either backend."""
        return self._insert(table).on_conflict_do_nothing()

    def put_meta(self, key: str, value: str):
        """The statement setting ``meta[key] = value`` (insert or update)."""
        statement = self._insert(meta).values(key=key, value=value)
        return statement.on_conflict_do_update(index_elements=[meta.c.key],
                                               set_={"value": statement.excluded.value})

    # ---- questions (each one read of committed rows) ---------------------------------------------------

    def parts(self, enterprises: Iterable[str] | None = None, months: tuple[str | None, str | None] | None = None,
              starts: tuple[str, str] | None = None, ends: tuple[str, str] | None = None) -> list[tuple]:
        """Rows of :data:`PART_COLUMNS` of the committed parts matching the filters (see ``Lake.parts``), by
        path."""
        where = partition_filter(parts, enterprises, months)
        if where is None:
            return []
        c = parts.c
        if starts is not None:  # ISO texts in UTC with one format compare like the times they name
            where += [c.min_start.is_(None) | (c.min_start <= starts[1]), c.max_end.is_(None) | (c.max_end > starts[0])]
        if ends is not None:  # an end e lies in a part only if min_start <= e <= max_end
            where += [c.min_start.is_(None) | (c.min_start <= ends[1]), c.max_end.is_(None) | (c.max_end >= ends[0])]
        with self.reading() as con:
            return [tuple(row) for row in con.execute(select(*PART_COLUMNS).where(*where).order_by(c.path))]

    def aggregate_paths(self, enterprises: Iterable[str] | None = None,
                        months: tuple[str | None, str | None] | None = None) -> list[str]:
        """Relative paths of the aggregate files holding rows of ``enterprises`` in months ``[lo, hi]``."""
        where = partition_filter(agg_parts, enterprises, months)
        if where is None:
            return []
        statement = select(agg_parts.c.path).distinct().where(*where).order_by(agg_parts.c.path)
        with self.reading() as con:
            return list(con.execute(statement).scalars())

    def enterprises(self) -> set[str]:
        with self.reading() as con:
            return set(con.execute(select(parts.c.enterprise_id).distinct()).scalars())

    def meta_value(self, key: str) -> str | None:
        with self.reading() as con:
            return con.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    def batches(self) -> tuple[list[str], list[tuple]]:
        """Column names and rows of ``batches`` in commit order."""
        with self.reading() as con:
            result = con.execute(select(batches).order_by(batches.c.committed_at, batches.c.batch_id))
            return list(result.keys()), [tuple(row) for row in result]

    def counts(self) -> dict:
        """Parts, rows, revised rows, batches, enterprises and months of the committed parts."""
        c = parts.c
        with self.reading() as con:
            n_parts, rows, revised = con.execute(select(
                func.count(), func.coalesce(func.sum(c.rows), 0), func.coalesce(func.sum(c.revised_rows), 0))).one()
            n_batches = con.execute(select(func.count()).select_from(batches)).scalar_one()
            months = list(con.execute(select(c.month).distinct().order_by(c.month)).scalars())
            enterprises = con.execute(select(func.count(distinct(c.enterprise_id)))).scalar_one()
        return {"batches": n_batches, "parts": n_parts, "rows": rows, "revised_rows": revised,
                "enterprises": enterprises, "months": months}

    def version(self) -> tuple:
        """Counts and latest commit times of the three ledger tables: they change whenever a write commits."""
        terms = []
        for table in (batches, parts, agg_parts):
            terms += [select(func.count()).select_from(table).scalar_subquery(),
                      select(func.max(table.c.committed_at)).scalar_subquery()]
        with self.reading() as con:
            return tuple(con.execute(select(*terms)).one())

    # ---- writes (each one transaction; the caller holds the lake's writer lock) -------------------------

    def commit_batch(self, batch: dict, part_rows: list[dict], agg_rows: list[dict]) -> None:
        """Insert a batch, its parts and its aggregate file's rows in one transaction (the acknowledgement)."""
        with self.transaction() as con:
            con.execute(insert(batches).values(**batch))
            if agg_rows:
                con.execute(insert(agg_parts), agg_rows)
            if part_rows:
                con.execute(insert(parts), part_rows)

    def replace_parts(self, old: list[str], new: dict) -> None:
        """Swap the part rows ``old`` (paths) for ``new`` in one transaction (compaction)."""
        with self.transaction() as con:
            con.execute(delete(parts).where(parts.c.path.in_(old)))
            con.execute(insert(parts).values(**new))

    def replace_aggregates(self, rows: list[dict], day_offset: int | None) -> None:
        """Swap every aggregate row for ``rows`` and mark the aggregates current, summed by local day at
        ``day_offset`` minutes east of UTC (None: hourly), in one transaction."""
        with self.transaction() as con:
            con.execute(delete(agg_parts))
            if rows:
                con.execute(insert(agg_parts), rows)
            con.execute(self.put_meta("aggregates", AGGREGATES_VERSION))
            con.execute(delete(meta).where(meta.c.key == "aggregates_day_offset"))
            if day_offset is not None:
                con.execute(insert(meta).values(key="aggregates_day_offset", value=str(day_offset)))

    def dispose(self) -> None:
        """Close the pooled connections (the engine stays usable: it opens new ones when asked)."""
        self.engine.dispose()


#: engines by (process id, backend, file or URL), least recently opened first; at most _MAX_ENGINES kept
_ENGINES: OrderedDict[tuple, Engine] = OrderedDict()
_ENGINES_LOCK = threading.Lock()
_MAX_ENGINES = 32
#: (device, inode) of the SQLite file an engine's connections were opened on
_FILES: dict[Engine, tuple[int, int] | None] = {}


def _shared_engine(target: tuple[str, str], make: Callable[[], Engine]) -> Engine:
    """This process's engine for ``target`` (made by ``make`` on first use). Engines beyond the most recently used
    :data:`_MAX_ENGINES` have their pools closed (a ledger still holding one opens new connections)."""
    key = (os.getpid(), *target)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = make()
            while len(_ENGINES) > _MAX_ENGINES:
                (pid, *_), old = _ENGINES.popitem(last=False)
                _FILES.pop(old, None)
                old.dispose(close=pid == os.getpid())  # never close a parent process's connections
        else:
            _ENGINES.move_to_end(key)
        return engine


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=QueuePool, pool_size=8, max_overflow=-1,
                           connect_args={"timeout": 60, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy's documented pysqlite recipe: the driver leaves transactions alone (``isolation_level=None``)
    # and the "begin" event emits them, so a write takes the write lock at BEGIN and reads need none
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("ledger_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

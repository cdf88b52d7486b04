"""The meter lake: normalised interval energy as partitioned Parquet, one writer, a durable ingest ledger.

Layout (``$CITYCARBON_LAKE_DIR``, default ``$CITYCARBON_HOME/lake``)::

    readings/month=YYYY-MM/enterprise=<id>/part-<batch>-<n>.parquet   # month = UTC month of ``start``
    ledger.sqlite                                                       # batches and committed parts
    writer.lock                                                         # fcntl.flock: one writer at a time
    journal.json                                                        # present only while a write is open

Columns of every part (:data:`SCHEMA`): ``point_id, enterprise_id, start, end, value_raw, unit_raw, energy,
energy_unit, batch_id, revision, received_at, energy_flag``. ``energy`` is the interval energy in the energy
type's canonical unit (after multiplier and unit conversion); ``energy_flag`` is empty for ordinary rows and
``first_read`` / ``rollover`` / ``reset`` for differenced cumulative registers (a reset has no energy).

Write protocol (acknowledged means durable; a crash anywhere neither loses nor duplicates):

1. under the writer lock, write ``journal.json`` naming the parts about to be written (fsync, rename, fsync dir);
2. write each part to ``.<name>.tmp``, fsync it, rename it to its final name, fsync its directory;
3. commit the batch and its parts in one SQLite transaction (WAL, ``synchronous=FULL``) — the acknowledgement;
4. remove the journal.

On the next writer start a left-over journal is replayed: parts it names that the ledger does not hold are
deleted (the batch was never acknowledged; the sender re-sends it), and parts a committed compaction replaced
are deleted. Readers read only the parts the ledger holds, so an orphan is never visible.

The ledger holds batches and parts. The per-key index that idempotency needs — which ``(point_id, start, end)``
exist, with which revisions and values — is the committed parts' own key columns, read back per touched
partition (a per-row SQLite index caps ingest far below 10^6 rows/s). In PostgreSQL the two ledger tables map
one to one (``batches``, ``parts``; ``path`` text primary key), committed in the same transaction order.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "COLUMNS",
    "SCHEMA",
    "Lake",
    "LakeBusy",
    "LakeWriter",
    "default_lake_dir",
    "read_readings",
]

SCHEMA = pa.schema([
    ("point_id", pa.string()),
    ("enterprise_id", pa.string()),
    ("start", pa.timestamp("us", tz="UTC")),
    ("end", pa.timestamp("us", tz="UTC")),
    ("value_raw", pa.float64()),
    ("unit_raw", pa.string()),
    ("energy", pa.float64()),
    ("energy_unit", pa.string()),
    ("batch_id", pa.string()),
    ("revision", pa.int32()),
    ("received_at", pa.timestamp("us", tz="UTC")),
    ("energy_flag", pa.string()),
])
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
#: how reading parts are encoded: dictionaries for the text columns only (times and numbers are near-unique per
#: part, so a dictionary attempt is wasted work) and min/max statistics for the columns readers filter or prune on
#: (``point_id``, ``enterprise_id``, ``start``, ``end``; ``revision > 0`` in the rollup); computing them for
#: every column costs about a third of the encoding time
_READINGS_WRITE_OPTIONS: dict = {
    "use_dictionary": [f.name for f in SCHEMA if pa.types.is_string(f.type)],
    "write_statistics": ["point_id", "enterprise_id", "start", "end", "revision"],
}
#: SCHEMA with its text columns as Arrow dictionaries: how :func:`part_table` builds the parts in memory
_PART_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if pa.types.is_string(f.type)
                          else f for f in SCHEMA])


def part_table(frame: pd.DataFrame) -> pa.Table:
    """``frame``'s lake columns as Arrow, text columns as dictionaries (:data:`_PART_SCHEMA`); see
    :class:`_PartColumns`, which builds the parts of a batch from row positions."""
    return _PartColumns(frame).table(np.arange(len(frame)))


class _PartColumns:
    """``frame``'s lake columns converted once, so that each part is a cheap take of its rows.

    The values are :data:`SCHEMA`'s, converted as ``pa.Table.from_pandas(frame, schema=SCHEMA)`` converts them
    (NaN and NaT become nulls, times are cast to microseconds and a lost digit is an error). Text columns are
    kept as integer codes and labels (a categorical hands its own over: no Python string per row) and each
    part gets an Arrow dictionary of only the labels its rows use. Written by :meth:`Lake._write_part`, the
    file holds plain UTF-8 columns that read back as SCHEMA.
    """

    def __init__(self, frame: pd.DataFrame):
        #: per column: (numpy values, null mask or None, None) or, for text, (int32 codes, valid or None, labels)
        self.columns: list[tuple[np.ndarray, np.ndarray | None, pa.Array | None]] = []
        for f in SCHEMA:
            column = frame[f.name]
            if pa.types.is_string(f.type):
                codes, labels = _codes_and_labels(column)
                valid = codes >= 0
                self.columns.append((codes, None if valid.all() else valid, labels))
                continue
            array = pa.Array.from_pandas(column, type=f.type)
            array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
            values = array.to_numpy(zero_copy_only=False)  # nulls: NaN / NaT, with the mask below
            nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
            self.columns.append((values, nulls, None))

    def reorder(self, order: np.ndarray) -> _PartColumns:
        """Put the rows in ``order`` once (one sequential gather per column), so that each part is a slice."""
        self.columns = [(values[order], None if mask is None else mask[order], labels)
                        for values, mask, labels in self.columns]
        return self

    def numpy(self, name: str) -> np.ndarray:
        """The converted values of a non-text column (times: numpy datetime64[us])."""
        return self.columns[COLUMNS.index(name)][0]

    def table(self, rows: np.ndarray) -> pa.Table:
        arrays = []
        for f, (values, mask, labels) in zip(_PART_SCHEMA, self.columns, strict=True):
            if labels is None:
                arrays.append(pa.array(values[rows], type=f.type, mask=None if mask is None else mask[rows]))
                continue
            codes = values[rows]
            valid = None if mask is None else mask[rows]
            if len(labels) > 1:  # only the labels this part uses go into its dictionary pages
                used = np.bincount(codes if valid is None else codes[valid], minlength=len(labels)) > 0
                if not used.all():
                    position = (np.cumsum(used) - 1).astype(np.int32)
                    codes = position[codes] if valid is None else np.where(valid, position[np.maximum(codes, 0)], -1)
                    labels = labels.filter(pa.array(used))
            indices = pa.array(codes, type=pa.int32(), mask=None if valid is None else ~valid)
            arrays.append(pa.DictionaryArray.from_arrays(indices, labels))
        return pa.Table.from_arrays(arrays, schema=_PART_SCHEMA)


def _codes_and_labels(column: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Text column → int32 codes (-1 where null) and its labels as an Arrow string array."""
    if isinstance(column.dtype, pd.CategoricalDtype) and \
            pd.api.types.infer_dtype(column.cat.categories, skipna=True) in ("string", "empty"):
        return (column.cat.codes.to_numpy().astype(np.int32),
                pa.array(np.asarray(column.cat.categories, dtype=object), type=pa.string()))
    plain = pa.Array.from_pandas(column.astype(object) if isinstance(column.dtype, pd.CategoricalDtype) else column,
                                 type=pa.string())
    encoded = plain.dictionary_encode()
    if isinstance(encoded, pa.ChunkedArray):  # a pyarrow-backed column converts to a chunked array
        encoded = encoded.unify_dictionaries().combine_chunks() if encoded.num_chunks else \
            pa.array([], type=encoded.type)
    codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int32)
    return codes, encoded.dictionary


def _utc_month_numbers(start: pd.Series) -> np.ndarray:
    """``YYYYMM`` (int64) of each UTC time of ``start`` (tz-aware)."""
    if not isinstance(start.dtype, pd.DatetimeTZDtype):
        start = pd.to_datetime(start, utc=True)
    # a tz-aware column's integers are UTC epoch values in its unit: no per-row time zone arithmetic
    per_day = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}[start.dtype.unit]
    days = start.array.asi8 // per_day  # floor division: days since 1970-01-01, before it too
    if not len(days):
        return np.zeros(0, dtype=np.int64)
    first, last = int(days.min()), int(days.max())
    if last - first > 1_000_000:  # an absurd span: the calendar arithmetic on every row
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    else:  # the calendar once per day of the span, then a lookup per row
        months = np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        months = months[days - first]
    return (months // 12 + 1970) * 100 + months % 12 + 1


KEY = ("point_id", "start", "end")

_LEDGER_DDL = (
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
#: the time zone whose local days compacted aggregate files sum by, unless a caller names another (the registry's)
DEFAULT_AGG_TIMEZONE = "Asia/Shanghai"
#: rows per row group of a monthly aggregate file (one enterprise-month of 30 points is ~22 000 rows)
AGG_ROW_GROUP = 65_536


class LakeBusy(RuntimeError):
    """Another process holds the lake's writer lock (and did not release it within the timeout)."""


def default_lake_dir() -> Path:
    """``$CITYCARBON_LAKE_DIR`` or ``$CITYCARBON_HOME/lake`` (see :mod:`citycarbon.settings`)."""
    from citycarbon.settings import get_settings

    return get_settings().lake_dir


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _durable_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp, fsync, rename, fsync dir)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


def partition_dir(month: str, enterprise_id: str) -> str:
    """Relative directory of a partition; the enterprise id is percent-encoded so any id is a safe name."""
    return f"readings/month={month}/enterprise={quote(str(enterprise_id), safe='')}"


@dataclass(frozen=True)
class PartInfo:
    path: str  # relative to the lake root
    batch_id: str
    month: str
    enterprise_id: str
    rows: int
    revised_rows: int
    min_start: str | None
    max_end: str | None


_LAKES: dict[tuple[str, str | None], Lake] = {}
_LAKES_LOCK = threading.Lock()


class Lake:
    """A meter lake rooted at ``root`` (created on first use). Cheap to construct; thread-safe for readers."""

    def __init__(self, root: str | Path | None = None, *, ledger_url: str | None = None,
                 ledger_schema: str = "lake"):
        """``ledger_url``: a PostgreSQL URL (``postgresql[+psycopg]://…``) to keep the ledger in that database's
        ``ledger_schema`` (production: the application database); None keeps it in ``ledger.sqlite`` beside
        the files (the embedded default). The Parquet files live under ``root`` either way."""
        self.root = Path(root) if root is not None else default_lake_dir()
        self.ledger_url = ledger_url
        self._pg = _PgLedger(ledger_url, ledger_schema) if ledger_url else None
        self._sqlite: dict[tuple[int, int], _SqliteConnection] = {}
        weakref.finalize(self, _close_sqlite, self._sqlite)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "readings").mkdir(exist_ok=True)
        self.ledger_path = self.root / "ledger.sqlite"
        self.lock_path = self.root / "writer.lock"
        self.journal_path = self.root / "journal.json"
        with contextlib.closing(self._connect()) as con:
            for statement in _LEDGER_DDL:
                con.execute(statement)
            con.execute("INSERT OR IGNORE INTO meta VALUES ('layout', 'month=UTC month of start; v1')")
            # a new (empty) lake keeps aggregates from its first batch; a lake written before aggregates existed
            # has none until `rebuild_aggregates` (rollups scan the readings meanwhile)
            if con.execute("SELECT count(*) FROM parts").fetchone()[0] == 0:
                con.execute("INSERT OR IGNORE INTO meta VALUES ('aggregates', ?)", (AGGREGATES_VERSION,))
            con.commit()

    @classmethod
    def for_settings(cls, settings) -> Lake:
        """The lake of a deployment: files in ``settings.lake_dir``, ledger per ``settings.lake_ledger_url``
        (one object per process and place: it holds the ledger connections)."""
        key = (str(Path(settings.lake_dir).resolve()), settings.lake_ledger_url)
        with _LAKES_LOCK:
            lake = _LAKES.get(key)
            if lake is None or not lake.root.exists():
                lake = _LAKES[key] = cls(settings.lake_dir, ledger_url=settings.lake_ledger_url)
            return lake

    @staticmethod
    def present(settings) -> bool:
        """Whether the deployment has a lake yet (without creating one)."""
        return bool(settings.lake_ledger_url) or (Path(settings.lake_dir) / "ledger.sqlite").exists()

    def version(self) -> tuple:
        """A cheap token that changes whenever a batch, compaction or rebuild commits (for caches)."""
        if self._pg is None:
            stamps = []
            for name in ("ledger.sqlite", "ledger.sqlite-wal"):
                try:
                    stat = (self.root / name).stat()
                    stamps.append((stat.st_mtime_ns, stat.st_size))
                except OSError:
                    stamps.append((0, 0))
            return tuple(stamps)
        with contextlib.closing(self._connect()) as con:
            return tuple(con.execute(
                "SELECT (SELECT count(*) FROM batches), (SELECT max(committed_at) FROM batches), "
                "(SELECT count(*) FROM parts), (SELECT max(committed_at) FROM parts), "
                "(SELECT count(*) FROM agg_parts), (SELECT max(committed_at) FROM agg_parts)").fetchone())

    # ---- ledger --------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._pg is not None:
            return self._pg.connect()  # type: ignore[return-value]
        # one connection per thread and process, kept open: opening one (and its PRAGMAs) costs about a
        # millisecond, and a rollup asks the ledger several questions
        key = (os.getpid(), threading.get_ident())
        con = self._sqlite.get(key)
        if con is None:
            raw = sqlite3.connect(self.ledger_path, timeout=60, isolation_level=None, check_same_thread=False)
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=FULL")
            con = self._sqlite[key] = _SqliteConnection(raw)
        return con  # type: ignore[return-value]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ledger write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``); any failure rolls it back, so a kept
        connection is never left inside an open transaction."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error, _PgLedger.errors()):
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def parts(self, *, enterprises: Iterable[str] | None = None,
              months: tuple[str | None, str | None] | None = None,
              starts: tuple[str, str] | None = None, ends: tuple[str, str] | None = None) -> list[PartInfo]:
        """Committed parts, optionally only those of ``enterprises``, of months in ``[lo, hi]``, and (``starts``,
        ISO UTC texts) holding interval starts in ``[first, last]`` by the ledger's min/max columns; ``ends``:
        parts that may hold interval ends in ``[first, last]``."""
        sql = "SELECT path, batch_id, month, enterprise_id, rows, revised_rows, min_start, max_end FROM parts"
        chosen = _partition_filter(enterprises, months)
        if chosen is None:
            return []
        where, args = chosen
        if starts is not None:  # ISO texts in UTC with one format compare like the times they name
            where.append("(min_start IS NULL OR min_start <= ?) AND (max_end IS NULL OR max_end > ?)")
            args.extend([starts[1], starts[0]])
        if ends is not None:  # an end e lies in a part only if min_start <= e <= max_end
            where.append("(min_start IS NULL OR min_start <= ?) AND (max_end IS NULL OR max_end >= ?)")
            args.extend([ends[1], ends[0]])
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY path"
        with contextlib.closing(self._connect()) as con:
            return [PartInfo(*row) for row in con.execute(sql, args).fetchall()]

    def part_paths(self, **filters: object) -> list[str]:
        """Absolute paths of the committed parts matching ``filters`` (see :meth:`parts`)."""
        root = str(self.root)  # plain text joins: pathlib costs ~40 µs a path
        return [f"{root}/{part.path}" for part in self.parts(**filters)]  # type: ignore[arg-type]

    def aggregates_current(self) -> bool:
        """Whether the hourly aggregates cover every committed part (see :mod:`citycarbon.monitoring.aggregates`)."""
        with contextlib.closing(self._connect()) as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'aggregates'").fetchone()
        return row is not None and row[0] == AGGREGATES_VERSION

    def aggregate_paths(self, *, enterprises: Iterable[str] | None = None,
                        months: tuple[str | None, str | None] | None = None) -> list[str]:
        """Absolute paths of the aggregate files holding rows of ``enterprises`` in months ``[lo, hi]``."""
        sql = "SELECT DISTINCT path FROM agg_parts"
        chosen = _partition_filter(enterprises, months)
        if chosen is None:
            return []
        where, args = chosen
        if where:
            sql += " WHERE " + " AND ".join(where)
        with contextlib.closing(self._connect()) as con:
            return [str(self.root / row[0]) for row in con.execute(sql + " ORDER BY path", args)]

    def enterprises(self) -> set[str]:
        """Enterprise ids with at least one committed part."""
        with contextlib.closing(self._connect()) as con:
            return {row[0] for row in con.execute("SELECT DISTINCT enterprise_id FROM parts")}

    def batches(self) -> pd.DataFrame:
        with contextlib.closing(self._connect()) as con:
            cursor = con.execute("SELECT * FROM batches ORDER BY committed_at, batch_id")
            names = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    def info(self) -> dict:
        """Counts for ``citycarbon monitoring lake-info``."""
        with contextlib.closing(self._connect()) as con:
            parts, rows, revised = con.execute(
                "SELECT count(*), coalesce(sum(rows), 0), coalesce(sum(revised_rows), 0) FROM parts").fetchone()
            batches = con.execute("SELECT count(*) FROM batches").fetchone()[0]
            months = [r[0] for r in con.execute("SELECT DISTINCT month FROM parts ORDER BY month")]
            enterprises = con.execute("SELECT count(DISTINCT enterprise_id) FROM parts").fetchone()[0]
        size = sum(p.stat().st_size for p in (self.root / "readings").rglob("*.parquet"))
        return {"lake_dir": str(self.root), "batches": batches, "parts": parts, "rows": rows,
                "revised_rows": revised, "enterprises": enterprises,
                "months": [months[0], months[-1]] if months else [], "bytes": size,
                "journal_pending": self.journal_path.exists()}

    # ---- writing -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self, timeout: float | None = 60.0) -> Iterator[LakeWriter]:
        """Hold the exclusive writer lock (``fcntl.flock``) for the block; replay a left-over journal first.

        ``timeout`` seconds to wait for another writer (``None`` waits forever, ``0`` fails at once); a
        :class:`LakeBusy` names the lock file when it expires.
        """
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - closed in finally
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                    if deadline is not None and time.monotonic() >= deadline:
                        raise LakeBusy(f"{self.lock_path}: another ingest writer holds the lake "
                                       f"(waited {timeout:g} s)") from None
                    time.sleep(0.05)
            self.recover()
            yield LakeWriter(self)
        finally:
            handle.close()  # releases the lock

    def recover(self, *, full: bool = False) -> list[str]:
        """Replay a left-over journal (call under the writer lock); ``full`` also scans every partition.

        Returns the relative paths removed: parts never acknowledged, and parts a committed compaction
        replaced. ``full`` removes every ``*.parquet`` or temp file the ledger does not hold.
        """
        removed: list[str] = []
        if not self.journal_path.exists() and not full:
            return removed  # the common case: the last write finished; nothing to read
        committed = {p.path for p in self.parts()} | self._aggregate_files()
        if self.journal_path.exists():
            try:
                journal = json.loads(self.journal_path.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                journal = {"write": [], "replace": []}
            written = list(journal.get("write", []))
            pattern = journal.get("write_glob")
            if pattern:
                written += [str(p.relative_to(self.root)) for p in self.root.glob(pattern)]
            compaction_done = bool(written or pattern) and all(w in committed for w in written)
            for rel in written:
                if rel not in committed:
                    removed += self._unlink(rel)
                removed += self._unlink(str(Path(rel).with_name(f".{Path(rel).name}.tmp")))
            if compaction_done:
                for rel in journal.get("replace", []):
                    if rel not in committed:
                        removed += self._unlink(rel)
            self.journal_path.unlink()
            _fsync_dir(self.root)
        if full:
            for folder in ("readings", "aggregates"):
                for path in (self.root / folder).rglob("*"):
                    rel = str(path.relative_to(self.root))
                    if path.is_file() and (path.name.endswith(".tmp") or rel not in committed):
                        removed += self._unlink(rel)
        return removed

    def _aggregate_files(self) -> set[str]:
        with contextlib.closing(self._connect()) as con:
            return {row[0] for row in con.execute("SELECT DISTINCT path FROM agg_parts")}

    def _unlink(self, rel: str) -> list[str]:
        path = self.root / rel
        if path.exists():
            path.unlink()
            return [rel]
        return []

    def _journal(self, write: list[str], replace: list[str], *, write_glob: str | None = None) -> None:
        data = json.dumps({"write": write, "replace": replace, "write_glob": write_glob}).encode()
        _durable_write_bytes(self.journal_path, data)

    def compact(self, *, enterprises: Iterable[str] | None = None, min_parts: int = 2,
                timeout: float | None = 60.0, timezone: str | None = DEFAULT_AGG_TIMEZONE) -> dict:
        """Merge the parts of each partition into one (content identical, row order canonical).

        Without ``enterprises``, also merge all aggregate files into one per month, summed by local day of
        ``timezone`` (see :meth:`_replace_aggregates`; ``None`` keeps UTC hours).

        Durable like a batch: the merged part is written and fsynced, then one ledger transaction swaps
        the part rows, then the replaced files are deleted (a crash in between is repaired by the journal).
        """
        merged = 0
        removed = 0
        with self.writer(timeout=timeout):
            groups: dict[tuple[str, str], list[PartInfo]] = {}
            for part in self.parts(enterprises=enterprises):
                groups.setdefault((part.month, part.enterprise_id), []).append(part)
            for (month, enterprise), parts in sorted(groups.items()):
                if len(parts) < min_parts:
                    continue
                table = pq.read_table([str(self.root / p.path) for p in parts], schema=SCHEMA)
                table = table.sort_by([("point_id", "ascending"), ("start", "ascending"),
                                       ("end", "ascending"), ("revision", "ascending")])
                batch_id = f"compact-{uuid.uuid4().hex[:12]}"
                rel = f"{partition_dir(month, enterprise)}/part-{batch_id}.parquet"
                old = [p.path for p in parts]
                self._journal([rel], old)
                self._write_part(rel, table)
                now = datetime.now(UTC).isoformat()
                with self._transaction() as con:
                    con.executemany("DELETE FROM parts WHERE path = ?", [(p,) for p in old])
                    con.execute("INSERT INTO parts VALUES (?,?,?,?,?,?,?,?,?)",
                                (rel, batch_id, month, enterprise, table.num_rows,
                                 sum(p.revised_rows for p in parts), min(p.min_start or "" for p in parts),
                                 max(p.max_end or "" for p in parts), now))
                for path in old:
                    self._unlink(path)
                self.journal_path.unlink()
                merged += 1
                removed += len(old)
            aggregates = self._replace_aggregates(self._aggregates_of_aggregates, timezone) \
                if enterprises is None and self.aggregates_current() else 0
        return {"partitions_compacted": merged, "parts_replaced": removed, "aggregate_files_replaced": aggregates}

    def rebuild_aggregates(self, *, timezone: str | None = DEFAULT_AGG_TIMEZONE,
                           timeout: float | None = 60.0) -> dict:
        """Recompute the aggregates from the readings (latest revisions), enterprise by enterprise, as daily sums
        in ``timezone`` (see :meth:`compact`).

        For a lake written before aggregates existed, or to check them: the rollup reads the aggregates only
        while they are current (``meta.aggregates``), and scans the readings otherwise.
        """
        with self.writer(timeout=timeout):
            replaced = self._replace_aggregates(self._aggregates_of_readings, timezone)
        return {"aggregate_files_replaced": replaced, "aggregate_files": len(self._aggregate_files()),
                "day_offset_minutes": self.aggregates_day_offset()}

    def aggregates_day_offset(self) -> int | None:
        """Minutes east of UTC of the local days the compacted aggregate files sum by (None: all files hourly)."""
        with contextlib.closing(self._connect()) as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'aggregates_day_offset'").fetchone()
        return None if row is None else int(row[0])

    def _aggregates_of_readings(self, con: object, enterprise: str) -> pa.Table:
        paths = self.part_paths(enterprises=[enterprise])
        if not paths:
            return _agg_empty()
        revised = sum(p.revised_rows for p in self.parts(enterprises=[enterprise]))
        source = "read_parquet($paths, hive_partitioning = false)"
        rows = f"SELECT point_id, enterprise_id, start, \"end\", revision, energy FROM {source}"
        if revised:
            rows += ' QUALIFY revision = max(revision) OVER (PARTITION BY point_id, "end")'
        return _agg_query(con, rows, {"paths": paths}, day_offset=con.day_offset)

    def _aggregates_of_aggregates(self, con: object, enterprise: str) -> pa.Table:
        paths = self.aggregate_paths(enterprises=[enterprise])
        if not paths:
            return _agg_empty()
        return _agg_query(con, "SELECT point_id, enterprise_id, hour AS start, energy, energy_n, readings "
                               "FROM read_parquet($paths, hive_partitioning = false) WHERE enterprise_id = $e",
                          {"paths": paths, "e": enterprise}, summed=True, day_offset=con.day_offset)

    def _replace_aggregates(self, build, timezone: str | None) -> int:
        """Write every enterprise's aggregates from ``build`` as one file per UTC month (all enterprises, sorted
        by enterprise and hour in row groups of :data:`AGG_ROW_GROUP` rows, so a reader of one enterprise skips
        the rest) and swap them for all aggregate files in one ledger transaction (under the writer lock;
        journaled). Few files matter: a query pays per file opened.

        With a ``timezone`` whose offset is a constant whole number of hours over the lake's months (Dalian's
        Asia/Shanghai), the files sum by local day instead of UTC hour: 24 times fewer rows for daily and
        monthly rollups in that time zone; hourly rollups, and rollups in another offset, then scan the readings
        (``meta.aggregates_day_offset`` says which). Batches written later add hourly files as usual; both kinds
        add up by local day.
        """
        from citycarbon.monitoring.aggregates import constant_offset_minutes

        months = [p.month for p in self.parts()]
        offset = constant_offset_minutes(timezone, min(months), max(months)) if timezone and months else None
        day_offset = offset if offset is not None and offset % 60 == 0 else None
        import duckdb

        from citycarbon.monitoring.aggregates import months_and_enterprises

        old = sorted(self._aggregate_files())
        batch_id = f"aggregate-{uuid.uuid4().hex[:12]}"
        name = f"agg-{batch_id}.parquet"
        # the new files' names are known only as they are made: the journal names them by pattern
        self._journal([], old, write_glob=f"aggregates/hour/*/{name}")
        enterprises = sorted(self.enterprises())
        con = _AggConnection(duckdb.connect(), day_offset)
        con.execute("SET TimeZone = 'UTC'")
        written: list[tuple[str, str, str, int]] = []
        pieces: dict[str, list[pa.Table]] = {}
        try:
            for enterprise in enterprises:  # per enterprise: a revision may move a reading to another month
                table = build(con, enterprise)
                for month, _ in months_and_enterprises(table):
                    lo = pd.Timestamp(f"{month}-01", tz="UTC")
                    hi = lo + pd.offsets.MonthBegin(1)
                    hours = table.column("hour")
                    mask = pc.and_(pc.greater_equal(hours, pa.scalar(lo, hours.type)),
                                   pc.less(hours, pa.scalar(hi, hours.type)))
                    pieces.setdefault(month, []).append(table.filter(mask))
        finally:
            con.close()
        for month, tables in sorted(pieces.items()):
            rel = f"aggregates/hour/month={month}/{name}"
            table = pa.concat_tables(tables)
            self._write_part(rel, table, row_group_size=AGG_ROW_GROUP)
            written += [(rel, month, str(t.column("enterprise_id")[0]), t.num_rows) for t in tables if t.num_rows]
        now = datetime.now(UTC).isoformat()
        with self._transaction() as con2:
            con2.execute("DELETE FROM agg_parts")
            con2.executemany("INSERT INTO agg_parts VALUES (?,?,?,?,?,?)",
                             [(rel, month, enterprise, batch_id, rows, now)
                              for rel, month, enterprise, rows in written])
            con2.execute("INSERT OR REPLACE INTO meta VALUES ('aggregates', ?)", (AGGREGATES_VERSION,))
            con2.execute("DELETE FROM meta WHERE key = 'aggregates_day_offset'")
            if day_offset is not None:
                con2.execute("INSERT INTO meta VALUES ('aggregates_day_offset', ?)", (str(day_offset),))
        for rel in old:
            self._unlink(rel)
        self.journal_path.unlink()
        return len(old)

    def _write_part(self, rel: str, table: pa.Table, row_group_size: int | None = None) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        # a table with Arrow dictionaries is written without its Arrow schema: the file holds plain UTF-8
        # strings and every reader gets plain strings, as from SCHEMA (see _PartColumns)
        options = _READINGS_WRITE_OPTIONS if table.schema.names == list(COLUMNS) else {}
        if row_group_size is not None:
            options = {**options, "row_group_size": row_group_size}
        # an Arrow-native file, not a Python file object: pyarrow would take the GIL for every write into a
        # Python handle, and the writer threads and the batch being built would keep taking it from each other
        with pa.OSFile(str(tmp), mode="wb") as sink:
            pq.write_table(table, sink, compression="snappy", **options,
                           store_schema=not any(pa.types.is_dictionary(f.type) for f in table.schema))
        descriptor = os.open(tmp, os.O_RDONLY)
        try:  # fsync flushes the file's data whichever descriptor asks
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    # ---- reading -------------------------------------------------------------------------------------

    def read(self, **kwargs: object) -> pd.DataFrame:
        return read_readings(self, **kwargs)  # type: ignore[arg-type]


class LakeWriter:
    """Writes batches while its :meth:`Lake.writer` block holds the lock."""

    def __init__(self, lake: Lake):
        self.lake = lake

    def stored(self, enterprise_months: Iterable[tuple[str, str]], point_ids: Iterable[str],
               columns: tuple[str, ...] = ("point_id", "start", "end", "revision", "value_raw", "unit_raw",
                                           "energy", "energy_flag"),
               starts: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
        """All stored revisions of ``point_ids`` in the given (enterprise, month) partitions (with ``starts``:
        only rows whose start lies in ``[first, last]``; parts outside that range are not opened)."""
        wanted = set(enterprise_months)
        if not wanted:
            return _empty(columns)
        enterprises = {e for e, _ in wanted}
        bounds = None if starts is None else (_iso(starts[0]), _iso(starts[1]))
        paths = [str(self.lake.root / p.path) for p in self.lake.parts(enterprises=enterprises, starts=bounds)
                 if (p.enterprise_id, p.month) in wanted]
        return _read_points(paths, point_ids, columns, starts)

    def _aggregate(self, frame: pd.DataFrame, batch_id: str):
        return _aggregate_rows(self, frame, batch_id)

    def stored_all_months(self, enterprises: Iterable[str], point_ids: Iterable[str],
                          columns: tuple[str, ...]) -> pd.DataFrame:
        paths = self.lake.part_paths(enterprises=enterprises)
        return _read_points(paths, point_ids, columns)

    def commit(self, frame: pd.DataFrame, *, batch_id: str, source: str, enterprise_id: str | None,
               client_batch_id: str | None, counts: dict[str, int]) -> list[PartInfo]:
        """Write ``frame`` (lake columns) as parts per (month, enterprise) and commit them with the batch.

        Returns the committed parts. The batch row is committed even when ``frame`` is empty, so the
        ledger records every acknowledged batch.
        """
        parts: list[tuple[PartInfo, pa.Table]] = []
        now = datetime.now(UTC).isoformat()
        aggregate = None
        if len(frame):
            month_number = _utc_month_numbers(frame["start"])
            enterprise_codes, enterprise_ids = pd.factorize(frame["enterprise_id"])
            group = month_number * (len(enterprise_ids) + 1) + enterprise_codes
            order = np.argsort(group, kind="stable")
            # converted once and put in partition order once; each part is then a slice (text as dictionary
            # codes: no string is copied)
            columns = _PartColumns(frame).reorder(order)
            sorted_groups = group[order]
            bounds = np.flatnonzero(np.diff(sorted_groups)) + 1
            starts = np.concatenate([[0], bounds])
            stops = np.concatenate([bounds, [len(order)]])
            revised = frame["revision"].to_numpy()[order] > 0
            places = []
            for n, lo in enumerate(starts):
                number, code = divmod(int(sorted_groups[lo]), len(enterprise_ids) + 1)
                month = f"{number // 100:04d}-{number % 100:02d}"
                enterprise = str(enterprise_ids[code])
                places.append((f"{partition_dir(month, enterprise)}/part-{batch_id}-{n}.parquet", month, enterprise))
            # the journal names every file first (aggregate included); then each part is handed to the writers as
            # soon as it is built, so building the next overlaps encoding and fsyncing the previous ones
            self.lake._journal([rel for rel, _, _ in places] + [_aggregate_rel(batch_id)], [])
            pool = _writer_pool()
            writes: list = []
            try:
                for (rel, month, enterprise), lo, hi in zip(places, starts, stops, strict=True):
                    table = columns.table(slice(int(lo), int(hi)))
                    times = table.column("start")
                    info = PartInfo(rel, batch_id, month, enterprise, int(hi - lo), int(revised[lo:hi].sum()),
                                    _iso(pc.min(times).as_py()), _iso(pc.max(table.column("end")).as_py()))
                    parts.append((info, table))
                    writes.append(pool.submit(self.lake._write_part, rel, table))
                # the hourly aggregate is computed while the writers encode and fsync the parts (they release
                # the GIL); written, fsynced and committed with them (same journal, same transaction)
                aggregate = self._aggregate(frame, batch_id)
                if aggregate is not None:
                    parts.append((PartInfo(aggregate[0], batch_id, "", "", aggregate[1].num_rows, 0, None, None),
                                  aggregate[1]))
                    writes.append(pool.submit(self.lake._write_part, aggregate[0], aggregate[1]))
                for write in writes:  # the ledger commit below waits for all of them; a failed write raises
                    write.result()
            finally:  # never leave a write running past this batch (a failure above must not race the journal)
                futures_wait(writes)
        with self.lake._transaction() as con:
            con.execute("INSERT INTO batches VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (batch_id, source, enterprise_id, client_batch_id, counts.get("rows_in", 0),
                         counts.get("accepted", 0), counts.get("duplicate", 0), counts.get("revised", 0),
                         counts.get("rejected", 0), now))
            if aggregate is not None:
                parts = [(p, t) for p, t in parts if p.path != aggregate[0]]
                con.executemany("INSERT INTO agg_parts VALUES (?,?,?,?,?,?)",
                                [(aggregate[0], month, enterprise, batch_id, aggregate[1].num_rows, now)
                                 for month, enterprise in aggregate[2]])
            con.executemany("INSERT INTO parts VALUES (?,?,?,?,?,?,?,?,?)",
                            [(p.path, p.batch_id, p.month, p.enterprise_id, p.rows, p.revised_rows,
                              p.min_start, p.max_end, now) for p, _ in parts])
        if parts:
            self.lake.journal_path.unlink()
        return [p for p, _ in parts]


def _aggregate_rows(writer: LakeWriter, frame: pd.DataFrame, batch_id: str
                    ) -> tuple[str, pa.Table, list[tuple[str, str]]] | None:
    """The hourly aggregate file of a batch: its path, table and (month, enterprise) index rows (None if empty).

    Stored rows that a written row may supersede (same point and interval end) are read only for rows with a
    revision above 0, and only from parts the ledger says may hold their ends. A revision 0 has no stored row
    of its key: ingest numbers a cumulative read by its ``(point, end)`` and an interval reading by its
    ``(point, start, end)``, and every interval reading of a point has the point's interval length (validated).
    (Were a point's ``interval_minutes`` changed in the registry while revised readings of the old length
    exist, ``rebuild-aggregates`` recomputes the sums from the readings.)
    """
    from citycarbon.monitoring.aggregates import contributions, hourly, months_and_enterprises

    stored = None
    revised = frame[frame["revision"].to_numpy() > 0]
    ends = revised["end"]
    bounds = (_iso(ends.min()), _iso(ends.max()))
    enterprises = frame["enterprise_id"].unique()  # a categorical's labels, not a string per row
    candidates = writer.lake.parts(enterprises=[str(e) for e in enterprises], ends=bounds) if len(revised) else []
    if candidates:
        ids = pd.unique(revised["point_id"].to_numpy(object))
        table = pq.read_table([str(writer.lake.root / p.path) for p in candidates],
                              columns=["point_id", "enterprise_id", "start", "end", "revision", "energy"],
                              filters=[("point_id", "in", [str(i) for i in ids]),
                                       ("end", ">=", ends.min()), ("end", "<=", ends.max())], schema=SCHEMA)
        stored = _to_pandas(table)
        if len(stored):
            keys = revised[["point_id", "end"]].drop_duplicates()
            keys = keys.assign(point_id=keys["point_id"].astype(str))
            stored = stored.merge(keys, on=["point_id", "end"], how="inner")
    if stored is not None and len(stored):  # plain text keys on both sides of the joins
        frame = frame.assign(point_id=frame["point_id"].astype(str))
    table = hourly(contributions(frame, stored))
    if table.num_rows == 0:
        return None
    return _aggregate_rel(batch_id), table, months_and_enterprises(table)


def _aggregate_rel(batch_id: str) -> str:
    return f"aggregates/hour/batches/agg-{batch_id}.parquet"


def _partition_filter(enterprises: Iterable[str] | None, months: tuple[str | None, str | None] | None
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


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _writer_pool() -> ThreadPoolExecutor:
    """This process's part writers (kept: starting a dozen threads per batch cost ~0.2 s per million rows).

    Parts are independent files, so they are encoded and fsynced concurrently (Parquet encoding and I/O release
    the GIL); one pool per process id, as a forked child has none of its parent's threads."""
    pid = os.getpid()
    with _POOLS_LOCK:
        pool = _POOLS.get(pid)
        if pool is None:
            pool = _POOLS[pid] = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lake-writer")
        return pool


class _SqliteConnection:
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

    def __enter__(self) -> _SqliteConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _close_sqlite(connections: dict) -> None:
    pid = os.getpid()
    for (owner, _thread), con in list(connections.items()):
        if owner == pid:
            with contextlib.suppress(Exception):
                con.raw.close()
    connections.clear()


class _PgLedger:
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
        weakref.finalize(self, _close_all, self._open)

    @staticmethod
    def errors() -> type[Exception]:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a dependency
            return sqlite3.Error
        return psycopg.Error

    def connect(self) -> _PgConnection:
        con = getattr(self._local, "con", None)
        if con is None or con.raw.closed or con.raw.broken:
            import psycopg

            raw = psycopg.connect(self.dsn, autocommit=True)
            self._open.append(raw)
            raw.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            raw.execute(f'SET search_path TO "{self.schema}"')
            con = self._local.con = _PgConnection(raw)
        return con


def _close_all(connections: list) -> None:
    for raw in connections:
        with contextlib.suppress(Exception):
            raw.close()
    connections.clear()


class _PgConnection:
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


class _AggConnection:
    """A DuckDB connection that also carries the day offset the aggregate builders bucket by."""

    def __init__(self, con, day_offset: int | None):
        self._con, self.day_offset = con, day_offset

    def execute(self, *args: object):
        return self._con.execute(*args)

    def close(self) -> None:
        self._con.close()


def _agg_empty() -> pa.Table:
    from citycarbon.monitoring.aggregates import AGG_SCHEMA

    return AGG_SCHEMA.empty_table()


def _agg_query(con, rows_sql: str, params: dict, *, summed: bool = False, day_offset: int | None = None
               ) -> pa.Table:
    """Sums of ``rows_sql`` (readings, or aggregate rows when ``summed``) per point and UTC hour of ``start`` —
    or, with ``day_offset`` (minutes east of UTC), per local day, the bucket named by its local midnight as a
    UTC instant — as an aggregate table sorted like :func:`citycarbon.monitoring.aggregates.hourly`; rows
    netting to nothing dropped."""
    from citycarbon.monitoring.aggregates import AGG_SCHEMA, DAY_US, HOUR_US

    if summed:
        measures = "sum(energy) AS energy, sum(energy_n) AS energy_n, sum(readings) AS readings"
        having = "HAVING sum(readings) <> 0 OR sum(energy) <> 0 "
    else:
        measures = "coalesce(sum(energy), 0) AS energy, count(energy) AS energy_n, count(*) AS readings"
        having = ""
    if day_offset is None:
        bucket = f"epoch_us(start) // {HOUR_US} * {HOUR_US}"
    else:
        shift = day_offset * 60_000_000
        bucket = f"(epoch_us(start) + {shift}) // {DAY_US} * {DAY_US} - {shift}"
    sql = (f"SELECT point_id, enterprise_id, make_timestamp({bucket}) AS hour, {measures} FROM ({rows_sql}) "
           f"GROUP BY ALL {having}ORDER BY enterprise_id, hour, point_id")
    table = con.execute(sql, params).to_arrow_table()
    return pa.table({name: table.column(name).cast(AGG_SCHEMA.field(name).type) for name in AGG_SCHEMA.names},
                    schema=AGG_SCHEMA)


def _empty(columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    return SCHEMA.empty_table().select(list(columns)).to_pandas()


def _read_points(paths: list[str], point_ids: Iterable[str], columns: tuple[str, ...],
                 starts: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    if not paths:
        return _empty(columns)
    ids = sorted({str(p) for p in point_ids})
    filters: list[tuple] = [("point_id", "in", ids)]
    if starts is not None:
        filters += [("start", ">=", starts[0]), ("start", "<=", starts[1])]
    table = pq.read_table(paths, columns=list(columns), filters=filters, schema=SCHEMA)
    return _to_pandas(table)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for column in ("start", "end", "received_at"):
        if column in frame.columns:
            frame[column] = frame[column].astype("datetime64[ns, UTC]")
    return frame


def _month(value: object) -> str | None:
    if value is None:
        return None
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m") if pd.Timestamp(value).tzinfo else \
        pd.Timestamp(value).strftime("%Y-%m")


def _utc(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return ts.tz_convert("UTC")


def read_readings(lake_dir: str | Path | Lake | None = None, *, enterprise: str | Iterable[str] | None = None,
                  start: object = None, end: object = None, points: Iterable[str] | None = None,
                  latest_revision_only: bool = True, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Readings from the lake via DuckDB (``read_parquet(..., hive_partitioning=true)``), sorted by key.

    ``start``/``end`` (tz-aware) select rows with ``start >= start`` and ``start < end``; partitions outside
    that month range and other enterprises' partitions are never opened (the ledger lists them), and the
    remaining filters are pushed into the Parquet scan. ``latest_revision_only`` keeps, for each point and
    interval end, only the highest revision (a revised cumulative read may move its ``start``).
    """
    import duckdb

    lake = lake_dir if isinstance(lake_dir, Lake) else Lake(lake_dir)
    lo, hi = _utc(start), _utc(end)
    enterprises = [enterprise] if isinstance(enterprise, str) else (list(enterprise) if enterprise else None)
    month_lo = _month(lo)
    month_hi = _month(hi - pd.Timedelta(microseconds=1)) if hi is not None else None
    paths = lake.part_paths(enterprises=enterprises, months=(month_lo, month_hi))
    wanted = list(columns) if columns is not None else list(COLUMNS)
    if not paths:
        return _empty([c for c in COLUMNS if c in wanted])
    where = ["TRUE"]
    args: list[object] = []
    if lo is not None:
        where.append("start >= ?::TIMESTAMPTZ")  # ISO text: DuckDB's tz-aware datetime binding imports pytz
        args.append(lo.isoformat())
    if hi is not None:
        where.append("start < ?::TIMESTAMPTZ")
        args.append(hi.isoformat())
    if enterprises is not None:
        where.append(f"enterprise_id IN ({','.join('?' * len(enterprises))})")
        args.extend(enterprises)
    if points is not None:
        ids = sorted({str(p) for p in points})
        if not ids:
            return _empty([c for c in COLUMNS if c in wanted])
        where.append(f"point_id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    select = ", ".join(f'"{c}"' for c in COLUMNS if c in wanted)
    source = "read_parquet(?, hive_partitioning = true, hive_types_autocast = false)"
    if latest_revision_only:
        sql = (f"SELECT {select} FROM {source} WHERE {' AND '.join(where)} "
               'QUALIFY revision = max(revision) OVER (PARTITION BY point_id, "end") '
               'ORDER BY point_id, start, "end", revision')
    else:
        sql = f'SELECT {select} FROM {source} WHERE {" AND ".join(where)} ORDER BY point_id, start, "end", revision'
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        table = con.execute(sql, [paths, *args]).to_arrow_table()
    finally:
        con.close()
    return _to_pandas(table)


def content_frame(lake: Lake | str | Path, *, latest_revision_only: bool = False) -> pd.DataFrame:
    """The lake's content without ingest bookkeeping (batch ids, receive times), canonically sorted.

    Two lakes with the same ``content_frame`` hold the same readings, revisions and energies: this is the
    equivalence the idempotency tests compare.
    """
    frame = read_readings(lake, latest_revision_only=latest_revision_only)
    keep = ["point_id", "enterprise_id", "start", "end", "revision", "value_raw", "unit_raw", "energy",
            "energy_unit", "energy_flag"]
    return frame[keep].sort_values(["point_id", "start", "end", "revision"]).reset_index(drop=True)


def unquote_enterprise(name: str) -> str:
    """The enterprise id of a partition directory name ``enterprise=<quoted id>``."""
    return unquote(name.split("=", 1)[1]) if "=" in name else unquote(name)

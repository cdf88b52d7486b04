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
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
)


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


class Lake:
    """A meter lake rooted at ``root`` (created on first use). Cheap to construct; thread-safe for readers."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_lake_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "readings").mkdir(exist_ok=True)
        self.ledger_path = self.root / "ledger.sqlite"
        self.lock_path = self.root / "writer.lock"
        self.journal_path = self.root / "journal.json"
        with contextlib.closing(self._connect()) as con:
            for statement in _LEDGER_DDL:
                con.execute(statement)
            con.execute("INSERT OR IGNORE INTO meta VALUES ('layout', 'month=UTC month of start; v1')")
            con.commit()

    # ---- ledger --------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.ledger_path, timeout=60, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        return con

    def parts(self, *, enterprises: Iterable[str] | None = None,
              months: tuple[str | None, str | None] | None = None,
              starts: tuple[str, str] | None = None) -> list[PartInfo]:
        """Committed parts, optionally only those of ``enterprises``, of months in ``[lo, hi]``, and (``starts``,
        ISO UTC texts) holding interval starts in ``[first, last]`` by the ledger's min/max columns."""
        sql = "SELECT path, batch_id, month, enterprise_id, rows, revised_rows, min_start, max_end FROM parts"
        where: list[str] = []
        args: list[object] = []
        if enterprises is not None:
            ids = sorted({str(e) for e in enterprises})
            if not ids:
                return []
            where.append(f"enterprise_id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        if months is not None:
            lo, hi = months
            if lo is not None:
                where.append("month >= ?")
                args.append(lo)
            if hi is not None:
                where.append("month <= ?")
                args.append(hi)
        if starts is not None:  # ISO texts in UTC with one format compare like the times they name
            where.append("(min_start IS NULL OR min_start <= ?) AND (max_end IS NULL OR max_end > ?)")
            args.extend([starts[1], starts[0]])
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY path"
        with contextlib.closing(self._connect()) as con:
            return [PartInfo(*row) for row in con.execute(sql, args).fetchall()]

    def part_paths(self, **filters: object) -> list[str]:
        """Absolute paths of the committed parts matching ``filters`` (see :meth:`parts`)."""
        return [str(self.root / part.path) for part in self.parts(**filters)]  # type: ignore[arg-type]

    def enterprises(self) -> set[str]:
        """Enterprise ids with at least one committed part."""
        with contextlib.closing(self._connect()) as con:
            return {row[0] for row in con.execute("SELECT DISTINCT enterprise_id FROM parts")}

    def batches(self) -> pd.DataFrame:
        with contextlib.closing(self._connect()) as con:
            return pd.read_sql_query("SELECT * FROM batches ORDER BY committed_at, batch_id", con)

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
        committed = {p.path for p in self.parts()}
        if self.journal_path.exists():
            try:
                journal = json.loads(self.journal_path.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                journal = {"write": [], "replace": []}
            written = journal.get("write", [])
            compaction_done = bool(written) and all(w in committed for w in written)
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
            for path in (self.root / "readings").rglob("*"):
                rel = str(path.relative_to(self.root))
                if path.is_file() and (path.name.endswith(".tmp") or rel not in committed):
                    removed += self._unlink(rel)
        return removed

    def _unlink(self, rel: str) -> list[str]:
        path = self.root / rel
        if path.exists():
            path.unlink()
            return [rel]
        return []

    def _journal(self, write: list[str], replace: list[str]) -> None:
        data = json.dumps({"write": write, "replace": replace}).encode()
        _durable_write_bytes(self.journal_path, data)

    def compact(self, *, enterprises: Iterable[str] | None = None, min_parts: int = 2,
                timeout: float | None = 60.0) -> dict:
        """Merge the parts of each partition into one (content identical, row order canonical).

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
                con = self._connect()
                try:
                    con.execute("BEGIN IMMEDIATE")
                    con.executemany("DELETE FROM parts WHERE path = ?", [(p,) for p in old])
                    con.execute("INSERT INTO parts VALUES (?,?,?,?,?,?,?,?,?)",
                                (rel, batch_id, month, enterprise, table.num_rows,
                                 sum(p.revised_rows for p in parts), min(p.min_start or "" for p in parts),
                                 max(p.max_end or "" for p in parts), now))
                    con.execute("COMMIT")
                finally:
                    con.close()
                for path in old:
                    self._unlink(path)
                self.journal_path.unlink()
                merged += 1
                removed += len(old)
        return {"partitions_compacted": merged, "parts_replaced": removed}

    def _write_part(self, rel: str, table: pa.Table) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as handle:
            pq.write_table(table, handle, compression="snappy")
            handle.flush()
            os.fsync(handle.fileno())
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
        if len(frame):
            start = frame["start"].dt.tz_convert("UTC")
            month_number = start.dt.year.to_numpy() * 100 + start.dt.month.to_numpy()
            enterprise_codes, enterprise_ids = pd.factorize(frame["enterprise_id"].to_numpy(object))
            group = month_number.astype("int64") * (len(enterprise_ids) + 1) + enterprise_codes
            order = np.argsort(group, kind="stable")
            whole = pa.Table.from_pandas(frame[list(COLUMNS)], schema=SCHEMA, preserve_index=False).take(order)
            sorted_groups = group[order]
            bounds = np.flatnonzero(np.diff(sorted_groups)) + 1
            starts = np.concatenate([[0], bounds])
            stops = np.concatenate([bounds, [len(order)]])
            revised = frame["revision"].to_numpy()[order] > 0
            for n, (lo, hi) in enumerate(zip(starts, stops, strict=True)):
                number, code = divmod(int(sorted_groups[lo]), len(enterprise_ids) + 1)
                month = f"{number // 100:04d}-{number % 100:02d}"
                enterprise = str(enterprise_ids[code])
                rel = f"{partition_dir(month, enterprise)}/part-{batch_id}-{n}.parquet"
                table = whole.slice(int(lo), int(hi - lo))
                times = table.column("start")
                info = PartInfo(rel, batch_id, month, enterprise, int(hi - lo), int(revised[lo:hi].sum()),
                                _iso(pc.min(times).as_py()), _iso(pc.max(table.column("end")).as_py()))
                parts.append((info, table))
            self.lake._journal([p.path for p, _ in parts], [])
            # parts are independent files: write and fsync them concurrently (I/O and Parquet encoding
            # release the GIL); the ledger commit below waits for all of them
            if len(parts) == 1:
                self.lake._write_part(parts[0][0].path, parts[0][1])
            else:
                with ThreadPoolExecutor(max_workers=min(8, len(parts))) as pool:
                    list(pool.map(lambda item: self.lake._write_part(item[0].path, item[1]), parts))
        con = self.lake._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO batches VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (batch_id, source, enterprise_id, client_batch_id, counts.get("rows_in", 0),
                         counts.get("accepted", 0), counts.get("duplicate", 0), counts.get("revised", 0),
                         counts.get("rejected", 0), now))
            con.executemany("INSERT INTO parts VALUES (?,?,?,?,?,?,?,?,?)",
                            [(p.path, p.batch_id, p.month, p.enterprise_id, p.rows, p.revised_rows,
                              p.min_start, p.max_end, now) for p, _ in parts])
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        if parts:
            self.lake.journal_path.unlink()
        return [p for p, _ in parts]


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

"""The :class:`Lake` (one root, one ledger, one writer at a time) and its :class:`LakeWriter`."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from citycarbon.monitoring.lake.aggregates import (
    AGG_ROW_GROUP,
    DEFAULT_AGG_TIMEZONE,
    AggConnection,
    agg_empty,
    agg_query,
    aggregate_rel,
    aggregate_rows,
)
from citycarbon.monitoring.lake.encoding import (
    COLUMNS,
    READINGS_WRITE_OPTIONS,
    SCHEMA,
    PartColumns,
    empty_frame,
    iso_text,
    partition_dir,
    read_points,
    utc_month_numbers,
)
from citycarbon.monitoring.lake.journal import durable_write_bytes, fsync_dir
from citycarbon.monitoring.lake.ledger import AGGREGATES_VERSION, Ledger


class LakeBusy(RuntimeError):
    """Another process holds the lake's writer lock (and did not release it within the timeout)."""


def default_lake_dir() -> Path:
    """``$CITYCARBON_LAKE_DIR`` or ``$CITYCARBON_HOME/lake`` (see :mod:`citycarbon.settings`)."""
    from citycarbon.settings import get_settings

    return get_settings().lake_dir




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
    """A meter lake rooted at ``root``; thread-safe for readers. Get one with :meth:`open` (or
    :meth:`for_settings`): the constructor does no I/O, so ``Lake(root)`` only names a lake that exists."""

    def __init__(self, root: str | Path | None = None, *, ledger_url: str | None = None,
                 ledger_schema: str = "lake"):
        """``ledger_url``: a PostgreSQL URL (``postgresql[+psycopg]://…``) to keep the ledger in that database's
        ``ledger_schema`` (production: the application database); None keeps it in ``ledger.sqlite`` beside
        the files (the embedded default). The Parquet files live under ``root`` either way."""
        self.root = Path(root) if root is not None else default_lake_dir()
        self.ledger_url = ledger_url
        self.ledger_path = self.root / "ledger.sqlite"
        self.lock_path = self.root / "writer.lock"
        self.journal_path = self.root / "journal.json"
        self.ledger = Ledger(ledger_url, self.ledger_path, ledger_schema)

    @classmethod
    def open(cls, root: str | Path | None = None, *, ledger_url: str | None = None,
             ledger_schema: str = "lake") -> Lake:
        """Open the lake at ``root`` (default :func:`default_lake_dir`), creating its folders and ledger tables
        on first use (idempotent)."""
        lake = cls(root, ledger_url=ledger_url, ledger_schema=ledger_schema)
        lake.root.mkdir(parents=True, exist_ok=True)
        (lake.root / "readings").mkdir(exist_ok=True)
        lake.ledger.create()
        return lake

    @classmethod
    def for_settings(cls, settings) -> Lake:
        """The lake of a deployment: files in ``settings.lake_dir``, ledger per ``settings.lake_ledger_url``
        (one object per process and place: it holds the ledger connections)."""
        key = (str(Path(settings.lake_dir).resolve()), settings.lake_ledger_url)
        with _LAKES_LOCK:
            lake = _LAKES.get(key)
            if lake is None or not lake.root.exists():
                lake = _LAKES[key] = cls.open(settings.lake_dir, ledger_url=settings.lake_ledger_url)
            return lake

    @staticmethod
    def present(settings) -> bool:
        """Whether the deployment has a lake yet (without creating one)."""
        return bool(settings.lake_ledger_url) or (Path(settings.lake_dir) / "ledger.sqlite").exists()

    def version(self) -> tuple:
        """A cheap token that changes whenever a batch, compaction or rebuild commits (for caches)."""
        if self.ledger.dialect == "sqlite":
            stamps = []
            for name in ("ledger.sqlite", "ledger.sqlite-wal"):
                try:
                    stat = (self.root / name).stat()
                    stamps.append((stat.st_mtime_ns, stat.st_size))
                except OSError:
                    stamps.append((0, 0))
            return tuple(stamps)
        return self.ledger.version()

    # ---- ledger --------------------------------------------------------------------------------------

    def _transaction(self) -> contextlib.AbstractContextManager:
        """One ledger write transaction (``BEGIN`` — SQLite: ``BEGIN IMMEDIATE`` — … ``COMMIT``); any failure
        rolls it back, so a pooled connection is never left inside an open transaction."""
        return self.ledger.transaction()

    def parts(self, *, enterprises: Iterable[str] | None = None,
              months: tuple[str | None, str | None] | None = None,
              starts: tuple[str, str] | None = None, ends: tuple[str, str] | None = None) -> list[PartInfo]:
        """Committed parts, optionally only those of ``enterprises``, of months in ``[lo, hi]``, and (``starts``,
        ISO UTC texts) holding interval starts in ``[first, last]`` by the ledger's min/max columns; ``ends``:
        parts that may hold interval ends in ``[first, last]``."""
        return [PartInfo(*row) for row in self.ledger.parts(enterprises, months, starts, ends)]

    def part_paths(self, **filters: object) -> list[str]:
        """Absolute paths of the committed parts matching ``filters`` (see :meth:`parts`)."""
        root = str(self.root)  # plain text joins: pathlib costs ~40 µs a path
        return [f"{root}/{part.path}" for part in self.parts(**filters)]  # type: ignore[arg-type]

    def aggregates_current(self) -> bool:
        """Whether the hourly aggregates cover every committed part (see :mod:`citycarbon.monitoring.aggregates`)."""
        return self.ledger.meta_value("aggregates") == AGGREGATES_VERSION

    def aggregate_paths(self, *, enterprises: Iterable[str] | None = None,
                        months: tuple[str | None, str | None] | None = None) -> list[str]:
        """Absolute paths of the aggregate files holding rows of ``enterprises`` in months ``[lo, hi]``."""
        return [str(self.root / path) for path in self.ledger.aggregate_paths(enterprises, months)]

    def enterprises(self) -> set[str]:
        """Enterprise ids with at least one committed part."""
        return self.ledger.enterprises()

    def batches(self) -> pd.DataFrame:
        columns, rows = self.ledger.batches()
        return pd.DataFrame(rows, columns=columns)

    def info(self) -> dict:
        """Counts for ``citycarbon monitoring lake-info``."""
        counts = self.ledger.counts()
        months = counts["months"]
        size = sum(p.stat().st_size for p in (self.root / "readings").rglob("*.parquet"))
        return {"lake_dir": str(self.root), "batches": counts["batches"], "parts": counts["parts"],
                "rows": counts["rows"], "revised_rows": counts["revised_rows"], "enterprises": counts["enterprises"],
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
            fsync_dir(self.root)
        if full:
            for folder in ("readings", "aggregates"):
                for path in (self.root / folder).rglob("*"):
                    rel = str(path.relative_to(self.root))
                    if path.is_file() and (path.name.endswith(".tmp") or rel not in committed):
                        removed += self._unlink(rel)
        return removed

    def _aggregate_files(self) -> set[str]:
        return set(self.ledger.aggregate_paths())

    def _unlink(self, rel: str) -> list[str]:
        path = self.root / rel
        if path.exists():
            path.unlink()
            return [rel]
        return []

    def _journal(self, write: list[str], replace: list[str], *, write_glob: str | None = None) -> None:
        data = json.dumps({"write": write, "replace": replace, "write_glob": write_glob}).encode()
        durable_write_bytes(self.journal_path, data)

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
                self.ledger.replace_parts(old, {
                    "path": rel, "batch_id": batch_id, "month": month, "enterprise_id": enterprise,
                    "rows": table.num_rows, "revised_rows": sum(p.revised_rows for p in parts),
                    "min_start": min(p.min_start or "" for p in parts), "max_end": max(p.max_end or "" for p in parts),
                    "committed_at": now})
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
        value = self.ledger.meta_value("aggregates_day_offset")
        return None if value is None else int(value)

    def _aggregates_of_readings(self, con: object, enterprise: str) -> pa.Table:
        paths = self.part_paths(enterprises=[enterprise])
        if not paths:
            return agg_empty()
        revised = sum(p.revised_rows for p in self.parts(enterprises=[enterprise]))
        source = "read_parquet($paths, hive_partitioning = false)"
        rows = f"SELECT point_id, enterprise_id, start, \"end\", revision, energy FROM {source}"
        if revised:
            rows += ' QUALIFY revision = max(revision) OVER (PARTITION BY point_id, "end")'
        return agg_query(con, rows, {"paths": paths}, day_offset=con.day_offset)

    def _aggregates_of_aggregates(self, con: object, enterprise: str) -> pa.Table:
        paths = self.aggregate_paths(enterprises=[enterprise])
        if not paths:
            return agg_empty()
        return agg_query(con, "SELECT point_id, enterprise_id, hour AS start, energy, energy_n, readings "
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
        con = AggConnection(duckdb.connect(), day_offset)
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
        self.ledger.replace_aggregates(
            [{"path": rel, "month": month, "enterprise_id": enterprise, "batch_id": batch_id, "rows": rows,
              "committed_at": now} for rel, month, enterprise, rows in written], day_offset)
        for rel in old:
            self._unlink(rel)
        self.journal_path.unlink()
        return len(old)

    def _write_part(self, rel: str, table: pa.Table, row_group_size: int | None = None) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        # a table with Arrow dictionaries is written without its Arrow schema: the file holds plain UTF-8
        # strings and every reader gets plain strings, as from SCHEMA (see PartColumns)
        options = READINGS_WRITE_OPTIONS if table.schema.names == list(COLUMNS) else {}
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
        fsync_dir(path.parent)

    # ---- reading -------------------------------------------------------------------------------------

    def read(self, **kwargs: object) -> pd.DataFrame:
        from citycarbon.monitoring.lake.reads import read_readings

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
            return empty_frame(columns)
        enterprises = {e for e, _ in wanted}
        bounds = None if starts is None else (iso_text(starts[0]), iso_text(starts[1]))
        paths = [str(self.lake.root / p.path) for p in self.lake.parts(enterprises=enterprises, starts=bounds)
                 if (p.enterprise_id, p.month) in wanted]
        return read_points(paths, point_ids, columns, starts)

    def _aggregate(self, frame: pd.DataFrame, batch_id: str):
        return aggregate_rows(self, frame, batch_id)

    def stored_all_months(self, enterprises: Iterable[str], point_ids: Iterable[str],
                          columns: tuple[str, ...]) -> pd.DataFrame:
        paths = self.lake.part_paths(enterprises=enterprises)
        return read_points(paths, point_ids, columns)

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
            month_number = utc_month_numbers(frame["start"])
            enterprise_codes, enterprise_ids = pd.factorize(frame["enterprise_id"])
            group = month_number * (len(enterprise_ids) + 1) + enterprise_codes
            order = np.argsort(group, kind="stable")
            # converted once and put in partition order once; each part is then a slice (text as dictionary
            # codes: no string is copied)
            columns = PartColumns(frame).reorder(order)
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
            self.lake._journal([rel for rel, _, _ in places] + [aggregate_rel(batch_id)], [])
            pool = _writer_pool()
            writes: list = []
            try:
                for (rel, month, enterprise), lo, hi in zip(places, starts, stops, strict=True):
                    table = columns.table(slice(int(lo), int(hi)))
                    times = table.column("start")
                    info = PartInfo(rel, batch_id, month, enterprise, int(hi - lo), int(revised[lo:hi].sum()),
                                    iso_text(pc.min(times).as_py()), iso_text(pc.max(table.column("end")).as_py()))
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
        agg_rows: list[dict] = []
        if aggregate is not None:
            parts = [(p, t) for p, t in parts if p.path != aggregate[0]]
            agg_rows = [{"path": aggregate[0], "month": month, "enterprise_id": enterprise, "batch_id": batch_id,
                         "rows": aggregate[1].num_rows, "committed_at": now} for month, enterprise in aggregate[2]]
        self.lake.ledger.commit_batch(
            {"batch_id": batch_id, "source": source, "enterprise_id": enterprise_id, "client_batch_id": client_batch_id,
             **{name: counts.get(name, 0) for name in ("rows_in", "accepted", "duplicate", "revised", "rejected")},
             "committed_at": now},
            [{"path": p.path, "batch_id": p.batch_id, "month": p.month, "enterprise_id": p.enterprise_id,
              "rows": p.rows, "revised_rows": p.revised_rows, "min_start": p.min_start, "max_end": p.max_end,
              "committed_at": now} for p, _ in parts],
            agg_rows)
        if parts:
            self.lake.journal_path.unlink()
        return [p for p, _ in parts]



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

"""Reading the lake: readings by enterprise, point and time window through DuckDB over the parts the ledger
holds (other enterprises' and months' partitions are never opened)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from citycarbon.monitoring.lake.core import Lake
from citycarbon.monitoring.lake.encoding import COLUMNS, empty_frame, to_pandas


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

    lake = lake_dir if isinstance(lake_dir, Lake) else Lake.open(lake_dir)
    lo, hi = _utc(start), _utc(end)
    enterprises = [enterprise] if isinstance(enterprise, str) else (list(enterprise) if enterprise else None)
    month_lo = _month(lo)
    month_hi = _month(hi - pd.Timedelta(microseconds=1)) if hi is not None else None
    paths = lake.part_paths(enterprises=enterprises, months=(month_lo, month_hi))
    wanted = list(columns) if columns is not None else list(COLUMNS)
    if not paths:
        return empty_frame([c for c in COLUMNS if c in wanted])
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
            return empty_frame([c for c in COLUMNS if c in wanted])
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
    return to_pandas(table)


def content_frame(lake: Lake | str | Path, *, latest_revision_only: bool = False) -> pd.DataFrame:
    """The lake's content without ingest bookkeeping (batch ids, receive times), canonically sorted.

    Two lakes with the same ``content_frame`` hold the same readings, revisions and energies: this is the
    equivalence the idempotency tests compare.
    """
    frame = read_readings(lake, latest_revision_only=latest_revision_only)
    keep = ["point_id", "enterprise_id", "start", "end", "revision", "value_raw", "unit_raw", "energy",
            "energy_unit", "energy_flag"]
    return frame[keep].sort_values(["point_id", "start", "end", "revision"]).reset_index(drop=True)

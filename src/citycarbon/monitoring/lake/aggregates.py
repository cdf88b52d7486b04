"""The lake's hourly (or local-day) aggregates: the file a batch adds beside its parts, and the DuckDB
queries that rebuild or compact them (the sums themselves: :mod:`citycarbon.monitoring.aggregates`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citycarbon.monitoring.lake.encoding import SCHEMA, iso_text, to_pandas

if TYPE_CHECKING:
    from citycarbon.monitoring.lake.core import LakeWriter

#: the time zone whose local days compacted aggregate files sum by, unless a caller names another (the registry's)
DEFAULT_AGG_TIMEZONE = "Asia/Shanghai"
#: rows per row group of a monthly aggregate file (one enterprise-month of 30 points is ~22 000 rows)
AGG_ROW_GROUP = 65_536


def aggregate_rows(writer: LakeWriter, frame: pd.DataFrame, batch_id: str
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
    bounds = (iso_text(ends.min()), iso_text(ends.max()))
    enterprises = frame["enterprise_id"].unique()  # a categorical's labels, not a string per row
    candidates = writer.lake.parts(enterprises=[str(e) for e in enterprises], ends=bounds) if len(revised) else []
    if candidates:
        ids = pd.unique(revised["point_id"].to_numpy(object))
        table = pq.read_table([str(writer.lake.root / p.path) for p in candidates],
                              columns=["point_id", "enterprise_id", "start", "end", "revision", "energy"],
                              filters=[("point_id", "in", [str(i) for i in ids]),
                                       ("end", ">=", ends.min()), ("end", "<=", ends.max())], schema=SCHEMA)
        stored = to_pandas(table)
        if len(stored):
            keys = revised[["point_id", "end"]].drop_duplicates()
            keys = keys.assign(point_id=keys["point_id"].astype(str))
            stored = stored.merge(keys, on=["point_id", "end"], how="inner")
    if stored is not None and len(stored):  # plain text keys on both sides of the joins
        frame = frame.assign(point_id=frame["point_id"].astype(str))
    table = hourly(contributions(frame, stored))
    if table.num_rows == 0:
        return None
    return aggregate_rel(batch_id), table, months_and_enterprises(table)


def aggregate_rel(batch_id: str) -> str:
    return f"aggregates/hour/batches/agg-{batch_id}.parquet"


class AggConnection:
    """A DuckDB connection that also carries the day offset the aggregate builders bucket by."""

    def __init__(self, con, day_offset: int | None):
        self._con, self.day_offset = con, day_offset

    def execute(self, *args: object):
        return self._con.execute(*args)

    def close(self) -> None:
        self._con.close()


def agg_empty() -> pa.Table:
    from citycarbon.monitoring.aggregates import AGG_SCHEMA

    return AGG_SCHEMA.empty_table()


def agg_query(con, rows_sql: str, params: dict, *, summed: bool = False, day_offset: int | None = None
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

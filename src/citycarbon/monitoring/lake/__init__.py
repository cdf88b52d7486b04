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
3. commit the batch and its parts in one ledger transaction (SQLite: WAL, ``synchronous=FULL``) — the
   acknowledgement;
4. remove the journal.

On the next writer start a left-over journal is replayed: parts it names that the ledger does not hold are
deleted (the batch was never acknowledged; the sender re-sends it), and parts a committed compaction replaced
are deleted. Readers read only the parts the ledger holds, so an orphan is never visible.

The ledger holds batches and parts. The per-key index that idempotency needs — which ``(point_id, start, end)``
exist, with which revisions and values — is the committed parts' own key columns, read back per touched
partition (a per-row SQLite index caps ingest far below 10^6 rows/s). The ledger's tables are defined once, in
SQLAlchemy Core (:mod:`~citycarbon.monitoring.lake.ledger`), and live in ``ledger.sqlite`` or in a PostgreSQL
schema (``ledger_url``), written by the same statements in the same transaction order.

Open a lake with :meth:`Lake.open` (it creates the folders and tables on first use); ``Lake(root)`` does no I/O.
"""


from citycarbon.monitoring.lake.aggregates import AGG_ROW_GROUP, DEFAULT_AGG_TIMEZONE
from citycarbon.monitoring.lake.core import Lake, LakeBusy, LakeWriter, PartInfo, default_lake_dir
from citycarbon.monitoring.lake.encoding import (
    COLUMNS,
    KEY,
    SCHEMA,
    PartColumns,
    part_table,
    partition_dir,
    unquote_enterprise,
    utc_month_numbers,
)
from citycarbon.monitoring.lake.ledger import AGGREGATES_VERSION
from citycarbon.monitoring.lake.reads import content_frame, read_readings

__all__ = [
    "AGGREGATES_VERSION",
    "AGG_ROW_GROUP",
    "COLUMNS",
    "DEFAULT_AGG_TIMEZONE",
    "KEY",
    "SCHEMA",
    "Lake",
    "LakeBusy",
    "LakeWriter",
    "PartColumns",
    "PartInfo",
    "content_frame",
    "default_lake_dir",
    "part_table",
    "partition_dir",
    "read_readings",
    "unquote_enterprise",
    "utc_month_numbers",
]

"""How readings are laid out and encoded: the part schema, Arrow tables of a batch's parts (text as
dictionaries), partition directories, UTC months, and Parquet read back as pandas."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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
READINGS_WRITE_OPTIONS: dict = {
    "use_dictionary": [f.name for f in SCHEMA if pa.types.is_string(f.type)],
    "write_statistics": ["point_id", "enterprise_id", "start", "end", "revision"],
}
#: SCHEMA with its text columns as Arrow dictionaries: how :func:`part_table` builds the parts in memory
PART_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if pa.types.is_string(f.type)
                          else f for f in SCHEMA])


def part_table(frame: pd.DataFrame) -> pa.Table:
    """``frame``'s lake columns as Arrow, text columns as dictionaries (:data:`PART_SCHEMA`); see
    :class:`PartColumns`, which builds the parts of a batch from row positions."""
    return PartColumns(frame).table(np.arange(len(frame)))


class PartColumns:
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
                codes, labels = codes_and_labels(column)
                valid = codes >= 0
                self.columns.append((codes, None if valid.all() else valid, labels))
                continue
            array = pa.Array.from_pandas(column, type=f.type)
            array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
            values = array.to_numpy(zero_copy_only=False)  # nulls: NaN / NaT, with the mask below
            nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
            self.columns.append((values, nulls, None))

    def reorder(self, order: np.ndarray) -> PartColumns:
        """Put the rows in ``order`` once (one sequential gather per column), so that each part is a slice."""
        self.columns = [(values[order], None if mask is None else mask[order], labels)
                        for values, mask, labels in self.columns]
        return self

    def numpy(self, name: str) -> np.ndarray:
        """The converted values of a non-text column (times: numpy datetime64[us])."""
        return self.columns[COLUMNS.index(name)][0]

    def table(self, rows: np.ndarray) -> pa.Table:
        arrays = []
        for f, (values, mask, labels) in zip(PART_SCHEMA, self.columns, strict=True):
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
        return pa.Table.from_arrays(arrays, schema=PART_SCHEMA)


def codes_and_labels(column: pd.Series) -> tuple[np.ndarray, pa.Array]:
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


def utc_month_numbers(start: pd.Series) -> np.ndarray:
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


def iso_text(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


def partition_dir(month: str, enterprise_id: str) -> str:
    """Relative directory of a partition; the enterprise id is percent-encoded so any id is a safe name."""
    return f"readings/month={month}/enterprise={quote(str(enterprise_id), safe='')}"


def empty_frame(columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    return SCHEMA.empty_table().select(list(columns)).to_pandas()


def read_points(paths: list[str], point_ids: Iterable[str], columns: tuple[str, ...],
                 starts: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    if not paths:
        return empty_frame(columns)
    ids = sorted({str(p) for p in point_ids})
    filters: list[tuple] = [("point_id", "in", ids)]
    if starts is not None:
        filters += [("start", ">=", starts[0]), ("start", "<=", starts[1])]
    table = pq.read_table(paths, columns=list(columns), filters=filters, schema=SCHEMA)
    return to_pandas(table)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for column in ("start", "end", "received_at"):
        if column in frame.columns:
            frame[column] = frame[column].astype("datetime64[ns, UTC]")
    return frame


def unquote_enterprise(name: str) -> str:
    """The enterprise id of a partition directory name ``enterprise=<quoted id>``."""
    return unquote(name.split("=", 1)[1]) if "=" in name else unquote(name)

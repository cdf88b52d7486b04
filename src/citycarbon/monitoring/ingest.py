"""Ingest of meter readings into the lake: validate, normalise to interval energy, deduplicate, commit.

One function does the work for every channel (HTTP, MQTT, files): :func:`ingest_frame`. It is vectorised
(pandas/pyarrow on whole columns; no Python loop per row) so file backfills run at millions of rows per second.

Contract (issue 6 §2; ``/docs/monitoring.md`` "Ingest contract"):

* Input columns ``point_id, start, end, value, unit`` (+ optional ``received_at``); timestamps ISO 8601 *with*
  an offset (or tz-aware datetimes); a naive timestamp is rejected, never guessed.
* Each row is accepted, a duplicate, a revision, or rejected with ``{row, point_id, field, reason}``;
  one rejected row does not stop the others. Rows are 1-based in the order given (plus ``row_offset``).
* Idempotent by ``(point_id, start, end)``: a value equal to any stored revision of that key is a duplicate
  (not stored again), so re-sending any batch, in any order and any number of times, changes nothing; a
  different value is stored as the next revision (the original is kept). Late and out-of-order rows are normal.
* Interval meters (``kind = interval``): ``end - start`` must equal the point's ``interval_minutes``;
  ``energy = value × multiplier × conversion_factor(unit, canonical unit)``.
* Cumulative registers (``kind = cumulative``): a read is identified by ``(point_id, end)`` (``start == end``
  is an instantaneous read); consecutive reads of a point are differenced into interval energy stored as
  ``start = previous read, end = this read``. A decrease is a rollover (``+ register_max``; flag
  ``rollover``) only when ``register_max`` is known AND the corrected delta is plausible (at most the
  ``counter_reset.rollover_p99_multiple`` of ``quality_rules.yaml`` × the point's p99 positive delta — the
  quality rule's own test; without any positive delta yet, that multiple × the enterprise's mean rate over
  the elapsed time); otherwise it is a reset (energy empty, flag ``reset``) — never a silent negative and
  never ``register_max`` of phantom energy. The first read of a point has no energy (flag ``first_read``). A
  late read that falls between stored reads re-derives the following read as a new revision (``rederived``).
* Readings from the future are refused: a row whose interval ends more than ``future_margin`` (default
  :data:`DEFAULT_FUTURE_MARGIN`, 5 minutes; ``CITYCARBON_MONITORING_FUTURE_MARGIN`` in the settings) after the
  ingest clock ``now`` (the server's clock; a backfill of simulated data may pass its own) is rejected on
  ``end`` with the reason, so a meter or gateway with a wrong clock cannot write days that have not happened.
* All rows accepted from one call become durable together (one ledger transaction) or not at all; a call
  that accepts nothing leaves lake and ledger untouched.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.lake import COLUMNS, Lake, utc_month_numbers
from citycarbon.monitoring.registry import energy_types
from citycarbon.progress import Progress, or_silent
from citycarbon.units import UnitError, conversion_factor

__all__ = [
    "INPUT_COLUMNS",
    "IngestReport",
    "canonical_unit",
    "ingest_frame",
    "point_table",
]

INPUT_COLUMNS: tuple[str, ...] = ("point_id", "start", "end", "value", "unit")
#: how far after the ingest clock an interval may end (meter and server clocks drift by seconds, not minutes)
DEFAULT_FUTURE_MARGIN = timedelta(minutes=5)
_OFFSET = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
_REL_TOL = 1e-12  # two energies this close are the same value (float noise of unit conversion)


@dataclass
class IngestReport:
    """What happened to each row of a batch. ``batch_id`` is None when nothing was written."""

    accepted: int = 0
    duplicate: int = 0
    revised: int = 0
    rejected: int = 0
    rederived: int = 0  # stored cumulative reads re-derived because a late read fell before them
    rejected_rows: list[dict] = field(default_factory=list)
    batch_id: str | None = None
    rows: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def merge(self, other: IngestReport) -> None:
        """Add ``other``'s counts (a file ingested in several chunks)."""
        for name in ("accepted", "duplicate", "revised", "rejected", "rederived", "rows"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected_rows.extend(other.rejected_rows)


# ---------------------------------------------------------------------------------------------------
# Registry view


def canonical_unit(energy_type: str, fallback: str | None = None) -> str:
    """The unit the lake stores ``energy_type``'s energy in: ``canonical_unit`` of C1's
    ``data/monitoring/energy_types.csv`` (``kWh``, ``m**3``, ``t``, ``GJ``).

    An energy type that table does not know uses ``fallback`` (the point's own unit); without one it is an
    :class:`~citycarbon.errors.InputError`.
    """
    types = energy_types()
    if energy_type in types.index:
        return str(types.at[energy_type, "canonical_unit"])
    if fallback is None:
        raise InputError(Problem(f"unknown energy type '{energy_type}'", field="energy_type", value=energy_type,
                                 suggestion=nearest(energy_type, list(types.index))))
    return fallback


def point_table(registry: object) -> pd.DataFrame:
    """The registry's points as the ingest needs them, indexed by ``point_id``.

    ``registry`` is a :class:`citycarbon.monitoring.registry.Registry` or anything with a ``points`` frame
    of the contract's columns. Adds ``canonical_unit``, ``register_max_canonical`` (in the canonical unit,
    multiplier applied) and ``mean_rate_canonical`` (canonical units per hour: the enterprise's annual energy —
    ``annual_energy_tce``, else ``annual_budget_tce`` — at the energy type's GB/T 2589 tce factor, spread over
    a year; NaN when the registry has no enterprises, no annual figure or the type no tce factor, e.g.
    ``product_output``). It bounds a plausible rollover of a register that has no history yet.
    """
    points = getattr(registry, "points", registry)
    if not isinstance(points, pd.DataFrame):
        raise TypeError("registry must have a 'points' DataFrame")
    frame = points.copy()
    frame["point_id"] = frame["point_id"].astype(str)
    frame["enterprise_id"] = frame["enterprise_id"].astype(str)
    frame["kind"] = frame.get("kind", pd.Series("interval", index=frame.index)).fillna("interval").astype(str)
    multiplier = pd.to_numeric(frame.get("multiplier", pd.Series(1.0, index=frame.index)), errors="coerce")
    frame["multiplier"] = multiplier.fillna(1.0).astype(float)
    frame["interval_minutes"] = pd.to_numeric(frame.get("interval_minutes"), errors="coerce")
    frame["register_max"] = pd.to_numeric(frame.get("register_max", pd.Series(np.nan, index=frame.index)),
                                          errors="coerce").astype(float)
    # canonical_unit and _factor once per distinct (energy type, unit) pair, not once per point
    pairs = {(e, str(u)): canonical_unit(e, str(u)) if isinstance(e, str) else str(u)
             for e, u in set(zip(frame["energy_type"], frame["unit"], strict=True))}
    frame["canonical_unit"] = [pairs[(e, str(u))] for e, u in zip(frame["energy_type"], frame["unit"], strict=True)]
    factor_of = {(u, c): _factor(u, c) for u, c in set(zip(frame["unit"].astype(str), frame["canonical_unit"],
                                                           strict=True))}
    factors = [factor_of[(str(u), c)] for u, c in zip(frame["unit"], frame["canonical_unit"], strict=True)]
    frame["register_max_canonical"] = frame["register_max"] * frame["multiplier"] * np.asarray(factors, float)
    frame["mean_rate_canonical"] = _mean_rate(registry, frame)
    return frame.set_index("point_id", drop=False)


def _mean_rate(registry: object, points: pd.DataFrame) -> np.ndarray:
    """Per point: its enterprise's mean energy rate in the point's canonical unit per hour (see
    :func:`point_table`), from the registry's own annual figures and the GB/T 2589 rows of ``tce_factors``."""
    enterprises = getattr(registry, "enterprises", None)
    if not isinstance(enterprises, pd.DataFrame) or "enterprise_id" not in enterprises.columns:
        return np.full(len(points), np.nan)
    from citycarbon.monitoring.registry import tce_factors

    annual = pd.Series(np.nan, index=enterprises.index)
    for column in ("annual_budget_tce", "annual_energy_tce"):  # the measured annual energy wins
        if column in enterprises.columns:
            values = pd.to_numeric(enterprises[column], errors="coerce")
            annual = values.where(values.notna(), annual)
    per_enterprise = pd.Series(annual.to_numpy(float), index=enterprises["enterprise_id"].astype(str))
    per_enterprise = per_enterprise[~per_enterprise.index.duplicated()]
    if not (per_enterprise > 0).any():  # no annual figure: every rate is NaN whatever the factors say
        return np.full(len(points), np.nan)
    tce_per_unit = points["energy_type"].astype(str).map(tce_factors()["tce_per_unit"]).astype(float)
    hours_per_year = conversion_factor("a", "h")
    rate = points["enterprise_id"].map(per_enterprise).astype(float) / tce_per_unit / hours_per_year
    return rate.where(rate > 0).to_numpy(float)


def _rollover_multiple() -> float:
    """The quality rule's bound on a plausible rollover (``counter_reset.rollover_p99_multiple`` of
    ``data/monitoring/quality_rules.yaml``), so that ingest and the quality check decide alike."""
    from citycarbon.monitoring.quality import load_rules

    return float(load_rules().param("counter_reset", "rollover_p99_multiple"))


def _factor(unit: str, canonical: str) -> float:
    try:
        return conversion_factor(unit, canonical)
    except UnitError:
        return math.nan


# ---------------------------------------------------------------------------------------------------
# Parsing and validation (vectorised)


class _Rejections:
    """First problem per row: field and reason, as object arrays."""

    def __init__(self, n: int):
        self._ok = np.ones(n, dtype=bool)  # reason is None, kept beside it (no object comparison per call)
        self._field: np.ndarray | None = None  # the object arrays are made at the first problem (or when read)
        self._reason: np.ndarray | None = None

    @property
    def field(self) -> np.ndarray:
        if self._field is None:
            self._field = np.full(len(self._ok), None, dtype=object)
        return self._field

    @property
    def reason(self) -> np.ndarray:
        if self._reason is None:
            self._reason = np.full(len(self._ok), None, dtype=object)
        return self._reason

    def add(self, mask: np.ndarray, field_name: str, reason: str | np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool) & self._ok
        if not mask.any():
            return
        self.field[mask] = field_name
        self.reason[mask] = reason if isinstance(reason, str) else np.asarray(reason, dtype=object)[mask]
        self._ok[mask] = False

    @property
    def ok(self) -> np.ndarray:
        return self._ok.copy()


def _distinct_text(column: pd.Series) -> tuple[pd.Series, np.ndarray] | None:
    """A categorical column of text (how the file readers hand over repetitive columns): the distinct values
    its rows use, as ``string[pyarrow]`` with one missing value appended, and each row's position in them.

    Parsing then runs once per distinct value and the result is expanded by position, which gives every row
    exactly what parsing that row's text would give (each check depends on the row's own value only).
    ``None`` for any other column (parsed row by row as before).
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return None
    categories = column.cat.categories
    if pd.api.types.infer_dtype(categories, skipna=True) not in ("string", "empty"):
        return None
    codes = column.cat.codes.to_numpy()
    counts = np.bincount(codes.astype(np.int64) + 1, minlength=len(categories) + 1)
    used = counts[1:] > 0
    position = (np.cumsum(used) - 1).astype(codes.dtype if len(categories) < np.iinfo(codes.dtype).max else np.int64)
    values = np.asarray(categories, dtype=object)[used]
    if counts[0]:  # rows with no value: one more entry, missing, after the distinct texts
        index = np.where(codes >= 0, position[np.maximum(codes, 0)], len(values))
        values = np.append(values, None)
    else:
        index = position[codes]
    return pd.Series(values, dtype=object).astype("string[pyarrow]"), index


def _expand_rejections(bad: _Rejections, per_value: _Rejections, index: np.ndarray, name: str) -> None:
    problem = ~per_value.ok
    if problem.any():
        rows = problem[index]
        bad.add(rows, name, np.where(rows, per_value.reason[index], None))


def _parse_times(column: pd.Series, name: str, bad: _Rejections,
                 assume_timezone: str | None) -> pd.Series:
    """UTC timestamps of ``column``; rows without an offset or unparseable get a rejection."""
    distinct = _distinct_text(column)
    if distinct is not None:
        values, index = distinct
        per_value = _Rejections(len(values))
        parsed = _parse_times(values, name, per_value, assume_timezone)
        _expand_rejections(bad, per_value, index, name)
        stamps = parsed.array.asi8[index].view("datetime64[ns]")
        return pd.Series(stamps, index=column.index, copy=False).dt.tz_localize("UTC")
    n = len(column)
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(column.dtype):
        if assume_timezone:
            return column.dt.tz_localize(assume_timezone).dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        bad.add(np.ones(n, bool), name, "timestamp has no UTC offset (ISO 8601 with offset required, "
                                        "e.g. 2024-01-01T00:00:00+08:00)")
        return pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns, UTC]")
    missing = pd.isna(column).to_numpy()
    if _all_text(column):
        is_text, is_stamp = ~missing, np.zeros(n, bool)
        values = None
    else:
        values = column.to_numpy(dtype=object)
        is_text = np.fromiter((isinstance(v, str) for v in values), bool, n)
        is_stamp = np.fromiter((isinstance(v, datetime) for v in values), bool, n)
    bad.add(missing, name, "missing timestamp")
    bad.add(~is_text & ~is_stamp & ~missing, name, "wrong type: expected an ISO 8601 timestamp string")
    out = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns, UTC]")
    if is_text.any():
        if values is None:
            text = pa.array(column.astype("string[pyarrow]").fillna(""))
            text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        else:
            text = pa.array(np.where(is_text, values, ""), type=pa.string())
        text = pc.utf8_trim_whitespace(text)
        has_offset = pc.match_substring_regex(text, _OFFSET).to_numpy(zero_copy_only=False)
        if assume_timezone is None:
            bad.add(is_text & ~has_offset, name, "timestamp has no UTC offset (ISO 8601 with offset required, "
                                                 "e.g. 2024-01-01T00:00:00+08:00)")
            usable = is_text & has_offset
        else:
            usable = is_text
        parsed = _cast_times(text, usable, has_offset, assume_timezone)
        bad.add(usable & pd.isna(parsed).to_numpy(), name, "not an ISO 8601 timestamp")
        out = out.where(~usable, parsed.set_axis(column.index))
    if is_stamp.any():
        stamps = pd.Series(values[is_stamp], index=column.index[is_stamp])
        aware = np.fromiter((v.tzinfo is not None for v in stamps), bool, len(stamps))
        naive_rows = np.zeros(n, bool)
        naive_rows[np.flatnonzero(is_stamp)[~aware]] = True
        if assume_timezone is None:
            bad.add(naive_rows, name, "timestamp has no UTC offset")
        converted = [pd.Timestamp(v).tz_convert("UTC") if v.tzinfo is not None else
                     (pd.Timestamp(v).tz_localize(assume_timezone).tz_convert("UTC") if assume_timezone else pd.NaT)
                     for v in stamps]
        out.loc[stamps.index] = pd.Series(converted, index=stamps.index, dtype="datetime64[ns, UTC]")
    return out


def _cast_times(text: pa.Array, usable: np.ndarray, has_offset: np.ndarray,
                assume_timezone: str | None) -> pd.Series:
    """Fast path: one Arrow cast; if any string is malformed, pandas per element with errors → NaT."""
    if assume_timezone is None or has_offset[usable].all():
        try:
            chosen = pc.if_else(pa.array(usable), text, pa.scalar("1970-01-01T00:00:00Z"))
            cast = chosen.cast(pa.timestamp("ns", tz="UTC"))
            series = pd.Series(cast.to_pandas()).astype("datetime64[ns, UTC]")
            return series.where(usable)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some string is not ISO 8601 Arrow can cast: parse element by element below, naming the bad rows
    strings = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    result = pd.Series(pd.NaT, index=strings.index, dtype="datetime64[ns, UTC]")
    with_offset = usable & has_offset
    if with_offset.any():
        result[with_offset] = pd.to_datetime(strings[with_offset], utc=True, format="ISO8601", errors="coerce")
    local = usable & ~has_offset
    if local.any() and assume_timezone:
        naive = pd.to_datetime(strings[local], format="ISO8601", errors="coerce")
        result[local] = naive.dt.tz_localize(assume_timezone).dt.tz_convert("UTC")
    return result


def _parse_values(column: pd.Series, bad: _Rejections) -> np.ndarray:
    """Float values; strings, booleans and other types are rejected, so are NaN and ±inf."""
    n = len(column)
    if pd.api.types.is_bool_dtype(column.dtype):
        bad.add(np.ones(n, bool), "value", "wrong type: expected a number, got a boolean")
        return np.full(n, np.nan)
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
    else:
        raw = column.to_numpy(dtype=object)
        numeric = np.fromiter(((isinstance(v, int | float | np.integer | np.floating)
                                and not isinstance(v, bool | np.bool_)) for v in raw), bool, n)
        missing = pd.isna(column).to_numpy()
        bad.add(~numeric & ~missing, "value", "wrong type: expected a number")
        values = np.where(numeric, raw, np.nan).astype(float)
    bad.add(np.isnan(values), "value", "missing value or NaN")
    bad.add(np.isinf(values), "value", "value is infinite")
    return values


def _all_text(column: pd.Series) -> bool:
    """Whether every non-missing value is a string (checked in C, not per row in Python)."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return True
    return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")


def _parse_text(column: pd.Series, name: str, bad: _Rejections) -> pd.Series:
    distinct = _distinct_text(column)
    if distinct is not None:  # a categorical of the same texts, without a million Python strings
        values, index = distinct
        per_value = _Rejections(len(values))
        text = _parse_text(values, name, per_value)
        _expand_rejections(bad, per_value, index, name)
        labels, inverse = np.unique(text.to_numpy(dtype=object), return_inverse=True)
        return pd.Series(pd.Categorical.from_codes(inverse[index], categories=pd.Index(labels, dtype=object)),
                         index=column.index)
    missing = pd.isna(column).to_numpy()
    if _all_text(column):
        text = column.astype("string[pyarrow]").fillna("")
        blank = (text.str.strip() == "").to_numpy(dtype=bool)
        bad.add(blank, name, f"missing {name}")
        return text
    raw = column.to_numpy(dtype=object)
    is_text = np.fromiter((isinstance(v, str) and v.strip() != "" for v in raw), bool, len(raw))
    bad.add(missing | np.fromiter((isinstance(v, str) and v.strip() == "" for v in raw), bool, len(raw)),
            name, f"missing {name}")
    bad.add(~is_text, name, "wrong type: expected a string")
    return pd.Series(np.where(is_text, raw, "").astype(object), index=column.index).astype("string[pyarrow]")


def _durations(start: pd.Series, end: pd.Series) -> np.ndarray:
    """``(end - start).to_numpy()`` (timedelta64[ns], NaT where either is NaT), by integer arithmetic when both
    are nanosecond UTC columns whose difference cannot overflow; by pandas otherwise."""
    nanoseconds = pd.DatetimeTZDtype("ns", "UTC")
    if start.dtype != nanoseconds or end.dtype != nanoseconds or not len(start):
        return (end - start).to_numpy()
    s, e = start.array.asi8, end.array.asi8
    nat = (s == np.iinfo(np.int64).min) | (e == np.iinfo(np.int64).min)
    s_ok, e_ok = np.where(nat, 0, s), np.where(nat, 0, e)
    if int(e_ok.max()) - int(s_ok.min()) >= 2**63 or int(s_ok.max()) - int(e_ok.min()) >= 2**63:
        return (end - start).to_numpy()
    return np.where(nat, np.timedelta64("NaT", "ns"), (e_ok - s_ok).view("timedelta64[ns]"))


def _set(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """``frame[name] = values`` without pandas copying an array made here for the frame alone."""
    frame[name] = pd.Series(values, index=frame.index, copy=False)


def _whole_microseconds(column: pd.Series) -> bool:
    """Whether flooring ``column`` (tz-aware) to microseconds would change nothing (the usual case)."""
    if not isinstance(column.dtype, pd.DatetimeTZDtype) or column.dtype.unit != "ns":
        return False
    values = column.array.asi8
    return not (values % 1000)[values != np.iinfo(np.int64).min].any()


def _messages(mask: np.ndarray, template: str, **columns: np.ndarray) -> np.ndarray:
    """Per-row reason texts, formatted only for the rows in ``mask`` (the rest stay None)."""
    out = np.full(len(mask), None, dtype=object)
    for i in np.flatnonzero(mask):
        out[i] = template.format(**{k: v[i] for k, v in columns.items()})
    return out


def normalise_readings(readings: pd.DataFrame, points: pd.DataFrame, *, enterprise_id: str | None = None,
                       assume_timezone: str | None = None) -> tuple[pd.DataFrame, _Rejections]:
    """Validate ``readings`` against ``points`` (from :func:`point_table`); energy for interval rows.

    Returns the parsed frame (one row per input row, ``_row`` 0-based, ``_pcode`` the point's code in this
    batch) and the rejections. Registry attributes are looked up once per distinct point, not per row.
    """
    missing = [c for c in INPUT_COLUMNS if c not in readings.columns]
    if missing:
        raise InputError([Problem("missing column", field=c) for c in missing])
    n = len(readings)
    bad = _Rejections(n)
    data = readings.reset_index(drop=True)
    frame = pd.DataFrame({"_row": np.arange(n)})
    # a numeric id (a spreadsheet column read as numbers) is a type problem, not a lookup miss
    frame["point_id"] = _parse_text(data["point_id"], "point_id", bad)
    frame["start"] = _parse_times(data["start"], "start", bad, assume_timezone)
    frame["end"] = _parse_times(data["end"], "end", bad, assume_timezone)
    _set(frame, "value_raw", _parse_values(data["value"], bad))
    frame["unit_raw"] = _parse_text(data["unit"], "unit", bad)
    if "received_at" in data.columns:
        received = _Rejections(n)
        frame["received_at"] = _parse_times(data["received_at"], "received_at", received, assume_timezone)
        bad.add(~received.ok, "received_at", received.reason)
    for column in ("start", "end", "received_at"):  # the lake keeps microseconds; keys must compare equal
        if column in frame.columns and not _whole_microseconds(frame[column]):
            frame[column] = frame[column].dt.floor("us")
    codes, uniques = pd.factorize(frame["point_id"])
    ids = pd.Index(np.asarray(uniques, dtype=object))
    info = points.reindex(ids)
    ok_codes = np.append(ids.isin(points.index), False)  # code -1 (missing id) → not known
    codes_safe = np.where(codes < 0, len(ids), codes)
    known = ok_codes[codes_safe]
    _set(frame, "_pcode", codes_safe.astype("int64"))

    def take(column: str, fill: object, dtype: object = object) -> np.ndarray:
        values = np.append(info[column].to_numpy(dtype=dtype), np.array([fill], dtype=dtype))
        return values[codes_safe]

    def take_labels(column: str) -> pd.Categorical:
        """A text attribute per row as a categorical (codes, not a million Python strings)."""
        labels = pd.Categorical(np.append(info[column].to_numpy(dtype=object), [None]))
        return labels.take(codes_safe)

    pid = frame["point_id"].to_numpy(dtype=object) if (~known).any() else None
    if enterprise_id is not None:
        mine = known & (take("enterprise_id", None) == str(enterprise_id))
        if (~mine & bad.ok).any():
            bad.add(~mine, "point_id", _messages(~mine & bad.ok, "point '{p}' is not a registered point of "
                                                 f"enterprise '{enterprise_id}'", p=frame["point_id"].to_numpy(object)))
    elif pid is not None:
        bad.add(~known, "point_id", _messages(~known & bad.ok, "unknown point '{p}'", p=pid))
    frame["enterprise_id"] = take_labels("enterprise_id")
    frame["kind"] = take_labels("kind")
    frame["energy_type"] = take_labels("energy_type")
    frame["canonical_unit"] = take_labels("canonical_unit")
    multiplier = take("multiplier", np.nan, float)  # the cumulative path takes the registry's own per point
    cumulative = (frame["kind"] == "cumulative").to_numpy()
    duration = _durations(frame["start"], frame["end"])
    bad.add(~cumulative & (duration <= np.timedelta64(0, "ns")), "end", "end must be after start")
    bad.add(cumulative & (duration < np.timedelta64(0, "ns")), "end", "end must not be before start")
    interval = take("interval_minutes", np.nan, float)
    expected = (interval * 60e9).astype("int64", copy=False) if not np.isnan(interval).any() else \
        np.where(np.isnan(interval), -1, interval * 60e9).astype("int64")
    wrong_length = ~cumulative & ~np.isnan(interval) & (duration.astype("int64") != expected)
    if (wrong_length & bad.ok).any():
        bad.add(wrong_length, "end", _messages(
            wrong_length & bad.ok, "interval of {m:g} min does not match the point's interval_minutes {e:g}",
            m=duration.astype("int64") / 60e9, e=interval))
    # unit conversion: one factor per distinct (unit, point) pair
    unit_codes, unit_uniques = pd.factorize(frame["unit_raw"])
    unit_list = [str(u) for u in np.asarray(unit_uniques, dtype=object)]
    canon = np.append(info["canonical_unit"].to_numpy(dtype=object), [None])
    # a unit code of -1 (no unit) becomes the extra slot len(unit_list); the pairs index a small dense table
    pair = np.where(unit_codes < 0, len(unit_list), unit_codes).astype("int64") * (len(ids) + 1) + codes_safe
    present = np.zeros((len(unit_list) + 1) * (len(ids) + 1), dtype=bool)
    present[pair] = True
    per_pair = np.full(present.size, math.nan)
    for value in np.flatnonzero(present):
        u, c = divmod(int(value), len(ids) + 1)
        per_pair[value] = _factor(unit_list[u], str(canon[c])) if u < len(unit_list) and canon[c] is not None \
            else math.nan
    factor = per_pair[pair] if n else np.zeros(0)
    no_factor = np.isnan(factor)
    if (no_factor & bad.ok).any():
        bad.add(no_factor, "unit", _messages(no_factor & bad.ok, "unit '{u}' cannot be converted to {c} ({e})",
                                             u=frame["unit_raw"].to_numpy(object),
                                             c=frame["canonical_unit"].to_numpy(object),
                                             e=frame["energy_type"].to_numpy(object)))
    norm = frame["value_raw"].to_numpy() * multiplier * factor
    _set(frame, "norm", norm)
    _set(frame, "energy", np.where(cumulative, np.nan, norm) if cumulative.any() else norm.copy())
    frame["energy_unit"] = frame["canonical_unit"]
    return frame, bad


# ---------------------------------------------------------------------------------------------------
# Ingest


def _now(now: datetime | pd.Timestamp | None) -> pd.Timestamp:
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp(datetime.now(UTC))
    if ts.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return ts.tz_convert("UTC")


def _reject_future(frame: pd.DataFrame, bad: _Rejections, now: pd.Timestamp,
                  margin: timedelta | pd.Timedelta = DEFAULT_FUTURE_MARGIN) -> None:
    """Reject (on ``end``) the rows whose interval ends more than ``margin`` after ``now``."""
    limit = now + pd.Timedelta(margin)
    ends = frame["end"]
    future = np.asarray(ends > limit, dtype=bool)
    first = future & bad.ok
    if first.any():
        minutes = pd.Timedelta(margin).total_seconds() / 60
        clock = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        reasons = np.full(len(frame), None, dtype=object)
        reasons[first] = [f"interval ends at {e}, more than {minutes:g} min after the server's clock ({clock}): a "
                          "reading from the future (check the meter's or gateway's clock)"
                          for e in ends[first].dt.strftime("%Y-%m-%dT%H:%M:%SZ")]
        bad.add(future, "end", reasons)


def ingest_frame(lake: Lake | str | Path, registry: object, readings: pd.DataFrame, *, source: str,
                 enterprise_id: str | None = None, now: datetime | pd.Timestamp | None = None,
                 batch_id: str | None = None, row_offset: int = 0, assume_timezone: str | None = None,
                 lock_timeout: float | None = 60.0, points: pd.DataFrame | None = None,
                 future_margin: timedelta | pd.Timedelta = DEFAULT_FUTURE_MARGIN) -> IngestReport:
    """Validate ``readings`` and store the accepted rows in ``lake`` as one durable batch.

    ``now`` is the ingest clock (default: the server's clock): the time of receipt, and rows whose interval ends
    more than ``future_margin`` after it are rejected (readings from the future).
    ``enterprise_id`` restricts the batch to that enterprise's points (an ingest token's enterprise).
    ``batch_id`` is the caller's id for the batch (kept in the ledger as ``client_batch_id``).
    ``points`` is a precomputed :func:`point_table` (callers that ingest many batches pass it once).
    Raises :class:`~citycarbon.errors.InputError` only when a required column is missing; every row
    problem is in the report.
    """
    lake = lake if isinstance(lake, Lake) else Lake.open(lake)
    points = points if points is not None else point_table(registry)
    received = _now(now)
    frame, bad = normalise_readings(readings, points, enterprise_id=enterprise_id,
                                    assume_timezone=assume_timezone)
    _reject_future(frame, bad, received, future_margin)
    report = IngestReport(rows=len(frame))
    if "received_at" not in frame.columns:
        frame["received_at"] = received.floor("us")
    else:
        frame["received_at"] = frame["received_at"].fillna(received.floor("us"))
    internal_id = f"{received.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
    frame["batch_id"] = pd.Categorical.from_codes(np.zeros(len(frame), "int8"), categories=[internal_id])
    frame["energy_flag"] = pd.Categorical.from_codes(np.zeros(len(frame), "int8"), categories=[""])
    ok = bad.ok
    cumulative = (frame["kind"] == "cumulative").to_numpy()
    interval_mask = ok & ~cumulative

    with lake.writer(timeout=lock_timeout) as writer:
        interval_rows, dup_i = _interval_batch(writer, frame if interval_mask.all() else frame[interval_mask])
        cum_rows, dup_c, conflict, rederived = _cumulative_batch(writer, frame[ok & cumulative], points)
        if len(conflict):
            bad.add(frame["_row"].isin(conflict).to_numpy(), "value",
                    "another row of this batch gives a different value for the same cumulative read")
        to_write = pd.concat([f for f in (interval_rows, cum_rows) if len(f)], ignore_index=True) \
            if len(interval_rows) or len(cum_rows) else interval_rows
        from_input = to_write["_row"].to_numpy() >= 0
        revision = to_write["revision"].to_numpy()
        report.accepted = int((from_input & (revision == 0)).sum())
        report.revised = int((from_input & (revision > 0)).sum())
        report.rederived = rederived
        report.duplicate = dup_i + dup_c
        rejected = ~bad.ok
        report.rejected = int(rejected.sum())
        report.rejected_rows = [
            {"row": int(r) + 1 + row_offset, "point_id": p if isinstance(p, str) and p else None,
             "field": f, "reason": why}
            for r, p, f, why in zip(frame["_row"].to_numpy()[rejected], frame["point_id"].to_numpy()[rejected],
                                    bad.field[rejected], bad.reason[rejected], strict=True)]
        if len(to_write):
            out = to_write[list(COLUMNS)]  # a new frame (copy on write): the assignment below leaves to_write as is
            out["revision"] = out["revision"].astype("int32")
            writer.commit(out, batch_id=internal_id, source=source, enterprise_id=enterprise_id,
                          client_batch_id=batch_id,
                          counts={"rows_in": report.rows, "accepted": report.accepted,
                                  "duplicate": report.duplicate, "revised": report.revised,
                                  "rejected": report.rejected})
            report.batch_id = internal_id
    return report


def _rollover_bound(series: pd.DataFrame, diff: pd.Series, previous_end: pd.Series,
                    points: pd.DataFrame) -> pd.Series:
    """Largest plausible rollover-corrected delta per read (canonical units), vectorised per point.

    The quality rule's test (``counter_reset``, ``quality.py``): ``rollover_p99_multiple`` × the 99th percentile
    of the point's positive deltas over its whole known series (stored reads and this batch). A point without
    any positive delta yet has no p99; then the same multiple × the enterprise's mean rate
    (``mean_rate_canonical`` of :func:`point_table`) × the hours since the previous read (at least the point's
    ``interval_minutes``). Without either the bound is NaN and a decrease is a reset: a reset loses one
    interval's energy, flagged for repair, while a wrong rollover invents ``register_max`` of it.
    """
    multiple = _rollover_multiple()
    positive = diff.where(diff > 0).astype(float)
    p99 = positive.groupby(series["point_id"]).transform("quantile", 0.99).astype(float)
    hours = (pd.to_datetime(series["end"], utc=True) - pd.to_datetime(previous_end, utc=True)).dt.total_seconds() \
        / 3600.0
    interval_hours = series["point_id"].map(points["interval_minutes"]).astype(float) / 60.0
    elapsed = np.fmax(hours.to_numpy(float), interval_hours.to_numpy(float))
    fallback = series["point_id"].map(points["mean_rate_canonical"]).astype(float) * elapsed
    return multiple * p99.where(p99.notna(), fallback)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality of energies with float tolerance; NaN equals NaN (a reset stays a reset)."""
    return np.isclose(a, b, rtol=_REL_TOL, atol=0.0) | (np.isnan(a) & np.isnan(b))


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """The (enterprise, UTC month) partitions a frame touches."""
    month = utc_month_numbers(frame["start"])
    codes, enterprises = pd.factorize(frame["enterprise_id"], use_na_sentinel=False)
    labels = np.asarray(enterprises, dtype=object)
    pairs = pd.unique(month * (len(labels) + 1) + codes)
    return {(str(labels[c]), f"{m // 100:04d}-{m % 100:02d}") for m, c in (divmod(int(v), len(labels) + 1)
                                                                         for v in pairs)}


def _repeated_keys(*keys: np.ndarray) -> np.ndarray:
    """Rows whose key (equal-length integer columns, compared together) occurs more than once.

    O(n) with no sort when the rows are already strictly ordered by the key, or by its second column first
    (a backfill point by point, a push interval by interval: no key can repeat); otherwise by one lexsort.
    """
    n = len(keys[0])
    if n < 2:
        return np.zeros(n, dtype=bool)
    if _strictly_increasing(keys) or _strictly_increasing((keys[1], keys[0], *keys[2:])):
        return np.zeros(n, dtype=bool)
    order = np.lexsort(keys[::-1])
    same_as_next = np.ones(n - 1, dtype=bool)
    for key in keys:
        ordered = key[order]
        same_as_next &= ordered[1:] == ordered[:-1]
    repeated = np.zeros(n, dtype=bool)
    repeated[1:] |= same_as_next
    repeated[:-1] |= same_as_next
    out = np.empty(n, dtype=bool)
    out[order] = repeated
    return out


def _joint_keys(left: list[np.ndarray], right: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """One int64 per row of two tables' integer key columns, equal exactly when every column is equal (the columns'
    values numbered together, then combined); ``None`` when the combined numbers would not fit in int64."""
    codes_left, codes_right, sizes = [], [], []
    for a, b in zip(left, right, strict=True):
        codes, uniques = pd.factorize(np.concatenate([a, b]))
        codes_left.append(codes[:len(a)].astype(np.int64))
        codes_right.append(codes[len(a):].astype(np.int64))
        sizes.append(max(len(uniques), 1))
    if math.prod(sizes) >= 2**63:
        return None
    key_left, key_right = codes_left[0], codes_right[0]
    for a, b, size in zip(codes_left[1:], codes_right[1:], sizes[1:], strict=True):
        key_left, key_right = key_left * size + a, key_right * size + b
    return key_left, key_right


def _strictly_increasing(keys: tuple[np.ndarray, ...]) -> bool:
    """Whether the rows' keys (compared column by column, the first column first) strictly increase."""
    greater = np.zeros(len(keys[0]) - 1, dtype=bool)
    equal = np.ones(len(keys[0]) - 1, dtype=bool)
    for key in keys:
        before, after = key[:-1], key[1:]
        greater |= equal & (after > before)
        equal &= after == before
        if not (greater | equal).all():
            return False
    return bool(greater.all())


def _interval_batch(writer, rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Interval rows to write (with revision) and the number of duplicates."""
    if rows.empty:
        return rows.assign(revision=pd.Series(dtype="int32")), 0
    repeated = _repeated_keys(rows["_pcode"].to_numpy(), rows["start"].array.asi8, rows["end"].array.asi8)
    # the key as a frame only when a repeat or a stored row needs it (a fresh backfill does not)
    int_key = pd.DataFrame({"p": rows["_pcode"].to_numpy(), "s": rows["start"].array.asi8,
                            "e": rows["end"].array.asi8}) if repeated.any() else None
    duplicates = 0
    if int_key is not None:  # the same key twice in one batch: equal energy is a duplicate, else a revision
        in_batch_dup = int_key.assign(v=rows["energy"].to_numpy()).duplicated(keep="first").to_numpy()
        duplicates = int(in_batch_dup.sum())
        rows, int_key, repeated = rows[~in_batch_dup], int_key[~in_batch_dup], repeated[~in_batch_dup]
    row_codes, row_ids = pd.factorize(rows["point_id"])
    ids = pd.Index(np.asarray(row_ids, dtype=object))
    stored = writer.stored(_pairs(rows), list(ids), columns=("point_id", "start", "end", "revision", "energy"),
                           starts=(rows["start"].min(), rows["start"].max()))
    base = np.zeros(len(rows), dtype="int64")
    if len(stored):
        if int_key is None:
            int_key = pd.DataFrame({"p": rows["_pcode"].to_numpy(), "s": rows["start"].array.asi8,
                                    "e": rows["end"].array.asi8})
        # join on integers (point code, start ns, end ns): string keys cost far more
        first = np.empty(len(ids), dtype="int64")
        first[row_codes[::-1]] = np.arange(len(rows))[::-1]
        pcode_of = rows["_pcode"].to_numpy()[first]
        stored_codes, stored_ids = pd.factorize(stored["point_id"])
        where = ids.get_indexer(np.asarray(stored_ids, dtype=object))
        stored_p = np.where(where >= 0, pcode_of[where], -1)[stored_codes]
        probe = int_key.assign(v=rows["energy"].to_numpy(), i=np.arange(len(rows)))
        known = pd.DataFrame({"p": stored_p, "s": stored["start"].array.asi8, "e": stored["end"].array.asi8,
                              "sv": stored["energy"].to_numpy(), "revision": stored["revision"].to_numpy()})
        joint = _joint_keys([int_key[c].to_numpy() for c in ("p", "s", "e")],
                            [known[c].to_numpy() for c in ("p", "s", "e")])
        if joint is None:
            matched = probe.merge(known, on=["p", "s", "e"], how="inner")
        else:  # one int64 column to join on is several times faster than three
            matched = probe[["v", "i"]].assign(k=joint[0]).merge(
                known[["sv", "revision"]].assign(k=joint[1]), on="k", how="inner")
        if len(matched):
            same = _same(matched["v"].to_numpy(), matched["sv"].to_numpy())
            keep = np.ones(len(rows), bool)
            keep[matched.loc[same, "i"].to_numpy()] = False
            top = matched.groupby("i")["revision"].max()
            base[top.index.to_numpy()] = top.to_numpy() + 1
            duplicates += int((~keep).sum())
            rows, int_key, repeated, base = rows[keep], int_key[keep], repeated[keep], base[keep]
    if rows.empty:
        return rows.assign(revision=pd.Series(dtype="int32")), duplicates
    order = int_key.groupby(["p", "s", "e"], sort=False).cumcount().to_numpy() if repeated.any() else 0
    return rows.assign(revision=(base + order).astype("int32")), duplicates


def _aligned(incoming: pd.DataFrame, kept: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``incoming`` (a batch: categoricals, Arrow strings, ns times) and ``kept`` (stored rows as read back) with
    the same dtypes, so that concatenating them converts nothing row by row (categories are united)."""
    incoming, kept = incoming.copy(), kept.copy()
    for column in kept.columns.intersection(incoming.columns):
        mine, theirs = incoming[column], kept[column]
        if mine.dtype == theirs.dtype:
            continue
        if isinstance(mine.dtype, pd.CategoricalDtype):
            labels = mine.cat.categories.union(pd.Index(pd.unique(theirs.astype(object).dropna())))
            incoming[column] = mine.cat.set_categories(labels)
            kept[column] = pd.Categorical(theirs.astype(object), categories=labels)
        elif isinstance(mine.dtype, pd.DatetimeTZDtype) or pd.api.types.is_string_dtype(mine.dtype):
            kept[column] = theirs.astype(mine.dtype)
    return incoming, kept


def _cumulative_batch(writer, rows: pd.DataFrame, points: pd.DataFrame
                      ) -> tuple[pd.DataFrame, int, list[int], int]:
    """Differenced rows to write for cumulative reads; duplicates, conflicting rows, re-derived count."""
    empty = rows.iloc[0:0].assign(revision=pd.Series(dtype="int32"))
    if rows.empty:
        return empty, 0, [], 0
    key = ["point_id", "end"]
    in_batch_dup = rows.duplicated(subset=[*key, "norm"], keep="first").to_numpy()
    duplicates = int(in_batch_dup.sum())
    rows = rows[~in_batch_dup]
    clash = rows.duplicated(subset=key, keep=False).to_numpy()
    conflict = rows.loc[clash, "_row"].astype(int).tolist()
    rows = rows[~clash]
    stored = writer.stored_all_months(rows["enterprise_id"].unique(), rows["point_id"].unique(), COLUMNS)
    stored_latest = stored.iloc[0:0]
    if len(stored):
        info = points.loc[stored["point_id"]]
        # one conversion factor per distinct (unit, canonical unit) pair, then a take: no Python per row
        pair_codes, pairs = pd.factorize(pd.MultiIndex.from_arrays(
            [stored["unit_raw"].astype(object).to_numpy(), info["canonical_unit"].astype(object).to_numpy()]))
        per_pair = np.array([_factor(str(u), str(c)) for u, c in pairs], dtype=float)
        stored["norm"] = stored["value_raw"].to_numpy() * info["multiplier"].to_numpy() * per_pair[pair_codes]
        matched = rows[["_row", *key, "norm"]].reset_index().merge(
            stored[[*key, "norm", "revision"]], on=key, how="inner", suffixes=("", "_stored"))
        dup_index = pd.Index(matched.loc[_same(matched["norm"].to_numpy(), matched["norm_stored"].to_numpy()),
                                         "index"].unique())
        duplicates += len(dup_index)
        rows = rows.drop(index=dup_index)
        stored_latest = stored.sort_values("revision").drop_duplicates(key, keep="last")
    if rows.empty:
        return empty, duplicates, conflict, 0
    top = stored.groupby(key)["revision"].max() if len(stored) else pd.Series(dtype="int64")
    incoming = rows.assign(_stored=False)
    kept = stored_latest.merge(incoming[key], on=key, how="left", indicator=True)
    kept = stored_latest[(kept["_merge"] == "left_only").to_numpy()].assign(_stored=True, _row=-1)
    if len(kept):
        incoming, kept = _aligned(incoming, kept)
        series = pd.concat([incoming, kept], ignore_index=True)
    else:
        series = incoming.reset_index(drop=True)
    series = series.sort_values(["point_id", "end"], kind="stable")
    series["_stored_start"] = series["start"]
    series["_stored_energy"] = series["energy"]
    series["_stored_flag"] = series["energy_flag"]
    previous_end = series.groupby("point_id")["end"].shift(1)
    previous_norm = series.groupby("point_id")["norm"].shift(1)
    diff = series["norm"] - previous_norm
    # float even when point_id is categorical (a map of a categorical can stay categorical, which cannot add)
    maximum = series["point_id"].map(points["register_max_canonical"]).astype(float)
    first = previous_end.isna()
    drop = diff < 0
    plausible = (diff + maximum).to_numpy(float) <= _rollover_bound(series, diff, previous_end, points).to_numpy(float)
    rollover = drop & maximum.notna() & plausible
    series["start"] = previous_end.where(~first, series["end"])
    series["energy"] = diff.where(~drop, diff + maximum).where(~(drop & ~rollover), np.nan)
    series["energy_flag"] = np.select([first, rollover, drop], ["first_read", "rollover", "reset"], "")
    series["enterprise_id"] = series["point_id"].map(points["enterprise_id"])
    series["energy_unit"] = series["point_id"].map(points["canonical_unit"])
    # a stored read is re-derived only when its previous read is new (a late read fell before it, or a revised
    # value of that read came in): the rollover bound moves as history grows, but a decision already stored is
    # not revisited on that account alone (batches would otherwise re-revise old reads)
    previous_incoming = series.groupby("point_id")["_stored"].shift(1).eq(False).to_numpy()
    moved = series["_stored"] & (previous_incoming | (series["start"] != series["_stored_start"]).to_numpy())
    keep_stored = series["_stored"] & ~moved
    series["energy"] = series["energy"].where(~keep_stored, series["_stored_energy"])
    series["energy_flag"] = series["energy_flag"].where(~keep_stored, series["_stored_flag"])
    changed = moved & ~(
        _same(series["energy"].to_numpy(float), series["_stored_energy"].to_numpy(float))
        & (series["energy_flag"] == series["_stored_flag"]).to_numpy())
    out = series[~series["_stored"] | changed].copy()
    base = pd.MultiIndex.from_frame(out[key]).map(lambda k: int(top.get(k, -1)) + 1) if len(top) else \
        np.zeros(len(out), int)
    out["revision"] = np.asarray(base, dtype="int32")
    out.loc[out["_stored"], "batch_id"] = rows["batch_id"].iloc[0]
    out.loc[out["_stored"], "received_at"] = rows["received_at"].iloc[0]
    out["_row"] = out["_row"].astype(int)
    for column in ("start", "end", "received_at"):
        out[column] = pd.to_datetime(out[column], utc=True).astype("datetime64[ns, UTC]")
    return out, duplicates, conflict, int(changed.sum())


def ingest_many(lake: Lake | str | Path, registry: object, batches: Iterable[pd.DataFrame], *, source: str,
                **kwargs: object) -> IngestReport:
    """Ingest several frames (file chunks), each its own durable batch; returns the summed report."""
    points = point_table(registry)
    total = IngestReport()
    offset = 0
    for chunk in batches:
        part = ingest_frame(lake, registry, chunk, source=source, row_offset=offset, points=points,
                            **kwargs)  # type: ignore[arg-type]
        offset += len(chunk)
        total.merge(part)
    return total


# ---------------------------------------------------------------------------------------------------
# Files (CSV, Parquet, Excel backfills), streamed in chunks

FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".xlsx")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """File text → ingest input: numbers where the ``value`` text is a number, the text itself otherwise
    (so that a stray word is rejected as a wrong type instead of failing the whole file)."""
    if "value" in frame.columns and not pd.api.types.is_numeric_dtype(frame["value"].dtype):
        text = frame["value"]
        numeric = pd.to_numeric(text, errors="coerce")
        stray = numeric.isna() & text.notna() & (text.astype(str).str.strip() != "")
        frame = frame.assign(value=numeric.astype(object).where(~stray, text) if stray.any() else numeric)
    return frame


def iter_reading_file(path: str | Path, *, chunk_rows: int = 1_000_000,
                      categorical: bool = False) -> Iterable[pd.DataFrame]:
    """Chunks of at most ``chunk_rows`` readings from a CSV, Parquet or Excel file (strings kept as text).

    CSV and Parquet are streamed (Arrow readers), so memory stays bounded for files of any size.
    ``categorical`` hands the text columns of CSV and Parquet over as pandas categoricals of the same texts
    (Arrow dictionaries: a backfill repeats each point id, unit and timestamp many times), which
    :func:`ingest_frame` parses once per distinct value.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    if suffix == ".parquet":
        handle = pq.ParquetFile(path)
        missing = [c for c in INPUT_COLUMNS if c not in handle.schema_arrow.names]
        if missing:
            raise InputError([Problem("missing column", file=str(path), field=c) for c in missing])
        if categorical:
            text = [name for name in _DICTIONARY_COLUMNS if name in handle.schema_arrow.names and (
                pa.types.is_string(handle.schema_arrow.field(name).type)
                or pa.types.is_large_string(handle.schema_arrow.field(name).type))]
            handle = pq.ParquetFile(path, read_dictionary=text)
        for batch in handle.iter_batches(batch_size=chunk_rows):
            yield _typed(batch.to_pandas(types_mapper=_string_mapper))
        return
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            header = handle.readline().strip().split(",")
        names = [h.strip().strip('"') for h in header]
        missing = [c for c in INPUT_COLUMNS if c not in names]
        if missing:
            raise InputError([Problem("missing column", file=str(path), field=c) for c in missing])
        types = {c: pa.dictionary(pa.int32(), pa.string()) if categorical and c in _DICTIONARY_COLUMNS
                 else pa.string() for c in names if c != "value"}
        read_options = pacsv.ReadOptions(block_size=16 << 20)
        convert_options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, null_values=[""])
        if path.stat().st_size <= _CSV_WHOLE_FILE_BYTES:
            # read at once: Arrow parses the blocks on every core (the streaming reader below does much of the
            # parsing in this thread); the chunks are slices of the one table
            try:
                whole = pacsv.read_csv(path, read_options=read_options, convert_options=convert_options)
            except pa.ArrowInvalid:  # a value column whose type changes between blocks: read it all as text
                yield from _csv_as_text(path, chunk_rows)
                return
            for begin in range(0, whole.num_rows, chunk_rows):
                yield _typed(whole.slice(begin, chunk_rows).to_pandas(types_mapper=_string_mapper))
            return
        reader = pacsv.open_csv(path, read_options=read_options, convert_options=convert_options)
        pending: pa.Table | None = None
        emitted = 0
        try:
            for batch in reader:
                table = pa.Table.from_batches([batch])
                pending = table if pending is None else pa.concat_tables([pending, table], promote_options="default")
                while pending.num_rows >= chunk_rows:
                    yield _typed(pending.slice(0, chunk_rows).to_pandas(types_mapper=_string_mapper))
                    emitted += chunk_rows
                    pending = pending.slice(chunk_rows)
        except pa.ArrowInvalid:
            # a value column whose type changes between blocks: read the rest as text
            yield from _csv_as_text(path, chunk_rows, skip=emitted)
            return
        if pending is not None and pending.num_rows:
            yield _typed(pending.to_pandas(types_mapper=_string_mapper))
        return
    if suffix in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, dtype={"point_id": str, "unit": str})
        missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError([Problem("missing column", file=str(path), field=c) for c in missing])
        for begin in range(0, len(frame), chunk_rows):
            yield _typed(frame.iloc[begin:begin + chunk_rows])
        return
    raise InputError(Problem(f"unsupported file type '{suffix}' (one of {', '.join(FILE_SUFFIXES)})",
                             file=str(path)))


#: a CSV file up to this size is parsed as one table (about 3 M readings; its Arrow table is far smaller than
#: the text), a larger one streamed block by block so that memory stays bounded
_CSV_WHOLE_FILE_BYTES = 256 * 1024 * 1024
#: text columns read as Arrow dictionaries (categoricals) when ``iter_reading_file(categorical=True)``
_DICTIONARY_COLUMNS: tuple[str, ...] = ("point_id", "start", "end", "unit", "received_at")


def _csv_as_text(path: Path, chunk_rows: int, skip: int = 0) -> Iterable[pd.DataFrame]:
    with pd.read_csv(path, dtype=str, chunksize=chunk_rows, keep_default_na=False, na_values=[""],
                     skiprows=range(1, skip + 1)) as chunks:
        for chunk in chunks:
            yield _typed(chunk)


def _string_mapper(arrow_type: pa.DataType) -> object:
    return pd.StringDtype("pyarrow") if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
        else None


def ingest_files(lake: Lake | str | Path, registry: object, paths: Iterable[str | Path], *,
                 chunk_rows: int = 1_000_000, progress: Progress | None = None,
                 **kwargs: object) -> dict[str, IngestReport]:
    """Ingest each file in chunks (each chunk one durable batch); a report per file.

    A chunk that fails half-way leaves the earlier chunks stored; re-running the file is safe (they
    come back as duplicates). ``progress`` (:mod:`citycarbon.progress`) counts the files done, and is called
    after each chunk too (label: the file and its rows so far).
    """
    points = point_table(registry)
    reports: dict[str, IngestReport] = {}
    paths = list(paths)
    report = or_silent(progress)
    report(0, len(paths), "")
    for number, path in enumerate(paths):
        total = IngestReport()
        offset = 0
        for chunk in iter_reading_file(path, chunk_rows=chunk_rows, categorical=True):
            part = ingest_frame(lake, registry, chunk, source=f"file:{Path(path).name}", row_offset=offset,
                                points=points, **kwargs)  # type: ignore[arg-type]
            offset += len(chunk)
            total.merge(part)
            total.batch_id = part.batch_id or total.batch_id
            report(number, len(paths), f"{Path(path).name} {offset:,}")
        reports[str(path)] = total
        report(number + 1, len(paths), Path(path).name)
    return reports


# ---------------------------------------------------------------------------------------------------
# JSON batches (HTTP and MQTT share this boundary)

MAX_BATCH_ROWS = 10_000
#: bytes a payload may have before it is refused unread: about ten times a normal 10 000-row batch
#: (~150 bytes per reading in JSON), the issue's "10× oversized" threshold
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024


class BatchRefused(ValueError):
    """A whole batch refused before any row is looked at; ``too_large`` for size limits (HTTP 413)."""

    def __init__(self, reason: str, *, field: str | None = None, too_large: bool = False):
        super().__init__(reason)
        self.reason, self.field, self.too_large = reason, field, too_large

    def to_dict(self) -> dict:
        return {"reason": self.reason, "field": self.field}


def parse_readings_payload(payload: bytes | str | dict, *, max_rows: int = MAX_BATCH_ROWS,
                           max_bytes: int = MAX_PAYLOAD_BYTES) -> tuple[pd.DataFrame, str | None]:
    """``{"readings": [{"point_id", "start", "end", "value", "unit"}, ...], "batch_id"?}`` → frame, batch id.

    Raises :class:`BatchRefused` naming the field for bad JSON, a wrong shape, or more than ``max_rows``
    readings / ``max_bytes`` bytes. Row-level problems (types, units, points) are left to
    :func:`ingest_frame`, which reports them per row.

    A well-formed body is decoded by msgspec straight into per-reading structs (about four times faster than
    ``json.loads`` plus ``DataFrame.from_records`` on a 10 000-row batch, the HTTP ingest's hot path) and the
    frame is built from columns. Anything msgspec refuses — bad JSON, a wrong shape, ``NaN`` literals, numbers
    beyond 64 bits — goes through the standard library path, which gives the contract's answers and reasons;
    both paths return equal frames (property test in ``tests/monitoring/test_http_parse.py``).
    """
    if isinstance(payload, bytes | str):
        if len(payload) > max_bytes:
            raise BatchRefused(f"payload of {len(payload)} bytes exceeds {max_bytes} bytes", too_large=True)
        decoder, errors = _payload_decoder()
        try:
            decoded = decoder.decode(payload)
        except errors:
            return _parse_payload_stdlib(payload, max_rows=max_rows)
        return _frame_of_structs(decoded.readings, decoded.batch_id, max_rows)
    return _parse_payload_stdlib(payload, max_rows=max_rows)


_DECODER: list = []  # (msgspec decoder, its errors), built on first use


def _payload_decoder() -> tuple[object, tuple[type[Exception], ...]]:
    """A msgspec decoder of the batch shape: every reading field as JSON gave it (``object``), an absent one
    NaN as ``DataFrame.from_records`` leaves it, ``received_at`` UNSET when absent; built once."""
    if not _DECODER:
        import msgspec

        absent = float("nan")
        reading = msgspec.defstruct("Reading", [(name, object, absent) for name in INPUT_COLUMNS]
                                    + [("received_at", object, msgspec.UNSET)])
        payload = msgspec.defstruct("Payload", [("readings", list[reading]), ("batch_id", str | None, None)])
        _DECODER.append((msgspec.json.Decoder(payload),
                         (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)))
    return _DECODER[0]


def _frame_of_structs(readings: list, batch_id: str | None, max_rows: int) -> tuple[pd.DataFrame, str | None]:
    import msgspec

    if len(readings) > max_rows:
        raise BatchRefused(f"{len(readings)} readings in one batch; at most {max_rows}", field="readings",
                           too_large=True)
    from operator import attrgetter

    columns = {name: list(map(attrgetter(name), readings)) for name in INPUT_COLUMNS}
    received = list(map(attrgetter("received_at"), readings))
    if received.count(msgspec.UNSET) < len(received):  # UNSET compares by identity: a C loop
        nan = float("nan")
        columns["received_at"] = [nan if value is msgspec.UNSET else value for value in received]
    return _frame_of_columns(columns, len(readings)), batch_id


def _frame_of_columns(columns: dict[str, list], rows: int) -> pd.DataFrame:
    """The frame ``DataFrame.from_records`` makes of the same readings (same dtypes, same missing values).

    Where pandas infers Arrow-backed strings (pandas 3), a column of only strings (and nulls) is converted by
    pyarrow in one call instead of pandas' per-object inference; any other column is inferred by pandas."""
    if rows == 0:
        return pd.DataFrame(columns=list(columns))
    inferred = pd.Series(["x"]).dtype
    arrow_strings = getattr(inferred, "storage", None) == "pyarrow"
    series = {}
    for name, values in columns.items():
        array = None
        if arrow_strings:
            try:
                array = pa.array(values, pa.large_string())
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only strings and nulls
                array = None
        if array is not None and array.null_count < len(array):  # only nulls: pandas infers object
            series[name] = array.to_pandas(types_mapper={pa.large_string(): inferred}.get)
        else:
            series[name] = pd.Series(values)
    return pd.DataFrame(series)


def _parse_payload_stdlib(payload: bytes | str | dict, *, max_rows: int) -> tuple[pd.DataFrame, str | None]:
    """The reference parser: ``json.loads`` and ``DataFrame.from_records``; every refusal's reason comes from
    here."""
    import json

    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BatchRefused(f"body is not valid JSON: {exc}", field="body") from None
    if not isinstance(payload, dict):
        raise BatchRefused("expected a JSON object with a 'readings' list", field="body")
    readings = payload.get("readings")
    if not isinstance(readings, list):
        raise BatchRefused("'readings' must be a list of reading objects", field="readings")
    if len(readings) > max_rows:
        raise BatchRefused(f"{len(readings)} readings in one batch; at most {max_rows}", field="readings",
                           too_large=True)
    for index, item in enumerate(readings):
        if not isinstance(item, dict):
            raise BatchRefused(f"readings[{index}] must be an object", field=f"readings[{index}]")
    batch_id = payload.get("batch_id")
    if batch_id is not None and not isinstance(batch_id, str):
        raise BatchRefused("'batch_id' must be a string", field="batch_id")
    try:  # json.loads lets a lone "\ud83d" escape through; no store (Arrow, SQLite, PostgreSQL) can keep it
        json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        raise BatchRefused("text holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), which is not a "
                           "character", field="body") from None
    frame = pd.DataFrame.from_records(readings, columns=[*INPUT_COLUMNS, "received_at"]
                                      if any("received_at" in r for r in readings) else list(INPUT_COLUMNS))
    return frame, batch_id  # JSON types as sent: a number stays a number, a string a string

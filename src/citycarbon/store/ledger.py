"""The versioned (bitemporal) ledger of the long-format datasets: balances, statistics, capacity, …

Every value is one row of ``observations`` with its valid time (``valid_year``, ``valid_month``) and its
recorded time (``recorded_at`` … ``superseded_at``; NULL = still current). Writing a frame
(:func:`write_frame`):

* a row whose key and contents (value, unit, status, source) are already current is left alone (re-recording
  the same frame is a no-op: no new version, no audit row);
* a row whose contents changed closes the current version (``superseded_at`` = now) and inserts a new one —
  a value is never updated in place;
* with ``scope="years"`` (imports) current rows of the same dataset, region and year (and month) that the
  frame no longer holds are closed; ``scope="all"`` closes every current row the frame lacks; ``"none"`` adds
  and revises only.

Reading: :func:`current_frame` returns exactly the long DataFrame the domain functions take (the columns and
dtypes of ``data/<city>/*.csv`` after :func:`citycarbon.datasets.read_reference`; ``monthly`` and
``districts`` as the tracking service reads them), ``as_of=`` answers "what did we know then" (rows recorded at
or before ``as_of`` and not yet superseded at that time). :func:`reference_dataset` assembles a
:class:`~citycarbon.datasets.ReferenceDataset` whose ``files`` are ``Path("db:<table>")`` placeholders.
:func:`version` changes with every write; frames are cached per (database, dataset, region, as_of, version).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.importers.schemas import STATUSES
from citycarbon.store import audit
from citycarbon.store.models import LedgerRevision, Observation, PlanRecord
from citycarbon.store.types import utcnow
from citycarbon.tables import Table, load_tables

__all__ = [
    "ALIASES",
    "DATASETS",
    "REFERENCE_TABLES",
    "DatasetSpec",
    "WriteResult",
    "city_region",
    "clear_cache",
    "current_frame",
    "history",
    "observations_at",
    "provenance_frame",
    "reference_dataset",
    "revisions",
    "spec_for",
    "version",
    "write_frame",
]


@dataclass(frozen=True)
class DatasetSpec:
    """How one long table maps onto ``observations``.

    ``dims`` are the key columns besides year, month and region (stored in ``dim1..dim3``); ``value`` is the
    numeric column. ``nullable_dims`` are stored as ``''`` and read back as missing (NaN / <NA>);
    ``int_dims`` come back as pandas ``Int64``. ``region_int`` reproduces a file whose region column is read
    as integers (``monthly.csv``).
    """

    name: str
    columns: tuple[str, ...]
    dims: tuple[str, ...]
    value: str
    monthly: bool = False
    nullable_dims: tuple[str, ...] = ()
    int_dims: tuple[str, ...] = ()
    region_int: bool = False
    file: str = ""

    @property
    def key_columns(self) -> tuple[str, ...]:
        return ("year", "month", "region", *self.dims) if self.monthly else ("year", "region", *self.dims)


def _dataset_spec(table: Table) -> DatasetSpec:
    """The ledger's view of a table of the registry (``data/tables.yaml``): key columns besides year, month
    and region become ``dim1..dim3``; a nullable key column without a fill value reads back as missing."""
    return DatasetSpec(
        table.name, table.column_names, table.dims, table.value, monthly=table.monthly,
        nullable_dims=tuple(d for d in table.dims if table.column(d).nullable and table.column(d).fill is None),
        int_dims=tuple(d for d in table.dims if table.column(d).dtype == "int"),
        region_int=table.column("region").dtype == "int", file=table.file)


DATASETS: dict[str, DatasetSpec] = {name: _dataset_spec(table) for name, table in load_tables().items()}
#: other names accepted for a dataset
ALIASES = {"energy_balance": "balance", "district": "districts"}
#: the six tables of a ReferenceDataset
REFERENCE_TABLES = ("balance", "statistics", "capacity", "process_activity", "forest", "wetland")

Scope = Literal["years", "all", "none"]


def spec_for(dataset: str) -> DatasetSpec:
    """The spec of ``dataset`` (or an alias); :class:`InputError` with the nearest name otherwise."""
    name = ALIASES.get(dataset, dataset)
    if name not in DATASETS:
        choices = [*DATASETS, *ALIASES]
        raise InputError(Problem(f"unknown dataset '{dataset}'", field="dataset", value=dataset,
                                 suggestion=nearest(dataset, choices)))
    return DATASETS[name]


# ---- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    """What a write did; ``revision`` is None when nothing changed."""

    dataset: str
    inserted: int
    superseded: int
    closed: int
    unchanged: int
    revision: int | None

    @property
    def changed(self) -> bool:
        return self.revision is not None

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "inserted": self.inserted, "superseded": self.superseded,
                "closed": self.closed, "unchanged": self.unchanged, "revision": self.revision}


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _natural_key(year: int, month: int | None, region: str, dims: Iterable[str]) -> str:
    parts: list[Any] = [year, month, region, *dims] if month is not None else [year, region, *dims]
    return json.dumps(parts, separators=(",", ":"), ensure_ascii=False)


def _records(spec: DatasetSpec, frame: pd.DataFrame, source: str) -> list[dict[str, Any]]:
    """The frame as observation rows (checked: columns present, numbers finite, status known, keys unique)."""
    problems = Problems()
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise InputError([Problem(f"missing column '{c}'", file=source, field=c) for c in missing])
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    columns = list(spec.columns)
    for position, row in enumerate(frame[columns].itertuples(index=False, name=None), start=1):
        record = dict(zip(columns, row, strict=True))
        where = {"file": source, "row": position}
        try:
            year = int(record["year"])
            month = int(record["month"]) if spec.monthly else None
            value = float(record[spec.value])
        except (TypeError, ValueError) as exc:
            problems.add(f"not a number ({exc})", field=spec.value, **where)
            continue
        if value != value or value in (float("inf"), float("-inf")):
            problems.add("value is not a finite number", field=spec.value, value=value, **where)
            continue
        status = _text(record["status"])
        if status not in STATUSES:
            problems.add(f"unknown status '{status}'", field="status", value=status,
                         suggestion=nearest(status, list(STATUSES)), **where)
        source_text = _text(record["source"])
        if not source_text:
            problems.add("source is missing (every stored value names its source)", field="source", **where)
        dims = [_text(record[d]) for d in spec.dims]
        region = _text(record["region"])
        unit = _text(record["unit"])
        # the column sizes of ``observations``: SQLite would store longer text, PostgreSQL would refuse it
        sized = [("region", region, 32), ("unit", unit, 64), *((d, v, 128) for d, v in zip(spec.dims, dims,
                                                                                             strict=True))]
        too_long = [(c, v, n) for c, v, n in sized if len(v) > n]
        for column, text_value, limit in too_long:
            problems.add(f"{column} longer than {limit} characters", field=column, value=text_value[:40], **where)
        if not region:
            problems.add("region is missing", field="region", **where)
        if too_long or not region:
            continue
        key = _natural_key(year, month, region, dims)
        if key in seen:
            problems.add(f"duplicate row (same key as row {seen[key]})", field=spec.dims[0], **where)
            continue
        seen[key] = position
        padded = [*dims, "", "", ""][:3]
        out.append({"dataset": spec.name, "natural_key": key, "region": region, "valid_year": year,
                    "valid_month": month, "dim1": padded[0], "dim2": padded[1], "dim3": padded[2], "value": value,
                    "unit": unit, "status": status, "source": source_text})
    problems.raise_if_any()
    return out


def _content(row: Any) -> tuple:
    return (float(row.value), row.unit, row.status, row.source)


def _now_after(session: Session) -> datetime:
    """Now, strictly after the newest revision (recorded times never tie or go backwards)."""
    now = utcnow()
    last = session.execute(select(func.max(LedgerRevision.at))).scalar_one_or_none()
    if last is not None and last >= now:
        now = last + timedelta(microseconds=1)
    return now


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def write_frame(session: Session, dataset: str, frame: pd.DataFrame, *, actor: Any, batch_id: int | None = None,
                scope: Scope = "years", reason: str | None = None, source: str | None = None) -> WriteResult:
    """Record ``frame`` (the dataset's long format) in the ledger; audited in the same transaction.

    See the module docstring for what changes. Raises :class:`InputError` (nothing written) for missing
    columns, non-numeric values, unknown statuses, empty sources or duplicate keys.
    """
    spec = spec_for(dataset)
    if scope not in ("years", "all", "none"):
        raise ValueError(f"scope must be years, all or none, not {scope!r}")
    records = _records(spec, frame, source or f"<{spec.name}>")
    current_query = select(Observation.id, Observation.natural_key, Observation.region, Observation.valid_year,
                           Observation.valid_month, Observation.value, Observation.unit, Observation.status,
                           Observation.source).where(Observation.dataset == spec.name,
                                                     Observation.superseded_at.is_(None))
    current = {row.natural_key: row for row in session.execute(current_query)}
    incoming = {r["natural_key"]: r for r in records}
    to_insert: list[dict[str, Any]] = []
    to_close: list[int] = []
    superseded = unchanged = 0
    for key, record in incoming.items():
        old = current.get(key)
        if old is None:
            to_insert.append(record)
        elif _content(old) == (record["value"], record["unit"], record["status"], record["source"]):
            unchanged += 1
        else:
            to_close.append(old.id)
            to_insert.append(record)
            superseded += 1
    closed = 0
    if scope != "none":
        slices = {(r["region"], r["valid_year"], r["valid_month"]) for r in records}
        for key, old in current.items():
            if key in incoming:
                continue
            if scope == "all" or (old.region, old.valid_year, old.valid_month) in slices:
                to_close.append(old.id)
                closed += 1
    if not to_insert and not to_close:
        return WriteResult(spec.name, 0, 0, 0, unchanged, None)

    now = _now_after(session)
    name, _ = audit.actor_of(actor)
    revision = LedgerRevision(token=str(uuid.uuid4()), at=now, dataset=spec.name, batch_id=batch_id, actor=name,
                              inserted=len(to_insert), superseded=superseded, closed=closed, reason=reason)
    session.add(revision)
    session.flush()
    for ids in _chunks(to_close):
        session.execute(update(Observation).where(Observation.id.in_(ids)).values(superseded_at=now)
                        .execution_options(synchronize_session=False))
    if to_insert:
        rows = [{**r, "recorded_at": now, "superseded_at": None, "batch_id": batch_id, "revision_id": revision.id}
                for r in to_insert]
        for chunk in _chunks(rows, 1000):
            session.execute(insert(Observation), chunk)
    result = WriteResult(spec.name, len(to_insert) - superseded, superseded, closed, unchanged, revision.id)
    audit.record(session, actor, "ledger.write", "ledger", spec.name,
                 before={"current_rows": len(current)},
                 after={**result.to_dict(), "batch_id": batch_id, "scope": scope, "recorded_at": now},
                 reason=reason)
    return result


# ---- reading -------------------------------------------------------------------------------------


def version(session: Session) -> int:
    """The ledger version: the id of the newest revision (0 for an empty ledger); changes on every write."""
    return int(session.execute(select(func.coalesce(func.max(LedgerRevision.id), 0))).scalar_one())


def version_time(session: Session, number: int) -> datetime:
    """The moment ledger version ``number`` was written (its revision's time): reading the ledger ``as_of`` it
    gives exactly the data of that version. :class:`InputError` for a version the ledger never had."""
    row = session.execute(select(LedgerRevision.at).where(LedgerRevision.id == int(number))).scalar_one_or_none()
    if row is None:
        current = version(session)
        raise InputError(Problem(f"ledger version {number} does not exist (current: {current})",
                                 field="ledger_version", value=number,
                                 message_zh=f"数据台账版本 {number} 不存在（当前版本 {current}）"))
    return row if row.tzinfo is not None else row.replace(tzinfo=UTC)


def _database_key(session: Session) -> str:
    """The session's database URL without its password (a cache key part).

    ``get_bind()`` is an Engine or, for a session bound to a caller's Connection, a Connection, which has no
    ``.url``; both have ``.engine``.
    """
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _version_token(session: Session) -> tuple[int, str]:
    row = session.execute(select(LedgerRevision.id, LedgerRevision.token)
                          .order_by(LedgerRevision.id.desc()).limit(1)).first()
    return (0, "") if row is None else (int(row.id), row.token)


_CACHE: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 128
_DATASETS: OrderedDict[tuple, Any] = OrderedDict()
_DATASET_CACHE_SIZE = 16


def _visible(statement, as_of: datetime | None):
    if as_of is None:
        return statement.where(Observation.superseded_at.is_(None))
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return statement.where(Observation.recorded_at <= as_of,
                           or_(Observation.superseded_at.is_(None), Observation.superseded_at > as_of))


_RAW_COLUMNS = ("region", "year", "month", "dim1", "dim2", "dim3", "value", "unit", "status", "source")


def _build_frame(spec: DatasetSpec, rows: list[Any]) -> pd.DataFrame:
    """Observation rows → the dataset's long frame with the shipped CSV's column names and dtypes."""
    raw = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(_RAW_COLUMNS))  # plain tuples: fast path
    renames = {f"dim{i}": name for i, name in enumerate(spec.dims, start=1)}
    renames["value"] = spec.value
    frame = raw.rename(columns=renames)
    dtypes: dict[str, Any] = {"year": "int64", spec.value: "float64", "unit": "str", "status": "str",
                              "source": "str", "region": "int64" if spec.region_int else "str"}
    if spec.monthly:
        dtypes["month"] = "int64"
    for column in spec.dims:
        if column in spec.nullable_dims or column in spec.int_dims:
            frame[column] = frame[column].where(frame[column] != "", None)
        if column in spec.int_dims:
            dtypes[column] = "Int64"
            frame[column] = pd.to_numeric(frame[column])
        else:
            dtypes[column] = "str"
    return frame[list(spec.columns)].astype(dtypes)


def current_frame(session: Session, dataset: str, *, region: str | None = None,
                  as_of: datetime | None = None) -> pd.DataFrame:
    """The dataset as a long DataFrame (the shipped CSV's columns and dtypes), as known now or at ``as_of``.

    Rows come in recording order (the CSV order for seeded data). ``region`` keeps one region's rows.
    Cached per (database, dataset, region, as_of, ledger version); the caller gets its own copy.
    """
    spec = spec_for(dataset)
    key = (_database_key(session), spec.name, region, as_of, _version_token(session))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached.copy()
    statement = select(Observation.region, Observation.valid_year, Observation.valid_month, Observation.dim1,
                       Observation.dim2, Observation.dim3, Observation.value, Observation.unit, Observation.status,
                       Observation.source).where(Observation.dataset == spec.name)
    if region is not None:
        statement = statement.where(Observation.region == str(region))
    # Core execution (no ORM row processing): about a third of the time for a few thousand rows
    rows = session.connection().execute(_visible(statement, as_of).order_by(Observation.id)).all()
    frame = _build_frame(spec, rows)
    with _CACHE_LOCK:
        _CACHE[key] = frame
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return frame.copy()


def provenance_frame(session: Session, dataset: str, *, region: str | None = None,
                     as_of: datetime | None = None) -> pd.DataFrame:
    """:func:`current_frame` with each row's origin: ``status`` (official, reported, estimate …, already a column)
    plus ``batch_id`` (the import batch that wrote the value; <NA> for values seeded from the shipped files)
    and ``recorded_at``. Same rows in the same order as :func:`current_frame`; not cached."""
    spec = spec_for(dataset)
    statement = select(Observation.region, Observation.valid_year, Observation.valid_month, Observation.dim1,
                       Observation.dim2, Observation.dim3, Observation.value, Observation.unit, Observation.status,
                       Observation.source, Observation.batch_id, Observation.recorded_at
                       ).where(Observation.dataset == spec.name)
    if region is not None:
        statement = statement.where(Observation.region == str(region))
    rows = session.connection().execute(_visible(statement, as_of).order_by(Observation.id)).all()
    frame = _build_frame(spec, [tuple(r)[:len(_RAW_COLUMNS)] for r in rows])
    frame["batch_id"] = pd.array([r.batch_id for r in rows], dtype="Int64")
    frame["recorded_at"] = [r.recorded_at for r in rows]
    return frame


def clear_cache() -> None:
    """Forget every cached frame (tests; a restore replaces the database under the same URL)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _DATASETS.clear()


def history(session: Session, dataset: str, key: dict[str, Any] | tuple | list) -> list[dict[str, Any]]:
    """Every recorded version of one value, oldest first.

    ``key`` names the dataset's key columns (:attr:`DatasetSpec.key_columns`), as a dict or in that order,
    e.g. ``{"year": 2020, "region": "210200", "variable": "gdp", "price_base_year": None}``.
    """
    spec = spec_for(dataset)
    names = spec.key_columns
    values = dict(key) if isinstance(key, dict) else dict(zip(names, key, strict=True))
    missing = [n for n in names if n not in values and n not in spec.nullable_dims]
    if missing:
        raise InputError(Problem(f"key of '{spec.name}' lacks {', '.join(missing)} (key: {', '.join(names)})",
                                 field=missing[0]))
    natural = _natural_key(int(values["year"]), int(values["month"]) if spec.monthly else None,
                           _text(values["region"]), [_text(values.get(d)) for d in spec.dims])
    statement = (select(Observation, LedgerRevision.actor)
                 .join(LedgerRevision, LedgerRevision.id == Observation.revision_id)
                 .where(Observation.dataset == spec.name, Observation.natural_key == natural)
                 .order_by(Observation.recorded_at, Observation.id))
    return [{"value": o.value, "unit": o.unit, "status": o.status, "source": o.source,
             "recorded_at": o.recorded_at, "superseded_at": o.superseded_at, "batch_id": o.batch_id,
             "revision": o.revision_id, "recorded_by": actor}
            for o, actor in session.execute(statement)]


def revisions(session: Session, dataset: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ledger writes (who, when, which batch, how many rows changed)."""
    statement = select(LedgerRevision).order_by(LedgerRevision.id.desc()).limit(limit)
    if dataset is not None:
        statement = statement.where(LedgerRevision.dataset == spec_for(dataset).name)
    return [{"revision": r.id, "at": r.at, "dataset": r.dataset, "batch_id": r.batch_id, "actor": r.actor,
             "inserted": r.inserted, "superseded": r.superseded, "closed": r.closed, "reason": r.reason}
            for r in session.execute(statement).scalars()]


def city_region(session: Session, city: str) -> str:
    """The GB/T 2260 code of ``city`` from its stored plan."""
    code = session.execute(select(PlanRecord.region_code).where(PlanRecord.code == city)).scalar_one_or_none()
    if code is None:
        known = list(session.execute(select(PlanRecord.code)).scalars())
        raise InputError(Problem(f"no plan for city '{city}' in the store (stored: {', '.join(known) or 'none'}; "
                                 "run 'citycarbon db seed')", field="city", value=city,
                                 suggestion=nearest(city, known)))
    return code


def _titles(session: Session, city: str) -> tuple[str, str]:
    from citycarbon.data import data_path

    readme = data_path(city) / "README.md"
    if readme.is_file():
        first = readme.read_text(encoding="utf-8").splitlines()[0].strip()
        if first.startswith("#") and " / " in first:
            zh, en = first.lstrip("#").strip().split(" / ", 1)
            return zh.strip(), en.strip()
    plan = session.execute(select(PlanRecord).where(PlanRecord.code == city)).scalar_one()
    return plan.city, plan.city_en


def reference_dataset(session: Session, city: str = "dalian", as_of: datetime | None = None):
    """A :class:`~citycarbon.datasets.ReferenceDataset` of ``city`` built from the ledger (now or ``as_of``).

    ``files`` maps each table to ``Path("db:<table>")`` (no file exists; services hash the frames instead).
    Cached per (database, city, as_of, ledger version): like :func:`citycarbon.datasets.load_reference`, the
    same object is returned while the ledger is unchanged, so treat its frames as read-only.
    """
    from citycarbon.datasets import ReferenceDataset

    key = (_database_key(session), "reference", city, as_of, _version_token(session))
    with _CACHE_LOCK:
        cached = _DATASETS.get(key)
    if cached is not None:
        return cached
    region = city_region(session, city)
    frames = {table: current_frame(session, table, region=region, as_of=as_of) for table in REFERENCE_TABLES}
    if frames["balance"].empty:
        raise InputError(Problem(f"the ledger holds no energy balance for {city} ({region})"
                                 + (f" as of {as_of.isoformat()}" if as_of else ""), field="balance"))
    title_zh, title_en = _titles(session, city)
    dataset = ReferenceDataset(name=city, region=region, title_zh=title_zh, title_en=title_en,
                               files={table: Path(f"db:{table}") for table in REFERENCE_TABLES}, **frames)
    with _CACHE_LOCK:
        _DATASETS[key] = dataset
        while len(_DATASETS) > _DATASET_CACHE_SIZE:
            _DATASETS.popitem(last=False)
    return dataset


def observations_at(session: Session, dataset: str, *, as_of: datetime | None = None) -> int:
    """How many values of ``dataset`` were current at ``as_of`` (now by default)."""
    spec = spec_for(dataset)
    statement = _visible(select(func.count()).select_from(Observation).where(Observation.dataset == spec.name),
                         as_of)
    return int(session.execute(statement).scalar_one())

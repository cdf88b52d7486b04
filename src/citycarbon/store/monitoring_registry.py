"""The monitoring registry in the application database (PostgreSQL in production, the SQLite file embedded).

The registry of key energy-using units — enterprises, metering points, products (docs/monitoring.md "Data
model") — is validated by the pure domain (:func:`citycarbon.monitoring.registry.load_registry`: USCC check
character, GB/T 4754 and GB/T 2260 codes, units, parents, tiers …) and stored here (tables in
``store/registry_models.py``, migration ``0004_monitoring_registry``).

* :func:`save_registry` replaces the whole registry in **one** transaction, after the domain validation and a
  check against the store's column limits; it writes one audit row (``import`` on ``monitoring_registry``, with
  counts and the ids added and removed) and a new row of ``monitoring_registry_versions``. A refused registry
  raises :class:`~citycarbon.errors.InputError` naming file, row and field, and changes nothing. Saving content
  identical to the current registry writes nothing (no new version, no audit row).
* :func:`load_registry_from_db` gives back the :class:`~citycarbon.monitoring.registry.Registry` the files give:
  the same frames, rows in the imported order, the same dtypes (a round-trip property test checks this).
* :func:`registry_version` is ``max(id)`` of the versions (0: never saved) — one indexed query, so caches
  (:func:`current_registry`, the API, the web pages) know when to reload without reading the tables.
* :func:`adopt_registry_files` imports the CSV folder an older release kept under
  ``$CITYCARBON_HOME/monitoring/registry`` into an empty store (``ensure_ready`` calls it).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

import pandas as pd
from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Session

from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.registry import (
    ENTERPRISE_COLUMNS,
    POINT_COLUMNS,
    PRODUCT_COLUMNS,
    Registry,
    load_registry,
    registry_dir,
)
from citycarbon.store import audit
from citycarbon.store.registry_models import RegistryEnterprise, RegistryPoint, RegistryProduct, RegistryVersion
from citycarbon.store.types import utcnow

__all__ = ["SaveReport", "adopt_registry_files", "current_registry", "load_registry_from_db", "registry_version",
           "save_registry"]

#: frame columns per table, in the frames' order (enterprises also carry the optional ``annual_energy_tce``)
COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": (*ENTERPRISE_COLUMNS, "annual_energy_tce"),
    "points": POINT_COLUMNS,
    "products": PRODUCT_COLUMNS,
}
MODELS: dict[str, Any] = {"enterprises": RegistryEnterprise, "points": RegistryPoint, "products": RegistryProduct}
KEYS = {"enterprises": "enterprise_id", "points": "point_id", "products": "product_id"}
#: ids listed per table in the audit row's added/removed (the counts are always exact)
AUDIT_IDS = 200
_CACHE_SIZE = 8
_cache: OrderedDict[str, tuple[int, Registry | None]] = OrderedDict()
_cache_lock = Lock()


@dataclass
class SaveReport:
    """What :func:`save_registry` did: the version now current and whether anything was written."""

    version: int
    changed: bool
    enterprises: int
    points: int
    products: int
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "changed": self.changed, "enterprises": self.enterprises,
                "points": self.points, "products": self.products, "added": self.added, "removed": self.removed}


# ------------------------------------------------------------------------------------------------ reading

def _version(session: Session) -> int:
    return int(session.execute(select(func.max(RegistryVersion.id))).scalar_one() or 0)


def registry_version(db) -> int:
    """The registry version of ``db``: the id of the latest save, 0 when no registry was ever saved."""
    with db.session() as session:
        return _version(session)


def _snapshot(db, session: Session) -> None:
    # PostgreSQL reads each statement at its own snapshot under READ COMMITTED: read the version and the three
    # tables at one snapshot, so a save committed meanwhile is either wholly seen or not at all
    if db.dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    """The table's rows as the frame :func:`load_registry` builds (same columns, values and dtypes)."""
    columns = list(COLUMNS[name])
    frame = pd.DataFrame([dict(zip(columns, row, strict=True)) for row in rows], columns=columns)
    if name == "enterprises":
        frame["annual_budget_tce"] = frame["annual_budget_tce"].astype(float)
        frame["annual_energy_tce"] = frame["annual_energy_tce"].astype(float)
        frame["budget_year"] = frame["budget_year"].astype("Int64")
        frame["tier"] = frame["tier"].astype(int)
    elif name == "points":
        frame["multiplier"] = frame["multiplier"].astype(float)
        frame["register_max"] = frame["register_max"].astype(float)
        frame["interval_minutes"] = frame["interval_minutes"].astype(int)
    else:
        frame["limit_value"] = frame["limit_value"].astype(float)
    return frame


def _read(session: Session) -> tuple[int, Registry | None]:
    version = _version(session)
    if version == 0:
        return 0, None
    frames = {}
    for name, model in MODELS.items():
        columns = [getattr(model, c) for c in COLUMNS[name]]
        rows = session.execute(select(*columns).order_by(model.position)).all()
        if name == "points":  # NULL parent ↔ "" in the frames
            at = COLUMNS[name].index("parent_point_id")
            rows = [(*r[:at], r[at] or "", *r[at + 1:]) for r in rows]
        frames[name] = _frame(name, [tuple(r) for r in rows])
    return version, Registry(frames["enterprises"], frames["points"], frames["products"])


def load_registry_from_db(db) -> Registry | None:
    """The stored registry as a :class:`Registry` (frames identical to ``load_registry`` of its files), or None
    when no registry was ever saved."""
    with db.session() as session:
        _snapshot(db, session)
        return _read(session)[1]


def current_registry(db) -> tuple[int, Registry | None]:
    """``(version, registry)`` of ``db``, cached per database: the tables are read again only when the version
    changed (one indexed query per call otherwise)."""
    version = registry_version(db)
    with _cache_lock:
        hit = _cache.get(db.key)
        if hit is not None and hit[0] == version:
            _cache.move_to_end(db.key)
            return hit
    with db.session() as session:
        _snapshot(db, session)
        loaded = _read(session)
    with _cache_lock:
        _cache[db.key] = loaded
        _cache.move_to_end(db.key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


# ------------------------------------------------------------------------------------------------ writing

def _plain(value: Any) -> Any:
    """A frame cell as a database value: NaN/NA → None, numpy scalars → Python."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _rows(name: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = COLUMNS[name]
    rows = []
    for position, record in enumerate(frame[list(columns)].itertuples(index=False, name=None)):
        row = {"position": position, **{c: _plain(v) for c, v in zip(columns, record, strict=True)}}
        if name == "points" and not row["parent_point_id"]:
            row["parent_point_id"] = None
        rows.append(row)
    return rows


def _check_lengths(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Text longer than the store's column allows is refused with file, row and field (SQLite would keep it and
    PostgreSQL fail the whole transaction with a driver error)."""
    problems = []
    for name, rows in tables.items():
        limits = {c.name: c.type.length for c in MODELS[name].__table__.columns
                  if isinstance(c.type, String) and c.type.length}
        for row in rows:
            for column, limit in limits.items():
                value = row.get(column)
                if isinstance(value, str) and len(value) > limit:
                    problems.append(Problem(f"longer than {limit} characters ({len(value)})", file=f"{name}.csv",
                                            row=row["position"] + 1, field=column, value=value[:40]))
    if problems:
        raise InputError(problems)


def _parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points ordered so a sub-meter's parent is inserted before it (the domain has refused loops)."""
    done: set[str] = set()
    pending, ordered = rows, []
    while pending:
        ready = [r for r in pending if r["parent_point_id"] is None or r["parent_point_id"] in done]
        if not ready:  # cannot happen after validation; let the foreign key name the problem
            ordered += pending
            break
        ordered += ready
        done.update(r["point_id"] for r in ready)
        taken = {id(r) for r in ready}
        pending = [r for r in pending if id(r) not in taken]
    return ordered


def registry_sha256(registry: Registry) -> str:
    """SHA-256 of the registry's content (the three frames as CSV, in order)."""
    digest = hashlib.sha256()
    for name in COLUMNS:
        frame = getattr(registry, name)
        digest.update(name.encode())
        digest.update(frame[list(COLUMNS[name])].to_csv(index=False).encode())
    return digest.hexdigest()


def _validated(source: Any) -> Registry:
    """The domain validation of ``source`` (a folder, workbook, mapping — or a :class:`Registry` built in code,
    whose frames are validated again)."""
    if isinstance(source, Registry):
        return load_registry({name: getattr(source, name) for name in COLUMNS}, timezone=source.timezone)
    return load_registry(source)


def _ids(session: Session, name: str) -> set[str]:
    return set(session.scalars(select(getattr(MODELS[name], KEYS[name]))))


def save_registry(db, source: Any, actor: Any, *, label: str | None = None,
                  reason: str = "monitoring registry import") -> SaveReport:
    """Validate ``source`` and make it the registry of ``db`` in one transaction (audited, version bumped).

    ``source`` is anything :func:`load_registry` takes, or a :class:`Registry`. Raises :class:`InputError`
    (file, row, field) and writes nothing when the registry is refused. Identical content writes nothing.
    """
    registry = _validated(source)
    tables = {name: _rows(name, getattr(registry, name)) for name in COLUMNS}
    _check_lengths(tables)
    digest = registry_sha256(registry)
    counts = {name: len(rows) for name, rows in tables.items()}
    origin = label or (str(source) if isinstance(source, str | Path) else type(source).__name__)
    with db.session(write=True) as session:
        current = session.execute(select(RegistryVersion).order_by(RegistryVersion.id.desc()).limit(1)).scalar()
        if current is not None and current.sha256 == digest:
            return SaveReport(version=int(current.id), changed=False, **counts)
        before = {name: _ids(session, name) for name in COLUMNS}
        for name in ("points", "products", "enterprises"):  # children first; one statement each
            session.execute(delete(MODELS[name]))
        for name in ("enterprises", "products", "points"):
            rows = _parents_first(tables[name]) if name == "points" else tables[name]
            if rows:
                session.execute(MODELS[name].__table__.insert(), rows)  # Core: one executemany per table
        version = RegistryVersion(saved_at=utcnow(), saved_by=audit.actor_of(actor)[0], source=origin,
                                  sha256=digest, **counts)
        session.add(version)
        session.flush()
        after_ids = {name: {str(r[KEYS[name]]) for r in tables[name]} for name in COLUMNS}
        added = {name: sorted(after_ids[name] - before[name]) for name in COLUMNS}
        removed = {name: sorted(before[name] - after_ids[name]) for name in COLUMNS}
        audit.record(session, actor, "import", "monitoring_registry", version.id,
                     before=None if current is None else {
                         "version": int(current.id), "sha256": current.sha256, "enterprises": current.enterprises,
                         "points": current.points, "products": current.products},
                     after={"version": int(version.id), "sha256": digest, "source": origin, **counts,
                            "added": {n: ids[:AUDIT_IDS] for n, ids in added.items()},
                            "removed": {n: ids[:AUDIT_IDS] for n, ids in removed.items()},
                            "added_count": {n: len(ids) for n, ids in added.items()},
                            "removed_count": {n: len(ids) for n, ids in removed.items()}},
                     reason=reason)
        return SaveReport(version=int(version.id), changed=True, **counts,
                          added={n: len(ids) for n, ids in added.items()},
                          removed={n: len(ids) for n, ids in removed.items()})


def adopt_registry_files(db, home: str | Path, actor: Any = "system") -> SaveReport | None:
    """Import ``<home>/monitoring/registry/*.csv`` (where releases before the store kept the registry) when the
    store holds no registry yet; None when there is nothing to adopt. A refused folder raises
    :class:`InputError` and the store stays empty."""
    folder = registry_dir(home)
    if not (folder / "enterprises.csv").exists() or registry_version(db) != 0:
        return None
    return save_registry(db, folder, actor, label=str(folder), reason="registry files of an earlier release")

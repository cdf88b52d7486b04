"""Portable backups: one zip, the same format from SQLite and PostgreSQL, restored in one transaction.

Archive layout::

    manifest.json                 format, Alembic revision, tables in dependency order with row counts and
                                  the SHA-256 of each table file, lake files with their SHA-256, audit head
    tables/NN_<table>.jsonl       one JSON object per row, rows in primary-key order; times as ISO 8601 UTC,
                                  binary columns as base64
    lake/<relative path>          the meter lake (``settings.lake_dir``), when present

Every table present in the database is dumped (by reflection, so tables of every installed migration are
included), except ``alembic_version`` whose revision the manifest records. :func:`restore` checks the manifest,
every hash and row count before it touches the database, then inserts every table and re-verifies the audit
chain inside one transaction: a corrupt or tampered archive restores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Date, DateTime, LargeBinary, MetaData, Table, func, insert, select, text
from sqlalchemy.orm import Session

from citycarbon.errors import InputError, Problem
from citycarbon.progress import Progress, or_silent
from citycarbon.store import audit, ledger
from citycarbon.store.db import Database

__all__ = ["FORMAT", "BackupError", "backup", "database_is_empty", "read_manifest", "restore", "table_dump",
           "verify_archive", "wipe"]

FORMAT = "citycarbon-backup"
FORMAT_VERSION = 1
_SKIP = {"alembic_version"}
_CHUNK = 1000


class BackupError(InputError):
    """The archive is unusable (missing file, wrong hash, wrong revision) or the target is not empty."""


def _fail(message: str, file: str | None = None, field: str | None = None) -> BackupError:
    return BackupError(Problem(message, file=file, field=field))


# ---- values --------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decoder(column: Any, dialect: str):
    kind = column.type
    if isinstance(kind, DateTime):
        def to_datetime(value: Any) -> Any:
            if value is None:
                return None
            moment = datetime.fromisoformat(value)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            return moment.replace(tzinfo=None) if dialect == "sqlite" or not kind.timezone else moment
        return to_datetime
    if isinstance(kind, Date):
        return lambda value: None if value is None else date.fromisoformat(value)
    if isinstance(kind, LargeBinary):
        return lambda value: None if value is None else base64.b64decode(value)
    return None


def _line(row: dict[str, Any]) -> str:
    return json.dumps({k: _encode(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False)


# ---- reading the database ------------------------------------------------------------------------


def _reflect(db: Database) -> MetaData:
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    return metadata


def _tables(metadata: MetaData) -> list[Table]:
    return [t for t in metadata.sorted_tables if t.name not in _SKIP]


def _self_parent(table: Table) -> tuple[str, str] | None:
    """(child column, parent column) of a self-referencing foreign key (regions.parent_code → regions.code)."""
    for fk in table.foreign_keys:
        if fk.column.table.name == table.name:
            return fk.parent.name, fk.column.name
    return None


def _parents_first(rows: list[dict[str, Any]], link: tuple[str, str]) -> list[dict[str, Any]]:
    child, parent = link
    done: set[Any] = set()
    out: list[dict[str, Any]] = []
    pending = rows
    while pending:
        keys = {r[parent] for r in pending}
        ready = [r for r in pending if r[child] is None or r[child] in done or r[child] not in keys]
        if not ready:  # a cycle: keep the stored order and let the database complain
            return out + pending
        out.extend(ready)
        done.update(r[parent] for r in ready)
        ready_ids = {id(r) for r in ready}
        pending = [r for r in pending if id(r) not in ready_ids]
    return out


def table_dump(db: Database) -> dict[str, list[str]]:
    """Every table's rows as canonical JSON lines (primary-key order) — what a backup stores; used by tests
    to compare two databases."""
    out: dict[str, list[str]] = {}
    with db.engine.connect() as connection:
        for table in _tables(_reflect(db)):
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).mappings()
            out[table.name] = [_line(dict(r)) for r in rows]
    return out


def _lake_files(lake_dir: Path | None) -> list[Path]:
    if lake_dir is None or not lake_dir.is_dir():
        return []
    return sorted(p for p in lake_dir.rglob("*") if p.is_file())


def backup(db: Database, path: str | Path, *, lake_dir: Path | None = None,
           progress: Progress | None = None) -> dict[str, Any]:
    """Write the archive to ``path`` (atomically: a temporary file renamed at the end); returns the manifest.
    ``progress`` (:mod:`citycarbon.progress`) counts the tables and lake files written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lake = db.settings.lake_dir if lake_dir is None else lake_dir
    revision = db.current_revision()
    if revision is None:
        raise _fail("the database was never migrated: nothing to back up", field="revision")
    dump = table_dump(db)
    with db.session() as session:
        chain = audit.verify(session)
    if not chain.ok:
        raise _fail(f"the audit chain does not verify ({chain.reason}); refusing to back up a tampered log",
                    field="audit_log")
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": datetime.now(UTC).isoformat(),
        "alembic_revision": revision, "source_dialect": db.dialect, "tables": [], "lake": [],
        "audit": {"checked": chain.checked, "head_hash": chain.head_hash}}
    lake_files = _lake_files(lake)
    report, total = or_silent(progress), len(dump) + len(lake_files)
    report(0, total, "")
    handle, temporary = tempfile.mkstemp(prefix=".backup-", suffix=".zip", dir=target.parent)
    try:
        with open(handle, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for number, (name, lines) in enumerate(dump.items(), start=1):
                data = ("".join(line + "\n" for line in lines)).encode("utf-8")
                member = f"tables/{number:02d}_{name}.jsonl"
                archive.writestr(member, data)
                manifest["tables"].append({"name": name, "file": member, "rows": len(lines),
                                           "sha256": hashlib.sha256(data).hexdigest()})
                report(number, total, name)
            for file in lake_files:
                relative = file.relative_to(lake).as_posix()
                data = file.read_bytes()
                archive.writestr(f"lake/{relative}", data)
                manifest["lake"].append({"path": relative, "size": len(data),
                                         "sha256": hashlib.sha256(data).hexdigest()})
                report(len(manifest["tables"]) + len(manifest["lake"]), total, relative)
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return manifest


# ---- restoring -----------------------------------------------------------------------------------


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The archive's manifest (checked for format only)."""
    source = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"not a citycarbon backup ({exc.__class__.__name__}: {exc})", file=source) from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _fail(f"unsupported backup format {manifest.get('format')!r} v{manifest.get('format_version')}",
                    file=source, field="format")
    tables, lake = manifest.get("tables"), manifest.get("lake", [])
    shapes_ok = isinstance(manifest.get("alembic_revision"), str) and isinstance(tables, list) and \
        isinstance(lake, list) and \
        all(isinstance(t, dict) and {"name", "file", "rows", "sha256"} <= t.keys() for t in tables) and \
        all(isinstance(f, dict) and {"path", "sha256"} <= f.keys() for f in lake)
    if not shapes_ok:
        raise _fail("manifest.json lacks the revision, the table list or the lake list", file=source,
                    field="manifest")
    return manifest


def _checked_members(path: Path, manifest: dict[str, Any]) -> tuple[dict[str, list[dict]], dict[str, bytes]]:
    """Every table's rows and lake file's bytes, after checking each hash and row count."""
    tables: dict[str, list[dict]] = {}
    lake: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as archive:
        for entry in manifest["tables"]:
            member = entry["file"]
            try:
                data = archive.read(member)
            except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise _fail(f"table file missing or unreadable ({exc})", file=member) from exc
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise _fail("SHA-256 does not match the manifest (corrupt or edited)", file=member)
            lines = [line for line in data.decode("utf-8").split("\n") if line]
            if len(lines) != entry["rows"]:
                raise _fail(f"{len(lines)} rows, manifest says {entry['rows']}", file=member)
            try:
                tables[entry["name"]] = [json.loads(line) for line in lines]
            except json.JSONDecodeError as exc:
                raise _fail(f"not JSON lines ({exc})", file=member) from exc
        for entry in manifest.get("lake", []):
            relative = PurePosixPath(entry["path"])
            if relative.is_absolute() or ".." in relative.parts:
                raise _fail("lake path leaves the lake directory", file=entry["path"])
            try:
                data = archive.read(f"lake/{relative}")
            except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise _fail(f"lake file missing or unreadable ({exc})", file=str(relative)) from exc
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise _fail("SHA-256 does not match the manifest (corrupt or edited)", file=f"lake/{relative}")
            lake[str(relative)] = data
    return tables, lake


def database_is_empty(db: Database) -> bool:
    """True when no table (other than ``alembic_version``) holds a row."""
    with db.engine.connect() as connection:
        for table in _tables(_reflect(db)):
            if connection.execute(select(func.count()).select_from(table)).scalar_one():
                return False
    return True


def wipe(db: Database, revision: str = "head") -> None:
    """Drop everything (downgrade to base) and migrate to ``revision`` again: an empty database."""
    if db.current_revision() is not None:
        db.downgrade("base")
    db.upgrade(revision)
    ledger.clear_cache()


def verify_archive(path: str | Path, *, deep: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Check an archive completely (manifest, every hash and row count) without touching any database;
    returns the manifest. Run it before wiping anything.

    ``deep=True`` also restores it into a throwaway SQLite database (constraints, audit chain against the
    manifest), so a restore that would fail half-way is known before the real database is wiped (``progress``
    counts that trial restore's tables and lake files).
    """
    manifest = read_manifest(path)
    _checked_members(Path(path), manifest)
    if deep:
        from citycarbon.settings import Settings

        with tempfile.TemporaryDirectory(prefix="citycarbon-verify-") as folder:
            scratch = Database(Settings.for_home(Path(folder) / "home"))
            try:
                restore(scratch, path, lake_dir=Path(folder) / "lake", progress=progress)
            finally:
                scratch.dispose()
                ledger.clear_cache()
    return manifest


def _reset_sequences(connection: Any, tables: list[Table]) -> None:
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or columns[0].type.python_type is not int:
            continue
        column = columns[0].name
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table.name}"))


@dataclass(frozen=True)
class RestoreReport:
    tables: dict[str, int]
    lake_files: int
    alembic_revision: str
    audit_checked: int

    def to_dict(self) -> dict[str, Any]:
        return {"tables": self.tables, "lake_files": self.lake_files, "alembic_revision": self.alembic_revision,
                "audit_checked": self.audit_checked}


def restore(db: Database, path: str | Path, *, lake_dir: Path | None = None, actor: Any = None,
            progress: Progress | None = None) -> RestoreReport:
    """Restore the archive into an empty database (migrated to the archive's revision if never migrated).

    Checks first (nothing written when any fails): manifest format, every table file's SHA-256 and row count,
    every lake file's SHA-256, the revision and that the target is empty. Then one transaction inserts all
    rows, resets PostgreSQL sequences and verifies the audit chain against the manifest's head hash; any
    failure rolls everything back. The lake files are written after the commit. ``actor`` (optional) appends
    a ``backup.restore`` audit row. ``progress`` (:mod:`citycarbon.progress`) counts the tables and lake files
    restored.
    """
    archive = Path(path)
    manifest = read_manifest(archive)
    rows_by_table, lake_bytes = _checked_members(archive, manifest)
    revision = manifest["alembic_revision"]
    current = db.current_revision()
    if current is None:
        db.upgrade(revision)
    elif current != revision:
        raise _fail(f"the database is at revision {current}, the backup at {revision}: restore into a database "
                    f"at {revision} (citycarbon db upgrade/downgrade {revision})", field="alembic_revision")
    if not database_is_empty(db):
        raise _fail("the database is not empty (restore --wipe replaces it)", field="database")
    lake = db.settings.lake_dir if lake_dir is None else lake_dir
    if lake_bytes and _lake_files(lake):
        raise _fail(f"the meter lake {lake} is not empty", field="lake")
    metadata = _reflect(db)
    known = {t.name: t for t in _tables(metadata)}
    missing = [name for name in rows_by_table if name not in known]
    if missing:
        raise _fail(f"the database has no table {', '.join(missing)}", field="tables")
    counts: dict[str, int] = {}
    report, total = or_silent(progress), len(manifest["tables"]) + len(lake_bytes)
    report(0, total, "")
    with db.engine.connect().execution_options(citycarbon_write=True) as connection, connection.begin():
        for entry in manifest["tables"]:
            table = known[entry["name"]]
            rows = rows_by_table[entry["name"]]
            decoders = {c.name: d for c in table.columns if (d := _decoder(c, db.dialect)) is not None}
            decoded = [{k: (decoders[k](v) if k in decoders else v) for k, v in row.items()} for row in rows]
            if (link := _self_parent(table)) is not None:
                decoded = _parents_first(decoded, link)
            for start in range(0, len(decoded), _CHUNK):
                connection.execute(insert(table), decoded[start:start + _CHUNK])
            counts[table.name] = len(decoded)
            report(len(counts), total, table.name)
        if db.dialect == "postgresql":
            _reset_sequences(connection, list(known.values()))
        session = Session(bind=connection)
        chain = audit.verify(session)
        expected = manifest.get("audit", {})
        if not chain.ok or chain.head_hash != expected.get("head_hash") or chain.checked != expected.get("checked"):
            raise _fail(f"the restored audit chain does not match the backup ({chain.reason or 'head differs'})",
                        field="audit_log")
        if actor is not None:
            audit.record(session, actor, "backup.restore", "database", None, None,
                         {"archive": archive.name, "revision": revision, "rows": sum(counts.values())})
            session.flush()
        session.close()
    ledger.clear_cache()
    if lake_bytes:
        lake.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lake-restore-", dir=lake.parent))
        for number, (relative, data) in enumerate(lake_bytes.items(), start=1):
            file = staging / relative
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
            report(len(counts) + number, total, relative)
        if lake.exists():
            shutil.rmtree(lake)
        staging.replace(lake)
    return RestoreReport(counts, len(lake_bytes), revision, chain.checked)

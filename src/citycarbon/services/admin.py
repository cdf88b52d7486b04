"""Running the store as a service: its state, migrations, the reference seed, backup and restore, and the first
start (migrate, seed, first administrator). ``citycarbon db|backup|restore|serve`` and the app's start-up call
these functions; the faces only build the :class:`~citycarbon.store.db.Database` (the composition root).

Every write is audited by the store in its own transaction (the seed's rows, the restore, the first admin's
creation through :func:`citycarbon.services.users.create_admin`); ``actor`` names who did it (the CLI passes
``cli:<operating-system user>``). Refusals are :class:`~citycarbon.errors.InputError` naming file and field; a
restore checks the whole archive before it changes anything.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from citycarbon.auth.principal import Role
from citycarbon.errors import InputError, Problem
from citycarbon.progress import Progress
from citycarbon.store import backup as archive
from citycarbon.store import ledger
from citycarbon.store import seed as reference
from citycarbon.store.auth_models import User
from citycarbon.store.backup import RestoreReport
from citycarbon.store.seed import SeedReport

if TYPE_CHECKING:
    from citycarbon.settings import Settings
    from citycarbon.store.db import Database

__all__ = [
    "BackupResult",
    "DatabaseState",
    "FirstStart",
    "RestoreReport",
    "RestoreResult",
    "SeedReport",
    "database_state",
    "ensure_ready",
    "first_start",
    "make_backup",
    "restore_backup",
    "seed",
]


@dataclass(frozen=True)
class DatabaseState:
    """Where the schema stands: the database (password hidden), its dialect, the current and newest shipped
    revision, and the ledger version when asked for and the schema exists."""

    database: str
    dialect: str
    current: str | None
    head: str | None
    ledger_version: int | None = None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"database": self.database, "dialect": self.dialect, "current": self.current,
                                    "head": self.head, "up_to_date": self.up_to_date}
        if self.ledger_version is not None:
            document["ledger_version"] = self.ledger_version
        return document


@dataclass(frozen=True)
class BackupResult:
    """The archive written: its file, size in bytes and manifest (tables with rows and SHA-256, lake files)."""

    file: Path
    size: int
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RestoreResult:
    """The archive restored (its file and Alembic revision) and what was written (:class:`RestoreReport`)."""

    file: Path
    revision: str
    report: RestoreReport


@dataclass(frozen=True)
class FirstStart:
    """What :func:`first_start` did: the database (password hidden) and its migration, and the administrator
    created now, with its one-time password (shown once), when there was none."""

    database: str
    migration: str | None
    admin_username: str | None = None
    one_time_password: str | None = field(default=None, repr=False)

    @property
    def admin_created(self) -> bool:
        return self.admin_username is not None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"database": self.database, "migration": self.migration,
                                    "admin_created": self.admin_created}
        if self.admin_created:
            document.update(admin_username=self.admin_username, one_time_password=self.one_time_password)
        return document


def database_state(db: Database, *, with_ledger: bool = False) -> DatabaseState:
    """The schema's state; ``with_ledger``: also the ledger version (when the schema exists)."""
    current, head = db.current_revision(), db.head_revision()
    version = None
    if with_ledger and current is not None:
        with db.session() as session:
            version = ledger.version(session)
    return DatabaseState(database=db.settings.redacted_url(), dialect=db.dialect, current=current, head=head,
                         ledger_version=version)


def seed(db: Database, city: str, actor: Any, *, refresh: bool = False) -> SeedReport:
    """Migrate to head and load ``city``'s plan, regions, factor tables and reference datasets (idempotent;
    ``refresh`` re-applies the shipped files over stored values: changed values supersede, history is kept)."""
    db.upgrade()
    return reference.seed_reference(db, city, actor, refresh=refresh)


def ensure_ready(settings: Settings, *, actor: Any = "system") -> Database:
    """Migrate to head and seed the configured city when the store holds no plan yet; the database (the caller
    disposes of it)."""
    return reference.ensure_ready(settings, actor=actor)


def first_start(settings: Settings, actor: str) -> FirstStart:
    """Migrate and seed (:func:`ensure_ready`), then create the first administrator (``admin``) when there is
    none; its one-time password is in the result, once."""
    from citycarbon.services import users

    db = ensure_ready(settings, actor=actor)
    try:
        with db.session() as session:
            admins = session.execute(select(func.count()).select_from(User).where(
                User.role == Role.admin.value)).scalar_one()
        username = password = None
        if admins == 0:
            created = users.create_admin(db, users.cli_principal(actor), username="admin")
            username, password = created.user.username, created.one_time_password
        return FirstStart(database=settings.redacted_url(), migration=db.current_revision(),
                          admin_username=username, one_time_password=password)
    finally:
        db.dispose()


def make_backup(db: Database, out: Path, *, progress: Progress | None = None) -> BackupResult:
    """Write a backup archive of the database and the meter lake to ``out`` (atomically)."""
    manifest = archive.backup(db, out, progress=progress)
    return BackupResult(file=out, size=out.stat().st_size, manifest=manifest)


def restore_backup(db: Database, file: Path, *, wipe: bool, actor: Any, verify_progress: Progress | None = None,
                   restore_progress: Progress | None = None) -> RestoreResult:
    """Restore an archive, all or nothing. The archive is checked first (with ``wipe``: a trial restore into
    scratch SQLite), so nothing is changed before it is known to restore; a database or lake that already holds
    data is refused unless ``wipe``, which replaces them."""
    manifest = archive.verify_archive(file, deep=wipe, progress=verify_progress)
    revision = str(manifest["alembic_revision"])
    current = db.current_revision()
    occupied = current is not None and not archive.database_is_empty(db)
    lake = db.settings.lake_dir
    if (occupied or (manifest["lake"] and lake.is_dir() and any(lake.iterdir()))) and not wipe:
        raise InputError(Problem("the database or the meter lake already holds data; repeat with --wipe to "
                                 "replace it", field="database"))
    if wipe:
        archive.wipe(db, revision)
        if manifest["lake"] and lake.exists():
            shutil.rmtree(lake)
    report = archive.restore(db, file, actor=actor, progress=restore_progress)
    return RestoreResult(file=file, revision=revision, report=report)

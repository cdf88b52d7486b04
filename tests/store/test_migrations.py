"""Migrations: up, down and up again on SQLite and PostgreSQL; the models and the migrations agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from citycarbon.store import models  # noqa: F401
from citycarbon.store.base import Base

CORE_TABLES = {"plans", "targets", "tasks", "regions", "factor_loads", "factors", "import_batches",
               "ledger_revisions", "observations", "jobs", "audit_log"}


def _tables(database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(bare_db):
    assert bare_db.current_revision() is None
    bare_db.upgrade()
    assert bare_db.current_revision() == bare_db.head_revision()
    assert _tables(bare_db) >= CORE_TABLES
    bare_db.downgrade("base")
    assert bare_db.current_revision() is None
    assert _tables(bare_db) == set()
    bare_db.upgrade()
    assert _tables(bare_db) >= CORE_TABLES
    assert bare_db.is_current()


def test_core_revision_id_is_stable(bare_db):
    """Other migrations (0002_auth) name ``0001_core`` as their parent."""
    bare_db.upgrade("0001_core")
    assert bare_db.current_revision() == "0001_core"
    assert _tables(bare_db) == CORE_TABLES


def test_models_match_migrations(db):
    """Autogenerate finds nothing to do for the core tables: migration 0001 describes ``models.py`` exactly
    (other migrations check their own tables)."""

    def core_only(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in CORE_TABLES

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": core_only})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_audit_log_refuses_update_and_delete(db):
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_log (seq, at, actor, action, entity, prev_hash, hash) "
            "VALUES (1, CURRENT_TIMESTAMP, 'test', 'create', 'thing', '', 'h1')"))
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit_log")).scalar_one() == "test"


def test_sqlite_pragmas(sqlite_db):
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_concurrent_write_sessions_wait_for_each_other(sqlite_db):
    """Read-then-write transactions from several threads all commit (BEGIN IMMEDIATE + busy timeout)."""
    import threading

    from citycarbon.store import audit

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                with sqlite_db.session(write=True) as session:
                    audit.record(session, f"writer{n}", "thing.update", "thing", i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_db.session() as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 20

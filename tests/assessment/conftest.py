"""Assessment tests run on SQLite and PostgreSQL through the shared fixtures of ``tests/db_fixtures.py``."""

from tests.db_fixtures import bare_db, db, pg_admin, seeded_db, settings, sqlite_db  # noqa: F401

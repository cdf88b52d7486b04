"""Database fixtures shared by every test package (store, auth, API, web).

Use them from a package's ``conftest.py`` with ``from tests.db_fixtures import *  # noqa: F403`` (pytest only
honours ``pytest_plugins`` in the root conftest) or by importing the fixture names you need.

``settings``   a :class:`~citycarbon.settings.Settings` for a fresh ``CITYCARBON_HOME`` under ``tmp_path``
               (also exported as the ``CITYCARBON_HOME`` environment variable for the test).
``db``         parametrised ``sqlite`` | ``postgresql``: an empty database migrated to head. PostgreSQL is a
               fresh database with a unique name on 127.0.0.1:5432 (user ``postgres``), cloned from a
               migrated template made once per session and dropped after the test; where no server answers,
               the PostgreSQL variant is skipped with the reason.
``bare_db``    the same, not migrated (migration tests).
``seeded_db``  ``db`` with the Dalian reference data seeded (:func:`citycarbon.store.seed.seed_reference`),
               cloned from a seeded template made once per session.
``sqlite_db``  only the SQLite variant of ``db`` (tests that need no second backend).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from citycarbon.settings import Settings
from citycarbon.store.db import Database

PG_HOST = os.environ.get("CITYCARBON_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CITYCARBON_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CITYCARBON_TEST_PG_USER", "postgres")
BACKENDS = ("sqlite", "postgresql")

__all__ = ["bare_db", "db", "pg_admin", "seeded_db", "settings", "sqlite_db"]


class PgAdmin:
    """Creates and drops throwaway databases on the test server (autocommit admin connection)."""

    def __init__(self) -> None:
        import psycopg

        self._psycopg = psycopg
        self.error: str | None = None
        self._templates: dict[str, str] = {}
        try:
            with psycopg.connect(self._dsn("postgres"), autocommit=True, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            self.error = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {str(exc).strip().splitlines()[0]}"

    @staticmethod
    def _dsn(database: str) -> str:
        return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={database}"

    @staticmethod
    def url(database: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"

    def execute(self, sql: str) -> None:
        with self._psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create(self, template: str | None = None) -> str:
        name = f"cc_test_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def template(self, kind: str, build) -> str:
        """A template database built once per session by ``build(url)`` (then cloned per test)."""
        if kind not in self._templates:
            name = self.create()
            build(self.url(name))
            self._templates[kind] = name
        return self._templates[kind]

    def close(self) -> None:
        for name in self._templates.values():
            self.drop(name)
        self._templates.clear()


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[PgAdmin]:
    """The session's PostgreSQL admin helper (``.error`` says why the server is unusable, if it is)."""
    admin = PgAdmin()
    yield admin
    if admin.error is None:
        admin.close()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a fresh data directory; the environment points at it too."""
    home = tmp_path / "citycarbon-home"
    monkeypatch.setenv("CITYCARBON_HOME", str(home))
    monkeypatch.delenv("CITYCARBON_DATABASE_URL", raising=False)
    monkeypatch.delenv("CITYCARBON_LAKE_DIR", raising=False)
    return Settings.for_home(home)


def _migrate(url: str) -> None:
    database = Database(Settings.for_home(Path("/nonexistent-home"), database_url=url))
    try:
        database.upgrade()
    finally:
        database.dispose()


def _seed(url: str) -> None:
    from citycarbon.store.seed import seed_reference

    database = Database(Settings.for_home(Path("/nonexistent-home"), database_url=url))
    try:
        database.upgrade()
        seed_reference(database)
    finally:
        database.dispose()


_SQLITE_TEMPLATES: dict[str, Path] = {}


def _sqlite_template(kind: str, factory: pytest.TempPathFactory, build) -> Path:
    if kind not in _SQLITE_TEMPLATES:
        path = factory.mktemp(f"template-{kind}") / "citycarbon.db"
        build(f"sqlite:///{path}")
        _SQLITE_TEMPLATES[kind] = path
    return _SQLITE_TEMPLATES[kind]


def _make_db(request: pytest.FixtureRequest, backend: str, settings: Settings, monkeypatch: pytest.MonkeyPatch,
             kind: str | None) -> Iterator[Database]:
    """A database of ``backend``: bare (kind None), migrated ('migrated') or seeded ('seeded')."""
    builders = {"migrated": _migrate, "seeded": _seed}
    if backend == "sqlite":
        target = settings.home / "citycarbon.db"
        if kind is not None:
            template = _sqlite_template(kind, request.getfixturevalue("tmp_path_factory"), builders[kind])
            settings.ensure_home()
            shutil.copyfile(template, target)
        database = Database(settings)
        try:
            yield database
        finally:
            database.dispose()
        return
    admin: PgAdmin = request.getfixturevalue("pg_admin")
    if admin.error:
        pytest.skip(admin.error)
    template = admin.template(kind, builders[kind]) if kind is not None else None
    name = admin.create(template)
    pg_settings = replace(settings, database_url=admin.url(name))
    monkeypatch.setenv("CITYCARBON_DATABASE_URL", pg_settings.database_url)
    database = Database(pg_settings)
    try:
        yield database
    finally:
        database.dispose()
        admin.drop(name)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """An empty database migrated to head, on SQLite and on PostgreSQL."""
    yield from _make_db(request, request.param, settings, monkeypatch, "migrated")


@pytest.fixture(params=BACKENDS)
def bare_db(request: pytest.FixtureRequest, settings: Settings,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """An empty, never-migrated database, on SQLite and on PostgreSQL."""
    yield from _make_db(request, request.param, settings, monkeypatch, None)


@pytest.fixture(params=BACKENDS)
def seeded_db(request: pytest.FixtureRequest, settings: Settings,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A migrated database holding the seeded Dalian reference data, on SQLite and on PostgreSQL."""
    yield from _make_db(request, request.param, settings, monkeypatch, "seeded")


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, settings: Settings,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """Only the SQLite variant of ``db``."""
    yield from _make_db(request, "sqlite", settings, monkeypatch, "migrated")

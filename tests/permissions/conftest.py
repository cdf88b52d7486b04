"""The permission matrix runs on SQLite and PostgreSQL through the shared fixtures of ``tests/db_fixtures.py``."""

import pytest

from citycarbon.settings import Settings
from tests.db_fixtures import BACKENDS, _make_db, pg_admin  # noqa: F401
from tests.permissions.cases import World, populate, write_registry


@pytest.fixture(scope="package", autouse=True)
def cheap_password_hashes():
    """The matrix creates a few hundred accounts; argon2 at its production cost would be most of its run time, and
    no cell verifies a password. The production hasher is back after this package."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("citycarbon.auth.passwords._HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                                                parallelism=1))
        yield


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    """One seeded database per backend for the whole walk (each caller gets a fresh object, so the cells do not
    depend on each other), with the callers' accounts and the monitoring registry."""
    from citycarbon.services.jobs import JobRunner
    from citycarbon.services.monitoring.service import MonitoringService

    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = Settings.for_home(tmp_path_factory.mktemp("matrix-home") / "home")
        monkeypatch.setenv("CITYCARBON_HOME", str(settings.home))
        for name in ("CITYCARBON_DATABASE_URL", "CITYCARBON_LAKE_DIR"):
            monkeypatch.delenv(name, raising=False)
        for db in _make_db(request, request.param, settings, monkeypatch, "seeded"):
            write_registry(db)
            monitoring = MonitoringService(db.settings, db)
            jobs = JobRunner(db, workers=1)
            yield World(db, db.settings, populate(db), monitoring, jobs)
            if jobs._pool is not None:
                jobs._pool.shutdown(wait=True)

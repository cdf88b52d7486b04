"""Alembic environment for citycarbon (configured in code by :class:`citycarbon.store.db.Database`).

The connection comes from ``config.attributes["connection"]``; without one (``alembic`` run by hand with
``-x`` nothing) the URL comes from ``CITYCARBON_DATABASE_URL``/``CITYCARBON_HOME``. SQLite runs in batch
mode so ALTERs work the same as on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import importlib

from alembic import context

from citycarbon.store import models  # noqa: F401  (registers the core tables on Base.metadata)
from citycarbon.store.base import Base

for optional in ("citycarbon.store.auth_models", "citycarbon.store.monitoring_models",
                 "citycarbon.store.registry_models",
                 "citycarbon.store.city_models",
                 "citycarbon.store.governance_models",
                 "citycarbon.store.project_models",
                 "citycarbon.store.assessment_models"):  # other packages' tables, when installed
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(optional)

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from citycarbon.settings import Settings
    from citycarbon.store.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("citycarbon migrations run online only (citycarbon db upgrade)")
run_migrations_online()

"""The benchmarks' PostgreSQL run: a throw-away database on the local server beside the SQLite one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from citycarbon.settings import Settings
from citycarbon.store.db import Database

ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"


@contextmanager
def postgres_database(settings: Settings) -> Iterator[Database | None]:
    """A new database ``cc_bench_…`` on 127.0.0.1 as ``settings``' store, dropped afterwards; None (and a line
    saying why) when no PostgreSQL server answers."""
    try:
        import psycopg

        name = f"cc_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any reason means: no PostgreSQL run
        print(f"\nPostgreSQL skipped: {exc}")
        yield None
        return
    db = Database(replace(settings, database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"))
    try:
        yield db
    finally:
        db.dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""The benchmarks' PostgreSQL run: a throw-away database on the local server beside the SQLite one; the machine
header every store benchmark prints and its run on both databases (:func:`run_on_both`)."""

from __future__ import annotations

import contextlib
import platform
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

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


def print_machine(title: str) -> None:
    """The benchmark's title, the date, Python, the CPU (lscpu) and the load average."""
    print(f"# {title}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python {platform.python_version()}")
    with contextlib.suppress(OSError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
        print("\n".join(line for line in lscpu if line.startswith(("Model name", "CPU(s)", "Architecture"))))
    with contextlib.suppress(OSError):
        print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")


def run_on_both(title: str, bench: Callable[[Database, str], None]) -> None:
    """Print the machine, then ``bench(db, backend)`` on a fresh SQLite store in a temporary home and on a
    throw-away PostgreSQL database (skipped, saying why, without a server)."""
    print_machine(title)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.for_home(Path(folder) / "home")
        settings.ensure_home()
        db = Database(settings)
        try:
            bench(db, "sqlite")
        finally:
            db.dispose()
        with postgres_database(settings) as pg:
            if pg is not None:
                bench(pg, "postgresql")

"""The monitoring registry in the store: save, load and the per-request version check, beside reading the same
registry from its CSV files (the baseline: how the API and pages read it before it moved into the store).

    python benchmarks/bench_monitoring_registry.py [UNITS] [POINTS]     # default 1000 units × 5 points

Runs on a fresh SQLite home, and on PostgreSQL at 127.0.0.1:5432 (user postgres) when one answers.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from web_support import print_machine


def timed(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(label: str, db, source: Path, registry) -> None:
    from citycarbon.monitoring.registry import load_registry
    from citycarbon.store.monitoring_registry import (
        current_registry,
        load_registry_from_db,
        registry_version,
        save_registry,
    )

    db.upgrade()
    start = time.perf_counter()
    save_registry(db, source, "bench")
    save_first = time.perf_counter() - start
    changed = registry.enterprises.assign(name=registry.enterprises["name"] + "·")
    start = time.perf_counter()
    save_registry(db, {"enterprises": changed, "points": registry.points, "products": registry.products}, "bench")
    save_replace = time.perf_counter() - start
    load_db = timed(lambda: load_registry_from_db(db), 5)
    load_csv = timed(lambda: load_registry(source), 3)
    version = timed(lambda: registry_version(db), 200)
    current_registry(db)
    cached = timed(lambda: current_registry(db), 200)
    ms = 1000
    print(f"{label}: save (validate + insert, first) {save_first * ms:8.1f} ms | save replacing it "
          f"{save_replace * ms:8.1f} ms | load from the store {load_db * ms:7.1f} ms | "
          f"load_registry(CSV folder) baseline {load_csv * ms:7.1f} ms | registry_version {version * ms:6.2f} ms | "
          f"current_registry cached {cached * ms:6.2f} ms")


def main() -> None:
    units, points = (int(a) for a in (sys.argv[1:] + ["1000", "5"][len(sys.argv) - 1:])[:2])
    from citycarbon.monitoring.registry import load_registry
    from citycarbon.monitoring.simulate import simulate
    from citycarbon.settings import Settings
    from citycarbon.store.db import Database

    print_machine()
    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    city = simulate(units, points, 1, seed=7)
    source = city.registry.write(work / "registry")
    registry = load_registry(source)
    print(f"registry: {len(registry.enterprises)} enterprises, {len(registry.points)} points, "
          f"{len(registry.products)} products")
    db = Database(Settings.for_home(work / "home"))
    try:
        run("SQLite", db, source, registry)
    finally:
        db.dispose()
    try:
        import psycopg

        name = f"cc_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True,
                             connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:  # no server: say so and stop
        print(f"PostgreSQL: skipped ({str(error).strip().splitlines()[0]})")
        return
    db = Database(Settings.for_home(work / "home-pg", database_url=f"postgresql+psycopg://postgres@127.0.0.1/{name}"))
    try:
        run("PostgreSQL", db, source, registry)
    finally:
        db.dispose()
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

"""Benchmark the store's hot paths on the Dalian data (SQLite file; PostgreSQL on 127.0.0.1:5432 when reachable).

The cockpit reads the ledger on every page, so :func:`citycarbon.store.ledger.reference_dataset` (six tables
as DataFrames) must be cheap once cached, and bounded when the ledger just changed. Baseline in the same run:
reading and validating the shipped CSV files (:func:`citycarbon.datasets.read_reference`, what the CLI does
without a store). Also timed: seeding an empty store, recording a revision of one value, verifying the audit
chain, backup and restore. Run: ``python benchmarks/bench_store.py``.
"""

from __future__ import annotations

import contextlib
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from db_support import postgres_database

from citycarbon.data import data_path
from citycarbon.datasets import read_reference
from citycarbon.settings import Settings
from citycarbon.store import audit, backup, ledger
from citycarbon.store.db import Database
from citycarbon.store.seed import seed_reference

REPEAT = 50


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:8.2f} ms, p95 {p95 * 1000:8.2f} ms (n={len(ordered)})"


def _time(function, repeat: int = REPEAT) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def _once(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _bench(db: Database, label: str, folder: Path) -> None:
    print(f"\n## {label}")
    db.upgrade()
    print(f"seed (empty store → Dalian, 2 030 values, one transaction): {_once(lambda: seed_reference(db)):.2f} s")

    def cached() -> None:
        with db.session() as session:
            ledger.reference_dataset(session, "dalian")

    def uncached() -> None:
        ledger.clear_cache()
        cached()

    def baseline() -> None:
        read_reference(data_path("dalian"), "dalian")

    print(f"reference_dataset, cached (unchanged ledger): {_ms(_time(cached))}")
    print(f"reference_dataset, after a ledger change (no cache): {_ms(_time(uncached, 20))}")
    print(f"baseline: read_reference from the CSV files: {_ms(_time(baseline, 20))}")

    counter = iter(range(10**6))

    def revise() -> None:
        value = 7000.0 + next(counter)
        frame = pd.DataFrame({"year": [2020], "region": ["210200"], "variable": ["gdp"], "value": [value],
                              "unit": ["10^8 CNY"], "price_base_year": pd.array([None], dtype="Int64"),
                              "status": ["official"], "source": ["bench"]})
        with db.session(write=True) as session:
            ledger.write_frame(session, "statistics", frame, actor="bench", scope="none")

    print(f"write_frame revising one value (supersede + audit): {_ms(_time(revise, 20))}")

    def verify() -> None:
        with db.session() as session:
            assert audit.verify(session).ok

    with db.session() as session:
        rows = audit.count(session)
    print(f"audit.verify over {rows} rows: {_ms(_time(verify, 10))}")
    archive = folder / f"{label}.zip"
    print(f"backup: {_once(lambda: backup.backup(db, archive)):.2f} s ({archive.stat().st_size / 1024:.0f} KiB)")
    backup.wipe(db)
    print(f"restore (checks + one transaction): {_once(lambda: backup.restore(db, archive)):.2f} s")


def main() -> None:
    print("# citycarbon store benchmark")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python {platform.python_version()}")
    with contextlib.suppress(OSError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
        print("\n".join(line for line in lscpu if line.startswith(("Model name", "CPU(s)", "Architecture"))))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.for_home(Path(folder) / "home")
        db = Database(settings)
        try:
            _bench(db, "sqlite", Path(folder))
        finally:
            db.dispose()
        with postgres_database(settings) as db:
            if db is not None:
                _bench(db, "postgresql", Path(folder))


if __name__ == "__main__":
    main()

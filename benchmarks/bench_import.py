"""Benchmark the import workflow (issue 13): upload → validation → preview → approval of a 10-year energy balance
(≈ 5 000 rows) plus a statistics table, through :mod:`citycarbon.services.imports` (what the web page, the API
and ``citycarbon data import --approve`` call), on SQLite, into a store seeded with the Dalian data.
Target: ≤ 2 s for the whole. Also timed: the same balance in ``years`` mode (its preview lists every value it
would close), and reading the balance in the statistics bureau's layout.

Run: ``python benchmarks/bench_import.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from citycarbon.auth.principal import Principal
from citycarbon.codelists import fuel_table, load_codelist
from citycarbon.services import imports as service
from citycarbon.settings import Settings
from citycarbon.store.db import Database
from citycarbon.store.seed import seed_reference

ADMIN = Principal(1, "admin", "admin")
YEARS = range(2015, 2025)
TARGET_S = 2.0


def balance_csv(seed: int = 0) -> bytes:
    """A 10-year balance of Dalian's region: supply, transformation, losses, final and non-energy use of every
    fuel (≈ 510 rows a year), in each fuel's default unit."""
    rng = np.random.default_rng(seed)
    fuels = fuel_table()
    sectors = load_codelist("sectors")
    final = [s for s in sectors.index if sectors.at[s, "kind"] == "final" and s not in ("industry", "residential")]
    industry = [s for s in final if sectors.at[s, "parent"] == "industry"]
    rows = []
    for year in YEARS:
        for fuel in fuels.index:
            unit = fuels.at[fuel, "default_unit"]
            if fuels.at[fuel, "primary_electricity"]:
                rows.append((year, "production", "", fuel, unit))
                continue
            rows += [(year, flow, "", fuel, unit) for flow in ("inflow", "outflow", "stock_change", "losses")]
            rows += [(year, "final_consumption", sector, fuel, unit) for sector in final]
            if fuels.at[fuel, "fossil"]:
                rows += [(year, "transformation_input", sector, fuel, unit) for sector in ("power", "heat_supply")]
                rows += [(year, "non_energy_use", sector, fuel, unit) for sector in industry]
    frame = pd.DataFrame(rows, columns=["year", "flow", "sector", "fuel", "unit"])
    frame.insert(1, "region", "210200")
    frame.insert(5, "quantity", rng.uniform(1, 1000, len(frame)).round(3))
    return frame[["year", "region", "flow", "sector", "fuel", "quantity", "unit"]].to_csv(index=False).encode()


def statistics_csv() -> bytes:
    variables = load_codelist("statistics_variables")
    rows = [(year, "210200", variable, 100.0 + year - 2000 + i, variables.at[variable, "unit"])
            for year in YEARS for i, variable in enumerate(variables.index)]
    frame = pd.DataFrame(rows, columns=["year", "region", "variable", "value", "unit"])
    return frame.to_csv(index=False).encode()


def _db(folder: Path) -> Database:
    settings = replace(Settings.for_home(folder), cookie_secure=False)
    settings.ensure_home()
    db = Database(settings)
    db.upgrade()
    seed_reference(db)
    return db


def _workflow(db: Database, balance: bytes, stats: bytes, mode: str) -> dict[str, float]:
    times: dict[str, float] = {}
    start = time.perf_counter()
    batch = service.upload_batch(db, ADMIN, filename="balance.csv", content=balance, mode=mode)
    times["balance: upload + validate + preview"] = time.perf_counter() - start
    assert batch.status == "validated", batch.problems[:3]
    mark = time.perf_counter()
    service.approve_batch(db, ADMIN, batch.id, reason="benchmark")
    times["balance: approve (ledger write)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    stats_batch = service.upload_batch(db, ADMIN, filename="statistics.csv", content=stats, mode=mode)
    assert stats_batch.status == "validated", stats_batch.problems[:3]
    service.approve_batch(db, ADMIN, stats_batch.id, reason="benchmark")
    times["statistics: upload + approve"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stats = statistics_csv()
    rows = balance_csv().count(b"\n") - 1
    stat_rows = stats.count(b"\n") - 1
    print(f"# bench_import — {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"balance: {rows} rows over {len(YEARS)} years; statistics: {stat_rows} rows; SQLite file, "
          "store seeded with the Dalian data")
    for mode in ("keys", "years"):
        runs: list[dict[str, float]] = []
        for run in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="cc-bench-import-") as folder:
                db = _db(Path(folder))
                try:
                    runs.append(_workflow(db, balance_csv(run + 1), stats, mode))
                finally:
                    db.dispose()
        print(f"\n## mode {mode} (median of {len(runs)} fresh stores)")
        for step in runs[0]:
            print(f"{step:40s} {statistics.median(r[step] for r in runs):6.3f} s")
        total = statistics.median(r["total"] for r in runs)
        print(f"{'target':40s} {TARGET_S:6.3f} s → {'OK' if total <= TARGET_S else 'OVER'}")


if __name__ == "__main__":
    main()

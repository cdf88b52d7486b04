"""Benchmark ``account`` of one year from the ledger (SQLite, seeded with the Dalian dataset), warm.

Set-up: a temporary CITYCARBON_HOME seeded by ``ensure_ready`` (migrations + the reference dataset). Timed:

* the first ``account_city(2023, source="store")`` (cold: reads the ledger, validates it, accounts 2023 with
  2022 and the period base 2020 for the reductions) — the baseline;
* warm ``account_city(2023, source="store")``, median of REPEAT: the ledger's dataset is cached per ledger
  version (``services.sources.city_inputs``), the accounts are computed again each call (what ``citycarbon
  account`` does once the data is loaded) — issue 13 budget: ≤ 100 ms;
* the same on a non-default profile (``--co2-factors ipcc-cn-ncv --grid-factor regional``);
* the API's path (``account_ledger_year`` over ``services.results.Results``): warm memo hits.

Run: ``python benchmarks/bench_account.py`` (prints the machine).
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

REPEAT = 20
YEAR = 2023


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        os.environ["CITYCARBON_HOME"] = str(home)
        os.environ.pop("CITYCARBON_DATABASE_URL", None)
        from citycarbon.services.accounting import account_city, account_ledger_year
        from citycarbon.services.results import Results
        from citycarbon.settings import Settings
        from citycarbon.store.seed import ensure_ready

        settings = Settings.for_home(home)
        db = ensure_ready(settings)
        try:
            cold = timed(lambda: account_city(YEAR, source="store"))
            warm = statistics.median(timed(lambda: account_city(YEAR, source="store")) for _ in range(REPEAT))
            choices = {"co2_factors": "ipcc-cn-ncv", "grid_factor": "regional"}
            account_city(YEAR, source="store", **choices)
            other = statistics.median(timed(lambda: account_city(YEAR, source="store", **choices))
                                      for _ in range(REPEAT))
            results = Results(db)
            version = results.refresh()
            first = timed(lambda: account_ledger_year(results, version, YEAR))
            hit = statistics.median(timed(lambda: account_ledger_year(results, version, YEAR, choices))
                                    for _ in range(REPEAT))
        finally:
            db.dispose()
    print(f"cold account_city({YEAR}, source='store') (ledger read + accounts): {cold * 1000:8.1f} ms  (baseline)")
    print(f"warm account_city({YEAR}, source='store'), median of {REPEAT}:        {warm * 1000:8.1f} ms  "
          "(budget 100 ms)")
    print(f"warm, --co2-factors ipcc-cn-ncv --grid-factor regional, median:   {other * 1000:8.1f} ms")
    print(f"API path: first account_ledger_year (all years, cold):             {first * 1000:8.1f} ms")
    print(f"API path: warm memo hit with choices, median of {REPEAT}:            {hit * 1000:8.3f} ms")


if __name__ == "__main__":
    main()

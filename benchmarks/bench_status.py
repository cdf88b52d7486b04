"""Benchmark ``status`` (all targets, both CO2 bases, all districts): from the ledger after an import, and on the
shipped Dalian files.

Ledger (issue 13: "`status` from the ledger after an import, warm, ≤ 50 ms"): a temporary ``CITYCARBON_HOME``
seeded with the Dalian data (``ensure_ready``); a GDP correction (the latest year's statistics rows, GDP
+0.1 %) is uploaded and approved through
the import service (what ``citycarbon data import --approve`` and the web do), so the ledger version changes;
then ``status_report(year, source="store")`` — what ``citycarbon status`` and the library call — is timed: the
first call after the import (reads the ledger, accounts every year on both bases, sinks, districts) and the
median of repeated warm calls (the city's data and each report are kept per ledger version). The API's
``/api/v1/status`` reads the same function through its per-version cache.

Files: the same on the shipped files (cold first call, warm median, a month-6 nowcast).
Run: ``python benchmarks/bench_status.py``. Prints the machine and the figures.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPEAT = 20
BUDGET_MS = 50.0


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def ledger_after_import(home: Path) -> int:
    """Seed ``home``, then upload and approve a GDP correction of the latest year; returns that year."""
    from citycarbon.auth.principal import Principal, Role
    from citycarbon.services import imports
    from citycarbon.settings import Settings
    from citycarbon.store import ledger
    from citycarbon.store.seed import ensure_ready

    db = ensure_ready(Settings.for_home(home))
    with db.session() as session:
        stats = ledger.current_frame(session, "statistics")
    year = int(stats["year"].max())
    # the whole year's statistics with GDP raised 0.1 %: the same rows under any replacement mode
    rows = stats[stats["year"] == year].copy()
    rows.loc[rows["variable"] == "gdp", "value"] = rows.loc[rows["variable"] == "gdp", "value"] * 1.001
    rows["source"] = "bench correction"
    columns = ["year", "region", "variable", "value", "unit", "price_base_year", "status", "source"]
    rows["price_base_year"] = [("" if v is None or str(v) in ("", "nan", "<NA>", "None") else int(float(v)))
                               for v in rows["price_base_year"]]
    content = rows[columns].to_csv(index=False).encode("utf-8")
    admin = Principal(0, "bench", Role.admin, via="cli")
    batch = imports.upload_batch(db, admin, filename="gdp_correction.csv", content=content, kind="statistics")
    if batch.status != "validated":
        raise SystemExit(f"the correction was refused: {[p.to_dict() for p in batch.problems]}")
    imports.approve_batch(db, admin, batch.id, reason="benchmark")
    db.dispose()
    return year


def main() -> None:
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-status-") as folder:
        os.environ["CITYCARBON_HOME"] = folder
        os.environ.pop("CITYCARBON_DATABASE_URL", None)
        start = time.perf_counter()
        year = ledger_after_import(Path(folder))
        setup = time.perf_counter() - start

        from citycarbon.services.tracking import status_report

        cold = timed(lambda: status_report(year, source="store"))
        report = status_report(year, source="store")
        warm = statistics.median(timed(lambda: status_report(year, source="store")) for _ in range(REPEAT))
        bases = sum(1 for t in report["targets"] if "bases" in t)
        print(f"seed + import + approve (GDP correction, {year}): {setup:8.1f} s")
        print(f"targets rated: {len(report['targets'])} city ({bases} with both CO2 bases), "
              f"{len(report['districts'])} districts")
        print(f"ledger, first call after the import:        {cold * 1000:8.1f} ms  (baseline: nothing cached)")
        print(f"ledger, warm status_report, median of {REPEAT}: {warm * 1000:8.1f} ms  (budget {BUDGET_MS:.0f} ms)"
              f"  {'OK' if warm * 1000 <= BUDGET_MS else 'OVER BUDGET'}")

    from citycarbon.services.tracking import status_report

    cold = timed(lambda: status_report(2024, source="files"))
    warm = statistics.median(timed(lambda: status_report(2024, source="files")) for _ in range(REPEAT))
    status_report(2024, month=6, source="files")
    nowcast = statistics.median(timed(lambda: status_report(2024, month=6, source="files")) for _ in range(REPEAT))
    print(f"files, cold first call:                     {cold * 1000:8.1f} ms")
    print(f"files, warm status_report(2024):            {warm * 1000:8.1f} ms")
    print(f"files, warm status_report(2024, month=6):   {nowcast * 1000:8.1f} ms")


if __name__ == "__main__":
    main()

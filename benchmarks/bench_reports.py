"""Benchmark of the city's yearly report (issue 16: DOCX + PDF + XLSX ≤ 30 s on this machine).

A fresh SQLite store seeded with the Dalian reference data (the ledger, the organisation registry and the
responsibility matrix), a published assessment of two districts, then, as the office:

* the content (ledger read, status report, accounting, sinks, board, projects, assessment, units' summaries);
* the whole job: content once, DOCX, PDF and XLSX rendered and stored (``generate._build_many``), timed per run
  and per format (``progress`` marks the steps).

Usage: ``PYTHONPATH=src python benchmarks/bench_reports.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citycarbon.auth.principal import Principal, Role
from citycarbon.settings import Settings
from citycarbon.store.db import Database

OFFICE = Principal(1, "office", Role.admin)
TARGET_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from tests.reports.support import publish_run

    from citycarbon.services.reports import content, generate
    from citycarbon.store.seed import seed_reference

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.for_home(Path(folder) / "home")
        settings.ensure_home()
        os.environ["CITYCARBON_HOME"] = str(settings.home)
        db = Database(settings)
        db.upgrade()
        seed_reference(db)
        publish_run(db)
        started = time.perf_counter()
        content.city_report(db, OFFICE, "dalian", 2024)
        cold = time.perf_counter() - started
        totals, steps = [], {"content": [], "docx": [], "pdf": [], "xlsx": []}
        sizes: dict[str, int] = {}
        for _ in range(args.runs):
            marks: list[tuple[str, float]] = []

            def mark(done: int, total: int, step: str, marks: list[tuple[str, float]] = marks) -> None:
                marks.append((step, time.perf_counter()))

            begin = time.perf_counter()
            files = generate._build_many(db, OFFICE, "dalian", 2024, ["docx", "pdf", "xlsx"], progress=mark)
            totals.append(time.perf_counter() - begin)
            ordered = [t for _, t in marks]
            steps["content"].append(ordered[2] - ordered[0])
            for index, fmt in enumerate(("docx", "pdf", "xlsx")):
                steps[fmt].append(ordered[3 + index] - ordered[2 + index])
            sizes = {f.info.format: f.info.size for f in files}
        db.dispose()
    print(f"# city report benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.platform()}, "
          f"{os.cpu_count()} logical cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    print(f"cold content (first build, caches empty): {cold:.2f} s")
    print("| step | median | max |\n|---|---|---|")
    for name, values in steps.items():
        print(f"| {name} | {statistics.median(values):.2f} s | {max(values):.2f} s |")
    print(f"| **DOCX + PDF + XLSX (content once)** — ≤ {TARGET_S:.0f} s | {statistics.median(totals):.2f} s | "
          f"{max(totals):.2f} s |")
    print("sizes: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sizes.items()))
    if statistics.median(totals) > TARGET_S:
        raise SystemExit(f"over the target: {statistics.median(totals):.1f} s > {TARGET_S} s")


if __name__ == "__main__":
    main()

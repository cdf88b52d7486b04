"""Benchmark ``status_report`` (all targets, all districts) on the shipped Dalian dataset.

Prints the machine, the first (cold) call, which loads and accounts every year and the sinks, and the
median of repeated warm calls (inputs cached per city: the shipped files do not change at run time), with
and without a month-6 nowcast. Baseline in the same run: the cold call, i.e. recomputing the inputs each time.
Run: ``python benchmarks/bench_status.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from citycarbon.services.tracking import status_report

REPEAT = 20


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    cold = timed(lambda: status_report(2024))
    report = status_report(2024)
    rows = len(report["targets"]) + sum(len(d["targets"]) for d in report["districts"])
    warm = statistics.median(timed(lambda: status_report(2024)) for _ in range(REPEAT))
    status_report(2024, month=6)
    nowcast = statistics.median(timed(lambda: status_report(2024, month=6)) for _ in range(REPEAT))
    print(f"targets rated: {len(report['targets'])} city + {rows - len(report['targets'])} district rows "
          f"({len(report['districts'])} districts)")
    print(f"cold first call (accounting 2015–2024, sinks, files): {cold * 1000:8.1f} ms  (baseline: no cache)")
    print(f"warm status_report(2024), median of {REPEAT}:        {warm * 1000:8.1f} ms  (budget 200 ms)")
    print(f"warm status_report(2024, month=6), median of {REPEAT}: {nowcast * 1000:8.1f} ms")


if __name__ == "__main__":
    main()

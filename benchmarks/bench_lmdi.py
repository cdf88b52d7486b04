"""Benchmark: chained LMDI-I over 41 years × 50 categories × 5 factors (40 periods).

Prints the machine, the median time of :func:`citycarbon.decomposition.decompose_lmdi_chain` (validation,
pivot to a years × categories × factors array, numpy computation) on a long frame of 10 250 rows, the
median time of a naive per-category Python-loop implementation of the same formulae (Ang 2005,
Table 1, LMDI-I) on the same frame in the same run, and the closure errors of both.

Target (citycarbon issue 3): ≤ 20 ms for the full chain with closure error ≤ 1e-9 (relative).
Run: ``python benchmarks/bench_lmdi.py [--repeat N]``; record the figures in docs/performance.md (LMDI).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from datetime import date

import numpy as np
import pandas as pd

from citycarbon.decomposition import decompose_lmdi_chain

N_YEARS, N_CATEGORIES, N_FACTORS = 41, 50, 5
TARGET_MS = 20.0
TARGET_CLOSURE = 1e-9


def make_frame(seed: int = 20240601) -> pd.DataFrame:
    """Random positive long frame ``year, category, factor, value`` (values spread over 4 decades)."""
    rng = np.random.default_rng(seed)
    cube = 10.0 ** rng.uniform(-2, 2, size=(N_YEARS, N_CATEGORIES, N_FACTORS))
    years = np.arange(1984, 1984 + N_YEARS)
    return pd.DataFrame({
        "year": np.repeat(years, N_CATEGORIES * N_FACTORS),
        "category": np.tile(np.repeat([f"sector_{i:02d}" for i in range(N_CATEGORIES)], N_FACTORS), N_YEARS),
        "factor": np.tile([f"factor_{k}" for k in range(N_FACTORS)], N_YEARS * N_CATEGORIES),
        "value": cube.ravel(),
    })


def naive_chain(frame: pd.DataFrame) -> tuple[dict[str, float], float]:
    """Baseline: per period, per category, per factor Python loops with ``math`` (no numpy).

    Returns the chained additive effects per factor and the largest relative closure error.
    """
    values: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for year, category, factor, value in frame[["year", "category", "factor", "value"]].itertuples(
            index=False):
        values[int(year)][category][factor] = float(value)
    years = sorted(values)
    factors = list(dict.fromkeys(frame["factor"]))
    chained = dict.fromkeys(factors, 0.0)
    worst = 0.0
    for y0, y1 in itertools.pairwise(years):
        total0 = total1 = 0.0
        effects = dict.fromkeys(factors, 0.0)
        for category, row0 in values[y0].items():
            row1 = values[y1][category]
            v0 = math.prod(row0[f] for f in factors)
            v1 = math.prod(row1[f] for f in factors)
            weight = v0 if v0 == v1 else (v1 - v0) / (math.log(v1) - math.log(v0))
            for f in factors:
                effects[f] += weight * math.log(row1[f] / row0[f])
            total0 += v0
            total1 += v1
        for f in factors:
            chained[f] += effects[f]
        worst = max(worst, abs(sum(effects.values()) - (total1 - total0)) / max(total0, total1))
    return chained, worst


def median_ms(function, repeat: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed runs of the vectorised chain")
    parser.add_argument("--naive-repeat", type=int, default=5, help="timed runs of the naive baseline")
    args = parser.parse_args()

    frame = make_frame()
    print(f"date        {date.today().isoformat()}")
    print(f"machine     {platform.platform()}")
    print(f"cpu         {cpu_name()} ({os.cpu_count()} logical cores)")
    print(f"python      {sys.version.split()[0]}  numpy {np.__version__}  pandas {pd.__version__}")
    print(f"input       {N_YEARS} years x {N_CATEGORIES} categories x {N_FACTORS} factors = "
          f"{len(frame)} rows, {N_YEARS - 1} chained periods")

    result = decompose_lmdi_chain(frame)
    totals = [p.v_start for p in result.periods] + [result.v_end]
    period_error = max(p.closure_error for p in result.periods)
    product_error = abs(math.prod(result.multiplicative.values()) / result.ratio - 1.0)
    vectorised_ms = median_ms(lambda: decompose_lmdi_chain(frame), args.repeat)
    document_ms = median_ms(lambda: [p.to_dict() for p in result.periods], max(5, args.repeat // 5))
    naive_effects, naive_error = naive_chain(frame)
    naive_ms = median_ms(lambda: naive_chain(frame), args.naive_repeat)
    agree = max(abs(naive_effects[f] - result.additive[f]) for f in result.factors) / max(totals)

    print(f"vectorised  median {vectorised_ms:8.2f} ms  (decompose_lmdi_chain, {args.repeat} runs; "
          f"validation + pivot + 40 periods)")
    print(f"naive loop  median {naive_ms:8.2f} ms  (per-category Python loops, {args.naive_repeat} runs)")
    print(f"speed-up    {naive_ms / vectorised_ms:8.1f} x")
    print(f"to_dict     median {document_ms:8.2f} ms  (JSON document of all 40 periods, not in the target)")
    print(f"closure     additive: max per period {period_error:.2e}, chained span {result.closure_error:.2e} "
          f"(|sum - (V_end - V_start)| / max(V_start, V_end)); multiplicative span {product_error:.2e}; "
          f"naive max per period {naive_error:.2e}")
    print(f"agreement   vectorised vs naive chained effects {agree:.2e} (relative to max V)")
    met = vectorised_ms <= TARGET_MS and result.max_closure_error <= TARGET_CLOSURE
    print(f"target      <= {TARGET_MS:.0f} ms and closure <= {TARGET_CLOSURE:.0e}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()

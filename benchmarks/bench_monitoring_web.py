"""Benchmark the monitoring pages' server time on a 100-enterprise simulated city (budget ≤ 150 ms warm).

Simulates ``UNITS`` units × ``POINTS`` points × ``DAYS`` days at 15 min, writes the registry into the app's
home and ingests the readings into its lake, starts the real app (``create_app``) over a fresh SQLite store
with an analyst and an enterprise session, and measures through the ASGI stack (TestClient, no network):

* ``/monitoring`` cold (first request after the lake changed: indicators, flags and alerts of the latest day,
  year-to-date daily rollup, monthly rollup) and warm (median, p95 of ``REPEAT``);
* ``/monitoring/enterprises/{id}`` cold and warm (reading charts of the latest days);
* baseline in the same run: ``/monitoring`` with the page cache cleared before each request (every request
  recomputes from the lake, i.e. no cache per lake state).

Run: ``python benchmarks/bench_monitoring_web.py [UNITS [POINTS [DAYS]]]``. Prints the machine and the figures.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
import warnings

from web_support import analyst_session, fresh_settings, percentile, print_machine

REPEAT = 30


def timed(client, path: str, n: int, before=None) -> list[float]:
    out = []
    for _ in range(n):
        if before is not None:
            before()
        start = time.perf_counter()
        response = client.get(path)
        out.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return out


def main() -> None:
    units, points, days = (int(a) for a in (sys.argv[1:] + ["100", "5", "14"][len(sys.argv) - 1:])[:3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from citycarbon.api.app import create_app
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.simulate import simulate
    from citycarbon.store import monitoring_registry as stored
    from citycarbon.store.monitoring_registry import save_registry

    logging.getLogger("citycarbon.api").setLevel(logging.WARNING)  # one log line per request would swamp the output
    print_machine()
    settings = fresh_settings("bench-monitoring-web-")
    start = time.perf_counter()
    city = simulate(units, points, days, seed=3)
    ingest_frame(Lake.open(settings.lake_dir), city.registry, city.readings, source="bench")
    print(f"city: {units} units × {points} points × {days} days, {len(city.readings):,} readings "
          f"(simulated and ingested in {time.perf_counter() - start:.1f} s)")
    unit = str(city.enterprises["enterprise_id"].iloc[0])
    db, session_id = analyst_session(settings)
    save_registry(db, city.registry, "bench")  # the registry the pages read
    app = create_app(settings, prepare=False, warm=False)
    with TestClient(app) as client:
        client.cookies.set("cc_session", session_id)
        cold = timed(client, "/monitoring", 1)[0]
        warm = timed(client, "/monitoring", REPEAT)
        unit_cold = timed(client, f"/monitoring/enterprises/{unit}", 1)[0]
        unit_warm = timed(client, f"/monitoring/enterprises/{unit}", REPEAT)
        baseline = timed(client, "/monitoring", 3, before=lambda: (app.state.monitoring.clear(),
                                                                  stored._cache.clear()))
    db.dispose()
    ms = 1000
    print(f"/monitoring cold (first request after a lake change):  {cold * ms:9.1f} ms")
    print(f"/monitoring warm, median of {REPEAT}:                      {statistics.median(warm) * ms:9.1f} ms"
          f"  p95 {percentile(warm, 0.95) * ms:.1f} ms  (budget 150 ms)")
    print(f"/monitoring/enterprises/{{id}} cold:                     {unit_cold * ms:9.1f} ms")
    print(f"/monitoring/enterprises/{{id}} warm, median of {REPEAT}:     {statistics.median(unit_warm) * ms:9.1f} ms"
          f"  p95 {percentile(unit_warm, 0.95) * ms:.1f} ms")
    print(f"baseline: /monitoring recomputed per request (no cache), median of 3: "
          f"{statistics.median(baseline) * ms:9.1f} ms")


if __name__ == "__main__":
    main()

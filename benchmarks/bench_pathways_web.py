"""Benchmark the pathways page's slider redraw (``GET /pathways/results``) server time (target p95 ≤ 100 ms).

Starts the real app (``create_app``) in-process over a freshly seeded SQLite store, logs an analyst session in
(store ``create_session``) and measures through the ASGI stack (TestClient, no network):

* baseline: a cold model build — in a fresh Python process (imports, data files, base year from the accounting
  engine, levers, sinks) and in this process with ``build_model``'s cache cleared (data files already read) —
  what a redraw would cost without the cached model;
* the first redraw (model built, BAU/Plan/Enhanced comparison runs computed and cached);
* ``REPEAT`` redraws, each with a different lever setting (a new scenario code, so the what-if's run is never
  a cache hit): median and p95; for context, ``model.run`` alone on the same settings.

Run: ``python benchmarks/bench_pathways_web.py``. Prints the machine and the figures.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import warnings

from web_support import analyst_session, fresh_settings, percentile, print_machine

REPEAT = 200


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from citycarbon.api.app import create_app
    from citycarbon.pathways import build_model, load_scenario
    from citycarbon.pathways.scenarios import with_settings

    print_machine()
    settings = fresh_settings("bench-pathways-web-")
    db, session_id = analyst_session(settings)

    probe = ("import time; t = time.perf_counter(); from citycarbon.pathways import build_model; "
             f"build_model({settings.city!r}); print(time.perf_counter() - t)")
    fresh_build = float(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                                       text=True).stdout.strip().splitlines()[-1])
    build_model.cache_clear()
    start = time.perf_counter()
    model = build_model(settings.city)
    cold_build = time.perf_counter() - start

    # lever settings of the redraws: onshore wind and rooftop PV swept over their ranges (all distinct)
    wind = next(lv for lv in model.levers if lv.id == "wind_onshore_2030_mw")
    pv = next(lv for lv in model.levers if lv.id == "rooftop_pv_2030_mw")
    sweeps = [{"wind_onshore_2030_mw": round(wind.min + (wind.max - wind.min) * i / REPEAT, 1),
               "rooftop_pv_2030_mw": round(pv.max - (pv.max - pv.min) * i / REPEAT, 1)} for i in range(REPEAT)]

    app = create_app(settings, prepare=False, warm=False)
    with TestClient(app) as client:
        client.cookies.set("cc_session", session_id)
        headers = {"HX-Request": "true"}
        start = time.perf_counter()
        assert client.get("/pathways/results", params={"scenario": "Plan"}, headers=headers).status_code == 200
        first = time.perf_counter() - start
        redraws = []
        for levers in sweeps:
            start = time.perf_counter()
            response = client.get("/pathways/results", params={"scenario": "Plan", **levers}, headers=headers)
            redraws.append(time.perf_counter() - start)
            assert response.status_code == 200 and "HX-Replace-Url" in response.headers
    plan = load_scenario("Plan")
    runs = []
    for levers in sweeps[:50]:
        scenario = with_settings(plan, levers)
        start = time.perf_counter()
        model.run(scenario)
        runs.append(time.perf_counter() - start)
    db.dispose()
    print(f"baseline: model build in a fresh process (imports, files):   {fresh_build * 1000:8.1f} ms")
    print(f"baseline: model build, its cache cleared (files cached):     {cold_build * 1000:8.1f} ms")
    print(f"first redraw (comparison runs computed):                      {first * 1000:8.1f} ms")
    print(f"slider redraw GET /pathways/results, median of {REPEAT}:  {statistics.median(redraws) * 1000:8.1f} ms"
          f"  p95 {percentile(redraws, 0.95) * 1000:.1f} ms  max {max(redraws) * 1000:.1f} ms  (target p95 ≤ 100 ms)")
    print(f"model.run alone, median of 50:                                {statistics.median(runs) * 1000:8.1f} ms"
          f"  p95 {percentile(runs, 0.95) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

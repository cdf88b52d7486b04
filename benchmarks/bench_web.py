"""Benchmark the cockpit page (``GET /``) server time on the Dalian data in the store (budget ≤ 150 ms).

Starts the real app (``create_app``) in-process over a freshly seeded SQLite store, logs an admin session in
(store ``create_session``) and measures, through the ASGI stack (TestClient, no network):

* the first request (cold: ledger → dataset → accounting of every year, tracking, the cockpit view);
* warm requests (results and the view cached per ledger version): median and p95 of ``REPEAT``;
* baseline in the same run: warm requests with the view cache cleared before each one (the services' results
  stay cached; the page recomputes its view: target rows, charts, formatting), i.e. caching results only.

Run: ``python benchmarks/bench_web.py``. Prints the machine and the figures.
"""

from __future__ import annotations

import statistics
import time
import warnings

from web_support import analyst_session, fresh_settings, percentile, print_machine

REPEAT = 40


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from citycarbon.api.app import create_app

    print_machine()
    settings = fresh_settings("bench-web-")
    db, session_id = analyst_session(settings)
    app = create_app(settings, prepare=False, warm=False)
    with TestClient(app) as client:
        client.cookies.set("cc_session", session_id)
        start = time.perf_counter()
        assert client.get("/").status_code == 200
        cold = time.perf_counter() - start
        warm = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            response = client.get("/")
            warm.append(time.perf_counter() - start)
            assert response.status_code == 200
        results = app.state.results
        uncached = []
        for _ in range(REPEAT // 2):
            with results._guard:  # drop the page views, keep the services' results
                for key in [k for k in results._entries if isinstance(k[1], tuple) and k[1][:2] == ("web", "view")]:
                    results._entries.pop(key)
            start = time.perf_counter()
            client.get("/")
            uncached.append(time.perf_counter() - start)
    db.dispose()
    print(f"cockpit GET / cold (first request, ledger → all results):   {cold * 1000:8.1f} ms")
    print(f"cockpit GET / warm, median of {REPEAT}:                          {statistics.median(warm) * 1000:8.1f} ms"
          f"  p95 {percentile(warm, 0.95) * 1000:.1f} ms  (budget 150 ms)")
    print(f"baseline: view recomputed per request, median of {REPEAT // 2}:      "
          f"{statistics.median(uncached) * 1000:8.1f} ms  p95 {percentile(uncached, 0.95) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

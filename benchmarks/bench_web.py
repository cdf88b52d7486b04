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

import os
import platform
import statistics
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

REPEAT = 40


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from citycarbon.api.app import create_app
    from citycarbon.settings import Settings
    from citycarbon.store import users
    from citycarbon.store.seed import ensure_ready

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    home = Path(tempfile.mkdtemp(prefix="bench-web-"))
    settings = replace(Settings.for_home(home), cookie_secure=False)
    db = ensure_ready(settings)
    with db.session() as session:
        admin, _ = users.create_user(session, username="bench", role="analyst", actor="bench")
        session_id, _ = users.create_session(session, users.principal_for_user(admin))
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

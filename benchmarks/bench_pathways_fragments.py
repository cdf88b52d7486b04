"""Benchmark the pathways page's on-demand fragments of issue 17 (webunc): server time of the MACC with the
ensemble's p5–p95 (``GET /pathways/macc``, ``MACC_RUNS`` = 200 runs; budget ≤ 1 s so the page stays responsive)
and of the wedges with the by-sector LMDI (``GET /pathways/wedges?lmdi_year=2030``).

Starts the real app (``create_app``) in-process over a freshly seeded SQLite store, logs an analyst session in
and measures through the ASGI stack (TestClient, no network), each request with a different onshore-wind setting
(a new scenario code: no cached run):

* baseline in the same run: the central MACC (``MACC_RUNS`` set to 0, as before this change);
* the MACC with 200 runs, for 2030 and 2060: median and max of ``REPEAT``;
* the wedges fragment with the LMDI of 2030, and without it (``attribution`` alone) as its baseline.

Run: ``python benchmarks/bench_pathways_fragments.py``. Prints the machine and the figures.
"""

from __future__ import annotations

import statistics
import time
import warnings

from web_support import analyst_session, fresh_settings, print_machine

REPEAT = 8


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from citycarbon.api.app import create_app
    from citycarbon.web.routes import pathways as routes

    print_machine()
    settings = fresh_settings("bench-pathways-fragments-")
    db, session_id = analyst_session(settings)
    app = create_app(settings, prepare=False, warm=False)
    headers = {"HX-Request": "true"}
    counter = iter(range(10_000))

    def timed(client, path: str, **params) -> float:
        levers = {"wind_onshore_2030_mw": 3000 + 7 * next(counter)}  # a new scenario code every time
        start = time.perf_counter()
        response = client.get(path, params={"scenario": "Plan", **levers, **params}, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200 and 'class="errors"' not in response.text, response.text[:300]
        return elapsed

    figures: dict[str, list[float]] = {}
    with TestClient(app) as client:
        client.cookies.set("cc_session", session_id)
        timed(client, "/pathways/results")  # the model and the comparison runs
        runs = routes.MACC_RUNS
        routes.MACC_RUNS = 0
        figures["baseline: MACC 2030, central only (runs=0)"] = [timed(client, "/pathways/macc", year=2030)
                                                                for _ in range(REPEAT)]
        routes.MACC_RUNS = runs
        for year in (2030, 2060):
            figures[f"MACC {year} with p5–p95 ({runs} runs)"] = [timed(client, "/pathways/macc", year=year)
                                                                 for _ in range(REPEAT)]
        original = routes.wedges_view  # the baseline: the same fragment, the LMDI left out (lmdi_year=None)
        routes.wedges_view = lambda request, fmt, name, settings, lmdi_year=None: original(
            request, fmt, name, settings, None)
        figures["baseline: wedges without the LMDI"] = [timed(client, "/pathways/wedges") for _ in range(REPEAT)]
        routes.wedges_view = original
        figures["wedges with the LMDI of 2030"] = [timed(client, "/pathways/wedges", lmdi_year=2030)
                                                   for _ in range(REPEAT)]
    db.dispose()
    for name, values in figures.items():
        print(f"{name:<48} median {statistics.median(values) * 1000:8.1f} ms  max {max(values) * 1000:8.1f} ms"
              f"  (n={len(values)})")


if __name__ == "__main__":
    main()

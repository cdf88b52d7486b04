"""Benchmark the budget check of a project and the pipeline view (issue 15, "Performance").

Seeds 5 000 fixed-asset investment projects directly into a temporary store (bulk insert; each row with its
stored ``summary`` as the registry's save writes it, a ``commissioning`` year for about two thirds of them),
spread over the 10 districts of Dalian, 12 industry divisions and every workflow state. Then times:

* ``services.projects.budget.budget_check`` of one project (2025 and 2030, city and district, with and without)
  — target ≤ 200 ms (warm: the city's tracking data read once per ledger version, as the server holds them);
* ``services.projects.budget.pipeline`` over the 5 000 projects, as the office and as a district user —
  target ≤ 300 ms server time;
* as a baseline, reading every project as ORM objects (what a naive pipeline would start with).

SQLite file in a temporary directory; PostgreSQL on 127.0.0.1:5432 when reachable.
Run: ``python benchmarks/bench_projects.py``.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import replace
from datetime import date
from typing import Any

from db_support import run_on_both
from sqlalchemy import insert, select

from citycarbon.auth.principal import Principal, Role
from citycarbon.services.projects import budget
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.store import projects as store
from citycarbon.store.db import Database
from citycarbon.store.project_models import ProjProject

REPEAT = 30
CITY = "dalian"
PROJECTS = 5_000
REGIONS = ("210202", "210203", "210204", "210211", "210212", "210213", "210214", "210224", "210281", "210283")
INDUSTRIES = ("C2614", "C2511", "C3011", "C3120", "C3216", "C2710", "C1713", "C3311", "C3841", "D4411", "C2651",
              "C3099")
STATES = ("draft", "submitted", "incomplete", "under_review", "approved", "approved_conditions", "rejected",
          "commissioned", "accepted", "withdrawn")


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:8.2f} ms, p95 {p95 * 1000:8.2f} ms (n={len(ordered)})"


def _time(function: Any, repeat: int = REPEAT) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def build(db: Database, *, seed: int = 15) -> str:
    """5 000 projects written with one bulk insert; the code of the first (the one checked)."""
    from tests.projects.support import chemical_project

    rng = random.Random(seed)
    template = chemical_project()
    summary = evaluate(CITY, replace(template, id="XM-BENCH")).summary()
    rows = []
    for i in range(PROJECTS):
        scale = rng.uniform(0.05, 20.0)
        figures = {k: (v * scale if isinstance(v, float) and k not in ("year",) else v) for k, v in summary.items()}
        extra = {"commissioning": rng.randint(2024, 2031)} if rng.random() < 0.67 else {}
        applied = date(rng.randint(2022, 2026), rng.randint(1, 12), rng.randint(1, 28))
        rows.append({"city": CITY, "code": f"XM-{applied.year}-{i + 1:05d}", "name": f"项目{i + 1:05d}",
                     "applicant_name": f"企业{i % 700:03d}", "applicant_uscc": template.applicant_uscc,
                     "enterprise_id": f"E{i % 700:03d}", "region_code": rng.choice(REGIONS),
                     "industry_code": rng.choice(INDUSTRIES), "kind": "new", "application_date": applied,
                     "data": store.project_data(template, **extra), "state": rng.choice(STATES),
                     "summary": figures, "submitted_by": "bench", "version": 1})
    with db.session(write=True) as session:
        session.execute(insert(ProjProject), rows)
    return str(rows[0]["code"])


def _bench(db: Database, label: str) -> None:
    print(f"\n## {label}")
    db.upgrade()
    start = time.perf_counter()
    code = build(db)
    print(f"dataset: {PROJECTS} projects (built in {time.perf_counter() - start:.1f} s)")
    office = Principal(1, "office", Role.admin, city=CITY)
    district = Principal(2, "district", Role.district, regions=frozenset({"210281"}), city=CITY)

    start = time.perf_counter()
    found = budget.budget_check(db, office, CITY, code)
    print(f"budget_check, cold first call (tracking data of the city read and built): "
          f"{(time.perf_counter() - start) * 1000:.0f} ms")
    print(f"  project {code}: {found['contribution']['dual_control_tce']['value']:.0f} tce dual control, "
          f"counted from {found['contribution']['commissioning_year']}")
    print(f"budget_check of one project, warm (target ≤ 200 ms): "
          f"{_ms(_time(lambda: budget.budget_check(db, office, CITY, code)))}")
    for year in (2025, 2030):
        found = budget.pipeline(db, office, CITY, year=year)
        print(f"pipeline {year}: {found['totals']['projects']} pending + approved projects, approved "
              f"{found['totals']['approved_tce']:.0f} tce and pending {found['totals']['pending_tce']:.0f} tce "
              f"counted in {year}")
        print(f"pipeline over {PROJECTS} projects, as the office, {year} (target ≤ 300 ms): "
              f"{_ms(_time(lambda y=year: budget.pipeline(db, office, CITY, year=y)))}")
    print(f"pipeline, as a district user: {_ms(_time(lambda: budget.pipeline(db, district, CITY)))}")

    def baseline() -> None:
        with db.session() as session:
            list(session.scalars(select(ProjProject)))

    print(f"baseline: every project as ORM objects ({PROJECTS} rows): {_ms(_time(baseline, 10))}")


def main() -> None:
    run_on_both("citycarbon budget check and pipeline benchmark", _bench)


if __name__ == "__main__":
    main()

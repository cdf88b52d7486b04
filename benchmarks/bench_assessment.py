"""Benchmark an assessment run over 20 units (issue 16, "Performance": ≤ 2 s).

Seeds the Dalian reference data into a temporary store (the governance registry's districts and pilot zones),
adds pilot zones until the shipped ``district`` scheme applies to 20 units, and times
``services.assessment.runs.run_assessment`` end to end (facts collected, every unit scored, the draft, its 20
scores with their facts and evidence and the audit row written, the older draft superseded):

* with the fact collectors the installation registers (whatever ``services/assessment/facts_*.py`` hold: the
  tracking, supervision, monitoring and project-gate collectors read the store as of the ledger version);
* with synthetic collectors that fill every fact of the scheme for every unit (with evidence), so that the
  service's own cost (scoring, storing, ranking) is measured with full rows whatever the collectors do;
* ``reproduce`` of the run and the board read (``get_run``) as the office.

SQLite file in a temporary directory; PostgreSQL on 127.0.0.1:5432 when reachable.
Run: ``python benchmarks/bench_assessment.py``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from db_support import run_on_both

from citycarbon.assessment import Fact
from citycarbon.auth.principal import Principal, Role
from citycarbon.services.assessment import facts, runs
from citycarbon.store.db import Database

REPEAT = 5
CITY = "dalian"
UNITS = 20
YEAR = 2024
OFFICE = Principal(1, "office", Role.admin, city=CITY)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:8.1f} ms, p95 {p95 * 1000:8.1f} ms (n={len(ordered)})"


def _time(function: Any, repeat: int = REPEAT) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def _units(db: Database) -> int:
    """Add pilot zones until the district scheme applies to :data:`UNITS` units; the count."""
    from citycarbon.governance.model import Organisation, OrgKind
    from citycarbon.store import governance

    with db.session(write=True) as session:
        have = [o for o in governance.current_orgs(session, CITY) if o.kind in (OrgKind.district, OrgKind.pilot_zone)]
        for i in range(max(0, UNITS - len(have))):
            governance.put_org(session, CITY, Organisation(code=f"bench_zone_{i + 1}", name_zh=f"测试先导区{i + 1}",
                                                           name_en=f"Bench zone {i + 1}", kind=OrgKind.pilot_zone),
                               actor="bench")
        return max(UNITS, len(have))


def _synthetic(ctx: facts.FactContext) -> dict[str, dict[str, Fact]]:
    scheme = runs.shipped_schemes()["district"][0]
    out = {}
    for n, unit in enumerate(ctx.units):
        evidence = ({"kind": "figure", "series": "bench", "year": ctx.year, "ledger_version": ctx.ledger_version},)
        out[unit.code] = {key: Fact(0.5 + (n % 7) / 10, evidence=evidence, estimate=n % 5 == 0,
                                    note_zh="基准测试数据") for key in scheme.facts}
    return out


def _bench(db: Database, label: str) -> None:
    from citycarbon.store.seed import seed_reference

    print(f"\n## {label}")
    db.upgrade()
    start = time.perf_counter()
    seed_reference(db, CITY, "bench")
    units = _units(db)
    runs.ensure_schemes(db, CITY)
    print(f"dataset: the Dalian reference data, {units} units under the district scheme "
          f"(built in {time.perf_counter() - start:.1f} s)")

    def run() -> Any:
        return runs.run_assessment(db, OFFICE, CITY, YEAR, scheme="district")

    start = time.perf_counter()
    view = run()
    print(f"run_assessment, first call (installed collectors): {(time.perf_counter() - start) * 1000:.0f} ms; "
          f"{len(view.rows)} units, incomplete {sum(1 for r in view.rows if r.incomplete)}, "
          f"estimate {sum(1 for r in view.rows if r.estimate)}")
    print(f"run_assessment over {len(view.rows)} units, installed collectors (target ≤ 2 s): {_ms(_time(run))}")
    saved = dict(facts.COLLECTORS)
    try:
        for key in runs.shipped_schemes()["district"][0].facts:
            facts.COLLECTORS[key] = _synthetic
        full = run()
        print(f"run_assessment over {len(full.rows)} units, every fact filled (synthetic collectors): "
              f"{_ms(_time(run))}")
    finally:
        facts.COLLECTORS.clear()
        facts.COLLECTORS.update(saved)
    latest = run()
    print(f"reproduce of the run: {_ms(_time(lambda: runs.reproduce(db, OFFICE, CITY, latest.run.id), 3))}")
    print(f"get_run (the board) as the office: {_ms(_time(lambda: runs.get_run(db, OFFICE, CITY, latest.run.id), 20))}")


def main() -> None:
    run_on_both("citycarbon assessment run benchmark", _bench)


if __name__ == "__main__":
    main()

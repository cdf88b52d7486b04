"""Benchmark the office's board and the round summary exports (issue 14, "Performance").

Builds the issue's big dataset in a temporary store: 31 tasks, 155 measures (one indicator each, yearly
milestones), 60 units, five years of quarterly rounds (2022Q1–2026Q4; the last one open) with each measure
assigned to five units per round: 20 × 775 = 15 500 assignments and filings (about 4 % filed late, 3 % lagging
with a reason, the open round half filed). Then times, as the office and as a department:

* ``services.governance.summary.board`` (the page's server work: heat map over the latest round of every
  (measure, unit), progress of the open rounds, overdue list) — target ≤ 150 ms;
* the round summary ``round_summary_xlsx`` + ``round_summary_docx`` of the open round — target ≤ 3 s together;
* a unit's yearly report DOCX, and, as a baseline, reading every filing of the store as ORM objects (what a
  naive board would do).

SQLite file in a temporary directory; PostgreSQL on 127.0.0.1:5432 when reachable.
Run: ``python benchmarks/bench_governance.py``.
"""

from __future__ import annotations

import contextlib
import platform
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from db_support import postgres_database
from sqlalchemy import insert, select

from citycarbon.auth.principal import Principal, Role
from citycarbon.services.governance import summary as service
from citycarbon.settings import Settings
from citycarbon.store.db import Database
from citycarbon.store.governance_models import GovFiling, GovMeasure, GovOrg, GovRound, GovRoundAssignment

REPEAT = 30
CITY = "dalian"
TASKS = 31
MEASURES_PER_TASK = 5  # 155 measures
UNITS = 60
UNITS_PER_MEASURE = 5
YEARS = range(2022, 2027)
STATUSES = ("completed", "in_progress", "not_started", "lagging")


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


def _units() -> list[dict[str, Any]]:
    kinds = ["office"] + ["department"] * 30 + ["district"] * 13 + ["pilot_zone"] * 5 + ["enterprise"] * 11
    return [{"city": CITY, "code": f"u{i:02d}", "version": 1, "name_zh": f"单位{i:02d}", "name_en": f"Unit {i}",
             "short_zh": f"单位{i:02d}", "kind": kind, "parent": None,
             "region_code": f"2102{i:02d}" if kind == "district" else None, "active": True,
             "valid_from": datetime(2021, 1, 1, tzinfo=UTC), "changed_by": "bench"}
            for i, kind in enumerate(kinds)]


def build(db: Database, *, seed: int = 14) -> dict[str, int]:
    """The big dataset, written with bulk inserts (the services under test only read it)."""
    rng = random.Random(seed)
    units = _units()
    filers = [u["code"] for u in units if u["kind"] != "office"]
    measures, responsible = [], {}
    for task in range(1, TASKS + 1):
        for seq in range(1, MEASURES_PER_TASK + 1):
            code = f"T{task:02d}-M{seq:02d}"
            chosen = rng.sample(filers, UNITS_PER_MEASURE)
            responsible[code] = chosen
            measures.append({
                "city": CITY, "code": code, "version": 1, "task": task, "seq": seq,
                "text_zh": f"第{task}项任务第{seq}条工作措施：推进重点领域绿色低碳转型，按期完成年度目标。",
                "text_en": "", "lead": chosen[0], "co_units": chosen[1:3], "districts": chosen[3:],
                "deadline": date(2030, 12, 31), "milestones": {},
                "indicators": [{"code": f"ind_{task}_{seq}", "name_zh": f"指标{task}-{seq}", "name_en": "",
                                "unit": "MW", "target": 1000.0, "year": 2030,
                                "milestones": {str(y): 100.0 * (y - 2020) for y in range(2021, 2031)}}],
                "active": True, "valid_from": datetime(2021, 1, 1, tzinfo=UTC), "changed_by": "bench"})
    with db.session(write=True) as session:
        session.execute(insert(GovOrg), units)
        session.execute(insert(GovMeasure), measures)
        rounds = []
        for year in YEARS:
            for quarter in range(1, 5):
                start = date(year, 3 * quarter - 2, 1)
                end = (date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - timedelta(days=1))
                rounds.append({"city": CITY, "code": f"{year}Q{quarter}", "title_zh": f"{year}年第{quarter}季度调度",
                               "period": "quarterly", "period_start": start, "period_end": end,
                               "deadline": end + timedelta(days=10), "state": "closed", "opened_by": "bench"})
        rounds[-1]["state"] = "open"
        session.execute(insert(GovRound), rounds)
        ids = {r.code: r for r in session.scalars(select(GovRound).where(GovRound.city == CITY))}
        assignments, filings = [], []
        for spec in rounds:
            row = ids[spec["code"]]
            is_open = row.state == "open"
            for code, orgs in responsible.items():
                for index, org in enumerate(orgs):
                    assignments.append({"round_id": row.id, "measure_code": code, "org_code": org,
                                        "role": "lead" if index == 0 else "co" if index < 3 else "district"})
                    if is_open and rng.random() < 0.5:
                        continue  # not filed yet
                    late = rng.random() < 0.04
                    day = row.deadline + timedelta(days=rng.randint(1, 6) if late else -rng.randint(0, 9))
                    status = rng.choices(STATUSES, weights=(30, 60, 7, 3))[0]
                    filings.append({
                        "round_id": row.id, "measure_code": code, "org_code": org, "version": 2,
                        "state": "submitted" if is_open else "accepted", "status": status,
                        "narrative": f"{code}本季度按计划推进，完成阶段性工作。",
                        "indicator_values": {f"ind_{code[1:3].lstrip('0')}_{code[-2:].lstrip('0')}":
                                             round(rng.uniform(0, 120) * (row.period_end.year - 2020), 1)},
                        "lag_reason": "项目审批滞后，资金未及时到位。" if status == "lagging" else "",
                        "submitted_at": datetime(day.year, day.month, day.day, 3, tzinfo=UTC),
                        "submitted_by": org, "updated_at": datetime(day.year, day.month, day.day, 3, tzinfo=UTC)})
        session.execute(insert(GovRoundAssignment), assignments)
        session.execute(insert(GovFiling), filings)
    return {"units": len(units), "measures": len(measures), "rounds": len(rounds), "assignments": len(assignments),
            "filings": len(filings)}


def _bench(db: Database, label: str) -> None:
    print(f"\n## {label}")
    db.upgrade()
    start = time.perf_counter()
    sizes = build(db)
    print(f"dataset: {sizes} (built in {time.perf_counter() - start:.1f} s)")
    office = Principal(1, "office", Role.admin)
    department = Principal(2, "dept", Role.department, org="u05")
    today = date(2027, 1, 20)

    def board() -> None:
        service.board(db, office, CITY, today=today)

    def board_department() -> None:
        service.board(db, department, CITY, today=today)

    found = service.board(db, office, CITY, today=today)
    print(f"board: {len(found.cells)} heat-map cells, {len(found.tasks)} tasks × {len(found.orgs)} units, "
          f"{len(found.overdue)} overdue, open rounds {[p.round_code for p in found.progress]}")
    print(f"board, as the office (target ≤ 150 ms): {_ms(_time(board))}")
    print(f"board, as a department: {_ms(_time(board_department))}")

    def exports() -> None:
        service.round_summary_xlsx(db, office, CITY, "2026Q4", today=today)
        service.round_summary_docx(db, office, CITY, "2026Q4", today=today)

    def xlsx() -> None:
        service.round_summary_xlsx(db, office, CITY, "2026Q4", today=today)

    def docx() -> None:
        service.round_summary_docx(db, office, CITY, "2026Q4", today=today)

    print(f"round summary XLSX + DOCX, 775 assignments (target ≤ 3 s): {_ms(_time(exports, 5))}")
    print(f"  XLSX alone: {_ms(_time(xlsx, 5))}")
    print(f"  DOCX alone: {_ms(_time(docx, 5))}")

    def report() -> None:
        service.unit_report_docx(db, office, CITY, "u05", 2026, day=today)

    print(f"unit yearly report (DOCX, four rounds): {_ms(_time(report, 5))}")

    def baseline() -> None:
        with db.session() as session:
            list(session.scalars(select(GovFiling)))

    print(f"baseline: every filing as ORM objects ({sizes['filings']} rows): {_ms(_time(baseline, 10))}")


def _pages() -> None:
    """The board page ``/governance`` and the API's ``/api/v1/governance/board`` through the whole stack
    (TestClient, no network; an analyst's session), on a seeded SQLite home whose Dalian registry is replaced by
    the big dataset. Includes the template (the heat map's JSON block and its 59 × 31 table)."""
    import logging
    import warnings

    from sqlalchemy import delete

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from web_support import analyst_session, fresh_settings

    from citycarbon.api.app import create_app

    logging.getLogger("citycarbon.api").setLevel(logging.WARNING)
    settings = fresh_settings("bench-governance-web-")
    db, session_id = analyst_session(settings)
    with db.session(write=True) as session:  # the seeded registry and matrix make way for the big dataset
        session.execute(delete(GovMeasure).where(GovMeasure.city == CITY))
        session.execute(delete(GovOrg).where(GovOrg.city == CITY))
    build(db)
    app = create_app(settings, prepare=False, warm=False)
    print("\n## pages (SQLite, whole stack through TestClient, analyst session)")
    with TestClient(app) as client:
        logging.getLogger("citycarbon.api").setLevel(logging.WARNING)  # the app's start set it; a line per request
        client.cookies.set("cc_session", session_id)
        for path in ("/governance", "/api/v1/governance/board", "/governance/rounds/2026Q4/summary"):
            assert client.get(path).status_code == 200, path

            def get(path: str = path) -> None:
                assert client.get(path).status_code == 200

            print(f"GET {path}: {_ms(_time(get, 20))}")
    db.dispose()


def main() -> None:
    print("# citycarbon governance board and summary benchmark")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python {platform.python_version()}")
    with contextlib.suppress(OSError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
        print("\n".join(line for line in lscpu if line.startswith(("Model name", "CPU(s)", "Architecture"))))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.for_home(Path(folder) / "home")
        db = Database(settings)
        try:
            _bench(db, "sqlite")
        finally:
            db.dispose()
        _pages()
        with postgres_database(settings) as db:
            if db is not None:
                _bench(db, "postgresql")


if __name__ == "__main__":
    main()

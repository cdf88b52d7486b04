"""Facts from tracking and district accounting (services/assessment/facts_tracking.py) on hand-made ledger data,
on SQLite and PostgreSQL: hand-worked ratios, the origin and estimate flags, as-of reproducibility, pilot zones
without statistics, wind + solar from the energy-project registry, the departments' led targets."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from citycarbon.services.assessment.facts import FactContext, Unit, collect_facts
from citycarbon.store import ledger
from tests.db_fixtures import *  # noqa: F403

GANJINGZI = "210211"
ZHONGSHAN = "210202"
KEYS = ("energy_intensity_annual_ratio", "co2_intensity_annual_ratio", "energy_intensity_cumulative_ratio",
        "co2_intensity_cumulative_ratio", "energy_total_ratio", "energy_intensity_annual_change",
        "wind_solar_added_mw")
UNITS = [Unit("d_ganjingzi", "district", "甘井子区", "Ganjingzi", GANJINGZI),
         Unit("d_zhongshan", "district", "中山区", "Zhongshan", ZHONGSHAN),
         Unit("z_hitech", "pilot_zone", "高新区", "Hi-tech zone", None)]

#: hand-made district statistics of Ganjingzi (official): energy, dual-control energy, GDP (10^4 CNY), CO2
FIGURES = {2020: (1100, 1000, 400, 2300), 2023: (1000, 900, 500, 2000), 2024: (1020, 910, 520, 1980)}
VARIABLES = ("energy_consumption_tce", "energy_consumption_dual_control_tce", "gdp_10k_yuan", "co2_energy_t")
UNIT_OF = {"energy_consumption_tce": "tce", "energy_consumption_dual_control_tce": "tce",
           "gdp_10k_yuan": "10^4 CNY", "co2_energy_t": "t"}


def _statistics(figures: dict[int, tuple[float, ...]], status: str = "official") -> pd.DataFrame:
    rows = [{"year": year, "region": GANJINGZI, "variable": name, "value": float(value), "unit": UNIT_OF[name],
             "status": status, "source": "大连市甘井子区统计局 (test)"}
            for year, values in figures.items() for name, value in zip(VARIABLES, values, strict=True)]
    return pd.DataFrame(rows)


def _write(db, frame: pd.DataFrame) -> int:
    with db.session(write=True) as session:
        ledger.write_frame(session, "district_statistics", frame, actor="test", scope="none")
    with db.session() as session:
        return ledger.version(session)


def _facts(db, version: int, year: int = 2024, units=UNITS):
    with db.session() as session:
        at = ledger.version_time(session, version)
    ctx = FactContext(db, "dalian", year, at, version, list(units))
    return collect_facts(ctx, KEYS)


def test_hand_worked_district_facts_from_imported_statistics(seeded_db):
    version = _write(seeded_db, _statistics(FIGURES))
    facts = _facts(seeded_db, version)
    mine = facts["d_ganjingzi"]
    # intensity 2.0 → 1020/520 = 1.9615: fall 1/52 = 1.923 %; target 2.5 % (国发〔2024〕12号) → 10/13
    assert mine["energy_intensity_annual_ratio"].value == pytest.approx(10 / 13)
    assert mine["energy_intensity_annual_ratio"].note_zh == "2024年能耗强度下降1.92%，年度目标2.5%，完成率77%"
    # CO2: 4.0 → 3.8077, fall 4.808 % against 3.9 %
    assert mine["co2_intensity_annual_ratio"].value == pytest.approx((1 - (1980 / 520) / 4) / 0.039)
    assert mine["co2_intensity_annual_ratio"].value == pytest.approx(1.23274, rel=1e-5)
    # cumulative: 2.75 → 1.9615 = 28.67 % since 2020; due by 2024 at an even pace: 1 − 0.865^0.8 = 10.954 %
    assert mine["energy_intensity_cumulative_ratio"].value == pytest.approx(2.61736, rel=1e-5)
    assert mine["co2_intensity_cumulative_ratio"].value == pytest.approx(2.30105, rel=1e-5)
    # total energy: allowed 900 × 520/500 × (1 − 2.5 %) = 912.6 tce; used 910
    assert mine["energy_total_ratio"].value == pytest.approx(910 / 912.6)
    assert mine["energy_intensity_annual_change"].value == pytest.approx(-1 / 52)
    allowance = [e for e in mine["energy_total_ratio"].evidence if e.get("indicator") == "energy_total_growth_allowed"]
    assert allowance[0]["document"] == "国办发〔2024〕39号" and allowance[0]["status"] == "estimate"
    for key in KEYS[:6]:
        fact = mine[key]
        assert fact.estimate is False, key
        figures = [e for e in fact.evidence if e["kind"] == "figure"]
        assert figures and all(e["origin"] == "statistics" and e["status"] == "official"
                               and e["ledger_version"] == version for e in figures), key
    rule = next(e for e in mine["energy_intensity_annual_ratio"].evidence if e["kind"] == "rule")
    assert rule["document"].startswith("国发〔2024〕12号") and rule["status"] == "unverified"
    # a district without statistics: the shipped share estimates, flagged
    other = facts["d_zhongshan"]["energy_intensity_annual_ratio"]
    assert other.value is not None and other.estimate is True
    assert {e["origin"] for e in other.evidence if e["kind"] == "figure"} == {"shares"}
    # a pilot zone without a region code has no statistics of its own
    zone = facts["z_hitech"]
    assert all(zone[k].value is None and "无单独的统计数据" in zone[k].note_zh for k in KEYS)


def test_a_district_target_set_by_the_office_replaces_the_default(seeded_db):
    _write(seeded_db, _statistics(FIGURES))
    frame = pd.DataFrame([{"year": 2024, "region": GANJINGZI, "indicator": "energy_intensity_annual_fall",
                           "value": 2.0, "unit": "percent", "source": "大双碳办〔2024〕1号 | 2024-03-01",
                           "status": "official"}])
    with seeded_db.session(write=True) as session:
        ledger.write_frame(session, "district_assessment_targets", frame, actor="test", scope="none")
        version = ledger.version(session)
    fact = _facts(seeded_db, version)["d_ganjingzi"]["energy_intensity_annual_ratio"]
    assert fact.value == pytest.approx((1 / 52) / 0.02)
    rule = next(e for e in fact.evidence if e["kind"] == "rule")
    assert rule["origin"] == "district" and rule["document"].startswith("大双碳办")


def test_facts_as_of_a_ledger_version_do_not_change_when_statistics_are_written_later(seeded_db):
    before = _write(seeded_db, _statistics(FIGURES))
    first = _facts(seeded_db, before)["d_ganjingzi"]
    revised = dict(FIGURES)
    revised[2024] = (1040, 930, 520, 1990)  # the bureau revises 2024: intensity 2.0 (no fall)
    after = _write(seeded_db, _statistics({2024: revised[2024]}, status="reported"))
    assert after > before
    again = _facts(seeded_db, before)["d_ganjingzi"]
    for key in KEYS:
        assert again[key].to_dict() == first[key].to_dict(), key
    now = _facts(seeded_db, after)["d_ganjingzi"]
    assert now["energy_intensity_annual_ratio"].value == pytest.approx(0.0)
    assert now["energy_intensity_annual_change"].value == pytest.approx(0.0)
    assert now["energy_intensity_annual_ratio"].value != first["energy_intensity_annual_ratio"].value


def test_unverified_district_statistics_make_the_fact_an_estimate(seeded_db):
    version = _write(seeded_db, _statistics(FIGURES, status="estimate"))
    fact = _facts(seeded_db, version)["d_ganjingzi"]["energy_intensity_annual_ratio"]
    assert fact.value == pytest.approx(10 / 13) and fact.estimate is True


def test_wind_and_solar_connected_in_the_year_in_the_district(seeded_db):
    from citycarbon.store.project_models import EnergyProject

    with seeded_db.session(write=True) as session:
        for code, tech, region, mw, on in (("P1", "solar_utility", GANJINGZI, 60.0, date(2024, 5, 1)),
                                           ("P2", "wind_onshore", GANJINGZI, 40.0, date(2024, 11, 30)),
                                           ("P3", "solar_utility", GANJINGZI, 99.0, date(2023, 12, 31)),
                                           ("P4", "solar_utility", ZHONGSHAN, 7.0, date(2024, 1, 2))):
            session.add(EnergyProject(city="dalian", code=code, name=code, technology=tech, stage="operating",
                                      region_code=region, capacity_mw=mw, grid_connected_on=on, status="reported"))
    with seeded_db.session() as session:
        version = ledger.version(session)
    ctx = FactContext(seeded_db, "dalian", 2024, datetime.now(UTC), version, UNITS)
    facts = collect_facts(ctx, ["wind_solar_added_mw"])
    assert facts["d_ganjingzi"]["wind_solar_added_mw"].value == pytest.approx(100.0)
    assert {e["code"] for e in facts["d_ganjingzi"]["wind_solar_added_mw"].evidence} == {"P1", "P2"}
    assert facts["d_zhongshan"]["wind_solar_added_mw"].value == pytest.approx(7.0)
    # as of a moment before the projects were recorded: none
    early = FactContext(seeded_db, "dalian", 2024, datetime(2000, 1, 1, tzinfo=UTC), version, UNITS)
    assert collect_facts(early, ["wind_solar_added_mw"])["d_ganjingzi"]["wind_solar_added_mw"].value == 0


def test_departments_score_the_warning_levels_of_the_targets_they_lead(seeded_db):
    with seeded_db.session() as session:
        version = ledger.version(session)
    units = [Unit("drc", "department", "市发展改革委", "DRC"), Unit("nobody", "department", "无", "None")]
    ctx = FactContext(seeded_db, "dalian", 2024, datetime.now(UTC), version, units)
    facts = collect_facts(ctx, ["led_targets_level_score"])
    drc = facts["drc"]["led_targets_level_score"]
    led = [e for e in drc.evidence if e["series"] == "warning_level"]
    assert any(e["target"] == "energy_intensity_reduction_2025" for e in led)  # task 3 moves the indicator
    rated = [e["score"] for e in led if e["score"] is not None]
    assert drc.value == pytest.approx(sum(rated) / len(rated))
    assert set(rated) <= {0.0, 0.5, 1.0}
    assert facts["nobody"]["led_targets_level_score"].applicable is False
    # cross-check with the shipped files: task_leads.csv × the plan's Task.indicators, levels of the files' report
    from citycarbon.data import data_path, read_csv_file
    from citycarbon.plan import load_plan
    from citycarbon.services.tracking import city_data, status_report

    leads = read_csv_file(data_path("dalian/governance/task_leads.csv"))
    drc_tasks = {int(t) for t in leads[leads["lead"] == "drc"]["task"]}
    plan = load_plan("dalian")
    expected = sorted(t.id for t in plan.targets
                      if any(t.indicator in task.indicators for task in plan.tasks if task.number in drc_tasks))
    assert sorted(e["target"] for e in led) == expected
    levels = {r["id"]: r["level"] for r in status_report(2024, data=city_data("dalian"))["targets"]}
    scores = [{3: 1.0, 2: 0.5, 1: 0.0}[levels[t]] for t in expected if levels[t] is not None]
    assert drc.value == pytest.approx(sum(scores) / len(scores))


def test_the_district_scheme_scores_the_hand_worked_facts(seeded_db):
    from citycarbon.assessment.scheme import shipped_schemes
    from citycarbon.assessment.scoring import score_unit

    version = _write(seeded_db, _statistics(FIGURES))
    scheme, _ = shipped_schemes()["district"]
    facts = _facts(seeded_db, version)["d_ganjingzi"]
    items = {i.code: i for i in score_unit(scheme, "d_ganjingzi", facts).items}
    assert float(items["energy_intensity_annual"].points) == pytest.approx(11.54)  # 15 × 10/13
    assert float(items["co2_intensity_annual"].points) == 15  # 123 % achieved: capped at full
    assert float(items["energy_total"].points) == 10  # 99.7 % of the allowance
    assert items["energy_intensity_rise"].vetoed is False
    assert not items["energy_intensity_annual"].estimate


def test_a_project_changed_after_the_moment_is_read_as_it_stood_then(seeded_db):
    import time

    from citycarbon.store.project_models import EnergyProject
    from citycarbon.store.projects import save_energy_project

    with seeded_db.session(write=True) as session:
        row = save_energy_project(session, EnergyProject(city="dalian", code="P9"), 0, {
            "name": "P9", "technology": "solar_distributed", "stage": "operating", "region_code": GANJINGZI,
            "capacity_mw": 60.0, "grid_connected_on": date(2024, 6, 30), "status": "reported"}, by="test")
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    with seeded_db.session(write=True) as session:
        row = session.get(EnergyProject, row.id)
        save_energy_project(session, row, 1, {"capacity_mw": 80.0, "grid_connected_on": date(2025, 1, 15)},
                            by="test", reason="connection slipped")
    with seeded_db.session() as session:
        version = ledger.version(session)
    then = collect_facts(FactContext(seeded_db, "dalian", 2024, moment, version, UNITS), ["wind_solar_added_mw"])
    fact = then["d_ganjingzi"]["wind_solar_added_mw"]
    assert fact.value == pytest.approx(60.0) and fact.evidence[0]["version"] == 1
    now = collect_facts(FactContext(seeded_db, "dalian", 2024, datetime.now(UTC), version, UNITS),
                        ["wind_solar_added_mw"])
    assert now["d_ganjingzi"]["wind_solar_added_mw"].value == 0

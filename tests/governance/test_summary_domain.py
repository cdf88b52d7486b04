"""The 调度 summary's aggregation (governance/summary.py): hand-worked values and properties."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from citycarbon.governance import summary as agg
from citycarbon.governance.model import Indicator, Measure

DEADLINE = date(2027, 1, 10)
TODAY = date(2027, 1, 15)
Q4 = agg.RoundFacts(2, "2026Q4", "2026年第四季度调度", "quarterly", date(2026, 10, 1), date(2026, 12, 31), DEADLINE)
Q3 = agg.RoundFacts(1, "2026Q3", "2026年第三季度调度", "quarterly", date(2026, 7, 1), date(2026, 9, 30),
                    date(2026, 10, 10), "closed")
PV = Indicator("pv_mw", "渔光互补光伏装机", "fishery PV", "MW", target=500.0, year=2030, milestones={2026: 200.0})
MEASURES = {
    "T05-M01": Measure("T05-M01", 5, 1, "推进渔光互补光伏建设。", lead="miit", co_units=("eco",), indicators=(PV,)),
    "T05-M02": Measure("T05-M02", 5, 2, "淘汰落后产能。", lead="miit"),
    "T12-M01": Measure("T12-M01", 12, 1, "建设充电设施。", lead="d210202", co_units=("eco",)),
}
ROWS = [
    agg.Assignment(2, "T05-M01", "miit", "lead", "submitted", "in_progress", date(2027, 1, 8), "已开工",
                   indicator_values={"pv_mw": 120.0}),
    agg.Assignment(2, "T05-M01", "eco", "co", "submitted", "lagging", date(2027, 1, 12), "", "用地审批未完成",
                   {"pv_mw": 30.0}),
    agg.Assignment(2, "T05-M02", "miit", "lead", "draft", "in_progress", None),
    agg.Assignment(2, "T12-M01", "d210202", "lead", "accepted", "completed", DEADLINE),
    agg.Assignment(2, "T12-M01", "eco", "co"),
]


def test_round_summary_hand_worked():
    s = agg.summarise_round(Q4, ROWS, MEASURES, today=TODAY)
    assert s.assigned == 5
    assert s.by_status == {"completed": 1, "in_progress": 1, "not_started": 0, "lagging": 1, "not_filed": 2}
    assert s.measures_by_status == {"completed": 1, "in_progress": 0, "not_started": 0, "lagging": 1,
                                    "not_filed": 1}
    assert [(u.org, u.assigned, u.filed, u.on_time, u.rate) for u in s.units] == [
        ("eco", 2, 1, 0, 0.0), ("miit", 2, 1, 1, 0.5), ("d210202", 1, 1, 1, 1.0)]
    assert s.on_time == 2 and s.on_time_rate == 0.4
    assert [(i.measure, i.org, i.reason) for i in s.lagging] == [("T05-M01", "eco", "用地审批未完成")]
    assert [(o.measure, o.org, o.days) for o in s.overdue] == [("T05-M02", "miit", 5), ("T12-M01", "eco", 5)]
    (check,) = s.indicators
    assert (check.value, check.milestone, check.ratio, check.met, check.reported_by) == (120.0, 200.0, 0.6, False,
                                                                                        ("miit",))
    assert [row[3] for row in s.measure_rows] == ["lagging", "not_filed", "completed"]


def test_indicator_sums_the_units_when_the_lead_reports_nothing():
    rows = [agg.Assignment(2, "T05-M01", "eco", "co", "submitted", "in_progress", TODAY,
                           indicator_values={"pv_mw": 30.0}),
            agg.Assignment(2, "T05-M01", "d210202", "district", "accepted", "in_progress", TODAY,
                           indicator_values={"pv_mw": 45.5})]
    (check,) = agg.indicator_checks([MEASURES["T05-M01"]], rows, 2026)
    assert check.value == 75.5 and check.reported_by == ("eco", "d210202")
    (target_year,) = agg.indicator_checks([MEASURES["T05-M01"]], rows, 2030)
    assert target_year.milestone == 500.0


def test_round_progress_hand_worked():
    p = agg.round_progress(Q4, ROWS, today=TODAY)
    assert (p.assigned, p.filed, p.accepted, p.late) == (5, 3, 1, 3)
    before = agg.round_progress(Q4, ROWS, today=DEADLINE)  # on the deadline nothing is overdue yet
    assert before.late == 1


def test_heat_cells_take_the_latest_round_of_each_task_and_the_worst_level():
    older = [(Q3, agg.Assignment(1, "T05-M01", "miit", "lead", "accepted", "completed", date(2026, 10, 9))),
             (Q3, agg.Assignment(1, "T07-M01", "miit", "lead", "accepted", "lagging", date(2026, 10, 9)))]
    latest = [(Q4, a) for a in ROWS] + older
    cells = {(c.task, c.org): c for c in agg.heat_cells(latest, today=TODAY)}
    assert cells[(5, "miit")].level == "overdue" and cells[(5, "miit")].round_code == "2026Q4"
    assert cells[(5, "miit")].counts == {"in_progress": 1, "overdue": 1}
    assert cells[(5, "eco")].level == "lagging"
    assert cells[(7, "miit")].level == "lagging" and cells[(7, "miit")].round_code == "2026Q3"
    assert cells[(12, "d210202")].level == "completed"
    pending = {(c.task, c.org): c.level for c in agg.heat_cells(latest, today=DEADLINE)}
    assert pending[(12, "eco")] == "pending"


def test_titles():
    assert agg.round_title_zh(Q4) == "2026年第四季度碳达峰碳中和工作调度情况"
    monthly = agg.RoundFacts(3, "2026-10", "", "monthly", date(2026, 10, 1), date(2026, 10, 31), DEADLINE)
    assert agg.round_title_zh(monthly) == "2026年10月碳达峰碳中和工作调度情况"
    yearly = agg.RoundFacts(4, "2026", "", "yearly", date(2026, 1, 1), date(2026, 12, 31), DEADLINE)
    assert agg.round_title_zh(yearly) == "2026年度碳达峰碳中和工作调度情况"


assignment = st.builds(
    agg.Assignment, round_id=st.just(2), measure=st.sampled_from(["T01-M01", "T05-M02", "T31-M03"]),
    org=st.sampled_from(["miit", "eco", "d210202", "z_jinpu"]), role=st.just("lead"),
    state=st.sampled_from([None, "draft", "submitted", "accepted", "returned"]),
    status=st.sampled_from([None, "not_started", "in_progress", "completed", "lagging"]),
    submitted_on=st.one_of(st.none(), st.integers(-20, 20).map(lambda d: DEADLINE + timedelta(days=d))))


@given(st.lists(assignment, max_size=40), st.integers(-5, 30))
def test_counts_sum_to_the_assignments_and_rates_are_fractions(rows, offset):
    today = DEADLINE + timedelta(days=offset)
    s = agg.summarise_round(Q4, rows, {}, today=today)
    assert sum(s.by_status.values()) == len(rows) == s.assigned
    assert sum(s.measures_by_status.values()) == len({a.measure for a in rows})
    assert sum(u.assigned for u in s.units) == len(rows)
    assert all(0.0 <= u.rate <= 1.0 for u in s.units)
    assert 0.0 <= s.on_time_rate <= 1.0
    p = agg.round_progress(Q4, rows, today=today)
    assert p.accepted <= p.filed <= p.assigned and 0 <= p.late <= p.assigned
    assert len(s.overdue) == (0 if today <= DEADLINE else p.assigned - p.filed)
    cells = agg.heat_cells([(Q4, a) for a in rows], today=today)
    assert sum(sum(c.counts.values()) for c in cells) == len(rows)

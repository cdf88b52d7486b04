"""Working days as data and the supervision rules (pure domain): hand-worked dates around 国庆 2026, the shipped
notices agree with chinese-calendar, add_workdays and workdays_between are inverse (hypothesis), and the rules
give the right level on the right working day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.governance.model import SupervisionLevel
from citycarbon.governance.supervision import (
    AssignmentFacts,
    FilingFacts,
    RoundFacts,
    evaluate,
    load_rules,
    next_doc_number,
    parse_rules,
)
from citycarbon.governance.workdays import (
    CalendarDay,
    CalendarNotCovered,
    DayKind,
    add_workdays,
    base_calendar,
    is_workday,
    layered,
    parse_calendar_csv,
    shipped_days,
    workdays_between,
)

BASE = base_calendar()
CAL = layered(BASE.days.values(), shipped_days(), years=BASE.years)
SHIPPED_ONLY = layered(shipped_days())


def test_2026_fixture_of_the_reference_notes():
    holidays = {d.day for d in SHIPPED_ONLY.year_days(2026) if d.kind is DayKind.holiday}
    workdays = {d.day for d in SHIPPED_ONLY.year_days(2026) if d.kind is DayKind.workday}
    assert {date(2026, 10, 1) + timedelta(i) for i in range(7)} <= holidays
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert workdays == {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
                        date(2026, 10, 10)}


@pytest.mark.parametrize("year", [2025, 2026])
def test_shipped_notices_agree_with_chinese_calendar(year):
    import chinese_calendar

    day = date(year, 1, 1)
    while day.year == year:
        assert is_workday(day, SHIPPED_ONLY) == chinese_calendar.is_workday(day), day
        day += timedelta(1)


def test_working_days_around_national_day_2026():
    # Wed 30 Sept is the last working day before the holiday; Thu 1 – Wed 7 Oct off; Sat 10 Oct worked
    assert is_workday(date(2026, 9, 30), CAL)
    assert not is_workday(date(2026, 10, 5), CAL)
    assert is_workday(date(2026, 9, 20), CAL)  # a Sunday worked in lieu
    assert add_workdays(date(2026, 9, 30), 1, CAL) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 3, CAL) == date(2026, 10, 10)
    assert add_workdays(date(2026, 9, 30), 10, CAL) == date(2026, 10, 20)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 9), CAL) == 2
    assert add_workdays(date(2026, 10, 8), -1, CAL) == date(2026, 9, 30)


def test_a_year_no_source_covers_raises():
    with pytest.raises(CalendarNotCovered, match="2027") as caught:
        is_workday(date(2027, 3, 1), CAL)
    assert "2027" in caught.value.message_zh
    with pytest.raises(CalendarNotCovered):
        add_workdays(date(2026, 12, 30), 5, CAL)  # runs into 2027
    imported = layered(CAL.days.values(), [CalendarDay(date(2027, 1, 1), DayKind.holiday, "元旦")], years=CAL.years)
    assert not is_workday(date(2027, 1, 1), imported) and is_workday(date(2027, 1, 4), imported)


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 10, 31)), st.integers(min_value=0, max_value=40))
def test_add_and_between_are_inverse(start, n):
    end = add_workdays(start, n, CAL)
    assert workdays_between(start, end, CAL) == n
    assert n == 0 or is_workday(end, CAL)
    assert workdays_between(end, start, CAL) == -n


def test_bad_calendar_rows_are_named_and_nothing_is_taken():
    text = "date,kind,name,source,status\n2026-13-01,holiday,x,,\n2026-10-09,workday,Fri,,\n2026-10-10,rest,,,\n"
    with pytest.raises(InputError) as caught:
        parse_calendar_csv(text, filename="cal.csv")
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "date"), (3, "kind"), (4, "kind")]
    assert all(p.file == "cal.csv" for p in caught.value.problems)


# ---- rules ---------------------------------------------------------------------------------------------------

RULES = load_rules()
Q3 = RoundFacts(1, "2026Q3", "quarterly", date(2026, 7, 1), date(2026, 9, 30))
ASSIGN = [AssignmentFacts(1, "T05-M01", "miit"), AssignmentFacts(1, "T05-M02", "eco")]


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 10, 9), None),  # 2 working days late (8, 9 Oct)
    (date(2026, 10, 10), SupervisionLevel.reminder),  # Saturday worked in lieu: the 3rd working day
    (date(2026, 10, 19), SupervisionLevel.reminder),  # 9 working days
    (date(2026, 10, 20), SupervisionLevel.notice),  # 10 working days
])
def test_late_filing_levels_on_working_days_after_national_day(today, expected):
    found = evaluate(RULES, [Q3], ASSIGN[:1], [], CAL, today)
    assert [f.level for f in found] == ([expected] if expected else [])
    if expected:
        assert found[0].facts["workdays_late"] == workdays_between(Q3.deadline, today, CAL)


def test_a_filing_submitted_in_time_is_not_late_and_a_late_one_keeps_its_days():
    on_time = FilingFacts(1, "T05-M01", "miit", "submitted", "in_progress", date(2026, 9, 29))
    late = FilingFacts(1, "T05-M02", "eco", "accepted", "in_progress", date(2026, 10, 12))  # 4 working days
    found = evaluate(RULES, [Q3], ASSIGN, [on_time, late], CAL, date(2026, 11, 30))
    assert [(f.org_code, f.level, f.facts["workdays_late"]) for f in found] == [("eco", "reminder", 4)]
    draft = FilingFacts(1, "T05-M01", "miit", "draft", "in_progress", None)
    assert evaluate(RULES, [Q3], ASSIGN[:1], [draft], CAL, date(2026, 10, 20))[0].level == "notice"


def test_returned_filing_not_resubmitted():
    returned = FilingFacts(1, "T05-M01", "miit", "returned", "in_progress", date(2026, 9, 28), date(2026, 9, 29))
    found = evaluate(RULES, [Q3], ASSIGN[:1], [returned], CAL, date(2026, 10, 13))  # 30 Sep, 8–13 Oct: 5
    assert [(f.rule_code, f.level) for f in found] == [("returned_not_resubmitted", "reminder")]


def test_lagging_two_consecutive_rounds_of_the_same_period():
    q2 = RoundFacts(2, "2026Q2", "quarterly", date(2026, 4, 1), date(2026, 6, 30))
    m9 = RoundFacts(3, "2026-09", "monthly", date(2026, 9, 1), date(2026, 10, 9))
    lag = [FilingFacts(2, "T05-M01", "miit", "accepted", "lagging", date(2026, 6, 30)),
           FilingFacts(3, "T05-M01", "miit", "submitted", "lagging", date(2026, 9, 30)),
           FilingFacts(1, "T05-M01", "miit", "submitted", "lagging", date(2026, 9, 30))]
    found = [f for f in evaluate(RULES, [Q3, q2, m9], [], lag, CAL, date(2026, 10, 8)) if f.rule_code.startswith("lag")]
    assert [(f.round_id, f.level, f.facts["rounds"]) for f in found] == [(1, "interview", ["2026Q2", "2026Q3"])]
    # a quarter in between that is not lagging breaks the run
    ok = [FilingFacts(1, "T05-M01", "miit", "submitted", "in_progress", date(2026, 9, 30)), lag[0]]
    assert not [f for f in evaluate(RULES, [Q3, q2], [], ok, CAL, date(2026, 10, 8)) if f.rule_code.startswith("lag")]


def test_doc_numbers_follow_the_yearly_sequence():
    assert next_doc_number(RULES, [], city="dalian", year=2026) == "大碳达峰办督〔2026〕1号"
    existing = ["大碳达峰办督〔2026〕1号", "大碳达峰办督〔2026〕12号", "大碳达峰办督〔2025〕40号"]
    assert next_doc_number(RULES, existing, city="dalian", year=2026) == "大碳达峰办督〔2026〕13号"
    assert next_doc_number(RULES, existing, city="dalian", year=2027) == "大碳达峰办督〔2027〕1号"


def test_rules_data_is_checked():
    with pytest.raises(ValueError, match="kind"):
        parse_rules({"doc_number_format": "{year}{n}", "rules": [{"code": "x", "kind": "nope", "levels": []}]})
    with pytest.raises(ValueError, match="higher level"):
        parse_rules({"doc_number_format": "{year}{n}", "rules": [{"code": "x", "kind": "late_filing", "levels": [
            {"level": "notice", "after_workdays": 3}, {"level": "reminder", "after_workdays": 10}]}]})
    assert RULES.status in ("verified", "secondary-source", "unverified", "estimate")

"""Scores equal hand-worked examples (issue 16): the shipped district scheme, item by item, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.assessment import Fact, parse_scheme, score_unit, shipped_schemes
from citycarbon.assessment.scoring import Adjustment, check_adjustment
from citycarbon.errors import InputError


@pytest.fixture(scope="module")
def district():
    return shipped_schemes()["district"][0]


def _facts(**values):
    return {key: (value if isinstance(value, Fact) else Fact(value)) for key, value in values.items()}


FULL = _facts(energy_intensity_annual_ratio=1.2, co2_intensity_annual_ratio=0.8,
              energy_intensity_cumulative_ratio=0.9, co2_intensity_cumulative_ratio=1.0, energy_total_ratio=1.03,
              energy_intensity_annual_change=-0.021, filing_on_time_rate=0.9, measures_on_track_share=0.75,
              supervision_weight=1, monitoring_online_rate=0.95, monitoring_quality_rate=0.99,
              project_violations=0, prohibited_approved=0, wind_solar_added_mw=150)


def test_hand_worked_district_score(district):
    """By hand: 15 (ratio 1.2 capped) + 12 (0.8 × 15) + 9 (0.9 × 10) + 10 + 7 (10 × (1.1 − 1.03)/0.1)
    + 7.5 (10 × (0.9 − 0.6)/0.4) + 7.5 (0.75 × 10) − 2 (one notice) + 3.75 (5 × 0.15/0.2) + 4.5 (5 × 0.09/0.1)
    − 0 + 1.5 (150 MW × 0.01) + 8 (default) + 0 = 83.75 → 良好."""
    score = score_unit(district, "d210211", FULL)
    points = {item.code: item.points for item in score.items}
    assert points == {
        "energy_intensity_annual": Decimal("15.00"), "co2_intensity_annual": Decimal("12.00"),
        "energy_intensity_cumulative": Decimal("9.00"), "co2_intensity_cumulative": Decimal("10.00"),
        "energy_total": Decimal("7.00"), "energy_intensity_rise": Decimal("0.00"),
        "filing_on_time": Decimal("7.50"), "measures_progress": Decimal("7.50"), "supervision": Decimal("-2.00"),
        "monitoring_online": Decimal("3.75"), "monitoring_quality": Decimal("4.50"),
        "project_violations": Decimal("0.00"), "prohibited_approved": Decimal("0.00"),
        "renewables_added": Decimal("1.50"), "organisation": Decimal("8.00"), "innovation": Decimal("0.00")}
    assert score.total == Decimal("83.75") and score.grade == "good" and score.grade_zh == "良好"
    assert not score.vetoed_by and not score.incomplete and not score.estimate


def test_adjustment_and_veto(district):
    adjusted = score_unit(district, "d", FULL, {"organisation": Adjustment(Decimal("10"), "机制健全"),
                                                "innovation": Adjustment(Decimal("3"), "经验推广")})
    assert adjusted.total == Decimal("88.75") and adjusted.grade == "good"
    assert adjusted.item("organisation").adjusted.reason == "机制健全"
    rose = score_unit(district, "d", {**FULL, "energy_intensity_annual_change": Fact(0.004)})
    assert rose.vetoed_by == ("energy_intensity_rise",) and rose.grade == "fail" and rose.total == Decimal("83.75")


def test_missing_estimate_and_not_applicable(district):
    facts = {**FULL, "co2_intensity_annual_ratio": Fact(None), "monitoring_online_rate": Fact(None, applicable=False),
             "energy_intensity_annual_ratio": Fact(1.0, estimate=True)}
    score = score_unit(district, "d", facts)
    assert score.incomplete == ("co2_intensity_annual",) and score.estimate
    assert score.item("monitoring_online").points == Decimal("5.00")
    assert score.total == Decimal("83.75") - Decimal("12.00") + Decimal("1.25")


def test_bad_adjustments(district):
    with pytest.raises(InputError):
        check_adjustment(district.indicator("organisation"), "10.5", "理由")
    with pytest.raises(InputError):
        check_adjustment(district.indicator("organisation"), "5", " ")
    with pytest.raises(InputError):
        check_adjustment(district.indicator("energy_total"), "5", "理由")
    assert check_adjustment(district.indicator("innovation"), "2.5", "x").points == Decimal("2.5")


def test_bad_scheme_names_the_field():
    with pytest.raises(InputError) as error:
        parse_scheme("code: x\nversion: 0\n", "mine.yaml")
    assert "mine.yaml" in str(error.value) and "version" in str(error.value)


@given(st.floats(min_value=-5, max_value=5, allow_nan=False), st.floats(min_value=-5, max_value=5, allow_nan=False))
def test_linear_items_stay_within_their_points(a, b):
    scheme = shipped_schemes()["district"][0]
    score = score_unit(scheme, "d", _facts(energy_intensity_annual_ratio=a, energy_total_ratio=b))
    for code in ("energy_intensity_annual", "energy_total"):
        item = score.item(code)
        assert Decimal(0) <= item.points <= item.max_points
    assert score.total == max(Decimal(0), sum(i.points for i in score.items))


def test_incomplete_scores_are_not_graded_unless_vetoed(district):
    assert district.incomplete_grade is not None and district.incomplete_grade.code == "pending"
    missing = score_unit(district, "z", {**FULL, "energy_total_ratio": Fact(None)})
    assert missing.incomplete == ("energy_total",) and missing.total == Decimal("76.75")
    assert missing.grade == "pending" and missing.grade_zh == "暂不定等（数据不全）"
    vetoed = score_unit(district, "z", {**FULL, "energy_total_ratio": Fact(None),
                                        "energy_intensity_annual_change": Fact(0.01)})
    assert vetoed.grade == "fail"  # a veto decides whatever is missing
    text = district.model_dump_json()
    with pytest.raises(InputError):  # the incomplete grade may not repeat a grade's code
        parse_scheme(text.replace('"code":"pending"', '"code":"pass"'), "x.yaml")

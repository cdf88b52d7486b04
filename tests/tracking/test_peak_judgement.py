"""The peak judgement per CO2 basis, the worse-basis rule and the neutrality verdict: hand-computed goldens on
toy series (docs/tracking.md "CO2 on both bases"), bad rule files, and neutrality never 三级 above zero."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.plan import Comparison, Target
from citycarbon.tracking import describe_target, load_rule_set, track_target
from citycarbon.tracking.peak import (
    PeakRule,
    check_basis_rule,
    judge_peak,
    load_peak_rule,
    neutrality_key,
    neutrality_verdict,
    peak_key,
    worse_basis,
)
from citycarbon.tracking.projection import Projection

RULE = PeakRule(plateau_margin=0.02, trend_years=3, source="test", rationale="test", status="estimate")
RULES = load_rule_set()


def test_shipped_peak_rule_is_data_with_its_source():
    rule = load_peak_rule()
    assert rule.plateau_margin == 0.02 and rule.trend_years == 3
    assert rule.source and rule.rationale and rule.status == "estimate"


def test_peak_plateau_and_flat_trend_golden():
    # peak 104 in 2019; plateau floor 0.98 × 104 = 101.92 → 2019 (104), 2020 (103), 2021 (102.5);
    # 2022 (101) and 2018 (100) are below it. Trend 2020–2022: 101 / 103 − 1 = −1.94 %, inside ±2 % → flat
    judged = judge_peak({2018: 100.0, 2019: 104.0, 2020: 103.0, 2021: 102.5, 2022: 101.0}, RULE,
                        basis="consumption")
    assert judged.basis == "consumption"
    assert judged.peak_year == 2019 and judged.peak_value == 104.0
    assert judged.plateau_years == (2019, 2020, 2021)
    assert judged.trend_from == 2020 and judged.latest_year == 2022
    assert judged.trend_change == pytest.approx(101 / 103 - 1)
    assert judged.trend == "flat"


def test_rising_and_falling_trends_golden():
    # 103 / 100 − 1 = +3 % > 2 % → rising; plateau floor 0.98 × 103 = 100.94 → 2021 and 2022
    rising = judge_peak({2020: 100.0, 2021: 101.0, 2022: 103.0}, RULE)
    assert rising.peak_year == 2022 and rising.plateau_years == (2021, 2022) and rising.trend == "rising"
    # 94 / 100 − 1 = −6 % → falling; the first year of a tie is the peak
    falling = judge_peak({2019: 100.0, 2020: 100.0, 2021: 97.0, 2022: 94.0}, RULE)
    assert falling.peak_year == 2019 and falling.plateau_years == (2019, 2020)
    assert falling.trend == "falling" and falling.trend_change == pytest.approx(-0.06)


def test_upto_and_short_series():
    judged = judge_peak({2020: 100.0, 2021: 110.0, 2022: 120.0}, RULE, upto=2021)
    assert judged.peak_year == 2021 and judged.latest_year == 2021
    assert judged.trend is None and judged.trend_change is None  # two years: no three-year trend
    empty = judge_peak({}, RULE)
    assert empty.peak_year is None and empty.plateau_years == ()


def test_worse_basis_rule_golden():
    # net inflow 三级 (peaked 2015), consumption 二级 (projected 2025): the worse is consumption
    keys = {"net_inflow": peak_key(3, 2015, 2015), "consumption": peak_key(2, 2025, 2024)}
    assert worse_basis(keys) == "consumption"
    # the same level: the later projected peak decides; no peak in sight is later than any year
    assert worse_basis({"net_inflow": peak_key(2, 2028, 2024), "consumption": peak_key(2, 2025, 2024)}) == "net_inflow"
    assert worse_basis({"net_inflow": peak_key(2, 2028, 2024), "consumption": peak_key(2, None, 2024)}) == "consumption"
    # a full tie goes to the net-inflow (provincial) basis
    assert worse_basis({"net_inflow": peak_key(3, 2015, 2015), "consumption": peak_key(3, 2015, 2015)}) == "net_inflow"
    # an unrated basis never decides over a rated one
    unrated = {"net_inflow": peak_key(None, None, None), "consumption": peak_key(3, 2015, 2015)}
    assert worse_basis(unrated) == "consumption"
    # the profile may name the basis
    assert worse_basis(keys, "net_inflow") == "net_inflow"
    assert worse_basis({}, "worse") is None
    # neutrality: the same level, the higher projected net emissions decide
    neutral = {"net_inflow": neutrality_key(2, 5.5e6), "consumption": neutrality_key(2, 1.1e8)}
    assert worse_basis(neutral) == "consumption"


def test_bad_basis_rule_names_the_field():
    with pytest.raises(InputError) as error:
        check_basis_rule("worst")
    problem = error.value.problems[0]
    assert problem.field == "peak_rule_basis" and problem.suggestion == "worse"


def test_neutrality_verdict_golden():
    assert neutrality_verdict(5.5e6, 2060).reached is False
    assert neutrality_verdict(5.5e6, 2060).shortfall == 5.5e6
    assert neutrality_verdict(0.0, 2060).reached is True  # at most zero
    assert neutrality_verdict(-1.0, 2060).reached is True
    assert neutrality_verdict(None, 2060).reached is None
    assert neutrality_verdict(math.nan, 2060).reached is None


def neutrality_target() -> Target:
    return Target(id="carbon_neutrality_2060", indicator="net_co2_emissions_t", year=2060, value=0, unit="t",
                  comparison=Comparison.at_most, base_year=2020, parameter=False, clause="实现碳中和目标",
                  clause_ref="test", title_zh="2060年实现碳中和", title_en="Carbon neutrality by 2060")


FALLING = {2020: 100.0, 2021: 90.0, 2022: 80.0, 2023: 70.0, 2024: 60.0}


def test_neutrality_on_pace_but_projection_above_zero_is_not_level_3():
    # progress (60 − 100) / (0 − 100) = 40 % ≥ elapsed 4/40 = 10 %: on pace, which alone would be 三级;
    # the log-linear trend stays above zero in 2060, so neutrality is not reached → 二级
    info = describe_target(neutrality_target(), 2020)
    status = track_target(info, FALLING, 2024, RULES)
    assert status.progress_share == pytest.approx(0.4) and status.on_pace is True
    assert status.projection is not None and status.projection.value > 0
    assert status.metrics["neutrality_shortfall"] == pytest.approx(status.projection.value)
    assert status.level == 2
    assert "未实现碳中和" in status.reason and "not reach" in status.reason_en
    assert status.extra["neutrality"]["reached"] is False


def test_neutrality_reached_by_the_projection_is_level_3():
    info = describe_target(neutrality_target(), 2020)
    projection = Projection(2060, -5.0, -10.0, 0.0, "scenario", "test")
    status = track_target(info, FALLING, 2024, RULES, projection=projection)
    assert status.level == 3 and status.extra["neutrality"]["reached"] is True


def test_neutrality_behind_pace_and_above_zero_is_level_1():
    info = describe_target(neutrality_target(), 2020)
    status = track_target(info, {2020: 100.0, 2021: 101.0, 2022: 99.0, 2023: 100.0, 2024: 99.5}, 2024, RULES)
    assert status.level == 1


def test_a_rule_set_without_the_neutrality_checks_is_held_at_level_2(tmp_path: Path):
    raw = yaml.safe_load(data_path("tracking/warning_rules.yaml").read_text(encoding="utf-8"))
    del raw["rule_sets"]["ndrc_629"]["families"]["neutrality"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    rules = load_rule_set(path=path)
    info = describe_target(neutrality_target(), 2020)
    status = track_target(info, FALLING, 2024, rules)
    assert status.rule_family == "progress"
    assert status.level == 2 and "未实现碳中和" in status.reason


@given(st.lists(st.floats(min_value=1.0, max_value=1e9), min_size=3, max_size=12),
       st.floats(min_value=0.0, max_value=0.5))
def test_peak_is_the_maximum_and_in_its_plateau(values: list[float], margin: float):
    history = {2010 + i: v for i, v in enumerate(values)}
    judged = judge_peak(history, PeakRule(margin, 3, "t", "t", "estimate"))
    assert judged.peak_value == max(values)
    assert judged.peak_year in judged.plateau_years
    assert all(history[y] >= (1 - margin) * max(values) for y in judged.plateau_years)


@pytest.mark.parametrize(("block", "field"), [({"plateau_margin": 1.5, "trend_years": 3}, "plateau_margin"),
                                              ({"plateau_margin": 0.02, "trend_years": 1}, "trend_years"),
                                              ({"plateau_margin": 0.02, "trend_years": 3, "source": ""}, "source")])
def test_bad_peak_rule_names_file_and_field(tmp_path: Path, block: dict, field: str):
    full = {"source": "s", "rationale": "r", "status": "estimate", **block}
    path = tmp_path / "bad_rules.yaml"
    path.write_text(yaml.safe_dump({"peak_judgement": full}), encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_peak_rule(path)
    fields = [p.field for p in error.value.problems]
    assert f"peak_judgement.{field}" in fields
    assert error.value.problems[0].file == "bad_rules.yaml"

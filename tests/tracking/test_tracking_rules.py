"""Warning levels: golden cases per rule (发改办环资〔2021〕629号, methods.md §4), monotonicity, rule-file errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.plan import Comparison, Target
from citycarbon.tracking import describe_target, load_rule_set, load_rule_sets, track_target

RULES = load_rule_set()


def make_target(indicator: str, value: float | None, year: int = 2025, unit: str = "dimensionless",
                comparison: Comparison = Comparison.at_least, base_year: int | None = 2020) -> Target:
    return Target(id=f"{indicator}_{year}", indicator=indicator, year=year, value=value, unit=unit,
                  comparison=comparison, base_year=base_year, parameter=value is None, tolerance=0.01,
                  clause="测试", clause_ref="test", title_zh="测试目标", title_en="test target")


def intensity_status(i2021: float, i2022: float, value: float | None = 0.145, rules=RULES):
    # Liaoning's 2025 energy-intensity cut vs 2020 is 14.5 % (methods.md §8.2); intensity 0.500 in 2020
    info = describe_target(make_target("energy_intensity_reduction", value), 2020)
    return track_target(info, {2019: 0.51, 2020: 0.500, 2021: i2021, 2022: i2022}, 2022, rules)


def test_intensity_rise_is_level_1():
    # 629号: 一级预警 = 能耗强度不降反升 (0.490 → 0.495)
    status = intensity_status(0.490, 0.495)
    assert status.level == 1 and status.colour == "red"
    assert status.metrics["yoy_worsening"] == pytest.approx(0.495 / 0.490 - 1)
    assert "不降反升" in status.reason and "1.02%" in status.reason
    assert "rose 1.02%" in status.reason_en


def test_intensity_behind_pro_rata_is_level_2():
    # 629号: 二级 = 降低率未达到进度要求. 2022: reduction 1 − 0.48/0.5 = 4 %; elapsed 2/5 = 0.4 of the
    # 14.5 % target (linear pace, methods.md §4) → required 5.8 %; progress 0.04/0.145 = 27.6 % < 40 %
    status = intensity_status(0.490, 0.480)
    assert status.actual == pytest.approx(0.04)
    assert status.time_elapsed_share == pytest.approx(0.4)
    assert status.required_share == pytest.approx(0.4)
    assert status.progress_share == pytest.approx(0.04 / 0.145)
    assert status.path_value == pytest.approx(0.058)
    assert status.level == 2 and status.colour == "yellow" and status.on_pace is False
    # intensity must still fall from 0.96 to 0.855 of the base in 3 years
    assert status.required_annual_rate == pytest.approx(1 - (0.855 / 0.96) ** (1 / 3))


def test_intensity_on_track_is_level_3():
    status = intensity_status(0.470, 0.440)  # 12 % down: 0.12/0.145 = 82.8 % ≥ 40 %
    assert status.level == 3 and status.colour == "green" and status.on_pace is True
    assert "三级" in status.reason


def test_unset_target_rated_only_for_a_rise():
    rising = intensity_status(0.490, 0.495, value=None)
    assert rising.level == 1 and rising.target_value is None
    falling = intensity_status(0.490, 0.480, value=None)
    assert falling.level is None and falling.colour is None
    assert "待省政府下达" in falling.reason and "awaits the provincial government" in falling.reason_en
    assert falling.actual == pytest.approx(0.04)


def test_compound_pace_variant():
    # compounded path: required share (1 − (1 − 0.145)^0.4) / 0.145
    rules = load_rule_set("ndrc_629_compound")
    status = intensity_status(0.490, 0.480, rules=rules)
    assert rules.pace == "compound"
    assert status.required_share == pytest.approx((1 - 0.855 ** 0.4) / 0.145)


@pytest.mark.parametrize(("previous", "actual", "level"), [
    (28.5e6, 29.0e6, 1),  # above the control path 28.8 Mt and rising → 一级
    (29.5e6, 29.0e6, 2),  # above the path but falling → 二级
    (28.7e6, 28.6e6, 3),  # within the path → 三级
])
def test_total_consumption_against_control_path(previous, actual, level):
    # control path 2022 = 28 + (30 − 28) × 2/5 = 28.8 million tce (linear pace, methods.md §4)
    target = make_target("energy_consumption_tce", 30e6, unit="tce", comparison=Comparison.at_most)
    status = track_target(describe_target(target, 2020), {2020: 28e6, 2021: previous, 2022: actual}, 2022, RULES)
    assert status.path_value == pytest.approx(28.8e6)
    assert status.level == level
    assert status.rule_family == "total"


@pytest.mark.parametrize(("previous", "actual", "level"), [
    (0.125, 0.120, 1),  # fell and behind pace
    (0.120, 0.125, 2),  # progress (0.125 − 0.11)/0.05 = 30 % < 40 %
    (0.130, 0.135, 3),  # 50 % ≥ 40 %
])
def test_share_progress_rule(previous, actual, level):
    target = make_target("non_fossil_share", 0.16, comparison=Comparison.about, base_year=None)
    status = track_target(describe_target(target, 2020), {2020: 0.11, 2021: previous, 2022: actual}, 2022, RULES)
    assert status.level == level
    assert status.rule_family == "progress"


def test_capacity_required_annual_rate():
    target = make_target("wind_solar_capacity_mw", 8000, year=2030, unit="MW", base_year=None)
    status = track_target(describe_target(target, 2020), {2020: 2000, 2023: 3000, 2024: 3500}, 2024, RULES)
    assert status.required_annual_rate == pytest.approx((8000 / 3500) ** (1 / 6) - 1)
    assert status.required_annual_change == pytest.approx(4500 / 6)
    assert status.progress_share == pytest.approx(1500 / 6000)
    assert status.level == 2


def test_peak_rules():
    target = make_target("co2_peak_year", 2030, year=2030, unit="year", comparison=Comparison.at_most,
                         base_year=None)
    info = describe_target(target, 2020)
    rising = track_target(info, {y: 100 + 3 * (y - 2018) for y in range(2018, 2025)}, 2024, RULES)
    assert rising.level == 1 and rising.extra["projected_peak_year"] is None
    falling = track_target(info, {y: 130 - 2 * (y - 2018) for y in range(2018, 2025)}, 2024, RULES)
    assert falling.level == 3 and falling.actual == 2018 and falling.met is None


def test_no_data_is_unrated():
    status = intensity_status(math.nan, math.nan)
    info = describe_target(make_target("energy_intensity_reduction", 0.145), 2020)
    empty = track_target(info, {}, 2022, RULES)
    assert empty.level is None and "无法评价" in empty.reason
    assert status.actual_year == 2020


metric = st.one_of(st.none(), st.floats(-0.5, 0.5, allow_nan=False))
delta = st.floats(0, 0.5, allow_nan=False)


@given(family=st.sampled_from(["intensity", "total", "progress", "peak"]), yoy=metric, pace=metric, path=metric,
       peak=st.sampled_from([None, 0.0, 1.0]), d1=delta, d2=delta, d3=delta, better_peak=st.booleans())
def test_better_progress_never_gives_a_worse_level(family, yoy, pace, path, peak, d1, d2, d3, better_peak):
    indicator = {"intensity": "energy_intensity_reduction", "total": "energy_consumption_tce",
                 "progress": "non_fossil_share", "peak": "co2_peak_year"}[family]
    kind = {"intensity": "reduction", "total": "level", "progress": "share", "peak": "year"}[family]

    def level(m):
        rating = RULES.rate(indicator, kind, m, is_set=True, has_data=True)
        return 4 if rating.level is None else rating.level

    worse = {"yoy_worsening": yoy, "pace_gap": pace, "path_excess": path, "peak_after_target": peak}
    better = {"yoy_worsening": None if yoy is None else yoy - d1, "pace_gap": None if pace is None else pace - d2,
              "path_excess": None if path is None else path - d3,
              "peak_after_target": 0.0 if better_peak and peak is not None else peak}
    if all(worse[k] is not None for k in ("pace_gap", "path_excess", "peak_after_target")):
        assert level(better) >= level(worse)


@given(i_now=st.floats(0.40, 0.55), improvement=st.floats(0, 0.1))
def test_lower_intensity_never_worse_level(i_now, improvement):
    worse = intensity_status(0.490, i_now).level
    better = intensity_status(0.490, i_now - improvement).level
    assert better >= worse


def write(tmp_path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def shipped_text() -> str:
    from citycarbon.data import data_path
    return data_path("tracking/warning_rules.yaml").read_text(encoding="utf-8")


def test_rule_file_rejects_a_less_than_operator(tmp_path):
    old = '{metric: pace_gap, op: ">", threshold: 0.0}'
    text = shipped_text().replace(old, old.replace('">"', '"<"'), 1)
    with pytest.raises(InputError) as error:
        load_rule_sets(write(tmp_path, text))
    assert error.value.first.field.endswith(".op") and error.value.first.file == "rules.yaml"


def test_rule_file_names_nearest_metric(tmp_path):
    text = shipped_text().replace("{metric: yoy_worsening", "{metric: yoy_worsenin", 1)
    with pytest.raises(InputError) as error:
        load_rule_sets(write(tmp_path, text))
    assert error.value.first.suggestion == "yoy_worsening"


def test_unknown_rule_set_and_parent(tmp_path):
    with pytest.raises(InputError) as error:
        load_rule_set("ndrc_692")
    assert error.value.first.suggestion == "ndrc_629"
    text = shipped_text().replace("extends: ndrc_629", "extends: ndrc_6299")
    with pytest.raises(InputError, match="unknown rule set"):
        load_rule_sets(write(tmp_path, text))

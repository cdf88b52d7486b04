"""The budget check's arithmetic (citycarbon.projects.budget): hand-worked numbers on exact log-linear histories
(the tracking trend reproduces them exactly), the warning level with and without a project, the pipeline's
aggregation and room, and the identities: with − without = the project's contribution; no project, no change."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.plan import load_plan
from citycarbon.projects import budget
from citycarbon.tracking.warning_rules import load_rule_set
from citycarbon.units import is_unit

RULES = load_rule_set()
BASE = 2020


def history(e0=1000.0, eg=0.01, g0=100.0, gg=0.05, c0=2000.0, cg=-0.01, years=range(2016, 2025)) -> pd.DataFrame:
    """Exact constant-growth series: E = e0·(1+eg)^(y−2020), GDP, CO2 likewise (a log-linear trend fits them
    exactly, so projections are the same formula)."""
    rows = {y: {"energy_tce": e0 * (1 + eg) ** (y - BASE), "gdp_10k_yuan": g0 * (1 + gg) ** (y - BASE),
                "co2_t": c0 * (1 + cg) ** (y - BASE), "co2_energy_t": c0 * (1 + cg) ** (y - BASE)} for y in years}
    return pd.DataFrame.from_dict(rows, orient="index")


def target(indicator: str, year: int, value: float | None):
    found = next(t for t in load_plan().targets if t.indicator == indicator and t.year == year)
    return found.model_copy(update={"value": value})


def test_units_are_pint_units():
    assert all(is_unit(u) for u in budget.UNITS.values())


def test_hand_worked_2025_without_and_with_a_project():
    none = budget.Contribution(0.0, 0.0, 2025)
    project = budget.Contribution(50.0, 120.0, 2025)
    check = budget.check_year(history(), project, 2025, base_year=BASE, rules=RULES)
    empty = budget.check_year(history(), none, 2025, base_year=BASE, rules=RULES)
    e25, g25, c25 = 1000 * 1.01 ** 5, 100 * 1.05 ** 5, 2000 * 0.99 ** 5
    assert check.without.energy_tce == pytest.approx(e25, rel=1e-9)
    assert check.without.gdp_10k_yuan == pytest.approx(g25, rel=1e-9)
    # base intensity 1000 / 100 = 10 tce per 10⁴ CNY; the fall without: 1 − (1.01 / 1.05)^5
    assert check.without.energy_intensity_fall == pytest.approx(1 - (1.01 / 1.05) ** 5, rel=1e-9)
    assert check.with_project.energy_tce == pytest.approx(e25 + 50, rel=1e-9)
    assert check.with_project.energy_intensity == pytest.approx((e25 + 50) / g25, rel=1e-9)
    assert check.with_project.energy_intensity_fall == pytest.approx(1 - (e25 + 50) / g25 / 10, rel=1e-9)
    # the project moves the fall by −P / (GDP · I_base)
    assert check.delta()["energy_intensity_fall"]["value"] == pytest.approx(-50 / (g25 * 10), rel=1e-9)
    assert check.with_project.co2_t == pytest.approx(c25 + 120, rel=1e-9)
    assert check.with_project.co2_intensity_fall == pytest.approx(1 - (c25 + 120) / g25 / 20, rel=1e-9)
    assert check.counted and empty.without == empty.with_project == check.without


def test_a_project_commissioned_later_does_not_count():
    check = budget.check_year(history(), budget.Contribution(50.0, 120.0, 2026), 2025, base_year=BASE, rules=RULES)
    assert not check.counted and check.with_project == check.without


def test_a_project_never_changes_an_actual_year():
    frame = budget.extend(history(), 2025, window=RULES.window_years, interval=RULES.interval)
    assert list(frame.index) == list(range(2016, 2026)) and frame["projected"].tolist() == [False] * 9 + [True]
    check = budget.check_year(history(), budget.Contribution(50.0, 0.0, 2020), 2025, base_year=BASE, rules=RULES)
    assert check.with_project.energy_tce - check.without.energy_tce == pytest.approx(50)  # only the projected year


def test_the_warning_level_with_and_without():
    """Target: a 17 % fall. Without the project 1 − (1.01/1.05)^5 = 17.65 %: met (level 3). A project that makes
    the fall miss the target while the intensity still falls on 2024: level 2; one that makes it rise: level 1."""
    t = target("energy_intensity_reduction", 2025, 0.17)
    g25, e25 = 100 * 1.05 ** 5, 1000 * 1.01 ** 5
    i24 = 10 * (1.01 / 1.05) ** 4
    miss = (10 * (1 - 0.16) - e25 / g25) * g25  # the fall comes out at 16 %: below the target, still falling
    rise = (i24 * 1.01 - e25 / g25) * g25       # the intensity 1 % above 2024's
    levels = {}
    for name, p in (("none", 0.0), ("miss", miss), ("rise", rise)):
        check = budget.check_year(history(), budget.Contribution(p, 0.0, 2025), 2025, base_year=BASE, rules=RULES,
                                  energy_target=t)
        levels[name] = (check.without.level, check.with_project.level, check.moves_level)
    assert levels == {"none": (3, 3, False), "miss": (3, 2, True), "rise": (3, 1, True)}
    check = budget.check_year(history(), budget.Contribution(miss, 0.0, 2025), 2025, base_year=BASE, rules=RULES,
                              energy_target=t)
    found = check.to_dict()
    assert found["meets_target_without"] is True and found["meets_target_with"] is False
    # allowance = I_base · (1 − 17 %) · GDP_2025; room = allowance − E_2025 without the project
    assert found["allowance_tce"]["value"] == pytest.approx(10 * 0.83 * g25)
    assert found["room_tce"]["value"] == pytest.approx(10 * 0.83 * g25 - e25)
    assert found["room_after_tce"]["value"] == pytest.approx(10 * 0.83 * g25 - e25 - miss)


def test_an_unset_target_gives_no_room_and_no_level_unless_the_intensity_rises():
    t = target("energy_intensity_reduction", 2025, None)
    check = budget.check_year(history(), budget.Contribution(0.0, 0.0, 2025), 2025, base_year=BASE, rules=RULES,
                              energy_target=t)
    assert check.allowance_tce is None and check.without.level is None and check.moves_level is None
    rising = budget.check_year(history(eg=0.08), budget.Contribution(0.0, 0.0, 2025), 2025, base_year=BASE,
                               rules=RULES, energy_target=t)
    assert rising.without.level == 1  # 不降反升 is rated even before the target value is issued


@settings(max_examples=60, deadline=None)
@given(e0=st.floats(1e3, 1e8), eg=st.floats(-0.05, 0.08), gg=st.floats(0.0, 0.09), p=st.floats(0, 1e6),
       co2=st.floats(0, 1e6), start=st.integers(2022, 2031), year=st.sampled_from([2025, 2030]))
def test_with_minus_without_is_the_contribution(e0, eg, gg, p, co2, start, year):
    contribution = budget.Contribution(p, co2, start)
    check = budget.check_year(history(e0=e0, eg=eg, gg=gg), contribution, year, base_year=BASE, rules=RULES)
    counted = year >= start
    assert check.counted is counted
    delta = check.delta()
    assert delta["energy_tce"]["value"] == pytest.approx(p if counted else 0.0, rel=1e-9, abs=1e-6)
    assert delta["co2_t"]["value"] == pytest.approx(co2 if counted else 0.0, rel=1e-9, abs=1e-6)
    assert check.with_project.gdp_10k_yuan == check.without.gdp_10k_yuan
    base_intensity = e0 / 100.0
    expected = -(p if counted else 0.0) / (check.without.gdp_10k_yuan * base_intensity)
    assert delta["energy_intensity_fall"]["value"] == pytest.approx(expected, rel=1e-7, abs=1e-12)
    zero = budget.check_year(history(e0=e0, eg=eg, gg=gg), budget.Contribution(0.0, 0.0, start), year,
                             base_year=BASE, rules=RULES)
    assert zero.with_project == zero.without and zero.moves_level in (None, False)


def test_commissioning_year():
    applied = date(2026, 11, 20)
    assert budget.commissioning_year(None, applied, 2) == (2028, "assumed")
    assert budget.commissioning_year("", applied, 2) == (2028, "assumed")
    assert budget.commissioning_year(2027, applied, 2) == (2027, "data")
    assert budget.commissioning_year("2029-06-30", applied, 2) == (2029, "data")
    for bad in ("soon", "20x7", "12345", "0999"):
        with pytest.raises(InputError) as error:
            budget.commissioning_year(bad, applied, 2)
        assert error.value.problems[0].field == "commissioning"


def test_the_assumptions_file():
    found = budget.load_budget_assumptions()
    assert found.commissioning_lag_years == 2 and found.lag_status == "estimate" and "节能审查办法" in found.lag_source


def test_too_little_history_is_refused():
    with pytest.raises(InputError):
        budget.extend(history(years=[2024]), 2025, window=5, interval=0.8)


def test_pipeline_aggregation_and_room():
    projects = pd.DataFrame([
        ("submitted", "210281", "C26", 100.0, 10.0, 2025),
        ("under_review", "210281", "C26", 200.0, 20.0, 2027),   # pending, counted from 2027
        ("approved", "210283", "D44", 400.0, 40.0, 2024),
        ("accepted", "210281", "C26", 800.0, 80.0, 2025),
        ("rejected", "210281", "C26", 1600.0, 160.0, 2025),     # neither pending nor approved
        ("draft", "210283", "C30", 3200.0, 320.0, 2025),
    ], columns=["state", "region_code", "division", "dual_control_tce", "co2_t", "commissioning_year"])
    parts = budget.aggregate_pipeline(projects, 2025)
    groups = parts["groups"].set_index("group")
    assert groups.loc["pending", "count"] == 2 and groups.loc["pending", "dual_control_tce"] == 300
    assert groups.loc["pending", "tce_counted"] == 100 and groups.loc["pending", "co2_counted"] == 10
    assert groups.loc["approved", "count"] == 2 and groups.loc["approved", "tce_counted"] == 1200
    regions = parts["regions"].set_index(["region_code", "group"])
    assert regions.loc[("210283", "approved"), "tce_counted"] == 400
    assert regions.loc[("210281", "approved"), "tce_counted"] == 800
    assert set(parts["divisions"]["division"]) == {"C26", "D44"}
    assert budget.room(10_000.0, 9_000.0, 1200.0, 100.0) == {"allowance": 10_000.0, "room": 1000.0,
                                                             "after_approved": -200.0, "after_pending": -300.0}
    assert budget.room(None, 9_000.0, 0.0, 0.0)["room"] is None
    empty = budget.aggregate_pipeline(projects.iloc[0:0], 2025)
    assert empty["groups"].empty and "tce_counted" in empty["regions"].columns


def test_allowance():
    assert budget.allowance(0.5, 0.2, 1000.0) == pytest.approx(400.0)
    assert budget.allowance(0.5, None, 1000.0) is None
    assert math.isclose(budget.allowance(2.0, 0.0, 3.0) or 0, 6.0)

"""Assessment targets as data (citycarbon.assessment.targets): the shipped defaults with their documents, the
office's override before the default, the cumulative target's even pace."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.assessment.targets import default_targets, fall, find_target, pace_fall


def test_the_shipped_defaults_carry_their_documents_and_statuses():
    by_key = {(t.indicator, t.year): t for t in default_targets()}
    energy = by_key[("energy_intensity_annual_fall", 2024)]
    assert energy.value == 2.5 and energy.document.startswith("国发〔2024〕12号") and energy.status == "unverified"
    assert by_key[("co2_intensity_annual_fall", 2024)].value == 3.9
    five = by_key[("energy_intensity_cumulative_fall", 2025)]
    assert (five.value, five.base_year) == (13.5, 2020) and five.document.startswith("国发〔2021〕23号")
    assert by_key[("co2_intensity_cumulative_fall", 2025)].value == 18
    assert not any(t.indicator == "energy_total_growth_allowed" for t in default_targets())  # none published


def test_the_office_target_of_a_district_comes_before_the_default():
    rows = pd.DataFrame([{"year": 2024, "region": "210211", "indicator": "energy_intensity_annual_fall",
                          "value": 3.0, "unit": "percent", "source": "大双碳办〔2024〕1号", "status": "official"}])
    mine = find_target("energy_intensity_annual_fall", 2024, "210211", rows)
    other = find_target("energy_intensity_annual_fall", 2024, "210202", rows)
    assert mine is not None and (mine.value, mine.origin, mine.document) == (3.0, "district", "大双碳办〔2024〕1号")
    assert other is not None and (other.value, other.origin) == (2.5, "default")
    assert find_target("energy_intensity_annual_fall", 2023, "210211", rows) is None  # no 2023 target shipped


def test_a_cumulative_target_applies_to_each_year_of_its_period_at_an_even_pace():
    target = find_target("energy_intensity_cumulative_fall", 2024, None, cumulative=True)
    assert target is not None and target.year == 2025
    # hand-worked: 1 − 0.865^(4/5) = 0.1095431
    assert pace_fall(target, 2024) == pytest.approx(0.1095431, abs=1e-7)
    assert pace_fall(target, 2025) == pytest.approx(0.135)
    assert pace_fall(target, 2020) == 0


@given(st.floats(min_value=0.1, max_value=50), st.integers(min_value=2021, max_value=2025))
def test_meeting_the_pace_every_year_meets_the_five_year_target(percent, year):
    target = find_target("energy_intensity_cumulative_fall", 2025, None, cumulative=True)
    assert target is not None
    from dataclasses import replace

    target = replace(target, value=percent)
    yearly = 1 - (1 - percent / 100) ** (1 / 5)
    level = (1 - yearly) ** (year - 2020)
    assert fall(level, 1.0) == pytest.approx(pace_fall(target, year), rel=1e-9)

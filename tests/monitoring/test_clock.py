"""The city's "now" (``monitoring.clock.city_now``): one unit's clock never moves it; capped at the server's."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.monitoring.clock import city_now

SERVER = pd.Timestamp("2026-12-07T12:00:00Z")


def test_one_enterprise_dated_2030_does_not_move_the_city_now():
    ends = [f"2025-01-10T{h:02d}:00:00Z" for h in range(10)] + ["2030-01-01T00:00:00Z"]
    assert city_now(ends, SERVER) == pd.Timestamp("2025-01-10T09:00:00Z")


def test_the_city_now_is_capped_at_the_server_clock_even_when_most_units_are_ahead():
    ends = ["2030-01-01T00:00:00Z"] * 9 + ["2025-01-10T00:00:00Z"]
    assert city_now(ends, SERVER) == SERVER


def test_a_demo_lake_keeps_its_own_now_and_an_empty_lake_has_none():
    assert city_now(["2025-01-10T00:15:00Z"], SERVER) == pd.Timestamp("2025-01-10T00:15:00Z")
    assert city_now([], SERVER) is None and city_now([None, float("nan")], SERVER) is None
    with pytest.raises(ValueError, match="quantile"):
        city_now(["2025-01-10T00:15:00Z"], SERVER, quantile=1.5)


@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=60), st.integers(10_001, 10**9))
def test_with_two_or_more_units_the_latest_alone_never_sets_it(minutes, outlier):
    base = pd.Timestamp("2025-01-01T00:00:00Z")
    ends = [base + pd.Timedelta(minutes=m) for m in minutes]
    without = city_now(ends, SERVER)
    with_outlier = city_now([*ends[:-1], base + pd.Timedelta(minutes=outlier)], SERVER)
    assert with_outlier <= max(ends[:-1]) if len(ends) > 2 else with_outlier == ends[0]
    assert without <= sorted(ends)[-2]


def test_the_future_margin_setting_reads_seconds_and_refuses_nonsense():
    from datetime import timedelta

    from citycarbon.settings import Settings

    assert Settings.from_env({}).monitoring_future_margin == timedelta(minutes=5)
    assert Settings.from_env({"CITYCARBON_MONITORING_FUTURE_MARGIN": "60"}).monitoring_future_margin == \
        timedelta(seconds=60)
    for bad in ("five minutes", "-1", "inf"):
        with pytest.raises(ValueError, match="CITYCARBON_MONITORING_FUTURE_MARGIN"):
            Settings.from_env({"CITYCARBON_MONITORING_FUTURE_MARGIN": bad})

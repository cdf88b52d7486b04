"""Projection, nowcast (bridge equations) and district roll-up on literal fixtures."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.tracking import project_peak_year, project_trend
from citycarbon.tracking.districts import check_districts, decompose_to_districts, roll_up_districts
from citycarbon.tracking.nowcast import backtest_nowcast, backtest_summary, nowcast_year


def test_trend_of_constant_growth_is_exact():
    history = {y: 100 * 1.05 ** (y - 2015) for y in range(2015, 2025)}
    projection = project_trend(history, 2030, window=5)
    assert projection.value == pytest.approx(100 * 1.05 ** 15)
    assert projection.low == pytest.approx(projection.value) and projection.high == pytest.approx(projection.value)


def test_trend_interval_contains_value_and_widens():
    history = {2018: 10.0, 2019: 11.2, 2020: 11.9, 2021: 13.4, 2022: 13.8}
    near = project_trend(history, 2023)
    far = project_trend(history, 2030)
    assert near.low < near.value < near.high
    assert far.high - far.low > near.high - near.low


def test_trend_rejects_bad_arguments():
    with pytest.raises(InputError):
        project_trend({2020: 1.0, 2021: 2.0}, 2025, window=1)
    with pytest.raises(InputError):
        project_trend({2020: 1.0, 2021: 2.0}, 2025, interval=1.5)
    assert project_trend({2020: 1.0}, 2025) is None


def test_peak_of_concave_series_is_its_vertex():
    # y = −(x − 2026)² + c is concave with its vertex in 2026
    history = {y: 1000 - (y - 2026) ** 2 for y in range(2020, 2025)}
    peak = project_peak_year(history)
    assert peak.projected_peak_year == 2026 and peak.rising


def monthly_frame(annual: dict[int, float], variable: str = "electricity_consumption_kwh") -> pd.DataFrame:
    profile = [1.1, 0.9, 1.0, 0.95, 0.95, 1.0, 1.05, 1.05, 0.95, 0.95, 1.0, 1.1]
    rows = [(y, m + 1, variable, total * p / sum(profile)) for y, total in annual.items()
            for m, p in enumerate(profile)]
    return pd.DataFrame(rows, columns=["year", "month", "variable", "value"])


def test_nowcast_recovers_growth_when_monthly_tracks_annual():
    growth = {2016: 0.03, 2017: 0.05, 2018: 0.01, 2019: 0.04, 2020: 0.02}
    energy = {2015: 100.0}
    for year, g in growth.items():
        energy[year] = energy[year - 1] * (1 + g)
    monthly = monthly_frame(energy)
    estimate = nowcast_year({"energy_consumption_tce": {y: v for y, v in energy.items() if y < 2020}}, monthly,
                            2020, 6)["energy_consumption_tce"]
    assert estimate.value == pytest.approx(energy[2020], rel=1e-9)
    assert "bridge" in estimate.method


def test_nowcast_without_monthly_falls_back_to_mean_growth():
    energy = {2015: 100.0, 2016: 102.0, 2017: 104.04, 2018: 106.1208}
    empty = pd.DataFrame(columns=["year", "month", "variable", "value"])
    estimate = nowcast_year({"energy_consumption_tce": energy}, empty, 2019, 3)["energy_consumption_tce"]
    assert estimate.value == pytest.approx(106.1208 * 1.02)
    assert "no monthly data" in estimate.method


def test_nowcast_rejects_bad_month_and_variable():
    frame = monthly_frame({2019: 10.0, 2020: 11.0})
    with pytest.raises(InputError):
        nowcast_year({}, frame, 2020, 13)
    frame.loc[0, "variable"] = "electricty_consumption_kwh"
    with pytest.raises(InputError) as error:
        nowcast_year({}, frame, 2020, 3)
    assert error.value.first.suggestion == "electricity_consumption_kwh" and error.value.first.row == 2


def test_backtest_of_exact_bridge_has_no_error():
    energy = {2015: 100.0}
    for i, year in enumerate(range(2016, 2024)):
        energy[year] = energy[year - 1] * (1 + 0.01 * (i % 4))
    frame = backtest_nowcast({"energy_consumption_tce": energy}, monthly_frame(energy), 6)
    summary = backtest_summary(frame)
    assert summary["energy_consumption_tce"]["mape"] < 1e-9
    # growth years 2016–2023; each test year needs three training growth years before it → 2019–2023
    assert summary["energy_consumption_tce"]["years"] == 5


def district_frame(shares: list[float], years=(2020, 2021)) -> pd.DataFrame:
    codes = ["210202", "210203", "210204", "210211"]
    rows = []
    for year in years:
        for code, share in zip(codes, shares, strict=False):
            rows.append((year, code, "energy_share", None, share, "dimensionless", "estimate", "test"))
            rows.append((year, code, "gdp_share", None, 1 / len(shares), "dimensionless", "estimate", "test"))
    return pd.DataFrame(rows, columns=["year", "region", "variable", "target_id", "value", "unit", "status",
                                       "source"])


@given(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=4))
def test_district_roll_up_reproduces_the_city(raw):
    shares = [r / sum(raw) for r in raw]
    city = {"energy_consumption_tce": {2020: 1000.0, 2021: 1100.0}, "gdp_10k_yuan": {2020: 50.0, 2021: 55.0}}
    rolled = roll_up_districts(decompose_to_districts(city, district_frame(shares)))
    for name, values in city.items():
        for year, value in values.items():
            assert rolled[name][year] == pytest.approx(value)
    assert rolled["energy_intensity_tce_per_10k_yuan"][2021] == pytest.approx(1100 / 55)


def test_district_check_names_row_field_and_nearest_code():
    frame = district_frame([0.5, 0.5])
    frame.loc[0, "region"] = "210209"
    with pytest.raises(InputError) as error:
        check_districts(frame, "210200")
    assert error.value.first.row == 2 and error.value.first.field == "region"  # the header is row 1
    bad = district_frame([0.5, 0.4])
    with pytest.raises(InputError, match="sums to"):
        check_districts(bad, "210200")


def test_nowcast_interval_covers_at_its_nominal_rate():
    """Monte Carlo over simulated cities whose annual growth follows the monthly indicator plus noise: the 80 %
    prediction interval (Student-t, leverage term) must contain the truth about 80 % of the time. A normal
    interval on the residual error alone (the previous method) covered ~65 % here."""
    import numpy as np

    rng = np.random.default_rng(20261127)
    trials, covered = 400, 0
    for _ in range(trials):
        x = rng.normal(0.05, 0.03, 8)  # year-to-date growth of the monthly indicator, 2016–2023
        g = 0.01 + 0.8 * x + rng.normal(0.0, 0.01, 8)  # annual growth: bridge relation + noise
        monthly_level, energy = {2015: 100.0}, {2015: 100.0}
        for i, year in enumerate(range(2016, 2024)):
            monthly_level[year] = monthly_level[year - 1] * (1 + x[i])
            energy[year] = energy[year - 1] * (1 + g[i])
        history = {y: v for y, v in energy.items() if y < 2023}
        estimate = nowcast_year({"energy_consumption_tce": history}, monthly_frame(monthly_level), 2023, 6,
                                interval=0.8)["energy_consumption_tce"]
        covered += estimate.low <= energy[2023] <= estimate.high
    assert 0.74 <= covered / trials <= 0.86


@given(start=st.floats(0.01, 0.6), growth=st.floats(0.0, 0.3), horizon=st.integers(1, 40))
def test_a_share_projected_decades_ahead_stays_a_share(start, growth, horizon):
    """Log-linear extrapolation took Dalian's 14 % non-fossil share to 206 % in 2060; the logit trend keeps a
    share (and its interval) inside (0, 1) however far ahead, and equals the plain trend's direction."""
    history = {2020 + i: min(0.99, start * (1 + growth) ** i) for i in range(5)}
    projection = project_trend(history, 2024 + horizon, bounded=True)
    assert 0 <= projection.low <= projection.value <= projection.high <= 1
    unbounded = project_trend(history, 2024 + horizon)
    assert (projection.value >= history[2024] - 1e-9) == (unbounded.value >= history[2024] - 1e-9)

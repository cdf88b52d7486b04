"""Alerts with the numbers behind them, checked against hand computations; the nowcast feed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycarbon.errors import InputError
from citycarbon.monitoring import alerts, quality
from citycarbon.monitoring.registry import load_registry
from citycarbon.tracking.nowcast import check_monthly
from tests.monitoring.conftest import tiny_registry_frames
from tests.monitoring.test_quality import hourly, smooth

GAS_TCE_PER_M3 = 1.33e-3  # GB/T 2589-2020 natural gas (oil field) 1.3300 kgce/m3
JAN1 = pd.Timestamp("2025-01-01T00:00:00+08:00").tz_convert("UTC")


@pytest.fixture
def registry():
    return load_registry(tiny_registry_frames(interval=60))  # budget 36 500 tce for 2025


def gas_days(per_hour: float, days: int, start=JAN1) -> pd.DataFrame:
    return hourly("P-GAS", np.full(24 * days, per_hour), start=start, unit="m**3")


@pytest.mark.parametrize(("per_hour", "level"), [(3000.0, None), (3300.0, "warning"), (3500.0, "error")])
def test_budget_path_by_hand(registry, per_hour, level):
    daily = quality.daily_energy(gas_days(per_hour, 10), registry)
    found = alerts.budget_alerts(daily, registry, date="2025-01-10")
    cumulative = per_hour * 24 * 10 * GAS_TCE_PER_M3  # 3 300 m3/h → 1 053.36 tce
    path = 36_500 * 10 / 365  # = 1 000 tce on 10 January
    if level is None:
        assert found.empty
        return
    row = found.iloc[0]
    assert row["level"] == level
    assert row["value"] == pytest.approx(cumulative)
    numbers = row["numbers"]
    assert numbers["path_tce"] == pytest.approx(path)
    assert numbers["elapsed_share"] == pytest.approx(10 / 365)
    assert numbers["ahead_share"] == pytest.approx(cumulative / path - 1)
    assert row["threshold"] == pytest.approx(path * (1.03 if level == "warning" else 1.10))
    assert numbers["points"] == ["P-GAS", "P-MAIN"]


def test_budget_path_with_month_weights(registry):
    daily = quality.daily_energy(gas_days(3300.0, 10), registry)
    weights = {m: (2.0 if m == 1 else 1.0) for m in range(1, 13)}
    found = alerts.budget_alerts(daily, registry, date="2025-01-10", month_weights=weights)
    # January weighs twice: share = (10/31 × 2) / (2 + 11)
    assert found.empty  # 1 053 tce against a path of 36 500 × 0.0496 = 1 811 tce
    share = (10 / 31 * 2) / 13
    cumulative = 3300.0 * 24 * 10 * GAS_TCE_PER_M3
    daily_high = quality.daily_energy(gas_days(3300.0 * 1.9, 10), registry)
    row = alerts.budget_alerts(daily_high, registry, date="2025-01-10", month_weights=weights).iloc[0]
    assert row["numbers"]["elapsed_share"] == pytest.approx(share)
    assert row["value"] == pytest.approx(cumulative * 1.9)
    assert row["numbers"]["seasonal"] is True


def product_registry():
    frames = tiny_registry_frames(interval=60)
    frames["products"] = pd.DataFrame([{"product_id": "CL", "enterprise_id": "ENT1", "name": "水泥熟料", "unit": "t",
                                        "product_type": "cement_clinker"}])
    frames["points"].loc[3, "purpose"] = "product:CL"
    output = frames["points"].iloc[[3]].assign(point_id="P-OUT", energy_type="product_output", unit="t",
                                                purpose="output:CL")
    frames["points"] = pd.concat([frames["points"], output], ignore_index=True)
    return load_registry(frames)


@pytest.mark.parametrize(("tonnes_per_hour", "alerted"), [(10.0, True), (12.0, False)])
def test_product_unit_consumption_against_limit(tonnes_per_hour, alerted):
    registry = product_registry()
    start = pd.Timestamp("2025-03-01T00:00:00+08:00").tz_convert("UTC")
    readings = pd.concat([hourly("P-GAS", np.full(120, 1000.0), start=start, unit="m**3"),
                          hourly("P-OUT", np.full(120, tonnes_per_hour), start=start, unit="t")])
    daily = quality.daily_energy(readings, registry)
    found = alerts.product_alerts(daily, registry, date="2025-03-05")
    energy_tce = 1000.0 * 120 * GAS_TCE_PER_M3  # 159.6 tce
    per_t = energy_tce * 1000 / (tonnes_per_hour * 120)  # 133.0 kgce/t at 10 t/h; 110.8 at 12 t/h
    assert (not found.empty) is alerted
    if alerted:
        row = found.iloc[0]
        assert row["value"] == pytest.approx(per_t)
        assert row["threshold"] == 117.0 and row["unit"] == "kgce/t"
        assert row["numbers"]["energy"] == pytest.approx(energy_tce)
        assert row["numbers"]["output"] == pytest.approx(tonnes_per_hour * 120)
        assert row["numbers"]["energy_points"] == ["P-GAS"] and row["numbers"]["output_points"] == ["P-OUT"]


def test_quality_alerts_completeness_silence_and_overdue_faults(registry):
    start = pd.Timestamp("2025-03-03T00:00:00+08:00").tz_convert("UTC")  # Monday
    values = smooth(5 * 24)
    values[10] = 900.0  # a spike on Monday
    readings = pd.concat([hourly(p, values * s, start=start, unit=u) for p, s, u in (
        ("P-MAIN", 1.0, "kWh"), ("P-SUB1", 0.6, "kWh"), ("P-SUB2", 0.37, "kWh"), ("P-GAS", 1.0, "m**3"))])
    readings = readings[~((readings["point_id"] == "P-GAS") & (readings["start"] >= start + pd.Timedelta(days=3)))]
    now = start + pd.Timedelta(days=4, hours=23)  # Friday evening
    flags = quality.check(readings, registry, now=now)
    found = alerts.quality_alerts(readings, registry, date="2025-03-06", now=now, flags=flags)
    kinds = dict(zip(found["kind"], found["subject"], strict=False))
    assert "completeness" in kinds  # Thursday: 72 of 96 slots
    row = found[found["kind"] == "completeness"].iloc[0]
    assert row["value"] == pytest.approx(72 / 96)
    assert kinds["silence"] == "P-GAS"
    overdue = found[found["kind"] == "unrepaired_fault"].iloc[0]
    assert overdue["value"] == 4 and overdue["threshold"] == 3  # Monday → Friday: 4 working days
    thursday = start + pd.Timedelta(days=3, hours=12)
    flags = quality.check(readings[readings["start"] < thursday], registry, now=thursday)
    later = alerts.quality_alerts(readings[readings["start"] < thursday], registry, date="2025-03-05", now=thursday,
                                  flags=flags)
    assert "unrepaired_fault" not in set(later["kind"])  # 3 working days: still within the deadline


def test_all_alerts_on_a_city_have_numbers(small_city):
    flags = quality.check(small_city.readings, small_city.registry, now=small_city.now)
    found = alerts.alerts(small_city.readings, small_city.registry, date="2025-01-14", now=small_city.now,
                          flags=flags)
    assert list(found.columns) == list(alerts.ALERT_COLUMNS)
    assert not found.empty
    assert found["numbers"].map(lambda n: isinstance(n, dict) and len(n) > 0).all()
    assert set(found["level"]) <= {"warning", "error"}


def test_monthly_feed_for_the_nowcast(registry):
    start = pd.Timestamp("2025-01-30T00:00:00+08:00").tz_convert("UTC")
    readings = pd.concat([hourly("P-GAS", np.full(96, 1000.0), start=start, unit="m**3"),
                          hourly("P-MAIN", np.full(96, 100.0), start=start),
                          hourly("P-SUB1", np.full(96, 60.0), start=start)])
    daily = quality.daily_energy(readings, registry)
    monthly = alerts.monthly_energy_for_nowcast(daily, registry)
    check_monthly(monthly)
    assert list(monthly["month"]) == [1, 2]
    per_day = 24 * (1000.0 * GAS_TCE_PER_M3 + 100.0 * 0.1229e-3)  # sub-meter P-SUB1 not counted
    assert monthly["value"].to_numpy() == pytest.approx([2 * per_day, 2 * per_day])
    assert set(monthly["variable"]) == {"key_unit_energy_tce"}
    rollup = pd.DataFrame({"period": ["2025-03", "2025-03"], "enterprise_id": ["A", "B"],
                           "tce_calorific": [10.0, 5.0]})
    assert alerts.monthly_energy_for_nowcast(rollup)["value"].tolist() == [15.0]


def test_alert_rules_file_has_every_section():
    rules = alerts.load_alert_rules()
    assert rules.get("data_quality", "repair_deadline_working_days") == 3
    assert rules.get("data_quality", "completeness_min") == 0.90


def test_budget_path_per_enterprise_weights(registry):
    daily = quality.daily_energy(gas_days(3300.0 * 1.9, 10), registry)
    weights = pd.DataFrame({"enterprise_id": "ENT1", "month": range(1, 13), "weight": [2.0] + [1.0] * 11})
    row = alerts.budget_alerts(daily, registry, date="2025-01-10", month_weights=weights).iloc[0]
    assert row["numbers"]["elapsed_share"] == pytest.approx((10 / 31 * 2) / 13)


def test_daily_from_rollup_feeds_the_budget(registry):
    rollup = pd.DataFrame({"period": pd.to_datetime(["2025-01-01", "2025-01-02"]).tz_localize("Asia/Shanghai"),
                           "point_id": "P-GAS", "energy": [80_000.0, 80_000.0], "energy_unit": "m**3",
                           "readings": 24, "tce_calorific": [540.0, 540.0]})
    daily = alerts.daily_from_rollup(rollup, registry)
    assert list(daily["day"]) == ["2025-01-01", "2025-01-02"]
    row = alerts.budget_alerts(daily, registry, date="2025-01-02").iloc[0]
    assert row["value"] == 1080.0 and row["numbers"]["path_tce"] == pytest.approx(36_500 * 2 / 365)
    with pytest.raises(InputError, match="tce_calorific"):
        alerts.daily_from_rollup(rollup.drop(columns="tce_calorific"), registry)


def test_silence_of_a_point_without_any_reading_names_the_window_not_inf(registry):
    start = pd.Timestamp("2025-03-03T00:00:00+08:00").tz_convert("UTC")
    readings = hourly("P-MAIN", smooth(48), start=start)
    now = start + pd.Timedelta(days=2)
    found = alerts.quality_alerts(readings, registry, date="2025-03-04", now=now, window_start=start)
    silent = found[found["kind"] == "silence"].set_index("subject")
    assert set(silent.index) == {"P-SUB1", "P-SUB2", "P-GAS"}
    row = silent.loc["P-GAS"]
    assert "inf" not in row["message"] and "窗口内无数据" in row["message"] and start.isoformat() in row["message"]
    assert pd.isna(row["value"]) and row["numbers"]["no_data_in_window"] is True
    assert row["numbers"]["window_start"] == start.isoformat()


def test_budget_alerts_say_which_energy_they_used(registry):
    readings = gas_days(3500.0, 10)
    readings.loc[readings.index[50], "value"] = 3500.0 * 1000  # a ×1000 unit mistake in the raw data
    flags = quality.check(readings, registry, now=JAN1 + pd.Timedelta(days=10))
    repaired = quality.daily_energy(readings, registry, flags=flags)
    raw = quality.daily_energy(readings, registry)
    on_repaired = alerts.alerts(readings, registry, date="2025-01-10", flags=flags)
    row = on_repaired[on_repaired["kind"] == "budget"].iloc[0]
    assert row["numbers"]["energy_view"] == alerts.VIEW_REPAIRED and row["numbers"]["repaired_values"] >= 1
    assert row["value"] == pytest.approx(3500.0 * 240 * GAS_TCE_PER_M3)  # the repaired view is the true energy
    raw_row = alerts.budget_alerts(raw, registry, date="2025-01-10").iloc[0]
    assert raw_row["numbers"]["energy_view"] == alerts.VIEW_RAW
    assert raw_row["value"] > row["value"] * 1.5  # the raw view counts the unit mistake
    # the lake's raw daily rollup with the checked days replaced by the repaired view
    merged = alerts.repaired_daily(raw, repaired[repaired["day"] >= "2025-01-03"])
    assert alerts.energy_view_of(merged) == alerts.VIEW_REPAIRED
    assert len(merged) == len(raw)
    pd.testing.assert_series_equal(merged.set_index(["point_id", "day"])["energy_tce"].sort_index(),
                                   repaired.set_index(["point_id", "day"])["energy_tce"].sort_index())

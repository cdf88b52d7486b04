"""Quality rules on small literal fixtures (each rule fires on its fault and not on clean data), national
indicators on hand-made days, and precision/recall against the simulator's truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.monitoring import quality
from citycarbon.monitoring.registry import load_registry
from tests.monitoring.conftest import tiny_registry_frames

DAY = pd.Timestamp("2025-03-03T00:00:00+08:00").tz_convert("UTC")  # a Monday
NOW = DAY + pd.Timedelta(days=2)


def hourly(point_id: str, values, *, start=DAY, unit="kWh", delay_minutes: float = 2.0,
           cumulative: bool = False) -> pd.DataFrame:
    """Readings of one point every hour from ``start``; registers as instantaneous reads at the hour's end."""
    n = len(values)
    starts = start + pd.to_timedelta(np.arange(n), unit="h")
    ends = starts + pd.Timedelta(hours=1)
    if cumulative:
        starts = ends
    return pd.DataFrame({"point_id": point_id, "start": starts, "end": ends, "value": np.asarray(values, float),
                         "unit": unit, "received_at": ends + pd.Timedelta(minutes=delay_minutes)})


def smooth(n: int = 48, level: float = 100.0) -> np.ndarray:
    hours = np.arange(n)
    return np.round(level * (1 + 0.2 * np.sin(hours / 24 * 2 * np.pi)) + 0.37 * (hours % 7), 3)


@pytest.fixture
def registry():
    return load_registry(tiny_registry_frames(interval=60))


@pytest.fixture
def register_registry():
    frames = tiny_registry_frames(interval=60, kind="cumulative")
    frames["points"]["register_max"] = frames["points"]["register_max"].astype(object)
    frames["points"].loc[0, "register_max"] = 100000
    return load_registry(frames)


def run(readings, registry, **kwargs):
    return quality.check(readings, registry, now=kwargs.pop("now", NOW), **kwargs)


def kinds(flags, point="P-GAS"):
    return sorted(set(flags.loc[flags["point_id"] == point, "rule_id"]))


def test_clean_data_gives_no_flags(registry):
    readings = pd.concat([hourly("P-GAS", smooth(), unit="m**3"), hourly("P-MAIN", smooth()),
                          hourly("P-SUB1", smooth() * 0.6), hourly("P-SUB2", smooth() * 0.37)])
    flags = run(readings, registry, start=DAY, end=DAY + pd.Timedelta(hours=48))
    assert flags.empty, flags


@pytest.mark.parametrize(("index", "value", "rule"), [
    (20, -5.0, "negative_value"),
    (20, 100_000.0, "unit_mistake"),
    (20, 0.1, "unit_mistake"),
    (20, 4000.0, "impossible_value"),
    (20, 500.0, "spike"),
])
def test_value_rules_fire_on_their_fault(registry, index, value, rule):
    values = smooth(240)  # long enough that one outlier does not move the point's p99
    values[index] = value
    flags = run(hourly("P-GAS", values, unit="m**3"), registry, now=DAY + pd.Timedelta(days=11))
    hit = flags[flags["point_id"] == "P-GAS"]
    assert list(hit["rule_id"]) == [rule]
    assert hit["start"].iloc[0] == DAY + pd.Timedelta(hours=index)
    assert hit["severity"].iloc[0] in ("warning", "error")


def test_spike_repair_is_interpolated(registry):
    values = smooth()
    values[20] = 500.0
    flags = run(hourly("P-GAS", values, unit="m**3"), registry)
    assert flags["suggested_value"].iloc[0] == pytest.approx((values[19] + values[21]) / 2)
    assert flags["method"].iloc[0] == "interpolation"
    assert list(quality.repairs(flags)["rule_id"]) == ["spike"]


def test_small_step_is_not_a_spike(registry):
    values = smooth()
    values[20] *= 2.0  # below the 2.5 x neighbourhood ratio
    assert run(hourly("P-GAS", values, unit="m**3"), registry).empty


def test_unit_label_mistake_found_and_scaled_back(registry):
    readings = hourly("P-MAIN", smooth())
    readings.loc[10:13, "unit"] = "MWh"  # kWh numbers labelled MWh: energy x1000
    flags = run(readings, registry)
    unit = flags[flags["rule_id"] == "unit_mistake"]
    assert len(unit) == 4
    assert unit["suggested_value"].to_numpy() == pytest.approx(smooth()[10:14])


def test_stuck_needs_the_minimum_run(registry):
    values = smooth()
    values[10:14] = values[9]  # 4 repeats after the first: stuck
    flags = run(hourly("P-GAS", values, unit="m**3"), registry)
    assert list(flags["rule_id"]) == ["stuck_meter"] * 4
    values = smooth()
    values[10:13] = values[9]  # 3 repeats: not yet
    assert run(hourly("P-GAS", values, unit="m**3"), registry).empty


def test_gaps_inside_and_at_the_window_edge(registry):
    readings = hourly("P-GAS", smooth(), unit="m**3").drop(index=[5, 6, 47])
    flags = run(readings, registry)
    assert list(flags["start"]) == [DAY + pd.Timedelta(hours=5), DAY + pd.Timedelta(hours=6)]
    assert (flags["rule_id"] == "gap").all()
    assert "2 missing in a row" in flags["detail"].iloc[0]
    windowed = run(readings, registry, start=DAY, end=DAY + pd.Timedelta(hours=48))
    gas = windowed[windowed["point_id"] == "P-GAS"]
    assert len(gas) == 3
    assert set(windowed["point_id"]) == {"P-GAS", "P-MAIN", "P-SUB1", "P-SUB2"}  # points without readings


def test_clock_skew_and_its_tolerance(registry):
    readings = hourly("P-GAS", smooth(), unit="m**3")
    readings.loc[10, ["start", "end"]] += pd.Timedelta(minutes=3)
    readings.loc[11, ["start", "end"]] += pd.Timedelta(seconds=50)  # within ±60 s
    flags = run(readings, registry)
    assert list(flags["rule_id"]) == ["clock_skew"]
    assert flags["start"].iloc[0] == DAY + pd.Timedelta(hours=10, minutes=3)


def test_future_timestamp(registry):
    readings = hourly("P-GAS", smooth(), unit="m**3")
    readings.loc[47, ["start", "end"]] += pd.Timedelta(days=30)
    flags = run(readings, registry)
    assert "future_timestamp" in set(flags["rule_id"])
    assert "clock_skew" not in set(flags["rule_id"])


def test_duplicates_conflict_or_revision_by_receipt_time(registry):
    readings = hourly("P-GAS", smooth(), unit="m**3")
    same = readings.iloc[[3]].copy()  # identical resend: not a finding
    conflict = readings.iloc[[5]].assign(value=lambda f: f["value"] * 1.3,
                                         received_at=lambda f: f["received_at"] + pd.Timedelta(minutes=5))
    revision = readings.iloc[[8]].assign(value=lambda f: f["value"] * 1.02,
                                         received_at=lambda f: f["received_at"] + pd.Timedelta(days=1))
    flags = run(pd.concat([readings, same, conflict, revision]), registry)
    assert list(zip(flags["rule_id"], flags["start"], strict=True)) == [
        ("duplicate_conflict", DAY + pd.Timedelta(hours=5)), ("revision", DAY + pd.Timedelta(hours=8))]
    assert flags.loc[flags["rule_id"] == "revision", "severity"].item() == "info"


def test_lake_frame_with_revisions_is_accepted(registry):
    readings = hourly("P-GAS", smooth(), unit="m**3").rename(columns={"value": "value_raw", "unit": "unit_raw"})
    readings["revision"] = 0
    revised = readings.iloc[[8]].assign(value_raw=1.0, revision=1,
                                        received_at=lambda f: f["received_at"] + pd.Timedelta(days=2))
    flags = run(pd.concat([readings, revised]), registry)
    assert list(flags["rule_id"]) == ["revision"]  # judged on the latest revision: 1.0 is no spike


def test_late_upload(registry):
    readings = hourly("P-GAS", smooth(), unit="m**3")
    readings.loc[3, "received_at"] += pd.Timedelta(hours=30)
    flags = run(readings, registry)
    assert list(flags["rule_id"]) == ["late_upload"]


def test_register_rollover_reset_and_stuck(register_registry):
    deltas = np.full(48, 50.0) + np.arange(48) % 5
    register = 99_000 + np.cumsum(deltas)
    values = register % 100_000  # wraps once
    values[30:] = values[30:] - values[29] + 10  # reset at read 30 (register restarted near zero)
    values[40:45] = values[39]  # frozen for 5 reads
    values[45:] = values[45:]  # catches up
    flags = run(hourly("P-MAIN", values, cumulative=True), register_registry)
    found = dict(zip(flags["rule_id"], flags["start"], strict=False))
    wrap = int(np.argmax(np.diff(np.floor(register / 100_000)) > 0)) + 1
    assert found["rollover"] == DAY + pd.Timedelta(hours=wrap + 1)
    assert found["counter_reset"] == DAY + pd.Timedelta(hours=31)
    stuck = flags[flags["rule_id"] == "stuck_meter"]
    assert len(stuck) == 5
    rollover = flags[flags["rule_id"] == "rollover"]
    assert rollover["suggested_value"].item() == pytest.approx(deltas[wrap], abs=1e-6)
    assert stuck["suggested_value"].to_numpy() == pytest.approx(np.full(5, deltas[40:46].sum() / 6))


def test_submeter_balance(registry):
    main = smooth()
    readings = pd.concat([hourly("P-MAIN", main), hourly("P-SUB1", main * 0.6), hourly("P-SUB2", main * 0.25)])
    flags = run(readings, registry)
    balance = flags[flags["rule_id"] == "submeter_balance"]
    assert len(balance) >= 1 and "-15.0%" in balance["detail"].iloc[0]
    readings = pd.concat([hourly("P-MAIN", main), hourly("P-SUB1", main * 0.6), hourly("P-SUB2", main * 0.37)])
    assert run(readings, registry).empty


def test_unknown_point_is_an_input_error(registry):
    from citycarbon.errors import InputError

    with pytest.raises(InputError, match="not in the registry"):
        run(hourly("P-NOPE", smooth()), registry)


# ------------------------------------------------------------------------------------------- national indicators

def day_of(registry, kept_per_point: dict[str, int]) -> pd.DataFrame:
    parts = []
    for point, kept in kept_per_point.items():
        unit = "m**3" if point == "P-GAS" else "kWh"
        parts.append(hourly(point, smooth(24), unit=unit).iloc[:kept])
    return pd.concat(parts)


def test_completeness_counts_slots_over_all_points(registry):
    # 4 hourly points = 96 slots a day; 3 full points + 15 of 24 readings = 87 slots
    readings = day_of(registry, {"P-MAIN": 24, "P-SUB1": 24, "P-SUB2": 24, "P-GAS": 15})
    row = quality.national_indicators(readings, registry, "2025-03-03").iloc[0]
    assert row["expected_slots"] == 96 and row["received_slots"] == 87
    assert row["completeness"] == pytest.approx(87 / 96)
    assert bool(row["completeness_ok"])


def many_points_registry(n_points: int):
    frames = tiny_registry_frames(interval=60)
    template = frames["points"].iloc[[3]]
    frames["points"] = pd.concat([template.assign(point_id=f"G{i:02d}") for i in range(n_points)],
                                 ignore_index=True)
    return load_registry(frames)


@pytest.mark.parametrize(("received", "ok"), [(216, True), (214, False)])
def test_completeness_threshold_is_inclusive(received, ok):
    registry = many_points_registry(10)  # 240 slots a day
    parts, left = [], received
    for i in range(10):
        take = min(24, left)
        parts.append(hourly(f"G{i:02d}", smooth(24), unit="m**3").iloc[:take])
        left -= take
    row = quality.national_indicators(pd.concat(parts), registry, "2025-03-03").iloc[0]
    assert row["completeness"] == pytest.approx(received / 240)  # 216/240 = 90 % exactly; 214/240 = 89.2 %
    assert bool(row["completeness_ok"]) is ok


def test_timeliness_counts_late_and_skewed_slots(registry):
    readings = day_of(registry, {"P-MAIN": 24, "P-SUB1": 24, "P-SUB2": 24, "P-GAS": 24})
    readings = readings.reset_index(drop=True)
    readings.loc[0:4, "received_at"] += pd.Timedelta(hours=30)  # 5 late
    readings.loc[10:14, ["start", "end"]] += pd.Timedelta(minutes=5)  # 5 off the grid
    row = quality.national_indicators(readings, registry, "2025-03-03").iloc[0]
    assert row["completeness"] == 1.0
    assert row["timeliness"] == pytest.approx(86 / 96)
    assert not bool(row["timeliness_ok"])


def test_daily_vs_monthly_deviation(registry):
    month = pd.Timestamp("2025-02-01T00:00:00+08:00").tz_convert("UTC")
    gas = hourly("P-GAS", np.full(28 * 24, 1000.0), start=month, unit="m**3")
    energy_tce = 28 * 24 * 1000.0 * 1.33e-3  # GB/T 2589 natural gas 1.33 kgce/m3
    for reported, ok in ((energy_tce / 1.04, True), (energy_tce / 1.06, False)):
        reports = pd.DataFrame({"enterprise_id": ["ENT1"], "month": ["2025-02"], "energy_tce": [reported]})
        row = quality.national_indicators(gas, registry, "2025-02-14", monthly_reports=reports).iloc[0]
        assert row["daily_vs_monthly_deviation"] == pytest.approx(energy_tce / reported - 1)
        assert bool(row["daily_vs_monthly_ok"]) is ok
    row = quality.national_indicators(gas, registry, "2025-02-14").iloc[0]
    assert math.isnan(row["daily_vs_monthly_deviation"])


# ------------------------------------------------------------------------------------------- simulated city

#: floors documented in docs/monitoring.md; measured 1.0 for every kind on this city (seed 7)
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.95


@pytest.fixture(scope="module")
def city_flags(small_city):
    return quality.check(small_city.readings, small_city.registry, now=small_city.now, start=small_city.start,
                         end=small_city.now)


def test_precision_and_recall_on_a_small_city(small_city, city_flags):
    scores = quality.score(city_flags, small_city.truth).set_index("fault_kind")
    judged = scores.loc[scores.index != "submeter_balance"]
    assert {"spike", "gap", "stuck", "unit_mistake", "clock_skew", "late", "duplicate_conflict"} <= set(
        judged.index[judged["truth"] > 0])
    assert (judged["recall"].dropna() >= RECALL_FLOOR).all(), judged
    assert (judged["precision"].dropna() >= PRECISION_FLOOR).all(), judged


def test_counter_resets_found_in_a_city():
    from citycarbon.monitoring.simulate import simulate

    city = simulate(6, 2, 7, seed=3, faults={"counter_reset": 0.3})
    flags = quality.check(city.readings, city.registry, now=city.now, start=city.start, end=city.now)
    scores = quality.score(flags, city.truth).set_index("fault_kind")
    assert scores.loc["counter_reset", "truth"] > 0
    assert scores.loc["counter_reset", "recall"] >= RECALL_FLOOR
    assert scores.loc["counter_reset", "precision"] >= PRECISION_FLOOR


def test_raw_readings_are_not_modified(small_city):
    before = small_city.readings.copy()
    quality.check(small_city.readings.iloc[:5000], small_city.registry, now=small_city.now)
    pd.testing.assert_frame_equal(before, small_city.readings)


def test_rules_file_lists_every_rule_with_a_source():
    table = quality.load_rules().table()
    assert table["source"].str.len().gt(10).all()
    assert set(table["severity"]) <= {"info", "warning", "error"}
    assert quality.load_rules().national["completeness_min"] == 0.90


def test_docs_list_every_rule():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "monitoring.md").read_text(encoding="utf-8")
    missing = [rule for rule in quality.load_rules().rules if f"`{rule}`" not in text]
    assert not missing


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10_000))
def test_clean_cities_raise_no_findings(seed):
    from citycarbon.monitoring.simulate import simulate

    city = simulate(3, 3, 3, seed=seed, faults=False)
    flags = quality.check(city.readings, city.registry, now=city.now, start=city.start, end=city.now)
    assert set(flags["rule_id"]) <= {"rollover"}, flags.groupby("rule_id").size()


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.sampled_from([1000.0, 0.001]))
def test_any_scaled_run_is_found_exactly(first, length, factor):
    registry = load_registry(tiny_registry_frames(interval=60))
    values = smooth(72)
    values[first:first + length] *= factor
    flags = quality.check(hourly("P-GAS", values, unit="m**3"), registry, now=DAY + pd.Timedelta(days=4))
    unit = flags[flags["rule_id"] == "unit_mistake"]
    expected = [DAY + pd.Timedelta(hours=h) for h in range(first, min(first + length, 72))]
    assert list(unit["start"]) == expected
    assert unit["suggested_value"].to_numpy() == pytest.approx(smooth(72)[first:first + length])


def test_unit_run_starting_on_a_spike_is_found(registry):
    """The run's first reading is also a spike (x5): the jump into the run is x5000, still an edge."""
    values = smooth(400)
    values[100:120] *= 1000.0
    values[100] *= 5.0
    flags = quality.check(hourly("P-GAS", values, unit="m**3"), registry, now=DAY + pd.Timedelta(days=20))
    unit = flags[flags["rule_id"] == "unit_mistake"]
    assert list(unit["start"]) == [DAY + pd.Timedelta(hours=h) for h in range(100, 120)]


def test_a_missed_unit_edge_does_not_shift_the_rest_of_the_series(registry):
    """A down-run entered while the load triples: the jump in is /333, not an edge. The run may be missed, but
    no reading outside it is flagged (a level tracked from jump to jump would stay shifted for the rest of the
    series: hundreds of false unit mistakes)."""
    values = smooth(400)
    values[100:120] /= 1000.0
    values[100] *= 3.0
    flags = quality.check(hourly("P-GAS", values, unit="m**3"), registry, now=DAY + pd.Timedelta(days=20))
    unit = flags[flags["rule_id"] == "unit_mistake"]
    hours = ((unit["start"] - DAY) / pd.Timedelta(hours=1)).astype(int)
    assert hours.between(100, 119).all(), sorted(hours)


def test_a_deep_low_load_stretch_is_not_a_unit_mistake(registry):
    """A shutdown ramped down and up over hours reaches a thousandth of the load without any x1000 jump."""
    values = smooth(400)
    ramp = np.geomspace(1.0, 1e-3, 8)
    values[200:208] *= ramp
    values[208:230] *= 1e-3
    values[230:238] *= ramp[::-1]
    flags = quality.check(hourly("P-GAS", values, unit="m**3"), registry, now=DAY + pd.Timedelta(days=20))
    assert "unit_mistake" not in set(flags["rule_id"])


def test_a_unit_run_of_two_weeks_is_found(registry):
    """A gateway sending MWh as kWh for 16 days (400 hourly readings) after maintenance: longer than a week, so
    the reference level must come from a longer window than the run."""
    values = smooth(2000)
    values[800:1200] /= 1000.0
    flags = quality.check(hourly("P-GAS", values, unit="m**3"), registry, now=DAY + pd.Timedelta(days=90))
    unit = flags[flags["rule_id"] == "unit_mistake"]
    assert list(unit["start"]) == [DAY + pd.Timedelta(hours=h) for h in range(800, 1200)]

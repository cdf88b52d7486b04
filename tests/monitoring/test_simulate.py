"""Simulator: determinism by seed, sizes, consistency of the truth with the readings, realistic totals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.monitoring.registry import load_registry, tce_factors
from citycarbon.monitoring.simulate import iter_enterprise_readings, simulate


def test_same_seed_same_city_other_seed_other_city():
    a, b, c = simulate(3, 2, 3, seed=11), simulate(3, 2, 3, seed=11), simulate(3, 2, 3, seed=12)
    pd.testing.assert_frame_equal(a.readings, b.readings)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.readings["value"].equals(c.readings["value"])


def test_clean_sizes_are_exact():
    city = simulate(4, 3, 2, seed=3, faults=False)
    n_output = int((city.points["energy_type"] == "product_output").sum())
    assert len(city.points) == 4 * 3 + n_output
    assert len(city.readings) == (4 * 3 + n_output) * 2 * 96
    assert city.truth["kind"].isin(["rollover"]).all()
    assert city.readings["start"].dtype == "datetime64[ns, UTC]"


def test_registry_of_a_city_passes_validation(small_city):
    registry = load_registry({"enterprises": small_city.enterprises, "points": small_city.points,
                              "products": small_city.products})
    assert len(registry.points) == len(small_city.points)
    assert set(small_city.enterprises["tier"]) <= {1, 2}
    tier1 = small_city.enterprises["tier"] == 1
    assert (small_city.enterprises.loc[tier1, "annual_energy_tce"] >= 10_000).all()
    assert (small_city.enterprises.loc[~tier1, "annual_energy_tce"].between(5_000, 10_000)).all()


def test_gap_slots_are_missing_and_value_faults_differ(small_city):
    readings, truth = small_city.readings, small_city.truth
    keys = set(zip(readings["point_id"], readings["start"], strict=True))
    gaps = truth[truth["kind"] == "gap"]
    assert len(gaps) > 0
    assert not any((p, s) in keys for p, s in zip(gaps["point_id"], gaps["start"], strict=True))
    for kind in ("spike", "negative", "impossible"):
        rows = truth[truth["kind"] == kind].merge(readings, on=["point_id", "start"])
        multiplier = rows["point_id"].map(small_city.points.set_index("point_id")["multiplier"])
        assert len(rows) > 0
        assert not np.allclose((rows["value"] * multiplier).to_numpy(float), rows["true_value"].to_numpy(float),
                               rtol=0.05)
    dupes = truth[truth["kind"] == "duplicate_conflict"]
    counted = readings.groupby(["point_id", "start"]).size()
    assert (counted.loc[list(zip(dupes["point_id"], dupes["start"], strict=True))] == 2).all()


def test_every_fault_kind_appears_in_the_small_city(small_city):
    kinds = set(small_city.truth["kind"])
    assert {"negative", "spike", "impossible", "stuck", "gap", "duplicate_conflict", "unit_mistake", "clock_skew",
            "future_timestamp", "late"} <= kinds


def test_future_and_skewed_timestamps(small_city):
    truth = small_city.truth
    assert (truth.loc[truth["kind"] == "future_timestamp", "start"] > small_city.now).all()
    skew = truth.loc[truth["kind"] == "clock_skew", "start"]
    offset = (skew - small_city.start).dt.total_seconds() % 900
    assert ((offset >= 60) & (offset <= 900 - 60)).all()


def test_submeters_sum_to_main_minus_losses():
    city = simulate(3, 4, 2, seed=5, faults=False)
    pts = city.points
    interval = pts[pts["kind"] == "interval"]
    values = city.readings.merge(interval[["point_id", "multiplier", "parent_point_id"]], on="point_id")
    values["energy"] = values["value"] * values["multiplier"]
    for parent, children in interval[interval["parent_point_id"] != ""].groupby("parent_point_id"):
        if parent not in set(interval["point_id"]) or len(children) != 2:
            continue
        main = values.loc[values["point_id"] == parent, "energy"].sum()
        subs = values.loc[values["point_id"].isin(children["point_id"]), "energy"].sum()
        assert 0.94 < subs / main < 0.995


def test_one_year_totals_match_annual_energy():
    city = simulate(1, 2, 365, seed=2, faults=False, start="2025-01-01T00:00:00+08:00")
    readings = city.readings.merge(city.points, on="point_id").sort_values(["point_id", "start"])
    energy = readings["value"].copy()
    cumulative = readings["kind"] == "cumulative"
    delta = readings.groupby("point_id")["value"].diff()
    delta = delta.where(delta >= 0, delta + readings["register_max"])  # rollover
    energy[cumulative] = delta[cumulative]
    tce = energy * readings["multiplier"] * readings["energy_type"].map(tce_factors()["tce_per_unit"])
    # one interval per cumulative point has no previous read, hence the tolerance
    assert tce.sum() == pytest.approx(city.enterprises.loc[0, "annual_energy_tce"], rel=0.02)


def test_chunked_generation_equals_simulate():
    city = simulate(5, 2, 2, seed=9)
    parts = list(iter_enterprise_readings(5, 2, 2, seed=9, chunk=2))
    assert len(parts) == 3
    readings = pd.concat([p[1] for p in parts]).sort_values(["point_id", "start", "received_at"], kind="stable")
    pd.testing.assert_frame_equal(readings.reset_index(drop=True), city.readings)


def test_cli_writes_city(tmp_path):
    result = CliRunner().invoke(app, ["monitoring", "simulate", "--units", "2", "--points", "2", "--days", "2",
                                      "--out", str(tmp_path / "city"), "--seed", "4", "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["enterprises"] == 2
    files = sorted((tmp_path / "city" / "readings").glob("*.parquet"))
    assert sum(len(pd.read_parquet(f)) for f in files) == summary["readings"]
    assert (tmp_path / "city" / "truth.parquet").exists()
    assert len(load_registry(tmp_path / "city").enterprises) == 2


def test_bad_sizes_refused():
    with pytest.raises(ValueError):
        simulate(0, 1, 1)
    with pytest.raises(ValueError, match="unknown fault kind"):
        simulate(1, 1, 1, faults={"meteor": 1.0})


def test_options_off_leave_the_city_unchanged_and_situations_keep_the_readings_of_the_seed():
    plain = simulate(6, 3, 4, seed=5)
    off = simulate(6, 3, 4, seed=5, overlap=False, situations=False)
    pd.testing.assert_frame_equal(plain.readings, off.readings)
    pd.testing.assert_frame_equal(plain.truth, off.truth)
    with_situations = simulate(6, 3, 4, seed=5, situations=True)
    # situations only remove readings (silent ends) and change budgets; every reading sent is one of the plain city's
    merged = with_situations.readings.merge(plain.readings, how="left", indicator=True,
                                            on=["point_id", "start", "end", "value", "unit", "received_at"])
    assert (merged["_merge"] == "both").all()


def test_overlapping_faults_touch_and_the_truth_names_only_readings_that_were_sent():
    rates = {k: 0.5 for k in ("negative", "spike", "impossible", "stuck", "gap", "unit_mistake", "clock_skew")}
    city = simulate(3, 3, 6, seed=8, faults=rates, overlap=True)
    apart = simulate(3, 3, 6, seed=8, faults=rates)
    step = pd.Timedelta(minutes=15)

    def touching(truth: pd.DataFrame) -> int:
        value_faults = truth[truth["kind"].isin(["negative", "spike", "impossible", "unit_mistake"])]
        others = truth[truth["kind"] != "rollover"]
        pairs = value_faults.merge(others, on="point_id", suffixes=("", "_o"))
        near = (pairs["end"] - pairs["end_o"]).abs() <= 2 * step
        return int((near & (pairs["kind"] != pairs["kind_o"])).sum())  # a fault of another kind next to it

    assert touching(city.truth) > 0  # faults now meet each other ...
    assert touching(apart.truth) == 0  # ... which the default never lets happen
    # a fault on a reading is on a reading that exists (a gap removes the faults of the readings it removes)
    sent = set(zip(city.readings["point_id"], city.readings["end"], strict=True))
    on_readings = city.truth[~city.truth["kind"].isin(["gap"])]
    assert all((p, e) in sent for p, e in zip(on_readings["point_id"], on_readings["end"], strict=True))


def test_situations_are_in_the_alert_truth():
    city = simulate(60, 3, 10, seed=3, situations=True)
    truth = city.alert_truth
    assert {"budget", "silence", "completeness", "unrepaired_fault"} <= set(truth["kind"])
    injected = truth[(truth["kind"] == "budget") & truth["detail"].str.contains("budget set")]
    assert len(injected) > 0 and (injected["level"].isin(["warning", "error"])).all()
    # a silent point really stops sending: its last reading ends at least the silence threshold before now
    for row in truth[truth["kind"] == "silence"].itertuples(index=False):
        sent = city.readings[city.readings["point_id"] == row.subject]
        last = sent.loc[sent["start"] <= city.now, "end"].max()
        assert pd.isna(last) or (city.now - last) > pd.Timedelta(hours=6)
    # only the enterprises set ahead of their path got another budget
    plain = simulate(60, 3, 10, seed=3)
    changed = city.enterprises["annual_budget_tce"] != plain.enterprises["annual_budget_tce"]
    assert set(city.enterprises.loc[changed, "enterprise_id"]) == set(injected["enterprise_id"])

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

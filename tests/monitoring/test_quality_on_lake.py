"""Quality on the lake's frame: a simulated city ingested (originals first, then the resent and revised rows)
and read back with all revisions gives the same precision and recall as the raw readings."""

from __future__ import annotations

import numpy as np
import pytest

from citycarbon.monitoring import quality
from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import read_readings
from citycarbon.monitoring.simulate import simulate


@pytest.fixture(scope="module")
def lake_city(tmp_path_factory):
    city = simulate(8, 3, 7, seed=5, faults={"counter_reset": 0.05, "revision": 0.05, "duplicate_conflict": 0.05,
                                             "late": 0.05})
    lake = tmp_path_factory.mktemp("lake")
    arrived = city.readings.sort_values("received_at", kind="stable")
    first = ~arrived.duplicated(["point_id", "start", "end"], keep="first")
    for batch in (arrived[first], arrived[~first]):
        report = ingest_frame(lake, city.registry, batch, source="test", now=city.now)
        assert report.rejected == 0
    return city, read_readings(lake, latest_revision_only=False), lake


def test_lake_frame_scores_like_raw_readings(lake_city):
    city, stored, _ = lake_city
    assert {"value_raw", "revision", "energy_flag"} <= set(stored.columns)
    flags = quality.check(stored, city.registry, now=city.now, start=city.start, end=city.now)
    scores = quality.score(flags, city.truth).set_index("fault_kind")
    judged = scores[(scores.index != "submeter_balance") & (scores["truth"] > 0)]
    assert {"revision", "duplicate_conflict", "gap", "late"} <= set(judged.index)
    assert (judged["recall"] >= 0.95).all(), judged
    assert (judged["precision"] >= 0.95).all(), judged


def test_lake_daily_energy_matches_raw(lake_city):
    city, stored, _ = lake_city
    raw = quality.daily_energy(city.readings, city.registry, now=city.now).set_index(["point_id", "day"])
    lake = quality.daily_energy(stored, city.registry, now=city.now).set_index(["point_id", "day"])
    joined = raw[["energy"]].join(lake[["energy"]].rename(columns={"energy": "energy_lake"}), how="inner")
    assert len(joined) == len(raw)
    assert joined["energy_lake"].to_numpy() == pytest.approx(joined["energy"].to_numpy(), rel=1e-9, abs=1e-6)


def test_lake_rollup_gives_the_daily_energy_of_interval_meters(lake_city):
    """Every (point, local day) of the interval meters: the rollup equals the sum of the latest revisions'
    energy read back from the lake (an independent groupby), and equals ``quality.daily_energy`` on every day
    except exactly those holding a negative reading (daily_energy leaves negative values out; the rollup sums
    them). No day may be wrong."""
    from citycarbon.monitoring.alerts import daily_from_rollup
    from citycarbon.monitoring.rollup import rollup

    city, stored, lake = lake_city
    interval = set(city.points.loc[city.points["kind"] == "interval", "point_id"])
    result = rollup(lake, city.registry, period="day", by="point")
    daily = daily_from_rollup(result.frame, city.registry)
    daily = daily[daily["point_id"].isin(interval)].set_index(["point_id", "day"])["energy"].sort_index()

    latest = stored[stored["point_id"].isin(interval)].sort_values("revision", kind="stable").drop_duplicates(
        ["point_id", "start", "end"], keep="last")
    local_day = latest["start"].dt.tz_convert(city.registry.timezone).dt.strftime("%Y-%m-%d")
    expected = latest.groupby([latest["point_id"], local_day.rename("day")])["energy"].sum(min_count=1).sort_index()
    assert list(daily.index) == list(expected.index)
    np.testing.assert_allclose(daily.to_numpy(dtype=float), expected.to_numpy(dtype=float), rtol=1e-9, atol=1e-9)

    mine = quality.daily_energy(stored, city.registry, now=city.now)
    mine = mine[mine["point_id"].isin(interval)].set_index(["point_id", "day"])["energy"].reindex(daily.index)
    differ = ~np.isclose(mine.to_numpy(dtype=float), daily.to_numpy(dtype=float), rtol=1e-9, equal_nan=True)
    negative = latest[latest["energy"] < 0]
    negative_days = set(zip(negative["point_id"], local_day[negative.index], strict=True))
    assert set(daily.index[differ]) == negative_days

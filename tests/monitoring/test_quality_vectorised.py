"""The vectorised quality rules equal simple per-point reference implementations (hypothesis).

The interpolation repair, the gap finder, the gap fill (interval meters and registers) and the daily energy
used to loop over points in Python; they now work on all points at once with sorted arrays. Each is compared
here with the plain loop it replaced, on small random series: random points, random missing slots, random
clock skew, random bad readings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.monitoring import quality
from citycarbon.monitoring.registry import load_registry
from tests.monitoring.conftest import tiny_registry_frames

STEP = 3_600 * 1_000_000_000  # hourly points of the tiny registry
BASE = pd.Timestamp("2026-01-10T00:00Z").value


def _reference_interp(codes: np.ndarray, x: np.ndarray, y: np.ndarray, good: np.ndarray, target_codes: np.ndarray,
                      target_x: np.ndarray) -> np.ndarray:
    out = np.full(target_x.size, np.nan)
    for code in np.unique(target_codes):
        mine = codes == code
        ok = mine & good
        if not ok.any():
            continue
        order = np.argsort(x[ok], kind="stable")
        where = target_codes == code
        out[where] = np.interp(target_x[where], x[ok][order], y[ok][order])
    return out


@settings(max_examples=200)
@given(data=st.data())
def test_grouped_interpolation_equals_np_interp_per_point(data):
    n = data.draw(st.integers(0, 40))
    codes = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    x = np.array(data.draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True)), dtype=float)
    y = np.array(data.draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n)), dtype=float)
    good = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    m = data.draw(st.integers(0, 20))
    target_codes = np.array(data.draw(st.lists(st.integers(0, 4), min_size=m, max_size=m)), dtype=np.int64)
    target_x = np.array(data.draw(st.lists(st.integers(-100, 10_100), min_size=m, max_size=m)), dtype=float)
    got = quality._interp_grouped(codes, x, y, good, target_codes, target_x)
    want = _reference_interp(codes, x, y, good, target_codes, target_x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9, equal_nan=True)


def _series(data, points: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    """Hourly readings of ``points`` over 30 slots with random holes, skews and values (some negative)."""
    rows = []
    for point in points:
        present = data.draw(st.lists(st.booleans(), min_size=30, max_size=30))
        register = data.draw(st.floats(0, 1000))
        for slot, here in enumerate(present):
            increment = data.draw(st.floats(0, 50))
            register += increment
            if not here:
                continue
            skew = data.draw(st.sampled_from([0, 0, 0, 30, -30, 200, -200])) * 1_000_000_000
            ts = BASE + slot * STEP + skew
            if kinds[point] == "cumulative":
                rows.append((point, ts, ts, register))
            else:
                value = increment if data.draw(st.integers(0, 9)) else -increment
                rows.append((point, ts, ts + STEP, value))
    frame = pd.DataFrame(rows, columns=["point_id", "start", "end", "value"])
    frame["start"] = pd.to_datetime(frame["start"].astype("int64"), unit="ns", utc=True)
    frame["end"] = pd.to_datetime(frame["end"].astype("int64"), unit="ns", utc=True)
    frame["unit"] = frame["point_id"].map({"P-GAS": "m**3"}).fillna("kWh")
    return frame


def _reference_gaps(frame: pd.DataFrame, registry, lo_ts: int | None, hi_ts: int | None) -> set[tuple[str, int]]:
    """(point, slot) missing, by the former per-point loop's rule."""
    out = set()
    kinds = registry.points.set_index("point_id")["kind"]
    points = list(registry.points["point_id"]) if lo_ts is not None else list(frame["point_id"].unique())
    for point in points:
        cumulative = kinds[point] == "cumulative"
        rows = frame[frame["point_id"] == point]
        ts = (rows["end"] if cumulative else rows["start"]).astype("int64").to_numpy()
        if lo_ts is not None:
            lo = math.ceil(lo_ts / STEP) + (1 if cumulative else 0)
            hi = math.ceil(hi_ts / STEP) - (0 if cumulative else 1)
        elif ts.size:
            lo, hi = round(ts.min() / STEP), round(ts.max() / STEP)
        else:
            continue
        taken = set(np.round(ts / STEP).astype(np.int64).tolist())
        out |= {(point, s) for s in range(lo, hi + 1) if s not in taken}
    return out


@settings(max_examples=60, deadline=None)
@given(data=st.data(), main_kind=st.sampled_from(["interval", "cumulative"]), window=st.booleans())
def test_gap_finder_and_fill_equal_the_per_point_loop(data, main_kind, window):
    registry = load_registry(tiny_registry_frames(interval=60, kind=main_kind))
    if main_kind == "cumulative":
        points = registry.points.copy()
        points.loc[points["point_id"] == "P-MAIN", "register_max"] = 1e9
        registry = load_registry({"enterprises": registry.enterprises, "points": points,
                                  "products": registry.products})
    kinds = registry.points.set_index("point_id")["kind"].to_dict()
    chosen = data.draw(st.lists(st.sampled_from(list(kinds)), min_size=1, max_size=4, unique=True))
    frame = _series(data, chosen, kinds)
    now = pd.Timestamp(BASE + 40 * STEP, unit="ns", tz="UTC")
    lo = pd.Timestamp(BASE, unit="ns", tz="UTC") if window else None
    hi = pd.Timestamp(BASE + 30 * STEP, unit="ns", tz="UTC") if window else None
    flags = quality.check(frame, registry, now=now, start=lo, end=hi)
    gaps = flags[flags["rule_id"] == "gap"]
    got = {(str(p), round(t.value / STEP)) for p, t in zip(
        gaps["point_id"], gaps["end"].where(gaps["point_id"].map(kinds).eq("cumulative"), gaps["start"]),
        strict=True)}
    assert got == _reference_gaps(frame, registry, lo.value if window else None, hi.value if window else None)
    # the fill: interval meters by np.interp over the point's non-negative readings; registers by the delta of
    # the reads on either side per slot between them
    prepared = quality.prepare(frame, registry)
    for row in gaps.itertuples(index=False):
        point = str(row.point_id)
        rows = prepared[prepared["point_id"].astype(str) == point]
        x = rows["ts"].astype("int64").to_numpy(float)
        energy = (rows["value_raw"] * rows["factor"]).to_numpy(float)
        if kinds[point] == "interval":
            target = float(row.start.value)
            good = energy >= 0
            want = np.interp(target, x[good], energy[good]) if good.any() else math.nan
        else:
            target = float(row.end.value)
            later = int(np.searchsorted(x, target))
            want = math.nan
            if 0 < later < x.size:
                rate = (energy[later] - energy[later - 1]) / ((x[later] - x[later - 1]) / STEP)
                want = rate if rate >= 0 else math.nan
        if math.isnan(want):
            assert math.isnan(row.suggested_value), (point, row.start)
        else:
            assert math.isclose(row.suggested_value, want, rel_tol=1e-12, abs_tol=1e-9), (point, row.start)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_daily_energy_equals_a_per_row_sum(data):
    registry = load_registry(tiny_registry_frames(interval=60))
    frame = _series(data, ["P-MAIN", "P-GAS"], {"P-MAIN": "interval", "P-GAS": "interval"})
    daily = quality.daily_energy(frame, registry)
    if frame.empty:
        assert daily.empty
        return
    prepared = quality.prepare(frame, registry)
    energy = (prepared["value_raw"] * prepared["factor"]).where(lambda e: e >= 0)
    day = prepared["ts"].dt.tz_convert(registry.timezone).dt.strftime("%Y-%m-%d")
    want = energy.groupby([prepared["point_id"].astype(str), day]).sum()
    got = daily.set_index(["point_id", "day"])["energy"]
    assert sorted(got.index) == sorted(want.index)
    np.testing.assert_allclose(got.sort_index().to_numpy(), want.sort_index().to_numpy(), rtol=1e-12)
    assert (daily["point_id"] + daily["day"]).is_monotonic_increasing


def test_unit_factor_is_looked_up_per_point_and_unit_and_a_missing_unit_converts_to_nothing():
    registry = load_registry(tiny_registry_frames(interval=60))
    times = pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC")
    readings = pd.DataFrame({"point_id": ["P-MAIN", "P-MAIN", "P-MAIN", "P-GAS", "P-GAS"], "start": times,
                             "end": times + pd.Timedelta(hours=1), "value": [1.0, 2.0, 3.0, 4.0, 5.0],
                             "unit": ["kWh", None, "MWh", "m**3", "kWh"]})
    prepared = quality.prepare(readings, registry).set_index(["point_id", "start"])
    factor = [prepared.loc[(str(p), s), "factor"] for p, s in zip(readings["point_id"], readings["start"],
                                                                  strict=True)]
    assert factor[0] == 1.0 and math.isnan(factor[1]) and factor[2] == 1000.0 and factor[3] == 1.0
    assert math.isnan(factor[4])  # kWh on a gas meter converts to nothing (flagged downstream, never guessed)


@settings(max_examples=150)
@given(data=st.data(), window=st.integers(3, 11))
def test_rolling_median_by_point_equals_a_grouped_rolling_median(data, window):
    sizes = data.draw(st.lists(st.integers(1, 25), min_size=1, max_size=5))
    codes = np.repeat(np.arange(len(sizes)), sizes)
    values = np.array(data.draw(st.lists(st.one_of(st.floats(-1e3, 1e3), st.just(math.nan)), min_size=codes.size,
                                         max_size=codes.size)), dtype=float)
    got = quality._rolling_median_by_point(values, codes, window)
    series = pd.Series(values)
    want = series.groupby(codes).rolling(window, center=True, min_periods=3).median()
    want = pd.Series(want.to_numpy(), index=want.index.get_level_values(-1)).reindex(series.index).to_numpy()
    np.testing.assert_array_equal(got, want)

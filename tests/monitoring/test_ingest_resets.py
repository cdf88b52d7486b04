"""Cumulative registers: a decrease is a rollover only when the corrected delta is plausible; a counter reset
(meter replaced or reset to about 0) carries no energy and is flagged (issue 6 review defect 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake, read_readings
from citycarbon.monitoring.quality import load_rules
from citycarbon.monitoring.registry import load_registry, tce_factors
from citycarbon.units import conversion_factor

try:
    from tests.monitoring.test_lake_fixtures import NOW, uscc
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, uscc

BUDGET_TCE = 120_000.0  # E1's annual budget: a mean rate of about 111 MW of electricity at 当量值


def _registry(register_max: float, budget: str = str(BUDGET_TCE)):
    enterprises = pd.DataFrame([
        {"enterprise_id": "E1", "name": "大连石化示例", "uscc": uscc("91210200MA0000001"), "industry_code": "2511",
         "region": "210211", "tier": "1", "annual_budget_tce": budget, "budget_year": "2024" if budget else ""}])
    points = pd.DataFrame([
        {"point_id": "REG", "enterprise_id": "E1", "energy_type": "electricity", "unit": "MWh",
         "kind": "cumulative", "multiplier": "1", "parent_point_id": "", "interval_minutes": "15",
         "register_max": f"{register_max:g}", "purpose": "main"}])
    return load_registry({"enterprises": enterprises, "points": points})


def _reads(values: list[float], first: str = "2024-01-10T00:00:00+08:00") -> pd.DataFrame:
    ends = pd.Timestamp(first) + pd.to_timedelta(np.arange(len(values)) * 15, unit="min")
    text = [t.isoformat() for t in ends]
    return pd.DataFrame({"point_id": "REG", "start": text, "end": text, "value": values, "unit": "MWh"})


def _stored(lake: Lake) -> pd.DataFrame:
    return read_readings(lake.root).sort_values("end").reset_index(drop=True)


def test_reset_far_below_register_max_is_not_a_rollover(tmp_path):
    """The reviewed case: the old rule added about register_max of energy for a counter reset."""
    registry = _registry(1_000_000.0)
    reads = [500_000.0 + 5.0 * i for i in range(12)] + [0.2, 5.0, 10.0]
    ingest_frame(Lake.open(tmp_path), registry, _reads(reads), source="t", now=NOW)
    stored = _stored(Lake.open(tmp_path))
    assert stored["energy_flag"].tolist() == ["first_read"] + [""] * 11 + ["reset", "", ""]
    assert np.isnan(stored["energy"].iloc[12])
    assert stored["energy"].sum() == pytest.approx(5_000.0 * 11 + 4_800.0 + 5_000.0)  # kWh; nothing phantom


def test_true_rollover_is_kept(tmp_path):
    registry = _registry(10_000.0)
    reads = [9_950.0 + 5.0 * i for i in range(10)] + [0.5, 5.5]  # 9995 → 0.5 wraps: 5.5 MWh
    ingest_frame(Lake.open(tmp_path), registry, _reads(reads), source="t", now=NOW)
    stored = _stored(Lake.open(tmp_path))
    assert stored["energy_flag"].iloc[10] == "rollover"
    assert stored["energy"].iloc[10] == pytest.approx(5_500.0)


def test_without_history_the_bound_is_the_enterprise_mean_rate(tmp_path):
    """No positive delta yet: the rules' multiple × the enterprise's mean rate over the elapsed time."""
    multiple = load_rules().param("counter_reset", "rollover_p99_multiple")
    rate_mwh_per_h = BUDGET_TCE / tce_factors().at["electricity", "tce_per_unit"] / conversion_factor("a", "h") / 1000
    bound = multiple * rate_mwh_per_h * 0.25  # MWh over one 15-minute interval
    register_max = 100_000.0
    flags = []
    for name, previous in (("plausible", register_max - 0.5 * bound), ("implausible", register_max - 3.0 * bound)):
        lake = Lake.open(tmp_path / name)  # corrected delta 0.6 × bound, then 3.1 × bound
        ingest_frame(lake, _registry(register_max), _reads([previous, 0.1 * bound]), source="t", now=NOW)
        flags.append(_stored(lake)["energy_flag"].tolist())
    assert flags == [["first_read", "rollover"], ["first_read", "reset"]]


def test_without_history_or_annual_energy_a_decrease_is_a_reset(tmp_path):
    registry = _registry(100_000.0, budget="")
    ingest_frame(Lake.open(tmp_path), registry, _reads([99_990.0, 3.0]), source="t", now=NOW)
    stored = _stored(Lake.open(tmp_path))
    assert stored["energy_flag"].tolist() == ["first_read", "reset"]
    assert stored["energy"].isna().all()


# ---- property: rollovers are corrected, resets carry no energy and are flagged ----------------------------


@st.composite
def register_series(draw):
    """A register in MWh with true consumption per interval, wrapping at register_max, and counter resets
    placed where a reset cannot pass for a rollover (register_max − previous read beyond any plausible
    delta: 30 × the largest delta and beyond the mean-rate bound)."""
    register_max = float(draw(st.sampled_from([1_000.0, 2_000.0, 5_000.0])))
    deltas = draw(st.lists(st.integers(1_000, 10_000), min_size=8, max_size=40))  # kWh per interval
    consumption = np.asarray(deltas, float) / 1000.0
    start = draw(st.floats(0.0, register_max - 1.0))
    reset_wanted = draw(st.lists(st.integers(1, len(deltas)), max_size=3, unique=True))
    near_zero = draw(st.floats(0.0, 0.5))
    values, resets, level = [start], [], start
    for i, used in enumerate(consumption, start=1):
        previous = values[-1]
        if i in reset_wanted and register_max - previous > 400.0 and previous > 1.0:
            level = near_zero  # meter replaced / reset: this interval's consumption is lost
            resets.append(i)
        else:
            level = (level + used) % register_max
        values.append(round(level, 3))
    split = draw(st.integers(1, len(values) - 1))
    reverse = draw(st.booleans())
    return register_max, values, consumption, resets, split, reverse


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(register_series())
def test_ingested_energy_is_true_consumption_except_flagged_resets(tmp_path_factory, case):
    register_max, values, consumption, resets, split, reverse = case
    registry = _registry(register_max)
    lake = Lake.open(tmp_path_factory.mktemp("resets"))
    reads = _reads(values)
    batches = [reads.iloc[:split], reads.iloc[split:]]
    for batch in reversed(batches) if reverse else batches:  # history arrives in two batches, either order
        ingest_frame(lake, registry, batch, source="t", now=NOW)
    stored = _stored(lake)
    assert len(stored) == len(values)
    flags, energy = stored["energy_flag"].to_numpy(), stored["energy"].to_numpy(float)
    assert flags[0] == "first_read" and np.isnan(energy[0])
    is_reset = np.zeros(len(values), bool)
    is_reset[resets] = True
    assert (flags[1:] == "reset").tolist() == is_reset[1:].tolist()
    assert np.isnan(energy[is_reset]).all()
    counted = ~is_reset[1:]
    expected = np.round(consumption * 1000.0, 6)  # kWh; registers are read to 1 kWh (3 decimals of MWh)
    np.testing.assert_allclose(energy[1:][counted], expected[counted], atol=1.0)
    assert (energy[~np.isnan(energy)] >= 0).all()
    wrapped = np.diff(np.asarray(values)) < 0
    assert ((flags[1:] == "rollover") == (wrapped & counted)).all()

"""Quality and alert functions on a window without readings: typed empty results and "no data" indicators.

Regression: ``citycarbon monitoring quality --date D`` on a day without readings crashed in
``quality._balance_checks`` (an empty daily frame kept object/str columns, and pandas 3 with Arrow strings
refuses ``int / str``). Empty frames come from the lake (Arrow strings), the ingest contract or hand-made
object columns; every public function must accept them all.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from citycarbon.monitoring import alerts, quality
from citycarbon.monitoring.registry import load_registry
from tests.monitoring.conftest import tiny_registry_frames

NOW = pd.Timestamp("2026-01-16T00:00Z")
DAY = "2026-01-15"
DTYPES = {"str": "str", "object": object, "string[pyarrow]": "string[pyarrow]"}


def _empty(text_dtype: object, with_received: bool = False, time_dtype: object = "datetime64[ns, UTC]") -> pd.DataFrame:
    frame = pd.DataFrame({"point_id": pd.Series(dtype=text_dtype), "start": pd.Series(dtype=time_dtype),
                          "end": pd.Series(dtype=time_dtype), "value": pd.Series(dtype=float),
                          "unit": pd.Series(dtype=text_dtype)})
    if with_received:
        frame["received_at"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


@pytest.fixture(scope="module")
def registry():
    return load_registry(tiny_registry_frames(interval=60))


@pytest.mark.parametrize("text_dtype", list(DTYPES.values()), ids=list(DTYPES))
def test_check_on_empty_frames_gives_typed_empty_flags(registry, text_dtype):
    flags = quality.check(_empty(text_dtype), registry, now=NOW)
    assert list(flags.columns) == list(quality.FLAG_COLUMNS)
    assert flags.empty
    assert quality.repairs(flags).empty


@pytest.mark.parametrize("text_dtype", list(DTYPES.values()), ids=list(DTYPES))
def test_check_of_an_expected_day_without_readings_reports_every_slot_as_a_gap(registry, text_dtype):
    lo = pd.Timestamp(DAY).tz_localize(registry.timezone).tz_convert("UTC")
    flags = quality.check(_empty(text_dtype), registry, now=NOW, start=lo, end=lo + pd.Timedelta(days=1))
    assert not flags.empty
    assert set(flags["rule_id"]) == {"gap"}
    assert set(flags["point_id"].astype(str)) == set(registry.points["point_id"])
    # a point with hourly readings has no suggested repair without any neighbour to interpolate from
    assert flags["suggested_value"].isna().all()


@pytest.mark.parametrize("text_dtype", list(DTYPES.values()), ids=list(DTYPES))
def test_daily_energy_on_empty_frames_has_string_ids_and_numeric_sums(registry, text_dtype):
    daily = quality.daily_energy(_empty(text_dtype), registry)
    assert list(daily.columns) == list(quality.DAILY_COLUMNS)
    assert daily.empty
    assert pd.api.types.is_float_dtype(daily["energy"]) and pd.api.types.is_integer_dtype(daily["slots"])
    assert pd.api.types.is_string_dtype(daily["day"])
    # the comparisons callers make must work on it
    assert not (daily["day"] >= "2026-01-01").any()


@pytest.mark.parametrize("text_dtype", list(DTYPES.values()), ids=list(DTYPES))
def test_national_indicators_without_readings_say_no_data(registry, text_dtype):
    monthly = pd.DataFrame({"enterprise_id": ["ENT1"], "month": ["2026-01"], "energy_tce": [100.0]})
    out = quality.national_indicators(_empty(text_dtype, with_received=True), registry, DAY, now=NOW,
                                      monthly_reports=monthly)
    row = out.set_index("enterprise_id").loc["ENT1"]
    assert row["expected_slots"] == 4 * 24
    assert row["received_slots"] == 0
    assert row["completeness"] == 0.0 and not row["completeness_ok"]
    assert row["timeliness"] == 0.0 and not row["timeliness_ok"]
    assert math.isnan(row["daily_vs_monthly_deviation"])


def test_score_of_no_flags_and_no_truth_keeps_its_columns(registry):
    truth = pd.DataFrame({"point_id": pd.Series(dtype="str"), "kind": pd.Series(dtype="str"),
                          "end": pd.Series(dtype="datetime64[ns, UTC]")})
    scores = quality.score(quality.check(_empty("str"), registry, now=NOW), truth)
    assert list(scores.columns) == ["fault_kind", "truth", "flagged", "true_positive", "precision", "recall"]
    assert scores.empty


@pytest.mark.parametrize("text_dtype", list(DTYPES.values()), ids=list(DTYPES))
def test_alerts_without_readings_are_completeness_and_silence_only(registry, text_dtype):
    empty = _empty(text_dtype)
    daily = quality.daily_energy(empty, registry)
    assert alerts.budget_alerts(daily, registry, date=DAY).empty
    assert alerts.product_alerts(daily, registry, date=DAY).empty
    out = alerts.alerts(empty, registry, date=DAY, now=NOW)
    assert list(out.columns) == list(alerts.ALERT_COLUMNS)
    # no reading at all: completeness below the threshold and silent points; no budget or product alert
    assert set(out["kind"]) == {"completeness", "silence"} and set(out["enterprise_id"]) == {"ENT1"}
    assert alerts.monthly_energy_for_nowcast(daily, registry).empty


@settings(max_examples=15, deadline=None)
@given(text=st.sampled_from(list(DTYPES.values())), received=st.booleans(),
       time_dtype=st.sampled_from(["datetime64[ns, UTC]", "datetime64[us, UTC]", object]),
       day=st.dates(min_value=pd.Timestamp("2025-01-01").date(), max_value=pd.Timestamp("2027-12-31").date()))
def test_empty_input_never_crashes_and_completeness_is_zero(registry, text, received, time_dtype, day):
    empty = _empty(text, with_received=received, time_dtype=time_dtype)
    now = pd.Timestamp(day).tz_localize("UTC") + pd.Timedelta(days=2)
    assert quality.check(empty, registry, now=now).empty
    out = quality.national_indicators(empty, registry, day.isoformat(), now=now)
    assert (out["completeness"] == 0).all() and (out["received_slots"] == 0).all()


def test_cli_quality_of_a_day_without_readings(tmp_path):
    """The reported reproduction: simulate 3 days, ingest, ask for a day before them."""
    from citycarbon.cli import app

    runner = CliRunner()
    folder = tmp_path / "city"
    steps = [["monitoring", "simulate", "--units", "2", "--points", "2", "--days", "2", "--out", str(folder)],
             ["monitoring", "ingest", str(folder / "readings"), "--registry", str(folder), "--lake",
              str(folder / "lake")]]
    for step in steps:
        result = runner.invoke(app, step)
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["monitoring", "quality", "--date", "2020-06-01", "--registry", str(folder),
                                 "--lake", str(folder / "lake"), "--now", "2020-06-02T12:00:00+08:00",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [row["completeness"] for row in report["indicators"]] == [0.0, 0.0]
    assert all(row["completeness_ok"] is False for row in report["indicators"])
    assert report["flags_by_rule"] and {r["rule_id"] for r in report["flags_by_rule"]} == {"gap"}

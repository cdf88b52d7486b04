"""Ingest: validation with reasons, normalisation, idempotency and revisions, cumulative registers, files."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.monitoring.ingest import ingest_files, ingest_frame, iter_reading_file
from citycarbon.monitoring.lake import Lake, content_frame, read_readings

try:
    from tests.monitoring.test_lake_fixtures import NOW, interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, interval_rows, make_registry


@pytest.fixture(scope="module")
def registry():
    return make_registry()


@pytest.fixture
def lake(tmp_path):
    return Lake.open(tmp_path / "lake")


def snapshot(lake: Lake) -> tuple:
    """Everything a refused batch must leave unchanged: content, parts and batches of the ledger, files."""
    with sqlite3.connect(lake.ledger_path) as con:
        ledger = (con.execute("SELECT * FROM parts ORDER BY path").fetchall(),
                  con.execute("SELECT * FROM batches ORDER BY batch_id").fetchall(),
                  con.execute("SELECT * FROM agg_parts ORDER BY path, month, enterprise_id").fetchall())
    files = sorted(str(p.relative_to(lake.root)) for p in lake.root.rglob("*.parquet"))
    return content_frame(lake).to_csv(), ledger, files


def one(point="E1-EL", start="2024-01-10T00:00:00+08:00", end="2024-01-10T00:15:00+08:00", value=1.0,
        unit="kWh"):
    return {"point_id": point, "start": start, "end": end, "value": value, "unit": unit}


def test_energy_applies_multiplier_and_unit_conversion(lake, registry):
    rows = pd.DataFrame([one(value=1.5, unit="MWh"), one(point="E1-NG", end="2024-01-10T01:00:00+08:00",
                                                          value=2.0, unit="10^4 m3"),
                         one(point="E2-HEAT", end="2024-01-10T01:00:00+08:00", value=500.0, unit="MJ")])
    report = ingest_frame(lake, registry, rows, source="t", now=NOW)
    assert report.accepted == 3 and report.rejected == 0
    stored = read_readings(lake.root).set_index("point_id")
    assert stored.at["E1-EL", "energy"] == pytest.approx(1.5 * 1000 * 2)  # MWh → kWh, CT ratio 2
    assert stored.at["E1-NG", "energy"] == pytest.approx(20000.0)  # 10^4 m3 → m**3
    assert stored.at["E2-HEAT", "energy"] == pytest.approx(0.5)  # MJ → GJ
    assert stored.at["E1-EL", "unit_raw"] == "MWh" and stored.at["E1-EL", "value_raw"] == 1.5
    assert stored.at["E1-EL", "start"] == pd.Timestamp("2024-01-09T16:00:00Z")


@pytest.mark.parametrize(("row", "field", "reason"), [
    (one(point="NOPE"), "point_id", "unknown point 'NOPE'"),
    (one(point=12), "point_id", "wrong type"),
    (one(start="2024-01-10T00:00:00"), "start", "no UTC offset"),
    (one(start="yesterday+08:00"), "start", "not an ISO 8601 timestamp"),
    (one(end="2024-01-10T00:00:00+08:00"), "end", "end must be after start"),
    (one(end="2024-01-10T00:30:00+08:00"), "end", "does not match the point's interval_minutes 15"),
    (one(value="12.5"), "value", "wrong type"),
    (one(value=True), "value", "wrong type"),
    (one(value=float("nan")), "value", "NaN"),
    (one(unit="m**3"), "unit", "cannot be converted to kWh"),
    (one(unit="furlong"), "unit", "cannot be converted"),
    (one(unit=None), "unit", "missing unit"),
])
def test_bad_rows_are_rejected_with_reason_and_change_nothing(lake, registry, row, field, reason):
    ingest_frame(lake, registry, interval_rows("E2-EL", "2024-01-10T00:00", 2, 15), source="t", now=NOW)
    before = snapshot(lake)
    report = ingest_frame(lake, registry, pd.DataFrame([row]), source="t", now=NOW)
    assert (report.accepted, report.rejected, report.batch_id) == (0, 1, None)
    problem = report.rejected_rows[0]
    assert problem["row"] == 1 and problem["field"] == field and reason in problem["reason"]
    assert snapshot(lake) == before


def test_another_enterprises_point_reads_like_an_unknown_one(lake, registry):
    rows = pd.DataFrame([one(point="E2-EL"), one(point="NOPE"), one()])
    report = ingest_frame(lake, registry, rows, source="t", enterprise_id="E1", now=NOW)
    assert report.accepted == 1 and report.rejected == 2
    reasons = [r["reason"] for r in report.rejected_rows]
    assert reasons == ["point 'E2-EL' is not a registered point of enterprise 'E1'",
                       "point 'NOPE' is not a registered point of enterprise 'E1'"]
    assert set(read_readings(lake.root)["point_id"]) == {"E1-EL"}


def test_good_rows_of_a_mixed_batch_are_stored_and_rows_are_numbered(lake, registry):
    rows = pd.concat([interval_rows("E1-EL", "2024-01-10T00:00", 3, 15), pd.DataFrame([one(point="X")])])
    report = ingest_frame(lake, registry, rows, source="t", now=NOW, row_offset=100)
    assert report.accepted == 3 and report.rejected_rows[0]["row"] == 104


def test_missing_column_is_an_input_error(lake, registry):
    with pytest.raises(InputError, match="unit"):
        ingest_frame(lake, registry, pd.DataFrame([{k: v for k, v in one().items() if k != "unit"}]),
                     source="t", now=NOW)


def test_same_value_is_duplicate_and_different_value_a_revision(lake, registry):
    rows = interval_rows("E1-EL", "2024-01-10T00:00", 4, 15, values=[1.0, 2.0, 3.0, 4.0])
    first = ingest_frame(lake, registry, rows, source="t", now=NOW)
    assert (first.accepted, first.duplicate, first.revised) == (4, 0, 0)
    # same energy in another unit is the same value
    same_in_mwh = rows.iloc[[0]].assign(value=0.001, unit="MWh")
    assert ingest_frame(lake, registry, same_in_mwh, source="t", now=NOW).duplicate == 1
    changed = rows.assign(value=[1.0, 2.5, 3.0, 4.5])
    second = ingest_frame(lake, registry, changed, source="t", now=NOW)
    assert (second.accepted, second.duplicate, second.revised) == (0, 2, 2)
    # re-sending the original batch (an earlier revision's values) changes nothing
    third = ingest_frame(lake, registry, rows, source="t", now=NOW)
    assert third.duplicate == 4 and third.batch_id is None
    every = read_readings(lake.root, latest_revision_only=False)
    assert len(every) == 6 and every["revision"].max() == 1
    assert read_readings(lake.root)["value_raw"].tolist() == [1.0, 2.5, 3.0, 4.5]


def test_in_batch_repeats(lake, registry):
    rows = pd.DataFrame([one(value=1.0), one(value=1.0), one(value=2.0)])
    report = ingest_frame(lake, registry, rows, source="t", now=NOW)
    assert (report.accepted, report.duplicate, report.revised) == (1, 1, 1)
    assert read_readings(lake.root, latest_revision_only=False)["value_raw"].tolist() == [1.0, 2.0]


def test_late_and_out_of_order_rows_are_normal(lake, registry):
    rows = interval_rows("E1-EL", "2024-01-10T00:00", 8, 15)
    ingest_frame(lake, registry, rows.iloc[[5, 6, 7]], source="t", now=NOW)
    report = ingest_frame(lake, registry, rows.iloc[[3, 0, 4, 2, 1]], source="t", now=NOW)
    assert report.accepted == 5 and report.rejected == 0
    assert read_readings(lake.root)["start"].is_monotonic_increasing


def test_received_at_column_is_kept(lake, registry):
    rows = pd.DataFrame([one() | {"received_at": "2024-01-10T00:16:00+08:00"}])
    ingest_frame(lake, registry, rows, source="t", now=NOW)
    assert read_readings(lake.root)["received_at"].iloc[0] == pd.Timestamp("2024-01-09T16:16:00Z")


def cumulative(times_values: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"point_id": "E2-REG", "start": f"2024-01-10T{t}:00+08:00",
                          "end": f"2024-01-10T{t}:00+08:00", "value": v, "unit": "kWh"} for t, v in times_values])


def test_cumulative_register_is_differenced_with_rollover(lake, registry):
    report = ingest_frame(lake, registry, cumulative([("00:00", 99_990.0), ("00:15", 99_998.0),
                                                      ("00:30", 6.0), ("00:45", 16.0)]), source="t", now=NOW)
    assert report.accepted == 4
    stored = read_readings(lake.root)
    assert stored["energy_flag"].tolist() == ["first_read", "", "rollover", ""]
    assert stored["energy"].tolist()[1:] == [8.0, 8.0, 10.0]  # 100000 − 99998 + 6 = 8
    assert stored["start"].tolist()[1:] == stored["end"].tolist()[:-1]


def test_cumulative_decrease_without_register_max_is_a_flagged_reset(lake, registry):
    points = registry.points.copy()
    points.loc[points["point_id"] == "E2-REG", "register_max"] = np.nan
    no_max = type(registry)(registry.enterprises, points, registry.products)
    ingest_frame(lake, no_max, cumulative([("00:00", 500.0), ("00:15", 510.0), ("00:30", 3.0)]), source="t",
                 now=NOW)
    stored = read_readings(lake.root)
    assert stored["energy_flag"].tolist() == ["first_read", "", "reset"]
    assert np.isnan(stored["energy"].iloc[2])  # never a silent negative
    assert (stored["energy"].dropna() >= 0).all()


def test_late_cumulative_read_rederives_the_following_interval(lake, registry):
    ingest_frame(lake, registry, cumulative([("00:00", 100.0), ("00:30", 140.0)]), source="t", now=NOW)
    report = ingest_frame(lake, registry, cumulative([("00:15", 125.0)]), source="t", now=NOW)
    assert (report.accepted, report.rederived) == (1, 1)
    latest = read_readings(lake.root)
    assert latest["energy"].tolist()[1:] == [25.0, 15.0]
    assert latest["revision"].tolist() == [0, 0, 1]
    again = ingest_frame(lake, registry, cumulative([("00:00", 100.0), ("00:15", 125.0), ("00:30", 140.0)]),
                         source="t", now=NOW)
    assert again.duplicate == 3 and again.batch_id is None


def test_conflicting_cumulative_reads_in_one_batch_are_rejected(lake, registry):
    report = ingest_frame(lake, registry, cumulative([("00:00", 1.0), ("00:00", 2.0), ("00:15", 3.0)]),
                          source="t", now=NOW)
    assert report.accepted == 1 and report.rejected == 2
    assert "different value" in report.rejected_rows[0]["reason"]


# ---- property: re-ingesting any batch, in any order, any number of times, changes nothing -------------

BATCHES = [
    interval_rows("E1-EL", "2024-01-10T00:00", 6, 15, values=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    interval_rows("E1-EL", "2024-01-10T01:30", 4, 15, values=[7.0, 8.0, 9.0, 10.0]),
    interval_rows("E1-EL", "2024-01-10T00:30", 2, 15, values=[30.0, 40.0]),  # revises two rows of batch 0
    interval_rows("E2-HEAT", "2024-01-31T22:00", 4, 60, unit="GJ"),  # crosses a UTC month boundary
    pd.concat([interval_rows("E1-NG", "2024-01-10T00:00", 2, 60, unit="m**3"), pd.DataFrame([one(point="X")])]),
]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, len(BATCHES) - 1), min_size=1, max_size=8))
def test_reingesting_any_batches_leaves_the_lake_content_unchanged(tmp_path_factory, registry, resend):
    lake = Lake.open(tmp_path_factory.mktemp("prop"))
    for batch in BATCHES:
        ingest_frame(lake, registry, batch, source="t", now=NOW)
    before = snapshot(lake)
    for index in resend:
        report = ingest_frame(lake, registry, BATCHES[index], source="t", now=NOW)
        assert report.accepted == report.revised == 0
    assert snapshot(lake) == before


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(range(4)))
def test_batches_with_distinct_keys_give_the_same_content_in_any_order(tmp_path_factory, registry, order):
    disjoint = [BATCHES[i] for i in (0, 1, 3, 4)]
    reference = Lake.open(tmp_path_factory.mktemp("ref"))
    for batch in disjoint:
        ingest_frame(reference, registry, batch, source="t", now=NOW)
    shuffled = Lake.open(tmp_path_factory.mktemp("shuffled"))
    for i in order:
        ingest_frame(shuffled, registry, disjoint[i], source="t", now=NOW)
    pd.testing.assert_frame_equal(content_frame(shuffled), content_frame(reference))


# ---- files -----------------------------------------------------------------------------------------

def test_csv_parquet_and_excel_files_ingest_the_same_content(tmp_path, registry):
    rows = pd.concat([interval_rows("E1-EL", "2024-01-10T00:00", 10, 15),
                      interval_rows("E2-HEAT", "2024-01-10T00:00", 3, 60, unit="GJ")], ignore_index=True)
    rows.to_csv(tmp_path / "r.csv", index=False)
    rows.to_parquet(tmp_path / "r.parquet")
    rows.to_excel(tmp_path / "r.xlsx", index=False)
    contents = []
    for name in ("r.csv", "r.parquet", "r.xlsx"):
        lake = Lake.open(tmp_path / f"lake-{name}")
        report = ingest_files(lake, registry, [tmp_path / name], chunk_rows=4, now=NOW)[str(tmp_path / name)]
        assert report.accepted == 13 and report.rows == 13
        assert len(lake.batches()) == 4  # 13 rows in chunks of 4
        contents.append(content_frame(lake))
    pd.testing.assert_frame_equal(contents[0], contents[1])
    pd.testing.assert_frame_equal(contents[0], contents[2])


def test_csv_with_a_word_in_the_value_column_rejects_that_row_only(tmp_path, registry):
    rows = interval_rows("E1-EL", "2024-01-10T00:00", 3, 15)
    rows["value"] = rows["value"].astype(object)
    rows.loc[1, "value"] = "n/a"
    rows.to_csv(tmp_path / "r.csv", index=False)
    lake = Lake.open(tmp_path / "lake")
    report = ingest_files(lake, registry, [tmp_path / "r.csv"], now=NOW)[str(tmp_path / "r.csv")]
    assert report.accepted == 2 and report.rejected_rows == [
        {"row": 2, "point_id": "E1-EL", "field": "value", "reason": "wrong type: expected a number"}]


def test_file_errors_name_the_file(tmp_path):
    (tmp_path / "r.csv").write_text("point_id,start,end,value\n")
    with pytest.raises(InputError, match=r"r\.csv.*unit"):
        list(iter_reading_file(tmp_path / "r.csv"))
    with pytest.raises(InputError, match="unsupported file type"):
        list(iter_reading_file(tmp_path / "r.json" if (tmp_path / "r.json").write_text("{}") else None))


def test_readings_from_the_future_are_rejected_with_a_reason(lake, registry):
    """An interval ending more than the margin (5 min) after the ingest clock is refused on ``end``; one ending
    within the margin is accepted (meter clocks drift by seconds); the refused row changes nothing."""
    clock = pd.Timestamp("2024-01-10T00:00:00+08:00")
    rows = pd.DataFrame([one(start="2024-01-09T23:45:00+08:00", end="2024-01-10T00:00:00+08:00"),
                         one(start="2024-01-09T23:50:00+08:00", end="2024-01-10T00:05:00+08:00"),  # at the margin
                         one(start="2024-01-09T23:51:00+08:00", end="2024-01-10T00:06:00+08:00"),
                         one(start="2029-12-31T23:45:00+08:00", end="2030-01-01T00:00:00+08:00")])
    report = ingest_frame(lake, registry, rows, source="t", now=clock)
    assert (report.accepted, report.rejected) == (2, 2)
    assert [(r["row"], r["field"]) for r in report.rejected_rows] == [(3, "end"), (4, "end")]
    assert "2029-12-31T16:00:00Z" in report.rejected_rows[1]["reason"]
    assert "from the future" in report.rejected_rows[1]["reason"]
    assert "5 min after the server's clock (2024-01-09T16:00:00Z)" in report.rejected_rows[1]["reason"]
    assert read_readings(lake.root)["end"].max() == pd.Timestamp("2024-01-09T16:05:00Z")


def test_the_future_margin_is_a_parameter_and_the_default_clock_is_the_real_one(lake, registry):
    from datetime import timedelta

    ahead = pd.Timestamp.now(tz="UTC").floor("15min") + pd.Timedelta(hours=1)
    row = pd.DataFrame([one(start=(ahead - pd.Timedelta(minutes=15)).isoformat(), end=ahead.isoformat())])
    assert ingest_frame(lake, registry, row, source="t").rejected == 1  # the real clock, 5 min
    assert ingest_frame(lake, registry, row, source="t", future_margin=timedelta(hours=2)).accepted == 1


def test_a_cumulative_read_from_the_future_is_rejected(lake, registry):
    clock = pd.Timestamp("2024-01-10T00:00:00+08:00")
    rows = pd.DataFrame([{"point_id": "E2-REG", "start": t, "end": t, "value": v, "unit": "kWh"}
                         for t, v in (("2024-01-09T23:45:00+08:00", 100.0), ("2024-01-12T00:00:00+08:00", 150.0))])
    report = ingest_frame(lake, registry, rows, source="t", now=clock)
    assert report.accepted == 1 and [r["field"] for r in report.rejected_rows] == ["end"]

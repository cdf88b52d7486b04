"""Hourly aggregates kept by the lake writer add up to the latest revisions of the readings (issue 6 rollups)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from citycarbon.errors import InputError
from citycarbon.monitoring.aggregates import contributions, hourly
from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake, ledger
from citycarbon.monitoring.registry import load_registry
from citycarbon.monitoring.rollup import rollup, scan_duckdb

from .conftest import tiny_registry_frames

#: the ingest clock of the tests: after every reading they write (ingest rejects readings ending more than 5 min
#: after its clock as readings from the future)
NOW = pd.Timestamp("2024-06-01T00:00:00Z")
# 23:00 local on 31 January: the grid crosses the local month boundary (00:00+08:00) and the UTC one (08:00+08:00)
BASE = pd.Timestamp("2024-01-31T23:00:00+08:00")
SLOTS = 40


@pytest.fixture(scope="module")
def registry():
    return load_registry(tiny_registry_frames(interval=15, kind="cumulative"))


def _row(point: str, slot: int, value: float) -> dict:
    end = BASE + pd.Timedelta(minutes=15 * (slot + 1))
    start = end if point == "P-MAIN" else end - pd.Timedelta(minutes=15)  # P-MAIN is a cumulative register
    return {"point_id": point, "start": start.isoformat(), "end": end.isoformat(), "value": value, "unit": "kWh"
            if point != "P-GAS" else "m**3"}


readings = st.tuples(st.sampled_from(["P-MAIN", "P-SUB1", "P-GAS"]), st.integers(0, SLOTS - 1),
                     st.sampled_from([0.0, 1.0, 2.5, 40.0, 100.0, 7.25]))
batches = st.lists(st.lists(readings, min_size=1, max_size=14), min_size=1, max_size=5)


def _scan(lake: Lake, source: str, period: str, timezone: str = "Asia/Shanghai") -> pd.DataFrame:
    frame = scan_duckdb(lake, period=period, timezone=timezone, source=source)
    return frame.sort_values(["point_id", "period"]).reset_index(drop=True)


def _same_sums(lake: Lake, periods: tuple[str, ...] = ("hour", "day", "month"), timezone: str = "Asia/Shanghai"
               ) -> None:
    for period in periods:
        pd.testing.assert_frame_equal(_scan(lake, "aggregates", period, timezone),
                                      _scan(lake, "readings", period, timezone),
                                      check_exact=False, rtol=1e-12, atol=1e-9)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batches)
@example([[("P-MAIN", 0, 0.0), ("P-MAIN", 0, 1.0)]])  # both reads refused: a lake without parts
def test_aggregates_equal_the_latest_revisions_after_any_sequence_of_batches(tmp_path_factory, registry, sent):
    """Duplicates, revisions, late and out-of-order reads, re-derived cumulative reads, resets: the sums the
    writer keeps per hour equal a scan of the readings' latest revisions, for every period; also after
    compaction (aggregate files merged) and after a rebuild from the readings."""
    lake = Lake.open(tmp_path_factory.mktemp("agg") / "lake")
    for batch in sent:
        ingest_frame(lake, registry, pd.DataFrame([_row(*r) for r in batch]), source="t", now=NOW)
    assert lake.aggregates_current() and lake.aggregates_day_offset() is None
    _same_sums(lake)
    # compaction: one file per UTC month, summed by local day (Asia/Shanghai, +480 min)
    lake.compact()
    assert len(lake.aggregate_paths()) <= 2
    assert lake.aggregates_day_offset() == (480 if lake.parts() else None)  # a lake of rejected rows has no months
    _same_sums(lake, ("day", "month"))
    if lake.parts():
        with pytest.raises(InputError):  # local days cannot give hours: the readings are scanned for those
            _scan(lake, "aggregates", "hour")
        assert scan_duckdb(lake, period="hour", timezone="Asia/Shanghai").attrs["source"] == "readings"
    # later batches add hourly files; both kinds add up by local day
    ingest_frame(lake, registry, pd.DataFrame([_row("P-SUB1", 3, 55.0), _row("P-MAIN", 30, 999.0)]), source="t",
                 now=NOW)
    _same_sums(lake, ("day", "month"))
    lake.rebuild_aggregates(timezone=None)  # hourly files from the readings
    assert lake.aggregates_day_offset() is None
    _same_sums(lake)
    lake.rebuild_aggregates()
    _same_sums(lake, ("day", "month"))


def test_rollup_reads_aggregates_when_current_and_readings_otherwise(tmp_path, registry):
    lake = Lake.open(tmp_path / "lake")
    rows = pd.DataFrame([_row("P-SUB1", slot, 2.0) for slot in range(8)] +
                        [_row("P-MAIN", slot, 10.0 * slot) for slot in range(8)])
    ingest_frame(lake, registry, rows, source="t", now=NOW)
    result = rollup(lake, registry, period="day", by="point")
    assert result.provenance.parameters["read"] == "aggregates"
    readings = rollup(lake, registry, period="day", by="point", source="readings")
    assert readings.provenance.parameters["read"] == "readings"
    pd.testing.assert_frame_equal(result.frame, readings.frame, check_exact=False, rtol=1e-12)
    # P-SUB1: 8 quarter hours of 2 kWh; P-MAIN: 7 differences of 10 kWh (the first read has no energy)
    energy = result.frame.groupby("point_id")["energy"].sum()
    assert energy["P-SUB1"] == pytest.approx(16.0) and energy["P-MAIN"] == pytest.approx(70.0)
    # bounds that are not whole hours: the readings are scanned
    partial = rollup(lake, registry, period="day", by="point", start="2024-01-31T23:10", end="2024-02-01T01:00")
    assert partial.provenance.parameters["read"] == "readings"


def test_a_lake_without_aggregates_is_scanned_until_rebuilt(tmp_path, registry):
    lake = Lake.open(tmp_path / "lake")
    ingest_frame(lake, registry, pd.DataFrame([_row("P-SUB1", slot, 1.0) for slot in range(4)]), source="t",
                 now=NOW)
    with lake._transaction() as con:  # as a lake written before aggregates existed
        con.execute(delete(ledger.meta).where(ledger.meta.c.key == "aggregates"))
        con.execute(delete(ledger.agg_parts))
    assert not Lake.open(lake.root).aggregates_current()
    assert rollup(lake, registry, period="hour", by="point").provenance.parameters["read"] == "readings"
    summary = lake.rebuild_aggregates()
    assert summary["aggregate_files"] == 1 and summary["day_offset_minutes"] == 480 and lake.aggregates_current()
    assert rollup(lake, registry, period="day", by="point").provenance.parameters["read"] == "aggregates"
    assert rollup(lake, registry, period="hour", by="point").provenance.parameters["read"] == "readings"
    _same_sums(lake, ("day", "month"))


def test_contributions_subtract_the_superseded_top_revision():
    t = pd.Timestamp("2024-01-01T00:00Z")
    stored = pd.DataFrame({"point_id": ["A", "A"], "enterprise_id": "E", "start": [t, t],
                           "end": [t + pd.Timedelta("15min")] * 2, "energy": [5.0, 6.0], "revision": [0, 1]})
    new = pd.DataFrame({"point_id": ["A", "A"], "enterprise_id": "E", "start": [t, t],
                        "end": [t + pd.Timedelta("15min")] * 2, "energy": [7.0, 9.0], "revision": [2, 3]})
    signed = contributions(new, stored)
    # only the new top (revision 3) counts; only the old top (revision 1) is taken away
    assert sorted(zip(signed["energy"], signed["sign"], strict=True)) == [(6.0, -1), (9.0, 1)]
    table = hourly(signed).to_pandas()
    assert table["energy"].tolist() == [3.0] and table["readings"].tolist() == [0] \
        and table["energy_n"].tolist() == [0]


def test_hourly_sums_match_a_groupby_on_random_rows():
    rng = np.random.default_rng(3)
    n = 5_000
    start = pd.Timestamp("2024-01-01T00:00Z") + pd.to_timedelta(rng.integers(0, 48 * 4, n) * 15, unit="min")
    energy = np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 3.0, n))
    frame = pd.DataFrame({"point_id": rng.choice(["A", "B", "C"], n), "enterprise_id": "E", "start": start,
                          "energy": energy, "sign": rng.choice(np.array([1, -1], dtype=np.int8), n)})
    table = hourly(frame).to_pandas()
    expected = frame.assign(hour=frame["start"].dt.floor("h"), e=frame["energy"].fillna(0) * frame["sign"],
                            en=frame["energy"].notna() * frame["sign"]).groupby(["point_id", "hour"]).agg(
        energy=("e", "sum"), energy_n=("en", "sum"), readings=("sign", "sum")).reset_index()
    expected = expected[(expected["readings"] != 0) | (expected["energy_n"] != 0) | (expected["energy"] != 0)]
    got = table.sort_values(["point_id", "hour"]).reset_index(drop=True)
    expected = expected.sort_values(["point_id", "hour"]).reset_index(drop=True)
    assert len(got) == len(expected)
    np.testing.assert_allclose(got["energy"], expected["energy"], rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(got["readings"], expected["readings"])
    np.testing.assert_array_equal(got["energy_n"], expected["energy_n"])


def test_cli_compact_and_rebuild_aggregates(tmp_path, registry):
    import json

    from typer.testing import CliRunner

    from citycarbon.cli import app

    lake = Lake.open(tmp_path / "lake")
    for slot in range(3):
        ingest_frame(lake, registry, pd.DataFrame([_row("P-SUB1", slot, 1.5)]), source="t", now=NOW)
    assert len(lake.aggregate_paths()) == 3  # one hourly file per batch
    runner = CliRunner()
    result = runner.invoke(app, ["monitoring", "compact", "--lake", str(lake.root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["aggregate_files_replaced"] == 3
    assert len(lake.aggregate_paths()) == 1 and lake.aggregates_day_offset() == 480
    result = runner.invoke(app, ["monitoring", "rebuild-aggregates", "--lake", str(lake.root), "--timezone", "UTC",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["day_offset_minutes"] == 0
    _same_sums(lake, ("day", "month"), timezone="UTC")

"""CLI: ``citycarbon monitoring ingest|rollup|lake-info|compact`` end to end on a literal registry."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app

try:
    from tests.monitoring.test_lake_fixtures import interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import interval_rows, make_registry


def test_ingest_rollup_info_compact(tmp_path):
    registry = tmp_path / "registry"
    make_registry().write(registry)
    rows = pd.concat([interval_rows("E1-EL", "2024-01-10T00:00", 8, 15),
                      interval_rows("E2-HEAT", "2024-01-10T00:00", 2, 60, unit="GJ")], ignore_index=True)
    rows.loc[len(rows)] = {"point_id": "NOPE", "start": "2024-01-10T00:00:00+08:00",
                           "end": "2024-01-10T00:15:00+08:00", "value": 1.0, "unit": "kWh"}
    (tmp_path / "in").mkdir()
    rows.to_csv(tmp_path / "in" / "readings.csv", index=False)
    lake = tmp_path / "lake"
    runner = CliRunner()
    common = ["--registry", str(registry), "--lake", str(lake)]
    result = runner.invoke(app, ["monitoring", "ingest", str(tmp_path / "in" / "readings.csv"), *common, "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[str(tmp_path / "in" / "readings.csv")]
    assert (report["accepted"], report["rejected"]) == (10, 1)
    assert report["rejected_rows"][0]["reason"] == "unknown point 'NOPE'"
    again = runner.invoke(app, ["monitoring", "ingest", str(tmp_path / "in"), *common, "-f", "json"])
    assert json.loads(again.stdout)[str(tmp_path / "in" / "readings.csv")]["duplicate"] == 10
    rollup = runner.invoke(app, ["monitoring", "rollup", "--period", "day", "--by", "enterprise", *common,
                                 "-f", "json"])
    assert rollup.exit_code == 0, rollup.output
    body = json.loads(rollup.stdout)
    assert {(r["enterprise_id"], r["energy_type"]) for r in body["data"]} == {("E1", "electricity"), ("E2", "heat")}
    assert body["meta"]["factors"]
    csv = runner.invoke(app, ["monitoring", "rollup", "--period", "month", "--by", "district", *common, "-f", "csv"])
    assert csv.stdout.splitlines()[0].startswith("period,region,energy_type,energy")
    info = runner.invoke(app, ["monitoring", "lake-info", "--lake", str(lake), "-f", "json"])
    assert json.loads(info.stdout)["rows"] == 10
    compact = runner.invoke(app, ["monitoring", "compact", "--lake", str(lake), "-f", "json"])
    assert compact.exit_code == 0
    bad = runner.invoke(app, ["monitoring", "rollup", "--period", "week", *common])
    assert bad.exit_code == 2 and "period" in bad.output
    missing = runner.invoke(app, ["monitoring", "ingest", str(tmp_path / "none.csv"), *common])
    assert missing.exit_code == 2 and "file not found" in missing.output


def test_nowcast_feed_gives_monthly_rows_the_tracking_module_accepts(tmp_path):
    """The key units' monthly tce (main meters only) as monthly.csv rows; the file passes check_monthly and its
    values equal the rollup's tce of the main meters."""
    from citycarbon.tracking.nowcast import check_monthly

    registry = tmp_path / "registry"
    make_registry().write(registry)
    rows = pd.concat([interval_rows("E1-EL", "2024-01-31T23:00", 8, 15),  # across the month's end
                      interval_rows("E2-HEAT", "2024-02-10T00:00", 3, 60, unit="GJ")], ignore_index=True)
    rows.to_csv(tmp_path / "readings.csv", index=False)
    runner = CliRunner()
    common = ["--registry", str(registry), "--lake", str(tmp_path / "lake")]
    assert runner.invoke(app, ["monitoring", "ingest", str(tmp_path / "readings.csv"), *common]).exit_code == 0
    out = tmp_path / "feed" / "monthly.csv"
    result = runner.invoke(app, ["monitoring", "nowcast-feed", "--year", "2024", "--out", str(out), *common,
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    feed = pd.read_csv(out)
    assert list(feed.columns) == ["year", "month", "region", "variable", "value", "unit", "status", "source"]
    check_monthly(feed, str(out))
    assert set(feed["variable"]) == {"key_unit_energy_tce"} and set(feed["region"]) == {210200}
    assert feed["month"].tolist() == [1, 2]
    expected = json.loads(runner.invoke(app, ["monitoring", "rollup", "--period", "month", "--by", "enterprise",
                                              *common, "-f", "json"]).stdout)["data"]
    by_month: dict[str, float] = {}
    for row in expected:
        by_month[row["period"]] = by_month.get(row["period"], 0.0) + row["tce_calorific"]
    assert feed["value"].tolist() == pytest.approx([by_month["2024-01"], by_month["2024-02"]])
    assert [r["enterprises"] for r in body["rows"]] == [1, 2]
    empty = runner.invoke(app, ["monitoring", "nowcast-feed", "--year", "2023", *common, "-f", "json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout)["rows"] == []


def test_ingest_rejects_readings_from_the_future_unless_the_backfill_gives_its_clock(tmp_path):
    registry = tmp_path / "registry"
    make_registry().write(registry)
    ahead = (pd.Timestamp.now(tz="Asia/Shanghai") + pd.Timedelta(days=2)).strftime("%Y-%m-%dT00:00")
    interval_rows("E1-EL", ahead, 4, 15).to_csv(tmp_path / "future.csv", index=False)
    common = ["--registry", str(registry), "--lake", str(tmp_path / "lake"), "-f", "json"]
    runner = CliRunner()
    result = runner.invoke(app, ["monitoring", "ingest", str(tmp_path / "future.csv"), *common])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[str(tmp_path / "future.csv")]
    assert (report["accepted"], report["rejected"]) == (0, 4)
    assert {r["field"] for r in report["rejected_rows"]} == {"end"}
    later = (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=3)).isoformat()
    backfill = runner.invoke(app, ["monitoring", "ingest", str(tmp_path / "future.csv"), "--now", later, *common])
    assert json.loads(backfill.stdout)[str(tmp_path / "future.csv")]["accepted"] == 4

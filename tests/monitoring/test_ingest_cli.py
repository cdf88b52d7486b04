"""CLI: ``citycarbon monitoring ingest|rollup|lake-info|compact`` end to end on a literal registry."""

from __future__ import annotations

import json

import pandas as pd
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

"""'citycarbon monitoring simulate|quality|alerts|registry': JSON shapes, errors with exit code 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    result = runner.invoke(app, ["monitoring", "simulate", "--units", "3", "--points", "2", "--days", "35",
                                 "--out", str(out), "--seed", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    return out


def test_quality_json_shape(city_dir):
    result = runner.invoke(app, ["monitoring", "quality", "--date", "2025-01-31", "--readings",
                                 str(city_dir / "readings"), "--registry", str(city_dir), "--monthly-reports",
                                 str(city_dir / "monthly_reports.csv"), "--now", "2025-02-05T00:00:00+08:00",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"date", "timezone", "now", "provenance", "indicators", "flags_by_rule", "flags_total",
                         "flags", "flags_truncated"}
    assert data["provenance"]["method"] == "citycarbon.monitoring.quality"
    assert any(f["factor_id"] == "gbt2589.electricity" for f in data["provenance"]["factors"])
    assert len(data["indicators"]) == 3
    first = data["indicators"][0]
    assert {"enterprise_id", "completeness", "completeness_ok", "timeliness", "daily_vs_monthly_deviation",
            "flags"} <= set(first)
    assert first["daily_vs_monthly_deviation"] is not None  # January is complete in the run
    for flag in data["flags"]:
        assert flag["start"].startswith("2025-01-3")
        assert flag["severity"] in ("info", "warning", "error")


def test_quality_for_one_enterprise_as_csv(city_dir):
    result = runner.invoke(app, ["monitoring", "quality", "--date", "2025-01-20", "--enterprise", "E00002",
                                 "--readings", str(city_dir / "readings"), "--registry", str(city_dir),
                                 "--now", "2025-02-05T00:00:00+08:00", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("enterprise_id,completeness") and len(lines) == 2 and lines[1].startswith("E00002")


def test_alerts_json_shape(city_dir):
    result = runner.invoke(app, ["monitoring", "alerts", "--date", "2025-02-03", "--readings",
                                 str(city_dir / "readings"), "--registry", str(city_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"date", "now", "energy_source", "provenance", "alerts"}
    assert data["provenance"]["method"] == "citycarbon.monitoring.alerts"
    assert "repaired" in data["energy_source"]
    for alert in data["alerts"]:
        assert {"kind", "level", "enterprise_id", "value", "threshold", "unit", "message", "numbers"} <= set(alert)
        assert isinstance(alert["numbers"], dict)


def test_registry_import_and_list(city_dir, tmp_path):
    target = tmp_path / "registry"
    result = runner.invoke(app, ["monitoring", "registry", "import", str(city_dir), "--registry", str(target),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["enterprises"] == 3
    result = runner.invoke(app, ["monitoring", "registry", "list", "--table", "points", "--enterprise", "E00001",
                                 "--registry", str(target), "--format", "json"])
    rows = json.loads(result.output)["rows"]
    assert {r["enterprise_id"] for r in rows} == {"E00001"} and len(rows) >= 2


def test_registry_import_error_names_row_and_field(tmp_path):
    (tmp_path / "enterprises.csv").write_text(
        "enterprise_id,name,uscc,industry_code,region,tier\nE1,测试,91210211MA0TE7T01X,3011,210211,1\n",
        encoding="utf-8")
    result = runner.invoke(app, ["monitoring", "registry", "import", str(tmp_path / "enterprises.csv"),
                                 "--registry", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "enterprises.csv, row 2, field 'uscc'" in result.output
    assert not (tmp_path / "out").exists()  # nothing written


def test_missing_registry_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["monitoring", "alerts", "--registry", str(tmp_path / "none"), "--readings",
                                 str(tmp_path)])
    assert result.exit_code == 2
    assert "no registry here" in result.output


def test_bad_date_time_and_files(city_dir):
    result = runner.invoke(app, ["monitoring", "quality", "--date", "31/01/2025", "--readings",
                                 str(city_dir / "readings"), "--registry", str(city_dir)])
    assert result.exit_code == 2 and "not a date" in result.output
    result = runner.invoke(app, ["monitoring", "quality", "--date", "2025-01-31", "--now", "yesterday",
                                 "--readings", str(city_dir / "readings"), "--registry", str(city_dir)])
    assert result.exit_code == 2 and "not a time" in result.output
    result = runner.invoke(app, ["monitoring", "quality", "--date", "2025-01-31", "--readings",
                                 str(city_dir / "truth.parquet"), "--registry", str(city_dir)])
    assert result.exit_code == 2 and "truth.parquet" in result.output and "'value'" in result.output


def test_quality_and_alerts_on_the_lake(city_dir, tmp_path):
    lake = tmp_path / "lake"
    files = sorted(str(p) for p in (city_dir / "readings").glob("*.parquet"))
    result = runner.invoke(app, ["monitoring", "ingest", *files, "--lake", str(lake), "--registry", str(city_dir),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["monitoring", "quality", "--date", "2025-01-31", "--lake", str(lake),
                                 "--registry", str(city_dir), "--monthly-reports",
                                 str(city_dir / "monthly_reports.csv"), "--now", "2025-02-05T00:00:00+08:00",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert all(row["daily_vs_monthly_deviation"] is not None for row in data["indicators"])  # month from rollups
    result = runner.invoke(app, ["monitoring", "alerts", "--date", "2025-02-03", "--lake", str(lake),
                                 "--registry", str(city_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    repaired = json.loads(result.output)
    assert repaired["energy_source"].startswith("lake, year to date checked: repaired view")
    result = runner.invoke(app, ["monitoring", "alerts", "--date", "2025-02-03", "--lake", str(lake),
                                 "--registry", str(city_dir), "--energy", "raw", "--format", "json"])
    assert result.exit_code == 0, result.output
    raw = json.loads(result.output)
    assert raw["energy_source"].startswith("lake daily rollup")
    for data, view in ((repaired, "repaired:"), (raw, "raw:")):
        for alert in data["alerts"]:
            if alert["kind"] in ("budget", "product_limit"):
                assert alert["numbers"]["energy_view"].startswith(view)


def test_score_against_the_truth_in_chunks(city_dir):
    meta = json.loads((city_dir / "city.json").read_text(encoding="utf-8"))
    assert meta["units"] == 3 and meta["days"] == 35
    result = runner.invoke(app, ["monitoring", "score", "--truth", str(city_dir / "truth.parquet"), "--readings",
                                 str(city_dir / "readings"), "--registry", str(city_dir), "--chunk", "2",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    scores = {row["fault_kind"]: row for row in json.loads(result.output)["scores"]}
    assert scores["gap"]["truth"] > 0
    for kind, row in scores.items():
        if kind != "submeter_balance" and row["truth"]:
            assert row["recall"] >= 0.95 and row["precision"] >= 0.95, row

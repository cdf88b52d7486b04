"""``citycarbon pathway run|export|levers|scenarios``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app

runner = CliRunner()


def test_run_json_shape():
    result = runner.invoke(app, ["pathway", "run", "--scenario", "Plan", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("scenario", "code", "years", "series", "peak_year", "peak_value", "targets"):
        assert key in data
    assert data["years"][0] == 2020 and data["years"][-1] == 2060
    for series in ("co2_emissions_t", "energy_consumption_tce", "non_fossil_share"):
        assert len(data["series"][series]) == len(data["years"])
    assert {"id", "met", "margin"} <= set(data["targets"][0])
    assert data["scenario"] == "Plan" and len(data["code"]) == 10


def test_run_table_and_csv():
    table = runner.invoke(app, ["pathway", "run", "--scenario", "BAU"])
    assert table.exit_code == 0 and "wind_solar_capacity_2030" in table.stdout
    csv = runner.invoke(app, ["pathway", "run", "--scenario", "BAU", "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0].startswith("year,co2_emissions_t")
    assert len(csv.stdout.splitlines()) == 42


def test_run_unknown_scenario_exit_2():
    result = runner.invoke(app, ["pathway", "run", "--scenario", "Plam"])
    assert result.exit_code == 2
    assert "did you mean 'Plan'" in result.output


def test_export_levers_scenarios(tmp_path):
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["pathway", "export", "--scenario", "Plan", "--iamc", str(target), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert target.exists() and (tmp_path / "out_meta.csv").exists()
    levers = runner.invoke(app, ["pathway", "levers", "--format", "json"])
    assert levers.exit_code == 0
    assert any(lv["id"] == "ccus_2060_mt" for lv in json.loads(levers.stdout)["levers"])
    scenarios = runner.invoke(app, ["pathway", "scenarios", "--format", "json"])
    assert [s["name"] for s in json.loads(scenarios.stdout)["scenarios"]][:3] == ["BAU", "Plan", "Enhanced"]


def test_run_with_office_targets(tmp_path):
    """Targets the plan leaves to the province are judged once the office sets them (--targets)."""
    path = tmp_path / "targets.yaml"
    path.write_text("energy_intensity_reduction_2025: 0.135\nco2_intensity_reduction_2025: 0.18\n", encoding="utf-8")
    result = runner.invoke(app, ["pathway", "run", "--scenario", "Plan", "--targets", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    judged = {t["id"]: t for t in json.loads(result.stdout)["targets"]}
    assert judged["energy_intensity_reduction_2025"]["met"] in (True, False)
    assert judged["energy_intensity_reduction_2030"]["met"] is None
    series = json.loads(result.stdout)["series"]["energy_intensity"]
    assert judged["energy_intensity_reduction_2025"]["margin"] == pytest.approx(1 - series[5] / series[0] - 0.135)
    bad = tmp_path / "bad.yaml"
    bad.write_text("energy_intensity_reduction_2052: 0.1\n", encoding="utf-8")
    failed = runner.invoke(app, ["pathway", "run", "--targets", str(bad)])
    assert failed.exit_code == 2 and "energy_intensity_reduction_20" in failed.output


def test_run_what_if_settings():
    base = json.loads(runner.invoke(app, ["pathway", "run", "-s", "Plan", "--format", "json"]).stdout)
    result = runner.invoke(app, ["pathway", "run", "-s", "Plan", "--set", "ccus_2060_mt=3", "--set",
                                 "grid_ef_2060_ratio=0.1", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["code"] != base["code"] and data["levers"]["ccus_2060_mt"] == 3
    assert data["series"]["co2_emissions_t"][-1] < base["series"]["co2_emissions_t"][-1]
    for bad, fragment in ((["--set", "ccus_2060=3"], "did you mean 'ccus_2060_mt'"),
                          (["--set", "ccus_2060_mt=99"], "outside the range"),
                          (["--set", "ccus_2060_mt"], "NAME=VALUE")):
        failed = runner.invoke(app, ["pathway", "run", "-s", "Plan", *bad])
        assert failed.exit_code == 2 and fragment in failed.output, failed.output

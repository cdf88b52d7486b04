"""``citycarbon plan show|validate|schema`` through Typer's CliRunner on ``citycarbon.cli.app``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citycarbon.plan import load_plan, plan_json_schema

try:
    from citycarbon.cli import app
except ModuleNotFoundError as exc:  # another command module of the shared CLI is not written yet
    if exc.name and exc.name.startswith("citycarbon.cli.") and exc.name != "citycarbon.cli.plan":
        pytest.skip(f"citycarbon.cli cannot be assembled yet: {exc.name} is missing",
                    allow_module_level=True)
    raise

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_show_json_has_meta_targets_tasks_rules():
    result = invoke("plan", "show", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"plan", "targets", "tasks", "rules"}
    assert data["plan"]["city"] == "大连市" and data["plan"]["region_code"] == "210200"
    assert len(data["tasks"]) == 31
    targets = {t["id"]: t for t in data["targets"]}
    share = targets["non_fossil_share_2025"]  # 非化石能源消费比重达16%左右
    assert share["value"] == pytest.approx(0.16) and share["comparison"] == "about"
    assert share["tolerance"] == pytest.approx(0.005) and share["clause"] == "非化石能源消费比重达16%左右"
    assert targets["energy_intensity_reduction_2025"]["value"] is None
    assert targets["energy_intensity_reduction_2025"]["parameter"] is True
    target_fields = set(load_plan().targets[0].model_dump())
    assert all(set(t) == target_fields for t in data["targets"])
    assert {r["id"] for r in data["rules"]} >= {"no_new_coal_power", "dual_control_exclusion"}


def test_show_csv_lists_targets():
    result = invoke("plan", "show", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["id", "indicator", "year", "comparison", "value", "unit", "title_zh"]
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == len(load_plan().targets)
    assert by_id["wind_solar_capacity_2030"]["value"] == "8000"  # 800万千瓦 = 8000 MW
    assert by_id["wind_solar_capacity_2030"]["unit"] == "MW"
    assert by_id["co2_peak_2030"]["value"] == "2030"
    assert by_id["co2_intensity_reduction_2030"]["value"] == ""  # unset: 大幅下降


def test_show_table_and_other_plan():
    result = invoke("plan", "show")
    assert result.exit_code == 0, result.output
    assert "forest_stock_2030" in result.stdout and "森林覆盖率不低于41.5%" in result.stdout
    other = invoke("plan", "show", "--plan", str(FIXTURES / "example_city.yaml"), "-f", "json")
    assert other.exit_code == 0, other.output
    assert json.loads(other.stdout)["plan"]["city"] == "示例市"


def test_show_unknown_plan_name_exits_2():
    result = invoke("plan", "show", "--plan", "dalain")
    assert result.exit_code == 2
    assert "did you mean 'dalian'" in result.stderr


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_validate_good_file(fmt):
    result = invoke("plan", "validate", str(FIXTURES / "example_city.yaml"), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        summary = json.loads(result.stdout)
        assert summary["valid"] is True and summary["city"] == "示例市"
        assert (summary["targets"], summary["tasks"], summary["rules"], summary["task_groups"]) == (4, 3, 1, 2)
    elif fmt == "csv":
        rows = {r["item"]: r["value"] for r in csv.DictReader(io.StringIO(result.stdout))}
        assert rows["targets"] == "4" and rows["tasks"] == "3" and rows["rules"] == "1"
    else:
        assert "tasks" in result.stdout and "示例市" in result.stdout


def test_validate_shipped_plan_counts():
    result = invoke("plan", "validate", "src/citycarbon/data/plans/dalian.yaml", "-f", "json")
    if result.exit_code == 2 and "not found" in result.stderr:
        pytest.skip("tests not run from the repository root")
    summary = json.loads(result.stdout)
    plan = load_plan()
    assert summary["tasks"] == 31 and summary["task_groups"] == 10
    assert summary["targets"] == len(plan.targets) and summary["rules"] == len(plan.rules)
    assert summary["parameters"] == 4  # the four intensity targets left to higher authorities


def test_validate_bad_file_exits_2_naming_file_line_field():
    path = FIXTURES / "bad_unknown_indicator.yaml"
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if "indicator: wind_solar_capacity" in text)
    result = invoke("plan", "validate", str(path), "-f", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(path) in result.stderr and f"row {line}" in result.stderr
    assert "targets[1].indicator" in result.stderr and "wind_solar_capacity_mw" in result.stderr


def test_schema_prints_generated_schema():
    result = invoke("plan", "schema")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == plan_json_schema()

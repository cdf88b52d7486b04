"""``citycarbon pathway ensemble|sensitivity|attribute|seek`` through the Typer app: JSON shape, CSV, table, errors.

The model loader is replaced by a small analytic toy so the command plumbing is tested on its own; the
integration test at the end runs the commands on the shipped Dalian model when it is available.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app

runner = CliRunner()
YEARS = np.arange(2020, 2036)


@dataclass
class Table:
    names: list[str] = field(default_factory=lambda: ["eff", "re", "growth", "ef"])
    default: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.03, 1.0])
    low: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.8])
    high: list[float] = field(default_factory=lambda: [1.0, 1.0, 0.06, 1.2])
    group: list[str] = field(default_factory=lambda: ["3", "4", "uncertainty", "uncertainty"])
    kind: list[str] = field(default_factory=lambda: ["lever", "lever", "uncertain", "uncertain"])
    direction: list[float] = field(default_factory=lambda: [1, 1, 0, 0])
    unit: list[str] = field(default_factory=lambda: ["1", "1", "1/a", "1"])
    source: list[str] = field(default_factory=lambda: ["toy"] * 4)


@dataclass
class Scenario:
    name: str
    levers: dict[str, float]
    code: str = "abc123"


class Output:
    def __init__(self, co2: np.ndarray):
        self.years, self.series = YEARS, {"co2_emissions_t": co2, "energy_consumption_tce": co2 / 2.5}

    def peak_year(self) -> np.ndarray:
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self) -> np.ndarray:
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self) -> dict:
        peak, e2030 = self.peak_year(), self.series["co2_emissions_t"][:, 10]
        return {"co2_peak_2030": (peak <= 2030, 2030.0 - peak), "co2_2030_cap": (e2030 <= 95.0, 95.0 - e2030)}


class ToyModel:
    def __init__(self):
        self.parameters = Table()

    def vector(self, scenario: Scenario) -> np.ndarray:
        x = np.array(self.parameters.default, dtype=float)
        for name, value in scenario.levers.items():
            x[self.parameters.names.index(name)] = value
        return x

    def evaluate(self, X: np.ndarray) -> Output:
        t = (YEARS - 2020)[None, :]
        cut = (0.3 * X[:, 0:1] + 0.2 * X[:, 1:2]) * np.clip((YEARS[None, :] - 2022) / 8.0, 0.0, 1.0)
        return Output(100.0 * X[:, 3:4] * np.exp(X[:, 2:3] * t) * (1.0 - cut))


SCENARIOS = {"BAU": Scenario("BAU", {}, "bau0000000"), "Plan": Scenario("Plan", {"eff": 0.5, "re": 0.5})}


@pytest.fixture
def toy(monkeypatch):
    import citycarbon.cli.pathway_analysis as module

    def load(city: str, name: str, source: str | None = None):
        if name not in SCENARIOS:
            from citycarbon.errors import InputError, Problem

            raise InputError(Problem("unknown scenario", field="--scenario", value=name))
        return ToyModel(), SCENARIOS[name]

    monkeypatch.setattr(module, "load_model_and_scenario", load)
    monkeypatch.setattr(module, "load_scenario_only", lambda name: SCENARIOS[name])
    monkeypatch.delenv("CITYCARBON_DASK_SCHEDULER", raising=False)


def invoke(*args: str):
    result = runner.invoke(app, ["pathway", *args])
    return result


def test_ensemble_json_has_the_issue_shape(toy):
    result = invoke("ensemble", "--scenario", "Plan", "--runs", "300", "--seed", "7", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["runs"] == 300 and data["seed"] == 7 and data["scenario"] == "Plan"
    assert 0.0 <= data["p_peak_by_2030"] <= 1.0
    assert {t["id"] for t in data["targets"]} == {"co2_peak_2030", "co2_2030_cap"}
    assert set(data["percentiles"]) == {"co2_emissions_t", "energy_consumption_tce"}
    again = json.loads(invoke("ensemble", "--scenario", "Plan", "--runs", "300", "--seed", "7", "--format",
                              "json").stdout)
    data.pop("provenance"), again.pop("provenance")
    assert data == again


def test_ensemble_csv_and_table(toy):
    result = invoke("ensemble", "--scenario", "Plan", "--runs", "100", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["指标 / indicator"].startswith("P(碳排放 2030 年前达峰)")
    assert {r["指标 / indicator"] for r in rows[1:3]} == {"co2_peak_2030", "co2_2030_cap"}
    table = invoke("ensemble", "--scenario", "Plan", "--runs", "100")
    assert table.exit_code == 0 and "情景不确定性分析" in table.stdout


def test_sensitivity_sobol_and_morris(toy):
    result = invoke("sensitivity", "--scenario", "Plan", "--method", "sobol", "--n", "64", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "sobol" and data["runs"] == 64 * (2 * 4 + 2)
    assert {f["name"] for f in data["factors"]} == {"eff", "re", "growth", "ef"}
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(data["factors"][0]) and data["second_order"]
    morris = json.loads(invoke("sensitivity", "--scenario", "Plan", "--method", "morris", "--n", "10",
                               "--format", "json").stdout)
    assert morris["method"] == "morris" and morris["runs"] == 10 * 5
    bad = invoke("sensitivity", "--scenario", "Plan", "--method", "fast")
    assert bad.exit_code == 2 and "method must be sobol or morris" in bad.output


def test_attribute_json_shares_sum_to_one(toy):
    result = invoke("attribute", "--scenario", "Plan", "--permutations", "20", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["base"] == "BAU" and data["scenario"] == "Plan"
    assert [g["group"] for g in data["groups"]] == ["3", "4"]
    assert sum(g["share"] for g in data["groups"]) == pytest.approx(1.0)
    assert set(data["wedges"]["avoided"]) == {"3", "4"}


def test_seek_json_and_table(toy):
    result = invoke("seek", "--scenario", "BAU", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["feasible"] and {lv["name"] for lv in data["levers"]} == {"eff", "re"}
    assert all(t["met"] for t in data["targets"]) and data["binding"]
    table = invoke("seek", "--scenario", "BAU", "--targets", "co2_2030_cap")
    assert table.exit_code == 0 and "目标反推" in table.stdout


def test_seek_with_a_cost_file(toy, tmp_path):
    plain = json.loads(invoke("seek", "--scenario", "BAU", "--format", "json").stdout)
    costly = tmp_path / "cost.yaml"
    costly.write_text("eff: 50\n", encoding="utf-8")
    result = invoke("seek", "--scenario", "BAU", "--cost", str(costly), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    moved = {lv["name"]: lv["change"] for lv in data["levers"]}
    before = {lv["name"]: lv["change"] for lv in plain["levers"]}
    assert moved["eff"] < before["eff"] and moved["re"] > before["re"]  # the costly lever moves less
    assert data["provenance"]["parameters"]["cost"] == {"eff": 50.0}
    bad = tmp_path / "bad.yaml"
    bad.write_text("eff: lots\n", encoding="utf-8")
    answer = invoke("seek", "--scenario", "BAU", "--cost", str(bad))
    assert answer.exit_code == 2 and "field 'eff'" in answer.output


def test_unknown_scenario_and_bad_runs_exit_2(toy):
    assert invoke("ensemble", "--scenario", "Nope").exit_code == 2
    bad = invoke("ensemble", "--scenario", "Plan", "--runs", "0")
    assert bad.exit_code == 2 and "runs must be" in bad.output


def _real_model_available() -> bool:
    try:
        from citycarbon.pathways import build_model, load_scenario  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _real_model_available(), reason="the pathway model (citycarbon.pathways) is not installed")
def test_commands_on_the_shipped_dalian_model(monkeypatch):
    monkeypatch.delenv("CITYCARBON_DASK_SCHEDULER", raising=False)
    result = invoke("ensemble", "--scenario", "Plan", "--runs", "256", "--seed", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"] == "Plan" and data["runs"] == 256 and data["code"]
    assert data["targets"] and all(0.0 <= t["p_met"] <= 1.0 for t in data["targets"])
    assert all(t["title_zh"] and t["unit"] for t in data["targets"])  # titles from the plan the model carries
    assert "co2_emissions_t" in data["percentiles"]
    p = data["percentiles"]["co2_emissions_t"]
    assert all(a <= b <= c for a, b, c in zip(p["p5"], p["p50"], p["p95"], strict=True))
    attribution = json.loads(invoke("attribute", "--scenario", "Plan", "--permutations", "20", "--lmdi", "2030",
                                    "--format", "json").stdout)
    assert attribution["lmdi"]["to"] == 2030
    assert sum(attribution["lmdi"]["additive"].values()) == pytest.approx(attribution["lmdi"]["total_change"])
    assert attribution["base"] == "BAU" and attribution["groups"]
    assert sum(g["cumulative"] for g in attribution["groups"]) == pytest.approx(attribution["total_cumulative"],
                                                                                rel=1e-9)
    morris = invoke("sensitivity", "--scenario", "Plan", "--method", "morris", "--n", "4", "--format", "csv")
    assert morris.exit_code == 0, morris.output
    assert len(list(csv.DictReader(io.StringIO(morris.stdout)))) >= 10


# issue 17 (seek)
def test_seek_objective_is_checked_and_least_cost_needs_a_cost(toy):
    bad = invoke("seek", "--scenario", "BAU", "--objective", "cheapest")
    assert bad.exit_code == 2 and "objective" in bad.output
    no_cost = invoke("seek", "--scenario", "BAU", "--objective", "least-cost")  # the toy has no Outputs.npv
    assert no_cost.exit_code == 2 and "no cost" in no_cost.output
    plain = json.loads(invoke("seek", "--scenario", "BAU", "--format", "json").stdout)
    assert plain["objective"] == "distance" and plain["cost"] is None and "why" in plain

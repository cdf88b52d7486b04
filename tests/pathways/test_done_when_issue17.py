"""Issue 17 "Pathways the office can act on", its "Done when", through the CLI every analyst uses:

* the ensemble reports the peak probability on each CO2 basis (and the headline follows the profile's rule);
* least-cost seek returns the Neutrality scenario's answer: every target met, or named with what binds, with
  its cost;
* ``pathway macc --year 2030`` prints the curve (sorted, widths adding up to the package less the interaction);
* docs/pathways.md documents every cost figure and potential with its source.

Runs on the shipped Dalian files (``--source files``): about 5 s in all.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.pathways.parameters import load_costs, load_potentials

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "pathways.md"


def _json(*args: str) -> dict:
    result = runner.invoke(app, ["pathway", *args, "--format", "json", "--source", "files"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_ensemble_reports_the_peak_probability_on_each_basis():
    data = _json("ensemble", "--scenario", "Plan", "--runs", "300", "--quiet")
    bases = data["bases"]
    assert {"net_inflow", "consumption", "territorial"} <= set(bases)
    for basis in ("net_inflow", "consumption", "territorial"):
        assert 0.0 <= bases[basis]["p_peak_by_2030"] <= 1.0
    # the profile's rule is "worse": a run counts only when both the net-inflow and the consumption peak are by
    # 2030, so the headline is at most either basis' probability
    assert data["peak_rule"] == "worse"
    assert data["p_peak_by_2030"] <= min(bases["net_inflow"]["p_peak_by_2030"],
                                         bases["consumption"]["p_peak_by_2030"]) + 1e-12
    assert set(data["costs"]["npv_cny"]) >= {"p5", "p50", "p95"}
    assert data["costs"]["npv_cny"]["p5"] <= data["costs"]["npv_cny"]["p50"] <= data["costs"]["npv_cny"]["p95"]


def test_least_cost_seek_meets_every_target_or_names_what_binds_with_its_cost():
    data = _json("seek", "--scenario", "Plan", "--objective", "least-cost", "--keep-scenario")
    assert data["objective"] == "least-cost"
    missed = [t["id"] for t in data["targets"] if not t["met"]]
    # every target it cannot meet is explained in both languages, naming a potential or a parameter
    assert set(missed) == set(data["why"])
    for target_id in missed:
        why = data["why"][target_id]
        assert why["text_zh"] and why["text_en"]
        assert why["levers"] or why["capacity"] or why["parameters"], target_id
    # peak and neutrality are reached on the worse of the two bases
    met = {t["id"]: t["met"] for t in data["targets"]}
    assert met["co2_peak_2030"] and met["carbon_neutrality_2060"] and met["non_fossil_share_2060"]
    cost = data["cost"]
    assert cost["npv_cny"] > 0
    assert cost["npv_change_cny"] == pytest.approx(cost["npv_cny"] - cost["npv_scenario_cny"], rel=1e-9)


def test_the_shipped_neutrality_scenario_meets_what_the_seek_meets():
    seek = _json("seek", "--scenario", "Plan", "--objective", "least-cost", "--keep-scenario")
    run = _json("run", "--scenario", "Neutrality")
    met = {t["id"]: t["met"] for t in run["targets"]}
    for target in seek["targets"]:
        if target["met"]:
            assert met[target["id"]], target["id"]
    assert run["costs"]["npv_cny"] > 0


def test_pathway_macc_2030_prints_the_curve():
    table = runner.invoke(app, ["pathway", "macc", "--year", "2030", "--source", "files"])
    assert table.exit_code == 0, table.output
    assert "MACC 2030" in table.output and "CNY/t" in table.output
    data = _json("macc", "--year", "2030")
    levers = data["levers"]
    assert len(levers) >= 5
    macs = [lv["mac_cny_per_t"] for lv in levers]
    assert macs == sorted(macs)
    # boxes touch: each starts where the previous ends, the widths are the abatements
    for before, after in itertools.pairwise(levers):
        assert after["cumulative_start_t"] == pytest.approx(before["cumulative_end_t"])
    for lever in levers:
        assert lever["cumulative_end_t"] - lever["cumulative_start_t"] == pytest.approx(lever["abatement_t"])
        assert lever["mac_cny_per_t"] == pytest.approx(lever["delta_cost_cny"] / lever["abatement_t"])


def test_docs_document_every_cost_figure_and_potential_with_its_source():
    text = DOCS.read_text(encoding="utf-8")
    for row in load_costs().itertuples():
        assert f"`{row.id}`" in text, row.id
        assert str(row.source).split(";")[0].strip()[:40] in text, row.id
    for row in load_potentials().itertuples():
        assert f"`{row.id}`" in text, row.id
        assert str(row.source).split(";")[0].strip()[:40] in text, row.id

"""issue 17 (macc): the ensemble per CO2 basis (P(peak ≤ 2030), P(neutral 2060)) and its costs (NPV percentiles,
the NPV difference to a versus scenario with common random numbers), on a closed-form toy and on Dalian; the CLI
rows and ``pathway macc``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.pathways.model import Outputs
from citycarbon.pathways.uncertainty import ensemble, latin_hypercube

from .toys import Table, check_protocol

YEARS = np.arange(2020, 2061)
runner = CliRunner()


@dataclass
class Scen:
    name: str
    levers: dict[str, float]
    parameters: dict[str, float] = field(default_factory=dict)
    code: str = "toy"


class TwoBases:
    """u ~ U(0, 1): net-inflow CO2 peaks in 2020 + ⌊20u⌋, consumption CO2 in 2020 + ⌊40u⌋ (100 − |year − peak|);
    net consumption CO2 in 2060 is 1 − 2u; the cost is k − 10·a CNY every year with a discount factor of 1, so the
    NPV (2021–2060) is 40·(k − 10a) and the difference to a = 0 on the same draws is −400·a in every run."""

    peak_rule = "worse"

    def __init__(self) -> None:
        self.parameters = Table(names=["a", "u", "k"], default=[0, 0.5, 100], low=[0, 0, 50], high=[1, 1, 150],
                                group=["1", "u", "cost"], kind=["lever", "uncertain", "cost"], direction=[1, 0, 0],
                                unit=["-"] * 3, source=["toy"] * 3)

    def vector(self, scenario):
        x = np.array(self.parameters.default, dtype=float)
        for name, value in {**scenario.levers, **scenario.parameters}.items():
            x[self.parameters.names.index(name)] = value
        return x

    def evaluate(self, X):
        X = np.atleast_2d(X)
        a, u, k = (X[:, [i]] for i in range(3))
        peak_ni = 2020 + np.floor(np.minimum(u, 0.999999) * 20)
        peak_c = 2020 + np.floor(np.minimum(u, 0.999999) * 40)
        ni = 100.0 - np.abs(YEARS[None, :] - peak_ni)
        co = 100.0 - np.abs(YEARS[None, :] - peak_c)
        net_co = co - co[:, -1:] + (1.0 - 2.0 * u)  # 1 − 2u in 2060
        ones = np.ones((len(X), len(YEARS)))
        series = {"co2_emissions_t": ni, "net_co2_emissions_t": ni - 200.0,
                  "co2_emissions_net_inflow_t": ni, "co2_emissions_consumption_t": co,
                  "net_co2_emissions_net_inflow_t": ni - 200.0, "net_co2_emissions_consumption_t": net_co,
                  "cost_total_cny": (k - 10.0 * a) * ones, "cost_power_cny": (k - 10.0 * a) * ones,
                  "discount_factor": ones}
        return Outputs(YEARS, series, [], 0.02, "worse")


def test_toy_is_a_pathway_model():
    check_protocol(TwoBases(), Scen("S", {"a": 1}))


def test_each_basis_has_its_exact_peak_probability_and_the_headline_follows_the_rule():
    result = ensemble(TwoBases(), Scen("S", {"a": 1}), runs=200, seed=4)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["peak_rule"] == "worse"
    assert data["bases"]["net_inflow"]["p_peak_by_2030"] == 0.55  # ⌊20u⌋ ≤ 10: 11 strata of 20
    assert data["bases"]["consumption"]["p_peak_by_2030"] == 0.275  # ⌊40u⌋ ≤ 10: 11 strata of 40
    assert data["p_peak_by_2030"] == 0.275  # the worse rule: the later peak (consumption) decides
    assert data["bases"]["consumption"]["p_neutral_2060"] == 0.5 and data["bases"]["net_inflow"]["p_neutral_2060"] == 1
    assert sum(data["bases"]["net_inflow"]["peak_year_distribution"].values()) == pytest.approx(1.0)
    assert {"plateau_years", "neutrality_year", "peak_value_percentiles"} <= set(data["bases"]["consumption"])
    assert "territorial" not in data["bases"]  # only the bases the output has


def test_costs_npv_percentiles_and_the_difference_with_common_random_numbers():
    result = ensemble(TwoBases(), Scen("S", {"a": 1}), runs=100, seed=2, versus=Scen("BAU", {}, code="bau"))
    costs = result.to_dict()["costs"]
    k = result.sample[:, list(result.parameter_names).index("k")]
    np.testing.assert_allclose(result.npv, 40 * (k - 10))
    assert costs["npv_cny"]["p50"] == pytest.approx(float(np.percentile(40 * (k - 10), 50)))
    for value in costs["versus"]["npv_difference_cny"].values():
        assert value == pytest.approx(-400.0)  # paired draws: the same difference in every run
    assert costs["versus"]["p_cheaper"] == 1.0 and costs["versus"]["scenario"] == "BAU"
    assert set(costs["annual"]) == {"cost_total_cny", "cost_power_cny"}
    assert "cost_total_cny" not in result.to_dict()["percentiles"]  # cost series are reported under costs
    assert len(costs["annual"]["cost_total_cny"]["p95"]) == len(YEARS)


def test_a_toy_without_bases_or_costs_still_works():
    from .test_uncertainty import PLAN, GrowthModel

    data = ensemble(GrowthModel(), PLAN, runs=20, seed=1).to_dict()
    assert data["bases"] == {} and data["costs"] is None and data["peak_rule"] is None


def test_dalian_ensemble_reports_every_basis_and_costs(model):
    from citycarbon.pathways import load_scenario

    plan = load_scenario("Plan")
    result = ensemble(model, plan, runs=40, seed=3, versus="BAU")
    data = result.to_dict()
    assert set(data["bases"]) == {"net_inflow", "consumption", "territorial"}
    rule = min(data["bases"][b]["p_peak_by_2030"] for b in ("net_inflow", "consumption"))
    assert data["p_peak_by_2030"] <= rule  # worse rule: a run peaks by 2030 only if both bases do
    _, X, *_ = latin_hypercube(model, plan, 40, 3)
    assert result.npv[0] == pytest.approx(float(model.evaluate(X[:1]).npv()[0]), rel=1e-12)
    assert data["costs"]["versus"]["scenario"] == "BAU" and 0 <= data["costs"]["versus"]["p_cheaper"] <= 1
    assert "co2_emissions_consumption_t" in data["percentiles"]


def test_cli_ensemble_rows_per_basis_and_npv():
    answer = runner.invoke(app, ["pathway", "ensemble", "--scenario", "Plan", "--runs", "20", "--versus", "BAU",
                                 "--source", "files", "--quiet", "--format", "csv"])
    assert answer.exit_code == 0, answer.output
    assert "P(达峰 ≤ 2030) 消费口径 / consumption" in answer.stdout
    assert "净现值差 / NPV − BAU p50" in answer.stdout and "P(成本低于 / cheaper than BAU)" in answer.stdout


def test_cli_macc_prints_the_curve():
    table = runner.invoke(app, ["pathway", "macc", "--year", "2030", "--source", "files"])
    assert table.exit_code == 0, table.output
    assert "MACC 2030" in table.stdout and "industry_efficiency" in table.stdout
    data = json.loads(runner.invoke(app, ["pathway", "macc", "--year", "2060", "--scenario", "Enhanced",
                                          "--source", "files", "--format", "json"]).stdout)
    assert data["year"] == 2060 and data["levers"] and data["units"]["mac_cny_per_t"] == "CNY/t CO2"
    csv = runner.invoke(app, ["pathway", "macc", "--year", "2030", "--runs", "8", "--source", "files",
                              "--format", "csv"])
    assert csv.exit_code == 0 and "MAC p95" in csv.stdout.splitlines()[0]
    bad = runner.invoke(app, ["pathway", "macc", "--year", "2019", "--source", "files"])
    assert bad.exit_code == 2 and "year" in bad.output

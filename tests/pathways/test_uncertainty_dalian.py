"""The analyses on the shipped Dalian pathway model: row-wise reproducibility, exact attribution closure,
goal-seek answers inside the lever ranges that meet what they claim to meet, sensitivity on real factors."""

from __future__ import annotations

import numpy as np
import pytest

from citycarbon.pathways import load_scenario
from citycarbon.pathways.attribution import lmdi_of_pathway, shapley
from citycarbon.pathways.goalseek import seek
from citycarbon.pathways.sensitivity import morris
from citycarbon.pathways.uncertainty import ensemble, parameter_arrays


@pytest.fixture(scope="module")
def plan():
    return load_scenario("Plan")


def test_dalian_ensemble_is_identical_whatever_the_chunking(model, plan):
    one = ensemble(model, plan, 300, seed=5, chunk=300)
    two = ensemble(model, plan, 300, seed=5, chunk=7)
    assert one.sample.tobytes() == two.sample.tobytes()
    for name in one.series:
        assert one.series[name].tobytes() == two.series[name].tobytes(), name
    for target in one.met:
        assert one.margin[target].tobytes() == two.margin[target].tobytes(), target
    assert one.to_dict()["targets"] == two.to_dict()["targets"]
    recorded = one.provenance.parameters
    assert recorded["model_version"] and recorded["city"] == "dalian" and recorded["model_sources"]
    # every uncertain parameter is sampled and the runs differ
    params = parameter_arrays(model)
    assert len(one.parameter_names) == len(params.index(("uncertain", "cost")))
    assert np.ptp(one.series["co2_emissions_t"][:, -1]) > 0


def test_dalian_attribution_closes_on_the_bau_plan_gap(model, plan):
    result = shapley(model, load_scenario("BAU"), plan, permutations=50, seed=3)
    total = result.total
    assert result.contributions.sum(axis=0) == pytest.approx(total, rel=1e-12, abs=1e-6)
    assert result.shares().sum() == pytest.approx(1.0, abs=1e-12)
    assert all(title for title, _ in (result.titles[g] for g in result.groups if g.isdigit()))
    decomposition = lmdi_of_pathway(model, plan, 2030).periods[0].to_dict()
    assert sum(decomposition["additive"].values()) == pytest.approx(decomposition["total_change"], rel=1e-9)


def test_dalian_goal_seek_stays_in_range_and_meets_what_it_reports(model, plan):
    result = seek(model, plan, seed=1)
    for lever in result.levers:
        assert lever["min"] - 1e-12 <= lever["value"] <= lever["max"] + 1e-12, lever
    unreachable = {t["id"] for t in result.infeasible}
    for target in result.targets:
        if target["id"] not in unreachable:
            assert target["met"], target
    # the sought settings, run through the model, give the reported margins
    x = model.vector(plan)
    names = list(model.parameters.names)
    for lever in result.levers:
        x[names.index(lever["name"])] = lever["value"]
    margins = {k: float(v[1][0]) for k, v in model.evaluate(x[None, :]).targets().items()}
    for target in result.targets:
        assert margins[target["id"]] == pytest.approx(target["margin"], rel=1e-9, abs=1e-12)


def test_dalian_morris_ranks_every_factor(model, plan):
    result = morris(model, plan, 4, seed=2)
    assert len(result.factors) >= 40
    mu_star = [f["mu_star"] for f in result.factors]
    assert mu_star == sorted(mu_star, reverse=True) and mu_star[0] > 0

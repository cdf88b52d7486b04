"""Shapley attribution of lever groups: exact on additive models, shares sum to the total, one evaluate call."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.pathways.attribution import shapley
from tests.pathways.toys import Table

YEARS = np.arange(2020, 2026)


@dataclass
class Scenario:
    name: str
    x: list[float]
    code: str = "s"


class Output:
    def __init__(self, co2: np.ndarray):
        self.years = YEARS
        self.series = {"co2_emissions_t": co2}

    def peak_year(self) -> np.ndarray:
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self) -> np.ndarray:
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self) -> dict:
        return {}


class ToyModel:
    """co2[t] = base[t] + Σ_i c[i, t]·x_i (additive) or base[t]·Π_i (1 − x_i·w[i, t]) (multiplicative)."""

    def __init__(self, coef: np.ndarray, groups: list[str], multiplicative: bool = False):
        self.coef, self.multiplicative, self.calls = coef, multiplicative, 0
        p = coef.shape[0]
        self.parameters = Table(names=[f"x{i}" for i in range(p)], default=[0.0] * p, low=[0.0] * p,
                                high=[1.0] * p, group=groups, kind=["lever"] * p, direction=[1] * p)

    def vector(self, scenario: Scenario) -> np.ndarray:
        return np.asarray(scenario.x, dtype=float)

    def evaluate(self, X: np.ndarray) -> Output:
        self.calls += 1
        base = 100.0 + YEARS - 2020.0
        if self.multiplicative:
            return Output(base[None, :] * np.prod(1.0 - X[:, :, None] * self.coef[None], axis=1))
        return Output(base[None, :] + X @ self.coef)


def test_shapley_on_an_additive_model_equals_the_exact_contributions():
    coef = -np.arange(1.0, 19.0).reshape(3, 6)
    model = ToyModel(coef, ["industry", "transport", "industry"])
    bau, plan = Scenario("BAU", [0.0, 0.0, 0.0]), Scenario("Plan", [0.5, 1.0, 0.25])
    result = shapley(model, bau, plan, permutations=50, seed=1)
    assert model.calls == 1  # every permutation step in one vectorised evaluate call
    assert result.groups == ("industry", "transport")
    expected = {"industry": 0.5 * coef[0] + 0.25 * coef[2], "transport": 1.0 * coef[1]}
    for j, group in enumerate(result.groups):
        assert result.contributions[j] == pytest.approx(expected[group], abs=1e-12)
    assert result.standard_error == pytest.approx([0.0, 0.0], abs=1e-9)  # additive: every ordering agrees
    assert result.parameters_by_group == {"industry": ["x0", "x2"], "transport": ["x1"]}
    wedges = result.wedges()
    assert wedges["avoided"]["transport"] == pytest.approx(list(-coef[1]))


def test_exact_shapley_of_a_product_splits_the_interaction_equally():
    # f = 100·(1 − x0)(1 − x1) in 2020: φ0 = ½[(f10 − f00) + (f11 − f01)], by hand
    coef = np.ones((2, len(YEARS)))
    model = ToyModel(coef, ["a", "b"], multiplicative=True)
    result = shapley(model, Scenario("BAU", [0.0, 0.0]), Scenario("Plan", [0.2, 0.5]), exact=True)
    f00, f10, f01, f11 = 100.0, 80.0, 50.0, 40.0
    assert result.contributions[0, 0] == pytest.approx(0.5 * ((f10 - f00) + (f11 - f01)))
    assert result.contributions[1, 0] == pytest.approx(0.5 * ((f01 - f00) + (f11 - f10)))
    assert result.permutations is None and result.runs == 4


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(0, 2**31 - 1), st.booleans(), st.integers(1, 60))
def test_shares_sum_to_the_total_for_random_models(n_groups, seed, multiplicative, permutations):
    rng = np.random.default_rng(seed)
    p = n_groups + 2
    coef = rng.uniform(0.0, 0.5 if multiplicative else 30.0, size=(p, len(YEARS)))
    groups = [f"g{i % n_groups}" for i in range(p)]
    model = ToyModel(coef, groups, multiplicative)
    bau, plan = Scenario("BAU", rng.uniform(0, 1, p).tolist()), Scenario("Plan", rng.uniform(0, 1, p).tolist())
    result = shapley(model, bau, plan, permutations=permutations, seed=seed)
    total = result.total
    scale = np.abs(result.base_values).max()
    assert result.contributions.sum(axis=0) == pytest.approx(total, abs=1e-12 * scale)
    assert math.fsum(result.cumulative) == pytest.approx(float(total.sum()), abs=1e-11 * scale)
    assert result.shares().sum() == pytest.approx(1.0, abs=1e-9)
    exact = shapley(model, bau, plan, exact=True)
    assert exact.contributions.sum(axis=0) == pytest.approx(total, abs=1e-12 * scale)
    if not multiplicative:  # additive: the sampled values are the exact ones
        assert result.contributions == pytest.approx(exact.contributions, abs=1e-9 * scale)


def test_groups_can_be_parameters_or_a_mapping_and_equal_scenarios_have_no_players():
    coef = -np.ones((3, len(YEARS)))
    model = ToyModel(coef, ["a", "a", "b"])
    bau, plan = Scenario("BAU", [0.0] * 3), Scenario("Plan", [1.0, 0.0, 1.0])
    assert shapley(model, bau, plan, groups="parameter", seed=1).groups == ("x0", "x2")
    assert shapley(model, bau, plan, groups={"x0": "merged", "x2": "merged"}, seed=1).groups == ("merged",)
    same = shapley(model, bau, bau, seed=1)
    assert same.groups == () and same.contributions.shape == (0, len(YEARS)) and not same.total.any()
    with pytest.raises(InputError, match="groups must be"):
        shapley(model, bau, plan, groups="sector")
    with pytest.raises(InputError, match="permutations must be"):
        shapley(model, bau, plan, permutations=0)
    with pytest.raises(InputError, match="no series"):
        shapley(model, bau, plan, output="nope")


def test_same_seed_same_values_and_json_shape():
    rng = np.random.default_rng(0)
    model = ToyModel(rng.uniform(0, 0.3, (6, len(YEARS))), [f"g{i}" for i in range(6)], multiplicative=True)
    bau, plan = Scenario("BAU", [0.0] * 6), Scenario("Plan", [1.0] * 6)
    one, two = shapley(model, bau, plan, seed=9, permutations=30), shapley(model, bau, plan, seed=9, permutations=30)
    assert one.contributions.tobytes() == two.contributions.tobytes()
    data = json.loads(json.dumps(one.to_dict()))
    assert data["method"] == "sampled" and data["permutations"] == 30 and len(data["groups"]) == 6
    assert {"group", "title_zh", "title_en", "cumulative", "share", "standard_error", "parameters"} == set(
        data["groups"][0])
    assert sum(g["cumulative"] for g in data["groups"]) == pytest.approx(data["total_cumulative"])
    assert set(data["wedges"]) == {"years", "base", "scenario", "avoided"}


class KayaModel:
    """GDP grows by ``growth``/yr, energy intensity falls by ``eff``/yr, carbon factor by ``clean``/yr."""

    def __init__(self, by_sector: bool = False, drop: str | None = None):
        self.by_sector, self.drop = by_sector, drop
        self.parameters = Table(names=["growth", "eff", "clean"], default=[0.05, 0.0, 0.0], low=[0.0] * 3,
                                high=[0.1, 0.1, 0.1], group=["1", "2", "3"], kind=["uncertain", "lever", "lever"],
                                direction=[0, 1, 1])

    def vector(self, scenario: Scenario) -> np.ndarray:
        return np.asarray(scenario.x, dtype=float)

    def evaluate(self, X: np.ndarray) -> Output:
        t = (YEARS - 2020)[None, :]
        gdp = 1e6 * (1 + X[:, 0:1]) ** t
        energy = gdp * 0.5 * (1 - X[:, 1:2]) ** t
        co2 = energy * 2.5 * (1 - X[:, 2:3]) ** t
        out = Output(co2)
        out.series.update({"gdp_10k_yuan": gdp, "energy_consumption_tce": energy})
        if self.by_sector:
            for share, sector in zip((0.5, 0.2, 0.2, 0.1), ("industry", "buildings", "transport", "agriculture"),
                                     strict=True):
                out.series[f"energy_{sector}_tce"] = share * energy
                out.series[f"co2_{sector}_t"] = share * co2
        if self.drop:
            out.series.pop(self.drop)
        return out


def test_lmdi_of_a_pathway_gives_growth_alone_when_intensities_stay_flat():
    from citycarbon.pathways.attribution import lmdi_of_pathway

    result = lmdi_of_pathway(KayaModel(), Scenario("Plan", [0.05, 0.0, 0.0]), 2025)
    period = result.periods[0].to_dict()
    change = 1e6 * 0.5 * 2.5 * (1.05**5 - 1)  # by hand: C = G · 0.5 · 2.5
    assert period["total_change"] == pytest.approx(change)
    assert period["additive"]["activity"] == pytest.approx(change)
    assert period["additive"]["energy_intensity"] == pytest.approx(0.0, abs=1e-6)
    assert period["additive"]["carbon_factor"] == pytest.approx(0.0, abs=1e-6)
    assert set(period["by_category"]) == {"city"}


def test_lmdi_of_a_pathway_by_sector_closes_on_the_change():
    from citycarbon.pathways.attribution import lmdi_of_pathway

    scenario = Scenario("Plan", [0.06, 0.03, 0.02])
    result = lmdi_of_pathway(KayaModel(by_sector=True), scenario, 2025, base_year=2021, chain=True)
    period = result.periods[-1].to_dict()
    assert set(period["by_category"]) == {"industry", "buildings", "transport", "agriculture"}
    total = float(np.sum(result.effects))
    assert total == pytest.approx(float(result.v_end - result.v_start), rel=1e-9)
    assert float(np.sum(result.effects[..., 1])) < 0 and float(np.sum(result.effects[..., 0])) > 0
    with pytest.raises(InputError, match="Kaya identity needs"):
        lmdi_of_pathway(KayaModel(drop="gdp_10k_yuan"), scenario, 2025)


def test_groups_carry_the_plan_task_group_titles_when_the_model_has_its_plan():
    from types import SimpleNamespace

    model = ToyModel(-np.ones((2, len(YEARS))), ["3", "4"])
    energy = SimpleNamespace(number=3, label_zh="(三)", title_zh="能源", title_en="Energy")
    transport = SimpleNamespace(number=4, label_zh="(四)", title_zh="交通", title_en="Transport")
    model.plan = SimpleNamespace(task_groups=[energy, transport])
    result = shapley(model, Scenario("BAU", [0.0, 0.0]), Scenario("Plan", [1.0, 1.0]), seed=1)
    groups = {g["group"]: g for g in result.to_dict()["groups"]}
    assert groups["3"]["title_zh"] == "(三)能源" and groups["4"]["title_en"] == "Transport"
    assert result.rows()[0]["名称 / title"] in ("(三)能源", "(四)交通")

"""Goal-seek on toy models with known answers: the closest point of a half-space, cost weights, infeasibility,
probability constraints, targets that bind."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from citycarbon.errors import InputError
from citycarbon.pathways.goalseek import seek
from citycarbon.pathways.uncertainty import ensemble
from tests.pathways.toys import Table

YEARS = np.arange(2020, 2041)


@dataclass
class Scenario:
    name: str
    levers: dict[str, float]


class Output:
    def __init__(self, co2: np.ndarray, targets: dict):
        self.years, self.series, self._targets = YEARS, {"co2_emissions_t": co2}, targets

    def peak_year(self) -> np.ndarray:
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self) -> np.ndarray:
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self) -> dict:
        return self._targets


class LinearModel:
    """E(2030) = 100 − 20a − 10b + s (a, b levers in [0, 1]; g a baseline lever; s uncertain in [−5, 5]).

    Targets: ``cap``: E(2030) ≤ cap; ``share``: b ≥ share_min (a non-fossil-share-like target); with
    ``b_max``, ``limit``: b ≤ b_max (a target that more ambition on b breaks).
    """

    def __init__(self, cap: float = 85.0, share_min: float = 0.0, b_max: float | None = None):
        self.cap, self.share_min, self.b_max = cap, share_min, b_max
        self.parameters = Table(names=["a", "b", "g", "s"], default=[0.0, 0.0, 0.0, 0.0],
                                low=[0.0, 0.0, -1.0, -5.0], high=[1.0, 1.0, 1.0, 5.0],
                                group=["industry", "energy", "baseline", "uncertainty"],
                                kind=["lever", "lever", "lever", "uncertain"], direction=[1, 1, -1, 0])

    def vector(self, scenario: Scenario) -> np.ndarray:
        x = np.zeros(4)
        for name, value in scenario.levers.items():
            x[self.parameters.names.index(name)] = value
        return x

    def evaluate(self, X: np.ndarray) -> Output:
        a, b, g, s = X[:, 0], X[:, 1], X[:, 2], X[:, 3]
        e2030 = 100.0 - 20.0 * a - 10.0 * b + 5.0 * g + s
        co2 = np.outer(e2030, np.ones(len(YEARS)))
        targets = {"cap": (e2030 <= self.cap, self.cap - e2030), "share": (b >= self.share_min, b - self.share_min)}
        if self.b_max is not None:
            targets["limit"] = (b <= self.b_max, self.b_max - b)
        return Output(co2, targets)


PLAN = Scenario("Plan", {})


def test_seek_finds_the_closest_point_of_the_target_half_space():
    # min a² + b² s.t. 20a + 10b ≥ 15  →  (a, b) = 15·(20, 10)/500 = (0.6, 0.3), distance sqrt(0.45)
    result = seek(LinearModel(), PLAN, seed=1)
    values = result.values()
    assert set(values) == {"a", "b"}  # the baseline lever g is not sought
    assert values["a"] == pytest.approx(0.6, abs=1e-3) and values["b"] == pytest.approx(0.3, abs=1e-3)
    assert result.distance == pytest.approx(np.sqrt(0.45), abs=1e-3)
    assert result.feasible and result.binding == ["cap"]
    cap = next(t for t in result.targets if t["id"] == "cap")
    assert cap["met"] and 0.0 <= cap["margin"] < 1e-3
    # the answer really meets the target when run through the model
    x = LinearModel().vector(PLAN)
    x[:2] = [values["a"], values["b"]]
    met, _ = LinearModel().evaluate(x[None, :]).targets()["cap"]
    assert met.all()


def test_a_target_that_ambition_breaks_is_kept_and_binds():
    # min a² + b² s.t. 20a + 10b ≥ 15 and b ≤ 0.2 (met at the scenario, broken at max b) → b = 0.2, a = 0.65
    result = seek(LinearModel(b_max=0.2), PLAN, seed=1)
    assert result.feasible and result.infeasible == []
    assert result.values()["a"] == pytest.approx(0.65, abs=1e-3)
    assert result.values()["b"] == pytest.approx(0.2, abs=1e-3)
    assert sorted(result.binding) == ["cap", "limit"]


def test_seek_is_deterministic_for_a_seed():
    one, two = seek(LinearModel(), PLAN, seed=4), seek(LinearModel(), PLAN, seed=4)
    assert one.values() == two.values() and one.evaluations == two.evaluations


def test_cost_weights_move_the_cheaper_lever_first():
    # min 100a² + b² s.t. 20a + 10b ≥ 15, b ≤ 1  →  b = 1, a = 0.25
    result = seek(LinearModel(), PLAN, seed=1, cost={"a": 100.0})
    assert result.values()["b"] == pytest.approx(1.0, abs=1e-3)
    assert result.values()["a"] == pytest.approx(0.25, abs=1e-3)


def test_a_scenario_that_meets_every_target_is_returned_unchanged():
    result = seek(LinearModel(cap=120.0, share_min=-0.5), Scenario("Plan", {"a": 0.2}), seed=1)
    assert result.distance == 0.0 and result.values() == {"a": 0.2, "b": 0.0} and result.binding == []


def test_a_target_that_cannot_be_met_at_max_levers_is_explained_and_the_rest_are_sought():
    # cap 60 needs 20a + 10b ≥ 40: impossible (max 30); share ≥ 0.5 is possible
    result = seek(LinearModel(cap=60.0, share_min=0.5), PLAN, seed=1)
    assert not result.feasible
    assert result.infeasible == [{"id": "cap", "margin_at_max": pytest.approx(-10.0), "margin_at_scenario": -40.0}]
    assert result.values()["b"] == pytest.approx(0.5, abs=1e-3) and result.values()["a"] == pytest.approx(0.0)
    assert result.binding == ["share"]
    assert "cap" in result.notes[0]


def test_seek_with_a_probability_meets_it_on_the_ensemble_and_not_much_beyond():
    # P(E ≤ 85) ≥ 0.9 with s ~ U[−5, 5]  ⇔  20a + 10b ≥ 15 + 4 (the 90 % quantile of s)
    model = LinearModel()
    result = seek(model, PLAN, seed=2, probability=0.9, runs=200)
    values = result.values()
    reduction = 20 * values["a"] + 10 * values["b"]
    assert 19.0 - 0.1 <= reduction <= 19.0 + 0.2
    check = ensemble(model, Scenario("sought", values), runs=200, seed=2)
    assert check.p_met()["cap"] >= 0.9
    assert result.binding == ["cap"] and result.probability == 0.9 and result.runs == 200


def test_json_shape_and_bad_inputs():
    data = json.loads(json.dumps(seek(LinearModel(), PLAN, seed=1).to_dict()))
    assert {"scenario", "feasible", "distance", "levers", "targets", "binding", "infeasible", "seed"} <= set(data)
    assert {"name", "group", "unit", "scenario", "value", "min", "max", "change"} == set(data["levers"][0])
    with pytest.raises(InputError, match="unknown target"):
        seek(LinearModel(), PLAN, targets=["nope"])
    with pytest.raises(InputError, match="not a lever"):
        seek(LinearModel(), PLAN, levers=["s"])
    with pytest.raises(InputError, match="probability must be"):
        seek(LinearModel(), PLAN, probability=1.5)
    with pytest.raises(InputError, match="cost weights must be positive"):
        seek(LinearModel(), PLAN, cost={"a": -1.0})

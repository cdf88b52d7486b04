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


# issue 17 (seek): least-cost goal-seek ------------------------------------------------------------------------


class CostOutput(Output):
    def __init__(self, co2: np.ndarray, targets: dict, npv: np.ndarray):
        super().__init__(co2, targets)
        self._npv = npv
        self.series["cost_power_cny"] = np.outer(npv, np.ones(len(YEARS)))
        self.series["cost_total_cny"] = self.series["cost_power_cny"]

    def npv(self) -> np.ndarray:
        return self._npv


class CostModel(LinearModel):
    """The linear model with an NPV ``cost_a·a + cost_b·b`` (CNY): per unit of E(2030) cut, a costs cost_a/20
    and b cost_b/10."""

    def __init__(self, cost_a: float, cost_b: float, **kwargs):
        super().__init__(**kwargs)
        self.cost_a, self.cost_b = cost_a, cost_b

    def evaluate(self, X: np.ndarray) -> CostOutput:
        out = super().evaluate(X)
        return CostOutput(out.series["co2_emissions_t"], out.targets(), self.cost_a * X[:, 0] + self.cost_b * X[:, 1])


POTENTIAL_B = {"id": "b_potential", "name_zh": "乙潜力", "name_en": "Potential of b", "technology": "b", "lever": "b",
               "value": 1.0, "unit": "u", "source": "toy", "status": "estimate"}


def test_least_cost_uses_the_cheaper_lever_first_up_to_its_max():
    # 20a + 10b ≥ 15; b cuts at 1 CNY per unit of E, a at 2: b = 1 (cuts 10), then a = 0.25; NPV = 40·0.25 + 10
    result = seek(CostModel(40.0, 10.0), PLAN, seed=1, objective="least-cost")
    assert result.values()["b"] == pytest.approx(1.0, abs=1e-4)
    assert result.values()["a"] == pytest.approx(0.25, abs=1e-4)
    assert result.feasible and result.binding == ["cap"] and result.objective == "least-cost"
    assert result.cost["npv_cny"] == pytest.approx(20.0, abs=1e-3)
    assert result.cost["npv_scenario_cny"] == 0.0 and result.cost["npv_change_cny"] == pytest.approx(20.0, abs=1e-3)
    assert result.cost["annual_change_cny"]["2030"]["power"] == pytest.approx(20.0, abs=1e-3)
    # b cuts at 3 CNY per unit, a at 2: only a moves, a = 0.75
    other = seek(CostModel(40.0, 30.0), PLAN, seed=1, objective="least-cost")
    assert other.values()["a"] == pytest.approx(0.75, abs=1e-4) and other.values()["b"] == pytest.approx(0.0, abs=1e-4)
    assert other.cost["npv_cny"] == pytest.approx(30.0, abs=1e-3)


def test_least_cost_names_the_potential_that_binds_a_feasible_answer():
    result = seek(CostModel(40.0, 10.0), PLAN, seed=1, objective="least-cost", potentials=[POTENTIAL_B])
    assert [(p["id"], p["lever"]) for p in result.binding_potentials] == [("b_potential", "b")]
    assert result.why == {}


def test_least_cost_explains_an_unreachable_target_by_its_potential_and_the_parameter_that_decides_it():
    # cap 67 needs 20a + 10b ≥ 33 − s: at most 30 with the levers; the uncertain s decides: s ≤ −3 would do
    result = seek(CostModel(40.0, 10.0, cap=67.0), PLAN, seed=1, objective="least-cost", potentials=[POTENTIAL_B])
    assert not result.feasible and [t["id"] for t in result.infeasible] == ["cap"]
    why = result.why["cap"]
    assert why["margin_at_best"] == pytest.approx(-3.0)
    assert {lv["id"] for lv in why["levers"]} == {"a", "b"}
    b = next(lv for lv in why["levers"] if lv["id"] == "b")
    assert b["end"] == "max" and b["potential"]["id"] == "b_potential" and b["value"] == 1.0
    (s,) = why["parameters"]
    assert s["id"] == "s" and s["end"] == -5.0 and s["needed"] == pytest.approx(-3.0, abs=1e-6)
    assert "Potential of b" in why["text_en"] and "乙潜力" in why["text_zh"]
    data = json.loads(json.dumps(result.to_dict()))
    assert {"objective", "cost", "why", "binding_potentials"} <= set(data)


def test_least_cost_with_a_probability_meets_it_on_the_ensemble():
    # P(E ≤ 85) ≥ 0.9 with s ~ U[−5, 5]: 20a + 10b ≥ 15 + 4; b first (cheaper) then a ≈ 0.45
    model = CostModel(40.0, 10.0)
    result = seek(model, PLAN, seed=2, probability=0.9, runs=200, objective="least-cost")
    values = result.values()
    assert values["b"] == pytest.approx(1.0, abs=1e-3)
    assert 0.45 - 0.01 <= values["a"] <= 0.45 + 0.01
    assert ensemble(model, Scenario("sought", values), runs=200, seed=2).p_met()["cap"] >= 0.9


def test_least_cost_is_deterministic_and_keeps_the_scenario_floor():
    one = seek(CostModel(40.0, 30.0), Scenario("Plan", {"b": 0.2}), seed=3, objective="least-cost",
               keep_scenario=True)
    two = seek(CostModel(40.0, 30.0), Scenario("Plan", {"b": 0.2}), seed=3, objective="least-cost",
               keep_scenario=True)
    assert one.values() == two.values() and one.evaluations == two.evaluations
    # b may not fall below the scenario's 0.2: a covers the rest, 20a ≥ 15 − 2
    assert one.values()["b"] == pytest.approx(0.2, abs=1e-6) and one.values()["a"] == pytest.approx(0.65, abs=1e-4)


def test_bad_objective_names_the_field():
    with pytest.raises(InputError) as error:
        seek(CostModel(1.0, 1.0), PLAN, objective="cheapest")
    assert error.value.problems[0].field == "objective"
    with pytest.raises(InputError, match="reports no cost") as missing:
        seek(LinearModel(), PLAN, objective="least-cost")
    assert missing.value.problems[0].field == "objective"


def test_least_cost_with_a_probability_seeks_the_rest_on_the_central_run():
    # cap 72: 20a + 10b ≥ 28 + s; with P ≥ 0.9 out of reach (s ≤ 2 has P 0.7), centrally a = 0.9 after b = 1
    result = seek(CostModel(40.0, 10.0, cap=72.0), PLAN, seed=2, probability=0.9, runs=200, objective="least-cost")
    assert result.central_only == ["cap"] and result.infeasible == [] and result.feasible
    assert result.values()["b"] == pytest.approx(1.0, abs=1e-4) and result.values()["a"] == pytest.approx(0.9, abs=1e-4)
    assert "sought on the central run: cap" in " ".join(result.notes)


def test_move_weights_belong_to_the_distance_objective():
    with pytest.raises(InputError) as error:
        seek(CostModel(1.0, 1.0), PLAN, objective="least-cost", cost={"a": 2.0})
    assert error.value.problems[0].field == "cost"

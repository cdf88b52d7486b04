"""The MACC (citycarbon.pathways.macc): hand-worked MACs on an additive toy model, the interaction residual,
levers off the curve, common random numbers in the ensemble, bad input, and the Dalian model end to end."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.pathways.macc import compare_costs, macc

from .toys import Table, check_protocol

YEARS = np.arange(2020, 2061)


@dataclass
class Scen:
    name: str
    levers: dict[str, float]
    parameters: dict[str, float] = field(default_factory=dict)
    code: str = ""


@dataclass
class Out:
    years: np.ndarray
    series: dict[str, np.ndarray]

    def peak_year(self):
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self):
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self):
        return {}


class Toy:
    """CO2 (t/yr, from 2021; 1 000 in 2020) = 1000 − 100·a·u − 50·b·u + 30·d + inter·a·b (c does nothing);
    cost (CNY/yr) = 10·k·a − 1000·b + 5·c + 7·d, with u uncertain (central 1) and k a cost figure (central 2000)."""

    def __init__(self, inter: float = 0.0, coef: tuple[float, ...] = (100.0, 50.0, 30.0), calls: list | None = None):
        self.parameters = Table(
            names=["a", "b", "c", "d", "u", "k"], default=[0, 0, 0, 0, 1, 2000], low=[0, 0, 0, 0, 0.5, 1000],
            high=[1, 1, 1, 1, 1.5, 3000], group=["1", "2", "2", "3", "u", "cost"],
            kind=["lever", "lever", "lever", "lever", "uncertain", "cost"], direction=[1, 1, 0, -1, 0, 0],
            unit=["-"] * 6, source=["toy"] * 6)
        self.inter, self.coef = inter, coef
        self.calls = calls if calls is not None else []

    def vector(self, scenario):
        x = np.array(self.parameters.default, dtype=float)
        for name, value in {**scenario.levers, **scenario.parameters}.items():
            x[self.parameters.names.index(name)] = value
        return x

    def evaluate(self, X):
        X = np.atleast_2d(X)
        self.calls.append(len(X))
        a, b, c, d, u, k = (X[:, [i]] for i in range(6))
        on = (YEARS > 2020)[None, :].astype(float)
        ca, cb, cd = self.coef
        co2 = 1000.0 - on * (ca * a * u + cb * b * u - cd * d - self.inter * a * b)
        cost = on * (10.0 * k * a - 1000.0 * b + 5.0 * c + 7.0 * d)
        return Out(YEARS, {"co2_emissions_t": co2, "net_co2_emissions_consumption_t": co2 - 10.0,
                           "net_co2_emissions_t": co2, "cost_total_cny": cost})


BAU = Scen("BAU", {})
FULL = Scen("Full", {"a": 1, "b": 1, "c": 1})


def test_toy_is_a_pathway_model():
    check_protocol(Toy(), FULL)


def test_hand_worked_macs_sorted_with_cumulative_abatement():
    # a: abatement 100·1 = 100 t, Δcost 10·2000 = 20 000 CNY → MAC 200; b: 50 t, −1 000 CNY → MAC −20
    calls: list[int] = []
    result = macc(Toy(calls=calls), FULL, 2030, base=BAU)
    assert [e.lever for e in result.levers] == ["b", "a"]
    b, a = result.levers
    assert (b.abatement_t, b.delta_cost_cny, b.mac_cny_per_t) == (50.0, -1000.0, -20.0)
    assert (a.abatement_t, a.delta_cost_cny, a.mac_cny_per_t) == (100.0, 20000.0, 200.0)
    assert (b.cumulative_start_t, b.cumulative_end_t, a.cumulative_start_t, a.cumulative_end_t) == (0, 50, 50, 150)
    assert result.package["abatement_t"] == 150.0 and result.package["delta_cost_cny"] == 19005.0
    assert result.interaction_residual == {"abatement_t": 0.0, "delta_cost_cny": 0.0}
    assert result.co2_scenario_t == 1000 - 150 - 10 and result.co2_base_t == 990
    assert result.series == "net_co2_emissions_consumption_t"
    assert calls == [5]  # one evaluation: scenario, package base, one row per lever


def test_zero_and_negative_abatement_are_off_the_curve():
    result = macc(Toy(), Scen("S", {"a": 1, "c": 1, "d": 1}), 2060, base=BAU)
    assert [e.lever for e in result.levers] == ["a"]
    off = {e.lever: e for e in result.off_curve}
    assert off["c"].reason == "zero_abatement" and off["c"].mac_cny_per_t is None
    assert off["c"].abatement_t == 0.0 and off["c"].delta_cost_cny == 5.0
    assert off["d"].reason == "adds_emissions" and off["d"].abatement_t == -30.0 and off["d"].mac_cny_per_t is None
    data = result.to_dict()
    assert [e["lever"] for e in data["off_curve"]] == ["c", "d"]
    assert data["units"]["mac_cny_per_t"] == "CNY/t CO2"


def test_interaction_residual_by_hand():
    # CO2 = 1000 − 100a − 50b + 20ab: scenario 870; without a 950 (80 t), without b 900 (30 t); package 130 t
    result = macc(Toy(inter=20.0), FULL, 2030, base=BAU)
    ab = {e.lever: e.abatement_t for e in result.levers}
    assert ab == {"a": 80.0, "b": 30.0}
    assert result.package["abatement_t"] == 130.0
    assert result.interaction_residual["abatement_t"] == 20.0
    assert result.sum_of_levers["abatement_t"] == 110.0


@settings(max_examples=30, deadline=None)
@given(inter=st.floats(-40, 40), ca=st.floats(1, 500), cb=st.floats(1, 500), cd=st.floats(0, 100),
       year=st.integers(2021, 2060))
def test_levers_plus_residual_equal_the_package(inter, ca, cb, cd, year):
    result = macc(Toy(inter=inter, coef=(ca, cb, cd)), Scen("S", {"a": 1, "b": 0.5, "c": 1, "d": 0.3}), year,
                  base=BAU)
    for key in ("abatement_t", "delta_cost_cny"):
        total = result.sum_of_levers[key] + result.interaction_residual[key]
        assert total == pytest.approx(result.package[key], rel=1e-12, abs=1e-9)
        every = sum(e.to_dict()[key] for e in result.levers + result.off_curve)
        assert every == pytest.approx(result.sum_of_levers[key], rel=1e-12, abs=1e-9)


def test_ensemble_uses_common_random_numbers():
    # abatement_a = 100u and abatement_b = 50u rise together with u: with the same draws for every configuration
    # the package's percentiles are the sums of the levers' (independent draws would break this)
    result = macc(Toy(), Scen("S", {"a": 1, "b": 1}), 2030, base=BAU, runs=64, seed=3)
    by = {e.lever: e.percentiles for e in result.levers}
    package = result.package["percentiles"]["abatement_t"]
    for q in ("p5", "p50", "p95"):
        assert package[q] == pytest.approx(by["a"]["abatement_t"][q] + by["b"]["abatement_t"][q], rel=1e-12)
    u = np.array(by["a"]["abatement_t"]["p5"]) / 100
    assert 0.5 <= u < 0.6  # the p5 of a uniform on [0.5, 1.5]
    mac_b = by["b"]["mac_cny_per_t"]
    assert mac_b["share_defined"] == 1.0 and mac_b["p5"] < mac_b["p50"] < mac_b["p95"] < 0
    again = macc(Toy(), Scen("S", {"a": 1, "b": 1}), 2030, base=BAU, runs=64, seed=3)
    assert again.to_dict()["levers"] == result.to_dict()["levers"]
    assert len(result.rows()) == 4 and "MAC p95" in result.rows()[0]


@pytest.mark.parametrize("year", [2020, 2061, 1999, 2030.5, "next"])
def test_bad_year_is_named(year):
    with pytest.raises(InputError) as error:
        macc(Toy(), FULL, year, base=BAU)
    assert error.value.problems[0].field == "year"


@pytest.mark.parametrize(("kwargs", "field_name"), [
    ({"basis": "gross"}, "basis"), ({"runs": -1}, "runs"), ({"runs": 2.5}, "runs")])
def test_bad_options_are_named(kwargs, field_name):
    with pytest.raises(InputError) as error:
        macc(Toy(), FULL, 2030, base=BAU, **kwargs)
    assert error.value.problems[0].field == field_name


def test_nothing_to_abate():
    with pytest.raises(InputError) as error:
        macc(Toy(), BAU, 2030, base=BAU)
    assert error.value.problems[0].field == "scenario"


def test_a_basis_the_model_lacks_falls_back_to_the_headline_with_a_note():
    result = macc(Toy(), FULL, 2030, base=BAU, basis="territorial")
    assert result.series == "net_co2_emissions_t"
    assert result.notes and "net_co2_emissions_territorial_t" in result.notes[0]


# --- the Dalian model -----------------------------------------------------------------------------------------


def test_dalian_macc_2030_and_2060(model):
    from citycarbon.pathways import load_scenario

    enhanced = load_scenario("Enhanced")
    for year in (2030, 2060):
        result = macc(model, enhanced, year)
        macs = [e.mac_cny_per_t for e in result.levers]
        assert macs == sorted(macs) and len(result.levers) > 10
        assert all(e.name_zh and e.group_title_zh for e in result.levers)
        total = result.sum_of_levers["abatement_t"] + result.interaction_residual["abatement_t"]
        assert total == pytest.approx(result.package["abatement_t"], rel=1e-12)
        assert result.package["abatement_t"] > 1e7  # Enhanced cuts more than 10 Mt against BAU
        out = model.evaluate(np.vstack([model.vector(enhanced), model.vector(load_scenario("BAU"))]))
        net = out.series["net_co2_emissions_consumption_t"][:, year - 2020]
        assert result.package["abatement_t"] == pytest.approx(net[1] - net[0], rel=1e-12)


def test_dalian_costs_against_bau(model):
    from citycarbon.pathways import load_scenario

    data = compare_costs(model, [load_scenario("Plan")], "BAU")
    plan = data["scenarios"][0]
    out = model.evaluate(np.vstack([model.vector(load_scenario(n)) for n in ("BAU", "Plan")]))
    npv = out.npv()
    assert plan["npv_cny"] == pytest.approx(npv[1]) and plan["npv_vs_versus_cny"] == pytest.approx(npv[1] - npv[0])
    assert len(plan["annual"]["cost_total_cny"]) == len(data["years"]) == 41
    sectors = sum(np.array(plan["annual"][f"cost_{s}_cny"]) for s in data["sectors"])
    np.testing.assert_allclose(sectors, plan["annual"]["cost_total_cny"], rtol=1e-12)


def test_run_json_has_bases_and_costs(model):
    from citycarbon.pathways import load_scenario

    plan = load_scenario("Plan")
    data = model.run(plan).to_dict()
    out = model.evaluate(model.vector(plan)[None, :])
    assert set(data["bases"]) == {"net_inflow", "consumption", "territorial"}
    for basis, entry in data["bases"].items():
        assert entry["peak_year"] == int(out.peak_year(basis)[0])
        assert data["series"][entry["series"]["co2"]] == list(out.series[f"co2_emissions_{basis}_t"][0])
        assert data["units"][entry["series"]["net_co2"]] == data["units"]["co2_emissions_t"]
    costs = data["costs"]
    assert costs["npv_cny"] == float(out.npv()[0]) and costs["units"]["annual"] == "CNY/yr"
    by_sector = sum(np.array(costs["annual"][f"cost_{s}_cny"]) for s in costs["sectors"])
    by_kind = sum(np.array(costs["annual"][f"cost_{k}_cny"]) for k in costs["kinds"])
    np.testing.assert_allclose(by_sector, costs["annual"]["cost_total_cny"], rtol=1e-12)
    np.testing.assert_allclose(by_kind, costs["annual"]["cost_total_cny"], rtol=1e-9)


def test_service_default_scenario_and_limits(monkeypatch):
    from citycarbon.services.pathways import MAX_MACC_RUNS, PathwayService

    service = PathwayService("dalian", source="files")
    monkeypatch.setattr(service, "shipped_names", lambda: ["BAU", "Plan", "Enhanced"])
    assert service.macc_default_scenario() == "Enhanced"
    monkeypatch.setattr(service, "shipped_names", lambda: ["BAU", "Plan", "Enhanced", "Neutrality"])
    assert service.macc_default_scenario() == "Neutrality"
    monkeypatch.undo()
    with pytest.raises(InputError) as error:
        service.macc(service.base_scenario("Enhanced"), 2030, runs=MAX_MACC_RUNS + 1)
    assert error.value.problems[0].field == "runs"
    with pytest.raises(InputError) as error:
        service.costs([service.base_scenario("Plan")], versus="BUA")
    assert error.value.problems[0].field == "versus" and error.value.problems[0].suggestion

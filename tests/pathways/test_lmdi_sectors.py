"""Issue 17 item 6: value added, energy and allocated CO2 by sector in the pathway model, and the LMDI of pathways
by sector (one pathway between two years, two pathways in one year) that closes on the change and on the Shapley
wedges' total gap."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.pathways import load_scenario
from citycarbon.pathways.attribution import (
    LMDI_CATEGORIES,
    SECTOR_FACTORS,
    lmdi_between,
    lmdi_of_pathway,
    shapley,
)
from citycarbon.pathways.model import SECTOR_GROUPS
from tests.pathways.toys import Table

GROUPS = SECTOR_GROUPS


def _random_runs(model, seed: int, n: int) -> np.ndarray:
    params = model.parameters
    rng = np.random.default_rng(seed)
    return params.low + rng.uniform(0.0, 1.0, (n, len(params.names))) * (params.high - params.low)


@pytest.fixture(scope="module")
def bases(model):
    """The Dalian model on each headline CO2 basis (the accounting profile's choice, here forced)."""
    return {basis: replace(model, co2_basis=basis) for basis in ("net_inflow", "consumption", "territorial")}


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_sector_parts_sum_to_the_totals_for_random_parameter_vectors(bases, seed):
    for basis, m in bases.items():
        s = m.evaluate(_random_runs(m, seed, 3)).series
        va = s["value_added_industry_10k_yuan"] + s["value_added_agriculture_10k_yuan"] \
            + s["value_added_services_10k_yuan"]
        assert np.abs(va / s["gdp_10k_yuan"] - 1).max() <= 1e-9
        energy = sum(s[f"energy_{g}_tce"] for g in GROUPS) + s["energy_supply_remainder_tce"]
        assert np.abs(energy / s["energy_consumption_tce"] - 1).max() <= 1e-9
        co2 = sum(s[f"co2_{g}_allocated_t"] for g in GROUPS) + s["co2_process_t"] - s["ccus_t"] \
            + s["co2_supply_remainder_t"]
        scale = np.maximum(np.abs(s["co2_emissions_t"]), 1.0)
        assert np.abs(co2 - s["co2_emissions_t"]).max() <= 1e-9 * scale.max(), basis
        for g in GROUPS:
            assert (s[f"energy_{g}_tce"] > 0).all() and (s[f"co2_{g}_allocated_t"] >= 0).all()
        assert (s["energy_households_tce"] <= s["energy_buildings_tce"]).all()
        assert (s["co2_households_allocated_t"] <= s["co2_buildings_allocated_t"] * (1 + 1e-12)).all()
        assert (s["value_added_services_10k_yuan"] >= 0.3 * s["gdp_10k_yuan"] * (1 - 1e-12)).all()
        assert (s["value_added_industry_10k_yuan"] > 0).all()


def test_the_base_year_split_is_the_statistics_and_the_consumption_basis_has_a_small_remainder(model, bases):
    s = model.evaluate(model.vector(load_scenario("BAU"))[None, :]).series
    gdp = s["gdp_10k_yuan"][0, 0]
    # statistics 2020 (10^8 CNY): primary 464, secondary 2 798.1, tertiary 3 768.3 of 7 030.4
    assert s["value_added_industry_10k_yuan"][0, 0] / gdp == pytest.approx(2798.1 / 7030.4, rel=1e-12)
    assert s["value_added_agriculture_10k_yuan"][0, 0] / gdp == pytest.approx(464 / 7030.4, rel=1e-12)
    # the structure-shift lever moves value added from industry to services at the same GDP
    plan = load_scenario("Enhanced")
    t = model.evaluate(np.vstack([model.vector(load_scenario("BAU")), model.vector(plan)])).series
    assert (t["gdp_10k_yuan"][0] == t["gdp_10k_yuan"][1]).all()
    assert t["value_added_industry_10k_yuan"][1, -1] < t["value_added_industry_10k_yuan"][0, -1]
    # on the consumption basis what is not allocated is the networks' losses, DACCS and heat pumps only
    c = bases["consumption"].evaluate(model.vector(load_scenario("BAU"))[None, :]).series
    assert 0 <= c["co2_supply_remainder_t"][0, 0] < 0.1 * c["co2_emissions_t"][0, 0]


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2021, 2060), st.booleans())
def test_by_sector_lmdi_of_a_pathway_closes_on_the_change(model, seed, year, chain):
    x = _random_runs(model, seed, 1)[0]
    scenario = Vector("random", x)
    result = lmdi_of_pathway(VectorModel(model), scenario, year, by="sector", chain=chain)
    out = model.evaluate(x[None, :])
    change = out.value_at("co2_emissions_t", year)[0] - out.value_at("co2_emissions_t", 2020)[0]
    assert result.total_change == change
    total = math.fsum([*result.effects.ravel(), *result.other.values()])
    assert total == pytest.approx(change, abs=1e-9 * abs(out.value_at("co2_emissions_t", 2020)[0]))
    assert result.closure_error <= 1e-9
    assert set(result.to_dict()["by_sector"]) == set(LMDI_CATEGORIES)
    assert result.to_dict()["by_sector"]["buildings_households"]["structure"] == 0.0  # on GDP: no structure
    # two random pathways in that year: the effects add up to the difference
    y = _random_runs(model, seed + 1, 1)[0]
    between = lmdi_between(VectorModel(model), scenario, Vector("other", y), year)
    pair = model.evaluate(np.vstack([x, y])).value_at("co2_emissions_t", year)
    assert between.total_change == pair[1] - pair[0]
    assert between.closure_error <= 1e-9


def test_lmdi_between_bau_and_plan_in_2030_adds_up_to_the_shapley_gap(model):
    bau, plan = load_scenario("BAU"), load_scenario("Plan")
    result = lmdi_between(model, bau, plan, 2030)
    wedges = shapley(model, bau, plan, permutations=2, seed=0)
    i = list(wedges.years).index(2030)
    assert result.total_change == pytest.approx(float(wedges.total[i]), rel=1e-12, abs=0)
    assert result.total_change == pytest.approx(float(wedges.contributions[:, i].sum()), rel=1e-9)
    data = result.to_dict()
    total = math.fsum([v for v in data["additive"].values()])
    assert total == pytest.approx(result.total_change, rel=1e-9)
    assert data["additive"]["activity"] == 0.0  # same GDP path in both scenarios
    assert data["kind"] == "between" and data["year"] == 2030 and (data["base"], data["scenario"]) == ("BAU", "Plan")
    assert data["by_sector"]["industry"]["energy_intensity"] < 0 and data["total_change"] < 0


def test_the_city_lmdi_of_the_dalian_model_is_unchanged_by_the_sector_series(model):
    # the Dalian model's co2_<sector>_t is direct CO2 only: without by="sector" the city as a whole
    result = lmdi_of_pathway(model, load_scenario("Plan"), 2030)
    assert result.categories == ("city",)
    assert set(result.factors) == {"activity", "energy_intensity", "carbon_factor"}


def test_bad_input_names_the_field(model):
    plan = load_scenario("Plan")
    with pytest.raises(InputError, match="not a model year") as error:
        lmdi_between(model, load_scenario("BAU"), plan, 2070)
    assert error.value.problems[0].field == "year"
    with pytest.raises(InputError, match="by must be"):
        lmdi_of_pathway(model, plan, 2030, by="district")
    with pytest.raises(InputError, match="same"):
        lmdi_of_pathway(model, plan, 2020, by="sector")
    with pytest.raises(InputError, match="by-sector LMDI needs"):
        lmdi_between(ToySectorModel(drop="value_added_services_10k_yuan"), Vector("a", [0.4, 1.0]),
                     Vector("b", [0.2, 3.0]), 2021)


# --- a toy model whose LMDI is worked by hand --------------------------------------------------------------

@dataclass
class Vector:
    name: str
    x: list[float] | np.ndarray
    code: str = "v"


class VectorModel:
    """The Dalian model taking a raw parameter vector as its scenario."""

    def __init__(self, model):
        self.model = model

    def vector(self, scenario: Vector) -> np.ndarray:
        return np.asarray(scenario.x, dtype=float)

    def evaluate(self, X):
        return self.model.evaluate(X)


class _Out:
    def __init__(self, series):
        self.years = np.array([2020, 2021])
        self.series = series


class ToySectorModel:
    """GDP 100 in both years; industry's value-added share s = x0 and carbon factor f = x1 in 2021 (0.4 and 1 in
    2020), its energy intensity 1 tce per 10^4 CNY; every other sector 0; process CO2 5, CCUS 0, remainder 0."""

    def __init__(self, drop: str | None = None):
        self.drop = drop
        self.parameters = Table(names=["share", "factor"], default=[0.4, 1.0], low=[0.0, 0.0], high=[1.0, 5.0],
                                group=["structure", "fuel"], kind=["lever", "lever"], direction=[1, 1])

    def vector(self, scenario: Vector) -> np.ndarray:
        return np.asarray(scenario.x, dtype=float)

    def evaluate(self, X: np.ndarray) -> _Out:
        n = len(X)
        first = np.ones((n, 1))
        share = np.hstack([0.4 * first, X[:, :1]])
        factor = np.hstack([first, X[:, 1:2]])
        gdp = np.full((n, 2), 100.0)
        zero = np.zeros((n, 2))
        va = gdp * share
        energy = va * 1.0
        co2 = energy * factor
        series = {"gdp_10k_yuan": gdp, "value_added_industry_10k_yuan": va,
                  "value_added_agriculture_10k_yuan": zero, "value_added_services_10k_yuan": gdp - va,
                  "energy_industry_tce": energy, "co2_industry_allocated_t": co2,
                  "co2_process_t": zero + 5.0, "ccus_t": zero, "co2_supply_remainder_t": zero,
                  "co2_emissions_t": co2 + 5.0}
        for g in ("buildings", "transport", "agriculture", "households"):
            series[f"energy_{g}_tce"] = zero
            series[f"co2_{g}_allocated_t"] = zero
        series.pop(self.drop, None)
        return _Out(series)


def test_toy_lmdi_between_is_worked_by_hand_and_equals_the_wedges_total():
    model = ToySectorModel()
    base, scenario = Vector("BAU", [0.4, 1.0]), Vector("Plan", [0.2, 3.0])
    result = lmdi_between(model, base, scenario, 2021)
    # industry CO2 40 → 60: L(60, 40) = 20 / ln 1.5; structure L · ln 0.5, carbon factor L · ln 3 (Ang 2005)
    weight = 20.0 / math.log(1.5)
    effects = dict(zip(SECTOR_FACTORS, result.effects[0], strict=True))
    assert effects["structure"] == pytest.approx(weight * math.log(0.5), rel=1e-12)
    assert effects["carbon_factor"] == pytest.approx(weight * math.log(3.0), rel=1e-12)
    assert effects["activity"] == 0.0 and effects["energy_intensity"] == 0.0
    assert result.other == {"process": 0.0, "ccus": 0.0, "supply_remainder": 0.0}
    assert result.total_change == 20.0 and result.effects[1:].sum() == 0.0
    wedges = shapley(model, base, scenario, exact=True)
    assert result.total_change == float(wedges.total[1])
    assert sum(result.additive.values()) == pytest.approx(float(wedges.contributions[:, 1].sum()), rel=1e-12)
    # one factor alone: its effect is the whole change
    alone = lmdi_between(model, base, Vector("Shift", [0.2, 1.0]), 2021)
    assert alone.additive["structure"] == pytest.approx(-20.0, rel=1e-12)
    # and over time within one pathway, the same numbers (2020 holds the base's values)
    period = lmdi_of_pathway(model, scenario, 2021, by="sector")
    assert period.additive["carbon_factor"] == pytest.approx(weight * math.log(3.0), rel=1e-12)
    assert period.kind == "period" and period.to_dict()["from"] == 2020


def test_cli_attribute_shows_the_by_sector_lmdi_of_the_gap_and_keeps_the_period_lmdi():
    import json

    from typer.testing import CliRunner

    from citycarbon.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["pathway", "attribute", "--scenario", "Plan", "--base", "BAU", "--permutations", "3",
                                 "--lmdi", "2030", "--source", "files", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    between = data["lmdi_between"]
    assert between["year"] == 2030 and set(between["by_sector"]) == set(LMDI_CATEGORIES)
    assert between["wedges_difference"] == pytest.approx(0.0, abs=1e-6 * abs(between["wedges_total"]))
    assert data["lmdi"]["to"] == 2030 and set(data["lmdi"]["additive"]) == {"activity", "energy_intensity",
                                                                            "carbon_factor"}
    period = json.loads(runner.invoke(app, ["pathway", "attribute", "--scenario", "Plan", "--permutations", "3",
                                            "--lmdi-period", "2030", "--source", "files", "--format",
                                            "json"]).stdout)
    assert "lmdi_between" not in period and period["lmdi"]["to"] == 2030
    assert period["lmdi_by_sector"]["kind"] == "period" and period["lmdi_by_sector"]["closure_error"] <= 1e-9
    table = runner.invoke(app, ["pathway", "attribute", "--scenario", "Plan", "--permutations", "3", "--lmdi",
                                "2030", "--source", "files"])
    assert table.exit_code == 0 and "LMDI BAU→Plan 2030" in table.stdout and "能耗强度" in table.stdout
    bad = runner.invoke(app, ["pathway", "attribute", "--scenario", "Plan", "--lmdi", "2070", "--source", "files"])
    assert bad.exit_code == 2 and "not a model year" in bad.output



def test_without_a_sector_split_in_the_statistics_the_fallback_shares_are_used():
    import pandas as pd

    from citycarbon.pathways.model import _value_added_arrays

    empty = pd.DataFrame({"year": [], "region": [], "variable": [], "value": [], "unit": [], "price_base_year": []})
    arrays = _value_added_arrays(empty, "210200", 2020, 1000.0)
    assert float(arrays["va_industry_base"]) == pytest.approx(378.0)  # China 2020: 37.8 %
    assert float(arrays["va_agriculture_base"]) == pytest.approx(77.0)  # 7.7 %

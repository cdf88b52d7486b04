"""Latin-hypercube ensembles: reproducibility, stratification, analytic probabilities, monotonicity, JSON shape.

The model here is a small analytic toy implementing the pathway-model protocol
(:class:`citycarbon.pathways.uncertainty.PathwayModel`), so every expected value is known in closed form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.pathways.uncertainty import (
    PathwayModel,
    _inverse_cdf,
    ensemble,
    load_distributions,
)
from tests.pathways.toys import Table, check_protocol

YEARS = np.arange(2020, 2041)


@dataclass
class Scenario:
    name: str
    levers: dict[str, float]
    code: str = "toy0001"
    parameters: dict[str, float] = field(default_factory=dict)


class Output:
    def __init__(self, series: dict[str, np.ndarray], targets: dict[str, tuple[np.ndarray, np.ndarray]]):
        self.years = YEARS
        self.series = series
        self._targets = targets

    def peak_year(self) -> np.ndarray:
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self) -> np.ndarray:
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return self._targets


class GrowthModel:
    """E(t) = 100·exp(g·(t−2020))·(1 − a·min(1, (t−2020)/10)) + s; target: E(2030) ≤ cap.

    ``a`` is a lever (more = less CO2), ``g`` and ``s`` are uncertain.
    """

    def __init__(self, cap: float = 120.0, distribution: list[str] | None = None):
        self.cap = cap
        self.parameters = Table(names=["a", "g", "s"], default=[0.3, 0.02, 0.0], low=[0.0, 0.0, -5.0],
                                high=[0.8, 0.05, 5.0], group=["efficiency", "growth", "noise"],
                                kind=["lever", "uncertain", "uncertain"], direction=[1, 0, 0],
                                unit=["1", "1/a", "t"], source=["toy"] * 3, distribution=distribution)

    def vector(self, scenario: Scenario) -> np.ndarray:
        x = np.array(self.parameters.default, dtype=float)
        for name, value in {**scenario.levers, **scenario.parameters}.items():
            x[self.parameters.names.index(name)] = value
        return x

    def evaluate(self, X: np.ndarray) -> Output:
        a, g, s = X[:, 0:1], X[:, 1:2], X[:, 2:3]
        t = (YEARS - 2020)[None, :]
        co2 = 100.0 * np.exp(g * t) * (1.0 - a * np.minimum(1.0, t / 10.0)) + s
        e2030 = co2[:, 10]
        return Output({"co2_emissions_t": co2, "energy_tce": co2 * 0.5},
                      {"cap_2030": (e2030 <= self.cap, self.cap - e2030)})


class PeakModel:
    """CO2 peaks at 2020 + floor(20·u) for one uncertain u ~ U[0, 1): P(peak ≤ 2030) = 11/20 exactly."""

    def __init__(self):
        self.parameters = Table(names=["u", "lever"], default=[0.5, 0.0], low=[0.0, 0.0], high=[1.0, 1.0],
                                group=["u", "l"], kind=["uncertain", "lever"], direction=[0, 1],
                                unit=["1", "1"], source=["toy", "toy"], distribution=["uniform", "uniform"])

    def vector(self, scenario: Scenario) -> np.ndarray:
        return np.array([0.5, scenario.levers.get("lever", 0.0)])

    def evaluate(self, X: np.ndarray) -> Output:
        peak = 2020 + np.floor(20 * X[:, 0:1])
        co2 = 1000.0 - (YEARS[None, :] - peak) ** 2
        return Output({"co2_emissions_t": co2, "u": np.repeat(X[:, 0:1], len(YEARS), axis=1)}, {})


PLAN = Scenario("Plan", {"a": 0.3})


def _arrays(result) -> dict[str, np.ndarray]:
    out = {"sample": result.sample, "peak_year": result.peak_year, "peak_value": result.peak_value}
    out.update({f"s:{k}": v for k, v in result.series.items()})
    out.update({f"m:{k}": v for k, v in result.met.items()})
    out.update({f"g:{k}": v for k, v in result.margin.items()})
    return out


def test_toy_models_satisfy_the_protocol():
    check_protocol(GrowthModel(), PLAN)
    check_protocol(PeakModel(), Scenario("Plan", {"lever": 0.5}))


def test_the_protocol_check_fails_a_model_that_breaks_a_promise():
    class Coupled(GrowthModel):  # runs that depend on each other: not one run per row
        def evaluate(self, X):
            out = super().evaluate(X)
            out.series["co2_emissions_t"] = out.series["co2_emissions_t"] + X[:, 1].mean()
            return out

    class Transposed(GrowthModel):
        def evaluate(self, X):
            out = super().evaluate(X)
            out.series["energy_tce"] = out.series["energy_tce"].T
            return out

    class Unbounded(GrowthModel):
        def __init__(self):
            super().__init__()
            self.parameters.default = [0.9, 0.02, 0.0]  # above the lever's high of 0.8

    for broken in (Coupled(), Transposed(), Unbounded()):
        with pytest.raises(AssertionError):
            check_protocol(broken, PLAN)
    assert not isinstance(object(), PathwayModel)


def test_the_dalian_model_satisfies_the_protocol(model):
    from citycarbon.pathways import load_scenario

    check_protocol(model, load_scenario("Plan"), runs=5)


def test_same_seed_gives_bit_identical_arrays_whatever_the_chunk_size():
    model = GrowthModel()
    one = _arrays(ensemble(model, PLAN, runs=500, seed=7))
    two = _arrays(ensemble(model, PLAN, runs=500, seed=7, chunk=37))
    three = _arrays(ensemble(model, PLAN, runs=500, seed=7, chunk=1))
    assert one.keys() == two.keys() == three.keys()
    for key in one:
        assert one[key].tobytes() == two[key].tobytes() == three[key].tobytes(), key
    other = ensemble(model, PLAN, runs=500, seed=8)
    assert not np.array_equal(one["sample"], other.sample)


def test_latin_hypercube_puts_one_draw_in_each_stratum():
    runs = 400
    result = ensemble(GrowthModel(distribution=["uniform"] * 3), PLAN, runs=runs, seed=3)
    for j, (low, high) in enumerate([(0.0, 0.05), (-5.0, 5.0)]):
        strata = np.floor((result.sample[:, j] - low) / (high - low) * runs).astype(int)
        assert sorted(strata) == list(range(runs))
    # levers stay at the scenario's value in every run
    assert result.parameter_names == ("g", "s")


def test_distributions_come_from_the_data_file_unless_the_table_has_a_column():
    from importlib import resources

    import yaml

    text = resources.files("citycarbon.data").joinpath("pathways", "uncertainty.yaml").read_text(encoding="utf-8")
    declared = yaml.safe_load(text)
    expected = tuple(declared["parameters"].get(n, {}).get("distribution", declared["default"]["distribution"])
                     for n in ("g", "s"))
    assert load_distributions(GrowthModel(), ["g", "s"]) == expected
    column = GrowthModel(distribution=["uniform", "triangular", "uniform"])
    assert load_distributions(column, ["g", "s"]) == ("triangular", "uniform")


def test_triangular_draws_have_the_triangular_mean():
    # triangular with mode at the default: mean = (low + mode + high) / 3
    model = GrowthModel(distribution=["uniform", "triangular", "triangular"])
    result = ensemble(model, PLAN, runs=4000, seed=11)
    assert result.distributions == ("triangular", "triangular")
    assert result.sample[:, 0].mean() == pytest.approx((0.0 + 0.02 + 0.05) / 3, abs=2e-4)
    assert result.sample[:, 1].mean() == pytest.approx(0.0, abs=0.02)
    assert result.sample.min(axis=0).tolist() >= [0.0, -5.0]
    assert result.sample.max(axis=0).tolist() <= [0.05, 5.0]


def test_inverse_cdf_of_the_triangular_distribution_hits_its_quantiles():
    # Tri(low=0, mode=0, high=1) has F(x) = 1 − (1 − x)², so its median is 1 − sqrt(1/2)
    u = np.array([[0.0], [0.5], [1.0]])
    x = _inverse_cdf(u, np.array([0.0]), np.array([1.0]), np.array([0.0]), ["triangular"])
    assert x[:, 0] == pytest.approx([0.0, 1 - np.sqrt(0.5), 1.0])
    x = _inverse_cdf(np.array([[0.25]]), np.array([2.0]), np.array([6.0]), np.array([3.0]), ["triangular"])
    assert x[0, 0] == pytest.approx(3.0)  # F(mode) = (3 − 2)/(6 − 2) = 0.25


def test_peak_probability_and_distribution_are_exact_with_stratified_draws():
    result = ensemble(PeakModel(), Scenario("Plan", {}), runs=200, seed=5, series=None)
    assert result.p_peak_by(2030) == 0.55
    distribution = result.peak_year_distribution()
    assert distribution == {year: 0.05 for year in range(2020, 2040)}
    # percentiles of a uniform series: the p-th percentile of 200 stratified draws is within 1/200 of p/100
    stats = result.percentiles()["u"]
    for name, q in (("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95)):
        assert stats[name] == pytest.approx(np.full(len(YEARS), q), abs=1 / 200)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 0.8), st.floats(0.0, 0.8), st.integers(0, 2**16))
def test_more_ambition_never_lowers_the_probability_of_meeting_a_target(a1, a2, seed):
    low, high = min(a1, a2), max(a1, a2)
    model = GrowthModel(cap=110.0)
    p_low = ensemble(model, Scenario("x", {"a": low}), runs=64, seed=seed).p_met()["cap_2030"]
    p_high = ensemble(model, Scenario("x", {"a": high}), runs=64, seed=seed).p_met()["cap_2030"]
    assert p_high >= p_low


def test_to_dict_has_the_issue_json_shape():
    result = ensemble(GrowthModel(), PLAN, runs=100, seed=1)
    data = json.loads(json.dumps(result.to_dict()))
    assert {"runs", "seed", "p_peak_by_2030", "peak_year_distribution", "targets", "percentiles"} <= data.keys()
    assert data["runs"] == 100 and data["seed"] == 1 and data["scenario"] == "Plan" and data["code"] == "toy0001"
    assert data["targets"] == [{"id": "cap_2030", "p_met": result.p_met()["cap_2030"],
                                "mean_margin": pytest.approx(float(np.mean(result.margin["cap_2030"])))}]
    assert set(data["percentiles"]) == {"co2_emissions_t"}  # the headline series the model has
    assert set(data["percentiles"]["co2_emissions_t"]) == {"p5", "p25", "p50", "p75", "p95"}
    assert len(data["percentiles"]["co2_emissions_t"]["p50"]) == len(YEARS)
    assert sum(data["peak_year_distribution"].values()) == pytest.approx(1.0)
    assert data["provenance"]["parameters"]["seed"] == 1
    cumulative = data["indicators"]["cumulative_co2_t"]
    assert cumulative["share_defined"] == 1.0
    assert cumulative["p50"] == pytest.approx(float(np.median(result.series["co2_emissions_t"].sum(axis=1))))


def test_series_selection_keeps_only_the_named_series():
    result = ensemble(GrowthModel(), PLAN, runs=20, seed=1, series=["energy_tce"])
    assert set(result.series) == {"energy_tce"}
    assert set(ensemble(GrowthModel(), PLAN, runs=20, seed=1, series=None).series) == {"co2_emissions_t", "energy_tce"}
    with pytest.raises(InputError, match="series must be"):
        ensemble(GrowthModel(), PLAN, runs=20, seed=1, series="all")
    with pytest.raises(InputError, match="no series 'nope'"):
        ensemble(GrowthModel(), PLAN, runs=20, seed=1, series=["nope"])


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError, match="runs must be"):
        ensemble(GrowthModel(), PLAN, runs=0, seed=1)
    with pytest.raises(InputError, match="chunk must be"):
        ensemble(GrowthModel(), PLAN, runs=10, seed=1, chunk=0)
    broken = GrowthModel()
    broken.parameters.low = [0.0, 0.1, -5.0]  # g: low > high
    with pytest.raises(InputError, match="field 'g'"):
        ensemble(broken, PLAN, runs=10, seed=1)
    wrong = GrowthModel(distribution=["uniform", "normal", "uniform"])
    with pytest.raises(InputError, match="distribution must be one of"):
        ensemble(wrong, PLAN, runs=10, seed=1)


def test_uncertain_parameters_the_scenario_sets_are_not_sampled():
    result = ensemble(GrowthModel(), Scenario("High growth", {"a": 0.3}, parameters={"g": 0.045}), runs=50, seed=1)
    assert result.parameter_names == ("s",)
    # E(2030) = 100·exp(0.045·10)·(1 − 0.3) + s with s ∈ [−5, 5]
    e2030 = result.series["co2_emissions_t"][:, 10]
    assert np.all(np.abs(e2030 - 100 * np.exp(0.45) * 0.7) <= 5.0 + 1e-9)


def test_optional_indicators_of_the_output_are_summarised_where_defined():
    class WithNeutrality(PeakModel):
        def evaluate(self, X):
            out = super().evaluate(X)
            out.neutrality_year = lambda: np.where(X[:, 0] < 0.25, 2055.0, np.nan)
            return out

    summary = ensemble(WithNeutrality(), Scenario("Plan", {}), runs=200, seed=2).indicator_summary()
    assert summary["neutrality_year"]["share_defined"] == 0.25  # stratified: exactly 50 of 200 draws below 0.25
    assert summary["neutrality_year"]["p50"] == 2055.0

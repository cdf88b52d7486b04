"""Sobol and Morris on toy models with known indices (Ishigami–Homma 1990 function, an inert factor)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from citycarbon.errors import InputError
from citycarbon.pathways.sensitivity import morris, output_values, sobol
from tests.pathways.toys import Table

PI = np.pi
# Ishigami & Homma (1990), a = 7, b = 0.1, x_i ~ U[−π, π]: analytic first-order and total indices
# (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, §4.9; Sobol' & Levitan 1999)
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0, "x4": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437, "x4": 0.0}


class Output:
    def __init__(self, co2: np.ndarray, years: np.ndarray):
        self.years = years
        self.series = {"co2_emissions_t": co2}

    def peak_year(self) -> np.ndarray:
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self) -> np.ndarray:
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self) -> dict:
        co2 = self.series["co2_emissions_t"][:, 0]
        return {"cap": (co2 <= 0.0, -co2)}


class Ishigami:
    """co2 in the single year 2020 is the Ishigami function of x1..x3; x4 is inert; x5 has no range."""

    years = np.array([2020])

    def __init__(self):
        self.parameters = Table(names=["x1", "x2", "x3", "x4", "x5"], default=[0.0] * 5,
                                low=[-PI, -PI, -PI, -PI, 1.0], high=[PI, PI, PI, PI, 1.0],
                                group=["g1", "g2", "g2", "g3", "g3"],
                                kind=["lever", "uncertain", "uncertain", "lever", "lever"], direction=[1, 0, 0, 0, 0])

    def vector(self, scenario: object) -> np.ndarray:
        return np.array([0.0, 0.0, 0.0, 0.0, 1.0])

    def evaluate(self, X: np.ndarray) -> Output:
        x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
        y = np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)
        return Output((y * X[:, 4])[:, None], self.years)


def test_sobol_recovers_the_ishigami_indices():
    result = sobol(Ishigami(), "Plan", 1024, seed=42, output="cumulative_co2")
    assert result.runs == 1024 * (2 * 4 + 2)  # x5 has an empty range and is not a factor
    by_name = {f["name"]: f for f in result.factors}
    assert set(by_name) == {"x1", "x2", "x3", "x4"}
    for name in by_name:
        f = by_name[name]
        assert abs(f["S1"] - ISHIGAMI_S1[name]) <= max(2 * f["S1_conf"], 0.03), (name, f)
        assert abs(f["ST"] - ISHIGAMI_ST[name]) <= max(2 * f["ST_conf"], 0.03), (name, f)
    assert result.names[0] == "x1" and result.names[-1] == "x4"  # sorted by ST
    # x1·x3 interact (the 0.1·x3⁴·sin x1 term): S2(x1, x3) = ST1 − S1 ≈ 0.244, the largest pair
    top = result.second_order[0]
    assert {top["a"], top["b"]} == {"x1", "x3"}
    assert top["S2"] == pytest.approx(0.2437, abs=max(2 * top["S2_conf"], 0.05))


def test_sobol_is_deterministic_for_a_seed_and_json_serialisable():
    one = sobol(Ishigami(), "Plan", 64, seed=1, second_order=False).to_dict()
    two = sobol(Ishigami(), "Plan", 64, seed=1, second_order=False, chunk=17).to_dict()
    one.pop("provenance"), two.pop("provenance")
    assert one == two
    assert one["runs"] == 64 * (4 + 2) and one["second_order"] == []
    json.dumps(one)


def test_sobol_by_group_gives_one_index_per_group():
    result = sobol(Ishigami(), "Plan", 256, seed=3, by="group", second_order=False)
    assert sorted(result.names) == ["g1", "g2", "g3"]
    by_name = {f["name"]: f for f in result.factors}
    # g2 = {x2, x3}: ST = S2 + S3 + S13 (x3 acts only together with x1) = 0.4424 + 0 + 0.2437
    assert by_name["g2"]["ST"] == pytest.approx(0.4424 + 0.2437, abs=0.06)
    assert by_name["g3"]["ST"] == pytest.approx(0.0, abs=0.01)


def test_morris_ranks_the_inert_parameter_last():
    result = morris(Ishigami(), "Plan", 40, seed=5)
    assert result.runs == 40 * (4 + 1)
    assert result.names[-1] == "x4"
    last = result.factors[-1]
    assert last["mu_star"] == pytest.approx(0.0, abs=1e-12) and last["sigma"] == pytest.approx(0.0, abs=1e-12)
    assert result.factors[0]["mu_star"] > 1.0
    assert {r["因素 / factor"] for r in result.rows()} == {"x1", "x2", "x3", "x4"}


def test_constant_output_gives_zero_indices_with_a_note():
    result = sobol(Ishigami(), "Plan", 16, seed=1, parameters=["x3", "x4"],
                   output="peak_year", second_order=False)
    assert result.note and all(f["ST"] == 0.0 for f in result.factors)


def test_output_names_are_checked():
    out = Ishigami().evaluate(np.tile([0.5, 0.5, 0.5, 0.0, 1.0], (2, 1)))
    assert output_values(out, "co2_2020") == pytest.approx(output_values(out, "cumulative_co2"))
    assert output_values(out, "margin:cap") == pytest.approx(-output_values(out, "co2_2020"))
    assert output_values(out, "series:co2_emissions_t:2020").shape == (2,)
    for bad, message in (("co2_2031", "outside the model years"), ("margin:nope", "unknown target"),
                         ("nonsense", "output must be"), ("series:nope:2020", "no series 'nope'")):
        with pytest.raises(InputError, match=message):
            output_values(out, bad)


def test_bad_sensitivity_inputs_are_input_errors():
    with pytest.raises(InputError, match="power of two"):
        sobol(Ishigami(), "Plan", 100, seed=1)
    with pytest.raises(InputError, match="unknown parameter"):
        sobol(Ishigami(), "Plan", 16, seed=1, parameters=["x1", "zz"])
    with pytest.raises(InputError, match="at least two parameters"):
        morris(Ishigami(), "Plan", 4, seed=1, parameters=["x1", "x5"])


@pytest.mark.parametrize(("d", "second_order"), [(5, True), (12, True), (6, False)])
def test_vectorised_sobol_indices_equal_salib_analyze(d, second_order):
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    from citycarbon.pathways.sensitivity import sobol_indices

    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    X = salib_sample.sample(problem, 128, calc_second_order=second_order, seed=3)
    y = np.sin(3 * X).sum(axis=1) + X[:, 0] * X[:, 1] ** 2 + 3 * X[:, 2] * X[:, 3]
    reference = salib_analyze.analyze(problem, y, calc_second_order=second_order, seed=11)
    ours = sobol_indices(y, d, 128, second_order=second_order, seed=11)
    assert set(ours) == ({"S1", "S1_conf", "ST", "ST_conf"} | ({"S2", "S2_conf"} if second_order else set()))
    for key, values in ours.items():
        np.testing.assert_allclose(values, reference[key], rtol=1e-9, atol=1e-12, err_msg=key)
    with pytest.raises(InputError, match="expected"):
        sobol_indices(y[:-1], d, 128, second_order=second_order)

"""LMDI-I decomposition (Ang 2004; Ang 2005 Table 1; Ang & Liu 2007 zero values) and the Kaya input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.data import read_csv_file
from citycarbon.decomposition import (
    CO2_FACTORS,
    ENERGY_FACTORS,
    decompose_lmdi,
    decompose_lmdi_chain,
    kaya_co2_input,
    kaya_energy_input,
    log_mean,
)
from citycarbon.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lmdi"
SETTINGS = settings(max_examples=60, deadline=None)


def long_frame(cube: np.ndarray, years: list[int] | None = None) -> pd.DataFrame:
    """``[year, category, factor]`` array -> long frame with categories c0.. and factors f0.."""
    n_years, n_categories, n_factors = cube.shape
    years = years if years is not None else list(range(2000, 2000 + n_years))
    return pd.DataFrame({
        "year": np.repeat(years, n_categories * n_factors),
        "category": np.tile(np.repeat([f"c{i}" for i in range(n_categories)], n_factors), n_years),
        "factor": np.tile([f"f{k}" for k in range(n_factors)], n_years * n_categories),
        "value": cube.ravel(),
    })


def aggregate(cube: np.ndarray) -> np.ndarray:
    return cube.prod(axis=-1).sum(axis=-1)


@st.composite
def positive_cubes(draw, min_years: int = 2, max_years: int = 2):
    n_years = draw(st.integers(min_years, max_years))
    n_categories = draw(st.integers(1, 5))
    n_factors = draw(st.integers(1, 4))
    size = n_years * n_categories * n_factors
    values = draw(st.lists(st.floats(1e-3, 1e3), min_size=size, max_size=size))
    return np.array(values).reshape(n_years, n_categories, n_factors)


# ------------------------------------------------------------------------------------------------
# the worked example (golden values)
# ------------------------------------------------------------------------------------------------

def test_lmdi_worked_example_two_sectors_three_factors():
    """Hand-worked example from the LMDI-I formulae of Ang (2005) Table 1 (eqs. 4 and 5).

    Origin of the numbers: a two-sector example made for this test (it is the 2015→2016 part of
    ``tests/fixtures/lmdi/city_small.csv``), computed by hand with ``L(a, b) = (a − b)/(ln a − ln b)``.
    A printed textbook table could not be retrieved while writing this test, so the digits are ours.

    E_i = Q · S_i · I_i            Q (activity)   S (structure)   I (intensity)   E_i
      year 0, industry             100            0.6             2.0             120
      year 0, services             100            0.4             0.5              20     E^0 = 140
      year T, industry             150            0.5             1.8             135
      year T, services             150            0.5             0.4              30     E^T = 165

    Weights: L(135, 120) = 15 / ln(1.125) = 127.352805;  L(30, 20) = 10 / ln(1.5) = 24.663035.
    Additive (eq. 5):
      ΔE_act = (127.352805 + 24.663035) · ln(1.5)                    =  61.637119
      ΔE_str = 127.352805 · ln(0.5/0.6) + 24.663035 · ln(0.5/0.4)     = −17.715765
      ΔE_int = 127.352805 · ln(0.9)     + 24.663035 · ln(0.8)         = −18.921354
      sum = 25.000000 = 165 − 140.
    Multiplicative (eq. 4, ln D_k = ΔE_k / L(E^T, E^0)): L(165, 140) = 25 / ln(165/140) = 152.157856
      D_act = exp(61.637119 / 152.157856) = 1.499432,  D_str = 0.890092,  D_int = 0.883068,
      product = 1.178571 = 165/140.
    """
    data = read_csv_file(FIXTURES / "city_small.csv")
    result = decompose_lmdi(data, start=2015, end=2016)
    assert result.additive["activity"] == pytest.approx(61.637119, abs=5e-7)
    assert result.additive["structure"] == pytest.approx(-17.715765, abs=5e-7)
    assert result.additive["intensity"] == pytest.approx(-18.921354, abs=5e-7)
    assert result.total_change == pytest.approx(25.0, abs=1e-12)
    assert result.multiplicative["activity"] == pytest.approx(1.499432, abs=5e-7)
    assert result.multiplicative["structure"] == pytest.approx(0.890092, abs=5e-7)
    assert result.multiplicative["intensity"] == pytest.approx(0.883068, abs=5e-7)
    assert result.ratio == pytest.approx(165 / 140, rel=1e-12)
    # per category: industry activity effect = 127.352805 · ln 1.5 = 51.637119
    assert result.by_category["industry"]["activity"] == pytest.approx(51.637119, abs=5e-7)
    assert result.by_category["services"]["activity"] == pytest.approx(10.0, abs=1e-9)
    assert result.by_category["services"]["structure"] == pytest.approx(5.503397, abs=5e-7)


def test_lmdi_to_dict_shape_is_json_safe():
    data = read_csv_file(FIXTURES / "city_small.csv")
    document = decompose_lmdi(data, start=2015, end=2017).to_dict()
    assert list(document) == ["from", "to", "total_change", "ratio", "additive", "multiplicative",
                              "by_category"]
    assert document["from"] == 2015 and document["to"] == 2017
    assert list(document["additive"]) == ["activity", "structure", "intensity"]
    assert set(document["by_category"]) == {"industry", "services"}
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_log_mean_definition():
    """L(a, b) = (a − b)/(ln a − ln b), L(a, a) = a, L(x, 0) = 0 (Ang 2005; Ang & Liu 2007)."""
    assert float(log_mean(135.0, 120.0)) == pytest.approx(15 / math.log(1.125), rel=1e-15)
    assert float(log_mean(7.0, 7.0)) == 7.0
    assert float(log_mean(5.0, 0.0)) == 0.0 and float(log_mean(0.0, 5.0)) == 0.0
    assert float(log_mean(0.0, 0.0)) == 0.0
    # nearly equal arguments stay accurate (L → a) and between the geometric and arithmetic means
    a, b = 1.0 + 1e-12, 1.0
    assert float(log_mean(a, b)) == pytest.approx(1.0 + 0.5e-12, rel=1e-15)


@given(st.floats(1e-6, 1e6), st.floats(1e-6, 1e6))
@SETTINGS
def test_log_mean_is_symmetric_and_between_geometric_and_arithmetic_mean(a, b):
    value = float(log_mean(a, b))
    assert value == float(log_mean(b, a))
    assert math.sqrt(a * b) * (1 - 1e-12) <= value <= (a + b) / 2 * (1 + 1e-12)


# ------------------------------------------------------------------------------------------------
# identities (hypothesis)
# ------------------------------------------------------------------------------------------------

@given(positive_cubes())
@SETTINGS
def test_lmdi_effects_sum_to_change(cube):
    result = decompose_lmdi(long_frame(cube), start=2000, end=2001)
    v0, v1 = aggregate(cube)
    assert result.v_start == pytest.approx(v0, rel=1e-12)
    assert abs(sum(result.additive.values()) - (v1 - v0)) <= 1e-9 * max(v0, v1)
    assert result.closure_error <= 1e-9
    by_category_total = sum(sum(row.values()) for row in result.by_category.values())
    assert by_category_total == pytest.approx(v1 - v0, rel=1e-9, abs=1e-9 * max(v0, v1))


@given(positive_cubes())
@SETTINGS
def test_lmdi_indices_multiply_to_ratio(cube):
    result = decompose_lmdi(long_frame(cube), start=2000, end=2001)
    v0, v1 = aggregate(cube)
    assert math.prod(result.multiplicative.values()) == pytest.approx(v1 / v0, rel=1e-9)
    assert result.ratio == pytest.approx(v1 / v0, rel=1e-12)


@given(positive_cubes(min_years=3, max_years=6))
@SETTINGS
def test_lmdi_chain_sums_and_multiplies_over_span(cube):
    data = long_frame(cube)
    result = decompose_lmdi_chain(data)
    totals = aggregate(cube)
    assert [(p.start, p.end) for p in result.periods] == [(2000 + j, 2001 + j) for j in range(len(cube) - 1)]
    assert (result.start, result.end) == (2000, 1999 + len(cube))
    scale = totals.max()
    assert abs(sum(result.additive.values()) - (totals[-1] - totals[0])) <= 1e-9 * scale
    assert math.prod(result.multiplicative.values()) == pytest.approx(totals[-1] / totals[0], rel=1e-9)
    for name in result.factors:
        assert result.additive[name] == pytest.approx(sum(p.additive[name] for p in result.periods),
                                                      rel=1e-12, abs=1e-12 * scale)
        assert result.multiplicative[name] == pytest.approx(
            math.prod(p.multiplicative[name] for p in result.periods), rel=1e-12)
    # each period equals the direct two-year decomposition
    second = decompose_lmdi(data, start=2001, end=2002)
    assert result.periods[1].additive == pytest.approx(second.additive, rel=1e-12, abs=1e-12 * scale)


@given(positive_cubes())
@SETTINGS
def test_lmdi_time_reversal_negates_effects_and_inverts_indices(cube):
    data = long_frame(cube)
    forward = decompose_lmdi(data, start=2000, end=2001)
    backward = decompose_lmdi(data, start=2001, end=2000)
    scale = max(forward.v_start, forward.v_end)
    for name in forward.factors:
        assert backward.additive[name] == pytest.approx(-forward.additive[name], rel=1e-9, abs=1e-12 * scale)
        assert backward.multiplicative[name] == pytest.approx(1 / forward.multiplicative[name], rel=1e-9)


@given(positive_cubes(), st.integers(0, 3), st.floats(0.05, 20.0))
@SETTINGS
def test_lmdi_only_the_changed_factor_has_an_effect(cube, which, c):
    """Scaling factor k by c in the end year (all categories): ΔV_k = (c − 1)·V^0, D_k = c, others 0/1."""
    k = which % cube.shape[2]
    end = cube[0].copy()
    end[:, k] *= c
    data = long_frame(np.stack([cube[0], end]))
    result = decompose_lmdi(data, start=2000, end=2001)
    v0 = aggregate(cube[:1])[0]
    for j, name in enumerate(result.factors):
        if j == k:
            assert result.additive[name] == pytest.approx((c - 1) * v0, rel=1e-9)
            assert result.multiplicative[name] == pytest.approx(c, rel=1e-9)
        else:
            assert result.additive[name] == 0.0
            assert result.multiplicative[name] == 1.0


@given(positive_cubes(min_years=2, max_years=4), st.data())
@SETTINGS
def test_lmdi_closure_holds_with_zero_values(cube, data):
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=cube.size, max_size=cube.size)))
    cube = np.where(mask.reshape(cube.shape), 0.0, cube)
    result = decompose_lmdi_chain(long_frame(cube))
    totals = aggregate(cube)
    scale = max(totals.max(), 1.0)
    assert abs(sum(result.additive.values()) - (totals[-1] - totals[0])) <= 1e-9 * scale
    for period in result.periods:
        assert all(math.isfinite(v) for v in period.additive.values())
        row_sums = [sum(row.values()) for row in period.by_category.values()]
        v0 = cube[period.start - 2000].prod(axis=-1)
        v1 = cube[period.end - 2000].prod(axis=-1)
        assert row_sums == pytest.approx(list(v1 - v0), rel=1e-9, abs=1e-9 * scale)


# ------------------------------------------------------------------------------------------------
# zero values: Ang & Liu (2007) analytical limits, computed by hand
# ------------------------------------------------------------------------------------------------

def _frame(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["year", "category", "factor", "value"])


def test_lmdi_category_appearing_gives_its_value_to_the_factor_that_was_zero():
    """Ang & Liu (2007): V_b^0 = 0 (x^0 = 0), V_b^T = 4·3 = 12. lim L(12, δ)·ln(4/δ) = 12 for x; y gets 0.

    Category a: V 1·2 = 2 → 2·2 = 4; L(4, 2) = 2/ln 2, so ΔV_x = (2/ln 2)·ln 2 = 2, ΔV_y = 0.
    Total ΔV = 16 − 2 = 14 = ΔV_x (2 + 12) + ΔV_y (0). Ratio 8 → D_x = 8, D_y = 1.
    """
    data = _frame([(0, "a", "x", 1), (0, "a", "y", 2), (0, "b", "x", 0), (0, "b", "y", 3),
                   (1, "a", "x", 2), (1, "a", "y", 2), (1, "b", "x", 4), (1, "b", "y", 3)])
    result = decompose_lmdi(data, start=0, end=1)
    assert result.by_category["b"] == {"x": 12.0, "y": 0.0}
    assert result.by_category["a"]["x"] == pytest.approx(2.0, rel=1e-15)
    assert result.additive["x"] == pytest.approx(14.0, rel=1e-15)
    assert result.total_change == 14.0
    assert result.multiplicative["x"] == pytest.approx(8.0, rel=1e-12)
    assert result.multiplicative["y"] == pytest.approx(1.0, rel=1e-15)


def test_lmdi_category_disappearing_splits_its_value_among_factors_that_become_zero():
    """V_b: 2·3·5 = 30 → 0·0·5 = 0. Both x and y go to zero (same rate δ): each gets −30/2 = −15, z 0.

    Category a is constant (1·1·1), so its effects are 0. ΔV = 1 − 31 = −30 (closure exact).
    """
    data = _frame([(0, "a", f, 1) for f in "xyz"] + [(1, "a", f, 1) for f in "xyz"]
                  + [(0, "b", "x", 2), (0, "b", "y", 3), (0, "b", "z", 5),
                     (1, "b", "x", 0), (1, "b", "y", 0), (1, "b", "z", 5)])
    result = decompose_lmdi(data, start=0, end=1)
    assert result.by_category["b"] == {"x": -15.0, "y": -15.0, "z": 0.0}
    assert result.by_category["a"] == {"x": 0.0, "y": 0.0, "z": 0.0}
    assert sum(result.additive.values()) == -30.0


def test_lmdi_zero_aggregate_leaves_multiplicative_undefined():
    data = _frame([(0, "a", "x", 0), (1, "a", "x", 5)])
    result = decompose_lmdi(data, start=0, end=1)
    assert result.additive == {"x": 5.0}
    assert math.isnan(result.ratio) and math.isnan(result.multiplicative["x"])
    document = result.to_dict()
    assert document["ratio"] is None and document["multiplicative"] == {"x": None}


# ------------------------------------------------------------------------------------------------
# contract violations
# ------------------------------------------------------------------------------------------------

@given(positive_cubes(), st.data())
@SETTINGS
def test_lmdi_rejects_negative_values_naming_the_row(cube, data):
    frame = long_frame(cube)
    position = data.draw(st.integers(0, len(frame) - 1))
    frame.loc[position, "value"] = -data.draw(st.floats(1e-6, 1e6))
    with pytest.raises(InputError) as caught:
        decompose_lmdi(frame, start=2000, end=2001, source="drivers.csv")
    problem = caught.value.first
    assert problem.row == position + 1 and problem.field == "value"
    assert problem.file == "drivers.csv"
    text = str(caught.value)
    assert f"category '{frame.loc[position, 'category']}'" in text
    assert f"factor '{frame.loc[position, 'factor']}'" in text
    assert f"year {frame.loc[position, 'year']}" in text


def test_lmdi_rejects_duplicate_rows():
    data = read_csv_file(FIXTURES / "duplicate_row.csv")
    with pytest.raises(InputError, match=r"duplicate row .*industry.*intensity.*first given in row 3") as caught:
        decompose_lmdi_chain(data)
    assert caught.value.first.row == 8


def test_lmdi_rejects_missing_combination():
    data = read_csv_file(FIXTURES / "missing_combination.csv")
    with pytest.raises(InputError, match="missing value for year 2016, category 'services', factor 'intensity'"):
        decompose_lmdi(data, start=2015, end=2016)
    # years not involved are not required to be complete
    assert decompose_lmdi(data, start=2015, end=2017).total_change == pytest.approx(
        160 * (0.45 * 1.7 + 0.55 * 0.42) - 140, rel=1e-12)


def test_lmdi_rejects_unknown_year_with_nearest():
    data = read_csv_file(FIXTURES / "city_small.csv")
    with pytest.raises(InputError, match="year 2018 is not in the data") as caught:
        decompose_lmdi(data, start=2015, end=2018)
    assert caught.value.first.suggestion == "2017"


def test_lmdi_rejects_same_start_and_end():
    data = read_csv_file(FIXTURES / "city_small.csv")
    with pytest.raises(InputError, match="same year"):
        decompose_lmdi(data, start=2016, end=2016)


def test_lmdi_rejects_missing_columns_with_suggestion():
    data = read_csv_file(FIXTURES / "wrong_columns.csv")
    with pytest.raises(InputError, match="missing column 'category'") as caught:
        decompose_lmdi_chain(data)
    assert caught.value.first.field == "category"


@pytest.mark.parametrize(("value", "message"), [("abc", "not a finite number"), (float("nan"), "missing"),
                                                (float("inf"), "not a finite number")])
def test_lmdi_rejects_non_numeric_values(value, message):
    frame = _frame([(0, "a", "x", 1.0), (1, "a", "x", 2.0)]).astype({"value": object})
    frame.loc[1, "value"] = value
    with pytest.raises(InputError, match=message) as caught:
        decompose_lmdi(frame, start=0, end=1)
    assert caught.value.first.row == 2


def test_lmdi_rejects_bad_year_and_empty_names():
    frame = pd.DataFrame({"year": [2000.5, 2001], "category": ["a", " "], "factor": ["x", "x"],
                          "value": [1.0, 2.0]})
    with pytest.raises(InputError) as caught:
        decompose_lmdi_chain(frame)
    messages = [str(p) for p in caught.value.problems]
    assert any("row 1" in m and "year must be an integer" in m for m in messages)
    assert any("row 2" in m and "category is empty" in m for m in messages)


def test_lmdi_rejects_bad_chain_years_and_non_frames():
    data = read_csv_file(FIXTURES / "city_small.csv")
    with pytest.raises(InputError, match="at least two years"):
        decompose_lmdi_chain(data, years=[2015])
    with pytest.raises(InputError, match="repeat"):
        decompose_lmdi_chain(data, years=[2015, 2016, 2015])
    with pytest.raises(InputError, match="at least two years"):
        decompose_lmdi_chain(data[data["year"] == 2015])
    with pytest.raises(InputError, match="DataFrame"):
        decompose_lmdi_chain([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no rows"):
        decompose_lmdi_chain(data.iloc[0:0])


def test_lmdi_chain_over_chosen_years_skips_others():
    data = read_csv_file(FIXTURES / "city_small.csv")
    chain = decompose_lmdi_chain(data, years=[2015, 2017])
    direct = decompose_lmdi(data, start=2015, end=2017)
    assert chain.additive == pytest.approx(direct.additive, rel=1e-14)
    assert len(chain.periods) == 1
    assert chain.provenance.parameters == {"years": [2015, 2017]}
    assert chain.provenance.inputs["data"].startswith("sha256:")


# ------------------------------------------------------------------------------------------------
# Kaya input
# ------------------------------------------------------------------------------------------------

def _kaya_frames():
    energy = pd.DataFrame({"year": [2015, 2015, 2016, 2016], "sector": ["industry", "services"] * 2,
                           "value": [3000.0, 1000.0, 3100.0, 1200.0]})  # 10^4 tce
    value_added = pd.DataFrame({"year": [2015, 2015, 2016, 2016], "sector": ["industry", "services"] * 2,
                                "value": [3.0e7, 4.0e7, 3.2e7, 4.5e7], "unit": "10^4 CNY"})
    population = pd.DataFrame({"year": [2015, 2016], "value": [700.0, 710.0]})  # 10^4 person
    gdp = pd.DataFrame({"year": [2015, 2016], "value": [7500.0, 8000.0]})  # 10^8 CNY
    co2 = pd.DataFrame({"year": [2015, 2015, 2016, 2016], "sector": ["industry", "services"] * 2,
                        "value": [8000.0, 2000.0, 8000.0, 2300.0]})  # 10^4 t
    return energy, value_added, population, gdp, co2


def test_kaya_energy_factors_multiply_to_sector_energy():
    """E_i = P·(G/P)·(Y_i/G)·(E_i/Y_i); Y_i given in 10^4 CNY is converted to GDP's 10^8 CNY (÷ 10^4)."""
    energy, value_added, population, gdp, _ = _kaya_frames()
    frame = kaya_energy_input(energy=energy, value_added=value_added, population=population, gdp=gdp)
    assert list(frame.columns) == ["year", "category", "factor", "value", "unit"]
    assert tuple(frame["factor"].iloc[:4]) == ENERGY_FACTORS
    wide = frame.pivot_table(index=["year", "category"], columns="factor", values="value")
    assert wide.loc[(2015, "industry"), "structure"] == pytest.approx(3000 / 7500, rel=1e-15)
    assert wide.loc[(2015, "industry"), "energy_intensity"] == pytest.approx(3000 / 3000, rel=1e-15)
    assert wide.loc[(2016, "services"), "gdp_per_capita"] == pytest.approx(8000 / 710, rel=1e-15)
    product = wide[list(ENERGY_FACTORS)].prod(axis=1)
    assert list(product) == pytest.approx([3000.0, 1000.0, 3100.0, 1200.0], rel=1e-14)
    units = dict(zip(frame["factor"], frame["unit"], strict=False))
    assert units == {"population": "10^4 person", "gdp_per_capita": "10^8 CNY/(10^4 person)",
                     "structure": "1", "energy_intensity": "10^4 tce/(10^8 CNY)"}
    result = decompose_lmdi(frame, start=2015, end=2016)
    assert sum(result.additive.values()) == pytest.approx(4300.0 - 4000.0, rel=1e-12)


def test_kaya_co2_population_only_change_is_all_population_effect():
    energy, value_added, population, gdp, co2 = _kaya_frames()
    # year 2016 = year 2015 with population and everything else scaled so only P changes:
    # G/P, Y_i/G, E_i/Y_i, C_i/E_i unchanged → scale P, G, Y, E, C by the same 1.1
    s = 1.1
    energy.loc[2:, "value"] = energy["value"].iloc[:2].to_numpy() * s
    value_added.loc[2:, "value"] = value_added["value"].iloc[:2].to_numpy() * s
    co2.loc[2:, "value"] = co2["value"].iloc[:2].to_numpy() * s
    population.loc[1, "value"] = 700.0 * s
    gdp.loc[1, "value"] = 7500.0 * s
    frame = kaya_co2_input(co2=co2, energy=energy, value_added=value_added, population=population, gdp=gdp)
    assert tuple(frame["factor"].iloc[:5]) == CO2_FACTORS
    result = decompose_lmdi(frame, start=2015, end=2016)
    assert result.additive["population"] == pytest.approx(0.1 * 10000.0, rel=1e-9)
    for name in CO2_FACTORS[1:]:
        assert result.additive[name] == pytest.approx(0.0, abs=1e-9)
    assert result.multiplicative["population"] == pytest.approx(s, rel=1e-12)


def test_kaya_zero_sector_gets_zero_intensity_and_closes():
    energy, value_added, population, gdp, co2 = _kaya_frames()
    energy.loc[1, "value"] = 0.0
    value_added.loc[1, "value"] = 0.0
    co2.loc[1, "value"] = 0.0
    frame = kaya_co2_input(co2=co2, energy=energy, value_added=value_added, population=population, gdp=gdp)
    services_2015 = frame[(frame["year"] == 2015) & (frame["category"] == "services")]
    assert dict(zip(services_2015["factor"], services_2015["value"], strict=True))["energy_intensity"] == 0.0
    result = decompose_lmdi(frame, start=2015, end=2016)
    assert sum(result.additive.values()) == pytest.approx(10300.0 - 8000.0, rel=1e-12)
    # the services sector appears: its whole 2016 CO2 goes to the factors that were zero (structure,
    # energy_intensity, carbon_factor), split equally
    assert result.by_category["services"]["structure"] == pytest.approx(2300.0 / 3, rel=1e-12)


def test_kaya_rejects_missing_sector_with_nearest_name():
    energy, value_added, population, gdp, _ = _kaya_frames()
    value_added.loc[3, "sector"] = "service"
    with pytest.raises(InputError, match="no value_added for sector 'services' in 2016") as caught:
        kaya_energy_input(energy=energy, value_added=value_added, population=population, gdp=gdp)
    assert caught.value.first.suggestion == "service"


def test_kaya_rejects_bad_inputs():
    energy, value_added, population, gdp, co2 = _kaya_frames()
    bad = energy.copy()
    bad.loc[2, "value"] = -1.0
    with pytest.raises(InputError, match="negative value") as caught:
        kaya_energy_input(energy=bad, value_added=value_added, population=population, gdp=gdp)
    assert caught.value.first.row == 3 and caught.value.first.file == "energy"
    no_va = value_added.copy()
    no_va.loc[0, "value"] = 0.0
    with pytest.raises(InputError, match="no value added"):
        kaya_energy_input(energy=energy, value_added=no_va, population=population, gdp=gdp)
    with pytest.raises(InputError, match="no population for 2016"):
        kaya_energy_input(energy=energy, value_added=value_added, population=population.iloc[:1], gdp=gdp)
    with pytest.raises(InputError, match="dimension"):
        kaya_energy_input(energy=energy, value_added=value_added, population=population, gdp=gdp,
                          energy_unit="10^4 t")
    with pytest.raises(InputError, match="several units"):
        kaya_energy_input(energy=energy, value_added=value_added.assign(unit=["10^4 CNY", "CNY"] * 2),
                          population=population, gdp=gdp)
    with pytest.raises(InputError, match="duplicate row"):
        kaya_energy_input(energy=pd.concat([energy, energy.iloc[:1]]), value_added=value_added,
                          population=population, gdp=gdp)
    with pytest.raises(InputError, match="lacks column 'sector'"):
        kaya_energy_input(energy=energy.rename(columns={"sector": "sectr"}), value_added=value_added,
                          population=population, gdp=gdp)
    extra = pd.concat([co2, pd.DataFrame({"year": [2016], "sector": ["transport"], "value": [5.0]})])
    with pytest.raises(InputError, match="CO2 given for sector 'transport'"):
        kaya_co2_input(co2=extra, energy=energy, value_added=value_added, population=population, gdp=gdp)
    no_energy = energy.copy()
    no_energy.loc[1, "value"] = 0.0
    with pytest.raises(InputError, match="uses no energy"):
        kaya_co2_input(co2=co2, energy=no_energy, value_added=value_added, population=population, gdp=gdp)
    with pytest.raises(InputError, match="gdp must be positive"):
        kaya_energy_input(energy=energy, value_added=value_added, population=population,
                          gdp=gdp.assign(value=[0.0, 8000.0]))

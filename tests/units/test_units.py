"""The unit registry: dimensions compared as pint objects, the International Table calorie (GB/T 2589)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from citycarbon.units import conversion_factor, convert, dimension, dimensionality, same_dimension

SRC = Path(__file__).resolve().parents[2] / "src" / "citycarbon"


# --- dimensions: objects, never text ----------------------------------------------------------------------

def test_equal_dimensions_can_read_differently_and_still_compare_equal():
    """Why text must not be compared: pint writes one dimension in different orders."""
    assert dimensionality("m**2*kg/s**2") != dimensionality("MWh")  # the text differs …
    assert same_dimension("m**2*kg/s**2", "MWh")  # … the dimension does not
    assert dimension("m**2*kg/s**2") == dimension("10^4 kWh") == dimension("tce")
    assert not same_dimension("10^4 kWh", "10^4 t")


def test_no_source_file_compares_dimension_text():
    """Every dimension check goes through same_dimension()/dimension() (pint objects)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"dimensionality\([^)]*\)\s*[!=]=|[!=]=\s*dimensionality\(", line) or \
                    re.search(r"str\([^)]*\.dimensionality\)", line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


# --- the calorie of GB/T 2589 -----------------------------------------------------------------------------

@pytest.mark.parametrize(("unit", "joules"), [
    ("cal", 4.1868), ("calorie", 4.1868), ("kcal", 4186.8), ("Mcal", 4.1868e6), ("Gcal", 4.1868e9),
    ("international_calorie", 4.1868), ("cal_it", 4.1868),
    # the thermochemical calorie stays available under its explicit names
    ("thermochemical_calorie", 4.184), ("cal_th", 4.184), ("kcal_th", 4184.0),
])
def test_calories_in_joules(unit, joules):
    assert conversion_factor(unit, "J") == pytest.approx(joules, rel=1e-15)


def test_seven_thousand_kcal_is_one_kgce_golden():
    """GB/T 2589: 1 kgce is a fuel of 7 000 kcal net calorific value; 7 000 × 4.1868 kJ = 29 307.6 kJ, which the
    standard states as 29 307 kJ (its kgce, citycarbon's too): equal to the standard's five digits."""
    assert convert(7000.0, "kcal", "kJ") == pytest.approx(29307.6, rel=1e-15)
    assert convert(1.0, "kgce", "kJ") == pytest.approx(29307.0, rel=1e-15)
    assert round(convert(7000.0, "kcal", "kgce"), 4) == 1.0
    assert convert(7000.0, "kcal", "kgce") == pytest.approx(1.0, rel=2.1e-5)
    assert round(convert(7.0, "Gcal", "tce"), 4) == 1.0  # 7 Gcal = 1 tce
    # the thermochemical calorie would miss by 6.5e-4
    assert convert(7000.0, "kcal_th", "kgce") == pytest.approx(0.99935, abs=1e-5)


def test_units_pint_defines_from_the_thermochemical_calorie_keep_their_values():
    assert conversion_factor("Btu_th", "J") == pytest.approx(1054.3502644888893, rel=1e-12)
    assert conversion_factor("ton_TNT", "GJ") == pytest.approx(4.184, rel=1e-15)
    assert conversion_factor("langley", "J/cm**2") == pytest.approx(4.184, rel=1e-15)
    assert conversion_factor("toe", "GJ") == pytest.approx(41.868, rel=1e-15)  # 10^10 IT calories


@pytest.mark.parametrize(("kcal_per_kg", "kgce_per_kg"), [
    (5000, 0.7143),  # 原煤 raw coal
    (6300, 0.9000),  # 洗精煤 cleaned coal
    (6800, 0.9714),  # 焦炭 coke
    (10000, 1.4286),  # 原油 crude oil, 燃料油 fuel oil
])
def test_gbt2589_annex_a_coefficients_follow_from_their_kcal_values(kcal_per_kg, kgce_per_kg):
    """GB/T 2589 Annex A lists each fuel's heat in kcal/kg beside its 折标准煤系数 (kgce/kg, four decimals): with
    the International Table calorie the kcal figure gives the coefficient; the thermochemical one misses.
    (The table divides by 7 000 exactly: 汽油 10 300 kcal/kg is 1.4714 there, 1.4715 with citycarbon's kgce of
    29 307 kJ rather than 7 000 × 4.1868 = 29 307.6 kJ; the kgce definition is left as the architecture fixed it.)"""
    assert round(convert(kcal_per_kg, "kcal/kg", "kgce/kg"), 4) == kgce_per_kg
    assert round(convert(kcal_per_kg, "kcal_th/kg", "kgce/kg"), 4) != kgce_per_kg

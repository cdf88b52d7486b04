"""District accounting (citycarbon.tracking.districts.account_districts): imported district statistics replace the
share estimates figure by figure, each figure says where it comes from, and with shares only the districts still
sum to the city (property test)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.tracking.districts import account_districts, decompose_to_districts, roll_up_districts

REGIONS = ("210202", "210211", "210213")


def _shares(values: dict[str, tuple[float, float]], years=(2023, 2024)) -> pd.DataFrame:
    rows = [{"year": y, "region": r, "variable": v, "target_id": None, "value": share, "unit": "dimensionless",
             "status": "estimate", "source": "test shares"}
            for y in years for r, (energy, gdp) in values.items()
            for v, share in (("energy_share", energy), ("gdp_share", gdp))]
    return pd.DataFrame(rows)


CITY = {"energy_consumption_tce": {2023: 1000.0, 2024: 1100.0}, "gdp_10k_yuan": {2023: 500.0, 2024: 550.0},
        "co2_energy_t": {2023: 2000.0, 2024: 2100.0},
        "energy_consumption_dual_control_tce": {2023: 900.0, 2024: 950.0}}


def test_an_imported_figure_replaces_the_share_estimate_and_says_so():
    shares = _shares({"210202": (0.2, 0.5), "210211": (0.5, 0.3), "210213": (0.3, 0.2)})
    stats = pd.DataFrame([{"year": 2024, "region": "210211", "variable": "energy_consumption_tce", "value": 600.0,
                           "unit": "tce", "status": "official", "source": "区统计局", "batch_id": 7}])
    series, origins = account_districts(CITY, shares, stats)
    mine = series["210211"]
    assert mine["energy_consumption_tce"] == {2023: pytest.approx(500.0), 2024: 600.0}
    assert mine["gdp_10k_yuan"][2024] == pytest.approx(165.0)  # 550 × 0.3, share estimate
    assert mine["energy_intensity_tce_per_10k_yuan"][2024] == pytest.approx(600 / 165)
    assert origins["210211"]["energy_consumption_tce"][2024] == {
        "origin": "statistics", "status": "official", "source": "区统计局", "batch_id": 7, "estimate": False}
    assert origins["210211"]["energy_consumption_tce"][2023]["origin"] == "shares"
    assert origins["210211"]["gdp_10k_yuan"][2024]["estimate"] is True
    derived = origins["210211"]["energy_intensity_tce_per_10k_yuan"][2024]
    assert derived["origin"] == "derived" and derived["from"] == ["statistics", "shares"] and derived["estimate"]
    # the other districts are untouched
    assert series["210202"]["energy_consumption_tce"][2024] == pytest.approx(220.0)


def test_a_district_with_statistics_but_no_shares_is_accounted_from_its_statistics():
    stats = pd.DataFrame([{"year": 2024, "region": "210211", "variable": v, "value": x, "unit": u,
                           "status": "reported", "source": "s", "batch_id": None}
                          for v, x, u in (("energy_consumption_tce", 10.0, "tce"), ("gdp_10k_yuan", 4.0, "10^4 CNY"))])
    series, origins = account_districts(CITY, None, stats)
    assert series["210211"]["energy_intensity_tce_per_10k_yuan"] == {2024: 2.5}
    assert origins["210211"]["energy_intensity_tce_per_10k_yuan"][2024]["estimate"] is False


shares_st = st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=3, max_size=3)


@settings(max_examples=60, deadline=None)
@given(energy=shares_st, gdp=shares_st, scale=st.floats(min_value=1.0, max_value=1e8))
def test_with_shares_only_the_districts_sum_to_the_city(energy, gdp, scale):
    norm_e, norm_g = [x / sum(energy) for x in energy], [x / sum(gdp) for x in gdp]
    shares = _shares({r: (e, g) for r, e, g in zip(REGIONS, norm_e, norm_g, strict=True)})
    city = {name: {y: v * scale for y, v in values.items()} for name, values in CITY.items()}
    series, origins = account_districts(city, shares, None)
    assert series == decompose_to_districts(city, shares)
    total = roll_up_districts(series)
    for name in ("energy_consumption_tce", "gdp_10k_yuan", "co2_energy_t"):
        for year, value in city[name].items():
            assert total[name][year] == pytest.approx(value, rel=1e-9)
    intensity = total["energy_intensity_tce_per_10k_yuan"][2024]
    assert intensity == pytest.approx(city["energy_consumption_tce"][2024] / city["gdp_10k_yuan"][2024], rel=1e-9)
    assert all(o["origin"] == "shares" and o["estimate"] for r in REGIONS
               for o in origins[r]["energy_consumption_tce"].values())

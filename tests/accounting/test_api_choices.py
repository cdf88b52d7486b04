"""The accounting API takes the profile's method choices as query parameters (the CLI flags' names in
snake_case, the same values); the default answer is the city's profile."""

from __future__ import annotations

import pytest

from tests.api.conftest import api_env  # noqa: F401  (the seeded SQLite app, module scope)

API = "/api/v1"


def test_query_parameters_choose_the_method(api_env):  # noqa: F811
    default = api_env.get(f"{API}/indicators/2022").json()["data"]
    ipcc = api_env.get(f"{API}/indicators/2022?co2_factors=ipcc&grid_factor=reporting").json()["data"]
    assert ipcc["provenance"]["parameters"]["co2_factor_set"] == "ipcc_2006"
    assert ipcc["provenance"]["parameters"]["grid_ef_set"] == "mee_enterprise_reporting"
    assert default["provenance"]["parameters"]["co2_factor_set"] == "cn_provincial_2011"
    assert ipcc["indicators"]["co2_emissions_t"] != pytest.approx(default["indicators"]["co2_emissions_t"])
    # the energy side does not depend on the CO2 factors
    energy = "energy_consumption_tce"
    assert ipcc["indicators"][energy] == pytest.approx(default["indicators"][energy])
    same = api_env.get(f"{API}/indicators?year=2022&co2_factors=ipcc&grid_factor=reporting").json()["data"]
    assert same["indicators"] == ipcc["indicators"]
    consumption = api_env.get(f"{API}/indicators/2022?electricity_co2=consumption&method=calorific"
                              "&coal_rate=supply&non_fossil_attribution=local-mix").json()["data"]
    assert consumption["provenance"]["parameters"]["electricity_co2_basis"] == "consumption"
    assert consumption["electricity"]["method"] == "calorific"
    rows = consumption["co2_by_sector"]
    assert sum(r["co2_t"] for r in rows) == pytest.approx(consumption["indicators"]["co2_emissions_t"], rel=1e-9)


def test_bad_choice_is_422(api_env):  # noqa: F811
    answer = api_env.get(f"{API}/indicators/2022?co2_factors=ipcc2006")
    assert answer.status_code == 422
    assert api_env.get(f"{API}/indicators/1990?co2_factors=ipcc").status_code == 404

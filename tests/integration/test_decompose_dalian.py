"""`citycarbon decompose --city dalian`: the 2015–2024 history explained by the Kaya factors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.services.accounting import account_city_years

runner = CliRunner()


def _non_household(result, key: str) -> float:
    sectors = result.by_sector
    value = float(sectors.loc[~sectors["sector"].str.startswith("residential"), key].sum())
    if key == "co2_t":
        value += sum(result.co2_by_scope[k] for k in ("scope2_electricity_t", "scope2_heat_t", "scope1_process_t"))
    return value


@pytest.mark.parametrize(("measure", "key"), [("energy", "energy_tce"), ("co2", "co2_t")])
def test_effects_explain_the_accounted_change(measure, key):
    out = runner.invoke(app, ["decompose", "--city", "dalian", "--measure", measure, "--from", "2015", "--to", "2024",
                              "--format", "json"])
    assert out.exit_code == 0, out.output
    period = json.loads(out.stdout)["periods"][0]
    results = account_city_years([2015, 2024])
    change = _non_household(results[2024], key) - _non_household(results[2015], key)
    assert period["total_change"] == pytest.approx(change, rel=1e-9)
    assert sum(period["additive"].values()) == pytest.approx(change, rel=1e-9)
    assert period["additive"]["gdp_per_capita"] > 0  # growth raised energy use
    assert period["additive"]["energy_intensity"] < 0  # efficiency lowered it
    assert json.loads(out.stdout)["households"], "household energy is reported beside the identity"


def test_chain_over_all_years_and_bad_arguments():
    out = runner.invoke(app, ["decompose", "--city", "dalian", "--format", "json"])
    assert out.exit_code == 0 and len(json.loads(out.stdout)["periods"]) == 9
    assert runner.invoke(app, ["decompose", "--city", "dalian", "--measure", "water"]).exit_code == 2
    assert runner.invoke(app, ["decompose"]).exit_code == 2

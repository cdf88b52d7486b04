"""The two halves of the project gate's domain together, on the issue's example (issue 15 "Done when", its
domain part): a new chemical project of 长兴岛 with naphtha feedstock. Its energy is computed with the city's
accounting profile (tce both ways, CO2), and the rules are applied to that figure: energy-consumption replacement
of the consumption less the feedstock (803号), 两高 by its industry, the 节能审查 level in force on its date."""

from __future__ import annotations

from datetime import date

import pytest

from citycarbon.accounting.options import AccountingOptions
from citycarbon.factors import load_factors
from citycarbon.monitoring.uscc import uscc_check_character
from citycarbon.plan import load_plan
from citycarbon.projects.energy import project_energy
from citycarbon.projects.model import ProductLine, Project, ProjectKind, Quantity
from citycarbon.projects.rules import Severity, check
from citycarbon.projects.tables import load_tables

BODY = "91210281123456789"
USES = [{"fuel": "electricity", "quantity": 3600, "unit": "10^4 kWh"},
        {"fuel": "natural_gas", "quantity": 300, "unit": "10^4 m^3"},
        {"fuel": "naphtha", "quantity": 5000, "unit": "t", "purpose": "feedstock"}]


def test_energy_feeds_the_rules():
    energy = project_energy(USES, AccountingOptions.for_city("dalian"), 2024, load_factors())
    assert energy.tce_equivalent > energy.tce_calorific > energy.feedstock_tce_calorific > 0  # electricity both ways
    assert energy.co2_fuel_t > 0 and energy.co2_electricity_t > 0
    project = Project(id="P-8000", name="长兴岛精细化工项目", applicant_name="某化工有限公司",
                      applicant_uscc=BODY + uscc_check_character(BODY), region_code="210281", industry_code="C2614",
                      kind=ProjectKind.new, application_date=date(2026, 11, 20),
                      products=(ProductLine("aromatics", 100_000, "t/a"),),
                      energy={"electricity": Quantity(36_000_000, "kWh"),
                              "natural_gas": Quantity(3_000_000, "m**3")},
                      feedstock={"naphtha": Quantity(5000, "t")})
    found = check(project, load_plan().rules, load_tables(), annual_tce=energy.tce_calorific,
                  excluded_tce=energy.feedstock_tce_calorific)
    replacement = next(f for f in found if f.code == "replacement.energy")
    assert replacement.numbers["required"] == pytest.approx(energy.tce_calorific - energy.feedstock_tce_calorific)
    assert any(f.code == "lianggao.industry" for f in found)
    assert not [f for f in found if f.severity is Severity.refuse]

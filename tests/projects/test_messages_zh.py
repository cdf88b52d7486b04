"""The Chinese texts of the gate's findings show no raw identifier (issue 15 item 2): plan-rule codes and products
by their Chinese names, the superseded 节能审查 edition by its document, articles by ``article_zh``; every code
the rules can name has a label in ``plan_types.csv``; the English texts carry no Chinese."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from citycarbon.projects.model import ProductLine, ProjectKind, Quantity
from citycarbon.projects.rules import FEEDSTOCK_ENERGY, NEW_PROJECTS, NEW_RENEWABLE_ENERGY
from citycarbon.services.cities import plan_for
from citycarbon.services.projects.evaluate import evaluate, gate_tables
from tests.projects.support import CITY, chemical_project

IDENTIFIER = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
HAN = re.compile(r"[\u4e00-\u9fff]")

PROJECTS = {
    "ethylene": chemical_project(),
    "ethylene without plan": chemical_project(national_plan=None),
    "coal power": chemical_project(types=("coal_power_plant",), industry_code="D4411", products=()),
    "cement": chemical_project(industry_code="C3011", national_plan=None,
                               products=(ProductLine("cement_clinker", 1e6, "t/a", 120, "kgce/t"),)),
    "steel, 2023 rule": chemical_project(industry_code="C3120", application_date=date(2024, 1, 10),
                                         products=(ProductLine("blast_furnace", 1e6, "t/a", 400, "kgce/t"),)),
    "revamp with renewables": chemical_project(kind=ProjectKind.revamp, products=(),
                                               renewable_supply={"electricity": Quantity(100, "10^4 kWh")}),
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_chinese_texts_name_no_identifier_and_english_no_chinese(name):
    found = evaluate(CITY, replace(PROJECTS[name], id="XM-2026-0001")).findings
    assert found
    for f in found:
        assert not IDENTIFIER.findall(f.message_zh), (f.code, f.message_zh)
        assert "ndrc_" not in f.message_zh and "unknown" not in f.message_zh and "Art." not in f.message_zh
        if f.code.startswith("review."):
            assert "条款" in f.message_zh
        assert not HAN.search(f.message_en), (f.code, f.message_en)


def test_every_plan_rule_code_has_labels():
    tables = gate_tables()
    labelled = {t.code for t in tables.plan_types}
    codes = {c for b in tables.benchmarks for c in b.plan_types} | {NEW_PROJECTS, FEEDSTOCK_ENERGY,
                                                                     NEW_RENEWABLE_ENERGY}
    codes |= {c for rule in plan_for(CITY).rules for c in rule.applies_to}
    assert codes - {"all", "cumulative", "interval"} <= labelled
    assert all(HAN.search(t.name_zh) and not HAN.search(t.name_en) for t in tables.plan_types)


def test_the_superseded_edition_is_named_by_its_document():
    review = next(f for f in evaluate(CITY, replace(chemical_project(), id="X")).findings
                  if f.code.startswith("review."))
    superseded = next(e for e in gate_tables().energy_review.editions if e.id == "ndrc_2023_2")
    assert f"取代《{superseded.document}》" in review.message_zh

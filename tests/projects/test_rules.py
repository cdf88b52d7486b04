"""The project gate's rules on hand-worked projects, with the plan's own ``rules:`` (never hard-coded)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.codelists import codes
from citycarbon.errors import InputError
from citycarbon.monitoring.uscc import uscc_check_character
from citycarbon.plan.load import load_plan
from citycarbon.plan.models import Rule
from citycarbon.projects.model import ProductLine, Project, ProjectKind, Quantity, check_project
from citycarbon.projects.rules import (
    Finding,
    Severity,
    capacity_replacement_findings,
    check,
    efficiency_findings,
    lianggao_findings,
    plan_rule_findings,
    review_level_findings,
    worst,
)
from citycarbon.projects.tables import Verification, load_tables

TABLES = load_tables()
RULES = load_plan().rules
WAFANGDIAN = "210281"  # 瓦房店市, home of 长兴岛
_BODY = "91210281123456789"
USCC = _BODY + uscc_check_character(_BODY)


def _project(**changes: object) -> Project:
    base = Project(
        id="P-1", name="长兴岛芳烃项目", applicant_name="某石化有限公司", applicant_uscc=USCC,
        region_code=WAFANGDIAN, industry_code="C2614", kind=ProjectKind.new, application_date=date(2025, 10, 15))
    return replace(base, **changes)  # type: ignore[arg-type]


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _one(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, _codes(findings)
    return hits[0]


def test_naphtha_chemical_project_of_8000_tce_in_changxing_island() -> None:
    project = _project(
        products=(ProductLine("aromatics", 600_000, "t/a"),),
        energy={"electricity": Quantity(20_000_000, "kWh"), "natural_gas": Quantity(3_000_000, "m**3")},
        feedstock={"naphtha": Quantity(500_000, "t")})
    check_project(project, codes("fuels"))
    found = check(project, RULES, TABLES, annual_tce=8000, excluded_tce=0)
    # efficiency: aromatics is not in the benchmark table
    assert _one(found, "efficiency.unknown_product").severity is Severity.info
    # 两高: C26 化学原料和化学制品制造业
    assert _one(found, "lianggao.industry").subject == "C26"
    # task 7: energy-consumption replacement 8 000 tce at 1:1 (the ratio is this project's reading: estimate)
    energy = _one(found, "replacement.energy")
    assert energy.numbers["required"] == 8000 and energy.status is Verification.estimate
    assert energy.rule == "project_energy_replacement"
    # task 7: the naphtha feedstock is excluded from total-consumption control
    assert _one(found, "rule.exclusion").rule == "dual_control_exclusion"
    # 31号令 in force on 2025-10-15: 1 000 ≤ 8 000 < 10 000 tce → the province decides, flagged unverified
    review = _one(found, "review.local")
    assert "令2025年第31号" in (review.document or "") and review.status is Verification.unverified
    assert "未经核实" in review.message_zh
    assert not [f for f in found if f.severity is Severity.refuse]
    assert worst(found) is Severity.flag


def test_review_level_follows_the_application_date_and_thresholds() -> None:
    review = TABLES.energy_review
    old = review_level_findings(8000, "tce", 2e7, date(2024, 5, 1), review)
    assert old[0].code == "review.local" and "令2023年第2号" in (old[0].document or "")
    assert old[0].status is Verification.provisional
    assert review_level_findings(12_000, "tce", 0, date(2024, 5, 1), review)[0].code == "review.provincial"
    assert review_level_findings(1.2, "wan * tce", 0, date(2024, 5, 1), review)[0].code == "review.provincial"
    # < 1 000 tce and < 500万 kWh: no separate review; either line crossed → reviewed
    assert review_level_findings(900, "tce", 4_000_000, date(2025, 10, 1), review)[0].code == "review.none"
    assert review_level_findings(900, "tce", 5_000_000, date(2025, 10, 1), review)[0].code == "review.local"
    assert review_level_findings(9000, "tce", 0, date(2020, 1, 1), review)[0].code == "review.no_edition"
    big = review_level_findings(60_000, "tce", 0, date(2025, 10, 1), review, lianggao=True)
    assert _codes(big) == ["review.provincial", "review.window_guidance"]
    with pytest.raises(InputError):
        review_level_findings(1, "kg", 0, date(2025, 10, 1), review)


def test_new_cement_clinker_line_needs_1_5_to_1_replacement_in_liaoning() -> None:
    line = ProductLine("cement_clinker", 1_500_000, "t/a", unit_consumption=105, consumption_unit="kgce/t")
    project = _project(industry_code="C3011", products=(line,), application_date=date(2025, 3, 1))
    found = plan_rule_findings(project, RULES, TABLES)
    capacity = _one(found, "replacement.capacity")
    assert capacity.numbers == {"capacity": 1_500_000, "ratio": 1.5, "required": 2_250_000}
    assert capacity.rule == "capacity_replacement_heavy_industry" and "2024年本" in (capacity.document or "")
    assert _one(found, "rule.restriction").rule == "high_carbon_investment_control"
    # under the 2021 rules (application before 2024-11-01) the same ratio, from 工信部原〔2021〕80号
    earlier = capacity_replacement_findings(replace(project, application_date=date(2023, 3, 1)), "cement", TABLES)
    assert earlier[0].numbers["required"] == 2_250_000 and earlier[0].document == "工信部原〔2021〕80号"
    # a revamp is neither 新建 nor 扩建: no replacement
    assert "replacement.capacity" not in _codes(plan_rule_findings(replace(project, kind=ProjectKind.revamp),
                                                                  RULES, TABLES))
    # a region with no class row: the ratio cannot be known
    elsewhere = capacity_replacement_findings(replace(project, region_code="110101"), "cement", TABLES)
    assert _codes(elsewhere) == ["replacement.region_unknown"]


@pytest.mark.parametrize(("consumption", "code", "severity"), [
    (95, "efficiency.benchmark", Severity.info),
    (100, "efficiency.benchmark", Severity.info),
    (105, "efficiency.between", Severity.flag),
    (117, "efficiency.between", Severity.flag),
    (118, "efficiency.below_baseline", Severity.refuse),
])
def test_clinker_efficiency_against_benchmark_and_baseline(consumption: float, code: str,
                                                           severity: Severity) -> None:
    line = ProductLine("cement_clinker", 1_000_000, "t/a", unit_consumption=consumption, consumption_unit="kgce/t")
    finding = _one(efficiency_findings(_project(products=(line,)), TABLES.benchmarks), code)
    assert finding.severity is severity and finding.numbers["benchmark"] == 100
    assert finding.numbers["baseline"] == 117 and finding.status is Verification.secondary


def test_efficiency_uses_the_2023_edition_where_it_has_a_row() -> None:
    line = ProductLine("ferrosilicon", 10_000, "t/a", unit_consumption=1870, consumption_unit="kgce/t")
    assert _codes(efficiency_findings(_project(products=(line,)), TABLES.benchmarks)) == ["efficiency.below_baseline"]
    before = _project(products=(line,), application_date=date(2022, 1, 1))  # only the 2021 edition (基准 1 900)
    assert _codes(efficiency_findings(before, TABLES.benchmarks)) == ["efficiency.between"]
    unit = ProductLine("ferrosilicon", 10_000, "t/a", unit_consumption=1.8, consumption_unit="tce/t")
    assert _codes(efficiency_findings(_project(products=(unit,)), TABLES.benchmarks)) == ["efficiency.unit_mismatch"]


def test_new_coal_power_unit_is_refused_without_city_consent() -> None:
    project = _project(name="燃煤发电机组", industry_code="D4411", types=("coal_power_plant",))
    found = check(project, RULES, TABLES, annual_tce=500_000)
    refused = _one(found, "rule.prohibited")
    assert refused.rule == "no_new_coal_power" and refused.severity is Severity.refuse
    assert "市政府同意" in refused.message_zh
    assert {f.subject for f in lianggao_findings(project, TABLES.lianggao, TABLES.benchmarks)} == {"D44", "coal_power"}
    consented = check(replace(project, city_consent="大连市人民政府专题会议纪要〔2026〕1号"), RULES, TABLES,
                      annual_tce=500_000)
    assert "rule.prohibited" not in _codes(consented)
    assert _one(consented, "rule.exception_recorded").document == "大连市人民政府专题会议纪要〔2026〕1号"


def test_px_project_refused_without_a_national_plan_and_allowed_with_one() -> None:
    line = ProductLine("paraxylene", 2_000_000, "t/a", unit_consumption=370, consumption_unit="kgoe/t")
    project = _project(name="对二甲苯项目", industry_code="C2614", products=(line,))
    refused = _one(plan_rule_findings(project, RULES, TABLES), "rule.prohibited")
    assert refused.rule == "no_new_olefins_outside_national_plans" and refused.severity is Severity.refuse
    # task 28 (严控…石化等高碳项目投资): PX is petrochemical, so the restriction flags it too
    assert _one(plan_rule_findings(project, RULES, TABLES), "rule.restriction").rule == "high_carbon_investment_control"
    allowed = plan_rule_findings(replace(project, national_plan="石化产业规划布局方案"), RULES, TABLES)
    assert "rule.prohibited" not in _codes(allowed)
    assert _one(allowed, "rule.prohibition_lifted").document == "石化产业规划布局方案"
    # the PX rule covers only 新建: an expansion of PX is not refused by it
    expansion = plan_rule_findings(replace(project, kind=ProjectKind.expansion), RULES, TABLES)
    assert "rule.prohibited" not in _codes(expansion)
    # a refinery expansion (改扩建炼油) is refused by the refining rule
    refinery = replace(project, kind=ProjectKind.expansion, products=(ProductLine("oil_refining", 1e7, "t/a"),))
    assert _one(plan_rule_findings(refinery, RULES, TABLES), "rule.prohibited").rule == \
        "no_refining_outside_national_plans"


def test_steel_replacement_is_paused_since_2024_08_23() -> None:
    line = ProductLine("eaf_50t_plus", 1_000_000, "t/a")
    paused = capacity_replacement_findings(_project(industry_code="C3120", products=(line,)), "steel", TABLES)
    assert _codes(paused) == ["replacement.paused", "replacement.capacity"]
    assert paused[0].severity is Severity.refuse and "2024-08-23" in paused[0].message_zh
    before = capacity_replacement_findings(
        _project(industry_code="C3120", products=(line,), application_date=date(2024, 1, 1)), "steel", TABLES)
    assert _codes(before) == ["replacement.capacity"] and before[0].numbers["required"] == 1_250_000


def test_rules_are_applied_by_kind_not_by_text() -> None:
    rule = Rule(id="no_glass", kind="prohibition", applies_to=["flat_glass"], actions=["new"],  # type: ignore[list-item]
                text_zh="不得新建平板玻璃", title_en="No new flat glass", task=99)
    glass = _project(products=(ProductLine("flat_glass_large", 1e6, "重量箱/a"),))
    assert _one(plan_rule_findings(glass, [rule], TABLES), "rule.prohibited").rule == "no_glass"
    assert plan_rule_findings(_project(), [rule], TABLES) == []


def test_bad_project_fields_are_named() -> None:
    bad = _project(applicant_uscc="91210281123456780", energy={"unobtainium": Quantity(1, "t")},
                   products=(ProductLine("cement_clinker", 0, "t/a"),))
    with pytest.raises(InputError) as err:
        check_project(bad, codes("fuels"))
    assert [p.field for p in err.value.problems] == ["applicant_uscc", "products[0].capacity", "energy.unobtainium"]


@settings(max_examples=60, deadline=None)
@given(capacity=st.floats(min_value=1, max_value=1e8), factor=st.floats(min_value=0.01, max_value=100))
def test_required_replacement_scales_linearly_with_capacity(capacity: float, factor: float) -> None:
    def required(c: float) -> float:
        project = _project(products=(ProductLine("cement_clinker", c, "t/a"),))
        return capacity_replacement_findings(project, "cement", TABLES)[0].numbers["required"]

    assert math.isclose(required(capacity * factor), factor * required(capacity), rel_tol=1e-12)
    assert math.isclose(required(capacity), 1.5 * capacity, rel_tol=1e-12)

"""The "1+N" plans as data and the pure consistency check (citycarbon.governance.consistency).

Golden sums are worked by hand from the illustrative fixtures; the city target is read from the Dalian plan
(一、主要目标 第2段: 风电、太阳能发电总装机容量达800万千瓦以上 = 8 000 MW), never written here as the check's input.
"""

from __future__ import annotations

import json
import math
from datetime import date

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.governance.consistency import Severity, check_consistency, load_rules, number_text
from citycarbon.governance.model import Measure, Organisation, OrgKind
from citycarbon.plan import PlanKind, load_plan, validate_plan_text
from tests.governance.subplan_support import dump, fixture_text, subplan, subplan_data, target

CITY = load_plan()
WIND_SOLAR = CITY.target("wind_solar_capacity_2030")
ORGS = [Organisation("drc", "大连市发展和改革委员会", "DRC", OrgKind.department),
        Organisation("d210283", "庄河市人民政府", "Zhuanghe", OrgKind.district, region_code="210283",
                     short_zh="庄河市"),
        Organisation("d210281", "瓦房店市人民政府", "Wafangdian", OrgKind.district, region_code="210281",
                     short_zh="瓦房店市"),
        Organisation("d210213", "金州区人民政府", "Jinzhou", OrgKind.district, region_code="210213",
                     short_zh="金州区")]
MEASURES = [Measure("T10-M01", 10, 1, "风电光伏", deadline=date(2030, 12, 31)),
            Measure("T10-M02", 10, 2, "渔光互补", deadline=date(2030, 12, 31)),
            Measure("T10-M06", 10, 6, "电网", deadline=date(2030, 12, 31)),
            Measure("T12-M01", 12, 1, "交通", deadline=date(2030, 12, 31))]


def codes(findings, code):
    return [f for f in findings if f.code == code]


# -- the plan file: sub-plan fields ------------------------------------------------------------------------------

def test_fixtures_are_valid_subplans():
    zhuanghe = validate_plan_text(fixture_text("zhuanghe"), "zhuanghe.yaml")
    energy = validate_plan_text(fixture_text("energy"), "energy.yaml")
    assert (zhuanghe.meta.code, zhuanghe.meta.parent, zhuanghe.meta.kind, zhuanghe.meta.org) == \
        ("zhuanghe_2030", "dalian", PlanKind.district, "d210283")
    assert [c.measure for c in zhuanghe.carried] == ["T10-M01", "T10-M02", "T11-M02"]
    assert zhuanghe.carried[1].deadline == date(2028, 12, 31)
    assert energy.meta.sector == "energy" and energy.meta.kind is PlanKind.sector
    assert not CITY.meta.is_subplan and CITY.carries == []


def test_fixtures_validate_against_the_shipped_json_schema():
    schema = json.loads(data_path("plans/plan.schema.json").read_text(encoding="utf-8"))
    for name in ("zhuanghe", "energy"):
        data = json.loads(json.dumps(yaml.safe_load(fixture_text(name)), default=str))  # YAML dates as text
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    bad = yaml.safe_load(fixture_text("zhuanghe"))
    bad["carries"] = ["T10M01"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(("edit", "field", "needle"), [
    (lambda d: d["meta"].pop("org"), "meta.org", "needs meta.org"),
    (lambda d: d["meta"].update(kind="county"), "meta.kind", "not one of sector, district"),
    (lambda d: d["meta"].update(parent="zhuanghe_2030"), "meta.parent", "its own parent"),
    (lambda d: d.update(carries=["T10-M01", "T10-M01"]), "carries[1].measure", "duplicate measure"),
    (lambda d: d.update(carries=["T10M1"]), "carries[0].measure", "String should match pattern"),
    (lambda d: d["meta"].update(kind="sector"), "meta.sector", "needs meta.sector"),
])
def test_bad_subplan_names_line_and_field(edit, field, needle):
    data = yaml.safe_load(fixture_text("zhuanghe"))
    edit(data)
    with pytest.raises(InputError) as info:
        validate_plan_text(dump(data), "upload.yaml")
    problem = next(p for p in info.value.problems if p.field == field)
    assert needle in problem.message
    assert problem.file == "upload.yaml" and problem.row is not None and problem.row >= 1


def test_city_plan_fields_are_refused_without_a_parent():
    data = yaml.safe_load(fixture_text("zhuanghe"))
    del data["meta"]["parent"]
    with pytest.raises(InputError) as info:
        validate_plan_text(dump(data), "x.yaml")
    fields = {p.field for p in info.value.problems}
    assert {"tasks", "task_groups", "meta.code", "carries"} <= fields


# -- (a) allocations ---------------------------------------------------------------------------------------------

def test_district_wind_solar_short_of_the_city_target_hand_worked():
    # 3.5 GW + 2 500 MW + 1 000 000 kW = 3 500 + 2 500 + 1 000 = 7 000 MW < 8 000 MW (the plan's 800万千瓦): short 1 000
    plans = [subplan("zh", targets=[target("ws", "wind_solar_capacity_mw", 2030, 3.5, "GW")]),
             subplan("wf", org="d210281", region_code="210281",
                     targets=[target("ws", "wind_solar_capacity_mw", 2030, 2500, "MW")]),
             subplan("jz", org="d210213", region_code="210213",
                     targets=[target("ws", "wind_solar_capacity_mw", 2030, 1_000_000, "kW")])]
    found = check_consistency("dalian", CITY, plans, orgs=ORGS)
    [short] = codes(found, "allocation_short")
    assert short.severity is Severity.warning
    assert (short.unit, short.target, short.year) == ("MW", WIND_SOLAR.value, 2030)
    assert short.total == pytest.approx(7000.0)
    assert short.gap == pytest.approx(-1000.0)
    assert [(p.plan, p.value, p.unit, p.converted) for p in short.parts] == [
        ("zh", 3.5, "GW", pytest.approx(3500.0)), ("wf", 2500.0, "MW", 2500.0),
        ("jz", 1_000_000.0, "kW", pytest.approx(1000.0))]
    assert set(short.plans) == {"dalian", "zh", "wf", "jz"}
    assert "7,000 MW" in short.message_zh and "8,000 MW" in short.message_zh and "差 1,000 MW" in short.message_zh
    assert "below the target wind_solar_capacity_2030" in short.message_en


def test_district_targets_that_reach_the_city_target_give_no_allocation_finding():
    plans = [subplan("zh", targets=[target("ws", "wind_solar_capacity_mw", 2030, 5, "GW")]),
             subplan("wf", org="d210281", region_code="210281",
                     targets=[target("ws", "wind_solar_capacity_mw", 2030, 3000, "MW")])]
    found = check_consistency("dalian", CITY, plans, orgs=ORGS)
    assert not [f for f in found if f.code.startswith("allocation")
                and f.indicator == "wind_solar_capacity_mw"]


def test_sector_caps_without_a_city_cap_say_what_is_missing():
    # Dalian's plan has no total energy cap: the check cannot compare, and says so with the sum
    energy = validate_plan_text(fixture_text("energy"), "energy.yaml")
    transport = subplan("transport", kind="sector", sector="transport", org="drc", region_code="210200",
                        targets=[target("cap", "transport_energy_tce", 2025, 350, "10^4 tce", "at_most")])
    found = check_consistency("dalian", CITY, [energy, transport], orgs=ORGS)
    [unchecked] = [f for f in codes(found, "allocation_unchecked") if f.rule == "sector_energy_caps"]
    # 12 000 000 tce + 350 万吨标准煤 (10^4 tce) = 15 500 000 tce
    assert unchecked.unit == "tce" and unchecked.year == 2025 and unchecked.target is None
    assert unchecked.total == pytest.approx(15_500_000)
    assert "15,500,000 tce" in unchecked.message_zh and "能源消费总量" in unchecked.message_zh
    assert "energy_consumption" not in unchecked.message_zh  # names, not codes, in Chinese


def test_sector_caps_above_the_city_room_set_in_the_platform():
    data = yaml.safe_load(data_path("plans/dalian.yaml").read_text(encoding="utf-8"))
    data["targets"].append(target("energy_cap_2025", "energy_consumption_tce", 2025, None, "tce", "at_most",
                                  parameter=True))
    city = validate_plan_text(dump(data), "city.yaml")
    energy = validate_plan_text(fixture_text("energy"), "energy.yaml")
    industry = subplan("industry", kind="sector", sector="industry", org="drc", region_code="210200",
                       targets=[target("cap", "industry_energy_tce", 2025, 20_000_000, "tce", "at_most")])
    # room 30 Mtce set in the platform; 12 + 20 = 32 Mtce: over by 2 000 000 tce
    found = check_consistency("dalian", city, [energy, industry], target_values={"energy_cap_2025": 30_000_000},
                              orgs=ORGS)
    [over] = codes(found, "allocation_over")
    assert (over.target, over.total, over.gap) == (30_000_000, 32_000_000, 2_000_000)
    assert "超出" in over.message_zh and "2,000,000 tce" in over.message_zh
    # within the room: nothing
    found = check_consistency("dalian", city, [energy, industry], target_values={"energy_cap_2025": 32_000_000},
                              orgs=ORGS)
    assert not codes(found, "allocation_over") and not codes(found, "allocation_unchecked")


def test_platform_allocations_against_district_plans():
    zh = subplan("zh", targets=[target("ws", "wind_solar_capacity_mw", 2030, 3.5, "GW")])
    allocations = {"210283": {"wind_solar_capacity_2030": 4000.0}, "210281": {"wind_solar_capacity_2030": 1500.0}}
    found = check_consistency("dalian", CITY, [zh], allocations=allocations, orgs=ORGS)
    [mismatch] = codes(found, "platform_allocation_mismatch")
    assert (mismatch.target, mismatch.total, mismatch.gap) == (4000.0, pytest.approx(3500.0), pytest.approx(-500.0))
    assert "庄河市" in mismatch.message_zh
    [unplanned] = codes(found, "platform_allocation_unplanned")
    assert unplanned.details["region"] == "210281" and "瓦房店市" in unplanned.message_zh


# -- (b) later years and deadlines, (c) measures, (d) links ---------------------------------------------------------

def test_later_target_year_peak_year_and_deadline():
    late = subplan("zh", targets=[target("ws", "wind_solar_capacity_mw", 2032, 9, "GW"),
                                  target("peak", "co2_peak_year", 2030, 2032, "year", "at_most")],
                   carries=[{"measure": "T10-M01", "deadline": "2031-06-30"}])
    found = check_consistency("dalian", CITY, [late], measures=MEASURES, orgs=ORGS)
    years = codes(found, "target_year_later")
    assert {(f.target, f.total) for f in years} == {(2030.0, 2032.0)} and len(years) == 2
    [deadline] = codes(found, "deadline_later")
    assert deadline.measures == ("T10-M01",) and deadline.total == 181  # 2030-12-31 → 2031-06-30


def test_measures_not_carried_and_unknown_codes():
    zh = subplan("zh", carries=["T10-M01", "T10-M02", "T99-M01"])
    found = check_consistency("dalian", CITY, [zh], measures=MEASURES, orgs=ORGS)
    not_carried = {f.details["task"]: f for f in codes(found, "measures_not_carried")}
    assert not_carried[10].measures == ("T10-M06",) and (not_carried[10].target, not_carried[10].total) == (3, 1)
    assert not_carried[12].measures == ("T12-M01",)
    [unknown] = codes(found, "unknown_measures")
    assert unknown.measures == ("T99-M01",) and unknown.severity is Severity.error


def test_missing_parent_org_and_region_mismatch():
    orphan = subplan("orphan", parent="gone_plan")
    no_org = subplan("noorg", org="nobody")
    wrong = subplan("wrong", region_code="210281")  # org d210283 is 庄河市 (210283)
    child = subplan("child", parent="wrong")
    found = check_consistency("dalian", CITY, [orphan, no_org, wrong, child], orgs=ORGS)
    assert [f.plans for f in codes(found, "parent_missing")] == [("orphan",)]
    assert [f.plans for f in codes(found, "org_missing")] == [("noorg",)]
    assert [f.plans for f in codes(found, "region_mismatch")] == [("wrong",)]
    assert found[0].severity is Severity.error  # most severe first


def test_nested_sub_plans_are_summed_against_their_parent():
    energy = subplan("energy", kind="sector", org="drc", region_code="210200",
                     targets=[target("cap", "energy_consumption_tce", 2025, 10_000_000, "tce", "at_most")])
    power = subplan("power", kind="sector", sector="power", parent="energy", org="drc", region_code="210200",
                    targets=[target("cap", "energy_consumption_tce", 2025, 6_000_000, "tce", "at_most")])
    heat = subplan("heat", kind="sector", sector="heat", parent="energy", org="drc", region_code="210200",
                   targets=[target("cap", "energy_consumption_tce", 2025, 5, "Mtce", "at_most")])
    found = check_consistency("dalian", CITY, [energy, power, heat], orgs=ORGS)
    [over] = codes(found, "allocation_over")
    assert over.plans[0] == "energy" and over.total == pytest.approx(11_000_000) and over.gap == pytest.approx(1e6)


def test_rules_are_data_with_source_and_status():
    rules = load_rules()
    assert {r.id for r in rules} >= {"district_wind_solar", "sector_energy_caps"}
    assert all(r.source and r.status in {"verified", "secondary-source", "unverified", "estimate"} for r in rules)


def test_number_text():
    assert (number_text(8000.0), number_text(1234.5678), number_text(-0.5)) == ("8,000", "1,234.568", "-0.5")


# -- properties ----------------------------------------------------------------------------------------------------

UNITS = {"MW": 1.0, "GW": 1000.0, "kW": 0.001}
values = st.lists(st.tuples(st.floats(min_value=0, max_value=5000, allow_nan=False), st.sampled_from(list(UNITS))),
                  min_size=1, max_size=6)


def _districts(parts):
    return [subplan(f"p{i}", targets=[target("ws", "wind_solar_capacity_mw", 2030, value, unit)])
            for i, (value, unit) in enumerate(parts)]


@settings(max_examples=30, deadline=None)
@given(values)
def test_reported_total_is_the_sum_of_its_parts(parts):
    plans = _districts(parts)
    found = check_consistency("dalian", CITY, plans, orgs=ORGS)
    expected = math.fsum(value * UNITS[unit] for value, unit in parts)
    short = codes(found, "allocation_short")
    if expected < WIND_SOLAR.value - 1e-6:
        [finding] = short
        assert finding.total == math.fsum(p.converted for p in finding.parts)
        assert finding.total == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert finding.gap == pytest.approx(finding.total - finding.target)
    elif expected > WIND_SOLAR.value + 1e-6:
        assert not short


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=8))
def test_allocations_that_sum_exactly_to_the_target_give_no_finding(weights):
    total = WIND_SOLAR.value
    shares = [w / math.fsum(weights) for w in weights]
    values_mw = [total * s for s in shares]
    values_mw[-1] = total - math.fsum(values_mw[:-1])  # exactly the target, up to float round-off
    plans = _districts([(v, "MW") for v in values_mw])
    found = check_consistency("dalian", CITY, plans, orgs=ORGS)
    assert not [f for f in found if f.code.startswith("allocation") and f.indicator == "wind_solar_capacity_mw"]


def test_subplan_data_round_trips():
    assert subplan_data("x")["meta"]["code"] == "x"

"""The work plan as data: the shipped Dalian plan, Target.evaluate, loading and validating plan files.

Golden values are read by hand from the plan text (/work/shared/plan/dalian-work-plan.zh.txt,
一、主要目标); each expected row cites its clause.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.codelists import load_codelist
from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.plan import (
    Comparison,
    Plan,
    RuleKind,
    Target,
    load_plan,
    plan_json_schema,
    plan_schema_text,
    resolve_plan_path,
    shipped_plans,
    validate_plan_file,
)
from citycarbon.units import UnitError, convert

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"
PLAN_TEXT = Path("/work/shared/plan/dalian-work-plan.zh.txt")


@pytest.fixture(scope="module")
def dalian() -> Plan:
    return load_plan()


@pytest.fixture(scope="module")
def plan_text() -> str:
    if not PLAN_TEXT.exists():
        pytest.skip(f"plan text {PLAN_TEXT} is not on this machine; verbatim checks skipped")
    return PLAN_TEXT.read_text(encoding="utf-8")


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``path`` containing ``text``."""
    hits = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    return hits[occurrence - 1]


# -- the shipped Dalian plan ---------------------------------------------------------------------

def test_dalian_meta(dalian):
    assert dalian.meta.city == "大连市"
    assert dalian.meta.region_code == "210200"  # GB/T 2260
    assert dalian.meta.region_code in set(load_codelist("regions").index.astype(str))
    assert dalian.meta.basis_document == "中发〔2021〕36号"
    assert dalian.meta.base_year == 2020
    assert dalian.meta.about_tolerance.status.value == "estimate"  # an interpretation, not official


def test_dalian_has_31_tasks_in_10_groups(dalian):
    assert [t.number for t in dalian.tasks] == list(range(1, 32))
    assert [g.number for g in dalian.task_groups] == list(range(1, 11))
    assert [g.label_zh for g in dalian.task_groups] == [f"({n})" for n in "一二三四五六七八九十"]
    # group headings of 二、重点任务: (一) tasks 1-3, (二) 4-6, (三) 7-11, (四) 12-14, (五) 15-17,
    # (六) 18-19, (七) 20-21, (八) 22-24, (九) 25-27, (十) 28-31
    first_task = [1, 4, 7, 12, 15, 18, 20, 22, 25, 28, 32]
    for group in range(1, 11):
        expected = list(range(first_task[group - 1], first_task[group]))
        assert [t.number for t in dalian.tasks if t.group == group] == expected
    assert len(dalian.implementation) == 4
    assert all(t.title_en and t.keywords for t in dalian.tasks)


# (id, indicator, year, value in the plan's own unit, that unit, comparison); clause in the comment
GOLDEN_TARGETS = [
    ("non_fossil_share_2025", "non_fossil_share", 2025, 16, "percent", "about"),  # 非化石能源消费比重达16%左右
    ("forest_coverage_2025", "forest_coverage", 2025, 41.5, "percent", "at_least"),  # 森林覆盖率达到41.5%
    ("forest_stock_2025", "forest_stock_m3", 2025, 1700, "wan m**3", "at_least"),  # 森林蓄积量达到1700万立方米
    ("non_fossil_share_2030", "non_fossil_share", 2030, 25, "percent", "about"),  # 非化石能源消费比重达25%左右
    ("wind_solar_capacity_2030", "wind_solar_capacity_mw", 2030, 800, "wan kW", "at_least"),  # 达800万千瓦以上
    ("forest_coverage_2030", "forest_coverage", 2030, 41.5, "percent", "at_least"),  # 森林覆盖率不低于41.5%
    ("forest_stock_2030", "forest_stock_m3", 2030, 1850, "wan m**3", "at_least"),  # 森林蓄积量达到1850万立方米
    ("co2_peak_2030", "co2_peak_year", 2030, 2030, "year", "at_most"),  # 2030年前实现碳达峰 / 实现碳达峰目标
    ("non_fossil_share_2060", "non_fossil_share", 2060, 80, "percent", "at_least"),  # 非化石能源消费比重达80%以上
    ("carbon_neutrality_2060", "net_co2_emissions_t", 2060, 0, "t", "at_most"),  # 实现碳中和目标
]


@pytest.mark.parametrize(("target_id", "indicator", "year", "value", "unit", "comparison"), GOLDEN_TARGETS)
def test_dalian_target_values(dalian, target_id, indicator, year, value, unit, comparison):
    target = dalian.target(target_id)
    assert (target.indicator, target.year, target.comparison.value) == (indicator, year, comparison)
    assert target.is_set and not target.parameter
    assert convert(target.value, target.unit, unit) == pytest.approx(value, abs=1e-9)


def test_dalian_shares_are_fractions(dalian):
    shares = [t for t in dalian.targets if t.indicator in ("non_fossil_share", "forest_coverage")]
    assert shares and all(t.unit == "dimensionless" and 0 < t.value < 1 for t in shares)
    assert dalian.target("wind_solar_capacity_2030").unit == "MW"
    assert dalian.target("forest_stock_2025").unit == "m**3"


@pytest.mark.parametrize("target_id", ["energy_intensity_reduction_2025", "co2_intensity_reduction_2025",
                                       "energy_intensity_reduction_2030", "co2_intensity_reduction_2030"])
def test_intensity_targets_are_unset_parameters(dalian, target_id):
    # 完成省政府下达的单位地区生产总值能耗和二氧化碳排放目标任务 (2025); 大幅下降 (2030): no number in the plan
    target = dalian.target(target_id)
    assert target.value is None and target.parameter and not target.is_set
    assert target.evaluate(0.99) is None


def test_about_targets_get_the_plan_default_tolerance(dalian):
    default = dalian.meta.about_tolerance
    for target in dalian.targets:
        if target.comparison is Comparison.about:
            assert target.tolerance == pytest.approx(convert(default.value, default.unit, target.unit))


def test_dalian_rules(dalian):
    rules = {r.id: r for r in dalian.rules}
    coal = rules["no_new_coal_power"]
    assert coal.kind is RuleKind.prohibition and coal.applies_to == ["coal_power_plant"] and coal.task == 9
    assert coal.text_zh == "原则上不再新建燃煤电厂" and "市政府同意" in coal.exception_zh
    forbidden = {code for r in dalian.rules if r.kind is RuleKind.prohibition for code in r.applies_to}
    assert {"oil_refining", "ethylene", "paraxylene", "coal_to_olefins"} <= forbidden
    replacement = {code for r in dalian.rules if r.kind is RuleKind.replacement for code in r.applies_to}
    assert {"steel", "cement", "flat_glass", "electrolytic_aluminium", "new_projects"} <= replacement
    exclusion = rules["dual_control_exclusion"]
    assert exclusion.kind is RuleKind.exclusion
    assert set(exclusion.applies_to) == {"new_renewable_energy", "feedstock_energy"}
    assert rules["coal_boiler_house_control"].kind is RuleKind.restriction
    assert rules["scattered_coal_phase_out"].kind is RuleKind.phase_out
    assert {r.kind for r in dalian.rules} == set(RuleKind)


def test_plan_lookups(dalian):
    assert [t.year for t in dalian.targets_for("non_fossil_share")] == [2025, 2030, 2060]
    assert [t.number for t in dalian.tasks_for_indicator("forest_stock_m3")] == [20, 21]
    assert 9 in [t.number for t in dalian.tasks_for_indicator("new_coal_power_capacity_mw")]
    assert [t.number for t in dalian.tasks_for_keyword("nuclear")] == [10]
    assert dalian.task(10).title_zh == "积极发展非化石能源"
    with pytest.raises(KeyError, match="non_fossil_share_2025"):
        dalian.target("non_fosil_share_2025")
    with pytest.raises(KeyError):
        dalian.task(32)


def test_every_indicator_used_is_in_the_codelist(dalian):
    known = set(load_codelist("indicators").index)
    used = {t.indicator for t in dalian.targets} | {i for t in dalian.tasks for i in t.indicators}
    assert used <= known


# -- verbatim text -------------------------------------------------------------------------------

def test_target_clauses_are_verbatim(dalian, plan_text):
    for target in dalian.targets:
        assert target.clause in plan_text, target.id


def test_task_and_rule_text_is_verbatim(dalian, plan_text):
    paragraphs = plan_text.splitlines()
    for task in dalian.tasks:
        heading = f"{task.number}.{task.title_zh}。"
        assert heading in paragraphs
        assert paragraphs[paragraphs.index(heading) + 1] == task.text_zh
    for rule in dalian.rules:
        source = dalian.task(rule.task).text_zh
        for piece in (rule.text_zh, rule.condition_zh, rule.exception_zh):
            assert piece is None or piece in source, rule.id


def test_plan_file_reproduces_the_whole_document(dalian, plan_text):
    lines = [dalian.meta.preamble_zh, "一、主要目标", *[g.text_zh for g in dalian.goals], "二、重点任务"]
    for group in dalian.task_groups:
        lines.append(f"{group.label_zh}{group.title_zh}")
        for task in dalian.tasks:
            if task.group == group.number:
                lines += [f"{task.number}.{task.title_zh}。", task.text_zh]
    lines.append("三、组织实施")
    for item in dalian.implementation:
        lines += [f"{item.label_zh}{item.title_zh}。", item.text_zh]
    original = [line for line in plan_text.splitlines() if line.strip() and line.strip() != "|"]
    assert lines == original


# -- Target.evaluate -----------------------------------------------------------------------------

def make_target(comparison: str, value: float | None, unit: str = "dimensionless", **extra) -> Target:
    return Target(id="t", indicator="non_fossil_share", year=2025, value=value, unit=unit,
                  comparison=comparison, parameter=value is None, clause="c", clause_ref="r",
                  title_zh="z", title_en="e", **extra)


def test_about_uses_tolerance_inclusive(dalian):
    target = dalian.target("non_fossil_share_2025")  # 16%左右, tolerance 0.005 (0.5 percentage point)
    assert target.evaluate(0.16) is True
    assert target.evaluate(0.155) is True and target.evaluate(0.165) is True
    assert target.evaluate(0.1549) is False and target.evaluate(0.1651) is False
    assert target.evaluate(16.4, unit="percent") is True
    assert target.evaluate(15.4, unit="percent") is False


def test_at_least_at_most_and_year_targets(dalian):
    assert dalian.target("wind_solar_capacity_2030").evaluate(8000) is True
    assert dalian.target("wind_solar_capacity_2030").evaluate(7.9, unit="GW") is False
    assert dalian.target("forest_coverage_2030").evaluate(0.415) is True
    assert dalian.target("forest_coverage_2030").evaluate(0.414) is False
    peak = dalian.target("co2_peak_2030")
    assert peak.evaluate(2028) is True and peak.evaluate(2030) is True and peak.evaluate(2031) is False
    neutral = dalian.target("carbon_neutrality_2060")
    assert neutral.evaluate(0) is True and neutral.evaluate(-1.5e6) is True and neutral.evaluate(1) is False
    assert make_target("by_year", 2028, unit="year").evaluate(2029) is False


def test_evaluate_contract_violations():
    with pytest.raises(ValueError, match="NaN"):
        make_target("at_least", 0.2).evaluate(math.nan)
    with pytest.raises(UnitError):
        make_target("at_least", 0.2).evaluate(5, unit="MW")
    with pytest.raises(ValueError, match="tolerance"):
        make_target("about", 0.2).evaluate(0.2)  # standalone 'about' target without a tolerance
    with pytest.raises(ValueError):
        make_target("at_least", 0.2, unit="no_such_unit")


@given(value=st.floats(-1e6, 1e6), delta=st.floats(-1e3, 1e3))
def test_at_least_and_at_most_are_complementary_off_the_boundary(value, delta):
    if abs(delta) <= 1e-6 * max(1.0, abs(value)):
        return
    actual = value + delta
    assert make_target("at_least", value).evaluate(actual) is (delta > 0)
    assert make_target("at_most", value).evaluate(actual) is (delta < 0)


@given(value=st.floats(0, 1), tolerance=st.floats(0.001, 0.1), delta=st.floats(-0.2, 0.2))
def test_about_is_symmetric_band(value, tolerance, delta):
    target = make_target("about", value, tolerance=tolerance)
    if abs(abs(delta) - tolerance) <= 1e-9:
        return
    assert target.evaluate(value + delta) is (abs(delta) < tolerance)
    assert target.evaluate(value + delta) is target.evaluate(value - delta)


@given(actual=st.floats(-10, 10))
def test_unset_target_is_never_judged(actual):
    for comparison in Comparison:
        assert make_target(comparison.value, None).evaluate(actual) is None


# -- the second city and loading -----------------------------------------------------------------

def test_example_city_loads_the_same_way():
    plan = load_plan(FIXTURES / "example_city.yaml")
    assert plan.meta.city == "示例市" and len(plan.tasks) == 3 and len(plan.task_groups) == 2
    share = plan.target("non_fossil_share_2025")  # 20%左右 written in percent, tolerance 1 percentage point
    assert share.unit == "percent" and share.tolerance == pytest.approx(1.0)
    assert share.evaluate(0.19, unit="dimensionless") is True
    assert share.evaluate(0.185, unit="dimensionless") is False
    wind = plan.target("wind_solar_capacity_2030")  # own tolerance 0.25 GW overrides the default
    assert wind.tolerance == 0.25
    assert wind.evaluate(3300, unit="MW") is True and wind.evaluate(3200, unit="MW") is False
    assert plan.target("co2_peak_2028").comparison is Comparison.by_year
    assert plan.target("energy_intensity_reduction_2025").evaluate(0.14) is True


def test_load_plan_sources():
    assert "dalian" in shipped_plans()
    assert resolve_plan_path(None) == data_path("plans/dalian.yaml")
    assert resolve_plan_path("dalian") == data_path("plans/dalian.yaml")
    assert load_plan("dalian").meta.city == load_plan(None).meta.city == "大连市"
    path = str(FIXTURES / "example_city.yaml")
    assert load_plan(path).meta.city == validate_plan_file(Path(path)).meta.city == "示例市"


def test_unknown_plan_name_suggests_shipped_plan():
    with pytest.raises(InputError) as info:
        load_plan("dalain")
    assert info.value.first.suggestion == "dalian" and info.value.first.file == "dalain"


def test_missing_file_names_it(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(InputError, match="not found") as info:
        validate_plan_file(missing)
    assert info.value.first.file == str(missing)


# (fixture, field path, suggestion, (text that marks the reported line, occurrence))
BAD_PLANS = [
    ("bad_unknown_indicator.yaml", "targets[1].indicator", "wind_solar_capacity_mw",
     ("indicator: wind_solar_capacity", 1)),
    ("bad_comparison.yaml", "targets[2].comparison", "at_least", ("comparison: at_leest", 1)),
    ("bad_duplicate_target.yaml", "targets[3].id", None, ("- id: non_fossil_share_2025", 2)),
    ("bad_task_numbers.yaml", "tasks[2].number", None, ("- number: 2", 3)),
    ("bad_task_indicator.yaml", "tasks[1].indicators[0]", "coal_share", ("indicators: [coal_shar]", 1)),
    ("bad_unit.yaml", "targets[2].unit", "dimensionless", ("unit: MW", 1)),
    ("bad_missing_field.yaml", "targets[0].year", None, ("- id: non_fossil_share_2025", 1)),
    ("bad_unknown_field.yaml", "targets[0].valeu", "value", ("valeu: 20", 1)),
    ("bad_rule_kind.yaml", "rules[0].kind", "prohibition", ("kind: prohibiton", 1)),
]


@pytest.mark.parametrize(("name", "field", "suggestion", "marker"), BAD_PLANS)
def test_bad_plan_names_file_line_field_and_suggestion(name, field, suggestion, marker):
    path = FIXTURES / name
    with pytest.raises(InputError) as info:
        validate_plan_file(path)
    problems = info.value.problems
    assert len(problems) == 1, str(info.value)
    problem = problems[0]
    assert problem.file == str(path)
    assert problem.field == field
    assert problem.row == line_of(path, *marker)
    assert problem.suggestion == suggestion
    assert f"row {problem.row}" in str(info.value) and field in str(info.value)


def test_yaml_syntax_error_names_line():
    path = FIXTURES / "bad_yaml_syntax.yaml"
    with pytest.raises(InputError, match="YAML syntax error") as info:
        validate_plan_file(path)
    problem = info.value.first
    assert problem.file == str(path)
    # the unclosed flow sequence starts on the keywords line; PyYAML notices it on the next line
    opened = line_of(path, "keywords: [wind, solar")
    assert problem.row == opened + 1 and f"starts on line {opened}" in problem.message


def test_duplicate_yaml_key_and_non_mapping(tmp_path):
    text = (FIXTURES / "example_city.yaml").read_text(encoding="utf-8")
    doubled = tmp_path / "doubled.yaml"
    doubled.write_text(text.replace("  city_en: Example City\n",
                                    "  city_en: Example City\n  city_en: Again\n"), encoding="utf-8")
    with pytest.raises(InputError, match="duplicate key 'city_en'") as info:
        validate_plan_file(doubled)
    assert info.value.first.row == line_of(doubled, "city_en: Again")
    assert info.value.first.field == "meta.city_en"
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(InputError, match="mapping"):
        validate_plan_file(listing)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        validate_plan_file(empty)


def test_several_problems_are_reported_together(tmp_path):
    text = (FIXTURES / "example_city.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("indicators: [coal_share]", "indicators: [coal_shar]")
                      .replace("indicator: wind_solar_capacity_mw", "indicator: wind_solar"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        validate_plan_file(broken)
    fields = [p.field for p in info.value.problems]
    assert fields == ["targets[1].indicator", "tasks[1].indicators[0]"]  # in line order


def test_plan_model_runs_cross_checks_without_the_loader():
    data = yaml.safe_load((FIXTURES / "bad_unit.yaml").read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match=r"targets\[2\]\.unit"):
        Plan.model_validate(data)
    good = yaml.safe_load((FIXTURES / "example_city.yaml").read_text(encoding="utf-8"))
    good["targets"][0]["value"] = None  # null value without parameter: true
    with pytest.raises(ValueError, match="parameter"):
        Plan.model_validate(good)


def test_reduction_target_with_value_needs_base_year(tmp_path):
    text = (FIXTURES / "example_city.yaml").read_text(encoding="utf-8")
    path = tmp_path / "no_base.yaml"
    path.write_text(text.replace("  base_year: 2020\n  clause:", "  clause:"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        validate_plan_file(path)
    assert info.value.first.field == "targets[2].base_year"


# -- schema and codelist -------------------------------------------------------------------------

def test_shipped_schema_is_current():
    shipped = data_path("plans/plan.schema.json").read_text(encoding="utf-8")
    assert shipped == plan_schema_text(), "run `citycarbon plan schema --write`"


@pytest.mark.parametrize("path", [data_path("plans/dalian.yaml"), FIXTURES / "example_city.yaml"])
def test_jsonschema_accepts_valid_plans(path):
    schema = json.loads(data_path("plans/plan.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema,
                        cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("name", ["bad_comparison.yaml", "bad_missing_field.yaml", "bad_unknown_field.yaml"])
def test_jsonschema_rejects_structural_errors(name):
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, plan_json_schema(), cls=jsonschema.Draft202012Validator)


REQUIRED_INDICATORS = [
    "energy_consumption_tce", "energy_consumption_dual_control_tce", "co2_emissions_t", "co2_energy_t",
    "non_fossil_share", "energy_intensity_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan",
    "energy_intensity_reduction", "co2_intensity_reduction", "wind_solar_capacity_mw", "forest_coverage",
    "forest_stock_m3", "co2_peak_year", "net_co2_emissions_t", "coal_share", "new_coal_power_capacity_mw",
]


def test_indicator_codelist():
    table = load_codelist("indicators")
    assert list(table.columns) == ["indicator", "name_zh", "name_en", "unit", "direction", "kind",
                                   "computed_by", "description", "iamc_variable"]
    assert set(REQUIRED_INDICATORS) <= set(table.index)
    assert set(table["direction"]) <= {"higher_is_better", "lower_is_better", "none"}
    assert set(table["kind"]) <= {"level", "share", "reduction", "year", "capacity", "stock"}
    assert set(table["computed_by"]) <= {"accounting", "capacity", "sinks", "pathways", "reported"}
    # 万元地区生产总值能耗: tce per 10^4 CNY; 1 tce/10^4 CNY = 0.1 kgce/CNY
    assert convert(1.0, table.loc["energy_intensity_tce_per_10k_yuan", "unit"], "kgce/CNY") == pytest.approx(0.1)
    shares = table[table["kind"] == "share"]
    assert set(shares["unit"]) == {"dimensionless"}


def test_write_plan_schema_writes_the_generated_text(tmp_path):
    from citycarbon.plan import write_plan_schema

    written = write_plan_schema(tmp_path / "plan.schema.json")
    assert written.read_text(encoding="utf-8") == plan_schema_text()
    assert json.loads(written.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")

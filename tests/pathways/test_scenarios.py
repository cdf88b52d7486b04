"""Scenario files: inheritance, packages, canonical code, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citycarbon.errors import InputError
from citycarbon.pathways import load_levers, load_scenario, shipped_scenarios
from citycarbon.pathways.scenarios import scenario_code, scenario_from_levers


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_scenarios_resolve():
    assert shipped_scenarios()[:3] == ["BAU", "Plan", "Enhanced"]
    bau, plan, enhanced = (load_scenario(n) for n in ("BAU", "Plan", "Enhanced"))
    assert bau.levers == {}
    plan_values = {lv.id: lv.plan for lv in load_levers() if lv.plan != lv.default}
    assert plan.levers == plan_values and plan.parent == "BAU"
    assert enhanced.parent == "Plan" and enhanced.packages == ("Transport",)
    transport = load_scenario("Transport")
    assert all(enhanced.levers[k] == v for k, v in transport.levers.items())
    # Enhanced overrides some Plan levers and keeps the others
    assert enhanced.levers["ccus_2060_mt"] == 4
    assert enhanced.levers["wind_onshore_2030_mw"] == plan.levers["wind_onshore_2030_mw"]
    assert len({bau.code, plan.code, enhanced.code}) == 3
    assert all(len(s.code) == 10 for s in (bau, plan, enhanced))


def test_code_depends_only_on_resolved_settings(tmp_path):
    plan = load_scenario("Plan")
    copy = _write(tmp_path, "MyPlan", "name: Something else\nlevers:\n" + "".join(
        f"  {k}: {v}\n" for k, v in reversed(list(plan.levers.items()))))
    assert load_scenario(copy).code == plan.code
    # setting a lever to its default does not change the code
    default = load_levers()[1]
    same = _write(tmp_path, "Same", f"inherits: Plan\nlevers:\n  {default.id}: {plan.levers[default.id]}\n")
    assert load_scenario(same).code == plan.code
    assert scenario_code({}, {}) == load_scenario("BAU").code
    assert scenario_from_levers("x", dict(plan.levers)).code == plan.code


def test_inheritance_and_packages_order(tmp_path):
    _write(tmp_path, "Parent", "inherits: BAU\nlevers:\n  ev_share_2050: 0.6\n  ccus_2060_mt: 2\n")
    _write(tmp_path, "PackA", "levers:\n  ccus_2060_mt: 3\n  coal_to_gas: 0.4\n")
    _write(tmp_path, "PackB", "levers:\n  coal_to_gas: 0.6\n")
    child = _write(tmp_path, "Child", "inherits: Parent\npackages: [PackA, PackB.yaml]\n"
                                      "levers:\n  ev_share_2050: 0.7\n")
    scenario = load_scenario(child)
    assert scenario.levers == {"ev_share_2050": 0.7, "ccus_2060_mt": 3.0, "coal_to_gas": 0.6}
    assert scenario.parent == "Parent" and scenario.packages == ("PackA", "PackB.yaml")


def test_vector_applies_levers_over_defaults(model):
    scenario = load_scenario("Plan")
    x = model.vector(scenario)
    names = model.parameters.names
    for name, value in scenario.levers.items():
        assert x[names.index(name)] == value
    untouched = [i for i, n in enumerate(names) if n not in scenario.levers]
    np.testing.assert_array_equal(x[untouched], model.parameters.default[untouched])


def test_parameters_block(tmp_path, model):
    path = _write(tmp_path, "LowGrid", "inherits: Plan\nparameters:\n  grid_ef_2060_ratio: 0.05\n")
    scenario = load_scenario(path)
    assert scenario.parameters == {"grid_ef_2060_ratio": 0.05}
    assert scenario.code != load_scenario("Plan").code
    assert model.vector(scenario)[model.parameters.index("grid_ef_2060_ratio")] == 0.05


@pytest.mark.parametrize(("text", "field", "fragment"), [
    ("levers:\n  ev_share_2500: 0.5\n", "levers.ev_share_2500", "ev_share_2050"),
    ("levers:\n  ev_share_2050: 1.5\n", "levers.ev_share_2050", "outside the range"),
    ("levers:\n  ev_share_2050: lots\n", "levers.ev_share_2050", "not a number"),
    ("lever:\n  ev_share_2050: 0.5\n", "lever", "levers"),
    ("parameters:\n  grid_ef_2060_ratio: 2\n", "parameters.grid_ef_2060_ratio", "outside the range"),
    ("levers: [1, 2]\n", "levers", "mapping"),
])
def test_bad_scenario_files_name_file_and_field(tmp_path, text, field, fragment):
    path = _write(tmp_path, "Bad", text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    problem = info.value.first
    assert problem.file == str(path) and problem.field == field
    assert fragment in str(info.value)


def test_bad_references(tmp_path):
    with pytest.raises(InputError, match="did you mean 'Plan'"):
        load_scenario("Plam")
    _write(tmp_path, "A", "inherits: B\n")
    _write(tmp_path, "B", "inherits: A\n")
    with pytest.raises(InputError, match="loops"):
        load_scenario(tmp_path / "A.yaml")
    with pytest.raises(InputError, match="not found"):
        load_scenario(tmp_path / "missing.yaml")
    broken = _write(tmp_path, "Broken", "levers: {ev_share_2050: 0.5\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(broken)


def test_unknown_name_in_vector(model):
    from citycarbon.pathways.scenarios import Scenario
    with pytest.raises(InputError, match="did you mean 'ccus_2060_mt'"):
        model.vector(Scenario(name="x", code="x", levers={"ccus_2060": 1.0}))


def test_with_settings_matches_an_equivalent_file(tmp_path):
    from citycarbon.pathways.scenarios import parse_settings, with_settings
    changed = with_settings(load_scenario("Plan"), parse_settings(["ccus_2060_mt=2", "cf_solar=0.12"]))
    same = load_scenario(_write(tmp_path, "Same", "inherits: Plan\nlevers: {ccus_2060_mt: 2}\n"
                                                  "parameters: {cf_solar: 0.12}\n"))
    assert changed.code == same.code and changed.levers == same.levers and changed.parameters == same.parameters

"""The budget check and the pipeline as services (citycarbon.services.projects.budget), on SQLite and PostgreSQL:
the issue's example (a new chemical project on 长兴岛 with naphtha feedstock) and its effect on the 2025
intensity fall, the commissioning assumption, a target that the project makes miss, the scope of every role, and
the pipeline's sums and room."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.services.projects import budget
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.services.tracking import city_data
from citycarbon.store.project_models import ProjProject
from citycarbon.tracking.projection import project_trend
from citycarbon.tracking.warning_rules import load_rule_set
from tests.projects.support import (
    ANALYST,
    CHANGXING,
    CITY,
    DISTRICT,
    MIIT,
    OFFICE,
    OTHER_DISTRICT,
    VIEWER,
    ZHUANGHE,
    chemical_project,
    insert_project,
)

ENTERPRISE = Principal(7, "ent", Role.enterprise, enterprise_id="E-CHEM", city=CITY)
OTHER_ENTERPRISE = Principal(8, "ent-2", Role.enterprise, enterprise_id="E-OTHER", city=CITY)


def _set_data(db, code: str, **values) -> None:
    with db.session(write=True) as session:
        row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
        row.data = {**row.data, **values}


def _expected_falls(series: dict[str, dict[int, float]], year: int) -> tuple[float, float]:
    """The base-year dual-control intensity and the projected GDP of ``year``, from the tracking series."""
    rules = load_rule_set()
    energy, gdp = series["energy_consumption_dual_control_tce"], series["gdp_10k_yuan"]
    base = energy[2020] / gdp[2020]
    projected = project_trend(gdp, year, window=rules.window_years, interval=rules.interval)
    return base, projected.value


def test_the_issues_example_and_its_effect_on_2025(db):
    code = insert_project(db, chemical_project(), state="submitted", enterprise_id="E-CHEM")
    figures = evaluate(CITY, chemical_project(id=code)).summary()
    found = budget.budget_check(db, OFFICE, CITY, code)
    c = found["contribution"]
    # dual control: the comprehensive consumption less the naphtha feedstock (4 500 tce)
    assert c["dual_control_tce"] == {"value": pytest.approx(figures["dual_control_tce"]), "unit": "tce"}
    assert c["feedstock_tce"]["value"] == pytest.approx(4500.0)
    assert c["dual_control_tce"]["value"] == pytest.approx(figures["tce"] - figures["feedstock_tce"])
    # filed in 2026 without a commissioning date: counted from 2028 (an assumption, marked as such)
    assert (c["commissioning_year"], c["commissioning_origin"], c["commissioning_status"]) == (2028, "assumed",
                                                                                                "estimate")
    assert found["years"] == [2025, 2030] and found["district"]["region"] == CHANGXING
    assert found["district"]["name_zh"] == "瓦房店市" and found["city"]["region"] == "210200"
    first = found["city"]["checks"][0]
    assert first["year"] == 2025 and not first["counted"] and first["delta"]["energy_tce"]["value"] == 0
    assert found["summary"]["fall_change"] == 0 and found["summary"]["counted"] is False
    later = found["city"]["checks"][1]
    series = city_data(CITY).series
    base, gdp_2030 = _expected_falls(series, 2030)
    assert later["counted"] and later["delta"]["energy_tce"]["value"] == pytest.approx(figures["dual_control_tce"])
    assert later["delta"]["co2_t"]["value"] == pytest.approx(figures["co2_t"])
    assert later["delta"]["energy_intensity_fall"]["value"] == pytest.approx(
        -figures["dual_control_tce"] / (gdp_2030 * base), rel=1e-6)
    assert later["without"]["energy_tce"]["unit"] == "tce"
    assert later["without"]["energy_intensity"]["unit"] == "tce/(10^4 CNY)"
    prov = found["provenance"]
    assert prov["method_version"] == "project-budget/1" and prov["figures"] == "evaluated"
    assert prov["tracking"]["source"] in ("files", "store") and prov["rule_set"] == "ndrc_629"

    # commissioned in 2025 (the applicant's date): the 2025 intensity fall moves by −P / (GDP_2025 · I_2020)
    _set_data(db, code, commissioning="2025-10-01")
    found = budget.budget_check(db, OFFICE, CITY, code, years=[2025])
    base, gdp_2025 = _expected_falls(series, 2025)
    summary = found["summary"]
    assert found["contribution"]["commissioning_origin"] == "data" and summary["counted"] is True
    assert summary["fall_change"] == pytest.approx(-figures["dual_control_tce"] / (gdp_2025 * base), rel=1e-6)
    assert summary["fall_with"] == pytest.approx(summary["fall_without"] + summary["fall_change"])
    district = found["district"]["checks"][0]
    assert district["delta"]["energy_tce"]["value"] == pytest.approx(figures["dual_control_tce"])
    # the same tce weighs more in the district than in the city
    assert district["delta"]["energy_intensity_fall"]["value"] < summary["fall_change"] < 0


def test_a_target_the_project_makes_miss_moves_the_warning_level(db):
    code = insert_project(db, chemical_project(), state="under_review")
    _set_data(db, code, commissioning=2025)
    plain = budget.budget_check(db, OFFICE, CITY, code, years=[2025])["summary"]
    # a target between the fall with and without the project: met without it, missed with it
    value = plain["fall_with"] + (plain["fall_without"] - plain["fall_with"]) / 2
    data = city_data(CITY)
    targets = [t.model_copy(update={"value": value}) if t.id == "energy_intensity_reduction_2025" else t
               for t in data.plan.targets]
    data = replace(data, plan=data.plan.model_copy(update={"targets": targets}), memo={})
    found = budget.budget_check(db, OFFICE, CITY, code, years=[2025], data=data)
    s = found["summary"]
    assert s["target_fall"] == pytest.approx(value)
    assert (s["meets_target_without"], s["meets_target_with"]) == (True, False)
    assert (s["level_without"], s["level_with"], s["moves_level"]) == (3, 2, True)
    check = found["city"]["checks"][0]
    assert check["room_tce"]["value"] > 0 > check["room_after_tce"]["value"]


def test_scope(db):
    code = insert_project(db, chemical_project(), enterprise_id="E-CHEM")
    for caller in (OFFICE, ANALYST, DISTRICT, MIIT, ENTERPRISE):
        assert budget.budget_check(db, caller, CITY, code, years=[2030])["project"]["code"] == code
    for caller in (OTHER_DISTRICT, OTHER_ENTERPRISE):
        with pytest.raises(NotFound):
            budget.budget_check(db, caller, CITY, code)
    with pytest.raises(Forbidden):
        budget.budget_check(db, VIEWER, CITY, code)
    with pytest.raises(NotFound):
        budget.budget_check(db, OFFICE, CITY, "XM-2026-9999")
    with pytest.raises(NotFound):
        budget.budget_check(db, VIEWER, CITY, "XM-2026-9999")
    with pytest.raises(InputError) as error:
        budget.budget_check(db, OFFICE, CITY, code, years=[1850])
    assert error.value.problems[0].field == "year"
    _set_data(db, code, commissioning="someday")
    with pytest.raises(InputError) as error:
        budget.budget_check(db, OFFICE, CITY, code)
    assert error.value.problems[0].field == "commissioning"


def test_the_pipeline(db):
    figures = evaluate(CITY, chemical_project(id="x")).summary()
    p = figures["dual_control_tce"]
    codes = {
        "pending_wfd": insert_project(db, chemical_project(), state="submitted"),
        "pending_zh": insert_project(db, chemical_project(region_code=ZHUANGHE), state="incomplete"),
        "approved_wfd": insert_project(db, chemical_project(), state="approved"),
        "rejected": insert_project(db, chemical_project(), state="rejected"),
        "draft": insert_project(db, chemical_project(), state="draft"),
    }
    for name in ("pending_wfd", "pending_zh", "approved_wfd"):
        _set_data(db, codes[name], commissioning=2025)
    late = insert_project(db, chemical_project(), state="approved_conditions")  # counted from 2028 (assumed)
    found = budget.pipeline(db, OFFICE, CITY, year=2025)
    assert found["scope"] == "city" and found["totals"]["projects"] == 4
    assert found["totals"]["pending_tce"] == pytest.approx(2 * p)
    assert found["totals"]["approved_tce"] == pytest.approx(p)  # the late one is not counted in 2025
    assert found["totals"]["approved_tce_all"] == pytest.approx(2 * p)
    assert found["provenance"]["evaluated_now"] == 4  # stored without figures: evaluated
    rows = {r["region"]: r for r in found["regions"]}
    assert len(rows) == 10
    assert (rows[CHANGXING]["pending_count"], rows[CHANGXING]["approved_count"]) == (1, 2)
    assert rows[ZHUANGHE]["pending_tce"] == pytest.approx(p) and rows[ZHUANGHE]["approved_tce"] == 0
    assert {d["division"] for d in found["divisions"]} == {"C26"}
    room = found["room"]
    assert room["target_fall"] is None and room["room"] is None and room["projected_tce"] > 0
    later = budget.pipeline(db, OFFICE, CITY, year=2030)
    assert later["totals"]["approved_tce"] == pytest.approx(2 * p)
    # a district sees its own rows; the viewer and a department the city aggregate; an enterprise is refused
    mine = budget.pipeline(db, DISTRICT, CITY, year=2025)
    assert mine["scope"] == "districts" and [r["region"] for r in mine["regions"]] == [CHANGXING]
    assert mine["totals"]["projects"] == 3 and mine["room"] is None
    assert budget.pipeline(db, VIEWER, CITY)["totals"]["projects"] == 4
    assert budget.pipeline(db, MIIT, CITY)["totals"]["projects"] == 4
    with pytest.raises(Forbidden):
        budget.pipeline(db, ENTERPRISE, CITY)
    with pytest.raises(InputError):
        budget.pipeline(db, OFFICE, CITY, year=3000)
    assert late


def test_pipeline_room_with_a_target(db):
    code = insert_project(db, chemical_project(), state="approved")
    _set_data(db, code, commissioning=2025)
    p = evaluate(CITY, chemical_project(id=code)).summary()["dual_control_tce"]
    data = city_data(CITY)
    targets = [t.model_copy(update={"value": 0.2}) if t.id == "energy_intensity_reduction_2025" else t
               for t in data.plan.targets]
    data = replace(data, plan=data.plan.model_copy(update={"targets": targets}), memo={})
    found = budget.pipeline(db, OFFICE, CITY, year=2025, data=data)
    series = data.series
    base, gdp = _expected_falls(series, 2025)
    room = found["room"]
    assert room["allowance"] == pytest.approx(base * 0.8 * gdp, rel=1e-9)
    assert room["room"] == pytest.approx(room["allowance"] - room["projected_tce"])
    assert room["after_approved"] == pytest.approx(room["room"] - p)
    assert room["after_pending"] == pytest.approx(room["after_approved"])
    # the district's room uses its allocated target (the city's × its factor in districts.csv)
    wfd = next(r for r in found["regions"] if r["region"] == CHANGXING)
    assert wfd["room"]["target_fall"] is not None and wfd["room"]["after_approved"] == pytest.approx(
        wfd["room"]["room"] - p)

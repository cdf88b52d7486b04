"""The "1+N" registration service (citycarbon.services.governance.plans), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.plan import load_plan
from citycarbon.services.governance import plans as service
from citycarbon.store import audit
from citycarbon.store.governance_models import GovSubplan
from tests.governance.subplan_support import dump, fixture_text, subplan_data, target

OFFICE = Principal(1, "office", Role.admin)
ANALYST = Principal(2, "analyst", Role.analyst)
DEPT = Principal(3, "dept", Role.department, org="miit")
OTHER_CITY = Principal(4, "other", Role.admin, city="shenyang")


def _rows(db) -> list[tuple[str, int, bool]]:
    with db.session() as session:
        return [(r.code, r.version, r.valid_to is None)
                for r in session.scalars(select(GovSubplan).order_by(GovSubplan.code, GovSubplan.version))]


def _audits(db) -> int:
    with db.session() as session:
        return audit.count(session)


def test_register_list_show_replace_withdraw(seeded_db):
    first = service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("zhuanghe"), filename="zhuanghe.yaml")
    assert (first.code, first.version, first.parent, first.kind, first.org) == \
        ("zhuanghe_2030", 1, "dalian", "district", "d210283")
    assert first.org_name_zh == "庄河市人民政府" and first.document is not None
    service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("energy").encode())
    listed = service.list_plans(seeded_db, DEPT, "dalian")
    assert [p.code for p in listed] == ["energy_sector_2030", "zhuanghe_2030"]
    assert listed[1].targets[0]["unit"] == "GW" and listed[1].carries[1]["deadline"] == "2028-12-31"

    # the same document again: nothing new
    before = _audits(seeded_db)
    again = service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("zhuanghe"))
    assert again.version == 1 and _audits(seeded_db) == before

    # a replacement closes the old version
    data = yaml.safe_load(fixture_text("zhuanghe"))
    data["targets"][0]["value"] = 4.5
    second = service.register_plan(seeded_db, OFFICE, "dalian", dump(data))
    assert second.version == 2 and _audits(seeded_db) == before + 1
    assert [r for r in _rows(seeded_db) if r[0] == "zhuanghe_2030"] == [("zhuanghe_2030", 1, False),
                                                                         ("zhuanghe_2030", 2, True)]
    assert service.get_plan(seeded_db, ANALYST, "dalian", "zhuanghe_2030").targets[0]["value"] == 4.5
    assert [p.version for p in service.plan_history(seeded_db, DEPT, "dalian", "zhuanghe_2030")] == [1, 2]

    withdrawn = service.withdraw_plan(seeded_db, OFFICE, "dalian", "zhuanghe_2030", reason="superseded")
    assert withdrawn.valid_to is not None and _audits(seeded_db) == before + 2
    assert [p.code for p in service.list_plans(seeded_db, OFFICE, "dalian")] == ["energy_sector_2030"]
    with pytest.raises(NotFound):
        service.get_plan(seeded_db, OFFICE, "dalian", "zhuanghe_2030")
    with pytest.raises(NotFound):
        service.withdraw_plan(seeded_db, OFFICE, "dalian", "zhuanghe_2030")
    # registered again after a withdrawal: the next version number
    assert service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("zhuanghe")).version == 3


def test_only_the_office_writes_and_nothing_is_stored(seeded_db):
    before = _audits(seeded_db)
    for caller in (ANALYST, DEPT, OFFICE.narrowed({"read"})):
        with pytest.raises(Forbidden):
            service.register_plan(seeded_db, caller, "dalian", fixture_text("zhuanghe"))
    with pytest.raises(Forbidden):
        service.list_plans(seeded_db, OTHER_CITY, "dalian")
    service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("zhuanghe"))
    with pytest.raises(Forbidden):
        service.withdraw_plan(seeded_db, DEPT, "dalian", "zhuanghe_2030")
    assert _rows(seeded_db) == [("zhuanghe_2030", 1, True)] and _audits(seeded_db) == before + 1


@pytest.mark.parametrize(("data", "field", "needle"), [
    (subplan_data("xx", parent="nowhere"), "meta.parent", "neither the city plan"),
    (subplan_data("xx", org="nobody"), "meta.org", "not in the registry"),
])
def test_unknown_parent_or_org_is_refused_with_the_field(seeded_db, data, field, needle):
    with pytest.raises(InputError) as info:
        service.register_plan(seeded_db, OFFICE, "dalian", dump(data), filename="x.yaml")
    problem = info.value.first
    assert (problem.file, problem.field) == ("x.yaml", field) and needle in problem.message
    assert problem.message_zh and problem.row == (4 if field == "meta.parent" else 6)  # the line of the field
    assert _rows(seeded_db) == []


def test_bad_yaml_names_file_line_and_field(seeded_db):
    text = fixture_text("zhuanghe").replace("comparison: at_least", "comparison: atleast")
    with pytest.raises(InputError) as info:
        service.register_plan(seeded_db, OFFICE, "dalian", text, filename="zh.yaml")
    problem = info.value.first
    assert (problem.file, problem.field, problem.suggestion) == ("zh.yaml", "targets[0].comparison", "at_least")
    assert problem.row == text.splitlines().index("  comparison: atleast") + 1
    with pytest.raises(InputError):
        service.register_plan(seeded_db, OFFICE, "dalian", b"\xff\xfe not utf-8")
    with pytest.raises(InputError):  # a city plan is not a sub-plan
        service.register_plan(seeded_db, OFFICE, "dalian", Path(_dalian()).read_text(encoding="utf-8"))
    assert _rows(seeded_db) == []


def _dalian() -> str:
    from citycarbon.data import data_path

    return str(data_path("plans/dalian.yaml"))


def test_nested_parent_and_loop(seeded_db):
    service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("energy"))
    child = subplan_data("power_2030", kind="sector", parent="energy_sector_2030", org="drc", region_code="210200")
    assert service.register_plan(seeded_db, OFFICE, "dalian", dump(child)).parent == "energy_sector_2030"
    # re-registering the energy plan under its own child would make a loop
    energy = yaml.safe_load(fixture_text("energy"))
    energy["meta"]["parent"] = "power_2030"
    with pytest.raises(InputError) as info:
        service.register_plan(seeded_db, OFFICE, "dalian", dump(energy))
    assert info.value.first.field == "meta.parent"


def test_check_reads_the_city_plan_platform_values_and_the_matrix(seeded_db):
    from citycarbon.services import targets

    city_target = load_plan().target("wind_solar_capacity_2030")
    service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("zhuanghe"))
    service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("energy"))
    targets.set_allocation(seeded_db, OFFICE, "dalian", "210283", "wind_solar_capacity_2030", value=4000,
                           unit="MW", document="示例〔2026〕1号")
    report = service.check_plans(seeded_db, DEPT, "dalian")
    assert report.plans == 2 and report.measures > 100
    by_code: dict[str, list] = {}
    for finding in report.findings:
        by_code.setdefault(finding.code, []).append(finding)
    [short] = by_code["allocation_short"]
    assert (short.target, short.total) == (city_target.value, pytest.approx(3500.0))
    [mismatch] = by_code["platform_allocation_mismatch"]
    assert (mismatch.target, mismatch.gap) == (4000.0, pytest.approx(-500.0))
    assert [f.measures for f in by_code["deadline_later"]] == [("T10-M06",)]  # 2031-12-31 after 2030-12-31
    assert "unknown_measures" not in by_code and "org_missing" not in by_code
    carried = {"T10-M01", "T10-M02", "T11-M02", "T10-M03", "T10-M04", "T10-M05", "T10-M06"}
    not_carried = {code for f in by_code["measures_not_carried"] for code in f.measures}
    assert not (carried & not_carried) and len(not_carried) == report.measures - len(carried)
    assert report.counts["warning"] >= 3
    assert report.to_dict()["findings"][0]["severity"] in {"error", "warning"}


def test_check_reports_a_withdrawn_parent(seeded_db):
    service.register_plan(seeded_db, OFFICE, "dalian", fixture_text("energy"))
    child = subplan_data("power_2030", kind="sector", parent="energy_sector_2030", org="drc", region_code="210200",
                         targets=[target("cap", "energy_consumption_tce", 2025, 1, "Mtce", "at_most")])
    service.register_plan(seeded_db, OFFICE, "dalian", dump(child))
    service.withdraw_plan(seeded_db, OFFICE, "dalian", "energy_sector_2030")
    report = service.check_plans(seeded_db, OFFICE, "dalian")
    assert [f.plans for f in report.findings if f.code == "parent_missing"] == [("power_2030",)]
    with seeded_db.session() as session:
        assert session.scalar(select(func.count()).select_from(GovSubplan)) == 2

"""The project registry (issue 15 items 1 and 7): create → show on the issue's example, scope, edit with
versions, enterprise USCC, the import (golden file, bad file) and the template."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.services.projects import registry
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.store.models import AuditEntry
from citycarbon.store.project_models import ProjProject, ProjProjectVersion
from citycarbon.store.projects import StaleVersion
from citycarbon.store.registry_models import RegistryEnterprise
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
    uscc,
)

ENTERPRISE_USCC = uscc("91210281MA0XXXXX1")


def body(**changes: object) -> dict:
    """The API / CLI body of the issue's example project."""
    p = chemical_project()
    out = {"name": p.name, "applicant_name": p.applicant_name, "applicant_uscc": p.applicant_uscc,
           "region_code": p.region_code, "industry_code": p.industry_code, "kind": p.kind.value,
           "application_date": p.application_date.isoformat(),
           "products": [{"product": x.product, "capacity": x.capacity, "unit": x.unit,
                         "unit_consumption": x.unit_consumption, "consumption_unit": x.consumption_unit}
                        for x in p.products],
           "energy": {f: {"quantity": q.value, "unit": q.unit} for f, q in p.energy.items()},
           "feedstock": {f: {"quantity": q.value, "unit": q.unit} for f, q in p.feedstock.items()},
           "national_plan": p.national_plan}
    out.update(changes)
    return out


def _enterprise(db, enterprise_id: str = "E-CX-1", code: str = ENTERPRISE_USCC) -> Principal:
    with db.session(write=True) as session:
        session.add(RegistryEnterprise(enterprise_id=enterprise_id, position=1, name="大连某石化新材料有限公司",
                                       uscc=code, industry_code="C2614", region=CHANGXING, tier=1))
    return Principal(9, "ent-cx", Role.enterprise, enterprise_id=enterprise_id, city=CITY)


def test_create_then_show_gives_the_figures_of_evaluate(db):
    created = registry.create_project(db, DISTRICT, CITY, body())
    assert created.view.state == "draft" and created.view.version == 1
    assert created.code.startswith("XM-2026-")
    shown = registry.get_project(db, DISTRICT, CITY, created.code)
    expected = evaluate(CITY, chemical_project(id=created.code))
    e, x = shown.evaluation.energy, expected.energy
    assert (e.tce_calorific, e.tce_equivalent, e.dual_control_tce, e.co2_t) == (
        x.tce_calorific, x.tce_equivalent, x.dual_control_tce, x.co2_t)
    assert [f.code for f in shown.evaluation.findings] == [f.code for f in expected.findings]
    assert shown.evaluation.verdict is expected.verdict
    # the stored summary is the evaluation's
    assert shown.view.summary == expected.summary()
    # and the energy is the data rows' arithmetic: naphtha feedstock at its standard-coal coefficient
    rows = shown.evaluation.energy.provenance.to_dict()["factors"]
    naphtha = next(r for r in rows if r["factor_id"] == "gbt2589.naphtha")
    assert naphtha["unit"] == "kgce/kg"
    assert math.isclose(e.feedstock_tce, 3_000 * 1_000 * naphtha["value"] / 1_000, rel_tol=1e-9)  # t × kgce/kg
    assert math.isclose(e.dual_control_tce, e.tce - e.feedstock_tce - e.renewable_electricity_tce, rel_tol=1e-12)


def test_every_write_is_audited_with_its_history(db):
    created = registry.create_project(db, OFFICE, CITY, body())
    registry.edit_project(db, OFFICE, CITY, created.code, {"name": "改名"}, version=1, reason="名称更正")
    with db.session() as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.entity == "project")
                                  .order_by(AuditEntry.seq)).scalars().all()
        versions = session.scalar(select(func.count()).select_from(ProjProjectVersion))
    assert actions == ["project.create", "project.update"] and versions == 2


def test_scope_district_enterprise_viewer(db):
    mine = registry.create_project(db, DISTRICT, CITY, body())
    theirs = registry.create_project(db, OTHER_DISTRICT, CITY, body(region_code=ZHUANGHE, name="庄河项目"))
    assert [v.code for v in registry.list_projects(db, DISTRICT, CITY).items] == [mine.code]
    assert [v.code for v in registry.list_projects(db, OTHER_DISTRICT, CITY).items] == [theirs.code]
    with pytest.raises(NotFound):
        registry.get_project(db, OTHER_DISTRICT, CITY, mine.code)
    with pytest.raises(NotFound):
        registry.edit_project(db, OTHER_DISTRICT, CITY, mine.code, {"name": "x"}, version=1)
    assert registry.list_projects(db, VIEWER, CITY).total == 0
    with pytest.raises(NotFound):
        registry.get_project(db, VIEWER, CITY, mine.code)
    assert {v.code for v in registry.list_projects(db, MIIT, CITY).items} == {mine.code, theirs.code}
    assert registry.list_projects(db, ANALYST, CITY).total == 2
    enterprise = _enterprise(db)
    own = registry.create_project(db, enterprise, CITY, body(applicant_uscc=ENTERPRISE_USCC))
    assert own.view.enterprise_id == "E-CX-1"
    assert [v.code for v in registry.list_projects(db, enterprise, CITY).items] == [own.code]
    with pytest.raises(NotFound):
        registry.get_project(db, enterprise, CITY, mine.code)
    # the office's project for the same applicant is linked to the registry's enterprise
    linked = registry.create_project(db, OFFICE, CITY, body(applicant_uscc=ENTERPRISE_USCC))
    assert linked.view.enterprise_id == "E-CX-1"


def test_district_files_only_in_its_districts_and_readers_may_not_file(db):
    with pytest.raises(InputError) as error:
        registry.create_project(db, DISTRICT, CITY, body(region_code=ZHUANGHE))
    assert error.value.problems[0].field == "region_code"
    for caller in (VIEWER, ANALYST, MIIT):
        with pytest.raises(Forbidden):
            registry.create_project(db, caller, CITY, body())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProjProject)) == 0


def test_enterprise_uscc_mismatch_is_422(db):
    enterprise = _enterprise(db)
    with pytest.raises(InputError) as error:
        registry.create_project(db, enterprise, CITY, body())  # the example's code is not the enterprise's
    assert error.value.problems[0].field == "applicant_uscc"
    assert "统一社会信用代码" in (error.value.problems[0].message_zh or "")


def test_stale_version_and_state(db):
    created = registry.create_project(db, DISTRICT, CITY, body())
    edited = registry.edit_project(db, DISTRICT, CITY, created.code, {"feedstock": {}}, version=1)
    assert edited.view.version == 2
    assert edited.view.summary["feedstock_tce"] == 0 and edited.evaluation.energy.feedstock_tce == 0
    with pytest.raises(StaleVersion) as stale:
        registry.edit_project(db, DISTRICT, CITY, created.code, {"name": "again"}, version=1)
    assert isinstance(stale.value, Conflict)
    with db.session(write=True) as session:
        session.execute(ProjProject.__table__.update().values(state="submitted"))
    with pytest.raises(Conflict):
        registry.edit_project(db, DISTRICT, CITY, created.code, {"name": "again"}, version=2)


def test_filters_and_paging(db):
    a = registry.create_project(db, OFFICE, CITY, body())
    b = registry.create_project(db, OFFICE, CITY, body(name="庄河水泥项目", region_code=ZHUANGHE,
                                                       industry_code="C3011", products=[], national_plan=None))
    assert [v.code for v in registry.list_projects(db, OFFICE, CITY, district=ZHUANGHE).items] == [b.code]
    assert [v.code for v in registry.list_projects(db, OFFICE, CITY, industry="C26").items] == [a.code]
    assert [v.code for v in registry.list_projects(db, OFFICE, CITY, text="水泥").items] == [b.code]
    assert registry.list_projects(db, OFFICE, CITY, state="submitted").total == 0
    verdict = a.view.summary["verdict"]
    assert a.code in [v.code for v in registry.list_projects(db, OFFICE, CITY, verdict=verdict).items]
    page = registry.list_projects(db, OFFICE, CITY, limit=1, offset=1)
    assert page.total == 2 and [v.code for v in page.items] == [a.code]
    with pytest.raises(InputError):
        registry.list_projects(db, OFFICE, CITY, state="nonsense")


def test_bad_body_names_fields(db):
    with pytest.raises(InputError) as error:
        registry.create_project(db, OFFICE, CITY, body(applicant_uscc="123", energy={"unobtainium": {
            "quantity": 1, "unit": "t"}}))
    fields = {p.field for p in error.value.problems}
    assert "applicant_uscc" in fields and any("unobtainium" in (f or "") for f in fields)


# ---- import ----------------------------------------------------------------------------------------------

def _template_bytes(db) -> bytes:
    return registry.template_workbook(db, OFFICE, CITY).content


def test_template_round_trips_as_the_golden_file(db):
    content = _template_bytes(db)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    assert {"说明", "项目", "能源消费"} <= set(book.sheetnames)
    assert book["项目"].cell(row=1, column=2).value.startswith("项目名称")
    preview = registry.import_projects(db, OFFICE, CITY, content, "projects.xlsx")
    assert not preview.applied and len(preview.rows) == 1 and preview.rows[0].code is None
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProjProject)) == 0
    expected = evaluate(CITY, replace(chemical_project(), name=preview.rows[0].name,
                                      applicant_uscc=uscc("91210281123456789")))
    assert preview.rows[0].tce_calorific == expected.energy.tce_calorific
    applied = registry.import_projects(db, DISTRICT, CITY, content, "projects.xlsx", apply=True)
    code = applied.rows[0].code
    shown = registry.get_project(db, DISTRICT, CITY, code)
    assert shown.evaluation.energy.tce_calorific == expected.energy.tce_calorific
    assert shown.view.state == "draft"


def _bad_workbook(db) -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_template_bytes(db)))
    projects, energy = book["项目"], book["能源消费"]
    first = list(next(projects.iter_rows(min_row=2, max_row=2, values_only=True)))
    projects.append(first)
    projects.append(first)
    projects.cell(row=3, column=1, value="2")
    projects.cell(row=3, column=4, value="91210281123456780")  # a bad check character
    projects.cell(row=4, column=1, value="3")
    energy.append(["3", "能源", "electricity", 10, "t"])  # electricity in tonnes
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_bad_file_names_sheet_row_and_column_and_stores_nothing(db):
    with pytest.raises(InputError) as error:
        registry.import_projects(db, OFFICE, CITY, _bad_workbook(db), "bad.xlsx", apply=True)
    problems = error.value.problems
    uscc_problem = next(p for p in problems if "applicant_uscc" in (p.field or ""))
    assert uscc_problem.file == "bad.xlsx [项目]" and uscc_problem.row == 3
    assert uscc_problem.field.startswith("统一社会信用代码") and uscc_problem.message_zh
    unit_problem = next(p for p in problems if p.file == "bad.xlsx [能源消费]")
    assert unit_problem.row == 5 and unit_problem.field.startswith("品种代码")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProjProject)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "project")) == 0


def test_csv_import_with_inline_energy(db):
    p = chemical_project()
    header = ",".join(registry._header(k, registry.PROJECT_COLUMNS) for k in (
        "name", "applicant_name", "applicant_uscc", "region_code", "industry_code", "kind", "application_date",
        "energy", "feedstock"))
    good = f"{header}\n甲项目,{p.applicant_name},{p.applicant_uscc},{CHANGXING},C2614,新建,2026-11-20," \
           "electricity:1500 10^4 kWh; natural_gas:125 10^4 m^3,naphtha:3000 t\n"
    report = registry.import_projects(db, DISTRICT, CITY, good.encode(), "p.csv")
    expected = evaluate(CITY, replace(p, products=(), national_plan=None))
    assert report.rows[0].tce_calorific == expected.energy.tce_calorific
    bad = good + f"乙项目,{p.applicant_name},{p.applicant_uscc},{ZHUANGHE},C2614,新建,2026-13-01,coal 5,\n"
    with pytest.raises(InputError) as error:
        registry.import_projects(db, DISTRICT, CITY, bad.encode(), "p.csv", apply=True)
    rows = {(p.row, p.field.split()[0]) for p in error.value.problems}
    assert (3, "申请日期（YYYY-MM-DD）") in rows and (3, "能源消费（品种:数量") in rows
    assert all(p.file == "p.csv" and p.message_zh for p in error.value.problems)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProjProject)) == 0

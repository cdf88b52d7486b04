"""Shared objects of the project-gate tests: the issue's example project (a new chemical project of 长兴岛,
about 8 000 tce with naphtha feedstock), the office and other callers, and a direct store insert of a project
for tests that start from a given workflow state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from citycarbon.auth.principal import Principal, Role
from citycarbon.monitoring.uscc import uscc_check_character
from citycarbon.projects.model import ProductLine, Project, ProjectKind, Quantity
from citycarbon.store import projects as store
from citycarbon.store.project_models import ProjProject

CITY = "dalian"
CHANGXING = "210281"  # 瓦房店市 (长兴岛 lies in it)
ZHUANGHE = "210283"

OFFICE = Principal(1, "office", Role.admin, city=CITY)
ANALYST = Principal(2, "analyst", Role.analyst, city=CITY)
DISTRICT = Principal(3, "district-wfd", Role.district, regions=frozenset({CHANGXING}), city=CITY)
OTHER_DISTRICT = Principal(4, "district-zh", Role.district, regions=frozenset({ZHUANGHE}), city=CITY)
VIEWER = Principal(5, "viewer", Role.viewer, city=CITY)
MIIT = Principal(6, "dept-miit", Role.department, org="miit", city=CITY)


def uscc(body: str = "91210281123456789") -> str:
    """A valid unified social credit code with ``body`` (17 characters) and its check character."""
    return body + uscc_check_character(body)


def chemical_project(**changes: object) -> Project:
    """The issue's example: a new chemical project on 长兴岛 (a 10 000 t/a ethylene unit at 600 kgoe/t, between
    the 723号 标杆 and 基准) of about 8 000 tce (当量值, comprehensive consumption) with 3 000 t naphtha as
    feedstock (4 500 tce, deducted from dual control and from the energy replacement it needs). New ethylene is
    forbidden by task 5 unless a national plan includes it: the applicant cites the 石化产业规划布局方案."""
    project = Project(
        id="", name="长兴岛精细化工项目", applicant_name="大连某石化新材料有限公司", applicant_uscc=uscc(),
        region_code=CHANGXING, industry_code="C2614", kind=ProjectKind.new, application_date=date(2026, 11, 20),
        products=(ProductLine("ethylene", 10_000, "t/a", 600, "kgoe/t"),),
        national_plan="石化产业规划布局方案（发改产业〔2014〕2208号）",
        energy={"electricity": Quantity(1_500, "10^4 kWh"), "natural_gas": Quantity(125, "10^4 m^3")},
        feedstock={"naphtha": Quantity(3_000, "t")})
    return replace(project, **changes)  # type: ignore[arg-type]


def insert_project(db, project: Project, *, state: str = "submitted", city: str = CITY,
                   enterprise_id: str | None = None, by: str = "test") -> str:
    """Store ``project`` directly (no service, no audit) in ``state``; its new code."""
    with db.session(write=True) as session:
        code = project.id or store.next_code(session, city, project.application_date.year)
        row = ProjProject(city=city, code=code, state=state, enterprise_id=enterprise_id,
                          data=store.project_data(project), submitted_by=by,
                          **{name: getattr(project, name) for name in store.PROJECT_COLUMNS})
        store.save_project(session, row, 0, {}, by=by)
        return code

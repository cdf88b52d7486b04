"""The project registry and the check page as use cases (issue 15 items 1, 2 and the registry part of 7).

A fixed-asset investment project is filed (created as a draft), edited while it is a draft or returned as
``incomplete``, read, listed and checked: :func:`get_project` answers the stored project with its
:class:`~citycarbon.services.projects.evaluate.Evaluation` (tce 当量值 and 等价值, dual-control tce, coal, CO2,
every finding with its reason and document, the verdict). Every save stores ``Evaluation.summary()`` with the
row (lists and the pipeline read it) and is audited (entity ``project``) in the same transaction.

Who may do what (applied here once for every face; :class:`~citycarbon.auth.principal.Principal`):

* **Read** (:meth:`Principal.can_read_project`): the office, analysts and member departments every project of the
  city; a district user its districts' projects; an enterprise user its own. Another unit's project answers
  :class:`NotFound` (existence not leaked); viewers see no project (an empty list).
* **File** (:meth:`Principal.can_file_project`): the office for anyone, a district user in its districts, an
  enterprise user for itself. An enterprise user's project is linked to its own enterprise and the applicant's
  unified social credit code must be the registry's code of that enterprise (else 422). For the others the
  project is linked (``enterprise_id``) when the code matches a key unit of the monitoring registry.
* **Edit** only while the project is ``draft`` or ``incomplete``; a write names the ``version`` it read (a stale
  version: :class:`~citycarbon.store.projects.StaleVersion`, 409, nothing written).

Imports (:func:`import_projects`) read the Excel template (:func:`template_workbook`: sheets 说明, 项目, 能源消费)
or a CSV of the 项目 columns; they are all-or-nothing: every row is parsed and checked (fields, the energy
computation, permission for its district) first, problems name the file, the sheet, the spreadsheet row (header
= row 1) and the column in Chinese and English, and with any problem nothing is stored. ``apply=False`` previews.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.projects.model import ProductLine, Project, ProjectKind, Quantity
from citycarbon.services.cities import require_city
from citycarbon.services.projects.evaluate import Evaluation, evaluate, gate_tables
from citycarbon.store import audit
from citycarbon.store import projects as store
from citycarbon.store.db import Database
from citycarbon.store.project_models import ProjProject
from citycarbon.store.registry_models import RegistryEnterprise

__all__ = [
    "EDITABLE_STATES",
    "ENERGY_COLUMNS",
    "ENERGY_SHEET",
    "INFO_SHEET",
    "KIND_LABELS",
    "MAX_FILE_BYTES",
    "PROJECT_COLUMNS",
    "PROJECT_SHEET",
    "STATES",
    "XLSX_MEDIA_TYPE",
    "Download",
    "ImportReport",
    "ImportRow",
    "ProjectDetail",
    "ProjectOverview",
    "ProjectPage",
    "ProjectView",
    "check_unsaved",
    "create_project",
    "districts",
    "edit_project",
    "get_project",
    "import_projects",
    "list_projects",
    "project_from_input",
    "project_overview",
    "template_workbook",
]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE_BYTES = 5_000_000
#: the largest number of projects one import takes
MAX_IMPORT_ROWS = 2_000
#: the workflow states of a project (see store/project_models.ProjProject.state)
STATES = ("draft", "submitted", "incomplete", "under_review", "approved", "approved_conditions", "rejected",
          "commissioned", "accepted", "withdrawn")
#: states in which the filer may still change the project
EDITABLE_STATES = ("draft", "incomplete")
VERDICTS = ("refuse", "flag", "info")
KIND_LABELS = {"new": ("新建", "new"), "expansion": ("扩建", "expansion"), "revamp": ("技术改造", "revamp")}
GROUPS = ("energy", "feedstock", "renewable_supply")
GROUP_LABELS = {"energy": ("能源", "energy"), "feedstock": ("原料", "feedstock"),
                "renewable_supply": ("可再生能源", "renewable")}

PROJECT_SHEET, ENERGY_SHEET, INFO_SHEET = "项目", "能源消费", "说明"

#: the columns of the 项目 sheet (and of a CSV): key → (Chinese header with its unit, English note)
PROJECT_COLUMNS: dict[str, tuple[str, str]] = {
    "row": ("序号", "the row's number (links the 能源消费 lines)"),
    "name": ("项目名称", "project name (required)"),
    "applicant_name": ("建设单位", "applicant (required)"),
    "applicant_uscc": ("统一社会信用代码", "unified social credit code (18 characters)"),
    "region_code": ("建设地点行政区划代码", "district code, GB/T 2260 (6 digits)"),
    "industry_code": ("行业代码（GB/T 4754-2017）", "industry code, GB/T 4754-2017 (e.g. C2614)"),
    "kind": ("建设性质（新建/扩建/技术改造）", "kind: new, expansion, revamp"),
    "application_date": ("申请日期（YYYY-MM-DD）", "application date"),
    "product": ("主要产品代码", "product code (efficiency_benchmarks.csv)"),
    "capacity": ("新增产能", "capacity added"),
    "capacity_unit": ("产能单位（如 t/a）", "capacity unit (t/a, 10^4 t/a …)"),
    "unit_consumption": ("单位产品能耗", "unit energy consumption (the benchmark's unit)"),
    "consumption_unit": ("单位产品能耗单位（如 kgce/t）", "its unit (kgce/t, kgoe/t …)"),
    "types": ("项目类型代码（以;分隔）", "plan-rule types, ';'-separated (coal_power_plant …)"),
    "national_plan": ("纳入的国家规划", "the national plan that includes the project"),
    "city_consent": ("市政府同意文件", "the city government's consent (document)"),
    "energy": ("能源消费（品种:数量 单位;…）", "annual energy by fuel: fuel:quantity unit; …"),
    "feedstock": ("原料用能（品种:数量 单位;…）", "feedstock by fuel: fuel:quantity unit; …"),
    "renewable_supply": ("可再生能源（品种:数量 单位;…）", "renewable supply: fuel:quantity unit; …"),
    "notes": ("备注", "notes"),
}
PROJECT_REQUIRED = ("name", "applicant_name", "applicant_uscc", "region_code", "industry_code", "kind",
                    "application_date")
#: the columns of the 能源消费 sheet
ENERGY_COLUMNS: dict[str, tuple[str, str]] = {
    "row": ("项目序号", "the 序号 of the project on sheet 项目"),
    "group": ("类别（能源/原料/可再生能源）", "group: energy, feedstock, renewable"),
    "fuel": ("品种代码", "fuel code (fuels codelist)"),
    "quantity": ("年消费量", "annual quantity"),
    "unit": ("单位（如 t、10^4 kWh、10^4 m^3）", "unit of the quantity"),
}
ENERGY_REQUIRED = ("row", "group", "fuel", "quantity", "unit")
_GROUP_WORDS = {"能源": "energy", "energy": "energy", "fuel": "energy", "原料": "feedstock", "原料用能": "feedstock",
                "feedstock": "feedstock", "可再生能源": "renewable_supply", "renewable": "renewable_supply",
                "renewable_supply": "renewable_supply"}
_KIND_WORDS = {"新建": "new", "new": "new", "扩建": "expansion", "改扩建": "expansion", "expansion": "expansion",
               "技术改造": "revamp", "技改": "revamp", "revamp": "revamp"}


# ---- results ---------------------------------------------------------------------------------------------

def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class ProjectView:
    """A stored project as the registry shows it (its filed data, state, version and stored summary)."""

    code: str
    name: str
    applicant_name: str
    applicant_uscc: str
    enterprise_id: str | None
    region_code: str
    region_name: str
    industry_code: str
    kind: str
    application_date: str
    state: str
    version: int
    data: dict[str, Any]
    summary: dict[str, Any]
    submitted_by: str
    decision: str | None
    decision_no: str | None
    decision_date: str | None
    created_at: str | None
    updated_at: str | None
    project: Project = field(repr=False, compare=False)

    @classmethod
    def of(cls, row: ProjProject, names: Mapping[str, str] | None = None) -> ProjectView:
        return cls(row.code, row.name, row.applicant_name, row.applicant_uscc, row.enterprise_id, row.region_code,
                   (names or {}).get(row.region_code, row.region_code), row.industry_code, row.kind,
                   row.application_date.isoformat(), row.state, int(row.version), dict(row.data or {}),
                   dict(row.summary or {}), row.submitted_by, row.decision, row.decision_no,
                   _iso(row.decision_date), _iso(row.created_at), _iso(row.updated_at), store.project_from_row(row))

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "applicant_name": self.applicant_name,
                "applicant_uscc": self.applicant_uscc, "enterprise_id": self.enterprise_id,
                "region_code": self.region_code, "region_name": self.region_name,
                "industry_code": self.industry_code, "kind": self.kind, "application_date": self.application_date,
                "state": self.state, "version": self.version, "data": self.data, "summary": self.summary,
                "submitted_by": self.submitted_by, "decision": self.decision, "decision_no": self.decision_no,
                "decision_date": self.decision_date, "created_at": self.created_at, "updated_at": self.updated_at}


@dataclass(frozen=True)
class ProjectDetail:
    """A project with its check (:attr:`evaluation`: energy, CO2, findings, verdict, provenance) and what the
    caller may do with it."""

    view: ProjectView
    evaluation: Evaluation
    can_edit: bool = False

    @property
    def code(self) -> str:
        return self.view.code

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.view.to_dict(), "evaluation": self.evaluation.to_dict(), "can_edit": self.can_edit}


@dataclass(frozen=True)
class ProjectPage:
    items: list[ProjectView]
    total: int


@dataclass(frozen=True)
class ImportRow:
    """One project of an import: its spreadsheet row, the code it gets (when applied), and its check."""

    row: int
    name: str
    region_code: str
    code: str | None
    verdict: str
    tce_calorific: float
    tce_equivalent: float
    co2_t: float

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "name": self.name, "region_code": self.region_code, "code": self.code,
                "verdict": self.verdict, "tce_calorific": self.tce_calorific,
                "tce_equivalent": self.tce_equivalent, "co2_t": self.co2_t}


@dataclass(frozen=True)
class ImportReport:
    file: str
    applied: bool
    rows: list[ImportRow]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "applied": self.applied, "count": len(self.rows),
                "rows": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    media_type: str = XLSX_MEDIA_TYPE


# ---- parsing a project -----------------------------------------------------------------------------------

def _problem(en: str, zh: str, **where: Any) -> Problem:
    return Problem(en, message_zh=zh, **where)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _number(value: Any, where: str, problems: list[Problem], *, required: bool = True) -> float | None:
    text = _text(value).replace(",", "")
    if not text:
        if required:
            problems.append(_problem("a number is required", "必须填写数值", field=where))
        return None
    try:
        number = float(text)
    except ValueError:
        problems.append(_problem(f"{text!r} is not a number", "不是数值", field=where, value=text))
        return None
    if number != number or number in (float("inf"), float("-inf")):
        problems.append(_problem("the number must be finite", "数值必须为有限数", field=where, value=text))
        return None
    return number


def _quantities(raw: Any, group: str, problems: list[Problem]) -> dict[str, Quantity]:
    """``{fuel: {"value", "unit"}}``, ``{fuel: {"quantity", "unit"}}`` or ``[{"fuel", "quantity", "unit"}]``."""
    if raw in (None, "", [], {}):
        return {}
    items: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(str(v.get("fuel", "")) if isinstance(v, Mapping) else "", v) for v in raw]
    else:
        problems.append(_problem("a mapping of fuel → {quantity, unit} is expected", "应为“品种 → 数量、单位”",
                                 field=group))
        return {}
    out: dict[str, Quantity] = {}
    for fuel, value in items:
        where = f"{group}.{fuel or '?'}"
        if not isinstance(value, Mapping):
            problems.append(_problem("a {quantity, unit} is expected", "应填写数量和单位", field=where))
            continue
        number = _number(value.get("quantity", value.get("value")), f"{where}.quantity", problems)
        unit = _text(value.get("unit"))
        if not unit:
            problems.append(_problem("the unit is required", "必须填写单位", field=f"{where}.unit"))
        if not fuel:
            problems.append(_problem("the fuel is required", "必须填写品种代码", field=f"{group}.fuel"))
        elif fuel in out:
            problems.append(_problem(f"fuel {fuel!r} is given twice", "同一品种重复填写", field=where))
        if number is not None and unit and fuel:
            out[fuel] = Quantity(number, unit)
    return out


def _date(value: Any, where: str, problems: list[Problem]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_problem(f"{text!r} is not a date YYYY-MM-DD", "日期格式应为 YYYY-MM-DD", field=where,
                                 value=text))
        return None


def project_from_input(values: Mapping[str, Any], *, code: str = "") -> Project:
    """A :class:`Project` from the API / CLI body (the fields of :class:`~citycarbon.projects.model.Project`;
    ``products`` a list of {product, capacity, unit, unit_consumption, consumption_unit}; ``energy``,
    ``feedstock``, ``renewable_supply`` mappings fuel → {quantity, unit}). :class:`InputError` names every bad
    field; the fuels and units are checked by :func:`evaluate`."""
    problems: list[Problem] = []
    for name in ("name", "applicant_name", "applicant_uscc", "region_code", "industry_code"):
        if not _text(values.get(name)):
            problems.append(_problem("a value is required", "必须填写", field=name))
    kind_text = _text(values.get("kind") or "new")
    kind = _KIND_WORDS.get(kind_text)
    if kind is None:
        problems.append(_problem("kind must be new, expansion or revamp", "建设性质应为新建、扩建或技术改造",
                                 field="kind", value=kind_text))
    when = _date(values.get("application_date"), "application_date", problems)
    products: list[ProductLine] = []
    raw_products = values.get("products") or []
    if not isinstance(raw_products, list):
        problems.append(_problem("products must be a list", "产品应为列表", field="products"))
        raw_products = []
    for i, item in enumerate(raw_products):
        where = f"products[{i}]"
        if not isinstance(item, Mapping):
            problems.append(_problem("a product line is a mapping", "产品行格式错误", field=where))
            continue
        capacity = _number(item.get("capacity"), f"{where}.capacity", problems)
        consumption = _number(item.get("unit_consumption"), f"{where}.unit_consumption", problems, required=False)
        unit = _text(item.get("unit"))
        if not unit:
            problems.append(_problem("the capacity's unit is required", "必须填写产能单位", field=f"{where}.unit"))
        if capacity is not None:
            products.append(ProductLine(_text(item.get("product")), capacity, unit, consumption,
                                        _text(item.get("consumption_unit")) or None))
    groups = {group: _quantities(values.get(group), group, problems) for group in GROUPS}
    types = values.get("types") or ()
    if isinstance(types, str):
        types = [t for t in re.split(r"[;,；，\s]+", types) if t]
    if problems or kind is None or when is None:
        raise InputError(problems)
    return Project(id=code, name=_text(values.get("name")), applicant_name=_text(values.get("applicant_name")),
                   applicant_uscc=_text(values.get("applicant_uscc")).upper(),
                   region_code=_text(values.get("region_code")),
                   industry_code=_text(values.get("industry_code")).upper(), kind=ProjectKind(kind),
                   application_date=when, products=tuple(products), types=tuple(str(t) for t in types),
                   energy=groups["energy"], feedstock=groups["feedstock"],
                   renewable_supply=groups["renewable_supply"],
                   national_plan=_text(values.get("national_plan")) or None,
                   city_consent=_text(values.get("city_consent")) or None, notes=_text(values.get("notes")))


# ---- scope -----------------------------------------------------------------------------------------------

def districts(city: str) -> dict[str, str]:
    """GB/T 2260 codes of ``city``'s districts and counties → Chinese name (empty for a city without a region)."""
    from citycarbon.services.cities import plan_for
    from citycarbon.tracking.districts import district_codes

    try:
        region = plan_for(city).meta.region_code
    except InputError:
        return {}
    return {code: info["name_zh"] for code, info in district_codes(region).items()}


def _scoped(query: Any, principal: Principal) -> Any:
    """``query`` narrowed to the projects ``principal`` may read (see :meth:`Principal.can_read_project`)."""
    if principal.city_wide or principal.role is Role.department:
        return query
    if principal.role is Role.district:
        return query.where(ProjProject.region_code.in_(sorted(principal.regions)))
    if principal.role is Role.enterprise and principal.enterprise_id:
        return query.where(ProjProject.enterprise_id == principal.enterprise_id)
    return query.where(ProjProject.id.is_(None))  # viewers: no project (ids are never null)


def _row(session: Session, principal: Principal, city: str, code: str) -> ProjProject:
    row = session.scalar(select(ProjProject).where(ProjProject.city == city, ProjProject.code == code))
    if row is None or not principal.can_read_project(row.region_code, row.enterprise_id):
        raise NotFound("项目不存在 / project not found", code="project_unknown")
    return row


def _registry_enterprise(session: Session, uscc: str) -> RegistryEnterprise | None:
    return session.scalar(select(RegistryEnterprise).where(RegistryEnterprise.uscc == uscc))


def _link(session: Session, principal: Principal, project: Project, *, file: str | None = None,
          row: int | None = None, column: str | None = None) -> tuple[str | None, list[Problem]]:
    """The enterprise a project is linked to, and what is wrong: an enterprise user files for itself only (its
    registry code must be the applicant's); otherwise the applicant's code is looked up in the registry."""
    if principal.role is Role.enterprise:
        own = session.get(RegistryEnterprise, principal.enterprise_id) if principal.enterprise_id else None
        if own is None or own.uscc != project.applicant_uscc:
            return principal.enterprise_id, [_problem(
                "an enterprise files projects for itself: the applicant's unified social credit code must be "
                "its own registry code", "企业用户只能为本单位申报项目：统一社会信用代码须与本单位登记的代码一致",
                file=file, row=row, field=column or "applicant_uscc", value=project.applicant_uscc)]
        return own.enterprise_id, []
    found = _registry_enterprise(session, project.applicant_uscc)
    return (found.enterprise_id if found is not None else None), []


def _region_problems(principal: Principal, project: Project, enterprise_id: str | None, known: Mapping[str, str],
                     *, file: str | None = None, row: int | None = None,
                     column: str | None = None) -> list[Problem]:
    out = []
    if known and project.region_code not in known:
        out.append(_problem(f"{project.region_code} is not a district or county of the city",
                            "不是本市的区市县行政区划代码", file=file, row=row, field=column or "region_code",
                            value=project.region_code))
    elif principal.role is Role.district and project.region_code not in principal.regions:
        out.append(_problem("a district user files projects in its own districts only",
                            "区市县用户只能申报本辖区的项目", file=file, row=row, field=column or "region_code",
                            value=project.region_code))
    return out


def _require_filer(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_write or principal.role not in (Role.admin, Role.district, Role.enterprise):
        raise Forbidden("只有市节能审查部门、区市县和企业用户可以申报项目 / only the office, district and enterprise "
                        "users with write access file projects", code="project_file")


def _evaluate(city: str, project: Project, db: Database | None = None) -> Evaluation:
    return evaluate(city, project, db=db)


def _values(project: Project, enterprise_id: str | None, summary: Mapping[str, Any],
            extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(project, name) for name in store.PROJECT_COLUMNS}
    values["kind"] = project.kind.value
    values["data"] = store.project_data(project, **dict(extra or {}))
    values["enterprise_id"] = enterprise_id
    values["summary"] = dict(summary)
    return values


# ---- reads -----------------------------------------------------------------------------------------------

def get_project(db: Database, principal: Principal, city: str, code: str) -> ProjectDetail:
    """The project ``code`` with its check (``.evaluation``) for a caller who may read it; another unit's or an
    unknown project: :class:`NotFound`."""
    require_city(principal, city)
    with db.session() as session:
        row = _row(session, principal, city, code)
        view = ProjectView.of(row, districts(city))
    can_edit = (view.editable and principal.can_file_project(view.region_code, view.enterprise_id))
    return ProjectDetail(view, _evaluate(city, view.project, db), can_edit)


@dataclass(frozen=True)
class ProjectOverview:
    """A project's page: its check (:class:`ProjectDetail`), its effect on the dual-control position in 2025 and
    2030 (:func:`citycarbon.services.projects.budget.budget_check`; None when the caller may not see it) and its
    place in the review workflow (:func:`citycarbon.services.projects.workflow.workflow_view`)."""

    detail: ProjectDetail
    budget: dict[str, Any] | None
    workflow: dict[str, Any] | None


def project_overview(db: Database, principal: Principal, city: str, code: str) -> ProjectOverview:
    """Everything a project's page shows, scoped as :func:`get_project` (another unit's project: NotFound)."""
    from citycarbon.services.projects import budget, workflow

    detail = get_project(db, principal, city, code)
    try:
        effect: dict[str, Any] | None = budget.budget_check(db, principal, city, code, years=(2025, 2030))
    except (Forbidden, NotFound, InputError):
        effect = None
    try:
        steps: dict[str, Any] | None = workflow.workflow_view(db, principal, city, code)
    except (Forbidden, NotFound):
        steps = None
    return ProjectOverview(detail, effect, steps)


def list_projects(db: Database, principal: Principal, city: str, *, state: str | None = None,
                  district: str | None = None, industry: str | None = None, verdict: str | None = None,
                  text: str | None = None, limit: int = 50, offset: int = 0) -> ProjectPage:
    """The projects the caller may read, newest first, filtered by workflow ``state``, ``district`` (region
    code), ``industry`` (a GB/T 4754 code or its prefix, e.g. C26), ``verdict`` of the stored check (refuse,
    flag, info) and ``text`` (in the code, name or applicant); ``limit``/``offset`` page it."""
    require_city(principal, city)
    problems = []
    if state and state not in STATES:
        problems.append(_problem(f"state must be one of {', '.join(STATES)}", "项目状态无效", field="state",
                                 value=state))
    if verdict and verdict not in VERDICTS:
        problems.append(_problem(f"verdict must be one of {', '.join(VERDICTS)}", "审查结论无效",
                                 field="verdict", value=verdict))
    if problems:
        raise InputError(problems)
    query = _scoped(select(ProjProject).where(ProjProject.city == city), principal)
    if state:
        query = query.where(ProjProject.state == state)
    if district:
        query = query.where(ProjProject.region_code == district)
    if industry:
        query = query.where(ProjProject.industry_code.like(f"{industry.strip().upper()}%"))
    if text and text.strip():
        like = f"%{text.strip()}%"
        query = query.where(or_(ProjProject.code.like(like), ProjProject.name.like(like),
                                ProjProject.applicant_name.like(like)))
    names = districts(city)
    with db.session() as session:
        rows = session.scalars(query.order_by(ProjProject.id.desc())).all()
        views = [ProjectView.of(row, names) for row in rows]
    if verdict:
        views = [v for v in views if v.summary.get("verdict") == verdict]
    return ProjectPage(views[offset:offset + max(limit, 0)], len(views))


def check_unsaved(db: Database, principal: Principal, city: str, values: Mapping[str, Any]) -> Evaluation:
    """The check of a project not stored (a preview of the form or of a file): nothing is written."""
    require_city(principal, city)
    return _evaluate(city, project_from_input(values, code="new"), db)


# ---- writes ----------------------------------------------------------------------------------------------

def _extra(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key in ("investment_10k_yuan", "commissioning"):
        if values.get(key) not in (None, ""):
            out[key] = values[key]
    return out


def create_project(db: Database, principal: Principal, city: str, values: Mapping[str, Any], *,
                   reason: str = "") -> ProjectDetail:
    """File a new project (a draft): checked (fields, the energy computation), linked to the monitoring
    registry, its summary stored, audited. Raises :class:`InputError` (422) for bad fields, for an enterprise
    user whose registry code is not the applicant's, for a district user outside its districts."""
    _require_filer(principal, city)
    project = project_from_input(values)
    evaluation = _evaluate(city, project, db)
    with db.session(write=True) as session:
        enterprise_id, problems = _link(session, principal, project)
        problems += _region_problems(principal, project, enterprise_id, districts(city))
        if problems:
            raise InputError(problems)
        if not principal.can_file_project(project.region_code, enterprise_id):
            raise Forbidden("不能为该单位申报项目 / you may not file a project for this unit", code="project_file")
        code = store.next_code(session, city, project.application_date.year)
        row = ProjProject(city=city, code=code, state="draft", submitted_by=principal.username)
        project = replace(project, id=code)
        store.save_project(session, row, 0, _values(project, enterprise_id, evaluation.summary(), _extra(values)),
                           by=principal.username, reason=reason or "create")
        audit.record(session, principal, "project.create", "project", f"{city}/{code}",
                     after=store.project_snapshot(row), reason=reason or None)
        view = ProjectView.of(row, districts(city))
    return ProjectDetail(view, replace(evaluation, project=project), True)


def edit_project(db: Database, principal: Principal, city: str, code: str, values: Mapping[str, Any], *,
                 version: int, reason: str = "") -> ProjectDetail:
    """Change a project while it is a draft or returned as incomplete: ``values`` are the fields that change
    (merged over the stored ones); ``version`` is the version the caller read (else :class:`StaleVersion`,
    409). Another unit's project: :class:`NotFound`; a readable one the caller may not file, or in another
    state: :class:`Forbidden` / :class:`Conflict`."""
    from citycarbon.errors import Conflict

    require_city(principal, city)
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        if not principal.can_file_project(row.region_code, row.enterprise_id):
            raise Forbidden("不能修改该项目 / you may not change this project", code="project_file")
        if row.state not in EDITABLE_STATES:
            raise Conflict(f"项目处于“{row.state}”状态，只有草稿或退回补正的项目可以修改 / only a draft or a project "
                           f"returned as incomplete can be changed (state: {row.state})", code="project_state")
        if int(row.version) != version:
            raise store.StaleVersion("project", code, version, int(row.version))
        current = store.project_from_row(row)
        base = dict(store.project_data(current))
        base.update({name: getattr(current, name) for name in store.PROJECT_COLUMNS})
        base["kind"] = current.kind.value
        base.update({k: v for k, v in (row.data or {}).items() if k in ("investment_10k_yuan", "commissioning")})
        base["energy"] = {f: {"quantity": q["value"], "unit": q["unit"]} for f, q in base["energy"].items()}
        base["feedstock"] = {f: {"quantity": q["value"], "unit": q["unit"]} for f, q in base["feedstock"].items()}
        base["renewable_supply"] = {f: {"quantity": q["value"], "unit": q["unit"]}
                                    for f, q in base["renewable_supply"].items()}
        merged = {**base, **dict(values)}
        project = project_from_input(merged, code=code)
        evaluation = _evaluate(city, project, db)
        enterprise_id, problems = _link(session, principal, project)
        if principal.role is not Role.enterprise and enterprise_id is None and row.enterprise_id is not None \
                and project.applicant_uscc == row.applicant_uscc:
            enterprise_id = row.enterprise_id
        problems += _region_problems(principal, project, enterprise_id, districts(city))
        if problems:
            raise InputError(problems)
        before = store.project_snapshot(row)
        store.save_project(session, row, version, _values(project, enterprise_id, evaluation.summary(),
                                                          _extra(merged)),
                           by=principal.username, reason=reason or "edit")
        audit.record(session, principal, "project.update", "project", f"{city}/{code}", before=before,
                     after=store.project_snapshot(row), reason=reason or None)
        view = ProjectView.of(row, districts(city))
    return ProjectDetail(view, evaluation, True)


# ---- import ----------------------------------------------------------------------------------------------

def _header_key(cell: Any, columns: Mapping[str, tuple[str, str]]) -> str | None:
    """The column key of a header cell: ``序号 row`` / ``项目名称`` / ``name`` (the Chinese label, the key, or
    both)."""
    text = _text(cell)
    if not text:
        return None
    last = text.split()[-1].lower()
    if last in columns:
        return last
    for key, (label, _) in columns.items():
        bare = re.split(r"[（(]", label, maxsplit=1)[0].strip()
        if text == label or text.split()[0] == label or re.split(r"[（(]", text, maxsplit=1)[0].strip() == bare:
            return key
    return None


def _header(key: str, columns: Mapping[str, tuple[str, str]]) -> str:
    return f"{columns[key][0]} {key}"


Grid = list[list[Any]]


def _read_grid(content: bytes, filename: str) -> tuple[dict[str, Grid], bool]:
    """The sheets of an upload (a CSV is one sheet named 项目) and whether it was a workbook."""
    if len(content) > MAX_FILE_BYTES:
        raise InputError(_problem(f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB",
                                  f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB", file=filename))
    if content.startswith(b"PK"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise InputError(_problem("the file is not a readable Excel workbook", "文件不是可读取的 Excel 工作簿",
                                      file=filename)) from None
        return {name: [list(r) for r in workbook[name].iter_rows(values_only=True)]
                for name in workbook.sheetnames}, True
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(_problem("the file is neither UTF-8 nor GB 18030 text",
                                      "文件编码不是 UTF-8 或 GB 18030", file=filename)) from None
    return {PROJECT_SHEET: [list(r) for r in csv.reader(io.StringIO(text))]}, False


def _table(grid: Grid, columns: Mapping[str, tuple[str, str]], required: Sequence[str],
           where: str) -> list[tuple[int, dict[str, Any]]]:
    if not grid or not any(_text(c) for c in grid[0]):
        raise InputError(_problem("the sheet has no header row", "工作表缺少表头行", file=where, row=1))
    keys = [_header_key(cell, columns) for cell in grid[0]]
    missing = [k for k in required if k not in keys]
    if missing:
        raise InputError([_problem(f"the column '{k}' is missing", f"缺少“{columns[k][0]}”列", file=where, row=1,
                                   field=_header(k, columns)) for k in missing])
    out = []
    for number, cells in enumerate(grid[1:], start=2):
        values = {k: cells[i] if i < len(cells) else None for i, k in enumerate(keys) if k is not None}
        if any(_text(v) for v in values.values()):
            out.append((number, values))
    return out


_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:：]\s*([-+0-9.,eE]+)\s*(.+?)\s*$")


def _inline(text: str, group: str, problems: list[Problem], where: Mapping[str, Any]) -> dict[str, Any]:
    """``electricity:1500 10^4 kWh; natural_gas:125 10^4 m^3`` → {fuel: {quantity, unit}}."""
    out: dict[str, Any] = {}
    for part in [p for p in re.split(r"[;；]", text) if p.strip()]:
        match = _LINE.match(part)
        if match is None:
            problems.append(_problem(f"{part.strip()!r} is not 'fuel:quantity unit'",
                                     f"“{part.strip()}”应写作“品种代码:数量 单位”", value=part.strip(), **where))
            continue
        out[match.group(1)] = {"quantity": match.group(2).replace(",", ""), "unit": match.group(3)}
    return out


def _map_field(field_name: str | None, columns: Mapping[str, str]) -> str:
    """The column header of a field a project check names (``applicant_uscc``, ``products[0].capacity``,
    ``energy.electricity``)."""
    name = field_name or ""
    if name.startswith("products[0]."):
        name = {"products[0].product": "product", "products[0].capacity": "capacity",
                "products[0].unit": "capacity_unit", "products[0].unit_consumption": "unit_consumption",
                "products[0].consumption_unit": "consumption_unit"}.get(name, "product")
    head = name.split(".")[0]
    return columns.get(name) or columns.get(head) or name


def import_projects(db: Database, principal: Principal, city: str, content: bytes, filename: str, *,
                    apply: bool = False, reason: str = "") -> ImportReport:
    """Import projects from the template (sheets 项目 and 能源消费) or a CSV of the 项目 columns (energy in the
    columns 能源消费 / 原料用能 / 可再生能源 as ``fuel:quantity unit; …``). All-or-nothing: every row is parsed
    and checked first; with any problem nothing is stored and :class:`InputError` lists them all (file, sheet,
    row, column). ``apply=False`` answers the preview (the check of each row) and stores nothing; ``apply=True``
    files every project as a draft (audited)."""
    _require_filer(principal, city)
    sheets, workbook = _read_grid(content, filename)
    project_where = f"{filename} [{PROJECT_SHEET}]" if workbook else filename
    if workbook and PROJECT_SHEET not in sheets:
        raise InputError(_problem(f"the workbook has no sheet '{PROJECT_SHEET}'",
                                  f"工作簿中没有“{PROJECT_SHEET}”工作表", file=filename))
    rows = _table(sheets[PROJECT_SHEET], PROJECT_COLUMNS, PROJECT_REQUIRED, project_where)
    if len(rows) > MAX_IMPORT_ROWS:
        raise InputError(_problem(f"at most {MAX_IMPORT_ROWS} projects per file",
                                  f"每个文件最多 {MAX_IMPORT_ROWS} 个项目",
                                  file=project_where))
    headers = {k: _header(k, PROJECT_COLUMNS) for k in PROJECT_COLUMNS}
    problems: list[Problem] = []
    bodies: dict[int, dict[str, Any]] = {}
    by_ref: dict[str, int] = {}
    #: for each spreadsheet row of the 项目 sheet: the (file, row, column) of each energy use, in evaluate's order
    use_places: dict[int, dict[tuple[str, str], tuple[str, int, str]]] = {}
    bad_rows: set[int] = set()  # rows whose energy lines could not be read (not checked further)
    for number, values in rows:
        body: dict[str, Any] = {k: values.get(k) for k in PROJECT_COLUMNS if k not in (
            "row", "product", "capacity", "capacity_unit", "unit_consumption", "consumption_unit", *GROUPS)}
        if _text(values.get("product")) or _text(values.get("capacity")):
            body["products"] = [{"product": _text(values.get("product")), "capacity": values.get("capacity"),
                                 "unit": _text(values.get("capacity_unit")),
                                 "unit_consumption": values.get("unit_consumption"),
                                 "consumption_unit": _text(values.get("consumption_unit"))}]
        places: dict[tuple[str, str], tuple[str, int, str]] = {}
        before = len(problems)
        for group in GROUPS:
            text = _text(values.get(group))
            body[group] = _inline(text, group, problems, {"file": project_where, "row": number,
                                                          "field": headers[group]}) if text else {}
        if len(problems) > before:
            bad_rows.add(number)
            for fuel in body[group]:
                places[(group, fuel)] = (project_where, number, headers[group])
        use_places[number] = places
        ref = _text(values.get("row"))
        if ref:
            if ref in by_ref:
                problems.append(_problem(f"序号 {ref} is also on row {by_ref[ref]}",
                                         f"序号“{ref}”与第 {by_ref[ref]} 行重复", file=project_where, row=number,
                                         field=headers["row"], value=ref))
            by_ref[ref] = number
        bodies[number] = body
    if workbook and ENERGY_SHEET in sheets and any(any(_text(c) for c in r) for r in sheets[ENERGY_SHEET][1:]):
        energy_where = f"{filename} [{ENERGY_SHEET}]"
        energy_headers = {k: _header(k, ENERGY_COLUMNS) for k in ENERGY_COLUMNS}
        for number, values in _table(sheets[ENERGY_SHEET], ENERGY_COLUMNS, ENERGY_REQUIRED, energy_where):
            ref = _text(values.get("row"))
            target = by_ref.get(ref)
            line_group = _GROUP_WORDS.get(_text(values.get("group")).lower())
            fuel = _text(values.get("fuel"))
            if target is None:
                problems.append(_problem(f"no project with 序号 {ref!r} on sheet {PROJECT_SHEET}",
                                         f"“{PROJECT_SHEET}”表中没有序号为“{ref}”的项目", file=energy_where,
                                         row=number, field=energy_headers["row"], value=ref))
                continue
            if line_group is None:
                problems.append(_problem("group must be energy, feedstock or renewable",
                                         "类别应为能源、原料或可再生能源", file=energy_where, row=number,
                                         field=energy_headers["group"], value=_text(values.get("group"))))
                continue
            if (line_group, fuel) in use_places[target]:
                bad_rows.add(target)
                problems.append(_problem(f"fuel {fuel!r} of this group is given twice for the project",
                                         "该项目同一类别的同一品种重复填写", file=energy_where, row=number,
                                         field=energy_headers["fuel"], value=fuel))
                continue
            bodies[target][line_group][fuel] = {"quantity": values.get("quantity"), "unit": _text(values.get("unit"))}
            use_places[target][(line_group, fuel)] = (energy_where, number, energy_headers["fuel"])
    known = districts(city)
    parsed: list[tuple[int, Project, Evaluation, str | None, dict[str, Any]]] = []
    with db.session(write=apply) as session:
        for number, body in bodies.items():
            found: list[Problem] = []
            try:
                project = project_from_input(body, code="new")
                if number in bad_rows:  # its energy lines are wrong: the other fields are checked, not the energy
                    continue
                evaluation = _evaluate(city, project, db)
            except InputError as error:
                for p in error.problems:
                    found.append(_place(p, number, project_where, headers, use_places[number]))
                problems.extend(found)
                continue
            enterprise_id, link_problems = _link(session, principal, project, file=project_where, row=number,
                                                 column=headers["applicant_uscc"])
            found += link_problems
            found += _region_problems(principal, project, enterprise_id, known, file=project_where, row=number,
                                      column=headers["region_code"])
            if not found and not principal.can_file_project(project.region_code, enterprise_id):
                found.append(_problem("you may not file a project for this unit", "不能为该单位申报项目",
                                      file=project_where, row=number, field=headers["applicant_uscc"]))
            problems.extend(found)
            parsed.append((number, project, evaluation, enterprise_id, _extra(body)))
        if problems:
            raise InputError(problems)
        report: list[ImportRow] = []
        for number, project, evaluation, enterprise_id, extra in parsed:
            code = None
            if apply:
                code = store.next_code(session, city, project.application_date.year)
                stored = replace(project, id=code)
                row = ProjProject(city=city, code=code, state="draft", submitted_by=principal.username)
                store.save_project(session, row, 0, _values(stored, enterprise_id, evaluation.summary(), extra),
                                   by=principal.username, reason=reason or f"import {filename}")
                audit.record(session, principal, "project.import", "project", f"{city}/{code}",
                             after=store.project_snapshot(row), reason=reason or f"import {filename} row {number}")
            e = evaluation.energy
            report.append(ImportRow(number, project.name, project.region_code, code, evaluation.verdict.value,
                                    e.tce_calorific, e.tce_equivalent, e.co2_t))
    return ImportReport(filename, apply, report)


def _place(problem: Problem, number: int, where: str, headers: Mapping[str, str],
           places: Mapping[tuple[str, str], tuple[str, int, str]]) -> Problem:
    """``problem`` (a field of a project or of its energy uses) placed at its file, sheet, row and column."""
    name = problem.field or ""
    match = re.match(r"^(energy|feedstock|renewable_supply)\.([^.]+)", name)
    if match and (match.group(1), match.group(2)) in places:
        file, row, column = places[(match.group(1), match.group(2))]
        return replace(problem, file=file, row=row, field=column)
    uses = re.match(r"^energy\[(\d+)\]", name)
    if uses:
        ordered = list(places.values())
        index = int(uses.group(1))
        if index < len(ordered):
            file, row, column = ordered[index]
            return replace(problem, file=file, row=row, field=column)
    return replace(problem, file=where, row=number, field=_map_field(name, headers))


# ---- the template ----------------------------------------------------------------------------------------

EXAMPLE_ROW = {"row": "1", "name": "长兴岛精细化工项目（示例）", "applicant_name": "大连某石化新材料有限公司",
               "applicant_uscc": "", "region_code": "210281", "industry_code": "C2614", "kind": "新建",
               "application_date": "2026-11-20", "product": "ethylene", "capacity": 10000, "capacity_unit": "t/a",
               "unit_consumption": 600, "consumption_unit": "kgoe/t", "types": "",
               "national_plan": "石化产业规划布局方案（发改产业〔2014〕2208号）", "city_consent": "", "energy": "",
               "feedstock": "", "renewable_supply": "", "notes": ""}
EXAMPLE_ENERGY = [("1", "能源", "electricity", 1500, "10^4 kWh"), ("1", "能源", "natural_gas", 125, "10^4 m^3"),
                  ("1", "原料", "naphtha", 3000, "t")]


def template_workbook(db: Database, principal: Principal, city: str, *, example: bool = True) -> Download:
    """The import template: 说明 (how to fill it), 项目 (one project per row, Chinese headers with units and a
    note on each), 能源消费 (one line per project, group and fuel), and hidden code lists (fuels, products,
    districts, kinds) for drop-downs. ``example``: with the issue's example project filled in."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from citycarbon.codelists import load_codelist
    from citycarbon.monitoring.uscc import uscc_check_character

    require_city(principal, city)
    fuels = load_codelist("fuels")
    products = sorted({(b.product, b.name_zh) for b in gate_tables().benchmarks})
    areas = districts(city)
    workbook = Workbook()
    info = workbook.active
    info.title = INFO_SHEET
    lines = [
        ("固定资产投资项目导入模板（节能审查）", "Fixed-asset investment projects: import template (energy review)"),
        ("", ""),
        ("“项目”表每行一个项目；“序号”用于在“能源消费”表中对应项目。",
         "Sheet 项目: one project per row; 序号 links its lines on sheet 能源消费."),
        ("“能源消费”表每行一个品种：类别填 能源 / 原料 / 可再生能源，品种代码见“代码表”，"
         "数量为年消费量（实物量）及其单位。",
         "Sheet 能源消费: one fuel per row; group 能源/原料/可再生能源, fuel code, annual quantity and its unit."),
        ("单位产品能耗须使用能效标杆水平和基准水平表的单位（如乙烯 kgoe/t，水泥熟料 kgce/t）。",
         "Unit consumption in the benchmark's unit (ethylene kgoe/t, clinker kgce/t)."),
        ("导入时整表校验，有任何错误则整体不导入；错误信息注明文件、工作表、行号（表头为第 1 行）与列。",
         "The whole file is checked; any error rejects it whole, naming file, sheet, row (header = row 1), column."),
        ("导入的项目为草稿，可在平台上修改后提交。", "Imported projects are drafts; change and submit them in the "
         "platform."),
        ("", ""),
    ]
    for line in lines:
        info.append(list(line))
    info["A1"].font = Font(bold=True, size=14)
    info.append(["项目表各列", "columns of 项目"])
    for key, (label, note) in PROJECT_COLUMNS.items():
        info.append([label, f"{key}: {note}"])
    info.append(["", ""])
    info.append(["能源消费表各列", "columns of 能源消费"])
    for key, (label, note) in ENERGY_COLUMNS.items():
        info.append([label, f"{key}: {note}"])
    info.column_dimensions["A"].width = 70
    info.column_dimensions["B"].width = 70

    codes = workbook.create_sheet("代码表")
    codes.append(["品种代码 fuel", "品种 name", "默认单位 unit", "产品代码 product", "产品 name",
                  "行政区划代码 region", "区市县 name", "建设性质 kind"])
    fuel_rows = [(r.fuel, r.name_zh, r.default_unit) for r in fuels.itertuples()]
    kinds = [label for label, _ in KIND_LABELS.values()]
    for i in range(max(len(fuel_rows), len(products), len(areas), len(kinds))):
        fuel = fuel_rows[i] if i < len(fuel_rows) else ("", "", "")
        product = products[i] if i < len(products) else ("", "")
        area = list(areas.items())[i] if i < len(areas) else ("", "")
        codes.append([*fuel, *product, *area, kinds[i] if i < len(kinds) else ""])

    def sheet(title: str, columns: Mapping[str, tuple[str, str]], rows: Iterable[Sequence[Any]],
              lists: Mapping[str, str]) -> None:
        ws = workbook.create_sheet(title)
        ws.append([_header(k, columns) for k in columns])
        for index, (key, (label, note)) in enumerate(columns.items(), start=1):
            cell = ws.cell(row=1, column=index)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.comment = Comment(f"{label}\n{note}", "citycarbon", width=300, height=90)
            ws.column_dimensions[cell.column_letter].width = 22
            if key in lists:
                check = DataValidation(type="list", formula1=lists[key], allow_blank=True)
                check.add(f"{cell.column_letter}2:{cell.column_letter}{MAX_IMPORT_ROWS + 1}")
                ws.add_data_validation(check)
        for row in rows:
            ws.append(list(row))
        ws.freeze_panes = "A2"

    n = max(len(fuel_rows), len(products), len(areas), len(kinds)) + 1
    body = "91210281123456789"  # an example code (a valid check character, no real enterprise)
    filled = {**EXAMPLE_ROW, "applicant_uscc": body + uscc_check_character(body)}
    sheet(PROJECT_SHEET, PROJECT_COLUMNS, [[filled[k] for k in PROJECT_COLUMNS]] if example else [],
          {"kind": f"'代码表'!$H$2:$H${len(kinds) + 1}", "product": f"'代码表'!$D$2:$D${n}",
           "region_code": f"'代码表'!$F$2:$F${len(areas) + 1}"})
    sheet(ENERGY_SHEET, ENERGY_COLUMNS, EXAMPLE_ENERGY if example else [],
          {"group": '"能源,原料,可再生能源"', "fuel": f"'代码表'!$A$2:$A${len(fuel_rows) + 1}"})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Download(f"{city}-projects-template.xlsx", buffer.getvalue())

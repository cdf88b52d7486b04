"""The energy-project registry as use cases (issue 15 item 6): wind, solar (utility, rooftop, 渔光互补), nuclear,
storage (pumped, electrochemical), hydrogen, biomass, waste-to-energy, coal units, CHP and boilers, by stage; and
the plan's 2030 wind + solar target (「风电、太阳能发电总装机容量达800万千瓦以上」) tracked from it.

Who may do what (applied here once for every face):

* **Reading** (list, detail, history, the wind + solar card, the capacity path, the workbook): every role but
  enterprise users (:meth:`~citycarbon.auth.principal.Principal.can_read_energy_projects`; 403 for them).
* **Writing** (register, edit, stage moves, import): the office for every project, a district user for its
  districts' projects (:meth:`~citycarbon.auth.principal.Principal.can_edit_energy_project`). Another district's
  project answers 404 to a district user (existence not leaked); a role that may not write at all answers 403; a
  project registered or imported in a region the caller may not write is refused (422, naming the field/row).
* **Corrections.** A project moves forward only (:data:`citycarbon.projects.supply.STAGES`); moving it back is a
  correction the office makes with a reason (``correction=True``); the undone stages' dates are cleared.

Every write names the ``version`` it read (a stale version: 409, nothing written), appends a version to the
history and is audited (entity ``energy_project``) in the same transaction. Imports are all-or-nothing: every
row is checked first; problems name the file, the sheet, the spreadsheet row (header = row 1) and the column, in
Chinese and English.

The wind + solar figure (:func:`wind_solar_status`, :func:`wind_solar_series`) combines the capacity statistics
and the registry by the rule of :mod:`citycarbon.projects.supply` (statistics up to 31 December of their last
year; registry connections and retirements after that day on top; nothing counted twice).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.projects.supply import (
    STAGE_DATES,
    STAGES,
    EnergyRecord,
    Technology,
    load_technologies,
    registry_series,
    stage_problems,
    wind_solar_stock,
)
from citycarbon.services.cities import require_city
from citycarbon.services.projects.registry import _problem, _text  # the project registry's parsing helpers
from citycarbon.store import audit
from citycarbon.store.db import Database
from citycarbon.store.project_models import EnergyProject, EnergyProjectVersion
from citycarbon.store.projects import next_code, save_energy_project

__all__ = [
    "COLUMNS", "SHEET", "EnergyProjectView", "ImportReport", "energy_projects_workbook", "get_energy_project",
    "import_energy_projects", "list_energy_projects", "move_stage", "register_energy_project",
    "registry_capacity_path", "registry_version", "technologies", "update_energy_project", "wind_solar_series",
    "wind_solar_status",
]

TARGET_INDICATOR = "wind_solar_capacity_mw"
SHEET = "能源项目"
#: the columns of the import workbook (and of an export)
COLUMNS: tuple[str, ...] = ("code", "name", "technology", "stage", "region_code", "capacity_mw", "storage_mwh",
                            "owner", "owner_uscc", "planned_on", "approved_on", "construction_on",
                            "grid_connected_on", "retired_on", "document", "actions", "source", "status", "notes")
REQUIRED = ("name", "technology", "region_code", "capacity_mw")
#: what an edit may change (stage and stage dates move through :func:`move_stage`)
EDITABLE = ("name", "technology", "region_code", "capacity_mw", "storage_mwh", "owner", "owner_uscc", "planned_on",
            "document", "actions", "source", "status", "notes")
STATUSES = ("reported", "verified", "estimate", "example")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
NAME_MAX = 300


@cache
def technologies() -> dict[str, Technology]:
    """The registry's technologies (``data/projects/energy_technologies.csv``), by code."""
    return load_technologies()


def counted_codes() -> frozenset[str]:
    """The technologies counted toward the wind + solar target."""
    return frozenset(code for code, t in technologies().items() if t.counts_wind_solar)


# ---- views ---------------------------------------------------------------------------------------------------

def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class EnergyProjectView:
    code: str
    name: str
    technology: str
    technology_zh: str
    technology_en: str
    group: str
    counts_wind_solar: bool
    stage: str
    region_code: str
    capacity_mw: float
    storage_mwh: float | None
    owner: str
    owner_uscc: str | None
    planned_on: str | None
    approved_on: str | None
    construction_on: str | None
    grid_connected_on: str | None
    retired_on: str | None
    document: str
    actions: list[str]
    plan_tasks: list[int]
    source: str
    status: str
    notes: str
    version: int
    updated_at: str | None
    updated_by: str
    history: list[dict[str, Any]] | None = None

    @classmethod
    def of(cls, row: EnergyProject, history: list[dict[str, Any]] | None = None) -> EnergyProjectView:
        tech = technologies().get(row.technology)
        return cls(row.code, row.name, row.technology, tech.name_zh if tech else row.technology,
                   tech.name_en if tech else row.technology, tech.group if tech else "",
                   bool(tech and tech.counts_wind_solar), row.stage, row.region_code, float(row.capacity_mw),
                   row.storage_mwh, row.owner, row.owner_uscc, _iso(row.planned_on), _iso(row.approved_on),
                   _iso(row.construction_on), _iso(row.grid_connected_on), _iso(row.retired_on), row.document,
                   list((row.data or {}).get("actions", [])), [int(t) for t in (row.plan_tasks or [])], row.source,
                   row.status, row.notes, row.version, _iso(row.updated_at), row.updated_by, history)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.history is None:
            out.pop("history")
        return out


@dataclass(frozen=True)
class ImportReport:
    file: str
    applied: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counts": {"create": len(self.created), "update": len(self.updated),
                                           "unchanged": len(self.unchanged)}}


# ---- permissions -----------------------------------------------------------------------------------------------

def _require_reader(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_read_energy_projects():
        raise Forbidden("企业用户不能查看能源项目库 / enterprise users do not read the energy-project registry",
                        code="energy_projects_read")


def _require_writer(principal: Principal, city: str) -> None:
    """Refuse (403) a caller that may not write any energy project."""
    _require_reader(principal, city)
    if not principal.can_write or principal.role not in (Role.admin, Role.district):
        raise Forbidden("只有领导小组办公室和区市县可以登记能源项目 / only the office and district users (with write "
                        "access) edit the energy-project registry", code="energy_projects_write")


def _require_row_writer(principal: Principal, row: EnergyProject) -> None:
    if not principal.can_edit_energy_project(row.region_code):
        raise NotFound("能源项目不存在 / energy project not found", code="energy_project_unknown")


# ---- parsing ---------------------------------------------------------------------------------------------------

def _date(value: Any, column: str, where: dict[str, Any], problems: list[Problem]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_problem(f"'{text}' is not a date (YYYY-MM-DD)", f"“{text}”不是日期 (YYYY-MM-DD)",
                                 field=column, value=text, **where))
        return None


def _number(value: Any, column: str, where: dict[str, Any], problems: list[Problem], *,
            required: bool) -> float | None:
    text = _text(value)
    if not text:
        if required:
            problems.append(_problem(f"{column} is required (MW)", f"须填写 {column} (MW)", field=column, **where))
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not math.isfinite(number) or number < 0:
        problems.append(_problem(f"'{text}' is not a number ≥ 0", f"“{text}”不是不小于 0 的数", field=column,
                                 value=text, **where))
        return None
    return number


def _regions(session: Session, city: str) -> dict[str, str]:
    """The city's own region code and its districts' codes (GB/T 2260) → name."""
    from citycarbon.store import ledger
    from citycarbon.tracking.districts import district_codes

    city_code = ledger.city_region(session, city)
    try:
        districts = {code: info["name_zh"] for code, info in district_codes(city_code).items()}
    except (KeyError, InputError):
        districts = {}
    return {city_code: city, **districts}


def _values(raw: Mapping[str, Any], *, regions: Mapping[str, str], principal: Principal,
            where: dict[str, Any], problems: list[Problem], partial: bool) -> dict[str, Any]:
    """The column values of ``raw`` checked (``partial``: only the keys given)."""
    out: dict[str, Any] = {}
    techs = technologies()

    def given(name: str) -> bool:
        return not partial or name in raw

    if given("name"):
        name = _text(raw.get("name"))
        if not name or len(name) > NAME_MAX:
            problems.append(_problem(f"name is required (at most {NAME_MAX} characters)",
                                     f"须填写项目名称 (不超过 {NAME_MAX} 字)", field="name", **where))
        out["name"] = name
    if given("technology"):
        tech = _text(raw.get("technology"))
        if tech not in techs:
            from citycarbon.codelists import nearest

            problems.append(_problem(f"unknown technology '{tech}' (one of {', '.join(techs)})",
                                     f"未知技术类型“{tech}”", field="technology", value=tech,
                                     suggestion=nearest(tech, list(techs)), **where))
        out["technology"] = tech
    if given("region_code"):
        region = _text(raw.get("region_code"))
        if region not in regions:
            problems.append(_problem(f"'{region}' is not the city or one of its districts (GB/T 2260)",
                                     f"“{region}”不是本市或其区市县的行政区划代码", field="region_code", value=region,
                                     **where))
        elif not principal.can_edit_energy_project(region):
            problems.append(_problem(f"you may not register projects in {region}",
                                     f"无权登记 {region} 的项目", field="region_code", value=region, **where))
        out["region_code"] = region
    if given("capacity_mw"):
        out["capacity_mw"] = _number(raw.get("capacity_mw"), "capacity_mw", where, problems, required=True)
    if given("storage_mwh"):
        out["storage_mwh"] = _number(raw.get("storage_mwh"), "storage_mwh", where, problems, required=False)
    for name in ("owner", "document", "source", "notes"):
        if given(name):
            out[name] = _text(raw.get(name))
    if given("owner_uscc"):
        uscc = _text(raw.get("owner_uscc")).upper() or None
        if uscc is not None and not USCC.match(uscc):
            problems.append(_problem("owner_uscc is not an 18-character unified social credit code",
                                     "owner_uscc 不是 18 位统一社会信用代码", field="owner_uscc", value=uscc, **where))
        out["owner_uscc"] = uscc
    if given("status"):
        status = _text(raw.get("status")) or "reported"
        if status not in STATUSES:
            problems.append(_problem(f"status is one of {', '.join(STATUSES)}",
                                     f"核实状态须为 {', '.join(STATUSES)} 之一", field="status", value=status, **where))
        out["status"] = status
    if given("planned_on"):
        out["planned_on"] = _date(raw.get("planned_on"), "planned_on", where, problems)
    if given("actions"):
        value = raw.get("actions")
        actions = [a.strip() for a in (value if isinstance(value, list | tuple)
                                       else _text(value).replace("；", ";").split(";")) if str(a).strip()]
        tech = out.get("technology") or _text(raw.get("technology"))
        allowed = techs[tech].actions if tech in techs else ()
        bad = [a for a in actions if a not in allowed]
        if bad:
            problems.append(_problem(f"actions {', '.join(bad)} do not apply to {tech or 'this technology'} "
                                     f"(allowed: {', '.join(allowed) or 'none'})",
                                     f"措施 {', '.join(bad)} 不适用于该技术类型", field="actions", **where))
        out["actions"] = actions
    return out


def _stage_dates(raw: Mapping[str, Any], where: dict[str, Any], problems: list[Problem]) -> dict[str, date | None]:
    return {column: _date(raw.get(column), column, where, problems) for column in STAGE_DATES.values()}


def _row_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of the store row (``actions`` lives in ``data``; ``plan_tasks`` from the technology)."""
    out = {k: v for k, v in values.items() if k != "actions"}
    if "technology" in values and values["technology"] in technologies():
        out["plan_tasks"] = list(technologies()[values["technology"]].plan_tasks)
    return out


def _snapshot(row: EnergyProject) -> dict[str, Any]:
    return EnergyProjectView.of(row).to_dict()


def _find(session: Session, city: str, code: str) -> EnergyProject:
    row = session.scalar(select(EnergyProject).where(EnergyProject.city == city, EnergyProject.code == code))
    if row is None:
        raise NotFound("能源项目不存在 / energy project not found", code="energy_project_unknown")
    return row


def _check_version(version: int | None) -> int:
    if version is None or int(version) < 1:
        raise InputError(_problem("give the version you read (version)", "请提供读取时的版本号 (version)",
                                  field="version"))
    return int(version)


# ---- reads -----------------------------------------------------------------------------------------------------

def list_energy_projects(db: Database, principal: Principal, city: str, *, technology: str | None = None,
                         group: str | None = None, stage: str | None = None,
                         district: str | None = None) -> list[EnergyProjectView]:
    """The city's energy projects, filtered by technology, technology group, stage and district (region code)."""
    _require_reader(principal, city)
    if stage is not None and stage not in STAGES:
        raise InputError(_problem(f"stage is one of {', '.join(STAGES)}", f"阶段须为 {', '.join(STAGES)} 之一",
                                  field="stage", value=stage))
    statement = select(EnergyProject).where(EnergyProject.city == city)
    if technology:
        statement = statement.where(EnergyProject.technology == technology)
    if group:
        codes = [c for c, t in technologies().items() if t.group == group]
        statement = statement.where(EnergyProject.technology.in_(codes))
    if stage:
        statement = statement.where(EnergyProject.stage == stage)
    if district:
        statement = statement.where(EnergyProject.region_code == district)
    with db.session() as session:
        rows = session.scalars(statement.order_by(EnergyProject.code)).all()
        return [EnergyProjectView.of(row) for row in rows]


def get_energy_project(db: Database, principal: Principal, city: str, code: str) -> EnergyProjectView:
    """One energy project with its history (every saved version, oldest first)."""
    _require_reader(principal, city)
    with db.session() as session:
        row = _find(session, city, code)
        versions = session.scalars(select(EnergyProjectVersion).where(EnergyProjectVersion.project_id == row.id)
                                   .order_by(EnergyProjectVersion.version)).all()
        history = [{"version": v.version, "saved_at": _iso(v.saved_at), "saved_by": v.saved_by,
                    "reason": v.reason, "stage": v.snapshot.get("stage"),
                    "capacity_mw": v.snapshot.get("capacity_mw")} for v in versions]
        return EnergyProjectView.of(row, history)


# ---- writes ----------------------------------------------------------------------------------------------------

def register_energy_project(db: Database, principal: Principal, city: str, values: Mapping[str, Any], *,
                            today: date | None = None, reason: str = "") -> EnergyProjectView:
    """Register a project (the office; a district user in its districts): name, technology, region_code,
    capacity_mw (required), storage_mwh, owner, owner_uscc, planned_on, document, actions, source, status,
    notes, and its current ``stage`` with the dates of the stages reached (default ``planned``). ``code``:
    given or the next ``NY-<year>-NNNN``."""
    _require_writer(principal, city)
    today = today or date.today()
    with db.session(write=True) as session:
        problems: list[Problem] = []
        checked = _values(values, regions=_regions(session, city), principal=principal, where={},
                          problems=problems, partial=False)
        stage = _text(values.get("stage")) or "planned"
        dates = _stage_dates(values, {}, problems)
        if not problems:
            problems += [_problem(en, zh, field=f) for f, en, zh in stage_problems(
                "planned", stage, dates, today=today, may_correct=False, reason="")]
        code = _text(values.get("code"))
        if code and not CODE.match(code):
            problems.append(_problem("code: letters, digits, '-' and '_' (at most 64)",
                                     "项目编号只能包含字母、数字、“-”和“_”", field="code", value=code))
        if code and session.scalar(select(EnergyProject.id).where(EnergyProject.city == city,
                                                                  EnergyProject.code == code)) is not None:
            problems.append(_problem(f"the code {code} is already registered", f"项目编号 {code} 已存在",
                                     field="code", value=code))
        if problems:
            raise InputError(problems)
        code = code or next_code(session, city, today.year, prefix="NY")
        row = EnergyProject(city=city, code=code, stage=stage)
        stage_dates = {c: d for c, d in dates.items() if STAGES.index(stage) >= STAGES.index(_stage_of(c))}
        data = {"actions": checked.get("actions", [])}
        save_energy_project(session, row, 0, {**_row_values(checked), **stage_dates, "data": data},
                            by=principal.username, reason=reason)
        audit.record(session, principal, "energy_project.create", "energy_project", code, after=_snapshot(row),
                     reason=reason or None)
        return EnergyProjectView.of(row)


def _stage_of(column: str) -> str:
    return next(stage for stage, c in STAGE_DATES.items() if c == column)


def update_energy_project(db: Database, principal: Principal, city: str, code: str, changes: Mapping[str, Any], *,
                          version: int | None, reason: str = "") -> EnergyProjectView:
    """Change a project's fields (:data:`EDITABLE`; the stage moves through :func:`move_stage`), naming the
    ``version`` read."""
    _require_writer(principal, city)
    expected = _check_version(version)
    with db.session(write=True) as session:
        row = _find(session, city, code)
        _require_row_writer(principal, row)
        unknown = sorted(set(changes) - set(EDITABLE))
        problems: list[Problem] = []
        if unknown:
            problems.append(_problem(f"fields that cannot be changed here: {', '.join(unknown)} (the stage moves "
                                     "with the stage action)", f"以下字段不能在此修改: {', '.join(unknown)}",
                                     field=unknown[0]))
        raw = dict(changes)
        if "actions" in raw and "technology" not in raw:
            raw["technology"] = row.technology
        checked = _values(raw, regions=_regions(session, city), principal=principal, where={}, problems=problems,
                          partial=True)
        if problems:
            raise InputError(problems)
        before = _snapshot(row)
        values = _row_values({k: v for k, v in checked.items() if k in changes or k == "technology"})
        if "actions" in checked:
            values["data"] = {**(row.data or {}), "actions": checked["actions"]}
        save_energy_project(session, row, expected, values, by=principal.username, reason=reason)
        audit.record(session, principal, "energy_project.update", "energy_project", code, before=before,
                     after=_snapshot(row), reason=reason or None)
        return EnergyProjectView.of(row)


def move_stage(db: Database, principal: Principal, city: str, code: str, stage: str, *, on: date | str | None,
               version: int | None, reason: str = "", correction: bool = False,
               today: date | None = None) -> EnergyProjectView:
    """Move a project to ``stage`` reached ``on`` (required except for ``planned``): forward only; back only as
    the office's ``correction`` with a ``reason`` (the dates of the stages undone are cleared)."""
    _require_writer(principal, city)
    expected = _check_version(version)
    today = today or date.today()
    with db.session(write=True) as session:
        row = _find(session, city, code)
        _require_row_writer(principal, row)
        problems: list[Problem] = []
        day = _date(on, STAGE_DATES.get(stage, "on"), {}, problems)
        if problems:
            raise InputError(problems)
        if stage not in STAGES:
            raise InputError(_problem(f"stage is one of {', '.join(STAGES)}", f"阶段须为 {', '.join(STAGES)} 之一",
                                      field="stage", value=stage))
        dates: dict[str, date | None] = {c: getattr(row, c) for c in STAGE_DATES.values()}
        for later in STAGES[STAGES.index(stage) + 1:]:
            dates[STAGE_DATES[later]] = None
        if stage in STAGE_DATES and day is not None:
            dates[STAGE_DATES[stage]] = day
        going_back = STAGES.index(stage) < STAGES.index(row.stage)
        may_correct = correction and principal.is_admin
        found = stage_problems(row.stage, stage, dates, today=today, may_correct=may_correct, reason=reason)
        if stage == row.stage:
            found.append(("stage", f"the project is already {stage}", f"项目已处于该阶段 ({stage})"))
        if found:
            raise InputError([_problem(en, zh, field=f) for f, en, zh in found])
        before = _snapshot(row)
        save_energy_project(session, row, expected, {"stage": stage, **dates}, by=principal.username,
                            reason=reason)
        audit.record(session, principal, "energy_project.correct" if going_back else "energy_project.stage",
                     "energy_project", code, before=before, after=_snapshot(row), reason=reason or None)
        return EnergyProjectView.of(row)


# ---- import and template ---------------------------------------------------------------------------------------

def import_energy_projects(db: Database, principal: Principal, city: str, content: bytes, filename: str, *,
                           apply: bool = False, reason: str = "", today: date | None = None) -> ImportReport:
    """Import projects from the template's workbook (sheet 能源项目) or a CSV with :data:`COLUMNS`. A row with
    an empty or new ``code`` registers a project (at the row's stage with its dates); a known code updates it
    (its fields, and its stage forward). All-or-nothing: every problem names file, sheet, row and column.
    ``apply=False`` previews (nothing stored)."""
    from citycarbon.services.governance.registry import read_upload_sheet

    _require_writer(principal, city)
    today = today or date.today()
    rows = read_upload_sheet(content, filename, sheet=SHEET, columns=COLUMNS, required=REQUIRED)
    assert rows is not None
    where_file = f"{filename} [{SHEET}]" if content.startswith(b"PK") else filename
    with db.session(write=apply) as session:
        regions = _regions(session, city)
        stored = {r.code: r for r in session.scalars(select(EnergyProject).where(EnergyProject.city == city))}
        problems: list[Problem] = []
        parsed: list[tuple[int, str, dict[str, Any], str, dict[str, date | None]]] = []
        seen: dict[str, int] = {}
        for number, raw in rows:
            where = {"file": where_file, "row": number}
            code = raw.get("code", "")
            if code:
                if not CODE.match(code):
                    problems.append(_problem("code: letters, digits, '-' and '_'",
                                             "项目编号只能包含字母、数字、“-”和“_”", field="code", value=code,
                                             **where))
                if code in seen:
                    problems.append(_problem(f"the code {code} is also on row {seen[code]}",
                                             f"项目编号 {code} 与第 {seen[code]} 行重复", field="code", value=code,
                                             **where))
                seen[code] = number
            existing = stored.get(code) if code else None
            if existing is not None and not principal.can_edit_energy_project(existing.region_code):
                problems.append(_problem(f"the project {code} is not one you may edit", f"无权修改项目 {code}",
                                         field="code", value=code, **where))
                continue
            checked = _values(raw, regions=regions, principal=principal, where=where, problems=problems,
                              partial=False)
            stage = raw.get("stage") or (existing.stage if existing is not None else "planned")
            dates = _stage_dates(raw, where, problems)
            if existing is not None:
                dates = {c: dates[c] or getattr(existing, c) for c in dates}
            current = existing.stage if existing is not None else "planned"
            problems += [_problem(en, zh, field=f, **where) for f, en, zh in stage_problems(
                current, stage, dates, today=today, may_correct=False, reason="")]
            parsed.append((number, code, checked, stage, dates))
        if problems:
            raise InputError(problems)
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        why = reason.strip() or f"import {filename}"
        for _, code, checked, stage, dates in parsed:
            stage_dates = {c: d for c, d in dates.items() if STAGES.index(stage) >= STAGES.index(_stage_of(c))}
            values = {**_row_values(checked), "stage": stage, **stage_dates,
                      "data": {"actions": checked.get("actions", [])}}
            existing = stored.get(code) if code else None
            if existing is None:
                new_code = code or _free_code(session, city, today.year, taken={*created, *seen})
                created.append(new_code)
                if apply:
                    row = EnergyProject(city=city, code=new_code)
                    save_energy_project(session, row, 0, values, by=principal.username, reason=why)
                    audit.record(session, principal, "energy_project.import", "energy_project", new_code,
                                 after=_snapshot(row), reason=why)
                    stored[new_code] = row
                continue
            before = _snapshot(existing)
            differs = any(getattr(existing, k) != v for k, v in values.items() if k != "data") or \
                (existing.data or {}).get("actions", []) != values["data"]["actions"]
            if not differs:
                unchanged.append(code)
                continue
            updated.append(code)
            if apply:
                save_energy_project(session, existing, existing.version, values, by=principal.username, reason=why)
                audit.record(session, principal, "energy_project.import", "energy_project", code, before=before,
                             after=_snapshot(existing), reason=why)
        return ImportReport(filename, apply, created, updated, unchanged)


def _free_code(session: Session, city: str, year: int, *, taken: set[str]) -> str:
    """The next ``NY-<year>-NNNN`` not stored and not taken by an earlier row of the same import (a preview
    stores nothing, so the store alone would give every new row the same code)."""
    code = next_code(session, city, year, prefix="NY")
    stem, number = code.rsplit("-", 1)
    value = int(number)
    while code in taken:
        value += 1
        code = f"{stem}-{value:04d}"
    return code


_NOTES: dict[str, tuple[str, str]] = {
    "code": ("项目编号 (留空则自动编号 NY-年份-序号; 已有编号的行修改该项目)",
             "code (empty: numbered NY-year-NNNN; a known code updates that project)"),
    "name": ("项目名称 (必填)", "project name (required)"),
    "technology": ("技术类型: 从下拉列表选择", "technology: choose from the drop-down"),
    "stage": ("阶段: planned 规划 / approved 核准 / construction 在建 / grid_connected 并网 / retired 退役",
              "stage: planned / approved / construction / grid_connected / retired"),
    "region_code": ("所在区市县行政区划代码 GB/T 2260 (必填)", "district's GB/T 2260 code (required)"),
    "capacity_mw": ("装机容量 (MW, 必填)", "capacity in MW (required)"),
    "storage_mwh": ("储能容量 (MWh, 储能项目填写)", "storage energy in MWh (storage projects)"),
    "owner": ("业主单位", "owner"),
    "owner_uscc": ("业主统一社会信用代码 (18 位)", "owner's unified social credit code"),
    "planned_on": ("计划并网日期 YYYY-MM-DD", "expected grid connection YYYY-MM-DD"),
    "approved_on": ("核准/备案日期 YYYY-MM-DD", "approval date"),
    "construction_on": ("开工日期 YYYY-MM-DD", "construction start"),
    "grid_connected_on": ("并网日期 YYYY-MM-DD", "grid connection date"),
    "retired_on": ("退役日期 YYYY-MM-DD", "retirement date"),
    "document": ("核准/备案文号", "approval or filing document number"),
    "actions": ("煤电措施: retirement 退役 / flexibility_retrofit 灵活性改造, 以 ; 分隔",
                "coal actions: retirement; flexibility_retrofit"),
    "source": ("来源", "source"),
    "status": ("核实状态: reported / verified / estimate / example", "verification status"),
    "notes": ("备注", "notes"),
}


def energy_projects_workbook(db: Database, principal: Principal, city: str, *, filled: bool = False) -> Any:
    """The import template (说明 sheet, the 能源项目 sheet with a note on every header and drop-downs), empty or
    ``filled`` with the projects the caller reads. Returns a governance ``Download`` (filename, content)."""
    from openpyxl import Workbook

    from citycarbon.services.governance.registry import Download, _data_sheet, _info_sheet, _lists_sheet, _save

    _require_reader(principal, city)
    views = list_energy_projects(db, principal, city) if filled else []
    workbook = Workbook()
    _info_sheet(workbook, "能源项目库导入模板 / energy-project registry template", [
        ("每行一个项目; 编号留空则新增并自动编号, 已有编号的行修改该项目 (保留历史版本)。",
         "One project per row; an empty code adds one, a known code updates it (history kept)."),
        ("阶段只能向前推进 (规划 → 核准 → 在建 → 并网 → 退役), 并填写进入各阶段的日期; "
         "退回须由领导小组办公室在平台上更正。",
         "Stages only move forward, each with its date; going back is a correction by the office in the platform."),
        ("导入时整表校验, 有任何错误则整体不导入, 错误信息注明文件、工作表、行号 (表头为第 1 行) 与字段。",
         "The whole file is validated; any error rejects it whole, naming file, sheet, row (header = 1), column."),
    ], {SHEET: _NOTES})
    lists = _lists_sheet(workbook, {"technology": list(technologies()), "stage": list(STAGES),
                                    "status": list(STATUSES)})
    _data_sheet(workbook, SHEET, COLUMNS, _NOTES, ([
        v.code, v.name, v.technology, v.stage, v.region_code, v.capacity_mw, v.storage_mwh, v.owner,
        v.owner_uscc or "", v.planned_on or "", v.approved_on or "", v.construction_on or "",
        v.grid_connected_on or "", v.retired_on or "", v.document, ";".join(v.actions), v.source, v.status,
        v.notes] for v in views), lists)
    return Download(f"{city}-energy-projects{'' if filled else '-template'}.xlsx", _save(workbook))


# ---- the wind + solar figure -----------------------------------------------------------------------------------

def registry_version(session: Session) -> int:
    """A number that changes with every registry write (the newest version row's id; 0 when empty): part of the
    cache key of everything that shows the wind + solar figure."""
    return int(session.scalar(select(func.coalesce(func.max(EnergyProjectVersion.id), 0))) or 0)


def _records(session: Session, city: str) -> list[EnergyRecord]:
    rows = session.execute(select(EnergyProject.code, EnergyProject.technology, EnergyProject.stage,
                                  EnergyProject.capacity_mw, EnergyProject.grid_connected_on,
                                  EnergyProject.retired_on, EnergyProject.planned_on)
                           .where(EnergyProject.city == city)).all()
    return [EnergyRecord(r.code, r.technology, r.stage, float(r.capacity_mw), r.grid_connected_on, r.retired_on,
                         r.planned_on) for r in rows]


def _statistics(session: Session, city: str) -> tuple[dict[int, float], str]:
    """Wind + solar MW at the end of each statistical year from the ledger's capacity table (the codes
    starting with :data:`citycarbon.services.tracking.WIND_SOLAR_PREFIXES`), and the table's unit."""
    from citycarbon.services.tracking import WIND_SOLAR_PREFIXES
    from citycarbon.store import ledger

    region = ledger.city_region(session, city)
    frame = ledger.current_frame(session, "capacity", region=region)
    if frame.empty:
        return {}, "MW"
    rows = frame[frame["technology"].astype(str).str.startswith(WIND_SOLAR_PREFIXES)]
    return ({int(y): float(v) for y, v in rows.groupby("year")["capacity"].sum().items()},
            str(rows["unit"].iloc[0]) if not rows.empty else "MW")


def wind_solar_series(session: Session, city: str, statistics: Mapping[int, float], *,
                      today: date | None = None) -> dict[int, float]:
    """``statistics`` (year → wind + solar MW) extended by the registry's projects of ``city`` (the rule of
    :mod:`citycarbon.projects.supply`): what tracking's ``wind_solar_capacity_mw`` series is on the platform."""
    return registry_series(statistics, _records(session, city), counted_codes(), today or date.today())


def wind_solar_status(db: Database, principal: Principal, city: str, *, on: date | None = None) -> dict[str, Any]:
    """The 8 GW card: grid-connected wind + solar on ``on`` (default today) from the capacity statistics and the
    registry, against the plan's 2030 target (indicator ``wind_solar_capacity_mw``) with its 序时进度 and
    warning level (tracking's pace rule, :func:`citycarbon.tracking.progress.track_target`), and the pipeline
    (approved, construction, planned) by stage and by expected year (``planned_on``)."""
    from citycarbon.services.cities import plan_for
    from citycarbon.tracking.progress import describe_target, track_target
    from citycarbon.tracking.warning_rules import load_rule_set

    _require_reader(principal, city)
    on = on or date.today()
    with db.session() as session:
        statistics, unit = _statistics(session, city)
        records = _records(session, city)
    counts = counted_codes()
    stock = wind_solar_stock(statistics, records, counts, on)
    plan = plan_for(city, db)
    target = next((t for t in plan.targets if t.indicator == TARGET_INDICATOR), None)
    tracked: dict[str, Any] | None = None
    if target is not None:
        history = {y: v for y, v in statistics.items() if date(y, 12, 31) <= on}
        history[on.year] = stock.total_mw
        info = describe_target(target, plan.meta.base_year)
        tracked = track_target(info, history, on.year, load_rule_set(None)).to_dict()
    pipeline_stages = ("approved", "construction", "planned")
    by_stage = {s: {"count": 0, "capacity_mw": 0.0} for s in pipeline_stages}
    by_year: dict[str, float] = {}
    for r in records:
        if r.technology not in counts or r.stage not in pipeline_stages:
            continue
        by_stage[r.stage]["count"] += 1
        by_stage[r.stage]["capacity_mw"] += r.capacity_mw
        key = str(r.planned_on.year) if r.planned_on is not None else "unknown"
        by_year[key] = by_year.get(key, 0.0) + r.capacity_mw
    pipeline_mw = sum(float(v["capacity_mw"]) for v in by_stage.values())
    return {
        "city": city, "on": on.isoformat(), "unit": unit,
        "statistics_year": stock.statistics_year, "statistics_mw": stock.statistics_mw,
        "registry_added_mw": stock.added_mw, "registry_retired_mw": stock.retired_mw,
        "added": [{"code": c, "capacity_mw": mw} for c, mw in stock.added],
        "retired": [{"code": c, "capacity_mw": mw} for c, mw in stock.retired],
        "in_statistics": [{"code": c, "capacity_mw": mw} for c, mw in stock.in_statistics],
        "grid_connected_mw": stock.total_mw,
        "target_id": target.id if target is not None else None,
        "target_mw": target.value if target is not None else None,
        "target_year": target.year if target is not None else None,
        "base_year": plan.meta.base_year,
        "progress_share": (tracked or {}).get("progress_share"),
        "time_elapsed_share": (tracked or {}).get("time_elapsed_share"),
        "level": (tracked or {}).get("level"), "colour": (tracked or {}).get("colour"),
        "reason": (tracked or {}).get("reason"), "reason_en": (tracked or {}).get("reason_en"),
        "pipeline_by_stage": by_stage, "pipeline_by_year": dict(sorted(by_year.items())),
        "pipeline_mw": pipeline_mw,
        "rule": "statistics to 31 December of their last year; registry grid connections and retirements after "
                "that day added / subtracted; earlier ones are in the statistics (shown, not added)",
        "rule_zh": "统计数据截至其最近年份 12 月 31 日；此后并网的登记项目计入、退役的扣除；"
                   "此前并网的已含在统计中（列示，不重复计入）",
        "counted_technologies": sorted(counts),
    }


def registry_capacity_path(db: Database, principal: Principal, city: str, *, today: date | None = None,
                           until: int = 2030) -> dict[str, Any]:
    """Wind + solar capacity by year for the pathways page: ``grid_connected`` (statistics, then the registry's
    connections and retirements, to ``today``'s year) and ``with_pipeline`` (that stock plus the pipeline's
    projects — approved, under construction, planned — in the year of their expected grid connection
    ``planned_on``; projects without one are left out and counted in ``undated_mw``), in MW."""
    _require_reader(principal, city)
    today = today or date.today()
    with db.session() as session:
        statistics, unit = _statistics(session, city)
        records = _records(session, city)
    counts = counted_codes()
    grid = registry_series(statistics, records, counts, today)
    last = max(grid) if grid else today.year
    current = wind_solar_stock(statistics, records, counts, today).total_mw
    if today.year not in grid and (not grid or last < today.year):
        grid[today.year] = current
    pipeline: dict[int, float] = {}
    undated = 0.0
    for r in records:
        if r.technology not in counts or r.stage not in ("approved", "construction", "planned"):
            continue
        if r.planned_on is None:
            undated += r.capacity_mw
            continue
        year = max(r.planned_on.year, today.year)
        pipeline[year] = pipeline.get(year, 0.0) + r.capacity_mw
    with_pipeline: dict[int, float] = {}
    running = current
    for year in range(today.year, max([until, *pipeline]) + 1):
        running += pipeline.get(year, 0.0)
        with_pipeline[year] = running
    return {"unit": unit, "grid_connected": dict(sorted(grid.items())), "with_pipeline": with_pipeline,
            "undated_mw": undated}


# ---- the platform's tracking series (no caller: tracking reads it for everyone) --------------------------------

def _platform_db(db: Database | None) -> tuple[Database | None, bool]:
    if db is not None:
        return db, False
    from citycarbon.services.sources import database_exists
    from citycarbon.settings import Settings

    return (Database(Settings.from_env()), True) if database_exists() else (None, False)


def platform_wind_solar(city: str, statistics: Mapping[int, float], db: Database | None = None, *,
                        today: date | None = None) -> dict[int, float]:
    """:func:`wind_solar_series` read from ``db`` (default: the configured database; the statistics unchanged
    when there is none or it has no registry table)."""
    from sqlalchemy.exc import SQLAlchemyError

    database, own = _platform_db(db)
    if database is None:
        return dict(statistics)
    try:
        with database.session() as session:
            return wind_solar_series(session, city, statistics, today=today)
    except SQLAlchemyError:
        return dict(statistics)
    finally:
        if own:
            database.dispose()


def platform_registry_version(db: Database | None = None) -> int:
    """:func:`registry_version` of ``db`` (default: the configured database; 0 without one)."""
    from sqlalchemy.exc import SQLAlchemyError

    database, own = _platform_db(db)
    if database is None:
        return 0
    try:
        with database.session() as session:
            return registry_version(session)
    except SQLAlchemyError:
        return 0
    finally:
        if own:
            database.dispose()


# issue 17 (registry): the registry as the starting line of the pathway model's wind and solar capacity paths ----

__all__ += ["PATHWAY_TECHNOLOGIES", "pathway_technology_map", "registry_pathway_capacity"]

#: the pathway model's capacity technologies the registry moves (model.CAPACITY_LEVERS' keys)
PATHWAY_TECHNOLOGIES = ("wind_onshore", "wind_offshore", "solar_utility", "solar_distributed")
#: the registry stages of the pipeline (not yet connected)
PIPELINE_STAGES = ("approved", "construction", "planned")


@cache
def pathway_technology_map(path: str | None = None) -> dict[str, str]:
    """Registry technology code → the pathway model's capacity technology
    (``data/pathways/registry_technologies.csv``, or ``path``); a bad row raises :class:`InputError` naming file,
    row and field (an unknown registry code, a model technology the model does not have, a missing source)."""
    from pathlib import Path

    from citycarbon.data import data_path, read_csv_file

    file = Path(path) if path else data_path("pathways/registry_technologies.csv")
    frame = read_csv_file(file, dtype=str).fillna("")
    problems: list[Problem] = []
    out: dict[str, str] = {}
    codes = technologies()
    for number, record in enumerate(frame.to_dict("records"), start=1):
        code, model_tech = record.get("registry_technology", "").strip(), record.get("model_technology", "").strip()
        if code not in codes or code in out:
            problems.append(Problem(f"'{code}' is not a registry technology (or is listed twice)", file=file.name,
                                    row=number, field="registry_technology", value=code))
        if model_tech not in PATHWAY_TECHNOLOGIES:
            problems.append(Problem(f"model_technology is one of {', '.join(PATHWAY_TECHNOLOGIES)}",
                                    file=file.name, row=number, field="model_technology", value=model_tech))
        if not record.get("source", "").strip():
            problems.append(Problem("every row needs a source", file=file.name, row=number, field="source"))
        out[code] = model_tech
    if problems:
        raise InputError(problems)
    return out


def _statistics_by_technology(session: Session, city: str) -> dict[str, dict[int, float]]:
    """The ledger's capacity statistics of the model's wind and solar technologies, MW at the end of each year."""
    from citycarbon.store import ledger
    from citycarbon.units import conversion_factor

    region = ledger.city_region(session, city)
    frame = ledger.current_frame(session, "capacity", region=region)
    out: dict[str, dict[int, float]] = {tech: {} for tech in PATHWAY_TECHNOLOGIES}
    if frame.empty:
        return out
    mapping = pathway_technology_map()
    for row in frame.itertuples():
        tech = mapping.get(str(row.technology))
        if tech is None:
            continue
        mw = float(row.capacity) * conversion_factor(str(row.unit), "MW")
        out[tech][int(row.year)] = out[tech].get(int(row.year), 0.0) + mw
    return out


def registry_pathway_capacity(session: Session, city: str, *, today: date | None = None) -> dict[str, Any]:
    """The registry as the pathway model's starting line (issue 17), per model technology
    (:data:`PATHWAY_TECHNOLOGIES`; registry codes mapped by :func:`pathway_technology_map`).

    * ``connected``: {technology: {year: MW}} grid-connected at the end of each year — the ledger's capacity
      statistics to their last year, then the registry's connections and retirements after it to ``today`` (the
      rule of :func:`citycarbon.projects.supply.registry_series`, applied per technology: nothing counted twice);
    * ``pipeline``: {technology: {year: MW}} approved, under construction and planned projects by the year of
      their expected grid connection ``planned_on`` (a date already past counts in ``today``'s year);
      ``undated_mw`` ({technology: MW}) those without one, ``undated_total_mw`` their sum;
    * ``statistics_year``: the statistics' last year; ``last_year``: the last year ``connected`` holds;
      ``extends``: True when the registry adds years after the statistics (connections or retirements dated
      after them) — only then does it move the model's starting line;
    * ``projects``: the registry's projects of these technologies (connected or in the pipeline).

    Reads the store only; the caller owns the session (the pathway service calls it when it builds a model)."""
    today = today or date.today()
    mapping = pathway_technology_map()
    statistics = _statistics_by_technology(session, city)
    records = [r for r in _records(session, city) if r.technology in mapping]
    connected: dict[str, dict[int, float]] = {}
    pipeline: dict[str, dict[int, float]] = {}
    undated: dict[str, float] = {}
    stat_years = [y for by_year in statistics.values() for y in by_year]
    statistics_year = max(stat_years) if stat_years else None
    for tech in PATHWAY_TECHNOLOGIES:
        codes = frozenset(code for code, model_tech in mapping.items() if model_tech == tech)
        connected[tech] = dict(sorted(registry_series(statistics[tech], records, codes, today).items()))
        for r in records:
            if r.technology not in codes or r.stage not in PIPELINE_STAGES:
                continue
            if r.planned_on is None:
                undated[tech] = undated.get(tech, 0.0) + r.capacity_mw
                continue
            year = max(r.planned_on.year, today.year)
            pipeline.setdefault(tech, {})
            pipeline[tech][year] = pipeline[tech].get(year, 0.0) + r.capacity_mw
    years = [y for by_year in connected.values() for y in by_year]
    last_year = max(years) if years else None
    for by_year in connected.values():  # no event after a technology's last year: its stock carries on
        for year in range(max(by_year, default=last_year or 0) + 1, (last_year or 0) + 1):
            by_year[year] = by_year[year - 1]
    return {
        "connected": {tech: by_year for tech, by_year in connected.items() if by_year},
        "pipeline": {tech: dict(sorted(by_year.items())) for tech, by_year in pipeline.items()},
        "undated_mw": undated, "undated_total_mw": float(sum(undated.values())),
        "statistics_year": statistics_year, "last_year": last_year,
        "extends": last_year is not None and (statistics_year is None or last_year > statistics_year),
        "projects": len(records), "unit": "MW",
    }

"""The organisation registry and the responsibility matrix as use cases (issue 14 items 1 and 2).

Organisations (``gov_orgs``) and measures (``gov_measures``) are versioned registries: every write closes the
current version and inserts the next (:mod:`citycarbon.store.governance`), so both read "as of" any past time,
and every write is audited with its reason in the same transaction.

Who may do what (applied here once for every face):

* **Organisations.** Every caller of the city reads the list (codes, public names, kind, parent, region): it is
  what a department user needs to know who leads and who co-operates (a district user: without the other
  districts and pilot zones, as for every district-level object). The history of a unit (who changed what,
  why) is for the office and analysts. Editing, deactivating and importing are for the office only
  (:meth:`~citycarbon.auth.principal.Principal.can_manage_governance`).
* **The matrix.** The office and analysts read every measure, including those no unit carries (``unassigned``).
  A department or district user reads the measures where its organisation is lead unit, co-unit or district;
  another unit's measure answers 404 (existence not leaked). Viewers and enterprise users act for no unit: they
  see no measure (an empty list; they read the city's aggregate, the 调度 summary). Editing and importing are
  for the office only.

Imports are all-or-nothing: every row is validated first (code patterns, the kind of an organisation, the
parent and the units named exist, a district's region code belongs to the city, indicator units are pint units);
problems name the file, the spreadsheet row (header = row 1) and the column, in Chinese and English; with any
problem nothing is stored. ``apply=False`` previews what the file would change.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal, Role
from citycarbon.codelists import nearest
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.governance.defaults import format_milestones, parse_milestones
from citycarbon.governance.model import TERRITORIAL_KINDS, Indicator, Measure, Organisation, OrgKind
from citycarbon.services.cities import require_city
from citycarbon.store import governance as store
from citycarbon.store.db import Database
from citycarbon.store.governance_models import GovMeasure, GovOrg
from citycarbon.units import is_unit

__all__ = [
    "MATRIX_INDICATOR_COLUMNS", "MATRIX_MEASURE_COLUMNS", "ORG_COLUMNS", "XLSX_MEDIA_TYPE", "Download",
    "ImportChange", "ImportReport", "MeasureView", "OrgDetail", "OrgView", "edit_measure", "edit_org",
    "get_measure", "get_org", "import_matrix", "import_orgs", "list_measures", "list_orgs", "matrix_workbook",
    "measures_for_org", "orgs_workbook", "read_upload", "read_upload_sheet",
]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: the largest registry or matrix file taken (a matrix of a few hundred measures is far below)
MAX_FILE_BYTES = 5_000_000

ORG_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MEASURE_CODE = re.compile(r"^T(\d{2})-M(\d{2})$")
INDICATOR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
INDICATOR_STATUSES = ("verified", "secondary-source", "unverified", "estimate")

#: columns of an organisations file (those of ``data/<city>/governance/organisations.csv``); status and source
#: are read as well and ignored (the import records the file as the source of every version)
ORG_COLUMNS: tuple[str, ...] = ("code", "name_zh", "name_en", "kind", "parent", "region_code", "short_zh")
ORG_REQUIRED = ("code", "name_zh", "kind")
#: the measures sheet (措施) and the indicators sheet (指标) of a matrix workbook
MATRIX_MEASURE_COLUMNS: tuple[str, ...] = ("code", "task", "text_zh", "lead", "co_units", "districts", "deadline",
                                           "milestones", "text_en")
MATRIX_MEASURE_REQUIRED = ("code", "task", "text_zh")
MATRIX_INDICATOR_COLUMNS: tuple[str, ...] = ("measure", "code", "name_zh", "name_en", "unit", "target", "year",
                                             "milestones", "status", "source")
MATRIX_INDICATOR_REQUIRED = ("measure", "code", "name_zh", "unit")
ORG_SHEET, MEASURE_SHEET, INDICATOR_SHEET, INFO_SHEET = "组织机构", "措施", "指标", "说明"


# ---- results ---------------------------------------------------------------------------------------------

def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class OrgView:
    """One version of an organisation. ``changed_by``/``change_reason`` are shown to the office and analysts only
    (empty for the others)."""

    code: str
    name_zh: str
    name_en: str
    short_zh: str | None
    kind: str
    parent: str | None
    region_code: str | None
    active: bool
    version: int
    valid_from: str | None
    valid_to: str | None
    changed_by: str = ""
    change_reason: str = ""

    @classmethod
    def of(cls, row: GovOrg, *, detail: bool) -> OrgView:
        return cls(row.code, row.name_zh, row.name_en, row.short_zh, row.kind, row.parent, row.region_code,
                   bool(row.active), int(row.version), _iso(row.valid_from), _iso(row.valid_to),
                   row.changed_by if detail else "", row.change_reason if detail else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OrgDetail:
    """An organisation with its versions (oldest first; the office and analysts only) and the measures it carries
    (for those who may read them): ``measures`` maps a measure code to the unit's role (lead / co / district)."""

    org: OrgView
    history: list[OrgView]
    measures: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"org": self.org.to_dict(), "history": [h.to_dict() for h in self.history],
                "measures": dict(self.measures)}


@dataclass(frozen=True)
class UnitRef:
    """A responsible unit of a measure with its names and its role (lead / co / district)."""

    code: str
    role: str
    name_zh: str
    name_en: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MeasureView:
    """One version of a measure with its responsible units named."""

    code: str
    task: int
    seq: int
    text_zh: str
    text_en: str
    lead: str | None
    co_units: list[str]
    districts: list[str]
    deadline: str | None
    milestones: dict[str, str]
    indicators: list[dict[str, Any]]
    active: bool
    version: int
    valid_from: str | None
    valid_to: str | None
    changed_by: str
    change_reason: str
    units: list[UnitRef] = field(default_factory=list)

    @classmethod
    def of(cls, row: GovMeasure, names: Mapping[str, GovOrg]) -> MeasureView:
        measure = store.measure_of(row)
        units = []
        for code in measure.units:
            role = "lead" if code == measure.lead else "co" if code in measure.co_units else "district"
            org = names.get(code)
            units.append(UnitRef(code, role, org.name_zh if org else code, org.name_en if org else code))
        return cls(measure.code, measure.task, measure.seq, measure.text_zh, measure.text_en, measure.lead,
                   list(measure.co_units), list(measure.districts), _iso(measure.deadline),
                   {str(y): t for y, t in sorted(measure.milestones.items())},
                   [_indicator_view(i) for i in measure.indicators], bool(row.active), int(row.version),
                   _iso(row.valid_from), _iso(row.valid_to), row.changed_by, row.change_reason, units)

    def role_of(self, org: str) -> str | None:
        return next((u.role for u in self.units if u.code == org), None)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["units"] = [u.to_dict() for u in self.units]
        return out


def _indicator_view(indicator: Indicator) -> dict[str, Any]:
    return {"code": indicator.code, "name_zh": indicator.name_zh, "name_en": indicator.name_en,
            "unit": indicator.unit, "target": indicator.target, "year": indicator.year,
            "milestones": {str(y): v for y, v in sorted(indicator.milestones.items())},
            "source": indicator.source, "status": indicator.status}


@dataclass(frozen=True)
class MeasureDetail:
    measure: MeasureView
    history: list[MeasureView]

    def to_dict(self) -> dict[str, Any]:
        return {"measure": self.measure.to_dict(), "history": [h.to_dict() for h in self.history]}


@dataclass(frozen=True)
class ImportChange:
    """What an import does to one code: ``create``, ``update`` (with the fields that change) or ``unchanged``."""

    code: str
    action: str
    fields: list[str]
    row: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ImportReport:
    """The outcome of an import (``applied``) or its preview: a change per row, and the stored codes the file
    does not name (kept as they are)."""

    file: str
    applied: bool
    changes: list[ImportChange]
    not_in_file: list[str]

    @property
    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "unchanged": 0}
        for change in self.changes:
            out[change.action] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "applied": self.applied, "counts": self.counts,
                "changes": [c.to_dict() for c in self.changes], "not_in_file": list(self.not_in_file)}


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    media_type: str = XLSX_MEDIA_TYPE


# ---- rules -----------------------------------------------------------------------------------------------

def _problem(en: str, zh: str, **where: Any) -> Problem:
    return Problem(en, message_zh=zh, **where)


def _edit_problems(changes: Mapping[str, Any], editable: Iterable[str], reason: str | None) -> list[Problem]:
    """What is wrong with an edit before its values are checked: fields that cannot be changed, no reason."""
    problems: list[Problem] = []
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        problems.append(_problem(f"fields that cannot be changed: {', '.join(unknown)}",
                                 f"以下字段不能修改: {', '.join(unknown)}", field=unknown[0]))
    if not (reason or "").strip():
        problems.append(_problem("give the reason for the change (kept in the audit log)",
                                 "请填写修改原因 (记入审计日志)", field="reason"))
    return problems


def _require_office(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_manage_governance(city):
        raise Forbidden("只有领导小组办公室可以修改组织机构和责任清单 / only the office (administrators with write "
                        "access) edits the organisation registry and the responsibility matrix",
                        code="governance_office")


def _require_matrix_reader(principal: Principal, city: str) -> None:
    """Any caller of the city may ask; what it sees is narrowed by :func:`_acts_for_any` (viewers and enterprise
    users act for no unit, so they see no measure)."""
    require_city(principal, city)


def _shows_org(principal: Principal, row: GovOrg, *, detail: bool) -> bool:
    """A district user sees the registry without the other districts and pilot zones (the same rule as for every
    other district-level object: another district's detail is not shown to it)."""
    if detail or principal.role is not Role.district or OrgKind(row.kind) not in TERRITORIAL_KINDS:
        return True
    return row.region_code is None or row.region_code in principal.regions


def _orgs_by_code(session: Session, city: str, as_of: datetime | None = None) -> dict[str, GovOrg]:
    return {row.code: row for row in store.org_rows(session, city, as_of=as_of, include_inactive=True)}


def _acts_for_any(principal: Principal, codes: Iterable[str], orgs: Mapping[str, GovOrg]) -> bool:
    return any(principal.acts_for_org(code, orgs[code].region_code if code in orgs else None) for code in codes)


def _city_districts(session: Session, city: str) -> dict[str, str]:
    """GB/T 2260 codes of the city's districts and counties → name."""
    from citycarbon.store import cities as store_cities
    from citycarbon.tracking.districts import district_codes

    record = store_cities.plan_record(session, city)
    if record is None:
        raise NotFound("城市不存在 / city not found", code="city_unknown")
    return {code: info["name_zh"] for code, info in district_codes(record.region_code).items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _codes(value: Any) -> tuple[str, ...]:
    text = _text(value).replace("；", ";").replace("，", ";").replace(",", ";")
    return tuple(dict.fromkeys(code.strip() for code in text.split(";") if code.strip()))


def _check_org_row(values: Mapping[str, str], *, known: Mapping[str, str], districts: Mapping[str, str],
                   file: str | None, row: int | None) -> tuple[Organisation | None, list[Problem]]:
    """One organisation from text fields; ``known``: code → kind of every organisation it may name as parent."""
    problems: list[Problem] = []

    def add(en: str, zh: str, column: str, value: Any = None, suggestion: str | None = None) -> None:
        problems.append(_problem(en, zh, file=file, row=row, field=column, value=value, suggestion=suggestion))

    code = values.get("code", "")
    if not ORG_CODE.match(code):
        add("the code is 2–64 lowercase letters, digits or '_', starting with a letter",
            "代码须为 2–64 位小写字母、数字或下划线, 以字母开头", "code", code)
    name_zh = values.get("name_zh", "")
    if not name_zh:
        add("the Chinese name is required", "中文名称不能为空", "name_zh")
    elif len(name_zh) > 200:
        add("the Chinese name is at most 200 characters", "中文名称不超过 200 字", "name_zh")
    if len(values.get("name_en", "")) > 200:
        add("the English name is at most 200 characters", "英文名称不超过 200 字符", "name_en")
    short = values.get("short_zh", "")
    if len(short) > 64:
        add("the short name is at most 64 characters", "简称不超过 64 字", "short_zh")
    kind_text = values.get("kind", "")
    kinds = [k.value for k in OrgKind]
    kind = OrgKind(kind_text) if kind_text in kinds else None
    if kind is None:
        add(f"unknown kind '{kind_text}'", f"类型“{kind_text}”无效", "kind", kind_text, nearest(kind_text, kinds))
    parent = values.get("parent", "") or None
    if parent is not None and (parent == code or parent not in known):
        add(f"the parent '{parent}' is not an organisation of the registry",
            f"上级单位“{parent}”不在组织机构名录中", "parent", parent, nearest(parent, list(known)))
    region = values.get("region_code", "") or None
    if kind is OrgKind.district and region is None:
        add("a district needs its GB/T 2260 region code", "区市县须填写 GB/T 2260 行政区划代码", "region_code")
    elif region is not None and kind in TERRITORIAL_KINDS and region not in districts:
        add(f"'{region}' is not a district or county of the city (GB/T 2260)",
            f"“{region}”不是本市的区市县行政区划代码 (GB/T 2260)", "region_code", region,
            nearest(region, list(districts)))
    elif region is not None and kind is not None and kind not in TERRITORIAL_KINDS:
        add("only districts and pilot zones carry a region code", "只有区市县和开放先导区填写行政区划代码",
            "region_code", region)
    if problems or kind is None:
        return None, problems
    return Organisation(code=code, name_zh=name_zh, name_en=values.get("name_en", ""), kind=kind, parent=parent,
                        region_code=region, short_zh=short or None), problems


def _org_values(org: Organisation, active: bool) -> dict[str, Any]:
    return {"name_zh": org.name_zh, "name_en": org.name_en, "short_zh": org.short_zh, "kind": org.kind.value,
            "parent": org.parent, "region_code": org.region_code, "active": active}


def _changed_fields(row: GovOrg | None, values: Mapping[str, Any]) -> list[str]:
    if row is None:
        return sorted(values)
    return [key for key, value in values.items() if getattr(row, key) != value]


def _carried_by(session: Session, city: str, code: str) -> list[str]:
    return [row.code for row in store.measure_rows(session, city)
            if code in store.measure_of(row).units]


# ---- organisations: reads --------------------------------------------------------------------------------

def list_orgs(db: Database, principal: Principal, city: str, *, as_of: datetime | None = None,
              include_inactive: bool = False) -> list[OrgView]:
    """The city's organisations (as of ``as_of``; default now), in registry order. Every caller of the city reads
    the list; deactivated units (``include_inactive``) and who changed what are for the office and analysts."""
    require_city(principal, city)
    detail = principal.can_read_governance_detail(city)
    with db.session() as session:
        rows = store.org_rows(session, city, as_of=as_of, include_inactive=include_inactive and detail)
        return [OrgView.of(row, detail=detail) for row in rows if _shows_org(principal, row, detail=detail)]


def get_org(db: Database, principal: Principal, city: str, code: str, *,
            as_of: datetime | None = None) -> OrgDetail:
    """One organisation (as of ``as_of``) with its history (office and analysts) and the measures it carries
    (for a caller who may read them). An unknown code, or a deactivated one for a caller who does not see those,
    is :class:`NotFound`."""
    require_city(principal, city)
    detail = principal.can_read_governance_detail(city)
    with db.session() as session:
        rows = store.org_rows(session, city, as_of=as_of, include_inactive=detail)
        current = next((row for row in rows if row.code == code), None)
        if current is None or not _shows_org(principal, current, detail=detail):
            raise NotFound("组织机构不存在 / organisation not found", code="org_unknown")
        history: list[OrgView] = []
        if detail:
            versions = session.scalars(select(GovOrg).where(GovOrg.city == city, GovOrg.code == code)
                                       .order_by(GovOrg.version))
            history = [OrgView.of(row, detail=True) for row in versions]
        measures: dict[str, str] = {}
        if detail or principal.acts_for_org(code, current.region_code):
            for row in store.measure_rows(session, city, as_of=as_of):
                measure = store.measure_of(row)
                if code in measure.units:
                    measures[measure.code] = ("lead" if code == measure.lead else
                                              "co" if code in measure.co_units else "district")
        return OrgDetail(OrgView.of(current, detail=detail), history, measures)


# ---- organisations: writes -------------------------------------------------------------------------------

_ORG_EDITABLE = ("name_zh", "name_en", "short_zh", "kind", "parent", "region_code", "active")


def edit_org(db: Database, principal: Principal, city: str, code: str, changes: Mapping[str, Any], *,
             reason: str, create: bool = False) -> OrgView:
    """Change an organisation (the office only): a new version with ``changes`` (any of name_zh, name_en,
    short_zh, kind, parent, region_code, active), audited with ``reason`` (required). ``create=True`` also makes
    a new organisation (all its fields from ``changes``). Deactivating (``active: false``) a unit that still
    carries an active measure or is the parent of an active unit is refused (422, naming them)."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        orgs = _orgs_by_code(session, city)
        current = orgs.get(code)
        if current is None and not create:
            raise NotFound("组织机构不存在 / organisation not found", code="org_unknown")
        problems = _edit_problems(changes, _ORG_EDITABLE, reason)
        base = {key: _text(getattr(current, key)) for key in ORG_COLUMNS if key != "code"} if current else {}
        values = {**base, **{k: _text(v) for k, v in changes.items() if k in _ORG_EDITABLE and k != "active"},
                  "code": code}
        active = bool(changes.get("active", current.active if current is not None else True))
        known = {c: row.kind for c, row in orgs.items() if row.active}
        org, found = _check_org_row(values, known=known, districts=_city_districts(session, city), file=None,
                                    row=None)
        problems.extend(found)
        if not active:
            carried = _carried_by(session, city, code)
            children = sorted(c for c, row in orgs.items() if row.parent == code and row.active and c != code)
            if carried or children:
                problems.append(_problem(
                    f"the unit still carries measures {', '.join(carried[:10])} or leads units "
                    f"{', '.join(children[:10])}; reassign them first",
                    f"该单位仍承担措施 {', '.join(carried[:10])} 或为单位 {', '.join(children[:10])} 的上级, "
                    "请先调整", field="active", value=code))
        if problems or org is None:
            raise InputError(problems)
        store.put_org(session, city, org, actor=principal, reason=reason.strip(), source="edit", active=active)
        row = store.org_rows(session, city, include_inactive=True)
        return OrgView.of(next(r for r in row if r.code == code), detail=True)


def import_orgs(db: Database, principal: Principal, city: str, content: bytes, filename: str, *,
                apply: bool = False, reason: str = "") -> ImportReport:
    """Import the organisation registry from a CSV or Excel file with the columns of ``organisations.csv`` (the
    office only). Every row is validated before anything is stored (all-or-nothing); each organisation of the
    file becomes a new version where it changes; organisations the file does not name are kept as they are.
    ``apply=False`` answers the preview and stores nothing."""
    _require_office(principal, city)
    rows = read_upload(content, filename, sheet=ORG_SHEET, columns=ORG_COLUMNS, required=ORG_REQUIRED)
    with db.session(write=apply) as session:
        stored = _orgs_by_code(session, city)
        in_file = {values.get("code", ""): values.get("kind", "") for _, values in rows}
        known = {**{c: row.kind for c, row in stored.items() if row.active}, **in_file}
        districts = _city_districts(session, city)
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        parsed: list[tuple[int, Organisation]] = []
        for number, values in rows:
            code = values.get("code", "")
            if code in seen:
                problems.append(_problem(f"the code '{code}' is also on row {seen[code]}",
                                         f"代码“{code}”与第 {seen[code]} 行重复", file=filename, row=number,
                                         field="code", value=code))
                continue
            seen[code] = number
            org, found = _check_org_row(values, known=known, districts=districts, file=filename, row=number)
            problems.extend(found)
            if org is not None:
                parsed.append((number, org))
        if problems:
            raise InputError(problems)
        changes = []
        for number, org in parsed:
            fields = _changed_fields(stored.get(org.code), _org_values(org, True))
            action = "create" if org.code not in stored else "update" if fields else "unchanged"
            changes.append(ImportChange(org.code, action, fields if action == "update" else [], number))
        if apply:
            why = (reason or "").strip() or f"import {filename}"
            for _, org in parsed:
                store.put_org(session, city, org, actor=principal, reason=why, source=f"import: {filename}")
        kept = [code for code, row in stored.items() if row.active and code not in seen]
        return ImportReport(filename, apply, changes, kept)


# ---- the matrix: reads -----------------------------------------------------------------------------------

def list_measures(db: Database, principal: Principal, city: str, *, as_of: datetime | None = None,
                  task: int | None = None, org: str | None = None, unassigned: bool = False,
                  include_inactive: bool = False) -> list[MeasureView]:
    """The measures the caller may read (as of ``as_of``), by task and sequence: every measure for the office and
    analysts; a department or district user only those its organisation carries. Filters: ``task``; ``org`` (a
    unit as lead, co-unit or district); ``unassigned`` (measures without a lead unit: no unit answers for them);
    ``include_inactive`` (office and analysts)."""
    _require_matrix_reader(principal, city)
    detail = principal.can_read_governance_detail(city)
    with db.session() as session:
        orgs = _orgs_by_code(session, city, as_of)
        rows = store.measure_rows(session, city, as_of=as_of, include_inactive=include_inactive and detail)
        out = []
        for row in rows:
            view = MeasureView.of(row, orgs)
            units = [u.code for u in view.units]
            if not detail and not _acts_for_any(principal, units, orgs):
                continue
            if task is not None and view.task != task:
                continue
            if org and org not in units:
                continue
            if unassigned and view.lead:
                continue
            out.append(view)
        return out


def get_measure(db: Database, principal: Principal, city: str, code: str, *,
                as_of: datetime | None = None) -> MeasureDetail:
    """One measure (as of ``as_of``) with every version of it, oldest first. A measure the caller's unit does not
    carry answers :class:`NotFound`, as an unknown code does."""
    _require_matrix_reader(principal, city)
    detail = principal.can_read_governance_detail(city)
    with db.session() as session:
        orgs = _orgs_by_code(session, city, as_of)
        row = next((r for r in store.measure_rows(session, city, as_of=as_of, include_inactive=detail)
                    if r.code == code), None)
        view = MeasureView.of(row, orgs) if row is not None else None
        if view is None or not (detail or _acts_for_any(principal, [u.code for u in view.units], orgs)):
            raise NotFound("措施不存在 / measure not found", code="measure_unknown")
        versions = session.scalars(select(GovMeasure).where(GovMeasure.city == city, GovMeasure.code == code)
                                   .order_by(GovMeasure.version))
        return MeasureDetail(view, [MeasureView.of(r, orgs) for r in versions])


def measures_for_org(db: Database, principal: Principal, city: str, org: str, *,
                     as_of: datetime | None = None) -> list[MeasureView]:
    """The measures ``org`` carries as lead unit, co-unit or district (``MeasureView.role_of(org)``): for the
    office and analysts, and for the unit's own department or district users; any other caller, or an unknown
    organisation, answers :class:`NotFound`."""
    require_city(principal, city)
    with db.session() as session:
        orgs = _orgs_by_code(session, city, as_of)
        unit = orgs.get(org)
        if unit is None or not principal.acts_for_org(org, unit.region_code):
            raise NotFound("组织机构不存在 / organisation not found", code="org_unknown")
        views = [MeasureView.of(row, orgs) for row in store.measure_rows(session, city, as_of=as_of)]
        return [view for view in views if view.role_of(org) is not None]


# ---- the matrix: writes ----------------------------------------------------------------------------------

_MEASURE_EDITABLE = ("text_zh", "text_en", "lead", "co_units", "districts", "deadline", "milestones",
                     "indicators", "active")


def _check_units(measure_values: Mapping[str, Any], orgs: Mapping[str, GovOrg], *, file: str | None,
                 row: int | None) -> list[Problem]:
    problems: list[Problem] = []
    active = {code: org for code, org in orgs.items() if org.active}

    def unknown(code: str, column: str) -> None:
        problems.append(_problem(f"'{code}' is not an organisation of the registry",
                                 f"“{code}”不在组织机构名录中", file=file, row=row, field=column, value=code,
                                 suggestion=nearest(code, list(active))))

    lead = measure_values.get("lead")
    if lead and lead not in active:
        unknown(lead, "lead")
    for code in measure_values.get("co_units", ()):
        if code not in active:
            unknown(code, "co_units")
        elif code == lead:
            problems.append(_problem(f"'{code}' is the lead unit already", f"“{code}”已是牵头单位", file=file,
                                     row=row, field="co_units", value=code))
    for code in measure_values.get("districts", ()):
        if code not in active:
            unknown(code, "districts")
        elif OrgKind(active[code].kind) not in TERRITORIAL_KINDS:
            problems.append(_problem(f"'{code}' is not a district or pilot zone", f"“{code}”不是区市县或开放先导区",
                                     file=file, row=row, field="districts", value=code))
    return problems


def _parse_date(text: str, *, file: str | None, row: int | None, column: str,
                problems: list[Problem]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(_problem("a date is YYYY-MM-DD", "日期格式为 YYYY-MM-DD", file=file, row=row, field=column,
                                 value=text))
        return None


def _parse_text_milestones(value: Any, *, file: str | None, row: int | None,
                           problems: list[Problem]) -> dict[int, str]:
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        items = []
        for part in _text(value).replace("；", ";").split(";"):
            if part.strip():
                year, _, text = part.replace("：", ":").partition(":")
                items.append((year.strip(), text.strip()))
    out: dict[int, str] = {}
    for year, text in items:
        if not re.fullmatch(r"(19|20)\d\d", year) or not text:
            problems.append(_problem("milestones are written 2025:text; 2027:text", "年度节点写作 2025:内容; 2027:内容",
                                     file=file, row=row, field="milestones", value=f"{year}:{text}"))
            continue
        out[int(year)] = text
    return out


def _check_indicator(values: Mapping[str, Any], *, file: str | None, row: int | None,
                     problems: list[Problem]) -> Indicator | None:
    before = len(problems)

    def add(en: str, zh: str, column: str, value: Any = None) -> None:
        problems.append(_problem(en, zh, file=file, row=row, field=column, value=value))

    code = _text(values.get("code"))
    if not INDICATOR_CODE.match(code):
        add("the indicator code is lowercase letters, digits or '_'", "指标代码须为小写字母、数字或下划线", "code",
            code)
    name_zh = _text(values.get("name_zh"))
    if not name_zh:
        add("the indicator's Chinese name is required", "指标中文名称不能为空", "name_zh")
    unit = _text(values.get("unit"))
    if not unit or not is_unit(unit):
        add(f"unknown unit '{unit}' (e.g. MW, percent, count, 10^4 m^2)",
            f"单位“{unit}”无法识别 (如 MW, percent, count, 10^4 m^2)", "unit", unit)
    target: float | None = None
    if _text(values.get("target")):
        try:
            target = float(_text(values.get("target")).replace(",", ""))
            if not math.isfinite(target):
                raise ValueError
        except ValueError:
            add("the target value must be a number", "目标值须为数字", "target", values.get("target"))
    year: int | None = None
    if _text(values.get("year")):
        try:
            year = int(float(_text(values.get("year"))))
            if not 1990 <= year <= 2100:
                raise ValueError
        except ValueError:
            add("the year is a year between 1990 and 2100", "年份须在 1990–2100 之间", "year", values.get("year"))
    milestones: dict[int, float] = {}
    raw = values.get("milestones")
    try:
        milestones = ({int(k): float(v) for k, v in raw.items()} if isinstance(raw, Mapping)
                      else parse_milestones(raw))
    except (TypeError, ValueError):
        add("milestones are written 2025:16; 2030:25", "年度目标写作 2025:16; 2030:25", "milestones", raw)
    status = _text(values.get("status"))
    if status and status not in INDICATOR_STATUSES:
        add(f"status is one of {', '.join(INDICATOR_STATUSES)}", f"状态须为 {', '.join(INDICATOR_STATUSES)} 之一",
            "status", status)
    if len(problems) > before:
        return None
    return Indicator(code=code, name_zh=name_zh, name_en=_text(values.get("name_en")), unit=unit, target=target,
                     year=year, milestones=milestones, source=_text(values.get("source")), status=status)


def _measure_from(values: Mapping[str, Any], base: Measure, orgs: Mapping[str, GovOrg], *, file: str | None,
                  row: int | None, problems: list[Problem]) -> Measure:
    """``base`` with ``values`` applied and checked (problems appended)."""
    text_zh = _text(values.get("text_zh", base.text_zh))
    if not text_zh:
        problems.append(_problem("the measure's text is required", "措施内容不能为空", file=file, row=row,
                                 field="text_zh"))
    lead = _text(values.get("lead", base.lead)) or None
    co_units = _codes(values["co_units"]) if "co_units" in values else base.co_units
    districts = _codes(values["districts"]) if "districts" in values else base.districts
    if isinstance(values.get("co_units"), list | tuple):
        co_units = tuple(dict.fromkeys(_text(c) for c in values["co_units"] if _text(c)))
    if isinstance(values.get("districts"), list | tuple):
        districts = tuple(dict.fromkeys(_text(c) for c in values["districts"] if _text(c)))
    problems.extend(_check_units({"lead": lead, "co_units": co_units, "districts": districts}, orgs, file=file,
                                 row=row))
    deadline = (_parse_date(_text(values["deadline"]), file=file, row=row, column="deadline", problems=problems)
                if "deadline" in values else base.deadline)
    milestones = (_parse_text_milestones(values["milestones"], file=file, row=row, problems=problems)
                  if "milestones" in values else base.milestones)
    indicators = base.indicators
    if "indicators" in values:
        raw = values["indicators"]
        if not isinstance(raw, list | tuple):
            problems.append(_problem("indicators are a list", "指标须为列表", file=file, row=row, field="indicators"))
        else:
            found = [_check_indicator(item if isinstance(item, Mapping) else {}, file=file, row=row,
                                      problems=problems) for item in raw]
            indicators = tuple(i for i in found if i is not None)
            codes = [i.code for i in indicators]
            if len(set(codes)) != len(codes):
                problems.append(_problem("an indicator code appears twice", "指标代码重复", file=file, row=row,
                                         field="indicators"))
    return replace(base, text_zh=text_zh, text_en=_text(values.get("text_en", base.text_en)), lead=lead,
                   co_units=co_units, districts=districts, deadline=deadline, milestones=milestones,
                   indicators=indicators)


_MEASURE_FIELDS = ("text_zh", "text_en", "lead", "co_units", "districts", "deadline", "milestones", "indicators")


def _measure_changes(old: Measure, new: Measure) -> list[str]:
    return [name for name in _MEASURE_FIELDS if getattr(old, name) != getattr(new, name)]


def edit_measure(db: Database, principal: Principal, city: str, code: str, changes: Mapping[str, Any], *,
                 reason: str) -> MeasureView:
    """Change a measure (the office only): text, lead unit, co-units and districts (current organisations of the
    registry; districts of the kinds district or pilot zone), deadline, yearly milestones, indicators (codes,
    names, pint units, targets), or ``active``. A new version, audited with ``reason`` (required)."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        orgs = _orgs_by_code(session, city)
        row = next((r for r in store.measure_rows(session, city, include_inactive=True) if r.code == code), None)
        if row is None:
            raise NotFound("措施不存在 / measure not found", code="measure_unknown")
        problems = _edit_problems(changes, _MEASURE_EDITABLE, reason)
        measure = _measure_from(changes, store.measure_of(row), orgs, file=None, row=None, problems=problems)
        if problems:
            raise InputError(problems)
        active = bool(changes.get("active", row.active))
        written = store.put_measure(session, city, measure, actor=principal, reason=reason.strip(), source="edit",
                                    active=active)
        return MeasureView.of(written if written is not None else row, orgs)


def import_matrix(db: Database, principal: Principal, city: str, content: bytes, filename: str, *,
                  apply: bool = False, reason: str = "") -> ImportReport:
    """Import the responsibility matrix from an Excel workbook (the office only): sheet 措施, one row per measure
    (``code`` T05-M02, ``task``, ``text_zh``, ``lead``, ``co_units`` and ``districts`` as ``;``-separated
    registry codes, ``deadline``, ``milestones`` 2025:text; …), and, optionally, sheet 指标 with the indicators
    (``measure``, ``code``, ``name_zh``, ``unit`` (pint), ``target``, ``year``, ``milestones`` 2025:16; …,
    ``status``, ``source``). Each measure of the file becomes a new version where it changes (with the file's
    indicators when the 指标 sheet is there, else keeping its own); measures the file does not name are kept.
    All-or-nothing; ``apply=False`` previews."""
    _require_office(principal, city)
    if not content.startswith(b"PK"):
        raise InputError(_problem("the matrix is imported from an Excel workbook (.xlsx; see the template)",
                                  "责任清单须以 Excel 工作簿 (.xlsx) 导入, 请使用模板", file=filename))
    measure_rows = read_upload(content, filename, sheet=MEASURE_SHEET, columns=MATRIX_MEASURE_COLUMNS,
                               required=MATRIX_MEASURE_REQUIRED)
    indicator_rows = read_upload_sheet(content, filename, sheet=INDICATOR_SHEET, columns=MATRIX_INDICATOR_COLUMNS,
                                       required=MATRIX_INDICATOR_REQUIRED, optional_sheet=True)
    has_indicators = indicator_rows is not None
    indicator_file = f"{filename} [{INDICATOR_SHEET}]"
    measure_file = f"{filename} [{MEASURE_SHEET}]"
    with db.session(write=apply) as session:
        orgs = _orgs_by_code(session, city)
        stored = {row.code: row for row in store.measure_rows(session, city, include_inactive=True)}
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        parsed: list[tuple[int, Measure]] = []
        for number, values in measure_rows:
            code = values.get("code", "")
            match = MEASURE_CODE.match(code)
            if not match:
                problems.append(_problem("a measure code is written T05-M02 (task, sequence)",
                                         "措施编号写作 T05-M02 (任务号-序号)", file=measure_file, row=number,
                                         field="code", value=code))
                continue
            if code in seen:
                problems.append(_problem(f"the code '{code}' is also on row {seen[code]}",
                                         f"编号“{code}”与第 {seen[code]} 行重复", file=measure_file, row=number,
                                         field="code", value=code))
                continue
            seen[code] = number
            task = int(match.group(1))
            if values.get("task", "") != str(task):
                problems.append(_problem(f"the task must be {task}, the task of code {code}",
                                         f"任务号应为 {task} (与编号 {code} 一致)", file=measure_file, row=number,
                                         field="task", value=values.get("task")))
            base = (store.measure_of(stored[code]) if code in stored else
                    Measure(code=code, task=task, seq=int(match.group(2)), text_zh=""))
            fields = {key: values.get(key, "") for key in MATRIX_MEASURE_COLUMNS if key not in ("code", "task")}
            parsed.append((number, _measure_from(fields, base, orgs, file=measure_file, row=number,
                                                 problems=problems)))
        indicators: dict[str, list[Indicator]] = {}
        for number, values in indicator_rows or []:
            owner = values.get("measure", "")
            if owner not in seen:
                problems.append(_problem(f"the measure '{owner}' is not on sheet {MEASURE_SHEET}",
                                         f"措施“{owner}”不在“{MEASURE_SHEET}”表中", file=indicator_file, row=number,
                                         field="measure", value=owner))
                continue
            indicator = _check_indicator(values, file=indicator_file, row=number, problems=problems)
            if indicator is None:
                continue
            if any(i.code == indicator.code for i in indicators.get(owner, [])):
                problems.append(_problem(f"the indicator '{indicator.code}' of {owner} is there twice",
                                         f"措施 {owner} 的指标“{indicator.code}”重复", file=indicator_file,
                                         row=number, field="code", value=indicator.code))
                continue
            indicators.setdefault(owner, []).append(indicator)
        if problems:
            raise InputError(problems)
        report: list[ImportChange] = []
        final: list[Measure] = []
        for number, parsed_measure in parsed:
            new = (replace(parsed_measure, indicators=tuple(indicators.get(parsed_measure.code, [])))
                   if has_indicators else parsed_measure)
            final.append(new)
            current = stored.get(new.code)
            changed = _measure_changes(store.measure_of(current), new) if current is not None else []
            if current is not None and not current.active:
                changed.append("active")
            action = "create" if current is None else "update" if changed else "unchanged"
            report.append(ImportChange(new.code, action, changed if action == "update" else [], number))
        if apply:
            why = (reason or "").strip() or f"import {filename}"
            for new in final:
                store.put_measure(session, city, new, actor=principal, reason=why, source=f"import: {filename}")
        kept = [code for code, row in stored.items() if row.active and code not in seen]
        return ImportReport(filename, apply, report, kept)


# ---- reading an uploaded table ---------------------------------------------------------------------------

def _header_name(cell: Any) -> str:
    """The column name of a header cell: the text before a bracket (``target (见 unit 列)`` → ``target``)."""
    text = _text(cell)
    for bracket in (" (", "(", "（"):
        text = text.split(bracket, 1)[0]
    return text.strip().lower()


Rows = list[tuple[int, dict[str, str]]]


def read_upload(content: bytes, filename: str, *, sheet: str, columns: Sequence[str],
                required: Sequence[str]) -> Rows:
    """The rows of an uploaded table (:func:`read_upload_sheet`); the sheet is required."""
    rows = read_upload_sheet(content, filename, sheet=sheet, columns=columns, required=required)
    assert rows is not None
    return rows


def read_upload_sheet(content: bytes, filename: str, *, sheet: str, columns: Sequence[str],
                      required: Sequence[str], optional_sheet: bool = False) -> Rows | None:
    """The rows of an uploaded CSV (UTF-8 or GB 18030) or Excel file as (spreadsheet row number, {column: text});
    the header is row 1. In a workbook the sheet named ``sheet`` is read (else the first sheet that is not the
    说明 sheet); ``optional_sheet``: None when the workbook has no such sheet. Unknown columns are ignored; a
    missing required column is an :class:`InputError` naming it."""
    if len(content) > MAX_FILE_BYTES:
        raise InputError(_problem(f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB",
                                  f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB", file=filename))
    where = filename
    if content.startswith(b"PK"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise InputError(_problem("the file is not a readable Excel workbook", "文件不是可读取的 Excel 工作簿",
                                      file=filename)) from None
        if sheet in workbook.sheetnames:
            chosen = workbook[sheet]
        elif optional_sheet:
            return None
        else:
            others = [name for name in workbook.sheetnames if name not in (INFO_SHEET, "codelists")]
            if not others:
                raise InputError(_problem(f"the workbook has no sheet '{sheet}'", f"工作簿中没有“{sheet}”工作表",
                                          file=filename))
            chosen = workbook[others[0]]
        where = f"{filename} [{chosen.title}]" if sheet != ORG_SHEET or chosen.title != ORG_SHEET else filename
        grid = [list(row) for row in chosen.iter_rows(values_only=True)]
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                raise InputError(_problem("the file is neither UTF-8 nor GB 18030 text",
                                          "文件编码不是 UTF-8 或 GB 18030", file=filename)) from None
        grid = [list(row) for row in csv.reader(io.StringIO(text))]
    if not grid or not any(_text(cell) for cell in grid[0]):
        raise InputError(_problem("the file has no header row", "文件缺少表头行", file=where, row=1))
    header = [_header_name(cell) for cell in grid[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError([_problem(f"the column '{name}' is missing", f"缺少“{name}”列", file=where, row=1,
                                   field=name) for name in missing])
    index = {name: header.index(name) for name in columns if name in header}
    out = []
    for number, cells in enumerate(grid[1:], start=2):
        values = {name: _text(cells[i]) if i < len(cells) else "" for name, i in index.items()}
        if any(values.values()):
            out.append((number, values))
    return out


# ---- workbooks (template and export) ---------------------------------------------------------------------

_ORG_NOTES = {
    "code": ("代码: 小写字母、数字、下划线 (如 drc, d210202)", "code: lowercase letters, digits, '_'"),
    "name_zh": ("中文全称 (必填)", "Chinese name (required)"),
    "name_en": ("英文名称", "English name"),
    "kind": ("类型: 从下拉列表选择", "kind: choose from the drop-down"),
    "parent": ("上级单位代码 (须在名录中)", "parent's code (must be in the registry)"),
    "region_code": ("行政区划代码 GB/T 2260 (区市县必填; 开放先导区可填所在区)",
                    "GB/T 2260 region code (districts: required; pilot zones: optional)"),
    "short_zh": ("简称", "short name"),
}
_MEASURE_NOTES = {
    "code": ("措施编号 T05-M02 (任务号-序号)", "measure code T05-M02"),
    "task": ("任务号 (1–31, 与编号一致)", "task number (as in the code)"),
    "text_zh": ("措施内容 (必填)", "the measure's text (required)"),
    "lead": ("牵头单位代码 (从下拉列表选择)", "lead unit's code (drop-down)"),
    "co_units": ("配合单位代码, 以 ; 分隔", "co-units' codes, separated by ;"),
    "districts": ("责任区市县/先导区代码, 以 ; 分隔", "districts' or pilot zones' codes, separated by ;"),
    "deadline": ("完成时限 YYYY-MM-DD", "deadline YYYY-MM-DD"),
    "milestones": ("年度节点: 2025:内容; 2027:内容", "yearly milestones: 2025:text; 2027:text"),
    "text_en": ("英文译文", "English text"),
}
_INDICATOR_NOTES = {
    "measure": ("所属措施编号 (须在“措施”表中)", "the measure's code (on sheet 措施)"),
    "code": ("指标代码: 小写字母、数字、下划线", "indicator code"),
    "name_zh": ("指标名称 (必填)", "indicator name (required)"),
    "name_en": ("英文名称", "English name"),
    "unit": ("单位 (如 MW, percent, count, 10^4 m^2)", "unit (pint: MW, percent, count, 10^4 m^2)"),
    "target": ("目标值, 单位见 unit 列; 方案未给出的留空", "target in 'unit'; empty where the plan gives none"),
    "year": ("目标年份", "target year"),
    "milestones": ("年度目标: 2025:16; 2030:25 (单位同 unit)", "yearly milestones in 'unit': 2025:16; 2030:25"),
    "status": ("verified / secondary-source / unverified / estimate", "how sure the value is"),
    "source": ("来源 (方案条款、文件)", "source (clause of the plan, document)"),
}
_HEADERS_WITH_UNITS = {"target": "target (单位见 unit 列 / see unit)", "deadline": "deadline (YYYY-MM-DD)",
                       "milestones": "milestones (年份:值 / year:value)"}


def _info_sheet(workbook: Any, title: str, lines: Sequence[tuple[str, str]],
                notes: Mapping[str, Mapping[str, tuple[str, str]]]) -> None:
    from openpyxl.styles import Font

    info = workbook.active
    info.title = INFO_SHEET
    info.append([title, ""])
    info["A1"].font = Font(bold=True, size=14)
    info.append([])
    for line in lines:
        info.append(list(line))
    for sheet_name, columns in notes.items():
        info.append([])
        info.append([sheet_name, ""])
        info.cell(row=info.max_row, column=1).font = Font(bold=True)
        for name, (zh, en) in columns.items():
            info.append([f"{name}: {zh}", f"{name}: {en}"])
    info.column_dimensions["A"].width = 70
    info.column_dimensions["B"].width = 70


def _data_sheet(workbook: Any, title: str, columns: Sequence[str], notes: Mapping[str, tuple[str, str]],
                rows: Iterable[Sequence[Any]], lists: Mapping[str, str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = workbook.create_sheet(title)
    sheet.append([_HEADERS_WITH_UNITS.get(name, name) for name in columns])
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        zh, en = notes.get(name, (name, name))
        cell.comment = Comment(f"{zh}\n{en}", "citycarbon", width=320, height=100)
        sheet.column_dimensions[cell.column_letter].width = 40 if name.startswith("text") else 16
        if name in lists:
            validation = DataValidation(type="list", formula1=lists[name], allow_blank=True, showErrorMessage=True,
                                        errorTitle="无效值 / invalid value",
                                        error=f"请从下拉列表选择 / choose a valid {name}")
            validation.add(f"{cell.column_letter}2:{cell.column_letter}5000")
            sheet.add_data_validation(validation)
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"


def _lists_sheet(workbook: Any, lists: Mapping[str, Sequence[str]]) -> dict[str, str]:
    sheet = workbook.create_sheet("codelists")
    ranges = {}
    for index, (name, values) in enumerate(lists.items(), start=1):
        letter = sheet.cell(row=1, column=index, value=name).column_letter
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=index, value=value)
        ranges[name] = f"codelists!${letter}$2:${letter}${max(len(values), 1) + 1}"
    sheet.sheet_state = "hidden"
    return ranges


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def orgs_workbook(db: Database, principal: Principal, city: str, *, filled: bool = True) -> Download:
    """The organisation registry as an Excel workbook in the import layout (说明 sheet, the 组织机构 sheet with a
    note on every header and a drop-down of the kinds): the current registry (``filled``) or an empty template.
    What it holds is what :func:`list_orgs` shows the caller."""
    from openpyxl import Workbook

    views = list_orgs(db, principal, city) if filled else []
    workbook = Workbook()
    _info_sheet(workbook, "组织机构名录导入模板 / organisation registry template", [
        ("每行一个单位; 代码唯一, 已有代码的行修改该单位 (保留历史版本), 新代码新增单位。",
         "One unit per row; a known code changes that unit (history kept), a new code adds one."),
        ("文件中未列出的单位保持不变; 停用单位请在平台上操作。",
         "Units the file does not list are kept; deactivate a unit in the platform."),
        ("导入时整表校验, 有任何错误则整体不导入, 错误信息注明文件、行号 (表头为第 1 行) 与字段。",
         "The whole file is validated; any error rejects it whole, naming file, row (header = row 1) and field."),
        ("类型: leading_group 领导小组, office 领导小组办公室, department 成员部门, district 区市县, "
         "pilot_zone 开放先导区, enterprise 企业。",
         "kind: leading_group, office, department, district, pilot_zone, enterprise."),
    ], {ORG_SHEET: _ORG_NOTES})
    lists = _lists_sheet(workbook, {"kind": [k.value for k in OrgKind]})
    _data_sheet(workbook, ORG_SHEET, ORG_COLUMNS, _ORG_NOTES,
                ([v.code, v.name_zh, v.name_en, v.kind, v.parent or "", v.region_code or "", v.short_zh or ""]
                 for v in views), lists)
    name = f"{city}-organisations{'' if filled else '-template'}.xlsx"
    return Download(name, _save(workbook))


def matrix_workbook(db: Database, principal: Principal, city: str, *, filled: bool = True) -> Download:
    """The responsibility matrix as an Excel workbook in the import layout: 说明, 措施 (one row per measure, a
    drop-down of the registry's codes for the lead unit), 指标 (one row per indicator, its unit in its own
    column). ``filled``: the measures the caller may read (:func:`list_measures`); else an empty template."""
    from openpyxl import Workbook

    views = list_measures(db, principal, city) if filled else []
    org_codes = [o.code for o in list_orgs(db, principal, city)]
    workbook = Workbook()
    _info_sheet(workbook, "责任清单导入模板 / responsibility matrix template", [
        ("“措施”表每行一项措施, 编号 T05-M02 (任务号-序号); 已有编号的行修改该措施 (保留历史版本), 新编号新增措施。",
         "Sheet 措施: one measure per row, code T05-M02; a known code changes it (history kept), a new one adds it."),
        ("牵头单位、配合单位、责任区市县填写组织机构名录中的代码, 多个以 ; 分隔。",
         "lead, co_units and districts are codes of the organisation registry, several separated by ';'."),
        ("“指标”表每行一个量化指标, 单位写在 unit 列 (如 MW, percent, count, 10^4 m^2); 方案未给出的数值留空。",
         "Sheet 指标: one quantitative indicator per row, its unit in 'unit'; leave values the plan does not give "
         "empty."),
        ("有“指标”表时, 文件中每项措施的指标以该表为准; 无“指标”表时保留原有指标。文件中未列出的措施保持不变。",
         "With a 指标 sheet, each measure of the file gets exactly its indicators there; without it, measures keep "
         "theirs. Measures the file does not list are kept."),
        ("导入时整表校验, 有任何错误则整体不导入, 错误信息注明工作表、行号 (表头为第 1 行) 与字段。",
         "The whole workbook is validated; any error rejects it whole, naming sheet, row (header = row 1) and "
         "field."),
    ], {MEASURE_SHEET: _MEASURE_NOTES, INDICATOR_SHEET: _INDICATOR_NOTES})
    lists = _lists_sheet(workbook, {"lead": org_codes, "status": list(INDICATOR_STATUSES)})
    _data_sheet(workbook, MEASURE_SHEET, MATRIX_MEASURE_COLUMNS, _MEASURE_NOTES,
                ([v.code, v.task, v.text_zh, v.lead or "", "; ".join(v.co_units), "; ".join(v.districts),
                  v.deadline or "", "; ".join(f"{y}:{t}" for y, t in v.milestones.items()), v.text_en]
                 for v in views), {"lead": lists["lead"]})
    _data_sheet(workbook, INDICATOR_SHEET, MATRIX_INDICATOR_COLUMNS, _INDICATOR_NOTES,
                ([v.code, i["code"], i["name_zh"], i["name_en"], i["unit"], i["target"], i["year"],
                  format_milestones({int(y): float(x) for y, x in i["milestones"].items()}), i["status"],
                  i["source"]] for v in views for i in v.indicators), {"status": lists["status"]})
    name = f"{city}-responsibility-matrix{'' if filled else '-template'}.xlsx"
    return Download(name, _save(workbook))

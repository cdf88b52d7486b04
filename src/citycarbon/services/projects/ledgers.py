"""The replacement ledgers (产能置换 / 能耗等量或减量替代) as use cases (issue 15 item 3 and the ledger parts of 7).

**Sources** are what a closure or a saving freed: retired *capacity* of one product (plant, production unit,
product, capacity with its unit, retirement date, the 文号 of the closure, district) or *energy*-consumption room
(an amount in an energy unit, its origin: a closure or a saving, the document and date). **Allocations** give part
of a source to a project. The office (:meth:`~citycarbon.auth.principal.Principal.can_review_projects`) adds,
edits (while nothing was ever allocated from the source), imports, allocates and releases; the office, analysts
and the member departments read every source, a district user its district's (another district's source answers
404, the list leaves it out); viewers and enterprise users see none (an empty list, 404).

Allocation is atomic (:func:`citycarbon.store.projects.allocate`): the source's balance is read with its
``version`` and the version bumped with a conditional update, so of two allocations racing for the same balance
exactly one is written; the other is retried on a fresh read (:data:`ATTEMPTS` times) and then answers what the
ledger says now: :class:`~citycarbon.projects.ledger.Refused` (409, over-spend) when the balance is gone. Amounts
are :class:`~decimal.Decimal` in the source's unit: ``remaining + Σ live allocations == amount`` exactly.

**Coverage** (:func:`coverage`): what a project needs (the ``replacement.energy`` finding's ``required`` tce and
each ``replacement.capacity`` finding's retired capacity of :func:`citycarbon.services.projects.evaluate.evaluate`)
against what it holds (live allocations converted to tce, or to the product line's capacity unit). The workflow's
approval calls :func:`coverage` (or :func:`require_covered`) inside its own transaction and refuses an approval
whose replacement is not covered.

Every write is audited in its transaction (entities ``ledger_source`` and ``ledger_allocation``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.projects import ledger
from citycarbon.services.cities import require_city
from citycarbon.services.governance.registry import MAX_FILE_BYTES, XLSX_MEDIA_TYPE, Download, read_upload
from citycarbon.store import audit
from citycarbon.store import projects as store
from citycarbon.store.db import Database
from citycarbon.store.project_models import ProjLedgerAllocation, ProjLedgerSource, ProjProject
from citycarbon.units import UnitError, conversion_factor, is_unit, same_dimension

if TYPE_CHECKING:
    from citycarbon.services.projects.evaluate import Evaluation

__all__ = [
    "ALLOCATABLE_STATES",
    "ATTEMPTS",
    "MAX_FILE_BYTES",
    "SOURCE_COLUMNS",
    "XLSX_MEDIA_TYPE",
    "AllocationResult",
    "AllocationView",
    "Coverage",
    "Download",
    "ImportReport",
    "Need",
    "ProjectAllocations",
    "SourceView",
    "add_source",
    "allocate",
    "coverage",
    "edit_source",
    "get_source",
    "import_sources",
    "list_sources",
    "project_allocations",
    "release",
    "release_project",
    "require_covered",
    "sources_workbook",
]

#: the workflow states of a project that may receive replacement (filed and not decided against: before the
#: decision, or approved — an approval with conditions may be covered after it); never a draft, a rejected, a
#: withdrawn or an accepted (验收) project
ALLOCATABLE_STATES: tuple[str, ...] = ("submitted", "incomplete", "under_review", "approved", "approved_conditions")
#: how many times an allocation that lost a race (StaleVersion) is tried again on a fresh read
ATTEMPTS = 10
ORIGINS: tuple[str, ...] = ("closure", "saving", "other")
ENERGY_UNIT = "tce"
SOURCE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: the columns of the ledger workbook (one sheet, both kinds)
SOURCE_COLUMNS: tuple[str, ...] = ("code", "kind", "amount", "unit", "product", "plant", "unit_name",
                                   "region_code", "retired_on", "document", "origin", "notes")
SOURCE_REQUIRED = ("code", "kind", "amount", "unit")
SHEET = "替代来源"
_EDITABLE = frozenset(SOURCE_COLUMNS) - {"code"}


# ---- views ---------------------------------------------------------------------------------------------

def _num(value: Decimal) -> str:
    """A Decimal as plain text (no exponent): 3506, 0.5, 12000."""
    text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return text


@dataclass(frozen=True)
class AllocationView:
    """One allocation: ``amount`` in the source's unit (and as asked for), its project, and its release."""

    id: int
    source: str
    source_kind: str
    project_code: str
    project_name: str
    amount: str
    unit: str
    requested_amount: str
    requested_unit: str
    created_at: str
    created_by: str
    note: str
    released_at: str | None
    released_by: str | None

    @property
    def live(self) -> bool:
        return self.released_at is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "live": self.live}


@dataclass(frozen=True)
class SourceView:
    """A source with its balance: ``amount``, ``allocated`` (live allocations) and ``remaining``, in ``unit``."""

    code: str
    kind: str
    amount: str
    unit: str
    allocated: str
    remaining: str
    product: str | None
    plant: str | None
    unit_name: str | None
    region_code: str | None
    retired_on: str | None
    document: str | None
    origin: str
    notes: str
    version: int
    created_by: str
    allocations: list[AllocationView] = field(default_factory=list)

    @property
    def remaining_decimal(self) -> Decimal:
        return Decimal(self.remaining)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["allocations"] = [a.to_dict() for a in self.allocations]
        return out


@dataclass(frozen=True)
class Need:
    """One replacement a project needs: ``kind`` energy (tce) or capacity (of ``product``, in the product line's
    unit); ``required`` as the rule computed it (float), ``allocated`` what live allocations give (Decimal,
    converted); ``covered`` when allocated ≥ required."""

    kind: str
    product: str | None
    unit: str
    required: float
    allocated: Decimal
    document: str | None = None

    @property
    def covered(self) -> bool:
        return self.allocated >= Decimal(repr(self.required))

    @property
    def shortfall(self) -> Decimal:
        return max(Decimal(repr(self.required)) - self.allocated, Decimal(0))

    @property
    def required_display(self) -> str:
        """``required`` rounded up to 0.01 (allocating the shown number covers the need)."""
        return _num(Decimal(repr(self.required)).quantize(Decimal("0.01"), rounding=ROUND_CEILING))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "product": self.product, "unit": self.unit, "required": self.required,
                "required_display": self.required_display, "allocated": _num(self.allocated),
                "shortfall": _num(self.shortfall), "covered": self.covered, "document": self.document}


def _product_zh(product: str | None) -> str:
    """A product's Chinese name (the benchmark table's), never its code, in Chinese messages."""
    from citycarbon.projects.rules import label_zh
    from citycarbon.services.projects.evaluate import gate_tables

    tables = gate_tables()
    return label_zh(product or "", tables.benchmarks, tables.plan_types)


@dataclass(frozen=True)
class Coverage:
    """A project's replacement needs against its live allocations. ``covered``: every need is met (a project
    that needs no replacement is covered)."""

    project_code: str
    needs: list[Need]

    @property
    def covered(self) -> bool:
        return all(n.covered for n in self.needs)

    def shortfalls(self) -> list[Need]:
        return [n for n in self.needs if not n.covered]

    def message_zh(self) -> str:
        parts = [f"{'能耗替代' if n.kind == 'energy' else _product_zh(n.product) + '产能置换'}须 "
                 f"{n.required_display} {n.unit}，已落实 {_num(n.allocated)} {n.unit}，"
                 f"尚缺 {_num(n.shortfall)} {n.unit}" for n in self.shortfalls()]
        return "；".join(parts)

    def message_en(self) -> str:
        parts = [f"{'energy replacement' if n.kind == 'energy' else f'{n.product} capacity replacement'} needs "
                 f"{n.required_display} {n.unit}, {_num(n.allocated)} {n.unit} allocated, {_num(n.shortfall)} "
                 f"{n.unit} short" for n in self.shortfalls()]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project_code, "covered": self.covered, "needs": [n.to_dict() for n in self.needs]}


@dataclass(frozen=True)
class ProjectAllocations:
    """What a project has been allocated (live and released) and whether it covers what the rules require."""

    project_code: str
    project_name: str
    state: str
    allocatable: bool
    allocations: list[AllocationView]
    coverage: Coverage

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project_code, "name": self.project_name, "state": self.state,
                "allocatable": self.allocatable, "allocations": [a.to_dict() for a in self.allocations],
                "coverage": self.coverage.to_dict()}


@dataclass(frozen=True)
class AllocationResult:
    """An allocation (or its release) and the source's new balance."""

    allocation: AllocationView
    source: SourceView

    def to_dict(self) -> dict[str, Any]:
        return {"allocation": self.allocation.to_dict(), "source": self.source.to_dict()}


@dataclass(frozen=True)
class ImportReport:
    filename: str
    applied: bool
    created: list[str]
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- rules ---------------------------------------------------------------------------------------------

def _require_office(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_review_projects(city):
        raise Forbidden("只有节能审查办公室可以管理替代台账 / only the office (administrators with write access) "
                        "manages the replacement ledgers", code="ledger_office")


def _reads_ledgers(principal: Principal, city: str) -> bool:
    """The office, analysts, departments and district users read the ledgers; viewers and enterprise users see
    no source (an empty list, 404 for one: the ledgers are the review's working papers)."""
    require_city(principal, city)
    return principal.city_wide or principal.role in (Role.department, Role.district)


def _may_see(principal: Principal, row: ProjLedgerSource) -> bool:
    if not (principal.city_wide or principal.role in (Role.department, Role.district)):
        return False
    if principal.role is Role.district:
        return row.region_code is not None and row.region_code in principal.regions
    return True


def _problem(en: str, zh: str, **where: Any) -> Problem:
    return Problem(en, message_zh=zh, **where)


def _products() -> frozenset[str]:
    from citycarbon.services.projects.evaluate import gate_tables

    tables = gate_tables()
    return frozenset({b.product for b in tables.benchmarks} | {r.sector for r in tables.replacement})


def _districts(session: Session, city: str) -> dict[str, str]:
    from citycarbon.store import cities as store_cities
    from citycarbon.tracking.districts import district_codes

    record = store_cities.plan_record(session, city)
    if record is None:
        raise NotFound("城市不存在 / city not found", code="city_unknown")
    return {code: info["name_zh"] for code, info in district_codes(record.region_code).items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _check_source(values: Mapping[str, Any], *, districts: Mapping[str, str], file: str | None = None,
                  row: int | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """The stored columns of a source from ``values`` (text), and what is wrong with them."""
    problems: list[Problem] = []

    def add(en: str, zh: str, column: str, value: Any = None) -> None:
        problems.append(_problem(en, zh, file=file, row=row, field=column, value=value))

    text = {k: _text(values.get(k)) for k in SOURCE_COLUMNS}
    code, kind = text["code"], text["kind"]
    if not SOURCE_CODE.match(code):
        add(f"the code '{code}' must be 1–64 letters, digits, '-', '_' or '.'",
            f"编号“{code}”须为 1–64 位字母、数字或 - _ .", "code", code)
    if kind not in ledger.KINDS:
        add(f"kind '{kind}' must be capacity or energy", f"类型“{kind}”须为 capacity（产能）或 energy（能耗）",
            "kind", kind)
    amount: Decimal | None = None
    try:
        amount = Decimal(text["amount"])
    except (InvalidOperation, ValueError):
        add(f"amount '{text['amount']}' is not a number", f"数量“{text['amount']}”不是数值", "amount", text["amount"])
    if amount is not None and (not amount.is_finite() or amount <= 0):
        add(f"amount '{text['amount']}' must be a number > 0", f"数量“{text['amount']}”须大于 0", "amount",
            text["amount"])
        amount = None
    unit = text["unit"]
    if not is_unit(unit):
        add(f"unit '{unit}' cannot be parsed (e.g. tce, 10^4 tce, t/a, 10^4 t/a)",
            f"无法识别的单位“{unit}”（如 tce、10^4 tce、t/a、10^4 t/a）", "unit", unit)
    elif kind == "energy" and not same_dimension(unit, ENERGY_UNIT):
        add(f"unit '{unit}' is not an energy unit (tce)", f"单位“{unit}”不是能量单位（如 tce）", "unit", unit)
    product = text["product"] or None
    if kind == "capacity":
        if product is None:
            add("retired capacity needs its product", "退出产能须注明产品", "product")
        elif product not in _products():
            add(f"product '{product}' is not in efficiency_benchmarks.csv nor a capacity-replacement sector",
                f"产品“{product}”不在能效标杆表或产能置换行业中", "product", product)
        if not text["retired_on"]:
            add("retired capacity needs its retirement date", "退出产能须填写退出日期", "retired_on")
        if not text["document"]:
            add("retired capacity needs the 文号 of its closure", "退出产能须填写关停文号", "document")
    origin = text["origin"] or ("closure" if kind == "capacity" else "")
    if kind == "energy":
        if origin not in ORIGINS:
            add(f"origin '{origin}' must be closure, saving or other", f"来源“{origin}”须为 closure（关停）、"
                "saving（节能量）或 other", "origin", origin)
        if not text["document"]:
            add("energy room needs its document", "能耗指标须填写依据文件", "document")
    retired: date | None = None
    if text["retired_on"]:
        try:
            retired = date.fromisoformat(text["retired_on"][:10])
        except ValueError:
            add(f"'{text['retired_on']}' is not a date (YYYY-MM-DD)", f"“{text['retired_on']}”不是日期（YYYY-MM-DD）",
                "retired_on", text["retired_on"])
    region = text["region_code"] or None
    if region is not None and region not in districts:
        add(f"region '{region}' is not a district of the city", f"“{region}”不是本市的区市县代码", "region_code",
            region)
    if kind == "capacity" and region is None:
        add("retired capacity needs its district (GB/T 2260)", "退出产能须填写所在区市县", "region_code")
    stored = {"code": code, "kind": kind, "amount": None if amount is None else _num(amount), "unit": unit,
              "product": product if kind == "capacity" else None, "plant": text["plant"] or None,
              "unit_name": text["unit_name"] or None, "region_code": region, "retired_on": retired,
              "document": text["document"] or None, "origin": origin or "other", "notes": text["notes"]}
    return stored, problems


def _source_row(session: Session, city: str, code: str) -> ProjLedgerSource | None:
    return session.scalars(select(ProjLedgerSource).where(ProjLedgerSource.city == city,
                                                          ProjLedgerSource.code == code)
                           .execution_options(populate_existing=True)).one_or_none()


def _allocation_views(session: Session, rows: Sequence[ProjLedgerAllocation]) -> list[AllocationView]:
    sources = {s.id: s for s in session.scalars(select(ProjLedgerSource).where(
        ProjLedgerSource.id.in_({r.source_id for r in rows})))} if rows else {}
    projects = {p.id: p for p in session.scalars(select(ProjProject).where(
        ProjProject.id.in_({r.project_id for r in rows})))} if rows else {}
    out = []
    for r in rows:
        source, project = sources[r.source_id], projects[r.project_id]
        out.append(AllocationView(int(r.id), source.code, source.kind, project.code, project.name, r.amount, r.unit,
                                  r.requested_amount, r.requested_unit, r.created_at.isoformat(), r.created_by,
                                  r.note, None if r.released_at is None else r.released_at.isoformat(),
                                  r.released_by))
    return out


def _view(session: Session, row: ProjLedgerSource) -> SourceView:
    rows = list(session.scalars(select(ProjLedgerAllocation).where(ProjLedgerAllocation.source_id == row.id)
                                .order_by(ProjLedgerAllocation.id)))
    allocated = sum((Decimal(a.amount) for a in rows if a.released_at is None), Decimal(0))
    amount = Decimal(row.amount)
    return SourceView(row.code, row.kind, row.amount, row.unit, _num(allocated), _num(amount - allocated),
                      row.product, row.plant, row.unit_name, row.region_code,
                      None if row.retired_on is None else row.retired_on.isoformat(), row.document, row.origin,
                      row.notes, int(row.version), row.created_by, _allocation_views(session, rows))


def _snapshot(row: ProjLedgerSource) -> dict[str, Any]:
    return {c: (v.isoformat() if isinstance(v := getattr(row, c), date) else v) for c in (*SOURCE_COLUMNS,
                                                                                        "version")}


# ---- sources -------------------------------------------------------------------------------------------

def list_sources(db: Database, principal: Principal, city: str, *, kind: str | None = None) -> list[SourceView]:
    """The sources the caller may read (a district user: its districts'), by kind and code, with balances."""
    if not _reads_ledgers(principal, city):
        return []
    with db.session() as session:
        query = select(ProjLedgerSource).where(ProjLedgerSource.city == city)
        if kind:
            query = query.where(ProjLedgerSource.kind == kind)
        rows = [r for r in session.scalars(query.order_by(ProjLedgerSource.kind, ProjLedgerSource.code))
                if _may_see(principal, r)]
        return [_view(session, r) for r in rows]


def get_source(db: Database, principal: Principal, city: str, code: str) -> SourceView:
    """One source with its balance and allocations; another district's (or none) answers 404."""
    require_city(principal, city)
    with db.session() as session:
        row = _source_row(session, city, code)
        if row is None or not _may_see(principal, row):
            raise NotFound("替代来源不存在 / ledger source not found", code="ledger_source_unknown")
        return _view(session, row)


def add_source(db: Database, principal: Principal, city: str, values: Mapping[str, Any]) -> SourceView:
    """Add a source (the office only). ``values``: the columns of :data:`SOURCE_COLUMNS`; a capacity source
    needs product (of the benchmark table or a replacement sector), retirement date, 文号 and district; energy
    room its origin (closure, saving, other) and document. Bad values: 422 naming the field; a code already
    used: 409."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        stored, problems = _check_source(values, districts=_districts(session, city))
        if problems:
            raise InputError(problems)
        if _source_row(session, city, stored["code"]) is not None:
            raise Conflict(f"编号 {stored['code']} 已存在 / the source code '{stored['code']}' is already used",
                           code="ledger_source_exists")
        row = ProjLedgerSource(city=city, created_by=principal.username, version=1, **stored)
        session.add(row)
        session.flush()
        audit.record(session, principal, "ledger_source.add", "ledger_source", f"{city}:{row.code}", None,
                     _snapshot(row))
        return _view(session, row)


def edit_source(db: Database, principal: Principal, city: str, code: str, changes: Mapping[str, Any], *,
                reason: str) -> SourceView:
    """Change a source (the office only, with a reason) while nothing was ever allocated from it (once an
    allocation exists, live or released, the source is fixed: 409 ``ledger_source_used``)."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        row = _source_row(session, city, code)
        if row is None:
            raise NotFound("替代来源不存在 / ledger source not found", code="ledger_source_unknown")
        problems = []
        unknown = sorted(set(changes) - _EDITABLE)
        if unknown:
            problems.append(_problem(f"fields that cannot be changed: {', '.join(unknown)}",
                                     f"以下字段不能修改：{', '.join(unknown)}", field=unknown[0]))
        if not (reason or "").strip():
            problems.append(_problem("give the reason for the change", "请填写修改原因", field="reason"))
        before = _snapshot(row)
        merged = {**{k: before.get(k) for k in SOURCE_COLUMNS}, **{k: v for k, v in changes.items()
                                                                    if k in _EDITABLE}, "code": code}
        stored, found = _check_source(merged, districts=_districts(session, city))
        problems.extend(found)
        if problems:
            raise InputError(problems)
        used = session.scalar(select(ProjLedgerAllocation.id).where(ProjLedgerAllocation.source_id == row.id)
                              .limit(1))
        if used is not None:
            raise Conflict(f"来源 {code} 已有分配记录，不能修改 / source '{code}' has allocations: it can no longer be "
                           "changed", code="ledger_source_used")
        for key, value in stored.items():
            setattr(row, key, value)
        row.version = int(row.version) + 1
        session.flush()
        audit.record(session, principal, "ledger_source.edit", "ledger_source", f"{city}:{code}", before,
                     _snapshot(row), reason=reason.strip())
        return _view(session, row)


def import_sources(db: Database, principal: Principal, city: str, content: bytes, filename: str, *,
                   apply: bool = False, reason: str = "") -> ImportReport:
    """Import sources from a CSV or the ledger workbook (sheet 替代来源; the office only). All-or-nothing: every
    row is checked first (a code already stored or repeated in the file is an error: an import only adds);
    problems name the file, the sheet, the spreadsheet row (header = row 1) and the column, in Chinese and
    English. ``apply=False`` previews."""
    _require_office(principal, city)
    rows = read_upload(content, filename, sheet=SHEET, columns=SOURCE_COLUMNS, required=SOURCE_REQUIRED)
    where = f"{filename} [{SHEET}]" if content.startswith(b"PK") else filename
    with db.session(write=apply) as session:
        districts = _districts(session, city)
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        parsed: list[dict[str, Any]] = []
        for number, values in rows:
            stored, found = _check_source(values, districts=districts, file=where, row=number)
            problems.extend(found)
            code = stored["code"]
            if code in seen:
                problems.append(_problem(f"the code '{code}' is also on row {seen[code]}",
                                         f"编号“{code}”与第 {seen[code]} 行重复", file=where, row=number,
                                         field="code", value=code))
            elif code and _source_row(session, city, code) is not None:
                problems.append(_problem(f"the code '{code}' is already in the ledger", f"编号“{code}”已在台账中",
                                         file=where, row=number, field="code", value=code))
            seen.setdefault(code, number)
            parsed.append(stored)
        if not rows:
            problems.append(_problem("the file has no source rows", "文件中没有替代来源数据", file=where, row=2))
        if problems:
            raise InputError(problems)
        if apply:
            for stored in parsed:
                row = ProjLedgerSource(city=city, created_by=principal.username, version=1, **stored)
                session.add(row)
                session.flush()
                audit.record(session, principal, "ledger_source.import", "ledger_source", f"{city}:{row.code}",
                             None, _snapshot(row), reason=(reason or "").strip() or f"import {filename}")
        return ImportReport(filename, apply, [p["code"] for p in parsed], len(parsed))


_NOTES = {
    "code": ("来源编号（唯一，字母数字）", "source code (unique)"),
    "kind": ("capacity 退出产能 / energy 能耗指标", "capacity or energy"),
    "amount": ("数量（单位见 unit 列）", "amount (in 'unit')"),
    "unit": ("单位：产能如 t/a、10^4 t/a；能耗如 tce、10^4 tce", "unit: t/a, 10^4 t/a; tce, 10^4 tce"),
    "product": ("产品代码（能效标杆表或 steel/cement/flat_glass/electrolytic_aluminium），产能必填",
                "product code (capacity: required)"),
    "plant": ("退出企业/工厂", "plant"),
    "unit_name": ("退出装置/生产线", "production unit"),
    "region_code": ("所在区市县代码 GB/T 2260（产能必填）", "district code (capacity: required)"),
    "retired_on": ("退出/关停日期 YYYY-MM-DD（产能必填）", "retirement date (capacity: required)"),
    "document": ("文号（关停、节能量确认文件），必填", "document number (required)"),
    "origin": ("能耗指标来源：closure 关停 / saving 节能量 / other", "energy room origin"),
    "notes": ("备注", "notes"),
}


def sources_workbook(db: Database, principal: Principal, city: str, *, filled: bool = False) -> Download:
    """The ledger workbook in the import layout (说明 sheet, the 替代来源 sheet with a note on every column and
    drop-downs): empty (the template) or with the sources the caller may read."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    views = list_sources(db, principal, city) if filled else []
    book = Workbook()
    info = book.active
    info.title = "说明"
    for line in (("替代台账导入模板 / replacement ledger template", ""),
                 ("每行一个替代来源：退出产能（capacity）或能耗指标（energy）。编号不得与台账中已有编号重复。",
                  "One source per row: retired capacity or energy room; codes must be new."),
                 ("导入时整表校验，有任何错误则整体不导入，错误信息注明文件、工作表、行号（表头为第 1 行）与字段。",
                  "The whole file is validated; any error rejects it whole, naming file, sheet, row and column.")):
        info.append(list(line))
    for name, (zh, en) in _NOTES.items():
        info.append([f"{name}: {zh}", f"{name}: {en}"])
    info.column_dimensions["A"].width = 80
    sheet = book.create_sheet(SHEET)
    sheet.append(list(SOURCE_COLUMNS))
    for index, name in enumerate(SOURCE_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        zh, en = _NOTES[name]
        cell.comment = Comment(f"{zh}\n{en}", "citycarbon")
        sheet.column_dimensions[cell.column_letter].width = 18
    for name, values in (("kind", ledger.KINDS), ("origin", ORIGINS)):
        letter = sheet.cell(row=1, column=SOURCE_COLUMNS.index(name) + 1).column_letter
        check = DataValidation(type="list", formula1=f'"{",".join(values)}"', allow_blank=True)
        check.add(f"{letter}2:{letter}2000")
        sheet.add_data_validation(check)
    for v in views:
        sheet.append([v.code, v.kind, v.amount, v.unit, v.product or "", v.plant or "", v.unit_name or "",
                      v.region_code or "", v.retired_on or "", v.document or "", v.origin, v.notes])
    import io

    buffer = io.BytesIO()
    book.save(buffer)
    return Download(f"{city}-replacement-ledger{'' if filled else '-template'}.xlsx", buffer.getvalue(),
                    XLSX_MEDIA_TYPE)


# ---- allocations ---------------------------------------------------------------------------------------

def _project_row(session: Session, principal: Principal, city: str, code: str) -> ProjProject:
    row = session.scalars(select(ProjProject).where(ProjProject.city == city, ProjProject.code == code)
                          .execution_options(populate_existing=True)).one_or_none()
    if row is None or not principal.can_read_project(row.region_code, row.enterprise_id):
        raise NotFound("项目不存在 / project not found", code="project_unknown")
    return row


def _requested_product(session: Session, row: ProjProject, source_code: str, city: str) -> str | None:
    """The product the project asks replacement of from a capacity source: the source's own when the project
    has a product line of it (else the project's first product, so the ledger refuses: wrong product)."""
    source = _source_row(session, city, source_code)
    if source is None or source.kind != "capacity":
        return None
    products = [str(p.get("product")) for p in (row.data or {}).get("products") or []]
    if source.product in products:
        return source.product
    return products[0] if products else "（项目无产品 / no product）"


def allocate(db: Database, principal: Principal, city: str, project_code: str, source_code: str,
             amount: Decimal | str | float, unit: str, note: str = "") -> AllocationResult:
    """Allocate ``amount`` (``unit``) of source ``source_code`` to project ``project_code`` (the office only).

    The project must be in :data:`ALLOCATABLE_STATES` (else 409 ``ledger_project_state``). The ledger refuses
    (409 :class:`~citycarbon.projects.ledger.Refused`) an unknown source, a capacity source of another product
    than the project's, or more than the balance; a unit of another dimension is a 422. Racing allocations:
    exactly one is written per version of the source; a loser is retried on a fresh read (up to
    :data:`ATTEMPTS`) and then answers the ledger's word (over-spend) or :class:`StaleVersion` (409)."""
    _require_office(principal, city)
    last: store.StaleVersion | None = None
    for _ in range(ATTEMPTS):
        try:
            return _allocate_once(db, principal, city, project_code, source_code, amount, unit, note)
        except store.StaleVersion as error:
            last = error
    assert last is not None
    raise last


def _allocate_once(db: Database, principal: Principal, city: str, project_code: str, source_code: str,
                   amount: Decimal | str | float, unit: str, note: str) -> AllocationResult:
    with db.session(write=True) as session:
        project = _project_row(session, principal, city, project_code)
        if project.state not in ALLOCATABLE_STATES:
            raise Conflict(f"项目 {project.code} 处于“{project.state}”状态，不能分配替代指标 / project "
                           f"{project.code} is {project.state}: it cannot receive replacement",
                           code="ledger_project_state")
        product = _requested_product(session, project, source_code, city)
        row = store.allocate(session, city, source_code, project, amount, unit, by=principal.username,
                             note=note.strip(), product=product)
        source = _source_row(session, city, source_code)
        assert source is not None
        view = _view(session, source)
        allocation = next(a for a in view.allocations if a.id == row.id)
        audit.record(session, principal, "ledger_allocation.allocate", "ledger_allocation", row.id, None,
                     {"source": source.code, "project": project.code, "amount": row.amount, "unit": row.unit,
                      "requested_amount": row.requested_amount, "requested_unit": row.requested_unit,
                      "remaining": view.remaining}, reason=note.strip() or None)
        return AllocationResult(allocation, view)


def release(db: Database, principal: Principal, city: str, allocation_id: int, reason: str) -> AllocationResult:
    """Give an allocation back (the office only, with a reason): the source's balance grows by its amount.
    An allocation of another city, or none, answers 404; one already released 409 ``ledger_released``."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        row = session.get(ProjLedgerAllocation, allocation_id, populate_existing=True)
        source = None if row is None else session.get(ProjLedgerSource, row.source_id, populate_existing=True)
        if row is None or source is None or source.city != city:
            raise NotFound("分配记录不存在 / allocation not found", code="ledger_allocation_unknown")
        if not (reason or "").strip():  # after the lookup: an unknown allocation is a 404, whatever the form
            raise InputError(_problem("give the reason for the release", "请填写释放原因", field="reason"))
        if row.released_at is not None:
            raise Conflict(f"分配 {allocation_id} 已释放 / allocation {allocation_id} was already released",
                           code="ledger_released")
        store.release(session, row, by=principal.username)
        view = _view(session, source)
        allocation = next(a for a in view.allocations if a.id == row.id)
        audit.record(session, principal, "ledger_allocation.release", "ledger_allocation", row.id,
                     {"live": True, "amount": row.amount, "unit": row.unit},
                     {"live": False, "source": source.code, "project": allocation.project_code,
                      "remaining": view.remaining}, reason=reason.strip())
        return AllocationResult(allocation, view)


def release_project(session: Session, city: str, project: ProjProject, *, actor: Any, reason: str) -> list[int]:
    """Release every live allocation of ``project`` inside the caller's transaction (the workflow's rejection or
    withdrawal, whose rule the workflow applied), each audited with ``reason``; the ids released."""
    rows = list(session.scalars(select(ProjLedgerAllocation).where(
        ProjLedgerAllocation.project_id == project.id, ProjLedgerAllocation.released_at.is_(None))))
    for row in rows:
        store.release(session, row, by=getattr(actor, "username", str(actor)))
        audit.record(session, actor, "ledger_allocation.release", "ledger_allocation", row.id,
                     {"live": True, "amount": row.amount, "unit": row.unit},
                     {"live": False, "project": project.code}, reason=reason)
    return [int(r.id) for r in rows]


# ---- coverage ------------------------------------------------------------------------------------------

def _factor(unit: str, to: str) -> Decimal | None:
    try:
        factor = conversion_factor(unit, to)
    except UnitError:
        return None
    return Decimal(1) if factor == 1.0 else Decimal(repr(factor))


def coverage(session: Session, city: str, project: ProjProject, evaluation: Evaluation | None = None) -> Coverage:
    """What ``project`` (a stored row) needs against its live allocations, in the caller's transaction.

    Needs come from :func:`citycarbon.services.projects.evaluate.evaluate` of the project as stored: the
    ``replacement.energy`` finding's ``numbers["required"]`` (tce) and each ``replacement.capacity`` finding's
    ``numbers["required"]`` (retired capacity of the product line ``subject``, in the line's unit). Energy
    allocations count converted to tce; capacity allocations of the same product converted to the line's unit.
    Not covered → the approval is refused (:func:`require_covered`)."""
    from citycarbon.services.projects.evaluate import evaluate

    if evaluation is None:  # the caller's evaluation of the same stored project, when it has one
        evaluation = evaluate(city, store.project_from_row(project))
    lines = {p.product: p.unit for p in evaluation.project.products}
    rows = list(session.scalars(select(ProjLedgerAllocation).where(
        ProjLedgerAllocation.project_id == project.id, ProjLedgerAllocation.released_at.is_(None))))
    sources = {s.id: s for s in session.scalars(select(ProjLedgerSource).where(
        ProjLedgerSource.id.in_({r.source_id for r in rows})))} if rows else {}
    needs: list[Need] = []
    for finding in evaluation.findings:
        if finding.code == "replacement.energy":
            held = Decimal(0)
            for r in rows:
                if sources[r.source_id].kind == "energy":
                    factor = _factor(r.unit, ENERGY_UNIT)
                    held += Decimal(r.amount) * (factor or Decimal(0))
            needs.append(Need("energy", None, ENERGY_UNIT, float(finding.numbers["required"]), held,
                              finding.document))
        elif finding.code == "replacement.capacity":
            product = finding.subject
            unit = lines.get(product or "", "")
            held = Decimal(0)
            for r in rows:
                source = sources[r.source_id]
                if source.kind == "capacity" and source.product == product:
                    factor = _factor(r.unit, unit)
                    held += Decimal(r.amount) * (factor or Decimal(0))
            needs.append(Need("capacity", product, unit, float(finding.numbers["required"]), held, finding.document))
    return Coverage(project.code, needs)


def require_covered(session: Session, city: str, project: ProjProject) -> Coverage:
    """:func:`coverage`, raising :class:`~citycarbon.errors.Conflict` (409 ``replacement_not_covered``, the
    numbers in Chinese and English) when a need is not met."""
    found = coverage(session, city, project)
    if not found.covered:
        raise Conflict(f"替代未落实：{found.message_zh()} / replacement not covered: {found.message_en()}",
                       code="replacement_not_covered")
    return found


def project_allocations(db: Database, principal: Principal, city: str, project_code: str) -> ProjectAllocations:
    """What a project has been allocated (live and released, by kind) and its coverage. Readable by whoever
    reads the project (:meth:`~citycarbon.auth.principal.Principal.can_read_project`); else 404."""
    require_city(principal, city)
    with db.session() as session:
        project = _project_row(session, principal, city, project_code)
        rows = list(session.scalars(select(ProjLedgerAllocation).where(ProjLedgerAllocation.project_id == project.id)
                                    .order_by(ProjLedgerAllocation.id)))
        return ProjectAllocations(project.code, project.name, project.state, project.state in ALLOCATABLE_STATES,
                                  _allocation_views(session, rows), coverage(session, city, project))

""""1+N" (issue 14 item 3): sector and district implementation plans registered as plan files, and the check
that they add up to the city's plan.

A sub-plan is a plan file of the city plan's schema (:mod:`citycarbon.plan`) whose ``meta`` names its code, its
parent (the city's code, e.g. ``dalian``, or another registered sub-plan's), its kind (``sector`` | ``district``),
its owning organisation of the governance registry, and which carries city measures (``carries:``). Registering
it again replaces it: the old version is closed (``gov_subplans.valid_to``), the history kept; withdrawing closes
it. Every write is audited.

Rules, applied here once for every face: every caller of the city reads the plans and the check (they are the
city's public plan documents and aggregate numbers); only the office registers and withdraws
(:meth:`Principal.can_manage_governance`, 403 otherwise); the YAML is validated with the plan loader's
file/line/field problems, the parent must be the city's plan or a registered sub-plan (no loop), the organisation
must be in the current registry (422 otherwise, nothing stored).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from citycarbon.auth.principal import Principal
from citycarbon.codelists import nearest
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.governance.consistency import Finding, Severity, check_consistency, load_rules
from citycarbon.governance.model import Organisation
from citycarbon.plan import Plan, validate_plan_text
from citycarbon.plan.load import field_line
from citycarbon.services.cities import plan_for, require_city
from citycarbon.store import cities as store_cities
from citycarbon.store import gov_subplans as store
from citycarbon.store import governance as registry
from citycarbon.store.db import Database
from citycarbon.store.governance_models import GovSubplan

__all__ = ["ConsistencyReport", "SubPlan", "check_plans", "get_plan", "list_plans", "plan_history", "register_plan",
           "withdraw_plan"]

#: the largest plan file accepted (a district plan is a few dozen KiB)
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class SubPlan:
    """A registered sub-plan (one version) with what the cockpit shows of it."""

    code: str
    version: int
    parent: str
    kind: str
    org: str | None
    org_name_zh: str | None
    title_zh: str
    title_en: str
    region_code: str
    sector: str | None
    sha256: str
    registered_by: str
    valid_from: str
    valid_to: str | None
    targets: list[dict[str, Any]] = field(default_factory=list)
    carries: list[dict[str, Any]] = field(default_factory=list)
    document: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConsistencyReport:
    """The check's findings, with counts by severity and what it was run on."""

    city: str
    plans: int
    measures: int
    findings: list[Finding]

    @property
    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.severity is s) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        return {"city": self.city, "plans": self.plans, "measures": self.measures, "counts": self.counts,
                "findings": [f.to_dict() for f in self.findings]}


# -- helpers ---------------------------------------------------------------------------------------------------

def _require_office(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_manage_governance(city):
        raise Forbidden("只有领导小组办公室可以登记或撤回实施方案 / only the office registers or withdraws plans",
                        code="governance_office")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(row: GovSubplan) -> Plan | None:
    try:
        return validate_plan_text(row.document, f"{row.code}.yaml")
    except InputError:  # a stored document no longer valid (the indicator codelist changed): shown, not checked
        return None


def _record(row: GovSubplan, plan: Plan | None, orgs: dict[str, Organisation], *,
            with_document: bool = False) -> SubPlan:
    org = orgs.get(row.org_code or "")
    targets: list[dict[str, Any]] = []
    carries: list[dict[str, Any]] = []
    if plan is not None:
        targets = [{"id": t.id, "indicator": t.indicator, "year": t.year, "value": t.value, "unit": t.unit,
                    "comparison": t.comparison.value, "title_zh": t.title_zh, "title_en": t.title_en}
                   for t in plan.targets]
        carries = [{"measure": c.measure, "deadline": c.deadline.isoformat() if c.deadline else None,
                    "note": c.note} for c in plan.carried]
    return SubPlan(code=row.code, version=row.version, parent=row.parent, kind=row.kind, org=row.org_code,
                   org_name_zh=org.name_zh if org else None, title_zh=row.title_zh,
                   title_en=plan.meta.title_en if plan else "", region_code=plan.meta.region_code if plan else "",
                   sector=plan.meta.sector if plan else None, sha256=row.sha256, registered_by=row.registered_by,
                   valid_from=_iso(row.valid_from) or "", valid_to=_iso(row.valid_to), targets=targets,
                   carries=carries, document=row.document if with_document else None)


def _orgs(session: Any, city: str) -> dict[str, Organisation]:
    return {o.code: o for o in registry.current_orgs(session, city)}


def _decode(content: str | bytes, filename: str) -> str:
    if isinstance(content, bytes):
        if len(content) > MAX_BYTES:
            raise InputError(Problem(f"the plan file is larger than {MAX_BYTES // 1024} KiB", file=filename,
                                     message_zh=f"方案文件超过 {MAX_BYTES // 1024} KiB"))
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(Problem(f"the plan file is not UTF-8 text ({exc.reason})", file=filename,
                                     message_zh="方案文件不是 UTF-8 文本")) from None
    if len(content.encode("utf-8")) > MAX_BYTES:
        raise InputError(Problem(f"the plan file is larger than {MAX_BYTES // 1024} KiB", file=filename,
                                 message_zh=f"方案文件超过 {MAX_BYTES // 1024} KiB"))
    return content


# -- use cases -------------------------------------------------------------------------------------------------

def register_plan(db: Database, principal: Principal, city: str, content: str | bytes, *,
                  filename: str = "plan.yaml", reason: str = "") -> SubPlan:
    """Register (or replace) the sub-plan in the YAML ``content``; the office only. A replacement closes the
    current version; registering the same document again writes nothing and returns the current version.
    :class:`InputError` (file, line, field) for a bad file, an unknown parent or organisation; nothing stored."""
    _require_office(principal, city)
    text = _decode(content, filename)
    plan = validate_plan_text(text, filename)
    meta = plan.meta
    if not meta.is_subplan or meta.code is None or meta.kind is None:
        raise InputError(Problem("a sub-plan names meta.code, meta.parent, meta.kind and meta.org", file=filename,
                                 row=1, field="meta.parent",
                                 message_zh="实施方案须在 meta 中写明 code、parent、kind 和 org"))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with db.session(write=True) as session:
        orgs = _orgs(session, city)
        current = {row.code: row for row in store.subplan_rows(session, city)}
        problems: list[Problem] = []
        known_parents = [city, *(code for code in current if code != meta.code)]
        if meta.parent not in known_parents:
            problems.append(Problem(f"parent '{meta.parent}' is neither the city plan ('{city}') nor a registered "
                                    "sub-plan", file=filename, row=field_line(text, ("meta", "parent")),
                                    field="meta.parent", value=meta.parent,
                                    suggestion=nearest(str(meta.parent), known_parents),
                                    message_zh=f"上级方案“{meta.parent}”既不是本市方案（{city}），也不是已登记的实施方案"))
        else:
            probe, seen = meta.parent, {meta.code}
            while probe != city and probe in current:
                if probe in seen:
                    problems.append(Problem(f"parent '{meta.parent}' would make a loop through '{probe}'",
                                            file=filename, row=field_line(text, ("meta", "parent")),
                                            field="meta.parent", value=meta.parent,
                                            message_zh=f"上级方案“{meta.parent}”会形成循环（经由 {probe}）"))
                    break
                seen.add(probe)
                probe = current[probe].parent
        if meta.org not in orgs:
            problems.append(Problem(f"organisation '{meta.org}' is not in the registry", file=filename,
                                    row=field_line(text, ("meta", "org")), field="meta.org", value=meta.org,
                                    suggestion=nearest(str(meta.org), list(orgs)),
                                    message_zh=f"责任单位“{meta.org}”不在单位名录中"))
        if problems:
            raise InputError(problems)
        row = store.put_subplan(session, city, code=meta.code, parent=str(meta.parent), kind=meta.kind.value,
                                org_code=meta.org, title_zh=meta.title_zh, document=text, sha256=digest,
                                actor=principal, reason=reason)
        if row is None:
            row = current[meta.code]
        return _record(row, plan, orgs, with_document=True)


def list_plans(db: Database, principal: Principal, city: str, *, as_of: datetime | None = None) -> list[SubPlan]:
    """The city's registered sub-plans (current, or as of ``as_of``), by code."""
    require_city(principal, city)
    with db.session() as session:
        orgs = _orgs(session, city)
        return [_record(row, _parse(row), orgs) for row in store.subplan_rows(session, city, as_of=as_of)]


def get_plan(db: Database, principal: Principal, city: str, code: str) -> SubPlan:
    """One current sub-plan with its YAML document; :class:`NotFound` when none is current."""
    require_city(principal, city)
    with db.session() as session:
        row = store.current_subplan(session, city, code)
        if row is None:
            raise NotFound(f"没有实施方案“{code}” / no plan '{code}'")
        return _record(row, _parse(row), _orgs(session, city), with_document=True)


def plan_history(db: Database, principal: Principal, city: str, code: str) -> list[SubPlan]:
    """Every version of a sub-plan (withdrawn ones included), oldest first."""
    require_city(principal, city)
    with db.session() as session:
        rows = store.subplan_history(session, city, code)
        if not rows:
            raise NotFound(f"没有实施方案“{code}” / no plan '{code}'")
        orgs = _orgs(session, city)
        return [_record(row, _parse(row), orgs) for row in rows]


def withdraw_plan(db: Database, principal: Principal, city: str, code: str, *, reason: str = "") -> SubPlan:
    """Withdraw (close) the current version of a sub-plan; the office only. Its sub-plans, if any, then have a
    missing parent, which the check reports."""
    _require_office(principal, city)
    with db.session(write=True) as session:
        row = store.withdraw_subplan(session, city, code, actor=principal, reason=reason)
        if row is None:
            raise NotFound(f"没有实施方案“{code}” / no plan '{code}'")
        return _record(row, _parse(row), _orgs(session, city))


def _region(db: Database, city: str) -> str:
    with db.session() as session:
        record = store_cities.plan_record(session, city)
    if record is not None:
        return str(record.region_code)
    return plan_for(city, db).meta.region_code


def check_plans(db: Database, principal: Principal, city: str) -> ConsistencyReport:
    """The "1+N" consistency check of ``city``: the city plan, its values and district allocations set in the
    platform, the registered sub-plans and the current measures (see :mod:`citycarbon.governance.consistency`)."""
    from citycarbon.services.targets import platform_allocations, platform_values

    require_city(principal, city)
    city_plan = plan_for(city, db)
    region = _region(db, city)
    values = {key: v.value_in_target_unit for key, v in platform_values(city, region, db).items()
              if v.value_in_target_unit is not None}
    allocations = {district: {key: v.value_in_target_unit for key, v in targets.items()
                              if v.value_in_target_unit is not None}
                   for district, targets in platform_allocations(city, region, db).items()}
    with db.session() as session:
        orgs = registry.current_orgs(session, city)
        measures = registry.current_measures(session, city)
        plans = [plan for row in store.subplan_rows(session, city) if (plan := _parse(row)) is not None]
    findings = check_consistency(city, city_plan, plans, target_values=values, allocations=allocations,
                                 measures=measures, orgs=orgs, rules=load_rules())
    return ConsistencyReport(city, len(plans), len(measures), findings)

"""Target values set in the platform (issue 13 item 2): the values a plan leaves to the province.

A plan's targets such as "完成省政府下达的单位地区生产总值能耗和二氧化碳排放目标任务" or "大幅下降" carry no value
(``parameter: true``). The office enters the value the province issued, with the document number (文号), its
date and a note; a district allocation of a city target likewise. Both are ledger datasets (``target_values``,
``target_allocations`` in ``data/tables.yaml``): a new value supersedes the old one (history kept, readable
``as_of``), every write is audited, and the Excel/CSV import workflow fills them too. The document travels in
the ledger row's ``source`` as ``"文号 | YYYY-MM-DD | 说明"`` (:func:`format_document` / :func:`parse_document`).

Rules, applied here once for every face: only the office (administrators with write access, within their
city scope) sets values; a value's unit must convert (pint) to the target's unit; only a target the plan
leaves open can be set (the plan's printed values are the plan's); an allocation names a district of the city.
Tracking reads the values through :func:`platform_values` / :func:`platform_allocations`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from citycarbon.auth.principal import Principal
from citycarbon.codelists import nearest
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.plan import Plan, Target
from citycarbon.services.cities import plan_for, require_city
from citycarbon.store import cities as store_cities
from citycarbon.store import ledger
from citycarbon.store.db import Database
from citycarbon.units import UnitError, conversion_factor, is_unit

__all__ = ["PENDING_ZH", "SetValue", "TargetEntry", "format_document", "list_targets", "parse_document",
           "platform_allocations", "platform_values", "set_allocation", "set_target_value", "target_history"]

VALUES = "target_values"
ALLOCATIONS = "target_allocations"
#: what the cockpit says of a target the province has not issued yet
PENDING_ZH = "待省政府下达"
PENDING_EN = "awaiting the provincial government"
SEPARATOR = " | "


@dataclass(frozen=True)
class SetValue:
    """A value set in the platform (one version), converted to the target's unit in ``value_in_target_unit``."""

    target_id: str
    year: int
    region: str
    value: float
    unit: str
    value_in_target_unit: float | None
    status: str
    document: str
    document_date: str | None
    note: str | None
    recorded_by: str
    recorded_at: str
    superseded_at: str | None
    revision: int
    batch_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TargetEntry:
    """A plan target with where its value comes from: the plan (``plan``), the platform (``set``) or nobody yet
    (``pending``: 待省政府下达), and the district allocations set for it."""

    id: str
    title_zh: str
    title_en: str
    year: int
    unit: str
    comparison: str
    clause: str
    plan_value: float | None
    parameter: bool
    origin: str
    value: float | None
    set: SetValue | None
    allocations: list[SetValue]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["set"] = None if self.set is None else self.set.to_dict()
        out["allocations"] = [a.to_dict() for a in self.allocations]
        return out


# -- the document in the source text ---------------------------------------------------------------------------

def format_document(document: str, document_date: date | None, note: str | None) -> str:
    """``"文号 | YYYY-MM-DD | 说明"`` (empty parts kept as '' so the positions stay)."""
    parts = [document.strip(), document_date.isoformat() if document_date else "", (note or "").strip()]
    while parts and not parts[-1]:
        parts.pop()
    return SEPARATOR.join(parts)


def parse_document(source: str) -> tuple[str, str | None, str | None]:
    """(文号, date or None, note or None) of a stored source; a plain text is all document."""
    parts = [p.strip() for p in str(source).split("|", 2)]
    document = parts[0]
    when = parts[1] if len(parts) > 1 and parts[1] else None
    if when is not None:
        try:
            when = date.fromisoformat(when).isoformat()
        except ValueError:
            document, when = f"{document} | {when}", None
    note = parts[2] if len(parts) > 2 and parts[2] else None
    return document, when, note


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def _set_value(row: dict[str, Any], target: Target | None) -> SetValue:
    document, when, note = parse_document(row["source"])
    converted: float | None = None
    if target is not None:
        try:
            converted = float(row["value"]) * conversion_factor(str(row["unit"]), target.unit)
        except UnitError:
            converted = None
    return SetValue(str(row["target_id"]), int(row["year"]), str(row["region"]), float(row["value"]),
                    str(row["unit"]), converted, str(row["status"]), document, when, note, str(row["recorded_by"]),
                    _iso(row["recorded_at"]) or "", _iso(row["superseded_at"]), int(row["revision"]),
                    row["batch_id"])


# -- checks ----------------------------------------------------------------------------------------------------

def _require_office(principal: Principal, city: str) -> None:
    require_city(principal, city)
    if not principal.can_set_targets(city):
        raise Forbidden("only the office (administrators with write access) sets target values", code="targets_admin")


def _target(plan: Plan, target_id: str) -> Target:
    known = [t.id for t in plan.targets]
    if target_id not in known:
        raise InputError(Problem(f"unknown target '{target_id}'", field="target_id", value=target_id,
                                 suggestion=nearest(target_id, known)))
    return plan.target(target_id)


def _check_value(target: Target, value: float, unit: str, document: str, document_date: date | str | None,
                 note: str | None, *, open_only: bool) -> date | None:
    problems: list[Problem] = []
    if open_only and target.value is not None and not target.parameter:
        problems.append(Problem(f"the plan fixes target '{target.id}' at {target.value:g} {target.unit}; only the "
                                "targets the plan leaves open (省政府下达, 大幅下降) are set in the platform",
                                field="target_id", value=target.id))
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        problems.append(Problem("the value must be a finite number", field="value", value=str(value)))
    unit = (unit or "").strip()
    if not unit or not is_unit(unit):
        problems.append(Problem(f"unknown unit '{unit}'", field="unit", value=unit, suggestion=target.unit))
    else:
        try:
            conversion_factor(unit, target.unit)
        except UnitError:
            problems.append(Problem(f"unit '{unit}' does not convert to the target's unit '{target.unit}'",
                                    field="unit", value=unit, suggestion=target.unit))
    text = (document or "").strip()
    if not text:
        problems.append(Problem("name the document that issued the value (文号, e.g. 辽政发〔2022〕12号)",
                                field="document"))
    elif "|" in text or len(text) > 200:
        problems.append(Problem("the document number may not contain '|' and is at most 200 characters",
                                field="document", value=text[:40]))
    if note is not None and ("\n" in note or len(note) > 1000):
        problems.append(Problem("the note is one line of at most 1000 characters", field="note"))
    when: date | None = None
    if isinstance(document_date, str) and document_date.strip():
        try:
            when = date.fromisoformat(document_date.strip())
        except ValueError:
            problems.append(Problem("the document date is YYYY-MM-DD", field="date", value=document_date))
    elif isinstance(document_date, date):
        when = document_date
    if when is not None and when > date.today():
        problems.append(Problem("the document date is in the future", field="date", value=when.isoformat()))
    if problems:
        raise InputError(problems)
    return when


def _write(db: Database, principal: Principal, dataset: str, *, city: str, region: str, target: Target,
           value: float, unit: str, document: str, when: date | None, note: str | None, status: str) -> SetValue:
    source = format_document(document, when, note)
    frame = pd.DataFrame([{"year": target.year, "region": region, "target_id": target.id, "value": float(value),
                           "unit": unit.strip(), "status": status, "source": source}])
    from citycarbon.store import audit

    with db.session(write=True) as session:
        before = store_cities.target_rows(session, dataset, [region])
        old = next((r for r in before if r["target_id"] == target.id and r["year"] == target.year), None)
        result = ledger.write_frame(session, dataset, frame, actor=principal, scope="none",
                                    reason=f"{dataset}: {target.id} of {city}", source=source)
        audit.record(session, principal, "target.set" if dataset == VALUES else "target.allocate", "target",
                     f"{city}:{region}:{target.id}",
                     None if old is None else {"value": old["value"], "unit": old["unit"], "source": old["source"]},
                     {"value": float(value), "unit": unit.strip(), "source": source, "year": target.year,
                      "revision": result.revision})
        rows = store_cities.target_rows(session, dataset, [region])
    row = next(r for r in rows if r["target_id"] == target.id and r["year"] == target.year)
    return _set_value(row, target)


def _city_region(db: Database, city: str) -> str:
    with db.session() as session:
        record = store_cities.plan_record(session, city)
    if record is None:
        raise NotFound("city not found")
    return record.region_code


# -- use cases -------------------------------------------------------------------------------------------------

def set_target_value(db: Database, principal: Principal, city: str, target_id: str, *, value: float, unit: str,
                     document: str, document_date: date | str | None = None, note: str | None = None,
                     status: str = "official") -> SetValue:
    """Set (a new version of) the value of ``target_id`` of ``city`` as issued by ``document`` of
    ``document_date``. Audited; the previous version stays in the history."""
    _require_office(principal, city)
    region = _city_region(db, city)
    plan = plan_for(city, db)
    target = _target(plan, target_id)
    when = _check_value(target, value, unit, document, document_date, note, open_only=True)
    return _write(db, principal, VALUES, city=city, region=region, target=target, value=value, unit=unit,
                  document=document, when=when, note=note, status=status)


def _district_codes(region: str) -> dict[str, dict[str, str]]:
    from citycarbon.tracking.districts import district_codes

    try:
        return district_codes(region)
    except (KeyError, InputError):
        return {}


def set_allocation(db: Database, principal: Principal, city: str, district: str, target_id: str, *, value: float,
                   unit: str, document: str, document_date: date | str | None = None, note: str | None = None,
                   status: str = "official") -> SetValue:
    """Set the value of city target ``target_id`` allocated to ``district`` (a district of ``city``)."""
    _require_office(principal, city)
    region = _city_region(db, city)
    codes = _district_codes(region)
    if str(district) not in codes:
        raise InputError(Problem(f"'{district}' is not a district of {city} ({region})", field="district",
                                 value=district, suggestion=nearest(str(district), list(codes))))
    plan = plan_for(city, db)
    target = _target(plan, target_id)
    when = _check_value(target, value, unit, document, document_date, note, open_only=False)
    return _write(db, principal, ALLOCATIONS, city=city, region=str(district), target=target, value=value, unit=unit,
                  document=document, when=when, note=note, status=status)


def _read(db: Database, city: str, dataset: str, regions: list[str],
          as_of: datetime | None) -> list[dict[str, Any]]:
    if as_of is not None and as_of.tzinfo is None:
        raise InputError(Problem("give a time zone, e.g. 2025-01-31T00:00:00+08:00", field="as_of",
                                 value=as_of.isoformat()))
    with db.session() as session:
        return store_cities.target_rows(session, dataset, regions, as_of=as_of)


def list_targets(db: Database, principal: Principal, city: str, *, as_of: datetime | None = None) -> list[TargetEntry]:
    """Every target of ``city``'s plan with its value's origin (plan / set / pending), now or ``as_of``."""
    require_city(principal, city)
    region = _city_region(db, city)
    plan = plan_for(city, db)
    by_id = {t.id: t for t in plan.targets}
    values = {r["target_id"]: _set_value(r, by_id.get(r["target_id"]))
              for r in _read(db, city, VALUES, [region], as_of) if r["target_id"] in by_id}
    districts = list(_district_codes(region))
    allocations: dict[str, list[SetValue]] = {}
    if districts and (principal.city_wide or principal.regions):
        for r in _read(db, city, ALLOCATIONS, districts, as_of):
            if r["target_id"] in by_id and principal.can_read_region(str(r["region"])):
                allocations.setdefault(r["target_id"], []).append(_set_value(r, by_id[r["target_id"]]))
    out = []
    for target in plan.targets:
        found = values.get(target.id)
        if found is not None and (target.value is None or target.parameter):
            origin, value = "set", found.value_in_target_unit
        elif target.value is not None:
            origin, value, found = "plan", target.value, None
        else:
            origin, value = "pending", None
        out.append(TargetEntry(target.id, target.title_zh, target.title_en, target.year, target.unit,
                               str(target.comparison), target.clause, target.value, bool(target.parameter), origin,
                               value, found, allocations.get(target.id, [])))
    return out


def target_history(db: Database, principal: Principal, city: str, target_id: str,
                   district: str | None = None) -> list[SetValue]:
    """Every version of a set value (or of a district allocation), oldest first."""
    require_city(principal, city)
    region = _city_region(db, city)
    target = _target(plan_for(city, db), target_id)
    dataset, where = VALUES, region
    if district is not None:
        if str(district) not in _district_codes(region) or not principal.can_read_region(str(district)):
            raise NotFound("district not found")
        dataset, where = ALLOCATIONS, str(district)
    with db.session() as session:
        rows = store_cities.target_history(session, dataset, where, target.id)
    return [_set_value(r, target) for r in rows]


# -- what tracking reads (no principal: the report is the city's, scope is checked by the caller) --------------

def _store_db() -> Database | None:
    from citycarbon.services.sources import database_exists
    from citycarbon.settings import Settings

    return Database(Settings.from_env()) if database_exists() else None


def platform_values(city: str, region: str, db: Database | None = None,
                    as_of: datetime | None = None) -> dict[str, SetValue]:
    """Target id → the value set in the platform (current, or ``as_of``) for ``city`` of ``region``; empty when
    there is no database or none is set."""
    return _platform(city, VALUES, [region], db, as_of)


def platform_allocations(city: str, region: str, db: Database | None = None,
                         as_of: datetime | None = None) -> dict[str, dict[str, SetValue]]:
    """District code → target id → the allocation set in the platform."""
    out: dict[str, dict[str, SetValue]] = {}
    districts = list(_district_codes(region))
    if not districts:
        return out
    for value in _platform(city, ALLOCATIONS, districts, db, as_of, keyed_by_region=True).values():
        out.setdefault(value.region, {})[value.target_id] = value
    return out


def _platform(city: str, dataset: str, regions: list[str], db: Database | None, as_of: datetime | None,
              keyed_by_region: bool = False) -> dict[str, SetValue]:
    from sqlalchemy.exc import SQLAlchemyError

    own = db is None
    database = db if db is not None else _store_db()
    if database is None:
        return {}
    try:
        with database.session() as session:
            rows = store_cities.target_rows(session, dataset, regions, as_of=as_of)
    except SQLAlchemyError:
        return {}
    finally:
        if own:
            database.dispose()
    if not rows:
        return {}
    by_id = {t.id: t for t in plan_for(city, db).targets}
    out: dict[str, SetValue] = {}
    for row in rows:
        target = by_id.get(str(row["target_id"]))
        if target is None or int(row["year"]) != target.year:
            continue
        value = _set_value(row, target)
        if value.value_in_target_unit is None:
            continue
        out[f"{value.region}:{value.target_id}" if keyed_by_region else value.target_id] = value
    return out

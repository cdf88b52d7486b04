"""Reading and writing the versioned governance registries (``gov_orgs``, ``gov_measures``).

A write never updates a row in place: it closes the current version (``valid_to``) and inserts the next one,
so the registry can be read as of any past time, and records the change in the audit trail. The use cases
(import, edit, rounds, supervision) live in ``services/governance``; this module is the storage they share.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from citycarbon.governance.model import Indicator, Measure, Organisation, OrgKind
from citycarbon.store import audit
from citycarbon.store.governance_models import GovMeasure, GovOrg
from citycarbon.store.types import utcnow

__all__ = ["current_measures", "current_orgs", "measure_of", "org_of", "put_measure", "put_org", "seed_defaults"]


def _as_of(model: Any, as_of: datetime | None) -> Any:
    if as_of is None:
        return model.valid_to.is_(None)
    return and_(model.valid_from <= as_of, or_(model.valid_to.is_(None), model.valid_to > as_of))


# ---- organisations -------------------------------------------------------------------------------------

def org_of(row: GovOrg) -> Organisation:
    return Organisation(code=row.code, name_zh=row.name_zh, name_en=row.name_en, kind=OrgKind(row.kind),
                        parent=row.parent, region_code=row.region_code, short_zh=row.short_zh)


def org_rows(session: Session, city: str, *, as_of: datetime | None = None,
             include_inactive: bool = False) -> list[GovOrg]:
    statement = select(GovOrg).where(GovOrg.city == city, _as_of(GovOrg, as_of)).order_by(GovOrg.id)
    rows = list(session.scalars(statement))
    return rows if include_inactive else [row for row in rows if row.active]


def current_orgs(session: Session, city: str, *, as_of: datetime | None = None) -> list[Organisation]:
    """The city's active organisations (as of ``as_of``; default: now), in registry order."""
    return [org_of(row) for row in org_rows(session, city, as_of=as_of)]


def _put_version(session: Session, model: Any, entity: str, city: str, code: str, values: dict[str, Any], *,
                 actor: Any, reason: str, source: str) -> Any:
    """Close the current version of ``code`` and insert the next one holding ``values`` (nothing when they are
    the stored values); audited as ``<entity>.create`` or ``<entity>.update``."""
    current = session.scalars(select(model).where(model.city == city, model.code == code,
                                                  model.valid_to.is_(None))).one_or_none()
    before = None
    if current is not None:
        before = {key: getattr(current, key) for key in values}
        if before == values:
            return None
    now = utcnow()
    if current is not None:
        current.valid_to = now
    row = model(city=city, code=code, version=(current.version + 1) if current else 1, valid_from=now,
                changed_by=audit.actor_of(actor)[0], change_reason=reason, source=source, **values)
    session.add(row)
    session.flush()
    audit.record(session, actor, f"{entity}.update" if current else f"{entity}.create", entity, f"{city}:{code}",
                 before=_jsonable(before), after=_jsonable(values), reason=reason or None)
    return row


def put_org(session: Session, city: str, org: Organisation, *, actor: Any, reason: str = "", source: str = "",
            active: bool = True) -> GovOrg | None:
    """Write ``org`` as the next version of its code (no new version when nothing changed). Audited."""
    values = {"name_zh": org.name_zh, "name_en": org.name_en, "short_zh": org.short_zh, "kind": org.kind.value,
              "parent": org.parent, "region_code": org.region_code, "active": active}
    row: GovOrg | None = _put_version(session, GovOrg, "gov_org", city, org.code, values, actor=actor,
                                      reason=reason, source=source)
    return row


# ---- measures ------------------------------------------------------------------------------------------

def _indicator_dict(indicator: Indicator) -> dict[str, Any]:
    return {"code": indicator.code, "name_zh": indicator.name_zh, "name_en": indicator.name_en,
            "unit": indicator.unit, "target": indicator.target, "year": indicator.year,
            "milestones": {str(year): value for year, value in sorted(indicator.milestones.items())},
            "source": indicator.source, "status": indicator.status}


def _indicator(value: dict[str, Any]) -> Indicator:
    return Indicator(code=str(value["code"]), name_zh=str(value.get("name_zh", "")),
                     name_en=str(value.get("name_en", "")), unit=str(value.get("unit", "")),
                     target=None if value.get("target") is None else float(value["target"]),
                     year=None if value.get("year") is None else int(value["year"]),
                     milestones={int(year): float(v) for year, v in (value.get("milestones") or {}).items()},
                     source=str(value.get("source") or ""), status=str(value.get("status") or ""))


def measure_of(row: GovMeasure) -> Measure:
    return Measure(code=row.code, task=row.task, seq=row.seq, text_zh=row.text_zh, text_en=row.text_en,
                   lead=row.lead, co_units=tuple(row.co_units or ()), districts=tuple(row.districts or ()),
                   deadline=row.deadline,
                   milestones={int(year): str(text) for year, text in (row.milestones or {}).items()},
                   indicators=tuple(_indicator(value) for value in (row.indicators or [])))


def _measure_values(measure: Measure, active: bool) -> dict[str, Any]:
    return {"task": measure.task, "seq": measure.seq, "text_zh": measure.text_zh, "text_en": measure.text_en,
            "lead": measure.lead, "co_units": list(measure.co_units), "districts": list(measure.districts),
            "deadline": measure.deadline,
            "milestones": {str(year): text for year, text in sorted(measure.milestones.items())},
            "indicators": [_indicator_dict(indicator) for indicator in measure.indicators], "active": active}


def measure_rows(session: Session, city: str, *, as_of: datetime | None = None,
                 include_inactive: bool = False) -> list[GovMeasure]:
    statement = (select(GovMeasure).where(GovMeasure.city == city, _as_of(GovMeasure, as_of))
                 .order_by(GovMeasure.task, GovMeasure.seq, GovMeasure.code))
    rows = list(session.scalars(statement))
    return rows if include_inactive else [row for row in rows if row.active]


def current_measures(session: Session, city: str, *, as_of: datetime | None = None) -> list[Measure]:
    """The city's active measures (as of ``as_of``; default: now), by task and sequence."""
    return [measure_of(row) for row in measure_rows(session, city, as_of=as_of)]


def put_measure(session: Session, city: str, measure: Measure, *, actor: Any, reason: str = "", source: str = "",
                active: bool = True) -> GovMeasure | None:
    """Write ``measure`` as the next version of its code (no new version when nothing changed). Audited."""
    row: GovMeasure | None = _put_version(session, GovMeasure, "gov_measure", city, measure.code,
                                          _measure_values(measure, active), actor=actor, reason=reason,
                                          source=source)
    return row


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in values.items()}


def seed_defaults(session: Session, city: str, orgs: Iterable[Organisation], measures: Iterable[Measure], *,
                  actor: Any, source: str) -> dict[str, int]:
    """Write the starting registry and matrix of a city that has none yet (idempotent: a city that holds any
    organisation is left alone)."""
    if session.scalars(select(GovOrg.id).where(GovOrg.city == city).limit(1)).first() is not None:
        return {}
    n_orgs = sum(put_org(session, city, org, actor=actor, source=source) is not None for org in orgs)
    n_measures = sum(put_measure(session, city, measure, actor=actor, source=source) is not None
                     for measure in measures)
    return {"organisations": n_orgs, "measures": n_measures}

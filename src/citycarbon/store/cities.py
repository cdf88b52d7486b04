"""Storing explicit cities and reading the target datasets with who recorded them (issue 13 items 2–3).

* :func:`record_city`: a validated plan → ``plans`` (+ its targets and tasks), the city's ``regions`` row when
  the region is not stored yet, and its ``city_profiles`` row; audited in the same transaction.
* :func:`target_rows`: the current (or ``as_of``) rows of ``target_values`` / ``target_allocations`` for some
  regions, each with the actor and time of the ledger revision that recorded it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from citycarbon.store import audit
from citycarbon.store.city_models import CityProfile
from citycarbon.store.models import LedgerRevision, Observation, PlanRecord, RegionRecord
from citycarbon.store.seed import add_plan_rows
from citycarbon.store.types import utcnow

__all__ = ["list_plans", "plan_record", "profile", "record_city", "target_rows"]


def plan_record(session: Session, code: str) -> PlanRecord | None:
    return session.execute(select(PlanRecord).where(PlanRecord.code == code)).scalar_one_or_none()


def list_plans(session: Session) -> list[PlanRecord]:
    return list(session.execute(select(PlanRecord).order_by(PlanRecord.code)).scalars())


def profile(session: Session, code: str) -> CityProfile | None:
    return session.get(CityProfile, code)


def record_city(session: Session, *, code: str, plan: Any, document: str, accounting: dict[str, Any] | None,
                accounting_source: str | None, actor: Any, parent_code: str | None = None) -> PlanRecord:
    """Store ``plan`` (a validated :class:`citycarbon.plan.Plan`) as city ``code`` with its profile."""
    meta = plan.meta
    if session.get(RegionRecord, meta.region_code) is None:
        parent = parent_code if parent_code and session.get(RegionRecord, parent_code) is not None else None
        session.add(RegionRecord(code=meta.region_code, parent_code=parent, name_zh=meta.city,
                                 name_en=meta.city_en, kind="city", notes=f"created with city {code}"))
    record = PlanRecord(code=code, region_code=meta.region_code, city=meta.city, city_en=meta.city_en,
                        title_zh=meta.title_zh, title_en=meta.title_en, basis_document=meta.basis_document,
                        base_year=meta.base_year, source=meta.source, status=str(meta.status), document=document,
                        sha256=hashlib.sha256(document.encode("utf-8")).hexdigest(), loaded_at=utcnow())
    session.add(record)
    session.flush()
    add_plan_rows(session, record, plan)
    session.add(CityProfile(code=code, accounting=accounting, accounting_source=accounting_source,
                            created_by=audit.actor_of(actor)[0]))
    session.flush()
    audit.record(session, actor, "city.create", "city", code, None,
                 {"region": meta.region_code, "city": meta.city, "sha256": record.sha256,
                  "targets": len(plan.targets), "tasks": len(plan.tasks),
                  "accounting": accounting, "accounting_source": accounting_source})
    return record


def record_regions(session: Session, *, code: str, parent_code: str, regions: list[dict[str, str]], actor: Any,
                   source: str | None = None) -> list[str]:
    """Store city ``code``'s districts and counties (``regions``: code, name_zh, name_en, level, notes) under its
    region ``parent_code``; a code already stored is a :class:`~citycarbon.errors.Conflict`. Audited."""
    from citycarbon.errors import Conflict

    taken = [r["code"] for r in regions if session.get(RegionRecord, r["code"]) is not None]
    if taken:
        raise Conflict(f"region(s) {', '.join(taken)} already stored", code="region_exists")
    for region in regions:
        note = region.get("notes") or f"registered with city {code}" + (f" from {source}" if source else "")
        session.add(RegionRecord(code=region["code"], parent_code=parent_code, name_zh=region["name_zh"],
                                 name_en=region["name_en"], kind=region["level"], notes=note))
    session.flush()
    codes = [r["code"] for r in regions]
    audit.record(session, actor, "city.regions", "city", code, None, {"regions": codes, "source": source})
    return codes


def target_rows(session: Session, dataset: str, regions: Iterable[str], *,
                as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Rows of ``dataset`` (``target_values``/``target_allocations``) of ``regions`` current now or at
    ``as_of``, oldest first, with ``recorded_by`` (the revision's actor) and ``recorded_at``."""
    statement = (select(Observation, LedgerRevision.actor)
                 .join(LedgerRevision, LedgerRevision.id == Observation.revision_id)
                 .where(Observation.dataset == dataset, Observation.region.in_(list(regions))))
    if as_of is None:
        statement = statement.where(Observation.superseded_at.is_(None))
    else:
        statement = statement.where(Observation.recorded_at <= as_of,
                                    or_(Observation.superseded_at.is_(None), Observation.superseded_at > as_of))
    return [_row(o, actor) for o, actor in session.execute(statement.order_by(Observation.id))]


def target_history(session: Session, dataset: str, region: str, target_id: str) -> list[dict[str, Any]]:
    """Every version of one target value (oldest first), superseded ones included."""
    statement = (select(Observation, LedgerRevision.actor)
                 .join(LedgerRevision, LedgerRevision.id == Observation.revision_id)
                 .where(Observation.dataset == dataset, Observation.region == region,
                        Observation.dim1 == target_id)
                 .order_by(Observation.recorded_at, Observation.id))
    return [_row(o, actor) for o, actor in session.execute(statement)]


def _row(o: Observation, actor: str) -> dict[str, Any]:
    return {"year": o.valid_year, "region": o.region, "target_id": o.dim1, "value": o.value, "unit": o.unit,
            "status": o.status, "source": o.source, "recorded_at": o.recorded_at,
            "superseded_at": o.superseded_at, "recorded_by": actor, "revision": o.revision_id,
            "batch_id": o.batch_id}

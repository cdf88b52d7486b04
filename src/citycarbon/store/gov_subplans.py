"""Storage of the "1+N" implementation plans (``gov_subplans``): versioned, never updated in place.

Registering a plan whose code is already current closes that version (``valid_to``) and inserts the next one;
withdrawing closes the current version and inserts nothing. Every write is audited in the same transaction. The
rules (who may, what is valid) live in :mod:`citycarbon.services.governance.plans`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from citycarbon.store import audit
from citycarbon.store.governance_models import GovSubplan
from citycarbon.store.types import utcnow

__all__ = ["current_subplan", "put_subplan", "subplan_history", "subplan_rows", "withdraw_subplan"]


def _as_of(as_of: datetime | None) -> Any:
    if as_of is None:
        return GovSubplan.valid_to.is_(None)
    return and_(GovSubplan.valid_from <= as_of, or_(GovSubplan.valid_to.is_(None), GovSubplan.valid_to > as_of))


def subplan_rows(session: Session, city: str, *, as_of: datetime | None = None) -> list[GovSubplan]:
    """The city's registered sub-plans (current, or as of ``as_of``), by code."""
    statement = select(GovSubplan).where(GovSubplan.city == city, _as_of(as_of)).order_by(GovSubplan.code)
    return list(session.scalars(statement))


def current_subplan(session: Session, city: str, code: str) -> GovSubplan | None:
    statement = select(GovSubplan).where(GovSubplan.city == city, GovSubplan.code == code,
                                         GovSubplan.valid_to.is_(None))
    return session.scalars(statement).one_or_none()


def subplan_history(session: Session, city: str, code: str) -> list[GovSubplan]:
    """Every version of ``code``, oldest first."""
    statement = (select(GovSubplan).where(GovSubplan.city == city, GovSubplan.code == code)
                 .order_by(GovSubplan.version))
    return list(session.scalars(statement))


def _summary(row: GovSubplan) -> dict[str, Any]:
    return {"version": row.version, "parent": row.parent, "kind": row.kind, "org_code": row.org_code,
            "title_zh": row.title_zh, "sha256": row.sha256}


def put_subplan(session: Session, city: str, *, code: str, parent: str, kind: str, org_code: str | None,
                title_zh: str, document: str, sha256: str, actor: Any, reason: str = "") -> GovSubplan | None:
    """Register ``code`` (a new version when one is current). ``None`` when the current version holds the same
    document already (nothing written). Audited."""
    current = current_subplan(session, city, code)
    if current is not None and current.sha256 == sha256:
        return None
    last = session.scalars(select(GovSubplan.version).where(GovSubplan.city == city, GovSubplan.code == code)
                           .order_by(GovSubplan.version.desc()).limit(1)).first()
    now = utcnow()
    before = None
    if current is not None:
        before = _summary(current)
        current.valid_to = now
        session.flush()
    row = GovSubplan(city=city, code=code, version=(last or 0) + 1, parent=parent, kind=kind, org_code=org_code,
                     title_zh=title_zh, document=document, sha256=sha256, valid_from=now,
                     registered_by=audit.actor_of(actor)[0])
    session.add(row)
    session.flush()
    audit.record(session, actor, "replace" if current is not None else "register", "gov_subplan", f"{city}:{code}",
                 before=before, after=_summary(row), reason=reason or None)
    return row


def withdraw_subplan(session: Session, city: str, code: str, *, actor: Any, reason: str = "") -> GovSubplan | None:
    """Close the current version of ``code``; ``None`` when none is current. Audited."""
    current = current_subplan(session, city, code)
    if current is None:
        return None
    current.valid_to = utcnow()
    session.flush()
    audit.record(session, actor, "withdraw", "gov_subplan", f"{city}:{code}", before=_summary(current), after=None,
                 reason=reason or None)
    return current

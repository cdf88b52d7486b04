"""Test data for the summary tests: rounds, assignments, filings and supervision items written straight through
the store models (the rounds and supervision services are other parts' work)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from citycarbon.store.governance_models import GovFiling, GovRound, GovRoundAssignment, GovSupervisionItem


def add_round(session: Session, code: str, *, start: date, end: date, deadline: date, state: str = "open",
              period: str = "quarterly", city: str = "dalian", title: str | None = None) -> GovRound:
    row = GovRound(city=city, code=code, title_zh=title or f"{code}调度", period=period, period_start=start,
                   period_end=end, deadline=deadline, state=state, opened_by="test")
    session.add(row)
    session.flush()
    return row


def add(session: Session, round_: GovRound, measure: str, org: str, *, role: str = "lead",
        status: str | None = None, state: str = "submitted", submitted: date | None = None, narrative: str = "",
        lag_reason: str = "", values: dict[str, Any] | None = None) -> None:
    """An assignment, and its filing when ``status`` is given (submitted at noon China time on ``submitted``)."""
    session.add(GovRoundAssignment(round_id=round_.id, measure_code=measure, org_code=org, role=role))
    if status is not None:
        at = None if submitted is None else datetime(submitted.year, submitted.month, submitted.day, 4, tzinfo=UTC)
        session.add(GovFiling(round_id=round_.id, measure_code=measure, org_code=org, state=state, status=status,
                              narrative=narrative, lag_reason=lag_reason, indicator_values=values or {},
                              submitted_at=at if state != "draft" else None, submitted_by=org))
    session.flush()


def add_item(session: Session, round_: GovRound, measure: str, org: str, *, level: str, day: date,
             reason: str) -> None:
    session.add(GovSupervisionItem(city="dalian", rule_code="late", level=level, round_id=round_.id,
                                   measure_code=measure, org_code=org, reason_zh=reason, triggered_on=day))
    session.flush()

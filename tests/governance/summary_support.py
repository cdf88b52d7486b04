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


def sample(session: Session, *, indicator: bool = True) -> None:
    """The hand-worked round of ``test_summary_domain`` (2026Q4, deadline 2027-01-10; counted on 2027-01-15)
    and a closed 2026Q3 before it; T05-M01 gets miit as lead and an indicator (渔光互补光伏装机, MW, 2026
    milestone 200) unless ``indicator`` is False (an audited registry write the audit page would then show)."""
    from dataclasses import replace

    from citycarbon.governance.model import Indicator
    from citycarbon.store import governance as store

    if indicator:
        measure = next(m for m in store.current_measures(session, "dalian") if m.code == "T05-M01")
        pv = Indicator("pv_mw", "渔光互补光伏装机", "fishery PV", "MW", target=500.0, year=2030,
                       milestones={2026: 200.0})
        store.put_measure(session, "dalian", replace(measure, lead="miit", indicators=(pv,)), actor="test")
    q3 = add_round(session, "2026Q3", start=date(2026, 7, 1), end=date(2026, 9, 30), deadline=date(2026, 10, 10),
                   state="closed")
    add(session, q3, "T05-M01", "miit", status="completed", state="accepted", submitted=date(2026, 10, 9))
    add(session, q3, "T07-M01", "miit", status="lagging", state="accepted", submitted=date(2026, 10, 9),
        lag_reason="资金未到位")
    q4 = add_round(session, "2026Q4", start=date(2026, 10, 1), end=date(2026, 12, 31), deadline=date(2027, 1, 10),
                   title="2026年第四季度调度")
    add(session, q4, "T05-M01", "miit", status="in_progress", submitted=date(2027, 1, 8),
        narrative="渔光互补项目已开工。", values={"pv_mw": 120})
    add(session, q4, "T05-M01", "eco", role="co", status="lagging", submitted=date(2027, 1, 12),
        lag_reason="用地审批未完成", values={"pv_mw": 30})
    add(session, q4, "T05-M02", "miit", status="in_progress", state="draft")
    add(session, q4, "T12-M01", "d210202", status="completed", state="accepted", submitted=date(2027, 1, 10))
    add(session, q4, "T12-M01", "eco", role="co")
    add_item(session, q4, "T05-M02", "miit", level="reminder", day=date(2027, 1, 14), reason="逾期未报送")

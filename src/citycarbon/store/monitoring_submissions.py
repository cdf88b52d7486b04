"""Monitoring submissions: what each batch of meter readings did, kept so an enterprise can see it (issue 6).

Every batch an enterprise sends (HTTP, MQTT, or a file ingested through the CLI with a store configured) is
recorded by :func:`record_submission` as one ``monitoring_submissions`` row — channel, who sent it (user and API
token prefix), the client's batch id, the lake batch id (None when nothing was stored), the exact counts and,
for a batch refused whole, why — plus its rejected rows (row number, point, field, reason) in
``monitoring_rejections``, the first :data:`MAX_KEPT_REJECTIONS` of them; ``rejected`` is always the exact
count. Recording is one INSERT for the submission and one executemany for the rejected rows, in the caller's
transaction (the API records it in the same transaction as the audit row of a stored batch).

Reads are scoped by the caller: ``enterprise_ids=None`` sees every submission (the city office, analysts);
otherwise only those enterprises' (an enterprise its own; a district the registry's enterprises of its
regions). A submission that names no enterprise (an administrator's batch refused before its points were
known) is visible only to city-wide readers. Another enterprise's submission reads as absent (None).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from citycarbon.store.monitoring_models import CHANNELS, MonitoringRejection, MonitoringSubmission
from citycarbon.store.types import utcnow

__all__ = ["MAX_KEPT_REJECTIONS", "get_submission", "list_rejections", "list_submissions", "prune_submissions",
           "record_submission", "recorded_lake_batches", "rejections_by_submission", "submission_dict"]

#: rejected rows kept per submission (the first ones in row order); the count is always exact
MAX_KEPT_REJECTIONS = 1_000
_COUNTS = ("accepted", "duplicate", "revised", "rejected")


def _text(value: Any, limit: int) -> str | None:
    """Client text as the store can keep it: a string, NUL characters replaced (PostgreSQL refuses them),
    cut to ``limit`` characters with an ellipsis."""
    if value is None:
        return None
    text = str(value).replace("\x00", "\ufffd")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def record_submission(session: Session, *, channel: str, submitted_by: str, enterprise_id: str | None,
                      rows_received: int, counts: Mapping[str, int] | None = None,
                      rejected_rows: Iterable[Mapping[str, Any]] = (), lake_batch_id: str | None = None,
                      client_batch_id: str | None = None, token_prefix: str | None = None, source: str = "",
                      refusal: str | None = None, received_at: datetime | None = None,
                      keep: int = MAX_KEPT_REJECTIONS) -> int:
    """Record one submission and the first ``keep`` of its rejected rows; returns the submission id.

    ``counts`` holds ``accepted``, ``duplicate``, ``revised``, ``rejected`` (an ingest report's); ``rejected_rows``
    the report's ``{row, point_id, field, reason}`` dicts. ``refusal`` marks a batch refused whole (its rows
    were never looked at). Status: ``refused`` with a refusal, ``stored`` with a lake batch, else ``nothing_new``.
    Raises ValueError for an unknown channel, a negative count, or a lake batch beside a refusal.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    counts = {name: int((counts or {}).get(name, 0)) for name in _COUNTS}
    if rows_received < 0 or any(value < 0 for value in counts.values()):
        raise ValueError(f"counts must not be negative: rows_received={rows_received}, {counts}")
    if refusal is not None and lake_batch_id is not None:
        raise ValueError("a refused submission stores nothing in the lake")
    status = "refused" if refusal is not None else "stored" if lake_batch_id is not None else "nothing_new"
    kept: list[dict[str, Any]] = []
    for row in rejected_rows:
        if len(kept) >= min(keep, counts["rejected"]):
            break
        kept.append({"seq": len(kept) + 1, "row_number": int(row["row"]),
                     "point_id": _text(row.get("point_id"), 200), "field": _text(row.get("field") or "", 32),
                     "reason": _text(row.get("reason") or "", 2000)})
    result = session.execute(insert(MonitoringSubmission).returning(MonitoringSubmission.id), {
        "enterprise_id": _text(enterprise_id, 64), "channel": channel, "status": status,
        "submitted_by": _text(submitted_by, 100), "token_prefix": _text(token_prefix, 16),
        "client_batch_id": _text(client_batch_id, 200), "lake_batch_id": lake_batch_id,
        "source": _text(source, 300) or "", "rows_received": int(rows_received), **counts,
        "rejections_kept": len(kept), "refusal": _text(refusal, 2000),
        "received_at": received_at or utcnow()})
    submission_id = int(result.scalar_one())
    if kept:
        for row in kept:
            row["submission_id"] = submission_id
        session.execute(insert(MonitoringRejection), kept)
    return submission_id


def submission_dict(row: MonitoringSubmission) -> dict[str, Any]:
    """A submission as the API and the web show it (times ISO 8601 UTC)."""
    return {"id": int(row.id), "enterprise_id": row.enterprise_id, "channel": row.channel, "status": row.status,
            "submitted_by": row.submitted_by, "token_prefix": row.token_prefix,
            "client_batch_id": row.client_batch_id, "lake_batch_id": row.lake_batch_id, "source": row.source,
            "rows_received": row.rows_received, "accepted": row.accepted, "duplicate": row.duplicate,
            "revised": row.revised, "rejected": row.rejected, "rejections_kept": row.rejections_kept,
            "refusal": row.refusal, "received_at": row.received_at.isoformat()}


def _scoped(statement, enterprise_ids: Collection[str] | None):
    if enterprise_ids is None:
        return statement
    return statement.where(MonitoringSubmission.enterprise_id.in_(sorted(set(enterprise_ids))))


def list_submissions(session: Session, *, enterprise_ids: Collection[str] | None, enterprise_id: str | None = None,
                     channel: str | None = None, status: str | None = None, limit: int = 50,
                     offset: int = 0, count_limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """The visible submissions, newest first, and how many there are in all (for paging).

    ``enterprise_ids`` is the caller's scope (None: every submission); ``enterprise_id``, ``channel`` and
    ``status`` narrow it further. ``count_limit``: count at most that many + 1 (a total above the limit means
    "more than it"): the office's unfiltered list of a city's year is tens of millions of rows, and counting
    them all on every page costs seconds."""
    statement = _scoped(select(MonitoringSubmission), enterprise_ids)
    if enterprise_id is not None:
        statement = statement.where(MonitoringSubmission.enterprise_id == enterprise_id)
    if channel is not None:
        statement = statement.where(MonitoringSubmission.channel == channel)
    if status is not None:
        statement = statement.where(MonitoringSubmission.status == status)
    counted = statement if count_limit is None else statement.limit(count_limit + 1)
    total = session.execute(select(func.count()).select_from(counted.subquery())).scalar_one()
    rows = session.scalars(statement.order_by(MonitoringSubmission.received_at.desc(),
                                              MonitoringSubmission.id.desc()).limit(limit).offset(offset))
    return [submission_dict(row) for row in rows], int(total)


def get_submission(session: Session, submission_id: int, *,
                   enterprise_ids: Collection[str] | None) -> dict[str, Any] | None:
    """One submission, or None when it does not exist or is outside the caller's scope (the same answer)."""
    statement = _scoped(select(MonitoringSubmission).where(MonitoringSubmission.id == submission_id),
                        enterprise_ids)
    row = session.scalars(statement).one_or_none()
    return None if row is None else submission_dict(row)


def list_rejections(session: Session, submission_id: int, *, limit: int = 100,
                    offset: int = 0) -> list[dict[str, Any]]:
    """The kept rejected rows of a submission in row order (check visibility with :func:`get_submission`)."""
    rows = session.scalars(select(MonitoringRejection).where(MonitoringRejection.submission_id == submission_id)
                           .order_by(MonitoringRejection.seq).limit(limit).offset(offset))
    return [{"row": row.row_number, "point_id": row.point_id, "field": row.field, "reason": row.reason}
            for row in rows]


def rejections_by_submission(session: Session, submission_ids: Collection[int], *,
                             first: int = 20) -> dict[int, list[dict[str, Any]]]:
    """The first ``first`` kept rejected rows of each of ``submission_ids`` in one query (a page of them)."""
    if not submission_ids:
        return {}
    rows = session.scalars(select(MonitoringRejection).where(
        MonitoringRejection.submission_id.in_(sorted(set(submission_ids))), MonitoringRejection.seq <= first)
        .order_by(MonitoringRejection.submission_id, MonitoringRejection.seq))
    found: dict[int, list[dict[str, Any]]] = {int(i): [] for i in submission_ids}
    for row in rows:
        found[int(row.submission_id)].append({"row": row.row_number, "point_id": row.point_id, "field": row.field,
                                              "reason": row.reason})
    return found


def recorded_lake_batches(session: Session, lake_batch_ids: Collection[str]) -> set[str]:
    """Which of these lake batches have a submission record (the others were stored before submissions were
    recorded, or by a run without a store)."""
    if not lake_batch_ids:
        return set()
    return set(session.scalars(select(MonitoringSubmission.lake_batch_id).where(
        MonitoringSubmission.lake_batch_id.in_(sorted(set(lake_batch_ids))))))


def prune_submissions(session: Session, *, before: datetime, actor: Any, reason: str | None = None
                      ) -> dict[str, Any]:
    """Delete the submissions received before ``before`` and their kept rejected rows, with one audit row (the
    cut-off and the counts), in the session's transaction: all or nothing.

    Retention of the delivery records only: the readings in the lake and the lake's ingest ledger (which batch
    wrote which part) are not touched. A 1 000-unit city at 15 minutes records ~35 M submissions a year."""
    from citycarbon.store import audit

    old = select(MonitoringSubmission.id).where(MonitoringSubmission.received_at < before)
    rejections = session.execute(delete(MonitoringRejection).where(MonitoringRejection.submission_id.in_(old))
                                 .execution_options(synchronize_session=False)).rowcount
    submissions = session.execute(delete(MonitoringSubmission).where(MonitoringSubmission.received_at < before)
                                  .execution_options(synchronize_session=False)).rowcount
    summary = {"before": before.isoformat(), "submissions": int(submissions), "rejections": int(rejections)}
    audit.record(session, actor, "prune", "monitoring_submissions", None, after=summary, reason=reason)
    return summary

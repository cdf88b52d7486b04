"""Ingest of meter readings as one use case for every channel: scope, ingest, submission record, audit.

HTTP (``POST /api/v1/monitoring/readings``), MQTT and file backfills all come here. The caller's scope is
applied once: an enterprise's sender writes only its own points (``enterprise_id`` restricts the batch; rows of
another enterprise are rejected with the reason), an administrator may write any enterprise's points. Every
batch — stored, nothing new, or refused whole — is recorded as a submission with its first rejected rows
(``store/monitoring_submissions.py``), and a stored batch is audited in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.ingest import (
    DEFAULT_FUTURE_MARGIN,
    MAX_BATCH_ROWS,
    MAX_PAYLOAD_BYTES,
    BatchRefused,
    IngestReport,
    ingest_frame,
    parse_readings_payload,
)

__all__ = ["IngestOutcome", "NotFound", "Sender", "SubmissionRecorder", "ingest_payload", "ingest_reading_files",
           "prune_submissions", "reading_files", "record_refusal", "registry_source", "submission_recorder",
           "submission_scope"]

log = logging.getLogger("citycarbon.services.monitoring")

#: records one submission (the keyword arguments of ``store.monitoring_submissions.record_submission`` without
#: the session) and returns its id; what the MQTT adapter is given instead of the store
SubmissionRecorder = Callable[..., int | None]


class NotFound(LookupError):
    """The object does not exist or is not the caller's (the same answer: existence is not leaked)."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Sender:
    """Who sends a batch: the principal, the enterprise the batch is restricted to (None: an administrator's
    batch for any enterprise), the channel and the API token's public prefix."""

    principal: Principal
    enterprise_id: str | None
    token_prefix: str | None = None
    channel: str = "http"

    @classmethod
    def of(cls, principal: Principal, token_prefix: str | None = None, channel: str = "http") -> Sender | None:
        """The sender ``principal`` may be: an enterprise write token for its own enterprise, an administrator for
        any; None for everyone else (the face answers 403)."""
        if principal.role is Role.enterprise and principal.can_write_enterprise(str(principal.enterprise_id)):
            return cls(principal, str(principal.enterprise_id), token_prefix, channel)
        if principal.is_admin and principal.can_write:  # the city office may backfill for any enterprise
            return cls(principal, None, token_prefix, channel)
        return None

    @property
    def source(self) -> str:
        return f"{self.channel}:{self.principal.username}"


@dataclass(frozen=True)
class IngestOutcome:
    """What one batch came to: the lake's report, the client's batch id and the submission record's id."""

    report: IngestReport
    client_batch_id: str | None
    submission_id: int | None


def submission_recorder(db: Any) -> SubmissionRecorder:
    """A recorder writing submissions into ``db`` (one write transaction each). A batch that reached the lake
    (``lake_batch_id``) is audited in the same transaction, as :func:`ingest_payload` audits an HTTP batch: the
    MQTT adapter and file backfills write through here."""
    from citycarbon.store import audit
    from citycarbon.store.monitoring_submissions import record_submission

    def record(**fields: Any) -> int | None:
        with db.session(write=True) as session:
            submission_id = record_submission(session, **fields)
            if fields.get("lake_batch_id") is not None:
                audit.record(session, fields["submitted_by"], "ingest", "meter_readings", fields["lake_batch_id"],
                             after={**(fields.get("counts") or {}), "enterprise_id": fields.get("enterprise_id"),
                                    "client_batch_id": fields.get("client_batch_id"),
                                    "submission_id": submission_id, "channel": fields.get("channel")},
                             reason=f"monitoring readings batch ({fields.get('source')})")
            return submission_id

    return record


def record_refusal(db: Any, sender: Sender, refused: BatchRefused) -> int | None:
    """Record a batch refused whole (too large, bad JSON, wrong shape) as a submission; returns its id. A store
    failure is logged and None returned (the refusal, not the record, is the caller's answer)."""
    try:
        return submission_recorder(db)(
            channel=sender.channel, submitted_by=sender.principal.username, enterprise_id=sender.enterprise_id,
            token_prefix=sender.token_prefix, rows_received=0, source=sender.source,
            refusal=refused.reason if refused.field is None else f"{refused.field}: {refused.reason}")
    except Exception:
        log.exception("recording the refused batch of %s failed", sender.principal.username)
        return None


def _batch_enterprise(registry: Any, frame: pd.DataFrame) -> str | None:
    """The one enterprise whose registered points an administrator's batch names (None: none or several)."""
    owners = registry.points.set_index("point_id")["enterprise_id"]
    named = pd.unique(frame["point_id"][frame["point_id"].isin(owners.index)])
    found = set(owners.loc[named].astype(str)) if len(named) else set()
    return found.pop() if len(found) == 1 else None


def ingest_payload(db: Any, lake: Any, registry: Any, points: pd.DataFrame | None,
                   body: bytes | str | dict[str, Any],
                   sender: Sender, *, future_margin: timedelta = DEFAULT_FUTURE_MARGIN) -> IngestOutcome:
    """Parse a JSON batch, ingest it within the sender's scope, record the submission and audit a stored batch.

    Raises :class:`BatchRefused` (recorded first) when the batch is refused whole, :class:`NotFound` when there
    is no ``registry`` (none was ever imported)."""
    try:
        frame, batch_id = parse_readings_payload(body, max_rows=MAX_BATCH_ROWS, max_bytes=MAX_PAYLOAD_BYTES)
    except BatchRefused as refused:
        record_refusal(db, sender, refused)
        raise
    if registry is None:
        raise NotFound("monitoring registry")
    report = ingest_frame(lake, registry, frame, source=sender.source, enterprise_id=sender.enterprise_id,
                          batch_id=batch_id, points=points, future_margin=future_margin)
    owner = sender.enterprise_id if sender.enterprise_id is not None else _batch_enterprise(registry, frame)
    counts = {"accepted": report.accepted, "revised": report.revised, "duplicate": report.duplicate,
              "rejected": report.rejected}
    from citycarbon.store import audit
    from citycarbon.store.monitoring_submissions import record_submission

    with db.session(write=True) as session:
        submission_id = record_submission(
            session, channel=sender.channel, submitted_by=sender.principal.username, enterprise_id=owner,
            token_prefix=sender.token_prefix, client_batch_id=batch_id, lake_batch_id=report.batch_id,
            source=sender.source, rows_received=report.rows, counts=counts, rejected_rows=report.rejected_rows)
        if report.batch_id is not None:
            audit.record(session, sender.principal, "ingest", "meter_readings", report.batch_id,
                         after={**counts, "enterprise_id": sender.enterprise_id, "client_batch_id": batch_id,
                                "submission_id": submission_id},
                         reason="monitoring readings batch")
    return IngestOutcome(report, batch_id, submission_id)


def reading_files(paths: Iterable[Path]) -> list[Path]:
    """The reading files of ``paths`` (folders searched for ``.csv``, ``.parquet``, ``.xlsx``)."""
    from citycarbon.monitoring.ingest import FILE_SUFFIXES

    paths = list(paths)
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in FILE_SUFFIXES and p.is_file())
        else:
            files.append(path)
    if not files:
        raise InputError(Problem("no .csv, .parquet or .xlsx readings given", file=", ".join(map(str, paths))))
    return files


def ingest_reading_files(lake: Any, registry: Any, paths: Iterable[Path], *, db: Any | None, actor: str,
                         future_margin: timedelta = DEFAULT_FUTURE_MARGIN, **options: Any) -> dict[str, IngestReport]:
    """Backfill reading files (each in chunks, each chunk one durable batch) and, with a store ``db``, record one
    submission (channel ``file``) per file with its first rejected rows; the reports by file. ``options`` go to
    :func:`~citycarbon.monitoring.ingest.ingest_files` (``chunk_rows``, ``assume_timezone``, ``now``)."""
    from citycarbon.monitoring.ingest import ingest_files

    reports = ingest_files(lake, registry, reading_files(paths), future_margin=future_margin, **options)
    if db is not None:
        record = submission_recorder(db)
        for name, report in reports.items():
            record(channel="file", submitted_by=actor, enterprise_id=None, rows_received=report.rows,
                   counts={k: getattr(report, k) for k in ("accepted", "duplicate", "revised", "rejected")},
                   rejected_rows=report.rejected_rows, lake_batch_id=report.batch_id,
                   source=f"file:{Path(name).name}")
    return reports


def registry_source(db: Any) -> Callable[[], tuple[int, Any]]:
    """``() -> (version, registry)`` of the store ``db`` (what the MQTT adapter asks before a message)."""
    from citycarbon.store.monitoring_registry import current_registry

    return lambda: current_registry(db)


def prune_submissions(db: Any, *, older_than_days: int, actor: str, reason: str | None = None) -> dict[str, Any]:
    """Delete the submission records received more than ``older_than_days`` ago (one audited transaction; the
    readings in the lake are not touched); the summary."""
    from datetime import UTC, datetime

    from citycarbon.store.monitoring_submissions import prune_submissions as prune

    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    with db.session(write=True) as session:
        return prune(session, before=cutoff, actor=actor, reason=reason)


def submission_scope(principal: Principal, visible_enterprises: Callable[[], Collection[str]]) -> set[str] | None:
    """The enterprises whose submissions ``principal`` may see: None (all) for the city office (admin, analyst),
    the own enterprise for an enterprise user, ``visible_enterprises()`` for a district user, none for a viewer."""
    if principal.city_wide:
        return None
    if principal.role is Role.enterprise:
        return {str(principal.enterprise_id)}
    if principal.role is Role.district:
        return {str(e) for e in visible_enterprises()}
    return set()

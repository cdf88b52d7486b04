"""Jobs: long-running work (ensembles, rollups, reports) that the API answers with 202 and a job id to poll.

``queued`` → ``running`` → ``done`` (with ``result``) | ``failed`` (with ``error``). Every transition is
audited in the caller's transaction.
"""

from __future__ import annotations

import builtins
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycarbon.errors import InputError, Problem
from citycarbon.store import audit
from citycarbon.store.models import Job
from citycarbon.store.types import utcnow

__all__ = ["STATUSES", "as_dict", "create", "fail", "finish", "get", "list", "list_jobs", "set_progress", "start"]

STATUSES = ("queued", "running", "done", "failed")


def as_dict(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "params": job.params, "status": job.status, "result": job.result,
            "error": job.error, "created_by": job.created_by, "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at, "progress": job.progress}


def _job(session: Session, job_id: str) -> Job:
    job = session.get(Job, str(job_id))
    if job is None:
        raise InputError(Problem(f"no job {job_id}", field="job_id", value=job_id))
    return job


def _move(session: Session, job: Job, allowed: tuple[str, ...], to: str, actor: Any, after: dict[str, Any]) -> None:
    if job.status not in allowed:
        raise InputError(Problem(f"job {job.id} is {job.status}; cannot become {to}", field="status",
                                 value=job.status))
    before = job.status
    job.status = to
    session.flush()
    audit.record(session, actor, f"job.{to}", "job", job.id, {"status": before}, {"status": to, **after})


def create(session: Session, kind: str, params: dict[str, Any] | None = None, *, actor: Any) -> Job:
    """A queued job; its id is a random UUID (not guessable)."""
    name, _ = audit.actor_of(actor)
    job = Job(id=str(uuid.uuid4()), kind=kind, params=dict(params or {}), status="queued", created_by=name,
              created_at=utcnow())
    session.add(job)
    session.flush()
    audit.record(session, actor, "job.create", "job", job.id, None, {"kind": kind, "params": job.params})
    return job


def start(session: Session, job_id: str, *, actor: Any = "system") -> Job:
    job = _job(session, job_id)
    job.started_at = utcnow()
    _move(session, job, ("queued",), "running", actor, {})
    return job


def finish(session: Session, job_id: str, result: Any, *, actor: Any = "system") -> Job:
    job = _job(session, job_id)
    job.result = result
    job.finished_at = utcnow()
    _move(session, job, ("queued", "running"), "done", actor, {})
    return job


def fail(session: Session, job_id: str, error: str, *, actor: Any = "system") -> Job:
    job = _job(session, job_id)
    job.error = str(error)
    job.finished_at = utcnow()
    _move(session, job, ("queued", "running"), "failed", actor, {"error": job.error[:500]})
    return job


def set_progress(session: Session, job_id: str, done: int, total: int, step: str = "") -> Job:
    """Record how far a running job is (not audited: progress is not a write of the job's outcome)."""
    job = _job(session, job_id)
    job.progress = {"done": int(done), "total": int(total), "step": str(step)[:200]}
    session.flush()
    return job


def get(session: Session, job_id: str) -> Job:
    """The job (raises :class:`InputError` when there is none)."""
    return _job(session, job_id)


def list_jobs(session: Session, *, kind: str | None = None, status: str | None = None, created_by: str | None = None,
              limit: int = 50, offset: int = 0) -> builtins.list[Job]:
    """Jobs, newest first."""
    statement = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    if kind:
        statement = statement.where(Job.kind == kind)
    if status:
        statement = statement.where(Job.status == status)
    if created_by:
        statement = statement.where(Job.created_by == created_by)
    return builtins.list(session.execute(statement).scalars())


list = list_jobs  # jobs.list; shadows the builtin in this module

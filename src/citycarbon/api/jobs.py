"""Long jobs: 202 + job id, polled at ``GET /api/v1/jobs/{id}``.

A small thread pool (2 workers: the API itself must stay responsive on a 2-core machine) runs the work;
the status lives in the store's ``jobs`` table (:mod:`citycarbon.store.jobs`, every transition audited;
``queued`` → ``running`` → ``done`` | ``failed``), so any
process (another uvicorn worker, the CLI) can answer a poll.

Restart behaviour: jobs run in the server process. A job that was ``queued`` or ``running`` when the process
stopped is marked ``failed`` with the error "interrupted by a restart; submit it again" at the next start
(:meth:`JobRunner.recover`); it is not re-run automatically, because a re-run (e.g. a recomputation after
an approval) is cheap to ask for and a silent re-run of a half-done job could surprise its owner.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from citycarbon.api.envelope import jsonable

log = logging.getLogger("citycarbon.api")

INTERRUPTED = "interrupted by a restart; submit it again"
WORKERS = 2


def _now() -> datetime:
    return datetime.now(UTC)


def job_view(job: Any) -> dict:
    return {"id": job.id, "kind": job.kind, "status": job.status, "params": job.params or {},
            "result": job.result, "error": job.error, "created_by": job.created_by,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


class JobRunner:
    """Runs callables in a thread pool and persists their status in the ``jobs`` table."""

    def __init__(self, db: Any, workers: int = WORKERS):
        self.db = db
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self.started_at = _now()

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="citycarbon-job")
        return self._pool

    def submit(self, kind: str, params: dict, fn: Callable[[], Any], *, actor: Any) -> str:
        """Record a queued job (:func:`citycarbon.store.jobs.create`, audited) and run ``fn()`` in the pool;
        returns the job id. ``fn``'s JSON-able return value becomes the result; an exception fails the job
        (its message only; the traceback goes to the log)."""
        from citycarbon.store import jobs

        with self.db.session() as session:
            job_id = jobs.create(session, kind, jsonable(params), actor=actor).id
        self.pool.submit(self._run, job_id, fn)
        return job_id

    def _run(self, job_id: str, fn: Callable[[], Any]) -> None:
        from citycarbon.store import jobs

        with self.db.session() as session:
            jobs.start(session, job_id)
        try:
            result = fn()
        except Exception as error:  # a failed job is a state, not a crash of the server
            log.error("job %s failed: %s", job_id, "".join(traceback.format_exception_only(error)).strip())
            with self.db.session() as session:
                jobs.fail(session, job_id, str(error)[:2000] or error.__class__.__name__)
            return
        with self.db.session() as session:
            jobs.finish(session, job_id, jsonable(result))

    def get(self, job_id: str) -> dict | None:
        from citycarbon.store.models import Job

        with self.db.session() as session:
            job = session.get(Job, job_id)
            return job_view(job) if job is not None else None

    def recover(self) -> int:
        """Mark jobs left queued/running by a previous process as failed; returns how many. Only jobs created
        before this runner started count, so a second uvicorn worker starting up leaves the first's alone."""
        from citycarbon.store import jobs
        from citycarbon.store.models import Job

        with self.db.session() as session:
            stale = list(session.scalars(select(Job.id).where(Job.status.in_(("queued", "running")),
                                                              Job.created_at < self.started_at)))
            for job_id in stale:
                jobs.fail(session, job_id, INTERRUPTED)
        return len(stale)

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for every submitted job (tests, shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def pending(self) -> list[str]:
        from citycarbon.store.models import Job

        with self.db.session() as session:
            return list(session.scalars(select(Job.id).where(Job.status.in_(("queued", "running")))))

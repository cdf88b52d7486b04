"""Long jobs as a service: submit work to a small thread pool, read a job with the caller's scope, recover after a
restart. The API answers 202 + job id and a poll at ``GET /api/v1/jobs/{id}`` (``api/routers/jobs.py``); the
import approval queues the recompute through :func:`submit_recompute` too.

A small thread pool (2 workers: the API itself must stay responsive on a 2-core machine) runs the work;
the status lives in the store's ``jobs`` table (:mod:`citycarbon.store.jobs`, every transition audited;
``queued`` → ``running`` → ``done`` | ``failed``), so any process (another uvicorn worker, the CLI) can answer a
poll.

Who may do what (applied here, once):

* **read** a job (:func:`get_job`): its creator, or an administrator; anyone else gets :class:`NotFound` (a job's
  existence is not leaked).
* **start the city-wide recompute** (:func:`submit_recompute`): :meth:`Principal.can_start_city_jobs` (the city
  office and analysts with write access); an enterprise's or a district's token is :class:`Forbidden`.

Restart behaviour: jobs run in the server process. A job that was ``queued`` or ``running`` when the process
stopped is marked ``failed`` with the error :data:`INTERRUPTED` at the next start (:meth:`JobRunner.recover`); it
is not re-run automatically, because a re-run (e.g. a recomputation after an approval) is cheap to ask for and a
silent re-run of a half-done job could surprise its owner.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from citycarbon.auth.principal import Principal
from citycarbon.errors import Forbidden, NotFound
from citycarbon.services.encoding import jsonable
from citycarbon.store import jobs
from citycarbon.store.models import Job

if TYPE_CHECKING:
    from citycarbon.services.results import Results
    from citycarbon.store.db import Database

__all__ = ["INTERRUPTED", "WORKERS", "JobInfo", "JobRunner", "get_job", "require_city_jobs", "submit_recompute"]

log = logging.getLogger("citycarbon.api")

INTERRUPTED = "interrupted by a restart; submit it again"
WORKERS = 2


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True)
class JobInfo:
    """A job as a caller sees it: its status, parameters, result (JSON values) or error, owner and times."""

    id: str
    kind: str
    status: str
    created_by: str | None
    params: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: {"done": n, "total": m, "step": "…"} while a tracked job runs (None for untracked jobs)
    progress: dict[str, Any] | None = None

    @classmethod
    def of(cls, job: Job) -> JobInfo:
        return cls(id=job.id, kind=job.kind, status=job.status, created_by=job.created_by,
                   params=dict(job.params or {}), result=job.result, error=job.error, created_at=job.created_at,
                   started_at=job.started_at, finished_at=job.finished_at,
                   progress=dict(job.progress) if job.progress else None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the API has always answered for a job."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "params": self.params,
                "result": self.result, "error": self.error, "created_by": self.created_by,
                "created_at": _iso(self.created_at), "started_at": _iso(self.started_at),
                "finished_at": _iso(self.finished_at), "progress": self.progress}


class JobRunner:
    """Runs callables in a thread pool and persists their status in the ``jobs`` table (the app owns one,
    ``app.state.jobs``)."""

    def __init__(self, db: Database, workers: int = WORKERS):
        self.db = db
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self.started_at = _now()

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="citycarbon-job")
        return self._pool

    def submit(self, kind: str, params: dict[str, Any], fn: Callable[[], Any], *, actor: Any) -> str:
        """Record a queued job (:func:`citycarbon.store.jobs.create`, audited) and run ``fn()`` in the pool;
        returns the job id. ``fn``'s JSON-able return value becomes the result; an exception fails the job
        (its message only; the traceback goes to the log)."""
        with self.db.session() as session:
            job_id = str(jobs.create(session, kind, jsonable(params), actor=actor).id)
        self.pool.submit(self._run, job_id, fn)
        return job_id

    def submit_tracked(self, kind: str, params: dict[str, Any], fn: Callable[[Callable[[int, int, str], None]], Any],
                       *, actor: Any) -> str:
        """Like :meth:`submit`, for work that reports its progress: ``fn(progress)`` calls
        ``progress(done, total, step)`` as it goes (stored on the job; a poll shows it)."""
        holder: dict[str, str] = {}

        def progress(done: int, total: int, step: str = "") -> None:
            with self.db.session() as session:
                jobs.set_progress(session, holder["id"], done, total, step)

        with self.db.session() as session:
            job_id = str(jobs.create(session, kind, jsonable(params), actor=actor).id)
        holder["id"] = job_id
        self.pool.submit(self._run, job_id, lambda: fn(progress))
        return job_id

    def _run(self, job_id: str, fn: Callable[[], Any]) -> None:
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

    def get(self, job_id: str) -> JobInfo | None:
        """A job whoever asks (no scope: :func:`get_job` is the callers' door)."""
        with self.db.session() as session:
            job = session.get(Job, job_id)
            return JobInfo.of(job) if job is not None else None

    def recover(self) -> int:
        """Mark jobs left queued/running by a previous process as failed; returns how many. Only jobs created
        before this runner started count, so a second uvicorn worker starting up leaves the first's alone."""
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
        with self.db.session() as session:
            return list(session.scalars(select(Job.id).where(Job.status.in_(("queued", "running")))))


def get_job(runner: JobRunner, principal: Principal, job_id: str) -> JobInfo:
    """A job for ``principal``: its own, or any for an administrator; anything else is :class:`NotFound`."""
    job = runner.get(job_id)
    if job is None or not (principal.is_admin or job.created_by == principal.username):
        raise NotFound("job not found")
    return job


def require_city_jobs(principal: Principal) -> Principal:
    """City-wide jobs: administrators and analysts with write access; else :class:`Forbidden` (an enterprise's or
    a district's token may write its own rows but not load the whole city's computation, whatever its scope)."""
    if not principal.can_start_city_jobs():
        raise Forbidden(f"全市重算任务只能由市双碳办或具有写权限的分析人员启动 / city-wide recompute jobs are "
                        f"started by the city office or an analyst with write access; a {principal.role.value} "
                        f"{principal.via} may not start them")
    return principal


def submit_recompute(runner: JobRunner, results: Results, principal: Principal) -> str:
    """Queue the city-wide recompute of every everyday result of the current ledger version for ``principal``;
    returns the job id (:func:`require_city_jobs` first: nothing queued, nothing written on a refusal; a caller
    scoped to another city than the one ``results`` serves is refused too)."""
    from citycarbon.services.cities import require_city

    require_city_jobs(principal)
    if principal.city is not None:  # an unscoped caller reaches every city
        require_city(principal, str(getattr(results, "city", "")))

    def work() -> dict[str, Any]:
        version = results.warm()
        return {"ledger_version": version, "years": sorted(results.accounting(version))}

    return runner.submit("recompute", {}, work, actor=principal.username)

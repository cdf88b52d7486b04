"""Background jobs started by a caller: the rule who may start which job, applied once.

``start_recompute`` queues the city-wide recompute of every result of the current ledger version (the API's
``POST /jobs/recompute`` and the approval of an import call it). It is city-wide work: only the city office and
analysts with write access may start it (:meth:`Principal.can_start_city_jobs`); an enterprise's or a district's
token may write its own rows but must not be able to load the whole city's computation (:class:`Forbidden`,
nothing queued, nothing written).

The runner (``jobs``: ``submit(kind, params, fn, actor=…) -> job id``, it records the job, audited) and the result
cache (``results``: ``warm() -> version``, ``accounting(version)``) are the face's objects, passed in.
"""

from __future__ import annotations

from typing import Any

from citycarbon.auth.principal import Principal
from citycarbon.errors import Forbidden

__all__ = ["require_city_jobs", "start_recompute"]


def require_city_jobs(principal: Principal) -> Principal:
    """City-wide jobs: administrators and analysts with write access; else :class:`Forbidden`."""
    if not principal.can_start_city_jobs():
        raise Forbidden(f"全市重算任务只能由市双碳办或具有写权限的分析人员启动 / city-wide recompute jobs are "
                        f"started by the city office or an analyst with write access; a {principal.role.value} "
                        f"{principal.via} may not start them")
    return principal


def start_recompute(jobs: Any, results: Any, principal: Principal) -> str:
    """Queue the recompute of accounting and tracking for the current ledger version; the job id."""
    require_city_jobs(principal)

    def work() -> dict:
        version = results.warm()
        return {"ledger_version": version, "years": sorted(results.accounting(version))}

    return str(jobs.submit("recompute", {}, work, actor=principal.username))

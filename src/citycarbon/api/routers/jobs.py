"""Long jobs: poll ``GET /jobs/{id}``; ``POST /jobs/recompute`` recomputes every result of the current
ledger version in the background (202 + job id)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from citycarbon.api.deps import get_principal, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.errors import ApiError, not_found
from citycarbon.auth.principal import Principal

router = APIRouter(tags=["jobs"])
PERMISSIONS = {("GET", "/jobs/{job_id}"): "read", ("POST", "/jobs/recompute"): "city_job"}


def submit_recompute(request: Request, principal: Principal) -> str:
    """Queue the city-wide recompute for ``principal`` (403 unless it may start city-wide jobs: an enterprise's or
    a district's token may not, whatever its scope)."""
    if not principal.can_start_city_jobs():
        raise ApiError(403, f"city-wide recompute jobs are started by the city office or an analyst with write "
                            f"access; a {principal.role.value} {principal.via} may not start them",
                       code="forbidden")
    results = request.app.state.results

    def work() -> dict:
        version = results.warm()
        return {"ledger_version": version, "years": sorted(results.accounting(version))}

    return request.app.state.jobs.submit("recompute", {}, work, actor=principal.username)


@router.post("/jobs/recompute", status_code=202, response_model=Envelope[dict[str, Any]])
def recompute(request: Request, principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Recompute accounting and tracking for the current ledger version (e.g. after an approval). City-wide:
    administrators and analysts with write access only (403 for enterprise and district tokens)."""
    job_id = submit_recompute(request, principal)
    return respond({"job_id": job_id, "status": "queued", "poll": f"/api/v1/jobs/{job_id}"}, status_code=202)


@router.get("/jobs/{job_id}", response_model=Envelope[dict[str, Any]])
def get_job(request: Request, job_id: str = Path(max_length=36, pattern=r"^[0-9a-f-]{36}$"),
            principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """A job's status and result. Callers see their own jobs; admins see all (others: 404)."""
    job = request.app.state.jobs.get(job_id)
    if job is None or not (principal.is_admin or job["created_by"] == principal.username):
        raise not_found("job")
    return respond(job)

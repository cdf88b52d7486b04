"""Long jobs: poll ``GET /jobs/{id}``; ``POST /jobs/recompute`` recomputes every result of the current
ledger version in the background (202 + job id)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from citycarbon.api.deps import get_principal, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.errors import not_found
from citycarbon.auth.principal import Principal

router = APIRouter(tags=["jobs"])
PERMISSIONS = {("GET", "/jobs/{job_id}"): "read", ("POST", "/jobs/recompute"): "city_job"}


def submit_recompute(request: Request, principal: Principal) -> str:
    """Queue the city-wide recompute for ``principal`` through :func:`citycarbon.services.jobs.start_recompute`
    (which refuses, 403, a caller that may not start city-wide jobs: an enterprise's or a district's token)."""
    from citycarbon.services.jobs import start_recompute

    return start_recompute(request.app.state.jobs, request.app.state.results, principal)


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

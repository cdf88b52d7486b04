"""Long jobs: poll ``GET /jobs/{id}``; ``POST /jobs/recompute`` recomputes every result of the current
ledger version in the background (202 + job id)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from citycarbon.api.deps import get_jobs, get_principal, get_results, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.auth.principal import Principal
from citycarbon.services import jobs as service

router = APIRouter(tags=["jobs"])
PERMISSIONS = {("GET", "/jobs/{job_id}"): "read", ("POST", "/jobs/recompute"): "city_job"}


def submit_recompute(request: Request, principal: Principal) -> str:
    """Queue the city-wide recompute for ``principal`` (:func:`citycarbon.services.jobs.submit_recompute`: 403
    unless it may start city-wide jobs)."""
    return service.submit_recompute(get_jobs(request), get_results(request), principal)


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
    return respond(service.get_job(get_jobs(request), principal, job_id).to_dict())

"""The budget check of a project and the pipeline view (issue 15 item 4 and the pipeline chart of item 7).

``GET /projects/pipeline``         pending and approved projects by state group, district and industry division
                                   against the remaining room of ``year`` (2025 by default)
``GET /projects/{code}/budget``    a project's effect on the city's and its district's dual-control position in
                                   2025 and 2030 (``year`` for one year only)

This module is named ``project_budget`` so that it is mounted before ``projects`` (routers are mounted in
alphabetical order and FastAPI matches in registration order): ``/projects/pipeline`` is matched here before
the registry's ``/projects/{code}`` could take ``pipeline`` for a project code.

Scope is the service's (:mod:`citycarbon.services.projects.budget`): a project the caller may not read is 404;
viewers get 403 for a project and the city aggregate for the pipeline; district users their districts' rows;
enterprise users 403 for the pipeline.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from citycarbon.api.deps import get_database, get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.auth.principal import Principal
from citycarbon.services.projects import budget as service

router = APIRouter(tags=["projects"])
PERMISSIONS = {
    ("GET", "/projects/pipeline"): "governance",  # every role but enterprise users (the service refuses them)
    ("GET", "/projects/{code}/budget"): "read",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
CODE = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="the project's code, e.g. XM-2026-0001")


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


@router.get("/projects/pipeline", response_model=Envelope[dict[str, Any]])
def get_pipeline(request: Request, year: int = Query(2025, ge=2000, le=2100, description="the year of the room "
                                                                                         "(2025 or 2030)"),
                 city: str | None = Query(None, pattern=CITY_PATTERN),
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every pending (submitted, incomplete, under review) and approved (approved, with conditions, commissioned,
    accepted) project: count, dual-control tce and CO2 by state group, district and industry division (GB/T 4754
    division), those commissioned by ``year`` counted against the room: the target-implied allowance (base-year
    intensity × (1 − the intensity target) × projected GDP) less the projected consumption, then after the
    approved and after approved + pending projects. District users get their districts; enterprise users 403."""
    where = _city(request, city)
    found = service.pipeline(get_database(request), principal, where, year=year)
    return respond(found, parameters={"city": where, "year": year})


@router.get("/projects/{code}/budget", response_model=Envelope[dict[str, Any]])
def get_budget(request: Request, code: str = CODE,
               year: int | None = Query(None, ge=2000, le=2100, description="one year only (default: 2025 and 2030)"),
               city: str | None = Query(None, pattern=CITY_PATTERN),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Project ``code``'s effect on the dual-control position of the city and of its district: for each year,
    without and with the project, the dual-control energy total (feedstock and renewable increment excluded),
    the energy intensity and its fall against the base year vs the target, CO2 and CO2 intensity, the warning
    level and whether the project moves it. The project counts from its expected commissioning year (its
    ``commissioning`` field, else the application year + 2, an assumption marked as such)."""
    where = _city(request, city)
    found = service.budget_check(get_database(request), principal, where, code,
                                 years=(year,) if year is not None else service.YEARS)
    return respond(found, parameters={"city": where, "code": code, "year": year})

"""Target values set in the platform: the values the plan leaves to the province, and district allocations.

Every caller reads the targets of a city in its scope (a user scoped to another city: 403); only the office
(administrators with a write scope, within their city) sets values. Each endpoint parses, calls one function of
:mod:`citycarbon.services.targets` (rules, versioning and the audit live there) and renders."""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDateTime
from citycarbon.auth.principal import Principal
from citycarbon.services import targets as service

router = APIRouter(tags=["targets"])
PERMISSIONS = {
    ("GET", "/targets"): "read", ("GET", "/targets/{target_id}/history"): "read",
    ("POST", "/targets/{target_id}/values"): "admin_write",
    ("POST", "/targets/{target_id}/allocations"): "admin_write",
}

TARGET_ID = Path(min_length=1, max_length=128, pattern=r"^[a-z0-9_]+$")
CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


class ValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float = Field(allow_inf_nan=False, description="the value issued, in ``unit``")
    unit: str = Field(min_length=1, max_length=64, description="must convert to the target's unit (pint)")
    document: str = Field(min_length=1, max_length=200, description="the issuing document's number (文号)")
    date: Date | None = Field(None, description="the document's date")
    note: str | None = Field(None, max_length=1000)
    city: str | None = Field(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")


class AllocationIn(ValueIn):
    district: str = Field(pattern=r"^\d{6}$", description="the district's GB/T 2260 code")


@router.get("/targets", response_model=Envelope[list[dict[str, Any]]])
def list_targets(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
                 as_of: IsoDateTime | None = Query(None, description="as known at this moment (ISO 8601 with time "
                                                                      "zone)"),
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every target of the city's plan with its value and where it comes from: ``plan``, ``set`` (who set it,
    with which document and date) or ``pending`` (待省政府下达)."""
    found = service.list_targets(get_database(request), principal, _city(request, city), as_of=as_of)
    return respond([t.to_dict() for t in found], parameters={"city": _city(request, city),
                                                               "as_of": as_of.isoformat() if as_of else None})


@router.get("/targets/{target_id}/history", response_model=Envelope[list[dict[str, Any]]])
def target_history(request: Request, target_id: str = TARGET_ID,
                   city: str | None = Query(None, pattern=CITY_PATTERN),
                   district: str | None = Query(None, pattern=r"^\d{6}$"),
                   principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every version of a set value (or of a district's allocation), oldest first."""
    found = service.target_history(get_database(request), principal, _city(request, city), target_id, district)
    return respond([v.to_dict() for v in found])


@router.post("/targets/{target_id}/values", status_code=201, response_model=Envelope[dict[str, Any]])
def set_value(body: ValueIn, request: Request, target_id: str = TARGET_ID,
              principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Set (a new version of) a target's value as issued by a document; the office only (403 otherwise)."""
    found = service.set_target_value(get_database(request), principal, _city(request, body.city), target_id,
                                     value=body.value, unit=body.unit, document=body.document,
                                     document_date=body.date, note=body.note)
    request.app.state.results.refresh()  # this process sees the new ledger version at once
    return respond(found.to_dict(), status_code=201)


@router.post("/targets/{target_id}/allocations", status_code=201, response_model=Envelope[dict[str, Any]])
def set_allocation(body: AllocationIn, request: Request, target_id: str = TARGET_ID,
                   principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Set a district's allocation of a city target; the office only."""
    found = service.set_allocation(get_database(request), principal, _city(request, body.city), body.district,
                                   target_id, value=body.value, unit=body.unit, document=body.document,
                                   document_date=body.date, note=body.note)
    request.app.state.results.refresh()  # this process sees the new ledger version at once
    return respond(found.to_dict(), status_code=201)

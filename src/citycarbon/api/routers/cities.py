"""The cities of a deployment: list them (a user scoped to a city sees its own), create one from its plan file
(the deployment's administrators), scope a user to a city. Calls :mod:`citycarbon.services.cities`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write, token_cache
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.auth.principal import Principal
from citycarbon.services import cities as service

router = APIRouter(tags=["cities"])
PERMISSIONS = {
    ("GET", "/cities"): "read", ("GET", "/cities/{code}"): "read",
    ("POST", "/cities"): "admin_write", ("PUT", "/users/{username}/city"): "admin_write",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
CODE = Path(min_length=1, max_length=64)


class CityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CITY_PATTERN, description="the city's code")
    plan: str = Field(min_length=1, max_length=2_000_000, description="the plan file's text (YAML)")
    accounting: str | None = Field(None, max_length=200_000, description="the accounting profile (YAML)")


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str | None = Field(None, pattern=CITY_PATTERN, description="the city; null: every city")


@router.get("/cities", response_model=Envelope[list[dict[str, Any]]])
def list_cities(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The cities of this deployment the caller may see, with what their ledgers hold."""
    return respond([c.to_dict() for c in service.list_cities(get_database(request), principal)])


@router.get("/cities/{code}", response_model=Envelope[dict[str, Any]])
def get_city(request: Request, code: str = CODE, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One city (403 for a user scoped to another city)."""
    return respond(service.city_info(get_database(request), principal, code).to_dict())


@router.post("/cities", status_code=201, response_model=Envelope[dict[str, Any]])
def create_city(body: CityIn, request: Request,
                principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Create a city from its plan (validated: 422 naming line and field) with an EMPTY ledger."""
    found = service.init_city_text(get_database(request), principal, code=body.code, plan=body.plan,
                                   accounting=body.accounting)
    return respond(found.to_dict(), status_code=201)


@router.put("/users/{username}/city", response_model=Envelope[dict[str, Any]])
def scope_user(body: ScopeIn, request: Request,
               username: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"),
               principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Scope a user to one city (or to every city); the deployment's administrators only."""
    done = service.assign_user_city(get_database(request), principal, username, body.city)
    token_cache(request).clear()  # a cached token must not keep the old scope
    return respond(done)

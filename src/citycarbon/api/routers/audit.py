"""The audit log (admins): filtered, paged rows and the hash-chain check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_database, require_admin
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.routers._common import IsoDateTime, page_params
from citycarbon.auth.principal import Principal
from citycarbon.services import audit as service

router = APIRouter(tags=["audit"], dependencies=[Depends(require_admin)])
PERMISSIONS = {("GET", "/audit"): "admin", ("GET", "/audit/verify"): "admin"}


@router.get("/audit", response_model=Envelope[list[dict[str, Any]]])
def list_audit(request: Request, pages: tuple[int, int] = Depends(page_params),
               actor: str | None = Query(None, max_length=128), entity: str | None = Query(None, max_length=64),
               action: str | None = Query(None, max_length=64), entity_id: str | None = Query(None, max_length=128),
               since: IsoDateTime | None = Query(None, description="ISO 8601 with a time zone, inclusive"),
               until: IsoDateTime | None = Query(None, description="ISO 8601 with a time zone, exclusive"),
               principal: Principal = Depends(require_admin)) -> EnvelopeResponse:
    """Audit rows, newest first, with before/after of each write."""
    page, per_page = pages
    found = service.list_entries(get_database(request), principal, actor=actor, entity=entity, action=action,
                                 entity_id=entity_id, since=since, until=until, limit=per_page,
                                 offset=(page - 1) * per_page)
    return respond(found.entries, paging=paging(request, page, per_page, found.total))


@router.get("/audit/verify", response_model=Envelope[dict[str, Any]])
def verify_audit(request: Request, principal: Principal = Depends(require_admin)) -> EnvelopeResponse:
    """Walk the hash chain: ``ok``, rows checked, the first bad sequence number and why."""
    return respond(service.verify_chain(get_database(request), principal).to_dict())

"""The audit log (admins): filtered, paged rows and the hash-chain check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_database, require_admin
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.routers._common import IsoDateTime, page_params

router = APIRouter(tags=["audit"], dependencies=[Depends(require_admin)])
PERMISSIONS = {("GET", "/audit"): "admin", ("GET", "/audit/verify"): "admin"}


@router.get("/audit", response_model=Envelope[list[dict[str, Any]]])
def list_audit(request: Request, pages: tuple[int, int] = Depends(page_params),
               actor: str | None = Query(None, max_length=128), entity: str | None = Query(None, max_length=64),
               action: str | None = Query(None, max_length=64), entity_id: str | None = Query(None, max_length=128),
               since: IsoDateTime | None = Query(None, description="ISO 8601 with a time zone, inclusive"),
               until: IsoDateTime | None = Query(None, description="ISO 8601 with a time zone, exclusive")
               ) -> EnvelopeResponse:
    """Audit rows, newest first, with before/after of each write."""
    from citycarbon.store import audit

    page, per_page = pages
    filters = {"actor": actor, "entity": entity, "action": action, "entity_id": entity_id, "since": since,
               "until": until}
    with get_database(request).session() as session:
        total = audit.count(session, **filters)
        rows = audit.query(session, limit=per_page, offset=(page - 1) * per_page, **filters)
    return respond(rows, paging=paging(request, page, per_page, total))


@router.get("/audit/verify", response_model=Envelope[dict[str, Any]])
def verify_audit(request: Request) -> EnvelopeResponse:
    """Walk the hash chain: ``ok``, rows checked, the first bad sequence number and why."""
    from dataclasses import asdict

    from citycarbon.store import audit

    with get_database(request).session() as session:
        result = audit.verify(session)
    return respond(asdict(result))

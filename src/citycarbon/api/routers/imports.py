"""Statistics and energy-balance imports: upload → validate → preview → approve (admin) or discard.

``POST /imports`` (multipart: ``file``, optional ``kind`` balance|statistics, ``status``, ``mode``, ``reason``)
validates at once. A file with problems answers 422 naming file, row and field (the rejected batch is kept
for the record; nothing reaches the ledger); a valid one answers 201 with the preview of what approval
would change. District users may upload only rows of their own regions. Approval writes the ledger in one
transaction, which changes the ledger version, so every cached result is recomputed; the answer is 202 with
the id of a background job that warms the new results.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.errors import ApiError, forbidden, not_found
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import InputError, Problem

router = APIRouter(tags=["imports"])
PERMISSIONS = {("POST", "/imports"): "import", ("GET", "/imports"): "import_read",
               ("GET", "/imports/{batch_id}"): "import_read", ("POST", "/imports/{batch_id}/approve"): "approve",
               ("POST", "/imports/{batch_id}/discard"): "import"}

BATCH_ID = Path(ge=1, le=2**31 - 1)
IMPORT_ROLES = (Role.admin, Role.analyst, Role.district)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=500)


def _may_see(principal: Principal, batch: dict) -> bool:
    return principal.city_wide or batch.get("uploaded_by") == principal.username


def _readers(principal: Principal = Depends(get_principal)) -> Principal:
    if principal.role not in IMPORT_ROLES:
        raise forbidden("imports are for the city office, analysts and districts")
    return principal


def _importer(principal: Principal = Depends(get_principal)) -> Principal:
    if not principal.can_import_statistics():
        raise forbidden("this role or token scope may not import")
    return principal


def _approver(principal: Principal = Depends(get_principal)) -> Principal:
    if not principal.can_approve_import():
        raise forbidden("only administrators (with a write scope) approve imports")
    return principal


def _batch_or_404(session, batch_id: int, principal: Principal) -> dict:
    from citycarbon.store import imports

    try:
        batch = imports.get(session, batch_id)
    except InputError:
        raise not_found("import batch") from None
    if not _may_see(principal, batch):
        raise not_found("import batch")
    return batch


@router.post("/imports", status_code=201, response_model=Envelope[dict[str, Any]],
             responses={413: {"description": "file over the size limit"}})
async def upload(request: Request, file: UploadFile = File(description="CSV or Excel table"),
                 kind: Literal["balance", "statistics"] | None = Form(None),
                 status: Literal["official", "secondary", "unverified", "estimate"] = Form("official"),
                 mode: Literal["years", "all", "none"] = Form("years"),
                 reason: str | None = Form(None, max_length=500),
                 principal: Principal = Depends(_importer)) -> EnvelopeResponse:
    """Upload and validate a table; 201 with the preview, or 422 with every problem (file, row, field)."""
    content = await file.read()
    filename = (file.filename or "upload.csv")[:255]
    return await _run_sync(request, filename, content, kind, status, mode, reason, principal)


async def _run_sync(request: Request, filename: str, content: bytes, kind: str | None, status: str, mode: str,
                    reason: str | None, principal: Principal) -> EnvelopeResponse:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_create, request, filename, content, kind, status, mode, reason, principal)


def _create(request: Request, filename: str, content: bytes, kind: str | None, status: str, mode: str,
            reason: str | None, principal: Principal) -> EnvelopeResponse:
    from citycarbon.store import imports

    if not content:
        raise InputError(Problem("the file is empty", file=filename))
    if principal.role is Role.district and mode == "all":
        raise InputError(Problem("district users replace their regions' years only (mode=years)", field="mode",
                                 value=mode))
    with get_database(request).session() as session:
        batch = imports.create_batch(session, filename=filename, content=content, actor=principal, kind=kind,
                                     status=status, mode=mode, reason=reason)
        if batch["status"] == "validated" and principal.role is Role.district:
            foreign = [r for r in batch["preview"].get("regions", []) if not principal.can_write_region(str(r))]
            if foreign:  # raising rolls the whole upload back: nothing stored
                raise InputError(Problem(f"rows of region(s) {', '.join(map(str, foreign))} are not yours to import",
                                         file=filename, field="region", value=foreign[0]))
    if batch["status"] != "validated":
        problems = [Problem(p["message"], file=p.get("file"), row=p.get("row"), field=p.get("field"),
                            value=p.get("value"), suggestion=p.get("suggestion")) for p in batch["problems"]]
        first = str(problems[0]) if problems else "the file was rejected"
        raise ApiError(422, f"import batch {batch['id']} rejected: {first}", code="invalid_input", problems=problems)
    return respond(batch, status_code=201)


@router.get("/imports", response_model=Envelope[list[dict[str, Any]]])
def list_imports(request: Request, status: Literal["validated", "rejected", "approved", "discarded"] | None = Query(
        None), pages: tuple[int, int] = Depends(page_params), principal: Principal = Depends(_readers)
                 ) -> EnvelopeResponse:
    """Import batches, newest first (district users: their own uploads)."""
    from citycarbon.store import imports

    page, per_page = pages
    with get_database(request).session() as session:
        batches = [b for b in imports.list_batches(session, status=status, limit=10_000)
                   if _may_see(principal, b)]
    return respond(batches[(page - 1) * per_page: page * per_page],
                   paging=paging(request, page, per_page, len(batches)))


@router.get("/imports/{batch_id}", response_model=Envelope[dict[str, Any]])
def get_import(request: Request, batch_id: int = BATCH_ID, principal: Principal = Depends(_readers)
               ) -> EnvelopeResponse:
    """A batch with its problems and a fresh preview of what approving it would change now."""
    from citycarbon.store import imports

    with get_database(request).session() as session:
        batch = _batch_or_404(session, batch_id, principal)
        batch["preview_now"] = imports.preview(session, batch_id)
    return respond(batch)


@router.post("/imports/{batch_id}/approve", status_code=202, response_model=Envelope[dict[str, Any]])
def approve_import(request: Request, body: Decision | None = None, batch_id: int = BATCH_ID,
                   principal: Principal = Depends(_approver)) -> EnvelopeResponse:
    """Write the batch into the ledger (one transaction); 202 with the recompute job's id."""
    from citycarbon.api.routers.jobs import submit_recompute
    from citycarbon.store import imports

    reason = body.reason if body else None
    with get_database(request).session() as session:
        _batch_or_404(session, batch_id, principal)
        try:
            written = imports.approve(session, batch_id, actor=principal, reason=reason)
        except InputError as error:
            raise _conflict(error) from None
    request.app.state.results.refresh()  # this process sees the new ledger version at once
    job_id = submit_recompute(request, principal)
    return respond({"batch_id": batch_id, "ledger": written, "job_id": job_id, "poll": f"/api/v1/jobs/{job_id}"},
                   status_code=202)


@router.post("/imports/{batch_id}/discard", response_model=Envelope[dict[str, Any]])
def discard_import(request: Request, body: Decision | None = None, batch_id: int = BATCH_ID,
                   principal: Principal = Depends(_importer)) -> EnvelopeResponse:
    """Discard a batch that was not approved (the uploader, or an administrator)."""
    from citycarbon.store import imports

    reason = body.reason if body else None
    with get_database(request).session() as session:
        batch = _batch_or_404(session, batch_id, principal)
        if not (principal.is_admin or batch.get("uploaded_by") == principal.username):
            raise not_found("import batch")
        try:
            return respond(imports.discard(session, batch_id, actor=principal, reason=reason))
        except InputError as error:
            raise _conflict(error) from None


def _conflict(error: InputError) -> Exception:
    """A batch in the wrong state (already approved/discarded) is a 409; other input errors stay 422."""
    if error.first.field == "status":
        return ApiError(409, error.first.message, code="conflict", problems=error.problems)
    return error

"""Imports of every registry table: upload → validate → preview → approve (admin) or discard.

``POST /imports`` (multipart: ``file``, optional ``kind`` (``energy_balance``, ``statistics``, ``capacity``,
``process_activity``, ``forest``, ``wetland``, ``monthly``, ``districts`` … every ``import:`` entry of
``data/tables.yaml``, or a table name), ``status``, ``mode`` ``keys`` (default: only the file's keys change) |
``years`` | ``all``, ``reason``) validates at once; the preview lists every value approval would close. A file with
problems answers 422 naming file, row and field (the rejected batch is kept for the record; nothing reaches the
ledger); a valid one answers 201 with the preview of what approval would change. District users may upload only rows
of their own regions. Approval writes the ledger in one transaction, which changes the ledger version, so every
cached result is recomputed; the answer is 202 with the id of a background job that warms the new results. Every
rule (who may upload, see, approve or discard what) is :mod:`citycarbon.services.imports`'s; this router parses,
calls it and answers.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.errors import ApiError
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import Principal
from citycarbon.importers.schemas import STATUSES
from citycarbon.services import imports as service
from citycarbon.services.imports import MAX_BATCH_ID
from citycarbon.tables import import_tables

router = APIRouter(tags=["imports"])
PERMISSIONS = {("POST", "/imports"): "import", ("GET", "/imports"): "import_read",
               ("GET", "/imports/{batch_id}"): "import_read", ("POST", "/imports/{batch_id}/approve"): "approve",
               ("POST", "/imports/{batch_id}/discard"): "import"}

BATCH_ID = Path(ge=1, le=MAX_BATCH_ID)
#: the import names of the registry and the other names of those tables (``balance`` …)
ImportKind = Literal[tuple(dict.fromkeys(name for key, spec in import_tables().items()  # type: ignore[valid-type]
                                         for name in (key, spec.name, *spec.aliases)))]
DataStatus = Literal[STATUSES]  # type: ignore[valid-type]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=500)


# the service's rules as dependencies, so a refused caller hears 403 before its body is read
def _readers(principal: Principal = Depends(get_principal)) -> Principal:
    return service.require_reader(principal)


def _importer(principal: Principal = Depends(get_principal)) -> Principal:
    return service.require_importer(principal)


def _approver(principal: Principal = Depends(get_principal)) -> Principal:
    return service.require_approver(principal)


@router.post("/imports", status_code=201, response_model=Envelope[dict[str, Any]],
             responses={409: {"description": "conflict"}, 413: {"description": "file over the size limit"}})
async def upload(request: Request, file: UploadFile = File(description="CSV or Excel table"),
                 kind: ImportKind | None = Form(None),  # type: ignore[valid-type]
                 status: DataStatus = Form("official"),  # type: ignore[valid-type]
                 mode: Literal["keys", "years", "all", "none"] = Form("keys"),
                 reason: str | None = Form(None, max_length=500),
                 principal: Principal = Depends(_importer)) -> EnvelopeResponse:
    """Upload and validate a table; 201 with the preview, or 422 with every problem (file, row, field)."""
    from starlette.concurrency import run_in_threadpool

    content = await file.read()
    filename = (file.filename or "upload.csv")[:255]
    batch = await run_in_threadpool(service.upload_batch, get_database(request), principal, filename=filename,
                                    content=content, kind=kind, status=status, mode=mode, reason=reason)
    if batch.status != "validated":
        problems = batch.problem_list
        first = str(problems[0]) if problems else "the file was rejected"
        raise ApiError(422, f"import batch {batch.id} rejected: {first}", code="invalid_input", problems=problems)
    return respond(batch.to_dict(), status_code=201)


@router.get("/imports", response_model=Envelope[list[dict[str, Any]]])
def list_imports(request: Request, status: Literal["validated", "rejected", "approved", "discarded"] | None = Query(
        None), pages: tuple[int, int] = Depends(page_params), principal: Principal = Depends(_readers)
                 ) -> EnvelopeResponse:
    """Import batches, newest first (district users: their own uploads)."""
    page, per_page = pages
    batches = service.list_batches(get_database(request), principal, status=status)
    return respond([b.to_dict() for b in batches[(page - 1) * per_page: page * per_page]],
                   paging=paging(request, page, per_page, len(batches)))


@router.get("/imports/{batch_id}", response_model=Envelope[dict[str, Any]])
def get_import(request: Request, batch_id: int = BATCH_ID, principal: Principal = Depends(_readers)
               ) -> EnvelopeResponse:
    """A batch with its problems and a fresh preview of what approving it would change now."""
    return respond(service.get_batch(get_database(request), principal, batch_id).to_dict())


@router.post("/imports/{batch_id}/approve", status_code=202, response_model=Envelope[dict[str, Any]],
             responses={409: {"description": "the batch is not awaiting approval"}})
def approve_import(request: Request, body: Decision | None = None, batch_id: int = BATCH_ID,
                   principal: Principal = Depends(_approver)) -> EnvelopeResponse:
    """Write the batch into the ledger (one transaction); 202 with the recompute job's id."""
    from citycarbon.api.routers.jobs import submit_recompute

    approval = service.approve_batch(get_database(request), principal, batch_id, reason=body.reason if body else None)
    request.app.state.results.refresh()  # this process sees the new ledger version at once
    job_id = submit_recompute(request, principal)
    return respond({"batch_id": batch_id, "ledger": approval.ledger_dict(), "job_id": job_id,
                    "poll": f"/api/v1/jobs/{job_id}"}, status_code=202)


@router.post("/imports/{batch_id}/discard", response_model=Envelope[dict[str, Any]],
             responses={409: {"description": "the batch was already approved or discarded"}})
def discard_import(request: Request, body: Decision | None = None, batch_id: int = BATCH_ID,
                   principal: Principal = Depends(_importer)) -> EnvelopeResponse:
    """Discard a batch that was not approved (the uploader, or an administrator)."""
    batch = service.discard_batch(get_database(request), principal, batch_id, reason=body.reason if body else None)
    return respond(batch.to_dict())

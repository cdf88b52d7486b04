"""Progress rounds (调度) and filings: ``/governance/rounds``, ``/governance/filings``, evidence attachments.

Each endpoint parses, calls one function of :mod:`citycarbon.services.governance.rounds` (the rules: the office
opens, closes and reviews; a unit files only its own; another unit's filing is 404; every write names the
``version`` it read and a stale one is 409 with the current state) and renders. An attachment is only ever
served as a download: ``Content-Disposition: attachment``, the media type sniffed from its bytes,
``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from citycarbon.api.deps import get_database, get_principal, require_admin_write, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.errors import error_response
from citycarbon.api.routers._common import IsoDate, JsonFloat, JsonInt
from citycarbon.auth.principal import Principal
from citycarbon.services.governance import evidence
from citycarbon.services.governance import rounds as service

router = APIRouter(tags=["governance"])
PERMISSIONS = {
    ("GET", "/governance/rounds"): "read",
    ("POST", "/governance/rounds"): "admin_write",
    ("GET", "/governance/rounds/{code}"): "read",
    ("POST", "/governance/rounds/{code}/close"): "admin_write",
    ("GET", "/governance/rounds/{code}/filings"): "read",
    ("GET", "/governance/filings/{filing_id}"): "read",
    ("PUT", "/governance/filings/{filing_id}"): "write",
    ("POST", "/governance/filings/{filing_id}/review"): "admin_write",
    ("POST", "/governance/filings/{filing_id}/attachments"): "write",
    ("GET", "/governance/filings/{filing_id}/attachments"): "read",
    ("GET", "/governance/attachments/{attachment_id}"): "read",
}

ROUND_CODE = Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
FILING_ID = Path(ge=1, le=2**62)
ATTACHMENT_ID = Path(ge=1, le=2**62)
ORG = r"^[A-Za-z0-9_-]{1,64}$"
CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "description": "conflict: the filing changed since the version named (the answer carries the current state), "
                   "the round is closed, or the state does not allow this"}}


def _city(request: Request) -> str:
    return str(request.app.state.results.city)


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", description="e.g. 2026Q4, 2026-11, 2026")
    period: Literal["monthly", "quarterly", "yearly"]
    deadline: IsoDate = Field(description="the filing deadline (a day in the city's time)")
    period_start: IsoDate | None = Field(None, description="default: the first day of the period the code names")
    period_end: IsoDate | None = Field(None, description="default: the last day of the period the code names")
    title_zh: str | None = Field(None, max_length=200)
    tasks: list[JsonInt] | None = Field(None, max_length=64, description="the tasks whose measures are in scope")
    measures: list[str] | None = Field(None, max_length=2000, description="the measures in scope (codes)")
    include_co_units: StrictBool = Field(True, description="assign the co-units too")
    include_districts: StrictBool = Field(True, description="assign the districts too")
    note: str = Field("", max_length=20_000)


class FilingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: JsonInt = Field(ge=0, description="the version you read (optimistic check: a stale one is 409)")
    status: Literal["not_started", "in_progress", "completed", "lagging"]
    narrative: str = Field("", max_length=20_000)
    indicator_values: dict[str, JsonFloat | None] = Field(
        default_factory=dict, description="indicator code → value to date, in the indicator's unit")
    lag_reason: str = Field("", max_length=20_000, description="required when status is lagging")
    submit: StrictBool = Field(False, description="submit to the office (otherwise: save a draft)")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: JsonInt = Field(ge=0, description="the version you read")
    decision: Literal["accept", "return"]
    comment: str = Field("", max_length=20_000, description="required when returning")


@router.get("/governance/rounds", response_model=Envelope[list[dict[str, Any]]])
def list_rounds(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every round of the city, newest first, with progress counts (filings by state, late, lagging)."""
    found = service.list_rounds(get_database(request), principal, _city(request))
    return respond([r.to_dict() for r in found])


@router.post("/governance/rounds", status_code=201, response_model=Envelope[dict[str, Any]], responses={
    409: {"description": "conflict: a round with this code exists"}})
def open_round(body: RoundIn, request: Request, principal: Principal = Depends(require_admin_write)
               ) -> EnvelopeResponse:
    """Open a round; every responsible unit of the measures in scope is assigned and notified. The office."""
    found = service.open_round(get_database(request), principal, _city(request), code=body.code,
                               period=body.period, deadline=body.deadline, period_start=body.period_start,
                               period_end=body.period_end, title_zh=body.title_zh, tasks=body.tasks,
                               measures=body.measures, include_co_units=body.include_co_units,
                               include_districts=body.include_districts, note=body.note)
    return respond(found.to_dict(), status_code=201)


@router.get("/governance/rounds/{code}", response_model=Envelope[dict[str, Any]])
def get_round(request: Request, code: str = ROUND_CODE, principal: Principal = Depends(get_principal)
              ) -> EnvelopeResponse:
    """One round with its progress counts."""
    return respond(service.get_round(get_database(request), principal, _city(request), code).to_dict())


@router.post("/governance/rounds/{code}/close", response_model=Envelope[dict[str, Any]], responses={
    409: {"description": "conflict: the round is already closed"}})
def close_round(request: Request, code: str = ROUND_CODE, principal: Principal = Depends(require_admin_write)
                ) -> EnvelopeResponse:
    """Close a round: no filing is saved or submitted after this. The office."""
    return respond(service.close_round(get_database(request), principal, _city(request), code).to_dict())


@router.get("/governance/rounds/{code}/filings", response_model=Envelope[list[dict[str, Any]]])
def list_filings(request: Request, code: str = ROUND_CODE, org: str | None = Query(None, pattern=ORG),
                 state: Literal["not_filed", "draft", "submitted", "accepted", "returned"] | None = Query(None),
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The round's filings the caller may see (the office, analysts: all; a unit: its own; viewers: none, they
    read the round's counts), optionally of one unit or in one state."""
    found = service.list_filings(get_database(request), principal, _city(request), code, org=org, state=state)
    return respond([f.to_dict() for f in found], parameters={"org": org, "state": state})


@router.get("/governance/filings/{filing_id}", response_model=Envelope[dict[str, Any]])
def get_filing(request: Request, filing_id: int = FILING_ID, principal: Principal = Depends(get_principal)
               ) -> EnvelopeResponse:
    """A filing with its history (every version) and attachments; another unit's: 404."""
    return respond(service.get_filing(get_database(request), principal, _city(request), filing_id).to_dict())


def _conflict(error: service.FilingConflict) -> Response:
    answer = error_response(409, "conflict", error.message)
    import json

    body = json.loads(bytes(answer.body))
    body["error"]["current"] = error.current.to_dict()
    return Response(json.dumps(body, ensure_ascii=False), status_code=409, media_type="application/json")


@router.put("/governance/filings/{filing_id}", response_model=Envelope[dict[str, Any]], responses=CONFLICT)
def save_filing(body: FilingIn, request: Request, filing_id: int = FILING_ID,
                principal: Principal = Depends(require_write)) -> Response:
    """Save (or, with ``submit``, submit) the filing, naming the ``version`` read; 409 with the current state
    when someone wrote in between."""
    try:
        found = service.save_filing(get_database(request), principal, _city(request), filing_id,
                                    version=body.version, status=body.status, narrative=body.narrative,
                                    indicator_values=dict(body.indicator_values), lag_reason=body.lag_reason,
                                    submit=body.submit)
    except service.FilingConflict as error:
        return _conflict(error)
    return respond(found.to_dict())


@router.post("/governance/filings/{filing_id}/review", response_model=Envelope[dict[str, Any]], responses=CONFLICT)
def review_filing(body: ReviewIn, request: Request, filing_id: int = FILING_ID,
                  principal: Principal = Depends(require_admin_write)) -> Response:
    """Accept a submitted filing or return it with a comment, naming the ``version`` read. The office."""
    try:
        found = service.review_filing(get_database(request), principal, _city(request), filing_id,
                                      version=body.version, decision=body.decision, comment=body.comment)
    except service.FilingConflict as error:
        return _conflict(error)
    return respond(found.to_dict())


@router.post("/governance/filings/{filing_id}/attachments", status_code=201, response_model=Envelope[dict[str, Any]],
             responses={**CONFLICT, 413: {"description": "file over the size limit"}})
async def upload_attachment(request: Request, filing_id: int = FILING_ID,
                            file: UploadFile = File(description="PDF, image (PNG, JPEG, GIF, WebP) or Excel "
                                                                "workbook; the type is read from the content"),
                            principal: Principal = Depends(require_write)) -> Response:
    """Attach an evidence file to a filing being edited (draft or returned)."""
    from starlette.concurrency import run_in_threadpool

    content = await file.read(evidence.MAX_BYTES + 1)
    try:
        found = await run_in_threadpool(service.attach_file, get_database(request), principal, _city(request),
                                        filing_id, filename=file.filename or "evidence", content=content)
    except service.FilingConflict as error:
        return _conflict(error)
    return respond(found.to_dict(), status_code=201)


@router.get("/governance/filings/{filing_id}/attachments", response_model=Envelope[list[dict[str, Any]]])
def list_attachments(request: Request, filing_id: int = FILING_ID, principal: Principal = Depends(get_principal)
                     ) -> EnvelopeResponse:
    """The filing's attachments (name, sniffed media type, size, SHA-256, the version it was added on)."""
    found = service.list_attachments(get_database(request), principal, _city(request), filing_id)
    return respond([a.to_dict() for a in found])


DOWNLOAD_TYPES = {media: {"schema": {"type": "string", "format": "binary"}}
                  for media in sorted(set(evidence.MEDIA_TYPES.values()))}


@router.get("/governance/attachments/{attachment_id}", response_class=Response, responses={
    200: {"description": "the file, as a download only", "content": DOWNLOAD_TYPES}})
def download_attachment(request: Request, attachment_id: int = ATTACHMENT_ID,
                        principal: Principal = Depends(get_principal)) -> Response:
    """The evidence file as an attachment (never inline): its sniffed media type, ``nosniff`` and a sandboxing
    CSP. Only callers who may read the filing; another unit's: 404."""
    info, content = service.get_attachment(get_database(request), principal, _city(request), attachment_id)
    return Response(content, media_type=info.media_type, headers=service.download_headers(info))


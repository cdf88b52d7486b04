"""The 节能审查 workflow of a project (issue 15 item 5): ``/projects/{code}/submit``, ``/completeness``,
``/comments``, ``/decision``, ``/commissioning``, ``/acceptance``, ``/withdraw``; the history, the 审查意见 DOCX
and the review's attachments.

Each endpoint parses, calls one function of :mod:`citycarbon.services.projects.workflow` (the rules: the filer
submits and withdraws, the office checks completeness, decides and accepts, the experts comment; another unit's
project is 404; a step the state does not allow, a stale ``version``, or an approval while the replacement is not
covered is 409) and renders. An attachment is only ever served as a download (``nosniff``, sandboxing CSP)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDate, JsonFloat, JsonInt
from citycarbon.auth.principal import Principal
from citycarbon.services.governance import evidence
from citycarbon.services.projects import workflow as service

router = APIRouter(tags=["projects"])
PERMISSIONS = {
    ("POST", "/projects/{code}/submit"): "write",
    ("POST", "/projects/{code}/completeness"): "admin_write",
    ("POST", "/projects/{code}/comments"): "write",
    ("POST", "/projects/{code}/decision"): "admin_write",
    ("POST", "/projects/{code}/commissioning"): "write",
    ("POST", "/projects/{code}/acceptance"): "admin_write",
    ("POST", "/projects/{code}/withdraw"): "write",
    ("GET", "/projects/{code}/events"): "read",
    ("GET", "/projects/{code}/opinion.docx"): "read",
    ("GET", "/projects/{code}/attachments/{attachment_id}"): "read",
}

CODE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="the project code")
ATTACHMENT_ID = Path(ge=1, le=2**53)
FILE_LIMIT = evidence.MAX_BYTES
DOCX = service.DOCX
VERSION = Field(None, ge=1, le=2**31, description="the version read (a stale one is 409); default: the current")


def _city(request: Request) -> str:
    return str(request.app.state.results.city)


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: JsonInt | None = VERSION


class WithdrawIn(VersionIn):
    note: str = Field("", max_length=5000)


class CompletenessIn(VersionIn):
    missing: list[str] = Field(default_factory=list, max_length=50,
                               description="the checklist items missing (none: complete, the review starts)")
    note: str = Field("", max_length=5000)


class DecisionIn(VersionIn):
    decision: Literal["approve", "approve_conditions", "reject"]
    number: str = Field(min_length=1, max_length=100, description="the decision's 文号")
    date: IsoDate = Field(description="the decision date")
    conditions: str = Field("", max_length=20_000, description="required for approve_conditions")
    reason: str = Field("", max_length=20_000, description="required for reject")


class CommissioningIn(VersionIn):
    date: IsoDate = Field(description="the commissioning date")
    enterprise_id: str | None = Field(None, max_length=64, description="the monitoring enterprise it runs under")


class AcceptanceIn(VersionIn):
    measured: JsonFloat | None = Field(None, ge=0, description="tce (当量值), only when the meter lake has no data")
    source: str = Field("", max_length=1000, description="the source of an entered figure")
    start: IsoDate | None = Field(None, description="the period's start (default: the commissioning date)")
    end: IsoDate | None = Field(None, description="the period's end (default: start + the configured months)")


@router.post("/projects/{code}/submit", response_model=Envelope[dict[str, Any]])
def submit(request: Request, body: VersionIn | None = None, code: str = CODE,
           principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """The filer submits (a draft or an incomplete project); the completeness pre-check is recorded."""
    body = body or VersionIn()
    return respond(service.submit(get_database(request), principal, _city(request), code, version=body.version))


@router.post("/projects/{code}/completeness", response_model=Envelope[dict[str, Any]])
def completeness(body: CompletenessIn, request: Request, code: str = CODE,
                 principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """The office's completeness check: nothing missing → under review; else returned with the missing items."""
    return respond(service.check_completeness(get_database(request), principal, _city(request), code,
                                              missing=body.missing, note=body.note, version=body.version))


@router.post("/projects/{code}/comments", status_code=201, response_model=Envelope[dict[str, Any]])
async def comment(request: Request, code: str = CODE, text: str = Form(min_length=1, max_length=20_000),
                  files: list[UploadFile] = File(default=[], description="PDF, images, Excel (20 MiB each)"),
                  principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """An expert-review comment with attachments (checked by content)."""
    from starlette.concurrency import run_in_threadpool

    attachments = [((f.filename or "upload")[:255], await f.read(FILE_LIMIT + 1)) for f in files if f.filename]
    found = await run_in_threadpool(service.comment, get_database(request), principal, _city(request), code, text,
                                    attachments=attachments)
    return respond(found, status_code=201)


@router.post("/projects/{code}/decision", response_model=Envelope[dict[str, Any]])
def decision(body: DecisionIn, request: Request, code: str = CODE,
             principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Approve, approve with conditions, or reject, with 文号 and date (approval 409 while uncovered)."""
    return respond(service.decide(get_database(request), principal, _city(request), code, decision=body.decision,
                                  number=body.number, day=body.date, conditions=body.conditions,
                                  reason=body.reason, version=body.version))


@router.post("/projects/{code}/commissioning", response_model=Envelope[dict[str, Any]])
def commissioning(body: CommissioningIn, request: Request, code: str = CODE,
                  principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """The project went into operation (the filer or the office)."""
    return respond(service.commission(get_database(request), principal, _city(request), code, day=body.date,
                                      enterprise_id=body.enterprise_id, version=body.version))


def _meters(request: Request) -> Any:
    return getattr(request.app.state, "monitoring", None)


@router.post("/projects/{code}/acceptance", response_model=Envelope[dict[str, Any]])
def acceptance(body: AcceptanceIn, request: Request, code: str = CODE,
               principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """验收: the metered consumption (or the entered one) against the approved 当量值; deviation flagged."""
    return respond(service.accept(get_database(request), principal, _city(request), code, meters=_meters(request),
                                  measured=body.measured, source=body.source, start=body.start, end=body.end,
                                  version=body.version))


@router.post("/projects/{code}/withdraw", response_model=Envelope[dict[str, Any]])
def withdraw(request: Request, body: WithdrawIn | None = None, code: str = CODE,
             principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """The filer withdraws the project before the decision (its allocations are released)."""
    body = body or WithdrawIn()
    return respond(service.withdraw(get_database(request), principal, _city(request), code, note=body.note,
                                    version=body.version))


@router.get("/projects/{code}/events", response_model=Envelope[list[dict[str, Any]]])
def events(request: Request, code: str = CODE, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The project's workflow history, oldest first, with attachments."""
    return respond(service.events(get_database(request), principal, _city(request), code))


@router.get("/projects/{code}/opinion.docx", response_class=Response,
            responses={200: {"content": {DOCX: {}}, "description": "the 审查意见 (DOCX, GB/T 9704)"}})
def opinion(request: Request, code: str = CODE, principal: Principal = Depends(get_principal)) -> Response:
    """The 审查意见 of a decided project (409 before the decision)."""
    content = service.opinion_docx(get_database(request), principal, _city(request), code)
    return Response(content, media_type=DOCX, headers={
        "Content-Disposition": f'attachment; filename="opinion-{code}.docx"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


DOWNLOAD_TYPES = {media: {"schema": {"type": "string", "format": "binary"}}
                  for media in sorted(set(evidence.MEDIA_TYPES.values()))}


@router.get("/projects/{code}/attachments/{attachment_id}", response_class=Response, responses={
    200: {"description": "the file, as a download only", "content": DOWNLOAD_TYPES}})
def attachment(request: Request, code: str = CODE, attachment_id: int = ATTACHMENT_ID,
               principal: Principal = Depends(get_principal)) -> Response:
    """A review attachment, as a download (never inline)."""
    info, content = service.get_attachment(get_database(request), principal, _city(request), code, attachment_id)
    return Response(content, media_type=info.media_type, headers=service.download_headers(info))

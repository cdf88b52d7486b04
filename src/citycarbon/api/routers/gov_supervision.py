"""Supervision (督办), the working-day calendar and the inbox of running the plan (issue 14 items 5 and 8).

``/governance/supervision``           GET the caller's items (the office and analysts: all; a unit: its own);
                                      POST ``/scan`` (the office) creates and escalates items as of a day.
``/governance/supervision/{item_id}`` GET one (another unit's: 404); POST ``/answer`` (the unit: text and evidence
                                      files), POST ``/close`` (the office, with a note); GET ``/notice.docx`` the
                                      督办通知 (GB/T 9704); POST ``/governance/supervision/template`` the office's
                                      replacement DOCX template.
``/governance/calendar/{year}``       the holidays and adjusted working days of a year with their sources; POST
                                      ``/governance/calendar`` imports a CSV or Excel table (the office).
``/governance/inbox``                 the caller's messages; POST ``/governance/inbox/read`` marks them read.

Each endpoint parses, calls one function of :mod:`citycarbon.services.governance.supervision` or
:mod:`~citycarbon.services.governance.inbox` (rules, scope and audit live there) and renders."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDate, JsonInt
from citycarbon.auth.principal import Principal
from citycarbon.services.governance import inbox
from citycarbon.services.governance import supervision as service

router = APIRouter(tags=["governance"])
PERMISSIONS = {
    ("GET", "/governance/supervision"): "read", ("POST", "/governance/supervision/scan"): "admin_write",
    ("GET", "/governance/supervision/{item_id}"): "read",
    ("POST", "/governance/supervision/{item_id}/answer"): "write",
    ("POST", "/governance/supervision/{item_id}/close"): "admin_write",
    ("GET", "/governance/supervision/{item_id}/notice.docx"): "read",
    ("POST", "/governance/supervision/template"): "admin_write",
    ("GET", "/governance/calendar/{year}"): "read", ("POST", "/governance/calendar"): "admin_write",
    ("GET", "/governance/inbox"): "read", ("POST", "/governance/inbox/read"): "write",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
ITEM_ID = Path(ge=1, le=2**53, description="the supervision item's id")
FILE_LIMIT = 20 * 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    today: IsoDate | None = Field(None, description="evaluate as of this day (default: today in China)")
    city: str | None = Field(None, pattern=CITY_PATTERN)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=5000, description="the office's closing note")
    city: str | None = Field(None, pattern=CITY_PATTERN)


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[JsonInt] | None = Field(None, max_length=1000, description="the messages to mark read (none: all)")
    city: str | None = Field(None, pattern=CITY_PATTERN)


async def _read(upload: UploadFile) -> tuple[str, bytes]:
    return (upload.filename or "upload")[:255], await upload.read(FILE_LIMIT + 1)


@router.get("/governance/supervision", response_model=Envelope[list[dict[str, Any]]])
def list_items(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
               level: Literal["reminder", "notice", "interview"] | None = Query(None),
               state: Literal["open", "answered", "closed"] | None = Query(None),
               org: str | None = Query(None, max_length=64),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The supervision items the caller may see, highest level first, with the working days late today."""
    found = service.list_items(get_database(request), principal, _city(request, city), level=level, state=state,
                               org=org)
    return respond([i.to_dict() for i in found])


@router.post("/governance/supervision/scan", response_model=Envelope[dict[str, Any]])
def scan(request: Request, body: ScanIn | None = None,
         principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Create and escalate the items the rules call for (idempotent; the office only)."""
    body = body or ScanIn()
    found = service.scan(get_database(request), principal, _city(request, body.city), today=body.today)
    return respond(found.to_dict())


@router.post("/governance/supervision/template", status_code=201, response_model=Envelope[dict[str, Any]])
async def upload_template(request: Request, file: UploadFile = File(description="a DOCX template"),
                          city: str | None = Form(None, pattern=CITY_PATTERN),
                          principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Replace the 督办通知's DOCX template (its styles, page, header and footer are kept)."""
    from starlette.concurrency import run_in_threadpool

    filename, content = await _read(file)
    found = await run_in_threadpool(service.upload_template, get_database(request), principal, _city(request, city),
                                    content, filename=filename)
    return respond(found, status_code=201)


@router.get("/governance/supervision/{item_id}", response_model=Envelope[dict[str, Any]])
def get_item(request: Request, item_id: int = ITEM_ID, city: str | None = Query(None, pattern=CITY_PATTERN),
             principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One item (another unit's: 404)."""
    return respond(service.get_item(get_database(request), principal, _city(request, city), item_id).to_dict())


@router.post("/governance/supervision/{item_id}/answer", response_model=Envelope[dict[str, Any]])
async def answer(request: Request, item_id: int = ITEM_ID, answer: str = Form(min_length=1, max_length=20_000),
                 files: list[UploadFile] = File(default=[], description="evidence: PDF, images, Excel"),
                 city: str | None = Form(None, pattern=CITY_PATTERN),
                 principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """The unit's answer, with evidence files (checked by content, 20 MiB each)."""
    from starlette.concurrency import run_in_threadpool

    attachments = [await _read(f) for f in files if f.filename]
    found = await run_in_threadpool(service.answer, get_database(request), principal, _city(request, city), item_id,
                                    answer, attachments=attachments)
    return respond(found.to_dict())


@router.post("/governance/supervision/{item_id}/close", response_model=Envelope[dict[str, Any]])
def close(body: CloseIn, request: Request, item_id: int = ITEM_ID,
          principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """The office closes an item with a note."""
    found = service.close(get_database(request), principal, _city(request, body.city), item_id, body.note)
    return respond(found.to_dict())


@router.get("/governance/supervision/{item_id}/notice.docx", response_class=Response,
            responses={200: {"content": {DOCX: {}}, "description": "the 督办通知 (DOCX)"}})
def notice(request: Request, item_id: int = ITEM_ID, city: str | None = Query(None, pattern=CITY_PATTERN),
           day: IsoDate | None = Query(None, description="成文日期 (default: today in China)"),
           principal: Principal = Depends(get_principal)) -> Response:
    """The 督办通知 of an item at the notice level or above, in GB/T 9704 layout."""
    name, content = service.notice_docx(get_database(request), principal, _city(request, city), item_id, today=day)
    return Response(content, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                       "Cache-Control": "no-store"})


@router.get("/governance/calendar/{year}", response_model=Envelope[list[dict[str, Any]]])
def calendar_year(request: Request, year: int = Path(ge=1900, le=2200),
                  city: str | None = Query(None, pattern=CITY_PATTERN),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The year's statutory holidays and adjusted working days, with the notice each comes from (422 for a year
    no source covers)."""
    found = service.calendar_year(get_database(request), principal, _city(request, city), year)
    return respond([d.to_dict() for d in found], parameters={"year": year})


@router.post("/governance/calendar", status_code=201, response_model=Envelope[dict[str, Any]])
async def import_calendar(request: Request, file: UploadFile = File(description="CSV or Excel: date, kind "
                                                                               "(holiday|workday), name, source, "
                                                                               "status"),
                          city: str | None = Form(None, pattern=CITY_PATTERN),
                          principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Import holidays and adjusted working days (all rows or none; every bad row named)."""
    from starlette.concurrency import run_in_threadpool

    filename, content = await _read(file)
    found = await run_in_threadpool(service.import_calendar, get_database(request), principal, _city(request, city),
                                    content, filename=filename)
    return respond({"imported": len(found), "days": [d.to_dict() for d in found]}, status_code=201)


@router.get("/governance/inbox", response_model=Envelope[list[dict[str, Any]]])
def list_inbox(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
               unread: bool = Query(False, description="only unread messages"),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The caller's messages (to the caller and the caller's organisation), newest first."""
    found = inbox.list_messages(get_database(request), principal, _city(request, city), unread_only=unread)
    return respond([m.to_dict() for m in found])


@router.post("/governance/inbox/read", response_model=Envelope[dict[str, Any]])
def mark_read(request: Request, body: ReadIn | None = None,
              principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Mark messages read (another's message: 404)."""
    body = body or ReadIn()
    changed = inbox.mark_read(get_database(request), principal, _city(request, body.city), body.ids)
    return respond({"marked": changed})

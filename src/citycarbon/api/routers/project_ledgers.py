"""The replacement ledgers (issue 15 item 3) under ``/projects/ledgers`` and a project's allocations.

The office, analysts, departments and district users (their district's sources) read the ledgers; only the office
adds, edits (while nothing was allocated), imports, allocates and releases. An allocation over the balance, of a
capacity source of another product, or to a project that may not receive replacement answers 409 with the
numbers; a race lost to another allocation is retried and then answers what the ledger says.

This module sorts before ``projects`` and so is mounted first: ``/projects/ledgers/…`` and
``/projects/allocations/…`` are never taken for a project code by ``GET /projects/{code}``. Each endpoint parses,
calls one function of :mod:`citycarbon.services.projects.ledgers` and renders."""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.projects import ledgers as service

router = APIRouter(tags=["projects"])
PERMISSIONS = {
    ("GET", "/projects/ledgers/sources"): "read", ("POST", "/projects/ledgers/sources"): "admin_write",
    ("GET", "/projects/ledgers/sources/{source}"): "read",
    ("PATCH", "/projects/ledgers/sources/{source}"): "admin_write",
    ("POST", "/projects/ledgers/import"): "admin_write", ("GET", "/projects/ledgers/template"): "read",
    ("POST", "/projects/{code}/allocations"): "admin_write", ("GET", "/projects/{code}/allocations"): "read",
    ("POST", "/projects/allocations/{allocation_id}/release"): "admin_write",
}

MAX_ID = 2**62
CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
SOURCE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$",
              description="the source's code")
PROJECT = Path(min_length=1, max_length=64, description="the project's code (XM-2026-0001)")
ALLOCATION = Path(ge=1, le=MAX_ID, description="the allocation's id")


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


class SourceChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["capacity", "energy"] | None = None
    amount: Decimal | None = Field(None, gt=0, max_digits=24, decimal_places=6)
    unit: str | None = Field(None, min_length=1, max_length=64, description="t/a, 10^4 t/a; tce, 10^4 tce")
    product: str | None = Field(None, max_length=100, description="capacity: a product of the benchmark table or "
                                                                  "a capacity-replacement sector")
    plant: str | None = Field(None, max_length=300)
    unit_name: str | None = Field(None, max_length=300, description="the production unit retired")
    region_code: str | None = Field(None, max_length=12, description="GB/T 2260 district code")
    retired_on: Date | None = None
    document: str | None = Field(None, max_length=200, description="文号 of the closure or saving")
    origin: Literal["closure", "saving", "other"] | None = None
    notes: str | None = Field(None, max_length=2000)
    city: str | None = Field(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")

    def values(self) -> dict[str, Any]:
        out = {k: v for k, v in self.model_dump(exclude={"city", "reason"}).items() if v is not None}
        if self.amount is not None:
            out["amount"] = format(self.amount, "f")
        if self.retired_on is not None:
            out["retired_on"] = self.retired_on.isoformat()
        return out


class SourceIn(SourceChanges):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    kind: Literal["capacity", "energy"]  # type: ignore[assignment]
    amount: Decimal = Field(gt=0, max_digits=24, decimal_places=6)  # type: ignore[assignment]
    unit: str = Field(min_length=1, max_length=64)  # type: ignore[assignment]

    def values(self) -> dict[str, Any]:
        return {**super().values(), "code": self.code}


class SourceEdit(SourceChanges):
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the audit log)")


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=64, description="the source's code")
    amount: Decimal = Field(gt=0, max_digits=24, decimal_places=6, description="a number > 0 in 'unit'")
    unit: str = Field(min_length=1, max_length=64, description="of the source's dimension (tce, t/a …)")
    note: str = Field("", max_length=500)
    city: str | None = Field(None, pattern=CITY_PATTERN)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the audit log)")
    city: str | None = Field(None, pattern=CITY_PATTERN)


@router.get("/projects/ledgers/sources", response_model=Envelope[list[dict[str, Any]]])
def list_sources(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
                 kind: Literal["capacity", "energy"] | None = Query(None),
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The sources the caller may read, each with amount, allocated, remaining and its allocations."""
    found = service.list_sources(get_database(request), principal, _city(request, city), kind=kind)
    return respond([s.to_dict() for s in found], parameters={"city": _city(request, city), "kind": kind})


@router.post("/projects/ledgers/sources", response_model=Envelope[dict[str, Any]], status_code=201)
def add_source(body: SourceIn, request: Request,
               principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Add retired capacity or energy room to the ledger (the office; audited)."""
    found = service.add_source(get_database(request), principal, _city(request, body.city), body.values())
    return respond(found.to_dict(), status_code=201)


@router.get("/projects/ledgers/template", response_class=Response,
            responses={200: {"content": {service.XLSX_MEDIA_TYPE: {}}, "description": "the .xlsx workbook"}})
def template(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
             filled: bool = Query(False, description="with the sources the caller may read (the export)"),
             principal: Principal = Depends(get_principal)) -> Response:
    """The ledger workbook in the import layout (说明, 替代来源 with a note per column)."""
    download = service.sources_workbook(get_database(request), principal, _city(request, city), filled=filled)
    return Response(download.content, media_type=download.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{download.filename}"',
                             "Cache-Control": "no-store"})


@router.get("/projects/ledgers/sources/{source}", response_model=Envelope[dict[str, Any]])
def get_source(request: Request, source: str = SOURCE, city: str | None = Query(None, pattern=CITY_PATTERN),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One source with its balance and allocations (another district's: 404)."""
    return respond(service.get_source(get_database(request), principal, _city(request, city), source).to_dict())


@router.patch("/projects/ledgers/sources/{source}", response_model=Envelope[dict[str, Any]])
def edit_source(body: SourceEdit, request: Request, source: str = SOURCE,
                principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Change a source while nothing was allocated from it (409 once it was); audited with the reason."""
    found = service.edit_source(get_database(request), principal, _city(request, body.city), source,
                                body.values(), reason=body.reason)
    return respond(found.to_dict())


@router.post("/projects/ledgers/import", response_model=Envelope[dict[str, Any]])
async def import_sources(request: Request, file: UploadFile = File(description="CSV or the ledger workbook"),
                         apply: bool = Form(False, description="store it (false: preview only)"),
                         reason: str = Form("", max_length=500),
                         city: str | None = Form(None, pattern=CITY_PATTERN),
                         principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Import sources (all-or-nothing; errors name file, sheet, row and column); ``apply=false`` previews."""
    from starlette.concurrency import run_in_threadpool

    content = await file.read(service.MAX_FILE_BYTES + 1)
    name = (file.filename or "upload").rsplit("/", 1)[-1][:200]
    if len(content) > service.MAX_FILE_BYTES:
        raise InputError(Problem("the file is larger than 5 MB", message_zh="文件超过 5 MB", file=name))
    found = await run_in_threadpool(service.import_sources, get_database(request), principal,
                                    _city(request, city), content, name, apply=apply, reason=reason)
    return respond(found.to_dict(), status_code=201 if apply else 200)


@router.post("/projects/allocations/{allocation_id}/release", response_model=Envelope[dict[str, Any]])
def release(body: ReleaseIn, request: Request, allocation_id: int = ALLOCATION,
            principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Give an allocation back (the office, with a reason): the source's balance grows again."""
    found = service.release(get_database(request), principal, _city(request, body.city), allocation_id,
                            body.reason)
    return respond(found.to_dict())


@router.get("/projects/{code}/allocations", response_model=Envelope[dict[str, Any]])
def project_allocations(request: Request, code: str = PROJECT,
                        city: str | None = Query(None, pattern=CITY_PATTERN),
                        principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """What the project holds (by kind, converted) against what the rules require (covered or not)."""
    found = service.project_allocations(get_database(request), principal, _city(request, city), code)
    return respond(found.to_dict())


@router.post("/projects/{code}/allocations", response_model=Envelope[dict[str, Any]], status_code=201)
def allocate(body: AllocationIn, request: Request, code: str = PROJECT,
             principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Allocate part of a source to the project (atomic; 409 on over-spend, wrong product or project state)."""
    found = service.allocate(get_database(request), principal, _city(request, body.city), code, body.source,
                             body.amount, body.unit, body.note)
    return respond(found.to_dict(), status_code=201)

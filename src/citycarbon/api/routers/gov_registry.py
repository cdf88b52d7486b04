"""The organisation registry and the responsibility matrix (issue 14 items 1–2) under ``/governance``.

Every caller of the city reads the organisations (a district user: without the other districts); the office and
analysts read every measure, a department or district user the measures its unit carries (another unit's: 404),
viewers and enterprise users none. Only the office (administrators with a write scope) edits and imports; an
import is validated whole (file, row and column named) and ``apply=false`` previews it. Each endpoint parses,
calls one function of :mod:`citycarbon.services.governance.registry` and renders."""

from __future__ import annotations

from datetime import date as Date
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDateTime
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.governance import registry as service

router = APIRouter(tags=["governance"])
PERMISSIONS = {
    ("GET", "/governance/orgs"): "read", ("GET", "/governance/orgs/template"): "read",
    ("GET", "/governance/orgs/{code}"): "read",
    ("PATCH", "/governance/orgs/{code}"): "admin_write", ("PUT", "/governance/orgs/{code}"): "admin_write",
    ("POST", "/governance/orgs/import"): "admin_write",
    ("GET", "/governance/matrix"): "read", ("GET", "/governance/matrix/template"): "read",
    ("GET", "/governance/matrix/{code}"): "read", ("PATCH", "/governance/matrix/{code}"): "admin_write",
    ("POST", "/governance/matrix/import"): "admin_write",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
CODE = Path(min_length=1, max_length=64, description="the organisation's or measure's code")
KIND = Literal["leading_group", "office", "department", "district", "pilot_zone", "enterprise"]


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


def _xlsx(download: service.Download) -> Response:
    return Response(download.content, media_type=download.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{download.filename}"',
                             "Cache-Control": "no-store"})


async def _upload(file: UploadFile) -> tuple[bytes, str]:
    content = await file.read(service.MAX_FILE_BYTES + 1)
    name = (file.filename or "upload").rsplit("/", 1)[-1][:200]
    if len(content) > service.MAX_FILE_BYTES:
        raise InputError(Problem("the file is larger than 5 MB", message_zh="文件超过 5 MB", file=name))
    return content, name


# ---- organisations -------------------------------------------------------------------------------------

class OrgChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the audit log)")
    name_zh: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    short_zh: str | None = Field(None, max_length=64)
    kind: KIND | None = None
    parent: str | None = Field(None, max_length=64, description="the parent's code ('' for none)")
    region_code: str | None = Field(None, max_length=12, description="GB/T 2260 code (districts, pilot zones)")
    active: bool | None = Field(None, description="false deactivates the unit (refused while it carries measures)")
    city: str | None = Field(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"reason", "city"}).items() if v is not None}


class OrgIn(OrgChanges):
    name_zh: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    kind: KIND  # type: ignore[assignment]


@router.get("/governance/orgs", response_model=Envelope[list[dict[str, Any]]])
def list_orgs(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
              as_of: IsoDateTime | None = Query(None, description="the registry as it was at this moment"),
              include_inactive: bool = Query(False, description="deactivated units too (office and analysts)"),
              principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The organisations of the city (leading group, office, departments, districts, pilot zones)."""
    found = service.list_orgs(get_database(request), principal, _city(request, city), as_of=as_of,
                              include_inactive=include_inactive)
    return respond([o.to_dict() for o in found], parameters={"city": _city(request, city),
                                                               "as_of": as_of.isoformat() if as_of else None})


@router.get("/governance/orgs/template", response_class=Response,
            responses={200: {"content": {service.XLSX_MEDIA_TYPE: {}}, "description": "the .xlsx workbook"}})
def orgs_template(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
                  filled: bool = Query(True, description="with the current registry (else an empty template)"),
                  principal: Principal = Depends(get_principal)) -> Response:
    """The registry as an Excel workbook in the import layout (说明 sheet, a note per column, kinds drop-down)."""
    return _xlsx(service.orgs_workbook(get_database(request), principal, _city(request, city), filled=filled))


@router.get("/governance/orgs/{code}", response_model=Envelope[dict[str, Any]])
def get_org(request: Request, code: str = CODE, city: str | None = Query(None, pattern=CITY_PATTERN),
            as_of: IsoDateTime | None = Query(None, description="as it was at this moment"),
            principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One organisation with its versions (office and analysts) and the measures it carries."""
    found = service.get_org(get_database(request), principal, _city(request, city), code, as_of=as_of)
    return respond(found.to_dict())


@router.patch("/governance/orgs/{code}", response_model=Envelope[dict[str, Any]])
def edit_org(body: OrgChanges, request: Request, code: str = CODE,
             principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Change an organisation (a new version, audited with the reason); ``active: false`` deactivates it."""
    found = service.edit_org(get_database(request), principal, _city(request, body.city), code, body.changes(),
                             reason=body.reason)
    return respond(found.to_dict())


@router.put("/governance/orgs/{code}", response_model=Envelope[dict[str, Any]])
def put_org(body: OrgIn, request: Request, code: str = CODE,
            principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Create or replace an organisation (a new version, audited with the reason)."""
    found = service.edit_org(get_database(request), principal, _city(request, body.city), code, body.changes(),
                             reason=body.reason, create=True)
    return respond(found.to_dict())


@router.post("/governance/orgs/import", response_model=Envelope[dict[str, Any]])
async def import_orgs(request: Request, file: UploadFile = File(description="CSV or Excel (organisations.csv)"),
                      apply: bool = Form(False, description="store it (false: preview only)"),
                      reason: str = Form("", max_length=500), city: str | None = Form(None, pattern=CITY_PATTERN),
                      principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Import the registry (all-or-nothing; errors name file, row and column); ``apply=false`` previews."""
    from starlette.concurrency import run_in_threadpool

    content, name = await _upload(file)
    found = await run_in_threadpool(service.import_orgs, get_database(request), principal, _city(request, city),
                                    content, name, apply=apply, reason=reason)
    return respond(found.to_dict(), status_code=201 if apply else 200)


# ---- the matrix ----------------------------------------------------------------------------------------

class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    unit: str = Field(min_length=1, max_length=64, description="a pint unit: MW, percent, count, 10^4 m^2 …")
    target: float | None = Field(None, allow_inf_nan=False)
    year: int | None = Field(None, ge=1990, le=2100)
    milestones: dict[str, float] = Field(default_factory=dict, description="{year: value in unit}")
    status: Literal["", "verified", "secondary-source", "unverified", "estimate"] = ""
    source: str = Field("", max_length=500)


class MeasureChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the audit log)")
    text_zh: str | None = Field(None, min_length=1, max_length=5000)
    text_en: str | None = Field(None, max_length=5000)
    lead: str | None = Field(None, max_length=64, description="the lead unit's code ('' for none)")
    co_units: list[str] | None = Field(None, max_length=50)
    districts: list[str] | None = Field(None, max_length=50)
    deadline: Date | None = None
    milestones: dict[str, str] | None = Field(None, description="{year: text}")
    indicators: list[IndicatorIn] | None = Field(None, max_length=50)
    active: bool | None = None
    city: str | None = Field(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")

    def changes(self) -> dict[str, Any]:
        out = {k: v for k, v in self.model_dump(exclude={"reason", "city"}).items() if v is not None}
        if self.deadline is not None:
            out["deadline"] = self.deadline.isoformat()
        return out


@router.get("/governance/matrix", response_model=Envelope[list[dict[str, Any]]])
def list_measures(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
                  as_of: IsoDateTime | None = Query(None, description="the matrix as it was at this moment"),
                  task: int | None = Query(None, ge=1, le=99), org: str | None = Query(None, max_length=64),
                  unassigned: bool = Query(False, description="only measures without a lead unit"),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The measures the caller may read, with their responsible units named and their indicators."""
    found = service.list_measures(get_database(request), principal, _city(request, city), as_of=as_of, task=task,
                                  org=org, unassigned=unassigned)
    return respond([m.to_dict() for m in found], parameters={"city": _city(request, city), "task": task,
                                                               "org": org, "unassigned": unassigned})


@router.get("/governance/matrix/template", response_class=Response,
            responses={200: {"content": {service.XLSX_MEDIA_TYPE: {}}, "description": "the .xlsx workbook"}})
def matrix_template(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
                    filled: bool = Query(False, description="with the measures the caller may read (the export)"),
                    principal: Principal = Depends(get_principal)) -> Response:
    """The matrix workbook in the import layout (说明, 措施, 指标): empty, or the export (``filled=true``)."""
    return _xlsx(service.matrix_workbook(get_database(request), principal, _city(request, city), filled=filled))


@router.get("/governance/matrix/{code}", response_model=Envelope[dict[str, Any]])
def get_measure(request: Request, code: str = CODE, city: str | None = Query(None, pattern=CITY_PATTERN),
                as_of: IsoDateTime | None = Query(None, description="as it was at this moment"),
                principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One measure with its versions; another unit's measure answers 404."""
    found = service.get_measure(get_database(request), principal, _city(request, city), code, as_of=as_of)
    return respond(found.to_dict())


@router.patch("/governance/matrix/{code}", response_model=Envelope[dict[str, Any]])
def edit_measure(body: MeasureChanges, request: Request, code: str = CODE,
                 principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Change a measure: units (registry codes), deadline, milestones, indicators (a new version, audited)."""
    found = service.edit_measure(get_database(request), principal, _city(request, body.city), code,
                                 body.changes(), reason=body.reason)
    return respond(found.to_dict())


@router.post("/governance/matrix/import", response_model=Envelope[dict[str, Any]])
async def import_matrix(request: Request, file: UploadFile = File(description="the matrix workbook (.xlsx)"),
                        apply: bool = Form(False, description="store it (false: preview only)"),
                        reason: str = Form("", max_length=500),
                        city: str | None = Form(None, pattern=CITY_PATTERN),
                        principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Import the matrix (sheets 措施 and 指标; all-or-nothing, errors name sheet, row and column)."""
    from starlette.concurrency import run_in_threadpool

    content, name = await _upload(file)
    found = await run_in_threadpool(service.import_matrix, get_database(request), principal, _city(request, city),
                                    content, name, apply=apply, reason=reason)
    return respond(found.to_dict(), status_code=201 if apply else 200)

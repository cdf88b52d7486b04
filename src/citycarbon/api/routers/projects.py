"""The project registry and a project's check (issue 15 items 1, 2, 7) under ``/projects``.

Scoped in :mod:`citycarbon.services.projects.registry`: the office, analysts and departments read every project,
a district user its districts', an enterprise user its own (another's: 404); viewers none. The office, district
and enterprise users file (create, edit while a draft or returned as incomplete, import). Each endpoint parses,
calls one service function and renders."""

from __future__ import annotations

from datetime import date as Date
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.projects import registry as service

router = APIRouter(tags=["projects"])
PERMISSIONS = {
    ("GET", "/projects"): "read", ("POST", "/projects"): "write",
    ("GET", "/projects/template"): "read", ("POST", "/projects/import"): "write",
    ("POST", "/projects/check"): "read",
    ("GET", "/projects/{code}"): "read", ("PATCH", "/projects/{code}"): "write",
    ("GET", "/projects/{code}/check"): "read",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
CODE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="the project's code (XM-2026-0001)")
FUEL = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: float = Field(ge=0, le=1e12, description="annual quantity, physical units")
    unit: str = Field(min_length=1, max_length=32, description="t, 10^4 kWh, 10^4 m^3, GJ, tce …")


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str = Field(min_length=1, max_length=64, description="a product code of efficiency_benchmarks.csv")
    capacity: float = Field(gt=0, le=1e12)
    unit: str = Field(min_length=1, max_length=32, description="t/a, 10^4 t/a …")
    unit_consumption: float | None = Field(None, ge=0, le=1e9, description="in the benchmark's unit")
    consumption_unit: str | None = Field(None, min_length=1, max_length=32, description="kgce/t, kgoe/t …")


class ProjectChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=300)
    applicant_name: str | None = Field(None, min_length=1, max_length=300)
    applicant_uscc: str | None = Field(None, min_length=18, max_length=18, description="unified social credit code")
    region_code: str | None = Field(None, pattern=r"^\d{6}$", description="GB/T 2260 district code")
    industry_code: str | None = Field(None, pattern=r"^[A-Za-z]\d{2,4}$", description="GB/T 4754-2017 code")
    kind: Literal["new", "expansion", "revamp"] | None = None
    application_date: Date | None = None
    products: list[ProductIn] | None = Field(None, max_length=50)
    types: list[str] | None = Field(None, max_length=20, description="plan-rule codes (coal_power_plant …)")
    energy: dict[str, QuantityIn] | None = Field(None, max_length=40, description="annual energy by fuel code")
    feedstock: dict[str, QuantityIn] | None = Field(None, max_length=40, description="feedstock (原料用能) by fuel")
    renewable_supply: dict[str, QuantityIn] | None = Field(None, max_length=40, description="renewable supply")
    national_plan: str | None = Field(None, max_length=300)
    city_consent: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=4000)
    investment_10k_yuan: float | None = Field(None, ge=0, le=1e9, description="investment, 万元")
    city: str | None = Field(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"city", "version", "reason"}).items() if v is not None}


class ProjectIn(ProjectChanges):
    name: str = Field(min_length=1, max_length=300)  # type: ignore[assignment]
    applicant_name: str = Field(min_length=1, max_length=300)  # type: ignore[assignment]
    applicant_uscc: str = Field(min_length=18, max_length=18)  # type: ignore[assignment]
    region_code: str = Field(pattern=r"^\d{6}$")  # type: ignore[assignment]
    industry_code: str = Field(pattern=r"^[A-Za-z]\d{2,4}$")  # type: ignore[assignment]
    kind: Literal["new", "expansion", "revamp"] = "new"  # type: ignore[assignment]
    application_date: Date  # type: ignore[assignment]


class ProjectEdit(ProjectChanges):
    version: int = Field(ge=1, le=1_000_000, description="the version read (a stale one: 409)")
    reason: str = Field("", max_length=500)


@router.get("/projects", response_model=Envelope[list[dict[str, Any]]])
def list_projects(request: Request, pages: tuple[int, int] = Depends(page_params),
                  city: str | None = Query(None, pattern=CITY_PATTERN),
                  state: str | None = Query(None, max_length=32, description="workflow state"),
                  district: str | None = Query(None, pattern=r"^\d{6}$", description="GB/T 2260 code"),
                  industry: str | None = Query(None, pattern=r"^[A-Za-z]\d{0,4}$", description="GB/T 4754 prefix"),
                  verdict: Literal["refuse", "flag", "info"] | None = Query(None),
                  q: str | None = Query(None, max_length=100, description="text in code, name or applicant"),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The projects the caller may read, newest first, with their stored check summary."""
    page, per_page = pages
    found = service.list_projects(get_database(request), principal, _city(request, city), state=state,
                                  district=district, industry=industry, verdict=verdict, text=q,
                                  limit=per_page, offset=(page - 1) * per_page)
    return respond([v.to_dict() for v in found.items], paging=paging(request, page, per_page, found.total))


@router.post("/projects", response_model=Envelope[dict[str, Any]], status_code=201)
def create_project(body: ProjectIn, request: Request,
                   principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """File a new project (a draft): checked, linked to the monitoring registry, audited."""
    found = service.create_project(get_database(request), principal, _city(request, body.city), body.values())
    return respond(found.to_dict(), status_code=201)


@router.get("/projects/template", response_class=Response,
            responses={200: {"content": {service.XLSX_MEDIA_TYPE: {}}, "description": "the .xlsx workbook"}})
def template(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
             example: bool = Query(True, description="with the example project filled in"),
             principal: Principal = Depends(get_principal)) -> Response:
    """The import template (说明, 项目, 能源消费 sheets; Chinese headers with units)."""
    download = service.template_workbook(get_database(request), principal, _city(request, city), example=example)
    return Response(download.content, media_type=download.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{download.filename}"',
                             "Cache-Control": "no-store"})


@router.post("/projects/import", response_model=Envelope[dict[str, Any]])
async def import_projects(request: Request, file: UploadFile = File(description="the template (xlsx) or a CSV"),
                          apply: bool = Form(False, description="store them (false: preview only)"),
                          reason: str = Form("", max_length=500),
                          city: str | None = Form(None, pattern=CITY_PATTERN),
                          principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Import projects (all-or-nothing; errors name file, sheet, row and column); ``apply=false`` previews."""
    from starlette.concurrency import run_in_threadpool

    content = await file.read(service.MAX_FILE_BYTES + 1)
    name = (file.filename or "upload").rsplit("/", 1)[-1][:200]
    if len(content) > service.MAX_FILE_BYTES:
        raise InputError(Problem("the file is larger than 5 MB", message_zh="文件超过 5 MB", file=name))
    found = await run_in_threadpool(service.import_projects, get_database(request), principal,
                                    _city(request, city), content, name, apply=apply, reason=reason)
    return respond(found.to_dict(), status_code=201 if apply else 200)


@router.post("/projects/check", response_model=Envelope[dict[str, Any]])
def check_unsaved(body: ProjectIn, request: Request,
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The check of a project not stored (nothing is written)."""
    found = service.check_unsaved(get_database(request), principal, _city(request, body.city), body.values())
    return respond(found.to_dict())


@router.get("/projects/{code}", response_model=Envelope[dict[str, Any]])
def get_project(request: Request, code: str = CODE, city: str | None = Query(None, pattern=CITY_PATTERN),
                principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One project with its check (energy both ways, CO2, findings, verdict)."""
    found = service.get_project(get_database(request), principal, _city(request, city), code)
    return respond(found.to_dict())


@router.patch("/projects/{code}", response_model=Envelope[dict[str, Any]])
def edit_project(body: ProjectEdit, request: Request, code: str = CODE,
                 principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Change a draft or a project returned as incomplete; ``version`` is the version read (stale: 409)."""
    found = service.edit_project(get_database(request), principal, _city(request, body.city), code,
                                 body.values(), version=body.version, reason=body.reason)
    return respond(found.to_dict())


@router.get("/projects/{code}/check", response_model=Envelope[dict[str, Any]])
def check_project(request: Request, code: str = CODE, city: str | None = Query(None, pattern=CITY_PATTERN),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The project's evaluation: energy (当量值, 等价值, dual control, coal, CO2), findings with their reasons and
    documents, verdict, and the provenance (every factor row used)."""
    found = service.get_project(get_database(request), principal, _city(request, city), code)
    return respond(found.evaluation.to_dict(), method_version=found.evaluation.provenance.get("method_version"))

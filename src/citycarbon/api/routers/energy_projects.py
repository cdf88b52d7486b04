"""The energy-project registry (issue 15 item 6) under ``/energy-projects``: wind, solar, storage, nuclear,
hydrogen, biomass, coal units and boilers by stage, and the 8 GW wind + solar card.

Every role but enterprise users reads; the office edits every project, a district user its districts' projects
(another district's: 404). Each endpoint parses, calls one function of
:mod:`citycarbon.services.projects.energy_projects` and renders; after a write the app's result cache sees the
registry's new version at once (the cockpit's wind + solar card counts the registry)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDate
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.projects import energy_projects as service

router = APIRouter(tags=["energy-projects"])
#: reads: every role but enterprise users (rule "governance"); writes: the service decides (office; districts
#: their own districts' projects)
PERMISSIONS = {
    ("GET", "/energy-projects"): "governance", ("POST", "/energy-projects"): "write",
    ("GET", "/energy-projects/template"): "governance", ("POST", "/energy-projects/import"): "write",
    ("GET", "/energy-projects/wind-solar"): "governance",
    ("GET", "/energy-projects/{code}"): "governance", ("PATCH", "/energy-projects/{code}"): "write",
    ("POST", "/energy-projects/{code}/stage"): "write",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
CODE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
            description="the project's code (NY-2026-0001)")
STAGE = Literal["planned", "approved", "construction", "grid_connected", "retired"]
MAX_FILE_BYTES = 5_000_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


def _refresh(request: Request) -> None:
    results = getattr(request.app.state, "results", None)
    if results is not None:
        results.refresh()  # this process sees the registry's new version at once


class ProjectFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=300)
    technology: str | None = Field(None, min_length=1, max_length=48, description="energy_technologies.csv code")
    region_code: str | None = Field(None, pattern=r"^\d{6}$", description="GB/T 2260 code of the city/district")
    capacity_mw: float | None = Field(None, ge=0, le=1e6, allow_inf_nan=False)
    storage_mwh: float | None = Field(None, ge=0, le=1e7, allow_inf_nan=False)
    owner: str | None = Field(None, max_length=300)
    owner_uscc: str | None = Field(None, max_length=18)
    planned_on: IsoDate | None = Field(None, description="expected grid connection")
    document: str | None = Field(None, max_length=200)
    actions: list[Literal["retirement", "flexibility_retrofit"]] | None = Field(None, max_length=2)
    source: str | None = Field(None, max_length=500)
    status: Literal["reported", "verified", "estimate", "example"] | None = None
    notes: str | None = Field(None, max_length=2000)
    city: str | None = Field(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"city", "reason", "version"}).items() if v is not None}


class ProjectIn(ProjectFields):
    name: str = Field(min_length=1, max_length=300)  # type: ignore[assignment]
    technology: str = Field(min_length=1, max_length=48)  # type: ignore[assignment]
    region_code: str = Field(pattern=r"^\d{6}$")  # type: ignore[assignment]
    capacity_mw: float = Field(ge=0, le=1e6, allow_inf_nan=False)  # type: ignore[assignment]
    code: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    stage: STAGE = "planned"
    approved_on: IsoDate | None = None
    construction_on: IsoDate | None = None
    grid_connected_on: IsoDate | None = None
    retired_on: IsoDate | None = None
    reason: str = Field("", max_length=500)


class ProjectChanges(ProjectFields):
    version: int = Field(ge=1, description="the version read (a stale one: 409)")
    reason: str = Field("", max_length=500)


class StageMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: STAGE
    on: IsoDate | None = Field(None, description="the day the stage was reached (required except for planned)")
    version: int = Field(ge=1)
    reason: str = Field("", max_length=500)
    correction: bool = Field(False, description="a correction back to an earlier stage (the office, with reason)")
    city: str | None = Field(None, pattern=CITY_PATTERN)


@router.get("/energy-projects", response_model=Envelope[list[dict[str, Any]]])
def list_projects(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
                  technology: str | None = Query(None, max_length=48), group: str | None = Query(None, max_length=32),
                  stage: STAGE | None = None, district: str | None = Query(None, pattern=r"^\d{6}$"),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The city's energy projects (filters: technology, technology group, stage, district)."""
    found = service.list_energy_projects(get_database(request), principal, _city(request, city),
                                         technology=technology, group=group, stage=stage, district=district)
    return respond([p.to_dict() for p in found])


@router.post("/energy-projects", response_model=Envelope[dict[str, Any]], status_code=201)
def register(body: ProjectIn, request: Request, principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Register a project at its current stage (with the dates of the stages reached)."""
    values = {**body.values(), **{k: getattr(body, k) for k in ("code", "stage", "approved_on", "construction_on",
                                                                  "grid_connected_on", "retired_on")}}
    found = service.register_energy_project(get_database(request), principal, _city(request, body.city), values,
                                            reason=body.reason)
    _refresh(request)
    return respond(found.to_dict(), status_code=201)


@router.get("/energy-projects/template", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "the .xlsx workbook"}})
def template(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
             filled: bool = Query(False, description="with the projects the caller reads"),
             principal: Principal = Depends(get_principal)) -> Response:
    """The import workbook (说明 sheet, the 能源项目 sheet with a note per column and drop-downs)."""
    download = service.energy_projects_workbook(get_database(request), principal, _city(request, city),
                                                filled=filled)
    return Response(download.content, media_type=download.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{download.filename}"',
                             "Cache-Control": "no-store"})


@router.post("/energy-projects/import", response_model=Envelope[dict[str, Any]])
async def import_projects(request: Request, file: UploadFile = File(description="the template workbook or a CSV"),
                          city: str | None = Form(None, pattern=CITY_PATTERN),
                          apply: bool = Form(False, description="store it (false: preview only)"),
                          reason: str = Form("", max_length=500),
                          principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Import projects, all or nothing (problems name file, sheet, row and column); ``apply=false`` previews."""
    from starlette.concurrency import run_in_threadpool

    content = await file.read(MAX_FILE_BYTES + 1)
    name = (file.filename or "upload").rsplit("/", 1)[-1][:200]
    if len(content) > MAX_FILE_BYTES:
        raise InputError(Problem("the file is larger than 5 MB", message_zh="文件超过 5 MB", file=name))
    found = await run_in_threadpool(service.import_energy_projects, get_database(request), principal,
                                    _city(request, city), content, name, apply=apply, reason=reason)
    if apply:
        _refresh(request)
    return respond(found.to_dict(), status_code=201 if apply else 200)


@router.get("/energy-projects/wind-solar", response_model=Envelope[dict[str, Any]])
def wind_solar(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN),
               on: IsoDate | None = Query(None, description="as of this day (default today)"),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The 8 GW card: grid-connected wind + solar (statistics + registry, nothing counted twice) against the
    plan's 2030 target with its 序时进度, and the pipeline by stage and expected year."""
    return respond(service.wind_solar_status(get_database(request), principal, _city(request, city), on=on))


@router.get("/energy-projects/{code}", response_model=Envelope[dict[str, Any]])
def get_project(request: Request, code: str = CODE, city: str | None = Query(None, pattern=CITY_PATTERN),
                principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One project with its history."""
    found = service.get_energy_project(get_database(request), principal, _city(request, city), code)
    return respond(found.to_dict())


@router.patch("/energy-projects/{code}", response_model=Envelope[dict[str, Any]])
def edit_project(body: ProjectChanges, request: Request, code: str = CODE,
                 principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Change a project's fields (naming the version read; the stage moves with /stage)."""
    found = service.update_energy_project(get_database(request), principal, _city(request, body.city), code,
                                          body.values(), version=body.version, reason=body.reason)
    _refresh(request)
    return respond(found.to_dict())


@router.post("/energy-projects/{code}/stage", response_model=Envelope[dict[str, Any]])
def move_stage(body: StageMove, request: Request, code: str = CODE,
               principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Move a project to a stage on a day (forward; back only as the office's correction with a reason)."""
    found = service.move_stage(get_database(request), principal, _city(request, body.city), code, body.stage,
                               on=body.on, version=body.version, reason=body.reason, correction=body.correction)
    _refresh(request)
    return respond(found.to_dict())

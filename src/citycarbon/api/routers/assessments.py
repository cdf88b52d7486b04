"""Assessment (考核, issue 16 item 2) under ``/assessments/…``: the schemes, the runs of a year, the board, a unit's
breakdown, the office's adjustments, the units' objections and the answers, publication and reproduction.

Each endpoint parses, calls one function of :mod:`citycarbon.services.assessment.runs` and renders; the rules
live there (the office runs, adjusts, answers and publishes; a unit sees its own draft row and objects within the
period; published runs are read by every role but enterprise users; another unit's row is 404; a stale
``version``, a published (frozen) run or open objections are 409)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_admin_write, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import JsonInt
from citycarbon.auth.principal import Principal
from citycarbon.services.assessment import runs as service

router = APIRouter(tags=["assessments"])
PERMISSIONS = {
    ("GET", "/assessments/schemes"): "governance",
    ("POST", "/assessments/schemes"): "admin_write",
    ("GET", "/assessments/runs"): "governance",
    ("POST", "/assessments/runs"): "admin_write",
    ("GET", "/assessments/runs/latest"): "read",
    ("GET", "/assessments/runs/{run_id}"): "read",
    ("GET", "/assessments/runs/{run_id}/units/{unit}"): "read",
    ("POST", "/assessments/runs/{run_id}/units/{unit}/adjust"): "admin_write",
    ("POST", "/assessments/runs/{run_id}/units/{unit}/objections"): "write",
    ("POST", "/assessments/runs/{run_id}/objections/{objection_id}/answer"): "admin_write",
    ("POST", "/assessments/runs/{run_id}/publish"): "admin_write",
    ("GET", "/assessments/runs/{run_id}/reproduce"): "read",
}

RUN_ID = Path(ge=1, le=2**53, description="the run's id")
OBJECTION_ID = Path(ge=1, le=2**53, description="the objection's id")
UNIT = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
            description="the unit's organisation code")
SCHEME = Field("district", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$",
               description="the scheme code (its newest version is used)")
VERSION = Field(ge=1, le=2**31, description="the run version read (a stale one is 409)")
SCHEME_LIMIT = service.MAX_SCHEME_BYTES


def _city(request: Request) -> str:
    return str(request.app.state.results.city)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: JsonInt = Field(ge=2000, le=2100, description="the year assessed")
    scheme: str = SCHEME
    ledger_version: JsonInt | None = Field(None, ge=0, le=2**53,
                                           description="the ledger version to score (default: the current one)")


class AdjustIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator: str = Field(min_length=1, max_length=64, description="a qualitative item of the scheme")
    points: str = Field(min_length=1, max_length=16, pattern=r"^[0-9]{1,4}(\.[0-9]{1,2})?$",
                        description="the points (0 … the item's maximum, two decimals at most)")
    reason: str = Field(min_length=1, max_length=service.MAX_TEXT)
    version: JsonInt = VERSION


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)
    indicator: str | None = Field(None, min_length=1, max_length=64, description="the item objected to")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["upheld", "rejected"]
    answer: str = Field(min_length=1, max_length=service.MAX_TEXT)


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: JsonInt = VERSION
    note: str = Field("", max_length=service.MAX_TEXT)
    early: bool = Field(False, description="publish before the objection period ends (needs a note)")


@router.get("/assessments/schemes", response_model=Envelope[list[dict[str, Any]]])
def list_schemes(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every stored scheme version (the shipped drafts and the office's uploads)."""
    found = service.list_schemes(get_database(request), principal, _city(request))
    return respond([s.to_dict() for s in found])


@router.post("/assessments/schemes", status_code=201, response_model=Envelope[dict[str, Any]])
async def register_scheme(request: Request, file: UploadFile = File(description="the scheme YAML (256 KiB)"),
                          principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Register a new scheme version (the next version of its code); errors name the file and field."""
    from starlette.concurrency import run_in_threadpool

    content = await file.read(SCHEME_LIMIT + 1)
    found = await run_in_threadpool(service.register_scheme, get_database(request), principal, _city(request),
                                    content, (file.filename or "scheme.yaml")[:200])
    return respond(found.to_dict(), status_code=201)


@router.get("/assessments/runs", response_model=Envelope[list[dict[str, Any]]])
def list_runs(request: Request, year: int | None = Query(None, ge=2000, le=2100),
              principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The runs the caller may see, newest first."""
    found = service.list_runs(get_database(request), principal, _city(request), year=year)
    return respond([r.to_dict() for r in found])


@router.post("/assessments/runs", status_code=201, response_model=Envelope[dict[str, Any]])
def run_assessment(body: RunIn, request: Request,
                   principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Run the assessment of a year (a draft; a newer draft supersedes the older one)."""
    found = service.run_assessment(get_database(request), principal, _city(request), body.year, scheme=body.scheme,
                                   ledger_version=body.ledger_version)
    return respond(found.to_dict(), status_code=201)


@router.get("/assessments/runs/latest", response_model=Envelope[dict[str, Any]])
def latest_run(request: Request, year: int = Query(ge=2000, le=2100),
               scheme: str = Query("district", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$"),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The published run of the year, else the newest draft the caller may see."""
    return respond(service.latest_run(get_database(request), principal, _city(request), year,
                                      scheme=scheme).to_dict())


@router.get("/assessments/runs/{run_id}", response_model=Envelope[dict[str, Any]])
def get_run(request: Request, run_id: int = RUN_ID,
            principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The board: the units the caller may see, ranked."""
    return respond(service.get_run(get_database(request), principal, _city(request), run_id).to_dict())


@router.get("/assessments/runs/{run_id}/units/{unit}", response_model=Envelope[dict[str, Any]])
def unit_score(request: Request, run_id: int = RUN_ID, unit: str = UNIT,
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One unit's breakdown: every item with its points, explanation, evidence and fact."""
    return respond(service.unit_score(get_database(request), principal, _city(request), run_id, unit).to_dict())


@router.post("/assessments/runs/{run_id}/units/{unit}/adjust", response_model=Envelope[dict[str, Any]])
def adjust(body: AdjustIn, request: Request, run_id: int = RUN_ID, unit: str = UNIT,
           principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """The office sets a qualitative item with a reason; the unit is re-scored."""
    found = service.adjust(get_database(request), principal, _city(request), run_id, unit, body.indicator,
                           points=body.points, reason=body.reason, version=body.version)
    return respond(found.to_dict())


@router.post("/assessments/runs/{run_id}/units/{unit}/objections", status_code=201,
             response_model=Envelope[dict[str, Any]])
def object_to(body: ObjectionIn, request: Request, run_id: int = RUN_ID, unit: str = UNIT,
              principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """The unit objects to its draft score within the period."""
    found = service.object_to(get_database(request), principal, _city(request), run_id, unit, text=body.text,
                              indicator=body.indicator)
    return respond(found.to_dict(), status_code=201)


@router.post("/assessments/runs/{run_id}/objections/{objection_id}/answer", response_model=Envelope[dict[str, Any]])
def answer_objection(body: AnswerIn, request: Request, run_id: int = RUN_ID, objection_id: int = OBJECTION_ID,
                     principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """The office answers an open objection (upheld or rejected)."""
    found = service.answer_objection(get_database(request), principal, _city(request), run_id, objection_id,
                                     decision=body.decision, answer=body.answer)
    return respond(found.to_dict())


@router.post("/assessments/runs/{run_id}/publish", response_model=Envelope[dict[str, Any]])
def publish(body: PublishIn, request: Request, run_id: int = RUN_ID,
            principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Publish a draft (no open objection; after the objection period, or early with a note); frozen after."""
    found = service.publish(get_database(request), principal, _city(request), run_id, version=body.version,
                            note=body.note, early=body.early)
    return respond(found.to_dict())


@router.get("/assessments/runs/{run_id}/reproduce", response_model=Envelope[dict[str, Any]])
def reproduce(request: Request, run_id: int = RUN_ID,
              principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Collect the facts again on the run's ledger version and compare the scores with the stored ones."""
    return respond(service.reproduce(get_database(request), principal, _city(request), run_id))

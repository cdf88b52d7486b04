""""1+N" plans (issue 14 item 3): sector and district implementation plans and their consistency check.

``GET /governance/plans`` lists the registered sub-plans; ``POST /governance/plans`` registers (or replaces) one
from its YAML — the raw body (``application/yaml``, ``text/yaml``, ``text/plain``) or a multipart upload (field
``file``); ``GET /governance/plans/{plan_code}`` shows one with its YAML; ``DELETE /governance/plans/{plan_code}`` (or
``POST …/withdraw``) withdraws it; ``GET /governance/plans/check`` runs the consistency check. Every caller of
the city reads; only the office writes. Each endpoint parses, calls one function of
:mod:`citycarbon.services.governance.plans` and renders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from citycarbon.api.deps import get_database, get_principal, require_admin_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDateTime
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.governance import plans as service

router = APIRouter(tags=["governance"])
PERMISSIONS = {
    ("GET", "/governance/plans"): "read",
    ("POST", "/governance/plans"): "admin_write",
    ("GET", "/governance/plans/check"): "read",
    ("GET", "/governance/plans/{plan_code}"): "read",
    ("GET", "/governance/plans/{plan_code}/history"): "read",
    ("DELETE", "/governance/plans/{plan_code}"): "admin_write",
    ("POST", "/governance/plans/{plan_code}/withdraw"): "admin_write",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
CODE = Path(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_-]{1,63}$", description="the sub-plan's code")
CITY = Query(None, pattern=CITY_PATTERN, description="city code (default: the deployment's city)")
REASON = Query(None, max_length=500, description="why (kept in the audit trail)")


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


@router.get("/governance/plans", response_model=Envelope[list[dict[str, Any]]])
def list_plans(request: Request, city: str | None = CITY,
               as_of: IsoDateTime | None = Query(None, description="as registered at this moment (ISO 8601 with "
                                                                     "time zone)"),
               principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The registered sector and district implementation plans (current, or ``as_of``), by code."""
    found = service.list_plans(get_database(request), principal, _city(request, city), as_of=as_of)
    return respond([p.to_dict() for p in found], parameters={"city": _city(request, city)})


@router.post("/governance/plans", status_code=201, response_model=Envelope[dict[str, Any]])
async def register_plan(request: Request, city: str | None = CITY, reason: str | None = REASON,
                        principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Register (or replace) a sub-plan from its YAML: the raw body, or a multipart upload (field ``file``).
    422 with every problem (file, line, field) for a bad file, an unknown parent or organisation."""
    content: bytes | str
    filename = "plan.yaml"
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InputError(Problem("send the plan file in the form field 'file'", field="file",
                                         message_zh="请在表单字段 file 中上传方案文件"))
            content = await upload.read()
            filename = (upload.filename or filename)[:255]
    else:
        content = await request.body()
    if not content:
        raise InputError(Problem("the body is empty: send the plan's YAML", field="body",
                                 message_zh="请求体为空：请提交方案的 YAML 文本"))
    found = await run_in_threadpool(service.register_plan, get_database(request), principal,
                                    _city(request, city), content, filename=filename, reason=reason or "")
    return respond(found.to_dict(), status_code=201)


@router.get("/governance/plans/check", response_model=Envelope[dict[str, Any]])
def check_plans(request: Request, city: str | None = CITY,
                principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The "1+N" consistency check: allocations that do not add up to the city's targets (with the numbers and
    units), later target years and deadlines, measures no sub-plan carries, missing parents and organisations."""
    report = service.check_plans(get_database(request), principal, _city(request, city))
    return respond(report.to_dict(), parameters={"city": _city(request, city)})


@router.get("/governance/plans/{plan_code}", response_model=Envelope[dict[str, Any]])
def get_plan(request: Request, plan_code: str = CODE, city: str | None = CITY,
             principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One current sub-plan, with its YAML document."""
    return respond(service.get_plan(get_database(request), principal, _city(request, city), plan_code).to_dict())


@router.get("/governance/plans/{plan_code}/history", response_model=Envelope[list[dict[str, Any]]])
def plan_history(request: Request, plan_code: str = CODE, city: str | None = CITY,
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every version of a sub-plan, oldest first (a withdrawn or replaced version has ``valid_to``)."""
    found = service.plan_history(get_database(request), principal, _city(request, city), plan_code)
    return respond([p.to_dict() for p in found])


@router.delete("/governance/plans/{plan_code}", response_model=Envelope[dict[str, Any]])
def withdraw_plan(request: Request, plan_code: str = CODE, city: str | None = CITY, reason: str | None = REASON,
                  principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Withdraw a sub-plan (its current version is closed; the history stays); the office only."""
    found = service.withdraw_plan(get_database(request), principal, _city(request, city), plan_code,
                                 reason=reason or "")
    return respond(found.to_dict())


@router.post("/governance/plans/{plan_code}/withdraw", response_model=Envelope[dict[str, Any]])
def withdraw_plan_post(request: Request, plan_code: str = CODE, city: str | None = CITY, reason: str | None = REASON,
                       principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """The same as ``DELETE /governance/plans/{plan_code}``, for clients that only POST."""
    found = service.withdraw_plan(get_database(request), principal, _city(request, city), plan_code,
                                 reason=reason or "")
    return respond(found.to_dict())

"""The project registry and a project's check page (issue 15 items 1, 2, 7).

``/projects``                   the registry: the projects the caller may read, filtered by state, district,
                                industry, verdict and text; for those who file: the "new project" link, the
                                template download and the import (preview, then apply).
``/projects/new``               the form of a new project (the office, district and enterprise users).
``/projects/{code}``            the check page: applicant, district, industry, products; tce 当量值 and 等价值,
                                feedstock and renewable deductions, dual-control tce, coal, CO2 by fuel /
                                electricity / heat; each product against 标杆/基准; every finding with its
                                severity, reason, document and verification; the replacement needed; the review
                                level. Tabs link the budget check, the workflow and the ledgers.

The service (:mod:`citycarbon.services.projects.registry`) applies scope and rules and audits; bad input re-shows
the page with the problems (file, sheet, row, column) and writes nothing. The project code in the path is
matched by the ``projcode`` convertor (``XM-2026-0001``), so ``/projects/ledgers`` and other fixed paths of the
gate's other pages are never taken for a project.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor

from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.security import CsrfError, check_csrf


class ProjectCode(Convertor[str]):
    """A project code of the registry: ``XM-2026-0001``."""

    regex = "XM-[0-9]{4}-[0-9]{1,8}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


if "projcode" not in CONVERTOR_TYPES:
    register_url_convertor("projcode", ProjectCode())

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
#: how many energy lines the new-project form offers
FORM_LINES = 5


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _refused(request: Request, session: Any, kind: str, status_code: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status_code)


def _may_file(principal: Any) -> bool:
    return bool(principal.can_write and principal.role.value in ("admin", "district", "enterprise"))


def _csrf_ok(request: Request, session: Any, token: str) -> bool:
    try:
        check_csrf(web_state(request).settings, request, session, token)
    except CsrfError:
        return False
    return True


# ---- the registry ----------------------------------------------------------------------------------------

def _list_page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
               upload: dict[str, str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.projects import registry

    principal = session.principal
    city = _city(request)
    q = request.query_params
    filters = {"state": q.get("state") or None, "district": q.get("district") or None,
               "industry": (q.get("industry") or "").strip()[:5] or None, "verdict": q.get("verdict") or None,
               "text": (q.get("q") or "").strip()[:100] or None}
    try:
        page = max(1, min(int(q.get("page") or 1), 100_000))
    except ValueError:
        page = 1
    try:
        found = registry.list_projects(web_state(request).db(), principal, city, limit=PER_PAGE,
                                       offset=(page - 1) * PER_PAGE, **filters)
    except InputError:
        filters = dict.fromkeys(filters)
        found = registry.list_projects(web_state(request).db(), principal, city, limit=PER_PAGE)
    except Forbidden:
        return _refused(request, session, "forbidden", 403)
    areas = registry.districts(city)
    if principal.role.value == "district":
        areas = {code: name for code, name in areas.items() if code in principal.regions}
    return render(request, "projects/list.html", {
        "found": found, "filters": filters, "page": page, "pages": max(1, -(-found.total // PER_PAGE)),
        "states": registry.STATES, "districts": areas, "may_file": _may_file(principal), "result": result,
        "problems": problems or [], "upload": upload or {},
        "query_base": "".join(f"{k}={quote(str(v))}&" for k, v in (
            ("state", filters["state"]), ("district", filters["district"]), ("industry", filters["industry"]),
            ("verdict", filters["verdict"]), ("q", filters["text"])) if v),
    }, session=session, status_code=status_code)


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _list_page(request, session)


@router.post("/projects/import", response_class=HTMLResponse)
async def import_projects(request: Request, file: UploadFile | None = File(None), content_b64: str = Form(""),
                          filename: str = Form(""), apply: str = Form(""), reason: str = Form(""),
                          csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import registry

    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    if not _csrf_ok(request, session, csrf_token):
        return _refused(request, session, "csrf", 403)
    content, name = b"", ""
    if file is not None and file.filename:
        content = await file.read(registry.MAX_FILE_BYTES + 1)
        name = file.filename.rsplit("/", 1)[-1][:200]
    elif content_b64:
        try:
            content, name = base64.b64decode(content_b64, validate=True), (filename or "upload")[:200]
        except (binascii.Error, ValueError):
            content = b""
    if not content:
        problem = Problem("choose a file to import", message_zh="请选择要导入的文件", field="file")
        return _list_page(request, session, problems=[problem], status_code=422)
    upload = {"content_b64": base64.b64encode(content).decode("ascii"), "filename": name, "reason": reason}

    def call() -> Any:
        return registry.import_projects(web_state(request).db(), session.principal, _city(request), content,
                                        name, apply=apply == "1", reason=reason)

    try:
        result = await run_in_threadpool(call)
    except Forbidden:
        return _refused(request, session, "forbidden", 403)
    except InputError as error:
        return _list_page(request, session, problems=error.problems, status_code=422)
    return _list_page(request, session, result=result, upload={} if result.applied else upload)


# ---- a new project ---------------------------------------------------------------------------------------

def _new_page(request: Request, session: Any, *, form: dict[str, Any] | None = None,
              problems: list[Problem] | None = None, status_code: int = 200) -> Response:
    from citycarbon.codelists import load_codelist
    from citycarbon.services.projects import registry
    from citycarbon.services.projects.evaluate import gate_tables

    principal = session.principal
    if not _may_file(principal):
        return _refused(request, session, "forbidden", 403)
    city = _city(request)
    areas = registry.districts(city)
    if principal.role.value == "district":
        areas = {code: name for code, name in areas.items() if code in principal.regions}
    fuels = load_codelist("fuels")
    products = sorted({(b.product, b.name_zh, b.unit) for b in gate_tables().benchmarks})
    return render(request, "projects/new.html", {
        "form": form or {}, "problems": problems or [], "districts": areas, "lines": range(FORM_LINES),
        "fuels": [(r.fuel, r.default_unit) for r in fuels.itertuples()], "products": products,
        "kinds": list(registry.KIND_LABELS),
    }, session=session, status_code=status_code)


@router.get("/projects/new", response_class=HTMLResponse)
def new_page(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _new_page(request, session)


def _form_values(form: Any) -> dict[str, Any]:
    """The body of the service from the form's fields."""
    values: dict[str, Any] = {k: (form.get(k) or "").strip() for k in (
        "name", "applicant_name", "applicant_uscc", "region_code", "industry_code", "kind", "application_date",
        "national_plan", "city_consent", "notes")}
    values = {k: v for k, v in values.items() if v}
    if (form.get("product") or "").strip():
        values["products"] = [{"product": form.get("product"), "capacity": form.get("capacity"),
                               "unit": form.get("capacity_unit"), "unit_consumption": form.get("unit_consumption"),
                               "consumption_unit": form.get("consumption_unit")}]
    groups: dict[str, dict[str, Any]] = {"energy": {}, "feedstock": {}, "renewable_supply": {}}
    for i in range(FORM_LINES):
        fuel = (form.get(f"fuel_{i}") or "").strip()
        if not fuel:
            continue
        group = form.get(f"group_{i}") if form.get(f"group_{i}") in groups else "energy"
        groups[group][fuel] = {"quantity": form.get(f"quantity_{i}"), "unit": form.get(f"unit_{i}")}
    values.update({k: v for k, v in groups.items() if v})
    return values


@router.post("/projects/new", response_class=HTMLResponse)
async def create_project(request: Request, session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import registry

    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    form = await request.form()
    if not _csrf_ok(request, session, str(form.get("csrf_token") or "")):
        return _refused(request, session, "csrf", 403)
    raw = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    values = _form_values(raw)

    def call() -> Any:
        return registry.create_project(web_state(request).db(), session.principal, _city(request), values)

    try:
        created = await run_in_threadpool(call)
    except Forbidden:
        return _refused(request, session, "forbidden", 403)
    except InputError as error:
        return _new_page(request, session, form=raw, problems=error.problems, status_code=422)
    return RedirectResponse(f"/projects/{created.code}", status_code=303)


# ---- the check page --------------------------------------------------------------------------------------

@router.get("/projects/{project_code:projcode}", response_class=HTMLResponse)
def project_page(request: Request, project_code: str, session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import registry

    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        overview = registry.project_overview(web_state(request).db(), session.principal, _city(request),
                                             project_code)
    except NotFound:
        return _refused(request, session, "not_found", 404)
    except Forbidden:
        return _refused(request, session, "forbidden", 403)
    context = detail_context(overview.detail)
    if overview.budget is not None:
        context["budget"] = overview.budget
    if overview.workflow is not None:
        context["workflow"] = overview.workflow
    return render(request, "projects/detail.html", context, session=session)


def detail_context(detail: Any) -> dict[str, Any]:
    """What ``projects/detail.html`` needs: the project, its check and the figures drawn from it (other pages
    of the gate add ``budget`` / ``workflow`` to fill their summaries)."""
    from citycarbon.projects.rules import Severity, benchmark_for
    from citycarbon.services.projects.evaluate import gate_tables

    evaluation = detail.evaluation
    tables = gate_tables()
    findings = list(evaluation.findings)
    efficiency = [f for f in findings if f.code.startswith("efficiency.")]
    replacement = [f for f in findings if f.code.startswith("replacement.")]
    review = [f for f in findings if f.code.startswith("review.")]
    project = detail.view.project
    products = []
    for line in project.products:
        row = benchmark_for(line.product, tables.benchmarks, project.application_date)
        finding = next((f for f in efficiency if f.subject == line.product), None)
        products.append({"line": line, "name": tables.type_zh(line.product), "benchmark": row, "finding": finding})
    return {"detail": detail, "view": detail.view, "evaluation": evaluation, "energy": evaluation.energy,
            "findings": findings, "efficiency": efficiency, "replacement": replacement, "review": review,
            "products": products, "type_zh": tables.type_zh,
            "counts": {s.value: sum(f.severity is s for f in findings) for s in Severity}}

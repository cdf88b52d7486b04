"""The replacement ledgers in the cockpit (issue 15 item 3).

``/projects/ledgers``                     both ledgers (retired capacity, energy room): every source with its
                                          amount, allocated and remaining balance (always shown) and its
                                          allocations; for the office: the add-source form and the import.
``/projects/{project_code}/allocations``  what a project needs (from its rules) against what it holds; for the
                                          office: the allocation form (pick a source, an amount) and releases.
``/projects/allocations/{id}/release``    the office's release (a reason is required).

This module sorts before ``projects`` and is mounted first, so ``/projects/ledgers`` is never read as a project
code. Every form is checked for the session's CSRF token; the service
(:mod:`citycarbon.services.projects.ledgers`) applies the rules and audits. A refusal (over the balance, another
product, a project that may not receive replacement) re-shows the page with the ledger's reason and numbers in
the page's language (409); bad input re-shows it with the problems (422) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.writes import form_write, refused

router = APIRouter(include_in_schema=False)


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _write_form(request: Request, session: Any, csrf_token: str, write: Callable[[Any], Any],
                page: Callable[..., Response]) -> Response:
    return form_write(request, session, csrf_token, write, page, conflicts=True)


# ---- the ledgers ---------------------------------------------------------------------------------------

def _ledgers_page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
                  refusal: str | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.projects import ledgers

    principal = session.principal
    city = _city(request)
    sources = ledgers.list_sources(web_state(request).db(), principal, city)
    return render(request, "projects/ledgers.html", {
        "capacity": [s for s in sources if s.kind == "capacity"], "energy": [s for s in sources if s.kind == "energy"],
        "result": result, "problems": problems or [], "refusal": refusal,
        "can_manage": principal.can_review_projects(city), "columns": ledgers.SOURCE_COLUMNS,
    }, session=session, status_code=status_code)


@router.get("/projects/ledgers", response_class=HTMLResponse)
def ledgers_page(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _ledgers_page(request, session)


@router.post("/projects/ledgers/sources", response_class=HTMLResponse)
def add_source(request: Request, code: str = Form(""), kind: str = Form(""), amount: str = Form(""),
               unit: str = Form(""), product: str = Form(""), plant: str = Form(""), unit_name: str = Form(""),
               region_code: str = Form(""), retired_on: str = Form(""), document: str = Form(""),
               origin: str = Form(""), notes: str = Form(""), csrf_token: str = Form(""),
               session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import ledgers

    values = {"code": code, "kind": kind, "amount": amount, "unit": unit, "product": product, "plant": plant,
              "unit_name": unit_name, "region_code": region_code, "retired_on": retired_on, "document": document,
              "origin": origin, "notes": notes}

    def write(db: Any) -> Any:
        return ledgers.add_source(db, session.principal, _city(request), values)

    def page(request: Request, session: Any, **kwargs: Any) -> Response:
        if kwargs.get("result") is not None:
            return RedirectResponse(f"/projects/ledgers#source-{code}", status_code=303)
        return _ledgers_page(request, session, **kwargs)

    return _write_form(request, session, csrf_token, write, page)


@router.post("/projects/ledgers/import", response_class=HTMLResponse)
async def import_sources(request: Request, file: UploadFile | None = File(None), apply: str = Form(""),
                         reason: str = Form(""), csrf_token: str = Form(""),
                         session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import ledgers

    content, name = b"", ""
    if file is not None and file.filename:
        content = await file.read(ledgers.MAX_FILE_BYTES + 1)
        name = file.filename.rsplit("/", 1)[-1][:200]

    def write(db: Any) -> Any:
        if not name:
            raise InputError(Problem("choose a file to import", message_zh="请选择要导入的文件", field="file"))
        return ledgers.import_sources(db, session.principal, _city(request), content, name, apply=apply == "1",
                                      reason=reason)

    return await run_in_threadpool(_write_form, request, session, csrf_token, write, _ledgers_page)


# ---- a project's allocations ---------------------------------------------------------------------------

def _allocations_page(code: str) -> Callable[..., Response]:
    def page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
             refusal: str | None = None, status_code: int = 200) -> Response:
        from citycarbon.services.projects import ledgers

        principal = session.principal
        city = _city(request)
        db = web_state(request).db()
        try:
            held = ledgers.project_allocations(db, principal, city, code)
        except Forbidden:
            return refused(request, session, "forbidden", 403)
        except NotFound:
            return refused(request, session, "not_found", 404)
        can_manage = principal.can_review_projects(city)
        sources = [s for s in ledgers.list_sources(db, principal, city) if s.remaining_decimal > 0] \
            if can_manage else []
        return render(request, "projects/allocations.html", {
            "held": held, "coverage": held.coverage, "sources": sources, "result": result,
            "problems": problems or [], "refusal": refusal, "can_manage": can_manage,
        }, session=session, status_code=status_code)

    return page


@router.get("/projects/{project_code}/allocations", response_class=HTMLResponse)
def allocations_page(request: Request, project_code: str, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _allocations_page(project_code)(request, session)


@router.post("/projects/{project_code}/allocations", response_class=HTMLResponse)
def allocate(request: Request, project_code: str, source: str = Form(""), amount: str = Form(""), unit: str = Form(""),
             note: str = Form(""), csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import ledgers

    def write(db: Any) -> Any:
        return ledgers.allocate(db, session.principal, _city(request), project_code, source, amount, unit, note)

    return _write_form(request, session, csrf_token, write, _allocations_page(project_code))


@router.post("/projects/allocations/{allocation_id}/release", response_class=HTMLResponse)
def release(request: Request, allocation_id: int, reason: str = Form(""), back: str = Form(""),
            csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import ledgers

    def write(db: Any) -> Any:
        if not 1 <= allocation_id <= 2**62:
            raise NotFound("分配记录不存在 / allocation not found")
        return ledgers.release(db, session.principal, _city(request), allocation_id, reason)

    def page(request: Request, session: Any, **kwargs: Any) -> Response:
        result = kwargs.get("result")
        if result is not None:
            target = "/projects/ledgers" if back == "ledgers" else \
                f"/projects/{result.allocation.project_code}/allocations"
            return RedirectResponse(target, status_code=303)
        if back and back != "ledgers":
            return _allocations_page(back)(request, session, **kwargs)
        return _ledgers_page(request, session, **kwargs)

    return _write_form(request, session, csrf_token, write, page)

"""The 节能审查 workflow of a project in the cockpit (issue 15 item 5).

``/projects/{project_code}/review``               the timeline of events with attachments, and the forms the caller
                                                  may use (submit, completeness, comment with files, decision,
                                                  commissioning, 验收, withdraw); the 审查意见 download.
``/projects/{project_code}/opinion.docx``         the 审查意见 (GB/T 9704 DOCX) of a decided project.
``/projects/{project_code}/attachments/{attachment_id}``
                                                  a review attachment, as a download only (nosniff).

Every form is checked for the session's CSRF token; the services apply the rules (the page offers only the steps
the caller may take, the service decides) and audit the writes; bad input re-shows the page with the problems
(422), a refused step (state, stale version, uncovered replacement) with the reason (409); nothing is written then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import translate_problem
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
FILE_LIMIT = 20 * 1024 * 1024


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _problems(error: InputError, locale: str) -> list[str]:
    out = []
    for p in error.problems:
        text = p.message_zh if locale.startswith("zh") and p.message_zh else translate_problem(locale, p)
        out.append(f"{p.field or ''} {text}".strip())
    return out


def _conflict(error: Conflict, locale: str) -> list[str]:
    zh, _, en = error.message.partition(" / ")
    return [zh if locale.startswith("zh") or not en else en]


def _error(request: Request, session: Any, kind: str, status: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


def _page(request: Request, session: Any, code: str, *, notice: str | None = None,
          errors: list[str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.projects import workflow

    try:
        view = workflow.workflow_view(web_state(request).db(), session.principal, _city(request), code)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    return render(request, "projects/review.html", {
        "workflow": view, "notice": notice, "errors": errors or [], "today": date.today().isoformat(),
        "rule": workflow.acceptance_rule(),
    }, session=session, status_code=status_code)


@router.get("/projects/{project_code}/review", response_class=HTMLResponse)
def review_page(request: Request, project_code: str, session: Any = Depends(current_session)) -> Response:
    code = project_code
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _page(request, session, code)


def _download(request: Request, session: Any, code: str, make: Callable[[Any], Response]) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        return make(web_state(request).db())
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except Conflict as error:  # no decision yet: the page says so
        return _page(request, session, code, errors=_conflict(error, locale_of(request)), status_code=409)


@router.get("/projects/{project_code}/opinion.docx")
def opinion_download(request: Request, project_code: str, session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    def make(db: Any) -> Response:
        content = workflow.opinion_docx(db, session.principal, _city(request), code)
        return Response(content, media_type=workflow.DOCX, headers={
            "Content-Disposition": f'attachment; filename="opinion-{code}.docx"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})

    return _download(request, session, code, make)


@router.get("/projects/{project_code}/attachments/{attachment_id}")
def attachment_download(request: Request, project_code: str, attachment_id: int,
                        session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    def make(db: Any) -> Response:
        info, content = workflow.get_attachment(db, session.principal, _city(request), code, attachment_id)
        return Response(content, media_type=info.media_type, headers=workflow.download_headers(info))

    return _download(request, session, code, make)


def _post(request: Request, session: Any, code: str, csrf_token: str, write: Callable[[Any], object],
          done: str) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return _error(request, session, "csrf", 403)
    locale = locale_of(request)
    try:
        write(web_state(request).db())
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except InputError as error:
        return _page(request, session, code, errors=_problems(error, locale), status_code=422)
    except Conflict as error:
        return _page(request, session, code, errors=_conflict(error, locale), status_code=409)
    return _page(request, session, code, notice=done)


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(Problem(message="not a date (YYYY-MM-DD)", message_zh="日期格式应为 YYYY-MM-DD", field=field,
                                 value=text)) from None


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() else None


@router.post("/projects/{project_code}/submit", response_class=HTMLResponse)
def submit(request: Request, project_code: str, version: str = Form(""), csrf_token: str = Form(""),
           session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    return _post(request, session, code, csrf_token, lambda db: workflow.submit(
        db, session.principal, _city(request), code, version=_version(version)), "submitted")


@router.post("/projects/{project_code}/completeness", response_class=HTMLResponse)
def completeness(request: Request, project_code: str, missing: list[str] = Form([]), note: str = Form(""),
                 version: str = Form(""), csrf_token: str = Form(""),
                 session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    return _post(request, session, code, csrf_token, lambda db: workflow.check_completeness(
        db, session.principal, _city(request), code, missing=missing, note=note, version=_version(version)),
        "checked")


@router.post("/projects/{project_code}/comments", response_class=HTMLResponse)
async def comment(request: Request, project_code: str, text: str = Form(""), files: list[UploadFile] = File([]),
                  csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    code = project_code
    from starlette.concurrency import run_in_threadpool

    from citycarbon.services.projects import workflow

    attachments = [((f.filename or "upload")[:255], await f.read(FILE_LIMIT + 1)) for f in files if f.filename]
    return await run_in_threadpool(_post, request, session, code, csrf_token, lambda db: workflow.comment(
        db, session.principal, _city(request), code, text, attachments=attachments), "commented")


@router.post("/projects/{project_code}/decision", response_class=HTMLResponse)
def decision(request: Request, project_code: str, decision: str = Form(""), number: str = Form(""),
             decision_date: str = Form(""), conditions: str = Form(""), reason: str = Form(""),
             version: str = Form(""), csrf_token: str = Form(""),
             session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    return _post(request, session, code, csrf_token, lambda db: workflow.decide(
        db, session.principal, _city(request), code, decision=decision, number=number,
        day=_day(decision_date, "date"), conditions=conditions, reason=reason, version=_version(version)),
        "decided")


@router.post("/projects/{project_code}/commissioning", response_class=HTMLResponse)
def commissioning(request: Request, project_code: str, commissioning_date: str = Form(""),
                  enterprise_id: str = Form(""),
                  version: str = Form(""), csrf_token: str = Form(""),
                  session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    return _post(request, session, code, csrf_token, lambda db: workflow.commission(
        db, session.principal, _city(request), code, day=_day(commissioning_date, "date"),
        enterprise_id=enterprise_id or None, version=_version(version)), "commissioned")


def _measured(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(Problem(message="not a number", message_zh="实测能耗应为数字", field="measured",
                                 value=text)) from None


@router.post("/projects/{project_code}/acceptance", response_class=HTMLResponse)
def acceptance(request: Request, project_code: str, measured: str = Form(""), source: str = Form(""),
               start: str = Form(""), end: str = Form(""), version: str = Form(""), csrf_token: str = Form(""),
               session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    meters = getattr(request.app.state, "monitoring", None)
    return _post(request, session, code, csrf_token, lambda db: workflow.accept(
        db, session.principal, _city(request), code, meters=meters, measured=_measured(measured), source=source,
        start=_day(start, "start"), end=_day(end, "end"), version=_version(version)), "accepted")


@router.post("/projects/{project_code}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, project_code: str, note: str = Form(""), version: str = Form(""),
             csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    code = project_code
    from citycarbon.services.projects import workflow

    return _post(request, session, code, csrf_token, lambda db: workflow.withdraw(
        db, session.principal, _city(request), code, note=note, version=_version(version)), "withdrawn")

"""Supervision (督办), the inbox and the working-day calendar in the cockpit (issue 14 items 5 and 8).

``/governance/supervision``             the items by level with the working days late (the office and analysts: all;
                                        a unit: its own); the office's scan and template forms.
``/governance/supervision/{item_id}``   one item: facts, the unit's answer form (text and evidence files), the
                                        office's close form, the 督办通知 download (``…/notice.docx``).
``/governance/inbox``                   the caller's messages; mark them read.
``/governance/calendar``                a year's holidays and adjusted working days; the office's import form.

Every form is checked for the session's CSRF token; the services apply the rules and audit the writes; bad input
re-shows the page with the problems (422) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import translate_problem
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
FILE_LIMIT = 20 * 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _problems(error: InputError, locale: str) -> list[str]:
    out = []
    for p in error.problems:
        text = p.message_zh if locale.startswith("zh") and p.message_zh else translate_problem(locale, p)
        where = " ".join(str(x) for x in (p.file, f"#{p.row}" if p.row else None) if x)
        out.append(f"{where} {text}".strip())
    return out


def _signed_in(request: Request, session: Any) -> Response | None:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return None


def _error(request: Request, session: Any, kind: str, status: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


# ---- pages ---------------------------------------------------------------------------------------------------

def _list_page(request: Request, session: Any, *, notice: str | None = None, errors: list[str] | None = None,
               status_code: int = 200) -> Response:
    from citycarbon.services.governance import supervision

    principal = session.principal
    city = _city(request)
    try:
        items = supervision.list_items(web_state(request).db(), principal, city)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    levels = [(level, [i for i in items if i.level == level]) for level in ("interview", "notice", "reminder")]
    return render(request, "governance/supervision.html", {
        "levels": levels, "count": len(items), "notice": notice, "errors": errors or [],
        "is_office": principal.can_manage_governance(city), "today": date.today().isoformat(),
    }, session=session, status_code=status_code)


@router.get("/governance/supervision", response_class=HTMLResponse)
def supervision_page(request: Request, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _list_page(request, session)


def _item_page(request: Request, session: Any, item_id: int, *, notice: str | None = None,
               errors: list[str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.governance import supervision

    principal = session.principal
    city = _city(request)
    try:
        item = supervision.get_item(web_state(request).db(), principal, city, item_id)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    return render(request, "governance/supervision_item.html", {
        "item": item, "notice": notice, "errors": errors or [],
        "is_office": principal.can_manage_governance(city),
        "can_answer": item.state != "closed" and principal.can_file_for(item.org_code, item.org_region),
        "has_notice": bool(item.doc_number),
    }, session=session, status_code=status_code)


@router.get("/governance/supervision/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: int, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _item_page(request, session, item_id)


@router.get("/governance/supervision/{item_id}/notice.docx")
def notice_download(request: Request, item_id: int, session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import supervision

    refused = _signed_in(request, session)
    if refused:
        return refused
    try:
        name, content = supervision.notice_docx(web_state(request).db(), session.principal, _city(request), item_id)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except InputError as error:
        return _item_page(request, session, item_id, errors=_problems(error, locale_of(request)), status_code=422)
    return Response(content, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                       "Cache-Control": "no-store"})


def _post(request: Request, session: Any, csrf_token: str, write: Callable[[Any], object],
          page: Callable[..., Response], done: str) -> Response:
    refused = _signed_in(request, session)
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return _error(request, session, "csrf", 403)
    try:
        write(web_state(request).db())
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except InputError as error:
        return page(request, session, errors=_problems(error, locale_of(request)), status_code=422)
    return page(request, session, notice=done)


def _office_only(session: Any, request: Request) -> None:
    if not session.principal.can_manage_governance(_city(request)):
        raise Forbidden("the office only")


@router.post("/governance/supervision/scan", response_class=HTMLResponse)
def scan(request: Request, today: str = Form(""), csrf_token: str = Form(""),
         session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import supervision

    def write(db: Any) -> object:
        try:
            day = date.fromisoformat(today) if today else None
        except ValueError:
            raise InputError(Problem(message="not a date", message_zh="日期格式应为 YYYY-MM-DD", field="today",
                                     value=today)) from None
        return supervision.scan(db, session.principal, _city(request), today=day)

    return _post(request, session, csrf_token, write, _list_page, "scanned")


@router.post("/governance/supervision/template", response_class=HTMLResponse)
async def template(request: Request, file: UploadFile | None = File(None), csrf_token: str = Form(""),
                   session: Any = Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    from citycarbon.services.governance import supervision

    content = await file.read(FILE_LIMIT + 1) if file is not None and file.filename else b""
    name = (file.filename if file is not None and file.filename else "template.docx")[:255]

    def write(db: Any) -> object:
        return supervision.upload_template(db, session.principal, _city(request), content, filename=name)

    return await run_in_threadpool(_post, request, session, csrf_token, write, _list_page, "template")


@router.post("/governance/supervision/{item_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, item_id: int, answer: str = Form(""), files: list[UploadFile] = File([]),
                 csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    from citycarbon.services.governance import supervision

    attachments = [((f.filename or "upload")[:255], await f.read(FILE_LIMIT + 1)) for f in files if f.filename]

    def write(db: Any) -> object:
        return supervision.answer(db, session.principal, _city(request), item_id, answer, attachments=attachments)

    def page(request: Request, session: Any, **kw: Any) -> Response:
        return _item_page(request, session, item_id, **kw)

    return await run_in_threadpool(_post, request, session, csrf_token, write, page, "answered")


@router.post("/governance/supervision/{item_id}/close", response_class=HTMLResponse)
def close(request: Request, item_id: int, note: str = Form(""), csrf_token: str = Form(""),
          session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import supervision

    def write(db: Any) -> object:
        return supervision.close(db, session.principal, _city(request), item_id, note)

    def page(request: Request, session: Any, **kw: Any) -> Response:
        return _item_page(request, session, item_id, **kw)

    return _post(request, session, csrf_token, write, page, "closed")


# ---- inbox ---------------------------------------------------------------------------------------------------

def _inbox_page(request: Request, session: Any, *, notice: str | None = None, errors: list[str] | None = None,
                status_code: int = 200) -> Response:
    from citycarbon.services.governance import inbox

    try:
        messages = inbox.list_messages(web_state(request).db(), session.principal, _city(request))
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    return render(request, "governance/inbox.html", {
        "messages": messages, "unread": sum(1 for m in messages if not m.read), "notice": notice,
        "errors": errors or [], "can_mark": session.principal.can_write,
    }, session=session, status_code=status_code)


@router.get("/governance/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _inbox_page(request, session)


@router.post("/governance/inbox/read", response_class=HTMLResponse)
def inbox_read(request: Request, message_id: str = Form(""), csrf_token: str = Form(""),
               session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import inbox

    def write(db: Any) -> object:
        ids = None
        if message_id:
            if not message_id.isdigit():
                raise NotFound("message not found")
            ids = [int(message_id)]
        return inbox.mark_read(db, session.principal, _city(request), ids)

    response = _post(request, session, csrf_token, write, _inbox_page, "read")
    if response.status_code == 200:
        return RedirectResponse("/governance/inbox", status_code=303)
    return response


# ---- calendar ------------------------------------------------------------------------------------------------

def _calendar_page(request: Request, session: Any, *, notice: str | None = None, errors: list[str] | None = None,
                   status_code: int = 200) -> Response:
    from citycarbon.services.governance import supervision

    raw = request.query_params.get("year", "")
    year = int(raw) if raw.isdigit() and 1900 <= int(raw) <= 2200 else date.today().year
    problems = list(errors or [])
    try:
        days = supervision.calendar_year(web_state(request).db(), session.principal, _city(request), year)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except InputError as error:
        days = []
        problems += _problems(error, locale_of(request))
    return render(request, "governance/calendar.html", {
        "year": year, "days": days, "notice": notice, "errors": problems, "missing": not days,
        "is_office": session.principal.can_manage_governance(_city(request)),
    }, session=session, status_code=status_code)


@router.get("/governance/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _calendar_page(request, session)


@router.post("/governance/calendar", response_class=HTMLResponse)
async def calendar_import(request: Request, file: UploadFile | None = File(None), csrf_token: str = Form(""),
                          session: Any = Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    from citycarbon.services.governance import supervision

    content = await file.read(FILE_LIMIT + 1) if file is not None and file.filename else b""
    name = (file.filename if file is not None and file.filename else "calendar.csv")[:255]

    def write(db: Any) -> object:
        if not content:
            _office_only(session, request)
            raise InputError(Problem(message="choose a file", message_zh="请选择文件", field="file"))
        return supervision.import_calendar(db, session.principal, _city(request), content, filename=name)

    return await run_in_threadpool(_post, request, session, csrf_token, write, _calendar_page, "imported")

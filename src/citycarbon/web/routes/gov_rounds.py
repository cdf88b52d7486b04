"""Progress rounds (调度) and filings in the cockpit (issue 14 item 4) and each unit's "my measures".

``/governance/rounds``                the rounds with their progress; the office's form that opens one.
``/governance/rounds/{round_code}``   one round: assignments × state (what the caller may see), the office's close.
``/governance/my``                    the caller's measures in open rounds with filing state and deadline.
``/governance/filings/{filing_id}``   the filing form (status, narrative, indicators with units, lag reason),
                                      evidence upload, history; the office's review (accept / return).

Every form is checked for the session's CSRF token and calls one function of
:mod:`citycarbon.services.governance.rounds` (rules, versioning, audit). Bad input re-shows the page with the
problems (422, nothing saved); a stale version re-shows the filing as stored now beside what the caller typed
(409, nothing lost). Evidence downloads go through the API (``/api/v1/governance/attachments/{id}``), which
serves them only as attachments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session, localized
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
STATUSES = ("not_started", "in_progress", "completed", "lagging")


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _problems(error: InputError, locale: str) -> list[dict[str, str]]:
    """Each problem as (field kind, the indicator code if any, the message in the page's language)."""
    zh = locale.startswith("zh")
    out = []
    for p in error.problems:
        field, _, code = (p.field or "").partition(".")
        text = (p.message_zh if zh and p.message_zh else p.message) if p.message_zh else localized(p.message, locale)
        out.append({"field": field, "code": code, "text": text, "file": p.file or ""})
    return out


def _signed_in(request: Request, session: Any) -> Response | None:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return None


def _error(request: Request, session: Any, kind: str, status: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


def _csrf_refused(request: Request, session: Any, token: str) -> Response | None:
    refused = _signed_in(request, session)
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, token)
    except CsrfError:
        return _error(request, session, "csrf", 403)
    return None


# -- rounds ----------------------------------------------------------------------------------------------------

def _rounds_page(request: Request, session: Any, *, errors: list[dict[str, str]] | None = None,
                 form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.governance import rounds

    principal = session.principal
    city = _city(request)
    try:
        found = rounds.list_rounds(web_state(request).db(), principal, city)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    return render(request, "gov_rounds/rounds.html", {
        "rounds": found, "errors": errors or [], "form": form or {},
        "can_manage": principal.can_manage_governance(city)}, session=session, status_code=status_code)


@router.get("/governance/rounds", response_class=HTMLResponse)
def rounds_page(request: Request, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _rounds_page(request, session)


def _numbers(text: str, field: str) -> list[int] | None:
    parts = [p for p in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        return None
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise InputError(Problem("task numbers are whole numbers separated by commas", field=field, value=text,
                                 message_zh="任务编号应为以逗号分隔的整数")) from None


def _codes(text: str) -> list[str] | None:
    parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",")]
    return [p for p in parts if p] or None


@router.post("/governance/rounds", response_class=HTMLResponse)
def open_round(request: Request, code: str = Form(""), period: str = Form("quarterly"), deadline: str = Form(""),
               period_start: str = Form(""), period_end: str = Form(""), title_zh: str = Form(""),
               scope: str = Form("all"), tasks: str = Form(""), measures: str = Form(""),
               co_units: str = Form(""), districts: str = Form(""), note: str = Form(""),
               csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import rounds

    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    form = {"code": code, "period": period, "deadline": deadline, "period_start": period_start,
            "period_end": period_end, "title_zh": title_zh, "scope": scope, "tasks": tasks, "measures": measures,
            "co_units": bool(co_units), "districts": bool(districts), "note": note}
    city = _city(request)
    if not session.principal.can_manage_governance(city):
        return _error(request, session, "forbidden", 403)
    try:
        info = rounds.open_round(
            web_state(request).db(), session.principal, city, code=code.strip(), period=period,
            deadline=deadline, period_start=period_start or None, period_end=period_end or None,
            title_zh=title_zh or None, tasks=_numbers(tasks, "tasks") if scope == "tasks" else None,
            measures=_codes(measures) if scope == "measures" else None, include_co_units=bool(co_units),
            include_districts=bool(districts), note=note)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except InputError as error:
        return _rounds_page(request, session, errors=_problems(error, locale_of(request)), form=form,
                            status_code=422)
    except Conflict as error:  # the code is taken
        return _rounds_page(request, session, errors=[{"field": "code", "code": "", "file": "",
                                                       "text": localized(error.message, locale_of(request))}],
                            form=form, status_code=409)
    return RedirectResponse(f"/governance/rounds/{info.code}?notice=opened", status_code=303)


def _round_page(request: Request, session: Any, round_code: str, *, message: str | None = None,
                status_code: int = 200) -> Response:
    from citycarbon.services.governance import rounds

    principal = session.principal
    city, db = _city(request), web_state(request).db()
    try:
        info = rounds.get_round(db, principal, city, round_code)
        filings = rounds.list_filings(db, principal, city, round_code)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    return render(request, "gov_rounds/round.html", {
        "round": info, "filings": filings, "can_manage": principal.can_manage_governance(city),
        "detail": principal.can_read_governance_detail(city), "notice": request.query_params.get("notice"),
        "message": message}, session=session, status_code=status_code)


@router.get("/governance/rounds/{round_code}", response_class=HTMLResponse)
def round_page(request: Request, round_code: str, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _round_page(request, session, round_code)


@router.post("/governance/rounds/{round_code}/close", response_class=HTMLResponse)
def close_round(request: Request, round_code: str, csrf_token: str = Form(""),
                session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import rounds

    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    try:
        rounds.close_round(web_state(request).db(), session.principal, _city(request), round_code)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except Conflict as error:
        return _round_page(request, session, round_code, message=localized(error.message, locale_of(request)),
                           status_code=409)
    return RedirectResponse(f"/governance/rounds/{round_code}?notice=closed", status_code=303)


# -- my measures -----------------------------------------------------------------------------------------------

@router.get("/governance/my", response_class=HTMLResponse)
def my_page(request: Request, session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import rounds

    refused = _signed_in(request, session)
    if refused:
        return refused
    principal = session.principal
    try:
        mine = rounds.my_filings(web_state(request).db(), principal, _city(request))
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    return render(request, "gov_rounds/my.html", {
        "filings": mine, "unit": principal.role.value in ("department", "district"),
        "city_wide": principal.city_wide}, session=session)


# -- one filing ------------------------------------------------------------------------------------------------

def _filing_page(request: Request, session: Any, filing_id: int, *, errors: list[dict[str, str]] | None = None,
                 form: dict[str, Any] | None = None, conflict: Any = None, status_code: int = 200) -> Response:
    from citycarbon.services.governance import rounds

    principal = session.principal
    city, db = _city(request), web_state(request).db()
    try:
        filing = rounds.get_filing(db, principal, city, filing_id)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    editable = filing.round_state == "open" and filing.state in ("draft", "returned")
    values = form or {"status": filing.status, "narrative": filing.narrative, "lag_reason": filing.lag_reason,
                      "indicators": {k: f"{v:g}" for k, v in filing.indicator_values.items()}}
    return render(request, "gov_rounds/filing.html", {
        "filing": filing, "statuses": STATUSES, "form": values, "errors": errors or [], "conflict": conflict,
        "can_file": editable and principal.can_file_for(filing.org, filing.org_region),
        "can_review": filing.state == "submitted" and principal.can_manage_governance(city),
        "notice": request.query_params.get("notice")}, session=session, status_code=status_code)


@router.get("/governance/filings/{filing_id}", response_class=HTMLResponse)
def filing_page(request: Request, filing_id: int, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _filing_page(request, session, filing_id)


def _version(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(Problem("the form names no version; reload the page", field="version", value=text,
                                 message_zh="表单缺少版本号，请刷新页面")) from None


async def _indicator_fields(request: Request) -> dict[str, str]:
    data = await request.form()
    return {str(key)[4:]: str(value) for key, value in data.multi_items() if str(key).startswith("ind.")}


@router.post("/governance/filings/{filing_id}", response_class=HTMLResponse)
async def save_filing(request: Request, filing_id: int, version: str = Form(""), status: str = Form(""),
                      narrative: str = Form(""), lag_reason: str = Form(""), action: str = Form("save"),
                      csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    indicators = await _indicator_fields(request)
    return await run_in_threadpool(_save, request, filing_id, version, status, narrative, lag_reason, action,
                                   csrf_token, session, indicators)


def _filing_write(request: Request, session: Any, filing_id: int, write: Any, notice: str,
                  form: dict[str, Any] | None = None) -> Response:
    """Run one write of a filing (``write()`` calls the service) and answer it: back to the filing with a notice,
    or the filing page with the conflict (409) or the problems (422), or the error page (404, 403)."""
    from citycarbon.services.governance import rounds

    try:
        write()
    except rounds.FilingConflict as error:
        return _filing_page(request, session, filing_id, form=form, status_code=409, conflict={
            "text": localized(error.message, locale_of(request)), "current": error.current})
    except NotFound:
        return _error(request, session, "not_found", 404)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except InputError as error:
        return _filing_page(request, session, filing_id, errors=_problems(error, locale_of(request)), form=form,
                            status_code=422)
    return RedirectResponse(f"/governance/filings/{filing_id}?notice={notice}", status_code=303)


def _save(request: Request, filing_id: int, version: str, status: str, narrative: str, lag_reason: str,
          action: str, csrf_token: str, session: Any, indicators: dict[str, str]) -> Response:
    from citycarbon.services.governance import rounds

    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    form = {"status": status, "narrative": narrative, "lag_reason": lag_reason, "indicators": indicators}
    return _filing_write(request, session, filing_id, lambda: rounds.save_filing(
        web_state(request).db(), session.principal, _city(request), filing_id, version=_version(version),
        status=status, narrative=narrative, indicator_values=dict(indicators), lag_reason=lag_reason,
        submit=action == "submit"), "submitted" if action == "submit" else "saved", form)


@router.post("/governance/filings/{filing_id}/review", response_class=HTMLResponse)
def review_filing(request: Request, filing_id: int, version: str = Form(""), decision: str = Form(""),
                  comment: str = Form(""), csrf_token: str = Form(""),
                  session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import rounds

    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    return _filing_write(request, session, filing_id, lambda: rounds.review_filing(
        web_state(request).db(), session.principal, _city(request), filing_id, version=_version(version),
        decision=decision, comment=comment), decision)


@router.post("/governance/filings/{filing_id}/attachments", response_class=HTMLResponse)
async def attach_file(request: Request, filing_id: int, file: UploadFile | None = File(None),
                      csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    from citycarbon.services.governance import evidence

    content = await file.read(evidence.MAX_BYTES + 1) if file is not None and file.filename else b""
    name = (file.filename or "") if file is not None else ""
    return await run_in_threadpool(_attach, request, filing_id, name, content, csrf_token, session)


def _attach(request: Request, filing_id: int, filename: str, content: bytes, csrf_token: str,
            session: Any) -> Response:
    from citycarbon.services.governance import rounds

    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    def write() -> None:
        if not filename:
            raise InputError(Problem("choose a file", field="file", message_zh="请选择文件"))
        rounds.attach_file(web_state(request).db(), session.principal, _city(request), filing_id,
                           filename=filename, content=content)

    return _filing_write(request, session, filing_id, write, "attached")

"""Administration pages: users (create with a one-time password shown once, reset, disable, tokens) and the
audit log (filters, chain verification). Admins only; every write is audited by the store itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import InputError
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session, localized
from citycarbon.web.i18n import DISPLAY_TZ, Formatter
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50


def _admin(request: Request, session, check) -> Response | None:
    """None when the caller may proceed; otherwise the response to send (login, forbidden)."""
    principal = getattr(session, "principal", None)
    if principal is None:
        return login_redirect(request)
    if not check(principal):
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    return None


def _districts(request: Request, locale: str) -> list[tuple[str, str]]:
    from citycarbon.tracking.districts import district_codes

    codes = district_codes(web_state(request).source.snapshot().city_data().region)
    return [(code, info["name_zh"] if locale.startswith("zh") else info["name_en"]) for code, info in codes.items()]


def _users_page(request: Request, session, *, notice: dict | None = None, errors: list[str] | None = None,
                form: dict | None = None, status_code: int = 200) -> HTMLResponse:
    from citycarbon.store import users

    fmt = Formatter(locale_of(request))
    with web_state(request).db().session() as db:
        rows = []
        for user in users.list_users(db):
            view = users.user_view(user)
            view["tokens"] = [users.token_view(t) for t in users.list_tokens(db, user)]
            view["last_login"] = fmt.datetime(view["last_login_at"]) if view["last_login_at"] else "–"
            rows.append(view)
    return render(request, "admin/users.html", {
        "users": rows, "notice": notice, "errors": errors or [], "form": form or {},
        "roles": ["admin", "analyst", "district", "enterprise", "viewer"],
        "districts": _districts(request, locale_of(request)),
    }, session=session, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session=Depends(current_session)) -> Response:
    refused = _admin(request, session, lambda p: p.can_manage_users())
    return refused or _users_page(request, session)


def _posted(request: Request, session, csrf_token: str) -> Response | None:
    refused = _admin(request, session, lambda p: p.can_manage_users())
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    return None


def _problems(error: InputError, locale: str) -> list[str]:
    out = []
    for problem in error.problems:
        text = localized(problem.message, locale)
        if problem.field:
            text = f"{problem.field}: {text}"
        out.append(text)
    return out


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(request: Request, username: str = Form(""), display_name: str = Form(""), role: str = Form(""),
                regions: list[str] = Form(default_factory=list), enterprise_id: str = Form(""),
                csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.store import users

    refused = _posted(request, session, csrf_token)
    if refused:
        return refused
    locale = locale_of(request)
    form = {"username": username, "display_name": display_name, "role": role, "regions": regions,
            "enterprise_id": enterprise_id}
    try:
        with web_state(request).db().session() as db:
            user, one_time = users.create_user(db, username=username, role=role, regions=regions,
                                               enterprise_id=enterprise_id or None, display_name=display_name,
                                               actor=session.principal)
            name = user.username
    except InputError as error:
        return _users_page(request, session, errors=_problems(error, locale), form=form, status_code=422)
    return _users_page(request, session, notice={"kind": "password", "username": name, "secret": one_time})


def _admin_write(request: Request, session, csrf_token: str, write: Callable[[object], dict]) -> Response:
    """Check the form (admin, CSRF), run ``write(db)`` in one transaction and show the users page with the
    notice it returns; bad input re-shows the page with the problems (422) and writes nothing."""
    refused = _posted(request, session, csrf_token)
    if refused:
        return refused
    try:
        with web_state(request).db().session() as db:
            notice = write(db)
    except InputError as error:
        return _users_page(request, session, errors=_problems(error, locale_of(request)), status_code=422)
    return _users_page(request, session, notice=notice)


@router.post("/admin/users/{username}/reset-password", response_class=HTMLResponse)
def reset_password(request: Request, username: str, csrf_token: str = Form(""),
                   session=Depends(current_session)) -> Response:
    from citycarbon.store import users

    def write(db) -> dict:
        user = users.require_user(db, username)
        secret = users.reset_password(db, user, actor=session.principal, reason="web: reset by admin")
        return {"kind": "password", "username": username, "secret": secret}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
def toggle_user(request: Request, username: str, disabled: str = Form("1"), csrf_token: str = Form(""),
                session=Depends(current_session)) -> Response:
    from citycarbon.store import users

    def write(db) -> dict:
        user = users.require_user(db, username)
        users.update_user(db, user, disabled=disabled == "1", actor=session.principal, reason="web")
        return {"kind": "saved"}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/users/{username}/tokens", response_class=HTMLResponse)
def issue_token(request: Request, username: str, scope: str = Form("read"), name: str = Form(""),
                expires_days: str = Form(""), csrf_token: str = Form(""),
                session=Depends(current_session)) -> Response:
    from citycarbon.errors import Problem
    from citycarbon.store import users
    from citycarbon.web.backend import now

    def write(db) -> dict:
        expires = None
        if expires_days.strip():
            if not expires_days.strip().isdigit() or not 1 <= int(expires_days) <= 3650:
                raise InputError(Problem("有效天数应为 1–3650 / days valid must be 1 to 3650", field="expires_days",
                                         value=expires_days))
            expires = now() + timedelta(days=int(expires_days))
        user = users.require_user(db, username)
        token = users.issue_token(db, user, scope, name, actor=session.principal, expires_at=expires)
        return {"kind": "token", "username": username, "secret": token}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/tokens/{prefix}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, prefix: str, csrf_token: str = Form(""),
                 session=Depends(current_session)) -> Response:
    from citycarbon.store import users

    def write(db) -> dict:
        users.revoke_token(db, prefix, actor=session.principal, reason="web")
        return {"kind": "saved"}

    return _admin_write(request, session, csrf_token, write)


# -- audit ---------------------------------------------------------------------------------------------------

def _day(value: str | None, field: str) -> date | None:
    from citycarbon.errors import Problem

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InputError(Problem("日期格式应为 YYYY-MM-DD / a date is written YYYY-MM-DD", field=field,
                                 value=value)) from error


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=DISPLAY_TZ)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, actor: str = "", entity: str = "", action: str = "", since: str = "",
               until: str = "", page: int = Query(1, ge=1, le=100000),
               session=Depends(current_session)) -> Response:
    from citycarbon.store import audit

    refused = _admin(request, session, lambda p: p.can_read_audit())
    if refused:
        return refused
    locale = locale_of(request)
    fmt = Formatter(locale)
    filters = {"actor": actor.strip(), "entity": entity.strip(), "action": action.strip(), "since": since,
               "until": until}
    errors: list[str] = []
    try:
        start, end = _day(since, "since"), _day(until, "until")
    except InputError as error:
        errors, start, end = _problems(error, locale), None, None
    kwargs = {"actor": filters["actor"] or None, "entity": filters["entity"] or None,
              "action": filters["action"] or None, "since": _utc_start(start) if start else None,
              "until": _utc_start(end + timedelta(days=1)) if end else None}
    with web_state(request).db().session() as db:
        total = audit.count(db, **kwargs)
        rows = audit.query(db, **kwargs, limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE)
    for row in rows:
        row["at_local"] = fmt.datetime(row["at"])
    pages = max(1, -(-total // AUDIT_PAGE))
    return render(request, "admin/audit.html", {"rows": rows, "filters": filters, "errors": errors, "total": total,
                                                "page": page, "pages": pages}, session=session,
                  status_code=422 if errors else 200)


@router.post("/admin/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.store import audit

    refused = _admin(request, session, lambda p: p.can_read_audit())
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    with web_state(request).db().session() as db:
        result = audit.verify(db)
    return render(request, "partials/verify.html", {"result": result}, session=session)

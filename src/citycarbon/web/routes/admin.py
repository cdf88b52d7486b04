"""Administration pages: users (create with a one-time password shown once, reset, disable, tokens) and the
audit log (filters, chain verification). Admins only. The user pages call :mod:`citycarbon.services.users` (the
same functions as the API and the CLI), which applies the rules and audits every write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import InputError
from citycarbon.services import audit
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import DISPLAY_TZ, Formatter, translate_problem
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
    from citycarbon.services import users

    fmt = Formatter(locale_of(request))
    db = web_state(request).db()
    principal = session.principal
    tokens: dict[int, list[dict]] = {}
    for token in users.list_tokens(db, principal, everyone=True):
        tokens.setdefault(token.user_id, []).append(token.as_dict())
    rows = []
    for user in users.list_users(db, principal):
        view = user.as_dict()
        view["tokens"] = tokens.get(user.id, [])
        view["last_login"] = fmt.datetime(view["last_login_at"]) if view["last_login_at"] else "–"
        rows.append(view)
    return render(request, "admin/users.html", {
        "users": rows, "notice": notice, "errors": errors or [],
        "form": form or {"role": users.DEFAULT_NEW_ROLE},  # a new user is a viewer unless the admin says otherwise
        "roles": list(users.ROLES_FOR_FORM),
        "districts": _districts(request, locale_of(request)),
        "orgs": _orgs(request, principal),
    }, session=session, status_code=status_code)


def _orgs(request: Request, principal) -> list:
    """The current organisations of the governance registry (the department users' organisation select and the
    organisation names of the users list; issue 14)."""
    from citycarbon.errors import ServiceError
    from citycarbon.services.governance import registry

    try:
        return registry.list_orgs(web_state(request).db(), principal, str(web_state(request).source.city))
    except ServiceError:
        return []


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
        text = translate_problem(locale, problem)
        if problem.field:
            text = f"{problem.field}: {text}"
        out.append(text)
    return out


def _admin_write(request: Request, session, csrf_token: str, write: Callable[[object], dict],
                 form: dict | None = None) -> Response:
    """Check the form (admin, CSRF), call the service through ``write(db)`` and show the users page with the
    notice it returns; bad input re-shows the page with the problems (422) and writes nothing."""
    from citycarbon.services.users import NotFound

    refused = _posted(request, session, csrf_token)
    if refused:
        return refused
    try:
        notice = write(web_state(request).db())
    except InputError as error:
        return _users_page(request, session, errors=_problems(error, locale_of(request)), form=form,
                           status_code=422)
    except NotFound as error:  # a user or token named in the form that does not exist: the page says which
        return _users_page(request, session, errors=_problems(InputError(error.problem), locale_of(request)),
                           status_code=422)
    return _users_page(request, session, notice=notice)


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(request: Request, username: str = Form(""), display_name: str = Form(""), role: str = Form(""),
                regions: list[str] = Form(default_factory=list), enterprise_id: str = Form(""),
                org: str = Form(""), email: str = Form(""), csrf_token: str = Form(""),
                session=Depends(current_session)) -> Response:
    from citycarbon.services import users

    form = {"username": username, "display_name": display_name, "role": role, "regions": regions,
            "enterprise_id": enterprise_id, "org": org, "email": email}

    def write(db) -> dict:
        created = users.create_user(db, session.principal, username=username, role=role, regions=regions,
                                    enterprise_id=enterprise_id or None, display_name=display_name,
                                    org=org or None, email=email or None)
        return {"kind": "password", "username": created.user.username, "secret": created.one_time_password}

    return _admin_write(request, session, csrf_token, write, form)


@router.post("/admin/users/{username}/reset-password", response_class=HTMLResponse)
def reset_password(request: Request, username: str, csrf_token: str = Form(""),
                   session=Depends(current_session)) -> Response:
    from citycarbon.services import users

    def write(db) -> dict:
        reset = users.reset_password(db, session.principal, username, reason="web: reset by admin")
        return {"kind": "password", "username": reset.user.username, "secret": reset.one_time_password}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
def toggle_user(request: Request, username: str, disabled: str = Form("1"), csrf_token: str = Form(""),
                session=Depends(current_session)) -> Response:
    from citycarbon.services import users

    def write(db) -> dict:
        users.set_disabled(db, session.principal, username, disabled == "1", reason="web")
        return {"kind": "saved"}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/users/{username}/unlock", response_class=HTMLResponse)
def unlock_user(request: Request, username: str, csrf_token: str = Form(""),
                session=Depends(current_session)) -> Response:
    from citycarbon.services import users

    def write(db) -> dict:
        users.unlock_user(db, session.principal, username, reason="web")
        return {"kind": "saved"}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/users/{username}/reset-totp", response_class=HTMLResponse)
def reset_totp(request: Request, username: str, csrf_token: str = Form(""),
               session=Depends(current_session)) -> Response:
    from citycarbon.services import users

    def write(db) -> dict:
        users.reset_totp(db, session.principal, username, reason="web")
        return {"kind": "saved"}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/users/{username}/tokens", response_class=HTMLResponse)
def issue_token(request: Request, username: str, scope: str = Form("read"), name: str = Form(""),
                expires_days: str = Form(""), csrf_token: str = Form(""),
                session=Depends(current_session)) -> Response:
    from citycarbon.auth import messages as msg
    from citycarbon.services import users
    from citycarbon.web.backend import now

    def write(db) -> dict:
        days = expires_days.strip()
        if days and not days.isdigit():
            raise InputError(msg.problem("expiry_days_range", field="expires_days", value=expires_days))
        issued = users.issue_token(db, session.principal, username=username, scope=scope, name=name,
                                   expires_days=int(days) if days else None, now=now())
        return {"kind": "token", "username": username, "secret": issued.token}

    return _admin_write(request, session, csrf_token, write)


@router.post("/admin/tokens/{prefix}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, prefix: str, csrf_token: str = Form(""),
                 session=Depends(current_session)) -> Response:
    from citycarbon.services import users

    def write(db) -> dict:
        users.revoke_token(db, session.principal, prefix, reason="web")
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
    found = audit.list_entries(web_state(request).db(), session.principal, **kwargs, limit=AUDIT_PAGE,
                               offset=(page - 1) * AUDIT_PAGE)
    rows, total = found.entries, found.total
    for row in rows:
        row["at_local"] = fmt.datetime(row["at"])
    pages = max(1, -(-total // AUDIT_PAGE))
    return render(request, "admin/audit.html", {"rows": rows, "filters": filters, "errors": errors, "total": total,
                                                "page": page, "pages": pages}, session=session,
                  status_code=422 if errors else 200)


@router.post("/admin/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    refused = _admin(request, session, lambda p: p.can_read_audit())
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    result = audit.verify_chain(web_state(request).db(), session.principal).result
    return render(request, "partials/verify.html", {"result": result}, session=session)

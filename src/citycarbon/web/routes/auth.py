"""Login (password, TOTP code, forced password change, TOTP enrolment) and logout.

The checks themselves are the service's (:mod:`citycarbon.services.auth`, the same functions the API's
``/auth/*`` calls: argon2, lockout, rate limit, TOTP replay protection, audit, session rotation); this module turns
their outcomes into pages. A login that owes
a step (a one-time password to change, an admin without TOTP) gets a *pending* session that opens no page
but the step; completing it replaces the session id (no session fixation).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.auth import messages as msg
from citycarbon.web.app import locale_of, render, web_state
from citycarbon.web.backend import client_of, current_session, now
from citycarbon.web.i18n import translate, translate_problem
from citycarbon.web.security import PRELOGIN_COOKIE, SESSION_COOKIE, CsrfError, check_csrf, cookie_options

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _with_session_cookie(response: Response, request: Request, session_id: str) -> Response:
    settings = web_state(request).settings
    response.set_cookie(SESSION_COOKIE, session_id, **cookie_options(settings))
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    return response


def _csrf_refused(request: Request, session=None) -> HTMLResponse:
    return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", session=Depends(current_session)) -> Response:
    if session is not None and session.principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    if session is not None and session.challenge is not None:
        return RedirectResponse("/login/step", status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "username": "", "error": None,
                                          "show_totp": False})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(""), password: str = Form(""), totp: str = Form(""),
          csrf_token: str = Form(""), next: str = Form("/")) -> Response:
    from citycarbon.auth.errors import AuthError
    from citycarbon.services import auth

    state = web_state(request)
    try:
        check_csrf(state.settings, request, None, csrf_token)
    except CsrfError:
        return _csrf_refused(request)
    locale = locale_of(request)
    target = _safe_next(next)
    try:
        ticket = auth.login(state.db(), state.settings, username, password, totp.strip() or None, now=now(),
                            client=client_of(request), user_agent=request.headers.get("user-agent", ""))
    except AuthError as error:
        show_totp = error.code in ("totp_required", "totp_invalid") or bool(totp)
        return render(request, "login.html", {
            "next": target, "username": username, "show_totp": show_totp, "error_code": error.code,
            "error": translate(locale, msg.MESSAGES[error.message_code])},
            status_code=401 if error.code != "rate_limited" else 429)
    response = RedirectResponse("/login/step" if ticket.pending else target, status_code=303)
    return _with_session_cookie(response, request, ticket.session_id)


@router.get("/login/step", response_class=HTMLResponse)
def login_step(request: Request, session=Depends(current_session)) -> Response:
    """The step a pending login owes: change the one-time password, or enrol in TOTP."""
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if session.challenge is None:
        return RedirectResponse("/", status_code=303)
    return _step_page(request, session)


def _step_page(request: Request, session, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    from citycarbon.services import auth

    context: dict = {"kind": session.challenge.kind, "username": session.challenge.username, "error": error}
    if session.challenge.kind == auth.PENDING_TOTP_ENROLLMENT:
        state = web_state(request)
        # keep the secret the user may already have scanned
        enrolment = auth.start_totp_enrollment(state.db(), state.settings, request.cookies.get(SESSION_COOKIE),
                                               reuse=True, now=now())
        context.update({"secret": enrolment.secret, "uri": enrolment.uri})
    return render(request, "login_step.html", context, session=session, status_code=status_code)


def _after_step(request: Request, ticket) -> Response:
    """Every step gives the session a new id: set it, and go on to the next step or the cockpit."""
    request.state.web_session = None
    response = RedirectResponse("/login/step" if ticket.pending else "/", status_code=303)
    return _with_session_cookie(response, request, ticket.session_id)


@router.post("/login/password", response_class=HTMLResponse)
def change_password(request: Request, current: str = Form(""), new: str = Form(""), confirm: str = Form(""),
                    csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.auth.errors import AuthError
    from citycarbon.auth.passwords import PasswordPolicyError
    from citycarbon.services import auth

    if session is None or session.challenge is None:
        return RedirectResponse("/login", status_code=303)
    state = web_state(request)
    try:
        check_csrf(state.settings, request, session, csrf_token)
    except CsrfError:
        return _csrf_refused(request, session)
    locale = locale_of(request)
    if new != confirm:
        return _step_page(request, session, translate(locale, msg.MESSAGES["passwords_differ"]), 422)
    try:
        ticket = auth.change_password(state.db(), state.settings, request.cookies.get(SESSION_COOKIE, ""), current,
                                      new, now=now())
    except (auth.NoSession, auth.WrongStep):
        return RedirectResponse("/login/step", status_code=303)
    except AuthError as error:
        return _step_page(request, session, translate(locale, msg.MESSAGES[error.message_code]), 422)
    except PasswordPolicyError as error:
        return _step_page(request, session, "; ".join(translate_problem(locale, p) for p in error.problems), 422)
    return _after_step(request, ticket)


@router.post("/login/totp", response_class=HTMLResponse)
def confirm_totp(request: Request, code: str = Form(""), csrf_token: str = Form(""),
                 session=Depends(current_session)) -> Response:
    from citycarbon.auth.errors import AuthError
    from citycarbon.errors import InputError
    from citycarbon.services import auth

    if session is None or session.challenge is None:
        return RedirectResponse("/login", status_code=303)
    state = web_state(request)
    try:
        check_csrf(state.settings, request, session, csrf_token)
    except CsrfError:
        return _csrf_refused(request, session)
    locale = locale_of(request)
    try:
        ticket = auth.confirm_totp(state.db(), state.settings, request.cookies.get(SESSION_COOKIE, ""), code,
                                   now=now())
    except (auth.NoSession, auth.WrongStep):
        return RedirectResponse("/login/step", status_code=303)
    except AuthError as error:
        return _step_page(request, session, translate(locale, msg.MESSAGES[error.message_code]), 422)
    except InputError as error:
        return _step_page(request, session, translate_problem(locale, error.first), 422)
    return _after_step(request, ticket)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.services import auth

    state = web_state(request)
    if session is not None:
        try:
            check_csrf(state.settings, request, session, csrf_token)
        except CsrfError:
            return _csrf_refused(request, session)
        auth.logout(state.db(), request.cookies.get(SESSION_COOKIE, ""), now=now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/logout")
def logout_page(request: Request, session=Depends(current_session)) -> Response:
    """A GET cannot log out (no CSRF token); it shows the logout button instead."""
    if session is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "logout.html", {}, session=session)

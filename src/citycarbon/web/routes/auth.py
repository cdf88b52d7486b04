"""Login (password, TOTP code, forced password change, TOTP enrolment) and logout.

The checks themselves are the store's (:func:`citycarbon.store.users.authenticate` and friends: argon2,
lockout, rate limit, TOTP replay protection); this module turns their outcomes into pages. A login that owes
a step (a one-time password to change, an admin without TOTP) gets a *pending* session that opens no page
but the step; completing it replaces the session id (no session fixation).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.web.app import locale_of, render, web_state
from citycarbon.web.backend import client_of, current_session, localized, now
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
    from citycarbon.store import users

    state = web_state(request)
    try:
        check_csrf(state.settings, request, None, csrf_token)
    except CsrfError:
        return _csrf_refused(request)
    locale = locale_of(request)
    target = _safe_next(next)
    agent = request.headers.get("user-agent", "")
    with state.db().session() as db:
        try:
            principal = users.authenticate(db, username, password, totp.strip() or None, now=now(),
                                           client=client_of(request),
                                           require_admin_totp=state.settings.require_admin_totp)
        except AuthError as error:
            if error.challenge is not None:
                session_id, _ = users.create_session(db, error.challenge, now=now(), user_agent=agent,
                                                     client=client_of(request))
                response = RedirectResponse("/login/step", status_code=303)
                return _with_session_cookie(response, request, session_id)
            show_totp = error.code in ("totp_required", "totp_invalid") or bool(totp)
            return render(request, "login.html", {
                "next": target, "username": username, "show_totp": show_totp, "error_code": error.code,
                "error": localized(error.message, locale)}, status_code=401 if error.code != "rate_limited" else 429)
        session_id, _ = users.create_session(db, principal, now=now(), user_agent=agent, client=client_of(request))
    return _with_session_cookie(RedirectResponse(target, status_code=303), request, session_id)


def _pending_user(request: Request, session):
    from citycarbon.store.auth_models import User

    with web_state(request).db().session() as db:
        user = db.get(User, session.challenge.user_id)
        return user.username if user else None


@router.get("/login/step", response_class=HTMLResponse)
def login_step(request: Request, session=Depends(current_session)) -> Response:
    """The step a pending login owes: change the one-time password, or enrol in TOTP."""
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if session.challenge is None:
        return RedirectResponse("/", status_code=303)
    return _step_page(request, session)


def _step_page(request: Request, session, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    from citycarbon.auth import totp as totplib
    from citycarbon.store import users
    from citycarbon.store.auth_models import User

    context: dict = {"kind": session.challenge.kind, "username": session.challenge.username, "error": error}
    if session.challenge.kind == users.PENDING_TOTP_ENROLLMENT:
        with web_state(request).db().session() as db:
            user = db.get(User, session.challenge.user_id)
            if user.totp_secret and not user.totp_enabled:  # keep the secret the user may already have scanned
                secret = user.totp_secret
                uri = totplib.provisioning_uri(secret, user.username)
            else:
                enrolment = users.enroll_totp(db, user)
                secret, uri = enrolment.secret, enrolment.uri
        context.update({"secret": secret, "uri": uri})
    return render(request, "login_step.html", context, session=session, status_code=status_code)


@router.post("/login/password", response_class=HTMLResponse)
def change_password(request: Request, current: str = Form(""), new: str = Form(""), confirm: str = Form(""),
                    csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.auth.errors import AuthError
    from citycarbon.auth.passwords import PasswordPolicyError
    from citycarbon.store import users
    from citycarbon.store.auth_models import User

    if session is None or session.challenge is None:
        return RedirectResponse("/login", status_code=303)
    state = web_state(request)
    try:
        check_csrf(state.settings, request, session, csrf_token)
    except CsrfError:
        return _csrf_refused(request, session)
    locale = locale_of(request)
    if new != confirm:
        message = "两次输入的新密码不一致 / the two new passwords differ"
        return _step_page(request, session, localized(message, locale), 422)
    session_id = request.cookies.get(SESSION_COOKIE, "")
    with state.db().session() as db:
        user = db.get(User, session.challenge.user_id)
        try:
            users.change_password(db, user, current, new, now=now(), keep_session_id=session_id)
        except AuthError as error:
            return _step_page(request, session, localized(error.message, locale), 422)
        except PasswordPolicyError as error:
            return _step_page(request, session, "; ".join(localized(r, locale) for r in error.reasons), 422)
        done = users.complete_pending_session(db, session_id, now=now(),
                                              require_admin_totp=state.settings.require_admin_totp)
    if done is None:
        request.state.web_session = None
        return RedirectResponse("/login/step", status_code=303)
    return _with_session_cookie(RedirectResponse("/", status_code=303), request, done[0])


@router.post("/login/totp", response_class=HTMLResponse)
def confirm_totp(request: Request, code: str = Form(""), csrf_token: str = Form(""),
                 session=Depends(current_session)) -> Response:
    from citycarbon.auth.errors import AuthError
    from citycarbon.errors import InputError
    from citycarbon.store import users
    from citycarbon.store.auth_models import User

    if session is None or session.challenge is None:
        return RedirectResponse("/login", status_code=303)
    state = web_state(request)
    try:
        check_csrf(state.settings, request, session, csrf_token)
    except CsrfError:
        return _csrf_refused(request, session)
    locale = locale_of(request)
    session_id = request.cookies.get(SESSION_COOKIE, "")
    with state.db().session() as db:
        user = db.get(User, session.challenge.user_id)
        try:
            users.confirm_totp(db, user, code.strip(), now=now())
        except (AuthError, InputError) as error:
            message = error.message if isinstance(error, AuthError) else str(error.problems[0].message)
            return _step_page(request, session, localized(message, locale), 422)
        done = users.complete_pending_session(db, session_id, now=now(),
                                              require_admin_totp=state.settings.require_admin_totp)
    if done is None:
        return RedirectResponse("/login/step", status_code=303)
    return _with_session_cookie(RedirectResponse("/", status_code=303), request, done[0])


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.store import users

    state = web_state(request)
    if session is not None:
        try:
            check_csrf(state.settings, request, session, csrf_token)
        except CsrfError:
            return _csrf_refused(request, session)
        with state.db().session() as db:
            users.revoke_session(db, request.cookies.get(SESSION_COOKIE, ""), now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/logout")
def logout_page(request: Request, session=Depends(current_session)) -> Response:
    """A GET cannot log out (no CSRF token); it shows the logout button instead."""
    if session is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "logout.html", {}, session=session)

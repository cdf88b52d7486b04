"""Login (JSON), logout, the caller, and the steps a first login owes (password change, TOTP enrolment).

``POST /auth/login`` answers the session cookie (HttpOnly, SameSite=Strict, Secure per settings) and the CSRF
token in ``data.csrf_token``; cookie-authenticated unsafe requests must send it as ``X-CSRF-Token``. When the
password is right but a step is pending (a one-time password to change, an admin to enrol in TOTP) the
answer is 200 with ``data.pending`` set and a *pending* session that allows only that step.
Refusals: 401 (``bad_credentials``, ``totp_required``, ``totp_invalid``; one message for unknown user, wrong
password and lockout), 403 (``disabled``), 429 (``rate_limited`` with Retry-After).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import (
    CSRF_HEADER,
    clear_session_cookie,
    client_address,
    current_principal,
    get_database,
    get_principal,
    login_state,
    set_session_cookie,
    verify_csrf,
)
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.errors import ApiError, unauthorized
from citycarbon.auth.errors import AuthError
from citycarbon.auth.passwords import PasswordPolicyError
from citycarbon.auth.principal import Principal

router = APIRouter(prefix="/auth", tags=["auth"])
PERMISSIONS = {("POST", "/auth/login"): "public", ("POST", "/auth/logout"): "public",
               ("GET", "/auth/me"): "authenticated", ("POST", "/auth/password"): "session",
               ("POST", "/auth/totp/enroll"): "session", ("POST", "/auth/totp/confirm"): "session"}

_STATUS = {"bad_credentials": 401, "locked": 401, "totp_required": 401, "totp_invalid": 401, "disabled": 403,
           "rate_limited": 429, "password_policy": 422, "invalid": 422, "password_change_required": 401,
           "totp_enrollment_required": 401}


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(None, min_length=6, max_length=8, pattern=r"^\d+$")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=6, max_length=8, pattern=r"^\d+$")


class LoginOut(BaseModel):
    user: dict | None = None
    csrf_token: str
    pending: str | None = None
    csrf_header: str = CSRF_HEADER


def _now() -> datetime:
    return datetime.now(UTC)


def _auth_error(error: AuthError) -> ApiError:
    headers = None
    if error.retry_after_s:
        headers = {"Retry-After": str(max(1, math.ceil(error.retry_after_s)))}
    return ApiError(_STATUS.get(error.code, 401), error.message, code=error.code, headers=headers)


def _login_answer(request: Request, session_id: str, csrf: str, principal: Principal | None,
                  pending: str | None) -> EnvelopeResponse:
    response = respond({"user": principal.to_dict() if principal else None, "csrf_token": csrf,
                        "pending": pending, "csrf_header": CSRF_HEADER})
    set_session_cookie(response, request.app.state.settings, session_id)
    return response


@router.post("/login", response_model=Envelope[LoginOut])
def login(body: Login, request: Request) -> EnvelopeResponse:
    """Check username, password (and TOTP code when enabled); start a web session."""
    from citycarbon.store import users

    settings = request.app.state.settings
    db = get_database(request)
    try:
        with db.session() as session:
            principal = users.authenticate(session, body.username, body.password, body.totp_code,
                                           client=client_address(request),
                                           require_admin_totp=settings.require_admin_totp)
            session_id, csrf = users.create_session(session, principal, user_agent=request.headers.get(
                "user-agent", ""), client=client_address(request))
    except AuthError as error:
        if error.challenge is None:
            raise _auth_error(error) from None
        with db.session() as session:
            session_id, csrf = users.create_session(session, error.challenge, user_agent=request.headers.get(
                "user-agent", ""), client=client_address(request))
        return _login_answer(request, session_id, csrf, None, error.challenge.kind)
    return _login_answer(request, session_id, csrf, principal, None)


@router.post("/logout", response_model=Envelope[dict])
def logout(request: Request) -> EnvelopeResponse:
    """End the cookie's web session (CSRF header required when a session exists)."""
    from citycarbon.store import users

    current_principal(request)
    session_id = request.state.session_id
    revoked = False
    if session_id:
        verify_csrf(request, request.headers.get(CSRF_HEADER))
        with get_database(request).session() as session:
            revoked = users.revoke_session(session, session_id)
    response = respond({"logged_out": revoked})
    clear_session_cookie(response, request.app.state.settings)
    return response


@router.get("/me", response_model=Envelope[dict])
def me(principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The caller: username, role, regions, enterprise, scopes and how they authenticated."""
    return respond(principal.to_dict())


def _pending_user(request: Request, session, expected: str):
    """The user of the cookie's session owing step ``expected`` (or a full session for voluntary changes)."""
    from citycarbon.store import users
    from citycarbon.store.auth_models import User

    state = login_state(request)
    if state is None:
        raise unauthorized("log in first")
    verify_csrf(request, request.headers.get(CSRF_HEADER))
    if state.challenge is not None:
        if state.challenge.kind != expected:
            raise ApiError(409, f"the pending step is {state.challenge.kind}", code="conflict")
        return session.get(User, state.challenge.user_id)
    return users.require_user(session, state.principal.username)


def _finish(request: Request, session) -> EnvelopeResponse:
    from citycarbon.store import users

    settings = request.app.state.settings
    renewed = users.complete_pending_session(session, request.state.session_id,
                                             require_admin_totp=settings.require_admin_totp)
    if renewed is None:
        state = users.load_session(session, request.state.session_id)
        pending = state.challenge.kind if state and state.challenge else None
        return respond({"user": state.principal.to_dict() if state and state.principal else None,
                        "csrf_token": request.state.csrf_token, "pending": pending, "csrf_header": CSRF_HEADER})
    session_id, csrf = renewed
    state = users.load_session(session, session_id)
    pending = state.challenge.kind if state and state.challenge else None
    return _login_answer(request, session_id, csrf, state.principal if state else None, pending)


@router.post("/password", response_model=Envelope[LoginOut])
def change_password(body: PasswordChange, request: Request) -> EnvelopeResponse:
    """Change the caller's password (the forced change after a one-time password too)."""
    from citycarbon.store import users

    try:
        with get_database(request).session() as session:
            user = _pending_user(request, session, users.PENDING_PASSWORD_CHANGE)
            users.change_password(session, user, body.old_password, body.new_password,
                                  keep_session_id=request.state.session_id)
            return _finish(request, session)
    except PasswordPolicyError as error:
        raise ApiError(422, str(error), code="password_policy") from None
    except AuthError as error:
        raise _auth_error(error) from None


@router.post("/totp/enroll", response_model=Envelope[dict])
def totp_enroll(request: Request) -> EnvelopeResponse:
    """A new TOTP secret and its otpauth URI (copy into an authenticator app, then confirm with a code)."""
    from citycarbon.store import users

    with get_database(request).session() as session:
        user = _pending_user(request, session, users.PENDING_TOTP_ENROLLMENT)
        enrolment = users.enroll_totp(session, user)
        return respond({"secret": enrolment.secret, "uri": enrolment.uri})


@router.post("/totp/confirm", response_model=Envelope[LoginOut])
def totp_confirm(body: TotpCode, request: Request) -> EnvelopeResponse:
    """Enable two-factor login with a code from the app; completes a pending admin login."""
    from citycarbon.store import users

    try:
        with get_database(request).session() as session:
            user = _pending_user(request, session, users.PENDING_TOTP_ENROLLMENT)
            users.confirm_totp(session, user, body.code)
            return _finish(request, session)
    except AuthError as error:
        raise _auth_error(error) from None

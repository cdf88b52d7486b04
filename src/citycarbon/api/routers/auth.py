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


def _answer(request: Request, ticket) -> EnvelopeResponse:
    """The login answer for a (new, rotated) session: the cookie, the CSRF token, the caller or the step owed."""
    response = respond({"user": ticket.principal.to_dict() if ticket.principal else None,
                        "csrf_token": ticket.csrf_token, "pending": ticket.pending, "csrf_header": CSRF_HEADER})
    set_session_cookie(response, request.app.state.settings, ticket.session_id)
    return response


@router.post("/login", response_model=Envelope[LoginOut])
def login(body: Login, request: Request) -> EnvelopeResponse:
    """Check username, password (and TOTP code when enabled); start a web session (audited, as are refusals)."""
    from citycarbon.services import auth

    try:
        ticket = auth.login(get_database(request), request.app.state.settings, body.username, body.password,
                            body.totp_code, client=client_address(request),
                            user_agent=request.headers.get("user-agent", ""))
    except AuthError as error:
        raise _auth_error(error) from None
    return _answer(request, ticket)


@router.post("/logout", response_model=Envelope[dict])
def logout(request: Request) -> EnvelopeResponse:
    """End the cookie's web session (CSRF header required when a session exists); audited."""
    from citycarbon.services import auth

    current_principal(request)
    session_id = request.state.session_id
    revoked = False
    if session_id:
        verify_csrf(request, request.headers.get(CSRF_HEADER))
        revoked = auth.logout(get_database(request), session_id)
    response = respond({"logged_out": revoked})
    clear_session_cookie(response, request.app.state.settings)
    return response


@router.get("/me", response_model=Envelope[dict])
def me(principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The caller: username, role, regions, enterprise, scopes and how they authenticated."""
    return respond(principal.to_dict())


def _session_step(request: Request) -> str:
    """The cookie's session id, after the CSRF check (401 without a live session)."""
    if login_state(request) is None:
        raise unauthorized("log in first")
    verify_csrf(request, request.headers.get(CSRF_HEADER))
    return request.state.session_id


def _step_errors(error: Exception) -> ApiError:
    from citycarbon.services.auth import NoSession, WrongStep

    if isinstance(error, NoSession):
        return unauthorized("log in first")
    if isinstance(error, WrongStep):
        return ApiError(409, str(error), code="conflict")
    if isinstance(error, PasswordPolicyError):
        return ApiError(422, str(error), code="password_policy")
    assert isinstance(error, AuthError)
    return _auth_error(error)


@router.post("/password", response_model=Envelope[LoginOut])
def change_password(body: PasswordChange, request: Request) -> EnvelopeResponse:
    """Change the caller's password (the forced change after a one-time password too); the session id is
    replaced (the answer sets the new cookie and CSRF token)."""
    from citycarbon.services import auth

    session_id = _session_step(request)
    try:
        ticket = auth.change_password(get_database(request), request.app.state.settings, session_id,
                                      body.old_password, body.new_password)
    except (auth.NoSession, auth.WrongStep, PasswordPolicyError, AuthError) as error:
        raise _step_errors(error) from None
    return _answer(request, ticket)


@router.post("/totp/enroll", response_model=Envelope[dict])
def totp_enroll(request: Request) -> EnvelopeResponse:
    """A new TOTP secret and its otpauth URI (copy into an authenticator app, then confirm with a code)."""
    from citycarbon.services import auth

    session_id = _session_step(request)
    try:
        enrolment = auth.start_totp_enrollment(get_database(request), request.app.state.settings, session_id)
    except (auth.NoSession, auth.WrongStep) as error:
        raise _step_errors(error) from None
    return respond({"secret": enrolment.secret, "uri": enrolment.uri})


@router.post("/totp/confirm", response_model=Envelope[LoginOut])
def totp_confirm(body: TotpCode, request: Request) -> EnvelopeResponse:
    """Enable two-factor login with a code from the app; completes a pending admin login. The session id is
    replaced (the answer sets the new cookie and CSRF token)."""
    from citycarbon.services import auth

    session_id = _session_step(request)
    try:
        ticket = auth.confirm_totp(get_database(request), request.app.state.settings, session_id, body.code)
    except (auth.NoSession, auth.WrongStep, AuthError) as error:
        raise _step_errors(error) from None
    return _answer(request, ticket)

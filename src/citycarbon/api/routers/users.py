"""Users and API tokens. Admins list, create, update and disable users and issue/revoke anyone's tokens;
every caller lists, issues (within their own role) and revokes their own tokens. Every write is audited by
the store functions (:mod:`citycarbon.store.users`) in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from citycarbon.api.deps import get_database, get_principal, require_admin, require_admin_write, token_cache
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.errors import ApiError, not_found
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import ROLES, Principal
from citycarbon.errors import InputError, Problem

router = APIRouter(tags=["users"])
PERMISSIONS = {
    ("GET", "/users"): "admin", ("POST", "/users"): "admin_write",
    ("GET", "/users/{username}"): "admin", ("PATCH", "/users/{username}"): "admin_write",
    ("POST", "/users/{username}/reset-password"): "admin_write",
    ("GET", "/users/{username}/tokens"): "admin", ("POST", "/users/{username}/tokens"): "admin_write",
    ("GET", "/tokens"): "read", ("POST", "/tokens"): "read", ("DELETE", "/tokens/{prefix}"): "read",
}

USERNAME = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
Role = Literal["admin", "analyst", "district", "enterprise", "viewer"]
assert set(ROLES) == {"admin", "analyst", "district", "enterprise", "viewer"}


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
    role: Role
    regions: list[str] = Field(default_factory=list, max_length=50)
    enterprise_id: str | None = Field(None, max_length=64)
    display_name: str = Field("", max_length=200)
    reason: str | None = Field(None, max_length=500)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    regions: list[str] | None = Field(None, max_length=50)
    enterprise_id: str | None = Field(None, max_length=64)
    display_name: str | None = Field(None, max_length=200)
    disabled: StrictBool | None = None
    reason: str | None = Field(None, max_length=500)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: Literal["read", "write"] = "read"
    name: str = Field("", max_length=100)
    expires_days: int | None = Field(None, ge=1, le=3650)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    regions: list[str]
    enterprise_id: str | None
    must_change_password: bool
    totp_enabled: bool
    disabled: bool
    locked_until: str | None
    last_login_at: str | None
    created_at: str | None


class TokenOut(BaseModel):
    prefix: str
    user_id: int
    scope: str
    name: str
    created_at: str | None
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


def _user_or_404(session, username: str):
    from citycarbon.store import users

    user = users.get_user(session, username)
    if user is None:
        raise not_found("user")
    return user


@router.get("/users", response_model=Envelope[list[UserOut]])
def list_users(request: Request, pages: tuple[int, int] = Depends(page_params),
               principal: Principal = Depends(require_admin)) -> EnvelopeResponse:
    """Every user (paged)."""
    from citycarbon.store import users

    page, per_page = pages
    with get_database(request).session() as session:
        everyone = [users.user_view(u) for u in users.list_users(session)]
    chunk = everyone[(page - 1) * per_page: page * per_page]
    return respond(chunk, paging=paging(request, page, per_page, len(everyone)))


@router.post("/users", status_code=201, response_model=Envelope[dict])
def create_user(body: UserIn, request: Request, principal: Principal = Depends(require_admin_write)
                ) -> EnvelopeResponse:
    """Create a user; the answer carries the one-time password ONCE (the user changes it at first login)."""
    from citycarbon.store import users

    with get_database(request).session() as session:
        user, one_time = users.create_user(session, username=body.username, role=body.role, regions=body.regions,
                                           enterprise_id=body.enterprise_id, display_name=body.display_name,
                                           actor=principal, reason=body.reason)
        view = users.user_view(user)
    return respond({"user": view, "one_time_password": one_time}, status_code=201)


@router.get("/users/{username}", response_model=Envelope[UserOut])
def get_user(request: Request, username: str = USERNAME, principal: Principal = Depends(require_admin)
             ) -> EnvelopeResponse:
    from citycarbon.store import users

    with get_database(request).session() as session:
        return respond(users.user_view(_user_or_404(session, username)))


@router.patch("/users/{username}", response_model=Envelope[UserOut])
def update_user(body: UserPatch, request: Request, username: str = USERNAME,
                principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Change role, regions, enterprise, display name, or disable/enable (``disabled``)."""
    from citycarbon.store import users

    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None)
    if not changes:
        raise InputError(Problem("nothing to change: give role, regions, enterprise_id, display_name or disabled",
                                 file="body", field="role"))
    with get_database(request).session() as session:
        user = _user_or_404(session, username)
        users.update_user(session, user, actor=principal, reason=reason, **changes)
        view = users.user_view(user)
    token_cache(request).clear()  # a disabled user's or changed role's tokens must not outlive this answer
    return respond(view)


@router.post("/users/{username}/reset-password", response_model=Envelope[dict])
def reset_password(request: Request, username: str = USERNAME, principal: Principal = Depends(require_admin_write)
                   ) -> EnvelopeResponse:
    """A new one-time password (shown once); unlocks the account and ends its web sessions."""
    from citycarbon.store import users

    with get_database(request).session() as session:
        user = _user_or_404(session, username)
        one_time = users.reset_password(session, user, actor=principal)
        return respond({"user": users.user_view(user), "one_time_password": one_time})


def _issue(session, user, body: TokenIn, principal: Principal) -> dict:
    from citycarbon.store import users

    expires = datetime.now(UTC) + timedelta(days=body.expires_days) if body.expires_days else None
    token = users.issue_token(session, user, body.scope, body.name, actor=principal, expires_at=expires)
    return {"token": token, "scope": body.scope, "name": body.name,
            "expires_at": expires.isoformat() if expires else None}


@router.get("/users/{username}/tokens", response_model=Envelope[list[TokenOut]])
def list_user_tokens(request: Request, username: str = USERNAME, principal: Principal = Depends(require_admin)
                     ) -> EnvelopeResponse:
    from citycarbon.store import users

    with get_database(request).session() as session:
        user = _user_or_404(session, username)
        return respond([users.token_view(t) for t in users.list_tokens(session, user)])


@router.post("/users/{username}/tokens", status_code=201, response_model=Envelope[dict])
def issue_user_token(body: TokenIn, request: Request, username: str = USERNAME,
                     principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Issue a token for a user (e.g. an enterprise's ingest token); the plaintext is shown ONCE."""
    with get_database(request).session() as session:
        user = _user_or_404(session, username)
        return respond(_issue(session, user, body, principal), status_code=201)


@router.get("/tokens", response_model=Envelope[list[TokenOut]])
def my_tokens(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The caller's own tokens (never the token itself: prefix, scope, dates)."""
    from citycarbon.store import users

    with get_database(request).session() as session:
        user = users.require_user(session, principal.username)
        return respond([users.token_view(t) for t in users.list_tokens(session, user)])


@router.post("/tokens", status_code=201, response_model=Envelope[dict])
def issue_my_token(body: TokenIn, request: Request, principal: Principal = Depends(get_principal)
                   ) -> EnvelopeResponse:
    """Issue a token for the caller. Only a login session may do this (a token cannot mint tokens), and a
    write token needs a role that may write."""
    from citycarbon.store import users

    if principal.via != "session":
        raise ApiError(403, "tokens are issued from a login session, not with another token")
    if body.scope == "write" and not principal.can_write:
        raise ApiError(403, "this role may not hold a write token")
    with get_database(request).session() as session:
        user = users.require_user(session, principal.username)
        return respond(_issue(session, user, body, principal), status_code=201)


@router.delete("/tokens/{prefix}", response_model=Envelope[TokenOut])
def revoke_token(request: Request, prefix: str = Path(pattern=r"^[0-9a-f]{8}$"),
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Revoke a token: one's own, or any as an admin with write scope (another user's token answers 404)."""
    from citycarbon.store import users
    from citycarbon.store.auth_models import ApiToken

    with get_database(request).session() as session:
        row = session.query(ApiToken).filter(ApiToken.prefix == prefix).one_or_none()
        own = row is not None and row.user_id == principal.user_id
        if row is None or not (own or (principal.is_admin and principal.can_write)):
            raise not_found("token")
        revoked = users.token_view(users.revoke_token(session, prefix, actor=principal))
    token_cache(request).clear()
    return respond(revoked)



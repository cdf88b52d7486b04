"""Users and API tokens. Admins list, create, update and disable users and issue/revoke anyone's tokens;
every caller lists, issues (within their own role) and revokes their own tokens. Each endpoint parses, calls one
function of :mod:`citycarbon.services.users` (the rules and the audit live there, shared with the web and the CLI)
and renders."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from citycarbon.api.deps import get_database, get_principal, require_admin, require_admin_write, token_cache
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.errors import ApiError, not_found
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import ROLES, Principal

router = APIRouter(tags=["users"])
PERMISSIONS = {
    ("GET", "/users"): "admin", ("POST", "/users"): "admin_write",
    ("GET", "/users/{username}"): "admin", ("PATCH", "/users/{username}"): "admin_write",
    ("POST", "/users/{username}/reset-password"): "admin_write",
    ("POST", "/users/{username}/unlock"): "admin_write", ("POST", "/users/{username}/reset-totp"): "admin_write",
    ("GET", "/users/{username}/tokens"): "admin", ("POST", "/users/{username}/tokens"): "admin_write",
    ("GET", "/tokens"): "read", ("POST", "/tokens"): "read", ("DELETE", "/tokens/{prefix}"): "read",
}

USERNAME = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
Role = Literal["admin", "analyst", "district", "enterprise", "viewer", "department"]
assert set(ROLES) == {"admin", "analyst", "district", "enterprise", "viewer", "department"}


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
    role: Role
    regions: list[str] = Field(default_factory=list, max_length=50)
    enterprise_id: str | None = Field(None, max_length=64)
    org: str | None = Field(None, max_length=64, description="organisation code (department users)")
    email: str | None = Field(None, max_length=254, description="where the inbox's messages go by e-mail")
    display_name: str = Field("", max_length=200)
    reason: str | None = Field(None, max_length=500)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    regions: list[str] | None = Field(None, max_length=50)
    enterprise_id: str | None = Field(None, max_length=64)
    org: str | None = Field(None, max_length=64)
    display_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254, description="e-mail address for the governance inbox "
                                                               "(empty: none)")
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
    org: str | None = None


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


def _call(request: Request, fn, *args, clear_tokens: bool = False, **kwargs):
    """Call a :mod:`citycarbon.services.users` function; its refusals become 403/404 answers."""
    from citycarbon.services import users

    try:
        result = fn(get_database(request), *args, **kwargs)
    except users.Forbidden as error:
        raise ApiError(403, error.message, code="forbidden") from None
    except users.NotFound as error:
        raise not_found(error.what) from None
    if clear_tokens:
        token_cache(request).clear()  # a disabled user's, a changed role's or a revoked token must not outlive this
    return result


@router.get("/users", response_model=Envelope[list[UserOut]])
def list_users(request: Request, pages: tuple[int, int] = Depends(page_params),
               principal: Principal = Depends(require_admin)) -> EnvelopeResponse:
    """Every user (paged)."""
    from citycarbon.services import users

    page, per_page = pages
    everyone = [u.as_dict() for u in _call(request, users.list_users, principal)]
    chunk = everyone[(page - 1) * per_page: page * per_page]
    return respond(chunk, paging=paging(request, page, per_page, len(everyone)))


@router.post("/users", status_code=201, response_model=Envelope[dict])
def create_user(body: UserIn, request: Request, principal: Principal = Depends(require_admin_write)
                ) -> EnvelopeResponse:
    """Create a user; the answer carries the one-time password ONCE (the user changes it at first login). An
    enterprise user is bound only to an enterprise of the monitoring registry, a district user only to district
    or county codes of the region codelist (422 naming the field otherwise)."""
    from citycarbon.services import users

    created = _call(request, users.create_user, principal, username=body.username, role=body.role,
                    regions=body.regions, enterprise_id=body.enterprise_id, display_name=body.display_name,
                    reason=body.reason, org=body.org, email=body.email)
    return respond({"user": created.user.as_dict(), "one_time_password": created.one_time_password},
                   status_code=201)


@router.get("/users/{username}", response_model=Envelope[UserOut])
def get_user(request: Request, username: str = USERNAME, principal: Principal = Depends(require_admin)
             ) -> EnvelopeResponse:
    from citycarbon.services import users

    return respond(_call(request, users.get_user, principal, username).as_dict())


@router.patch("/users/{username}", response_model=Envelope[UserOut])
def update_user(body: UserPatch, request: Request, username: str = USERNAME,
                principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Change role, regions, enterprise, display name, or disable/enable (``disabled``)."""
    from citycarbon.services import users

    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("reason", None)
    return respond(_call(request, users.update_user, principal, username, changes, reason=reason,
                         clear_tokens=True).as_dict())


@router.post("/users/{username}/reset-password", response_model=Envelope[dict])
def reset_password(request: Request, username: str = USERNAME, principal: Principal = Depends(require_admin_write)
                   ) -> EnvelopeResponse:
    """A new one-time password (shown once); unlocks the account and ends its web sessions."""
    from citycarbon.services import users

    reset = _call(request, users.reset_password, principal, username)
    return respond({"user": reset.user.as_dict(), "one_time_password": reset.one_time_password})


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=500)


@router.post("/users/{username}/unlock", response_model=Envelope[UserOut])
def unlock_user(request: Request, body: Reason | None = None, username: str = USERNAME,
                principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Lift a lockout after too many failed logins (audited)."""
    from citycarbon.services import users

    return respond(_call(request, users.unlock_user, principal, username, reason=body.reason if body else None
                         ).as_dict())


@router.post("/users/{username}/reset-totp", response_model=Envelope[UserOut])
def reset_totp(request: Request, body: Reason | None = None, username: str = USERNAME,
               principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Switch a user's two-factor login off (a lost phone); an admin enrols again at the next login (audited)."""
    from citycarbon.services import users

    return respond(_call(request, users.reset_totp, principal, username, reason=body.reason if body else None
                         ).as_dict())


def _issued(issued) -> dict:
    return {"token": issued.token, "scope": issued.info.scope, "name": issued.info.name,
            "expires_at": issued.info.expires_at}


def _token_out(info) -> dict:
    out = info.as_dict()
    out.pop("username", None)
    return out


@router.get("/users/{username}/tokens", response_model=Envelope[list[TokenOut]])
def list_user_tokens(request: Request, username: str = USERNAME, principal: Principal = Depends(require_admin)
                     ) -> EnvelopeResponse:
    from citycarbon.services import users

    return respond([_token_out(t) for t in _call(request, users.list_tokens, principal, username)])


@router.post("/users/{username}/tokens", status_code=201, response_model=Envelope[dict])
def issue_user_token(body: TokenIn, request: Request, username: str = USERNAME,
                     principal: Principal = Depends(require_admin_write)) -> EnvelopeResponse:
    """Issue a token for a user (e.g. an enterprise's ingest token); the plaintext is shown ONCE."""
    from citycarbon.services import users

    issued = _call(request, users.issue_token, principal, username=username, scope=body.scope, name=body.name,
                   expires_days=body.expires_days)
    return respond(_issued(issued), status_code=201)


@router.get("/tokens", response_model=Envelope[list[TokenOut]])
def my_tokens(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The caller's own tokens (never the token itself: prefix, scope, dates)."""
    from citycarbon.services import users

    return respond([_token_out(t) for t in _call(request, users.list_tokens, principal)])


@router.post("/tokens", status_code=201, response_model=Envelope[dict])
def issue_my_token(body: TokenIn, request: Request, principal: Principal = Depends(get_principal)
                   ) -> EnvelopeResponse:
    """Issue a token for the caller. Only a login session may do this (a token cannot mint tokens), and a
    write token needs a role that may write."""
    from citycarbon.services import users

    issued = _call(request, users.issue_token, principal, scope=body.scope, name=body.name,
                   expires_days=body.expires_days)
    return respond(_issued(issued), status_code=201)


@router.delete("/tokens/{prefix}", response_model=Envelope[TokenOut])
def revoke_token(request: Request, prefix: str = Path(pattern=r"^[0-9a-f]{8}$"),
                 principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Revoke a token: one's own, or any as an admin with write scope (another user's token answers 404)."""
    from citycarbon.services import users

    return respond(_token_out(_call(request, users.revoke_token, principal, prefix, clear_tokens=True)))

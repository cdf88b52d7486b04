"""Users and API tokens: the one service every face calls (API ``/users`` and ``/tokens``, the web's admin pages,
``citycarbon users …``).

Each function takes the database, the caller's :class:`~citycarbon.auth.principal.Principal` and plain values;
it applies the rules once — who may manage users (an administrator with write access), that a token is minted
only from a login session and never above the caller's role, that a user is bound only to an enterprise of the
monitoring registry (``monitoring_enterprises``) and to district or county codes of the region codelist — then
calls the store (:mod:`citycarbon.store.users`), which validates the rest and audits every write in the same
transaction. Results are typed (:class:`UserInfo`, :class:`TokenInfo`, …); secrets shown once (a one-time
password, a token) travel only in the result that created them.

Refusals: :class:`~citycarbon.errors.InputError` (bad input, naming the field, with a message code from
:mod:`citycarbon.auth.messages`), :class:`Forbidden` (the caller may not), :class:`NotFound` (no such user or token,
or one the caller may not see: a non-admin never learns whether another user's token exists).

The CLI acts as :func:`cli_principal` (an administrator named ``cli:<os user>``): whoever can run the CLI against
the database already holds the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycarbon.auth import messages as msg
from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import InputError, Problem
from citycarbon.settings import Settings
from citycarbon.store import totp_crypto
from citycarbon.store import users as store
from citycarbon.store.auth_models import ApiToken, User
from citycarbon.store.db import Database
from citycarbon.store.registry_models import RegistryEnterprise
from citycarbon.store.types import utcnow

#: roles in the order the new-user form offers them; the form's default is the least privileged
ROLES_FOR_FORM: tuple[str, ...] = ("viewer", "analyst", "district", "enterprise", "department", "admin")
DEFAULT_NEW_ROLE = "viewer"
MAX_TOKEN_DAYS = 3650


class Forbidden(PermissionError):
    """The caller may not do this (``code`` names the rule, a key of :data:`citycarbon.auth.messages.MESSAGES`)."""

    def __init__(self, code: str):
        self.code = code
        self.message = msg.text(code)
        super().__init__(self.message)


class NotFound(LookupError):
    """No such user or token (or one the caller may not see); ``problem`` says which, with a message code."""

    def __init__(self, what: str, problem: Problem):
        self.what = what
        self.problem = problem
        super().__init__(f"{what} not found")


# ---- typed results ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserInfo:
    """What may be shown about a user: never a password hash or TOTP secret."""

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
    #: the organisation a department user is bound to (issue 14)
    org: str | None = None
    #: where the governance inbox is e-mailed when SMTP is configured (issue 14)
    email: str | None = None

    @classmethod
    def of(cls, user: User) -> UserInfo:
        return cls(**store.user_view(user))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the token or its hash."""

    prefix: str
    user_id: int
    username: str | None
    scope: str
    name: str
    created_at: str | None
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None

    @classmethod
    def of(cls, token: ApiToken, username: str | None = None) -> TokenInfo:
        return cls(username=username, **store.token_view(token))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class UserWithSecret:
    """A created user or a password reset: the one-time password is shown once, then only its hash exists."""

    user: UserInfo
    one_time_password: str


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``token`` is shown once."""

    token: str
    info: TokenInfo


@dataclass(frozen=True)
class KeyRotation:
    """``rotate_totp_key``: how many secrets were re-encrypted, and how many keys remain."""

    secrets: int
    keys: int
    key_file: str | None


# ---- rules -----------------------------------------------------------------------------------------------

def cli_principal(name: str) -> Principal:
    """The CLI's caller: an administrator named ``cli:<os user>`` (audited under that name)."""
    return Principal(0, name, Role.admin, via="cli")


def _actor(principal: Principal) -> Principal | str:
    return principal.username if principal.via == "cli" else principal


def _require_manager(principal: Principal) -> None:
    if not principal.can_manage_users():
        raise Forbidden("forbidden_manage_users")


def _require_admin(principal: Principal) -> None:
    """Reading users and their tokens: administrators, a read token too."""
    if not principal.is_admin:
        raise Forbidden("forbidden_manage_users")


def _check_enterprise(session: Session, enterprise_id: str | None) -> None:
    """A user is bound only to an enterprise of the monitoring registry."""
    if enterprise_id is None or not str(enterprise_id).strip():
        return
    value = str(enterprise_id).strip()
    if session.get(RegistryEnterprise, value) is None:
        raise InputError(msg.problem("enterprise_unknown", field="enterprise_id", value=enterprise_id,
                                     enterprise=value))


def _check_org(session: Session, principal: Principal, org: str | None) -> None:
    """A department user is bound only to a current organisation of the governance registry (of the creator's
    city when the creator is scoped to one)."""
    if org is None or not str(org).strip():
        return
    from sqlalchemy import select

    from citycarbon.store.governance_models import GovOrg

    value = str(org).strip()
    statement = select(GovOrg.id).where(GovOrg.code == value, GovOrg.valid_to.is_(None), GovOrg.active.is_(True))
    if principal.city is not None:
        statement = statement.where(GovOrg.city == principal.city)
    if session.scalars(statement.limit(1)).first() is None:
        raise InputError(msg.problem("org_unknown", field="org", value=org, org=value))


def _in_scope(principal: Principal, user: User) -> bool:
    """A city-scoped administrator reaches only the users of its own city (never an unscoped user, who reaches
    every city); an unscoped caller reaches everyone."""
    return principal.city is None or user.city == principal.city


def _require_city(db: Database, principal: Principal) -> None:
    """The users of this deployment are managed from its faces, which serve the deployment's city
    (``db.settings.city``): a caller scoped to another city is refused (:class:`citycarbon.errors.Forbidden`)."""
    from citycarbon.services.cities import require_city

    require_city(principal, str(getattr(getattr(db, "settings", None), "city", "") or "dalian"))


def _user(session: Session, username: str, principal: Principal | None = None) -> User:
    """The user ``username``; one out of the caller's city scope is not found (its existence is not leaked)."""
    user = store.get_user(session, username)
    if user is None or (principal is not None and not _in_scope(principal, user)):
        raise NotFound("user", msg.problem("user_unknown", field="username", value=username, username=username))
    return user


def _scope_new_user(session: Session, principal: Principal, user: User) -> None:
    """A user created by a city-scoped administrator is scoped to that city (audited in the same transaction)."""
    if principal.city is None or user.city == principal.city:
        return
    from citycarbon.store import audit

    user.city = principal.city
    session.flush()
    audit.record(session, _actor(principal), "user.city", "user", user.id, {"city": None}, {"city": principal.city})


def _expiry(expires_days: int | None, now: datetime) -> datetime | None:
    if expires_days is None:
        return None
    if isinstance(expires_days, bool) or not isinstance(expires_days, int) or not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise InputError(msg.problem("expiry_days_range", field="expires_days", value=expires_days))
    return now + timedelta(days=expires_days)


# ---- users -----------------------------------------------------------------------------------------------

def list_users(db: Database, principal: Principal) -> list[UserInfo]:
    """Every user the caller reaches (a city-scoped administrator: its city's users only)."""
    _require_admin(principal)
    _require_city(db, principal)
    with db.session() as session:
        return [UserInfo.of(user) for user in store.list_users(session) if _in_scope(principal, user)]


def get_user(db: Database, principal: Principal, username: str) -> UserInfo:
    _require_admin(principal)
    _require_city(db, principal)
    with db.session() as session:
        return UserInfo.of(_user(session, username, principal))


def create_user(db: Database, principal: Principal, *, username: str, role: str, regions: Iterable[str] = (),
                enterprise_id: str | None = None, display_name: str = "", reason: str | None = None,
                org: str | None = None, email: str | None = None) -> UserWithSecret:
    """A new user with a one-time password (changed at first login). A ``department`` user is bound to ``org``,
    an organisation of the governance registry of the creator's city; ``email`` receives the inbox's messages
    when SMTP is configured."""
    _require_manager(principal)
    _require_city(db, principal)
    with db.session() as session:
        _check_enterprise(session, enterprise_id)
        _check_org(session, principal, org)
        user, one_time = store.create_user(session, username=username, role=role, regions=list(regions),
                                           enterprise_id=enterprise_id or None, display_name=display_name,
                                           actor=_actor(principal), reason=reason, org_code=org or None,
                                           email=email or None)
        _scope_new_user(session, principal, user)
        return UserWithSecret(UserInfo.of(user), one_time)


def create_admin(db: Database, principal: Principal, *, username: str = "admin", reset: bool = False) -> UserWithSecret:
    """The first (or another) administrator; ``reset`` gives an existing one a new one-time password."""
    _require_manager(principal)
    _require_city(db, principal)
    with db.session() as session:
        existing = store.get_user(session, username)
        if existing is not None and not _in_scope(principal, existing):
            raise NotFound("user", msg.problem("user_unknown", field="username", value=username, username=username))
        user, one_time = store.create_admin(session, username=username, actor=_actor(principal), reset=reset)
        _scope_new_user(session, principal, user)
        return UserWithSecret(UserInfo.of(user), one_time)


_FIELDS = ("role", "regions", "enterprise_id", "org", "display_name", "disabled", "email")


def update_user(db: Database, principal: Principal, username: str, changes: dict[str, Any], *,
                reason: str | None = None) -> UserInfo:
    """Change role, regions, enterprise, display name or the disabled flag (``changes`` holds only those)."""
    _require_manager(principal)
    _require_city(db, principal)
    unknown = set(changes) - set(_FIELDS)
    if unknown or not changes:
        raise InputError(msg.problem("nothing_to_change", field=sorted(unknown)[0] if unknown else "role"))
    with db.session() as session:
        user = _user(session, username, principal)
        if "enterprise_id" in changes:
            _check_enterprise(session, changes["enterprise_id"])
        if "org" in changes:
            _check_org(session, principal, changes["org"])
            changes = {**{k: v for k, v in changes.items() if k != "org"}, "org_code": changes["org"]}
        store.update_user(session, user, actor=_actor(principal), reason=reason, **changes)
        return UserInfo.of(user)


def set_disabled(db: Database, principal: Principal, username: str, disabled: bool, *, reason: str | None = None
                 ) -> UserInfo:
    return update_user(db, principal, username, {"disabled": bool(disabled)}, reason=reason)


def reset_password(db: Database, principal: Principal, username: str, *, reason: str | None = None) -> UserWithSecret:
    """A new one-time password; unlocks the account and ends its web sessions."""
    _require_manager(principal)
    _require_city(db, principal)
    with db.session() as session:
        user = _user(session, username, principal)
        one_time = store.reset_password(session, user, actor=_actor(principal), reason=reason)
        return UserWithSecret(UserInfo.of(user), one_time)


def unlock_user(db: Database, principal: Principal, username: str, *, reason: str | None = None) -> UserInfo:
    _require_manager(principal)
    _require_city(db, principal)
    with db.session() as session:
        user = _user(session, username, principal)
        store.unlock_user(session, user, actor=_actor(principal), reason=reason)
        return UserInfo.of(user)


def reset_totp(db: Database, principal: Principal, username: str, *, reason: str | None = None) -> UserInfo:
    _require_manager(principal)
    _require_city(db, principal)
    with db.session() as session:
        user = _user(session, username, principal)
        store.reset_totp(session, user, actor=_actor(principal), reason=reason)
        return UserInfo.of(user)


# ---- tokens ----------------------------------------------------------------------------------------------

def issue_token(db: Database, principal: Principal, *, username: str | None = None, scope: str = "read", name: str = "",
                expires_days: int | None = None, now: datetime | None = None) -> IssuedToken:
    """A token for ``username`` (administrators) or for the caller (``username`` None: only from a login
    session, never with another token, and a write token only for a role that may write)."""
    now = now or utcnow()
    expires_at = _expiry(expires_days, now)
    if username is None:
        if principal.via == "cli":
            raise InputError(msg.problem("user_unknown", field="username", username=""))
        if principal.via != "session":
            raise Forbidden("forbidden_token_by_token")
        if scope == "write" and not principal.can_write:
            raise Forbidden("forbidden_write_token")
    else:
        _require_manager(principal)
        _require_city(db, principal)
    with db.session() as session:
        user = _user(session, username, principal) if username is not None else _user(session, principal.username)
        token = store.issue_token(session, user, scope, name, actor=_actor(principal), expires_at=expires_at,
                                  now=now)
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == token.split("_")[1])).one()
        return IssuedToken(token, TokenInfo.of(row, user.username))


def list_tokens(db: Database, principal: Principal, username: str | None = None, *, everyone: bool = False
                ) -> list[TokenInfo]:
    """The caller's own tokens; another user's (``username``) or everyone's (``everyone``) for administrators."""
    with db.session() as session:
        if everyone or username is not None:  # one's own tokens need no city: every user of every city has them
            _require_admin(principal)
            _require_city(db, principal)
        reachable = [u for u in store.list_users(session) if _in_scope(principal, u)]
        names = {u.id: u.username for u in reachable}
        user = None if everyone else (_user(session, username, principal) if username is not None
                                      else _user(session, principal.username))
        return [TokenInfo.of(t, names.get(t.user_id)) for t in store.list_tokens(session, user)
                if user is not None or t.user_id in names]


def revoke_token(db: Database, principal: Principal, prefix: str, *, reason: str | None = None) -> TokenInfo:
    """Revoke one's own token, or any as an administrator with write access (another's answers NotFound)."""
    value = (prefix or "").strip().lower()
    if value.startswith("cc_") and value.count("_") >= 1:
        value = value.split("_")[1]
    with db.session() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == value)).one_or_none()
        own = row is not None and row.user_id == principal.user_id and principal.via != "cli"
        if not own:  # another's token: the administrators of this deployment's city
            _require_city(db, principal)
        if row is None or not (own or (principal.can_manage_users() and _in_scope(principal, row.user))):
            raise NotFound("token", msg.problem("token_unknown", field="prefix", value=prefix, prefix=prefix))
        store.revoke_token(session, value, actor=_actor(principal), reason=reason)
        return TokenInfo.of(row, row.user.username)


# ---- TOTP key ----------------------------------------------------------------------------------------------

def rotate_totp_key(db: Database, settings: Settings, principal: Principal, *, new_key: bool = True,
                    drop_old: bool = False) -> KeyRotation:
    """Re-encrypt every stored TOTP secret with the newest key (audited).

    ``new_key`` first puts a fresh key at the head of the key file (older keys stay, to decrypt); with keys from
    ``CITYCARBON_TOTP_KEYS`` put the new key first there yourself and pass ``new_key=False``. ``drop_old``
    removes the older keys from the key file once every secret is re-encrypted.
    """
    _require_manager(principal)
    if principal.city is not None:  # the key protects every city's accounts: the deployment's administrators only
        raise Forbidden("forbidden_manage_users")
    if new_key:
        totp_crypto.add_key(settings)
    cipher = totp_crypto.cipher_for(settings)
    with db.session() as session:
        count = store.rotate_totp_secrets(session, cipher, actor=_actor(principal))
    keys = totp_crypto.drop_old_keys(settings) if drop_old and not settings.totp_keys else \
        totp_crypto.load_keys(settings)
    return KeyRotation(count, len(keys), None if settings.totp_keys else str(totp_crypto.key_file(settings)))

"""Users, API tokens, login sessions, two-factor login and the login itself, over the store.

Every function takes an open SQLAlchemy session and does its work inside the caller's transaction; every
write is audited in the same transaction (:func:`citycarbon.store.audit.record`) with a before/after view
that never holds a password, hash, TOTP secret or token. The faces do not call these directly: they call
:mod:`citycarbon.services.users` and :mod:`citycarbon.services.auth`, which apply the caller's permissions once.

Exception to "the caller's transaction decides": a refused login records the failure (the throttle, a lockout,
the audit row) and **commits** before raising :class:`~citycarbon.auth.errors.AuthError`, because the caller's
``with db.session()`` rolls back on the exception and a lockout that a rollback undoes protects nothing.

Bad input (unknown role, region, scope; a duplicate username) raises :class:`~citycarbon.errors.InputError`
naming the field, with a message code of :mod:`citycarbon.auth.messages`; a password that breaks the policy
raises :class:`~citycarbon.auth.passwords.PasswordPolicyError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from citycarbon import codelists
from citycarbon.auth import messages as msg
from citycarbon.auth import passwords, totp
from citycarbon.auth import tokens as tokenlib
from citycarbon.auth.errors import BAD_CREDENTIALS_MESSAGE, AuthError, LoginChallenge
from citycarbon.auth.principal import SCOPES, Principal, Role
from citycarbon.auth.ratelimit import RateLimiter, UnknownUserLockout, lockout_duration
from citycarbon.errors import InputError, Problem
from citycarbon.store import audit, totp_crypto
from citycarbon.store.auth_models import USERNAME_MAX, ApiToken, LoginSession, User, UserRegion
from citycarbon.store.login_throttle import DatabaseThrottle, MemoryThrottle, Throttle
from citycarbon.store.totp_crypto import TotpCipher
from citycarbon.store.types import utcnow

#: failed logins in a row that lock an account, how long the first lockout lasts (doubling), the longest one
LOCKOUT_THRESHOLD = 5
LOCKOUT_BASE = timedelta(minutes=15)
LOCKOUT_CAP = timedelta(hours=24)
#: a web login ends after this much inactivity, and at the latest this long after it began
SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=12)
#: ended sessions are deleted this long after they ended (when the same user next logs in)
SESSION_RETENTION = timedelta(days=1)
#: last-use times of sessions and tokens are written at most this often (not on every request)
TOUCH_INTERVAL = timedelta(seconds=60)
#: per-client login attempts: 10 per minute for one IP + username
LOGIN_LIMITER = RateLimiter(capacity=10, per_seconds=60.0)
UNKNOWN_USERS = UnknownUserLockout(LOCKOUT_THRESHOLD, LOCKOUT_BASE, LOCKOUT_CAP)

PENDING_PASSWORD_CHANGE = "password_change"
PENDING_TOTP_ENROLLMENT = "totp_enrollment"

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]*$")
_DISTRICT_LEVELS = ("district", "county")


# ---- helpers ---------------------------------------------------------------------------------------------

def actor_name(actor: Principal | str) -> str:
    """How the audit log names who acted: the username of a principal, a given name (``cli:root``) otherwise."""
    return audit.actor_of(actor)[0]


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now


def _audit(session: Session, actor: Principal | str, action: str, entity: str, entity_id: object,
           before: dict | None, after: dict | None, reason: str | None = None) -> None:
    audit.record(session, actor, action, entity, str(entity_id), before, after, reason)


def normalize_username(username: str) -> str:
    """The stored form of a username: NFKC, trimmed, lower-case; refuses anything else than
    ``a-z 0-9 . _ @ -`` (1–64 characters, starting with a letter or digit)."""
    if not isinstance(username, str):
        raise InputError(msg.problem("username_not_text", field="username"))
    name = unicodedata.normalize("NFKC", username).strip().lower()
    if not name or len(name) > USERNAME_MAX or not _USERNAME_RE.match(name):
        raise InputError(msg.problem("username_invalid", field="username", value=username, max=USERNAME_MAX))
    return name


def validate_role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        roles = [r.value for r in Role]
        raise InputError(msg.problem("role_unknown", field="role", value=role,
                                     suggestion=codelists.nearest(str(role), roles), role=str(role),
                                     roles=roles)) from None


def validate_regions(regions: Iterable[str]) -> tuple[str, ...]:
    """Region codes a district user may be bound to: district- or county-level GB/T 2260 codes of the
    shipped ``regions`` codelist (sorted, de-duplicated)."""
    table = codelists.load_codelist("regions")
    allowed = [str(code) for code, level in zip(table["code"], table["level"], strict=True)
               if level in _DISTRICT_LEVELS]
    problems = []
    out = []
    for raw in regions:
        code = str(raw).strip()
        if code not in allowed:
            problems.append(msg.problem("region_unknown", field="regions", value=raw,
                                        suggestion=codelists.nearest(code, allowed), region=code))
        else:
            out.append(code)
    if problems:
        raise InputError(problems)
    return tuple(sorted(set(out)))


def _validate_binding(role: Role, regions: tuple[str, ...], enterprise_id: str | None,
                      org_code: str | None = None) -> None:
    if role is Role.department and not org_code:
        raise InputError(msg.problem("department_needs_org", field="org"))
    if role is not Role.department and org_code:
        raise InputError(msg.problem("org_only_for_department", field="org", value=org_code))
    if role is Role.district and not regions:
        raise InputError(msg.problem("district_needs_region", field="regions"))
    if role is not Role.district and regions:
        raise InputError(msg.problem("regions_only_for_district", field="regions", value=list(regions)))
    if role is Role.enterprise and not enterprise_id:
        raise InputError(msg.problem("enterprise_needs_id", field="enterprise_id"))
    if role is not Role.enterprise and enterprise_id:
        raise InputError(msg.problem("enterprise_only_for_enterprise", field="enterprise_id", value=enterprise_id))


_ENTERPRISE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _clean_enterprise(enterprise_id: str | None) -> str | None:
    """The enterprise a user is bound to: the ``enterprise_id`` of the monitoring registry (which keeps the
    unified social credit code beside it); letters, digits, ``. _ -``, at most 64 characters."""
    if enterprise_id is None:
        return None
    value = str(enterprise_id).strip()
    if not value:
        return None
    if not _ENTERPRISE_RE.match(value):
        raise InputError(msg.problem("enterprise_id_invalid", field="enterprise_id", value=enterprise_id))
    return value


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r")+$")


def validate_email(value: str | None) -> str | None:
    """An e-mail address for the governance inbox (issue 14), or None to clear it."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise InputError(Problem(f"{text!r} is not an e-mail address", field="email", value=text,
                                 message_zh=f"{text!r} 不是电子邮件地址"))
    return text


def user_view(user: User) -> dict:
    """What may be shown and audited about a user: no password hash, no TOTP secret."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "regions": list(user.regions), "enterprise_id": user.enterprise_id, "org": user.org_code,
            "email": user.email,
            "must_change_password": bool(user.must_change_password), "totp_enabled": bool(user.totp_enabled),
            "disabled": bool(user.disabled),
            "locked_until": user.locked_until.isoformat() if user.locked_until else None,
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
            "created_at": user.created_at.isoformat() if user.created_at else None}


def token_view(token: ApiToken) -> dict:
    """What may be shown and audited about a token: never the token or its hash."""
    return {"prefix": token.prefix, "user_id": token.user_id, "scope": token.scope, "name": token.name,
            "created_at": token.created_at.isoformat() if token.created_at else None,
            "created_by": token.created_by,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None}


def principal_for_user(user: User, via: str = "session") -> Principal:
    """The caller a user is, with the role's full scope (a token narrows it)."""
    return Principal(user.id, user.username, Role(user.role), frozenset(user.regions), user.enterprise_id,
                     via=via, city=user.city, org=user.org_code)


# ---- users -----------------------------------------------------------------------------------------------

def get_user(session: Session, username: str) -> User | None:
    """The user called ``username`` (case-insensitive), or None (also for a malformed name)."""
    try:
        name = normalize_username(username)
    except InputError:
        return None
    return session.scalars(select(User).where(User.username == name)).one_or_none()


def require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise InputError(msg.problem("user_unknown", field="username", value=username, username=username))
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(session: Session, *, username: str, role: str | Role, regions: Iterable[str] = (),
                enterprise_id: str | None = None, display_name: str = "", actor: Principal | str,
                reason: str | None = None, org_code: str | None = None,
                email: str | None = None) -> tuple[User, str]:
    """Create a user with a random one-time password (returned, shown once; changed at first login)."""
    name = normalize_username(username)
    role = validate_role(role)
    codes = validate_regions(regions)
    enterprise = _clean_enterprise(enterprise_id)
    org = (org_code or "").strip() or None
    _validate_binding(role, codes, enterprise, org)
    address = validate_email(email)
    if session.scalars(select(User.id).where(User.username == name)).first() is not None:
        raise InputError(msg.problem("username_taken", field="username", value=username, username=name))
    one_time = passwords.generate_one_time_password()
    user = User(username=name, display_name=(display_name or "").strip()[:200], role=role.value,
                enterprise_id=enterprise, org_code=org, email=address,
                password_hash=passwords.hash_password(one_time),
                must_change_password=True, totp_enabled=False, failed_logins=0, lockouts=0, disabled=False)
    user.region_rows = [UserRegion(region_code=code) for code in codes]
    session.add(user)
    session.flush()
    _audit(session, actor, "user.create", "user", user.id, None, user_view(user), reason)
    return user, one_time


def create_admin(session: Session, *, username: str = "admin", actor: Principal | str, reset: bool = False,
                 display_name: str = "") -> tuple[User, str]:
    """The first (or another) admin with a one-time password. Refuses an existing name unless ``reset``,
    which gives that admin a new one-time password, unlocks and re-enables it."""
    existing = get_user(session, username)
    if existing is None:
        return create_user(session, username=username, role=Role.admin, display_name=display_name or "管理员",
                           actor=actor, reason="create-admin")
    if existing.role != Role.admin.value:
        raise InputError(msg.problem("admin_exists_not_admin", field="username", value=username,
                                     username=existing.username))
    if not reset:
        raise InputError(msg.problem("admin_exists", field="username", value=username, username=existing.username))
    if existing.disabled:
        update_user(session, existing, disabled=False, actor=actor, reason="create-admin --reset")
    return existing, reset_password(session, existing, actor=actor, reason="create-admin --reset")


def _set_hash(user: User, password: str, *, must_change: bool, now: datetime) -> None:
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = must_change
    user.password_changed_at = now


def set_password(session: Session, user: User, new_password: str, *, actor: Principal | str,
                 must_change: bool = False, now: datetime | None = None, reason: str | None = None) -> None:
    """Set a password chosen by an admin or the user (policy checked); ends the user's web sessions."""
    now = _now(now)
    passwords.check_password_policy(new_password, user.username)
    before = user_view(user)
    _set_hash(user, new_password, must_change=must_change, now=now)
    revoke_user_sessions(session, user.id, now=now)
    session.flush()
    _audit(session, actor, "user.set_password", "user", user.id, before, user_view(user), reason)


def change_password(session: Session, user: User, old_password: str, new_password: str, *,
                    now: datetime | None = None, keep_session_id: str | None = None) -> None:
    """The user changes their own password (the forced change after a one-time password, too).

    A wrong old password counts as a failed login (a stolen session cannot brute-force it). Other web
    sessions of the user end; ``keep_session_id`` (the one making the change) stays.
    """
    now = _now(now)
    if not passwords.verify_password(user.password_hash, old_password):
        _register_failure(session, user, now)
        session.commit()
        raise AuthError("bad_credentials", msg.text("current_password_wrong"), message_code="current_password_wrong")
    if old_password == new_password:
        raise passwords.PasswordPolicyError([msg.problem("password_same", field="new_password")])
    passwords.check_password_policy(new_password, user.username)
    before = user_view(user)
    _set_hash(user, new_password, must_change=False, now=now)
    keep = tokenlib.digest(keep_session_id) if keep_session_id else None
    revoke_user_sessions(session, user.id, now=now, except_hash=keep)
    session.flush()
    _audit(session, principal_for_user(user), "user.change_password", "user", user.id, before, user_view(user),
           None)


def reset_password(session: Session, user: User, *, actor: Principal | str, now: datetime | None = None,
                   reason: str | None = None) -> str:
    """A new one-time password (returned, shown once), to be changed at next login; unlocks the account and
    ends its web sessions. API tokens stay valid (revoke them separately if they may be compromised)."""
    now = _now(now)
    before = user_view(user)
    one_time = passwords.generate_one_time_password()
    _set_hash(user, one_time, must_change=True, now=now)
    user.failed_logins = 0
    user.lockouts = 0
    user.locked_until = None
    revoke_user_sessions(session, user.id, now=now)
    session.flush()
    _audit(session, actor, "user.reset_password", "user", user.id, before, user_view(user), reason)
    return one_time


_UNSET = object()


def _other_enabled_admins(session: Session, user: User) -> int:
    return len(session.scalars(select(User.id).where(User.role == Role.admin.value, User.disabled.is_(False),
                                                     User.id != user.id)).all())


def update_user(session: Session, user: User, *, role: str | Role | None = None,
                regions: Iterable[str] | None = None, enterprise_id: object = _UNSET, org_code: object = _UNSET,
                disabled: bool | None = None, display_name: str | None = None, email: object = _UNSET,
                actor: Principal | str, reason: str | None = None, now: datetime | None = None) -> User:
    """Change a user's role, regions, enterprise, display name or disabled flag (validated together).

    Left-out arguments keep their value, except that a new role drops regions or an enterprise it cannot
    hold (a district user made analyst loses its regions). Disabling ends the user's web sessions (tokens
    stop working because the user is disabled). The last enabled admin can be neither demoted nor disabled.
    """
    now = _now(now)
    new_role = validate_role(role) if role is not None else Role(user.role)
    new_regions = validate_regions(regions) if regions is not None else user.regions
    if role is not None and regions is None and new_role is not Role.district:
        new_regions = ()
    if enterprise_id is _UNSET:
        new_enterprise = user.enterprise_id
    else:
        new_enterprise = _clean_enterprise(None if enterprise_id is None else str(enterprise_id))
    if role is not None and enterprise_id is _UNSET and new_role is not Role.enterprise:
        new_enterprise = None
    new_org = user.org_code if org_code is _UNSET else ((str(org_code).strip() or None) if org_code else None)
    if role is not None and org_code is _UNSET and new_role is not Role.department:
        new_org = None
    _validate_binding(new_role, new_regions, new_enterprise, new_org)
    new_disabled = bool(user.disabled) if disabled is None else bool(disabled)
    losing_admin = user.role == Role.admin.value and not user.disabled and (
        new_role is not Role.admin or new_disabled)
    if losing_admin and _other_enabled_admins(session, user) == 0:
        raise InputError(msg.problem("last_admin", field="role" if new_role is not Role.admin else "disabled"))
    before = user_view(user)
    user.role = new_role.value
    if tuple(new_regions) != user.regions:
        user.region_rows = [UserRegion(region_code=code) for code in new_regions]
    user.enterprise_id = new_enterprise
    user.org_code = new_org
    if display_name is not None:
        user.display_name = display_name.strip()[:200]
    if email is not _UNSET:
        user.email = validate_email(None if email is None else str(email))
    if new_disabled and not user.disabled:
        revoke_user_sessions(session, user.id, now=now)
    user.disabled = new_disabled
    session.flush()
    after = user_view(user)
    if after != before:
        _audit(session, actor, "user.update", "user", user.id, before, after, reason)
    return user


def unlock_user(session: Session, user: User, *, actor: Principal | str, reason: str | None = None) -> None:
    """Lift a lockout (an admin who has checked with the user)."""
    before = user_view(user)
    user.failed_logins = 0
    user.lockouts = 0
    user.locked_until = None
    session.flush()
    _audit(session, actor, "user.unlock", "user", user.id, before, user_view(user), reason)


# ---- two-factor login (TOTP) -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TotpEnrollment:
    """What the user copies into an authenticator app (the web shows both as text)."""

    secret: str
    uri: str


def enroll_totp(session: Session, user: User, *, actor: Principal | str | None = None,
                cipher: TotpCipher | None = None) -> TotpEnrollment:
    """Start (or restart) enrolment: a new secret (stored encrypted), not yet active until :func:`confirm_totp`.

    Refused while two-factor login is enabled (an admin resets it with :func:`reset_totp`)."""
    if user.totp_enabled:
        raise InputError(msg.problem("totp_already_enabled", field="totp"))
    cipher = cipher or totp_crypto.default_cipher(session)
    before = user_view(user)
    secret = totp.new_secret()
    user.totp_secret = cipher.encrypt(secret)
    user.totp_last_step = None
    session.flush()
    _audit(session, actor or principal_for_user(user), "user.totp_enroll", "user", user.id, before,
           {**user_view(user), "totp_pending": True}, None)
    return TotpEnrollment(secret, totp.provisioning_uri(secret, user.username))


def pending_totp_enrollment(session: Session, user: User, *, cipher: TotpCipher | None = None
                            ) -> TotpEnrollment | None:
    """The enrolment started and not yet confirmed (the secret the user may already have scanned), or None."""
    if user.totp_enabled or not user.totp_secret:
        return None
    secret = (cipher or totp_crypto.default_cipher(session)).decrypt(user.totp_secret)
    return TotpEnrollment(secret, totp.provisioning_uri(secret, user.username))


def confirm_totp(session: Session, user: User, code: str, *, now: datetime | None = None,
                 actor: Principal | str | None = None, cipher: TotpCipher | None = None) -> None:
    """Enable two-factor login once the user proves their app shows the right code."""
    now = _now(now)
    if not user.totp_secret or user.totp_enabled:
        raise InputError(msg.problem("totp_nothing_to_confirm", field="totp"))
    secret = (cipher or totp_crypto.default_cipher(session)).decrypt(user.totp_secret)
    step = totp.verify_code(secret, code, now)
    if step is None:
        raise AuthError("totp_invalid", msg.text("totp_invalid"))
    before = user_view(user)
    user.totp_enabled = True
    user.totp_last_step = step
    session.flush()
    _audit(session, actor or principal_for_user(user), "user.totp_enable", "user", user.id, before,
           user_view(user), None)


def rotate_totp_secrets(session: Session, cipher: TotpCipher, *, actor: Principal | str) -> int:
    """Re-encrypt every stored TOTP secret with the cipher's newest key (plaintext ones: encrypted); audited
    once (``user.totp_rotate_key``, with the count). Returns how many secrets were rewritten."""
    count = 0
    for user in session.scalars(select(User).where(User.totp_secret.is_not(None)).with_for_update()):
        if user.totp_secret is None:  # not selected (the query's filter); narrows the type
            continue
        user.totp_secret = cipher.rotate(user.totp_secret)
        count += 1
    session.flush()
    _audit(session, actor, "user.totp_rotate_key", "user", "*", None, {"secrets": count}, None)
    return count


def reset_totp(session: Session, user: User, *, actor: Principal | str, reason: str | None = None) -> None:
    """Switch two-factor login off (a lost phone); the user enrols again at next login if required."""
    before = user_view(user)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    session.flush()
    _audit(session, actor, "user.totp_reset", "user", user.id, before, user_view(user), reason)


# ---- login -----------------------------------------------------------------------------------------------

def _register_failure(session: Session, user: User, now: datetime) -> bool:
    """Count a failed login; lock the account at the threshold (audited). True when it locked now."""
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins < LOCKOUT_THRESHOLD:
        session.flush()
        return False
    before = user_view(user)
    user.failed_logins = 0
    user.lockouts = (user.lockouts or 0) + 1
    user.locked_until = now + lockout_duration(user.lockouts, LOCKOUT_BASE, LOCKOUT_CAP)
    session.flush()
    _audit(session, "system:login", "user.lockout", "user", user.id, before,
           {**user_view(user), "lockouts": user.lockouts},
           f"{LOCKOUT_THRESHOLD} failed logins in a row")
    return True


def _lock_for_login(session: Session) -> None:
    """Take the write lock before reading, on SQLite. A login reads the user and then writes (failure count,
    last login); on SQLite a transaction that has read cannot wait for the write lock (SQLITE_BUSY at once
    if another writer committed meanwhile), so concurrent logins would fail. A no-op UPDATE as the first
    statement takes the lock (waiting up to the busy timeout). PostgreSQL locks the user's row instead
    (``SELECT … FOR UPDATE``)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(User).where(User.id == -1).values(failed_logins=User.failed_logins)
                        .execution_options(synchronize_session=False))


def _throttle(session: Session, limiter: RateLimiter | None, throttle: Throttle | None) -> Throttle:
    if throttle is not None:
        return throttle
    if limiter is not None:  # an explicit in-memory limiter (tests)
        return MemoryThrottle(limiter, UNKNOWN_USERS)
    return DatabaseThrottle(session, LOGIN_LIMITER, UNKNOWN_USERS)


def _refuse(session: Session, error: AuthError, *, user: User | None, name: str, client: str,
            audited: bool = True) -> AuthError:
    """Commit what the refusal counted (failures, throttle, the audit row) and return the error to raise."""
    if audited:
        after = {"username": name if user is not None else None, "client": client, "code": error.code}
        _audit(session, "system:login", "auth.login_failed", "user" if user is not None else "login",
               user.id if user is not None else "unknown-user", None, after, error.code)
    session.commit()
    return error


def authenticate(session: Session, username: str, password: str, totp_code: str | None = None, *,
                 now: datetime | None = None, client: str = "", require_admin_totp: bool = True,
                 limiter: RateLimiter | None = None, throttle: Throttle | None = None,
                 cipher: TotpCipher | None = None) -> Principal:
    """Check a login and return the caller, or raise :class:`AuthError` (see its codes).

    Order: per-client rate limit; lockout; password (a dummy hash for unknown users, so the time taken and
    the message are the same); disabled; TOTP code (with replay protection); pending steps (a one-time
    password to change, an admin to enrol in TOTP) raise with a :class:`LoginChallenge` that the web turns
    into a pending session (:func:`create_session`).

    The rate limit and the lockout of unknown names are counted by ``throttle`` (default: the database,
    :class:`~citycarbon.store.login_throttle.DatabaseThrottle`, shared by every worker process). Every refusal
    except ``rate_limited`` is audited (``auth.login_failed``; lockouts also ``user.lockout`` /
    ``auth.lockout``) and **committed** before the error is raised. A success is audited by the caller with
    the session it starts (:func:`citycarbon.services.auth.login`). A TOTP secret still stored in the clear is
    encrypted on the way (``cipher``, default: the environment's key).
    """
    now = _now(now)
    gate = _throttle(session, limiter, throttle)
    try:
        name = normalize_username(username)
    except InputError:
        name = "\x00invalid"
    _lock_for_login(session)
    allowed, retry_after = gate.allow(f"{client}|{name}", now)
    if not allowed:
        raise _refuse(session, AuthError("rate_limited", msg.text("rate_limited"), retry_after_s=retry_after),
                      user=None, name=name, client=client, audited=False)
    user = session.scalars(select(User).where(User.username == name).with_for_update()).one_or_none()
    if user is None:
        passwords.burn_verify_time(password or "")
        if gate.unknown_locked(name, now):
            raise _refuse(session, AuthError("locked", BAD_CREDENTIALS_MESSAGE), user=None, name=name,
                          client=client)
        locked_now = gate.unknown_fail(name, now)
        if locked_now:
            _audit(session, "system:login", "auth.lockout", "login", "unknown-user", None, {"client": client},
                   f"{LOCKOUT_THRESHOLD} failed logins in a row")
        raise _refuse(session, AuthError("locked" if locked_now else "bad_credentials", BAD_CREDENTIALS_MESSAGE),
                      user=None, name=name, client=client)
    if user.locked_until is not None and user.locked_until > now:
        passwords.burn_verify_time(password or "")
        raise _refuse(session, AuthError("locked", BAD_CREDENTIALS_MESSAGE), user=user, name=name, client=client)
    if not passwords.verify_password(user.password_hash, password or ""):
        locked_now = _register_failure(session, user, now)
        raise _refuse(session, AuthError("locked" if locked_now else "bad_credentials", BAD_CREDENTIALS_MESSAGE),
                      user=user, name=name, client=client)
    if user.disabled:
        raise _refuse(session, AuthError("disabled", msg.text("disabled")), user=user, name=name, client=client)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.totp_enabled:
        if not totp_code:
            raise _refuse(session, AuthError("totp_required", msg.text("totp_required")), user=user, name=name,
                          client=client, audited=False)  # not a failure: the form asks for the code next
        cipher = cipher or totp_crypto.default_cipher(session)
        secret = cipher.decrypt(user.totp_secret or "")
        step = totp.verify_code(secret, totp_code, now, user.totp_last_step)
        if step is None:
            locked_now = _register_failure(session, user, now)
            error = AuthError("locked", BAD_CREDENTIALS_MESSAGE) if locked_now else AuthError(
                "totp_invalid", msg.text("totp_invalid"))
            raise _refuse(session, error, user=user, name=name, client=client)
        user.totp_last_step = step
        if not totp_crypto.is_encrypted(user.totp_secret):  # lazy migration of a secret kept in the clear
            user.totp_secret = cipher.encrypt(secret)
    user.failed_logins = 0
    user.lockouts = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    if user.must_change_password:
        session.commit()
        raise AuthError("password_change_required", msg.text("password_change_required"),
                        challenge=LoginChallenge(user.id, user.username, PENDING_PASSWORD_CHANGE))
    if require_admin_totp and user.role == Role.admin.value and not user.totp_enabled:
        session.commit()
        raise AuthError("totp_enrollment_required", msg.text("totp_enrollment_required"),
                        challenge=LoginChallenge(user.id, user.username, PENDING_TOTP_ENROLLMENT))
    return principal_for_user(user, via="session")


def _touch(session: Session, statement: Update) -> None:
    """Write a last-use time, best effort: on SQLite a request that has only read so far cannot always take
    the write lock (another writer committed meanwhile: SQLITE_BUSY at once, no waiting), and a missed
    last-use time must not fail the request. Runs in a savepoint so the caller's transaction stays usable."""
    try:
        with session.begin_nested():
            session.execute(statement.execution_options(synchronize_session="fetch"))
    except OperationalError as error:
        if "locked" not in str(error).lower() and "busy" not in str(error).lower():
            raise


# ---- API tokens ------------------------------------------------------------------------------------------

def issue_token(session: Session, user: User, scope: str, name: str = "", *, actor: Principal | str,
                expires_at: datetime | None = None, now: datetime | None = None) -> str:
    """A new bearer token for ``user`` (returned in plaintext, shown once; only its hash is kept)."""
    now = _now(now)
    if scope not in SCOPES:
        raise InputError(msg.problem("scope_unknown", field="scope", value=scope, scope=scope, scopes=list(SCOPES)))
    if scope == "write" and user.role == Role.viewer.value:
        raise InputError(msg.problem("viewer_write_token", field="scope", value=scope))
    if user.disabled:
        raise InputError(msg.problem("account_disabled", field="username", value=user.username))
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware (UTC)")
        if expires_at <= now:
            raise InputError(msg.problem("expiry_in_past", field="expires_at", value=expires_at.isoformat()))
    new = tokenlib.generate_api_token()
    row = ApiToken(user_id=user.id, prefix=new.prefix, token_hash=new.digest, scope=scope,
                   name=(name or "").strip()[:100], created_at=now, created_by=actor_name(actor),
                   expires_at=expires_at)
    session.add(row)
    session.flush()
    _audit(session, actor, "token.issue", "api_token", row.prefix, None, {**token_view(row),
                                                                          "username": user.username}, None)
    return new.plaintext


def revoke_token(session: Session, prefix: str, *, actor: Principal | str, now: datetime | None = None,
                 reason: str | None = None) -> ApiToken:
    """Revoke a token by its prefix (idempotent: revoking a revoked token changes nothing)."""
    now = _now(now)
    value = (prefix or "").strip()
    if value.startswith("cc_"):  # the whole token, or cc_<prefix>
        value = value.split("_")[1] if value.count("_") >= 1 else value
    row = session.scalars(select(ApiToken).where(ApiToken.prefix == value.lower())).one_or_none()
    if row is None:
        raise InputError(msg.problem("token_unknown", field="prefix", value=prefix, prefix=prefix))
    if row.revoked_at is None:
        before = token_view(row)
        row.revoked_at = now
        session.flush()
        _audit(session, actor, "token.revoke", "api_token", row.prefix, before, token_view(row), reason)
    return row


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    """A user's tokens (all users' when ``user`` is None), newest first."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def principal_for_token(session: Session, token: str, now: datetime | None = None) -> Principal | None:
    """The caller a bearer token stands for, narrowed to the token's scope; None when the token is
    malformed, unknown, revoked, expired, or its user is disabled. A login lockout does not affect tokens
    (anyone can lock an account by guessing; that must not stop an enterprise's meter gateway)."""
    now = _now(now)
    prefix = tokenlib.parse_api_token(token) if isinstance(token, str) else None
    if prefix is None:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one_or_none()
    if row is None or not tokenlib.token_matches(token, row.token_hash):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    user = row.user
    if user.disabled:  # a login lockout does not stop tokens: failed guesses must not cut off a meter gateway
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        _touch(session, update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return principal_for_user(user).narrowed({row.scope})


# ---- login sessions --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionState:
    """A live web session: the caller (None while a step is pending), its CSRF token, what is pending."""

    principal: Principal | None
    csrf_token: str
    challenge: LoginChallenge | None
    expires_at: datetime


def create_session(session: Session, who: Principal | LoginChallenge, *, now: datetime | None = None,
                   user_agent: str = "", client: str = "") -> tuple[str, str]:
    """Start a web session for a logged-in principal, or a pending one for a :class:`LoginChallenge`.

    Returns ``(session_id, csrf_token)``: the id goes into the cookie (HttpOnly, SameSite=Strict, Secure per
    ``settings.cookie_secure``), the CSRF token into every form; the store keeps the id's SHA-256 only.
    The user's sessions that ended more than :data:`SESSION_RETENTION` ago are deleted on the way.
    """
    now = _now(now)
    pending = who.kind if isinstance(who, LoginChallenge) else None
    cutoff = now - SESSION_RETENTION
    session.execute(delete(LoginSession).where(  # the user's long-ended sessions: keeps the table small
        LoginSession.user_id == who.user_id,
        or_(LoginSession.expires_at < cutoff, LoginSession.revoked_at < cutoff,
            LoginSession.last_seen_at < cutoff - SESSION_IDLE)).execution_options(synchronize_session=False))
    sid = tokenlib.generate_session_id()
    csrf = tokenlib.generate_csrf_token()
    session.add(LoginSession(id_hash=tokenlib.digest(sid), user_id=who.user_id, csrf_token=csrf, created_at=now,
                             last_seen_at=now, expires_at=now + SESSION_ABSOLUTE,
                             user_agent=(user_agent or "")[:300], client=(client or "")[:64], pending=pending))
    session.flush()
    return sid, csrf


def _live_session(session: Session, session_id: str | None, now: datetime) -> LoginSession | None:
    if not session_id or not isinstance(session_id, str) or len(session_id) > 128:
        return None
    row = session.get(LoginSession, tokenlib.digest(session_id))
    if row is None or row.revoked_at is not None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= SESSION_IDLE:
        return None
    if row.user.disabled:
        return None
    return row


def load_session(session: Session, session_id: str | None, now: datetime | None = None) -> SessionState | None:
    """The state of a web session (None when unknown, revoked, idle > 30 min, older than 12 h, or the user
    is disabled); refreshes its idle timer."""
    now = _now(now)
    row = _live_session(session, session_id, now)
    if row is None:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        _touch(session, update(LoginSession).where(LoginSession.id_hash == row.id_hash).values(last_seen_at=now))
    user = row.user
    if row.pending:
        challenge = LoginChallenge(user.id, user.username, row.pending)
        return SessionState(None, row.csrf_token, challenge, row.expires_at)
    return SessionState(principal_for_user(user, via="session"), row.csrf_token, None, row.expires_at)


def principal_for_session(session: Session, session_id: str | None, now: datetime | None = None) -> Principal | None:
    """The caller of a fully logged-in web session; None for a pending, expired or unknown one."""
    state = load_session(session, session_id, now)
    return state.principal if state else None


def complete_pending_session(session: Session, session_id: str, *, now: datetime | None = None,
                             require_admin_totp: bool = True) -> tuple[str, str] | None:
    """After the pending step is done, replace the pending session by a full one (a new id, so a session
    id seen before the step cannot be reused: no session fixation). Returns the new ``(session_id,
    csrf_token)``, or None while the user still owes a step (the web shows that step next)."""
    now = _now(now)
    row = _live_session(session, session_id, now)
    if row is None or row.pending is None:
        return None
    user = row.user
    if user.must_change_password:
        row.pending = PENDING_PASSWORD_CHANGE
        session.flush()
        return None
    if require_admin_totp and user.role == Role.admin.value and not user.totp_enabled:
        row.pending = PENDING_TOTP_ENROLLMENT
        session.flush()
        return None
    row.revoked_at = now
    session.flush()
    return create_session(session, principal_for_user(user), now=now, user_agent=row.user_agent,
                          client=row.client)


def rotate_session(session: Session, session_id: str, *, now: datetime | None = None,
                   require_admin_totp: bool = True) -> tuple[str, str, str | None] | None:
    """Replace a live session (pending or full) by one with a new id and CSRF token, revoking the old one: done
    at every privilege step (a password accepted, a password changed, TOTP enrolled), so an id seen before
    the step is worthless after it. The new session owes the step the user still owes (a one-time password
    to change, TOTP to enrol), else it is a full session. Returns ``(session_id, csrf_token, pending)``, or
    None when ``session_id`` is not a live session."""
    now = _now(now)
    row = _live_session(session, session_id, now)
    if row is None:
        return None
    user = row.user
    pending: str | None = None
    if user.must_change_password:
        pending = PENDING_PASSWORD_CHANGE
    elif require_admin_totp and user.role == Role.admin.value and not user.totp_enabled:
        pending = PENDING_TOTP_ENROLLMENT
    row.revoked_at = now
    session.flush()
    who: Principal | LoginChallenge = (LoginChallenge(user.id, user.username, pending) if pending
                                       else principal_for_user(user))
    new_id, csrf = create_session(session, who, now=now, user_agent=row.user_agent, client=row.client)
    return new_id, csrf, pending


def revoke_session(session: Session, session_id: str, now: datetime | None = None) -> bool:
    """Log out: end a web session. True when a live session was ended."""
    now = _now(now)
    if not session_id:
        return False
    row = session.get(LoginSession, tokenlib.digest(session_id))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.flush()
    return True


def revoke_user_sessions(session: Session, user_id: int, *, now: datetime | None = None,
                         except_hash: str | None = None) -> int:
    """End every live web session of a user (password change/reset, disabling); returns how many."""
    now = _now(now)
    query = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    if except_hash is not None:
        query = query.where(LoginSession.id_hash != except_hash)
    result = session.execute(query.values(revoked_at=now).execution_options(synchronize_session="fetch"))
    return int(result.rowcount or 0)

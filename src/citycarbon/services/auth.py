"""Logging in and out, and the steps a login owes: the one service both the web's login form
(``web/routes/auth.py``) and the API's ``/auth/*`` (``api/routers/auth.py``) call, so they cannot diverge.

* :func:`login` checks the credentials (:func:`citycarbon.store.users.authenticate`: rate limit and lockout
  shared by every worker process, argon2, TOTP), starts a session — full, or *pending* when a step is owed — and
  audits the login (``auth.login``). Refusals raise :class:`~citycarbon.auth.errors.AuthError` and are audited
  by the store (``auth.login_failed``, ``user.lockout``, ``auth.lockout``) before they are raised.
* :func:`change_password`, :func:`start_totp_enrollment`, :func:`confirm_totp` do a step for the cookie's session
  and **rotate the session id** (the old one is revoked): every privilege step gets a new id.
* :func:`logout` ends the session (``auth.logout``).

Every function takes the database and the settings (for the throttle backend and the TOTP key) and returns
typed results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.orm import Session

from citycarbon.auth.errors import AuthError
from citycarbon.auth.principal import Principal
from citycarbon.settings import Settings
from citycarbon.store import audit, totp_crypto
from citycarbon.store import users as store
from citycarbon.store.auth_models import User
from citycarbon.store.db import Database
from citycarbon.store.login_throttle import DatabaseThrottle, FallbackThrottle, RedisThrottle, Throttle
from citycarbon.store.types import utcnow


class NoSession(Exception):
    """The step needs a live login session and the cookie has none."""


class WrongStep(Exception):
    """The session owes another step than the one requested (``pending`` names it)."""

    def __init__(self, pending: str):
        self.pending = pending
        super().__init__(f"the pending step is {pending}")


@dataclass(frozen=True)
class SessionTicket:
    """A session to hand to the client: the cookie's id, the CSRF token, and the caller (None while
    ``pending`` names a step still owed)."""

    session_id: str
    csrf_token: str
    principal: Principal | None
    pending: str | None


@dataclass(frozen=True)
class Enrollment:
    """What the user copies into an authenticator app."""

    secret: str
    uri: str


PENDING_PASSWORD_CHANGE = store.PENDING_PASSWORD_CHANGE
PENDING_TOTP_ENROLLMENT = store.PENDING_TOTP_ENROLLMENT


def session_state(db: Database, session_id: str | None, *, now: datetime | None = None) -> store.SessionState | None:
    """The state of a web session (caller, CSRF token, step owed), or None when unknown, ended or expired."""
    if not session_id:
        return None
    with db.session() as session:
        return store.load_session(session, session_id, now or utcnow())


def caller_for_token(db: Database, token: str, *, now: datetime | None = None) -> Principal | None:
    """The caller a bearer token stands for (narrowed to its scope), or None (malformed, unknown, revoked,
    expired, or its user disabled)."""
    with db.session() as session:
        return store.principal_for_token(session, token, now or utcnow())


@cache
def _redis_throttle(url: str) -> RedisThrottle:
    return RedisThrottle(url, store.LOGIN_LIMITER, store.UNKNOWN_USERS)


def throttle_for(settings: Settings, session: Session) -> Throttle:
    """Where login attempts are counted: Redis when ``CITYCARBON_REDIS_URL`` is set, else the database."""
    database = DatabaseThrottle(session, store.LOGIN_LIMITER, store.UNKNOWN_USERS)
    if settings.redis_url:
        throttle = _redis_throttle(settings.redis_url)
        throttle.limiter, throttle.unknown = store.LOGIN_LIMITER, store.UNKNOWN_USERS
        return FallbackThrottle(throttle, database)
    return database


def _ticket(session: Session, session_id: str, csrf: str, pending: str | None, now: datetime) -> SessionTicket:
    principal = None if pending else store.principal_for_session(session, session_id, now)
    return SessionTicket(session_id, csrf, principal, pending)


def login(db: Database, settings: Settings, username: str, password: str, totp_code: str | None = None, *,
          client: str = "", user_agent: str = "", now: datetime | None = None) -> SessionTicket:
    """Check a login and start its session (a pending one when a step is owed); raises :class:`AuthError`."""
    now = now or utcnow()
    with db.session() as session:
        try:
            principal = store.authenticate(session, username, password, totp_code or None, now=now, client=client,
                                           require_admin_totp=settings.require_admin_totp,
                                           throttle=throttle_for(settings, session),
                                           cipher=totp_crypto.cipher_for(settings))
        except AuthError as error:
            if error.challenge is None:
                raise
            challenge = error.challenge
            session_id, csrf = store.create_session(session, challenge, now=now, user_agent=user_agent,
                                                    client=client)
            audit.record(session, f"login:{challenge.username}", "auth.login", "user", str(challenge.user_id),
                         None, {"client": client, "pending": challenge.kind}, None)
            return SessionTicket(session_id, csrf, None, challenge.kind)
        session_id, csrf = store.create_session(session, principal, now=now, user_agent=user_agent, client=client)
        audit.record(session, principal, "auth.login", "user", str(principal.user_id), None,
                     {"client": client, "pending": None}, None)
        return SessionTicket(session_id, csrf, principal, None)


def logout(db: Database, session_id: str | None, *, now: datetime | None = None) -> bool:
    """End the session; True when a live one was ended (audited ``auth.logout``)."""
    now = now or utcnow()
    if not session_id:
        return False
    with db.session() as session:
        state = store.load_session(session, session_id, now)
        if not store.revoke_session(session, session_id, now):
            return False
        if state is not None:
            who: Principal | str
            if state.principal is not None:
                who, user_id = state.principal, state.principal.user_id
            else:
                assert state.challenge is not None  # a live session is full or pending
                who, user_id = f"login:{state.challenge.username}", state.challenge.user_id
            audit.record(session, who, "auth.logout", "user", str(user_id), None, {"pending": bool(state.challenge)},
                         None)
        return True


def _step_user(session: Session, session_id: str | None, expected: str | None, now: datetime) -> tuple[User, str]:
    """The user of a live session that owes ``expected`` (a full session may do any step voluntarily), and the
    session id."""
    state = store.load_session(session, session_id, now) if session_id else None
    if state is None or session_id is None:
        raise NoSession()
    if state.challenge is not None:
        if expected is not None and state.challenge.kind != expected:
            raise WrongStep(state.challenge.kind)
        user = session.get(User, state.challenge.user_id)
    else:
        assert state.principal is not None  # a live session is full or pending
        user = session.get(User, state.principal.user_id)
    if user is None:
        raise NoSession()
    return user, session_id


def _rotated(session: Session, settings: Settings, session_id: str, now: datetime) -> SessionTicket:
    renewed = store.rotate_session(session, session_id, now=now, require_admin_totp=settings.require_admin_totp)
    if renewed is None:
        raise NoSession()
    new_id, csrf, pending = renewed
    return _ticket(session, new_id, csrf, pending, now)


def change_password(db: Database, settings: Settings, session_id: str | None, old_password: str, new_password: str, *,
                    now: datetime | None = None) -> SessionTicket:
    """Change the session user's password (the forced change of a one-time password too); the user's other
    sessions end and this one gets a new id. Raises :class:`AuthError` (wrong current password, counted as a
    failed login) or :class:`~citycarbon.auth.passwords.PasswordPolicyError`."""
    now = now or utcnow()
    with db.session() as session:
        user, live_id = _step_user(session, session_id, store.PENDING_PASSWORD_CHANGE, now)
        store.change_password(session, user, old_password, new_password, now=now, keep_session_id=live_id)
        return _rotated(session, settings, live_id, now)


def start_totp_enrollment(db: Database, settings: Settings, session_id: str | None, *, reuse: bool = False,
                          now: datetime | None = None) -> Enrollment:
    """A new TOTP secret for the session's user (``reuse``: the one started and not yet confirmed, if any)."""
    now = now or utcnow()
    cipher = totp_crypto.cipher_for(settings)
    with db.session() as session:
        user, _ = _step_user(session, session_id, store.PENDING_TOTP_ENROLLMENT, now)
        started = store.pending_totp_enrollment(session, user, cipher=cipher) if reuse else None
        enrolment = started or store.enroll_totp(session, user, cipher=cipher)
        return Enrollment(enrolment.secret, enrolment.uri)


def confirm_totp(db: Database, settings: Settings, session_id: str | None, code: str, *,
                 now: datetime | None = None) -> SessionTicket:
    """Enable two-factor login with a code from the app; the session gets a new id (full when nothing else is
    owed). Raises :class:`AuthError` (``totp_invalid``) or :class:`~citycarbon.errors.InputError`."""
    now = now or utcnow()
    with db.session() as session:
        user, live_id = _step_user(session, session_id, store.PENDING_TOTP_ENROLLMENT, now)
        store.confirm_totp(session, user, code.strip(), now=now, cipher=totp_crypto.cipher_for(settings))
        return _rotated(session, settings, live_id, now)

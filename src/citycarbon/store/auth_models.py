"""Store models for users, their regions, API tokens and login sessions (issue 4 §3).

Secrets are never stored in the clear where a hash will do: passwords as argon2id hashes, API tokens and
session identifiers as SHA-256 digests. The TOTP secret must be usable to compute codes, so it is stored
encrypted (Fernet, key outside the database: :mod:`citycarbon.store.totp_crypto`); it is left out of ``repr`` and
of every audit record. Migration ``0002_auth`` creates these tables, ``0102_login_throttle`` widens the TOTP
column and adds :class:`LoginThrottle`; keep them in step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citycarbon.auth.principal import ROLES, SCOPES
from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime, utcnow

USERNAME_MAX = 64


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    """A person (or a service account of an enterprise) who logs in. ``username`` is stored lower-cased,
    which makes it unique case-insensitively on both backends."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    enterprise_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)  # Fernet token (totp_crypto)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    #: the one city (``plans.code``) the user is scoped to; None: every city of the deployment (migration 0103)
    city: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    #: the organisation (``gov_orgs.code``) a department user is bound to (migration 0104)
    org_code: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    #: where the governance inbox's messages are e-mailed when SMTP is configured (migration 0104)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, default=None)

    region_rows: Mapped[list[UserRegion]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                         order_by="UserRegion.region_code", lazy="selectin")

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted(row.region_code for row in self.region_rows))

    def __repr__(self) -> str:  # never the hash or the TOTP secret
        return f"User(id={self.id!r}, username={self.username!r}, role={self.role!r})"


class UserRegion(Base):
    """A region (GB/T 2260 code from ``codelists/regions.csv``) a district user is bound to."""

    __tablename__ = "user_regions"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)

    user: Mapped[User] = relationship(back_populates="region_rows")


class ApiToken(Base):
    """A bearer token for the API: only its prefix and the SHA-256 of the whole token are kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("scope", SCOPES), name="scope"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    scope: Mapped[str] = mapped_column(String(8), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"ApiToken(prefix={self.prefix!r}, user_id={self.user_id!r}, scope={self.scope!r})"


class LoginSession(Base):
    """A server-side web login: the cookie carries a random id, the row its SHA-256 (``id_hash``).

    ``pending`` is set while a login still owes a step (``password_change`` or ``totp_enrollment``); such a
    session grants nothing but that step.
    """

    __tablename__ = "login_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    user_agent: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    client: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    pending: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"LoginSession(user_id={self.user_id!r}, created_at={self.created_at!r})"


class LoginThrottle(Base):
    """Login rate-limit buckets and lockouts of unknown usernames, shared by every worker process
    (:mod:`citycarbon.store.login_throttle`). ``key`` is the SHA-256 of ``rate:<client>|<username>`` or
    ``unknown:<username>`` (no address or name is kept in the clear)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)

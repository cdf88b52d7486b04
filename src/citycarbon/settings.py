"""Deployment settings, from the environment (12-factor) with embedded defaults.

``CITYCARBON_HOME``          data directory (default ``./.citycarbon``): SQLite file, meter lake, secret key,
                             backups. Created on first use with owner-only permissions.
``CITYCARBON_DATABASE_URL``  SQLAlchemy URL; default ``sqlite:///$CITYCARBON_HOME/citycarbon.db``. Production:
                             ``postgresql+psycopg://user@host/db``.
``CITYCARBON_LAKE_DIR``      meter-data lake (partitioned Parquet), default ``$CITYCARBON_HOME/lake``.
``CITYCARBON_DASK_SCHEDULER`` address of a Dask distributed scheduler (``tcp://host:8786``) for ensembles
                             and lake rollups; unset: everything runs in-process.
``CITYCARBON_REQUIRE_ADMIN_TOTP`` ``1`` (default): two-factor login is mandatory for admins (an admin
                             without TOTP must enrol before doing anything else).
``CITYCARBON_COOKIE_SECURE`` ``1`` (default) marks session cookies Secure; ``0`` only for plain-HTTP loopback.
``CITYCARBON_CITY``          the reference city loaded at first start (default ``dalian``).
``CITYCARBON_TRUST_PROXY_HEADERS`` ``1``: the app runs behind the documented reverse proxy and trusts its
                             ``X-Forwarded-Proto`` (HSTS is sent when it says ``https``); ``0`` (default).
``CITYCARBON_REDIS_URL``     ``redis://host:6379/0``: the login rate limit and lockout counters live in Redis;
                             unset (default): in the database. Either way every worker process shares them.
``CITYCARBON_TOTP_KEYS``     Fernet keys encrypting TOTP secrets at rest, comma-separated, newest first (older
                             ones only decrypt); unset: ``$CITYCARBON_HOME/totp.key`` (``CITYCARBON_TOTP_KEY_FILE``),
                             one key per line, generated (0600) on first use.
``CITYCARBON_MONITORING_FUTURE_MARGIN`` seconds an ingested meter reading's interval may end after the server's
                             clock (default 300); later ends are rejected as readings from the future.
``CITYCARBON_SMTP_HOST``     the mail server the governance inbox's messages are e-mailed through; unset (default):
                             no e-mail is sent (and nothing connects anywhere). With it: ``CITYCARBON_SMTP_PORT``
                             (default 25), ``CITYCARBON_SMTP_FROM`` (the sender address, required),
                             ``CITYCARBON_SMTP_USER`` / ``CITYCARBON_SMTP_PASSWORD`` (optional login),
                             ``CITYCARBON_SMTP_STARTTLS`` ``1`` to upgrade the connection with STARTTLS (default 0).

Nothing here has a default secret: the session-signing key is generated into ``$CITYCARBON_HOME/secret.key``
(mode 0600) the first time it is needed, or read from ``CITYCARBON_SECRET_KEY_FILE``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(name: str, default: bool, env: dict[str, str]) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def _seconds(name: str, default: float, env: dict[str, str]) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number of seconds, e.g. 300") from None
    if not (value >= 0 and value != float("inf")):
        raise ValueError(f"{name}={raw!r}: expected a finite number of seconds ≥ 0")
    return value


def _port(name: str, default: int, env: dict[str, str]) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"{name}={raw!r}: expected a TCP port number (1–65535)")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    lake_dir: Path
    secret_key_file: Path
    dask_scheduler: str | None = None
    require_admin_totp: bool = True
    cookie_secure: bool = True
    city: str = "dalian"
    trust_proxy_headers: bool = False
    redis_url: str | None = None
    totp_keys: tuple[str, ...] = ()
    totp_key_file: Path | None = None
    monitoring_future_margin_s: float = 300.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_home(cls, home: str | Path, **overrides: object) -> Settings:
        """Settings for a data directory with every other value at its default (tests, tools)."""
        home = Path(home).resolve()
        base = cls(home=home, database_url=f"sqlite:///{home / 'citycarbon.db'}", lake_dir=home / "lake",
                   secret_key_file=home / "secret.key")
        return replace(base, **overrides) if overrides else base

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        lake = env.get("CITYCARBON_LAKE_DIR")
        key_file = env.get("CITYCARBON_SECRET_KEY_FILE")
        home = Path(env.get("CITYCARBON_HOME") or ".citycarbon").resolve()
        settings = cls.for_home(home)
        return replace(
            settings,
            database_url=env.get("CITYCARBON_DATABASE_URL") or settings.database_url,
            lake_dir=Path(lake).resolve() if lake else settings.lake_dir,
            secret_key_file=Path(key_file).resolve() if key_file else settings.secret_key_file,
            dask_scheduler=env.get("CITYCARBON_DASK_SCHEDULER") or None,
            require_admin_totp=_flag("CITYCARBON_REQUIRE_ADMIN_TOTP", True, env),
            cookie_secure=_flag("CITYCARBON_COOKIE_SECURE", True, env),
            city=env.get("CITYCARBON_CITY") or "dalian",
            trust_proxy_headers=_flag("CITYCARBON_TRUST_PROXY_HEADERS", False, env),
            redis_url=env.get("CITYCARBON_REDIS_URL") or None,
            totp_keys=tuple(k.strip() for k in (env.get("CITYCARBON_TOTP_KEYS") or "").split(",") if k.strip()),
            totp_key_file=Path(env["CITYCARBON_TOTP_KEY_FILE"]).resolve() if env.get("CITYCARBON_TOTP_KEY_FILE")
            else None,
            monitoring_future_margin_s=_seconds("CITYCARBON_MONITORING_FUTURE_MARGIN", 300.0, env),
            smtp_host=(env.get("CITYCARBON_SMTP_HOST") or "").strip() or None,
            smtp_port=_port("CITYCARBON_SMTP_PORT", 25, env),
            smtp_from=(env.get("CITYCARBON_SMTP_FROM") or "").strip() or None,
            smtp_user=(env.get("CITYCARBON_SMTP_USER") or "").strip() or None,
            smtp_password=env.get("CITYCARBON_SMTP_PASSWORD") or None,
            smtp_starttls=_flag("CITYCARBON_SMTP_STARTTLS", False, env),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def monitoring_future_margin(self) -> timedelta:
        """How far after the server's clock an ingested reading's interval may end (later: rejected)."""
        return timedelta(seconds=self.monitoring_future_margin_s)

    @property
    def lake_ledger_url(self) -> str | None:
        """Where the meter lake's ingest ledger lives: the application database when it is PostgreSQL
        (production), else None — ``ledger.sqlite`` beside the lake's files (the embedded default)."""
        return None if self.is_sqlite else self.database_url

    def ensure_home(self) -> Path:
        """Create the data directory (owner-only) and return it."""
        self.home.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # e.g. a mounted volume we do not own
            self.home.chmod(0o700)
        return self.home

    def secret_key(self) -> bytes:
        """The session-signing key: read from its file, generated there (0600) on first use."""
        path = self.secret_key_file
        if path.exists():
            key = path.read_bytes().strip()
            if len(key) < 32:
                raise ValueError(f"{path}: secret key too short ({len(key)} bytes; need ≥ 32)")
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key

    def redacted_url(self) -> str:
        """The database URL without its password, for logs and status output."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


def get_settings() -> Settings:
    return Settings.from_env()

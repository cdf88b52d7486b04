"""The login rate limit and the lockout of unknown usernames, shared by every worker process.

``citycarbon serve --workers 4`` runs four processes; counters kept in each process's memory would give an
attacker four times the budget. Both backends keep one count per key for all processes:

* :class:`DatabaseThrottle` (the default): table ``login_throttle`` in the application database, read and written
  inside the login's own transaction, under the lock the login takes anyway (SQLite: the write lock taken first;
  PostgreSQL: the row, ``SELECT … FOR UPDATE`` after an ``INSERT … ON CONFLICT DO NOTHING``). The login commits
  before it raises, so a refused attempt still counts.
* :class:`RedisThrottle` when ``CITYCARBON_REDIS_URL`` is set: the same arithmetic in one Lua script per call
  (atomic on the Redis server), keys expiring on their own. While Redis does not answer, the login counts in the
  database instead (:class:`FallbackThrottle`, with a warning in the log) rather than failing every login.

The rules are those of the in-memory classes of :mod:`citycarbon.auth.ratelimit`, whose parameters they read:
a token bucket per ``client + username`` (``capacity`` attempts, refilled at ``rate`` per second) and, for
usernames that do not exist, ``max_failures`` failures in a row lock the name for ``base`` doubling to ``cap``
(the same rule as real accounts, so a lockout reveals nothing). Keys are SHA-256 digests: neither a client
address nor a username is stored in the clear.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from citycarbon.auth.ratelimit import RateLimiter, UnknownUserLockout, lockout_duration
from citycarbon.store.auth_models import LoginThrottle

log = logging.getLogger(__name__)

#: rows untouched this long are deleted (at most once per call, a few at a time)
RETENTION = timedelta(days=2)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class Throttle(Protocol):
    """What the login asks: may this client try again, is this unknown name locked, count a failure."""

    def allow(self, key: str, now: datetime) -> tuple[bool, float]:
        """Spend one attempt of ``key``; ``(allowed, seconds until the next attempt is allowed)``."""

    def unknown_locked(self, username: str, now: datetime) -> bool: ...

    def unknown_fail(self, username: str, now: datetime) -> bool:
        """Count a failure for an unknown username; True when it starts a lockout."""


class MemoryThrottle:
    """This process only (tests; a single-process deployment): the classes of :mod:`citycarbon.auth.ratelimit`."""

    def __init__(self, limiter: RateLimiter, unknown: UnknownUserLockout):
        self.limiter = limiter
        self.unknown = unknown

    def allow(self, key: str, now: datetime) -> tuple[bool, float]:
        if self.limiter.allow(key):
            return True, 0.0
        return False, self.limiter.retry_after(key)

    def unknown_locked(self, username: str, now: datetime) -> bool:
        return self.unknown.locked(username, now)

    def unknown_fail(self, username: str, now: datetime) -> bool:
        return self.unknown.fail(username, now)


class DatabaseThrottle:
    """Counters in ``login_throttle``, inside the caller's transaction (which must commit, also on refusal)."""

    def __init__(self, session: Session, limiter: RateLimiter, unknown: UnknownUserLockout):
        self.session = session
        self.limiter = limiter
        self.unknown = unknown

    def _row(self, key: str, now: datetime, tokens: float) -> LoginThrottle:
        session = self.session
        dialect = session.get_bind().dialect.name
        row = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                              ).one_or_none()
        if row is not None:
            return row
        values = {"key": key, "tokens": tokens, "failures": 0, "lockouts": 0, "locked_until": None,
                  "updated_at": now}
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(LoginThrottle).values(**values).on_conflict_do_nothing(index_elements=["key"]))
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            session.execute(sqlite_insert(LoginThrottle).values(**values)
                            .on_conflict_do_nothing(index_elements=["key"]))
        session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - RETENTION)
                        .execution_options(synchronize_session=False))
        return session.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                               .execution_options(populate_existing=True)).one()

    def allow(self, key: str, now: datetime) -> tuple[bool, float]:
        capacity, rate = self.limiter.capacity, self.limiter.rate
        row = self._row(_key("rate", key), now, capacity)
        elapsed = max(0.0, (now - row.updated_at).total_seconds())
        tokens = min(capacity, row.tokens + elapsed * rate)
        allowed = tokens >= 1.0
        row.tokens = tokens - 1.0 if allowed else tokens
        row.updated_at = max(now, row.updated_at)
        self.session.flush()
        return allowed, 0.0 if allowed else (1.0 - tokens) / rate

    def unknown_locked(self, username: str, now: datetime) -> bool:
        row = self.session.get(LoginThrottle, _key("unknown", username))
        return bool(row is not None and row.locked_until is not None and row.locked_until > now)

    def unknown_fail(self, username: str, now: datetime) -> bool:
        row = self._row(_key("unknown", username), now, 0.0)
        row.failures += 1
        row.updated_at = max(now, row.updated_at)
        locked = row.failures >= self.unknown.max_failures
        if locked:
            row.failures = 0
            row.lockouts += 1
            row.locked_until = now + lockout_duration(row.lockouts, self.unknown.base, self.unknown.cap)
        self.session.flush()
        return locked


# KEYS[1]: the bucket; ARGV: capacity, rate (per s), now (s), ttl (s). Returns {allowed, retry_after * 1000}.
_BUCKET_LUA = """
local capacity = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]); local updated = tonumber(state[2])
if tokens == nil then tokens = capacity; updated = now end
if now > updated then tokens = math.min(capacity, tokens + (now - updated) * rate); updated = now end
local allowed = 0; local wait = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(updated))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {allowed, wait}
"""

# KEYS[1]: the name's counter; ARGV: max_failures, base (s), cap (s), now (s). Returns 1 when it locks now.
_FAIL_LUA = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local result = 0
if failures >= tonumber(ARGV[1]) then
  local lockouts = redis.call('HINCRBY', KEYS[1], 'lockouts', 1)
  local duration = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (lockouts - 1))
  redis.call('HSET', KEYS[1], 'failures', 0, 'locked_until', tostring(tonumber(ARGV[4]) + duration))
  result = 1
end
redis.call('EXPIRE', KEYS[1], 172800)
return result
"""


class RedisThrottle:
    """Counters in Redis (``CITYCARBON_REDIS_URL``); each call is one atomic script on the server."""

    def __init__(self, url: str, limiter: RateLimiter, unknown: UnknownUserLockout, *,
                 prefix: str = "citycarbon:login:", client: object | None = None):
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.client = client
        self.limiter = limiter
        self.unknown = unknown
        self.prefix = prefix
        self._bucket = client.register_script(_BUCKET_LUA)  # type: ignore[attr-defined]
        self._fail = client.register_script(_FAIL_LUA)  # type: ignore[attr-defined]

    @staticmethod
    def _seconds(now: datetime) -> float:
        return now.astimezone(UTC).timestamp()

    def allow(self, key: str, now: datetime) -> tuple[bool, float]:
        ttl = max(60, math.ceil(self.limiter.capacity / self.limiter.rate) * 2)
        allowed, wait_ms = self._bucket(keys=[self.prefix + _key("rate", key)],
                                        args=[self.limiter.capacity, self.limiter.rate, self._seconds(now), ttl])
        return bool(allowed), int(wait_ms) / 1000.0

    def unknown_locked(self, username: str, now: datetime) -> bool:
        value = self.client.hget(self.prefix + _key("unknown", username), "locked_until")  # type: ignore[attr-defined]
        return value is not None and float(value) > self._seconds(now)

    def unknown_fail(self, username: str, now: datetime) -> bool:
        return bool(self._fail(keys=[self.prefix + _key("unknown", username)],
                               args=[self.unknown.max_failures, self.unknown.base.total_seconds(),
                                     self.unknown.cap.total_seconds(), self._seconds(now)]))


class FallbackThrottle:
    """Redis first; while Redis does not answer, the database (still one budget for every process; logged)."""

    def __init__(self, primary: Throttle, fallback: Throttle):
        self.primary = primary
        self.fallback = fallback

    def _try(self, method: str, *args: object) -> object:
        import redis

        try:
            return getattr(self.primary, method)(*args)
        except redis.exceptions.RedisError as error:
            log.warning("login throttle: Redis unavailable (%s); counting in the database", error)
            return getattr(self.fallback, method)(*args)

    def allow(self, key: str, now: datetime) -> tuple[bool, float]:
        return self._try("allow", key, now)  # type: ignore[return-value]

    def unknown_locked(self, username: str, now: datetime) -> bool:
        return bool(self._try("unknown_locked", username, now))

    def unknown_fail(self, username: str, now: datetime) -> bool:
        return bool(self._try("unknown_fail", username, now))

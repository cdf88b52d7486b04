"""Login throttling rules, and their in-memory form (pure; no DB): a token bucket per key, and lockouts for
unknown usernames.

:class:`RateLimiter` keeps one token bucket per key (the login uses ``client IP + username``): ``capacity``
attempts at once, refilled at ``rate`` per second (default 10 per minute). In memory it is per process; the
login itself counts in the database or Redis (:mod:`citycarbon.store.login_throttle`, which reads these
classes' parameters), so every worker process shares one budget. The in-memory form remains for tests and for
callers that pass a limiter explicitly.

:class:`UnknownUserLockout` mirrors the store's account lockout for usernames that do not exist, so that
"locked after 5 failures" happens for every username alike and a lockout reveals nothing.

Both are bounded: idle entries are dropped once more than ``max_keys`` are held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by string. ``allow(key)`` spends one token or refuses."""

    def __init__(self, capacity: int = 10, per_seconds: float = 60.0, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        if capacity < 1 or per_seconds <= 0:
            raise ValueError("a rate limiter needs capacity ≥ 1 and a positive period")
        self.capacity = float(capacity)
        self.rate = capacity / per_seconds  # tokens per second
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refill(self, bucket: _Bucket, now: float) -> None:
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now

    def allow(self, key: str) -> bool:
        """Spend one attempt for ``key``; False when its bucket is empty."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            else:
                self._refill(bucket, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True
            return False

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return 0.0
            self._refill(bucket, self._clock())
            return 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / self.rate

    def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._buckets.clear()
            else:
                self._buckets.pop(key, None)

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # still full of active keys: drop the oldest half
            for key, _ in sorted(self._buckets.items(), key=lambda kv: kv[1].updated)[: self.max_keys // 2]:
                del self._buckets[key]


def lockout_duration(lockouts: int, base: timedelta, cap: timedelta) -> timedelta:
    """How long the ``lockouts``-th lockout in a row lasts: ``base``, doubling each time, at most ``cap``."""
    return min(cap, base * (2 ** max(0, lockouts - 1)))


@dataclass
class _Failures:
    count: int = 0
    lockouts: int = 0
    locked_until: datetime | None = None


class UnknownUserLockout:
    """Failure counts and lockouts for usernames that do not exist (same rule as real accounts)."""

    def __init__(self, max_failures: int, base: timedelta, cap: timedelta, max_keys: int = 100_000):
        self.max_failures = max_failures
        self.base = base
        self.cap = cap
        self.max_keys = max_keys
        self._entries: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def locked(self, username: str, now: datetime) -> bool:
        with self._lock:
            entry = self._entries.get(username)
            return bool(entry and entry.locked_until and entry.locked_until > now)

    def fail(self, username: str, now: datetime) -> bool:
        """Count a failure; True when this failure starts a lockout."""
        with self._lock:
            if username not in self._entries and len(self._entries) >= self.max_keys:
                expired = [k for k, e in self._entries.items() if not e.locked_until or e.locked_until <= now]
                for key in expired[: max(1, len(expired))]:
                    del self._entries[key]
            entry = self._entries.setdefault(username, _Failures())
            entry.count += 1
            if entry.count >= self.max_failures:
                entry.count = 0
                entry.lockouts += 1
                entry.locked_until = now + lockout_duration(entry.lockouts, self.base, self.cap)
                return True
            return False

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

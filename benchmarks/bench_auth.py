"""Benchmark the per-request credential checks and the login (SQLite file database, fresh data directory).

Every API request resolves a bearer token (:func:`principal_for_token`) or a session cookie
(:func:`load_session`); the issue's budget is p95 ≤ 50 ms for whole requests, so these must cost far less.
Baseline in the same run: what a naive design costs per request, i.e. storing tokens as argon2 hashes like
passwords and verifying one per request. The login itself (argon2id with the shipped parameters) is timed
too; it is slow on purpose. Run: ``python benchmarks/bench_auth.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from citycarbon.auth import passwords
from citycarbon.settings import Settings
from citycarbon.store import users
from citycarbon.store.db import Database

REPEAT = 300
LOGINS = 10


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:7.3f} ms, p95 {p95 * 1000:7.3f} ms (n={len(ordered)})"


def _time(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as home:
        database = Database(Settings.for_home(Path(home)))
        database.upgrade()
        good = "蓝色海湾 tide-pool 2031"
        with database.session() as session:
            user, one_time = users.create_user(session, username="bench", role="district", regions=["210202"],
                                               actor="bench")
            users.change_password(session, user, one_time, good)
            token = users.issue_token(session, user, "read", "bench", actor="bench")
            for i in range(200):  # other tokens in the table, as in a used system
                users.issue_token(session, user, "read", f"other {i}", actor="bench")
            principal = users.authenticate(session, "bench", good, client="bench")
            session_id, _ = users.create_session(session, principal)

        def token_lookup() -> None:
            with database.session() as session:
                assert users.principal_for_token(session, token) is not None

        def session_lookup() -> None:
            with database.session() as session:
                assert users.load_session(session, session_id) is not None

        argon_token_hash = passwords.hash_password(token)

        def naive_token_check() -> None:  # baseline: a token stored like a password
            assert passwords.verify_password(argon_token_hash, token)

        def login() -> None:
            users.LOGIN_LIMITER.reset()
            with database.session() as session:
                users.authenticate(session, "bench", good, client="bench")

        token_lookup(), session_lookup()  # warm the connection pool
        print(f"bearer token → principal (sha256 + indexed lookup): {_ms(_time(token_lookup, REPEAT))}")
        print(f"session cookie → principal (sha256 + primary key):  {_ms(_time(session_lookup, REPEAT))}")
        print(f"baseline: argon2id verify of a token per request:    {_ms(_time(naive_token_check, 30))}")
        print(f"login (argon2id verify + bookkeeping):               {_ms(_time(login, LOGINS))}")
        database.dispose()


if __name__ == "__main__":
    main()

"""What the web-page benchmarks share (bench_web, bench_pathways_web, bench_monitoring_web): the machine line,
a percentile, and a freshly seeded SQLite home with an analyst's login session for TestClient requests.

The benchmarks run as scripts (``python benchmarks/bench_web.py``), so this module is imported from their folder.
"""

from __future__ import annotations

import os
import platform
import tempfile
from dataclasses import replace
from pathlib import Path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def print_machine() -> None:
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")


def fresh_settings(prefix: str):
    """Settings of a new temporary home (plain-HTTP cookies: TestClient talks to the app without TLS)."""
    from citycarbon.settings import Settings

    home = Path(tempfile.mkdtemp(prefix=prefix))
    return replace(Settings.for_home(home), cookie_secure=False)


def analyst_session(settings) -> tuple[object, str]:
    """Migrate and seed the home, log an analyst in; returns (database, session id for the ``cc_session`` cookie)."""
    from citycarbon.store import users
    from citycarbon.store.seed import ensure_ready

    db = ensure_ready(settings)
    with db.session() as session:
        analyst, _ = users.create_user(session, username="bench", role="analyst", actor="bench")
        session_id, _ = users.create_session(session, users.principal_for_user(analyst))
    return db, session_id

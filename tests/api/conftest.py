"""Fixtures of the API tests: the app over a seeded store (SQLite; PostgreSQL where a test says so) and a
population of users of every role with read and write tokens.

``api_env`` (module scope, SQLite) is shared by the tests of one module so results computed from the
ledger are computed once; tests that write get their own environment (``fresh_env``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.db_fixtures import *  # noqa: F403

with warnings.catch_warnings():
    # starlette's TestClient warns that httpx (pinned) should become httpx2; the client itself works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from citycarbon.settings import Settings

DISTRICT_A = "210202"  # 中山区
DISTRICT_B = "210203"  # 西岗区
NAMES = {DISTRICT_A: ("中山区", "Zhongshan"), DISTRICT_B: ("西岗区", "Xigang")}
#: (name, role, regions, enterprise) of the population every environment gets
PEOPLE = (
    ("admin", "admin", (), None),
    ("analyst", "analyst", (), None),
    ("district-a", "district", (DISTRICT_A,), None),
    ("district-b", "district", (DISTRICT_B,), None),
    ("enterprise-x", "enterprise", (), "91210200MA0XXXXXXU"),
    ("enterprise-y", "enterprise", (), "91210200MA0YYYYYY7"),
    ("viewer", "viewer", (), None),
)


@dataclass
class ApiEnv:
    """A running app (TestClient) over a seeded store, with tokens per (user, scope)."""

    client: TestClient
    settings: Settings
    db: object
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str, scope: str = "write") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(user, scope)]}"}

    def get(self, path: str, user: str = "admin", scope: str = "write", headers: dict | None = None, **kwargs):
        return self.client.get(path, headers={**self.headers(user, scope), **(headers or {})}, **kwargs)


def populate(db) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Create the population (A1b's store functions) and a read and a write token for each user."""
    from citycarbon.store import users

    tokens, passwords = {}, {}
    with db.session() as session:
        for name, role, regions, enterprise in PEOPLE:
            user, one_time = users.create_user(session, username=name, role=role, regions=regions,
                                               enterprise_id=enterprise, actor="test")
            passwords[name] = one_time
            for scope in ("read", "write"):
                if scope == "write" and role == "viewer":
                    continue
                tokens[(name, scope)] = users.issue_token(session, user, scope, f"{scope} token", actor="test")
    return tokens, passwords


def start(settings: Settings, db, *, seeded: bool = True) -> Iterator[ApiEnv]:
    from citycarbon.api.app import create_app

    settings = replace(settings, cookie_secure=False)
    tokens, passwords = populate(db)
    app = create_app(settings, prepare=not seeded, web=False, warm=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ApiEnv(client, settings, db, tokens, passwords)


def seeded_home(home: Path, factory: pytest.TempPathFactory) -> tuple[Settings, object]:
    """A data directory holding a copy of the session's seeded SQLite template (seeding once per session)."""
    import shutil

    from tests import db_fixtures

    template = db_fixtures._sqlite_template("seeded", factory, db_fixtures._seed)
    settings = Settings.for_home(home)
    settings.ensure_home()
    shutil.copyfile(template, settings.home / "citycarbon.db")
    from citycarbon.store.db import Database

    return settings, Database(settings)


@pytest.fixture(scope="module")
def api_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    settings, db = seeded_home(tmp_path_factory.mktemp("api-home"), tmp_path_factory)
    try:
        yield from start(settings, db)
    finally:
        db.dispose()


@pytest.fixture
def fresh_env(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    settings, db = seeded_home(tmp_path / "home", tmp_path_factory)
    try:
        yield from start(settings, db)
    finally:
        db.dispose()


@pytest.fixture
def backend_env(seeded_db) -> Iterator[ApiEnv]:
    """The app over ``seeded_db``: parametrised over SQLite and PostgreSQL (skipped where none answers)."""
    yield from start(seeded_db.settings, seeded_db)

"""Fixtures of the web tests: the real app (``create_app``) over a seeded SQLite store, users of every role and
a logged-in session per user (made with the store's ``create_session``; the login form itself is tested in
``test_login.py`` and the browser test).

``web_env`` (session scope) is for tests that only read; tests that write use ``fresh_web_env``.
"""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # starlette's TestClient warns that httpx (pinned) should become httpx2; the client itself works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from citycarbon.settings import Settings

DISTRICT_A = "210202"  # 中山区
DISTRICT_B = "210203"  # 西岗区
DISTRICT_NAMES = ("中山区", "西岗区", "沙河口区", "甘井子区", "旅顺口区", "金州区", "普兰店区", "长海县", "瓦房店市",
                  "庄河市", "Zhongshan District", "Xigang District", "Ganjingzi District")
PEOPLE = (
    ("admin", "admin", (), None),
    ("analyst", "analyst", (), None),
    ("district-a", "district", (DISTRICT_A,), None),
    ("district-b", "district", (DISTRICT_B,), None),
    ("enterprise-x", "enterprise", (), "91210200MA0XXXXXXU"),
    ("viewer", "viewer", (), None),
    ("dept-miit", "department", (), None),
)
#: the organisation each department user is bound to (issue 14)
DEPT_ORGS = {"dept-miit": "miit"}


@dataclass
class WebEnv:
    """The app under test with a login session (cookie value, CSRF token) per user."""

    client: TestClient
    settings: Settings
    db: object
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    def as_user(self, user: str | None) -> TestClient:
        self.client.cookies.clear()
        if user is not None:
            self.client.cookies.set("cc_session", self.sessions[user][0])
        return self.client

    def get(self, path: str, user: str | None = "admin", **kwargs):
        return self.as_user(user).get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, user: str | None = "admin", data: dict | None = None, csrf: bool = True, **kwargs):
        payload = dict(data or {})
        if csrf and user is not None:
            payload["csrf_token"] = self.sessions[user][1]
        return self.as_user(user).post(path, data=payload, follow_redirects=False, **kwargs)

    def csrf(self, user: str) -> str:
        return self.sessions[user][1]

    def new_session(self, user: str) -> None:
        """A fresh login session for ``user`` (a password change in an earlier test ends the old ones)."""
        from citycarbon.store import users

        with self.db.session() as session:
            self.sessions[user] = users.create_session(
                session, users.principal_for_user(users.require_user(session, user)))


def populate(db) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    from citycarbon.store import users

    sessions, passwords = {}, {}
    with db.session() as session:
        for name, role, regions, enterprise in PEOPLE:
            user, one_time = users.create_user(session, username=name, role=role, regions=regions,
                                               enterprise_id=enterprise, actor="test",
                                               org_code=DEPT_ORGS.get(name))
            passwords[name] = one_time
            sessions[name] = users.create_session(session, users.principal_for_user(user))
    return sessions, passwords


def governance_sample(db) -> None:
    """Two progress rounds (2026Q3 closed, 2026Q4 open) with filings, for the board and summary page tests
    (issue 14); a module's own environment (``fresh_web_env``), so other tests open their own rounds."""
    from sqlalchemy import select

    from citycarbon.store.governance_models import GovRound
    from tests.governance.summary_support import sample

    with db.session(write=True) as session:
        if session.scalars(select(GovRound.id).where(GovRound.city == "dalian",
                                                     GovRound.code == "2026Q4")).first() is None:
            sample(session, indicator=False)  # no audited registry write: the audit page stays as it was


HAS_API = importlib.util.find_spec("citycarbon.api.app") is not None
HAS_IMPORTS = importlib.util.find_spec("citycarbon.store.imports") is not None


def make_app(settings: Settings):
    """The platform app (``create_app``: API + pages over the ledger); a bare ``FastAPI()`` with the pages
    mounted over the shipped files where the API package is not installed."""
    if HAS_API:
        from citycarbon.api.app import create_app

        return create_app(settings, prepare=False, warm=False)
    from fastapi import FastAPI

    from citycarbon.web import mount

    app = FastAPI()
    mount(app, settings)
    return app


def seeded_database(home: Path, factory: pytest.TempPathFactory):
    """A store under ``home`` holding the seeded Dalian data: a copy of the session's seeded SQLite template
    (``tests.db_fixtures``, shared with the store and API tests), so seeding runs once per test session."""
    from citycarbon.store.db import Database
    from tests.db_fixtures import _seed, _sqlite_template

    template = _sqlite_template("seeded", factory, _seed)
    settings = replace(Settings.for_home(home), cookie_secure=False)
    settings.ensure_home()
    shutil.copyfile(template, home / "citycarbon.db")
    return settings, Database(settings)


def start(home: Path, factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    settings, db = seeded_database(home, factory)
    try:
        sessions, passwords = populate(db)
        app = make_app(settings)
        with TestClient(app, raise_server_exceptions=True) as client:
            yield WebEnv(client, settings, db, sessions, passwords)
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def web_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    yield from start(tmp_path_factory.mktemp("web-home"), tmp_path_factory)


@pytest.fixture(scope="module")
def fresh_web_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    yield from start(tmp_path_factory.mktemp("web-home-w"), tmp_path_factory)

"""The cockpit on the production backend: PostgreSQL (skipped with the reason where no server answers; the
SQLite variant is what the other web tests run)."""

from __future__ import annotations

import pytest

from tests.db_fixtures import *  # noqa: F403
from tests.web.conftest import HAS_API, TestClient, make_app

pytestmark = pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed")


def test_cockpit_and_districts_render_from_postgresql(seeded_db):
    if seeded_db.dialect == "sqlite":
        pytest.skip("SQLite is covered by every other web test")
    from dataclasses import replace

    from citycarbon.store import users

    settings = replace(seeded_db.settings, cookie_secure=False)
    with seeded_db.session() as session:
        user, _ = users.create_user(session, username="ganjingzi", role="district", regions=["210211"], actor="test")
        session_id, _ = users.create_session(session, users.principal_for_user(user))
    with TestClient(make_app(settings)) as client:
        client.cookies.set("cc_session", session_id)
        cockpit = client.get("/")
        assert cockpit.status_code == 200 and "驾驶舱" in cockpit.text
        districts = client.get("/districts")
        assert districts.status_code == 200
        assert "甘井子区" in districts.text and "中山区" not in districts.text

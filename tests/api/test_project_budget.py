"""API faces of the budget check and the pipeline (issue 15 item 4): ``GET /projects/{code}/budget`` and
``GET /projects/pipeline``; ``pipeline`` is not taken for a project code; scope by role."""

from __future__ import annotations

import pytest

from tests.projects.support import chemical_project, insert_project

DISTRICT_A = "210202"


@pytest.fixture(scope="module")
def env(api_env):
    api_env.code = insert_project(api_env.db, chemical_project(id="XM-2026-0801", region_code=DISTRICT_A),
                                  state="submitted", enterprise_id="91210200MA0XXXXXXU")
    return api_env


def test_budget_of_a_project(env):
    answer = env.get(f"/api/v1/projects/{env.code}/budget")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["project"]["code"] == env.code and data["years"] == [2025, 2030]
    assert data["district"]["region"] == DISTRICT_A and data["city"]["checks"][1]["counted"] is True
    assert data["contribution"]["dual_control_tce"]["unit"] == "tce"
    one = env.get(f"/api/v1/projects/{env.code}/budget?year=2030").json()["data"]
    assert one["years"] == [2030] and one["summary"]["year"] == 2030
    assert env.get(f"/api/v1/projects/{env.code}/budget?year=1800").status_code == 422


def test_budget_scope(env):
    for user in ("analyst", "district-a", "enterprise-x"):
        assert env.get(f"/api/v1/projects/{env.code}/budget", user=user, scope="read").status_code == 200, user
    for user in ("district-b", "enterprise-y"):
        assert env.get(f"/api/v1/projects/{env.code}/budget", user=user, scope="read").status_code == 404, user
    assert env.get(f"/api/v1/projects/{env.code}/budget", user="viewer", scope="read").status_code == 403
    assert env.get("/api/v1/projects/XM-2026-9999/budget").status_code == 404


def test_pipeline(env):
    answer = env.get("/api/v1/projects/pipeline?year=2030")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["year"] == 2030 and data["totals"]["projects"] >= 1
    row = next(r for r in data["regions"] if r["region"] == DISTRICT_A)
    assert row["pending_count"] >= 1 and row["pending_tce"] > 0
    mine = env.get("/api/v1/projects/pipeline", user="district-b", scope="read").json()["data"]
    assert [r["region"] for r in mine["regions"]] == ["210203"] and mine["totals"]["projects"] == 0
    assert env.get("/api/v1/projects/pipeline", user="viewer", scope="read").status_code == 200
    assert env.get("/api/v1/projects/pipeline", user="enterprise-x", scope="read").status_code == 403
    assert env.get("/api/v1/projects/pipeline?year=20250").status_code == 422


def test_pipeline_is_not_a_project_code(env):
    """Whatever module serves ``/projects/{code}``, ``/projects/pipeline`` is answered by this one (mounted
    first): its route comes before any ``/projects/{…}`` route of the app."""
    paths = [getattr(r, "path", "") for r in env.client.app.routes]
    flat = []
    for route in env.client.app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        flat.extend(getattr(r, "path", "") for r in (contexts() if contexts is not None else [route]))
    paths = [p for p in (flat or paths) if p.startswith("/api/v1/projects/")]
    assert "/api/v1/projects/pipeline" in paths
    first = paths.index("/api/v1/projects/pipeline")
    assert all(not p.startswith("/api/v1/projects/{") or p.count("/") > 4 for p in paths[:first])

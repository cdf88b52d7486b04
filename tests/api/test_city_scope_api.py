"""The city scope on the API (issue 14, gaps of issue 13): a token of a user scoped to another city than the
deployment's is refused (403) on the import, user, audit, pathway and monitoring routes, reads and writes; the
same caller is refused by the services themselves (``tests/services/test_city_scope.py``)."""

from __future__ import annotations

import pytest

STATS = b"year,region,variable,value,unit,price_base_year,status,source\n2022,210211,population,80.1,10^4 person,,,\n"


@pytest.fixture(scope="module")
def toy(api_env):
    from citycarbon.store import users

    with api_env.db.session() as session:
        user, _ = users.create_user(session, username="toy-api", role="admin", actor="test")
        user.city = "toyville"
        session.flush()
        token = users.issue_token(session, user, "write", "toy", actor="test")
    return api_env, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/api/v1/imports", "/api/v1/imports/1", "/api/v1/users", "/api/v1/audit",
                                  "/api/v1/pathways/levers", "/api/v1/pathways/scenarios",
                                  "/api/v1/monitoring/enterprises", "/api/v1/monitoring/submissions"])
def test_reads_refuse_a_token_of_another_city(toy, path):
    env, headers = toy
    answer = env.client.get(path, headers=headers)
    assert answer.status_code == 403, (path, answer.text)
    assert answer.json()["error"]["code"] == "forbidden"
    assert env.get(path).status_code in (200, 404)  # the deployment's office is served


def test_writes_refuse_a_token_of_another_city(toy):
    env, headers = toy
    upload = env.client.post("/api/v1/imports", headers=headers, files={"file": ("s.csv", STATS, "text/csv")},
                             data={"kind": "statistics"})
    assert upload.status_code == 403
    created = env.client.post("/api/v1/users", headers=headers, json={"username": "toy-two", "role": "viewer"})
    assert created.status_code == 403
    run = env.client.post("/api/v1/pathways/run", headers=headers, json={"scenario": "Plan"})
    assert run.status_code == 403
    assert env.get("/api/v1/users/toy-two").status_code == 404

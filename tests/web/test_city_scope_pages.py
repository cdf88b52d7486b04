"""The city scope on every web page (issue 14, gaps of issue 13): a user scoped to another city than the
deployment's gets the forbidden page on the imports, administration, pathways and monitoring pages — the rule is
the services' (import, user, audit, pathway and monitoring services), which these pages call."""

from __future__ import annotations

import pytest

TOY_USERS = {"toy-admin": ("admin", None), "toy-analyst": ("analyst", None),
             "toy-enterprise": ("enterprise", "91210200MA0XXXXXXU")}
STATS = b"year,region,variable,value,unit,price_base_year,status,source\n2022,210211,population,80.1,10^4 person,,,\n"


@pytest.fixture(scope="module")
def env(fresh_web_env):
    from citycarbon.store import users

    with fresh_web_env.db.session() as session:
        for name, (role, enterprise) in TOY_USERS.items():
            user, _ = users.create_user(session, username=name, role=role, enterprise_id=enterprise, actor="test")
            user.city = "toyville"
            session.flush()
            fresh_web_env.sessions[name] = users.create_session(session, users.principal_for_user(user))
    return fresh_web_env


@pytest.mark.parametrize("path", ["/imports", "/imports/1", "/admin/users", "/admin/audit", "/pathways",
                                  "/pathways/results", "/pathways/wedges", "/monitoring",
                                  "/monitoring/enterprises/91210200MA0XXXXXXU"])
@pytest.mark.parametrize("user", ["toy-admin", "toy-analyst"])
def test_pages_refuse_a_user_of_another_city(env, path, user):
    page = env.get(f"{path}?lang=zh_CN", user=user)
    if user == "toy-analyst" and path.startswith("/admin"):
        assert page.status_code == 403  # the role's refusal and the city's are the same page
        return
    assert page.status_code == 403, (path, page.status_code)
    assert "Toy" not in page.text and "甘井子区" not in page.text


def test_the_enterprise_page_refuses_another_citys_enterprise(env):
    assert env.get("/monitoring/mine", user="toy-enterprise").status_code == 403
    assert env.get("/monitoring/mine", user="enterprise-x").status_code == 200


def test_writes_refuse_a_user_of_another_city_and_store_nothing(env):
    from citycarbon.services import imports, users
    from citycarbon.services.users import cli_principal

    before = len(imports.list_batches(env.db, cli_principal("test")))
    client = env.as_user("toy-admin")
    upload = client.post("/imports", data={"csrf_token": env.csrf("toy-admin"), "kind": "statistics"},
                         files={"file": ("s.csv", STATS, "text/csv")}, follow_redirects=False)
    assert upload.status_code == 403
    assert len(imports.list_batches(env.db, cli_principal("test"))) == before
    for path in ("/imports/1/approve", "/imports/1/discard"):
        assert env.post(path, user="toy-admin", data={"reason": "x"}).status_code == 403, path
    created = env.post("/admin/users", user="toy-admin", data={"username": "toy-new", "role": "viewer"})
    assert created.status_code == 403
    assert "toy-new" not in {u.username for u in users.list_users(env.db, cli_principal("test"))}
    assert env.post("/admin/users/admin/reset-password", user="toy-admin").status_code == 403
    # the deployment's own office still works
    assert env.get("/imports").status_code == 200 and env.get("/admin/users").status_code == 200

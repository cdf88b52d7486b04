"""The office's pages of issue 13: target values (/targets/values) and cities (/admin/cities). The office sets a
value with its document and the cockpit and targets pages then name it; the pending targets say 待省政府下达
with a link; everyone else is refused; a user scoped to another city gets the forbidden page."""

from __future__ import annotations

from pathlib import Path

import pytest

TARGET = "co2_intensity_reduction_2025"
TOY_PLAN = Path(__file__).parents[1] / "fixtures" / "cities" / "toyville.yaml"
FORM = {"target_id": TARGET, "value": "18", "unit": "percent", "document": "辽政发〔2022〕99号",
        "date": "2022-04-02", "note": "测试"}


@pytest.fixture(scope="module")
def env(fresh_web_env):
    return fresh_web_env


def test_pending_targets_say_awaiting_the_province_with_a_link(env):
    page = env.get("/targets?lang=zh_CN")
    assert page.status_code == 200
    assert "待省政府下达" in page.text and 'href="/targets/values#v-' in page.text
    assert "--targets" not in page.text and "请用" not in page.text
    cockpit = env.get("/?lang=zh_CN")
    assert "待省政府下达" in cockpit.text


def test_only_the_office_sees_and_uses_the_form(env):
    assert 'action="/targets/values"' in env.get("/targets/values?lang=zh_CN").text
    viewer = env.get("/targets/values?lang=zh_CN", user="viewer")
    assert viewer.status_code == 200 and 'action="/targets/values"' not in viewer.text
    for user in ("viewer", "analyst", "district-a"):
        refused = env.post("/targets/values", user=user, data=FORM)
        assert refused.status_code == 403, user


def test_the_office_sets_a_value_and_the_pages_name_the_document(env):
    done = env.post("/targets/values", data=FORM)
    assert done.status_code == 200, done.text
    assert "辽政发〔2022〕99号" in done.text
    targets = env.get("/targets?lang=zh_CN").text
    assert "辽政发〔2022〕99号" in targets and "2022-04-02" in targets
    bad = env.post("/targets/values", data={**FORM, "unit": "kg"})
    assert bad.status_code == 422 and "unit" in bad.text


def test_cities_page_creates_a_city_for_the_deployment_admin(env):
    page = env.get("/admin/cities?lang=zh_CN")
    assert page.status_code == 200 and "新建城市" in page.text
    assert env.get("/admin/cities", user="analyst").status_code == 403
    created = env.as_user("admin").post(
        "/admin/cities", data={"code": "toyville", "csrf_token": env.csrf("admin")},
        files={"plan": ("toyville.yaml", TOY_PLAN.read_bytes(), "text/yaml")}, follow_redirects=False)
    assert created.status_code == 200, created.text
    assert "玩具市" in created.text and "尚无数据" in created.text
    broken = env.as_user("admin").post(
        "/admin/cities", data={"code": "broken", "csrf_token": env.csrf("admin")},
        files={"plan": ("broken.yaml", b"format_version: 1\n", "text/yaml")}, follow_redirects=False)
    assert broken.status_code == 422


def test_a_user_of_another_city_is_refused(env):
    from citycarbon.store import users

    with env.db.session() as session:
        user, _ = users.create_user(session, username="toy-web", role="admin", actor="test")
        user.city = "toyville"
        session.flush()
        env.sessions["toy-web"] = users.create_session(session, users.principal_for_user(user))
    assert env.get("/targets/values", user="toy-web").status_code == 403
    for page in ("/", "/targets", "/accounting"):  # Dalian's pages are not toyville's users'
        assert env.get(page, user="toy-web").status_code == 403, page
    assert env.post("/targets/values", user="toy-web", data=FORM).status_code == 403

"""The import page applies the import service's scope: a district user's file with another district's row is
refused with 422, the page names the row and the region, and nothing is stored (no batch, no audit row)."""

from __future__ import annotations

import pytest

from tests.web.conftest import DISTRICT_A, DISTRICT_B, HAS_IMPORTS

pytestmark = pytest.mark.skipif(not HAS_IMPORTS, reason="citycarbon.store.imports is not installed")
FILE = ("year,region,variable,value,unit,price_base_year,status,source\n"
        f"2023,{DISTRICT_A},population,39.6,10^4 person,,official,区统计局\n"
        f"2023,{DISTRICT_B},population,30.2,10^4 person,,official,区统计局\n")


def _stored(env) -> tuple[int, int]:
    from citycarbon.store import audit, imports

    with env.db.session() as session:
        return len(imports.list_batches(session, limit=100_000)), audit.count(session, entity="import_batch")


def _upload(env, user: str, lang: str = "zh_CN"):
    return env.as_user(user).post(f"/imports?lang={lang}", data={"csrf_token": env.csrf(user)},
                                  files={"file": ("population.csv", FILE.encode(), "text/csv")},
                                  follow_redirects=False)


def test_a_district_upload_with_another_districts_row_is_refused_and_nothing_stored(fresh_web_env):
    env = fresh_web_env
    env.new_session("district-a")
    before = _stored(env)
    zh = _upload(env, "district-a")
    assert zh.status_code == 422
    assert 'id="upload-problems"' in zh.text and f"地区 {DISTRICT_B} 不在您的辖区（{DISTRICT_A}）内" in zh.text
    # the file's row 3 (the header is row 1), the field, the region
    assert f'<td class="num">3</td><td>行政区划</td><td><code>{DISTRICT_B}</code></td>' in zh.text
    en = _upload(env, "district-a", "en")
    assert en.status_code == 422 and f"region {DISTRICT_B} is not one of yours ({DISTRICT_A})" in en.text
    assert _stored(env) == before
    env.new_session("analyst")  # a city-wide role uploads the same file: stored, awaiting approval
    accepted = _upload(env, "analyst")
    assert accepted.status_code == 303 and _stored(env) == (before[0] + 1, before[1] + 1)


def test_the_admin_cannot_approve_a_stored_district_batch_with_another_districts_row(fresh_web_env):
    """Issue 12's batch: stored by the old page, shown to the admin without a warning, approved into the ledger."""
    from citycarbon.store import imports, users

    env = fresh_web_env
    env.new_session("admin")
    with env.db.session() as session:
        uploader = users.principal_for_user(users.require_user(session, "district-a"))
        legacy = imports.create_batch(session, filename="legacy.csv", content=FILE.encode(), actor=uploader)
    answer = env.post(f"/imports/{legacy['id']}/approve", user="admin", data={"reason": "ok"})
    assert answer.status_code == 422
    assert f"第 3 行：地区 {DISTRICT_B} 不在上传者 district-a 的辖区（{DISTRICT_A}）内" in answer.text
    with env.db.session() as session:
        assert imports.get(session, legacy["id"])["status"] == "validated"

"""The enterprise's page lists its submissions from the store: every batch sent over HTTP (stored, nothing new,
refused whole) with its counts and the reason of each rejected row, zh_CN first and English; never another
enterprise's; 20 a page. Batches go through the real API with an enterprise ingest token."""

from __future__ import annotations

import json
import re

import pytest

from tests.monitoring.test_http import X, readings, write_registry

URL = "/api/v1/monitoring/readings"


@pytest.fixture(scope="module")
def sub_env(fresh_web_env):
    from citycarbon.store import users

    write_registry(fresh_web_env.db)
    with fresh_web_env.db.session() as session:
        tokens = {name: users.issue_token(session, users.require_user(session, name), "write", "gateway",
                                          actor="test") for name in ("enterprise-x", "admin")}
    fresh_web_env.tokens = tokens
    return fresh_web_env


def send(env, body, user: str = "enterprise-x", raw: bytes | None = None):
    client = env.as_user(None)
    return client.post(URL, headers={"Authorization": f"Bearer {env.tokens[user]}",
                                     "Content-Type": "application/json"},
                       content=raw if raw is not None else json.dumps(body))


def page(env, path: str = "/monitoring/mine", lang: str = "zh_CN"):
    response = env.get(f"{path}{'&' if '?' in path else '?'}lang={lang}", user="enterprise-x")
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_submissions_with_rejected_rows_and_refusals_in_chinese_and_english(sub_env):
    bad = {"point_id": "X-EL", "start": "2025-01-10T00:00:00", "end": "x", "value": 1, "unit": "kWh"}
    stored = send(sub_env, {"readings": [*readings("X-EL", 3), bad, *readings("Y-EL", 1)], "batch_id": "gw-stored"})
    assert stored.status_code == 200
    assert send(sub_env, {"readings": readings("X-EL", 3), "batch_id": "gw-again"}).status_code == 200
    assert send(sub_env, None, raw=b"{broken").status_code == 422
    other = send(sub_env, {"readings": readings("Y-EL", 2, first="2025-03-01T00:00:00+08:00"),
                           "batch_id": "office-for-Y"}, user="admin")
    assert other.status_code == 200 and other.json()["data"]["accepted"] == 2
    zh = page(sub_env)
    assert "本单位数据上传记录" in zh and "处理结果" in zh
    row = re.search(r'<tr id="submission-\d+"[^>]*><td>gw-stored</td>(.*?)</tr>', zh, re.S)
    assert row and "已入库" in row.group(1)
    assert [int(n) for n in re.findall(r'class="num">(\d+)<', row.group(1))] == [5, 3, 0, 0, 2]
    again = re.search(r'<tr id="submission-\d+"[^>]*><td>gw-again</td>(.*?)</tr>', zh, re.S)
    assert again and "无新增数据" in again.group(1)
    assert "整批拒收" in zh and "整批拒收原因" in zh and "body is not valid JSON" in zh
    assert "本批拒收的行" in zh
    assert f"point &#39;Y-EL&#39; is not a registered point of enterprise &#39;{X}&#39;" in zh
    assert "offset" in zh  # row 4: a start without its UTC offset
    assert "office-for-Y" not in zh  # the admin's batch of another enterprise's points
    en = page(sub_env, lang="en")
    assert "My submissions" in en and "Rejected rows of this submission" in en and "refused whole" in en
    assert "Why the batch was refused" in en and "Channel" in en


def test_only_the_first_rejected_rows_are_shown_with_the_api_for_the_rest(sub_env):
    rows = [{"point_id": f"NOPE-{i}", "start": "2025-01-10T00:00:00+08:00", "end": "2025-01-10T00:15:00+08:00",
             "value": 1, "unit": "kWh"} for i in range(30)]
    answer = send(sub_env, {"readings": rows, "batch_id": "gw-many-bad"})
    submission = answer.json()["meta"]["submission_id"]
    text = page(sub_env, lang="en")
    assert "Showing the first 20 of 30 rejected rows" in text
    assert f"/api/v1/monitoring/submissions/{submission}/rejections" in text
    assert "NOPE-19" in text and "NOPE-20" not in text


def test_submissions_are_paged(sub_env):
    for _ in range(22):
        send(sub_env, None, raw=b"[1]")
    first = page(sub_env, lang="en")
    assert len(re.findall(r'<tr id="submission-', first)) == 20
    assert "Older submissions" in first and 'href="/monitoring/mine?page=2"' in first
    second = page(sub_env, "/monitoring/mine?page=2", lang="en")
    assert "Newer submissions" in second and "gw-stored" in second
    assert len(re.findall(r'<tr id="submission-', second)) >= 6
    beyond = page(sub_env, "/monitoring/mine?page=99", lang="en")
    assert len(re.findall(r'<tr id="submission-', beyond)) == 0

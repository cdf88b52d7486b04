"""The rounds pages in the cockpit (TestClient over the real app): the office opens a round on the web, a
department files (with indicators and evidence) and submits, the office returns it, the department resubmits and
the office accepts; a stale form shows the stored state (409) and keeps what was typed; bad input is named in
Chinese; another unit's filing is 404; every page is Chinese with Chinese labels."""

from __future__ import annotations

import re

import pytest

from tests.governance.rounds_support import PDF, measure_with_indicators


@pytest.fixture(scope="module")
def env(fresh_web_env):
    fresh_web_env.measure = measure_with_indicators(fresh_web_env.db)
    return fresh_web_env


def _filing_id(page: str) -> int:
    found = re.search(r'href="/governance/filings/(\d+)"', page)
    assert found, page[:500]
    return int(found.group(1))


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def test_the_office_opens_a_round_and_a_department_files_it_through_review(env):
    answer = env.post("/governance/rounds", user="admin", data={
        "code": "2026Q4", "period": "quarterly", "deadline": "2027-01-10", "scope": "tasks", "tasks": "4",
        "co_units": "1", "districts": "1"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/governance/rounds/2026Q4")
    page = env.get("/governance/rounds/2026Q4?lang=zh_CN", user="admin").text
    assert "2026Q4 季度调度" in page and "牵头单位" in page and "未填报" in page and "关闭本轮调度" in page

    mine = env.get("/governance/my?lang=zh_CN", user="dept-miit")
    assert mine.status_code == 200 and "我的任务" in mine.text and "工业和信息化局" in mine.text
    assert "发展和改革" not in mine.text  # the co-unit drc's filings are not miit's
    filing_id = _filing_id(mine.text)
    form = env.get(f"/governance/filings/{filing_id}?lang=zh_CN", user="dept-miit").text
    assert "未启动" in form and "推进中" in form and "滞后" in form and "渔光互补光伏装机" in form and "MW" in form
    assert _version(form) == "0"

    saved = env.post(f"/governance/filings/{filing_id}", user="dept-miit", data={
        "version": "0", "status": "in_progress", "narrative": "项目已开工", "ind.pv_mw": "120.5", "action": "save"})
    assert saved.status_code == 303
    attached = env.post(f"/governance/filings/{filing_id}/attachments", user="dept-miit",
                        files={"file": ("批复.pdf", PDF, "application/pdf")})
    assert attached.status_code == 303
    page = env.get(f"/governance/filings/{filing_id}?lang=zh_CN", user="dept-miit").text
    download = re.search(r'href="(/api/v1/governance/attachments/\d+)" download>批复.pdf', page).group(1)
    got = env.get(download, user="dept-miit")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff" and "sandbox" in got.headers["content-security-policy"]
    assert env.get(download, user="district-b").status_code == 404

    submitted = env.post(f"/governance/filings/{filing_id}", user="dept-miit", data={
        "version": "1", "status": "in_progress", "narrative": "项目已开工", "ind.pv_mw": "120.5", "action": "submit"})
    assert submitted.status_code == 303
    review = env.get(f"/governance/filings/{filing_id}?lang=zh_CN", user="admin").text
    assert "退回修改" in review and _version(review) == "2"
    bare = env.post(f"/governance/filings/{filing_id}/review", user="admin", data={"version": "2",
                                                                               "decision": "return"})
    assert bare.status_code == 422 and "退回时须填写审核意见" in bare.text
    returned = env.post(f"/governance/filings/{filing_id}/review", user="admin", data={
        "version": "2", "decision": "return", "comment": "请补充装机容量的验收文件"})
    assert returned.status_code == 303
    page = env.get(f"/governance/filings/{filing_id}?lang=zh_CN", user="dept-miit").text
    assert "请补充装机容量的验收文件" in page and "已退回" in page
    again = env.post(f"/governance/filings/{filing_id}", user="dept-miit", data={
        "version": "3", "status": "completed", "narrative": "已验收", "ind.pv_mw": "150", "action": "submit"})
    assert again.status_code == 303
    accepted = env.post(f"/governance/filings/{filing_id}/review", user="admin", data={
        "version": "4", "decision": "accept"})
    assert accepted.status_code == 303
    page = env.get(f"/governance/filings/{filing_id}?lang=zh_CN", user="dept-miit").text
    assert "已通过" in page and page.count("<tr><td class=\"num\">") == 5  # five versions in the history


def test_a_stale_form_shows_the_stored_state_and_keeps_what_was_typed(env):
    env.post("/governance/rounds", user="admin", data={"code": "2026-11", "period": "monthly",
                                                       "deadline": "2026-12-05", "scope": "tasks", "tasks": "4"})
    mine = env.get("/governance/my", user="dept-miit").text
    filing_id = int(re.search(r'<td>2026-11</td>.*?href="/governance/filings/(\d+)"', mine, re.S).group(1))
    first = env.post(f"/governance/filings/{filing_id}", user="dept-miit", data={
        "version": "0", "status": "in_progress", "narrative": "同事先保存的内容", "action": "save"})
    assert first.status_code == 303
    stale = env.post(f"/governance/filings/{filing_id}?lang=zh_CN", user="dept-miit", data={
        "version": "0", "status": "completed", "narrative": "我后来写的内容", "action": "save"})
    assert stale.status_code == 409
    assert "填报已被他人修改" in stale.text and "同事先保存的内容" in stale.text and "我后来写的内容" in stale.text
    assert _version(stale.text) == "1"  # the form now names the stored version


@pytest.mark.parametrize(("data", "named"), [
    ({"status": "done"}, "未知的推进状态"),
    ({"status": "in_progress", "ind.pv_mw": "很多"}, "必须是以 MW 计的有限数值"),
    ({"status": "in_progress", "ind.wind_mw": "3"}, "未知指标"),
    ({"status": "lagging"}, "状态为滞后时须填写滞后原因"),
])
def test_bad_filings_are_named_in_chinese_and_nothing_is_saved(env, data, named):
    mine = env.get("/governance/my", user="dept-miit").text
    filing_id = int(re.search(r'<td>2026-11</td>.*?href="/governance/filings/(\d+)"', mine, re.S).group(1))
    version = _version(env.get(f"/governance/filings/{filing_id}", user="dept-miit").text)
    answer = env.post(f"/governance/filings/{filing_id}?lang=zh_CN", user="dept-miit",
                      data={"version": version, "action": "save", **data})
    assert answer.status_code == 422 and named in answer.text and "未保存任何内容" in answer.text
    assert _version(env.get(f"/governance/filings/{filing_id}", user="dept-miit").text) == version


def test_a_wrong_file_type_is_named(env):
    mine = env.get("/governance/my", user="dept-miit").text
    filing_id = int(re.search(r'<td>2026-11</td>.*?href="/governance/filings/(\d+)"', mine, re.S).group(1))
    answer = env.post(f"/governance/filings/{filing_id}/attachments?lang=zh_CN", user="dept-miit",
                      files={"file": ("script.html", b"<script>alert(1)</script>", "application/pdf")})
    assert answer.status_code == 422 and "script.html" in answer.text and "不是 PDF" in answer.text


def test_another_unit_gets_404_and_viewers_get_the_aggregate(env):
    mine = env.get("/governance/my", user="dept-miit").text
    filing_id = _filing_id(mine)
    for user in ("district-b", "viewer", "enterprise-x"):
        assert env.get(f"/governance/filings/{filing_id}", user=user).status_code == 404
        assert env.post(f"/governance/filings/{filing_id}", user=user, data={
            "version": "0", "status": "completed", "action": "save"}).status_code == 404
    viewer = env.get("/governance/rounds/2026Q4?lang=zh_CN", user="viewer")
    assert viewer.status_code == 200 and "应填报" in viewer.text and "/governance/filings/" not in viewer.text
    district = env.get("/governance/my?lang=zh_CN", user="district-a").text
    assert "中山区" in district  # d210202 was given the measure as its district
    assert env.post("/governance/rounds", user="dept-miit", data={
        "code": "2027Q1", "period": "quarterly", "deadline": "2027-04-10"}).status_code == 403
    assert env.post("/governance/rounds/2026Q4/close", user="analyst").status_code == 403


def test_closing_refuses_further_filings(env):
    assert env.post("/governance/rounds/2026-11/close", user="admin").status_code == 303
    page = env.get("/governance/rounds/2026-11?lang=zh_CN", user="admin").text
    assert "已关闭" in page
    again = env.post("/governance/rounds/2026-11/close?lang=zh_CN", user="admin")
    assert again.status_code == 409 and "已关闭" in again.text

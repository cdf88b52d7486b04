"""The assessment board's pages (issue 16 item 5, web): the ranking (SVG bars and the table), a unit's breakdown,
the office's run / adjust / publish forms, the units' objections and the office's answers, per role, in zh_CN and
en; forms refused without the CSRF token; unknown and huge ids answer the 404 page.

The run uses the hand-worked scheme of ``tests/assessment/runs_support.py`` (fake collectors). The web's store
holds more than one statistics row, so d1's fact a is 0.9: 中山区 (d1) a 0.9 × 60 = 54.00, b 20, q 15 (default),
p −2 → 87.00 良好; 西岗区 (d2) 45.00 不合格 estimate; 高新区 (z1) 75.00 vetoed → 不合格, ranked last. Setting the
qualitative item q to 18 of 20 makes d1 90.00 优秀. The registry's real districts are scored too (no facts: the
qualitative default 15 only, 数据不全).
"""

from __future__ import annotations

import re

import pytest

from tests.web.test_i18n_pages import HAN, problems_in, visible_text

HUGE = "99999999999999999999999"


@pytest.fixture(scope="module")
def assess_env(fresh_web_env):
    from tests.assessment.runs_support import fake_collectors, prepared

    prepared(fresh_web_env.db)
    with fake_collectors():
        response = fresh_web_env.post("/assessment/run", data={"year": "2024", "scheme": "handtest"})
        assert response.status_code == 303, response.text[-500:]
        match = re.search(r"run=(\d+)", response.headers["location"])
        assert match, response.headers["location"]
        fresh_web_env.assess_run = int(match.group(1))
        yield fresh_web_env


def _chinese_only(html: str) -> list[str]:
    return [p for text in visible_text(html) for p in problems_in(text)]


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-unit="([^"]+)"', html)


def test_the_office_sees_the_ranking_as_bars_and_as_a_table(assess_env):
    run = assess_env.assess_run
    page = assess_env.get(f"/assessment?run={run}&lang=zh_CN")
    assert page.status_code == 200
    html = page.text
    rows = _rows(html)  # the test units and the registry's districts (no facts for those: 15 points)
    assert rows[:2] == ["d1", "d2"] and rows[-1] == "z1" and len(rows) > 3  # vetoed units rank last
    assert html.count('class="assess-bar"') == len(rows) and "<svg" in html
    for text in ("中山区", "87.00", "良好", "45.00", "不合格", "估算", "数据不全", "一票否决", "草稿", "异议截止"):
        assert text in html, text
    # a bar's width is its share of 100 points on the 420-unit axis (87.00 → 365.4)
    assert 'width="365.4"' in html
    assert "发布考核结果" in html and 'id="run-form"' in html
    assert not _chinese_only(html)
    en = assess_env.get(f"/assessment?run={run}&lang=en").text
    assert "Assessment board" in en and "Ranking by total score" in en and "Veto" in en


def test_each_role_sees_what_the_service_allows(assess_env):
    run = assess_env.assess_run
    own = assess_env.get(f"/assessment?run={run}", user="district-a")
    assert own.status_code == 200 and set(_rows(own.text)) == {"d1", "d210202"}  # 中山区's own draft rows only
    assert "西岗区" not in own.text and 'id="run-form"' not in own.text and 'id="publish-form"' not in own.text
    assert assess_env.get(f"/assessment?run={run}", user="viewer").status_code == 404  # a draft: not published
    assert "尚无您可查看" in assess_env.get("/assessment?year=2024&scheme=handtest", user="viewer").text
    assert assess_env.get("/assessment", user="enterprise-x").status_code == 403
    assert assess_env.get(f"/assessment/{run}/d1", user="enterprise-x").status_code == 403
    assert assess_env.get(f"/assessment/{run}/d2", user="district-a").status_code == 404  # another unit's draft
    analyst = assess_env.get(f"/assessment?run={run}", user="analyst")
    assert _rows(analyst.text)[:2] == ["d1", "d2"] and 'id="run-form"' not in analyst.text


def test_a_units_breakdown_shows_every_item_with_its_evidence(assess_env):
    run = assess_env.assess_run
    page = assess_env.get(f"/assessment/{run}/d1?lang=zh_CN")
    assert page.status_code == 200
    html = page.text
    for text in ("指标甲", "54.00 / 60", "按线性插值", "组织领导", "15.00 / 20", "定性指标，由办公室评定",
                 "统计数据", "数据版本", "扣分项", "-2.00"):
        assert text in html, text
    assert 'id="adjust-form"' in html and 'name="version"' in html
    assert not _chinese_only(html)
    assert "Score breakdown" in assess_env.get(f"/assessment/{run}/d1?lang=en").text
    mine = assess_env.get(f"/assessment/{run}/d1", user="district-a").text
    assert 'id="object-form"' in mine and 'id="adjust-form"' not in mine


def test_forms_are_refused_without_the_csrf_token(assess_env):
    run = assess_env.assess_run
    before = assess_env.get(f"/assessment/{run}/d1").text
    answer = assess_env.post(f"/assessment/{run}/d1/adjust", csrf=False,
                             data={"indicator": "q", "points": "19", "reason": "无令牌", "version": "1"})
    assert answer.status_code == 403
    rerun = assess_env.post("/assessment/run", csrf=False, data={"year": "2024", "scheme": "handtest"})
    assert rerun.status_code == 403
    assert assess_env.post(f"/assessment/{run}/publish", csrf=False, data={"version": "1"}).status_code == 403
    assert assess_env.get(f"/assessment/{run}/d1").text.count("无令牌") == before.count("无令牌") == 0


def test_unknown_and_huge_ids_answer_the_404_page(assess_env):
    run = assess_env.assess_run
    for url in (f"/assessment/{run + 1000}/d1", f"/assessment/{run}/nope", f"/assessment?run={HUGE}",
                f"/assessment/{HUGE}/d1", "/assessment/0/d1", "/assessment?run=abc"):
        page = assess_env.get(url)
        assert page.status_code == 404 and "未找到" in page.text, url
    for url in (f"/assessment/{run + 1000}/publish", f"/assessment/{HUGE}/d1/adjust",
                f"/assessment/{run}/objections/{HUGE}/answer", f"/assessment/{run}/objections/99999/answer"):
        page = assess_env.post(url, data={"version": "1", "decision": "rejected", "answer": "x"})
        assert page.status_code == 404, (url, page.status_code)


def test_adjust_object_answer_and_publish(assess_env):
    run = assess_env.assess_run
    # bad input re-shows the page with the problem, in Chinese, and writes nothing
    page = assess_env.get(f"/assessment/{run}/d1").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    bad = assess_env.post(f"/assessment/{run}/d1/adjust",
                          data={"indicator": "q", "points": "18", "reason": "", "version": version})
    assert bad.status_code == 422 and HAN.search(bad.text) and "未保存" in bad.text
    reason = "组织领导有力，台账完整"
    done = assess_env.post(f"/assessment/{run}/d1/adjust",
                           data={"indicator": "q", "points": "18", "reason": reason, "version": version})
    assert done.status_code == 303, done.text[-400:]
    page = assess_env.get(done.headers["location"]).text
    assert 'id="unit-total">90.00<' in page and "优秀" in page and "组织领导有力，台账完整" in page
    assert "已调整该指标" in page
    stale = assess_env.post(f"/assessment/{run}/d1/adjust",
                            data={"indicator": "q", "points": "17", "reason": "旧版本", "version": version})
    assert stale.status_code == 409 and "旧版本" not in assess_env.get(f"/assessment/{run}/d1").text

    # the unit objects within the period; the office answers
    filed = assess_env.post(f"/assessment/{run}/d1/object", user="district-a",
                            data={"text": "指标乙数据有误，请核实", "indicator": "b"})
    assert filed.status_code == 303
    page = assess_env.get(f"/assessment/{run}/d1").text
    assert "指标乙数据有误" in page and "待答复" in page
    objection = re.search(r'/assessment/\d+/objections/(\d+)/answer', page).group(1)
    assert assess_env.post(f"/assessment/{run}/d2/object", user="district-a",
                           data={"text": "不属于本单位"}).status_code == 404
    # publication waits for open objections
    version = re.search(r'id="publish-form".*?name="version" value="(\d+)"',
                        assess_env.get(f"/assessment?run={run}").text, re.S).group(1)
    refused = assess_env.post(f"/assessment/{run}/publish", data={"version": version, "note": "提前", "early": "1"})
    assert refused.status_code == 409 and "未保存" in refused.text
    answered = assess_env.post(f"/assessment/{run}/objections/{objection}/answer",
                               data={"unit_code": "d1", "decision": "rejected", "answer": "经核实数据无误"})
    assert answered.status_code == 303
    assert "经核实数据无误" in assess_env.get(f"/assessment/{run}/d1").text

    # published: frozen, and the board is open to every role but enterprise users
    version = re.search(r'id="publish-form".*?name="version" value="(\d+)"',
                        assess_env.get(f"/assessment?run={run}").text, re.S).group(1)
    published = assess_env.post(f"/assessment/{run}/publish",
                                data={"version": version, "note": "经领导小组审定提前发布", "early": "1"})
    assert published.status_code == 303, published.text[-400:]
    board = assess_env.get(published.headers["location"]).text
    assert "已发布" in board and "考核结果已发布" in board and 'id="publish-form"' not in board
    viewer = assess_env.get(f"/assessment?run={run}", user="viewer")
    assert viewer.status_code == 200 and _rows(viewer.text)[0] == "d1" and "90.00" in viewer.text
    assert not _chinese_only(viewer.text)
    assert _rows(assess_env.get("/assessment?year=2024&scheme=handtest", user="dept-miit").text)[:2] == ["d1", "d2"]

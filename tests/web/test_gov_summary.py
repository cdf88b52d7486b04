"""The office's board at /governance and the round summary page, for every role (scope, Chinese text, the
heat map's data block for the chart script), in both languages."""

from __future__ import annotations

import json
import re

import pytest

DATA = re.compile(r'<script type="application/json" id="gov-heatmap-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def web_env(fresh_web_env):
    """This module's environment, holding the summary's sample rounds (2026Q3, 2026Q4)."""
    from tests.web.conftest import governance_sample

    governance_sample(fresh_web_env.db)
    return fresh_web_env


def heatmap(html: str) -> dict:
    found = DATA.search(html)
    assert found, "no heat-map data block"
    return json.loads(found.group(1))


def test_office_board(web_env):
    page = web_env.get("/governance?lang=zh_CN", user="admin")
    assert page.status_code == 200
    html = page.text
    assert "规划实施调度总览" in html and "进行中的调度" in html and "逾期未报送" in html
    spec = heatmap(html)
    assert len(spec["tasks"]) == 31 and spec["tasks"][4] == "第5项"
    assert spec["levels"] == ["已完成", "推进中", "待报送", "未启动", "滞后", "逾期未报"]
    assert {"市工业和信息化局", "市生态环境局", "中山区"} <= set(spec["units"])
    assert 'src="/static/js/gov_board.js' in html or "js/gov_board.js" in html
    for link in ("/governance/orgs", "/governance/matrix", "/governance/plans", "/governance/rounds",
                 "/governance/supervision", "/governance/inbox", "/governance/rounds/2026Q4/summary"):
        assert f'href="{link}"' in html
    assert "/api/v1/governance/reports/eco/" in html  # the office may download every unit's report


@pytest.mark.parametrize("user, own, other", [("dept-miit", "市工业和信息化局", "市生态环境局"),
                                               ("district-a", "中山区", "市工业和信息化局")])
def test_a_unit_sees_its_own_board(web_env, user, own, other):
    html = web_env.get("/governance?lang=zh_CN", user=user).text
    spec = heatmap(html)
    assert spec["units"] == [own]
    assert 'href="/governance/my"' in html and "我的措施" in html
    assert other not in html.split('id="gov-heat-title"')[1]
    assert "全市：已报送/应报送" in html
    assert "/api/v1/governance/reports/eco/" not in html


def test_viewer_sees_the_city_aggregate_only(web_env):
    html = web_env.get("/governance?lang=zh_CN", user="viewer").text
    assert "gov-heatmap-data" not in html and "市工业和信息化局" not in html
    assert "重点任务：各状态单位数" in html and "第31项" in html
    assert web_env.get("/governance", user="enterprise-x").status_code == 403


def test_round_summary_page(web_env):
    html = web_env.get("/governance/rounds/2026Q4/summary?lang=zh_CN", user="analyst").text
    assert "2026年第四季度碳达峰碳中和工作调度情况" in html and "用地审批未完成" in html
    assert "?format=xlsx" in html and "?format=docx" in html
    mine = web_env.get("/governance/rounds/2026Q4/summary?lang=zh_CN", user="dept-miit").text
    assert "本轮调度中本单位承担的部分" in mine and "用地审批未完成" not in mine and "?format=xlsx" not in mine
    english = web_env.get("/governance/rounds/2026Q4/summary?lang=en", user="admin").text
    assert "Units by on-time rate" in english and "Bureau of Ecology and Environment" in english
    assert web_env.get("/governance/rounds/1999Q1/summary", user="admin").status_code == 404
    assert web_env.get("/governance/rounds/2026Q4/summary", user=None).status_code in (302, 303, 307)

"""``/governance/plans`` ("1+N", issue 14 item 3): the office uploads the illustrative district and energy-sector
plans, the page shows them as a tree under the city plan with the consistency report in Chinese (numbers and
units), a bad file re-shows the page naming line and field, others read but cannot write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.test_i18n_pages import problems_in, visible_text

FIXTURES = Path(__file__).parents[1] / "fixtures" / "subplans"


@pytest.fixture(scope="module")
def env(fresh_web_env):
    return fresh_web_env


def _upload(env, name: str, user: str = "admin", content: bytes | None = None):
    data = content if content is not None else (FIXTURES / f"{name}.yaml").read_bytes()
    return env.post("/governance/plans", user=user, data={"reason": "示例"},
                    files={"file": (f"{name}.yaml", data, "application/yaml")})


def test_the_office_uploads_plans_and_reads_the_report_in_chinese(env):
    empty = env.get("/governance/plans?lang=zh_CN")
    assert empty.status_code == 200 and "尚未登记行业领域或区市县实施方案" in empty.text
    assert 'action="/governance/plans"' in empty.text
    for name in ("zhuanghe", "energy"):
        done = _upload(env, name)
        assert done.status_code == 200, done.text
        assert "实施方案已登记" in done.text
    page = env.get("/governance/plans?lang=zh_CN")
    text = page.text
    assert "庄河市碳达峰实施方案（示例）" in text and "能源领域碳达峰实施方案（示例）" in text
    assert "区市县方案" in text and "行业和领域方案" in text and "庄河市人民政府" in text
    # the report: 3.5 GW against the plan's 8 000 MW, short 4 500 MW
    assert "分解目标之和低于全市目标" in text and "8,000" in text and "3,500" in text and "-4,500" in text
    assert "3.5 GW" in text or "3.5 GW" in text.replace("\u00a0", " ")
    assert "措施无实施方案承接" in text and "措施时限晚于全市" in text
    found = [p for part in visible_text(text) for p in problems_in(part)]
    assert found == [], found
    detail = env.get("/governance/plans/zhuanghe_2030?lang=zh_CN")
    assert detail.status_code == 200 and "T10-M02" in detail.text and "2028-12-31" in detail.text
    assert [p for part in visible_text(detail.text) for p in problems_in(part)] == []


def test_a_bad_file_names_line_and_field_and_stores_nothing(env):
    bad = (FIXTURES / "zhuanghe.yaml").read_text("utf-8").replace("org: d210283", "org: d210299")
    refused = _upload(env, "bad", content=bad.replace("zhuanghe_2030", "bad_plan").encode())
    assert refused.status_code == 422
    assert "第 8 行" in refused.text and "meta.org" in refused.text and "不在单位名录中" in refused.text
    assert "bad_plan" not in env.get("/governance/plans?lang=zh_CN").text
    nothing = env.post("/governance/plans", data={"reason": ""})
    assert nothing.status_code == 422 and "请选择方案文件" in nothing.text


def test_others_read_but_cannot_write(env):
    for user in ("viewer", "analyst", "district-a", "dept-miit"):
        page = env.get("/governance/plans?lang=zh_CN", user=user)
        assert page.status_code == 200, user
        assert 'action="/governance/plans"' not in page.text and "撤回" not in page.text
        assert _upload(env, "zhuanghe", user=user).status_code == 403
        assert env.post("/governance/plans/zhuanghe_2030/withdraw", user=user).status_code == 403
    assert env.post("/governance/plans/zhuanghe_2030/withdraw", user="admin", csrf=False).status_code == 403


def test_the_office_withdraws_and_the_english_page(env):
    _upload(env, "zhuanghe")
    done = env.post("/governance/plans/zhuanghe_2030/withdraw")
    assert done.status_code == 200 and ("实施方案已撤回" in done.text or "The plan was withdrawn" in done.text)
    assert env.get("/governance/plans/zhuanghe_2030").status_code == 404
    english = env.get("/governance/plans?lang=en")
    assert "Implementation plans (1+N)" in english.text and "Sector plan" in english.text

"""The budget-check page, the pipeline page and the budget summary partial (issue 15 item 4 and the pipeline chart
of item 7): figures as the service computes them, Chinese first, scope by role, the chart's data block."""

from __future__ import annotations

import json
import re

import pytest

from citycarbon.services.projects import budget
from citycarbon.web.i18n import Formatter
from tests.projects.support import OFFICE, chemical_project, insert_project

DISTRICT_A = "210202"
CODE = "XM-2026-0701"


@pytest.fixture(scope="module")
def env(fresh_web_env):
    insert_project(fresh_web_env.db, chemical_project(id=CODE, region_code=DISTRICT_A), state="approved",
                   enterprise_id="91210200MA0XXXXXXU")
    return fresh_web_env


def test_budget_page(env):
    page = env.get(f"/projects/{CODE}/budget?lang=zh_CN")
    assert page.status_code == 200, page.text[:500]
    assert "能耗预算测算" in page.text and "中山区" in page.text and "能源消费总量（双控口径）" in page.text
    assert page.text.count('class="data budget-table"') == 2  # the city and the district
    found = budget.budget_check(env.db, OFFICE, "dalian", CODE)
    change = found["city"]["checks"][1]["delta"]["energy_tce"]["value"]
    assert f"{change:,.0f} tce" in page.text  # the 2030 change, as the service computes it
    assert "假设：申报年份加2年（估计）" in page.text
    english = env.get(f"/projects/{CODE}/budget?lang=en")
    assert "Budget check" in english.text and "Zhongshan District" in english.text


def test_budget_page_scope(env):
    for user in ("analyst", "district-a", "enterprise-x", "dept-miit"):
        assert env.get(f"/projects/{CODE}/budget", user=user).status_code == 200, user
    assert env.get(f"/projects/{CODE}/budget", user="district-b").status_code == 404
    assert env.get(f"/projects/{CODE}/budget", user="viewer").status_code == 403
    assert env.get("/projects/XM-2026-9999/budget").status_code == 404
    assert env.get(f"/projects/{CODE}/budget", user=None).status_code in (302, 303, 307)


def test_pipeline_page_and_chart(env):
    page = env.get("/projects/pipeline?year=2030&lang=zh_CN")
    assert page.status_code == 200, page.text[:500]
    assert "项目管线" in page.text and "扣除已批准和在审项目后的剩余空间" in page.text
    block = re.search(r'<script type="application/json" id="project-pipeline-data">(.*?)</script>', page.text, re.S)
    spec = json.loads(block.group(1))
    assert len(spec["categories"]) == 10 and spec["labels"]["approved"] == "已批准"
    i = spec["categories"].index("中山区")
    found = budget.pipeline(env.db, OFFICE, "dalian", year=2030)
    row = next(r for r in found["regions"] if r["region"] == DISTRICT_A)
    assert spec["approved"][i] == pytest.approx(row["approved_tce"] / 1e4, abs=1e-4) and spec["approved"][i] > 0
    assert 'src="/static/js/project_pipeline.js' in page.text or "project_pipeline.js" in page.text
    assert env.get("/projects/pipeline", user="district-a").status_code == 200
    assert env.get("/projects/pipeline", user="viewer").status_code == 200
    assert env.get("/projects/pipeline", user="enterprise-x").status_code == 403


def test_budget_summary_partial(env):
    jinja = env.client.app.state.web.envs["zh_CN"]
    template = jinja.get_template("projects/_budget_summary.html")
    assert template.render(fmt=Formatter("zh_CN")).strip() == ""
    found = budget.budget_check(env.db, OFFICE, "dalian", CODE)
    html = template.render(fmt=Formatter("zh_CN"), budget=found)
    assert "对能耗强度目标的影响" in html and f"/projects/{CODE}/budget" in html
    assert "当年不计入" in html  # 2025: the project is counted from 2028

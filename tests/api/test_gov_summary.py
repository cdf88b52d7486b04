"""API faces of the governance summary: the board, the round summary (JSON, XLSX, DOCX), unit reports; scope by
role (a department sees only its own unit; another unit's report is 404; downloads are the office's)."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.governance.summary_support import sample

TODAY = "2027-01-15"


@pytest.fixture(scope="module")
def env(api_env):
    from citycarbon.store import users

    with api_env.db.session(write=True) as session:
        sample(session)
        for name, org in (("dept-miit", "miit"), ("dept-eco", "eco")):
            user, _ = users.create_user(session, username=name, role="department", actor="test", org_code=org)
            api_env.tokens[(name, "read")] = users.issue_token(session, user, "read", "read token", actor="test")
    return api_env


def test_board_as_the_office_and_as_units(env):
    answer = env.get(f"/api/v1/governance/board?today={TODAY}")
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["scope"] == "city" and len(data["tasks"]) == 31
    assert {(c["task"], c["org"], c["level"]) for c in data["cells"]} >= {(5, "miit", "overdue"),
                                                                          (7, "miit", "lagging")}
    assert data["progress"][0]["late"] == 3 and data["overdue"][0]["org_name"] == "市工业和信息化局"
    mine = env.get(f"/api/v1/governance/board?today={TODAY}", user="dept-miit", scope="read").json()["data"]
    assert {c["org"] for c in mine["cells"]} == {"miit"} and mine["own"] == ["miit"]
    viewer = env.get(f"/api/v1/governance/board?today={TODAY}", user="viewer", scope="read").json()["data"]
    assert viewer["cells"] == [] and viewer["overdue"] == [] and viewer["city_progress"][0]["assigned"] == 5
    assert env.get("/api/v1/governance/board", user="enterprise-x").status_code == 403


def test_round_summary_json_and_downloads(env):
    data = env.get(f"/api/v1/governance/rounds/2026Q4/summary?today={TODAY}").json()["data"]
    assert data["on_time_rate"] == 0.4 and data["by_status"]["not_filed"] == 2
    xlsx = env.get(f"/api/v1/governance/rounds/2026Q4/summary?format=xlsx&today={TODAY}", user="analyst")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == ["概况", "措施进展", "单位按时率", "滞后措施",
                                                                    "指标对照"]
    docx = env.get(f"/api/v1/governance/rounds/2026Q4/summary?format=docx&today={TODAY}")
    assert docx.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "2026年第四季度碳达峰碳中和工作调度情况" in text
    assert env.get("/api/v1/governance/rounds/2026Q4/summary?format=xlsx", user="dept-miit",
                   scope="read").status_code == 403
    own = env.get("/api/v1/governance/rounds/2026Q4/summary", user="dept-eco", scope="read").json()["data"]
    assert own["assigned"] == 2 and {u["org"] for u in own["units"]} == {"eco"}
    missing = env.get("/api/v1/governance/rounds/1999Q1/summary")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_unit_reports_and_their_scope(env):
    data = env.get("/api/v1/governance/reports/miit/2026", user="dept-miit", scope="read").json()["data"]
    assert data["title_zh"] == "大连市工业和信息化局2026年碳达峰碳中和工作贯彻落实情况报告"
    assert data["on_time_rate"] == 0.75
    docx = env.get("/api/v1/governance/reports/miit/2026?format=docx", user="dept-miit", scope="read")
    assert docx.status_code == 200
    assert "贯彻落实情况报告" in "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert env.get("/api/v1/governance/reports/eco/2026", user="dept-miit", scope="read").status_code == 404
    assert env.get("/api/v1/governance/reports/eco/2026?format=docx", user="dept-miit",
                   scope="read").status_code == 404
    assert env.get("/api/v1/governance/reports/eco/2026").status_code == 200  # the office: every unit
    assert env.get("/api/v1/governance/reports/d210202/2026", user="district-a").status_code == 200
    assert env.get("/api/v1/governance/reports/miit/2026", user="viewer", scope="read").status_code == 404
    assert env.get("/api/v1/governance/reports/miit/1800").status_code == 422

"""The project registry pages: the list (scoped, filters), the new-project form (district files in its own
district; problems in Chinese), the import with preview, and the check page of the issue's example with the
figures of evaluate() and the tabs to the gate's other pages."""

from __future__ import annotations

import re

from citycarbon.services.projects import registry
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.web.i18n import Formatter
from tests.projects.support import OFFICE, chemical_project
from tests.projects.test_registry_service import body
from tests.web.test_i18n_pages import problems_in, visible_text

DISTRICT_A = "210202"


def _zh_problems(html: str) -> list[str]:
    return [p for text in visible_text(html) for p in problems_in(text)]


def test_the_check_page_shows_the_figures_of_evaluate(fresh_web_env):
    created = registry.create_project(fresh_web_env.db, OFFICE, "dalian", body())
    page = fresh_web_env.get(f"/projects/{created.code}?lang=zh_CN")
    assert page.status_code == 200
    expected = evaluate("dalian", chemical_project(id=created.code))
    fmt = Formatter("zh_CN")
    for value in (expected.energy.tce_calorific, expected.energy.tce_equivalent, expected.energy.dual_control_tce,
                  expected.energy.co2_t, expected.energy.feedstock_tce):
        assert fmt.decimal(value) in page.text
    for finding in expected.findings:
        assert finding.message_zh.replace("“", "&#34;")[:12] in page.text or finding.message_zh[:12] in page.text
    assert "标杆水平" in page.text and "基准水平" in page.text and "乙烯" in page.text
    for link in (f"/projects/{created.code}/budget", f"/projects/{created.code}/review", "/projects/ledgers"):
        assert f'href="{link}"' in page.text
    assert not _zh_problems(page.text)
    english = fresh_web_env.get(f"/projects/{created.code}?lang=en")
    assert english.status_code == 200 and "calorific value" in english.text.lower()
    # another district: 404; the list shows the project to the office only
    assert fresh_web_env.get(f"/projects/{created.code}", user="district-a").status_code == 404
    listed = fresh_web_env.get("/projects?lang=zh_CN")
    assert created.code in listed.text and not _zh_problems(listed.text)
    assert created.code not in fresh_web_env.get("/projects?lang=zh_CN", user="district-a").text
    assert created.code not in fresh_web_env.get("/projects?lang=zh_CN", user="viewer").text
    filtered = fresh_web_env.get("/projects?lang=zh_CN&district=210283")
    assert created.code not in filtered.text


def test_a_district_files_a_project_on_the_form(fresh_web_env):
    fresh_web_env.new_session("district-a")
    assert "新建项目申报" in fresh_web_env.get("/projects?lang=zh_CN", user="district-a").text
    assert fresh_web_env.get("/projects/new", user="viewer").status_code == 403
    form = {"name": "中山区数据中心", "applicant_name": "大连某数据有限公司",
            "applicant_uscc": body()["applicant_uscc"],
            "region_code": DISTRICT_A, "industry_code": "I6531", "kind": "new", "application_date": "2026-11-01",
            "group_0": "energy", "fuel_0": "electricity", "quantity_0": "5000", "unit_0": "10^4 kWh"}
    bad = fresh_web_env.post("/projects/new?lang=zh_CN", user="district-a", data={**form, "unit_0": "t"})
    assert bad.status_code == 422 and "未保存任何内容" in bad.text
    made = fresh_web_env.post("/projects/new", user="district-a", data=form)
    assert made.status_code == 303
    code = made.headers["location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"XM-2026-\d{4}", code)
    page = fresh_web_env.get(f"/projects/{code}?lang=zh_CN", user="district-a")
    assert page.status_code == 200 and "中山区数据中心" in page.text


def test_import_preview_then_apply(fresh_web_env):
    template = registry.template_workbook(fresh_web_env.db, OFFICE, "dalian").content
    files = {"file": ("projects.xlsx", template, "application/octet-stream")}
    preview = fresh_web_env.post("/projects/import?lang=zh_CN", data={}, files=files)
    assert preview.status_code == 200 and "尚未保存" in preview.text
    content_b64 = re.search(r'name="content_b64" value="([^"]+)"', preview.text).group(1)
    before = registry.list_projects(fresh_web_env.db, OFFICE, "dalian").total
    applied = fresh_web_env.post("/projects/import?lang=zh_CN", data={
        "content_b64": content_b64, "filename": "projects.xlsx", "apply": "1"})
    assert applied.status_code == 200 and "已导入" in applied.text
    assert registry.list_projects(fresh_web_env.db, OFFICE, "dalian").total == before + 1
    refused = fresh_web_env.post("/projects/import?lang=zh_CN", user="district-a", data={}, files=files)
    assert refused.status_code == 422 and "区市县用户只能申报本辖区的项目" in refused.text

"""The registry and matrix pages: what each role sees, the office's edit forms and the import with preview, and
the problems of a bad file shown in Chinese with file, row and column."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook

ORGS_CSV = "code,name_zh,name_en,kind,parent,region_code,short_zh\n"


def _xlsx(rows: list[list]) -> bytes:
    from citycarbon.services.governance.registry import MATRIX_MEASURE_COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.title = "措施"
    sheet.append(list(MATRIX_MEASURE_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_matrix_page_shows_units_by_name_and_a_department_only_its_own(web_env):
    page = web_env.get("/governance/matrix?lang=zh_CN")
    assert page.status_code == 200
    assert "责任清单" in page.text and "市发展改革委" in page.text and "第 10 项任务" in page.text
    assert "8,000.0" in page.text and "从文件导入" in page.text
    dept = web_env.get("/governance/matrix?lang=zh_CN", user="dept-miit")
    assert dept.status_code == 200 and "从文件导入" not in dept.text
    shown = set(re.findall(r'id="m-(T\d\d-M\d\d)"', dept.text))
    assert shown and "T04-M01" in shown and "T10-M01" not in shown
    assert web_env.get("/governance/matrix/T10-M01", user="dept-miit").status_code == 404
    assert "您的账号没有可查看的措施" in web_env.get("/governance/matrix?lang=zh_CN", user="viewer").text
    filtered = web_env.get("/governance/matrix?task=13&lang=zh_CN")
    assert set(re.findall(r'id="m-(T\d\d)-M', filtered.text)) == {"T13"}


def test_the_office_edits_a_measure_on_the_web_and_bad_units_are_named_in_chinese(web_env):
    form = {"text_zh": "推进新能源汽车充电桩、加气站、换电站、加氢站等配套设施建设。", "lead": "transport",
            "co_units": ["drc", "grid"], "districts": ["d210202"], "deadline": "2027-12-31",
            "milestones": "2025:完成布局规划", "ind_code": ["charging_points", ""],
            "ind_name_zh": ["新能源汽车充电桩", ""], "ind_name_en": ["", ""], "ind_unit": ["count", ""],
            "ind_target": ["30000", ""], "ind_year": ["2027", ""], "ind_milestones": ["2025:10000", ""],
            "ind_status": ["estimate", ""], "ind_source": ["办公室测算", ""], "reason": "细化"}
    saved = web_env.post("/governance/matrix/T13-M05", data=form)
    assert saved.status_code == 200 and "已保存" in saved.text and "30,000.0" in saved.text
    bad = web_env.post("/governance/matrix/T13-M05?lang=zh_CN",
                       data={**form, "lead": "nobody", "ind_unit": ["bananas", ""]})
    assert bad.status_code == 422
    assert "牵头单位" in bad.text and "不在组织机构名录中" in bad.text and "无法识别" in bad.text
    refused = web_env.post("/governance/matrix/T13-M05", user="dept-miit", data=form)
    assert refused.status_code == 403


def test_the_office_edits_an_organisation(web_env):
    page = web_env.get("/governance/orgs/marine?lang=zh_CN")
    assert page.status_code == 200 and "修改本单位" in page.text and "历史版本" in page.text
    form = {"name_zh": "大连市海洋发展局", "name_en": "Ocean Development", "short_zh": "市海洋发展局",
            "kind": "department", "parent": "leading_group", "region_code": "", "active": "1", "reason": "更名"}
    assert web_env.post("/governance/orgs/marine", data=form).status_code == 200
    missing_reason = web_env.post("/governance/orgs/marine?lang=zh_CN", data={**form, "reason": ""})
    assert missing_reason.status_code == 422 and "请填写修改原因" in missing_reason.text
    viewer = web_env.get("/governance/orgs/marine?lang=zh_CN", user="viewer")
    assert viewer.status_code == 200 and "修改本单位" not in viewer.text and "历史版本" not in viewer.text


def test_the_registry_import_previews_then_applies_and_a_bad_file_is_refused_in_chinese(web_env):
    good = (ORGS_CSV + "z_web,网页新区管委会,Web Zone,pilot_zone,leading_group,210213,网页新区\n").encode()
    preview = web_env.post("/governance/orgs/import?lang=zh_CN",
                           files={"file": ("orgs.csv", good, "text/csv")})
    assert preview.status_code == 200 and "预览" in preview.text and "确认导入" in preview.text
    assert "z_web" not in web_env.get("/governance/orgs").text
    content = re.search(r'name="content_b64" value="([^"]+)"', preview.text).group(1)
    applied = web_env.post("/governance/orgs/import?lang=zh_CN",
                           data={"content_b64": content, "filename": "orgs.csv", "apply": "1", "reason": "新设"})
    assert applied.status_code == 200 and "已导入" in applied.text
    assert "网页新区管委会" in web_env.get("/governance/orgs?lang=zh_CN").text
    bad = (ORGS_CSV + "Bad Code,某单位,,ministry,,,\n").encode()
    refused = web_env.post("/governance/orgs/import?lang=zh_CN", files={"file": ("bad.csv", bad, "text/csv")})
    assert refused.status_code == 422
    assert "bad.csv" in refused.text and "第 2 行" in refused.text and "类型" in refused.text
    assert "未保存任何内容" in refused.text


def test_the_matrix_import_names_sheet_row_and_column(web_env):
    bad = _xlsx([["T05-M01", 5, "措施", "ghost", "", "", "", "", ""]])
    refused = web_env.post("/governance/matrix/import?lang=zh_CN",
                           files={"file": ("matrix.xlsx", bad, "application/octet-stream")})
    assert refused.status_code == 422
    assert "matrix.xlsx [措施]" in refused.text and "第 2 行" in refused.text and "牵头单位" in refused.text
    assert web_env.post("/governance/matrix/import", user="dept-miit",
                        files={"file": ("matrix.xlsx", bad, "application/octet-stream")}).status_code == 403


def test_the_admin_creates_a_department_user_bound_to_an_organisation(web_env):
    page = web_env.get("/admin/users?lang=zh_CN")
    assert 'name="org"' in page.text and "部门用户" in page.text and "大连市生态环境局" in page.text
    created = web_env.post("/admin/users?lang=zh_CN", data={"username": "eco-clerk", "role": "department",
                                                            "org": "eco"})
    assert created.status_code == 200 and "eco-clerk" in created.text
    row = re.search(r'<tr id="user-eco-clerk">.*?</tr>', created.text, re.S).group(0)
    assert "大连市生态环境局" in row
    refused = web_env.post("/admin/users?lang=zh_CN", data={"username": "ghost-clerk", "role": "department",
                                                            "org": "nowhere"})
    assert refused.status_code == 422 and 'id="user-ghost-clerk"' not in refused.text

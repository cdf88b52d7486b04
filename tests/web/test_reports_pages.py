"""Report drafting and download pages (issue 16 item 5, web): the city report's narrative sections (version-
conditional edits), a unit's own narrative, generation as a job with its progress, the documents' list and the
downloads (media type, Content-Disposition, the file's signature), per role, in zh_CN and en; forms refused without
the CSRF token; unknown and huge ids answer the 404 page."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from tests.web.test_i18n_pages import problems_in, visible_text

HUGE = "99999999999999999999999"
SIGNATURES = {"docx": b"PK\x03\x04", "xlsx": b"PK\x03\x04", "pdf": b"%PDF-"}
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


@pytest.fixture(scope="module")
def env(fresh_web_env):
    return fresh_web_env


def _chinese_only(html: str) -> list[str]:
    return [p for text in visible_text(html) for p in problems_in(text)]


def _version(html: str, section: str, prefix: str = "city") -> str:
    form = re.search(rf'id="{prefix}-{section}"', html)
    assert form, section
    before = html[:form.start()]
    return re.findall(r'name="version" value="(\d+)"', before)[-1]


def test_the_office_drafts_the_city_reports_narrative(env):
    page = env.get("/reports?year=2024&lang=zh_CN")
    assert page.status_code == 200
    html = page.text
    for text in ("年度报告", "发文字号", "开头语", "八、存在的问题", "九、下一年工作安排", "生成全市报告",
                 "已根据报送材料"):
        assert text in html, text
    assert 'id="generate-form"' in html and "本年度尚未生成文件" in html
    assert not _chinese_only(html)
    assert "Annual reports" in env.get("/reports?year=2024&lang=en").text

    version = _version(html, "problems")
    assert version == "0"
    saved = env.post("/reports/narratives", data={"year": "2024", "section": "problems", "version": version,
                                                  "text": "一是部分区市县能耗强度下降进度滞后。"})
    assert saved.status_code == 303
    page = env.get(saved.headers["location"]).text
    assert "一是部分区市县能耗强度下降进度滞后。" in page and "已保存" in page and "最近编辑" in page
    assert _version(page, "problems") == "1"
    # an edit from the version read before is refused (someone else changed it), nothing is written
    stale = env.post("/reports/narratives", data={"year": "2024", "section": "problems", "version": "0",
                                                  "text": "覆盖他人修改"})
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    bad = env.post("/reports/narratives", data={"year": "2024", "section": "problems", "version": "1", "text": " "})
    assert bad.status_code == 422 and "正文须为" in bad.text
    no_token = env.post("/reports/narratives", csrf=False, data={"year": "2024", "section": "problems",
                                                                 "version": "1", "text": "无令牌"})
    assert no_token.status_code == 403
    after = env.get("/reports?year=2024").text
    assert "覆盖他人修改" not in after and "无令牌" not in after


def test_roles_see_and_edit_what_the_services_allow(env):
    viewer = env.get("/reports?year=2024", user="viewer")
    assert viewer.status_code == 200 and 'id="generate-form"' not in viewer.text
    assert 'id="city-overview"' not in viewer.text
    assert env.post("/reports/narratives", user="viewer", data={"year": "2024", "section": "overview", "version": "0",
                                                                "text": "观察员"}).status_code == 403
    assert env.get("/reports", user="enterprise-x").status_code == 403
    # a department user edits its own unit's report narrative, not another unit's
    dept = env.get("/reports?year=2024&lang=zh_CN", user="dept-miit")
    assert dept.status_code == 200 and "本单位报告" in dept.text and 'id="unit-overview"' in dept.text
    assert 'id="generate-form"' not in dept.text and not _chinese_only(dept.text)
    saved = env.post("/reports/narratives", user="dept-miit",
                     data={"year": "2024", "section": "overview", "version": "0", "org": "miit",
                           "text": "本局牵头的工业领域碳达峰行动进展顺利。"})
    assert saved.status_code == 303 and "org=miit" in saved.headers["location"]
    assert "本局牵头的工业领域碳达峰行动进展顺利。" in env.get(saved.headers["location"], user="dept-miit").text
    other = env.post("/reports/narratives", user="dept-miit",
                     data={"year": "2024", "section": "overview", "version": "0", "org": "eco", "text": "越权"})
    assert other.status_code == 404
    district = env.get("/reports?year=2024", user="district-a")
    assert district.status_code == 200 and 'id="unit-overview"' in district.text  # 中山区's own report


def _wait_for_job(env, location: str) -> str:
    job = unquote(re.search(r"job=([^&]+)", location).group(1))
    env.client.app.state.jobs.wait(timeout=300)
    return job


def test_generation_is_a_job_whose_documents_download(env):
    started = env.post("/reports/generate", data={"year": "2024", "formats": ["docx", "xlsx"]})
    assert started.status_code == 303, started.text[-400:]
    location = started.headers["location"]
    assert "job=" in location
    job = _wait_for_job(env, location)
    page = env.get(location + "&lang=zh_CN").text
    assert 'id="report-job"' in page and 'data-status="done"' in page, page[-1500:]
    fragment = env.get(f"/reports/progress?job={job}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "hx-trigger" not in fragment.text
    # polled from the reports page, a finished job reloads that page (its list then shows the new documents)
    reload = env.get(f"/reports/progress?job={job}&in_page=1", headers={"HX-Request": "true"})
    assert reload.status_code == 204 and reload.headers["hx-redirect"] == f"/reports?year=2024&job={job}"
    links = dict(re.findall(r'href="(/reports/documents/\d+)" data-format="(\w+)"', fragment.text))
    assert sorted(links.values()) == ["docx", "xlsx"]
    for url, fmt in links.items():
        download = env.get(url)
        assert download.status_code == 200
        assert download.headers["content-type"].split(";")[0] == MEDIA[fmt]
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment;") and f".{fmt}" in disposition and "filename*=UTF-8''" in disposition
        assert download.content.startswith(SIGNATURES[fmt])
        assert download.headers["x-content-type-options"] == "nosniff"
    listing = env.get("/reports?year=2024").text
    assert listing.count("<tr data-format=") == 2 and "生成时间" in listing
    assert not _chinese_only(listing)
    # every role but enterprise users reads the city's report
    first = next(iter(links))
    assert env.get(first, user="viewer").status_code == 200
    assert env.get(first, user="enterprise-x").status_code in (403, 404)
    # the job is its creator's: another user's poll answers 404
    assert env.get(f"/reports/progress?job={job}", user="analyst").status_code == 404


def test_generation_is_refused_without_token_or_right(env):
    assert env.post("/reports/generate", csrf=False, data={"year": "2024", "formats": ["xlsx"]}).status_code == 403
    assert env.post("/reports/generate", user="viewer", data={"year": "2024", "formats": ["xlsx"]}).status_code == 403


def test_unknown_and_huge_ids_answer_the_404_page(env):
    for url in ("/reports/documents/999999", f"/reports/documents/{HUGE}", "/reports/documents/0",
                "/reports/documents/abc", "/reports/progress?job=no-such-job"):
        page = env.get(url)
        assert page.status_code == 404 and "未找到" in page.text, url
    idle = env.get("/reports/progress")
    assert idle.status_code == 200 and "当前没有正在生成的报告" in idle.text

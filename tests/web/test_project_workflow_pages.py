"""``/projects/{code}/review`` (issue 15 item 5) in the cockpit: the district submits, the office checks and decides,
the analyst comments with a file; another district gets 404; a refused approval shows the numbers (409); the page
reads in Chinese for each role that sees it; the 审查意见 and the attachment download."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from sqlalchemy import select

from citycarbon.store import projects as store
from citycarbon.store.project_models import ProjLedgerSource, ProjProject
from tests.projects.support import CITY, chemical_project, insert_project
from tests.web.conftest import DISTRICT_A
from tests.web.test_i18n_pages import problems_in, visible_text


def _chinese_ok(html: str) -> None:
    found = [p for line in visible_text(html) for p in problems_in(line)]
    assert not found, found


def test_review_page(fresh_web_env):
    from docx import Document

    env = fresh_web_env
    code = insert_project(env.db, chemical_project(region_code=DISTRICT_A), state="draft")
    page = f"/projects/{code}/review"
    assert env.get(page, user="district-b").status_code == 404
    mine = env.get(page + "?lang=zh_CN", user="district-a")
    assert mine.status_code == 200 and "提交审查" in mine.text and "登记审查决定" not in mine.text
    _chinese_ok(mine.text)
    assert env.post(f"/projects/{code}/submit", user="district-a", csrf=False).status_code == 403
    submitted = env.post(f"/projects/{code}/submit", user="district-a")
    assert submitted.status_code == 200 and "已提交" in submitted.text
    office = env.get(page + "?lang=zh_CN", user="admin")
    assert "登记形式审查结果" in office.text
    _chinese_ok(office.text)
    assert env.post(f"/projects/{code}/completeness", user="admin").status_code == 200
    early = env.get(f"/projects/{code}/opinion.docx", user="admin")
    assert early.status_code == 409 and "尚未作出审查决定" in early.text
    commented = env.post(f"/projects/{code}/comments", user="analyst", data={"text": "补充余热利用方案"},
                         files=[("files", ("意见.pdf", b"%PDF-1.4 x", "application/pdf"))])
    assert commented.status_code == 200 and "补充余热利用方案" in commented.text
    link = re.search(rf'href="(/projects/{code}/attachments/\d+)"', commented.text).group(1)
    download = env.get(link, user="district-a")
    assert download.content == b"%PDF-1.4 x" and download.headers["x-content-type-options"] == "nosniff"
    assert env.get(link, user="district-b").status_code == 404
    form = {"decision": "approve", "number": "大发改能审〔2026〕8号", "decision_date": "2026-12-01"}
    refused = env.post(f"/projects/{code}/decision", user="admin", data=form)
    assert refused.status_code == 409 and "替代未落实" in refused.text and "能耗替代须" in refused.text
    assert env.post(f"/projects/{code}/decision", user="analyst", data=form).status_code == 403
    with env.db.session(write=True) as session:
        session.add(ProjLedgerSource(city=CITY, code=f"GB-{code}", kind="energy", amount="9000", unit="tce"))
        session.flush()
        row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
        store.allocate(session, CITY, f"GB-{code}", row, Decimal("9000"), "tce", by="test")
    decided = env.post(f"/projects/{code}/decision", user="admin", data=form)
    assert decided.status_code == 200 and "大发改能审〔2026〕8号" in decided.text and "已批准" in decided.text
    _chinese_ok(env.get(page + "?lang=zh_CN", user="district-a").text)
    docx = env.get(f"/projects/{code}/opinion.docx", user="district-a")
    assert "大发改能审〔2026〕8号" in "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    english = env.get(page + "?lang=en", user="admin")
    assert "Energy review" in english.text


def test_workflow_summary_partial():
    from citycarbon.web.app import _environment

    template = _environment("zh_CN").get_template("projects/_workflow_summary.html")
    assert template.render().strip() == ""
    html = template.render(workflow={"code": "XM-2026-0001", "state": "approved_conditions",
                                     "decision_no": "大发改能审〔2026〕8号", "decision_date": "2026-12-01"})
    assert "附条件批准" in html and "大发改能审〔2026〕8号" in html and "/projects/XM-2026-0001/review" in html

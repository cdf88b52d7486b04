"""``/governance/supervision``, ``/governance/inbox``, ``/governance/calendar`` (issue 14 items 5, 8) in the
cockpit: the office scans and closes, the department answers its own item (another's: 404), the notice downloads,
the inbox marks read; every page reads in Chinese (no English sentence) for the roles that see it."""

from __future__ import annotations

import io
import re

from tests.governance.test_supervision_services import make_round

ENGLISH = re.compile(r"\b[A-Za-z]{3,}(?:[ ,.;:()-]+[A-Za-z]{3,}){2,}\b")


def _chinese(html: str) -> str:
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def test_supervision_pages(fresh_web_env):
    from docx import Document

    env = fresh_web_env
    make_round(env.db, code="2026Q3W", units=(("T05-M01", "miit"), ("T05-M02", "eco")))
    assert env.post("/governance/supervision/scan", user="dept-miit", data={"today": "2026-10-20"}).status_code == 403
    scanned = env.post("/governance/supervision/scan", user="admin", data={"today": "2026-10-20"})
    assert scanned.status_code == 200 and "督办通知" in scanned.text
    page = env.get("/governance/supervision?lang=zh_CN", user="dept-miit")
    assert page.status_code == 200 and "大连市工业和信息化局" in page.text and "大连市生态环境局" not in page.text
    ids = re.findall(r'href="/governance/supervision/(\d+)"', page.text)
    admin_page = env.get("/governance/supervision", user="admin").text
    others = set(re.findall(r'href="/governance/supervision/(\d+)"', admin_page)) - set(ids)
    assert len(ids) == 1 and others
    assert env.get(f"/governance/supervision/{others.pop()}", user="dept-miit").status_code == 404
    item = env.get(f"/governance/supervision/{ids[0]}", user="dept-miit")
    assert "提交答复" in item.text and "办结督办事项" not in item.text
    assert not ENGLISH.search(_chinese(item.text).replace("DOCX", "").replace("PDF", "").replace("Excel", ""))
    answered = env.post(f"/governance/supervision/{ids[0]}/answer", user="dept-miit", data={"answer": "已报送"},
                        files=[("files", ("e.pdf", b"%PDF-1.4 x", "application/pdf"))])
    assert answered.status_code == 200 and "已答复" in answered.text and "e.pdf" in answered.text
    docx = env.get(f"/governance/supervision/{ids[0]}/notice.docx", user="dept-miit")
    assert docx.status_code == 200
    assert "督办通知" in "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert env.post(f"/governance/supervision/{ids[0]}/close", user="dept-miit",
                    data={"note": "x"}).status_code == 403
    bad = env.post(f"/governance/supervision/{ids[0]}/close", user="admin", data={"note": ""})
    assert bad.status_code == 422 and "请填写办结说明" in bad.text
    closed = env.post(f"/governance/supervision/{ids[0]}/close", user="admin", data={"note": "办结"})
    assert closed.status_code == 200 and "已办结" in closed.text
    inbox = env.get("/governance/inbox", user="dept-miit")
    assert "督办事项已办结" in inbox.text and "标为已读" in inbox.text
    assert env.post("/governance/inbox/read", user="dept-miit").status_code == 303
    assert "标为已读" not in env.get("/governance/inbox", user="dept-miit").text
    assert "Supervision item closed" in env.get("/governance/inbox?lang=en", user="dept-miit").text
    env.get("/governance/inbox?lang=zh_CN", user="dept-miit")


def test_calendar_page(fresh_web_env):
    env = fresh_web_env
    page = env.get("/governance/calendar?year=2026&lang=zh_CN", user="viewer")
    assert page.status_code == 200 and "调休上班" in page.text and "2026-10-10" in page.text
    assert "导入放假安排通知" not in page.text
    missing = env.get("/governance/calendar?year=2031", user="admin")
    assert "工作日历未包含2031年" in missing.text
    csv = "date,kind,name,source,status\n2031-01-01,holiday,元旦,测试,unverified\n".encode()
    assert env.post("/governance/calendar", user="analyst",
                    files={"file": ("c.csv", csv, "text/csv")}).status_code == 403
    done = env.post("/governance/calendar", user="admin", files={"file": ("c.csv", csv, "text/csv")})
    assert done.status_code == 200
    assert "元旦" in env.get("/governance/calendar?year=2031", user="admin").text

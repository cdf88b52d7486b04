"""Supervision services on SQLite and PostgreSQL: the scan is idempotent, escalates (never down, audited, never
duplicated), posts to the unit's inbox; units see only their own items; answer with evidence, close with a note;
the 督办通知 DOCX reads back with its Chinese text; the calendar imports; e-mail through a local SMTP server."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.services.governance import inbox
from citycarbon.services.governance import supervision as svc
from citycarbon.store.audit import AuditEntry
from citycarbon.store.governance_models import (
    GovFiling,
    GovNotification,
    GovRound,
    GovRoundAssignment,
    GovSupervisionItem,
)

CITY = "dalian"
ADMIN = Principal(1, "office", Role.admin)
MIIT = Principal(2, "miit-user", Role.department, org="miit")
ECO = Principal(3, "eco-user", Role.department, org="eco")
ANALYST = Principal(4, "analyst", Role.analyst)
VIEWER = Principal(5, "viewer", Role.viewer)
PDF = b"%PDF-1.4\n% evidence\n"


def make_round(db, code="2026Q3", deadline=date(2026, 9, 30), start=date(2026, 7, 1), period="quarterly",
               units=(("T05-M01", "miit"), ("T05-M02", "eco"))) -> int:
    with db.session() as session:
        rnd = GovRound(city=CITY, code=code, title_zh=f"{code} 调度", period=period, period_start=start,
                       period_end=deadline, deadline=deadline)
        session.add(rnd)
        session.flush()
        for measure, org in units:
            session.add(GovRoundAssignment(round_id=rnd.id, measure_code=measure, org_code=org))
        return rnd.id


def file(db, round_id, measure, org, *, state="submitted", status="in_progress", at=None):
    with db.session() as session:
        session.add(GovFiling(round_id=round_id, measure_code=measure, org_code=org, state=state, status=status,
                              submitted_at=at, reviewed_at=at if state == "returned" else None))


def count(db, model) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_scan_creates_escalates_and_never_duplicates(seeded_db):
    db = seeded_db
    rid = make_round(db)
    file(db, rid, "T05-M02", "eco", at=datetime(2026, 9, 29, 2, tzinfo=UTC))
    assert svc.scan(db, ADMIN, CITY, today=date(2026, 10, 9)).created == []  # 2 working days late
    first = svc.scan(db, ADMIN, CITY, today=date(2026, 10, 10))  # the Saturday worked in lieu: 3rd working day
    assert [(i.org_code, i.level, i.workdays_late, i.doc_number) for i in first.created] == [
        ("miit", "reminder", 3, None)]
    again = svc.scan(db, ADMIN, CITY, today=date(2026, 10, 10))
    assert (again.created, again.escalated, again.unchanged) == ([], [], 1)
    up = svc.scan(db, ADMIN, CITY, today=date(2026, 10, 20))
    assert [(i.level, i.doc_number) for i in up.escalated] == [("notice", "大碳达峰办督〔2026〕1号")]
    assert count(db, GovSupervisionItem) == 1
    # an earlier date never lowers the level
    assert svc.scan(db, ADMIN, CITY, today=date(2026, 10, 12)).unchanged == 1
    assert svc.get_item(db, ADMIN, CITY, up.escalated[0].id).level == "notice"
    with db.session() as session:
        actions = [a for (a,) in session.execute(select(AuditEntry.action).where(
            AuditEntry.entity == "gov_supervision_item"))]
        messages = [m for (m,) in session.execute(select(GovNotification.message).where(
            GovNotification.org_code == "miit").order_by(GovNotification.id))]
    assert actions == ["create", "escalate"]
    assert messages == ["supervision_created", "supervision_escalated"]
    assert next(m.text_zh for m in inbox.list_messages(db, MIIT, CITY)).startswith("督办事项升级为督办通知")


def test_only_the_office_scans_and_uncovered_years_are_named(seeded_db):
    make_round(seeded_db, deadline=date(2026, 12, 28), start=date(2026, 10, 1))
    for who in (MIIT, ANALYST, VIEWER, Principal(1, "office", Role.admin, scopes=frozenset({"read"}))):
        with pytest.raises(Forbidden):
            svc.scan(seeded_db, who, CITY, today=date(2027, 1, 20))
    with pytest.raises(InputError, match="2027"):
        svc.scan(seeded_db, ADMIN, CITY, today=date(2027, 1, 20))
    assert count(seeded_db, GovSupervisionItem) == 0


def test_units_see_only_their_own_answer_and_office_closes(seeded_db):
    db = seeded_db
    make_round(db)
    svc.scan(db, ADMIN, CITY, today=date(2026, 10, 20))
    items = {i.org_code: i for i in svc.list_items(db, ADMIN, CITY)}
    assert set(items) == {"miit", "eco"} and len(svc.list_items(db, ANALYST, CITY)) == 2
    assert [i.org_code for i in svc.list_items(db, MIIT, CITY)] == ["miit"]
    assert svc.list_items(db, VIEWER, CITY) == []
    with pytest.raises(NotFound):
        svc.get_item(db, VIEWER, CITY, items["eco"].id)
    with pytest.raises(NotFound):
        svc.get_item(db, MIIT, CITY, items["eco"].id)
    with pytest.raises(NotFound):
        svc.answer(db, MIIT, CITY, items["eco"].id, "not mine")
    with pytest.raises(Forbidden):
        svc.answer(db, ANALYST, CITY, items["miit"].id, "x")
    with pytest.raises(InputError):
        svc.answer(db, MIIT, CITY, items["miit"].id, "ok", attachments=[("virus.exe", b"MZ\x90\x00")])
    assert svc.get_item(db, MIIT, CITY, items["miit"].id).state == "open"  # nothing half-written
    done = svc.answer(db, MIIT, CITY, items["miit"].id, "已于10月21日报送", attachments=[("证明.pdf", PDF)])
    assert done.state == "answered" and done.attachments[0]["filename"] == "证明.pdf"
    assert next(m.message for m in inbox.list_messages(db, ADMIN, CITY)) == "supervision_answered"
    with pytest.raises(Forbidden):
        svc.close(db, MIIT, CITY, items["miit"].id, "self-close")
    with pytest.raises(InputError):
        svc.close(db, ADMIN, CITY, items["miit"].id, " ")
    closed = svc.close(db, ADMIN, CITY, items["miit"].id, "材料齐全，予以办结")
    assert (closed.state, closed.close_note) == ("closed", "材料齐全，予以办结")
    with pytest.raises(InputError):
        svc.answer(db, MIIT, CITY, items["miit"].id, "late answer")


def test_notice_docx_reads_back_in_chinese_and_uses_the_office_template(seeded_db):
    from docx import Document

    db = seeded_db
    make_round(db)
    svc.scan(db, ADMIN, CITY, today=date(2026, 10, 20))
    item = next(i for i in svc.list_items(db, ADMIN, CITY) if i.org_code == "miit")
    _name, content = svc.notice_docx(db, MIIT, CITY, item.id, today=date(2026, 10, 20))
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    cells = " ".join(c.text for t in Document(io.BytesIO(content)).tables for r in t.rows for c in r.cells)
    assert "大连市碳达峰碳中和工作领导小组办公室" in text
    assert item.doc_number in text and "督办通知" in text and "大连市工业和信息化局：" in text
    assert "2026年10月27日前（5个工作日内）" in text  # 20 Oct + 5 working days
    assert "T05-M01" in cells and "10" in cells
    with pytest.raises(NotFound):
        svc.notice_docx(db, ECO, CITY, item.id)
    template = Document()
    template.add_paragraph("旧正文")
    template.sections[0].header.paragraphs[0].text = "办公室模板页眉"
    buffer = io.BytesIO()
    template.save(buffer)
    with pytest.raises(Forbidden):
        svc.upload_template(db, MIIT, CITY, buffer.getvalue(), filename="t.docx")
    with pytest.raises(InputError):
        svc.upload_template(db, ADMIN, CITY, PDF, filename="t.pdf")
    svc.upload_template(db, ADMIN, CITY, buffer.getvalue(), filename="t.docx")
    again = Document(io.BytesIO(svc.notice_docx(db, ADMIN, CITY, item.id, today=date(2026, 10, 20))[1]))
    assert again.sections[0].header.paragraphs[0].text == "办公室模板页眉"
    assert "旧正文" not in "\n".join(p.text for p in again.paragraphs)
    assert item.doc_number in "\n".join(p.text for p in again.paragraphs)


def test_calendar_import_and_read(seeded_db):
    db = seeded_db
    with pytest.raises(InputError, match="2027"):
        svc.calendar_year(db, ADMIN, CITY, 2027)
    csv_text = ("date,kind,name,source,status\n2027-01-01,holiday,元旦,国办发明电〔2026〕N号 (test),unverified\n"
                "2027-02-06,workday,春节调休上班,test,unverified\n")
    with pytest.raises(Forbidden):
        svc.import_calendar(db, MIIT, CITY, csv_text.encode())
    with pytest.raises(InputError) as bad:
        svc.import_calendar(db, ADMIN, CITY, b"date,kind\n2027-01-04,workday\n", filename="x.csv")
    assert (bad.value.problems[0].file, bad.value.problems[0].row) == ("x.csv", 2)
    assert svc.import_calendar(db, ADMIN, CITY, csv_text.encode(), filename="2027.csv")
    days = svc.calendar_year(db, VIEWER, CITY, 2027)
    assert [(d.day, d.kind, d.origin) for d in days] == [("2027-01-01", "holiday", "import"),
                                                          ("2027-02-06", "workday", "import")]
    assert {d.origin for d in svc.calendar_year(db, VIEWER, CITY, 2026)} == {"shipped"}


def test_inbox_scope_and_mark_read(seeded_db):
    db = seeded_db
    make_round(db)
    svc.scan(db, ADMIN, CITY, today=date(2026, 10, 20))
    assert inbox.unread_count(db, MIIT, CITY) == 1 and inbox.unread_count(db, ECO, CITY) == 1
    assert inbox.list_messages(db, ADMIN, CITY) == []  # the office's own inbox: nothing addressed to it yet
    mine = inbox.list_messages(db, MIIT, CITY)[0]
    with pytest.raises(NotFound):
        inbox.mark_read(db, ECO, CITY, [mine.id])
    assert inbox.mark_read(db, MIIT, CITY, [mine.id]) == 1
    assert inbox.unread_count(db, MIIT, CITY) == 0 and inbox.unread_count(db, ECO, CITY) == 1


def test_lagging_twice_goes_on_the_interview_list_and_returned_filings_are_chased(seeded_db):
    db = seeded_db
    q2 = make_round(db, code="2026Q2", start=date(2026, 4, 1), deadline=date(2026, 6, 30), units=(("T05-M01", "miit"),))
    q3 = make_round(db, code="2026Q3", units=(("T05-M01", "miit"), ("T05-M02", "eco")))
    on_time = datetime(2026, 9, 29, 2, tzinfo=UTC)
    file(db, q2, "T05-M01", "miit", state="accepted", status="lagging", at=datetime(2026, 6, 29, 2, tzinfo=UTC))
    file(db, q3, "T05-M01", "miit", state="submitted", status="lagging", at=on_time)
    file(db, q3, "T05-M02", "eco", state="returned", status="in_progress", at=on_time)  # returned on 29 Sept
    found = svc.scan(db, ADMIN, CITY, today=date(2026, 10, 12))  # 30 Sep, 8, 9, 10 (Sat), 12 Oct: 5 working days
    got = sorted((i.rule_code, i.org_code, i.level, i.round_code) for i in found.created)
    assert got == [("lagging_consecutive", "miit", "interview", "2026Q3"),
                   ("returned_not_resubmitted", "eco", "reminder", "2026Q3")]
    interview = next(i for i in found.created if i.level == "interview")
    assert interview.doc_number == "大碳达峰办督〔2026〕1号" and interview.facts["rounds"] == ["2026Q2", "2026Q3"]
    listed = svc.list_items(db, ANALYST, CITY)
    assert [i.level for i in listed] == ["interview", "reminder"]  # highest level first

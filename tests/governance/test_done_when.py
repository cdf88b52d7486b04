"""Issue 14 "Done when", as a new user would, through the services every face calls (SQLite and PostgreSQL):
the office imports the responsibility matrix, opens a quarterly round; two departments and a district file (one
department late, one of its measures never); the supervision items appear at the right levels on the right
working days (the deadline 30 September 2026 is just before 国庆: 8–10 October count 1–3, 10 October being an
adjusted working day); the office downloads the 调度 summary (XLSX, DOCX) and a 督办通知 (DOCX) that python-docx
reads back in Chinese; a department can neither see nor file another unit's measures."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from docx import Document
from openpyxl import load_workbook

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import NotFound
from citycarbon.services.governance import registry, rounds, summary, supervision

CITY = "dalian"
OFFICE = Principal(1, "office", Role.admin)
MIIT = Principal(2, "dept-miit", Role.department, org="miit")
ECO = Principal(3, "dept-eco", Role.department, org="eco")
ZHUANGHE = Principal(4, "zhuanghe", Role.district, regions=frozenset({"210283"}))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)  # 10:00 in Beijing


def _import_matrix(db) -> None:
    """The office downloads the matrix, gives 工业和信息化局's first measure of task 4 the district 庄河市 as well,
    and imports the workbook back."""
    workbook = load_workbook(io.BytesIO(registry.matrix_workbook(db, OFFICE, CITY).content))
    sheet = workbook["措施"]
    header = [cell.value for cell in sheet[1]]
    code_col, districts_col = header.index("code"), next(i for i, h in enumerate(header) if str(h).startswith(
        "districts"))
    row = next(r for r in sheet.iter_rows(min_row=2) if r[code_col].value == "T04-M01")
    row[districts_col].value = "d210283"
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = registry.import_matrix(db, OFFICE, CITY, buffer.getvalue(), "matrix.xlsx")
    assert not preview.applied and preview.counts["update"] == 1
    assert "d210283" not in registry.get_measure(db, OFFICE, CITY, "T04-M01").measure.districts  # a preview
    report = registry.import_matrix(db, OFFICE, CITY, buffer.getvalue(), "matrix.xlsx", apply=True,
                                    reason="2026年责任分工")
    assert report.applied
    detail = registry.get_measure(db, OFFICE, CITY, "T04-M01")
    assert "d210283" in detail.measure.districts and len(detail.history) == 2


def _file(db, who: Principal, day: date, *, skip: set[str] = frozenset()) -> list[str]:
    filed = []
    for filing in rounds.my_filings(db, who, CITY):
        if filing.measure in skip:
            continue
        rounds.save_filing(db, who, CITY, filing.id, version=filing.version, status="in_progress",
                           narrative=f"{filing.measure} 按计划推进。", submit=True, now=_at(day))
        filed.append(filing.measure)
    return filed


def test_a_quarter_of_running_the_plan(seeded_db):
    db = seeded_db
    _import_matrix(db)
    rounds.open_round(db, OFFICE, CITY, code="2026Q3", period="quarterly", deadline=date(2026, 9, 30),
                      tasks=[4, 31], include_co_units=False, include_districts=True, now=_at(date(2026, 7, 1)))

    # each unit sees only its own measures
    assert {f.org for f in rounds.my_filings(db, MIIT, CITY)} == {"miit"}
    assert {f.org for f in rounds.my_filings(db, ZHUANGHE, CITY)} == {"d210283"}
    eco_filings = rounds.my_filings(db, ECO, CITY)
    assert {f.org for f in eco_filings} == {"eco"} and len(eco_filings) >= 2
    never = eco_filings[-1].measure

    # two on time, one late (and one of its measures never filed)
    assert _file(db, MIIT, date(2026, 9, 28))
    assert _file(db, ZHUANGHE, date(2026, 9, 29)) == ["T04-M01"]
    assert supervision.scan(db, OFFICE, CITY, today=date(2026, 10, 9)) is not None
    assert supervision.list_items(db, OFFICE, CITY) == []  # 8 and 9 October: 2 working days late, no rule yet
    supervision.scan(db, OFFICE, CITY, today=date(2026, 10, 10))  # an adjusted working day (Saturday): 3
    items = supervision.list_items(db, OFFICE, CITY)
    assert {i.org_code for i in items} == {"eco"} and {i.level for i in items} == {"reminder"}
    assert len(items) == len(eco_filings)
    late = _file(db, ECO, date(2026, 10, 12), skip={never})
    assert never not in late

    supervision.scan(db, OFFICE, CITY, today=date(2026, 10, 19))  # 9 working days: still reminders
    assert {i.level for i in supervision.list_items(db, OFFICE, CITY)} == {"reminder"}
    supervision.scan(db, OFFICE, CITY, today=date(2026, 10, 20))  # 10 working days: 督办通知 for the one never filed
    by_measure = {i.measure_code: i for i in supervision.list_items(db, OFFICE, CITY)}
    assert by_measure[never].level == "notice" and by_measure[never].doc_number
    assert {i.level for m, i in by_measure.items() if m != never} == {"reminder"}  # filed late: not escalated
    assert supervision.list_items(db, MIIT, CITY) == []  # a department sees only its own items

    # the office's summary: on-time rates by unit, XLSX and DOCX
    view = summary.round_summary(db, OFFICE, CITY, "2026Q3", today=date(2026, 10, 20))
    rates = {u.org: (u.assigned, u.on_time) for u in view.summary.units}
    assert rates["eco"] == (len(eco_filings), 0)
    assert rates["miit"][0] == rates["miit"][1] > 0 and rates["d210283"] == (1, 1)
    workbook = load_workbook(io.BytesIO(summary.round_summary_xlsx(db, OFFICE, CITY, "2026Q3",
                                                                  today=date(2026, 10, 20))))
    assert {"概况", "措施进展", "单位按时率", "滞后措施", "指标对照"} <= set(workbook.sheetnames)
    document = Document(io.BytesIO(summary.round_summary_docx(db, OFFICE, CITY, "2026Q3", today=date(2026, 10, 20))))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2026年第三季度" in text and "调度" in text

    # the 督办通知 of the item never filed
    name, content = supervision.notice_docx(db, OFFICE, CITY, by_measure[never].id, today=date(2026, 10, 20))
    assert name.endswith(".docx")
    notice = Document(io.BytesIO(content))
    notice_text = "\n".join(p.text for p in notice.paragraphs) + "\n".join(
        cell.text for table in notice.tables for row in table.rows for cell in row.cells)
    assert by_measure[never].doc_number in notice_text and "大连市生态环境局" in notice_text and "督办" in notice_text

    # a department can neither see nor file another unit's measures
    foreign = eco_filings[0]
    with pytest.raises(NotFound):
        rounds.get_filing(db, MIIT, CITY, foreign.id)
    with pytest.raises(NotFound):
        rounds.save_filing(db, MIIT, CITY, foreign.id, version=foreign.version, status="completed", submit=True,
                           now=_at(date(2026, 10, 21)))
    with pytest.raises(NotFound):
        supervision.get_item(db, MIIT, CITY, by_measure[never].id)

"""The board, the round summary (XLSX, DOCX) and the unit report services, on SQLite and PostgreSQL: the
hand-worked round of ``test_summary_domain`` written through the store, scope by role, documents read back."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, NotFound
from citycarbon.services.governance import summary as service
from tests.governance.summary_support import sample

TODAY = date(2027, 1, 15)
OFFICE = Principal(1, "office", Role.admin)
ANALYST = Principal(2, "analyst", Role.analyst)
MIIT = Principal(3, "m", Role.department, org="miit")
ECO = Principal(4, "e", Role.department, org="eco")
DISTRICT = Principal(5, "d", Role.district, regions=frozenset({"210202"}))
VIEWER = Principal(6, "v", Role.viewer, scopes=frozenset({"read"}))
ENTERPRISE = Principal(7, "x", Role.enterprise, enterprise_id="E1")


@pytest.fixture
def gov_db(seeded_db):
    with seeded_db.session(write=True) as session:
        sample(session)
    return seeded_db


def test_board_for_the_office(gov_db):
    board = service.board(gov_db, OFFICE, "dalian", today=TODAY)
    assert board.scope == "city" and board.tasks == list(range(1, 32))
    cells = {(c.task, c.org): (c.level, c.round_code) for c in board.cells}
    assert cells == {(5, "miit"): ("overdue", "2026Q4"), (5, "eco"): ("lagging", "2026Q4"),
                     (7, "miit"): ("lagging", "2026Q3"), (12, "d210202"): ("completed", "2026Q4"),
                     (12, "eco"): ("overdue", "2026Q4")}
    (progress,) = board.progress
    assert (progress.round_code, progress.assigned, progress.filed, progress.accepted, progress.late) == (
        "2026Q4", 5, 3, 1, 3)
    assert [(o.measure, o.org, o.days) for o in board.overdue] == [("T05-M02", "miit", 5), ("T12-M01", "eco", 5)]
    assert [o.code for o in board.orgs] == ["miit", "eco", "d210202"]  # registry order
    assert board.task_levels[5] == {"overdue": 1, "lagging": 1}
    data = board.to_dict()
    assert data["overdue"][0]["org_name"] == "市工业和信息化局"


def test_board_scope_by_role(gov_db):
    mine = service.board(gov_db, MIIT, "dalian", today=TODAY)
    assert mine.scope == "units" and mine.own == ("miit",)
    assert {c.org for c in mine.cells} == {"miit"} and [o.code for o in mine.orgs] == ["miit"]
    assert [(o.measure, o.org) for o in mine.overdue] == [("T05-M02", "miit")]
    assert (mine.progress[0].assigned, mine.progress[0].late) == (2, 1)
    assert mine.city_progress[0].assigned == 5  # the city's aggregate
    district = service.board(gov_db, DISTRICT, "dalian", today=TODAY)
    assert {c.org for c in district.cells} == {"d210202"} and district.overdue == []
    viewer = service.board(gov_db, VIEWER, "dalian", today=TODAY)
    assert viewer.scope == "aggregate" and viewer.cells == [] and viewer.orgs == [] and viewer.overdue == []
    assert viewer.city_progress[0].assigned == 5 and viewer.task_levels[12] == {"completed": 1, "overdue": 1}
    with pytest.raises(Forbidden):
        service.board(gov_db, ENTERPRISE, "dalian", today=TODAY)
    with pytest.raises(Forbidden):
        service.board(gov_db, Principal(8, "o", Role.admin, city="shenyang"), "dalian", today=TODAY)


def test_round_summary_values_and_scope(gov_db):
    view = service.round_summary(gov_db, OFFICE, "dalian", "2026Q4", today=TODAY)
    data = view.to_dict()
    assert data["title_zh"] == "2026年第四季度碳达峰碳中和工作调度情况"
    assert data["by_status"] == {"completed": 1, "in_progress": 1, "not_started": 0, "lagging": 1, "not_filed": 2}
    assert [(u["org"], u["rate"]) for u in data["units"]] == [("eco", 0.0), ("miit", 0.5), ("d210202", 1.0)]
    assert data["lagging"] == [{"measure": "T05-M01", "task": 5, "text_zh": data["lagging"][0]["text_zh"],
                                "org": "eco", "reason": "用地审批未完成", "narrative": "",
                                "org_name": "市生态环境局"}]
    (indicator,) = data["indicators"]
    assert (indicator["value"], indicator["milestone"], indicator["ratio"], indicator["unit"]) == (120.0, 200.0, 0.6,
                                                                                                   "MW")
    mine = service.round_summary(gov_db, ECO, "dalian", "2026Q4", today=TODAY)
    assert mine.summary.assigned == 2 and {u.org for u in mine.summary.units} == {"eco"}
    viewer = service.round_summary(gov_db, VIEWER, "dalian", "2026Q4", today=TODAY)
    assert viewer.summary.assigned == 5 and viewer.summary.units == [] and viewer.summary.lagging == []
    with pytest.raises(NotFound):
        service.round_summary(gov_db, OFFICE, "dalian", "2099Q1", today=TODAY)


def test_xlsx_reads_back(gov_db):
    steps = []
    content = service.round_summary_xlsx(gov_db, OFFICE, "dalian", "2026Q4", today=TODAY,
                                         progress=lambda done, total, label: steps.append((done, total, label)))
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["概况", "措施进展", "单位按时率", "滞后措施", "指标对照"]
    assert steps == [(0, 5, ""), *[(i, 5, name) for i, name in enumerate(book.sheetnames, start=1)]]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert overview["标题"] == "2026年第四季度碳达峰碳中和工作调度情况"
    assert overview["应报送（项）"] == 5 and overview["按时报送率（%）"] == 0.4
    units = list(book["单位按时率"].iter_rows(values_only=True))
    assert units[0] == ("单位", "应报送（项）", "已报送（项）", "按时报送（项）", "按时报送率（%）")
    assert units[1:] == [("市生态环境局", 2, 1, 0, 0), ("市工业和信息化局", 2, 1, 1, 0.5), ("中山区", 1, 1, 1, 1)]
    assert book["单位按时率"]["E2"].number_format == "0.0%"
    indicators = list(book["指标对照"].iter_rows(values_only=True))
    assert indicators[0][2] == "单位（计量）" and indicators[0][4] == "2026年目标（里程碑）"
    assert indicators[1][:7] == ("T05-M01", "渔光互补光伏装机", "MW", 120, 200, 0.6, "否")
    lagging = list(book["滞后措施"].iter_rows(values_only=True))
    assert lagging[1][3:5] == ("市生态环境局", "用地审批未完成")
    with pytest.raises(Forbidden):
        service.round_summary_xlsx(gov_db, MIIT, "dalian", "2026Q4", today=TODAY)
    with pytest.raises(Forbidden):
        service.round_summary_docx(gov_db, VIEWER, "dalian", "2026Q4", today=TODAY)


def test_docx_reads_back_in_chinese(gov_db):
    content = service.round_summary_docx(gov_db, ANALYST, "dalian", "2026Q4", today=TODAY)
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2026年第四季度碳达峰碳中和工作调度情况" in text
    assert "一、总体情况" in text and "应报送5项，按时报送2项，按时报送率40.0%" in text
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert {"用地审批未完成", "市生态环境局", "渔光互补光伏装机", "60.0%", "滞后"} <= cells


def test_unit_report(gov_db):
    report, content = service.unit_report_docx(gov_db, MIIT, "dalian", "miit", 2026, day=TODAY)
    assert report.title_zh == "大连市工业和信息化局2026年碳达峰碳中和工作贯彻落实情况报告"
    assert report.rounds == ["2026Q3", "2026Q4"] and report.assigned == 4 and report.on_time == 3
    by_code = {m.code: m for m in report.measures}
    assert by_code["T05-M01"].status == "in_progress" and by_code["T05-M01"].round_code == "2026Q4"
    assert by_code["T05-M01"].indicators[0]["value"] == 120.0
    assert by_code["T05-M02"].status == "not_filed"
    assert by_code["T07-M01"].lag_reasons == ["资金未到位"]
    assert report.status_counts == {"completed": 0, "in_progress": 1, "not_started": 0, "lagging": 1,
                                    "not_filed": 1}
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert report.title_zh in text and "T07-M01：资金未到位" in text and "五、督办事项办理情况" in text
    assert service.unit_report(gov_db, OFFICE, "dalian", "eco", 2026).assigned == 2
    district = service.unit_report(gov_db, DISTRICT, "dalian", "d210202", 2026)
    assert district.on_time == 1
    report_2027 = service.unit_report(gov_db, OFFICE, "dalian", "miit", 2027)
    assert report_2027.measures == [] and report_2027.assigned == 0
    supervision = service.unit_report(gov_db, OFFICE, "dalian", "miit", 2027).supervision
    assert supervision[0]["level_zh"] == "提醒"
    with pytest.raises(NotFound):
        service.unit_report(gov_db, MIIT, "dalian", "eco", 2026)  # another unit's: not leaked
    with pytest.raises(NotFound):
        service.unit_report(gov_db, OFFICE, "dalian", "nobody", 2026)
    with pytest.raises(NotFound):  # a viewer reads no unit's report: the answer of an unknown unit
        service.unit_report(gov_db, VIEWER, "dalian", "miit", 2026)

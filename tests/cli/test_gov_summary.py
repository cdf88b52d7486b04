"""``citycarbon governance board|summary|export|report`` (issue 14 items 6, 9, 10): the read commands in
every format, the XLSX/DOCX written with --out and read back, errors printed clearly."""

from __future__ import annotations

import csv
import io
import json

import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401
from tests.governance.summary_support import sample

TODAY = "2027-01-15"


def _run(*args: str):
    return CliRunner().invoke(app, list(args), env={"CITYCARBON_PROGRESS": "never"})


@pytest.fixture
def store(seeded_db):  # noqa: F811  (the fixture imported above)
    with seeded_db.session(write=True) as session:
        sample(session)
    return seeded_db


def test_board_in_every_format(store):
    data = json.loads(_run("governance", "board", "--today", TODAY, "--format", "json").stdout)
    assert data["progress"][0]["late"] == 3 and len(data["overdue"]) == 2
    rows = list(csv.DictReader(io.StringIO(_run("governance", "board", "--today", TODAY, "--format", "csv").stdout)))
    assert {(r["task"], r["unit"], r["level"]) for r in rows} >= {("5", "miit", "overdue"), ("7", "miit", "lagging")}
    table = _run("governance", "board", "--today", TODAY)
    assert table.exit_code == 0 and "逾期未报送" in table.stdout and "市工业和信息化局" in table.stdout
    bad = _run("governance", "board", "--today", "yesterday")
    assert bad.exit_code == 2 and "--today" in bad.output


def test_summary_and_export(store, tmp_path):
    units = json.loads(_run("governance", "summary", "--round", "2026Q4", "--today", TODAY, "--format",
                            "json").stdout)["units"]
    assert [(u["org"], u["rate"]) for u in units] == [("eco", 0.0), ("miit", 0.5), ("d210202", 1.0)]
    out = tmp_path / "q4.xlsx"
    result = _run("governance", "export", "--round", "2026Q4", "--format", "xlsx", "--out", str(out),
                  "--today", TODAY)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["概况", "措施进展", "单位按时率", "滞后措施", "指标对照"]
    assert book["指标对照"]["C1"].value == "单位（计量）" and book["指标对照"]["C2"].value == "MW"
    docx = tmp_path / "q4.docx"
    assert _run("governance", "export", "--round", "2026Q4", "--format", "docx", "--out", str(docx)).exit_code == 0
    assert "2026年第四季度碳达峰碳中和工作调度情况" in "\n".join(p.text for p in Document(docx).paragraphs)
    missing = _run("governance", "export", "--round", "1999Q1", "--format", "xlsx", "--out", str(tmp_path / "x"))
    assert missing.exit_code == 2 and "没有该调度轮次" in missing.output and not (tmp_path / "x").exists()
    wrong = _run("governance", "export", "--round", "2026Q4", "--format", "pdf", "--out", str(tmp_path / "y"))
    assert wrong.exit_code == 2 and "xlsx or docx" in wrong.output


def test_report(store, tmp_path):
    out = tmp_path / "miit-2026.docx"
    result = _run("governance", "report", "--org", "miit", "--year", "2026", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    draft = json.loads(result.stdout)
    assert draft["title_zh"] == "大连市工业和信息化局2026年碳达峰碳中和工作贯彻落实情况报告"
    assert "贯彻落实情况报告" in "\n".join(p.text for p in Document(out).paragraphs)
    rows = list(csv.DictReader(io.StringIO(_run("governance", "report", "--org", "miit", "--year", "2026",
                                                "--format", "csv").stdout)))
    assert {r["measure"]: r["status"] for r in rows} == {"T05-M01": "in_progress", "T05-M02": "not_filed",
                                                         "T07-M01": "lagging"}
    unknown = _run("governance", "report", "--org", "nobody", "--year", "2026")
    assert unknown.exit_code == 2 and "没有该单位" in unknown.output

"""``citycarbon governance overdue|supervise|calendar|inbox`` (issue 14 items 5, 8) over a seeded SQLite store:
what is late by level on a working day, scan, list, answer, close, the notice DOCX, the calendar."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import _make_db, pg_admin, settings  # noqa: F401
from tests.governance.test_supervision_services import make_round


@pytest.fixture
def store(request, settings, monkeypatch):  # noqa: F811
    yield from _make_db(request, "sqlite", settings, monkeypatch, "seeded")


def _run(*args: str):
    result = CliRunner().invoke(app, ["governance", *args])
    assert result.exit_code == 0, result.output
    return result


def test_overdue_scan_answer_close_and_notice(store, tmp_path):
    make_round(store)
    assert json.loads(_run("overdue", "--as-of", "2026-10-09", "--format", "json").stdout) == []
    late = json.loads(_run("overdue", "--as-of", "2026-10-10", "--format", "json").stdout)
    assert {(i["org_code"], i["level"], i["workdays_late"], i["state"]) for i in late} == {
        ("miit", "reminder", 3, "pending"), ("eco", "reminder", 3, "pending")}
    table = _run("overdue", "--as-of", "2026-10-20").stdout
    assert "督办通知" in table and "大连市工业和信息化局" in table
    scan = json.loads(_run("supervise", "scan", "--as-of", "2026-10-20", "--format", "json").stdout)
    assert len(scan["created"]) == 2
    assert json.loads(_run("supervise", "scan", "--as-of", "2026-10-20", "--format", "json").stdout)["unchanged"] == 2
    items = json.loads(_run("supervise", "list", "--format", "json").stdout)
    first = items[0]["id"]
    evidence = tmp_path / "证明.pdf"
    evidence.write_bytes(b"%PDF-1.4 x")
    _run("supervise", "answer", str(first), "--text", "已报送", "--file", str(evidence))
    assert json.loads(_run("supervise", "show", str(first), "--format", "json").stdout)["state"] == "answered"
    out = tmp_path / "notice.docx"
    _run("supervise", "notice", str(first), "--out", str(out), "--date", "2026-10-20")
    from docx import Document

    assert "督办通知" in "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    _run("supervise", "close", str(first), "--note", "办结")
    assert json.loads(_run("supervise", "list", "--state", "closed", "--format", "json").stdout)[0]["id"] == first
    assert "supervision_answered" in _run("inbox", "--format", "json").stdout
    assert json.loads(_run("inbox", "--deliver", "--format", "json").stdout)["sent"] == 0  # no SMTP configured


def test_calendar_show_and_import(store, tmp_path):
    shown = _run("calendar", "show", "2026", "--format", "csv").stdout
    assert "2026-10-10" in shown and "调休上班" in shown
    missing = CliRunner().invoke(app, ["governance", "calendar", "show", "2031"])
    assert missing.exit_code == 2 and "2031" in missing.output
    notice = tmp_path / "2031.csv"
    notice.write_text("date,kind,name,source,status\n2031-01-01,holiday,元旦,test,unverified\n", encoding="utf-8")
    _run("calendar", "import", str(notice))
    assert "元旦" in _run("calendar", "show", "2031").stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind\n2031-01-06,holiday\n2031-01-07,nap\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["governance", "calendar", "import", str(bad)])
    assert refused.exit_code == 2 and "bad.csv" in refused.output

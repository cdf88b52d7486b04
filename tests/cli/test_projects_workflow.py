"""``citycarbon projects submit|complete|comment|decide|commission|accept|withdraw|opinion|events`` (issue 15 item
5) over a seeded SQLite store: the whole review, a refused approval (exit 2 with the numbers), the 审查意见 DOCX."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.projects.workflow import load_acceptance
from citycarbon.store import projects as store_projects
from citycarbon.store.project_models import ProjLedgerSource, ProjProject
from tests.db_fixtures import _make_db, pg_admin, settings  # noqa: F401
from tests.projects.support import CITY, chemical_project, insert_project


@pytest.fixture
def store(request, settings, monkeypatch):  # noqa: F811
    yield from _make_db(request, "sqlite", settings, monkeypatch, "seeded")


def _run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, ["projects", *args])
    assert result.exit_code == code, result.output
    return result


def test_the_review_through_the_cli(store, tmp_path):
    from docx import Document

    code = insert_project(store, chemical_project(), state="draft")
    assert json.loads(_run("submit", code, "--format", "json").stdout)["state"] == "submitted"
    assert json.loads(_run("complete", code, "--missing", "energy_report", "--format", "json").stdout)["state"] \
        == "incomplete"
    _run("submit", code)
    _run("complete", code)
    pdf = tmp_path / "意见.pdf"
    pdf.write_bytes(b"%PDF-1.4 opinion")
    assert json.loads(_run("comment", code, "--text", "补充余热利用", "--file", str(pdf), "--format",
                           "json").stdout)["attachments"][0]["filename"] == "意见.pdf"
    refused = _run("decide", code, "--decision", "approve", "--number", "N1", "--date", "2026-12-01", code=2)
    assert "tce" in refused.output
    _run("decide", code, "--decision", "conditions", "--number", "N1", "--date", "2026-12-01", code=2)  # no text
    with store.session(write=True) as session:
        session.add(ProjLedgerSource(city=CITY, code="GB-1", kind="energy", amount="9000", unit="tce"))
        session.flush()
        row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
        store_projects.allocate(session, CITY, "GB-1", row, Decimal("9000"), "tce", by="test")
    decided = json.loads(_run("decide", code, "--decision", "conditions", "--number", "大发改能审〔2026〕3号", "--date",
                              "2026-12-01", "--conditions", "一年内验收", "--format", "json").stdout)
    assert decided["state"] == "approved_conditions"
    out = tmp_path / "opinion.docx"
    _run("opinion", code, "--out", str(out))
    assert "一年内验收" in "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    _run("commission", code, "--date", "2027-01-01")
    _run("accept", code, code=2)  # no meter data and no figure
    accepted = json.loads(_run("accept", code, "--measured", "9999", "--source", "验收报告", "--format",
                               "json").stdout)
    approved = decided["approved"]["summary"]["tce_calorific"]
    assert accepted["acceptance"]["flagged"] is ((9999 - approved) / approved > load_acceptance().deviation_threshold)
    kinds = [e["kind"] for e in json.loads(_run("events", code, "--format", "json").stdout)]
    assert kinds == ["submitted", "completeness", "submitted", "completeness", "comment", "decision",
                     "commissioned", "acceptance"]


def test_withdraw_through_the_cli(store):
    code = insert_project(store, chemical_project(), state="submitted")
    assert json.loads(_run("withdraw", code, "--format", "json").stdout)["state"] == "withdrawn"
    _run("withdraw", code, code=2)

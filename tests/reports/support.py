"""Shared helpers of the report tests: principals, a published assessment run written through the store models
(the runs service is another part's work), the status figures as ``citycarbon status --format json`` gives them,
and the documents' text."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from citycarbon.auth.principal import Principal, Role

OFFICE = Principal(1, "office", Role.admin)
ANALYST = Principal(2, "analyst", Role.analyst)
MIIT = Principal(3, "m", Role.department, org="miit")
ECO = Principal(4, "e", Role.department, org="eco")
DISTRICT = Principal(5, "d", Role.district, regions=frozenset({"210202"}))
VIEWER = Principal(6, "v", Role.viewer, scopes=frozenset({"read"}))
ENTERPRISE = Principal(7, "x", Role.enterprise, enterprise_id="E1")


def cli_status(year: int) -> dict[str, Any]:
    """``citycarbon status --year Y --format json`` in this process (the test's database)."""
    from typer.testing import CliRunner

    from citycarbon.cli import app

    result = CliRunner().invoke(app, ["status", "--year", str(year), "--format", "json"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    data: dict[str, Any] = json.loads(text[text.index("{"):])
    return data.get("data", data) if "targets" not in data else data


def status_value(status: dict[str, Any], indicator: str) -> float:
    return float(next(t["actual"] for t in status["targets"] if t["indicator"] == indicator))


def publish_run(db: Any, year: int = 2024) -> int:
    """A published assessment run of two districts (hand-made scores)."""
    from citycarbon.store.assessment_models import AssessRun, AssessScore

    with db.session(write=True) as session:
        run = AssessRun(city="dalian", year=year, scheme_code="district", scheme_version=1, scheme_sha256="0" * 64,
                        ledger_version=1, as_of=datetime(2025, 3, 1, tzinfo=UTC), state="published",
                        inputs_hash="1" * 64, created_by="test", published_by="test",
                        published_at=datetime(2025, 3, 2, tzinfo=UTC))
        session.add(run)
        session.flush()
        session.add(AssessScore(run_id=run.id, unit_code="d210202", unit_kind="district", unit_name_zh="中山区",
                                region_code="210202", total="91.50", grade="excellent", rank=1, estimate=True,
                                result={"grade_zh": "优秀"}, facts={}))  # the label the runs service stores
        session.add(AssessScore(run_id=run.id, unit_code="d210203", unit_kind="district", unit_name_zh="西岗区",
                                region_code="210203", total="78.25", grade="良好", rank=2, estimate=False,
                                result={}, facts={}))
        session.flush()
        return int(run.id)


def docx_text(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """The DOCX's paragraphs and tables (cell texts)."""
    from docx import Document

    document = Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables

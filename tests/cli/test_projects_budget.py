"""``citycarbon projects budget CODE`` and ``citycarbon projects pipeline`` (issue 15 item 4): every format, the
figures the service computes, errors printed clearly."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401
from tests.projects.support import chemical_project, insert_project


def _run(*args: str):
    return CliRunner().invoke(app, list(args), env={"CITYCARBON_PROGRESS": "never"})


@pytest.fixture
def store(seeded_db):  # noqa: F811  (the fixture imported above)
    seeded_db.code = insert_project(seeded_db, chemical_project(), state="under_review")
    return seeded_db


def test_budget_in_every_format(store):
    found = _run("projects", "budget", store.code, "--format", "json")
    assert found.exit_code == 0, found.output
    data = json.loads(found.stdout)
    assert data["project"]["code"] == store.code and data["contribution"]["commissioning_year"] == 2028
    rows = list(csv.DictReader(io.StringIO(_run("projects", "budget", store.code, "--year", "2030",
                                                "--format", "csv").stdout)))
    energy = [r for r in rows if r["figure"] == "energy_tce"]
    assert len(energy) == 2 and {r["year"] for r in energy} == {"2030"}
    assert float(energy[0]["change"]) == pytest.approx(data["contribution"]["dual_control_tce"]["value"])
    table = _run("projects", "budget", store.code)
    assert table.exit_code == 0 and "双控口径" in table.stdout and "瓦房店市" in table.stdout
    missing = _run("projects", "budget", "XM-2026-9999")
    assert missing.exit_code == 2 and "no such project" in missing.output


def test_pipeline_in_every_format(store):
    data = json.loads(_run("projects", "pipeline", "--year", "2030", "--format", "json").stdout)
    assert data["year"] == 2030 and data["totals"]["projects"] == 1
    rows = list(csv.DictReader(io.StringIO(_run("projects", "pipeline", "--format", "csv").stdout)))
    assert len(rows) == 10 and {r["region"] for r in rows} >= {"210281"}
    table = _run("projects", "pipeline")
    assert table.exit_code == 0 and "项目管线" in table.stdout
    bad = _run("projects", "pipeline", "--year", "3000")
    assert bad.exit_code == 2 and "year" in bad.output

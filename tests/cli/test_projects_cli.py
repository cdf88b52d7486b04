"""``citycarbon projects list|show|check|create|import|template``: the registry's commands call the service as
the operator; an import previews unless --apply and names sheet, row and column on error (exit 2, nothing
stored)."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.services.projects.evaluate import evaluate
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401
from tests.projects.support import chemical_project


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _project_file(tmp_path, **changes):
    p = chemical_project()
    body = {"name": p.name, "applicant_name": p.applicant_name, "applicant_uscc": p.applicant_uscc,
            "region_code": p.region_code, "industry_code": p.industry_code, "kind": "new",
            "application_date": p.application_date.isoformat(),
            "products": [{"product": "ethylene", "capacity": 10000, "unit": "t/a", "unit_consumption": 600,
                          "consumption_unit": "kgoe/t"}],
            "energy": {f: {"quantity": q.value, "unit": q.unit} for f, q in p.energy.items()},
            "feedstock": {f: {"quantity": q.value, "unit": q.unit} for f, q in p.feedstock.items()},
            "national_plan": p.national_plan, **changes}
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.usefixtures("seeded_db")
def test_check_create_show_list(tmp_path):
    path = _project_file(tmp_path)
    expected = evaluate("dalian", chemical_project())
    unsaved = json.loads(_run("projects", "check", "--file", str(path), "--format", "json").stdout)
    assert unsaved["energy"]["tce_calorific"] == expected.energy.tce_calorific
    assert unsaved["verdict"] == expected.verdict.value
    created = _run("projects", "create", "--file", str(path), "--format", "json")
    assert created.exit_code == 0, created.output
    code = json.loads(created.stdout)["project"]["code"]
    table = _run("projects", "show", code)
    assert table.exit_code == 0 and "当量值" in table.stdout and "乙烯" in table.stdout
    checked = json.loads(_run("projects", "check", code, "--format", "json").stdout)
    assert checked["energy"]["tce_equivalent"] == expected.energy.tce_equivalent
    listed = _run("projects", "list", "--format", "csv").stdout
    assert code in listed and listed.splitlines()[0].startswith("编号 code")
    assert _run("projects", "show", "XM-1999-0001").exit_code == 2
    assert _run("projects", "check").exit_code == 2


@pytest.mark.usefixtures("seeded_db")
def test_template_import_preview_apply_and_bad_file(tmp_path):
    out = tmp_path / "t.xlsx"
    assert _run("projects", "template", "--out", str(out)).exit_code == 0
    preview = json.loads(_run("projects", "import", str(out), "--format", "json").stdout)
    assert preview["applied"] is False and preview["count"] == 1
    assert json.loads(_run("projects", "list", "--format", "json").stdout)["total"] == 0
    applied = _run("projects", "import", str(out), "--apply", "--format", "json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(_run("projects", "list", "--format", "json").stdout)["total"] == 1
    book = load_workbook(io.BytesIO(out.read_bytes()))
    book["能源消费"].append(["9", "能源", "electricity", 1, "10^4 kWh"])  # no project 9
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    refused = _run("projects", "import", str(bad), "--apply")
    assert refused.exit_code == 2 and "能源消费" in refused.output and "第 5 行" in refused.output
    assert json.loads(_run("projects", "list", "--format", "json").stdout)["total"] == 1

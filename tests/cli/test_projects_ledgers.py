"""``citycarbon projects ledger …``, ``projects allocate``, ``projects allocations`` and ``projects release``:
the replacement ledgers from the command line (the operator: the office); refusals exit 2 with the numbers."""

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
    return CliRunner().invoke(app, list(args))


def _json(*args: str):
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def project(seeded_db):  # noqa: F811 (the shared fixture, imported above)
    return insert_project(seeded_db, chemical_project())


def test_add_allocate_overspend_release(project, tmp_path):
    added = _json("projects", "ledger", "add", "ROOM-1", "--kind", "energy", "--amount", "4000", "--unit", "tce",
                  "--document", "大发改〔2026〕3号", "--origin", "closure", "--region", "210281")
    assert (added["remaining"], added["unit"]) == ("4000", "tce")
    made = _json("projects", "allocate", project, "--source", "ROOM-1", "--amount", "3000", "--unit", "tce")
    assert made["source"]["remaining"] == "1000" and made["allocation"]["project_code"] == project
    refused = _run("projects", "allocate", project, "--source", "ROOM-1", "--amount", "1000.5")
    assert refused.exit_code == 2 and "1000" in refused.output and "ledger" not in refused.stdout
    rows = list(csv.DictReader(io.StringIO(_run("projects", "ledger", "list", "--format", "csv").stdout)))
    assert rows[0]["code"] == "ROOM-1" and rows[0]["remaining"] == "1000"
    held = _json("projects", "allocations", project)
    assert held["coverage"]["needs"][0]["allocated"] == "3000"
    no_reason = _run("projects", "release", str(made["allocation"]["id"]), "--reason", "")
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    back = _json("projects", "release", str(made["allocation"]["id"]), "--reason", "项目撤回")
    assert back["source"]["remaining"] == "4000"
    shown = _run("projects", "ledger", "show", "ROOM-1")
    assert shown.exit_code == 0 and "4000" in shown.stdout


def test_template_and_import(seeded_db, tmp_path):  # noqa: F811
    path = tmp_path / "t.xlsx"
    assert _run("projects", "ledger", "template", "-o", str(path)).exit_code == 0
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["替代来源"]
    sheet.append(["E-9", "energy", 500, "tce", "", "", "", "210281", "", "节能量确认〔2026〕1号", "saving", ""])
    sheet.append(["C-9", "capacity", 50, "10^4 t/a", "widgets", "", "", "210281", "2024-01-01", "x", "", ""])
    book.save(path)
    bad = _run("projects", "ledger", "import", str(path), "--apply")
    assert bad.exit_code == 2 and "product" in bad.output and "row 3" in bad.output.lower().replace("第 3 行", "row 3")
    assert _json("projects", "ledger", "list") == []
    sheet.delete_rows(3)
    book.save(path)
    preview = _json("projects", "ledger", "import", str(path))
    assert preview["applied"] is False and preview["created"] == ["E-9"]
    done = _json("projects", "ledger", "import", str(path), "--apply")
    assert done["applied"] and [s["code"] for s in _json("projects", "ledger", "list")] == ["E-9"]

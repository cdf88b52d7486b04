"""``citycarbon governance orgs …`` / ``governance matrix …`` and ``users add --role department --org``: the
commands call the registry service as the operator; imports preview unless --apply; errors name file, row and
column and exit 2 with nothing stored."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.usefixtures("seeded_db")
def test_orgs_list_show_set_and_formats():
    listed = json.loads(_run("governance", "orgs", "list", "--format", "json").stdout)
    assert len(listed) == 38 and listed[0]["code"] == "leading_group"
    csv_out = _run("governance", "orgs", "list", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("code,name_zh")
    assert "大连市工业和信息化局" in _run("governance", "orgs", "list").stdout
    changed = _run("governance", "orgs", "set", "marine", "--name-en", "Ocean", "--reason", "更正", "--format", "json")
    assert changed.exit_code == 0, changed.output
    shown = json.loads(_run("governance", "orgs", "show", "marine", "--format", "json").stdout)
    assert [h["version"] for h in shown["history"]] == [1, 2] and shown["history"][-1]["change_reason"] == "更正"
    refused = _run("governance", "orgs", "set", "marine", "--kind", "ministry", "--reason", "x")
    assert refused.exit_code == 2 and "kind" in refused.output
    assert _run("governance", "orgs", "show", "nobody").exit_code == 2


@pytest.mark.usefixtures("seeded_db")
def test_orgs_import_previews_then_applies_and_names_bad_rows(tmp_path):
    good = tmp_path / "orgs.csv"
    good.write_text("code,name_zh,name_en,kind,parent,region_code,short_zh\n"
                    "z_cli,命令行新区,CLI Zone,pilot_zone,leading_group,210213,命令行新区\n", encoding="utf-8")
    preview = json.loads(_run("governance", "orgs", "import", str(good), "--format", "json").stdout)
    assert preview["applied"] is False and preview["counts"]["create"] == 1
    assert _run("governance", "orgs", "show", "z_cli").exit_code == 2
    applied = _run("governance", "orgs", "import", str(good), "--apply", "--reason", "新设", "--format", "json")
    assert applied.exit_code == 0 and json.loads(applied.stdout)["applied"] is True
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_zh,kind,parent\nz_x,某区,pilot_zone,nowhere\n", encoding="utf-8")
    refused = _run("governance", "orgs", "import", str(bad), "--apply")
    assert refused.exit_code == 2
    assert "bad.csv" in refused.output and "row 2" in refused.output and "parent" in refused.output
    template = tmp_path / "t.xlsx"
    assert _run("governance", "orgs", "template", "--empty", "-o", str(template)).exit_code == 0
    assert load_workbook(template)["组织机构"].max_row == 1


@pytest.mark.usefixtures("seeded_db")
def test_matrix_list_show_set_export_import(tmp_path):
    mine = json.loads(_run("governance", "matrix", "list", "--org", "miit", "--format", "json").stdout)
    assert mine and all("miit" in [u["code"] for u in m["units"]] for m in mine)
    task10 = json.loads(_run("governance", "matrix", "list", "--task", "10", "--format", "json").stdout)
    assert {m["task"] for m in task10} == {10}
    rows = _run("governance", "matrix", "list", "--task", "10", "--format", "csv").stdout
    assert "wind_solar_capacity=8000 MW" in rows
    changed = _run("governance", "matrix", "set", "T10-M02", "--co-unit", "natres", "--co-unit", "marine",
                   "--district", "d210283", "--deadline", "2027-12-31", "--milestone", "2025:完成选址",
                   "--indicators", json.dumps([{"code": "fishery_pv_capacity", "name_zh": "渔光互补光伏装机",
                                                "unit": "MW", "target": 500, "year": 2027}]),
                   "--reason", "分解", "--format", "json")
    assert changed.exit_code == 0, changed.output
    data = json.loads(changed.stdout)
    assert data["deadline"] == "2027-12-31" and data["indicators"][0]["target"] == 500.0
    shown = json.loads(_run("governance", "matrix", "show", "T10-M02", "--format", "json").stdout)
    assert [h["version"] for h in shown["history"]] == [1, 2]
    bad = _run("governance", "matrix", "set", "T10-M02", "--lead", "ghost", "--reason", "x")
    assert bad.exit_code == 2 and "lead" in bad.output
    export = tmp_path / "matrix.xlsx"
    assert _run("governance", "matrix", "export", "-o", str(export)).exit_code == 0
    book = load_workbook(export)
    for row in book["措施"].iter_rows(min_row=2):
        if row[0].value == "T13-M05":
            row[6].value = "2026-06-30"
    book.save(export)
    applied = json.loads(_run("governance", "matrix", "import", str(export), "--apply", "--reason", "年度",
                              "--format", "json").stdout)
    assert applied["counts"]["update"] == 1 and applied["applied"] is True
    template = tmp_path / "template.xlsx"
    assert _run("governance", "matrix", "template", "-o", str(template)).exit_code == 0
    assert load_workbook(template).sheetnames[0] == "说明"


@pytest.mark.usefixtures("seeded_db")
def test_a_department_user_is_added_with_its_organisation():
    added = _run("users", "add", "--username", "miit-clerk", "--role", "department", "--org", "miit", "--format",
                 "json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["org"] == "miit"
    refused = _run("users", "add", "--username", "ghost-clerk", "--role", "department", "--org", "nowhere")
    assert refused.exit_code == 2 and "nowhere" in refused.output

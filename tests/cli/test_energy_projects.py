"""``citycarbon energy-projects …``: add, list, show, stage, wind-solar, template and import (preview unless
--apply; a bad file exits 2 naming the row and column, nothing stored)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.usefixtures("seeded_db")
def test_add_list_stage_card(tmp_path):
    card = json.loads(_run("energy-projects", "wind-solar", "--format", "json").stdout)
    added = _run("energy-projects", "add", "--name", "庄河海上风电", "--technology", "wind_offshore",
                 "--region-code", "210283", "--capacity-mw", "400", "--format", "json")
    assert added.exit_code == 0, added.output
    code = json.loads(added.stdout)["code"]
    moved = _run("energy-projects", "stage", code, "grid_connected", "--version", "1", "--on", "2026-06-30",
                 "--format", "json")
    assert moved.exit_code == 0, moved.output
    after = json.loads(_run("energy-projects", "wind-solar", "--format", "json").stdout)
    assert after["grid_connected_mw"] == card["grid_connected_mw"] + 400
    listed = json.loads(_run("energy-projects", "list", "--stage", "grid_connected", "--format", "json").stdout)
    assert [p["code"] for p in listed] == [code]
    shown = json.loads(_run("energy-projects", "show", code, "--format", "json").stdout)
    assert [h["stage"] for h in shown["history"]] == ["planned", "grid_connected"]
    refused = _run("energy-projects", "stage", code, "planned", "--version", "2")
    assert refused.exit_code == 2 and "reason" in refused.output
    assert _run("energy-projects", "add", "--name", "x", "--technology", "wind_sideways", "--region-code", "210283",
                "--capacity-mw", "1").exit_code == 2


@pytest.mark.usefixtures("seeded_db")
def test_template_and_import(tmp_path):
    out = tmp_path / "t.xlsx"
    assert _run("energy-projects", "template", "-o", str(out)).exit_code == 0 and out.stat().st_size > 0
    good = tmp_path / "e.csv"
    good.write_text("name,technology,region_code,capacity_mw\n庄河渔光互补,solar_fishery,210283,100\n",
                    encoding="utf-8")
    preview = json.loads(_run("energy-projects", "import", str(good), "--format", "json").stdout)
    assert preview["applied"] is False and preview["counts"]["create"] == 1
    assert json.loads(_run("energy-projects", "list", "--format", "json").stdout) == []
    applied = _run("energy-projects", "import", str(good), "--apply", "--format", "json")
    assert applied.exit_code == 0 and json.loads(applied.stdout)["applied"] is True
    bad = tmp_path / "bad.csv"
    bad.write_text("name,technology,region_code,capacity_mw\n坏,solar_fishery,210283,-5\n", encoding="utf-8")
    refused = _run("energy-projects", "import", str(bad), "--apply")
    assert refused.exit_code == 2 and "capacity_mw" in refused.output

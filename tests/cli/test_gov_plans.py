"""``citycarbon governance plans list|show|register|withdraw|check`` ("1+N", issue 14 item 3)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401

FIXTURES = Path(__file__).parents[1] / "fixtures" / "subplans"


def _run(*args: str):
    return CliRunner().invoke(app, ["governance", "plans", *args])


@pytest.mark.usefixtures("seeded_db")
def test_register_list_show_check_withdraw(tmp_path):
    for name in ("zhuanghe", "energy"):
        result = _run("register", str(FIXTURES / f"{name}.yaml"), "--reason", "示例", "--format", "json")
        assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["code"] == "energy_sector_2030"

    listed = json.loads(_run("list", "--format", "json").stdout)
    assert [p["code"] for p in listed] == ["energy_sector_2030", "zhuanghe_2030"]
    table = _run("list").stdout
    assert "zhuanghe_2030" in table and "庄河市碳达峰实施方案" in table

    shown = list(csv.DictReader(io.StringIO(_run("show", "zhuanghe_2030", "--format", "csv").stdout)))
    assert shown[0]["target"] == "wind_solar_capacity_2030" and shown[0]["unit"] == "GW"
    assert shown[0]["value"] == "3.5"

    report = json.loads(_run("check", "--format", "json").stdout)
    short = next(f for f in report["findings"] if f["code"] == "allocation_short")
    assert (short["target"], short["total"], short["unit"]) == (8000.0, 3500.0, "MW")
    rows = list(csv.DictReader(io.StringIO(_run("check", "--format", "csv").stdout)))
    assert {"severity", "code", "plans", "target", "total", "gap", "unit", "message"} <= set(rows[0])
    assert any(r["code"] == "allocation_short" and r["gap"] == "-4500.0" for r in rows)

    done = _run("withdraw", "zhuanghe_2030", "--format", "json")
    assert done.exit_code == 0 and json.loads(done.stdout)["valid_to"]
    assert [p["code"] for p in json.loads(_run("list", "--format", "json").stdout)] == ["energy_sector_2030"]


@pytest.mark.usefixtures("seeded_db")
def test_a_bad_file_names_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES / "zhuanghe.yaml").read_text("utf-8").replace("parent: dalian", "parent: dalain"),
                   "utf-8")
    result = _run("register", str(bad))
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "meta.parent" in result.output and "dalian" in result.output
    assert json.loads(_run("list", "--format", "json").stdout) == []
    missing = _run("show", "nothing_here")
    assert missing.exit_code == 2

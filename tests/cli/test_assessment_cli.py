"""``citycarbon assess run|show|adjust|objections|answer|publish|reproduce|schemes`` (issue 16 item 5) over a
seeded SQLite store with fake collectors (every unit 81.00 under the hand-worked ``handtest`` scheme)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.assessment.runs_support import CITY, ZHONGSHAN, register_test_scheme, uniform_collectors
from tests.db_fixtures import _make_db, pg_admin, settings  # noqa: F401


@pytest.fixture
def store(request, settings, monkeypatch):  # noqa: F811
    for db in _make_db(request, "sqlite", settings, monkeypatch, "seeded"):
        register_test_scheme(db)
        with uniform_collectors():
            yield db


def _assess(*args: str, code: int = 0):
    result = CliRunner().invoke(app, ["assess", *args])
    assert result.exit_code == code, result.output
    return result


def test_run_adjust_publish_through_the_cli(store):
    from citycarbon.services.assessment import runs

    board = json.loads(_assess("run", "--year", "2024", "--scheme", "handtest", "--format", "json").stdout)
    assert {r["total"] for r in board["rows"]} == {"81.00"} and board["run"]["state"] == "draft"
    table = _assess("show", "--year", "2024", "--scheme", "handtest").output
    assert "中山区" in table and "含估算" in table and "81.00" in table and "草稿" in table
    unit = _assess("show", "--year", "2024", "--scheme", "handtest", "--unit", "d210202").output
    assert "组织领导" in unit and "48.00" in unit
    adjusted = json.loads(_assess("adjust", "--year", "2024", "--scheme", "handtest", "--unit", "d210202",
                                  "--item", "q", "--points", "20", "--reason", "组织有力", "--format",
                                  "json").stdout)
    assert adjusted["total"] == "86.00" and adjusted["rank"] == 1
    bad = _assess("adjust", "--year", "2024", "--scheme", "handtest", "--unit", "d210202", "--item", "a",
                  "--points", "20", "--reason", "x", code=2)
    assert "indicator" in bad.output
    objection = runs.object_to(store, ZHONGSHAN, CITY, board["run"]["id"], "d210202", text="请核实")
    assert "请核实" in _assess("objections", "--year", "2024", "--scheme", "handtest").output
    assert "objection" in _assess("publish", "--year", "2024", "--scheme", "handtest", "--early", "--note", "x",
                                  code=2).output
    _assess("answer", "--year", "2024", "--scheme", "handtest", "--objection", str(objection.id), "--decision",
            "rejected", "--answer", "以统计数为准")
    _assess("publish", "--year", "2024", "--scheme", "handtest", code=2)  # within the objection period
    published = _assess("publish", "--year", "2024", "--scheme", "handtest", "--early", "--note", "已确认",
                        "--format", "csv").stdout
    assert published.splitlines()[0].startswith("名次,单位代码,单位,得分")
    assert "已发布" in _assess("show", "--year", "2024", "--scheme", "handtest").output
    assert "一致" in _assess("reproduce", "--year", "2024", "--scheme", "handtest").output
    assert "handtest" in _assess("schemes").output
    _assess("run", "--year", "2024", "--scheme", "handtest", code=2)  # published: refused


def test_scheme_add_registers_the_next_version_and_names_the_field(store, tmp_path):
    from citycarbon.data import data_path

    text = data_path("assessment/schemes/district.yaml").read_text(encoding="utf-8")
    path = tmp_path / "district-v2.yaml"
    path.write_text(text.replace("version: 1\n", "version: 2\n").replace("default: 8}", "default: 7}"),
                    encoding="utf-8")
    added = json.loads(_assess("scheme-add", str(path), "--format", "json").stdout)
    assert added["code"] == "district" and added["version"] == 2
    listed = _assess("schemes").output
    assert "区市县、开放先导区" in listed and "pilot_zone" not in listed
    again = _assess("scheme-add", str(path), code=2).output  # version 2 exists: 3 is next
    assert "version" in again and "district-v2.yaml" in again
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("points: 15", "points: -1", 1), encoding="utf-8")
    assert "broken.yaml" in _assess("scheme-add", str(broken), code=2).output

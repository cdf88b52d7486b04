"""The CLI faces of the city scope and the new city's regions (issue 14, gaps of issue 13): ``citycarbon
imports`` run for another city (``CITYCARBON_CITY_SCOPE``) than the deployment's is refused by the import service
(exit 2, nothing stored); ``citycarbon city init --regions FILE`` registers the city's districts and a row of one
of them then imports; a bad regions file names its row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, settings, sqlite_db  # noqa: F401

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cities"
STATS = "year,region,variable,value,unit,price_base_year,status,source\n2022,{region},population,80.1,10^4 person,,,\n"


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.mark.usefixtures("sqlite_db")
def test_imports_for_another_city_are_refused(tmp_path):
    file = tmp_path / "stats.csv"
    file.write_text(STATS.format(region="210211"), encoding="utf-8")
    refused = _run("imports", "upload", str(file), env={"CITYCARBON_CITY_SCOPE": "toyville"})
    assert refused.exit_code == 2 and "toyville" in refused.output
    listed = _run("imports", "list", "--format", "json", env={"CITYCARBON_CITY_SCOPE": "toyville"})
    assert listed.exit_code == 2
    done = _run("imports", "upload", str(file), "--format", "json", env={"CITYCARBON_CITY_SCOPE": "dalian"})
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "validated"


@pytest.mark.usefixtures("sqlite_db")
def test_city_init_registers_its_regions_and_their_rows_import(tmp_path):
    regions = tmp_path / "toy_regions.csv"
    regions.write_text("code,name_zh,name_en,level\n990102,玩具一区,Toy District One,district\n", encoding="utf-8")
    created = _run("city", "init", "--plan", str(FIXTURES / "toyville.yaml"), "--regions", str(regions))
    assert created.exit_code == 0, created.output
    file = tmp_path / "toy.csv"
    file.write_text(STATS.format(region="990102"), encoding="utf-8")
    batch = _run("imports", "upload", str(file), "--kind", "statistics", "--format", "json")
    assert batch.exit_code == 0, batch.output
    assert json.loads(batch.stdout)["preview"]["regions"] == ["990102"]


@pytest.mark.usefixtures("sqlite_db")
def test_a_bad_regions_file_names_its_row(tmp_path):
    regions = tmp_path / "bad.csv"
    regions.write_text("code,name_zh,name_en,level\n990102,一区,One,district\n123456,外市,Elsewhere,district\n",
                       encoding="utf-8")
    refused = _run("city", "init", "--plan", str(FIXTURES / "toyville.yaml"), "--regions", str(regions))
    assert refused.exit_code == 2
    assert "bad.csv" in refused.output and "3" in refused.output and "123456" in refused.output
    assert json.loads(_run("city", "list", "--format", "json").stdout) == []

"""``citycarbon city …`` and ``citycarbon targets …`` (issue 13 items 2–3): a city from its plan file with an
empty ledger, a set value with its document, and the CLI's city scope (``CITYCARBON_CITY_SCOPE``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, settings, sqlite_db  # noqa: F401

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cities"
TARGET = "energy_intensity_reduction_2025"


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def toyville(request):
    request.getfixturevalue("sqlite_db")
    result = _run("city", "init", "--plan", str(FIXTURES / "toyville.yaml"), "--accounting",
                  str(FIXTURES / "toyville_accounting.yaml"), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_city_init_and_list(toyville):
    assert toyville["code"] == "toyville" and toyville["missing"] == ["balance", "statistics"]
    assert toyville["accounting"] == {"method": "coal-equivalent", "include_process": False}
    listed = json.loads(_run("city", "list", "--format", "json").stdout)
    assert [c["code"] for c in listed] == ["toyville"]


def test_status_of_a_city_without_data_names_what_is_missing(toyville):
    result = _run("status", "--city", "toyville", "--year", "2021", "--source", "store")
    assert result.exit_code == 2
    assert "toyville" in result.output and "no balance and no statistics" in result.output


@pytest.mark.usefixtures("sqlite_db")
def test_a_bad_plan_is_refused_naming_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES / "toyville.yaml").read_text("utf-8").replace("year: 2025", "year: twenty"), "utf-8")
    result = _run("city", "init", "--plan", str(bad))
    assert result.exit_code == 2 and "bad.yaml" in result.output and "row" in result.output
    assert json.loads(_run("city", "list", "--format", "json").stdout) == []


def test_targets_set_list_history(toyville):
    result = _run("targets", "set", TARGET, "--city", "toyville", "--value", "13.5", "--unit", "percent",
                  "--document", "辽政发〔2022〕12号", "--date", "2022-05-01", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["value_in_target_unit"] == pytest.approx(0.135)
    listed = {t["id"]: t for t in json.loads(_run("targets", "list", "--city", "toyville", "--format",
                                                  "json").stdout)}
    assert listed[TARGET]["origin"] == "set" and listed[TARGET]["set"]["document_date"] == "2022-05-01"
    table = _run("targets", "list", "--city", "toyville").stdout
    assert "辽政发〔2022〕12号" in table
    history = json.loads(_run("targets", "history", TARGET, "--city", "toyville", "--format", "json").stdout)
    assert [h["value"] for h in history] == [13.5]
    refused = _run("targets", "set", TARGET, "--city", "toyville", "--value", "1", "--unit", "kg", "--document", "x")
    assert refused.exit_code == 2 and "unit" in refused.output


def test_the_cli_city_scope_refuses_another_city(toyville):
    scoped = {"CITYCARBON_CITY_SCOPE": "otherville"}
    result = _run("targets", "set", TARGET, "--city", "toyville", "--value", "0.1", "--unit", "1", "--document",
                  "辽政发〔2022〕12号", env=scoped)
    assert result.exit_code == 2 and "scoped to city 'otherville'" in result.output
    assert _run("targets", "list", "--city", "toyville", env=scoped).exit_code == 2
    assert json.loads(_run("city", "list", "--format", "json", env=scoped).stdout) == []
    own = _run("targets", "set", TARGET, "--city", "toyville", "--value", "0.1", "--unit", "1", "--document",
               "辽政发〔2022〕12号", env={"CITYCARBON_CITY_SCOPE": "toyville"})
    assert own.exit_code == 0, own.output

"""docs/pathways.md documents every cost figure, learning technology and potential with its source (issue 17),
in tables generated from the data files by tools/pathway_tables.py (regenerate them when the files change)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from citycarbon.pathways.parameters import load_costs, load_learning, load_potentials

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "pathways.md"


def _tool():
    spec = importlib.util.spec_from_file_location("pathway_tables", ROOT / "tools" / "pathway_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_list_every_cost_learning_and_potential_row():
    text = DOC.read_text(encoding="utf-8")
    for name in load_costs()["id"]:
        assert f"`{name}`" in text, name
    for technology in set(load_learning()["technology"]):
        assert f"`{technology}`" in text, technology
    for name in load_potentials()["id"]:
        assert f"`{name}`" in text, name


def test_the_generated_tables_are_current():
    text = DOC.read_text(encoding="utf-8")
    hint = "run: .venv/bin/python tools/pathway_tables.py --write docs/pathways.md"
    assert _tool().replace_tables(text) == text, hint


def test_cli_lists_costs_and_potentials_with_sources():
    import csv
    import io
    import json

    from typer.testing import CliRunner

    from citycarbon.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["pathway", "costs", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["id"] for r in data["costs"]] == list(load_costs()["id"])
    assert all(r["source"] and r["status"] for r in data["costs"])
    assert {r["kind"] for r in data["costs"] if r["id"].startswith("life_")} == {"fixed"}
    assert len(data["learning"]) == len(load_learning())
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["pathway", "costs", "--format", "csv"]).stdout)))
    assert rows[0]["id"] == "discount_rate" and float(rows[0]["default"]) == 0.08
    table = runner.invoke(app, ["pathway", "potentials"])
    assert table.exit_code == 0 and "wind_offshore" in table.stdout
    data = json.loads(runner.invoke(app, ["pathway", "potentials", "--format", "json"]).stdout)
    assert {r["id"] for r in data["potentials"]} == set(load_potentials()["id"])

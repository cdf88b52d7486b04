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

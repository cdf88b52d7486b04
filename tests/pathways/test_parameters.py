"""Lever and parameter files: every row checked, problems name file, row and field."""

from __future__ import annotations

import numpy as np
import pytest

from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.pathways.parameters import load_levers, load_uncertain, ramp
from citycarbon.plan import load_plan


def test_levers_cite_plan_tasks_and_sources():
    plan = load_plan()
    numbers = {t.number for t in plan.tasks}
    for lever in load_levers():
        assert lever.source and lever.status in ("secondary", "estimate", "official", "unverified")
        assert set(lever.tasks) <= numbers, lever.id
        if lever.group != "baseline":
            assert lever.tasks, lever.id
            assert {plan.task(t).group for t in lever.tasks} & {int(lever.group)} or lever.group == "6", lever.id
        assert lever.min <= lever.default <= lever.max and lever.min <= lever.plan <= lever.max


def test_ramps():
    years = np.arange(2020, 2061)
    linear = ramp(years, 2021, 2030, "linear", 10)
    assert linear[0] == 0 and linear[years == 2030][0] == 1 and linear[-1] == 1
    s = ramp(years, 2021, 2030, "s_curve", 10)
    assert s[years == 2021][0] == pytest.approx(0) and s[years == 2030][0] == pytest.approx(1)
    assert np.all(np.diff(s) >= 0) and np.all(np.diff(linear) >= 0)
    step = ramp(years, 2025, 2030, "step", 10)
    assert step[years == 2024][0] == 0 and step[years == 2025][0] == 1


def _copy_with(tmp_path, name: str, old: str, new: str):
    """A copy of a shipped file with one change, under a fresh name (the loaders cache by path)."""
    text = data_path(f"pathways/{name}").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}_{name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def test_bad_lever_file(tmp_path):
    path = _copy_with(tmp_path, "levers.csv", ",s_curve,1,", ",sigmoid,1,")
    with pytest.raises(InputError) as info:
        load_levers(path)
    assert info.value.first.file.endswith("levers.csv") and info.value.first.field == "shape"
    assert info.value.first.row is not None
    path = _copy_with(tmp_path, "levers.csv", "MW,700,0,0,2000", "MW,7000,0,0,2000")
    with pytest.raises(InputError, match=r"default 7000\.0 outside"):
        load_levers(path)


def test_bad_parameter_file(tmp_path):
    path = _copy_with(tmp_path, "parameters.csv", "dimensionless,0.15,0.05,0.4", "dimensionless,0.15,0.2,0.4")
    with pytest.raises(InputError, match="outside \\[low, high\\]"):
        load_uncertain(path)
    path = _copy_with(tmp_path, "parameters.csv", "MWh/tce,2.4", "bananas,2.4")
    with pytest.raises(InputError) as info:
        load_uncertain(path)
    assert info.value.first.field == "unit"


def test_docs_list_every_lever_and_parameter():
    """docs/pathways.md carries the lever and parameter tables (regenerate them when the files change)."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "pathways.md").read_text(encoding="utf-8")
    for lever in load_levers():
        assert f"`{lever.id}`" in text, lever.id
    for name in load_uncertain()["id"]:
        assert f"`{name}`" in text, name

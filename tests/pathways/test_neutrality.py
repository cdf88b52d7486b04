"""The shipped Neutrality scenario (issue 17): it meets every plan target the least-cost seek reaches on the
central run, misses exactly those the seek names out of reach (with the reason), keeps the P ≥ 0.8 claim of its
header on a 200-run ensemble, and what it takes against the Plan (the service's ``what_it_takes``)."""

from __future__ import annotations

import pytest

from citycarbon.pathways import build_model, load_scenario
from citycarbon.pathways.goalseek import seek
from citycarbon.pathways.scenarios import scenario_dir
from citycarbon.pathways.uncertainty import ensemble
from citycarbon.services.pathways import PathwayService

HEADER = [line[1:].strip() for line in (scenario_dir() / "Neutrality.yaml").read_text(encoding="utf-8").splitlines()
          if line.startswith("#")]


def listed(prefix: str) -> list[str]:
    """Target ids on the header line starting with ``prefix`` (``none`` → [])."""
    line = next(line for line in HEADER if line.startswith(prefix))
    body = line[len(prefix):].split(". Why")[0].rstrip(".").strip()
    return [] if body == "none" else [item.split(" (")[0].strip() for item in body.split(",")]


@pytest.fixture(scope="module")
def model():
    return build_model("dalian")


def test_neutrality_meets_every_target_the_seek_reaches_and_misses_exactly_the_ones_named(model):
    plan, neutrality = load_scenario("Plan"), load_scenario("Neutrality")
    assert neutrality.name_zh == "达峰中和情景" and neutrality.parent == "Plan"
    targets = model.evaluate(model.vector(neutrality)[None, :]).targets()
    missing = {key for key, (met, _) in targets.items() if not bool(met[0])}
    assert missing == set(listed("Out of reach (central run):"))
    # the least-cost seek from the Plan names exactly these out of reach (corners and its margin search), and why
    result = seek(model, plan, seed=0, objective="least-cost", keep_scenario=True, polish=False, starts=1)
    assert {t["id"] for t in result.infeasible} == missing
    for key in missing:
        why = result.why[key]
        assert why["text_zh"] and why["text_en"] and (why["levers"] or why["parameters"])
    # no lever of Neutrality is less ambitious than the Plan's (the seek kept the Plan as its floor)
    for lever in model.levers:
        before, after = plan.levers.get(lever.id, lever.default), neutrality.levers.get(lever.id, lever.default)
        assert lever.min <= after <= lever.max
        assert (after - before) * lever.direction >= -1e-9, lever.id


def test_neutrality_keeps_its_probability_claim_on_200_runs(model):
    claimed = listed("P >= 0.8 (200 runs, seed 0):")
    assert claimed
    shares = ensemble(model, load_scenario("Neutrality"), 200, 0, series=[]).p_met()
    assert all(shares[t] >= 0.8 for t in claimed), shares


def test_what_it_takes_from_plan_to_neutrality():
    data = PathwayService("dalian", source="files").what_it_takes()
    assert data["base"]["name"] == "Plan" and data["target"]["name"] == "Neutrality"
    assert data["levers"] and all(lv["name_zh"] and lv["name_en"] and lv["unit"] for lv in data["levers"])
    for lever in data["levers"]:
        assert lever["change"] == pytest.approx(lever["target"] - lever["base"]) and lever["change"] != 0
    npv = data["cost"]["npv"]
    assert npv["target_vs_base"] == pytest.approx(npv["target"] - npv["base"])
    assert npv["target_vs_bau"] == pytest.approx(npv["target"] - npv["bau"])
    for year in ("2030", "2060"):
        annual = data["cost"]["annual"][year]
        assert set(annual["target_vs_base"]) == {*data["cost"]["sectors"], "total"}
        assert sum(annual["target_vs_base"][s] for s in data["cost"]["sectors"]) == pytest.approx(
            annual["target_vs_base"]["total"], rel=1e-9, abs=1.0)
    assert data["met"]["target"] == sum(t["target_met"] for t in data["targets"]) >= data["met"]["base"]
    assert data["met"]["total"] == len(data["targets"])


def test_what_it_takes_says_why_a_missed_target_stays_missed():
    data = PathwayService("dalian", source="files").what_it_takes()
    missed = {t["id"] for t in data["targets"] if not t["target_met"]}
    assert set(data["why"]) == missed
    for why in data["why"].values():
        assert why["text_zh"] and why["text_en"] and isinstance(why["levers"], list)

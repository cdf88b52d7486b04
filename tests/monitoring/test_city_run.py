"""The "Done when" pipeline of issue 6 end to end at a tiny size (benchmarks/city_run_monitoring.py's run_city):
simulate → ingest into a fresh lake → quality on the lake's readings → precision/recall against the truth →
monthly rollups by enterprise and district → alerts for the last day against the alert truth.

Thresholds. With the simulator's default (faults keep 12 clean intervals apart) every rule is exact on its own
fault, so precision and recall ≥ 0.95 per kind (the bound the quality tests use; a miss would be an edge
effect of the window) — on kinds with at least 5 truth rows, fewer being all-or-nothing noise. Alerts: every
truth alert that is not borderline (true figure within 1 point of a threshold) is raised, and no alert is
raised that the truth does not hold (an enterprise without a truth alert gets none).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def city_run():
    # importable by name, so that worker processes (spawned, with this sys.path) find check_chunk too
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    return importlib.import_module("city_run_monitoring")


SITUATIONS = {"over_budget_share": 0.4, "outage_share": 0.25, "dropout_share": 0.1}


@pytest.fixture(scope="module")
def run(city_run, tmp_path_factory):
    return city_run.run_city(units=6, days=10, points=4, seed=12, chunk=3, workers=0, situations=SITUATIONS,
                             root=tmp_path_factory.mktemp("city"), log=lambda line: None)


def _keys(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return {(str(k), str(e), str(s)) for k, e, s in zip(frame["kind"], frame["enterprise_id"], frame["subject"],
                                                         strict=True)}


def test_every_reading_is_ingested_and_checked(run):
    assert run["done_units"] == 6
    assert run["ingest"]["rejected"] == 0
    # the lake holds what was accepted and revised (+ register reads the ingest re-derived around late reads)
    assert run["readings"] >= run["ingest"]["accepted"] + run["ingest"]["revised"]
    assert run["readings"] > 6 * 4 * 10 * 96 * 0.9


def test_flags_match_the_truth_per_fault_kind(run):
    counts = run["counts"]
    scored = counts.drop(index=[k for k in ("submeter_balance",) if k in counts.index])
    assert {"gap", "late", "clock_skew", "unit_mistake", "stuck"} <= set(scored[scored["truth"] > 0].index)
    for kind, row in scored[scored["truth"] >= 5].iterrows():
        assert row["true_positive"] / row["truth"] >= 0.95, kind
        assert row["true_positive"] / row["flagged"] >= 0.95, kind


def test_every_truth_alert_is_raised_and_nothing_else(run):
    truth, raised = run["alert_truth"], run["raised"]
    border = _keys(truth[truth["borderline"]])
    firm = _keys(truth[~truth["borderline"] & (truth["level"] != "")]) - border
    got = _keys(raised) - border
    assert {"budget", "silence", "completeness"} <= {k for k, _, _ in firm}  # the injected situations are there
    assert firm <= got, sorted(firm - got)  # every truth alert raised
    assert got <= firm, sorted(got - firm)  # no alert the truth does not hold
    clean = set(run["registry"].enterprises["enterprise_id"]) - {e for _, e, _ in firm | border}
    assert not (set(raised["enterprise_id"]) & clean)
    # budget levels agree and the alerts were computed on the repaired energy
    scores = run["alert_scores"]["budget"]
    assert scores.get("level_agrees", 0) == scores.get("true_positive", 0)


def test_monthly_rollups_by_enterprise_and_district(run):
    by_ent, district = run["by_enterprise"], run["by_district"]
    assert set(by_ent["enterprise_id"]) == set(run["registry"].enterprises["enterprise_id"])
    assert set(district["region"]) == set(run["registry"].enterprises["region"])
    for frame in (by_ent, district):
        assert (frame["tce_calorific"] > 0).all() and (frame["co2_t"] > 0).all()
    # districts add up to the same tce as the enterprises (main meters of energy at both levels)
    assert district["tce_calorific"].sum() == pytest.approx(by_ent["tce_calorific"].sum(), rel=1e-9)


def test_clean_city_raises_only_what_its_truth_holds(city_run, tmp_path):
    result = city_run.run_city(units=4, days=5, points=3, seed=4, chunk=4, workers=0, faults=False,
                               situations=False, root=tmp_path, log=lambda line: None)
    counts = result["counts"]
    assert counts.loc[[k for k in counts.index if k != "rollover"], "flagged"].sum() == 0
    truth, raised = result["alert_truth"], result["raised"]
    border = _keys(truth[truth["borderline"]])
    assert _keys(raised) - border == _keys(truth[~truth["borderline"] & (truth["level"] != "")]) - border
    assert "unrepaired_fault" not in set(raised["kind"]) and "silence" not in set(raised["kind"])


def test_checking_in_a_worker_process_gives_the_same_figures(city_run, run, tmp_path):
    other = city_run.run_city(units=6, days=10, points=4, seed=12, chunk=3, workers=1, check_workers=1,
                              situations=SITUATIONS, root=tmp_path, log=lambda line: None)
    pd.testing.assert_frame_equal(other["counts"].sort_index(), run["counts"].sort_index())
    assert other["alert_scores"] == run["alert_scores"] and other["alert_scores_raw"] == run["alert_scores_raw"]
    pd.testing.assert_frame_equal(other["raised"].reset_index(drop=True), run["raised"].reset_index(drop=True))
    assert other["readings"] == run["readings"] and other["flags"] == run["flags"]
    pd.testing.assert_frame_equal(other["by_district"], run["by_district"])

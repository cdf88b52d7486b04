"""Assessment runs (issue 16 item 2) on SQLite and PostgreSQL: a hand-worked run with fake collectors, the
office's adjustment re-scoring exactly, the objection period, publication freezing the run, reproduction on the
stored ledger version after a later ledger write, and the scope of every role (see ``runs_support``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.services.assessment import runs
from citycarbon.store.audit import AuditEntry
from tests.assessment.runs_support import (
    ANALYST,
    CITY,
    DEPT,
    ENTERPRISE,
    EXPECTED,
    OFFICE,
    OFFICE_READ,
    SCHEME,
    VIEWER,
    XIGANG,
    ZHONGSHAN,
    fake_collectors,
    prepared,
    write_statistics,
)
from tests.db_fixtures import db, pg_admin, settings  # noqa: F401


@pytest.fixture
def ready(db):  # noqa: F811
    prepared(db)
    with fake_collectors():
        yield db


def _run(store, **options):
    return runs.run_assessment(store, OFFICE, CITY, 2024, scheme="handtest", **options)


def _actions(store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_hand_worked_run(ready):
    view = _run(ready)
    rows = {r.unit_code: r for r in view.rows}
    assert set(rows) == {"d1", "d2", "z1"}  # the department is not a district or pilot zone
    assert {code: (r.total, r.grade, r.rank) for code, r in rows.items()} == EXPECTED
    assert [r.unit_code for r in view.rows] == ["d1", "d2", "z1"]
    assert rows["d2"].estimate and not rows["d1"].estimate
    assert rows["z1"].vetoed and rows["z1"].vetoed_by == ["v"] and rows["z1"].incomplete == ["b"]
    assert rows["d1"].grade_zh == "良好"
    assert view.run.state == "draft" and view.run.ledger_version == 1 and view.complete
    assert view.run.objection_until == (runs._today() + timedelta(days=10)).isoformat()
    assert len(view.run.inputs_hash) == 64
    detail = runs.unit_score(ready, OFFICE, CITY, view.run.id, "d1")
    items = {i["code"]: i for i in detail.items}
    assert items["a"]["points"] == "48.00" and items["a"]["fact"]["value"] == 0.8
    assert items["a"]["fact"]["evidence"][0]["ledger_version"] == 1
    assert items["p"]["points"] == "-2.00" and items["q"]["points"] == "15.00"
    assert sum(Decimal(i["points"]) for i in detail.items) == Decimal(detail.total)
    assert "assessment.run" in _actions(ready)
    # the same facts give the same inputs hash
    again = _run(ready)
    assert again.run.inputs_hash == view.run.inputs_hash
    states = {s.id: s.state for s in runs.list_runs(ready, OFFICE, CITY, year=2024)}
    assert states == {view.run.id: "superseded", again.run.id: "draft"}  # the newer draft supersedes


def test_adjust_rescores_exactly_and_is_audited(ready):
    view = _run(ready)
    run_id, version = view.run.id, view.run.version
    after = runs.adjust(ready, OFFICE, CITY, run_id, "d2", "q", points="20", reason="组织领导有力，专题会议 6 次",
                        version=version)
    assert after.total == "50.00" and after.grade == "fail"
    assert next(i for i in after.items if i["code"] == "q")["explanation_zh"].startswith("办公室评定 20 分")
    assert after.adjustments[-1]["reason"] == "组织领导有力，专题会议 6 次" and after.run.version == version + 1
    with pytest.raises(Conflict):  # the version read is stale now
        runs.adjust(ready, OFFICE, CITY, run_id, "d2", "q", points=10, reason="x", version=version)
    with pytest.raises(InputError) as error:  # a data item cannot be set
        runs.adjust(ready, OFFICE, CITY, run_id, "d2", "a", points=10, reason="x", version=version + 1)
    assert error.value.problems[0].field == "indicator"
    with pytest.raises(InputError) as error:  # over the item's points
        runs.adjust(ready, OFFICE, CITY, run_id, "d2", "q", points="20.5", reason="x", version=version + 1)
    assert error.value.problems[0].field == "points"
    with pytest.raises(InputError) as error:
        runs.adjust(ready, OFFICE, CITY, run_id, "d2", "q", points="10", reason="  ", version=version + 1)
    assert error.value.problems[0].field == "reason"
    for who in (ANALYST, OFFICE_READ):
        with pytest.raises(Forbidden):
            runs.adjust(ready, who, CITY, run_id, "d2", "q", points=10, reason="x", version=version + 1)
    with pytest.raises(NotFound):  # another unit's row: not leaked
        runs.adjust(ready, ZHONGSHAN, CITY, run_id, "d2", "q", points=10, reason="x", version=version + 1)
    with pytest.raises(Forbidden):  # its own row: not the office
        runs.adjust(ready, ZHONGSHAN, CITY, run_id, "d1", "q", points=10, reason="x", version=version + 1)
    board = runs.get_run(ready, OFFICE, CITY, run_id)
    assert {r.unit_code: (r.total, r.rank, r.adjustments) for r in board.rows} == {
        "d1": ("81.00", 1, 0), "d2": ("50.00", 2, 1), "z1": ("75.00", 3, 0)}
    assert "assessment.adjust" in _actions(ready)
    # a new draft of the same year carries the office's adjustment over
    rerun = _run(ready)
    assert next(r for r in rerun.rows if r.unit_code == "d2").total == "50.00"


def test_objection_period_and_answers(ready, monkeypatch):
    view = _run(ready)
    run_id = view.run.id
    objection = runs.object_to(ready, ZHONGSHAN, CITY, run_id, "d1", text="指标甲的数据应按修订后的统计数计",
                               indicator="a")
    assert objection.state == "open" and objection.indicator == "a"
    with pytest.raises(NotFound):
        runs.object_to(ready, ZHONGSHAN, CITY, run_id, "d2", text="x")
    for who in (OFFICE, ANALYST):  # only the unit itself objects
        with pytest.raises(Forbidden):
            runs.object_to(ready, who, CITY, run_id, "d1", text="x")
    with pytest.raises(InputError):
        runs.object_to(ready, ZHONGSHAN, CITY, run_id, "d1", text="x", indicator="nope")
    with pytest.raises(Conflict):  # open objection: publication refused
        runs.publish(ready, OFFICE, CITY, run_id, version=view.run.version, note="提前", early=True)
    with pytest.raises(Forbidden):
        runs.answer_objection(ready, ANALYST, CITY, run_id, objection.id, decision="rejected", answer="x")
    with pytest.raises(InputError):
        runs.answer_objection(ready, OFFICE, CITY, run_id, objection.id, decision="maybe", answer="x")
    answered = runs.answer_objection(ready, OFFICE, CITY, run_id, objection.id, decision="rejected",
                                     answer="统计数据以统计局正式数为准")
    assert answered.state == "rejected" and answered.answered_by == "office"
    with pytest.raises(Conflict):
        runs.answer_objection(ready, OFFICE, CITY, run_id, objection.id, decision="upheld", answer="x")
    own = runs.unit_score(ready, ZHONGSHAN, CITY, run_id, "d1")
    assert [o.state for o in own.objections] == ["rejected"] and own.can_object
    # after the period: no objection, and publication needs no early note
    # the last day of the period still takes an objection
    last = runs._today() + timedelta(days=10)
    assert view.run.objection_until == last.isoformat()
    monkeypatch.setattr(runs, "_today", lambda: last)
    late = runs.object_to(ready, ZHONGSHAN, CITY, run_id, "d1", text="最后一天")
    runs.answer_objection(ready, OFFICE, CITY, run_id, late.id, decision="upheld", answer="已按异议调整")
    later = runs._today() + timedelta(days=1)
    monkeypatch.setattr(runs, "_today", lambda: later)
    with pytest.raises(Conflict):
        runs.object_to(ready, ZHONGSHAN, CITY, run_id, "d1", text="晚了")
    assert not runs.unit_score(ready, ZHONGSHAN, CITY, run_id, "d1").can_object
    published = runs.publish(ready, OFFICE, CITY, run_id, version=view.run.version)
    assert published.run.state == "published"
    assert {"assessment.object", "assessment.answer", "assessment.publish"} <= set(_actions(ready))


def test_publish_freezes(ready):
    view = _run(ready)
    run_id, version = view.run.id, view.run.version
    with pytest.raises(Conflict):  # within the objection period
        runs.publish(ready, OFFICE, CITY, run_id, version=version)
    with pytest.raises(InputError):  # early needs a note
        runs.publish(ready, OFFICE, CITY, run_id, version=version, early=True)
    with pytest.raises(Forbidden):
        runs.publish(ready, ANALYST, CITY, run_id, version=version, note="x", early=True)
    with pytest.raises(Conflict):  # stale version
        runs.publish(ready, OFFICE, CITY, run_id, version=version + 5, note="x", early=True)
    published = runs.publish(ready, OFFICE, CITY, run_id, version=version, note="各单位均已确认，无异议", early=True)
    assert published.run.state == "published" and published.run.publish_note == "各单位均已确认，无异议"
    new_version = published.run.version
    with pytest.raises(Conflict):
        runs.adjust(ready, OFFICE, CITY, run_id, "d2", "q", points=20, reason="x", version=new_version)
    with pytest.raises(Conflict):
        runs.object_to(ready, ZHONGSHAN, CITY, run_id, "d1", text="x")
    with pytest.raises(Conflict):
        runs.publish(ready, OFFICE, CITY, run_id, version=new_version, note="x", early=True)
    with pytest.raises(Conflict):  # the year is published under this scheme version
        _run(ready)
    assert runs.latest_run(ready, VIEWER, CITY, 2024, scheme="handtest").run.id == run_id
    results = runs.published_results(ready, VIEWER, CITY, 2024)
    assert [r.run.id for r in results] == [run_id] and len(results[0].rows) == 3
    # a new scheme version may run the year again
    runs.register_scheme(ready, OFFICE, CITY, SCHEME.replace("version: 1", "version: 2"), "handtest-v2.yaml")
    assert _run(ready).run.scheme_version == 2


def test_reproduce_on_the_stored_ledger_version(ready):
    view = _run(ready)
    write_statistics(ready, {2021: 110.0})  # a later ledger write changes d1's fact for a new run
    newer = _run(ready)
    assert next(r for r in newer.rows if r.unit_code == "d1").total == "87.00"  # a 0.9 → 54.00
    check = runs.reproduce(ready, OFFICE, CITY, view.run.id)
    assert check["same"] and check["inputs_same"] and check["ledger_version"] == 1
    assert all(u["same"] for u in check["units"])
    # a run on the old ledger version gives the old scores
    old = _run(ready, ledger_version=1)
    assert {r.unit_code: r.total for r in old.rows} == {k: v[0] for k, v in EXPECTED.items()}
    assert old.run.inputs_hash == view.run.inputs_hash
    with pytest.raises(InputError) as error:
        _run(ready, ledger_version=99)
    assert error.value.problems[0].field == "ledger_version"
    with pytest.raises(Forbidden):  # a draft: its unit sees its own row, not the whole run
        runs.reproduce(ready, ZHONGSHAN, CITY, old.run.id)
    with pytest.raises(NotFound):
        runs.reproduce(ready, VIEWER, CITY, old.run.id)
    published = runs.publish(ready, OFFICE, CITY, old.run.id, version=old.run.version, note="复核", early=True)
    assert runs.reproduce(ready, ANALYST, CITY, published.run.id)["same"]
    assert runs.reproduce(ready, VIEWER, CITY, published.run.id)["same"]  # published: anyone who may read it


def test_scope_of_every_role(ready):
    view = _run(ready)
    run_id = view.run.id
    assert len(runs.get_run(ready, ANALYST, CITY, run_id).rows) == 3
    own = runs.get_run(ready, ZHONGSHAN, CITY, run_id)
    assert [r.unit_code for r in own.rows] == ["d1"] and not own.complete
    assert [r.unit_code for r in runs.get_run(ready, XIGANG, CITY, run_id).rows] == ["d2"]
    with pytest.raises(NotFound):
        runs.unit_score(ready, ZHONGSHAN, CITY, run_id, "d2")
    with pytest.raises(NotFound):  # an unknown unit answers the same
        runs.unit_score(ready, ZHONGSHAN, CITY, run_id, "zz")
    for who in (VIEWER, DEPT, ENTERPRISE):  # no row of theirs in a draft
        with pytest.raises(NotFound):
            runs.get_run(ready, who, CITY, run_id)
    with pytest.raises(NotFound):
        runs.get_run(ready, OFFICE, CITY, 999_999)
    with pytest.raises(NotFound):
        runs.get_run(ready, OFFICE, "othercity", run_id)
    assert [s.id for s in runs.list_runs(ready, ZHONGSHAN, CITY)] == [run_id]
    assert runs.list_runs(ready, VIEWER, CITY) == []
    with pytest.raises(Forbidden):
        runs.list_runs(ready, ENTERPRISE, CITY)
    with pytest.raises(NotFound):
        runs.latest_run(ready, VIEWER, CITY, 2024, scheme="handtest")
    assert runs.latest_run(ready, ZHONGSHAN, CITY, 2024, scheme="handtest").rows[0].unit_code == "d1"
    elsewhere = replace(OFFICE, city="toyville")  # another city's office
    for who in (ANALYST, ZHONGSHAN, VIEWER, ENTERPRISE, elsewhere):
        with pytest.raises(Forbidden):
            runs.run_assessment(ready, who, CITY, 2024, scheme="handtest")
    with pytest.raises(NotFound):
        runs.get_run(ready, elsewhere, CITY, run_id)
    with pytest.raises(Forbidden):
        runs.list_runs(ready, elsewhere, CITY)
    runs.publish(ready, OFFICE, CITY, run_id, version=view.run.version, note="提前发布", early=True)
    assert len(runs.get_run(ready, VIEWER, CITY, run_id).rows) == 3
    assert len(runs.get_run(ready, ZHONGSHAN, CITY, run_id).rows) == 3
    assert runs.unit_score(ready, VIEWER, CITY, run_id, "d2").objections == []
    with pytest.raises(NotFound):
        runs.get_run(ready, ENTERPRISE, CITY, run_id)
    with pytest.raises(Forbidden):
        runs.published_results(ready, ENTERPRISE, CITY, 2024)


def test_schemes(ready):
    codes = {(s.code, s.version) for s in runs.list_schemes(ready, VIEWER, CITY)}
    assert {("district", 1), ("department", 1), ("handtest", 1)} <= codes
    with pytest.raises(InputError) as error:  # not the next version
        runs.register_scheme(ready, OFFICE, CITY, SCHEME.replace("version: 1", "version: 3"), "h3.yaml")
    assert (error.value.problems[0].file, error.value.problems[0].field) == ("h3.yaml", "version")
    with pytest.raises(InputError) as error:
        runs.register_scheme(ready, OFFICE, CITY, SCHEME.replace("points: 60", "points: -1"), "bad.yaml")
    assert error.value.problems[0].file == "bad.yaml" and "indicators" in (error.value.problems[0].field or "")
    with pytest.raises(InputError):
        runs.register_scheme(ready, OFFICE, CITY, b"\xff\xfe", "bin.yaml")
    with pytest.raises(Forbidden):
        runs.register_scheme(ready, ANALYST, CITY, SCHEME, "x.yaml")
    with pytest.raises(Forbidden):
        runs.list_schemes(ready, ENTERPRISE, CITY)
    runs.ensure_schemes(ready, CITY)  # idempotent
    assert len(runs.list_schemes(ready, OFFICE, CITY)) == len(codes)
    assert "assessment.scheme.seed" in _actions(ready) and "assessment.scheme.register" in _actions(ready)
    with pytest.raises(InputError) as error:
        runs.run_assessment(ready, OFFICE, CITY, 2024, scheme="nope")
    assert error.value.problems[0].field == "scheme"
    with pytest.raises(InputError):
        runs.run_assessment(ready, OFFICE, CITY, 1900, scheme="handtest")


def test_missing_facts_score_incomplete(ready):
    """The shipped district scheme with no collector data for our units: every data item missing, the run
    still stores, the totals are the qualitative defaults and every unit is marked incomplete."""
    from citycarbon.services.assessment import facts

    saved = dict(facts.COLLECTORS)
    facts.COLLECTORS.clear()
    try:
        view = runs.run_assessment(ready, OFFICE, CITY, 2024, scheme="district")
    finally:
        facts.COLLECTORS.update(saved)
    assert {r.total for r in view.rows} == {"8.00"}  # 组织领导 default 8, innovation 0
    assert all(r.incomplete for r in view.rows)


def test_untidy_facts_are_stored_and_scored_safely(db):  # noqa: F811
    """Collectors may hand over numpy scalars, NaN (a frame's missing value), Decimals and dates in evidence: the
    run stores JSON-safe facts (NaN → missing), scores them, and reproduces them exactly."""
    from datetime import date as day

    import numpy as np

    from citycarbon.assessment import Fact
    from citycarbon.services.assessment import facts
    from tests.assessment.runs_support import register_test_scheme, setup_units

    setup_units(db)
    register_test_scheme(db)

    def untidy(ctx):
        evidence = ({"kind": "filing", "due": day(2024, 12, 31), "count": np.int64(3)},)
        return {"d1": {"t_a": Fact(np.float64(0.8), evidence=evidence), "t_b": Fact(Decimal("0.95")),
                       "t_v": Fact(0), "t_p": Fact(1)},
                "d2": {"t_a": Fact(float("nan")), "t_b": Fact(0.95)}}

    saved = dict(facts.COLLECTORS)
    try:
        for key in ("t_a", "t_b", "t_v", "t_p"):
            facts.COLLECTORS[key] = untidy
        view = runs.run_assessment(db, OFFICE, CITY, 2024, scheme="handtest")
        rows = {r.unit_code: r for r in view.rows}
        assert rows["d1"].total == "81.00"
        assert rows["d2"].total == "35.00" and rows["d2"].incomplete == ["a"]  # b 20 + q 15, a missing
        detail = runs.unit_score(db, OFFICE, CITY, view.run.id, "d1")
        fact = next(i for i in detail.items if i["code"] == "a")["fact"]
        assert fact["value"] == 0.8 and fact["evidence"][0]["due"] == "2024-12-31"
        assert runs.reproduce(db, OFFICE, CITY, view.run.id)["same"]
    finally:
        facts.COLLECTORS.clear()
        facts.COLLECTORS.update(saved)


def test_a_run_that_does_not_reproduce_is_not_published(ready):
    """A collector that does not read as of the run's moment (here: a counter) gives other facts on the same
    ledger version: publication is refused with the units named, and nothing is written."""
    from citycarbon.assessment import Fact
    from citycarbon.services.assessment import facts

    calls = []

    def drifting(ctx):
        calls.append(1)
        return {u.code: {"t_a": Fact(0.5 if len(calls) == 1 else 0.6)} for u in ctx.units}

    for key in ("t_a", "t_b", "t_v", "t_p"):
        facts.COLLECTORS[key] = drifting  # the fixture restores the registry
    view = _run(ready)
    with pytest.raises(Conflict) as error:
        runs.publish(ready, OFFICE, CITY, view.run.id, version=view.run.version, note="提前", early=True)
    assert error.value.code == "assessment_not_reproducible" and "d1" in str(error.value)
    check = runs.reproduce(ready, OFFICE, CITY, view.run.id)
    assert not check["same"] and not check["inputs_same"]
    assert {u["unit"]: u["differing"] for u in check["units"]}["d1"] == ["a"]
    assert runs.get_run(ready, OFFICE, CITY, view.run.id).run.state == "draft"

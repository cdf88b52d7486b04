"""The workflow's state table (issue 15 item 5): no sequence of actions leaves the table's states, a decided project
never returns to an editable or undecided state, and the checklist / 验收 rule load from their data files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.errors import InputError
from citycarbon.projects import workflow as wf

ACTIONS = st.lists(st.sampled_from(list(wf.Action)), max_size=30)


@given(ACTIONS)
def test_no_sequence_reaches_a_state_outside_the_table(actions):
    reachable = {wf.State.draft} | {t.target for t in wf.TRANSITIONS if t.target is not None}
    state, decided = wf.State.draft, False
    for action in actions:
        try:
            after = wf.step(state, action)
        except wf.IllegalStep:
            assert state not in wf.ACTIONS[action].sources
            continue
        assert state in wf.ACTIONS[action].sources
        assert after in reachable and after in set(wf.State)
        if decided:  # once decided, never editable, never back under review, never withdrawn
            assert after in wf.DECIDED
        decided = decided or after in wf.DECIDED
        state = after


def test_allowed_actions_follow_the_actor_column():
    assert wf.allowed_actions(wf.State.under_review, [wf.Actor.filer]) == [wf.Action.withdraw]
    assert wf.allowed_actions(wf.State.under_review, [wf.Actor.expert]) == [wf.Action.comment]
    assert wf.allowed_actions(wf.State.under_review, [wf.Actor.office]) == [
        wf.Action.comment, wf.Action.approve, wf.Action.approve_conditions, wf.Action.reject]
    assert not set(wf.EDITABLE) & set(wf.DECIDED)


def test_deviation_uses_the_rule_threshold():
    rule = wf.load_acceptance()
    at = 1000 * (1 + rule.deviation_threshold)
    assert not wf.deviation(1000, at, rule).flagged
    assert wf.deviation(1000, at + 1, rule).flagged
    assert wf.deviation(1000, 1000 * (1 - 2 * rule.deviation_threshold), rule).flagged is (rule.direction == "both")


def test_bad_data_files_name_the_field(tmp_path):
    bad = tmp_path / "acceptance.yaml"
    bad.write_text("document: x\nstatus: V\nsource: s\ndeviation_threshold: -1\ndirection: sideways\nbasis: tce\n"
                   "basis_zh: x\nbasis_unit: tce\nperiod_months: 0\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        wf.load_acceptance(bad)
    fields = {p.field for p in error.value.problems}
    assert {"deviation_threshold", "direction", "period_months"} <= fields
    assert all(p.file == "acceptance.yaml" for p in error.value.problems)
    checklist = tmp_path / "completeness.yaml"
    checklist.write_text("document: d\nstatus: V\nsource: s\nbasis_zh: b\nnotice_within_days: 5\nitems:\n"
                         "  - {id: a, name_zh: 甲, name_en: a, check: psychic, document: d, status: V, source: s}\n",
                         encoding="utf-8")
    with pytest.raises(InputError) as error:
        wf.load_checklist(checklist)
    assert error.value.problems[0].field == "items[0].check"


def test_shipped_checklist_names_documents_and_status():
    checklist = wf.load_checklist()
    assert checklist.items and all(i.document and i.source and i.status for i in checklist.items)
    assert {i.check for i in checklist.items} <= wf.PRECHECKS

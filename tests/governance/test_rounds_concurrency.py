"""The optimistic version check under real concurrency, on PostgreSQL: two sessions in two threads that read the
same version of a filing and then write. A barrier placed just before the conditional UPDATE makes both
transactions hold the same read when they write, so the race is forced on every run, not left to timing.
Exactly one wins; the other gets :class:`FilingConflict` with the winner's state; the history holds exactly the
winner's version; the loser, reading again, can write on top (nothing is lost)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from citycarbon.auth.principal import Principal, Role
from citycarbon.services.governance import rounds
from tests.governance.rounds_support import CITY, MIIT, OFFICE, filing_of, measure_with_indicators, open_q4

OTHER_OFFICER = Principal(11, "office-2", Role.admin)
MIIT_COLLEAGUE = Principal(12, "dept-miit-2", Role.department, org="miit")


@pytest.fixture
def pg(seeded_db):
    if seeded_db.dialect != "postgresql":
        pytest.skip("the cross-session race is a PostgreSQL test (SQLite serialises writers at BEGIN)")
    return seeded_db


def _race(monkeypatch, *calls):
    """Run ``calls`` in threads, each with its own session; all reach the UPDATE together. Their outcomes."""
    barrier = threading.Barrier(len(calls), timeout=30)
    original = rounds._write_version

    def at_the_barrier(*args, **kwargs):
        barrier.wait()  # every transaction has read the filing (and checked it) before anyone writes
        return original(*args, **kwargs)

    def run(call):
        try:
            return call()
        except rounds.FilingConflict as error:
            return error

    with monkeypatch.context() as patched:  # the barrier is there for the race only, not for what follows it
        patched.setattr(rounds, "_write_version", at_the_barrier)
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(run, calls))


def _submitted(db) -> rounds.FilingInfo:
    code = measure_with_indicators(db)
    open_q4(db)
    filing = filing_of(db, "2026Q4", code, "miit")
    return rounds.save_filing(db, MIIT, CITY, filing.id, version=0, status="in_progress", narrative="初稿",
                              submit=True)


def test_two_reviews_of_the_same_version_one_wins(pg, monkeypatch):
    filing = _submitted(pg)
    accept, back = _race(
        monkeypatch,
        lambda: rounds.review_filing(pg, OFFICE, CITY, filing.id, version=1, decision="accept"),
        lambda: rounds.review_filing(pg, OTHER_OFFICER, CITY, filing.id, version=1, decision="return",
                                     comment="请补充"))
    outcomes = [accept, back]
    won = [o for o in outcomes if isinstance(o, rounds.FilingInfo)]
    lost = [o for o in outcomes if isinstance(o, rounds.FilingConflict)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code == "version_conflict"
    assert lost[0].current.version == 2 and lost[0].current.state == won[0].state
    stored = rounds.get_filing(pg, OFFICE, CITY, filing.id)
    assert [(h.version, h.action) for h in stored.history] == [(1, "submit"), (2, won[0].history[-1].action)]
    assert stored.state == won[0].state


def test_a_resubmission_racing_a_late_review_never_loses_either(pg, monkeypatch):
    """The office returns a filing (version 2); the unit resubmits it while the unit's colleague saves a draft
    from the same version 2. One wins; the other is told (409 with the current state) and nothing of it is
    stored; the resubmission, if it lost, is read again and goes on top: it is never lost."""
    filing = _submitted(pg)
    rounds.review_filing(pg, OFFICE, CITY, filing.id, version=1, decision="return", comment="请补充数据")
    resubmit, draft = _race(
        monkeypatch,
        lambda: rounds.save_filing(pg, MIIT, CITY, filing.id, version=2, status="completed", narrative="补充后提交",
                                   submit=True),
        lambda: rounds.save_filing(pg, MIIT_COLLEAGUE, CITY, filing.id, version=2, status="in_progress",
                                   narrative="同事的草稿"))
    winner, loser = (resubmit, draft) if isinstance(resubmit, rounds.FilingInfo) else (draft, resubmit)
    assert isinstance(winner, rounds.FilingInfo) and isinstance(loser, rounds.FilingConflict)
    assert winner.version == 3 and loser.current.version == 3
    history = rounds.get_filing(pg, OFFICE, CITY, filing.id).history
    assert [h.version for h in history] == [1, 2, 3]
    if winner is draft:  # the draft won: the resubmission, read again, goes on top
        again = rounds.save_filing(pg, MIIT, CITY, filing.id, version=3, status="completed", narrative="补充后提交",
                                   submit=True)
        assert (again.version, again.state) == (4, "submitted")
    else:  # the resubmission won: the colleague's draft is refused by the state now (with the office)
        with pytest.raises(rounds.FilingConflict) as caught:
            rounds.save_filing(pg, MIIT_COLLEAGUE, CITY, filing.id, version=3, status="in_progress")
        assert caught.value.code == "filing_state"
    final = rounds.get_filing(pg, OFFICE, CITY, filing.id)
    assert final.state == "submitted" and final.narrative == "补充后提交"
    snapshots = [h.snapshot["narrative"] for h in final.history]
    assert "补充后提交" in snapshots


def test_many_writers_of_one_version_exactly_one_wins(pg, monkeypatch):
    code = measure_with_indicators(pg)
    open_q4(pg)
    filing = filing_of(pg, "2026Q4", code, "miit")
    writers = [Principal(20 + n, f"dept-miit-{n}", Role.department, org="miit") for n in range(6)]
    outcomes = _race(monkeypatch, *[
        (lambda w=w: rounds.save_filing(pg, w, CITY, filing.id, version=0, status="in_progress", narrative=w.username))
        for w in writers])
    won = [o for o in outcomes if isinstance(o, rounds.FilingInfo)]
    assert len(won) == 1 and sum(isinstance(o, rounds.FilingConflict) for o in outcomes) == 5
    stored = rounds.get_filing(pg, OFFICE, CITY, filing.id)
    assert stored.version == 1 and stored.narrative == won[0].narrative and len(stored.history) == 1

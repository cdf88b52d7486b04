"""The replacement ledger never double-spends.

On PostgreSQL, allocations in separate threads (each its own session and transaction) that have all read the
same version of the source meet at a barrier placed just before the conditional UPDATE of the source's version,
so the race is forced on every run, not left to timing: exactly one is written per version; a loser is read
again and answers what the ledger says then (over-spend) — the balance is never negative.

At the service level (SQLite), a hypothesis property: any sequence of allocations and releases keeps
``remaining + Σ live allocations == amount`` exactly (Decimal) and ``remaining >= 0``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.errors import Conflict
from citycarbon.projects.ledger import Refused
from citycarbon.services.projects import ledgers
from citycarbon.store import projects as store
from citycarbon.store.project_models import ProjLedgerAllocation
from tests.projects.support import CITY, OFFICE, chemical_project, insert_project


@pytest.fixture
def pg(seeded_db):
    if seeded_db.dialect != "postgresql":
        pytest.skip("the cross-session race is a PostgreSQL test (SQLite serialises writers at BEGIN)")
    return seeded_db


def _source(db, amount: str) -> None:
    ledgers.add_source(db, OFFICE, CITY, {"code": "ROOM", "kind": "energy", "amount": amount, "unit": "tce",
                                          "origin": "closure", "document": "大发改〔2026〕1号",
                                          "region_code": "210281"})


def _race(monkeypatch, *calls):
    """Run ``calls`` in threads; each waits at the barrier before its first conditional UPDATE (later tries, after
    losing, go on freely). Their outcomes (result or the Conflict raised) and how many lost a race."""
    barrier = threading.Barrier(len(calls), timeout=30)
    original = store._bump_source
    first = threading.local()
    stale: list[int] = []

    def at_the_barrier(*args, **kwargs):
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait()  # every transaction has read the source and its balance before anyone writes
        try:
            return original(*args, **kwargs)
        except store.StaleVersion:
            stale.append(1)
            raise

    def run(call):
        try:
            return call()
        except Conflict as error:
            return error

    with monkeypatch.context() as patched:
        patched.setattr(store, "_bump_source", at_the_barrier)
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(run, calls)), len(stale)


def _live(db) -> list[Decimal]:
    with db.session() as session:
        return [Decimal(a.amount) for a in store.live_allocations(session)]


def test_two_allocations_racing_for_the_whole_balance_one_wins(pg, monkeypatch):
    first = insert_project(pg, chemical_project())
    second = insert_project(pg, chemical_project(name="第二个项目"))
    _source(pg, "3506")
    outcomes, lost = _race(monkeypatch,
                           lambda: ledgers.allocate(pg, OFFICE, CITY, first, "ROOM", "3506", "tce"),
                           lambda: ledgers.allocate(pg, OFFICE, CITY, second, "ROOM", "3506", "tce"))
    won = [o for o in outcomes if isinstance(o, ledgers.AllocationResult)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == 1 and len(refused) == 1 and lost == 1  # the race happened: one UPDATE found a new version
    assert isinstance(refused[0], Refused) and refused[0].code == "ledger_overspend"  # the loser, read again
    assert won[0].source.remaining == "0"
    assert _live(pg) == [Decimal(3506)]
    source = ledgers.get_source(pg, OFFICE, CITY, "ROOM")
    assert (source.remaining, len(source.allocations)) == ("0", 1)
    with pytest.raises(Refused) as again:  # the loser trying again is refused by the balance
        ledgers.allocate(pg, OFFICE, CITY, second if won[0].allocation.project_code == first else first, "ROOM",
                         "3506", "tce")
    assert again.value.code == "ledger_overspend"


def test_without_retry_the_loser_gets_stale_version(pg, monkeypatch):
    first = insert_project(pg, chemical_project())
    second = insert_project(pg, chemical_project(name="第二个项目"))
    _source(pg, "100")
    monkeypatch.setattr(ledgers, "ATTEMPTS", 1)
    outcomes, _ = _race(monkeypatch,
                        lambda: ledgers.allocate(pg, OFFICE, CITY, first, "ROOM", "100", "tce"),
                        lambda: ledgers.allocate(pg, OFFICE, CITY, second, "ROOM", "100", "tce"))
    assert sum(isinstance(o, ledgers.AllocationResult) for o in outcomes) == 1
    assert sum(isinstance(o, store.StaleVersion) for o in outcomes) == 1
    assert _live(pg) == [Decimal(100)]


def test_six_racers_for_a_source_that_serves_three(pg, monkeypatch):
    codes = [insert_project(pg, chemical_project(name=f"项目{n}")) for n in range(6)]
    _source(pg, "300")
    outcomes, lost = _race(monkeypatch, *[
        (lambda c=c: ledgers.allocate(pg, OFFICE, CITY, c, "ROOM", "100", "tce")) for c in codes])
    won = [o for o in outcomes if isinstance(o, ledgers.AllocationResult)]
    refused = [o for o in outcomes if isinstance(o, Refused)]
    assert len(won) == 3 and len(refused) == 3 and lost >= 5
    assert all(r.code == "ledger_overspend" for r in refused)
    assert _live(pg) == [Decimal(100)] * 3
    assert ledgers.get_source(pg, OFFICE, CITY, "ROOM").remaining == "0"


# -- the identity, at the service level (SQLite) ---------------------------------------------------------------

STEPS = st.lists(st.one_of(
    st.tuples(st.just("allocate"), st.integers(0, 2),
              st.decimals(min_value=Decimal("0.001"), max_value=Decimal("700"), places=3)),
    st.tuples(st.just("release"), st.integers(0, 9), st.just(Decimal(0)))), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_any_sequence_keeps_the_balance_exact(sqlite_seeded, steps):
    db, codes, source = sqlite_seeded
    amount = Decimal("1000.5")
    with db.session(write=True) as session:  # a fresh source per example
        session.query(ProjLedgerAllocation).delete()
    made: list[int] = []
    for action, index, value in steps:
        try:
            if action == "allocate":
                made.append(ledgers.allocate(db, OFFICE, CITY, codes[index], source, str(value), "tce").allocation.id)
            elif made:
                ledgers.release(db, OFFICE, CITY, made[index % len(made)], "property")
        except Conflict as error:  # over-spend or already released: nothing changed
            assert error.code in ("ledger_overspend", "ledger_released")
        view = ledgers.get_source(db, OFFICE, CITY, source)
        live = sum((Decimal(a.amount) for a in view.allocations if a.live), Decimal(0))
        assert Decimal(view.remaining) + live == amount
        assert Decimal(view.remaining) >= 0 and Decimal(view.allocated) == live


@pytest.fixture
def sqlite_seeded(seeded_db):
    if seeded_db.dialect != "sqlite":
        pytest.skip("the property runs at the service level on SQLite")
    codes = [insert_project(seeded_db, chemical_project(name=f"项目{n}")) for n in range(3)]
    ledgers.add_source(seeded_db, OFFICE, CITY, {"code": "ROOM", "kind": "energy", "amount": "1000.5",
                                                 "unit": "tce", "origin": "saving", "document": "节能量确认",
                                                 "region_code": "210281"})
    return seeded_db, codes, "ROOM"

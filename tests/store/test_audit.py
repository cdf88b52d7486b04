"""The audit chain: written with every store write; tampering by raw SQL is found and located."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from citycarbon.auth.principal import Principal
from citycarbon.store import audit
from citycarbon.store.types import utcnow


def _write(db, n: int) -> None:
    with db.session() as session:
        for i in range(n):
            audit.record(session, "alice" if i % 2 else "bob", "thing.update", "thing", i, {"v": i}, {"v": i + 1},
                         reason=f"change {i}")


def _tamper(db, *statements: str) -> None:
    """Run raw SQL with the append-only triggers out of the way (as a superuser / schema owner could)."""
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        for statement in statements:
            connection.exec_driver_sql(statement)


def test_chain_verifies_and_query_filters(db):
    principal = Principal(user_id=7, username="carol", role="admin")
    _write(db, 5)
    with db.session() as session:
        audit.record(session, principal, "user.create", "user", 8, None, {"username": "dave", "role": "中文"})
    with db.session() as session:
        result = audit.verify(session)
        assert result.ok and result.checked == 6 and result.head_hash
        assert [r["seq"] for r in audit.query(session, actor="alice")] == [4, 2]
        newest = audit.query(session, limit=1)[0]
        assert newest["actor"] == "carol" and newest["actor_id"] == "7" and newest["after"]["role"] == "中文"
        assert audit.count(session, entity="thing") == 5
        assert audit.query(session, entity="thing", limit=2, offset=1)[0]["seq"] == 4
        assert audit.count(session, since=utcnow() + timedelta(hours=1)) == 0
        assert audit.count(session, until=utcnow() + timedelta(hours=1)) == 6


@pytest.mark.parametrize(("statement", "bad"), [
    ("UPDATE audit_log SET after = '{\"v\":99}' WHERE seq = 3", 3),
    ("DELETE FROM audit_log WHERE seq = 2", 2),
    ("UPDATE audit_log SET seq = 40 WHERE seq = 4", 4),
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5", 5),
])
def test_tampering_is_found_at_the_first_bad_seq(db, statement, bad):
    _write(db, 5)
    _tamper(db, statement)
    with db.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == bad
    assert result.reason


def test_reordered_rows_are_found(db):
    _write(db, 4)
    # swap the contents of rows 2 and 3 (each keeps its own, valid, hash): the links break at 2
    _tamper(db, "UPDATE audit_log SET seq = 100 WHERE seq = 2", "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    with db.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_inserted_row_is_found(db):
    _write(db, 3)
    with db.engine.connect() as connection:
        head = connection.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar_one()
    # a forged row appended with a made-up hash
    _tamper(db, "INSERT INTO audit_log (seq, at, actor, action, entity, prev_hash, hash) VALUES "
                f"(4, CURRENT_TIMESTAMP, 'mallory', 'user.create', 'user', '{head}', '{'f' * 64}')")
    with db.session() as session:
        result = audit.verify(session)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)


def test_record_is_rolled_back_with_its_write(db):
    with pytest.raises(RuntimeError), db.session() as session:
        audit.record(session, "alice", "thing.create", "thing", 1)
        raise RuntimeError("the write failed")
    with db.session() as session:
        assert audit.verify(session).checked == 0


def test_actor_is_required():
    with pytest.raises(ValueError, match="actor"):
        audit.actor_of("  ")
    with pytest.raises(ValueError, match="who the actor"):
        audit.actor_of(object())


def test_removed_newest_rows_are_found_against_an_anchor(db):
    _write(db, 5)
    with db.session() as session:
        head = audit.verify(session)
    _tamper(db, "DELETE FROM audit_log WHERE seq >= 4")
    with db.session() as session:
        assert audit.verify(session).ok  # a shorter chain is still a valid chain …
        result = audit.verify(session, (head.checked, head.head_hash))  # … but not the one we knew
        assert (result.ok, result.first_bad_seq) == (False, 4)
        assert "removed" in result.reason
        early = audit.verify(session, (2, head.head_hash))
        assert (early.ok, early.first_bad_seq) == (False, 2)
        assert audit.verify(session, (0, "")).ok

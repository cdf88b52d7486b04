"""The ledger's reads work in a Session bound to a Connection (a caller's own transaction), not only an Engine."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from citycarbon.store import ledger


def _gdp(session: Session, year: int = 2020) -> float:
    frame = ledger.current_frame(session, "statistics")
    rows = frame[(frame["variable"] == "gdp") & (frame["year"] == year) & frame["price_base_year"].isna()]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


def test_ledger_reads_in_a_session_bound_to_a_connection_equal_the_engine_bound_reads(seeded_db):
    """A Connection has no ``.url`` (the cache key once read ``session.get_bind().url``): same frames as usual."""
    with seeded_db.session() as session:
        expected_frame = ledger.current_frame(session, "statistics")
        expected = ledger.reference_dataset(session, "dalian")
    ledger.clear_cache()
    with seeded_db.engine.connect() as connection, Session(bind=connection) as session:
        frame = ledger.current_frame(session, "statistics")
        dataset = ledger.reference_dataset(session, "dalian")
    assert not frame.empty
    pd.testing.assert_frame_equal(frame, expected_frame, check_exact=True)
    assert (dataset.region, dataset.title_en) == (expected.region, expected.title_en)
    for table in ("balance", "statistics"):
        pd.testing.assert_frame_equal(getattr(dataset, table), getattr(expected, table), check_exact=True)


def test_a_connection_bound_session_reads_its_own_transaction_and_a_rollback_leaves_no_trace(seeded_db):
    with seeded_db.session() as session:
        old = _gdp(session)
    revised = pd.DataFrame({"year": [2020], "region": "210200", "variable": "gdp", "value": [old + 100.0],
                            "unit": "10^8 CNY", "price_base_year": pd.array([None], dtype="Int64"),
                            "status": "official", "source": "revision in the caller's transaction"})
    with seeded_db.engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection) as session:
            ledger.write_frame(session, "statistics", revised, actor="analyst", scope="none")
            assert _gdp(session) == old + 100.0
        transaction.rollback()
    with seeded_db.session() as session:
        assert _gdp(session) == old

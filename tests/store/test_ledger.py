"""The bitemporal ledger: seeded data equal the shipped CSVs, revisions supersede, as_of answers the past."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from citycarbon.errors import InputError
from citycarbon.services.accounting import account_city
from citycarbon.store import audit, ledger
from citycarbon.store.models import AuditEntry, Observation
from citycarbon.store.seed import reference_frames
from citycarbon.store.types import utcnow


def _gdp(session, year: int = 2020) -> float:
    frame = ledger.current_frame(session, "statistics")
    rows = frame[(frame["variable"] == "gdp") & (frame["year"] == year) & frame["price_base_year"].isna()]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


def _statistics(values: dict[int, float], source: str = "test table", status: str = "official") -> pd.DataFrame:
    return pd.DataFrame({"year": list(values), "region": "210200", "variable": "gdp", "value": list(values.values()),
                         "unit": "10^8 CNY", "price_base_year": pd.array([None] * len(values), dtype="Int64"),
                         "status": status, "source": source})


def test_seeded_frames_equal_the_shipped_csvs(seeded_db):
    """Same columns, dtypes, values and order as the files the domain reads today."""
    with seeded_db.session() as session:
        for name, (expected, _file) in reference_frames("dalian").items():
            pd.testing.assert_frame_equal(ledger.current_frame(session, name), expected.reset_index(drop=True),
                                          check_exact=True, obj=name)


def test_accounting_from_the_store_equals_accounting_from_files(seeded_db):
    with seeded_db.session() as session:
        dataset = ledger.reference_dataset(session, "dalian")
    from_db = account_city(2020, city="dalian", dataset=dataset)
    from_files = account_city(2020, city="dalian", source="files")
    assert from_db.indicators == from_files.indicators
    pd.testing.assert_frame_equal(from_db.by_sector, from_files.by_sector)
    pd.testing.assert_frame_equal(from_db.by_fuel, from_files.by_fuel)
    assert from_db.co2_by_scope == from_files.co2_by_scope


def test_revision_supersedes_and_as_of_returns_the_old_value(seeded_db):
    with seeded_db.session() as session:
        before_version = ledger.version(session)
        old = _gdp(session)
    reported = utcnow()  # "what we reported in last year's annual report"
    frame = _statistics({2020: old + 100.0}, source="统计公报 2020 (revised)")
    with seeded_db.session() as session:
        result = ledger.write_frame(session, "statistics", frame, actor="analyst", scope="none",
                                    reason="bureau revision")
    assert (result.inserted, result.superseded, result.closed) == (0, 1, 0)
    with seeded_db.session() as session:
        assert ledger.version(session) == before_version + 1
        assert _gdp(session) == old + 100.0
        past = ledger.current_frame(session, "statistics", as_of=reported)
        rows = past[(past["variable"] == "gdp") & (past["year"] == 2020) & past["price_base_year"].isna()]
        assert float(rows["value"].iloc[0]) == old
        versions = ledger.history(session, "statistics", {"year": 2020, "region": "210200", "variable": "gdp",
                                                          "price_base_year": None})
        assert [v["value"] for v in versions] == [old, old + 100.0]
        assert versions[0]["superseded_at"] == versions[1]["recorded_at"]
        assert versions[1]["superseded_at"] is None and versions[1]["recorded_by"] == "analyst"
        # the old row is still there, unchanged: superseded, never updated in place
        stored = session.execute(select(func.count()).select_from(Observation)
                                 .where(Observation.dataset == "statistics")).scalar_one()
        assert stored == 71
        # before anything was recorded the ledger knew nothing
        with pytest.raises(InputError, match="no energy balance"):
            ledger.reference_dataset(session, "dalian", as_of=versions[0]["recorded_at"] - timedelta(seconds=1))


def test_scope_years_closes_rows_the_upload_no_longer_lists(seeded_db):
    with seeded_db.session() as session:
        current = ledger.current_frame(session, "capacity")
    year_2024 = current[current["year"] == 2024]
    kept = year_2024.iloc[:-1]
    with seeded_db.session() as session:
        result = ledger.write_frame(session, "capacity", kept, actor="analyst", scope="years")
    assert (result.inserted, result.superseded, result.closed, result.unchanged) == (0, 0, 1, len(kept))
    with seeded_db.session() as session:
        after = ledger.current_frame(session, "capacity")
        assert len(after) == len(current) - 1
        assert len(after[after["year"] == 2023]) == len(current[current["year"] == 2023])  # other years untouched


def test_bad_frame_writes_nothing(seeded_db):
    frame = _statistics({2020: 1.0, 2021: 2.0})
    frame.loc[1, "status"] = "guess"
    frame.loc[0, "source"] = ""
    with seeded_db.session() as session:
        version = ledger.version(session)
        with pytest.raises(InputError) as caught:
            ledger.write_frame(session, "statistics", frame, actor="analyst")
    fields = {p.field for p in caught.value.problems}
    assert fields == {"status", "source"}
    assert {p.row for p in caught.value.problems} == {1, 2}
    with seeded_db.session() as session:
        assert ledger.version(session) == version
    with pytest.raises(InputError, match="did you mean 'statistics'"):
        ledger.spec_for("statistic")


def test_cache_follows_the_version(sqlite_db):
    with sqlite_db.session() as session:
        ledger.write_frame(session, "statistics", _statistics({2020: 1.0}), actor="a", scope="none")
    with sqlite_db.session() as session:
        first = ledger.current_frame(session, "statistics")
        first.loc[0, "value"] = -5.0  # callers get a copy; the cache is not touched
        assert ledger.current_frame(session, "statistics")["value"].tolist() == [1.0]
    with sqlite_db.session() as session:
        ledger.write_frame(session, "statistics", _statistics({2020: 2.0}), actor="a", scope="none")
    with sqlite_db.session() as session:
        assert ledger.current_frame(session, "statistics")["value"].tolist() == [2.0]


_values = st.dictionaries(st.integers(2000, 2030), st.floats(0, 1e9, allow_nan=False, allow_infinity=False),
                          min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=_values, status=st.sampled_from(["official", "estimate"]))
def test_re_recording_the_same_frame_is_a_no_op(sqlite_db, values, status):
    frame = _statistics(values, status=status)
    with sqlite_db.session() as session:
        ledger.write_frame(session, "statistics", frame, actor="a", scope="years")
    with sqlite_db.session() as session:
        version = ledger.version(session)
        audits = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        rows = session.execute(select(func.count()).select_from(Observation)).scalar_one()
        again = ledger.write_frame(session, "statistics", frame, actor="a", scope="years")
        assert not again.changed and again.unchanged == len(values)
        assert ledger.version(session) == version
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == audits
        assert session.execute(select(func.count()).select_from(Observation)).scalar_one() == rows
        assert audit.verify(session).ok


def test_empty_ledger_gives_empty_frames_with_the_columns(sqlite_db):
    with sqlite_db.session() as session:
        for name, spec in ledger.DATASETS.items():
            frame = ledger.current_frame(session, name)
            assert frame.empty and tuple(frame.columns) == spec.columns
        with pytest.raises(InputError, match="no plan for city"):
            ledger.reference_dataset(session, "dalian")


_REGIONS = itertools.count()
_histories = st.lists(st.dictionaries(st.integers(2015, 2024), st.floats(1, 1e5, allow_nan=False), min_size=1,
                                      max_size=5), min_size=1, max_size=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=_histories)
def test_as_of_replays_every_full_replace(sqlite_db, history):
    """After a sequence of uploads, as_of each upload's time returns exactly what was known then."""
    region = f"9{next(_REGIONS):05d}"  # examples share the database: each gets a region of its own
    moments = []
    for values in history:
        frame = _statistics(values).assign(region=region)
        with sqlite_db.session(write=True) as session:
            ledger.write_frame(session, "statistics", frame, actor="a", scope="years")
        moments.append(utcnow())
    with sqlite_db.session() as session:
        expected: dict[int, float] = {}
        for moment, values in zip(moments, history, strict=True):
            expected.update(values)  # a year not in a later upload keeps its last value (years scope)
            frame = ledger.current_frame(session, "statistics", region=region, as_of=moment)
            assert dict(zip(frame["year"], frame["value"], strict=True)) == expected


def test_values_that_do_not_fit_the_columns_are_refused_alike_on_both_backends(db):
    frame = _statistics({2020: 1.0, 2021: 2.0})
    frame["variable"] = frame["variable"].astype(object)
    frame.loc[0, "variable"] = "x" * 200
    frame.loc[1, "region"] = ""
    with pytest.raises(InputError) as caught, db.session() as session:
        ledger.write_frame(session, "statistics", frame, actor="a")
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "variable"), (2, "region")]

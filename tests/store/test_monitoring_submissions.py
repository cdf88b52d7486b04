"""Monitoring submissions in the store (migration 0003): the schema matches the models on SQLite and
PostgreSQL; recording keeps exact counts, caps the kept rejected rows, and reads are scoped by the caller."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select

from citycarbon.store.base import Base
from citycarbon.store.monitoring_models import MonitoringRejection
from citycarbon.store.monitoring_submissions import (
    MAX_KEPT_REJECTIONS,
    get_submission,
    list_rejections,
    list_submissions,
    prune_submissions,
    record_submission,
    recorded_lake_batches,
    rejections_by_submission,
)

TABLES = {"monitoring_submissions", "monitoring_rejections"}


def _tables(database) -> set[str]:
    return set(inspect(database.engine).get_table_names())


def test_migration_up_and_down(bare_db):
    bare_db.upgrade("0003_monitoring_submissions")
    assert _tables(bare_db) >= TABLES
    bare_db.downgrade("0002_auth")
    assert not _tables(bare_db) & TABLES
    assert bare_db.current_revision() == "0002_auth"
    bare_db.upgrade()
    assert _tables(bare_db) >= TABLES


def test_models_match_migration(db):
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in TABLES

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_check_constraints_exist(db):
    checks = {c["name"] for c in inspect(db.engine).get_check_constraints("monitoring_submissions")}
    assert {"ck_monitoring_submissions_channel", "ck_monitoring_submissions_status",
            "ck_monitoring_submissions_kept"} <= checks


# ---- recording and reading ---------------------------------------------------------------------------

def _rejections(n: int, start: int = 1) -> list[dict]:
    return [{"row": start + i, "point_id": f"P{i % 7}", "field": ("value", "unit", "start")[i % 3],
             "reason": f"reason {i}"} for i in range(n)]


def _record(database, **kwargs) -> int:
    kwargs.setdefault("channel", "http")
    kwargs.setdefault("submitted_by", "ent-user")
    kwargs.setdefault("enterprise_id", "E1")
    kwargs.setdefault("rows_received", 10)
    with database.session(write=True) as session:
        return record_submission(session, **kwargs)


def test_record_keeps_exact_counts_and_caps_kept_rows(db):
    rows = _rejections(1_500)
    sid = _record(db, rows_received=2_000, counts={"accepted": 400, "duplicate": 50, "revised": 50,
                                                   "rejected": 1_500},
                  rejected_rows=rows, lake_batch_id="20260101T000000-abc", client_batch_id="gw-7",
                  token_prefix="0a1b2c3d", source="http:ent-user")
    with db.session() as session:
        got = get_submission(session, sid, enterprise_ids=None)
        kept = list_rejections(session, sid, limit=5_000)
        page = list_rejections(session, sid, limit=10, offset=995)
    assert got["status"] == "stored" and got["lake_batch_id"] == "20260101T000000-abc"
    assert (got["accepted"], got["duplicate"], got["revised"], got["rejected"]) == (400, 50, 50, 1_500)
    assert got["rejections_kept"] == MAX_KEPT_REJECTIONS == 1_000
    assert got["token_prefix"] == "0a1b2c3d" and got["client_batch_id"] == "gw-7"
    assert [r["row"] for r in kept] == list(range(1, 1_001))  # the first ones, in row order
    assert kept[3] == {"row": 4, "point_id": "P3", "field": "value", "reason": "reason 3"}
    assert [r["row"] for r in page] == [996, 997, 998, 999, 1000]


def test_nothing_stored_and_refused_statuses(db):
    all_bad = _record(db, counts={"rejected": 2}, rejected_rows=_rejections(2), rows_received=2)
    all_dup = _record(db, counts={"duplicate": 10})
    refused = _record(db, rows_received=0, refusal="body is not valid JSON: Expecting value")
    with db.session() as session:
        statuses = {s["id"]: s["status"] for s in list_submissions(session, enterprise_ids=None)[0]}
        bad_rows = list_rejections(session, all_bad)
    assert statuses == {all_bad: "nothing_new", all_dup: "nothing_new", refused: "refused"}
    assert [r["reason"] for r in bad_rows] == ["reason 0", "reason 1"]


def test_client_text_is_made_storable(db):
    """A NUL (PostgreSQL refuses it in text) and over-long client strings never make the record fail."""
    sid = _record(db, counts={"rejected": 1}, client_batch_id="b\x00" + "x" * 500,
                  rejected_rows=[{"row": 1, "point_id": "P\x00" + "y" * 300, "field": "point_id",
                                  "reason": "unknown point"}])
    with db.session() as session:
        got = get_submission(session, sid, enterprise_ids=None)
        (row,) = list_rejections(session, sid)
    assert got["client_batch_id"].startswith("b\ufffdxx") and len(got["client_batch_id"]) == 200
    assert row["point_id"].startswith("P\ufffdyy") and row["point_id"].endswith("…") and len(row["point_id"]) == 200


def test_scoping_hides_other_enterprises(db):
    mine = _record(db, enterprise_id="E1")
    other = _record(db, enterprise_id="E2")
    nobody = _record(db, enterprise_id=None, rows_received=0, refusal="too large")
    with db.session() as session:
        own, own_total = list_submissions(session, enterprise_ids={"E1"})
        district, _ = list_submissions(session, enterprise_ids=["E1", "E2"])
        office, office_total = list_submissions(session, enterprise_ids=None)
        assert get_submission(session, other, enterprise_ids={"E1"}) is None
        assert get_submission(session, nobody, enterprise_ids={"E1", "E2"}) is None
        assert get_submission(session, 10**9, enterprise_ids=None) is None
        narrowed, _ = list_submissions(session, enterprise_ids=None, enterprise_id="E2")
        none_seen, zero = list_submissions(session, enterprise_ids=set())
    assert [s["id"] for s in own] == [mine] and own_total == 1
    assert {s["id"] for s in district} == {mine, other}
    assert [s["id"] for s in office] == [nobody, other, mine] and office_total == 3  # newest first
    assert [s["id"] for s in narrowed] == [other]
    assert none_seen == [] and zero == 0


def test_bad_records_are_refused_and_change_nothing(db):
    for kwargs, match in (({"channel": "ftp"}, "unknown channel"),
                          ({"counts": {"accepted": -1}}, "negative"),
                          ({"refusal": "bad", "lake_batch_id": "b1"}, "refused submission")):
        with pytest.raises(ValueError, match=match):
            _record(db, **kwargs)
    with db.session() as session:
        assert list_submissions(session, enterprise_ids=None) == ([], 0)


def test_the_submission_rolls_back_with_its_transaction(db):
    with pytest.raises(RuntimeError), db.session(write=True) as session:
        record_submission(session, channel="mqtt", submitted_by="mqtt:cc/readings/E1", enterprise_id="E1",
                          rows_received=1, counts={"rejected": 1}, rejected_rows=_rejections(1))
        raise RuntimeError("the batch's audit row failed")
    with db.session() as session:
        assert list_submissions(session, enterprise_ids=None)[1] == 0
        assert session.execute(select(func.count()).select_from(MonitoringRejection)).scalar_one() == 0


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rejected=st.integers(0, 60), keep=st.integers(0, 40), offered=st.integers(0, 80))
def test_kept_rows_are_the_first_min_of_cap_count_and_offered(sqlite_db, rejected, keep, offered):
    sid = _record(sqlite_db, rows_received=rejected, counts={"rejected": rejected},
                  rejected_rows=_rejections(offered, start=3), keep=keep)
    with sqlite_db.session() as session:
        got = get_submission(session, sid, enterprise_ids=None)
        kept = list_rejections(session, sid, limit=1_000)
    assert got["rejected"] == rejected
    assert got["rejections_kept"] == len(kept) == min(keep, rejected, offered)
    assert [r["row"] for r in kept] == list(range(3, 3 + len(kept)))


def test_first_rejections_of_a_page_of_submissions_in_one_query(db):
    a = _record(db, counts={"rejected": 30}, rejected_rows=_rejections(30), lake_batch_id="L-a")
    b = _record(db, counts={"rejected": 2}, rejected_rows=_rejections(2, start=7))
    c = _record(db, counts={"duplicate": 10}, lake_batch_id=None)
    with db.session() as session:
        found = rejections_by_submission(session, [a, b, c], first=5)
        assert rejections_by_submission(session, []) == {}
        recorded = recorded_lake_batches(session, ["L-a", "L-unknown"])
    assert [r["row"] for r in found[a]] == [1, 2, 3, 4, 5]
    assert [r["row"] for r in found[b]] == [7, 8] and found[c] == []
    assert recorded == {"L-a"}


def test_backup_and_restore_carry_submissions_and_ids_keep_counting(db, tmp_path):
    from citycarbon.store import backup

    first = _record(db, counts={"rejected": 3}, rejected_rows=_rejections(3), lake_batch_id="L-1")
    before = backup.table_dump(db)
    archive = tmp_path / "backup.zip"
    backup.backup(db, archive)
    backup.wipe(db)
    backup.restore(db, archive)
    assert backup.table_dump(db)["monitoring_rejections"] == before["monitoring_rejections"]
    assert backup.table_dump(db)["monitoring_submissions"] == before["monitoring_submissions"]
    later = _record(db, counts={"duplicate": 1})  # PostgreSQL's sequence was reset past the restored rows
    assert later > first


def test_pruning_deletes_old_records_with_their_rows_and_is_audited(db):
    from datetime import UTC, datetime

    from typer.testing import CliRunner

    from citycarbon.cli import app
    from citycarbon.store.audit import AuditEntry

    old = _record(db, counts={"rejected": 3}, rejected_rows=_rejections(3), rows_received=3,
                  received_at=datetime(2020, 1, 1, tzinfo=UTC))
    older = _record(db, rows_received=0, refusal="too large", received_at=datetime(2019, 6, 1, tzinfo=UTC))
    recent = _record(db, counts={"rejected": 2}, rejected_rows=_rejections(2), rows_received=2)
    with db.session(write=True) as session:
        summary = prune_submissions(session, before=datetime(2021, 1, 1, tzinfo=UTC), actor="test",
                                    reason="retention 1 year")
    assert (summary["submissions"], summary["rejections"]) == (2, 3)
    with db.session() as session:
        left = [s["id"] for s in list_submissions(session, enterprise_ids=None)[0]]
        assert get_submission(session, old, enterprise_ids=None) is None
        assert get_submission(session, older, enterprise_ids=None) is None
        assert session.scalar(select(func.count()).select_from(MonitoringRejection)) == 2  # the recent ones
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert left == [recent]
    assert (entry.action, entry.entity, entry.actor) == ("prune", "monitoring_submissions", "test")
    assert '"submissions":2' in entry.after.replace(" ", "")
    # the CLI, on the same store: a record from two days ago goes with --older-than 1, the recent one stays
    from datetime import timedelta

    _record(db, rows_received=1, received_at=datetime.now(UTC) - timedelta(days=2))
    result = CliRunner().invoke(app, ["monitoring", "prune-submissions", "--older-than", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"submissions": 1' in result.output
    with db.session() as session:
        assert [s["id"] for s in list_submissions(session, enterprise_ids=None)[0]] == [recent]
    result = CliRunner().invoke(app, ["monitoring", "prune-submissions", "--older-than", "0"])
    assert result.exit_code != 0  # at least a day

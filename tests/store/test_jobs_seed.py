"""Jobs move queued → running → done|failed with audit rows; seeding twice changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from citycarbon.errors import InputError
from citycarbon.store import audit, jobs, ledger
from citycarbon.store.models import AuditEntry, FactorRecord, RegionRecord, TargetRecord, TaskRecord
from citycarbon.store.seed import ensure_ready, seed_reference


def test_job_lifecycle(db):
    with db.session() as session:
        job = jobs.create(session, "pathway.ensemble", {"runs": 10000, "seed": 1}, actor="analyst")
        job_id = job.id
    with db.session() as session:
        jobs.start(session, job_id)
        jobs.finish(session, job_id, {"p_peak_by_2030": 0.8})
    with db.session() as session:
        done = jobs.get(session, job_id)
        assert done.status == "done" and done.result == {"p_peak_by_2030": 0.8}
        assert done.started_at <= done.finished_at
        with pytest.raises(InputError, match="cannot become failed"):
            jobs.fail(session, job_id, "late")
        other = jobs.create(session, "report", actor="analyst")
        jobs.fail(session, other.id, "boom")
    with db.session() as session:
        assert [j.status for j in jobs.list(session, created_by="analyst")] in (["failed", "done"], ["done", "failed"])
        assert [j.id for j in jobs.list(session, status="failed")] == [other.id]
        assert audit.count(session, entity="job") == 5
        with pytest.raises(InputError, match="no job"):
            jobs.get(session, "nope")


def test_seed_is_idempotent_and_complete(seeded_db):
    with seeded_db.session() as session:
        audits = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        version = ledger.version(session)
        counts = {m.__tablename__: session.execute(select(func.count()).select_from(m)).scalar_one()
                  for m in (TargetRecord, TaskRecord, RegionRecord, FactorRecord)}
    # 325 factor rows (issue 13: the ipcc-cn-ncv set, steam and hot water)
    assert counts == {"targets": 14, "tasks": 31, "regions": 12, "factors": 325}
    assert not seed_reference(seeded_db).changed
    assert not seed_reference(seeded_db, refresh=True).changed  # same files: nothing to supersede
    with seeded_db.session() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == audits
        assert ledger.version(session) == version
        assert audit.verify(session).ok
        dalian = session.get(RegionRecord, "210202")
        assert (dalian.parent_code, dalian.kind) == ("210200", "district")


def test_ensure_ready_migrates_and_seeds_once(settings):
    db = ensure_ready(settings)
    try:
        assert db.is_current()
        with db.session() as session:
            assert ledger.version(session) == 8
        ensure_ready(settings).dispose()
        with db.session() as session:
            assert ledger.version(session) == 8
    finally:
        db.dispose()

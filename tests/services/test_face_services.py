"""The services that took the faces' last store reads over (issue 12 item 1): jobs, ledger rows, the audit log, the
first start. Each applies its rule once, here tested without any face (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, NotFound
from citycarbon.services import admin, jobs, statistics
from citycarbon.services import audit as audit_service
from citycarbon.services.results import Results
from citycarbon.store import audit
from citycarbon.store.models import Job

ADMIN = Principal(1, "root", Role.admin)
ANALYST = Principal(2, "ana", Role.analyst)
OTHER_ANALYST = Principal(3, "bob", Role.analyst)
DISTRICT = Principal(4, "dist", Role.district, regions=frozenset({"210211"}))
ENTERPRISE = Principal(5, "plant", Role.enterprise, enterprise_id="E-1")


def _audit_rows(db) -> int:
    with db.session() as session:
        return audit.count(session)


def _jobs(db) -> int:
    with db.session() as session:
        return session.query(Job).count()


# ---- audit ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("caller", [ANALYST, DISTRICT, ENTERPRISE, Principal(6, "v", Role.viewer)])
def test_only_administrators_read_the_audit_log(seeded_db, caller):
    with pytest.raises(Forbidden):
        audit_service.list_entries(seeded_db, caller)
    with pytest.raises(Forbidden):
        audit_service.verify_chain(seeded_db, caller)


def test_audit_entries_are_filtered_paged_and_counted(seeded_db):
    before = _audit_rows(seeded_db)
    everything = audit_service.list_entries(seeded_db, ADMIN, limit=3)
    assert everything.total == before > 3 and len(everything.entries) == 3
    assert [e["seq"] for e in everything.entries] == sorted((e["seq"] for e in everything.entries), reverse=True)
    action = everything.entries[0]["action"]
    same = audit_service.list_entries(seeded_db, ADMIN, action=action, limit=1000)
    assert same.total == len(same.entries) >= 1 and {e["action"] for e in same.entries} == {action}
    check = audit_service.verify_chain(seeded_db, ADMIN)
    assert check.ok and check.result.checked == before and "anchor" not in check.to_dict()
    assert _audit_rows(seeded_db) == before  # reads write nothing


# ---- jobs -----------------------------------------------------------------------------------------------------

def test_a_job_is_seen_by_its_creator_and_administrators_only(db):
    runner = jobs.JobRunner(db, workers=1)
    try:
        job_id = runner.submit("demo", {"n": 1}, lambda: {"answer": 42}, actor=ANALYST.username)
        runner.wait()
        mine = jobs.get_job(runner, ANALYST, job_id)
        assert (mine.status, mine.result, mine.created_by) == ("done", {"answer": 42}, "ana")
        assert jobs.get_job(runner, ADMIN, job_id).to_dict()["params"] == {"n": 1}
        with pytest.raises(NotFound):
            jobs.get_job(runner, OTHER_ANALYST, job_id)
        with pytest.raises(NotFound):
            jobs.get_job(runner, ADMIN, "00000000-0000-0000-0000-000000000000")
    finally:
        runner.shutdown()


class _Results:
    """A stand-in for the results cache: the recompute job's work calls warm() and accounting()."""

    def warm(self) -> int:
        return 7

    def accounting(self, version: int) -> dict[int, object]:
        return {2021: object(), 2020: object()}


@pytest.mark.parametrize("caller", [DISTRICT, ENTERPRISE, ANALYST.narrowed({"read"})])
def test_city_wide_recompute_is_refused_to_districts_enterprises_and_read_tokens(db, caller):
    runner = jobs.JobRunner(db, workers=1)
    try:
        with pytest.raises(Forbidden, match="city-wide"):
            jobs.submit_recompute(runner, _Results(), caller)  # type: ignore[arg-type]
        assert _jobs(db) == 0
    finally:
        runner.shutdown()


def test_city_wide_recompute_runs_for_analysts(db):
    runner = jobs.JobRunner(db, workers=1)
    try:
        job_id = jobs.submit_recompute(runner, _Results(), ANALYST)  # type: ignore[arg-type]
        runner.wait()
        assert jobs.get_job(runner, ANALYST, job_id).result == {"ledger_version": 7, "years": [2020, 2021]}
    finally:
        runner.shutdown()


# ---- ledger rows ----------------------------------------------------------------------------------------------

def test_ledger_rows_keep_to_the_callers_regions(seeded_db):
    results = Results(seeded_db)
    city = results.dataset(results.version()).region
    everyone = statistics.list_rows(results, ANALYST, "districts", per_page=100000)
    regions = {str(row["region"]) for row in everyone.rows}
    assert "210211" in regions and len(regions - {city, "210211"}) > 0
    mine = statistics.list_rows(results, DISTRICT, "districts", per_page=100000)
    assert {str(row["region"]) for row in mine.rows} <= {city, "210211"} and mine.total == len(mine.rows) > 0
    other = sorted(regions - {city, "210211"})[0]
    with pytest.raises(NotFound):
        statistics.list_rows(results, DISTRICT, "districts", region=other)
    with pytest.raises(NotFound):
        statistics.value_history(results, DISTRICT, "districts", year=2020, region=other)


# ---- first start ----------------------------------------------------------------------------------------------

def test_first_start_creates_one_administrator_once(settings):
    first = admin.first_start(settings, "cli:test")
    assert first.admin_created and first.admin_username == "admin" and first.one_time_password
    assert first.migration is not None and "one_time_password" in first.to_dict()
    again = admin.first_start(settings, "cli:test")
    assert not again.admin_created and "one_time_password" not in again.to_dict()

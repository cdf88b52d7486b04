"""Progress rounds and filings at the service level, on SQLite and PostgreSQL: opening (assignments, inbox),
filing (save, submit, return, resubmit, accept: every write a version row and an audit row), the optimistic
version check, scope (another unit's filing: 404), bad inputs (field named, nothing stored), attachments,
closing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.governance.model import RoundPeriod
from citycarbon.governance.rounds import check_indicator_values, is_late, period_of
from citycarbon.services.governance import rounds
from tests.governance.rounds_support import (
    ANALYST,
    CITY,
    ECO,
    ENTERPRISE,
    MIIT,
    MIIT_READ,
    OFFICE,
    OFFICE_READ,
    PDF,
    PNG,
    VIEWER,
    ZHONGSHAN,
    filing_of,
    measure_with_indicators,
    open_q4,
)


def _count(db, model) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _audit(db) -> int:
    from citycarbon.store import audit

    with db.session() as session:
        return audit.count(session)


# -- the pure rules -------------------------------------------------------------------------------------------

def test_a_round_code_names_its_period():
    assert period_of("2026Q4", RoundPeriod.quarterly) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_of("2024-02", RoundPeriod.monthly) == (date(2024, 2, 1), date(2024, 2, 29))  # leap year
    assert period_of("2026", RoundPeriod.yearly) == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_of("2026Q5", RoundPeriod.quarterly) is None and period_of("2026-13", RoundPeriod.monthly) is None
    assert period_of("2026Q4", RoundPeriod.monthly) is None


def test_lateness_counts_the_deadline_day_as_on_time():
    assert not is_late(date(2027, 1, 10), date(2027, 1, 10)) and is_late(date(2027, 1, 11), date(2027, 1, 10))
    assert not is_late(None, date(2027, 1, 10))


def test_indicator_values_are_checked_by_code_and_number():
    from citycarbon.governance.model import Indicator

    indicators = [Indicator("pv_mw", "光伏", "PV", "MW")]
    clean, problems = check_indicator_values({"pv_mw": "1,250.5"}, indicators)
    assert clean == {"pv_mw": 1250.5} and not problems
    clean, problems = check_indicator_values({"pv_mw": "many", "wind": 3, "x": None}, indicators)
    assert clean == {}
    assert [p[0] for p in problems] == ["indicator_values.pv_mw", "indicator_values.wind", "indicator_values.x"]
    assert "MW" in problems[0][1] and "未知指标" in problems[1][2]
    _, problems = check_indicator_values({"pv_mw": float("nan")}, indicators)
    assert problems and _ == {}
    _, problems = check_indicator_values({"pv_mw": True}, indicators)
    assert problems


# -- opening --------------------------------------------------------------------------------------------------

def test_opening_a_round_assigns_every_responsible_unit_and_notifies_them(seeded_db):
    from citycarbon.store import governance
    from citycarbon.store.governance_models import GovFiling, GovNotification, GovRoundAssignment

    code = measure_with_indicators(seeded_db)
    with seeded_db.session() as session:
        task4 = [m for m in governance.current_measures(session, CITY) if m.task == 4]
    expected = sum(len(m.units) for m in task4)
    rows = _audit(seeded_db)
    info = open_q4(seeded_db)
    assert (info.period, info.period_start, info.period_end, info.deadline) == (
        "quarterly", "2026-10-01", "2026-12-31", "2027-01-10")
    assert info.counts["assignments"] == expected == info.counts["not_filed"]
    assert _count(seeded_db, GovRoundAssignment) == _count(seeded_db, GovFiling) == expected
    assert _audit(seeded_db) == rows + 1
    with seeded_db.session() as session:
        messages = {(n.org_code, n.message) for n in session.scalars(select(GovNotification))}
    units = {u for m in task4 for u in m.units}
    assert messages == {(u, rounds.MSG_OPENED) for u in units}
    roles = {f.org: f.role for f in rounds.list_filings(seeded_db, OFFICE, CITY, "2026Q4") if f.measure == code}
    assert roles == {"miit": "lead", "drc": "co", "commerce": "co", "d210202": "district"}


def test_a_round_of_leads_only(seeded_db):
    info = open_q4(seeded_db, include_co_units=False, include_districts=False)
    filings = rounds.list_filings(seeded_db, OFFICE, CITY, info.code)
    assert {f.org for f in filings} == {"miit"} and {f.role for f in filings} == {"lead"}


@pytest.mark.parametrize(("options", "field"), [
    ({"code": "2026Q5"}, "code"), ({"code": "bad code!"}, "code"), ({"period": "weekly"}, "period"),
    ({"deadline": "2026-13-01"}, "deadline"), ({"deadline": "2026-01-01"}, "deadline"),
    ({"measures": ["T04-M01", "T99-M99"]}, "measures"), ({"tasks": [99]}, "tasks"),
])
def test_opening_refuses_bad_input_naming_the_field(seeded_db, options, field):
    from citycarbon.store.governance_models import GovRound

    args = {"code": "2026Q4", "period": "quarterly", "deadline": date(2027, 1, 10), "tasks": [4], **options}
    with pytest.raises(InputError) as caught:
        rounds.open_round(seeded_db, OFFICE, CITY, **args)
    assert caught.value.first.field == field and caught.value.first.message_zh
    assert _count(seeded_db, GovRound) == 0


def test_only_the_office_opens_and_closes_and_a_code_is_opened_once(seeded_db):
    for caller in (OFFICE_READ, ANALYST, VIEWER, MIIT, ZHONGSHAN, ENTERPRISE):
        with pytest.raises(Forbidden):
            open_q4(seeded_db, by=caller)
    open_q4(seeded_db)
    with pytest.raises(Conflict):
        open_q4(seeded_db)
    with pytest.raises(Forbidden):
        rounds.close_round(seeded_db, MIIT, CITY, "2026Q4")
    closed = rounds.close_round(seeded_db, OFFICE, CITY, "2026Q4")
    assert closed.state == "closed" and closed.closed_at
    with pytest.raises(Conflict):
        rounds.close_round(seeded_db, OFFICE, CITY, "2026Q4")
    with pytest.raises(NotFound):
        rounds.close_round(seeded_db, OFFICE, CITY, "2031Q1")


# -- the filing's life ----------------------------------------------------------------------------------------

def test_save_submit_return_resubmit_accept_each_write_versioned_and_audited(seeded_db):
    from citycarbon.store.governance_models import GovFilingVersion, GovNotification

    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    assert (filing.version, filing.state, filing.filed) == (0, "draft", False)
    assert [i["code"] for i in filing.indicators] == ["pv_mw", "charging_points"]
    rows = _audit(seeded_db)
    saved = rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="in_progress",
                               narrative="已开工", indicator_values={"pv_mw": "120.5"})
    assert (saved.version, saved.state, saved.indicator_values) == (1, "draft", {"pv_mw": 120.5})
    submitted = rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=1, status="lagging",
                                   narrative="进度滞后", indicator_values={"pv_mw": 120.5, "charging_points": 30},
                                   lag_reason="用海审批未完成", submit=True)
    assert (submitted.version, submitted.state, submitted.submitted_by) == (2, "submitted", "dept-miit")
    with pytest.raises(rounds.FilingConflict) as caught:  # with the office: the unit cannot change it now
        rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=2, status="in_progress")
    assert caught.value.code == "filing_state" and caught.value.current.state == "submitted"
    returned = rounds.review_filing(seeded_db, OFFICE, CITY, filing.id, version=2, decision="return",
                                    comment="请补充用海审批的预计完成时间")
    assert (returned.version, returned.state) == (3, "returned")
    assert returned.review_comment == "请补充用海审批的预计完成时间"
    again = rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=3, status="lagging", narrative="补充说明",
                               lag_reason="用海审批预计 2027 年 3 月完成", submit=True)
    assert (again.version, again.state) == (4, "submitted")
    assert again.submitted_at == submitted.submitted_at  # the first submission's moment stays
    accepted = rounds.review_filing(seeded_db, OFFICE, CITY, filing.id, version=4, decision="accept")
    assert (accepted.version, accepted.state, accepted.reviewed_by) == (5, "accepted", "office")
    assert [(h.version, h.action) for h in accepted.history] == [
        (1, "save"), (2, "submit"), (3, "return"), (4, "submit"), (5, "accept")]
    assert accepted.history[2].snapshot["review_comment"] == "请补充用海审批的预计完成时间"
    assert _audit(seeded_db) == rows + 5
    assert _count(seeded_db, GovFilingVersion) == 5
    with seeded_db.session() as session:
        to_miit = [n.message for n in session.scalars(select(GovNotification).where(
            GovNotification.org_code == "miit").order_by(GovNotification.id))]
    assert to_miit[-2:] == [rounds.MSG_RETURNED, rounds.MSG_ACCEPTED]
    info = rounds.get_round(seeded_db, VIEWER, CITY, "2026Q4")
    assert info.counts["accepted"] == 1 and info.counts["lagging"] == 1


def test_a_stale_version_is_refused_and_nothing_of_it_is_stored(seeded_db):
    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="in_progress", narrative="first")
    rows = _audit(seeded_db)
    with pytest.raises(rounds.FilingConflict) as caught:
        rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="completed", narrative="second")
    assert caught.value.code == "version_conflict" and "version 0" in caught.value.message
    assert (caught.value.current.version, caught.value.current.narrative) == (1, "first")
    assert _audit(seeded_db) == rows
    with pytest.raises(rounds.FilingConflict):
        rounds.review_filing(seeded_db, OFFICE, CITY, filing.id, version=0, decision="accept")
    with pytest.raises(rounds.FilingConflict) as caught:  # right version, but a draft is not reviewed
        rounds.review_filing(seeded_db, OFFICE, CITY, filing.id, version=1, decision="accept")
    assert caught.value.code == "filing_state"
    assert rounds.get_filing(seeded_db, MIIT, CITY, filing.id).narrative == "first"


@pytest.mark.parametrize(("values", "field"), [
    ({"status": "done"}, "status"),
    ({"status": "in_progress", "indicator_values": {"wind_mw": 3}}, "indicator_values.wind_mw"),
    ({"status": "in_progress", "indicator_values": {"pv_mw": "lots"}}, "indicator_values.pv_mw"),
    ({"status": "lagging", "lag_reason": "  "}, "lag_reason"),
    ({"status": "in_progress", "version": -1}, "version"),
])
def test_bad_filings_are_refused_naming_the_field_and_nothing_is_stored(seeded_db, values, field):
    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    rows = _audit(seeded_db)
    with pytest.raises(InputError) as caught:
        rounds.save_filing(seeded_db, MIIT, CITY, filing.id, **{"version": 0, **values})
    assert caught.value.first.field == field
    assert _audit(seeded_db) == rows and rounds.get_filing(seeded_db, MIIT, CITY, filing.id).version == 0


def test_a_return_needs_a_comment(seeded_db):
    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="completed", submit=True)
    with pytest.raises(InputError) as caught:
        rounds.review_filing(seeded_db, OFFICE, CITY, filing.id, version=1, decision="return", comment=" ")
    assert caught.value.first.field == "comment"
    with pytest.raises(InputError):
        rounds.review_filing(seeded_db, OFFICE, CITY, filing.id, version=1, decision="approve")


# -- scope ----------------------------------------------------------------------------------------------------

def test_a_unit_sees_and_files_only_its_own(seeded_db):
    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    own = filing_of(seeded_db, "2026Q4", code, "miit")
    district = filing_of(seeded_db, "2026Q4", code, "d210202")
    assert {f.org for f in rounds.list_filings(seeded_db, MIIT, CITY, "2026Q4")} == {"miit"}
    assert {f.org for f in rounds.my_filings(seeded_db, MIIT, CITY)} == {"miit"}
    assert {f.org for f in rounds.list_filings(seeded_db, ZHONGSHAN, CITY, "2026Q4")} == {"d210202"}
    assert rounds.list_filings(seeded_db, VIEWER, CITY, "2026Q4") == []
    assert rounds.list_filings(seeded_db, ENTERPRISE, CITY, "2026Q4") == []
    assert len(rounds.list_filings(seeded_db, ANALYST, CITY, "2026Q4")) == rounds.get_round(
        seeded_db, VIEWER, CITY, "2026Q4").counts["assignments"]
    for caller in (ECO, ZHONGSHAN, VIEWER, ENTERPRISE):
        with pytest.raises(NotFound):
            rounds.get_filing(seeded_db, caller, CITY, own.id)
        with pytest.raises(NotFound):
            rounds.save_filing(seeded_db, caller, CITY, own.id, version=0, status="completed")
    for missing in (10**9, 2**70, 0, -1):  # out of the id column's range: simply not found
        with pytest.raises(NotFound):
            rounds.get_filing(seeded_db, MIIT, CITY, missing)
    with pytest.raises(NotFound):
        rounds.get_attachment(seeded_db, OFFICE, CITY, 2**70)
    for caller in (ANALYST, MIIT_READ, OFFICE_READ):  # may read, may not file
        assert rounds.get_filing(seeded_db, caller, CITY, own.id).id == own.id
        with pytest.raises(Forbidden):
            rounds.save_filing(seeded_db, caller, CITY, own.id, version=0, status="completed")
    with pytest.raises(Forbidden):  # a unit never reviews, not even its own filing
        rounds.review_filing(seeded_db, MIIT, CITY, own.id, version=0, decision="accept")
    done = rounds.save_filing(seeded_db, ZHONGSHAN, CITY, district.id, version=0, status="in_progress")
    assert done.version == 1 and done.org_name_zh == "中山区"


def test_a_caller_of_another_city_is_refused(seeded_db):
    from citycarbon.auth.principal import Principal, Role

    elsewhere = Principal(9, "other-office", Role.admin, city="shenyang")
    with pytest.raises(Forbidden):
        rounds.list_rounds(seeded_db, elsewhere, CITY)
    with pytest.raises(Forbidden):
        open_q4(seeded_db, by=elsewhere)


# -- attachments ----------------------------------------------------------------------------------------------

def test_evidence_is_sniffed_stored_once_and_linked_with_the_version(seeded_db):
    from citycarbon.store.governance_models import GovBlob, GovFilingAttachment

    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="in_progress")
    first = rounds.attach_file(seeded_db, MIIT, CITY, filing.id, filename="../../etc/批复.pdf", content=PDF)
    second = rounds.attach_file(seeded_db, MIIT, CITY, filing.id, filename="照片.jpg", content=PNG)
    again = rounds.attach_file(seeded_db, MIIT, CITY, filing.id, filename="copy.pdf", content=PDF)
    assert (first.filename, first.media_type, first.filing_version) == ("批复.pdf", "application/pdf", 1)
    assert second.media_type == "image/png"  # by content, whatever the name says
    assert again.sha256 == first.sha256 and _count(seeded_db, GovBlob) == 2
    assert _count(seeded_db, GovFilingAttachment) == 3
    info, content = rounds.get_attachment(seeded_db, OFFICE, CITY, first.id)
    assert content == PDF and info.filename == "批复.pdf"
    headers = rounds.download_headers(info)
    assert headers["Content-Disposition"].startswith("attachment;") and "sandbox" in headers[
        "Content-Security-Policy"]
    for caller in (ECO, ZHONGSHAN, VIEWER):
        with pytest.raises(NotFound):
            rounds.get_attachment(seeded_db, caller, CITY, first.id)
        with pytest.raises(NotFound):
            rounds.attach_file(seeded_db, caller, CITY, filing.id, filename="x.pdf", content=PDF)
    with pytest.raises(InputError) as caught:
        rounds.attach_file(seeded_db, MIIT, CITY, filing.id, filename="run.exe", content=b"MZ\x90\x00 program")
    assert caught.value.first.file == "run.exe" and caught.value.first.field == "file"
    assert _count(seeded_db, GovFilingAttachment) == 3
    rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=1, status="completed", submit=True)
    with pytest.raises(rounds.FilingConflict):  # submitted: no new evidence until it is returned
        rounds.attach_file(seeded_db, MIIT, CITY, filing.id, filename="late.pdf", content=PDF)
    assert len(rounds.get_filing(seeded_db, ANALYST, CITY, filing.id).attachments) == 3


# -- closing --------------------------------------------------------------------------------------------------

def test_no_filing_after_the_round_is_closed(seeded_db):
    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    submitted = filing_of(seeded_db, "2026Q4", code, "drc")
    rounds.save_filing(seeded_db, OFFICE, CITY, submitted.id, version=0, status="completed", submit=True)
    rounds.close_round(seeded_db, OFFICE, CITY, "2026Q4")
    rows = _audit(seeded_db)
    with pytest.raises(rounds.FilingConflict) as caught:
        rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="completed", submit=True)
    assert caught.value.code == "round_closed"
    with pytest.raises(rounds.FilingConflict):
        rounds.attach_file(seeded_db, MIIT, CITY, filing.id, filename="a.pdf", content=PDF)
    with pytest.raises(rounds.FilingConflict):  # returning for changes makes no sense any more
        rounds.review_filing(seeded_db, OFFICE, CITY, submitted.id, version=1, decision="return", comment="x")
    assert _audit(seeded_db) == rows
    assert rounds.review_filing(seeded_db, OFFICE, CITY, submitted.id, version=1, decision="accept").state == (
        "accepted")  # the office finishes its review
    assert rounds.my_filings(seeded_db, MIIT, CITY) == []  # no open round


def test_a_late_submission_is_counted(seeded_db):
    from datetime import UTC, datetime

    code = measure_with_indicators(seeded_db)
    open_q4(seeded_db)
    filing = filing_of(seeded_db, "2026Q4", code, "miit")
    # 2027-01-10 23:30 in Dalian is 15:30 UTC: on time; 2027-01-11 00:30 local is late
    on_time = rounds.save_filing(seeded_db, MIIT, CITY, filing.id, version=0, status="completed", submit=True,
                                 now=datetime(2027, 1, 10, 15, 30, tzinfo=UTC))
    assert not on_time.late
    other = filing_of(seeded_db, "2026Q4", code, "drc")
    late = rounds.save_filing(seeded_db, OFFICE, CITY, other.id, version=0, status="completed", submit=True,
                              now=datetime(2027, 1, 10, 16, 30, tzinfo=UTC))
    assert late.late and rounds.get_round(seeded_db, OFFICE, CITY, "2026Q4").counts["late"] == 1

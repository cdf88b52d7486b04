"""Facts from supervision, monitoring and the project gate (issue 16): hand-worked values from small fixtures
written through the store, on SQLite and PostgreSQL, read as of a moment (docs/assessment.md, section "Facts
from supervision, monitoring and the project gate")."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from citycarbon.assessment import Fact
from citycarbon.governance.model import Indicator, Measure
from citycarbon.services.assessment import facts_governance as fg
from citycarbon.services.assessment.facts import FactContext, Unit, collect_facts
from citycarbon.store import audit
from citycarbon.store import governance as gov_store
from citycarbon.store.governance_models import GovFiling, GovFilingVersion, GovSupervisionItem
from citycarbon.store.project_models import ProjEvent, ProjProject
from tests.db_fixtures import db, pg_admin, settings  # noqa: F401  (fixtures)
from tests.governance.summary_support import add, add_round
from tests.projects.support import chemical_project, insert_project

CITY = "dalian"
MIIT = Unit("miit", "department", "市工业和信息化局", "Industry and IT")
ZS = Unit("d210202", "district", "中山区", "Zhongshan", "210202")
WFD = Unit("d210281", "district", "瓦房店市", "Wafangdian", "210281")
NOREGION = Unit("pz_x", "pilot_zone", "某先导区", "A pilot zone", None)
UNITS = [MIIT, ZS, WFD, NOREGION]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ctx(database, as_of: datetime, *, year: int = 2026, units=None, **memo) -> FactContext:
    return FactContext(db=database, city=CITY, year=year, as_of=as_of, ledger_version=1,
                       units=list(units or UNITS), memo=dict(memo))


# ---- supervision ------------------------------------------------------------------------------------------

def _measures(session) -> None:
    pv = Indicator("pv_mw", "渔光互补光伏装机", "fishery PV", "MW", target=500.0, year=2030, milestones={2026: 200.0})
    km = Indicator("km", "充电线路", "charging lines", "km", target=50.0, year=2026)
    later = Indicator("later", "远期指标", "later", "t", target=9.0, year=2030, milestones={2027: 5.0})
    for code, seq, indicators in (("T05-M01", 1, (pv,)), ("T05-M02", 2, (km,)), ("T05-M03", 3, (later,))):
        gov_store.put_measure(session, CITY, Measure(code, 5, seq, f"措施{code}", lead="miit", indicators=indicators),
                              actor="test")
    gov_store.put_measure(session, CITY, Measure("T12-M01", 12, 1, "区级措施", districts=("d210202",)), actor="test")


def _item(session, org: str, level: str, *, day: date, created: datetime, number: str | None = None,
          updated: datetime | None = None, measure: str = "T05-M02") -> GovSupervisionItem:
    row = GovSupervisionItem(city=CITY, rule_code=f"r{created.isoformat()}", level=level, round_id=None,
                             measure_code=measure, org_code=org, reason_zh="测试", triggered_on=day,
                             doc_number=number, created_at=created, updated_at=updated or created)
    session.add(row)
    session.flush()
    return row


def supervision_fixture(database, monkeypatch) -> None:
    """Three rounds (2025Q4 outside the year, 2026Q3, 2026Q4), miit's and 中山区's filings and supervision items;
    see the hand-worked values in the tests below."""
    with database.session(write=True) as s:
        _measures(s)
        r25 = add_round(s, "2025Q4", start=date(2025, 10, 1), end=date(2025, 12, 31), deadline=date(2026, 1, 10),
                        state="closed")
        add(s, r25, "T05-M01", "miit", status="lagging", submitted=date(2026, 1, 20), values={"pv_mw": 999})
        q3 = add_round(s, "2026Q3", start=date(2026, 7, 1), end=date(2026, 9, 30), deadline=date(2026, 10, 10),
                       state="closed")
        add(s, q3, "T05-M01", "miit", status="completed", state="accepted", submitted=date(2026, 10, 9),
            values={"pv_mw": 150})
        add(s, q3, "T05-M02", "miit", status="lagging", submitted=date(2026, 10, 12), lag_reason="资金",
            values={"km": 30})
        add(s, q3, "T12-M01", "d210202", status="in_progress", submitted=date(2026, 10, 10))
        q4 = add_round(s, "2026Q4", start=date(2026, 10, 1), end=date(2026, 12, 31), deadline=date(2027, 1, 10))
        add(s, q4, "T05-M01", "miit", status="in_progress", submitted=date(2027, 1, 8), values={"pv_mw": 210})
        add(s, q4, "T05-M02", "miit")  # owed, never filed
        add(s, q4, "T12-M01", "d210202", status="lagging", state="draft", lag_reason="用地")
        # T05-M03: saved as a draft on 5 January, submitted (completed) on 9 January 10:00 China time: history
        add(s, q4, "T05-M03", "miit")
        filing = GovFiling(round_id=q4.id, measure_code="T05-M03", org_code="miit", version=2, state="submitted",
                           status="completed", submitted_at=utc(2027, 1, 9, 2), submitted_by="miit")
        s.add(filing)
        s.flush()
        s.add(GovFilingVersion(filing_id=filing.id, version=1, action="save", actor="miit", at=utc(2027, 1, 5, 2),
                               snapshot={"state": "draft", "status": "in_progress", "submitted_at": None,
                                         "indicator_values": {}}))
        s.add(GovFilingVersion(filing_id=filing.id, version=2, action="submit", actor="miit", at=utc(2027, 1, 9, 2),
                               snapshot={"state": "submitted", "status": "completed",
                                         "submitted_at": "2027-01-09T02:00:00+00:00", "indicator_values": {}}))
        # supervision items of miit
        _item(s, "miit", "notice", day=date(2026, 10, 24), created=utc(2026, 10, 24, 2),
              number="大碳达峰办督〔2026〕1号")
        _item(s, "miit", "interview", day=date(2026, 12, 15), created=utc(2026, 12, 15, 2))
        _item(s, "miit", "reminder", day=date(2026, 10, 15), created=utc(2026, 10, 15, 2))
        _item(s, "miit", "notice", day=date(2025, 11, 1), created=utc(2025, 11, 1, 2),
              number="大碳达峰办督〔2025〕9号")
        # a reminder of 2 November escalated to a notice on 28 December (the audit row keeps the level before)
        escalated = _item(s, "miit", "notice", day=date(2026, 12, 28), created=utc(2026, 11, 2, 2),
                          updated=utc(2026, 12, 28, 2), number="大碳达峰办督〔2026〕2号", measure="T05-M03")
        monkeypatch.setattr(audit, "utcnow", lambda: utc(2026, 12, 28, 2))
        audit.record(s, "office", "escalate", "gov_supervision_item", escalated.id, before={"level": "reminder"},
                     after={"level": "notice"})
        monkeypatch.undo()
        _item(s, "d210202", "reminder", day=date(2026, 11, 1), created=utc(2026, 11, 1, 2), measure="T12-M01")


def test_supervision_facts_hand_worked(db, monkeypatch):  # noqa: F811
    supervision_fixture(db, monkeypatch)
    facts = collect_facts(ctx(db, utc(2027, 2, 1)), ["filing_on_time_rate", "measures_on_track_share",
                                                     "indicator_milestone_rate", "supervision_weight"])
    miit = facts["miit"]
    # due: Q3 M01 (on time), Q3 M02 (12 Oct, late), Q4 M01 (8 Jan, on time), Q4 M02 (never), Q4 M03 (9 Jan, on
    # time); 2025Q4 is another year's round
    on_time = miit["filing_on_time_rate"]
    assert on_time.value == pytest.approx(3 / 5)
    assert on_time.note_zh == "应报送5项，按时报送3项，按时报送率60.0%"
    assert [(e["round"], e["measure"], e["due"], e["filed"], e["on_time"]) for e in on_time.evidence] == [
        ("2026Q3", "T05-M01", "2026-10-10", "2026-10-09", True),
        ("2026Q3", "T05-M02", "2026-10-10", "2026-10-12", False),
        ("2026Q4", "T05-M01", "2027-01-10", "2027-01-08", True),
        ("2026Q4", "T05-M02", "2027-01-10", None, False),
        ("2026Q4", "T05-M03", "2027-01-10", "2027-01-09", True)]
    assert all(e["kind"] == "filing" for e in on_time.evidence)
    # measures: M01 in_progress (Q4), M02 lagging (its latest counted filing is Q3's), M03 completed → 2 of 3
    track = miit["measures_on_track_share"]
    assert track.value == pytest.approx(2 / 3)
    assert {e["measure"]: e["status"] for e in track.evidence} == {
        "T05-M01": "in_progress", "T05-M02": "lagging", "T05-M03": "completed"}
    assert track.note_zh == "承担措施3项（已完成1项、推进中1项、滞后1项），已完成或按进度推进2项，占66.7%"
    # indicators with a 2026 milestone: pv_mw (200; Q4 filed 210 → met), km (target 50 in 2026; latest value 30 →
    # not met); "later" has only a 2027 milestone
    milestones = miit["indicator_milestone_rate"]
    assert milestones.value == pytest.approx(0.5)
    assert [(e["indicator"], e["value"], e["milestone"], e["met"], e["round"]) for e in milestones.evidence] == [
        ("pv_mw", 210.0, 200.0, True, "2026Q4"), ("km", 30.0, 50.0, False, "2026Q3")]
    assert milestones.note_zh == "设有2026年节点的量化指标2项，达到节点1项，完成率50.0%"
    # supervision: notice 1 + interview 2 + reminder 0 + escalated notice 1 = 4 (the 2025 notice is another year)
    weight = miit["supervision_weight"]
    assert weight.value == 4 and weight.unit == "item"
    items = [e for e in weight.evidence if e["kind"] == "supervision"]
    assert sorted((e["level"], e["doc_number"], e["weight"]) for e in items) == [
        ("interview", None, 2.0), ("notice", "大碳达峰办督〔2026〕1号", 1.0),
        ("notice", "大碳达峰办督〔2026〕2号", 1.0), ("reminder", None, 0.0)]
    assert weight.note_zh == "2026年督办通知2件、约谈1次、提醒1件，折合督办事项4件"

    zs = facts["d210202"]
    # Q3 filed on the deadline day (on time); Q4 only a draft → 1 of 2
    assert zs["filing_on_time_rate"].value == pytest.approx(0.5)
    assert zs["measures_on_track_share"].value == pytest.approx(1.0)  # Q3's in_progress; the Q4 draft is not counted
    assert zs["indicator_milestone_rate"].applicable is False and zs["indicator_milestone_rate"].value is None
    assert zs["supervision_weight"].value == 0  # one reminder
    # a unit with no assignment: not applicable (scores its full points); its supervision weight is 0
    wfd = facts["d210281"]
    assert wfd["filing_on_time_rate"].applicable is False
    assert wfd["measures_on_track_share"].applicable is False
    assert wfd["supervision_weight"].value == 0 and wfd["supervision_weight"].applicable


def test_supervision_facts_as_of(db, monkeypatch):  # noqa: F811
    """As of 9 January 2027 08:00 China time: T05-M03's submission (10:00) is not counted yet and Q4's deadline
    has not passed, so only the Q4 filing already counted is due; the escalated item is still a reminder."""
    supervision_fixture(db, monkeypatch)
    early = collect_facts(ctx(db, utc(2027, 1, 9, 0)), ["filing_on_time_rate", "measures_on_track_share"])["miit"]
    assert early["filing_on_time_rate"].value == pytest.approx(2 / 3)  # Q3 M01 ✓, Q3 M02 ✗, Q4 M01 ✓
    assert early["filing_on_time_rate"].note_zh == "应报送3项，按时报送2项，按时报送率66.7%"
    assert early["measures_on_track_share"].value == pytest.approx(1 / 3)  # M03 not filed as of then
    december = collect_facts(ctx(db, utc(2026, 12, 1)), ["supervision_weight"])["miit"]["supervision_weight"]
    # items created by 1 December: the notice of 24 Oct (1), the reminder of 15 Oct (0), and the item escalated
    # on 28 Dec, then still the reminder of 2 Nov (0) without a 文号; the interview of 15 Dec is not yet there
    assert december.value == 1
    escalated = [e for e in december.evidence if e["kind"] == "supervision" and e["measure"] == "T05-M03"]
    assert escalated == [{"kind": "supervision", "item": escalated[0]["item"], "level": "reminder",
                          "doc_number": None, "triggered_on": "2026-11-02", "measure": "T05-M03",
                          "rule": escalated[0]["rule"], "weight": 0.0}]
    # before any round was opened (opened_at is the store's clock): nothing to file
    assert collect_facts(ctx(db, utc(2020, 1, 1)), ["filing_on_time_rate"])["miit"][
        "filing_on_time_rate"].applicable is False


def test_supervision_weights_are_data():
    weights = fg.supervision_weights()
    assert weights.weights == {"reminder": 0.0, "notice": 1.0, "interview": 2.0}
    assert weights.document and weights.status == "estimate"


# ---- the project gate -------------------------------------------------------------------------------------

def _event(session, code: str, kind: str, at: datetime, body: dict) -> None:
    row = session.query(ProjProject).filter_by(city=CITY, code=code).one()
    session.add(ProjEvent(project_id=row.id, kind=kind, body=body, at=at, actor="test"))
    session.flush()


def _decide(session, code: str, day: date, number: str, *, refused: bool = False) -> None:
    row = session.query(ProjProject).filter_by(city=CITY, code=code).one()
    findings = ([{"code": "task5.forbidden", "severity": "refuse", "message_zh": "新建乙烯项目属禁止类"}]
                if refused else [])
    row.state, row.decision, row.decision_no, row.decision_date = "approved", "approve", number, day
    row.approved = {"summary": {"tce_calorific": 8000.0, "refused": len(findings)}, "findings": findings}
    _event(session, code, "decision", datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
           {"decision": "approve", "number": number, "date": day.isoformat()})


def project_fixture(database) -> dict[str, str]:
    """Projects of 中山区 (210202) and 瓦房店 (210281) with workflow events; hand-worked in the tests."""
    codes = {}
    for key, region, day in (("P1", "210202", date(2026, 1, 5)), ("P2", "210202", date(2026, 2, 5)),
                             ("P3", "210202", date(2025, 3, 5)), ("P4", "210202", date(2026, 3, 6)),
                             ("P5", "210202", date(2026, 4, 5)), ("P6", "210281", date(2026, 5, 5))):
        codes[key] = insert_project(database, chemical_project(region_code=region, application_date=day,
                                                               name=f"测试项目{key}"), state="under_review")
    with database.session(write=True) as s:
        # P1: approved on 1 March 2026, but it records commissioning on 15 February → 未批先建
        _decide(s, codes["P1"], date(2026, 3, 1), "大发改审〔2026〕1号")
        _event(s, codes["P1"], "commissioned", utc(2026, 3, 5, 2), {"date": "2026-02-15", "enterprise_id": None})
        # P2: commissioned with no decision at all → 未批先建
        _event(s, codes["P2"], "commissioned", utc(2026, 5, 1, 2), {"date": "2026-05-01"})
        # P3: approved and commissioned in 2025, 验收 on 1 August 2026: 9 000 tce against 8 000 approved (+12.5 %)
        _decide(s, codes["P3"], date(2025, 6, 1), "大发改审〔2025〕3号")
        _event(s, codes["P3"], "commissioned", utc(2025, 7, 1, 2), {"date": "2025-07-01"})
        _event(s, codes["P3"], "acceptance", utc(2026, 8, 1, 2),
               {"approved": 8000.0, "measured": 9000.0, "deviation": 0.125, "flagged": True, "basis": "tce_calorific",
                "unit": "tce"})
        # P4: approved on 1 April 2026 although a prohibiting rule refused it; 验收 +6.25 % (within 10 %)
        _decide(s, codes["P4"], date(2026, 4, 1), "大发改审〔2026〕4号", refused=True)
        _event(s, codes["P4"], "commissioned", utc(2026, 5, 1, 2), {"date": "2026-05-01"})
        _event(s, codes["P4"], "acceptance", utc(2026, 9, 1, 2), {"approved": 8000.0, "measured": 8500.0})
        # P5: a commissioning without approval recorded only after the run's moment
        _event(s, codes["P5"], "commissioned", utc(2027, 3, 1, 2), {"date": "2026-12-01"})
        # P6: 瓦房店's violation
        _event(s, codes["P6"], "commissioned", utc(2026, 6, 1, 2), {"date": "2026-06-01"})
    return codes


def test_project_facts_hand_worked(db):  # noqa: F811
    codes = project_fixture(db)
    facts = collect_facts(ctx(db, utc(2027, 2, 1)), ["project_violations", "prohibited_approved"])
    zs = facts["d210202"]
    violations = zs["project_violations"]
    assert violations.value == 3 and violations.unit == "project"
    assert sorted((e["code"], e["finding"]) for e in violations.evidence) == sorted([
        (codes["P1"], "built_before_approval"), (codes["P2"], "built_before_approval"),
        (codes["P3"], "acceptance_failed")])
    p1 = next(e for e in violations.evidence if e["code"] == codes["P1"])
    assert (p1["kind"], p1["decision_no"], p1["day"], p1["approved_on"]) == (
        "project", "大发改审〔2026〕1号", "2026-02-15", "2026-03-01")
    p3 = next(e for e in violations.evidence if e["code"] == codes["P3"])
    assert p3["deviation"] == pytest.approx(0.125) and p3["threshold"] == pytest.approx(0.10)
    assert violations.note_zh == "2026年辖区内有违规情形的项目3个（未批先建、节能验收不合格）"
    prohibited = zs["prohibited_approved"]
    assert prohibited.value == 1
    assert [(e["code"], e["decision_no"], e["rules"]) for e in prohibited.evidence] == [
        (codes["P4"], "大发改审〔2026〕4号", ["task5.forbidden"])]
    assert facts["d210281"]["project_violations"].value == 1
    assert facts["d210281"]["prohibited_approved"].value == 0
    assert facts["pz_x"]["project_violations"].applicable is False
    assert "project_violations" not in facts["miit"]  # departments: not emitted
    # P5's event is dated after the run: as of 1 April 2027 it counts (its commissioning day is in 2026)
    later = collect_facts(ctx(db, utc(2027, 4, 1)), ["project_violations"])["d210202"]["project_violations"]
    assert later.value == 4
    # as of 1 July 2026: P1 and P2 only (P3's 验收 is in August)
    assert collect_facts(ctx(db, utc(2026, 7, 1)), ["project_violations"])["d210202"]["project_violations"].value == 2


# ---- monitoring -------------------------------------------------------------------------------------------

def _registry():
    from citycarbon.monitoring.registry import load_registry
    from tests.monitoring.conftest import valid_uscc

    def ent(eid, body, region):
        return {"enterprise_id": eid, "name": f"企业{eid}", "uscc": valid_uscc(body), "industry_code": "2511",
                "region": region, "tier": "1", "annual_budget_tce": "", "budget_year": ""}

    def point(pid, eid):
        return {"point_id": pid, "enterprise_id": eid, "energy_type": "electricity", "unit": "kWh",
                "kind": "interval", "multiplier": "1", "parent_point_id": "", "interval_minutes": "60",
                "register_max": "", "purpose": "main"}

    enterprises = pd.DataFrame([ent("E1", "91210200MA0000001", "210202"), ent("E2", "91210200MA0000002", "210202"),
                                ent("E3", "91210200MA0000003", "210202"), ent("E4", "91210200MA0000004", "210281")])
    points = pd.DataFrame([point("E1-A", "E1"), point("E1-B", "E1"), point("E2-A", "E2"), point("E3-A", "E3"),
                           point("E4-A", "E4")])
    return load_registry({"enterprises": enterprises, "points": points})


def monitoring_fixture(database, tmp_path):
    """中山区: E1 (two hourly meters), E2 (one), E3 (registered, silent); 瓦房店: E4. Readings of March 2024:
    E1 on 1 March complete (48/48), on 2 March meter B only half the day (36/48 = 75 %); E2 on 1 March 22 of 24
    hours (91.7 %); E4 one full day."""
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.monitoring.lake import Lake
    from citycarbon.store.monitoring_registry import save_registry
    from tests.monitoring.test_lake_fixtures import interval_rows

    registry = _registry()
    save_registry(database, registry, "test")
    lake = Lake.open(tmp_path / "lake")
    rows = pd.concat([interval_rows("E1-A", "2024-03-01T00:00", 48, 60),
                      interval_rows("E1-B", "2024-03-01T00:00", 24, 60),
                      interval_rows("E1-B", "2024-03-02T00:00", 12, 60),
                      interval_rows("E2-A", "2024-03-01T00:00", 22, 60),
                      interval_rows("E4-A", "2024-03-01T00:00", 24, 60)])
    report = ingest_frame(lake, registry, rows, source="test")
    assert report.rejected == 0
    return lake


def test_monitoring_facts_hand_worked(db, tmp_path):  # noqa: F811
    lake = monitoring_fixture(db, tmp_path)
    now = datetime.now(UTC)
    facts = collect_facts(ctx(db, now, year=2024, **{"monitoring.lake": lake}),
                          ["monitoring_online_rate", "monitoring_quality_rate"])
    zs = facts["d210202"]
    online = zs["monitoring_online_rate"]
    assert online.value == pytest.approx(2 / 3) and not online.estimate
    assert online.note_zh == "登记重点用能单位3家，2024年有在线数据2家，接入率66.7%"
    (evidence,) = online.evidence
    assert (evidence["kind"], evidence["registered"], evidence["online"], evidence["offline"]) == (
        "monitoring", 3, 2, ["E3"])
    quality = zs["monitoring_quality_rate"]
    # unit-days with data: E1 1 March (100 %), E1 2 March (75 %), E2 1 March (91.7 % ≥ 90 %) → 2 of 3
    assert quality.value == pytest.approx(2 / 3)
    (q,) = quality.evidence
    assert (q["unit_days"], q["passing"], q["threshold"], q["per_enterprise"]) == (3, 2, 0.9, {"E1": [1, 2],
                                                                                              "E2": [1, 1]})
    assert quality.note_zh == "2024年重点用能单位有数据的3个单位日中，数据完整率达到90.0%的2个，占66.7%"
    assert facts["d210281"]["monitoring_online_rate"].value == 1.0
    assert facts["d210281"]["monitoring_quality_rate"].value == 1.0
    assert "monitoring_online_rate" not in facts["miit"]  # departments: not emitted
    assert facts["pz_x"]["monitoring_online_rate"].applicable is False
    # another year: registered units, none online; no data to judge
    other = collect_facts(ctx(db, now, year=2025, **{"monitoring.lake": lake}),
                          ["monitoring_online_rate", "monitoring_quality_rate"])["d210202"]
    assert other["monitoring_online_rate"].value == 0.0
    assert other["monitoring_quality_rate"].applicable is False
    # as of a moment before the lake's batch was committed: nothing online yet
    before = collect_facts(ctx(db, utc(2024, 12, 31), year=2024, **{"monitoring.lake": lake}),
                           ["monitoring_online_rate", "monitoring_quality_rate"])["d210202"]
    assert before["monitoring_online_rate"].value == 0.0
    assert before["monitoring_quality_rate"].applicable is False


def test_monitoring_without_registry_is_not_applicable(db):  # noqa: F811
    facts = collect_facts(ctx(db, utc(2027, 2, 1), **{"monitoring.lake": None}), ["monitoring_online_rate"])
    assert facts["d210202"]["monitoring_online_rate"] == Fact(
        None, note_zh="辖区内未登记重点用能单位", note_en="no key energy-using unit registered in the region",
        applicable=False)


# ---- speed ------------------------------------------------------------------------------------------------

def test_twenty_units_in_well_under_two_seconds(db, monkeypatch, tmp_path):  # noqa: F811
    """The three families for 20 units: a fixed number of queries, not one per unit (issue 16: a whole run of
    20 units ≤ 2 s)."""
    supervision_fixture(db, monkeypatch)
    project_fixture(db)
    lake = monitoring_fixture(db, tmp_path)
    units = [*UNITS, *(Unit(f"d{i}", "district", f"区{i}", f"D{i}", f"2102{i:02d}") for i in range(10, 26))]
    keys = ["filing_on_time_rate", "measures_on_track_share", "indicator_milestone_rate", "supervision_weight",
            "monitoring_online_rate", "monitoring_quality_rate", "project_violations", "prohibited_approved"]
    started = time.perf_counter()
    facts = collect_facts(ctx(db, datetime.now(UTC), units=units, **{"monitoring.lake": lake}), keys)
    elapsed = time.perf_counter() - started
    assert len(facts) == 20 and all(len(f) == (4 if u.kind == "department" else 8)
                                    for u, f in zip(units, facts.values(), strict=True))
    print(f"20 units: {elapsed:.3f} s")
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_monitoring_reads_the_deployments_lake_when_none_is_given(db):  # noqa: F811
    """No lake in the memo: the deployment's (settings from the environment); a fresh home has none, so the
    registered units are all offline and there is no data to judge."""
    from citycarbon.store.monitoring_registry import save_registry

    save_registry(db, _registry(), "test")
    run = ctx(db, datetime.now(UTC), year=2024)
    try:
        facts = collect_facts(run, ["monitoring_online_rate", "monitoring_quality_rate"])["d210202"]
    finally:  # PostgreSQL: the deployment's lake keeps its ledger in the test database (an empty one)
        lake = run.memo.get("monitoring.lake")
        if lake is not None:
            lake.ledger.dispose()
    assert facts["monitoring_online_rate"].value == 0.0
    assert facts["monitoring_online_rate"].evidence[0]["offline"] == ["E1", "E2", "E3"]
    assert facts["monitoring_quality_rate"].applicable is False


# ---- the as-of rule of a filing (property) ----------------------------------------------------------------

def test_a_filing_as_of_is_its_latest_version_then():
    """For any history of saved versions and any moment: the state read is that of the highest version saved
    at or before the moment, and nothing before the first save."""
    from datetime import timedelta
    from types import SimpleNamespace

    from hypothesis import given
    from hypothesis import strategies as st

    base = utc(2027, 1, 1)

    @given(st.lists(st.integers(0, 1000), min_size=1, max_size=8), st.integers(-10, 1100))
    def check(minutes, probe):
        at = sorted(minutes)
        versions = [(i + 1, base + timedelta(minutes=m), {"state": ["draft", "submitted"][i % 2], "status": str(i),
                                                          "submitted_at": None, "indicator_values": {}})
                    for i, m in enumerate(at)]
        moment = base + timedelta(minutes=probe)
        state, status, _, _ = fg._filed_as_of(SimpleNamespace(filing_id=1), versions, moment)
        seen = [v for v in versions if v[1] <= moment]
        if not seen:
            assert state is None and status is None
        else:
            assert status == str(max(seen)[0] - 1) and state == seen[-1][2]["state"]

    check()

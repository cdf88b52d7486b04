"""The 节能审查 workflow's services (issue 15 item 5) on SQLite and PostgreSQL: submission with the pre-check,
completeness, comments with files, the decision (refused when the replacement is not covered, rejection releases
the allocations), commissioning, 验收 against the data threshold, withdrawal, the scope and the 审查意见 DOCX."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.projects import workflow as wf
from citycarbon.services.projects import workflow as service
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.store import projects as store
from citycarbon.store.audit import AuditEntry
from citycarbon.store.project_models import ProjLedgerAllocation, ProjLedgerSource, ProjProject
from tests.projects.support import (
    ANALYST,
    CITY,
    DISTRICT,
    OFFICE,
    OTHER_DISTRICT,
    VIEWER,
    chemical_project,
    insert_project,
)

PDF = b"%PDF-1.4\n% expert opinion\n"
ENTERPRISE = Principal(7, "ent-x", Role.enterprise, enterprise_id="E-X", city=CITY)
OTHER_ENTERPRISE = Principal(8, "ent-y", Role.enterprise, enterprise_id="E-Y", city=CITY)


def _required() -> float:
    found = evaluate(CITY, chemical_project())
    return sum(f.numbers["required"] for f in found.findings if f.code == "replacement.energy")


def _source(db, code: str = "GB-1", amount: str = "5000", unit: str = "tce") -> None:
    with db.session(write=True) as session:
        session.add(ProjLedgerSource(city=CITY, code=code, kind="energy", amount=amount, unit=unit,
                                     plant="某关停焦化厂", document="大政发〔2025〕1号"))


def _allocate(db, code: str, amount: Decimal, source: str = "GB-1") -> None:
    with db.session(write=True) as session:
        row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
        store.allocate(session, CITY, source, row, amount, "tce", by="test")


def _under_review(db, **kw) -> str:
    return insert_project(db, chemical_project(), state="under_review", **kw)


def _state(db, code: str) -> ProjProject:
    with db.session() as session:
        row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
        session.expunge(row)
        return row


def _actions(db) -> list[str]:
    with db.session() as session:
        return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_submit_runs_the_precheck_and_records_it(db):
    code = insert_project(db, replace(chemical_project(), products=()), state="draft")
    view = service.submit(db, DISTRICT, CITY, code)
    assert view["state"] == "submitted"
    [event] = service.events(db, DISTRICT, CITY, code)
    checks = {i.id: i.check for i in wf.load_checklist().items}
    manual = {k for k, v in checks.items() if v == "manual"}
    assert {k for k, v in event["body"]["precheck"].items() if v == "manual"} == manual
    missing = [i["id"] for i in event["body"]["missing"]]
    assert "products" in missing and "unit_consumption" in missing and "energy_by_fuel" not in missing
    assert _actions(db) == ["project.submit"]


def test_completeness_returns_with_missing_items_then_resubmit(db):
    code = insert_project(db, chemical_project(), state="submitted")
    with pytest.raises(Forbidden):
        service.check_completeness(db, DISTRICT, CITY, code)
    with pytest.raises(InputError) as bad:
        service.check_completeness(db, OFFICE, CITY, code, missing=["no_such_item"])
    assert bad.value.problems[0].field == "missing"
    view = service.check_completeness(db, OFFICE, CITY, code, missing=["energy_report"], note="缺节能报告")
    assert view["state"] == "incomplete"
    last = service.events(db, OFFICE, CITY, code)[-1]
    assert last["body"]["missing"] == [{"id": "energy_report",
                                        "name_zh": wf.load_checklist().item("energy_report").name_zh}]
    assert service.submit(db, DISTRICT, CITY, code)["state"] == "submitted"
    assert service.check_completeness(db, OFFICE, CITY, code)["state"] == "under_review"
    assert _actions(db) == ["project.return", "project.submit", "project.complete"]


def test_stale_version_is_refused(db):
    code = insert_project(db, chemical_project(), state="submitted")
    with pytest.raises(Conflict) as stale:
        service.check_completeness(db, OFFICE, CITY, code, version=99)
    assert stale.value.code == "stale_version"
    assert _state(db, code).state == "submitted"


def test_comment_with_files_and_download(db):
    code = _under_review(db)
    with pytest.raises(Forbidden):
        service.comment(db, DISTRICT, CITY, code, "意见")
    with pytest.raises(InputError):
        service.comment(db, ANALYST, CITY, code, "意见", attachments=[("x.html", b"<html>")])
    assert service.events(db, OFFICE, CITY, code) == []  # nothing stored on a bad file
    found = service.comment(db, ANALYST, CITY, code, "能效水平介于标杆和基准之间", attachments=[("专家意见.pdf", PDF)])
    [attachment] = found["attachments"]
    info, content = service.get_attachment(db, DISTRICT, CITY, code, attachment["id"])
    assert content == PDF and info.media_type == "application/pdf"
    headers = service.download_headers(info)
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Content-Disposition"].startswith("attachment")
    with pytest.raises(NotFound):
        service.get_attachment(db, OTHER_DISTRICT, CITY, code, attachment["id"])
    other = insert_project(db, chemical_project(), state="submitted")
    with pytest.raises(NotFound):
        service.get_attachment(db, OFFICE, CITY, other, attachment["id"])
    assert _state(db, code).state == "under_review"


def test_approval_refused_until_replacement_covered(db):
    code = _under_review(db)
    _source(db)
    required = _required()
    half = Decimal(str(required)) / 2
    _allocate(db, code, half)
    with pytest.raises(service.ApprovalRefused) as refused:
        service.decide(db, OFFICE, CITY, code, decision="approve", number="大发改能审〔2026〕8号",
                       day=date(2026, 12, 1))
    need = next(n for n in refused.value.numbers["needs"] if n["kind"] == "energy")
    assert float(need["required"]) == pytest.approx(required)
    assert float(need["shortfall"]) == pytest.approx(required - float(half))
    assert _state(db, code).state == "under_review"
    _allocate(db, code, Decimal(str(required)) - half)
    view = service.decide(db, OFFICE, CITY, code, decision="approve", number="大发改能审〔2026〕8号",
                          day=date(2026, 12, 1))
    assert view["state"] == "approved" and view["decision_no"] == "大发改能审〔2026〕8号"
    approved = _state(db, code).approved
    assert approved["summary"] == evaluate(CITY, replace(chemical_project(), id=code)).summary()
    assert sum(Decimal(a["amount"]) for a in approved["allocations"]) == Decimal(str(required))


def test_approval_refused_by_a_refuse_finding(db):
    code = insert_project(db, chemical_project(national_plan=None), state="under_review")
    with pytest.raises(service.ApprovalRefused) as refused:
        service.decide(db, OFFICE, CITY, code, decision="approve_conditions", number="N1", day=date(2026, 12, 1),
                       conditions="落实替代")
    assert refused.value.code == "project_refused" and refused.value.numbers["refused"]


def test_decision_input(db):
    code = _under_review(db)
    for kwargs, field in ((dict(decision="maybe", number="N", day=date(2026, 12, 1)), "decision"),
                          (dict(decision="reject", number="", day=date(2026, 12, 1), reason="r"), "number"),
                          (dict(decision="reject", number="N", day=None, reason="r"), "date"),
                          (dict(decision="reject", number="N", day=date(2026, 12, 1)), "reason"),
                          (dict(decision="approve_conditions", number="N", day=date(2026, 12, 1)), "conditions")):
        with pytest.raises(InputError) as bad:
            service.decide(db, OFFICE, CITY, code, **kwargs)
        assert bad.value.problems[0].field == field
    assert _actions(db) == []


def test_rejection_releases_allocations(db):
    code = _under_review(db)
    _source(db)
    _allocate(db, code, Decimal("1000"))
    view = service.decide(db, OFFICE, CITY, code, decision="reject", number="N2", day=date(2026, 12, 1),
                          reason="能效低于基准")
    assert view["state"] == "rejected"
    with db.session() as session:
        source = session.scalars(select(ProjLedgerSource)).one()
        assert store.source_balance(session, source) == Decimal("5000")
        assert all(a.released_at is not None for a in session.scalars(select(ProjLedgerAllocation)))


def test_withdraw_releases_and_decided_cannot_be_withdrawn(db):
    code = insert_project(db, chemical_project(), state="submitted")
    _source(db)
    _allocate(db, code, Decimal("700"))
    with pytest.raises(Forbidden):
        service.withdraw(db, OFFICE.__class__(9, "an", Role.analyst, city=CITY), CITY, code)
    assert service.withdraw(db, DISTRICT, CITY, code)["state"] == "withdrawn"
    with db.session() as session:
        assert store.source_balance(session, session.scalars(select(ProjLedgerSource)).one()) == Decimal("5000")
    decided = insert_project(db, chemical_project(), state="approved")
    with pytest.raises(wf.IllegalStep):
        service.withdraw(db, DISTRICT, CITY, decided)


class FakeMeters:
    """The monitoring service's rollups for one enterprise (a frame of monthly tce)."""

    def __init__(self, tce_by_month: dict[str, float], enterprise: str = "E-X"):
        self.months, self.enterprise, self.calls = tce_by_month, enterprise, []

    def rollups(self, principal, *, period, by, enterprise_id, start, end):
        self.calls.append((period, by, enterprise_id, start, end))
        if enterprise_id != self.enterprise:
            raise NotFound("enterprise")

        class Result:
            frame = pd.DataFrame({"period": list(self.months), "enterprise_id": enterprise_id,
                                  "tce_calorific": list(self.months.values())})
        return Result()


def _approved(db) -> str:
    code = _under_review(db, enterprise_id="E-X")
    _source(db)
    _allocate(db, code, Decimal(str(_required())))
    service.decide(db, OFFICE, CITY, code, decision="approve", number="N3", day=date(2026, 12, 1))
    return code


@pytest.mark.parametrize("over", [True, False])
def test_acceptance_flags_deviation_from_the_data_threshold(db, over):
    code = _approved(db)
    with pytest.raises(InputError):
        service.commission(db, ENTERPRISE, CITY, code, day=date(2026, 11, 1))  # before the decision
    service.commission(db, ENTERPRISE, CITY, code, day=date(2027, 1, 1))
    rule = wf.load_acceptance()
    approved = _state(db, code).approved["summary"][rule.basis]
    total = approved * (1 + rule.deviation_threshold + (0.01 if over else -0.01))
    meters = FakeMeters({f"2027-{m:02d}": total / 12 for m in range(1, 13)})
    with pytest.raises(Forbidden):
        service.accept(db, ENTERPRISE, CITY, code, meters=meters)
    view = service.accept(db, OFFICE, CITY, code, meters=meters)
    assert meters.calls[-1] == ("month", "enterprise", "E-X", "2027-01-01",
                                f"{2027 + rule.period_months // 12}-{(rule.period_months % 12) + 1:02d}-01")
    body = view["acceptance"]
    assert body["flagged"] is over and body["measured_by"] == "meters"
    assert body["deviation"] == pytest.approx((total - approved) / approved)
    assert view["state"] == "accepted"


def test_acceptance_without_meter_data_takes_the_entered_figure(db):
    code = _approved(db)
    service.commission(db, OFFICE, CITY, code, day=date(2027, 1, 1), enterprise_id="E-NONE")
    meters = FakeMeters({"2027-01": 1.0})
    with pytest.raises(InputError) as bad:
        service.accept(db, OFFICE, CITY, code, meters=meters)
    assert bad.value.problems[0].field == "measured"
    with pytest.raises(InputError) as bad:
        service.accept(db, OFFICE, CITY, code, meters=meters, measured=9000.0)
    assert bad.value.problems[0].field == "source"
    view = service.accept(db, OFFICE, CITY, code, meters=meters, measured=9000.0, source="第三方节能验收报告")
    approved = _state(db, code).approved["summary"]["tce_calorific"]
    assert view["acceptance"]["measured_by"] == "entered"
    assert view["acceptance"]["flagged"] is ((9000.0 - approved) / approved > wf.load_acceptance().deviation_threshold)


def test_a_decided_project_cannot_move_back(db):
    code = _approved(db)
    for call in (lambda: service.submit(db, DISTRICT, CITY, code),
                 lambda: service.check_completeness(db, OFFICE, CITY, code),
                 lambda: service.decide(db, OFFICE, CITY, code, decision="reject", number="N", day=date(2026, 12, 2),
                                        reason="r")):
        with pytest.raises(wf.IllegalStep):
            call()
    assert _state(db, code).state == "approved"


def test_scope(db):
    code = insert_project(db, chemical_project(), state="submitted", enterprise_id="E-X")
    for caller in (OTHER_DISTRICT, OTHER_ENTERPRISE, VIEWER):
        with pytest.raises(NotFound):
            service.events(db, caller, CITY, code)
        with pytest.raises(NotFound):
            service.withdraw(db, caller, CITY, code)
    with pytest.raises(NotFound):
        service.events(db, OFFICE, "shenyang", code)
    assert service.events(db, ENTERPRISE, CITY, code) == []
    assert service.withdraw(db, ENTERPRISE, CITY, code)["state"] == "withdrawn"


def test_opinion_docx_reads_back(db):
    from docx import Document

    code = _under_review(db)
    with pytest.raises(Conflict):
        service.opinion_docx(db, OFFICE, CITY, code)
    _source(db)
    _allocate(db, code, Decimal(str(_required())))
    service.decide(db, OFFICE, CITY, code, decision="approve_conditions", number="大发改能审〔2026〕9号",
                   day=date(2026, 12, 1), conditions="投产后一年内完成节能验收")
    content = service.opinion_docx(db, DISTRICT, CITY, code)
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    summary = evaluate(CITY, replace(chemical_project(), id=code)).summary()
    assert "大发改能审〔2026〕9号" in text and "投产后一年内完成节能验收" in text
    assert chemical_project().applicant_name in text and "节能审查的意见" in text
    for key in ("tce_calorific", "tce_equivalent", "dual_control_tce", "co2_t"):
        assert f"{summary[key]:,.2f}" in cells
    assert "GB-1" in cells

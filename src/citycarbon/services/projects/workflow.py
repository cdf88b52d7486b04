"""The 节能审查 workflow of a project (issue 15 item 5): submission with the automatic completeness pre-check, the
office's completeness check, the expert review's comments and attachments, the decision (文号, date; approval
refused while a rule refuses the project or its energy replacement is not covered by its allocations), the
commissioning, 验收 (the meter lake's actual consumption against the approved 当量值) and withdrawal; the history
and the 审查意见 as a GB/T 9704 DOCX.

Every function takes ``(db, principal, city, code, …)``. Order of the answers: another unit's project (or one
that does not exist) is :class:`NotFound` (404, existence not leaked); a role that may not take the step is
:class:`Forbidden` (403); a step the state table (:mod:`citycarbon.projects.workflow`) does not allow is
:class:`~citycarbon.projects.workflow.IllegalStep` (409); bad input is :class:`InputError` (422). Every write names
the ``version`` it read (None: the version read now) through :func:`citycarbon.store.projects.save_project`, and is
audited (entity ``project``, actions ``project.submit`` …) in the same transaction.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.projects import workflow as wf
from citycarbon.projects.rules import Severity
from citycarbon.services.governance import evidence
from citycarbon.services.projects.evaluate import Evaluation, evaluate, finding_dict
from citycarbon.services.projects.ledgers import coverage, release_project
from citycarbon.store import audit
from citycarbon.store import projects as store
from citycarbon.store.governance_models import GovBlob, GovOrg
from citycarbon.store.project_models import ProjAttachment, ProjEvent, ProjLedgerSource, ProjProject

__all__ = ["ApprovalRefused", "Meters", "accept", "check_completeness", "comment", "commission", "decide",
           "download_headers", "events", "get_attachment", "opinion_docx", "submit", "withdraw", "workflow_view"]

log = logging.getLogger("citycarbon.services.projects.workflow")
MAX_TEXT = 20_000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DECISIONS = {"approve": wf.Action.approve, "approve_conditions": wf.Action.approve_conditions,
             "conditions": wf.Action.approve_conditions, "reject": wf.Action.reject}
DECISION_ZH = {"approve": "同意", "approve_conditions": "原则同意（附条件）", "reject": "不予同意"}


@cache
def checklist() -> wf.Checklist:
    return wf.load_checklist()


@cache
def acceptance_rule() -> wf.AcceptanceRule:
    return wf.load_acceptance()


class ApprovalRefused(Conflict):
    """Approval refused (409): a rule refuses the project, or its required replacement is not covered by its
    live allocations. ``numbers``: what was compared."""

    def __init__(self, code: str, zh: str, en: str, numbers: dict[str, Any]):
        super().__init__(f"{zh} / {en}", code=code)
        self.numbers = numbers


class Meters(Protocol):
    """What 验收 reads of the meter lake: :meth:`citycarbon.services.monitoring.MonitoringService.rollups`."""

    def rollups(self, principal: Principal, *, period: str, by: str, enterprise_id: str | None,
                start: str | None, end: str | None) -> Any | None: ...


# -- scope and roles --------------------------------------------------------------------------------------------

def _not_found(code: str) -> NotFound:
    # the code is not echoed: the answer is the same whatever was asked for
    return NotFound("项目不存在 / project not found", code="project_not_found")


def _row(session: Session, principal: Principal, city: str, code: str) -> ProjProject:
    if not principal.can_access_city(city):
        raise _not_found(code)
    row = session.scalars(select(ProjProject).where(ProjProject.city == city, ProjProject.code == code)
                          .execution_options(populate_existing=True)).one_or_none()
    if row is None or not principal.can_read_project(row.region_code, row.enterprise_id):
        raise _not_found(code)
    return row


def actors(principal: Principal, city: str, row: ProjProject) -> frozenset[wf.Actor]:
    """The workflow roles ``principal`` holds for ``row``."""
    out = set()
    if principal.can_file_project(row.region_code, row.enterprise_id):
        out.add(wf.Actor.filer)
    if principal.can_review_projects(city):
        out.add(wf.Actor.office)
    if principal.can_comment_project(city):
        out.add(wf.Actor.expert)
    return frozenset(out)


def _require(principal: Principal, city: str, row: ProjProject, action: wf.Action) -> wf.State:
    """Check the caller's role for ``action`` (403) and the state (409); the state after the step."""
    transition = wf.transition_for(action)
    if not transition.actors & actors(principal, city, row):
        who = "、".join(sorted(a.value for a in transition.actors))
        raise Forbidden(f"无权对项目执行此操作（须为 {who}） / may not {action.value} a project (needs: {who})",
                        code="project_forbidden")
    return wf.step(wf.State(row.state), action)


def _version(row: ProjProject, version: int | None) -> int:
    return row.version if version is None else int(version)


def _text(value: str | None, field: str, zh: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError(Problem(f"{field} is required", field=field, message_zh=zh))
    if len(text) > MAX_TEXT:
        raise InputError(Problem(f"{field} is longer than {MAX_TEXT} characters", field=field,
                                 message_zh=f"超过 {MAX_TEXT} 字"))
    return text


def _move(session: Session, principal: Principal, row: ProjProject, version: int | None, target: wf.State,
          action: str, event_kind: str, body: dict[str, Any], *, values: dict[str, Any] | None = None,
          note: str = "") -> ProjEvent:
    before = {"state": row.state, "version": row.version}
    state_from = row.state
    actor = audit.actor_of(principal)[0]
    store.save_project(session, row, _version(row, version), {"state": target.value, **(values or {})}, by=actor,
                       reason=f"project.{action}")
    event = store.add_event(session, row, event_kind, by=actor, body=body, note=note, state_from=state_from,
                            state_to=target.value)
    audit.record(session, principal, f"project.{action}", "project", f"{row.city}:{row.code}", before,
                 {"state": target.value, "version": row.version, **body})
    return event


# -- the evaluation and the replacement -------------------------------------------------------------------------

def _evaluation(db: Any, city: str, row: ProjProject) -> Evaluation:
    return evaluate(city, store.project_from_row(row), db=db)


def _project_allocations(session: Session, row: ProjProject) -> list[dict[str, Any]]:
    out = []
    for allocation in store.live_allocations(session):
        if allocation.project_id != row.id:
            continue
        source = session.get(ProjLedgerSource, allocation.source_id)
        assert source is not None
        out.append({"source": source.code, "kind": source.kind, "amount": allocation.amount,
                    "unit": allocation.unit, "product": source.product, "plant": source.plant,
                    "document": source.document})
    return out


def _replacement_gap(session: Session, city: str, row: ProjProject, evaluation: Evaluation) -> dict[str, Any] | None:
    """The replacement the project still lacks (energy-consumption replacement in tce, and the retired capacity of
    each product line), from the ledgers' :func:`~citycarbon.services.projects.ledgers.coverage`: None when every
    need is covered (or none is required), else the needs with what is held and what is short."""
    found = coverage(session, city, row, evaluation)
    if found.covered:
        return None
    return {"needs": [n.to_dict() for n in found.needs], "message_zh": found.message_zh(),
            "message_en": found.message_en()}


def _facts(session: Session, row: ProjProject, evaluation: Evaluation | None) -> dict[str, bool]:
    project = store.project_from_row(row)
    needs_replacement = evaluation is not None and any(f.code.startswith("replacement.")
                                                       for f in evaluation.findings)
    has_plan = bool(_project_allocations(session, row)) or bool(str((row.data or {}).get("replacement_plan") or ""))
    return {
        "applicant": bool(project.applicant_name and project.applicant_uscc),
        "energy_by_fuel": bool(project.energy or project.feedstock),
        "products": bool(project.products) and all(p.capacity > 0 for p in project.products),
        "unit_consumption": bool(project.products) and all(p.unit_consumption is not None
                                                           for p in project.products),
        "replacement_plan": (not needs_replacement) or has_plan,
    }


# -- the steps --------------------------------------------------------------------------------------------------

def submit(db: Any, principal: Principal, city: str, code: str, *, version: int | None = None) -> dict[str, Any]:
    """The filer submits a draft (or a project returned as incomplete); the automatic completeness pre-check is
    run and recorded with the submission."""
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        target = _require(principal, city, row, wf.Action.submit)
        try:
            evaluation: Evaluation | None = _evaluation(db, city, row)
        except InputError:
            evaluation = None
        result = wf.precheck(checklist(), _facts(session, row, evaluation))
        missing = [{"id": k, "name_zh": checklist().item(k).name_zh}  # type: ignore[union-attr]
                   for k, v in result.items() if v == "missing"]
        values: dict[str, Any] = {"submitted_by": audit.actor_of(principal)[0]}
        if evaluation is not None:
            values["summary"] = evaluation.summary()
        _move(session, principal, row, version, target, "submit", "submitted",
              {"precheck": result, "missing": missing}, values=values)
        return _view(session, principal, city, row)


def check_completeness(db: Any, principal: Principal, city: str, code: str, *, missing: list[str] | None = None,
                       note: str = "", version: int | None = None) -> dict[str, Any]:
    """The office's completeness check: no ``missing`` items → under review; otherwise the project goes back as
    incomplete with the missing items (checklist ids) listed (the one-time notice)."""
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        wanted = [str(m).strip() for m in (missing or []) if str(m).strip()]
        action = wf.Action.return_ if wanted else wf.Action.complete
        target = _require(principal, city, row, action)
        unknown = [m for m in wanted if checklist().item(m) is None]
        if unknown:
            ids = ", ".join(i.id for i in checklist().items)
            raise InputError(Problem(f"unknown checklist item(s) {', '.join(unknown)} (one of {ids})",
                                     field="missing", value=unknown, message_zh=f"清单中没有 {'、'.join(unknown)}"))
        note = _text(note, "note", "", required=False)
        items = [{"id": m, "name_zh": checklist().item(m).name_zh} for m in wanted]  # type: ignore[union-attr]
        if wanted:
            _move(session, principal, row, version, target, "return", "completeness",
                  {"complete": False, "missing": items, "notice_within_days": checklist().notice_within_days},
                  note=note)
        else:
            _move(session, principal, row, version, target, "complete", "completeness", {"complete": True},
                  note=note)
        return _view(session, principal, city, row)


def comment(db: Any, principal: Principal, city: str, code: str, text: str, *,
            attachments: list[tuple[str, bytes]] | None = None) -> dict[str, Any]:
    """An expert-review comment with files (PDF, images, Excel; checked by content and size). The state stays."""
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        _require(principal, city, row, wf.Action.comment)
        text = _text(text, "text", "请填写审查意见")
        actor = audit.actor_of(principal)[0]
        event = store.add_event(session, row, "comment", by=actor, body={"text": text}, state_from=row.state,
                                state_to=row.state)
        stored = []
        for filename, content in attachments or []:
            found = evidence.store_blob(session, content, filename=filename, uploaded_by=actor)
            link = ProjAttachment(event_id=event.id, blob_sha256=found.sha256, filename=filename[:255])
            session.add(link)
            session.flush()
            stored.append({"id": link.id, "filename": link.filename, "sha256": found.sha256})
        event.body = {"text": text, "attachments": stored}
        session.flush()
        audit.record(session, principal, "project.comment", "project", f"{row.city}:{row.code}", None,
                     {"text": text, "attachments": stored})
        return {"event": event.id, "attachments": stored}


def decide(db: Any, principal: Principal, city: str, code: str, *, decision: str, number: str,
           day: date | None, conditions: str = "", reason: str = "", version: int | None = None) -> dict[str, Any]:
    """The office's decision with its 文号 and date: ``approve``, ``approve_conditions`` (the conditions
    required) or ``reject`` (the reason required). Approval is refused (:class:`ApprovalRefused`, 409) while a
    rule refuses the project or its required energy replacement is not covered by its live allocations; the
    approved figures (the evaluation's summary and the allocations) are frozen. Rejection releases the project's
    live allocations."""
    action = DECISIONS.get(str(decision))
    if action is None:
        raise InputError(Problem(f"decision {decision!r} is not approve, approve_conditions or reject",
                                 field="decision", value=decision, message_zh="决定须为同意、附条件同意或不予同意"))
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        target = _require(principal, city, row, action)
        number = _text(number, "number", "请填写文号")
        if len(number) > 100:
            raise InputError(Problem("the 文号 is longer than 100 characters", field="number",
                                     message_zh="文号超过 100 字"))
        if day is None:
            raise InputError(Problem("the decision date is required", field="date", message_zh="请填写决定日期"))
        conditions = _text(conditions, "conditions", "附条件同意须填写条件",
                           required=action is wf.Action.approve_conditions)
        reason = _text(reason, "reason", "不予同意须填写理由", required=action is wf.Action.reject)
        evaluation = _evaluation(db, city, row)
        allocations = _project_allocations(session, row)
        values: dict[str, Any] = {"decision": action.value, "decision_no": number, "decision_date": day,
                                  "conditions": conditions if action is wf.Action.approve_conditions else reason,
                                  "summary": evaluation.summary()}
        body: dict[str, Any] = {"decision": action.value, "number": number, "date": day.isoformat()}
        if action is wf.Action.reject:
            released = release_project(session, city, row, actor=principal, reason=f"不予同意 {number}")
            body |= {"reason": reason, "released_allocations": released}
        else:
            refused = [f for f in evaluation.findings if f.severity is Severity.refuse]
            if refused:
                raise ApprovalRefused("project_refused", "项目触发否决规则，不能同意："
                                      + "；".join(f.message_zh for f in refused),
                                      "a rule refuses the project: " + "; ".join(f.message_en for f in refused),
                                      {"refused": [finding_dict(f) for f in refused]})
            gap = _replacement_gap(session, city, row, evaluation)
            if gap is not None:
                raise ApprovalRefused("replacement_not_covered", f"替代未落实：{gap['message_zh']}",
                                      f"the replacement is not covered: {gap['message_en']}", gap)
            values["approved"] = {"summary": evaluation.summary(), "allocations": allocations,
                                  "findings": [finding_dict(f) for f in evaluation.findings],
                                  "decided_on": day.isoformat()}
            body |= {"conditions": conditions}
        _move(session, principal, row, version, target, "decide", "decision", body, values=values)
        return _view(session, principal, city, row)


def commission(db: Any, principal: Principal, city: str, code: str, *, day: date | None,
               enterprise_id: str | None = None, version: int | None = None) -> dict[str, Any]:
    """The project went into operation on ``day``, under the monitoring enterprise ``enterprise_id`` (default:
    the project's enterprise), whose meters 验收 reads."""
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        target = _require(principal, city, row, wf.Action.commission)
        if day is None:
            raise InputError(Problem("the commissioning date is required", field="date",
                                     message_zh="请填写投产日期"))
        if row.decision_date is not None and day < row.decision_date:
            raise InputError(Problem(f"commissioned on {day} before the decision of {row.decision_date}",
                                     field="date", value=day.isoformat(), message_zh="投产日期早于审查决定日期"))
        unit = (enterprise_id or "").strip() or row.enterprise_id
        if unit is not None and len(unit) > 64:
            raise InputError(Problem("the enterprise id is longer than 64 characters", field="enterprise_id",
                                     message_zh="企业编号超过 64 字"))
        data = {**(row.data or {}), "commissioning": {"date": day.isoformat(), "enterprise_id": unit}}
        _move(session, principal, row, version, target, "commission", "commissioned",
              {"date": day.isoformat(), "enterprise_id": unit}, values={"data": data})
        return _view(session, principal, city, row)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _metered(meters: Meters | None, principal: Principal, enterprise_id: str | None, start: date,
             end: date) -> float | None:
    """The enterprise's metered tce (当量值) from the lake's monthly rollups over [start, end); None: no data."""
    if meters is None or enterprise_id is None:
        return None
    try:
        found = meters.rollups(principal, period="month", by="enterprise", enterprise_id=enterprise_id,
                               start=start.isoformat(), end=end.isoformat())
    except (NotFound, LookupError, InputError, SQLAlchemyError) as error:  # no lake data for the unit
        log.info("no meter data for enterprise %s: %s", enterprise_id, error)
        return None
    frame = getattr(found, "frame", None)
    if frame is None or frame.empty or "tce_calorific" not in frame:
        return None
    values = frame["tce_calorific"].dropna()
    return None if values.empty else float(values.sum())


def accept(db: Any, principal: Principal, city: str, code: str, *, meters: Meters | None = None,
           measured: float | None = None, source: str = "", start: date | None = None, end: date | None = None,
           version: int | None = None) -> dict[str, Any]:
    """验收: the unit's consumption over the period (``acceptance.yaml``: months after commissioning, or
    ``start``/``end``) against the approved figure; a deviation over the threshold is flagged and recorded with
    the numbers. The meter lake's figure (``meters``) is used when it has data; otherwise the office enters the
    ``measured`` figure (tce, 当量值) with its ``source``."""
    rule = acceptance_rule()
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        target = _require(principal, city, row, wf.Action.accept)
        commissioning = dict((row.data or {}).get("commissioning") or {})
        began = start or (date.fromisoformat(commissioning["date"]) if commissioning.get("date") else None)
        if began is None:
            raise InputError(Problem("the period's start is required", field="start", message_zh="请填写核查起始日期"))
        until = end or _add_months(began, rule.period_months)
        if until <= began:
            raise InputError(Problem("the period ends before it starts", field="end", message_zh="核查期结束早于开始"))
        approved = float(((row.approved or {}).get("summary") or {}).get(rule.basis) or 0.0)
        if approved <= 0:
            raise Conflict(f"项目没有批准的{rule.basis_zh} / the project has no approved {rule.basis}",
                           code="project_no_approved")
        unit = commissioning.get("enterprise_id") or row.enterprise_id
        metered = _metered(meters, principal, unit, began, until)
        if metered is not None:
            if measured is not None:
                raise InputError(Problem("the meter lake has data for the period: the measured figure is taken "
                                         "from it", field="measured", message_zh="已有计量数据，不能手工填写"))
            figure, how, cited = metered, "meters", f"meter lake rollups, enterprise {unit}"
        else:
            if measured is None:
                raise InputError(Problem(f"no meter data for enterprise {unit or '–'} in the period: enter the "
                                         "measured consumption (tce) and its source", field="measured",
                                         message_zh="该期间无计量数据，请填写实测能耗（tce）及来源"))
            if not measured >= 0 or measured != measured or measured == float("inf"):
                raise InputError(Problem("the measured consumption must be a number ≥ 0", field="measured",
                                         value=measured, message_zh="实测能耗须为不小于 0 的数"))
            cited = _text(source, "source", "手工填写的实测能耗须注明来源")
            figure, how = float(measured), "entered"
        result = wf.deviation(approved, figure, rule)
        body = {**result.to_dict(), "basis": rule.basis, "unit": rule.basis_unit, "measured_by": how,
                "source": cited, "enterprise_id": unit, "start": began.isoformat(),
                "end": until.isoformat(), "rule": rule.document, "status": rule.status.value}
        _move(session, principal, row, version, target, "accept", "acceptance", body)
        return _view(session, principal, city, row) | {"acceptance": body}


def withdraw(db: Any, principal: Principal, city: str, code: str, *, note: str = "",
             version: int | None = None) -> dict[str, Any]:
    """The filer withdraws the project before the decision; its live allocations are released."""
    with db.session(write=True) as session:
        row = _row(session, principal, city, code)
        target = _require(principal, city, row, wf.Action.withdraw)
        released = release_project(session, city, row, actor=principal, reason="撤回项目")
        _move(session, principal, row, version, target, "withdraw", "withdrawn",
              {"released_allocations": released}, note=_text(note, "note", "", required=False))
        return _view(session, principal, city, row)


# -- reads ------------------------------------------------------------------------------------------------------

def _events(session: Session, row: ProjProject) -> list[dict[str, Any]]:
    found = list(session.scalars(select(ProjEvent).where(ProjEvent.project_id == row.id)
                                 .order_by(ProjEvent.at, ProjEvent.id)))
    files: dict[int, list[dict[str, Any]]] = {}
    if found:
        for link in session.scalars(select(ProjAttachment).where(ProjAttachment.event_id.in_([e.id for e in found]))
                                    .order_by(ProjAttachment.id)):
            files.setdefault(link.event_id, []).append({"id": link.id, "filename": link.filename,
                                                        "sha256": link.blob_sha256})
    return [{"id": e.id, "kind": e.kind, "state_from": e.state_from, "state_to": e.state_to, "body": dict(e.body),
             "note": e.note, "at": e.at.isoformat(), "actor": e.actor, "attachments": files.get(e.id, [])}
            for e in found]


def _view(session: Session, principal: Principal, city: str, row: ProjProject) -> dict[str, Any]:
    mine = actors(principal, city, row)
    return {"code": row.code, "state": row.state, "version": row.version, "decision": row.decision,
            "decision_no": row.decision_no,
            "decision_date": row.decision_date.isoformat() if row.decision_date else None,
            "conditions": row.conditions, "approved": row.approved,
            "commissioning": (row.data or {}).get("commissioning"),
            "actions": [a.value for a in wf.allowed_actions(wf.State(row.state), mine)],
            "checklist": [{"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "check": i.check,
                           "document": i.document, "status": i.status.value} for i in checklist().items]}


def workflow_view(db: Any, principal: Principal, city: str, code: str) -> dict[str, Any]:
    """The project's workflow state for a page: state, decision, 文号, the caller's actions, the history."""
    with db.session() as session:
        row = _row(session, principal, city, code)
        return _view(session, principal, city, row) | {"name": row.name, "applicant_name": row.applicant_name,
                                                      "events": _events(session, row)}


def events(db: Any, principal: Principal, city: str, code: str) -> list[dict[str, Any]]:
    """The project's workflow history, oldest first, with each event's attachments."""
    with db.session() as session:
        return _events(session, _row(session, principal, city, code))


@dataclass(frozen=True)
class AttachmentFile:
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str


def download_headers(info: AttachmentFile) -> dict[str, str]:
    """Always a download (never inline), the sniffed type kept (``nosniff``), a sandboxing CSP."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in info.filename)
    disposition = f"attachment; filename=\"{ascii_name or 'attachment'}\"; filename*=UTF-8''{quote(info.filename)}"
    return {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'", "Cache-Control": "private, no-store"}


def get_attachment(db: Any, principal: Principal, city: str, code: str, attachment_id: int
                   ) -> tuple[AttachmentFile, bytes]:
    """An attachment of the project's history and its bytes (another project's or unit's: 404)."""
    with db.session() as session:
        row = _row(session, principal, city, code)
        link = session.get(ProjAttachment, attachment_id) if 1 <= attachment_id <= 2**62 else None
        event = session.get(ProjEvent, link.event_id) if link is not None else None
        if link is None or event is None or event.project_id != row.id:
            raise NotFound(f"附件 {attachment_id} 不存在 / attachment {attachment_id} not found",
                           code="attachment_not_found")
        blob = session.get(GovBlob, link.blob_sha256)
        assert blob is not None
        return (AttachmentFile(link.id, link.filename, blob.media_type, blob.size, blob.sha256),
                bytes(blob.content))


def _fmt(value: object, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def opinion_docx(db: Any, principal: Principal, city: str, code: str) -> bytes:
    """The 审查意见 (节能审查意见) of a decided project, in GB/T 9704 layout: title, 文号, recipient (the
    applicant), the figures (tce both ways, dual-control tce, CO2), the findings and conditions, the replacement
    allocated and the decision."""
    from citycarbon.documents.gbt9704 import Block, OfficialDocument, Paragraph, Table, render_docx

    with db.session() as session:
        row = _row(session, principal, city, code)
        if row.state not in wf.DECIDED or row.decision is None or row.decision_date is None:
            raise Conflict(f"项目 {code} 尚未作出审查决定 / project {code} has no decision yet",
                           code="project_not_decided")
        office = session.scalars(select(GovOrg).where(GovOrg.city == city, GovOrg.kind == "office")).first()
        approved = dict(row.approved or {})
        summary = dict(approved.get("summary") or row.summary or {})
        findings = list(approved.get("findings") or [])
        allocations = list(approved.get("allocations") or [])
        decision = str(row.decision)
        body: list[Block] = [
            Paragraph(f"你单位报送的《{row.name}节能报告》（项目编号 {row.code}）收悉。依据{checklist().basis_zh}，"
                      "经审查，现提出审查意见如下："),
            Paragraph("一、项目能耗和碳排放"),
            Table(["指标", "数值", "单位"], [
                ["年综合能源消费量（当量值）", _fmt(summary.get("tce_calorific")), "tce"],
                ["年综合能源消费量（等价值）", _fmt(summary.get("tce_equivalent")), "tce"],
                ["原料用能", _fmt(summary.get("feedstock_tce")), "tce"],
                ["纳入能耗双控的能源消费量", _fmt(summary.get("dual_control_tce")), "tce"],
                ["二氧化碳排放量", _fmt(summary.get("co2_t")), "t CO2"],
            ]),
            Paragraph("二、审查发现"),
        ]
        if findings:
            body.append(Table(["规则", "等级", "说明"], [[str(f.get("code")), str(f.get("severity")),
                                                         str(f.get("message_zh"))] for f in findings]))
        else:
            body.append(Paragraph("未发现须说明的问题。"))
        body.append(Paragraph("三、能耗和产能替代"))
        if allocations:
            body.append(Table(["替代来源", "类别", "数量", "单位", "依据文件"],
                              [[str(a.get("source")), str(a.get("kind")), str(a.get("amount")), str(a.get("unit")),
                                str(a.get("document") or "")] for a in allocations]))
        else:
            body.append(Paragraph("本项目未分配替代来源。"))
        body.append(Paragraph("四、审查结论"))
        if decision == "reject":
            body.append(Paragraph(f"不予同意该项目节能报告。理由：{row.conditions}"))
        elif decision == "approve_conditions":
            body.append(Paragraph(f"原则同意该项目节能报告，并须落实以下条件：{row.conditions}"))
        else:
            body.append(Paragraph("同意该项目节能报告。请严格按照节能报告和本审查意见落实各项节能降碳措施，"
                                  "项目投产后按规定进行节能验收。"))
        issuer = office.name_zh if office is not None else "节能审查机关"
        doc = OfficialDocument(issuer=issuer, title=f"关于{row.name}节能审查的意见", body=body, day=row.decision_date,
                               doc_number=row.decision_no, recipients=row.applicant_name)
    return render_docx(doc)

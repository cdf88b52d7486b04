"""The 节能审查 workflow of a fixed-asset investment project (issue 15 item 5), as data: the states, the allowed
transitions with who may take each, the completeness checklist (``data/projects/completeness.yaml``) and the
验收 rule (``data/projects/acceptance.yaml``). Pure: no store, no clock.

The procedure follows 固定资产投资项目节能审查办法 (令2023年第2号, Art. 12–14: a one-time notice of what is missing,
the technical review, the decision) as carried into 令2025年第31号 (/work/shared/reference/governance.md §0–§1):

    draft ─submit→ submitted ─complete→ under_review ─approve / approve_conditions / reject→ decided
                   submitted ─return→ incomplete ─submit→ submitted
    approved(_conditions) ─commission→ commissioned ─accept→ accepted (验收)
    draft / submitted / incomplete / under_review ─withdraw→ withdrawn

Who takes a step (:class:`Actor`): the *filer* (the applicant enterprise, its district, or the office filing for
it), the *office* (the 节能审查 authority's desk) and the *expert* (the review's comments). The services map a
:class:`~citycarbon.auth.principal.Principal` to its actors; :func:`step` is the only way a state changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from citycarbon.errors import Conflict, Problems
from citycarbon.projects.tables import (
    Verification,
    _Bad,
    _number,
    _path,
    _read_yaml,
    _status,
    _text,
    _Yaml,
)

__all__ = ["ACTIONS", "DECIDED", "EDITABLE", "PRECHECKS", "TRANSITIONS", "AcceptanceRule", "Action", "Actor",
           "Checklist", "ChecklistItem", "Deviation", "IllegalStep", "State", "Transition", "allowed_actions",
           "deviation", "load_acceptance", "load_checklist", "precheck", "step", "transition_for"]


class State(StrEnum):
    draft = "draft"
    submitted = "submitted"
    incomplete = "incomplete"
    under_review = "under_review"
    approved = "approved"
    approved_conditions = "approved_conditions"
    rejected = "rejected"
    commissioned = "commissioned"
    accepted = "accepted"
    withdrawn = "withdrawn"


class Actor(StrEnum):
    filer = "filer"
    office = "office"
    expert = "expert"


class Action(StrEnum):
    submit = "submit"
    complete = "complete"
    return_ = "return"
    comment = "comment"
    approve = "approve"
    approve_conditions = "approve_conditions"
    reject = "reject"
    commission = "commission"
    accept = "accept"
    withdraw = "withdraw"


@dataclass(frozen=True)
class Transition:
    """``action`` may be taken from any of ``sources`` by any of ``actors``; it leads to ``target`` (None: the
    state stays, e.g. a review comment)."""

    action: Action
    sources: frozenset[State]
    target: State | None
    actors: frozenset[Actor]


def _t(action: Action, sources: Iterable[State], target: State | None, *actors: Actor) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(actors))


S, A = State, Actor
#: the workflow's table: every allowed step
TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.submit, (S.draft, S.incomplete), S.submitted, A.filer),
    _t(Action.complete, (S.submitted,), S.under_review, A.office),
    _t(Action.return_, (S.submitted,), S.incomplete, A.office),
    _t(Action.comment, (S.submitted, S.under_review), None, A.expert, A.office),
    _t(Action.approve, (S.under_review,), S.approved, A.office),
    _t(Action.approve_conditions, (S.under_review,), S.approved_conditions, A.office),
    _t(Action.reject, (S.under_review,), S.rejected, A.office),
    _t(Action.commission, (S.approved, S.approved_conditions), S.commissioned, A.filer, A.office),
    _t(Action.accept, (S.commissioned,), S.accepted, A.office),
    _t(Action.withdraw, (S.draft, S.submitted, S.incomplete, S.under_review), S.withdrawn, A.filer),
)
ACTIONS: dict[Action, Transition] = {t.action: t for t in TRANSITIONS}
#: the states in which the filer may still edit the project's data
EDITABLE: frozenset[State] = frozenset({S.draft, S.incomplete})
#: the states after the decision (the approved figures are frozen; nothing of the filing changes)
DECIDED: frozenset[State] = frozenset({S.approved, S.approved_conditions, S.rejected, S.commissioned, S.accepted})
del S, A


class IllegalStep(Conflict):
    """A step the table does not allow from the current state (409) — nothing changed."""

    def __init__(self, state: State, action: Action):
        self.state, self.action = state, action
        allowed = ", ".join(sorted(ACTIONS[action].sources))
        super().__init__(f"项目当前状态为 {state.value}，不能执行 {action.value}（须处于 {allowed}） / "
                         f"a project in state {state.value} cannot {action.value} (it must be {allowed})",
                         code="project_state")


def transition_for(action: Action) -> Transition:
    return ACTIONS[action]


def step(state: State, action: Action) -> State:
    """The state after ``action`` from ``state`` (:class:`IllegalStep` when the table does not allow it)."""
    transition = ACTIONS[action]
    if state not in transition.sources:
        raise IllegalStep(state, action)
    return state if transition.target is None else transition.target


def allowed_actions(state: State, actors: Iterable[Actor]) -> list[Action]:
    """The actions ``actors`` may take from ``state``, in the table's order."""
    mine = frozenset(actors)
    return [t.action for t in TRANSITIONS if state in t.sources and t.actors & mine]


# -- the completeness checklist ----------------------------------------------------------------------------------

#: the automatic pre-checks a checklist item may name (the service computes each from the project)
PRECHECKS = frozenset({"manual", "applicant", "energy_by_fuel", "products", "unit_consumption", "replacement_plan"})


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    name_zh: str
    name_en: str
    check: str
    document: str
    status: Verification
    source: str


@dataclass(frozen=True)
class Checklist:
    document: str
    status: Verification
    source: str
    notice_within_days: int
    items: tuple[ChecklistItem, ...]
    basis_zh: str  # the document as the 审查意见 cites it

    def item(self, item_id: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.id == item_id), None)


def _precheck_name(value: object) -> str:
    text = _text(value)
    if text not in PRECHECKS:
        raise _Bad(f"check {text!r} is not one of {', '.join(sorted(PRECHECKS))}")
    return text


def _whole(value: object) -> int:
    number = _number(value)
    if number < 0 or number != int(number):
        raise _Bad(f"must be a whole number ≥ 0, is {number:g}")
    return int(number)


def load_checklist(path: Path | str | None = None) -> Checklist:
    """``completeness.yaml``: the items a 节能审查 application needs (a bad field names the file and field)."""
    file = _path(path, "completeness.yaml")
    problems = Problems()
    y = _Yaml(file.name, problems)
    doc = _read_yaml(file)
    items: list[ChecklistItem] = []
    seen: set[str] = set()
    for i, node in enumerate(y.items(doc, "", "items")):
        where = f"items[{i}]"
        item = ChecklistItem(id=y.get(node, where, "id", _text), name_zh=y.get(node, where, "name_zh", _text),
                             name_en=y.get(node, where, "name_en", _text),
                             check=y.get(node, where, "check", _precheck_name),
                             document=y.get(node, where, "document", _text),
                             status=y.get(node, where, "status", _status),
                             source=y.get(node, where, "source", _text))
        if item.id in seen:
            problems.add(f"item {item.id!r} declared twice", file=file.name, field=f"{where}.id")
        seen.add(item.id)
        items.append(item)
    checklist = Checklist(document=y.get(doc, "", "document", _text), status=y.get(doc, "", "status", _status),
                          source=y.get(doc, "", "source", _text),
                          notice_within_days=y.get(doc, "", "notice_within_days", _whole), items=tuple(items),
                          basis_zh=y.get(doc, "", "basis_zh", _text))
    problems.raise_if_any()
    return checklist


def precheck(checklist: Checklist, facts: Mapping[str, bool]) -> dict[str, str]:
    """Each item's pre-check result: ``ok``, ``missing`` (its automatic check failed) or ``manual`` (the office
    confirms it). ``facts``: the automatic checks' outcomes by check name (a check not in ``facts`` is missing)."""
    out: dict[str, str] = {}
    for item in checklist.items:
        if item.check == "manual":
            out[item.id] = "manual"
        else:
            out[item.id] = "ok" if facts.get(item.check, False) else "missing"
    return out


# -- 验收 ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptanceRule:
    document: str
    status: Verification
    source: str
    deviation_threshold: float
    direction: str  # above | both
    basis: str  # the approved summary's key compared (tce_calorific: 当量值)
    basis_zh: str
    basis_unit: str
    period_months: int


def _direction(value: object) -> str:
    text = _text(value)
    if text not in ("above", "both"):
        raise _Bad(f"direction {text!r} is not 'above' or 'both'")
    return text


def _ratio(value: object) -> float:
    number = _number(value)
    if not 0 < number < 10:
        raise _Bad(f"must be a ratio above 0 (0.10 = 10 %), is {number:g}")
    return number


def _months(value: object) -> int:
    months = _whole(value)
    if months < 1:
        raise _Bad("must be at least 1 month")
    return months


def load_acceptance(path: Path | str | None = None) -> AcceptanceRule:
    """``acceptance.yaml``: the 验收 deviation threshold, the comparison basis and the metering period."""
    file = _path(path, "acceptance.yaml")
    problems = Problems()
    y = _Yaml(file.name, problems)
    doc = _read_yaml(file)
    rule = AcceptanceRule(document=y.get(doc, "", "document", _text), status=y.get(doc, "", "status", _status),
                          source=y.get(doc, "", "source", _text),
                          deviation_threshold=y.get(doc, "", "deviation_threshold", _ratio),
                          direction=y.get(doc, "", "direction", _direction), basis=y.get(doc, "", "basis", _text),
                          basis_zh=y.get(doc, "", "basis_zh", _text), basis_unit=y.get(doc, "", "basis_unit", _text),
                          period_months=y.get(doc, "", "period_months", _months))
    problems.raise_if_any()
    return rule


@dataclass(frozen=True)
class Deviation:
    """The measured consumption against the approved (both in the rule's unit), the relative deviation
    ``(measured − approved) / approved`` and whether it is over the threshold."""

    approved: float
    measured: float
    deviation: float
    threshold: float
    flagged: bool

    def to_dict(self) -> dict[str, float | bool]:
        return {"approved": self.approved, "measured": self.measured, "deviation": self.deviation,
                "threshold": self.threshold, "flagged": self.flagged}


def deviation(approved: float, measured: float, rule: AcceptanceRule) -> Deviation:
    """``measured`` against ``approved`` under ``rule`` (``approved`` must be positive)."""
    if approved <= 0:
        raise ValueError("the approved consumption must be positive")
    ratio = (measured - approved) / approved
    over = ratio if rule.direction == "above" else abs(ratio)
    return Deviation(approved, measured, ratio, rule.deviation_threshold, over > rule.deviation_threshold)

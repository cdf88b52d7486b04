"""Assessment runs (issue 16 item 2): schemes (versions), a run of a year (draft → published, frozen with the
ledger version it scored), the board, a unit's breakdown, the office's adjustments of qualitative items (with a
reason, audited), the units' objections within the period and the office's answers, publication, reproduction.

Every function takes ``(db, principal, city, …)``; the rules are applied here once for every face:

* run, adjust, answer, publish, register a scheme: ``can_manage_assessment`` (the office), else 403;
* every unit's draft row and breakdown: ``can_read_assessment_detail`` (office, analysts);
* a unit's own draft row: its department / district users (``acts_for_org``); another unit's row or run
  answers :class:`NotFound` (existence not leaked); a superseded draft is seen by the office and analysts only;
* published runs: ``can_read_published_assessment`` (every role but enterprise users);
* objecting: ``can_object_assessment`` (the unit's own users with write access), a draft run, on or before
  ``objection_until``.

Rules decided here (see ``docs/assessment.md``):

* A new draft of the same (year, scheme code) supersedes the older draft; the office's adjustments of the older
  draft are carried over (same indicator, same unit) so that re-running on fresh data does not lose them.
* A year whose run of a scheme code is published is refused (409) unless the new run uses a newer version of
  the scheme than every published one.
* Ranking: units not vetoed first, then by total (highest first), ties by unit code; ranks are 1, 2, 3 …
* Publication is refused while an objection is open, and before ``objection_until`` unless ``early=True`` with
  a note saying why (recorded in the audit log and on the run); a published run is frozen (no adjustment, no
  objection, no answer).
* Every write names the run ``version`` it read (adjust, publish); another write in between answers
  :class:`~citycarbon.store.projects.StaleVersion` (409, nothing written).
* Totals are Decimal, stored as text with two decimals.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citycarbon.assessment import Fact, Scheme, UnitScore, parse_scheme, score_unit, shipped_schemes
from citycarbon.assessment.scheme import scheme_hash
from citycarbon.assessment.scoring import CENT, Adjustment, check_adjustment
from citycarbon.auth.principal import Principal
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.services.assessment.facts import FactContext, Unit, collect_facts
from citycarbon.store import audit, ledger
from citycarbon.store import governance as gov_store
from citycarbon.store.assessment_models import AssessAdjustment, AssessObjection, AssessRun, AssessScheme, AssessScore
from citycarbon.store.projects import StaleVersion
from citycarbon.store.types import utcnow

__all__ = ["MAX_SCHEME_BYTES", "MAX_TEXT", "BoardRow", "ObjectionView", "RunSummary", "RunView", "SchemeInfo",
           "UnitScoreView", "adjust", "answer_objection", "ensure_schemes", "get_run", "inputs_hash",
           "latest_run", "list_runs", "list_schemes", "object_to", "publish", "published_results",
           "register_scheme", "reproduce", "run_assessment", "unit_score"]

MAX_TEXT = 5_000
MAX_SCHEME_BYTES = 256 * 1024
YEARS = (2000, 2100)
DECISIONS = ("upheld", "rejected")
SYSTEM = "system"


#: the objection deadline is a day in the city's time (as the governance rounds' deadlines)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    """Today in the city's time; tests move it."""
    return utcnow().astimezone(LOCAL_TZ).date()


# -- results ----------------------------------------------------------------------------------------------------

def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


@dataclass(frozen=True)
class SchemeInfo:
    code: str
    version: int
    name_zh: str
    name_en: str
    status: str
    sha256: str
    applies_to: list[str]
    objection_days: int
    effective_from: int
    document: str
    base_points: str
    indicators: list[dict[str, Any]]
    grades: list[dict[str, Any]]
    created_at: str | None
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSummary:
    id: int
    city: str
    year: int
    scheme_code: str
    scheme_version: int
    scheme_name_zh: str
    state: str
    ledger_version: int
    as_of: str | None
    objection_until: str | None
    objection_open: bool
    inputs_hash: str
    created_by: str
    created_at: str | None
    published_by: str | None
    published_at: str | None
    publish_note: str
    version: int
    units: int
    open_objections: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BoardRow:
    unit_code: str
    unit_name_zh: str
    unit_kind: str
    region_code: str | None
    rank: int | None
    total: str
    grade: str
    grade_zh: str
    estimate: bool
    incomplete: list[str]
    vetoed: bool
    vetoed_by: list[str]
    adjustments: int
    objections: int
    open_objections: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunView:
    run: RunSummary
    rows: list[BoardRow]
    #: True when the caller sees every unit's row (office, analysts, or a published run)
    complete: bool
    grades: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run.to_dict(), "rows": [r.to_dict() for r in self.rows], "complete": self.complete,
                "grades": self.grades}


@dataclass(frozen=True)
class ObjectionView:
    id: int
    run_id: int
    unit_code: str
    indicator: str | None
    text: str
    filed_by: str
    filed_at: str | None
    state: str
    answer: str
    answered_by: str | None
    answered_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UnitScoreView:
    run: RunSummary
    unit_code: str
    unit_name_zh: str
    unit_kind: str
    region_code: str | None
    rank: int | None
    total: str
    grade: str
    grade_zh: str
    estimate: bool
    incomplete: list[str]
    vetoed_by: list[str]
    #: the scheme's items in order: points, max points, explanation, evidence, and ``fact`` (the fact's value,
    #: unit, estimate flag, evidence and note as collected; None for qualitative items or a missing fact)
    items: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]
    objections: list[ObjectionView]
    #: whether the caller may object now (own unit, draft, within the period)
    can_object: bool

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run"] = self.run.to_dict()
        data["objections"] = [o.to_dict() for o in self.objections]
        return data


# -- schemes ----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def _parsed(text: str) -> Scheme:
    return parse_scheme(text)


def _scheme_info(row: AssessScheme) -> SchemeInfo:
    scheme = _parsed(row.text)
    return SchemeInfo(
        code=row.code, version=row.version, name_zh=scheme.name_zh, name_en=scheme.name_en, status=row.status,
        sha256=row.sha256, applies_to=list(scheme.applies_to), objection_days=scheme.objection_days,
        effective_from=scheme.effective_from, document=scheme.document,
        base_points=str(scheme.base_points.quantize(CENT)),
        indicators=[{"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "category": i.category,
                     "kind": i.scoring.kind, "fact": i.fact, "unit": i.unit,
                     "points": str(Decimal(str(i.points)).quantize(CENT)),
                     "max_points": str(i.max_points.quantize(CENT)), "adjustable": i.adjustable, "rule_zh": i.rule_zh,
                     "source": i.source} for i in scheme.indicators],
        grades=_grades(scheme), created_at=_iso(row.created_at), created_by=row.created_by)


def _grades(scheme: Scheme) -> list[dict[str, Any]]:
    return [{"code": g.code, "name_zh": g.name_zh, "name_en": g.name_en, "min": g.min} for g in scheme.grades_desc()]


def _seed(session: Session, city: str) -> int:
    added = 0
    for code, (scheme, text) in shipped_schemes().items():
        exists = session.scalar(select(AssessScheme.id).where(AssessScheme.city == city, AssessScheme.code == code,
                                                              AssessScheme.version == scheme.version))
        if exists is not None:
            continue
        row = AssessScheme(city=city, code=code, version=scheme.version, name_zh=scheme.name_zh, text=text,
                           sha256=scheme_hash(text), status=scheme.status, created_at=utcnow(), created_by=SYSTEM)
        session.add(row)
        session.flush()
        audit.record(session, SYSTEM, "assessment.scheme.seed", "assess_scheme", f"{city}:{code}:{scheme.version}",
                     after={"code": code, "version": scheme.version, "sha256": row.sha256})
        added += 1
    return added


def ensure_schemes(db: Any, city: str) -> None:
    """Seed the shipped schemes (``data/assessment/schemes/``) into ``city``'s store once (audited as system)."""
    with db.session() as session:
        have = {(c, v) for c, v in session.execute(select(AssessScheme.code, AssessScheme.version)
                                                  .where(AssessScheme.city == city))}
    if all((code, scheme.version) in have for code, (scheme, _t) in shipped_schemes().items()):
        return
    try:
        with db.session(write=True) as session:
            _seed(session, city)
    except IntegrityError:  # another process seeded them at the same moment
        pass


def _readable(principal: Principal, city: str) -> bool:
    return principal.can_read_assessment_detail(city) or principal.can_read_published_assessment(city)


def list_schemes(db: Any, principal: Principal, city: str) -> list[SchemeInfo]:
    """Every stored scheme version of the city (code, then version)."""
    if not _readable(principal, city):
        raise Forbidden("无权查看考核方案 / may not read assessment schemes", code="assessment_forbidden")
    ensure_schemes(db, city)
    with db.session() as session:
        rows = session.scalars(select(AssessScheme).where(AssessScheme.city == city)
                               .order_by(AssessScheme.code, AssessScheme.version))
        return [_scheme_info(row) for row in rows]


def register_scheme(db: Any, principal: Principal, city: str, content: str | bytes, filename: str) -> SchemeInfo:
    """Store a new scheme version uploaded by the office: valid YAML (:class:`InputError` naming the file and
    field), and the next version of its code (version 1 for a new code)."""
    _manage(principal, city)
    name = (filename or "scheme.yaml").rsplit("/", 1)[-1][:200]
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if len(raw) > MAX_SCHEME_BYTES:
        raise InputError(Problem(f"the file is larger than {MAX_SCHEME_BYTES} bytes", file=name,
                                 message_zh=f"文件超过 {MAX_SCHEME_BYTES // 1024} KB"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(Problem("the file is not UTF-8 text", file=name,
                                 message_zh="文件不是 UTF-8 编码的文本")) from None
    scheme = parse_scheme(text, name)
    ensure_schemes(db, city)
    with db.session(write=True) as session:
        newest = session.scalar(select(func.max(AssessScheme.version))
                                .where(AssessScheme.city == city, AssessScheme.code == scheme.code)) or 0
        if scheme.version != newest + 1:
            raise InputError(Problem(f"version must be {newest + 1} (the newest stored version of "
                                     f"{scheme.code!r} is {newest})", file=name, field="version",
                                     value=scheme.version,
                                     message_zh=f"版本号应为 {newest + 1}（方案 {scheme.code} 已有第 {newest} 版）"))
        row = AssessScheme(city=city, code=scheme.code, version=scheme.version, name_zh=scheme.name_zh, text=text,
                           sha256=scheme_hash(text), status=scheme.status, created_at=utcnow(),
                           created_by=audit.actor_of(principal)[0])
        session.add(row)
        session.flush()
        audit.record(session, principal, "assessment.scheme.register", "assess_scheme",
                     f"{city}:{scheme.code}:{scheme.version}",
                     after={"code": scheme.code, "version": scheme.version, "sha256": row.sha256, "file": name})
        return _scheme_info(row)


def _scheme_row(session: Session, city: str, code: str, version: int | None = None) -> AssessScheme:
    statement = select(AssessScheme).where(AssessScheme.city == city, AssessScheme.code == code)
    if version is not None:
        statement = statement.where(AssessScheme.version == version)
    row = session.scalars(statement.order_by(AssessScheme.version.desc()).limit(1)).first()
    if row is None:
        raise InputError(Problem(f"no assessment scheme {code!r}", field="scheme", value=code,
                                 message_zh=f"没有考核方案“{code}”"))
    return row


def _run_scheme(session: Session, run: AssessRun) -> Scheme:
    row = _scheme_row(session, run.city, run.scheme_code, run.scheme_version)
    return _parsed(row.text)


# -- scope ------------------------------------------------------------------------------------------------------

def _manage(principal: Principal, city: str) -> None:
    if not principal.can_manage_assessment(city):
        raise Forbidden("只有考核办公室可以执行此操作 / only the assessment office may do this",
                        code="assessment_forbidden")


def _run_not_found() -> NotFound:
    return NotFound("考核不存在 / assessment run not found", code="assessment_not_found")


def _unit_not_found() -> NotFound:
    return NotFound("该单位的考核结果不存在 / no such unit in this assessment", code="assessment_unit_not_found")


def _sees_all(principal: Principal, city: str, run: AssessRun) -> bool:
    if principal.can_read_assessment_detail(city):
        return True
    return run.state == "published" and principal.can_read_published_assessment(city)


def _sees_row(principal: Principal, city: str, run: AssessRun, score: AssessScore) -> bool:
    if _sees_all(principal, city, run):
        return True
    return (run.state == "draft" and principal.role.value in ("department", "district")
            and principal.acts_for_org(score.unit_code, score.region_code))


def _run_row(session: Session, principal: Principal, city: str, run_id: Any, *, lock: bool = False) -> AssessRun:
    if not principal.can_access_city(city):
        raise _run_not_found()
    try:
        number = int(run_id)
    except (TypeError, ValueError):
        raise _run_not_found() from None
    if not 0 < number < 2**62:
        raise _run_not_found()
    statement = select(AssessRun).where(AssessRun.id == number, AssessRun.city == city) \
        .execution_options(populate_existing=True)
    run = session.scalars(statement).one_or_none()
    if run is None:
        raise _run_not_found()
    return run


def _scores(session: Session, run: AssessRun) -> list[AssessScore]:
    return list(session.scalars(select(AssessScore).where(AssessScore.run_id == run.id)
                                .execution_options(populate_existing=True)
                                .order_by(AssessScore.rank, AssessScore.unit_code)))


def _visible_run(session: Session, principal: Principal, city: str, run_id: Any) -> tuple[AssessRun, list[AssessScore]]:
    """The run and the score rows the caller may see (NotFound when none)."""
    run = _run_row(session, principal, city, run_id)
    scores = _scores(session, run)
    if _sees_all(principal, city, run):
        return run, scores
    own = [s for s in scores if _sees_row(principal, city, run, s)]
    if not own:
        raise _run_not_found()
    return run, own


# -- views ------------------------------------------------------------------------------------------------------

def _counts(session: Session, run_ids: list[int]) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int],
                                                           dict[tuple[int, str], int]]:
    adjustments: dict[tuple[int, str], int] = {}
    objections: dict[tuple[int, str], int] = {}
    open_: dict[tuple[int, str], int] = {}
    if not run_ids:
        return adjustments, objections, open_
    for run_id, unit, n in session.execute(
            select(AssessAdjustment.run_id, AssessAdjustment.unit_code, func.count())
            .where(AssessAdjustment.run_id.in_(run_ids))
            .group_by(AssessAdjustment.run_id, AssessAdjustment.unit_code)):
        adjustments[(int(run_id), unit)] = int(n)
    for run_id, unit, state, n in session.execute(
            select(AssessObjection.run_id, AssessObjection.unit_code, AssessObjection.state, func.count())
            .where(AssessObjection.run_id.in_(run_ids))
            .group_by(AssessObjection.run_id, AssessObjection.unit_code, AssessObjection.state)):
        key = (int(run_id), unit)
        objections[key] = objections.get(key, 0) + int(n)
        if state == "open":
            open_[key] = open_.get(key, 0) + int(n)
    return adjustments, objections, open_


def _summary(session: Session, run: AssessRun, *, units: int | None = None,
             open_objections: int | None = None) -> RunSummary:
    if units is None:
        units = int(session.scalar(select(func.count()).select_from(AssessScore)
                                   .where(AssessScore.run_id == run.id)) or 0)
    if open_objections is None:
        open_objections = int(session.scalar(select(func.count()).select_from(AssessObjection)
                                             .where(AssessObjection.run_id == run.id,
                                                    AssessObjection.state == "open")) or 0)
    name = session.scalar(select(AssessScheme.name_zh).where(
        AssessScheme.city == run.city, AssessScheme.code == run.scheme_code,
        AssessScheme.version == run.scheme_version)) or run.scheme_code
    return RunSummary(
        id=int(run.id), city=run.city, year=run.year, scheme_code=run.scheme_code,
        scheme_version=run.scheme_version, scheme_name_zh=name, state=run.state, ledger_version=run.ledger_version,
        as_of=_iso(run.as_of), objection_until=_iso(run.objection_until),
        objection_open=run.state == "draft" and run.objection_until is not None and _today() <= run.objection_until,
        inputs_hash=run.inputs_hash, created_by=run.created_by, created_at=_iso(run.created_at),
        published_by=run.published_by, published_at=_iso(run.published_at), publish_note=run.publish_note or "",
        version=run.version, units=units, open_objections=open_objections)


_Counts = tuple[dict[tuple[int, str], int], dict[tuple[int, str], int], dict[tuple[int, str], int]]


def _board_row(score: AssessScore, counts: _Counts) -> BoardRow:
    result = score.result or {}
    key = (int(score.run_id), score.unit_code)
    return BoardRow(unit_code=score.unit_code, unit_name_zh=score.unit_name_zh, unit_kind=score.unit_kind,
                    region_code=score.region_code, rank=score.rank, total=score.total, grade=score.grade,
                    grade_zh=str(result.get("grade_zh") or score.grade), estimate=bool(score.estimate),
                    incomplete=list(result.get("incomplete") or []), vetoed=bool(score.vetoed),
                    vetoed_by=list(result.get("vetoed_by") or []), adjustments=counts[0].get(key, 0),
                    objections=counts[1].get(key, 0), open_objections=counts[2].get(key, 0))


def _view(session: Session, principal: Principal, city: str, run: AssessRun, scores: list[AssessScore]) -> RunView:
    counts = _counts(session, [int(run.id)])
    complete = _sees_all(principal, city, run)
    summary = _summary(session, run)
    if not complete:  # a unit sees its own row: the run's totals and counts of others are not its business
        summary = RunSummary(**{**asdict(summary), "open_objections": sum(counts[2].get((int(run.id), s.unit_code), 0)
                                                                         for s in scores)})
    try:
        grades = _grades(_run_scheme(session, run))
    except InputError:
        grades = []
    return RunView(run=summary, rows=[_board_row(s, counts) for s in scores], complete=complete, grades=grades)


def _objection_view(row: AssessObjection) -> ObjectionView:
    return ObjectionView(id=int(row.id), run_id=int(row.run_id), unit_code=row.unit_code, indicator=row.indicator,
                         text=row.text, filed_by=row.filed_by, filed_at=_iso(row.filed_at), state=row.state,
                         answer=row.answer or "", answered_by=row.answered_by, answered_at=_iso(row.answered_at))


# -- facts and scoring ------------------------------------------------------------------------------------------

def _clean_fact(fact: Fact) -> Fact:
    """A fact as it is stored and scored: its value a plain float (numpy scalars, Decimals and ints converted) or
    None when it is not a finite number (NaN from a frame counts as missing); its evidence JSON-safe (dates and
    other objects as text), so the stored facts re-score exactly and hash the same way on every backend."""
    value = fact.value
    try:
        number = None if value is None else float(value)
    except (TypeError, ValueError):
        number = None
    if number is not None and not math.isfinite(number):
        number = None
    evidence = tuple(json.loads(json.dumps(dict(e), ensure_ascii=False, default=str)) for e in fact.evidence)
    if number == value and type(value) is float and evidence == fact.evidence:
        return fact
    return replace(fact, value=number, evidence=evidence)


def _clean(facts: Mapping[str, Mapping[str, Fact]]) -> dict[str, dict[str, Fact]]:
    return {unit: {key: _clean_fact(fact) for key, fact in unit_facts.items()} for unit, unit_facts in facts.items()}


def _facts_json(facts: Mapping[str, Mapping[str, Fact]]) -> dict[str, dict[str, Any]]:
    return {unit: {key: fact.to_dict() for key, fact in sorted(unit_facts.items())}
            for unit, unit_facts in sorted(facts.items())}


def inputs_hash(facts_json: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of every unit's facts."""
    text = json.dumps(facts_json, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _adjustments(session: Session, run_id: int, unit: str | None = None) -> dict[str, dict[str, Adjustment]]:
    """unit → indicator → the newest adjustment."""
    statement = select(AssessAdjustment).where(AssessAdjustment.run_id == run_id)
    if unit is not None:
        statement = statement.where(AssessAdjustment.unit_code == unit)
    out: dict[str, dict[str, Adjustment]] = {}
    for row in session.scalars(statement.order_by(AssessAdjustment.id)):
        out.setdefault(row.unit_code, {})[row.indicator] = Adjustment(
            points=Decimal(row.points), reason=row.reason, by=row.adjusted_by, at=_iso(row.adjusted_at) or "")
    return out


def _apply(score_row: AssessScore, score: UnitScore) -> None:
    score_row.total = str(score.total)
    score_row.grade = score.grade
    score_row.estimate = score.estimate
    score_row.vetoed = bool(score.vetoed_by)
    score_row.result = score.to_dict()


def _rank_key(total: Decimal, vetoed: bool, code: str) -> tuple[bool, Decimal, str]:
    return (vetoed, -total, code)


def _rank(rows: Iterable[AssessScore]) -> None:
    ordered = sorted(rows, key=lambda r: _rank_key(Decimal(r.total), bool(r.vetoed), r.unit_code))
    for number, row in enumerate(ordered, start=1):
        row.rank = number


def _check_year(year: Any) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise InputError(Problem("year must be a whole number", field="year", value=year,
                                 message_zh="年份必须是整数")) from None
    if not YEARS[0] <= value <= YEARS[1]:
        raise InputError(Problem(f"year must lie between {YEARS[0]} and {YEARS[1]}", field="year", value=year,
                                 message_zh=f"年份须在 {YEARS[0]}–{YEARS[1]} 之间"))
    return value


def _ledger_point(session: Session, ledger_version: int | None) -> tuple[int, datetime]:
    current = ledger.version(session)
    if ledger_version is None:
        return current, utcnow()
    try:
        number = int(ledger_version)
    except (TypeError, ValueError):
        raise InputError(Problem("ledger_version must be a whole number", field="ledger_version",
                                 value=ledger_version, message_zh="数据台账版本必须是整数")) from None
    if number == current:
        return current, utcnow() if current == 0 else ledger.version_time(session, number)
    if not 0 < number < current:
        raise InputError(Problem(f"ledger version {number} does not exist (current: {current})",
                                 field="ledger_version", value=number,
                                 message_zh=f"数据台账版本 {number} 不存在（当前版本 {current}）"))
    return number, ledger.version_time(session, number)


def _bump(session: Session, run: AssessRun, expected: int | None) -> None:
    """Bump the run's version if it is still ``expected`` (else StaleVersion, nothing written)."""
    want = run.version if expected is None else int(expected)
    result = session.execute(update(AssessRun).where(AssessRun.id == run.id, AssessRun.version == want)
                             .values(version=want + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(select(AssessRun.version).where(AssessRun.id == run.id))
        raise StaleVersion("assessment run", str(run.id), want, current)
    session.refresh(run)


# -- runs -------------------------------------------------------------------------------------------------------

def run_assessment(db: Any, principal: Principal, city: str, year: int, *, scheme: str = "district",
                   ledger_version: int | None = None) -> RunView:
    """Score every unit the scheme applies to (the city's active organisations of its kinds) for ``year`` on the
    ledger ``ledger_version`` (None: the current one) and store the draft."""
    _manage(principal, city)
    year = _check_year(year)
    code = (scheme or "").strip()
    ensure_schemes(db, city)
    with db.session() as session:
        scheme_row = _scheme_row(session, city, code)
        the_scheme = _parsed(scheme_row.text)
        published = session.scalar(select(func.max(AssessRun.scheme_version)).where(
            AssessRun.city == city, AssessRun.year == year, AssessRun.scheme_code == code,
            AssessRun.state == "published"))
        if published is not None and published >= the_scheme.version:
            raise Conflict(f"{year} 年的考核（{code} 第 {published} 版）已发布，不能重新考核，除非采用新版方案 / "
                           f"the {year} assessment under {code} v{published} is published: only a newer scheme "
                           "version may run again", code="assessment_published")
        number, as_of = _ledger_point(session, ledger_version)
        units = [Unit(code=o.code, kind=str(o.kind.value if hasattr(o.kind, "value") else o.kind),
                      name_zh=o.name_zh, name_en=o.name_en, region_code=o.region_code)
                 for o in gov_store.current_orgs(session, city)
                 if str(getattr(o.kind, "value", o.kind)) in the_scheme.applies_to]
    if not units:
        raise Conflict(f"没有适用该方案的单位（{'、'.join(the_scheme.applies_to)}） / no unit of the kinds "
                       f"{list(the_scheme.applies_to)} is registered", code="assessment_no_units")
    ctx = FactContext(db=db, city=city, year=year, as_of=as_of, ledger_version=number, units=units)
    facts = _clean(collect_facts(ctx, the_scheme.facts))
    facts_json = _facts_json(facts)
    digest = inputs_hash(facts_json)
    actor = audit.actor_of(principal)[0]
    with db.session(write=True) as session:
        older = list(session.scalars(select(AssessRun).where(
            AssessRun.city == city, AssessRun.year == year, AssessRun.scheme_code == code,
            AssessRun.state == "draft")))
        carried: dict[str, dict[str, Adjustment]] = {}
        carried_rows: list[AssessAdjustment] = []
        for old in older:
            if old.scheme_version == the_scheme.version:
                for row in session.scalars(select(AssessAdjustment).where(AssessAdjustment.run_id == old.id)
                                           .order_by(AssessAdjustment.id)):
                    carried_rows.append(row)
            old.state = "superseded"
            old.version += 1
        now = utcnow()
        run = AssessRun(city=city, year=year, scheme_code=code, scheme_version=the_scheme.version,
                        scheme_sha256=scheme_row.sha256, ledger_version=number, as_of=as_of, state="draft",
                        objection_until=_today() + timedelta(days=the_scheme.objection_days), inputs_hash=digest,
                        created_by=actor, created_at=now, version=1, publish_note="")
        session.add(run)
        session.flush()
        unit_codes = {u.code for u in units}
        indicator_codes = {i.code for i in the_scheme.indicators if i.adjustable}
        for old_row in carried_rows:
            if old_row.unit_code in unit_codes and old_row.indicator in indicator_codes:
                session.add(AssessAdjustment(run_id=run.id, unit_code=old_row.unit_code, indicator=old_row.indicator,
                                             points=old_row.points, reason=old_row.reason,
                                             adjusted_by=old_row.adjusted_by, adjusted_at=old_row.adjusted_at))
                carried.setdefault(old_row.unit_code, {})[old_row.indicator] = Adjustment(
                    points=Decimal(old_row.points), reason=old_row.reason, by=old_row.adjusted_by,
                    at=_iso(old_row.adjusted_at) or "")
        rows = []
        for unit in units:
            score = score_unit(the_scheme, unit.code, facts.get(unit.code, {}), carried.get(unit.code))
            row = AssessScore(run_id=run.id, unit_code=unit.code, unit_kind=unit.kind, unit_name_zh=unit.name_zh,
                              region_code=unit.region_code, facts=facts_json.get(unit.code, {}), total="0.00",
                              grade="")
            _apply(row, score)
            rows.append(row)
        _rank(rows)
        session.add_all(rows)
        session.flush()
        audit.record(session, principal, "assessment.run", "assess_run", run.id,
                     before={"superseded": [int(o.id) for o in older]} if older else None,
                     after={"year": year, "scheme": code, "scheme_version": the_scheme.version,
                            "ledger_version": number, "as_of": _iso(as_of), "units": len(rows),
                            "inputs_hash": digest, "carried_adjustments": len(carried_rows)})
        return _view(session, principal, city, run, sorted(rows, key=lambda r: r.rank or 0))


def list_runs(db: Any, principal: Principal, city: str, *, year: int | None = None) -> list[RunSummary]:
    """The runs the caller may see (newest first): every run for the office and analysts; published runs and
    the drafts holding the caller's own unit for the others; enterprise users: 403."""
    if not _readable(principal, city):
        raise Forbidden("无权查看考核结果 / may not read assessments", code="assessment_forbidden")
    with db.session() as session:
        statement = select(AssessRun).where(AssessRun.city == city)
        if year is not None:
            statement = statement.where(AssessRun.year == _check_year(year))
        out = []
        for run in session.scalars(statement.order_by(AssessRun.year.desc(), AssessRun.id.desc())):
            if _sees_all(principal, city, run):
                out.append(_summary(session, run))
            elif run.state == "draft":
                own = [s for s in _scores(session, run) if _sees_row(principal, city, run, s)]
                if own:
                    summary = _summary(session, run)
                    out.append(RunSummary(**{**asdict(summary), "open_objections": 0}))
        return out


def get_run(db: Any, principal: Principal, city: str, run_id: int) -> RunView:
    """The board: the units the caller may see, ranked (NotFound when the caller may see none)."""
    with db.session() as session:
        run, scores = _visible_run(session, principal, city, run_id)
        return _view(session, principal, city, run, scores)


def latest_run(db: Any, principal: Principal, city: str, year: int, *, scheme: str = "district") -> RunView:
    """The published run of ``year`` (the newest scheme version), else the newest draft the caller may see."""
    year = _check_year(year)
    with db.session() as session:
        base = select(AssessRun).where(AssessRun.city == city, AssessRun.year == year,
                                       AssessRun.scheme_code == scheme)
        if principal.can_access_city(city):
            for state in ("published", "draft"):
                for run in session.scalars(base.where(AssessRun.state == state)
                                           .order_by(AssessRun.scheme_version.desc(), AssessRun.id.desc())):
                    try:
                        found, scores = _visible_run(session, principal, city, run.id)
                    except NotFound:
                        continue
                    return _view(session, principal, city, found, scores)
    raise _run_not_found()


def _score_row(session: Session, run: AssessRun, unit_code: str) -> AssessScore:
    row = session.scalars(select(AssessScore).where(AssessScore.run_id == run.id,
                                                    AssessScore.unit_code == str(unit_code)[:64])
                          .execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise _unit_not_found()
    return row


def _visible_score(session: Session, principal: Principal, city: str, run_id: Any,
                   unit_code: str) -> tuple[AssessRun, AssessScore]:
    run = _run_row(session, principal, city, run_id)
    try:
        row = _score_row(session, run, unit_code)
    except NotFound:
        # the same answer whether the run or the unit is unknown to the caller
        if _sees_all(principal, city, run):
            raise
        raise _run_not_found() from None
    if not _sees_row(principal, city, run, row):
        raise _run_not_found()
    return run, row


def _may_object_now(principal: Principal, run: AssessRun, row: AssessScore) -> bool:
    return (run.state == "draft" and run.objection_until is not None and _today() <= run.objection_until
            and principal.can_object_assessment(row.unit_code, row.region_code))


def _unit_view(session: Session, principal: Principal, city: str, run: AssessRun, row: AssessScore) -> UnitScoreView:
    result = row.result or {}
    scheme = _run_scheme(session, run)
    facts = row.facts or {}
    items = []
    for item in result.get("items") or []:
        code = item.get("code")
        try:
            fact_key = scheme.indicator(code).fact
        except KeyError:
            fact_key = None
        items.append({**item, "fact_key": fact_key, "fact": facts.get(fact_key) if fact_key else None})
    adjustments = [{"id": int(a.id), "indicator": a.indicator, "points": a.points, "reason": a.reason,
                    "by": a.adjusted_by, "at": _iso(a.adjusted_at)}
                   for a in session.scalars(select(AssessAdjustment).where(
                       AssessAdjustment.run_id == run.id, AssessAdjustment.unit_code == row.unit_code)
                       .order_by(AssessAdjustment.id))]
    objections: list[ObjectionView] = []
    if principal.can_read_assessment_detail(city) or principal.acts_for_org(row.unit_code, row.region_code):
        objections = [_objection_view(o) for o in session.scalars(select(AssessObjection).where(
            AssessObjection.run_id == run.id, AssessObjection.unit_code == row.unit_code)
            .order_by(AssessObjection.id))]
    return UnitScoreView(
        run=_summary(session, run), unit_code=row.unit_code, unit_name_zh=row.unit_name_zh, unit_kind=row.unit_kind,
        region_code=row.region_code, rank=row.rank, total=row.total, grade=row.grade,
        grade_zh=str(result.get("grade_zh") or row.grade), estimate=bool(row.estimate),
        incomplete=list(result.get("incomplete") or []), vetoed_by=list(result.get("vetoed_by") or []),
        items=items, adjustments=adjustments, objections=objections,
        can_object=_may_object_now(principal, run, row))


def unit_score(db: Any, principal: Principal, city: str, run_id: int, unit_code: str) -> UnitScoreView:
    """One unit's breakdown: every item's points, explanation and evidence, the facts, the adjustments' history
    and the objections (the office, analysts and the unit itself see objections)."""
    with db.session() as session:
        run, row = _visible_score(session, principal, city, run_id, unit_code)
        return _unit_view(session, principal, city, run, row)


def _text(value: str | None, name: str, zh: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError(Problem(f"{name} is required", field=name, message_zh=zh))
    if len(text) > limit:
        raise InputError(Problem(f"{name} is longer than {limit} characters", field=name,
                                 message_zh=f"超过 {limit} 字"))
    return text


def _frozen(run: AssessRun) -> Conflict:
    if run.state == "published":
        return Conflict("考核结果已发布，不能再修改 / the assessment is published and frozen",
                        code="assessment_frozen")
    return Conflict("该考核已被新的草稿取代 / this draft was superseded by a newer run", code="assessment_superseded")


def adjust(db: Any, principal: Principal, city: str, run_id: int, unit_code: str, indicator: str, *,
           points: Any, reason: str, version: int) -> UnitScoreView:
    """Set a qualitative item of one unit (the office, with a reason) and re-score the unit from its stored
    facts; the run's ``version`` must be the one the caller read."""
    with db.session(write=True) as session:
        run, row = _visible_score(session, principal, city, run_id, unit_code)
        _manage(principal, city)
        if run.state != "draft":
            raise _frozen(run)
        scheme = _run_scheme(session, run)
        try:
            item = scheme.indicator(str(indicator))
        except KeyError:
            raise InputError(Problem(f"no indicator {indicator!r} in {scheme.label}", field="indicator",
                                     value=indicator, message_zh=f"考核方案中没有指标“{indicator}”")) from None
        checked = check_adjustment(item, points, _text(reason, "reason", "调整定性指标须说明理由"))
        _bump(session, run, version)
        actor = audit.actor_of(principal)[0]
        now = utcnow()
        session.add(AssessAdjustment(run_id=run.id, unit_code=row.unit_code, indicator=item.code,
                                     points=str(checked.points), reason=checked.reason, adjusted_by=actor,
                                     adjusted_at=now))
        session.flush()
        before = {"indicator": item.code, "points": str(next((i.get("points") for i in (row.result or {})
                                                              .get("items", []) if i.get("code") == item.code), "")),
                  "total": row.total, "grade": row.grade, "rank": row.rank}
        facts = {key: Fact.from_dict(value) for key, value in (row.facts or {}).items()}
        score = score_unit(scheme, row.unit_code, facts, _adjustments(session, int(run.id), row.unit_code)
                           .get(row.unit_code, {}))
        _apply(row, score)
        session.flush()
        _rank(_scores(session, run))
        session.flush()
        audit.record(session, principal, "assessment.adjust", "assess_run", f"{run.id}:{row.unit_code}",
                     before=before,
                     after={"indicator": item.code, "points": str(score.item(item.code).points), "total": row.total,
                            "grade": row.grade, "rank": row.rank, "version": run.version},
                     reason=checked.reason)
        return _unit_view(session, principal, city, run, row)


def object_to(db: Any, principal: Principal, city: str, run_id: int, unit_code: str, *, text: str,
              indicator: str | None = None) -> ObjectionView:
    """A unit's objection to its draft score (its own users, a draft run, on or before ``objection_until``)."""
    with db.session(write=True) as session:
        run, row = _visible_score(session, principal, city, run_id, unit_code)
        if not principal.can_object_assessment(row.unit_code, row.region_code):
            raise Forbidden("只有被考核单位本身可以提出异议 / only the unit itself may object",
                            code="assessment_forbidden")
        if run.state != "draft":
            raise _frozen(run)
        if run.objection_until is None or _today() > run.objection_until:
            raise Conflict(f"异议期已于 {run.objection_until} 结束 / the objection period ended on "
                           f"{run.objection_until}", code="assessment_objection_closed")
        body = _text(text, "text", "请填写异议内容")
        code = None
        if indicator:
            scheme = _run_scheme(session, run)
            try:
                code = scheme.indicator(str(indicator)).code
            except KeyError:
                raise InputError(Problem(f"no indicator {indicator!r} in {scheme.label}", field="indicator",
                                         value=indicator, message_zh=f"考核方案中没有指标“{indicator}”")) from None
        objection = AssessObjection(run_id=run.id, unit_code=row.unit_code, indicator=code, text=body,
                                    filed_by=audit.actor_of(principal)[0], filed_at=utcnow(), state="open",
                                    answer="")
        session.add(objection)
        session.flush()
        audit.record(session, principal, "assessment.object", "assess_objection", objection.id,
                     after={"run": int(run.id), "unit": row.unit_code, "indicator": code, "text": body})
        return _objection_view(objection)


def answer_objection(db: Any, principal: Principal, city: str, run_id: int, objection_id: int, *, decision: str,
                     answer: str) -> ObjectionView:
    """The office's answer to an open objection (``upheld`` | ``rejected``). Upholding does not change the score
    by itself: the office adjusts the item (or re-runs on corrected data) and says so in the answer."""
    with db.session(write=True) as session:
        run = _run_row(session, principal, city, run_id)
        if not principal.can_read_assessment_detail(city):
            _visible_run(session, principal, city, run_id)  # NotFound for a caller who may not see it
        _manage(principal, city)
        try:
            number = int(objection_id)
        except (TypeError, ValueError):
            raise NotFound("异议不存在 / objection not found", code="assessment_objection_not_found") from None
        row = session.scalars(select(AssessObjection).where(AssessObjection.id == number,
                                                            AssessObjection.run_id == run.id)).one_or_none() \
            if 0 < number < 2**62 else None
        if row is None:
            raise NotFound("异议不存在 / objection not found", code="assessment_objection_not_found")
        if run.state != "draft":
            raise _frozen(run)
        if row.state != "open":
            raise Conflict("该异议已答复 / the objection was already answered", code="assessment_objection_answered")
        if decision not in DECISIONS:
            raise InputError(Problem(f"decision must be one of {', '.join(DECISIONS)}", field="decision",
                                     value=decision, message_zh="处理结果须为 upheld（采纳）或 rejected（不予采纳）"))
        body = _text(answer, "answer", "请填写答复")
        before = {"state": row.state}
        row.state, row.answer = decision, body
        row.answered_by, row.answered_at = audit.actor_of(principal)[0], utcnow()
        session.flush()
        audit.record(session, principal, "assessment.answer", "assess_objection", row.id, before=before,
                     after={"run": int(run.id), "unit": row.unit_code, "state": decision, "answer": body})
        return _objection_view(row)


def _publishable(session: Session, principal: Principal, city: str, run_id: Any, note: str,
                 early: bool) -> tuple[AssessRun, str]:
    """The draft the office may publish now (the checks of :func:`publish`, in order), and the note."""
    run = _run_row(session, principal, city, run_id)
    if not principal.can_read_assessment_detail(city):
        _visible_run(session, principal, city, run_id)  # NotFound for a caller who may not see it
    _manage(principal, city)
    if run.state != "draft":
        raise _frozen(run)
    note = _text(note, "note", "", required=False)
    open_count = int(session.scalar(select(func.count()).select_from(AssessObjection).where(
        AssessObjection.run_id == run.id, AssessObjection.state == "open")) or 0)
    if open_count:
        raise Conflict(f"尚有 {open_count} 件异议未答复，不能发布 / {open_count} objection(s) still open",
                       code="assessment_objections_open")
    if run.objection_until is not None and _today() <= run.objection_until:
        if not early:
            raise Conflict(f"异议期至 {run.objection_until} 结束，期满后才能发布（或说明理由提前发布） / the "
                           f"objection period runs until {run.objection_until}: publish after it, or early "
                           "with a note", code="assessment_objection_period")
        if not note:
            raise InputError(Problem("publishing before the objection period ends needs a note", field="note",
                                     message_zh="提前发布须说明理由"))
    return run, note


def publish(db: Any, principal: Principal, city: str, run_id: int, *, version: int, note: str = "",
            early: bool = False) -> RunView:
    """Publish a draft (the office): refused while an objection is open, and before ``objection_until`` unless
    ``early`` with a ``note`` saying why; refused (409, ``assessment_not_reproducible``, the units named) when
    collecting the facts again on the run's ledger version does not give the stored scores — a published run
    must reproduce. The published run is frozen."""
    with db.session() as session:
        run, note = _publishable(session, principal, city, run_id, note, early)
        if run.version != int(version):
            raise StaleVersion("assessment run", str(run.id), int(version), run.version)
    check = _reproduction(db, city, int(run.id))
    if not check["same"]:
        units = [u["unit"] for u in check["units"] if not u["same"]]
        raise Conflict(f"以台账版本 {check['ledger_version']} 重新采集数据后，{'、'.join(units)} 的得分与草稿不一致，"
                       f"请重新考核后再发布 / the scores of {', '.join(units)} do not reproduce on ledger version "
                       f"{check['ledger_version']}: run the year again", code="assessment_not_reproducible")
    with db.session(write=True) as session:
        run, note = _publishable(session, principal, city, run_id, note, early)
        _bump(session, run, version)
        run.state = "published"
        run.published_by = audit.actor_of(principal)[0]
        run.published_at = utcnow()
        run.publish_note = note
        session.flush()
        audit.record(session, principal, "assessment.publish", "assess_run", run.id,
                     before={"state": "draft", "version": run.version - 1},
                     after={"state": "published", "version": run.version, "ledger_version": run.ledger_version,
                            "inputs_hash": run.inputs_hash, "inputs_reproduced": check["inputs_same"],
                            "early": bool(early)}, reason=note or None)
        return _view(session, principal, city, run, _scores(session, run))


def reproduce(db: Any, principal: Principal, city: str, run_id: int) -> dict[str, Any]:
    """Collect the facts again as of the run's ledger version and moment, re-score with the run's adjustments,
    and compare with what is stored: per unit ``same`` or the items that differ (a draft: the office and
    analysts; a published run: whoever may read it)."""
    with db.session() as session:
        run, _scores_seen = _visible_run(session, principal, city, run_id)
        if not _sees_all(principal, city, run):
            raise Forbidden("草稿只能由考核办公室和分析人员复核 / only the office and analysts reproduce a draft",
                            code="assessment_forbidden")
    return _reproduction(db, city, int(run.id))


def _reproduction(db: Any, city: str, run_id: int) -> dict[str, Any]:
    with db.session() as session:
        run = session.get(AssessRun, run_id)
        if run is None or run.city != city:
            raise _run_not_found()
        scores = _scores(session, run)
        scheme = _run_scheme(session, run)
        adjustments = _adjustments(session, int(run.id))
        as_of = run.as_of if run.as_of.tzinfo is not None else run.as_of.replace(tzinfo=UTC)
        units = [Unit(code=s.unit_code, kind=s.unit_kind, name_zh=s.unit_name_zh, name_en="",
                      region_code=s.region_code) for s in sorted(scores, key=lambda s: s.unit_code)]
        stored = {s.unit_code: (s.total, s.grade, {i.get("code"): i.get("points")
                                                   for i in (s.result or {}).get("items", [])}, s.facts or {})
                  for s in scores}
        year, ledger_version = run.year, int(run.ledger_version)
        meta = {"run_id": int(run.id), "year": run.year, "scheme": run.scheme_code,
                "scheme_version": run.scheme_version, "state": run.state, "ledger_version": ledger_version,
                "as_of": _iso(as_of), "inputs_hash": run.inputs_hash}
    ctx = FactContext(db=db, city=city, year=year, as_of=as_of, ledger_version=ledger_version, units=units)
    facts = _clean(collect_facts(ctx, scheme.facts))
    facts_json = _facts_json(facts)
    out_units = []
    for unit in units:
        total, grade, old_items, old_facts = stored[unit.code]
        score = score_unit(scheme, unit.code, facts.get(unit.code, {}), adjustments.get(unit.code))
        differing = [i.code for i in score.items if old_items.get(i.code) != str(i.points)]
        same = str(score.total) == total and score.grade == grade and not differing
        out_units.append({"unit": unit.code, "stored_total": total, "total": str(score.total),
                          "stored_grade": grade, "grade": score.grade, "same": same, "differing": differing,
                          "facts_same": facts_json.get(unit.code, {}) == old_facts})
    now_hash = inputs_hash(facts_json)
    return {**meta, "inputs_hash_now": now_hash, "inputs_same": now_hash == meta["inputs_hash"],
            "same": all(u["same"] for u in out_units), "units": out_units}


def published_results(db: Any, principal: Principal, city: str, year: int) -> list[RunView]:
    """The published runs of ``year`` (every scheme; newest scheme version first per code) for the yearly
    report: every role but enterprise users (403)."""
    if not principal.can_read_published_assessment(city) and not principal.can_read_assessment_detail(city):
        raise Forbidden("无权查看考核结果 / may not read assessments", code="assessment_forbidden")
    year = _check_year(year)
    with db.session() as session:
        runs = list(session.scalars(select(AssessRun).where(
            AssessRun.city == city, AssessRun.year == year, AssessRun.state == "published")
            .order_by(AssessRun.scheme_code, AssessRun.scheme_version.desc(), AssessRun.id.desc())))
        return [_view(session, principal, city, run, _scores(session, run)) for run in runs]

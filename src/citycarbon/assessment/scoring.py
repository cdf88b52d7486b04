"""A unit's score from its facts (pure): every point with the fact and evidence behind it.

Arithmetic is :class:`~decimal.Decimal`: a fact's value enters as ``Decimal(str(value))``; each item's points are
rounded to two decimals (half up) and the total is the exact sum of the items, so a hand-worked example gives the
same figure to the cent. The total is never below 0. The grade is the highest whose ``min`` the total reaches,
unless a veto item is met (then the scheme's ``veto_grade``).

An item whose fact is an estimate (``Fact.estimate``: the figure's status is ``estimate`` or ``unverified``)
marks the unit's score ``estimate``: the faces say so beside the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from citycarbon.assessment.scheme import Indicator, Scheme
from citycarbon.errors import InputError, Problem

__all__ = ["CENT", "Adjustment", "Fact", "ItemScore", "UnitScore", "score_item", "score_unit"]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Fact:
    """One figure about one unit, as a fact collector found it.

    ``evidence`` says where it comes from: dicts with a ``kind`` (``figure``: series, year, ledger batch and
    status; ``filing``: round, measure, filed and due dates; ``rule``: the document; ``project``: its code and
    finding; ``monitoring``: units and readings), enough for a reader to check the point. ``note_zh`` explains
    the value in one sentence (e.g. the actual fall and the target it is compared with)."""

    value: float | None
    unit: str = "dimensionless"
    estimate: bool = False
    evidence: tuple[dict[str, Any], ...] = ()
    note_zh: str = ""
    note_en: str = ""
    #: False: the indicator does not concern this unit (no key units registered in a district, no measure with a
    #: milestone this year): the item scores its full points (不涉及的指标按满分计), no bonus, no penalty
    applicable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "estimate": self.estimate,
                "evidence": [dict(e) for e in self.evidence], "note_zh": self.note_zh, "note_en": self.note_en,
                "applicable": self.applicable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fact:
        return cls(value=None if data.get("value") is None else float(data["value"]),
                   unit=str(data.get("unit") or "dimensionless"), estimate=bool(data.get("estimate")),
                   evidence=tuple(dict(e) for e in data.get("evidence") or ()),
                   note_zh=str(data.get("note_zh") or ""), note_en=str(data.get("note_en") or ""),
                   applicable=bool(data.get("applicable", True)))


@dataclass(frozen=True)
class Adjustment:
    """The office's value for a qualitative item, with its reason (required)."""

    points: Decimal
    reason: str
    by: str = ""
    at: str = ""


@dataclass(frozen=True)
class ItemScore:
    code: str
    name_zh: str
    name_en: str
    category: str
    kind: str
    value: float | None
    unit: str
    points: Decimal
    max_points: Decimal
    missing: bool = False
    vetoed: bool = False
    estimate: bool = False
    adjusted: Adjustment | None = None
    explanation_zh: str = ""
    evidence: tuple[dict[str, Any], ...] = ()
    note_zh: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "category": self.category,
                "kind": self.kind, "value": self.value, "unit": self.unit, "points": str(self.points),
                "max_points": str(self.max_points), "missing": self.missing, "vetoed": self.vetoed,
                "estimate": self.estimate,
                "adjusted": None if self.adjusted is None else {
                    "points": str(self.adjusted.points), "reason": self.adjusted.reason, "by": self.adjusted.by,
                    "at": self.adjusted.at},
                "explanation_zh": self.explanation_zh, "evidence": [dict(e) for e in self.evidence],
                "note_zh": self.note_zh}


@dataclass(frozen=True)
class UnitScore:
    unit: str
    scheme: str
    scheme_version: int
    items: tuple[ItemScore, ...]
    total: Decimal
    grade: str
    grade_zh: str
    vetoed_by: tuple[str, ...] = ()
    estimate: bool = False
    incomplete: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def item(self, code: str) -> ItemScore:
        return next(i for i in self.items if i.code == code)

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "scheme": self.scheme, "scheme_version": self.scheme_version,
                "total": str(self.total), "grade": self.grade, "grade_zh": self.grade_zh,
                "vetoed_by": list(self.vetoed_by), "estimate": self.estimate, "incomplete": list(self.incomplete),
                "items": [i.to_dict() for i in self.items]}


def _d(value: float | int | str | Decimal) -> Decimal:
    return Decimal(str(value))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(value: Decimal | float | None) -> str:
    """A figure for a reader: at most four decimals, no trailing zeros (the points use the exact value)."""
    if value is None:
        return "—"
    rounded = Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:f}"


def _clamp01(value: Decimal) -> Decimal:
    return max(Decimal(0), min(Decimal(1), value))


def score_item(indicator: Indicator, fact: Fact | None,
               adjustment: Adjustment | None = None) -> ItemScore:
    """One item's points (see :mod:`citycarbon.assessment.scheme` for the scoring kinds)."""
    s = indicator.scoring
    kind = s.kind
    common: dict[str, Any] = {"code": indicator.code, "name_zh": indicator.name_zh, "name_en": indicator.name_en,
              "category": indicator.category, "kind": kind, "unit": indicator.unit,
              "max_points": indicator.max_points}
    if kind == "qualitative":
        if adjustment is not None:
            points = _cents(adjustment.points)
            explanation = f"办公室评定 {_fmt(points)} 分：{adjustment.reason}"
        else:
            points = _cents(_d(s.default or 0))
            explanation = f"默认 {_fmt(points)} 分（待办公室评定）"
        return ItemScore(**common, value=None, points=points, adjusted=adjustment, explanation_zh=explanation)
    value = None if fact is None else fact.value
    evidence = () if fact is None else fact.evidence
    extra: dict[str, Any] = {"evidence": evidence, "estimate": bool(fact and fact.estimate and value is not None),
             "note_zh": "" if fact is None else fact.note_zh}
    if fact is not None and not fact.applicable:
        points = _cents(_d(indicator.points)) if kind in ("linear", "threshold") else Decimal("0.00")
        return ItemScore(**common, value=value, points=points,
                         explanation_zh=f"本单位不涉及，按{'满分' if points else '不加不扣'}计（{_fmt(points)} 分）",
                         **extra)
    if value is None:
        return ItemScore(**common, value=None, points=Decimal("0.00"), missing=True,
                         explanation_zh="无数据，本项不得分、不扣分（待补报）" if kind not in ("veto", "penalty")
                         else "无数据，不适用", **extra)
    v = _d(value)
    if kind == "linear":
        zero, full = _d(s.zero), _d(s.full)  # type: ignore[arg-type]
        share = _clamp01((v - zero) / (full - zero))
        points = _cents(_d(indicator.points) * share)
        explanation = (f"实际值 {_fmt(v)}，{_fmt(zero)} 得 0 分、{_fmt(full)} 得满分 {_fmt(indicator.points)} 分，"
                       f"按线性插值得 {_fmt(points)} 分")
        return ItemScore(**common, value=value, points=points, explanation_zh=explanation, **extra)
    if kind in ("threshold", "veto"):
        low_ok = s.min is None or v >= _d(s.min)
        high_ok = s.max is None or v <= _d(s.max)
        condition = "且".join(part for part in (f"不低于 {_fmt(s.min)}" if s.min is not None else "",
                                                f"不高于 {_fmt(s.max)}" if s.max is not None else "") if part)
        if kind == "threshold":
            points = _cents(_d(indicator.points)) if low_ok and high_ok else Decimal("0.00")
            verdict = "达标" if low_ok and high_ok else "未达标"
            return ItemScore(**common, value=value, points=points,
                             explanation_zh=f"实际值 {_fmt(v)}，要求{condition}：{verdict}，得 {_fmt(points)} 分",
                             **extra)
        vetoed = not (low_ok and high_ok)
        verdict = "触发一票否决" if vetoed else "未触发"
        return ItemScore(**common, value=value, points=Decimal("0.00"), vetoed=vetoed,
                         explanation_zh=f"实际值 {_fmt(v)}，要求{condition}：{verdict}", **extra)
    size = min(_d(s.cap), _d(s.per) * max(v, Decimal(0)))  # type: ignore[arg-type]
    points = _cents(size if kind == "bonus" else -size)
    word = "加" if kind == "bonus" else "扣"
    explanation = (f"实际值 {_fmt(v)}，每单位{word} {_fmt(s.per)} 分，最多{word} {_fmt(s.cap)} 分："
                   f"{word} {_fmt(abs(points))} 分")
    return ItemScore(**common, value=value, points=points, explanation_zh=explanation, **extra)


def check_adjustment(indicator: Indicator, points: float | Decimal | str, reason: str) -> Adjustment:
    """Validate an office adjustment of a qualitative item: the item must be qualitative, the points within
    ``0 … max`` (two decimals at most) and the reason given. :class:`InputError` otherwise."""
    if not indicator.adjustable:
        raise InputError(Problem(f"{indicator.code} is scored from data, not set by the office", field="indicator",
                                 value=indicator.code,
                                 message_zh=f"指标“{indicator.name_zh}”按数据计分，不能由办公室调整"))
    try:
        value = _d(points)
    except Exception:  # InvalidOperation and friends: reported as bad input
        raise InputError(Problem("points must be a number", field="points", value=points,
                                 message_zh="分值必须是数字")) from None
    top = indicator.max_points
    if not value.is_finite() or value < 0 or value > top or value != value.quantize(CENT):
        raise InputError(Problem(f"points must lie between 0 and {top} (two decimals at most)", field="points",
                                 value=str(points), message_zh=f"分值须在 0 至 {_fmt(top)} 之间（最多两位小数）"))
    if not reason or not reason.strip():
        raise InputError(Problem("an adjustment needs its reason", field="reason",
                                 message_zh="调整定性指标须说明理由"))
    return Adjustment(points=value, reason=reason.strip())


def score_unit(scheme: Scheme, unit: str, facts: Mapping[str, Fact],
               adjustments: Mapping[str, Adjustment] | None = None) -> UnitScore:
    """``unit``'s score under ``scheme`` from its facts (fact key → :class:`Fact`) and the office's
    adjustments of qualitative items (indicator code → :class:`Adjustment`)."""
    adjustments = adjustments or {}
    unknown = [code for code in adjustments if code not in {i.code for i in scheme.indicators}]
    if unknown:
        raise InputError(Problem(f"no indicator {unknown[0]!r} in {scheme.label}", field="indicator",
                                 value=unknown[0], message_zh=f"考核方案中没有指标“{unknown[0]}”"))
    items = tuple(score_item(i, facts.get(i.fact) if i.fact else None, adjustments.get(i.code))
                  for i in scheme.indicators)
    total = max(Decimal("0.00"), sum((i.points for i in items), Decimal("0.00")))
    vetoed_by = tuple(i.code for i in items if i.vetoed)
    incomplete = tuple(i.code for i in items if i.missing and i.kind in ("linear", "threshold", "bonus"))
    if vetoed_by:
        grade = scheme.grade(scheme.veto_grade)
    elif incomplete and scheme.incomplete_grade is not None:
        grade = scheme.incomplete_grade
    else:
        grade = next(g for g in scheme.grades_desc() if total >= _d(g.min))
    return UnitScore(unit=unit, scheme=scheme.code, scheme_version=scheme.version, items=items, total=total,
                     grade=grade.code, grade_zh=grade.name_zh, vetoed_by=vetoed_by,
                     estimate=any(i.estimate for i in items), incomplete=incomplete)

"""Assessment schemes (考核方案) as data: YAML files under ``data/assessment/schemes/``, versioned.

A scheme names the units it applies to (organisation kinds of the governance registry: ``district`` and
``pilot_zone``, or ``department``), its indicators and its grades. Each indicator takes one *fact* (a key the
services' fact collectors fill for every unit: ``district.energy_intensity_annual`` …) and turns it into points:

``linear``       ``points × clamp((v − zero) / (full − zero), 0, 1)``: full points at ``full``, none at ``zero``
                 (either direction: ``full < zero`` rewards a small value);
``threshold``    pass/fail: all points when ``min ≤ v`` (and/or ``v ≤ max``), none otherwise;
``veto``         一票否决: no points; when the condition is met (``v < min`` or ``v > max``) the unit's grade is
                 the scheme's ``veto_grade`` whatever its score;
``bonus``        ``+ min(cap, per × v)`` (v ≥ 0) on top of the base points;
``penalty``      ``− min(cap, per × v)``;
``qualitative``  no fact: ``default`` points until the office sets another value (0 … points, or 0 … cap for a
                 qualitative bonus ``kind: qualitative, bonus: true``) with a reason (audited).

A missing fact (no data for the unit) scores 0 points on ``linear``/``threshold``/``bonus`` items, no penalty and
no veto, and the item says ``missing``: the total is then marked incomplete rather than silently lowered.

Grades are checked from the highest ``min`` down (``优秀 ≥ 90``, ``良好 ≥ 80``, ``合格 ≥ 60``, else ``不合格``: NDRC
2014 办法, governance.md §6). A scheme may name an ``incomplete_grade`` (暂不定等): a unit whose score lacks data on a
base or bonus item gets it instead of a grade from its (lowered) total, unless a veto is met. Every scheme names
its ``document`` and verification ``status``; a scheme the office has not adopted is ``estimate`` (a draft).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from citycarbon.errors import InputError, Problem

__all__ = ["KINDS", "Grade", "Indicator", "Scheme", "Scoring", "load_scheme", "parse_scheme", "scheme_hash",
           "shipped_schemes"]

KINDS = ("linear", "threshold", "veto", "bonus", "penalty", "qualitative")
UNIT_KINDS = ("district", "pilot_zone", "department")
CATEGORIES = ("target", "supervision", "monitoring", "projects", "qualitative")


class Scoring(BaseModel):
    """How an indicator's fact becomes points (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["linear", "threshold", "veto", "bonus", "penalty", "qualitative"]
    zero: float | None = None
    full: float | None = None
    min: float | None = None
    max: float | None = None
    per: float | None = None
    cap: float | None = None
    default: float | None = None
    bonus: bool = False

    @model_validator(mode="after")
    def _complete(self) -> Scoring:
        need = {"linear": ("zero", "full"), "bonus": ("per", "cap"), "penalty": ("per", "cap"),
                "qualitative": ("default",)}.get(self.kind, ())
        missing = [name for name in need if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} scoring needs {', '.join(missing)}")
        if self.kind in ("threshold", "veto") and self.min is None and self.max is None:
            raise ValueError(f"a {self.kind} scoring needs min or max")
        if self.kind == "linear" and self.zero == self.full:
            raise ValueError("linear scoring: zero and full must differ")
        if self.kind in ("bonus", "penalty") and ((self.per or 0) < 0 or (self.cap or 0) < 0):
            raise ValueError(f"{self.kind}: per and cap must be ≥ 0")
        return self


class Indicator(BaseModel):
    """One line of the scheme: its fact, its points and how they are scored, and where the rule comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    name_zh: str
    name_en: str
    category: Literal["target", "supervision", "monitoring", "projects", "qualitative"]
    #: the fact key (None for qualitative items)
    fact: str | None = None
    #: the unit of the fact's value as the collectors give it (``dimensionless`` for ratios and shares)
    unit: str = "dimensionless"
    #: maximum points of a base item (0 for veto, bonus and penalty items: their size is ``cap``)
    points: float = 0
    scoring: Scoring
    #: what a reader is told the rule means (Chinese) and where it comes from
    rule_zh: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        kind = self.scoring.kind
        if kind == "qualitative":
            if self.fact is not None:
                raise ValueError("a qualitative item takes no fact")
            top = self.scoring.cap if self.scoring.bonus else self.points
            if top is None or not 0 <= (self.scoring.default or 0) <= top:
                raise ValueError("qualitative: default must lie between 0 and the item's points (or cap)")
        elif not self.fact:
            raise ValueError(f"a {kind} item needs its fact")
        if kind in ("linear", "threshold") and self.points <= 0:
            raise ValueError(f"a {kind} item needs points > 0")
        if kind in ("veto", "bonus", "penalty") and self.points:
            raise ValueError(f"a {kind} item carries no base points (its size is cap)")
        return self

    @property
    def max_points(self) -> Decimal:
        """The most the item can add (base points, or the bonus cap); 0 for veto and penalty items."""
        if self.scoring.kind in ("bonus",) or (self.scoring.kind == "qualitative" and self.scoring.bonus):
            return Decimal(str(self.scoring.cap or 0))
        if self.scoring.kind in ("veto", "penalty"):
            return Decimal(0)
        return Decimal(str(self.points))

    @property
    def adjustable(self) -> bool:
        """Whether the office sets this item (qualitative items)."""
        return self.scoring.kind == "qualitative"


class Grade(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    min: float


class Scheme(BaseModel):
    """A versioned assessment scheme."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)
    version: int = Field(ge=1)
    name_zh: str
    name_en: str
    applies_to: tuple[Literal["district", "pilot_zone", "department"], ...]
    document: str
    status: str = "estimate"
    effective_from: int
    #: days the units have to object to their draft score (calendar days from the run)
    objection_days: int = Field(default=10, ge=0, le=90)
    indicators: tuple[Indicator, ...]
    grades: tuple[Grade, ...]
    veto_grade: str
    #: the grade of a unit whose score is incomplete (a base or bonus item without data): not graded rather than
    #: failed for want of statistics (None: graded on its total like any other unit)
    incomplete_grade: Grade | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Scheme:
        codes = [i.code for i in self.indicators]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"indicator codes repeat: {', '.join(duplicates)}")
        grades = [g.code for g in self.grades]
        if self.veto_grade not in grades:
            raise ValueError(f"veto_grade {self.veto_grade!r} is not one of the grades {grades}")
        if self.incomplete_grade is not None and self.incomplete_grade.code in grades:
            raise ValueError(f"incomplete_grade {self.incomplete_grade.code!r} repeats a grade's code")
        if not self.grades or min(g.min for g in self.grades) != 0:
            raise ValueError("the lowest grade must start at 0")
        if not self.applies_to:
            raise ValueError("applies_to names at least one unit kind")
        return self

    @property
    def base_points(self) -> Decimal:
        """The sum of the base items' points (100 in a usual scheme; bonuses come on top)."""
        return sum((Decimal(str(i.points)) for i in self.indicators
                    if i.scoring.kind in ("linear", "threshold") or (i.scoring.kind == "qualitative"
                                                                     and not i.scoring.bonus)), Decimal(0))

    def indicator(self, code: str) -> Indicator:
        for item in self.indicators:
            if item.code == code:
                return item
        raise KeyError(code)

    def grades_desc(self) -> list[Grade]:
        return sorted(self.grades, key=lambda g: g.min, reverse=True)

    def grade(self, code: str) -> Grade:
        return next(g for g in self.grades if g.code == code)

    @property
    def facts(self) -> tuple[str, ...]:
        """The fact keys the scheme needs, in order."""
        return tuple(dict.fromkeys(i.fact for i in self.indicators if i.fact))

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"


def scheme_hash(text: str) -> str:
    """sha256 of a scheme's YAML text (the run records which exact text it scored with)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _problems(error: ValidationError, file: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        problems.append(Problem(item["msg"], file=file, field=where or None, value=item.get("input")
                                if not isinstance(item.get("input"), dict | list) else None,
                                message_zh=f"考核方案字段 {where or '(整体)'} 有误：{item['msg']}"))
    return problems


def parse_scheme(text: str, file: str = "scheme.yaml") -> Scheme:
    """A scheme from YAML text; :class:`InputError` names the file and the field of every problem."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(Problem(f"not valid YAML: {getattr(error, 'problem', error)}", file=file,
                                 row=mark.line + 1 if mark is not None else None,
                                 message_zh="考核方案不是有效的 YAML 文件")) from None
    if not isinstance(data, dict):
        raise InputError(Problem("a scheme is a YAML mapping", file=file, message_zh="考核方案应为 YAML 映射"))
    try:
        return Scheme.model_validate(data)
    except ValidationError as error:
        raise InputError(_problems(error, file)) from None


def _schemes_dir() -> Path:
    from citycarbon.data import data_path

    return data_path("assessment/schemes")


def load_scheme(path: str | Path) -> tuple[Scheme, str]:
    """A scheme file and its text (the text is what a run stores and hashes)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    return parse_scheme(text, path.name), text


def shipped_schemes() -> dict[str, tuple[Scheme, str]]:
    """The schemes shipped under ``data/assessment/schemes/``: code → (scheme, YAML text)."""
    found: dict[str, tuple[Scheme, str]] = {}
    for path in sorted(_schemes_dir().glob("*.yaml")):
        scheme, text = load_scheme(path)
        found[scheme.code] = (scheme, text)
    return found

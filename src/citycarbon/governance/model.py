"""The vocabulary of running the plan: organisations, measures, their indicators, and the states of rounds,
filings and supervision items. Codes are stored; labels come from the Babel catalogs (``governance.po``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class OrgKind(StrEnum):
    """What an organisation of the registry is."""

    leading_group = "leading_group"  # 市碳达峰碳中和工作领导小组
    office = "office"  # 领导小组办公室 (at the DRC)
    department = "department"  # member departments (市发展改革委, 工业和信息化局 …)
    district = "district"  # 区市县 (GB/T 2260 code in ``region_code``)
    pilot_zone = "pilot_zone"  # 开放先导区 (金普新区, 高新区, 长兴岛, 太平湾 …)
    enterprise = "enterprise"  # state-owned or key enterprises given a measure (e.g. 国网大连供电公司)


#: organisations that file progress in a district's name (their users are ``district`` users)
TERRITORIAL_KINDS = frozenset({OrgKind.district, OrgKind.pilot_zone})


class MeasureStatus(StrEnum):
    """The status a unit reports for a measure in a round (未启动/推进中/已完成/滞后)."""

    not_started = "not_started"
    in_progress = "in_progress"
    completed = "completed"
    lagging = "lagging"


FILING_STATUSES: tuple[str, ...] = tuple(s.value for s in MeasureStatus)


class FilingState(StrEnum):
    """Where a filing is in its review: a unit drafts and submits; the office accepts or returns it."""

    draft = "draft"
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"


class RoundPeriod(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


class SupervisionLevel(StrEnum):
    """Escalation levels of a supervision item, lowest first (提醒 → 督办通知 → 约谈)."""

    reminder = "reminder"  # 提醒
    notice = "notice"  # 督办通知
    interview = "interview"  # 约谈

    @property
    def rank(self) -> int:
        return list(SupervisionLevel).index(self)


@dataclass(frozen=True)
class Organisation:
    """A unit of the registry. ``region_code`` ties a district or pilot zone to its GB/T 2260 code (pilot zones
    without one carry the code of the district that administers them, or none)."""

    code: str
    name_zh: str
    name_en: str
    kind: OrgKind
    parent: str | None = None
    region_code: str | None = None
    short_zh: str | None = None


@dataclass(frozen=True)
class Indicator:
    """A quantitative indicator of a measure, with its unit and the value to reach by ``year``."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    target: float | None = None
    year: int | None = None
    #: yearly milestones {year: value}
    milestones: dict[int, float] = field(default_factory=dict)
    #: where the value comes from (the plan's clause, a document) and how sure it is (verified / estimate / …)
    source: str = ""
    status: str = ""


@dataclass(frozen=True)
class Measure:
    """A 工作措施 of a task: one sentence of the plan's task paragraph by default, with its responsible units."""

    code: str  # e.g. "T05-M02"
    task: int
    seq: int
    text_zh: str
    lead: str | None = None  # organisation code
    co_units: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # organisation codes of districts / pilot zones
    deadline: date | None = None
    milestones: dict[int, str] = field(default_factory=dict)
    indicators: tuple[Indicator, ...] = ()
    text_en: str = ""

    @property
    def units(self) -> tuple[str, ...]:
        """Every organisation responsible for the measure: lead first, then co-units and districts."""
        seen: list[str] = []
        for code in (self.lead, *self.co_units, *self.districts):
            if code and code not in seen:
                seen.append(code)
        return tuple(seen)


def measure_code(task: int, seq: int) -> str:
    return f"T{task:02d}-M{seq:02d}"


_SENTENCE_END = re.compile(r"(?<=[。；;])")


def split_task_text(text_zh: str, *, min_chars: int = 12) -> list[str]:
    """The plan's own sentences of a task paragraph (the default split into measures).

    Splits after 。 and ；. A fragment shorter than ``min_chars`` (a heading or a dangling clause) is joined to
    the sentence before it, so every measure is a sentence a unit can act on. The pieces joined give the
    paragraph back exactly (whitespace aside)."""
    text = text_zh.strip()
    if not text:
        return []
    pieces = [p for p in _SENTENCE_END.split(text) if p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and len(piece.strip()) < min_chars:
            merged[-1] += piece
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[0].strip()) < min_chars:
        merged[1] = merged[0] + merged[1]
        merged.pop(0)
    return [m.strip() for m in merged]

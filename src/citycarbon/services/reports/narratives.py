"""The editable narrative sections of the yearly reports (issue 16): the city's report (``org`` None) and each
unit's own report (``org``: its organisation code).

A section never edited answers its pre-filled draft (``version`` 0, ``edited`` False); an edit is conditional on
the version the editor read (a stale version answers :class:`~citycarbon.errors.Conflict`) and audited
(``report.narrative``). Who may edit: the city's narrative ``can_generate_reports``; a unit's ``can_file_for`` that
unit (its own users, and the office as admin). Who may read: the city's ``can_read_city_report``; a unit's the unit
itself (``acts_for_org``) and the office/analysts; another unit's sections answer :class:`NotFound`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from citycarbon.auth.principal import Principal
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.store import audit
from citycarbon.store import governance as gov_store
from citycarbon.store.assessment_models import ReportNarrative
from citycarbon.store.db import Database
from citycarbon.store.types import utcnow

__all__ = ["CITY_SECTIONS", "MAX_TEXT", "UNIT_SECTIONS", "NarrativeSection", "default_text", "get_narratives",
           "narrative_texts", "set_narrative"]

#: a narrative's longest text (characters)
MAX_TEXT = 20000

#: the city report's editable sections: code → title (the document's heading or field)
CITY_SECTIONS: dict[str, str] = {
    "doc_number": "发文字号",
    "overview": "开头语",
    "problems": "八、存在的问题",
    "next_year": "九、下一年工作安排",
}

#: a unit report's editable sections
UNIT_SECTIONS: dict[str, str] = {
    "overview": "一、总体情况（补充说明）",
    "problems": "存在的问题",
    "next_year": "下一年工作安排",
}


def default_text(section: str, year: int, *, unit_name: str | None = None) -> str:
    """The pre-filled draft of ``section`` for ``year`` (the office or the unit edits it)."""
    if unit_name is None:
        drafts = {
            "doc_number": f"大碳达峰办〔{year + 1}〕N号",
            "overview": (f"按照市委、市政府关于碳达峰碳中和工作的部署，市碳达峰碳中和工作领导小组办公室会同各地区、"
                         f"各有关部门，统筹推进{year}年碳达峰碳中和各项工作。现将{year}年贯彻落实情况报告如下。"),
            "problems": ("一是部分指标完成进度滞后于序时进度，能源结构偏重的局面尚未根本改变；"
                         "二是部分统计数据仍为估算，数据基础有待夯实；"
                         "三是部分地区和部门重点任务推进不够平衡。（请办公室据实修改）"),
            "next_year": (f"{year + 1}年，将紧扣碳达峰目标，坚持先立后破，着力抓好能耗双控向碳排放双控转变、"
                          "能源结构优化、重点领域节能降碳、碳汇能力巩固提升和监督考核等工作。（请办公室据实修改）"),
        }
    else:
        drafts = {
            "overview": (f"{year}年，{unit_name}认真贯彻市委、市政府碳达峰碳中和工作部署，"
                         "各项任务有序推进。（请据实修改）"),
            "problems": "部分任务推进进度滞后，个别指标完成存在压力。（请据实修改）",
            "next_year": f"{year + 1}年，{unit_name}将对照目标任务，压实责任，确保各项任务按期完成。（请据实修改）",
        }
    return drafts[section]


@dataclass(frozen=True)
class NarrativeSection:
    """One narrative section as it stands (``version`` 0: never edited, the pre-filled draft)."""

    section: str
    title_zh: str
    text: str
    version: int
    edited: bool
    org: str | None = None
    updated_by: str = ""
    updated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unit(db: Database, principal: Principal, city: str, org: str) -> tuple[str, str | None]:
    """The unit's (name, region) when the caller may read it; NotFound otherwise (another unit's answer too)."""
    with db.session() as session:
        found = next((o for o in gov_store.current_orgs(session, city) if o.code == org), None)
    if found is None or not principal.can_access_city(city) or not principal.acts_for_org(found.code,
                                                                                            found.region_code):
        raise NotFound("没有该单位 / no such organisation", code="not_found")
    return found.name_zh, found.region_code


def _check_read(db: Database, principal: Principal, city: str, org: str | None) -> str | None:
    if org is None:
        if not principal.can_read_city_report(city):
            raise Forbidden("无权查看市级报告 / not allowed to read the city's report")
        return None
    return _unit(db, principal, city, org)[0]


def _sections(org: str | None) -> dict[str, str]:
    return CITY_SECTIONS if org is None else UNIT_SECTIONS


def get_narratives(db: Database, principal: Principal, city: str, year: int, *,
                   org: str | None = None) -> list[NarrativeSection]:
    """Every narrative section of the city's report (``org`` None) or of unit ``org``'s report for ``year``, in
    document order, each as edited or its pre-filled draft."""
    unit_name = _check_read(db, principal, city, org)
    with db.session() as session:
        rows = {r.section: r for r in session.scalars(select(ReportNarrative).where(
            ReportNarrative.city == city, ReportNarrative.year == int(year),
            ReportNarrative.org_code == (org or "")))}
    out = []
    for code, title in _sections(org).items():
        row = rows.get(code)
        if row is None:
            out.append(NarrativeSection(code, title, default_text(code, year, unit_name=unit_name), 0, False, org))
        else:
            out.append(NarrativeSection(code, title, row.text, row.version, True, org, row.updated_by,
                                        _iso(row.updated_at)))
    return out


def narrative_texts(db: Database, principal: Principal, city: str, year: int, *,
                    org: str | None = None) -> dict[str, str]:
    """``{section: text}`` (what the documents print)."""
    return {s.section: s.text for s in get_narratives(db, principal, city, year, org=org)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def set_narrative(db: Database, principal: Principal, city: str, year: int, section: str, text: str, *,
                  org: str | None = None, version: int) -> NarrativeSection:
    """Replace ``section``'s text; ``version``: the version the editor read (0 for the draft). Audited."""
    if org is None:
        if not principal.can_generate_reports(city):
            raise Forbidden("无权编辑市级报告 / not allowed to edit the city's report")
        unit_name = None
    else:
        unit_name, region = _unit(db, principal, city, org)
        if not principal.can_file_for(org, region):
            raise Forbidden("无权编辑该单位报告 / not allowed to edit this unit's report")
    sections = _sections(org)
    if section not in sections:
        raise InputError(Problem(f"unknown section {section!r} (one of {', '.join(sections)})", field="section",
                                 value=section, message_zh=f"没有该章节：{section}"))
    text = str(text).strip()
    if not text or len(text) > MAX_TEXT:
        raise InputError(Problem(f"text must have 1 to {MAX_TEXT} characters", field="text",
                                 message_zh=f"正文须为1至{MAX_TEXT}个字符"))
    del unit_name
    with db.session(write=True) as session:
        row = session.scalars(select(ReportNarrative).where(
            ReportNarrative.city == city, ReportNarrative.year == int(year),
            ReportNarrative.org_code == (org or ""), ReportNarrative.section == section)).one_or_none()
        current = 0 if row is None else row.version
        if int(version) != current:
            raise Conflict(f"该章节已被他人修改（当前版本 {current}）/ the section changed meanwhile "
                           f"(version {current}, you read {version})")
        before = None if row is None else {"text": row.text, "version": row.version}
        if row is None:
            row = ReportNarrative(city=city, year=int(year), org_code=org or "", section=section, text=text,
                                  version=1, updated_by=principal.username)
            session.add(row)
        else:
            row.text = text
            row.version = current + 1
            row.updated_by = principal.username
            row.updated_at = utcnow()
        session.flush()
        audit.record(session, principal, "report.narrative", "report_narrative", row.id, before,
                     {"city": city, "year": int(year), "org": org or "", "section": section, "text": text,
                      "version": row.version})
        return NarrativeSection(section, sections[section], row.text, row.version, True, org, row.updated_by,
                                _iso(row.updated_at))

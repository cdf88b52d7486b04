"""Each district's and department's own yearly report (issue 16), compiled into the city's.

A unit's report builds on :func:`citycarbon.services.governance.summary.unit_report` (its filings, measures and
supervision items of the year) and adds the unit's figures: a district's energy use, GDP, energy intensity and
its falls from the status report's ``districts`` entries (the same numbers as ``citycarbon status``), its
assessment score where the year's assessment is published, and its editable narrative
(:mod:`citycarbon.services.reports.narratives`).

Who may read: the unit itself (``acts_for_org``) and the office/analysts; another unit's report answers
:class:`NotFound` (as the governance draft does).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from citycarbon.auth.principal import Principal
from citycarbon.documents.gbt9704 import Block, Heading, OfficialDocument, Paragraph, Table
from citycarbon.errors import Forbidden, NotFound
from citycarbon.store import governance as gov_store
from citycarbon.store.db import Database

if TYPE_CHECKING:
    from citycarbon.services.governance.summary import UnitReport
    from citycarbon.services.reports.content import ReportInputs
    from citycarbon.services.reports.narratives import NarrativeSection

__all__ = ["UnitReportView", "unit_figures", "unit_report", "unit_report_document", "unit_summaries"]

STATUS_ZH = {"not_started": "未启动", "in_progress": "推进中", "completed": "已完成", "lagging": "滞后",
             "not_filed": "未报送"}
UNIT_KINDS = ("district", "pilot_zone", "department")


@dataclass(frozen=True)
class UnitReportView:
    """A unit's yearly report: the governance draft, the unit's figures, its assessment result (None: not
    published or not assessed) and its narrative sections."""

    governance: UnitReport
    region_code: str | None
    figures: dict[str, Any]
    assessment: dict[str, Any] | None
    narratives: list[NarrativeSection]

    def to_dict(self) -> dict[str, Any]:
        return {"governance": self.governance.to_dict(), "region_code": self.region_code, "figures": self.figures,
                "assessment": self.assessment, "narratives": [n.to_dict() for n in self.narratives]}


def unit_figures(status: dict[str, Any], region_code: str | None) -> dict[str, Any]:
    """A district's figures from the status report's ``districts`` entry ({} for a department or no entry)."""
    if not region_code:
        return {}
    for entry in status.get("districts") or []:
        if entry.get("region") == region_code:
            out: dict[str, Any] = {
                "energy_consumption_tce": entry.get("energy_consumption_tce"),
                "gdp_10k_yuan": entry.get("gdp_10k_yuan"),
                "energy_intensity_tce_per_10k_yuan": entry.get("energy_intensity_tce_per_10k_yuan"),
                "estimate": True,
            }
            for target in entry.get("targets", []):
                indicator = str(target["id"]).rsplit("_", 1)[0]
                out.setdefault(indicator, target.get("actual"))
            return out
    return {}


def _assessment_of(runs: list[dict[str, Any]], org: str) -> dict[str, Any] | None:
    for run in runs:
        for unit in run["units"]:
            if unit["unit_code"] == org:
                return {**unit, "run_id": run["run_id"], "scheme_code": run["scheme_code"]}
    return None


def _org(db: Database, city: str, org: str) -> Any:
    with db.session() as session:
        return next((o for o in gov_store.current_orgs(session, city) if o.code == org), None)


def unit_report(db: Database, principal: Principal, city: str, org: str, year: int, *,
                inputs: ReportInputs | None = None) -> UnitReportView:
    """``org``'s yearly report for ``year``. ``inputs``: the ledger data already loaded
    (:func:`citycarbon.services.reports.content.load_inputs`; default: loaded here for a district)."""
    from citycarbon.services.governance.summary import unit_report as governance_report
    from citycarbon.services.reports.content import load_inputs, published_assessment
    from citycarbon.services.reports.narratives import get_narratives

    governance = governance_report(db, principal, city, org, year)  # scope: NotFound for another unit's
    found = _org(db, city, org)
    region = found.region_code if found is not None and str(found.kind.value) != "department" else None
    figures: dict[str, Any] = {}
    if region:
        if inputs is None:
            inputs = load_inputs(db, city, year)
        figures = unit_figures(inputs.status, region)
    assessment = _assessment_of(published_assessment(db, city, year), org)
    narratives = get_narratives(db, principal, city, year, org=org)
    return UnitReportView(governance, region, figures, assessment, narratives)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _summary_zh(view: UnitReportView) -> str:
    g = view.governance
    counts = "，".join(f"{STATUS_ZH.get(k, k)}{v}项" for k, v in g.status_counts.items() if v)
    text = (f"承担工作措施{len(g.measures)}项（{counts or '无'}），应报送{g.assigned}项，按时报送{g.on_time}项"
            f"，督办事项{len(g.supervision)}件。")
    f = view.figures
    if f.get("energy_consumption_tce") is not None:
        text += (f"{g.year}年能源消费量{f['energy_consumption_tce'] / 1e4:.2f}万吨标准煤（估算），能耗强度"
                 f"{f['energy_intensity_tce_per_10k_yuan']:.4f}吨标准煤/万元，较基期累计下降"
                 f"{_pct(f.get('energy_intensity_reduction'))}。")
    if view.assessment:
        text += (f"年度考核得分{float(view.assessment['total']):.2f}分，等次{view.assessment['grade']}"
                 + ("（含估算数据）" if view.assessment.get("estimate") else "") + "。")
    return text


def unit_summaries(db: Database, principal: Principal, city: str, year: int, *,
                   inputs: ReportInputs | None = None) -> list[dict[str, Any]]:
    """Every district's, pilot zone's and department's report summary the caller may read (the city report's
    compiled section): name, counts, score, summary text and the unit's edited overview."""
    with db.session() as session:
        orgs = [o for o in gov_store.current_orgs(session, city) if o.kind.value in UNIT_KINDS]
    out = []
    for org in orgs:
        try:
            view = unit_report(db, principal, city, org.code, year, inputs=inputs)
        except (NotFound, Forbidden):
            continue
        g = view.governance
        overview = next((n for n in view.narratives if n.section == "overview"), None)
        out.append({"org": org.code, "name_zh": org.name_zh, "kind": org.kind.value, "assigned": g.assigned,
                    "on_time": g.on_time, "completed": g.status_counts.get("completed", 0),
                    "lagging": g.status_counts.get("lagging", 0),
                    "score": None if view.assessment is None else float(view.assessment["total"]),
                    "summary_zh": _summary_zh(view),
                    "overview": overview.text if overview is not None and overview.edited else "",
                    "figures": view.figures})
    return out


def unit_report_document(db: Database, principal: Principal, city: str, org: str, year: int, *,
                         inputs: ReportInputs | None = None, day: date | None = None,
                         view: UnitReportView | None = None) -> OfficialDocument:
    """The unit's report as an official document (issued by the unit to the office)."""
    view = view or unit_report(db, principal, city, org, year, inputs=inputs)
    g = view.governance
    texts = {n.section: n.text for n in view.narratives}
    body: list[Block] = [Paragraph(f"按照市碳达峰碳中和工作领导小组部署，现将{g.org_name}{year}年"
                                   "碳达峰碳中和工作贯彻落实情况报告如下。"),
                         Heading("一、总体情况", 1), Paragraph(_summary_zh(view)), Paragraph(texts["overview"])]
    f = view.figures
    if f:
        body.append(Table(["指标", "数值"], [
            ["能源消费量（万吨标准煤，估算）", f"{f['energy_consumption_tce'] / 1e4:.2f}"],
            ["地区生产总值（亿元）", f"{f['gdp_10k_yuan'] / 1e4:.2f}"],
            ["能耗强度（吨标准煤/万元）", f"{f['energy_intensity_tce_per_10k_yuan']:.4f}"],
            ["能耗强度累计下降", _pct(f.get("energy_intensity_reduction"))],
            ["二氧化碳排放强度累计下降", _pct(f.get("co2_intensity_reduction"))]], caption="表1　主要指标"))
    body.append(Heading("二、重点措施推进情况", 1))
    if g.measures:
        body.append(Table(["措施编号", "工作措施", "进展状态"],
                          [[m.code, m.text_zh, STATUS_ZH.get(m.status, m.status)] for m in g.measures],
                          caption="表2　承担措施进展情况"))
        body.extend(Paragraph(f"{m.code}：{m.narrative}") for m in g.measures if m.narrative)
    else:
        body.append(Paragraph("本年度未承担调度措施。"))
    body.append(Heading("三、考核结果", 1))
    body.append(Paragraph(f"年度考核得分{float(view.assessment['total']):.2f}分，等次{view.assessment['grade']}。"
                          if view.assessment else f"{year}年度考核结果尚未发布。"))
    body.append(Heading("四、存在的问题", 1))
    lag = [f"{m.code}：{r}" for m in g.measures for r in m.lag_reasons]
    body.extend(Paragraph(x) for x in lag)
    body.append(Paragraph(texts["problems"]))
    body.append(Heading("五、督办事项办理情况", 1))
    body.append(Table(["日期", "等级", "措施", "事由"],
                      [[s["triggered_on"], s["level_zh"], s["measure"], s["reason_zh"]] for s in g.supervision],
                      caption="表3　督办事项")
                if g.supervision else Paragraph("本年度无督办事项。"))
    body.append(Heading("六、下一年工作安排", 1))
    body.append(Paragraph(texts["next_year"]))
    return OfficialDocument(issuer=g.org_name, title=g.title_zh, body=body, day=day or date.today(),
                            recipients=g.office_zh)


def unit_payload(view: UnitReportView) -> dict[str, Any]:
    """The content a unit report's hash covers."""
    return {"governance": asdict(view.governance), "figures": view.figures, "assessment": view.assessment,
            "narratives": {n.section: n.text for n in view.narratives}}

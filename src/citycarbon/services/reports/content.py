"""The content of the city's yearly 贯彻落实情况 report (issue 16): the official document's blocks, the XLSX
annex's sheets, the headline figures, the provenance appendix and the inputs hash.

Every figure comes from the service that owns it, read from the ledger at one version:

* targets, warnings, CO2 on both bases, districts: :func:`citycarbon.services.tracking.status_report` on the
  ledger's :class:`~citycarbon.services.tracking.CityData` (the same call ``citycarbon status`` makes, so the
  report shows the same numbers);
* energy by fuel and sector, CO2 by sector, factors and method: :func:`citycarbon.services.accounting.account_city`;
* sinks: :func:`citycarbon.services.sinks.city_sinks`;
* key-unit online monitoring: :func:`citycarbon.services.monitoring.registry.stored_registry`;
* task progress: :func:`citycarbon.services.governance.summary.board`;
* projects: :func:`citycarbon.services.projects.registry.list_projects` and
  :func:`citycarbon.services.projects.energy_projects.list_energy_projects`;
* assessment: the published run of the year (:func:`published_assessment`, an adapter reading
  ``assess_runs``/``assess_scores`` read-only until ``services.assessment.runs.published_results`` exists);
* units' reports: :func:`citycarbon.services.reports.units.unit_summaries`;
* narrative: :func:`citycarbon.services.reports.narratives.get_narratives`.

``inputs_hash`` is the sha256 of the canonical JSON of the whole content model (figures, every block's text and
table, chart data, sheets, provenance, narrative), without the date it is written on and without the chart
images' bytes, so regenerating from the same ledger version gives the same hash.
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from citycarbon.auth.principal import Principal
from citycarbon.documents.annex import Sheet
from citycarbon.documents.gbt9704 import Block, Figure, Heading, OfficialDocument, Paragraph, Table
from citycarbon.errors import Forbidden, InputError, NotFound, Problem, ServiceError
from citycarbon.store.assessment_models import AssessRun, AssessScheme, AssessScore
from citycarbon.store.db import Database

__all__ = ["ISSUER", "RECIPIENTS", "CityReport", "ReportInputs", "canonical_hash", "city_report", "fmt_pct",
           "fmt_wan", "load_inputs", "published_assessment"]

ISSUER = "大连市碳达峰碳中和工作领导小组办公室"
RECIPIENTS = "市委、市政府"
ESTIMATE = "（估算）"

LEVEL_ZH = {1: "一级预警（红色）", 2: "二级预警（黄色）", 3: "三级（绿色，进展顺利）", None: "未评级"}
CELL_LEVEL_ZH = {"completed": "已完成", "in_progress": "推进中", "pending": "待报送", "not_started": "未启动",
                 "lagging": "滞后", "overdue": "逾期未报"}
PROJECT_STATE_ZH = {"draft": "草稿", "submitted": "已提交", "incomplete": "补正中", "under_review": "审查中",
                    "approved": "已通过", "approved_conditions": "有条件通过", "rejected": "未通过",
                    "commissioned": "已投产", "accepted": "已验收", "withdrawn": "已撤回"}
STAGE_ZH = {"planned": "规划", "approved": "核准/备案", "construction": "在建", "grid_connected": "并网",
            "retired": "退役"}
BASIS_ZH = {"net_inflow": "净调入电力口径", "consumption": "电力消费口径"}


# ---- formatting (the tests format the status figures the same way) ------------------------------------

def fmt_wan(value: float | None, digits: int = 2) -> str:
    """A quantity in 万 (10^4) of its unit: 38863934.5 → ``3886.39``."""
    return "—" if value is None or not math.isfinite(value) else f"{value / 1e4:.{digits}f}"


def fmt_pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: 0.15662 → ``15.66%``."""
    return "—" if value is None or not math.isfinite(value) else f"{value * 100:.{digits}f}%"


def _num(value: float | None, digits: int = 4) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _clean(value: Any) -> Any:
    """JSON-safe, deterministic values (NaN → None, numpy scalars → Python, floats rounded to 10 significant
    digits so a hash does not depend on the last bit of a sum's order)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.10g}")
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_hash(payload: Any) -> str:
    """sha256 of the canonical JSON of ``payload`` (sorted keys, no spaces, floats to 10 significant digits)."""
    text = json.dumps(_clean(payload), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- the ledger at one version ----------------------------------------------------------------------------

@dataclass
class ReportInputs:
    """What a report reads, at one ledger version (built once; the unit reports reuse it)."""

    city: str
    year: int
    ledger_version: int
    data: Any  # services.tracking.CityData
    dataset: Any  # ReferenceDataset
    status: dict[str, Any]
    memo: dict[str, Any] = field(default_factory=dict)

    def accounting(self) -> Any:
        if "accounting" not in self.memo:
            from citycarbon.services.accounting import account_city

            self.memo["accounting"] = account_city(self.year, city=self.city, dataset=self.dataset)
        return self.memo["accounting"]


def load_inputs(db: Database, city: str, year: int, *, ledger_version: int | None = None) -> ReportInputs:
    """The ledger's data at ``ledger_version`` (default: the current version) and ``year``'s status report.
    :class:`InputError` for a version the ledger never had or a year without data."""
    from citycarbon.services.cities import city_rows
    from citycarbon.services.tracking import build_city_data, status_report
    from citycarbon.store import ledger

    with db.session() as session:
        current = int(ledger.version(session))
        version = current if ledger_version is None else int(ledger_version)
        if version > current or version < 0:
            raise InputError(Problem(f"ledger version {version} does not exist (current: {current})",
                                     field="ledger_version", value=version,
                                     message_zh=f"台账版本 {version} 不存在（当前 {current}）"))
        as_of = None if version == current else ledger.version_time(session, version)
        dataset = ledger.reference_dataset(session, city, as_of=as_of)
        region = ledger.city_region(session, city)
        frames: dict[str, Any] = {}
        for name in ("monthly", "districts"):
            frame = ledger.current_frame(session, name, as_of=as_of)
            frame = city_rows(frame, name, region)
            frames[name] = None if frame is None or frame.empty else frame
    data = build_city_data(city, dataset, frames["monthly"], frames["districts"], platform=True, db=db)
    status = status_report(int(year), city=city, data=data)
    return ReportInputs(city, int(year), version, data, dataset, status)


# ---- the assessment adapter -------------------------------------------------------------------------------

def _from_runs_service(db: Database, principal: Principal, city: str, year: int) -> list[dict[str, Any]] | None:
    """The same facts from ``services.assessment.runs.published_results`` where that service exists (None
    otherwise): newest run per scheme code, units in rank order."""
    try:
        from citycarbon.services.assessment import runs  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    function = getattr(runs, "published_results", None)
    if function is None:
        return None
    out: dict[str, dict[str, Any]] = {}
    for view in function(db, principal, city, year):
        data = view.to_dict()
        run = data["run"]
        if run["scheme_code"] in out:
            continue
        units = [{"rank": r["rank"], "unit_code": r["unit_code"], "unit_name_zh": r["unit_name_zh"],
                  "unit_kind": r["unit_kind"], "region_code": r["region_code"], "total": r["total"],
                  "grade": r.get("grade_zh") or r["grade"], "estimate": bool(r["estimate"]),
                  "vetoed": bool(r["vetoed"])} for r in data["rows"]]
        units.sort(key=lambda u: (u["rank"] is None, u["rank"] or 0, u["unit_code"]))
        out[run["scheme_code"]] = {"run_id": run["id"], "scheme_code": run["scheme_code"],
                                   "scheme_version": run["scheme_version"],
                                   "scheme_name_zh": run.get("scheme_name_zh") or "考核方案",
                                   "ledger_version": run["ledger_version"], "published_at": run["published_at"],
                                   "units": units}
    return [out[code] for code in sorted(out)]


def published_assessment(db: Database, city: str, year: int, *,
                         principal: Principal | None = None) -> list[dict[str, Any]]:
    """The published assessment runs of ``year`` (newest per scheme), each ``{"run_id", "scheme_code",
    "ledger_version", "published_at", "units": [{"rank", "unit_code", "unit_name_zh", "unit_kind", "region_code",
    "total", "grade", "estimate", "vetoed"}]}``; [] when none is published.

    An adapter reading ``assess_runs``/``assess_scores`` read-only (``state == "published"``), to be replaced by
    ``services.assessment.runs.published_results``: with ``principal`` given and that service present, its answer
    is used instead (the same facts)."""
    if principal is not None:
        found = _from_runs_service(db, principal, city, year)
        if found is not None:
            return found
    with db.session() as session:
        runs = list(session.scalars(select(AssessRun).where(
            AssessRun.city == city, AssessRun.year == int(year), AssessRun.state == "published")
            .order_by(AssessRun.scheme_code, AssessRun.id.desc())))
        newest: dict[str, AssessRun] = {}
        for run in runs:
            newest.setdefault(run.scheme_code, run)
        out = []
        for code in sorted(newest):
            run = newest[code]
            scores = session.scalars(select(AssessScore).where(AssessScore.run_id == run.id)).all()
            units = sorted(({"rank": s.rank, "unit_code": s.unit_code, "unit_name_zh": s.unit_name_zh,
                             "unit_kind": s.unit_kind, "region_code": s.region_code, "total": s.total,
                             "grade": str((s.result or {}).get("grade_zh") or s.grade),
                             "estimate": bool(s.estimate), "vetoed": bool(s.vetoed)}
                            for s in scores), key=lambda u: (u["rank"] is None, u["rank"] or 0, u["unit_code"]))
            scheme = session.scalars(select(AssessScheme).where(
                AssessScheme.city == city, AssessScheme.code == run.scheme_code,
                AssessScheme.version == run.scheme_version)).first()
            out.append({"run_id": run.id, "scheme_code": run.scheme_code, "scheme_version": run.scheme_version,
                        "scheme_name_zh": scheme.name_zh if scheme is not None else "考核方案",
                        "ledger_version": run.ledger_version,
                        "published_at": run.published_at.isoformat() if run.published_at else None,
                        "units": units})
    return out


# ---- charts (citycarbon.documents.charts; absent until that module is merged) ----------------------------

def _chart(kind: str, *args: Any, **kwargs: Any) -> bytes | None:
    try:
        from citycarbon.documents import charts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    function = getattr(charts, kind, None)
    if function is None:
        return None
    png: bytes = function(*args, **kwargs)
    return png


# ---- the report -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CityReport:
    """The city's report for a year: the document, the annex's sheets, the headline figures, the provenance
    appendix (label, value) and the hash of all of it."""

    year: int
    ledger_version: int
    document: OfficialDocument
    sheets: list[Sheet]
    figures: dict[str, Any]
    provenance: list[tuple[str, str]]
    inputs_hash: str
    assessment_run_id: int | None = None
    charts: dict[str, Any] = field(default_factory=dict)  # the data behind each chart (hashed, not the PNG)


class _Builder:
    """Collects blocks, sheets and chart data in document order."""

    def __init__(self) -> None:
        self.body: list[Block] = []
        self.sheets: list[Sheet] = []
        self.charts: dict[str, Any] = {}
        self.tables = 0
        self.figures = 0

    def heading(self, text: str, level: int = 1) -> None:
        self.body.append(Heading(text, level))

    def para(self, text: str) -> None:
        self.body.append(Paragraph(text))

    def table(self, sheet_name: str, title: str, header: list[str], rows: list[list[Any]], *,
              formats: list[str | None] | None = None, notes: list[str] | None = None,
              shown: list[list[str]] | None = None, shown_header: list[str] | None = None) -> None:
        """A table in the document (``shown``/``shown_header``: its text cells and header; default: the values as
        text under the sheet's header) and in the annex."""
        text_rows = shown if shown is not None else [["" if v is None else str(v) for v in row] for row in rows]
        if text_rows:  # an empty table stays a sheet of the annex (its text says there is nothing)
            self.tables += 1
            self.body.append(Table(shown_header or header, text_rows, caption=f"表{self.tables}　{title}"))
        self.sheets.append(Sheet(sheet_name[:31], title, header, rows, formats or [], notes or []))

    def chart(self, key: str, kind: str, caption: str, data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.charts[key] = {"kind": kind, "caption": caption, **data}
        png = _chart(kind, *args, **kwargs)
        if png is not None:
            self.figures += 1
            self.body.append(Figure(png, f"图{self.figures}　{caption}"))


def _target_actual(status: dict[str, Any], indicator: str) -> dict[str, Any] | None:
    for row in status.get("targets", []):
        if row.get("indicator") == indicator and row.get("actual") is not None:
            return dict(row)
    return None


def _estimated(inputs: ReportInputs, table: str) -> bool:
    origin = inputs.data.origins.get((table, inputs.year)) if inputs.data.origins else None
    if origin:
        statuses = origin.get("statuses") or {}
        if isinstance(statuses, dict):
            return any(str(k) == "estimate" for k in statuses)
        return "estimate" in str(statuses)
    return any(str(e).startswith(f"{table}:") for e in inputs.data.estimates)


def headline_figures(inputs: ReportInputs) -> dict[str, Any]:
    """The figures the report's text states, as ``citycarbon status --year Y --format json`` gives them."""
    status, series, year = inputs.status, inputs.data.series, inputs.year

    def value(name: str) -> float | None:
        got = series.get(name, {}).get(year)
        return None if got is None else float(got)

    def actual(indicator: str) -> float | None:
        row = _target_actual(status, indicator)
        return None if row is None else float(row["actual"])

    bases = status.get("co2_bases") or {}
    figures: dict[str, Any] = {
        "year": year,
        "energy_consumption_tce": value("energy_consumption_tce"),
        "gdp_10k_yuan": value("gdp_10k_yuan"),
        "energy_intensity_tce_per_10k_yuan": value("energy_intensity_tce_per_10k_yuan"),
        "energy_intensity_reduction": actual("energy_intensity_reduction"),
        "co2_intensity_reduction": actual("co2_intensity_reduction"),
        "non_fossil_share": actual("non_fossil_share"),
        "wind_solar_capacity_mw": actual("wind_solar_capacity_mw"),
        "forest_coverage": actual("forest_coverage"),
        "co2": {basis: {"co2_emissions_t": b.get("co2_emissions_t"),
                        "co2_intensity_t_per_10k_yuan": b.get("co2_intensity_t_per_10k_yuan")}
                for basis, b in sorted(bases.items())},
        "co2_basis": (status.get("headline") or {}).get("basis"),
        "levels": {row["id"]: row.get("level") for row in status.get("targets", [])},
        "summary": dict(status.get("summary") or {}),
        "estimates": list(status.get("estimates") or []),
        "units": {"energy_consumption_tce": "tce", "gdp_10k_yuan": "10^4 CNY",
                  "energy_intensity_tce_per_10k_yuan": "tce/(10^4 CNY)", "energy_intensity_reduction": "1",
                  "co2_intensity_reduction": "1", "non_fossil_share": "1", "wind_solar_capacity_mw": "MW",
                  "forest_coverage": "1", "co2_emissions_t": "t", "co2_intensity_t_per_10k_yuan": "t/(10^4 CNY)"},
    }
    previous = series.get("energy_intensity_tce_per_10k_yuan", {}).get(year - 1)
    current = figures["energy_intensity_tce_per_10k_yuan"]
    figures["energy_intensity_reduction_yoy"] = (1 - current / previous) if previous and current else None
    return figures


def _value_text(row: dict[str, Any], key: str) -> str:
    raw = row.get(key)
    if raw is None:
        return "待下达" if key == "target_value" else "—"
    unit = str(row.get("unit") or "")
    if unit in ("dimensionless", "1", ""):
        return fmt_pct(float(raw)) if abs(float(raw)) <= 1.5 else _num(float(raw), 2)
    if unit == "year":
        return f"{int(raw)}年"
    if unit == "MW":
        return f"{float(raw) / 10:.2f}万千瓦"
    if unit in ("t", "m**3", "m3"):
        return f"{fmt_wan(float(raw))}万{'吨' if unit == 't' else '立方米'}"
    return f"{_num(float(raw), 4)} {unit}"


def _section_targets(b: _Builder, inputs: ReportInputs, figures: dict[str, Any]) -> None:
    status = inputs.status
    b.heading("一、总体情况")
    counts = status.get("summary") or {}
    b.para(f"对照《大连市碳达峰实施方案》确定的{len(status.get('targets', []))}项目标，"
           f"按{status.get('rule_set_document')}"
           f"规则评价：一级预警{counts.get('1', 0)}项，二级预警{counts.get('2', 0)}项，进展顺利{counts.get('3', 0)}项，"
           f"目标值待下达或暂无评价{counts.get('unrated', 0)}项。")
    est = ESTIMATE if status.get("estimates") else ""
    b.para(f"{inputs.year}年，全市能源消费总量{fmt_wan(figures['energy_consumption_tce'])}万吨标准煤{est}，"
           f"单位地区生产总值能耗{_num(figures['energy_intensity_tce_per_10k_yuan'])}吨标准煤/万元，"
           f"较{status['targets'][0].get('base_year', '基期') if status.get('targets') else '基期'}年累计下降"
           f"{fmt_pct(figures['energy_intensity_reduction'])}；单位地区生产总值二氧化碳排放累计下降"
           f"{fmt_pct(figures['co2_intensity_reduction'])}；非化石能源消费比重{fmt_pct(figures['non_fossil_share'])}；"
           f"风电、光伏装机{_mw(figures['wind_solar_capacity_mw'])}；森林覆盖率{fmt_pct(figures['forest_coverage'])}。")
    warned = [r for r in status.get("targets", []) if r.get("level") in (1, 2)]
    if warned:
        b.para("预警指标：" + "；".join(f"{r['title_zh']}（{LEVEL_ZH[r['level']]}）" for r in warned) + "。")
    rows, shown = [], []
    for r in status.get("targets", []):
        rows.append([r["title_zh"], r.get("target_year"), r.get("target_value"), r.get("actual_year"),
                     r.get("actual"), r.get("level"), r.get("reason") or ""])
        shown.append([r["title_zh"], str(r.get("target_year") or ""), _value_text(r, "target_value"),
                      str(r.get("actual_year") or ""), _value_text(r, "actual"),
                      LEVEL_ZH.get(r.get("level"), "未评级")])
    b.table("目标进度与预警", f"{inputs.year}年目标进度与预警", [
        "指标", "目标年（年）", "目标值（指标单位，比例为小数）", "实际年（年）", "实际值（指标单位，比例为小数）",
        "预警等级（1红 2黄 3绿）", "说明"], rows, shown=shown,
        shown_header=["指标", "目标年", "目标值", "实际年", "实际值", "预警等级"],
        formats=[None, "0", "0.0000", "0", "0.0000", "0", None], notes=[str(status.get("rule_set_document") or "")])


def _mw(value: float | None) -> str:
    return "—" if value is None else f"{value / 10:.2f}万千瓦"


def _section_energy(b: _Builder, inputs: ReportInputs, figures: dict[str, Any]) -> None:
    year, series = inputs.year, inputs.data.series
    result = inputs.accounting()
    est = ESTIMATE if _estimated(inputs, "balance") or result.provenance.estimates else ""
    b.heading("二、能源消费和碳排放")
    co2 = figures["co2"]
    net = co2.get("net_inflow", {})
    cons = co2.get("consumption", {})
    b.para(f"{year}年全市能源消费总量{fmt_wan(figures['energy_consumption_tce'])}万吨标准煤{est}，"
           f"比上年单位地区生产总值能耗下降{fmt_pct(figures['energy_intensity_reduction_yoy'])}。"
           f"二氧化碳排放量按{BASIS_ZH['net_inflow']}为{fmt_wan(net.get('co2_emissions_t'))}万吨{est}，"
           f"按{BASIS_ZH['consumption']}为{fmt_wan(cons.get('co2_emissions_t'))}万吨{est}；"
           f"单位地区生产总值二氧化碳排放分别为{_num(net.get('co2_intensity_t_per_10k_yuan'))}吨/万元和"
           f"{_num(cons.get('co2_intensity_t_per_10k_yuan'))}吨/万元。")
    years = sorted(y for y in series.get("energy_consumption_tce", {}) if y <= year)[-10:]
    energy = [series["energy_consumption_tce"].get(y) for y in years]
    co2_series = [series.get("co2_emissions_t", {}).get(y) for y in years]
    b.chart("energy_co2_trend", "line_chart", f"{years[0] if years else ''}—{year}年能源消费总量和二氧化碳排放量",
            {"years": years, "energy_wan_tce": [None if v is None else v / 1e4 for v in energy],
             "co2_wan_t": [None if v is None else v / 1e4 for v in co2_series]},
            years, {"能源消费总量（万吨标准煤）": [None if v is None else v / 1e4 for v in energy],
                    "二氧化碳排放量（万吨）": [None if v is None else v / 1e4 for v in co2_series]},
            title="能源消费总量和二氧化碳排放量", unit="万吨")
    b.table("能耗与排放历年", "能源消费总量和二氧化碳排放量历年数据",
            ["年份（年）", "能源消费总量（万吨标准煤）",
             f"二氧化碳排放量（万吨，{BASIS_ZH.get(inputs.data.basis, '')}）"],
            [[y, None if e is None else round(e / 1e4, 2), None if c is None else round(c / 1e4, 2)]
             for y, e, c in zip(years, energy, co2_series, strict=True)],
            formats=["0", "0.00", "0.00"])
    fuels = result.by_fuel_group
    b.table("分品种能源消费", f"{year}年分品种能源消费和二氧化碳排放",
            ["品种", "能源消费量（万吨标准煤）", "占比（%）", "二氧化碳排放量（万吨）"],
            [[r.name_zh, round(float(r.energy_tce) / 1e4, 2), round(float(r.share) * 100, 2),
              round(float(r.co2_t) / 1e4, 2)] for r in fuels.itertuples()],
            formats=[None, "0.00", "0.00", "0.00"], notes=[f"估算：{e}" for e in result.provenance.estimates])
    sectors = result.by_sector
    co2_rows = {r.sector: float(r.co2_t) for r in result.co2_by_sector.itertuples()}
    b.table("分行业能源消费和排放", f"{year}年分行业能源消费和二氧化碳排放",
            ["行业", "能源消费量（万吨标准煤）", "二氧化碳排放量（万吨）"],
            [[r.name_zh, round(float(r.energy_tce) / 1e4, 2), round(co2_rows.get(r.sector, float(r.co2_t)) / 1e4, 2)]
             for r in sectors.itertuples()], formats=[None, "0.00", "0.00"])
    top = sectors.sort_values("energy_tce", ascending=False).head(8)
    names = [str(n) for n in top["name_zh"]]
    b.chart("sector_stack", "stacked_bar_chart", f"{year}年主要行业能源消费和二氧化碳排放",
            {"categories": names, "energy_wan_tce": [round(float(v) / 1e4, 2) for v in top["energy_tce"]],
             "co2_wan_t": [round(co2_rows.get(s, 0.0) / 1e4, 2) for s in top["sector"]]},
            names, {"能源消费量（万吨标准煤）": [float(v) / 1e4 for v in top["energy_tce"]],
                    "二氧化碳排放量（万吨）": [co2_rows.get(s, 0.0) / 1e4 for s in top["sector"]]},
            title="主要行业能源消费和二氧化碳排放", unit="万吨")
    b.table("排放两种口径", f"{year}年二氧化碳排放（两种电力口径）",
            ["口径", "二氧化碳排放量（万吨）", "单位地区生产总值二氧化碳排放（吨/万元）"],
            [[BASIS_ZH.get(k, k), None if v.get("co2_emissions_t") is None else round(v["co2_emissions_t"] / 1e4, 2),
              None if v.get("co2_intensity_t_per_10k_yuan") is None else round(v["co2_intensity_t_per_10k_yuan"], 4)]
             for k, v in co2.items()], formats=[None, "0.00", "0.0000"])
    districts = inputs.status.get("districts") or []
    if districts:
        rows = []
        for d in districts:
            falls = {t["id"].rsplit("_", 1)[0]: t.get("actual") for t in d.get("targets", [])}
            rows.append([d["name_zh"], round(d["energy_consumption_tce"] / 1e4, 2),
                         round(d["gdp_10k_yuan"] / 1e4, 2), round(d["energy_intensity_tce_per_10k_yuan"], 4),
                         None if falls.get("energy_intensity_reduction") is None
                         else round(falls["energy_intensity_reduction"] * 100, 2)])
        b.table("各地区能耗", f"{year}年各地区能源消费和能耗强度{ESTIMATE}",
                ["地区", "能源消费量（万吨标准煤）", "地区生产总值（亿元）", "能耗强度（吨标准煤/万元）",
                 "能耗强度累计下降（%）"], rows, formats=[None, "0.00", "0.00", "0.0000", "0.00"],
                notes=["地区数据按分解比例估算"])


def _section_sinks(b: _Builder, inputs: ReportInputs) -> dict[str, Any]:
    from citycarbon.services.sinks import city_sinks

    b.heading("三、碳汇")
    try:
        sinks = city_sinks(inputs.year, inputs.city, dataset=inputs.dataset)
    except InputError as error:
        b.para(f"{inputs.year}年碳汇数据尚未录入（{error}）。")
        return {}
    forest = sinks.get("forest") or {}
    est = ESTIMATE if (sinks.get("provenance") or {}).get("estimates") else ""
    b.para(f"{inputs.year}年全市森林覆盖率{fmt_pct(forest.get('coverage'))}，森林蓄积量{fmt_wan(forest.get('stock_m3'))}"
           f"万立方米{est}，森林碳汇{fmt_wan(forest.get('sink_tco2'))}万吨二氧化碳{est}；湿地和海洋（蓝碳）碳汇"
           f"{fmt_wan(sinks.get('wetland_sink_tco2'))}万吨二氧化碳{est}；合计{fmt_wan(sinks.get('total_sink_tco2'))}"
           f"万吨二氧化碳。")
    names = {"salt_marsh": "盐沼", "seagrass": "海草床", "tidal_flat": "滩涂", "inland_natural": "内陆自然湿地",
             "artificial": "人工湿地"}
    rows: list[list[Any]] = [["森林", forest.get("area_ha"), None if forest.get("sink_tco2") is None
                              else round(forest["sink_tco2"] / 1e4, 2)]]
    for w in sinks.get("wetland") or []:
        rows.append([names.get(w["ecosystem"], w["ecosystem"]), w.get("area_ha"),
                     None if w.get("sink_tco2") is None else round(w["sink_tco2"] / 1e4, 2)])
    b.table("碳汇", f"{inputs.year}年森林、湿地和海洋碳汇{est}", ["类型", "面积（公顷）", "碳汇量（万吨二氧化碳/年）"],
            rows, formats=[None, "#,##0", "0.00"], notes=[str((sinks.get("provenance") or {}).get("method", ""))])
    return {"forest_sink_tco2": forest.get("sink_tco2"), "wetland_sink_tco2": sinks.get("wetland_sink_tco2"),
            "total_sink_tco2": sinks.get("total_sink_tco2"), "forest_stock_m3": forest.get("stock_m3")}


def _section_monitoring(b: _Builder, db: Database, inputs: ReportInputs) -> dict[str, Any]:
    from citycarbon.services.monitoring.registry import stored_registry

    b.heading("四、重点用能单位在线监测")
    try:
        registry = stored_registry(db)
    except (InputError, ServiceError):
        b.para("重点用能单位名录尚未导入平台，在线监测覆盖情况暂无数据。")
        return {"enterprises": 0, "connected": 0}
    enterprises = registry.enterprises
    connected = set(str(e) for e in registry.points["enterprise_id"].unique()) if len(registry.points) else set()
    total = len(enterprises)
    online = sum(1 for e in enterprises["enterprise_id"] if str(e) in connected)
    b.para(f"纳入平台的重点用能单位{total}家，已接入能耗在线监测{online}家，接入率"
           f"{fmt_pct(online / total if total else None)}；计量点位{len(registry.points)}个。")
    by_tier: dict[int, list[int]] = {}
    for row in enterprises.itertuples():
        tier = int(row.tier) if row.tier == row.tier else 0
        slot = by_tier.setdefault(tier, [0, 0])
        slot[0] += 1
        slot[1] += int(str(row.enterprise_id) in connected)
    tier_zh = {1: "年综合能耗1万吨标准煤以上", 2: "年综合能耗5000吨至1万吨标准煤", 0: "其他"}
    b.table("在线监测覆盖", "重点用能单位在线监测覆盖情况",
            ["类别", "单位数（家）", "已接入（家）", "接入率（%）"],
            [[tier_zh.get(t, str(t)), n, c, round(c / n * 100, 2) if n else None]
             for t, (n, c) in sorted(by_tier.items())],
            formats=[None, "0", "0", "0.00"])
    return {"enterprises": total, "connected": online, "points": len(registry.points)}


def _section_tasks(b: _Builder, db: Database, principal: Principal, inputs: ReportInputs) -> dict[str, Any]:
    from citycarbon.services.governance.summary import board

    b.heading("五、重点任务推进情况")
    try:
        view = board(db, principal, inputs.city, today=date(inputs.year, 12, 31))
    except (Forbidden, NotFound):
        b.para("重点任务调度数据暂无。")
        return {}
    if not view.task_levels:
        b.para("重点任务分工和调度尚未录入平台。")
        return {}
    levels = list(CELL_LEVEL_ZH)
    rows = [[f"重点任务{task}", *[view.task_levels.get(task, {}).get(level, 0) for level in levels]]
            for task in view.tasks]
    shown = [[str(v) for v in row] for row in rows if any(row[1:])]  # the document lists the tasks with units
    totals = {level: sum(view.task_levels.get(t, {}).get(level, 0) for t in view.tasks) for level in levels}
    b.para(f"按年末调度情况，{len(view.tasks)}项重点任务涉及的责任单位中，已完成{totals['completed']}个、"
           f"推进中{totals['in_progress']}个、滞后{totals['lagging']}个、逾期未报{totals['overdue']}个。")
    for progress in view.city_progress:
        b.para(f"{progress.title_zh}：应报{progress.assigned}项，已报{progress.filed}项，逾期{progress.late}项。")
    b.table("重点任务", "重点任务推进情况（责任单位数）",
            ["任务", *[f"{CELL_LEVEL_ZH[x]}（个）" for x in levels]], rows, shown=shown,
            formats=[None, *["0"] * len(levels)])
    return {"tasks": len(view.tasks), **{f"cells_{k}": v for k, v in totals.items()}}


def _section_projects(b: _Builder, db: Database, principal: Principal, inputs: ReportInputs) -> dict[str, Any]:
    from citycarbon.services.projects.energy_projects import list_energy_projects
    from citycarbon.services.projects.registry import STATES, list_projects

    b.heading("六、项目节能审查")
    counts = {state: list_projects(db, principal, inputs.city, state=state, limit=1).total for state in STATES}
    total = sum(counts.values())
    b.para(f"平台登记固定资产投资项目{total}个，其中审查中{counts.get('under_review', 0)}个，通过（含有条件通过）"
           f"{counts.get('approved', 0) + counts.get('approved_conditions', 0)}个，"
           f"未通过{counts.get('rejected', 0)}个，"
           f"已投产{counts.get('commissioned', 0) + counts.get('accepted', 0)}个。")
    b.table("项目节能审查", "项目节能审查情况", ["状态", "项目数（个）"],
            [[PROJECT_STATE_ZH.get(s, s), n] for s, n in counts.items() if n], formats=[None, "0"])
    try:
        energy = list_energy_projects(db, principal, inputs.city)
    except (Forbidden, NotFound):
        energy = []
    stages: dict[str, list[float]] = {}
    for p in energy:
        if p.counts_wind_solar:
            slot = stages.setdefault(p.stage, [0, 0.0])
            slot[0] += 1
            slot[1] += float(p.capacity_mw)
    if stages:
        b.para("风电、光伏项目：" + "；".join(f"{STAGE_ZH.get(s, s)}{int(v[0])}个、{v[1] / 10:.2f}万千瓦"
                                          for s, v in sorted(stages.items())) + "。")
    b.table("风电光伏项目", "风电、光伏项目登记情况", ["阶段", "项目数（个）", "装机容量（兆瓦）"],
            [[STAGE_ZH.get(s, s), int(v[0]), round(v[1], 2)] for s, v in sorted(stages.items())],
            formats=[None, "0", "0.00"])
    return {"projects": counts, "wind_solar": {s: [int(v[0]), v[1]] for s, v in sorted(stages.items())}}


def _section_assessment(b: _Builder, db: Database, principal: Principal, inputs: ReportInputs
                        ) -> tuple[dict[str, Any], int | None]:
    b.heading("七、考核结果")
    runs = published_assessment(db, inputs.city, inputs.year, principal=principal)
    if not runs:
        b.para(f"{inputs.year}年度考核结果尚未发布。")
        return {"published": False}, None
    for index, run in enumerate(runs, start=1):
        units = run["units"]
        est_units = [u["unit_name_zh"] for u in units if u["estimate"]]
        scheme = f"{run['scheme_name_zh']}（第{run['scheme_version']}版）"
        b.para(f"{inputs.year}年度考核（{scheme}）结果已发布，共考核{len(units)}个单位。"
               + (f"其中{'、'.join(est_units)}的得分部分依据估算数据{ESTIMATE}。" if est_units else ""))
        b.table("考核结果" if index == 1 else f"考核结果{index}", f"{inputs.year}年度考核结果（{scheme}）",
                ["名次", "单位", "得分（分）", "等次", "估算"],
                [[u["rank"], u["unit_name_zh"], float(u["total"]), u["grade"], "是" if u["estimate"] else ""]
                 for u in units], formats=["0", None, "0.00", None, None])
        names = [u["unit_name_zh"] for u in units]
        totals = [float(u["total"]) for u in units]
        b.chart(f"assessment_{run['scheme_code']}", "bar_chart", f"{inputs.year}年度考核得分（{scheme}）",
                {"categories": names, "values": totals}, names, totals, title="考核得分", unit="分",
                highlight=[u["grade"] == "不合格" for u in units])
    return {"published": True, "runs": runs}, runs[0]["run_id"]


def _section_units(b: _Builder, db: Database, principal: Principal, inputs: ReportInputs) -> list[dict[str, Any]]:
    from citycarbon.services.reports.units import unit_summaries

    summaries = unit_summaries(db, principal, inputs.city, inputs.year, inputs=inputs)
    if not summaries:
        return []
    b.heading("（附）各地区、各部门贯彻落实情况", 2)
    for s in summaries:
        b.heading(s["name_zh"], 3)
        b.para(s["summary_zh"])
        if s.get("overview"):
            b.para(s["overview"])
    b.table("各单位报告", "各地区、各部门贯彻落实情况汇总",
            ["单位", "应报任务（项）", "按时报送（项）", "已完成（项）", "滞后（项）", "考核得分（分）"],
            [[s["name_zh"], s["assigned"], s["on_time"], s["completed"], s["lagging"], s["score"]] for s in summaries],
            formats=[None, "0", "0", "0", "0", "0.00"])
    return summaries


def _provenance(inputs: ReportInputs, method_versions: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [("台账版本", str(inputs.ledger_version)), ("报告年度", str(inputs.year))]
    for (table, year), origin in sorted(inputs.data.origins.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if year != inputs.year:
            continue
        sources = origin.get("sources") or []
        statuses = origin.get("statuses") or {}
        out.append((f"数据批次：{table}（{year}年）",
                    f"{origin.get('origin', '')}；来源 {'、'.join(str(s) for s in sources) or '—'}；"
                    f"状态 {json.dumps(_clean(statuses), ensure_ascii=False, sort_keys=True)}"))
    result = inputs.accounting()
    prov = result.provenance
    for name, digest in sorted((prov.inputs or {}).items()):
        out.append((f"输入数据：{name}", str(digest)))
    for name, digest in sorted((prov.factor_tables or {}).items()):
        out.append((f"排放因子表（{name}）", str(digest)))
    used = sorted({(f.factor_id, f.status) for f in result.factor_rows.values()}) if result.factor_rows else []
    if used:
        out.append(("采用的因子", "、".join(f"{fid}（{st}）" for fid, st in used)))
    for fallback in prov.fallbacks or []:
        out.append(("因子替代", str(fallback.get("text_zh", ""))))
    out.append(("核算方法", f"{prov.method}（{prov.method_version}）"))
    for name, version in sorted(method_versions.items()):
        out.append((name, version))
    out.append(("预警规则", str(inputs.status.get("rule_set_document") or inputs.status.get("rule_set"))))
    for line in inputs.status.get("estimates") or []:
        out.append(("估算说明", str(line)))
    return out


def _block_dict(block: Block) -> dict[str, Any]:
    if isinstance(block, Figure):
        return {"figure": block.caption}
    if isinstance(block, Table):
        return {"table": block.caption, "header": block.header, "rows": block.rows}
    if isinstance(block, Heading):
        return {"heading": block.text, "level": block.level}
    return {"paragraph": block.text}


def city_report(db: Database, principal: Principal, city: str, year: int, *, ledger_version: int | None = None,
                inputs: ReportInputs | None = None, day: date | None = None) -> CityReport:
    """The city's 贯彻落实情况 report for ``year`` from the ledger at ``ledger_version`` (default: current).
    ``can_generate_reports`` (the office and analysts; readers download the stored documents); :class:`Forbidden`
    otherwise. ``inputs``: the data
    already loaded by :func:`load_inputs` (one load for several formats); ``day``: 成文日期 (default today;
    not part of the hash)."""
    from citycarbon.services.reports.narratives import get_narratives

    if not principal.can_generate_reports(city):
        raise Forbidden("无权生成市级报告 / not allowed to generate the city's report")
    if inputs is None:
        inputs = load_inputs(db, city, year, ledger_version=ledger_version)
    narrative = {s.section: s.text for s in get_narratives(db, principal, city, year)}
    figures = headline_figures(inputs)
    b = _Builder()
    b.para(narrative["overview"])
    _section_targets(b, inputs, figures)
    _section_energy(b, inputs, figures)
    figures["sinks"] = _section_sinks(b, inputs)
    figures["monitoring"] = _section_monitoring(b, db, inputs)
    figures["tasks"] = _section_tasks(b, db, principal, inputs)
    figures["projects"] = _section_projects(b, db, principal, inputs)
    figures["assessment"], run_id = _section_assessment(b, db, principal, inputs)
    figures["units"] = _section_units(b, db, principal, inputs)
    b.heading("八、存在的问题")
    for line in narrative["problems"].split("\n"):
        if line.strip():
            b.para(line.strip())
    b.heading("九、下一年工作安排")
    for line in narrative["next_year"].split("\n"):
        if line.strip():
            b.para(line.strip())
    result = inputs.accounting()
    method_versions = {"核算软件版本": str(result.provenance.software_version),
                       "考核方案": "、".join(f"{r['scheme_code']} v{r['scheme_version']}"
                                         for r in figures["assessment"].get("runs", [])) or "未发布"}
    provenance = _provenance(inputs, method_versions)
    b.body.append(Heading("附件　数据来源和方法说明", 1))
    b.body.append(Table(["项目", "内容"], [[k, v] for k, v in provenance], caption="数据批次、因子版本和方法版本"))
    # the annex's provenance sheet is render_xlsx's own (数据来源与版本, from ``provenance``)
    document = OfficialDocument(
        issuer=ISSUER, title=f"关于{year}年碳达峰碳中和工作贯彻落实情况的报告", body=b.body,
        day=day or date.today(), doc_number=narrative["doc_number"], recipients=RECIPIENTS,
        attachments=["数据来源和方法说明"], printed_by=ISSUER)
    payload = {"year": year, "ledger_version": inputs.ledger_version, "title": document.title,
               "doc_number": document.doc_number, "body": [_block_dict(x) for x in b.body],
               "sheets": [{"name": s.name, "title": s.title, "header": s.header, "rows": s.rows, "notes": s.notes}
                          for s in b.sheets], "figures": figures, "charts": b.charts, "provenance": provenance,
               "narrative": narrative}
    return CityReport(year, inputs.ledger_version, document, b.sheets, _clean(figures), provenance,
                      canonical_hash(payload), run_id, _clean(b.charts))

"""Fact collectors from supervision, monitoring and the project gate (issue 16; see
:mod:`citycarbon.services.assessment.facts` for the contract and docs/assessment.md, section "Facts from
supervision, monitoring and the project gate", for every definition).

Three families, each read with a fixed number of queries for all the units of a run (never per unit), each
cached in the run's memo:

* **supervision** (issue 14, ``gov_*``): ``filing_on_time_rate``, ``measures_on_track_share``,
  ``indicator_milestone_rate``, ``supervision_weight`` (every unit kind);
* **monitoring** (the registry of key energy-using units and the meter lake): ``monitoring_online_rate``,
  ``monitoring_quality_rate`` (districts and pilot zones, by their GB/T 2260 ``region_code``);
* **projects** (issue 15, ``proj_*``): ``project_violations``, ``prohibited_approved`` (districts and pilot
  zones, by the projects' ``region_code``).

As of ``ctx.as_of``: a round opened after it, a filing state saved after it (``gov_filing_versions``), a
supervision item created after it (its level then: the ``escalate`` rows of the audit log), a project event after
it, and a lake batch committed after it are not counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import and_, extract, select

from citycarbon.assessment import Fact
from citycarbon.data import data_path
from citycarbon.governance import summary as agg
from citycarbon.governance.model import Measure, MeasureStatus, SupervisionLevel
from citycarbon.services.assessment.facts import FactContext, Unit, collector
from citycarbon.store import governance as gov_store
from citycarbon.store.governance_models import (
    GovFiling,
    GovFilingVersion,
    GovRound,
    GovRoundAssignment,
    GovSupervisionItem,
)
from citycarbon.store.models import AuditEntry
from citycarbon.store.project_models import ProjEvent, ProjProject

__all__ = ["ON_TRACK_STATUSES", "SupervisionWeights", "monitoring_facts", "project_facts", "supervision_facts",
           "supervision_weights"]

#: deadlines, triggering days and project dates are local dates of the city
CITY_TZ = ZoneInfo("Asia/Shanghai")
#: the unit kinds assessed on their territory (key units and projects by ``region_code``)
TERRITORIAL = frozenset({"district", "pilot_zone"})
#: the governance statuses that count as "completed or on track" (已完成、推进中: the round's 按进度推进);
#: not_started (未启动), lagging (滞后) and no counted filing (未报送) do not
ON_TRACK_STATUSES: tuple[str, ...] = (MeasureStatus.completed.value, MeasureStatus.in_progress.value)
#: approval decisions of the 节能审查 workflow (projects/workflow.py Action)
APPROVALS = frozenset({"approve", "approve_conditions"})


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _local_day(moment: datetime | None) -> date | None:
    return None if moment is None else _utc(moment).astimezone(CITY_TZ).date()


def _parse_moment(text: object) -> datetime | None:
    if not text:
        return None
    try:
        return _utc(datetime.fromisoformat(str(text)))
    except ValueError:
        return None


def _na(note_zh: str, note_en: str, unit: str = "dimensionless") -> Fact:
    return Fact(None, unit=unit, note_zh=note_zh, note_en=note_en, applicable=False)


# ==== supervision (issue 14) ==================================================================================

@dataclass(frozen=True)
class SupervisionWeights:
    """``data/assessment/supervision_weights.yaml``: the weight of an item per level, with its document."""

    weights: Mapping[str, float]
    document: str
    status: str
    unit: str = "item"


@cache
def supervision_weights() -> SupervisionWeights:
    raw = yaml.safe_load(data_path("assessment/supervision_weights.yaml").read_text(encoding="utf-8")) or {}
    weights = {str(k): float(v) for k, v in (raw.get("weights") or {}).items()}
    missing = [level.value for level in SupervisionLevel if level.value not in weights]
    if missing:
        raise ValueError(f"supervision_weights.yaml: no weight for level(s) {', '.join(missing)}")
    return SupervisionWeights(weights, str(raw.get("document") or ""), str(raw.get("status") or ""),
                              str(raw.get("unit") or "item"))


@dataclass
class _Supervision:
    """What the supervision family read once for all the units of a run."""

    year: int
    today: date  # ctx.as_of as a local date
    rounds: dict[int, agg.RoundFacts] = field(default_factory=dict)
    assignments: dict[str, list[agg.Assignment]] = field(default_factory=dict)  # unit → assignments of the year
    measures: dict[str, Measure] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # unit → supervision items


def _filed_as_of(current: Any, versions: list[tuple[int, datetime, dict[str, Any]]],
                 as_of: datetime) -> tuple[str | None, str | None, datetime | None, dict[str, Any]]:
    """(state, status, submitted_at, indicator values) of a filing as it stood at ``as_of``: the latest saved
    version at or before it; a filing with no history (written by a loader) counts from its ``submitted_at``."""
    if versions:
        seen = [v for v in versions if v[1] <= as_of]
        if not seen:
            return None, None, None, {}
        snapshot = max(seen, key=lambda v: v[0])[2]
        return (snapshot.get("state"), snapshot.get("status"), _parse_moment(snapshot.get("submitted_at")),
                dict(snapshot.get("indicator_values") or {}))
    if current.filing_id is None:
        return None, None, None, {}
    submitted = _utc(current.submitted_at) if current.submitted_at is not None else None
    if submitted is None or submitted > as_of:
        return None, None, None, {}
    return current.state, current.status, submitted, dict(current.indicator_values or {})


def _numbers(values: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _supervision_data(ctx: FactContext) -> _Supervision:
    def compute() -> _Supervision:
        as_of = _utc(ctx.as_of)
        today = _local_day(as_of)
        assert today is not None
        data = _Supervision(ctx.year, today)
        codes = sorted({u.code for u in ctx.units})
        if not codes:
            return data
        A, F, R, V = GovRoundAssignment, GovFiling, GovRound, GovFilingVersion
        with ctx.db.session() as session:
            for row in session.scalars(select(R).where(R.city == ctx.city, extract("year", R.period_end) == ctx.year,
                                                       R.opened_at <= as_of)):
                data.rounds[row.id] = agg.RoundFacts(row.id, row.code, row.title_zh, row.period, row.period_start,
                                                     row.period_end, row.deadline, row.state)
            ids = sorted(data.rounds)
            rows = list(session.execute(
                select(A.round_id, A.measure_code, A.org_code, A.role, F.id.label("filing_id"), F.state, F.status,
                       F.submitted_at, F.indicator_values)
                .select_from(A)
                .outerjoin(F, and_(F.round_id == A.round_id, F.measure_code == A.measure_code,
                                   F.org_code == A.org_code))
                .where(A.round_id.in_(ids), A.org_code.in_(codes)))) if ids else []
            history: dict[int, list[tuple[int, datetime, dict[str, Any]]]] = defaultdict(list)
            if ids:
                for filing_id, version, at, snapshot in session.execute(
                        select(V.filing_id, V.version, V.at, V.snapshot).join(F, F.id == V.filing_id)
                        .where(F.round_id.in_(ids), F.org_code.in_(codes))):
                    history[filing_id].append((version, _utc(at), dict(snapshot or {})))
            measures = {m.code: m for m in gov_store.current_measures(session, ctx.city, as_of=as_of)}
            for m in gov_store.current_measures(session, ctx.city):  # a measure registered after as_of
                measures.setdefault(m.code, m)
            data.measures = measures
            items = list(session.scalars(select(GovSupervisionItem).where(
                GovSupervisionItem.city == ctx.city, GovSupervisionItem.org_code.in_(codes),
                GovSupervisionItem.created_at <= as_of).order_by(GovSupervisionItem.triggered_on,
                                                                 GovSupervisionItem.id)))
            later = [i.id for i in items if i.updated_at is not None and _utc(i.updated_at) > as_of]
            before_level: dict[int, str] = {}
            if later:
                for entity_id, before in session.execute(
                        select(AuditEntry.entity_id, AuditEntry.before)
                        .where(AuditEntry.entity == "gov_supervision_item", AuditEntry.action == "escalate",
                               AuditEntry.entity_id.in_([str(i) for i in later]), AuditEntry.at > as_of)
                        .order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())):
                    try:
                        level = json.loads(before or "{}").get("level")
                    except ValueError:
                        level = None
                    if level:
                        before_level[int(str(entity_id))] = str(level)  # the earliest after as_of wins
        for row in rows:
            state, status, submitted, values = _filed_as_of(row, history.get(row.filing_id, []), as_of)
            data.assignments.setdefault(row.org_code, []).append(agg.Assignment(
                row.round_id, row.measure_code, row.org_code, row.role, state, status, _local_day(submitted),
                indicator_values=_numbers(values)))
        for item in items:
            level, day, number = item.level, item.triggered_on, item.doc_number
            if item.id in before_level:  # escalated after as_of: the level (and day) it had then
                level, day = before_level[item.id], _local_day(item.created_at) or item.triggered_on
                if level not in {lv.value for lv in SupervisionLevel if lv.rank >= SupervisionLevel.notice.rank}:
                    number = None
            if day.year != ctx.year:
                continue
            data.items.setdefault(item.org_code, []).append({
                "id": item.id, "level": level, "doc_number": number, "triggered_on": day.isoformat(),
                "measure": item.measure_code, "rule": item.rule_code})
        return data

    result: _Supervision = ctx.memoized("governance.supervision", compute)
    return result


def _ordered(data: _Supervision, assignments: Iterable[agg.Assignment]) -> list[agg.Assignment]:
    return sorted(assignments, key=lambda a: (data.rounds[a.round_id].period_end, a.round_id))


def _latest_counted(data: _Supervision, assignments: Iterable[agg.Assignment]) -> dict[str, agg.Assignment]:
    latest: dict[str, agg.Assignment] = {}
    for a in _ordered(data, assignments):
        if a.counted:
            latest[a.measure] = a
    return latest


def _filing_evidence(data: _Supervision, a: agg.Assignment, **extra: Any) -> dict[str, Any]:
    r = data.rounds[a.round_id]
    return {"kind": "filing", "round": r.code, "measure": a.measure, "due": r.deadline.isoformat(),
            "filed": a.submitted_on.isoformat() if a.counted and a.submitted_on else None, **extra}


def _on_time_fact(data: _Supervision, unit: Unit) -> Fact:
    mine = _ordered(data, data.assignments.get(unit.code, []))
    if not mine:
        return _na(f"{data.year}年无应报送的调度事项", f"nothing to file in {data.year}")
    due = [a for a in mine if a.counted or data.rounds[a.round_id].deadline < data.today]
    if not due:
        return _na(f"{data.year}年的调度事项截至{data.today.isoformat()}尚未到报送期限",
                   f"no filing of {data.year} was due by {data.today.isoformat()}")
    on_time = [a for a in due if a.on_time(data.rounds[a.round_id].deadline)]
    rate = len(on_time) / len(due)
    evidence = tuple(_filing_evidence(data, a, on_time=a.on_time(data.rounds[a.round_id].deadline)) for a in due)
    return Fact(rate, evidence=evidence,
                note_zh=f"应报送{len(due)}项，按时报送{len(on_time)}项，按时报送率{_pct(rate)}",
                note_en=f"{len(on_time)} of {len(due)} filings due were on time ({_pct(rate)})")


def _on_track_fact(data: _Supervision, unit: Unit) -> Fact:
    mine = data.assignments.get(unit.code, [])
    measures = sorted({a.measure for a in mine})
    if not measures:
        return _na(f"{data.year}年未承担调度措施", f"no measure to report on in {data.year}")
    latest = _latest_counted(data, mine)
    evidence = []
    counts = {status: 0 for status in (*agg.STATUS_ORDER, agg.NOT_FILED)}
    for code in measures:
        filed = latest.get(code)
        status = filed.shown_status if filed else agg.NOT_FILED
        counts[status] += 1
        if filed:
            evidence.append(_filing_evidence(data, filed, status=status))
        else:
            evidence.append({"kind": "filing", "round": None, "measure": code, "due": None, "filed": None,
                             "status": status})
    good = sum(counts[s] for s in ON_TRACK_STATUSES)
    share = good / len(measures)
    detail = "、".join(f"{agg.STATUS_ZH[s]}{n}项" for s, n in counts.items() if n)
    return Fact(share, evidence=tuple(evidence),
                note_zh=f"承担措施{len(measures)}项（{detail}），已完成或按进度推进{good}项，占{_pct(share)}",
                note_en=f"{good} of {len(measures)} measures completed or in progress ({_pct(share)})")


def _milestone_fact(data: _Supervision, unit: Unit) -> Fact:
    mine = data.assignments.get(unit.code, [])
    ordered = _ordered(data, mine)
    evidence = []
    met = 0
    for code in sorted({a.measure for a in mine}):
        measure = data.measures.get(code)
        if measure is None:
            continue
        for indicator in measure.indicators:
            milestone = indicator.milestones.get(data.year)
            if milestone is None and indicator.year == data.year:
                milestone = indicator.target
            if milestone is None:
                continue
            filed = next((a for a in reversed(ordered) if a.measure == code and a.counted
                          and indicator.code in a.indicator_values), None)
            value = filed.indicator_values[indicator.code] if filed else None
            reached = value is not None and value >= milestone
            met += reached
            evidence.append({**(_filing_evidence(data, filed) if filed else
                                {"kind": "filing", "round": None, "measure": code, "due": None, "filed": None}),
                             "indicator": indicator.code, "name_zh": indicator.name_zh, "unit": indicator.unit,
                             "value": value, "milestone": milestone, "met": reached})
    if not evidence:
        return _na(f"承担的措施未设{data.year}年节点的量化指标",
                   f"no indicator of the unit's measures has a milestone for {data.year}")
    rate = met / len(evidence)
    return Fact(rate, evidence=tuple(evidence),
                note_zh=f"设有{data.year}年节点的量化指标{len(evidence)}项，达到节点{met}项，完成率{_pct(rate)}",
                note_en=f"{met} of {len(evidence)} indicators reached their {data.year} milestone ({_pct(rate)})")


def _supervision_fact(data: _Supervision, unit: Unit) -> Fact:
    weights = supervision_weights()
    items = data.items.get(unit.code, [])
    total = 0.0
    counts = {level.value: 0 for level in SupervisionLevel}
    evidence = []
    for item in items:
        weight = weights.weights.get(item["level"], 0.0)
        total += weight
        counts[item["level"]] = counts.get(item["level"], 0) + 1
        evidence.append({"kind": "supervision", "item": item["id"], "level": item["level"],
                         "doc_number": item["doc_number"], "triggered_on": item["triggered_on"],
                         "measure": item["measure"], "rule": item["rule"], "weight": weight})
    evidence.append({"kind": "rule", "document": weights.document, "status": weights.status,
                     "weights": dict(weights.weights)})
    value = int(total) if float(total).is_integer() else total
    return Fact(value, unit=weights.unit, evidence=tuple(evidence),
                note_zh=(f"{data.year}年督办通知{counts['notice']}件、约谈{counts['interview']}次、提醒"
                         f"{counts['reminder']}件，折合督办事项{value}件"),
                note_en=(f"{counts['notice']} notices, {counts['interview']} interviews and {counts['reminder']} "
                         f"reminders in {data.year}: weight {value}"))


@collector("filing_on_time_rate", "measures_on_track_share", "indicator_milestone_rate", "supervision_weight")
def supervision_facts(ctx: FactContext) -> dict[str, dict[str, Fact]]:
    """The supervision family for every unit (four queries for the whole run, plus the audit rows of items
    escalated after ``ctx.as_of``)."""
    data = _supervision_data(ctx)
    return {unit.code: {"filing_on_time_rate": _on_time_fact(data, unit),
                        "measures_on_track_share": _on_track_fact(data, unit),
                        "indicator_milestone_rate": _milestone_fact(data, unit),
                        "supervision_weight": _supervision_fact(data, unit)} for unit in ctx.units}


# ==== monitoring (key energy-using units) =====================================================================

def _lake(ctx: FactContext) -> Any | None:
    """The run's meter lake: ``ctx.memo["monitoring.lake"]`` when the caller put one there, else the
    deployment's (settings from the environment), or None when it has none yet."""
    if "monitoring.lake" in ctx.memo:
        return ctx.memo["monitoring.lake"]
    from citycarbon.monitoring.lake import Lake
    from citycarbon.settings import Settings

    settings = Settings.from_env()
    lake = Lake.for_settings(settings) if Lake.present(settings) else None
    ctx.memo["monitoring.lake"] = lake
    return lake


def _registry(ctx: FactContext) -> tuple[int, Any | None]:
    if "monitoring.registry" in ctx.memo:
        registry = ctx.memo["monitoring.registry"]
        return int(ctx.memo.get("monitoring.registry_version", 0)), registry
    from citycarbon.store.monitoring_registry import current_registry

    version, registry = current_registry(ctx.db)
    ctx.memo["monitoring.registry"], ctx.memo["monitoring.registry_version"] = registry, version
    return version, registry


def _completeness_min() -> tuple[float, str]:
    from citycarbon.monitoring.quality import load_rules

    return float(load_rules().national["completeness_min"]), "data/monitoring/quality_rules.yaml national" \
        ".completeness_min (methods.md §5)"


@dataclass
class _Monitoring:
    registry_version: int
    has_registry: bool
    by_region: dict[str, list[str]] = field(default_factory=dict)  # region → enterprise ids
    online: set[str] = field(default_factory=set)
    days: dict[str, int] = field(default_factory=dict)  # enterprise → local days with readings
    passing: dict[str, int] = field(default_factory=dict)  # enterprise → of which complete
    threshold: float = 0.9
    threshold_source: str = ""
    has_lake: bool = False


def _monitoring_data(ctx: FactContext) -> _Monitoring:
    def compute() -> _Monitoring:
        import pandas as pd

        version, registry = _registry(ctx)
        data = _Monitoring(version, registry is not None)
        if registry is None:
            return data
        regions = {u.region_code for u in ctx.units if u.kind in TERRITORIAL and u.region_code}
        enterprises = registry.enterprises
        for eid, region in zip(enterprises["enterprise_id"].astype(str), enterprises["region"].astype(str),
                               strict=True):
            if region in regions:
                data.by_region.setdefault(region, []).append(eid)
        ids = sorted({e for found in data.by_region.values() for e in found})
        lake = _lake(ctx)
        if lake is None or not ids:
            return data
        data.has_lake = True
        tz = registry.timezone
        lo = pd.Timestamp(year=ctx.year, month=1, day=1).tz_localize(tz).tz_convert("UTC")
        hi = pd.Timestamp(year=ctx.year + 1, month=1, day=1).tz_localize(tz).tz_convert("UTC")
        as_of = pd.Timestamp(_utc(ctx.as_of))
        # online: a committed part (by the ledger, not the files) holding readings of the year, from a batch
        # committed by as_of
        batches = lake.batches()
        committed = (dict(zip(batches["batch_id"].astype(str), batches["committed_at"].astype(str), strict=True))
                     if len(batches) else {})
        for part in lake.parts(enterprises=ids, starts=(lo.isoformat(), (hi - pd.Timedelta(microseconds=1))
                                                        .isoformat())):
            moment = committed.get(part.batch_id)
            if moment is not None and pd.Timestamp(moment).tz_convert("UTC") <= as_of:
                data.online.add(part.enterprise_id)
        # quality: unit-days of the year whose completeness (the national indicator, methods.md §5) reaches the
        # threshold, from the lake's daily rollup (stage 1: readings per point and local day, latest revisions)
        from citycarbon.monitoring.rollup import scan_duckdb

        # (only the units online as of the moment: the rollup itself reads the lake as it stands)
        data.threshold, data.threshold_source = _completeness_min()
        end = min(hi, as_of.ceil("h"))
        if end <= lo or not data.online:
            return data
        scanned = scan_duckdb(lake, period="day", timezone=tz, enterprises=sorted(data.online), start=lo, end=end)
        if scanned.empty:
            return data
        points = registry.points.assign(point_id=registry.points["point_id"].astype(str),
                                        enterprise_id=registry.points["enterprise_id"].astype(str))
        slots = (1440 // pd.to_numeric(points["interval_minutes"]).astype("int64"))
        slots.index = points["point_id"]
        expected = slots.groupby(points.set_index("point_id")["enterprise_id"]).sum()
        scanned = scanned.assign(point_id=scanned["point_id"].astype(str))
        scanned = scanned[scanned["point_id"].isin(slots.index)]
        got = pd.concat([pd.to_numeric(scanned["readings"]).astype("int64"),
                         scanned["point_id"].map(slots).astype("int64")], axis=1).min(axis=1)
        frame = pd.DataFrame({"enterprise_id": scanned["point_id"].map(points.set_index("point_id")["enterprise_id"]),
                              "day": pd.to_datetime(scanned["period"]).dt.strftime("%Y-%m-%d"), "got": got})
        per_day = frame.groupby(["enterprise_id", "day"])["got"].sum().reset_index()
        per_day["ratio"] = per_day["got"] / per_day["enterprise_id"].map(expected)
        per_day["ok"] = per_day["ratio"] >= data.threshold
        data.days = {str(k): int(v) for k, v in per_day.groupby("enterprise_id").size().items()}
        data.passing = {str(k): int(v) for k, v in per_day.groupby("enterprise_id")["ok"].sum().items()}
        return data

    result: _Monitoring = ctx.memoized("governance.monitoring", compute)
    return result


def _no_region(unit: Unit) -> Fact:
    return _na(f"{unit.name_zh}未登记行政区划代码，无法对应重点用能单位", f"{unit.code} has no region code")


def _online_fact(data: _Monitoring, unit: Unit, year: int) -> Fact:
    if not unit.region_code:
        return _no_region(unit)
    registered = sorted(data.by_region.get(unit.region_code, []))
    if not registered:
        return _na("辖区内未登记重点用能单位", "no key energy-using unit registered in the region")
    online = [e for e in registered if e in data.online]
    rate = len(online) / len(registered)
    evidence = ({"kind": "monitoring", "region": unit.region_code, "registered": len(registered),
                 "online": len(online), "offline": [e for e in registered if e not in data.online],
                 "registry_version": data.registry_version, "year": year, "status": "reported"},)
    return Fact(rate, evidence=evidence,
                note_zh=f"登记重点用能单位{len(registered)}家，{year}年有在线数据{len(online)}家，接入率{_pct(rate)}",
                note_en=f"{len(online)} of {len(registered)} key units reported online in {year} ({_pct(rate)})")


def _quality_fact(data: _Monitoring, unit: Unit, year: int) -> Fact:
    if not unit.region_code:
        return _no_region(unit)
    registered = sorted(data.by_region.get(unit.region_code, []))
    if not registered:
        return _na("辖区内未登记重点用能单位", "no key energy-using unit registered in the region")
    days = sum(data.days.get(e, 0) for e in registered)
    if days == 0:
        return _na(f"辖区内重点用能单位{year}年无在线数据，无法评价数据质量",
                   f"no online data in {year} to judge the quality of")
    passing = sum(data.passing.get(e, 0) for e in registered)
    rate = passing / days
    evidence = ({"kind": "monitoring", "region": unit.region_code, "enterprises": len(registered),
                 "unit_days": days, "passing": passing, "threshold": data.threshold,
                 "rule": "completeness_min", "source": data.threshold_source,
                 "per_enterprise": {e: [data.passing.get(e, 0), data.days.get(e, 0)] for e in registered
                                    if data.days.get(e)}, "year": year, "status": "reported"},)
    return Fact(rate, evidence=evidence,
                note_zh=(f"{year}年重点用能单位有数据的{days}个单位日中，数据完整率达到{_pct(data.threshold)}的{passing}个，"
                         f"占{_pct(rate)}"),
                note_en=(f"{passing} of {days} unit-days of {year} reached {_pct(data.threshold)} completeness "
                         f"({_pct(rate)})"))


@collector("monitoring_online_rate", "monitoring_quality_rate")
def monitoring_facts(ctx: FactContext) -> dict[str, dict[str, Fact]]:
    """Key-unit coverage and data quality of each district's and pilot zone's region (departments: none)."""
    data = _monitoring_data(ctx)
    out: dict[str, dict[str, Fact]] = {}
    for unit in ctx.units:
        if unit.kind not in TERRITORIAL:
            continue
        out[unit.code] = {"monitoring_online_rate": _online_fact(data, unit, ctx.year),
                          "monitoring_quality_rate": _quality_fact(data, unit, ctx.year)}
    return out


# ==== the project gate (issue 15) =============================================================================

@dataclass(frozen=True)
class _ProjectFinding:
    code: str  # built_before_approval | acceptance_failed | prohibited_approved
    name_zh: str
    project: str
    region: str
    day: date
    decision_no: str | None
    detail: dict[str, Any]


def _event_day(event: Any, key: str = "date") -> date:
    body = event.body or {}
    try:
        return date.fromisoformat(str(body[key]))
    except (KeyError, TypeError, ValueError):
        day = _local_day(event.at)
        assert day is not None
        return day


def _project_findings(ctx: FactContext) -> list[_ProjectFinding]:
    def compute() -> list[_ProjectFinding]:
        from citycarbon.projects.workflow import deviation, load_acceptance

        regions = sorted({u.region_code for u in ctx.units if u.kind in TERRITORIAL and u.region_code})
        if not regions:
            return []
        as_of = _utc(ctx.as_of)
        with ctx.db.session() as session:
            projects = {row.id: row for row in session.scalars(select(ProjProject).where(
                ProjProject.city == ctx.city, ProjProject.region_code.in_(regions)))}
            events: dict[int, list[ProjEvent]] = defaultdict(list)
            if projects:
                for event in session.scalars(select(ProjEvent).where(
                        ProjEvent.project_id.in_(sorted(projects)), ProjEvent.at <= as_of)
                        .order_by(ProjEvent.at, ProjEvent.id)):
                    events[event.project_id].append(event)
        rule = load_acceptance()
        found: list[_ProjectFinding] = []
        for pid, row in sorted(projects.items(), key=lambda kv: kv[1].code):
            history = events.get(pid, [])
            approvals = [e for e in history if e.kind == "decision" and (e.body or {}).get("decision") in APPROVALS]
            number = row.decision_no
            for event in history:
                if event.kind in ("commissioned", "acceptance"):
                    # the commissioning date the event records; an acceptance: the day it was recorded
                    day = _event_day(event) if event.kind == "commissioned" else _local_day(event.at) or date.min
                    prior = [a for a in approvals if (_utc(a.at), a.id) <= (_utc(event.at), event.id)]
                    approved_on = _event_day(prior[-1]) if prior else None
                    if approved_on is None or day < approved_on:
                        found.append(_ProjectFinding(
                            "built_before_approval", "未批先建（未经节能审查同意即投产或验收）", row.code,
                            row.region_code, day, number,
                            {"event": event.kind, "event_day": day.isoformat(),
                             "approved_on": approved_on.isoformat() if approved_on else None}))
                if event.kind == "acceptance":
                    body = event.body or {}
                    ratio: Any
                    try:
                        result = deviation(float(body["approved"]), float(body["measured"]), rule)
                        flagged, ratio = result.flagged, result.deviation
                    except (KeyError, TypeError, ValueError):
                        flagged, ratio = bool(body.get("flagged")), body.get("deviation")
                    if flagged:
                        found.append(_ProjectFinding(
                            "acceptance_failed", "节能验收不合格（实测能耗超出批准值）", row.code, row.region_code,
                            _local_day(event.at) or _event_day(event), number,
                            {"approved": body.get("approved"), "measured": body.get("measured"),
                             "deviation": ratio, "threshold": rule.deviation_threshold,
                             "basis": body.get("basis"), "unit": body.get("unit"), "document": rule.document}))
            for approval in approvals:
                approved = row.approved or {}
                refused = [f for f in approved.get("findings") or [] if f.get("severity") == "refuse"]
                count = int((approved.get("summary") or {}).get("refused") or 0)
                if refused or count:
                    found.append(_ProjectFinding(
                        "prohibited_approved", "批准了触发禁止性规定的项目", row.code, row.region_code,
                        _event_day(approval), (approval.body or {}).get("number") or number,
                        {"rules": [f.get("code") for f in refused], "refused": max(count, len(refused)),
                         "messages_zh": [f.get("message_zh") for f in refused]}))
        return found

    result: list[_ProjectFinding] = ctx.memoized("governance.projects", compute)
    return result


def _project_evidence(f: _ProjectFinding) -> dict[str, Any]:
    return {"kind": "project", "code": f.project, "finding": f.code, "finding_zh": f.name_zh,
            "decision_no": f.decision_no, "day": f.day.isoformat(), **f.detail}


@collector("project_violations", "prohibited_approved")
def project_facts(ctx: FactContext) -> dict[str, dict[str, Fact]]:
    """Projects of each district's and pilot zone's region with a violation in the year, and projects approved
    in the year against a prohibition that was not lifted (departments: none)."""
    findings = [f for f in _project_findings(ctx) if f.day.year == ctx.year]
    out: dict[str, dict[str, Fact]] = {}
    for unit in ctx.units:
        if unit.kind not in TERRITORIAL:
            continue
        if not unit.region_code:
            out[unit.code] = {"project_violations": _na(f"{unit.name_zh}未登记行政区划代码，无法对应项目",
                                                        f"{unit.code} has no region code", "project"),
                              "prohibited_approved": _na(f"{unit.name_zh}未登记行政区划代码，无法对应项目",
                                                         f"{unit.code} has no region code", "project")}
            continue
        mine = [f for f in findings if f.region == unit.region_code]
        violations = [f for f in mine if f.code in ("built_before_approval", "acceptance_failed")]
        projects = sorted({f.project for f in violations})
        prohibited = sorted({f.project for f in mine if f.code == "prohibited_approved"})
        kinds = "、".join(sorted({f.name_zh.split("（")[0] for f in violations}))
        out[unit.code] = {
            "project_violations": Fact(
                len(projects), unit="project", evidence=tuple(_project_evidence(f) for f in violations),
                note_zh=(f"{ctx.year}年辖区内有违规情形的项目{len(projects)}个（{kinds}）" if projects else
                         f"{ctx.year}年辖区内无未批先建或节能验收不合格的项目"),
                note_en=f"{len(projects)} project(s) of the region with a violation in {ctx.year}"),
            "prohibited_approved": Fact(
                len(prohibited), unit="project",
                evidence=tuple(_project_evidence(f) for f in mine if f.code == "prohibited_approved"),
                note_zh=(f"{ctx.year}年批准了触发禁止性规定的项目{len(prohibited)}个：{'、'.join(prohibited)}"
                         if prohibited else f"{ctx.year}年未批准触发禁止性规定的项目"),
                note_en=f"{len(prohibited)} project(s) approved in {ctx.year} against a prohibition"),
        }
    return out
